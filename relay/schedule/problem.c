/* relay/schedule/problem.c — see problem.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/schedule/problem.h"

void bbt_problems_init(bbt_problems *p)
{
    memset(p, 0, sizeof *p);
}

void bbt_problems_free(bbt_problems *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].en);
        free(p->v[i].zh);
    }
    free(p->v);
    bbt_problems_init(p);
}

size_t bbt_problems_total(const bbt_problems *p)
{
    return p->n + p->more;
}

/* Drop a UTF-8 sequence cut short at the end of s (vsnprintf truncates bytes, not
 * characters). */
static void cut_partial(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && n - i < 3)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
        return;
    unsigned c = (unsigned char)s[i - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (n - (i - 1) < want)
        s[i - 1] = '\0';
}

static char *vformat(const char *fmt, va_list ap)
{
    char buf[BBT_PROBLEM_TEXT_MAX];
    vsnprintf(buf, sizeof buf, fmt, ap);
    cut_partial(buf);
    return strdup(buf);
}

static void push(bbt_problems *p, int line, char *en, char *zh)
{
    if (!en || !zh || p->n >= BBT_PROBLEMS_MAX) {
        free(en);
        free(zh);
        p->nomem = p->nomem || p->n < BBT_PROBLEMS_MAX;
        p->more++;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        bbt_problem *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            free(en);
            free(zh);
            p->nomem = true;
            p->more++;
            return;
        }
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (bbt_problem){line, en, zh};
}

void bbt_problem_add(bbt_problems *p, int line, const char *en, const char *zh)
{
    if (p->n >= BBT_PROBLEMS_MAX) {
        p->more++;
        return;
    }
    char e[BBT_PROBLEM_TEXT_MAX], z[BBT_PROBLEM_TEXT_MAX];
    snprintf(e, sizeof e, "%s", en);
    snprintf(z, sizeof z, "%s", zh);
    cut_partial(e);
    cut_partial(z);
    push(p, line, strdup(e), strdup(z));
}

void bbt_problemf(bbt_problems *p, int line, const char *en_fmt, const char *zh_fmt, ...)
{
    if (p->n >= BBT_PROBLEMS_MAX) {
        p->more++;
        return;
    }
    va_list ap, aq;
    va_start(ap, zh_fmt);
    va_copy(aq, ap);
    char *en = vformat(en_fmt, ap);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *zh = vformat(zh_fmt, aq);
#pragma GCC diagnostic pop
    va_end(aq);
    va_end(ap);
    push(p, line, en, zh);
}

void bbt_problems_sort(bbt_problems *p)
{
    /* insertion sort: stable, and lists are short (<= BBT_PROBLEMS_MAX) */
    for (size_t i = 1; i < p->n; i++) {
        bbt_problem x = p->v[i];
        size_t j = i;
        while (j > 0 && p->v[j - 1].line > x.line) {
            p->v[j] = p->v[j - 1];
            j--;
        }
        p->v[j] = x;
    }
}
