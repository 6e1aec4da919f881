/* tests/fuzz/fuzz_csv.c — the timetable CSV reader (relay/schedule/csv.c) and the import on top
 * of it (relay/schedule/import.c, conflict.c) on arbitrary bytes. Properties:
 * - the reader returns BBT_OK, or BBT_ECSV with exactly one problem that has a line >= 1 and
 *   non-empty texts (ENOMEM only if allocation failed);
 * - every field of a successful read is UTF-8 without NUL, rows have 1..64 fields and their
 *   lines never go down; written back with every field quoted, the text reads again to the
 *   same rows and fields;
 * - the import against a small timetable ends in OK, ECSV or ECONFLICT; every problem text is
 *   UTF-8 of at most BBT_PROBLEM_TEXT_MAX bytes; refused imports leave no merged timetable,
 *   accepted ones are indexed, pass the conflict check again and hold UTF-8 texts;
 * and nothing leaks (LeakSanitizer) or reads outside the input (it is not NUL-terminated). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/conflict.h"
#include "relay/schedule/csv.h"
#include "relay/schedule/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;
        if (n == 0)
            abort();
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                abort();
        p += n;
    }
}

static void check_problems(const bbt_problems *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!p->v[i].en[0] || !p->v[i].zh[0] || p->v[i].line < 0 ||
            strlen(p->v[i].en) >= BBT_PROBLEM_TEXT_MAX || strlen(p->v[i].zh) >= BBT_PROBLEM_TEXT_MAX)
            abort();
        check_utf8(p->v[i].en);
        check_utf8(p->v[i].zh);
    }
}

/* Every field quoted, quotes doubled, CRLF after each row. */
static char *write_back(const bbt_csv *c, size_t *len)
{
    size_t cap = 16;
    for (size_t i = 0; i < c->nfields; i++)
        cap += 2 * strlen(c->fields[i]) + 3;
    cap += 2 * c->nrows;
    char *out = malloc(cap), *o = out;
    if (!out)
        abort();
    for (size_t r = 0; r < c->nrows; r++) {
        for (size_t f = 0; f < c->rows[r].nfields; f++) {
            if (f)
                *o++ = ',';
            *o++ = '"';
            for (const char *s = c->rows[r].fields[f]; *s; s++) {
                if (*s == '"')
                    *o++ = '"';
                *o++ = *s;
            }
            *o++ = '"';
        }
        *o++ = '\r';
        *o++ = '\n';
    }
    *len = (size_t)(o - out);
    return out;
}

static void check_reader(const char *text, size_t size)
{
    bbt_problems p;
    bbt_csv c;
    bbt_problems_init(&p);
    int rc = bbt_csv_parse(text, size, &c, &p);
    check_problems(&p);
    if (rc == BBT_ECSV && (p.n != 1 || p.v[0].line < 1))
        abort();
    if (rc != BBT_OK) {
        if (rc != BBT_ECSV && rc != BBT_ENOMEM)
            abort();
        bbt_problems_free(&p);
        return;
    }
    int last = 0;
    for (size_t r = 0; r < c.nrows; r++) {
        if (c.rows[r].line < last || c.rows[r].nfields < 1 || c.rows[r].nfields > BBT_CSV_MAX_FIELDS)
            abort();
        last = c.rows[r].line;
        for (size_t f = 0; f < c.rows[r].nfields; f++)
            check_utf8(c.rows[r].fields[f]);
    }
    size_t len;
    char *again = write_back(&c, &len);
    bbt_csv d;
    if (bbt_csv_parse(again, len, &d, &p) != BBT_OK || d.nrows != c.nrows)
        abort();
    for (size_t r = 0; r < c.nrows; r++) {
        if (d.rows[r].nfields != c.rows[r].nfields)
            abort();
        for (size_t f = 0; f < c.rows[r].nfields; f++)
            if (strcmp(d.rows[r].fields[f], c.rows[r].fields[f]) != 0)
                abort();
    }
    bbt_csv_free(&d);
    free(again);
    bbt_csv_free(&c);
    bbt_problems_free(&p);
}

static void county(bbt_timetable *t)
{
    static const char *const ids[] = {"hz-301", "hz-302", "ls-1", "ls-2", "ls-3"};
    bbt_tt_init(t);
    bbt_school s = {.id = "hz", .name = (char *)"杭州实验"};
    bbt_tt_add_school(t, &s);
    for (int i = 0; i < 5; i++) {
        bbt_classroom c = {.name = (char *)"教室", .school = "hz", .tz = BBT_DEFAULT_TZ,
                           .role = i < 2 ? BBT_CR_SOURCE : BBT_CR_RECEIVER};
        memcpy(c.id, ids[i], strlen(ids[i]) + 1);
        bbt_tt_add_classroom(t, &c);
    }
    bbt_holiday h = {.id = "qm", .name = (char *)"清明节", .first = bbt_day_from_civil(2025, 4, 4),
                     .last = bbt_day_from_civil(2025, 4, 6)};
    bbt_tt_add_holiday(t, &h);
    if (bbt_tt_index(t) != BBT_OK)
        abort();
}

static void check_import(const char *text, size_t size)
{
    bbt_timetable t, m;
    bbt_import_result r;
    county(&t);
    bbt_import_result_init(&r);
    int rc = bbt_import_csv(&t, text, size, &m, &r);
    check_problems(&r.problems);
    check_problems(&r.notes);
    if (rc == BBT_OK) {
        bbt_problems p;
        bbt_problems_init(&p);
        if (!m.indexed || bbt_problems_total(&r.problems) || bbt_conflict_check(&m, &p) != BBT_OK ||
            r.added + r.changed + r.unchanged != r.rows)
            abort();
        for (size_t i = 0; i < m.nsessions; i++) { /* copies, not pointers into the input */
            check_utf8(m.sessions[i].title);
            check_utf8(m.sessions[i].subject);
            check_utf8(m.sessions[i].teacher);
        }
        bbt_problems_free(&p);
    } else if ((rc != BBT_ECSV && rc != BBT_ECONFLICT && rc != BBT_ENOMEM) || m.nsessions ||
               (rc != BBT_ENOMEM && bbt_problems_total(&r.problems) == 0)) {
        abort();
    }
    bbt_tt_free(&m);
    bbt_import_result_free(&r);
    bbt_tt_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so reading past the end is caught */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    check_reader(text, size);
    check_import(text, size);
    free(text);
    return 0;
}
