/* relay/schedule/admin_ops.c — the operator requests that are more than a row: delete,
 * cancel/move/restore one lesson, import a CSV upload, and the test clock (§3.18). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/conflict.h"
#include "relay/schedule/import.h"
#include "relay/schedule/sched_internal.h"

/* ---- delete -------------------------------------------------------------------------------- */

struct del {
    const char *kind, *id;
};

static int w_delete(bbt_store *st, const void *a, char *e, size_t n)
{
    const struct del *d = a;
    return bbt_store_delete(st, d->kind, d->id, e, n);
}

/* Why `id` of `kind` cannot go (something uses it), in both languages; false if it can. */
static bool in_use(const bbt_timetable *t, const char *kind, const char *id, char *en, char *zh,
                   size_t size)
{
    if (strcmp(kind, "school") == 0) {
        for (size_t i = 0; i < t->nclassrooms; i++)
            if (strcmp(t->classrooms[i].school, id) == 0) {
                snprintf(en, size, "school \"%s\" still has classroom \"%s\"", id,
                         t->classrooms[i].id);
                snprintf(zh, size, "学校“%s”还有教室“%s”", id, t->classrooms[i].id);
                return true;
            }
        for (size_t i = 0; i < t->ngroups; i++) {
            bool member = strcmp(t->groups[i].strong, id) == 0;
            for (size_t k = 0; k < t->groups[i].nweak && !member; k++)
                member = strcmp(t->groups[i].weak[k], id) == 0;
            if (member) {
                snprintf(en, size, "school \"%s\" is in education group \"%s\"", id,
                         t->groups[i].id);
                snprintf(zh, size, "学校“%s”属于教育集团“%s”", id, t->groups[i].id);
                return true;
            }
        }
    }
    if (strcmp(kind, "classroom") == 0) {
        size_t np;
        const bbt_tt_part *p = bbt_tt_parts(t, bbt_tt_find_classroom(t, id), &np);
        if (np) {
            snprintf(en, size, "classroom \"%s\" is used by session \"%s\"", id,
                     t->sessions[p[0].session].id);
            snprintf(zh, size, "教室“%s”被课程“%s”使用", id, t->sessions[p[0].session].id);
            return true;
        }
    }
    return false;
}

json_t *admin_del(bbt_sched *s, const json_t *m)
{
    struct del d = {json_string_value(json_object_get(m, "kind")),
                    json_string_value(json_object_get(m, "target"))};
    const bbt_timetable *t = &s->tt;
    int i = strcmp(d.kind, "school") == 0      ? bbt_tt_find_school(t, d.id)
            : strcmp(d.kind, "classroom") == 0 ? bbt_tt_find_classroom(t, d.id)
            : strcmp(d.kind, "group") == 0     ? bbt_tt_find_group(t, d.id)
            : strcmp(d.kind, "holiday") == 0   ? bbt_tt_find_holiday(t, d.id)
                                               : bbt_tt_find_session(t, d.id);
    char en[300], zh[300];
    if (i < 0) {
        snprintf(en, sizeof en, "no %s \"%s\"", d.kind, d.id);
        snprintf(zh, sizeof zh, "找不到“%s”", d.id);
        return sched_error(BBT_ENOTFOUND, en, zh, BBT_MSG_DELETE);
    }
    if (in_use(t, d.kind, d.id, en, zh, sizeof en))
        return sched_error(BBT_EEXIST, en, zh, BBT_MSG_DELETE);
    bbt_timetable next;
    if (bbt_tt_clone(t, &next) != BBT_OK)
        return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_DELETE);
    char k = d.kind[0] == 's' ? (d.kind[1] == 'c' ? 's' : 'S') : d.kind[0];
    bbt_tt_remove(&next, k, (size_t)i);
    for (size_t e = next.nexceptions; k == 'S' && e-- > 0;)
        if (strcmp(next.exceptions[e].session, d.id) == 0)
            bbt_tt_remove(&next, 'e', e);
    json_t *err = admin_apply(s, &next, false, w_delete, &d, BBT_MSG_DELETE);
    if (err)
        return err;
    BBT_INFO("schedule: deleted %s %s", d.kind, d.id);
    return json_pack("{s:s, s:s, s:s}", "type", "deleted", "kind", d.kind, "target", d.id);
}

/* ---- one lesson ---------------------------------------------------------------------------- */

static int w_exception(bbt_store *st, const void *a, char *e, size_t n)
{
    return bbt_store_put_exception(st, a, e, n);
}

static int w_restore(bbt_store *st, const void *a, char *e, size_t n)
{
    const bbt_exception *x = a;
    return bbt_store_delete_exception(st, x->session, x->date, e, n);
}

/* The exception of the request (moves default to the session's own times). */
static void exception_of(const bbt_sched *s, bbt_msg_type type, const json_t *m,
                         bbt_exception *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->session, sizeof e->session, "%s", json_string_value(json_object_get(m, "session")));
    e->date = json_day(m, "date");
    e->to = BBT_DAY_NONE;
    const char *reason = json_string_value(json_object_get(m, "reason"));
    e->reason = (char *)(reason ? reason : "");
    e->kind = type == BBT_MSG_MOVE ? BBT_EXC_MOVE : BBT_EXC_CANCEL;
    if (type != BBT_MSG_MOVE)
        return;
    int si = bbt_tt_find_session(&s->tt, e->session);
    e->to = json_day(m, "to");
    e->start_min = json_hhmm(m, "start");
    e->end_min = json_hhmm(m, "end");
    if (e->start_min < 0)
        e->start_min = si >= 0 ? s->tt.sessions[si].start_min : 0;
    if (e->end_min < 0)
        e->end_min = si >= 0 ? s->tt.sessions[si].end_min : 0;
}

static json_t *occurrence_reply(const bbt_exception *e, const char *change)
{
    char d[11], a[6], b[6];
    json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "type", "occurrence", "session", e->session,
                          "date", bbt_day_format(e->date, d), "change", change);
    if (r && e->kind == BBT_EXC_MOVE && strcmp(change, "moved") == 0) {
        json_object_set_new(r, "to", json_string(bbt_day_format(e->to, d)));
        json_object_set_new(r, "start", json_string(bbt_hhmm_format(e->start_min, a)));
        json_object_set_new(r, "end", json_string(bbt_hhmm_format(e->end_min, b)));
    }
    return r;
}

json_t *admin_occurrence(bbt_sched *s, bbt_msg_type type, const json_t *m)
{
    bbt_exception e;
    exception_of(s, type, m, &e);
    int have = bbt_tt_find_exception(&s->tt, e.session, e.date);
    char d[11], en[300], zh[300];
    if (type == BBT_MSG_RESTORE && have < 0) {
        snprintf(en, sizeof en, "\"%s\" has no cancelled or moved lesson on %s", e.session,
                 bbt_day_format(e.date, d));
        snprintf(zh, sizeof zh, "课程 \"%s\" 在 %s 没有停课或调课", e.session, d);
        return sched_error(BBT_ENOTFOUND, en, zh, type);
    }
    bbt_problems p;
    bbt_problems_init(&p);
    if (type != BBT_MSG_RESTORE && bbt_conflict_check_exception(&s->tt, &e, &p) != BBT_OK) {
        json_t *err = p.n ? admin_conflict_error(&p, type) : sched_error(BBT_ENOMEM, NULL, NULL, type);
        bbt_problems_free(&p);
        return err;
    }
    bbt_problems_free(&p);
    bbt_timetable next;
    if (bbt_tt_clone(&s->tt, &next) != BBT_OK)
        return sched_error(BBT_ENOMEM, NULL, NULL, type);
    if (have >= 0)
        bbt_tt_remove(&next, 'e', (size_t)have);
    if (type != BBT_MSG_RESTORE && bbt_tt_add_exception(&next, &e) != BBT_OK) {
        bbt_tt_free(&next);
        return sched_error(BBT_ENOMEM, NULL, NULL, type);
    }
    json_t *err = admin_apply(s, &next, type != BBT_MSG_CANCEL,
                              type == BBT_MSG_RESTORE ? w_restore : w_exception, &e, type);
    if (err)
        return err;
    const char *change = type == BBT_MSG_CANCEL ? "cancelled" : type == BBT_MSG_MOVE ? "moved"
                                                                                     : "restored";
    BBT_INFO("schedule: %s %s on %s", change, e.session, bbt_day_format(e.date, d));
    return occurrence_reply(&e, change);
}

/* ---- import -------------------------------------------------------------------------------- */

/* The file is read, checked and written by jobs_import (jobs.c: off the event loop). */

static void upload_free(struct slot *sl)
{
    if (sl->up)
        free(sl->up->data);
    free(sl->up);
    sl->up = NULL;
}

json_t *admin_import(bbt_sched *s, struct slot *sl, const json_t *m)
{
    const char *id = json_string_value(json_object_get(m, "upload"));
    int part = (int)json_integer_value(json_object_get(m, "part"));
    const char *csv = json_string_value(json_object_get(m, "csv"));
    size_t n = json_string_length(json_object_get(m, "csv"));
    if (part == 0) {
        upload_free(sl);
        sl->up = calloc(1, sizeof *sl->up);
        if (!sl->up)
            return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_IMPORT);
        snprintf(sl->up->id, sizeof sl->up->id, "%s", id);
    } else if (!sl->up || strcmp(sl->up->id, id) != 0 || part != sl->up->next_part) {
        upload_free(sl);
        return sched_error(BBT_EINVAL, "parts of an upload must come in order from part 0",
                           "分段上传必须从第 0 段开始按顺序发送", BBT_MSG_IMPORT);
    }
    struct upload *up = sl->up;
    if (up->len + n > s->opts.max_import_bytes) {
        upload_free(sl);
        return sched_error(BBT_ELIMIT, "the timetable file is larger than [schedule] "
                                       "max_import_bytes", "课表文件超过允许的大小（max_import_bytes）",
                           BBT_MSG_IMPORT);
    }
    if (up->len + n + 1 > up->cap) {
        size_t cap = (up->len + n + 1) * 2;
        char *d = realloc(up->data, cap);
        if (!d) {
            upload_free(sl);
            return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_IMPORT);
        }
        up->data = d;
        up->cap = cap;
    }
    memcpy(up->data + up->len, csv, n);
    up->len += n;
    up->next_part++;
    if (!json_is_true(json_object_get(m, "last")))
        return json_pack("{s:s, s:s, s:s, s:I}", "type", "imported", "upload", up->id, "state",
                         "receiving", "received_bytes", (json_int_t)up->len);
    sl->up = NULL; /* the job owns it now */
    return jobs_import(s, sl, up, json_is_true(json_object_get(m, "dry_run")), m);
}

/* ---- the test clock ------------------------------------------------------------------------ */

json_t *admin_clock(bbt_sched *s, const json_t *m)
{
    if (!s->opts.test_clock)
        return sched_error(BBT_EDENIED, "the clock can be set only with [schedule] test_clock = "
                                        "true", "只有在 [schedule] test_clock = true 时才能设置时钟",
                           BBT_MSG_CLOCK);
    json_t *t = json_object_get(m, "time_us"), *sc = json_object_get(m, "scale");
    if (t || sc) {
        att_tick(s); /* attendance up to the old now, then jump */
        int64_t real = bbt_clock_real_us();
        int64_t to = t ? (int64_t)json_integer_value(t) : bbt_clock_at(&s->clock, real);
        bbt_clock_set(&s->clock, real, to, sc ? json_number_value(sc) : -1.0);
        sched_replan(s, true);
        bbt_sched_tick(s); /* stops that no plan change brings (stop_delay) */
    }
    int64_t now = bbt_sched_now(s);
    bbt_day d;
    int min, sec;
    bbt_us_to_local(now, s->tz_min, &d, &min, &sec);
    char day[11], local[32];
    snprintf(local, sizeof local, "%s %02d:%02d:%02d", bbt_day_format(d, day), min / 60 % 24,
             min % 60, sec % 60);
    return json_pack("{s:s, s:I, s:f, s:s}", "type", "time", "time_us", (json_int_t)now, "scale",
                     s->clock.scale, "local", local);
}
