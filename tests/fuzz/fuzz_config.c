/* tests/fuzz/fuzz_config.c — the INI loader (config/directives.c) on arbitrary bytes, against
 * the relay's table and the node's (whose ladder and URL checks run too). Properties:
 * - a failed load has a message and leaves every string field NULL; a successful one none NULL;
 * - the same input with allocation k failing (k chosen from the input, over every allocation
 *   the first run made) fails with BBT_ENOMEM if that allocation was reached, and otherwise
 *   ends exactly as the first run did;
 * - after a successful load, the first line with its leading '#' / ';' removed is tried as a
 *   --set argument, then the cross-key checks run;
 * and nothing leaks (LeakSanitizer) or reads out of bounds (the input is not NUL-terminated). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/node_config.h"
#include "config/relay_config.h"
#include "proto/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct counter {
    size_t calls, fail_at; /* fail_at == SIZE_MAX: never */
};

static void *counting_alloc(size_t size, void *ud)
{
    struct counter *c = ud;
    return c->calls++ == c->fail_at ? NULL : malloc(size);
}

/* Every string field NULL (want_null) or every one set. */
static void check_strings(const bbt_directive *t, size_t n, const void *cfg, bool want_null)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].type != BBT_CFG_STRING && t[i].type != BBT_CFG_PATH && t[i].type != BBT_CFG_LIST)
            continue;
        const char *s = *(char *const *)(const void *)((const char *)cfg + t[i].offset);
        if ((s == NULL) != want_null)
            abort();
    }
}

static int load(const bbt_directive *t, size_t n, void *cfg, size_t cfgsize, struct counter *c,
                const uint8_t *data, size_t size)
{
    char err[512];
    bbt_config_opts o = {counting_alloc, c};
    memset(cfg, 0xa5, cfgsize); /* the loader must not read what was there */
    int rc = bbt_config_load_buffer_ex(&o, "fuzz.ini", (const char *)data, size, t, n, cfg, err,
                                       sizeof err);
    if (rc != BBT_OK && (err[0] == '\0' || rc == BBT_EINVAL))
        abort();
    check_strings(t, n, cfg, rc != BBT_OK);
    return rc;
}

static void try_set(const bbt_directive *t, size_t n, void *cfg, const uint8_t *data, size_t size)
{
    char arg[256], err[512];
    size_t i = 0, k = 0;
    while (i < size && (data[i] == '#' || data[i] == ';' || data[i] == ' '))
        i++;
    while (i < size && data[i] != '\n' && data[i] != '\0' && k + 1 < sizeof arg)
        arg[k++] = (char)data[i++];
    arg[k] = '\0';
    int rc = bbt_config_set_arg(t, n, cfg, arg, err, sizeof err);
    if (rc != BBT_OK && err[0] == '\0')
        abort();
    check_strings(t, n, cfg, false);
}

static void run(const bbt_directive *t, size_t n, void *cfg, size_t cfgsize,
                int (*check)(const void *, char *, size_t), const uint8_t *data, size_t size)
{
    char err[512];
    struct counter c = {0, SIZE_MAX};
    int rc = load(t, n, cfg, cfgsize, &c, data, size);
    if (rc == BBT_OK) {
        try_set(t, n, cfg, data, size);
        check(cfg, err, sizeof err);
    }
    bbt_config_free(t, n, cfg);

    size_t h = 0;
    for (size_t i = 0; i < size; i++)
        h = h * 31 + data[i];
    struct counter f = {0, h % (c.calls + 1)};
    int rc2 = load(t, n, cfg, cfgsize, &f, data, size);
    if (f.calls > f.fail_at ? rc2 != BBT_ENOMEM : rc2 != rc)
        abort();
    bbt_config_free(t, n, cfg);
}

static int relay_check(const void *cfg, char *err, size_t errlen)
{
    return bbt_relay_config_check(cfg, err, errlen);
}

static int node_check(const void *cfg, char *err, size_t errlen)
{
    return bbt_node_config_check(cfg, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bbt_relay_config relay;
    bbt_node_config node;
    run(bbt_relay_directives, bbt_relay_directives_count, &relay, sizeof relay, relay_check, data,
        size);
    run(bbt_node_directives, bbt_node_directives_count, &node, sizeof node, node_check, data, size);
    return 0;
}
