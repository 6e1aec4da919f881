/* relay/ctl/cmds.c — bbtctl's commands on the timetable's objects: school, classroom, holiday,
 * session (ctl.h). Each says what it did and, where useful, what to do next. */
#include <string.h>

#include "relay/ctl/ctl.h"

#define LIST_PAGE 1000

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Every page of a list request: calls row() for each item of `key`. */
static int list_all(ctl *c, json_t *req, const char *reply, const char *key,
                    void (*row)(ctl *, const json_t *), size_t *count)
{
    json_int_t offset = 0;
    *count = 0;
    for (;;) {
        json_t *q = json_deep_copy(req), *r;
        json_object_set_new(q, "offset", json_integer(offset));
        json_object_set_new(q, "limit", json_integer(LIST_PAGE));
        int rc = ctl_call(c, q, reply, &r);
        if (rc != CTL_OK) {
            json_decref(req);
            return rc;
        }
        json_t *items = json_object_get(r, key);
        for (size_t i = 0; i < json_array_size(items); i++, (*count)++)
            row(c, json_array_get(items, i));
        json_t *next = json_object_get(r, "next_offset");
        offset = json_integer_value(next);
        json_decref(r);
        if (!next)
            break;
    }
    json_decref(req);
    return CTL_OK;
}

/* ---- school --------------------------------------------------------------------------------- */

static void school_row(ctl *c, const json_t *s)
{
    ctl_pad(c->out, str(s, "id"), 20);
    ctl_pad(c->out, str(s, "name"), 30);
    fprintf(c->out, "%lld\n", (long long)json_integer_value(json_object_get(s, "classrooms")));
}

int cmd_school(ctl *c, const char *verb)
{
    if (strcmp(verb, "add") == 0) {
        const char *id = ctl_arg(c, 0), *name = ctl_arg(c, 1);
        if (!id || !name)
            return ctl_usage(c, "用法: bbtctl school add 编号 名称", "usage: bbtctl school add ID NAME");
        json_t *r;
        int rc = ctl_call(c, json_pack("{s:s, s:{s:s, s:s}}", "type", "school_set", "school", "id",
                                       id, "name", name), "schools", &r);
        if (rc != CTL_OK)
            return rc;
        json_decref(r);
        fprintf(c->out, T(c, "已保存学校 %s（%s）。\n下一步：添加它的教室，例如\n"
                             "  bbtctl classroom add %s-301 \"三（1）班\" --school %s --role source\n",
                          "Saved school %s (%s).\nNext: add its classrooms, e.g.\n"
                          "  bbtctl classroom add %s-301 \"Class 3-1\" --school %s --role source\n"),
                id, name, id, id);
        return CTL_OK;
    }
    if (strcmp(verb, "list") == 0) {
        fprintf(c->out, "%s\n", T(c, "编号                名称                          教室数",
                                  "id                  name                          classrooms"));
        size_t n;
        int rc = list_all(c, json_pack("{s:s}", "type", "school_list"), "schools", "schools",
                          school_row, &n);
        if (rc == CTL_OK && n == 0)
            fputs(T(c, "（还没有学校。用 bbtctl school add 编号 名称 添加。）\n",
                    "(No schools yet. Add one with bbtctl school add ID NAME.)\n"), c->out);
        return rc;
    }
    return ctl_usage(c, "school 后面应是 add 或 list", "school takes add or list");
}

/* ---- classroom ------------------------------------------------------------------------------- */

static void classroom_row(ctl *c, const json_t *s)
{
    ctl_pad(c->out, str(s, "id"), 22);
    ctl_pad(c->out, str(s, "name"), 24);
    ctl_pad(c->out, str(s, "school"), 16);
    ctl_pad(c->out, ctl_role_text(c, str(s, "role")), 12);
    fprintf(c->out, "%s\n", json_is_true(json_object_get(s, "connected"))
                                ? T(c, "在线", "connected")
                                : T(c, "离线", "offline"));
}

static int classroom_add(ctl *c)
{
    const char *id = ctl_arg(c, 0), *name = ctl_arg(c, 1), *school = ctl_opt(c, "--school");
    const char *role = ctl_opt(c, "--role"), *tz = ctl_opt(c, "--timezone");
    if (!id || !name || !school || !role)
        return ctl_usage(c, "用法: bbtctl classroom add 编号 名称 --school 学校 --role "
                            "source|receiver|both",
                         "usage: bbtctl classroom add ID NAME --school S --role "
                         "source|receiver|both");
    if (strcmp(role, "source") && strcmp(role, "receiver") && strcmp(role, "both"))
        return ctl_usage(c, "--role 只能是 source（主讲）、receiver（听课）或 both",
                         "--role is source, receiver or both");
    json_t *cl = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", name, "school", school,
                           "role", role);
    if (cl && tz)
        json_object_set_new(cl, "timezone", json_string(tz));
    json_t *r;
    int rc = ctl_call(c, json_pack("{s:s, s:o}", "type", "classroom_set", "classroom", cl),
                      "classrooms", &r);
    if (rc != CTL_OK)
        return rc;
    json_decref(r);
    fprintf(c->out, T(c, "已保存教室 %s（%s，%s）。\n", "Saved classroom %s (%s, %s).\n"), id, name,
            ctl_role_text(c, role));
    fprintf(c->out, T(c, "下一步：该教室的节点或播放器配置 classroom = %s 即可自动按课表上课；"
                         "导入课表：bbtctl import 课表.csv --dry-run\n",
                      "Next: set classroom = %s on that classroom's node or player and it follows "
                      "the timetable; import one with bbtctl import timetable.csv --dry-run\n"),
            id);
    return CTL_OK;
}

int cmd_classroom(ctl *c, const char *verb)
{
    if (strcmp(verb, "add") == 0)
        return classroom_add(c);
    if (strcmp(verb, "list") == 0) {
        json_t *q = json_pack("{s:s}", "type", "classroom_list");
        if (ctl_opt(c, "--school"))
            json_object_set_new(q, "school", json_string(ctl_opt(c, "--school")));
        fprintf(c->out, "%s\n",
                T(c, "编号                  名称                    学校            角色        状态",
                  "id                    name                    school          role        now"));
        size_t n;
        return list_all(c, q, "classrooms", "classrooms", classroom_row, &n);
    }
    return ctl_usage(c, "classroom 后面应是 add 或 list", "classroom takes add or list");
}

/* ---- holiday ------------------------------------------------------------------------------- */

static void holiday_row(ctl *c, const json_t *h)
{
    ctl_pad(c->out, str(h, "id"), 20);
    ctl_pad(c->out, str(h, "name"), 20);
    fprintf(c->out, "%s .. %s\n", str(h, "first"), str(h, "last"));
}

int cmd_holiday(ctl *c, const char *verb)
{
    if (strcmp(verb, "add") == 0) {
        const char *id = ctl_arg(c, 0), *name = ctl_arg(c, 1);
        const char *from = ctl_opt(c, "--from"), *to = ctl_opt(c, "--to");
        if (!id || !name || !from)
            return ctl_usage(c, "用法: bbtctl holiday add 编号 名称 --from 日期 [--to 日期]",
                             "usage: bbtctl holiday add ID NAME --from DATE [--to DATE]");
        if (!to)
            to = from;
        if (!ctl_check_date(c, "--from", from) || !ctl_check_date(c, "--to", to))
            return CTL_USAGE;
        json_t *r;
        int rc = ctl_call(c, json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "type", "holiday_set",
                                       "holiday", "id", id, "name", name, "first", from, "last",
                                       to), "holidays", &r);
        if (rc == CTL_OK)
            fprintf(c->out, T(c, "已保存假期 %s（%s，%s 至 %s）：这些天全县不上课。\n",
                              "Saved holiday %s (%s, %s to %s): no lessons anywhere those days.\n"),
                    id, name, from, to);
        json_decref(r);
        return rc;
    }
    if (strcmp(verb, "list") == 0) {
        size_t n;
        return list_all(c, json_pack("{s:s}", "type", "holiday_list"), "holidays", "holidays",
                        holiday_row, &n);
    }
    return ctl_usage(c, "holiday 后面应是 add 或 list", "holiday takes add or list");
}

/* ---- session (the timetable's rows) --------------------------------------------------------- */

static void session_row(ctl *c, const json_t *s)
{
    char when[64];
    json_t *wd = json_object_get(s, "weekday");
    static const char *const zh[] = {"", "周一", "周二", "周三", "周四", "周五", "周六", "周日"};
    static const char *const en[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    int w = (int)json_integer_value(wd);
    if (wd && w >= 1 && w <= 7)
        snprintf(when, sizeof when, "%s %s-%s", T(c, zh[w], en[w]), str(s, "start"), str(s, "end"));
    else
        snprintf(when, sizeof when, "%s %s-%s", str(s, "date"), str(s, "start"), str(s, "end"));
    ctl_pad(c->out, str(s, "id"), 18);
    ctl_pad(c->out, when, 24);
    ctl_pad(c->out, str(s, "title"), 24);
    ctl_pad(c->out, str(s, "source"), 16);
    json_t *rv = json_object_get(s, "receivers");
    for (size_t i = 0; i < json_array_size(rv); i++)
        fprintf(c->out, "%s%s", i ? "、" : "", json_string_value(json_array_get(rv, i)));
    fputc('\n', c->out);
}

int cmd_session(ctl *c, const char *verb)
{
    if (strcmp(verb, "list") == 0) {
        json_t *q = json_pack("{s:s}", "type", "session_list");
        if (ctl_opt(c, "--classroom"))
            json_object_set_new(q, "classroom", json_string(ctl_opt(c, "--classroom")));
        size_t n;
        int rc = list_all(c, q, "sessions", "sessions", session_row, &n);
        if (rc == CTL_OK)
            fprintf(c->out, T(c, "共 %zu 门课程。\n", "%zu sessions.\n"), n);
        return rc;
    }
    if (strcmp(verb, "delete") == 0) {
        const char *id = ctl_arg(c, 0);
        if (!id)
            return ctl_usage(c, "用法: bbtctl session delete 课程编号",
                             "usage: bbtctl session delete SESSION");
        json_t *r;
        int rc = ctl_call(c, json_pack("{s:s, s:s, s:s}", "type", "delete", "kind", "session",
                                       "target", id), "deleted", &r);
        json_decref(r);
        if (rc == CTL_OK)
            fprintf(c->out, T(c, "已删除课程 %s（以后不再上；已有的出勤记录保留）。\n",
                              "Deleted session %s (no more lessons; its attendance is kept).\n"),
                    id);
        return rc;
    }
    return ctl_usage(c, "session 后面应是 list 或 delete", "session takes list or delete");
}
