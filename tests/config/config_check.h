/* tests/config/config_check.h — checks shared by test_relay_config.c and test_node_config.c:
 * a configuration table, its example file and docs/CONFIG.md must agree. Include after
 * <cmocka.h>. BBT_SOURCE_DIR (the repository) is defined by tests/CMakeLists.txt. */
#ifndef BBT_TESTS_CONFIG_CHECK_H
#define BBT_TESTS_CONFIG_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/directives.h"
#include "proto/status.h"

/* The whole file, NUL-terminated, malloc'd. */
static inline char *cc_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap * 2 + 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + len, 1, 4096, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Every key of the table has a "key = value" or "#key = value" line in its section. */
static inline void cc_every_key_in_example(const bbt_directive *t, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++) {
        const char *sec = NULL, *p = text;
        bool found = false;
        size_t klen = strlen(t[i].key);
        while (*p && !found) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (p[0] == '[')
                sec = p + 1;
            const char *k = p[0] == '#' ? p + 1 : p;
            found = sec && strncmp(sec, t[i].section, strlen(t[i].section)) == 0 &&
                    sec[strlen(t[i].section)] == ']' && len > klen + 3 &&
                    strncmp(k, t[i].key, klen) == 0 && strncmp(k + klen, " = ", 3) == 0;
            p = end ? end + 1 : p + len;
        }
        if (!found)
            fail_msg("[%s] %s is missing from the example file", t[i].section, t[i].key);
    }
}

/* The example with every "#key = value" line uncommented. */
static inline char *cc_uncomment(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    assert_non_null(out);
    for (const char *p = text; *p;) {
        size_t k = 1;
        while (p[0] == '#' && ((p[k] >= 'a' && p[k] <= 'z') || p[k] == '_'))
            k++;
        if (p[0] == '#' && k > 1 && strncmp(p + k, " = ", 3) == 0)
            p++; /* drop the '#' */
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
        memcpy(o, p, len);
        o += len;
        p += len;
    }
    *o = '\0';
    return out;
}

static inline void cc_assert_field_equal(const bbt_directive *d, const void *a, const void *b)
{
    const char *pa = (const char *)a + d->offset, *pb = (const char *)b + d->offset;
    bool same;
    switch (d->type) {
    case BBT_CFG_INT:
    case BBT_CFG_SIZE:
    case BBT_CFG_DURATION: same = *(const int64_t *)pa == *(const int64_t *)pb; break;
    case BBT_CFG_BOOL: same = *(const bool *)pa == *(const bool *)pb; break;
    case BBT_CFG_ENUM: same = *(const int *)pa == *(const int *)pb; break;
    case BBT_CFG_DOUBLE: same = *(const double *)pa == *(const double *)pb; break;
    default: same = strcmp(*(char *const *)pa, *(char *const *)pb) == 0; break;
    }
    if (!same)
        fail_msg("[%s] %s: the example's value is not the default", d->section, d->key);
}

/* (a) the example loads cleanly, (b) names every key, (c) with its keys uncommented, loads to
 * exactly the defaults (so its values are the defaults), (d) every default parses. */
static inline void cc_check_example(const bbt_directive *t, size_t n, size_t size,
                                    const char *path)
{
    char err[512];
    void *defaults = calloc(1, size), *loaded = calloc(1, size);
    assert_non_null(defaults);
    assert_non_null(loaded);
    assert_int_equal(bbt_config_check_table(t, n, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_config_load_buffer(NULL, "", 0, t, n, defaults, err, sizeof err), BBT_OK);
    if (bbt_config_load_file(path, t, n, loaded, err, sizeof err) != BBT_OK)
        fail_msg("%s", err);
    for (size_t i = 0; i < n; i++)
        cc_assert_field_equal(&t[i], defaults, loaded);
    bbt_config_free(t, n, loaded);

    char *text = cc_read_text(path), *active = cc_uncomment(text);
    cc_every_key_in_example(t, n, text);
    if (bbt_config_load_buffer(path, active, strlen(active), t, n, loaded, err, sizeof err) != BBT_OK)
        fail_msg("uncommented example: %s", err);
    for (size_t i = 0; i < n; i++)
        cc_assert_field_equal(&t[i], defaults, loaded);
    /* Every key really was uncommented: setting one again is a duplicate. */
    char dup[256];
    size_t len = strlen(active);
    snprintf(dup, sizeof dup, "\n[%s]\n%s = %s\n", t[0].section, t[0].key, t[0].def);
    active = realloc(active, len + strlen(dup) + 1);
    assert_non_null(active);
    strcat(active, dup);
    bbt_config_free(t, n, loaded);
    assert_int_equal(bbt_config_load_buffer(path, active, strlen(active), t, n, loaded, err,
                                            sizeof err),
                     BBT_ECONFIG_KEY);
    bbt_config_free(t, n, defaults);
    bbt_config_free(t, n, loaded);
    free(defaults);
    free(loaded);
    free(text);
    free(active);
}

/* Every help text is one Simplified Chinese line, then one English (ASCII) line. */
static inline void cc_check_help(const bbt_directive *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *h = t[i].help, *nl = strchr(h, '\n');
        bool wide = false;
        if (!nl || strchr(nl + 1, '\n') || nl[1] == '\0')
            fail_msg("[%s] %s: help must be a Chinese line, '\\n', an English line", t[i].section,
                     t[i].key);
        for (const char *p = h; p < nl; p++)
            wide = wide || (unsigned char)*p >= 0x80;
        for (const char *p = nl + 1; *p; p++)
            if ((unsigned char)*p >= 0x80)
                fail_msg("[%s] %s: the English help line is not ASCII", t[i].section, t[i].key);
        if (!wide)
            fail_msg("[%s] %s: the first help line is not Chinese", t[i].section, t[i].key);
    }
}

/* docs/CONFIG.md holds bbt_config_describe()'s output for the table verbatim. When it does
 * not, the current output is written to `fresh` (in the build directory) to copy from. */
static inline void cc_check_docs(const bbt_directive *t, size_t n, const char *docs,
                                 const char *fresh)
{
    char *want = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&want, &len);
    assert_non_null(m);
    assert_int_equal(bbt_config_describe(m, t, n), BBT_OK);
    fclose(m);
    char *have = cc_read_text(docs);
    if (!strstr(have, want)) {
        FILE *f = fopen(fresh, "w");
        if (f) {
            fputs(want, f);
            fclose(f);
        }
        fail_msg("%s is out of date: paste %s into it", docs, fresh);
    }
    free(have);
    free(want);
}

#endif
