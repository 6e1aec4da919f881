/* relay/schedule/csv.c — the RFC 4180 reader (see csv.h). Two passes: the whole input is
 * checked to be UTF-8 without NUL first (so the error names the first bad line, before any
 * other complaint), then a byte state machine splits records and fields. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "proto/utf8.h"
#include "relay/schedule/csv.h"

/* Line ends as the parser counts them: LF, CRLF, lone CR. */
static int check_encoding(const unsigned char *s, size_t n, bbt_problems *p)
{
    int line = 1;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n')))
            line++;
        if (s[i] == 0) {
            bbt_problemf(p, line, "contains a NUL byte: this is not a text (CSV) file",
                         "含有 NUL 字节：这不是文本（CSV）文件");
            return BBT_ECSV;
        }
        size_t k = bbt_utf8_seq(s + i, n - i);
        if (k == 0) {
            bbt_problemf(p, line,
                         "not valid UTF-8 (a GBK file?): save the spreadsheet as \"CSV UTF-8 "
                         "(comma delimited)\"",
                         "不是有效的 UTF-8 编码（可能是 GBK 文件）：请在 Excel 中另存为“CSV UTF-8"
                         "（逗号分隔）”");
            return BBT_ECSV;
        }
        i += k;
    }
    return BBT_OK;
}

void bbt_csv_free(bbt_csv *c)
{
    free(c->rows);
    free(c->fields);
    free(c->store);
    memset(c, 0, sizeof *c);
}

static int grow(void **arr, size_t need, size_t *cap, size_t size)
{
    if (need <= *cap)
        return BBT_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*arr, nc * size);
    if (!q)
        return BBT_ENOMEM;
    *arr = q;
    *cap = nc;
    return BBT_OK;
}

struct parser {
    bbt_csv *c;
    bbt_problems *p;
    size_t row_first;   /* index in c->fields of the current record's first field */
    size_t field_start; /* offset in store of the current field */
    int row_line;       /* line the current record starts on */
};

static int put_byte(struct parser *ps, char ch)
{
    bbt_csv *c = ps->c;
    if (grow((void **)&c->store, c->store_len + 1, &c->store_cap, 1) != BBT_OK)
        return BBT_ENOMEM;
    c->store[c->store_len++] = ch;
    return BBT_OK;
}

/* The current field is complete. Field pointers are offsets until the end (store moves). */
static int end_field(struct parser *ps, int line)
{
    bbt_csv *c = ps->c;
    if (c->store_len - ps->field_start > BBT_CSV_MAX_FIELD) {
        bbt_problemf(ps->p, line, "a field is longer than %d bytes", "某个字段超过 %d 字节",
                     BBT_CSV_MAX_FIELD);
        return BBT_ECSV;
    }
    if (c->nfields - ps->row_first >= BBT_CSV_MAX_FIELDS) {
        bbt_problemf(ps->p, line, "more than %d fields in one record",
                     "一行中的字段超过 %d 个", BBT_CSV_MAX_FIELDS);
        return BBT_ECSV;
    }
    if (put_byte(ps, '\0') != BBT_OK ||
        grow((void **)&c->fields, c->nfields + 1, &c->cap_fields, sizeof *c->fields) != BBT_OK)
        return BBT_ENOMEM;
    c->fields[c->nfields++] = (char *)(uintptr_t)ps->field_start;
    ps->field_start = c->store_len;
    return BBT_OK;
}

/* The current record is complete: keep it unless it is one empty field (a blank line). */
static int end_row(struct parser *ps, int line)
{
    bbt_csv *c = ps->c;
    int rc = end_field(ps, line);
    if (rc != BBT_OK)
        return rc;
    size_t n = c->nfields - ps->row_first;
    if (n == 1 && c->store[(uintptr_t)c->fields[ps->row_first]] == '\0') {
        c->nfields = ps->row_first; /* blank line */
        c->store_len = ps->field_start = c->store_len - 1;
        return BBT_OK;
    }
    if (grow((void **)&c->rows, c->nrows + 1, &c->cap_rows, sizeof *c->rows) != BBT_OK)
        return BBT_ENOMEM;
    c->rows[c->nrows++] = (bbt_csv_row){ps->row_line, n, (char **)(uintptr_t)ps->row_first};
    ps->row_first = c->nfields;
    return BBT_OK;
}

/* Turn the stored offsets into pointers. */
static void finish(bbt_csv *c)
{
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->store + (uintptr_t)c->fields[i];
    for (size_t i = 0; i < c->nrows; i++)
        c->rows[i].fields = c->fields + (uintptr_t)c->rows[i].fields;
}

enum { S_START, S_PLAIN, S_QUOTED, S_QUOTE_IN_QUOTED };

/* One byte at s[i]; *line and *i advance. */
static int step(struct parser *ps, const char *s, size_t n, size_t *i, int *line, int *st)
{
    char ch = s[*i];
    bool eol = ch == '\n' || ch == '\r';
    size_t adv = ch == '\r' && *i + 1 < n && s[*i + 1] == '\n' ? 2 : 1;
    int rc = BBT_OK;
    switch (*st) {
    case S_START:
    case S_PLAIN:
        if (ch == '"' && *st == S_START) {
            *st = S_QUOTED;
        } else if (ch == '"') {
            bbt_problemf(ps->p, *line,
                         "a double quote inside an unquoted field (put the field in quotes and "
                         "double the quote)",
                         "未加引号的字段中出现双引号（请给该字段加上引号，并把其中的引号写两遍）");
            return BBT_ECSV;
        } else if (ch == ',') {
            rc = end_field(ps, *line);
            *st = S_START;
        } else if (eol) {
            rc = end_row(ps, *line);
            *st = S_START;
        } else {
            rc = put_byte(ps, ch);
            *st = S_PLAIN;
        }
        break;
    case S_QUOTED:
        if (ch == '"') {
            *st = S_QUOTE_IN_QUOTED;
        } else {
            for (size_t k = 0; k < (eol ? adv : 1) && rc == BBT_OK; k++)
                rc = put_byte(ps, s[*i + k]);
        }
        break;
    default: /* S_QUOTE_IN_QUOTED */
        if (ch == '"') {
            rc = put_byte(ps, '"');
            *st = S_QUOTED;
        } else if (ch == ',') {
            rc = end_field(ps, *line);
            *st = S_START;
        } else if (eol) {
            rc = end_row(ps, *line);
            *st = S_START;
        } else {
            bbt_problemf(ps->p, *line,
                         "unexpected text after a closing double quote (a comma or a line end "
                         "must follow it)",
                         "右引号后出现了多余的内容（引号后应是逗号或换行）");
            return BBT_ECSV;
        }
    }
    if (eol) {
        (*line)++;
        *i += adv;
        if (*st == S_START)
            ps->row_line = *line;
    } else {
        (*i)++;
    }
    return rc;
}

int bbt_csv_parse(const char *data, size_t len, bbt_csv *out, bbt_problems *p)
{
    memset(out, 0, sizeof *out);
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    int rc = check_encoding((const unsigned char *)data, len, p);
    if (rc != BBT_OK)
        return rc;
    struct parser ps = {.c = out, .p = p, .row_line = 1};
    int line = 1, st = S_START, quote_line = 0;
    for (size_t i = 0; i < len && rc == BBT_OK;) {
        if (st == S_START && data[i] == '"')
            quote_line = line;
        rc = step(&ps, data, len, &i, &line, &st);
    }
    if (rc == BBT_OK && (st == S_QUOTED)) {
        bbt_problemf(p, quote_line, "a quoted field is not closed (a double quote is missing)",
                     "引号中的字段没有结束（缺少右引号）");
        rc = BBT_ECSV;
    }
    if (rc == BBT_OK && (st != S_START || out->nfields > ps.row_first))
        rc = end_row(&ps, line); /* the last record, without a line end */
    if (rc != BBT_OK) {
        bbt_csv_free(out);
        return rc;
    }
    finish(out);
    return BBT_OK;
}
