/* relay/schedule/admin.c — the operator requests of docs/PROTOCOL.md §3.18: every change is
 * made on a copy of the timetable, checked, written in one transaction, then swapped in and
 * re-planned (sched.h). Lists and reads answer from memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/conflict.h"
#include "relay/schedule/groups.h"
#include "relay/schedule/import.h"
#include "relay/schedule/sched_internal.h"

#define PAGE_DEFAULT 1000

/* ---- applying a change --------------------------------------------------------------------- */

typedef int (*write_fn)(bbt_store *st, const void *arg, char *err, size_t errlen);

/* The problems as one error: the first few texts joined. */
static json_t *conflict_error(const bbt_problems *p, bbt_msg_type type)
{
    char en[1024] = "", zh[1024] = "";
    for (size_t i = 0; i < p->n && i < 4; i++) {
        size_t ne = strlen(en), nz = strlen(zh);
        snprintf(en + ne, sizeof en - ne, "%s%s", i ? "; " : "", p->v[i].en);
        snprintf(zh + nz, sizeof zh - nz, "%s%s", i ? "；" : "", p->v[i].zh);
    }
    if (bbt_problems_total(p) > 4) {
        size_t ne = strlen(en), nz = strlen(zh);
        snprintf(en + ne, sizeof en - ne, "; and %zu more", bbt_problems_total(p) - 4);
        snprintf(zh + nz, sizeof zh - nz, "；另有 %zu 个问题", bbt_problems_total(p) - 4);
    }
    utf8_trim_tail(en);
    utf8_trim_tail(zh);
    return sched_error(BBT_ECONFLICT, en, zh, type);
}

static json_t *store_error(int rc, const char *err, bbt_msg_type type)
{
    BBT_ERROR("schedule: database: %s", err);
    char zh[600];
    snprintf(zh, sizeof zh, "课表数据库出错：%s", err);
    return sched_error(rc, err, zh, type);
}

/* Index and check `next`, write it with w, make it the timetable. NULL on success, else the
 * error reply (next is freed either way). */
static json_t *apply(bbt_sched *s, bbt_timetable *next, bool check, write_fn w, const void *arg,
                     bbt_msg_type type)
{
    if (s->writing) { /* jobs.c: the worker holds the database's write lock */
        bbt_tt_free(next);
        return sched_error(BBT_ELIMIT, "an import is being written; try again in a moment",
                           "正在写入导入的课表，请稍后再试", type);
    }
    bbt_problems p;
    char err[SCHED_ERR_MAX] = "";
    bbt_problems_init(&p);
    int rc = bbt_tt_index(next);
    if (rc == BBT_OK && check)
        rc = bbt_conflict_check(next, &p);
    if (rc == BBT_ECONFLICT) {
        json_t *e = conflict_error(&p, type);
        bbt_problems_free(&p);
        bbt_tt_free(next);
        return e;
    }
    bbt_problems_free(&p);
    if (rc == BBT_OK)
        rc = bbt_store_begin(s->store, err, sizeof err);
    if (rc == BBT_OK) {
        rc = w(s->store, arg, err, sizeof err);
        if (rc == BBT_OK)
            rc = bbt_store_commit(s->store, err, sizeof err); /* rolls back if it fails */
        else
            bbt_store_rollback(s->store);
    }
    if (rc != BBT_OK) {
        bbt_tt_free(next);
        return rc == BBT_ENOMEM ? sched_error(rc, NULL, NULL, type) : store_error(rc, err, type);
    }
    bbt_tt_free(&s->tt);
    s->tt = *next;
    sched_timetable_changed(s);
    return NULL;
}

static json_t *clone_or_fail(bbt_sched *s, bbt_timetable *out, bbt_msg_type type)
{
    return bbt_tt_clone(&s->tt, out) == BBT_OK ? NULL : sched_error(BBT_ENOMEM, NULL, NULL, type);
}

/* A reply {"type": type, key: [item]}. */
static json_t *one(const char *type, const char *key, json_t *item)
{
    return json_pack("{s:s, s:[o]}", "type", type, key, item);
}

static bool classroom_connected(const bbt_sched *s, int ci)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i]->ci == ci && s->slots[i]->role != BBT_SCHED_OPERATOR)
            return true;
    return false;
}

/* ---- schools, classrooms, groups, holidays ------------------------------------------------- */

static int w_school(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_school(st, a, e, n);
}
static int w_classroom(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_classroom(st, a, e, n);
}
static int w_group(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_group(st, a, e, n);
}
static int w_holiday(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_holiday(st, a, e, n);
}
static int w_session(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_session(st, a, e, n);
}

/* The control tables accept any calendar date; the timetable knows the years 1900..2999. */
#define DATE_RANGE_EN "a date outside the years 1900..2999"
#define DATE_RANGE_ZH "日期超出 1900 至 2999 年的范围"

static json_t *school_set(bbt_sched *s, const json_t *m)
{
    bbt_school v;
    bbt_timetable next;
    school_from_json(json_object_get(m, "school"), &v);
    json_t *e = clone_or_fail(s, &next, BBT_MSG_SCHOOL_SET);
    if (e)
        return e;
    int i = bbt_tt_find_school(&s->tt, v.id); /* next has tt's order until indexed */
    if (i >= 0)
        bbt_tt_remove(&next, 's', (size_t)i);
    if (bbt_tt_add_school(&next, &v) != BBT_OK) {
        bbt_tt_free(&next);
        return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_SCHOOL_SET);
    }
    if ((e = apply(s, &next, false, w_school, &v, BBT_MSG_SCHOOL_SET)))
        return e;
    return one("schools", "schools", school_json(&s->tt, (size_t)bbt_tt_find_school(&s->tt, v.id)));
}

static json_t *classroom_set(bbt_sched *s, const json_t *m)
{
    bbt_classroom v;
    bbt_timetable next;
    char en[300], zh[300];
    if (classroom_from_json(json_object_get(m, "classroom"), s->timezone, &v) != BBT_OK) {
        snprintf(en, sizeof en, "unknown timezone \"%s\" (known: %s)", v.tz, bbt_tz_known());
        snprintf(zh, sizeof zh, "不认识的时区“%s”（可用：%s）", v.tz, bbt_tz_known());
        return sched_error(BBT_EINVAL, en, zh, BBT_MSG_CLASSROOM_SET);
    }
    if (bbt_tt_find_school(&s->tt, v.school) < 0) {
        snprintf(en, sizeof en, "unknown school \"%s\": add it first (school_set)", v.school);
        snprintf(zh, sizeof zh, "学校“%s”不存在：请先添加学校", v.school);
        return sched_error(BBT_ENOTFOUND, en, zh, BBT_MSG_CLASSROOM_SET);
    }
    json_t *e = clone_or_fail(s, &next, BBT_MSG_CLASSROOM_SET);
    if (e)
        return e;
    int i = bbt_tt_find_classroom(&s->tt, v.id);
    if (i >= 0)
        bbt_tt_remove(&next, 'c', (size_t)i);
    if (bbt_tt_add_classroom(&next, &v) != BBT_OK) {
        bbt_tt_free(&next);
        return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_CLASSROOM_SET);
    }
    if ((e = apply(s, &next, true, w_classroom, &v, BBT_MSG_CLASSROOM_SET)))
        return e;
    i = bbt_tt_find_classroom(&s->tt, v.id);
    return one("classrooms", "classrooms", classroom_json(&s->tt, (size_t)i,
                                                          classroom_connected(s, i)));
}

static json_t *group_set(bbt_sched *s, const json_t *m)
{
    bbt_group v;
    bbt_timetable next;
    char en[300], zh[300];
    int rc = group_from_json(json_object_get(m, "group"), &v);
    json_t *e = NULL;
    for (size_t k = 0; rc == BBT_OK && k <= v.nweak && !e; k++) {
        const char *sc = k == 0 ? v.strong : v.weak[k - 1];
        if (bbt_tt_find_school(&s->tt, sc) >= 0)
            continue;
        snprintf(en, sizeof en, "unknown school \"%s\": add it first (school_set)", sc);
        snprintf(zh, sizeof zh, "学校“%s”不存在：请先添加学校", sc);
        e = sched_error(BBT_ENOTFOUND, en, zh, BBT_MSG_GROUP_SET);
    }
    if (!e && rc == BBT_OK && (v.term_start == BBT_DAY_NONE || v.term_end == BBT_DAY_NONE))
        e = sched_error(BBT_EINVAL, DATE_RANGE_EN, DATE_RANGE_ZH, BBT_MSG_GROUP_SET);
    if (!e && rc == BBT_OK && v.term_end < v.term_start)
        e = sched_error(BBT_EINVAL, "the term ends before it starts", "学期结束日期早于开始日期",
                        BBT_MSG_GROUP_SET);
    if (!e && rc != BBT_OK)
        e = sched_error(rc, NULL, NULL, BBT_MSG_GROUP_SET);
    if (!e)
        e = clone_or_fail(s, &next, BBT_MSG_GROUP_SET);
    if (!e) {
        int i = bbt_tt_find_group(&s->tt, v.id);
        if (i >= 0)
            bbt_tt_remove(&next, 'g', (size_t)i);
        if (bbt_tt_add_group(&next, &v) != BBT_OK) {
            bbt_tt_free(&next);
            e = sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_GROUP_SET);
        } else {
            e = apply(s, &next, false, w_group, &v, BBT_MSG_GROUP_SET);
        }
    }
    free(v.weak);
    if (e)
        return e;
    return one("groups", "groups", group_json(&s->tt, (size_t)bbt_tt_find_group(&s->tt, v.id)));
}

static json_t *holiday_set(bbt_sched *s, const json_t *m)
{
    bbt_holiday v;
    bbt_timetable next;
    holiday_from_json(json_object_get(m, "holiday"), &v);
    if (v.first == BBT_DAY_NONE || v.last == BBT_DAY_NONE)
        return sched_error(BBT_EINVAL, DATE_RANGE_EN, DATE_RANGE_ZH, BBT_MSG_HOLIDAY_SET);
    if (v.last < v.first)
        return sched_error(BBT_EINVAL, "the holiday ends before it starts", "假期结束日期早于开始日期",
                           BBT_MSG_HOLIDAY_SET);
    json_t *e = clone_or_fail(s, &next, BBT_MSG_HOLIDAY_SET);
    if (e)
        return e;
    int i = bbt_tt_find_holiday(&s->tt, v.id);
    if (i >= 0)
        bbt_tt_remove(&next, 'h', (size_t)i);
    if (bbt_tt_add_holiday(&next, &v) != BBT_OK) {
        bbt_tt_free(&next);
        return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_HOLIDAY_SET);
    }
    /* a holiday only takes lessons away: nothing to check */
    if ((e = apply(s, &next, false, w_holiday, &v, BBT_MSG_HOLIDAY_SET)))
        return e;
    return one("holidays", "holidays",
               holiday_json(&s->tt, (size_t)bbt_tt_find_holiday(&s->tt, v.id)));
}

static json_t *session_set(bbt_sched *s, const json_t *m)
{
    bbt_tt_session v;
    bbt_timetable next;
    int rc = session_from_json(json_object_get(m, "session"), &v);
    json_t *e = NULL;
    if (rc == BBT_EINVAL)
        e = sched_error(BBT_EINVAL,
                        "a session is weekly (weekday, term_start and term_end) or one-off "
                        "(date), with an id of at most 53 characters",
                        "课程要么每周上课（填写星期、学期开始和学期结束），要么只上一次（填写日期），"
                        "课程编号最多 53 个字符",
                        BBT_MSG_SESSION_SET);
    else if (rc != BBT_OK)
        e = sched_error(rc, NULL, NULL, BBT_MSG_SESSION_SET);
    if (!e)
        e = clone_or_fail(s, &next, BBT_MSG_SESSION_SET);
    if (!e) {
        v.line = 1; /* the new one is named after what is there in messages */
        int i = bbt_tt_find_session(&s->tt, v.id);
        rc = i >= 0 ? bbt_tt_set_session(&next, (size_t)i, &v) : bbt_tt_add_session(&next, &v);
        if (rc != BBT_OK) {
            bbt_tt_free(&next);
            e = sched_error(rc, NULL, NULL, BBT_MSG_SESSION_SET);
        } else {
            e = apply(s, &next, true, w_session, &v, BBT_MSG_SESSION_SET);
        }
    }
    free(v.receivers);
    if (e)
        return e;
    int i = bbt_tt_find_session(&s->tt, v.id);
    s->tt.sessions[i].line = 0;
    json_t *reply = one("sessions", "sessions", session_json(&s->tt.sessions[i]));
    bbt_problems w; /* education groups: warnings, the change is made (groups.h) */
    bbt_problems_init(&w);
    if (reply && bbt_groups_check_session(&s->tt, &s->tt.sessions[i], &w) > 0)
        json_object_set_new(reply, "warnings", problems_json(&w));
    bbt_problems_free(&w);
    return reply;
}

/* ---- lists --------------------------------------------------------------------------------- */

struct page {
    size_t offset, limit, total;
};

static struct page page_of(const json_t *m)
{
    json_t *l = json_object_get(m, "limit");
    return (struct page){(size_t)json_integer_value(json_object_get(m, "offset")),
                         l ? (size_t)json_integer_value(l) : PAGE_DEFAULT, 0};
}

/* Count one item; true if it belongs on the page. */
static bool on_page(struct page *p)
{
    return p->total++ >= p->offset && p->total <= p->offset + p->limit;
}

static json_t *paged(const char *type, const char *key, json_t *arr, const struct page *p)
{
    json_t *r = json_pack("{s:s, s:o, s:I}", "type", type, key, arr, "total", (json_int_t)p->total);
    if (r && p->offset + p->limit < p->total)
        json_object_set_new(r, "next_offset", json_integer((json_int_t)(p->offset + p->limit)));
    return r;
}

static json_t *list(bbt_sched *s, bbt_msg_type type, const json_t *m)
{
    const bbt_timetable *t = &s->tt;
    const char *school = json_string_value(json_object_get(m, "school"));
    const char *cls = json_string_value(json_object_get(m, "classroom"));
    struct page p = page_of(m);
    json_t *a = json_array();
    for (size_t i = 0; a && type == BBT_MSG_SCHOOL_LIST && i < t->nschools; i++)
        if (on_page(&p))
            json_array_append_new(a, school_json(t, i));
    for (size_t i = 0; a && type == BBT_MSG_CLASSROOM_LIST && i < t->nclassrooms; i++)
        if ((!school || strcmp(school, t->classrooms[i].school) == 0) && on_page(&p))
            json_array_append_new(a, classroom_json(t, i, classroom_connected(s, (int)i)));
    for (size_t i = 0; a && type == BBT_MSG_GROUP_LIST && i < t->ngroups; i++)
        if (on_page(&p))
            json_array_append_new(a, group_json(t, i));
    for (size_t i = 0; a && type == BBT_MSG_HOLIDAY_LIST && i < t->nholidays; i++)
        if (on_page(&p))
            json_array_append_new(a, holiday_json(t, i));
    if (a && type == BBT_MSG_SESSION_LIST) {
        int ci = cls ? bbt_tt_find_classroom(t, cls) : -1;
        size_t np;
        const bbt_tt_part *parts = bbt_tt_parts(t, ci, &np);
        for (size_t i = 0; cls && i < np; i++)
            if ((i == 0 || parts[i].session != parts[i - 1].session) && on_page(&p))
                json_array_append_new(a, session_json(&t->sessions[parts[i].session]));
        for (size_t i = 0; !cls && i < t->nsessions; i++)
            if (on_page(&p))
                json_array_append_new(a, session_json(&t->sessions[i]));
    }
    static const char *const names[][2] = {
        {"schools", "schools"}, {"classrooms", "classrooms"}, {"groups", "groups"},
        {"holidays", "holidays"}, {"sessions", "sessions"}};
    int k = type == BBT_MSG_SCHOOL_LIST ? 0 : type == BBT_MSG_CLASSROOM_LIST ? 1
            : type == BBT_MSG_GROUP_LIST ? 2 : type == BBT_MSG_HOLIDAY_LIST ? 3 : 4;
    return paged(names[k][0], names[k][1], a, &p);
}

json_t *admin_request(bbt_sched *s, struct slot *sl, bbt_msg_type type, const json_t *msg)
{
    char err[SCHED_ERR_MAX] = "";
    int rc = BBT_OK;
    json_t *r = NULL;
    switch (type) {
    case BBT_MSG_SCHOOL_SET: return school_set(s, msg);
    case BBT_MSG_CLASSROOM_SET: return classroom_set(s, msg);
    case BBT_MSG_GROUP_SET: return group_set(s, msg);
    case BBT_MSG_HOLIDAY_SET: return holiday_set(s, msg);
    case BBT_MSG_SESSION_SET: return session_set(s, msg);
    case BBT_MSG_SCHOOL_LIST:
    case BBT_MSG_CLASSROOM_LIST:
    case BBT_MSG_GROUP_LIST:
    case BBT_MSG_HOLIDAY_LIST:
    case BBT_MSG_SESSION_LIST: return list(s, type, msg);
    case BBT_MSG_DELETE: return admin_del(s, msg);
    case BBT_MSG_CANCEL:
    case BBT_MSG_MOVE:
    case BBT_MSG_RESTORE: return admin_occurrence(s, type, msg);
    case BBT_MSG_IMPORT: return admin_import(s, sl, msg);
    case BBT_MSG_CLOCK: return admin_clock(s, msg);
    case BBT_MSG_DAY_LIST: r = day_list(s, msg, &rc, err, sizeof err); break;
    case BBT_MSG_ATTENDANCE_EXPORT: r = att_export(s, sl, msg, &rc, err, sizeof err); break;
    default:
        return sched_error(BBT_EMSG_TYPE, "this message is not accepted from a client", NULL,
                           type);
    }
    if (rc == BBT_EINVAL)
        return sched_error(rc, err, NULL, type);
    if (rc != BBT_OK)
        return rc == BBT_ENOMEM ? sched_error(rc, NULL, NULL, type) : store_error(rc, err, type);
    return r;
}

json_t *admin_apply(bbt_sched *s, bbt_timetable *next, bool check,
                    int (*w)(bbt_store *, const void *, char *, size_t), const void *arg,
                    bbt_msg_type type)
{
    return apply(s, next, check, w, arg, type);
}

json_t *admin_conflict_error(const bbt_problems *p, bbt_msg_type type)
{
    return conflict_error(p, type);
}
