/* relay/ctl/cmds_day.c — bbtctl's day-to-day commands: import a timetable, the day's lessons
 * with their live state, cancel/move/restore one lesson, attendance (ctl.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/status.h"
#include "relay/ctl/ctl.h"
#include "relay/schedule/csv.h"

#define PAGE 1000
#define FILE_MAX (256u * 1024 * 1024)

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* ---- import -------------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap && cap < FILE_MAX) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        } else if (n == cap) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The longest prefix of s[0..len) of at most max bytes that ends on a character boundary. */
static size_t cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static void print_problems(ctl *c, const json_t *list, FILE *f)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *p = json_array_get(list, i);
        long long line = num(p, "line");
        const char *text = c->en ? str(p, "message") : str(p, "message_zh");
        if (line > 0)
            fprintf(f, c->en ? "  line %lld: %s\n" : "  第 %lld 行：%s\n", line, text);
        else
            fprintf(f, "  %s\n", text);
    }
}

static int import_report(ctl *c, const json_t *r, const char *file, bool dry)
{
    const char *state = str(r, "state");
    print_problems(c, json_object_get(r, "notes"), c->out);
    if (json_array_size(json_object_get(r, "warnings")) > 0) { /* education groups: not refused */
        fprintf(c->out, T(c, "注意：%lld 处结对不在本学期的教育集团中（仍会导入）：\n",
                          "Note: %lld pairings outside the term's education groups (imported "
                          "anyway):\n"),
                num(r, "warnings_total"));
        print_problems(c, json_object_get(r, "warnings"), c->out);
    }
    if (strcmp(state, "refused") == 0) {
        fprintf(c->err, T(c, "课表文件 %s 有 %lld 个问题，没有导入任何内容：\n",
                          "%s has %lld problems; nothing was imported:\n"),
                file, num(r, "problems_total"));
        print_problems(c, json_object_get(r, "problems"), c->err);
        size_t shown = json_array_size(json_object_get(r, "problems"));
        if ((size_t)num(r, "problems_total") > shown)
            fprintf(c->err, T(c, "  ……另有 %lld 个问题未列出\n", "  ... and %lld more\n"),
                    num(r, "problems_total") - (long long)shown);
        fprintf(c->err, T(c, "下一步：在表格中改正这些行，另存为“CSV UTF-8”，再运行 bbtctl import %s "
                             "--dry-run 检查。\n",
                          "Next: fix these rows in the spreadsheet, save as \"CSV UTF-8\" and check "
                          "again with bbtctl import %s --dry-run\n"),
                file);
        return CTL_REFUSED;
    }
    fprintf(c->out, T(c, "%s：共 %lld 节课，新增 %lld，修改 %lld，不变 %lld。\n",
                      "%s: %lld lessons, %lld new, %lld changed, %lld unchanged.\n"),
            dry ? T(c, "检查通过（未写入任何内容）", "Check passed (nothing written)")
                : T(c, "已导入", "Imported"),
            num(r, "rows"), num(r, "added"), num(r, "changed"), num(r, "unchanged"));
    json_t *ch = json_object_get(r, "changes");
    for (size_t i = 0, shown = 0; dry && i < json_array_size(ch) && shown < 30; i++) {
        const json_t *x = json_array_get(ch, i);
        if (strcmp(str(x, "change"), "unchanged") == 0)
            continue;
        bool add = strcmp(str(x, "change"), "added") == 0;
        fprintf(c->out, c->en ? "  line %lld: %s %s\n" : "  第 %lld 行：%s %s\n", num(x, "line"),
                add ? T(c, "新增", "new") : T(c, "修改", "changed"), str(x, "session"));
        shown++;
    }
    if (dry)
        fprintf(c->out, T(c, "下一步：正式导入 bbtctl import %s\n", "Next: import it with bbtctl import %s\n"),
                file);
    else
        fputs(T(c, "各教室的节点和播放器会自动收到新课表。下一步：查看今天的课程 bbtctl sessions\n",
                "Every classroom's node and player gets its new plan by itself. Next: see today's "
                "lessons with bbtctl sessions\n"), c->out);
    return CTL_OK;
}

int cmd_import(ctl *c)
{
    const char *file = ctl_arg(c, 0);
    bool dry = ctl_flag(c, "--dry-run");
    if (!file)
        return ctl_usage(c, "用法: bbtctl import 课表.csv [--dry-run]",
                         "usage: bbtctl import FILE.csv [--dry-run]");
    size_t len;
    char *data = read_file(file, &len);
    if (!data) {
        fprintf(c->err, T(c, "bbtctl: 读不了文件 %s\n", "bbtctl: cannot read %s\n"), file);
        return CTL_USAGE;
    }
    /* encoding and syntax first, here: a GBK file cannot even be put in a JSON string */
    bbt_csv csv;
    bbt_problems p;
    bbt_problems_init(&p);
    if (bbt_csv_parse(data, len, &csv, &p) == BBT_ECSV) {
        fprintf(c->err, c->en ? "%s: line %d: %s\n" : "%s：第 %d 行：%s\n", file, p.v[0].line,
                T(c, p.v[0].zh, p.v[0].en));
        fputs(T(c, "没有导入任何内容。请改正后重试。\n", "Nothing was imported. Fix it and try again.\n"),
              c->err);
        bbt_problems_free(&p);
        free(data);
        return CTL_REFUSED;
    }
    bbt_csv_free(&csv);
    bbt_problems_free(&p);
    int rc = ctl_ensure(c);
    size_t room = rc == CTL_OK ? ctl_max_message(c->client) - 512 : 0;
    char upload[32];
    snprintf(upload, sizeof upload, "u%ld", (long)getpid());
    json_t *r = NULL;
    for (size_t off = 0, part = 0; rc == CTL_OK && (off < len || part == 0); part++) {
        size_t n = cut(data + off, len - off, room);
        json_t *q = NULL;
        for (;;) { /* escapes may make the JSON longer than the text: shrink until it fits */
            json_decref(q);
            q = json_pack("{s:s, s:s, s:I, s:b, s:b, s:s%}", "type", "import", "upload", upload,
                          "part", (json_int_t)part, "last", off + n == len, "dry_run", dry, "csv",
                          data + off, n);
            char *t = q ? json_dumps(q, JSON_COMPACT) : NULL;
            size_t tl = t ? strlen(t) : 0;
            free(t);
            if (!q || tl + 64 <= room + 512 || n < 64)
                break;
            n = cut(data + off, n, n * 3 / 4);
        }
        json_decref(r);
        rc = ctl_call(c, q, "imported", &r);
        off += n;
    }
    free(data);
    if (rc == CTL_OK)
        rc = import_report(c, r, file, dry);
    json_decref(r);
    return rc;
}

/* ---- sessions (a day with its live state) -------------------------------------------------- */

static void lesson_row(ctl *c, const json_t *o)
{
    char when[16];
    snprintf(when, sizeof when, "%s-%s", str(o, "start"), str(o, "end"));
    ctl_pad(c->out, when, 13);
    ctl_pad(c->out, str(o, "schedule"), 16);
    ctl_pad(c->out, str(o, "title"), 22);
    ctl_pad(c->out, ctl_state_text(c, str(o, "state")), 10);
    const json_t *src = json_object_get(o, "source");
    fprintf(c->out, "%s %s(%s)", T(c, "主讲", "source"), str(src, "classroom"),
            ctl_presence_text(c, str(src, "presence")));
    json_t *rv = json_object_get(o, "receivers");
    size_t in = 0;
    for (size_t i = 0; i < json_array_size(rv); i++)
        in += strcmp(str(json_array_get(rv, i), "presence"), "watching") == 0;
    fprintf(c->out, T(c, "  听课 %zu/%zu：", "  receivers %zu/%zu: "), in, json_array_size(rv));
    for (size_t i = 0; i < json_array_size(rv); i++) {
        const json_t *x = json_array_get(rv, i);
        fprintf(c->out, "%s%s(%s)", i ? T(c, "，", ", ") : "", str(x, "classroom"),
                ctl_presence_text(c, str(x, "presence")));
    }
    if (str(o, "moved_to")[0])
        fprintf(c->out, T(c, "  调到 %s", "  moved to %s"), str(o, "moved_to"));
    if (str(o, "moved_from")[0])
        fprintf(c->out, T(c, "  由 %s 调来", "  moved from %s"), str(o, "moved_from"));
    if (str(o, "note")[0])
        fprintf(c->out, "  (%s)", str(o, "note"));
    if (str(o, "reason")[0]) /* a failed lesson: why */
        fprintf(c->out, "  (%s)", ctl_state_text(c, str(o, "reason")));
    fputc('\n', c->out);
}

int cmd_sessions(ctl *c)
{
    const char *date = ctl_opt(c, "--date"), *cls = ctl_opt(c, "--classroom");
    if (date && !ctl_check_date(c, "--date", date))
        return CTL_USAGE;
    json_int_t offset = 0;
    size_t total = 0;
    for (;;) {
        json_t *q = json_pack("{s:s, s:I, s:I}", "type", "day_list", "offset", offset, "limit",
                              (json_int_t)PAGE), *r;
        if (date)
            json_object_set_new(q, "date", json_string(date));
        if (cls)
            json_object_set_new(q, "classroom", json_string(cls));
        int rc = ctl_call(c, q, "day", &r);
        if (rc != CTL_OK)
            return rc;
        if (offset == 0)
            fprintf(c->out, T(c, "%s 的课程：\n", "Lessons of %s:\n"), str(r, "date"));
        json_t *list = json_object_get(r, "sessions");
        for (size_t i = 0; i < json_array_size(list); i++, total++)
            lesson_row(c, json_array_get(list, i));
        json_t *next = json_object_get(r, "next_offset");
        offset = json_integer_value(next);
        json_decref(r);
        if (!next)
            break;
    }
    if (total == 0)
        fputs(T(c, "（这一天没有课。导入课表：bbtctl import 课表.csv）\n",
                "(No lessons that day. Import a timetable: bbtctl import timetable.csv)\n"), c->out);
    else
        fprintf(c->out, T(c, "共 %zu 节课。“未连接”的教室请检查其电脑是否开机、网络是否正常。\n",
                          "%zu lesson(s). For a classroom \"not connected\", check that its PC is on "
                          "and online.\n"),
                total);
    return CTL_OK;
}

/* ---- cancel, move, restore ----------------------------------------------------------------- */

int cmd_occurrence(ctl *c, const char *verb)
{
    const char *session = ctl_arg(c, 0), *date = ctl_opt(c, "--date");
    const char *to = ctl_opt(c, "--to"), *start = ctl_opt(c, "--start"), *end = ctl_opt(c, "--end");
    bool move = strcmp(verb, "move") == 0;
    if (!session || !date || (move && !to))
        return ctl_usage(c, move ? "用法: bbtctl move 课程编号 --date 日期 --to 新日期 [--start 时:分 --end 时:分]"
                                 : "用法: bbtctl cancel|restore 课程编号 --date 日期",
                         move ? "usage: bbtctl move SESSION --date DATE --to DATE2 [--start HH:MM --end HH:MM]"
                              : "usage: bbtctl cancel|restore SESSION --date DATE");
    if (!ctl_check_date(c, "--date", date) || (to && !ctl_check_date(c, "--to", to)) ||
        (start && !ctl_check_time(c, "--start", start)) || (end && !ctl_check_time(c, "--end", end)))
        return CTL_USAGE;
    if (move && (!start) != (!end))
        return ctl_usage(c, "--start 和 --end 要一起给", "give both --start and --end");
    json_t *q = json_pack("{s:s, s:s, s:s}", "type", verb, "session", session, "date", date), *r;
    if (move)
        json_object_set_new(q, "to", json_string(to));
    if (start) {
        json_object_set_new(q, "start", json_string(start));
        json_object_set_new(q, "end", json_string(end));
    }
    if (ctl_opt(c, "--reason") && !move)
        json_object_set_new(q, "reason", json_string(ctl_opt(c, "--reason")));
    int rc = ctl_call(c, q, "occurrence", &r);
    if (rc != CTL_OK)
        return rc;
    if (strcmp(verb, "cancel") == 0)
        fprintf(c->out, T(c, "已停课：%s 在 %s 不上课。\n", "Cancelled: no %s on %s.\n"), session, date);
    else if (move)
        fprintf(c->out, T(c, "已调课：%s 从 %s 调到 %s %s-%s。\n", "Moved: %s from %s to %s %s-%s.\n"),
                session, date, str(r, "to"), str(r, "start"), str(r, "end"));
    else
        fprintf(c->out, T(c, "已恢复：%s 在 %s 按原课表上课。\n", "Restored: %s on %s as timetabled.\n"),
                session, date);
    fputs(T(c, "相关教室会自动收到新的课表。", "The classrooms concerned get their new plan by themselves."),
          c->out);
    if (strcmp(verb, "restore") != 0)
        fprintf(c->out, T(c, "如需撤销：bbtctl restore %s --date %s\n", " To undo: bbtctl restore %s --date %s\n"),
                session, date);
    else
        fputc('\n', c->out);
    json_decref(r);
    return CTL_OK;
}

/* ---- attendance ---------------------------------------------------------------------------- */

/* Layers in quality order: "720p" > "360p" > ... > "courseware" > "audio" > others. */
static int layer_rank(const char *l)
{
    size_t n = strlen(l);
    if (n > 1 && l[n - 1] == 'p')
        return 10000 - atoi(l);
    return strcmp(l, "courseware") == 0 ? 20000 : strcmp(l, "audio") == 0 ? 20001 : 30000;
}

static int cmp_layer(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int d = layer_rank(x) - layer_rank(y);
    return d ? d : strcmp(x, y);
}

static size_t collect_layers(const json_t *rows, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(json_array_get(rows, i), "layers"), k, v) {
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(out[j], k) == 0;
            if (!seen && n < max)
                out[n++] = k;
        }
    }
    qsort(out, n, sizeof *out, cmp_layer);
    return n;
}

static void attendance_line(ctl *c, const json_t *x, const char **layers, size_t nl, bool csv)
{
    char buf[64];
    long long sec = num(x, "seconds");
    const char *cells[6] = {str(x, "classroom"), str(x, "session"), str(x, "date"), str(x, "joined"),
                            str(x, "left"), buf};
    snprintf(buf, sizeof buf, "%.1f", (double)sec / 60.0);
    static const int widths[6] = {20, 16, 12, 10, 10, 10};
    for (int i = 0; i < 6; i++)
        if (csv)
            ctl_csv_field(c->out, cells[i], false);
        else
            ctl_pad(c->out, cells[i][0] ? cells[i] : "-", widths[i]);
    for (size_t k = 0; k < nl; k++) {
        long long ls = num(json_object_get(x, "layers"), layers[k]);
        if (sec > 0)
            snprintf(buf, sizeof buf, "%lld%%", (ls * 100 + sec / 2) / sec);
        else
            snprintf(buf, sizeof buf, "%s", csv ? "" : "-");
        if (csv)
            ctl_csv_field(c->out, buf, false);
        else
            ctl_pad(c->out, buf, 14);
    }
    snprintf(buf, sizeof buf, "%lld", num(x, "stalls"));
    if (csv)
        ctl_csv_field(c->out, buf, true);
    else
        fprintf(c->out, "%s\n", buf);
}

static void attendance_print(ctl *c, const json_t *rows, bool csv)
{
    const char *layers[16];
    size_t nl = collect_layers(rows, layers, 16);
    static const char *const zh[] = {"教室", "课程", "日期", "加入", "离开", "在线分钟"};
    static const char *const en[] = {"classroom", "session", "date", "joined", "left", "minutes"};
    static const int widths[6] = {20, 16, 12, 10, 10, 10};
    if (csv)
        fputs("\xef\xbb\xbf", c->out); /* so that Excel reads it as UTF-8 */
    char h[48];
    for (int i = 0; i < 6; i++)
        if (csv)
            ctl_csv_field(c->out, T(c, zh[i], en[i]), false);
        else
            ctl_pad(c->out, T(c, zh[i], en[i]), widths[i]);
    for (size_t k = 0; k < nl; k++) {
        snprintf(h, sizeof h, "%s%s", layers[k], T(c, "占比", " share"));
        if (csv)
            ctl_csv_field(c->out, h, false);
        else
            ctl_pad(c->out, h, 14);
    }
    if (csv)
        ctl_csv_field(c->out, T(c, "卡顿次数", "stalls"), true);
    else
        fprintf(c->out, "%s\n", T(c, "卡顿", "stalls"));
    size_t absent = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        attendance_line(c, json_array_get(rows, i), layers, nl, csv);
        absent += num(json_array_get(rows, i), "seconds") == 0;
    }
    if (!csv)
        fprintf(c->out, T(c, "共 %zu 条记录，其中缺席（0 分钟）%zu 条。导出为表格：加 --csv > 出勤.csv（可用 Excel 打开）\n",
                          "%zu rows, %zu absent (0 minutes). As a spreadsheet: add --csv > attendance.csv\n"),
                json_array_size(rows), absent);
}

int cmd_attendance(ctl *c)
{
    const char *from = ctl_opt(c, "--from"), *to = ctl_opt(c, "--to");
    const char *cls = ctl_opt(c, "--classroom");
    if (!from || !to)
        return ctl_usage(c, "用法: bbtctl attendance --from 日期 --to 日期 [--classroom 教室] [--csv]",
                         "usage: bbtctl attendance --from DATE --to DATE [--classroom C] [--csv]");
    if (!ctl_check_date(c, "--from", from) || !ctl_check_date(c, "--to", to))
        return CTL_USAGE;
    json_t *all = json_array();
    json_int_t offset = 0;
    for (;;) {
        json_t *q = json_pack("{s:s, s:s, s:s, s:I, s:I}", "type", "attendance_export", "from",
                              from, "to", to, "offset", offset, "limit", (json_int_t)PAGE), *r;
        if (cls)
            json_object_set_new(q, "classroom", json_string(cls));
        int rc = ctl_call(c, q, "attendance", &r);
        if (rc != CTL_OK) {
            json_decref(all);
            return rc;
        }
        json_array_extend(all, json_object_get(r, "rows"));
        json_t *next = json_object_get(r, "next_offset");
        offset = json_integer_value(next);
        json_decref(r);
        if (!next)
            break;
    }
    attendance_print(c, all, ctl_flag(c, "--csv"));
    json_decref(all);
    return CTL_OK;
}
