/* tests/proto/control_examples.c — see control_examples.h. */
#include "control_examples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

#ifndef BBT_SOURCE_DIR
#error "BBT_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

#define MAX_EXAMPLES 160

static struct {
    char *text;
    bbt_msg_type type;
} ex[MAX_EXAMPLES];
static size_t n_ex;
static int loaded;
static char *section; /* the text of §3 */

static char *read_doc(void)
{
    const char *path = BBT_SOURCE_DIR "/docs/PROTOCOL.md";
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

static int add(const char *text, size_t len)
{
    if (n_ex == MAX_EXAMPLES)
        return -1;
    char *t = malloc(len + 1);
    if (!t)
        return -1;
    memcpy(t, text, len);
    t[len] = '\0';
    char err[256];
    json_t *m = NULL;
    int rc = bbt_control_parse(t, len, NULL, &ex[n_ex].type, &m, err, sizeof err);
    json_decref(m);
    if (rc != BBT_OK) {
        fprintf(stderr, "docs/PROTOCOL.md example does not parse (%s): %s\n%s\n",
                bbt_status_name(rc), err, t);
        free(t);
        return -1;
    }
    ex[n_ex++].text = t;
    return 0;
}

int examples_load(void)
{
    if (loaded)
        return (int)n_ex;
    char *doc = read_doc();
    if (!doc)
        return -1;
    const char *p = strstr(doc, "\n## 3. ");
    const char *end = p ? strstr(p, "\n## 4. ") : NULL;
    int rc = p && end ? 0 : -1;
    static const char open[] = "\n```json\n";
    while (rc == 0 && (p = strstr(p, open)) != NULL && p < end) {
        p += sizeof open - 1;
        const char *close = strstr(p, "\n```");
        if (!close || close > end)
            rc = -1;
        else
            rc = add(p, (size_t)(close - p));
        p = close;
    }
    if (rc == 0) {
        size_t len = (size_t)(end - strstr(doc, "\n## 3. "));
        section = malloc(len + 1);
        if (section) {
            memcpy(section, end - len, len);
            section[len] = '\0';
        }
        rc = section ? 0 : -1;
    }
    free(doc);
    if (rc != 0) {
        examples_free();
        return -1;
    }
    loaded = 1;
    return (int)n_ex;
}

void examples_free(void)
{
    for (size_t i = 0; i < n_ex; i++)
        free(ex[i].text);
    n_ex = 0;
    free(section);
    section = NULL;
    loaded = 0;
}

const char *examples_section(void)
{
    return section;
}

size_t examples_count(void)
{
    return n_ex;
}

const char *example_at(size_t i, bbt_msg_type *type)
{
    if (i >= n_ex)
        return NULL;
    if (type)
        *type = ex[i].type;
    return ex[i].text;
}

json_t *example_json(bbt_msg_type type, int nth)
{
    for (size_t i = 0; i < n_ex; i++) {
        if (ex[i].type != type || nth-- > 0)
            continue;
        bbt_msg_type t;
        json_t *m = NULL;
        bbt_control_parse(ex[i].text, strlen(ex[i].text), NULL, &t, &m, NULL, 0);
        return m;
    }
    return NULL;
}
