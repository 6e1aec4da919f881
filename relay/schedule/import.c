/* relay/schedule/import.c — timetable CSV rows to sessions, merged and checked (import.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/status.h"
#include "relay/schedule/conflict.h"
#include "relay/schedule/csv.h"
#include "relay/schedule/import.h"

enum col {
    C_SESSION, C_TITLE, C_SUBJECT, C_TEACHER, C_SOURCE, C_RECEIVERS, C_WEEKDAY, C_START, C_END,
    C_TERM_START, C_TERM_END, C_DATE, C_PUBLIC, C__COUNT
};

static const struct column {
    const char *label;        /* as messages name it */
    const char *names[5];     /* accepted headers (ASCII ones in any case) */
} cols[C__COUNT] = {
    [C_SESSION] = {"课程编号/session", {"session", "课程编号", "编号", "id", NULL}},
    [C_TITLE] = {"标题/title", {"title", "标题", "课题", "课程名称", NULL}},
    [C_SUBJECT] = {"学科/subject", {"subject", "学科", NULL}},
    [C_TEACHER] = {"教师/teacher", {"teacher", "教师", "主讲教师", NULL}},
    [C_SOURCE] = {"主讲教室/source", {"source", "主讲教室", NULL}},
    [C_RECEIVERS] = {"听课教室/receivers", {"receivers", "听课教室", NULL}},
    [C_WEEKDAY] = {"星期/weekday", {"weekday", "星期", NULL}},
    [C_START] = {"开始/start", {"start", "开始", "开始时间", NULL}},
    [C_END] = {"结束/end", {"end", "结束", "结束时间", NULL}},
    [C_TERM_START] = {"学期开始/term_start", {"term_start", "学期开始", NULL}},
    [C_TERM_END] = {"学期结束/term_end", {"term_end", "学期结束", NULL}},
    [C_DATE] = {"日期/date", {"date", "日期", NULL}},
    [C_PUBLIC] = {"公开/public", {"public", "公开", NULL}},
};

void bbt_import_result_init(bbt_import_result *r)
{
    memset(r, 0, sizeof *r);
    bbt_problems_init(&r->problems);
    bbt_problems_init(&r->notes);
}

void bbt_import_result_free(bbt_import_result *r)
{
    bbt_problems_free(&r->problems);
    bbt_problems_free(&r->notes);
    free(r->changes);
    bbt_import_result_init(r);
}

/* ---- cells ------------------------------------------------------------------------------- */

/* Trim ASCII blanks, U+3000 (ideographic space) and U+00A0 at both ends, in place. */
static char *trim(char *s)
{
    for (;;) {
        if (*s == ' ' || *s == '\t')
            s++;
        else if (strncmp(s, "\xe3\x80\x80", 3) == 0)
            s += 3;
        else if (strncmp(s, "\xc2\xa0", 2) == 0)
            s += 2;
        else
            break;
    }
    size_t n = strlen(s);
    for (;;) {
        if (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        else if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
            n -= 3;
        else if (n >= 2 && memcmp(s + n - 2, "\xc2\xa0", 2) == 0)
            n -= 2;
        else
            break;
    }
    s[n] = '\0';
    return s;
}

/* At most 40 bytes of s, cut at a character boundary, for quoting in a message. */
static const char *echo(const char *s, char *buf, size_t size)
{
    size_t n = strlen(s), max = size - 4 < 40 ? size - 4 : 40;
    if (n <= max)
        return s;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    memcpy(buf, s, max);
    memcpy(buf + max, "...", 4);
    return buf;
}

int bbt_import_weekday(const char *s)
{
    static const char *const zh[] = {"一", "二", "三", "四", "五", "六", "日"};
    static const char *const en[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const char *const full[] = {"monday", "tuesday", "wednesday", "thursday",
                                       "friday",  "saturday", "sunday"};
    if (s[0] >= '1' && s[0] <= '7' && s[1] == '\0')
        return s[0] - '0';
    const char *rest = NULL;
    if (strncmp(s, "周", 3) == 0)
        rest = s + 3;
    else if (strncmp(s, "星期", 6) == 0 || strncmp(s, "礼拜", 6) == 0)
        rest = s + 6;
    for (int i = 0; i < 7; i++) {
        if (strcasecmp(s, en[i]) == 0 || strcasecmp(s, full[i]) == 0)
            return i + 1;
        if (rest && strcmp(rest, zh[i]) == 0)
            return i + 1;
    }
    if (rest && strcmp(rest, "天") == 0)
        return 7;
    return 0;
}

/* ---- the header ---------------------------------------------------------------------------- */

static bool name_is(const char *cell, size_t len, const struct column *c)
{
    for (int k = 0; c->names[k]; k++)
        if (strlen(c->names[k]) == len && strncasecmp(cell, c->names[k], len) == 0)
            return true;
    return false;
}

/* Which column a header cell names ("开始", "start", "开始/start"), or -1. */
static int column_of(char *cell)
{
    char *s = trim(cell);
    for (int c = 0; c < C__COUNT; c++) {
        const char *part = s;
        while (*part) {
            const char *slash = strchr(part, '/');
            size_t len = slash ? (size_t)(slash - part) : strlen(part);
            while (len && part[len - 1] == ' ')
                len--;
            while (*part == ' ' && len)
                part++, len--;
            if (len && name_is(part, len, &cols[c]))
                return c;
            part = slash ? slash + 1 : part + strlen(part);
        }
    }
    return -1;
}

/* map[c] = field index of column c, or -1. BBT_OK or BBT_ECSV. */
static int read_header(const bbt_csv_row *h, int map[C__COUNT], bbt_import_result *r)
{
    char eb[48];
    for (int c = 0; c < C__COUNT; c++)
        map[c] = -1;
    for (size_t i = 0; i < h->nfields; i++) {
        char *raw = h->fields[i];
        int c = column_of(raw);
        if (c < 0) {
            if (raw[0])
                bbt_problemf(&r->notes, h->line, "column \"%s\" is not known and is ignored",
                             "不认识列“%s”，已忽略", echo(raw, eb, sizeof eb));
        } else if (map[c] >= 0) {
            bbt_problemf(&r->problems, h->line, "column \"%s\" appears twice", "列“%s”出现了两次",
                         cols[c].label);
        } else {
            map[c] = (int)i;
        }
    }
    static const int required[] = {C_SESSION, C_SOURCE, C_RECEIVERS, C_START, C_END};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if (map[required[k]] < 0)
            bbt_problemf(&r->problems, h->line, "missing column \"%s\"", "缺少列“%s”",
                         cols[required[k]].label);
    if (map[C_WEEKDAY] < 0 && map[C_DATE] < 0)
        bbt_problemf(&r->problems, h->line,
                     "missing column \"%s\" (weekly lessons) or \"%s\" (one-off lessons)",
                     "缺少列“%s”（每周上课）或“%s”（单次课）", cols[C_WEEKDAY].label,
                     cols[C_DATE].label);
    for (int c = C_TERM_START; map[C_WEEKDAY] >= 0 && c <= C_TERM_END; c++)
        if (map[c] < 0)
            bbt_problemf(&r->problems, h->line, "missing column \"%s\"", "缺少列“%s”",
                         cols[c].label);
    return bbt_problems_total(&r->problems) ? BBT_ECSV : BBT_OK;
}

/* ---- rows ---------------------------------------------------------------------------------- */

struct row_ctx {
    const bbt_csv_row *row;
    const int *map;
    bbt_problems *p;
    char eb[48];
    char empty[1]; /* a missing cell: writable, as cells are normalised in place */
};

static char *cell(struct row_ctx *x, int c)
{
    int i = x->map[c];
    if (i >= 0 && (size_t)i < x->row->nfields)
        return trim(x->row->fields[i]);
    x->empty[0] = '\0';
    return x->empty;
}

static void bad(struct row_ctx *x, int c, const char *en_what, const char *zh_what)
{
    BBT_PROBLEM(x->p, x->row->line,
                ("%s \"%s\" is not %s", cols[c].label, echo(cell(x, c), x->eb, sizeof x->eb),
                 en_what),
                ("“%s” \"%s\" 不是%s", cols[c].label, echo(cell(x, c), x->eb, sizeof x->eb),
                 zh_what));
}

static void text_cell(struct row_ctx *x, int c, size_t max, char **out)
{
    *out = cell(x, c);
    if (*out == x->empty)
        *out = (char *)""; /* x->empty does not outlive the row */
    if (strlen(*out) > max)
        bbt_problemf(x->p, x->row->line, "%s is longer than %zu bytes", "“%s”超过 %zu 字节",
                     cols[c].label, max);
}

static void id_cell(struct row_ctx *x, int c, size_t max, char *out)
{
    const char *v = cell(x, c);
    if (!v[0])
        bbt_problemf(x->p, x->row->line, "%s is empty", "“%s”为空", cols[c].label);
    else if (!bbt_id_ok(v, max))
        BBT_PROBLEM(x->p, x->row->line,
                    ("%s \"%s\" is not an id (1-%zu characters of A-Z a-z 0-9 _ . -)",
                     cols[c].label, echo(v, x->eb, sizeof x->eb), max),
                    ("“%s” \"%s\" 不是有效的编号（只能由 1-%zu 个字母、数字或 _ . - 组成）",
                     cols[c].label, echo(v, x->eb, sizeof x->eb), max));
    else
        memcpy(out, v, strlen(v) + 1);
}

/* Normalise a full-width colon (：) to ':' in place, then parse. */
static void time_cell(struct row_ctx *x, int c, int *out)
{
    char *v = cell(x, c), *q = v;
    for (char *s = v; *s;)
        if (strncmp(s, "\xef\xbc\x9a", 3) == 0) {
            *q++ = ':';
            s += 3;
        } else {
            *q++ = *s++;
        }
    *q = '\0';
    if (bbt_hhmm_parse(v, strlen(v), true, false, out) != BBT_OK)
        bad(x, c, "a time (HH:MM)", "有效的时间（时:分，如 08:00）");
}

static void date_cell(struct row_ctx *x, int c, bbt_day *out)
{
    const char *v = cell(x, c);
    if (bbt_day_parse(v, strlen(v), true, out) != BBT_OK)
        bad(x, c, "a date (YYYY-MM-DD)", "有效的日期（年-月-日，如 2025-03-03）");
}

/* Receivers separated by ; ； 、 ， (ASCII ',' too when the field was quoted). */
static void receivers_cell(struct row_ctx *x, bbt_tt_session *s)
{
    char *v = cell(x, C_RECEIVERS);
    static const char *const seps[] = {";", ",", "\xef\xbc\x9b", "\xe3\x80\x81", "\xef\xbc\x8c"};
    size_t count = 1;
    for (char *p = v; *p; p++)
        count += *p == ';' || *p == ',' || (unsigned char)*p == 0xef || (unsigned char)*p == 0xe3;
    s->receivers = calloc(count, sizeof *s->receivers);
    if (!s->receivers) {
        x->p->nomem = true;
        return;
    }
    char *p = v;
    bool bad_id = false;
    while (*p) {
        size_t len = strlen(p), seplen = 0;
        for (size_t i = 0; i < len && !seplen; i++)
            for (size_t k = 0; k < sizeof seps / sizeof seps[0] && !seplen; k++)
                if (strncmp(p + i, seps[k], strlen(seps[k])) == 0)
                    len = i, seplen = strlen(seps[k]);
        char save = p[len];
        p[len] = '\0';
        char *id = trim(p);
        if (id[0] && !bbt_id_ok(id, BBT_ID_MAX)) {
            if (!bad_id) /* once per cell */
                bad(x, C_RECEIVERS, "a list of classroom ids separated by ;",
                    "以 ; 或 、 分隔的教室编号");
            bad_id = true;
        } else if (id[0] && s->nreceivers < count)
            memcpy(s->receivers[s->nreceivers++], id, strlen(id) + 1);
        p[len] = save;
        p += len + seplen;
    }
    if (s->nreceivers == 0 && !bad_id)
        bbt_problemf(x->p, x->row->line, "%s is empty", "“%s”为空", cols[C_RECEIVERS].label);
}

static void schedule_cells(struct row_ctx *x, bbt_tt_session *s)
{
    const char *wd = cell(x, C_WEEKDAY), *date = cell(x, C_DATE);
    int line = x->row->line;
    if (wd[0] && date[0]) {
        bbt_problemf(x->p, line, "give either %s (weekly) or %s (one-off), not both",
                     "“%s”（每周上课）和“%s”（单次课）只能填一个", cols[C_WEEKDAY].label,
                     cols[C_DATE].label);
    } else if (!wd[0] && !date[0]) {
        bbt_problemf(x->p, line, "give %s (weekly) or %s (one-off)",
                     "请填写“%s”（每周上课）或“%s”（单次课）", cols[C_WEEKDAY].label,
                     cols[C_DATE].label);
    } else if (date[0]) {
        date_cell(x, C_DATE, &s->date);
    } else if (!(s->weekday = bbt_import_weekday(wd))) {
        bad(x, C_WEEKDAY, "a weekday (1-7, 周一..周日, Mon..Sun)", "有效的星期（1-7、周一至周日、Mon..Sun）");
        s->weekday = -1;
    } else if (!cell(x, C_TERM_START)[0] || !cell(x, C_TERM_END)[0]) {
        bbt_problemf(x->p, line, "a weekly lesson needs %s and %s", "每周上课需要填写“%s”和“%s”",
                     cols[C_TERM_START].label, cols[C_TERM_END].label);
    } else {
        date_cell(x, C_TERM_START, &s->term_start);
        date_cell(x, C_TERM_END, &s->term_end);
    }
}

/* The optional column "public" (every classroom may watch): empty, 否, no, false, 0 or 是, yes,
 * true, 1 (ASCII in any case). */
static void public_cell(struct row_ctx *x, bool *out)
{
    static const char *const yes[] = {"是", "yes", "true", "1", NULL};
    static const char *const no[] = {"", "否", "no", "false", "0", NULL};
    const char *v = cell(x, C_PUBLIC);
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return;
        }
    for (int i = 0; no[i]; i++)
        if (strcasecmp(v, no[i]) == 0)
            return;
    bad(x, C_PUBLIC, "yes or no", "“是”或“否”");
}

/* One data row into *s (receivers malloc'd even on failure). Problems go to p. */
static void read_row(const bbt_csv_row *row, const int *map, size_t ncols, bbt_tt_session *s,
                     bbt_problems *p)
{
    struct row_ctx x = {.row = row, .map = map, .p = p};
    memset(s, 0, sizeof *s);
    s->line = row->line;
    s->src = -1;
    size_t extra = 0;
    for (size_t i = ncols; i < row->nfields; i++)
        extra += trim(row->fields[i])[0] != '\0';
    if (extra)
        bbt_problemf(p, row->line, "%zu fields, but the header has %zu",
                     "有 %zu 个字段，但表头只有 %zu 列", row->nfields, ncols);
    id_cell(&x, C_SESSION, BBT_TT_SESSION_ID_MAX, s->id);
    text_cell(&x, C_TITLE, 256, &s->title);
    text_cell(&x, C_SUBJECT, 64, &s->subject);
    text_cell(&x, C_TEACHER, 64, &s->teacher);
    id_cell(&x, C_SOURCE, BBT_ID_MAX, s->source);
    receivers_cell(&x, s);
    schedule_cells(&x, s);
    time_cell(&x, C_START, &s->start_min);
    time_cell(&x, C_END, &s->end_min);
    public_cell(&x, &s->is_public);
}

static bool row_empty(const bbt_csv_row *row)
{
    for (size_t i = 0; i < row->nfields; i++)
        if (trim(row->fields[i])[0])
            return false;
    return true;
}

/* ---- merging ------------------------------------------------------------------------------- */

static int cmp_by_id(const void *a, const void *b)
{
    const bbt_tt_session *x = *(bbt_tt_session *const *)a, *y = *(bbt_tt_session *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Two rows for one session id: the later one is refused. */
static void check_duplicates(bbt_tt_session *rows, size_t n, bbt_problems *p)
{
    bbt_tt_session **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        p->nomem = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = &rows[i];
    qsort(v, n, sizeof *v, cmp_by_id);
    for (size_t i = 1; i < n; i++)
        if (v[i]->id[0] && strcmp(v[i]->id, v[i - 1]->id) == 0) {
            size_t first = i - 1;
            while (first > 0 && strcmp(v[first - 1]->id, v[i]->id) == 0)
                first--;
            bbt_problemf(p, v[i]->line, "session \"%s\" is already defined on line %d",
                         "课程 \"%s\" 已在第 %d 行定义", v[i]->id, v[first]->line);
        }
    free(v);
    bbt_problems_sort(p);
}

static int merge(const bbt_timetable *t, bbt_tt_session *rows, size_t n, bbt_timetable *m,
                 bbt_import_result *r)
{
    if (bbt_tt_clone(t, m) != BBT_OK)
        return BBT_ENOMEM;
    r->changes = calloc(n ? n : 1, sizeof *r->changes);
    if (!r->changes)
        return BBT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int si = bbt_tt_find_session(t, rows[i].id); /* m has t's order until indexed */
        bbt_import_change *c = &r->changes[r->nchanges++];
        memcpy(c->session, rows[i].id, sizeof c->session);
        c->line = rows[i].line;
        int rc;
        if (si < 0) {
            c->kind = BBT_CHANGE_ADD, r->added++;
            rc = bbt_tt_add_session(m, &rows[i]);
        } else if (bbt_tt_session_equal(&t->sessions[si], &rows[i])) {
            c->kind = BBT_CHANGE_SAME, r->unchanged++;
            rc = bbt_tt_set_session(m, (size_t)si, &rows[i]); /* keeps its line for messages */
        } else {
            c->kind = BBT_CHANGE_CHANGE, r->changed++;
            rc = bbt_tt_set_session(m, (size_t)si, &rows[i]);
        }
        if (rc != BBT_OK)
            return rc;
    }
    return bbt_tt_index(m);
}

static int read_rows(const bbt_csv *csv, bbt_tt_session **out, size_t *nout,
                     bbt_import_result *r)
{
    int map[C__COUNT];
    int rc = read_header(&csv->rows[0], map, r);
    if (rc != BBT_OK)
        return rc;
    bbt_tt_session *rows = calloc(csv->nrows, sizeof *rows);
    if (!rows)
        return BBT_ENOMEM;
    size_t n = 0;
    for (size_t i = 1; i < csv->nrows; i++)
        if (!row_empty(&csv->rows[i]))
            read_row(&csv->rows[i], map, csv->rows[0].nfields, &rows[n++], &r->problems);
    r->rows = n;
    if (n == 0)
        bbt_problemf(&r->problems, csv->rows[0].line, "the file has a header but no lessons",
                     "文件只有表头，没有课程");
    check_duplicates(rows, n, &r->problems);
    *out = rows;
    *nout = n;
    return r->problems.nomem ? BBT_ENOMEM : bbt_problems_total(&r->problems) ? BBT_ECSV : BBT_OK;
}

int bbt_import_csv(const bbt_timetable *t, const char *data, size_t len, bbt_timetable *merged,
                   bbt_import_result *r)
{
    bbt_csv csv;
    bbt_tt_init(merged);
    int rc = bbt_csv_parse(data, len, &csv, &r->problems);
    if (rc != BBT_OK)
        return rc;
    if (csv.nrows == 0) {
        bbt_problemf(&r->problems, 1, "the file is empty", "文件是空的");
        bbt_csv_free(&csv);
        return BBT_ECSV;
    }
    bbt_tt_session *rows = NULL;
    size_t n = 0;
    rc = read_rows(&csv, &rows, &n, r);
    if (rc == BBT_OK)
        rc = merge(t, rows, n, merged, r);
    if (rc == BBT_OK) {
        rc = bbt_conflict_check(merged, &r->problems);
        if (rc == BBT_ECONFLICT && r->problems.nomem)
            rc = BBT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].receivers); /* the text cells point into the csv */
    free(rows);
    bbt_csv_free(&csv);
    if (rc != BBT_OK)
        bbt_tt_free(merged);
    return rc;
}
