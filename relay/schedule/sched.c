/* relay/schedule/sched.c — the scheduler's connections, plans and start/stop (sched.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/sched_internal.h"

int64_t bbt_sched_now(const bbt_sched *s)
{
    return bbt_clock_now(&s->clock);
}

json_t *sched_error(int status, const char *en, const char *zh, bbt_msg_type ref)
{
    json_t *e = bbt_msg_error(status, en, ref < BBT_MSG__COUNT ? bbt_msg_type_name(ref) : NULL);
    if (e && zh && zh[0]) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", zh);
        utf8_trim_tail(buf);
        json_object_set_new(e, "message_zh", json_string(buf));
    }
    return e;
}

/* ---- life ---------------------------------------------------------------------------------- */

/* A plan cache for every classroom of the timetable, all due. NULL when out of memory. */
static struct plan_cache *plans_new(const bbt_timetable *t)
{
    struct plan_cache *p = calloc(t->nclassrooms ? t->nclassrooms : 1, sizeof *p);
    for (size_t i = 0; p && i < t->nclassrooms; i++) {
        memcpy(p[i].id, t->classrooms[i].id, sizeof p[i].id);
        p[i].due_us = INT64_MIN;
    }
    return p;
}

bbt_sched *bbt_sched_new(const bbt_sched_opts *o, const bbt_sched_hooks *h, int *status,
                         char *err, size_t errlen)
{
    bbt_sched *s = calloc(1, sizeof *s);
    *status = BBT_ENOMEM;
    if (!s)
        return NULL;
    s->opts = *o;
    s->hooks = *h;
    snprintf(s->timezone, sizeof s->timezone, "%s", o->timezone ? o->timezone : BBT_DEFAULT_TZ);
    s->opts.timezone = s->timezone;
    if (bbt_tz_offset(s->timezone, &s->tz_min) != BBT_OK) {
        snprintf(err, errlen, "[schedule] timezone: unknown zone \"%s\" (known: %s)", s->timezone,
                 bbt_tz_known());
        *status = BBT_ENOTFOUND;
        free(s);
        return NULL;
    }
    bbt_clock_init(&s->clock, bbt_clock_real_us(), o->clock_offset_ms * 1000, o->time_scale);
    s->last_flush_real = bbt_clock_real_us();
    *status = bbt_store_open(o->db_path, &s->store, err, errlen);
    if (*status == BBT_OK)
        *status = bbt_store_load(s->store, &s->tt, err, errlen);
    if (*status == BBT_OK) {
        s->plans = plans_new(&s->tt);
        s->nplans = s->tt.nclassrooms;
        *status = s->plans ? BBT_OK : BBT_ENOMEM;
    }
    if (*status != BBT_OK) {
        bbt_store_close(s->store);
        bbt_tt_free(&s->tt);
        free(s);
        return NULL;
    }
    if (!o->inline_jobs) { /* imports and exports off the event loop (jobs.c) */
        s->worker = bbt_worker_new(o->db_path, h->wake, h->ud, status, err, errlen);
        if (!s->worker) {
            free(s->plans);
            bbt_store_close(s->store);
            bbt_tt_free(&s->tt);
            free(s);
            return NULL;
        }
    }
    BBT_INFO("schedule: %s: %zu schools, %zu classrooms, %zu sessions, %zu holidays",
             o->db_path, s->tt.nschools, s->tt.nclassrooms, s->tt.nsessions, s->tt.nholidays);
    return s;
}

static void slot_free(struct slot *sl)
{
    free(sl->att);
    if (sl->up)
        free(sl->up->data);
    free(sl->up);
    export_cache_free(sl->exp);
    free(sl);
}

void bbt_sched_stop_worker(bbt_sched *s)
{
    if (s)
        jobs_stop(s);
}

void bbt_sched_free(bbt_sched *s)
{
    if (!s)
        return;
    char err[SCHED_ERR_MAX];
    jobs_stop(s); /* first: the database is ours alone again */
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i]->att)
            att_close(s, s->slots[i]);
    if (att_flush(s, err, sizeof err) != BBT_OK)
        BBT_ERROR("schedule: attendance not written: %s", err);
    for (size_t i = 0; i < s->npending; i++) /* left by a failed flush */
        free(s->pending[i]);
    free(s->pending);
    for (size_t i = 0; i < s->nslots; i++)
        slot_free(s->slots[i]);
    free(s->slots);
    for (size_t i = 0; i < s->nplans; i++)
        free(s->plans[i].text);
    free(s->plans);
    bbt_tt_free(&s->tt);
    bbt_store_close(s->store);
    free(s);
}

/* ---- connections --------------------------------------------------------------------------- */

/* Position of conn in the sorted slots (or where it would go). */
static size_t slot_pos(const bbt_sched *s, const void *conn, bool *found)
{
    size_t lo = 0, hi = s->nslots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const void *c = s->slots[mid]->conn;
        if (c == conn) {
            *found = true;
            return mid;
        }
        if ((const char *)c < (const char *)conn)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct slot *sched_slot(bbt_sched *s, void *conn)
{
    bool found;
    size_t i = slot_pos(s, conn, &found);
    return found ? s->slots[i] : NULL;
}

static struct slot *slot_add(bbt_sched *s, void *conn)
{
    bool found;
    size_t i = slot_pos(s, conn, &found);
    if (found)
        return s->slots[i];
    if (s->nslots == s->cap_slots) {
        size_t cap = s->cap_slots ? s->cap_slots * 2 : 64;
        struct slot **v = realloc(s->slots, cap * sizeof *v);
        if (!v)
            return NULL;
        s->slots = v;
        s->cap_slots = cap;
    }
    struct slot *sl = calloc(1, sizeof *sl);
    if (!sl)
        return NULL;
    sl->conn = conn;
    sl->serial = ++s->next_serial;
    sl->ci = -1;
    memmove(&s->slots[i + 1], &s->slots[i], (s->nslots - i) * sizeof *s->slots);
    s->slots[i] = sl;
    s->nslots++;
    return sl;
}

static void send_plan(bbt_sched *s, struct slot *sl);
static void update_capture(bbt_sched *s, struct slot *sl, int64_t now);

static bool refresh_classroom(bbt_sched *s, int ci, int64_t now, bool force);

void bbt_sched_hello(bbt_sched *s, void *conn, int role, const char *classroom)
{
    struct slot *sl = slot_add(s, conn);
    if (!sl) {
        BBT_ERROR("schedule: out of memory registering a connection");
        return;
    }
    sl->role = role;
    snprintf(sl->classroom, sizeof sl->classroom, "%s", classroom ? classroom : "");
    sl->ci = bbt_tt_find_classroom(&s->tt, sl->classroom);
    if (!(role & (BBT_SCHED_SOURCE | BBT_SCHED_RECEIVER)))
        return;
    int64_t now = bbt_sched_now(s);
    /* a changed plan goes to every connection of the classroom, this one included */
    if (sl->ci < 0 || !refresh_classroom(s, sl->ci, now, false))
        send_plan(s, sl);
    update_capture(s, sl, now);
}

void bbt_sched_closed(bbt_sched *s, void *conn)
{
    bool found;
    size_t i = slot_pos(s, conn, &found);
    if (!found)
        return;
    struct slot *sl = s->slots[i];
    if (sl->att)
        att_close(s, sl);
    memmove(&s->slots[i], &s->slots[i + 1], (s->nslots - i - 1) * sizeof *s->slots);
    s->nslots--;
    slot_free(sl);
}

void bbt_sched_subscribed(bbt_sched *s, void *conn, const char *session)
{
    struct slot *sl = sched_slot(s, conn);
    if (!sl)
        return;
    if (sl->att)
        att_close(s, sl);
    snprintf(sl->watching, sizeof sl->watching, "%s", session ? session : "");
    att_open(s, sl, sl->watching);
}

void bbt_sched_unsubscribed(bbt_sched *s, void *conn)
{
    struct slot *sl = sched_slot(s, conn);
    if (!sl)
        return;
    if (sl->att)
        att_close(s, sl);
    sl->watching[0] = '\0';
}

void bbt_sched_report(bbt_sched *s, void *conn, const char *layer, int64_t stalls)
{
    struct slot *sl = sched_slot(s, conn);
    if (sl && sl->att)
        att_report(s, sl, layer, stalls);
}

/* ---- plans ---------------------------------------------------------------------------------- */

/* Plans see "moved away" as cancelled; day lists name each status. */
const char *occ_state(const bbt_sched *s, const bbt_occ *o, int64_t now, bool plan)
{
    if (o->status == BBT_OCC_CANCELLED)
        return "cancelled";
    if (o->status == BBT_OCC_MOVED_AWAY)
        return plan ? "cancelled" : "moved";
    if (o->status == BBT_OCC_HOLIDAY)
        return plan ? "cancelled" : "holiday";
    if (now >= o->end_us)
        return "ended";
    if (now >= o->start_us)
        return "live";
    if (now >= o->start_us - s->opts.lead_ms * 1000)
        return "starting";
    return "upcoming";
}

static void hhmm_local(int64_t us, int tz_min, char *buf)
{
    int m;
    bbt_us_to_local(us, tz_min, NULL, &m, NULL);
    bbt_hhmm_format(m, buf);
}

/* The members of one lesson in a plan (§3.13) for classroom c. */
static json_t *plan_session(const bbt_sched *s, const bbt_classroom *c, const bbt_occ *o,
                            int64_t now)
{
    const bbt_tt_session *v = &s->tt.sessions[o->session];
    char id[BBT_OCC_ID_MAX + 1], a[6], b[6], d[11];
    hhmm_local(o->start_us, c->tz_min, a);
    hhmm_local(o->end_us, c->tz_min, b);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}",
                          "session", bbt_occ_id(&s->tt, o, id), "schedule", v->id, "title",
                          v->title, "subject", v->subject, "teacher", v->teacher, "start", a,
                          "end", b, "start_us", (json_int_t)o->start_us, "end_us",
                          (json_int_t)o->end_us, "role",
                          o->role == BBT_CR_SOURCE ? "source" : "receiver", "state",
                          occ_state(s, o, now, true), "source", v->source);
    if (!j)
        return NULL;
    if (o->role == BBT_CR_SOURCE) {
        json_t *r = json_array();
        for (size_t i = 0; r && i < v->nreceivers; i++)
            json_array_append_new(r, json_string(v->receivers[i]));
        json_object_set_new(j, "receivers", r);
    }
    if (o->orig_date != o->date)
        json_object_set_new(j, "moved_from", json_string(bbt_day_format(o->orig_date, d)));
    if (o->status == BBT_OCC_MOVED_AWAY)
        json_object_set_new(j, "moved_to", json_string(bbt_day_format(o->moved_to, d)));
    return j;
}

/* Earliest boundary of `o` after now (start - lead, start, end, end + stop_delay). */
static int64_t next_boundary(const bbt_sched *s, const bbt_occ *o, int64_t now, int64_t due)
{
    int64_t b[4] = {o->start_us - s->opts.lead_ms * 1000, o->start_us, o->end_us,
                    o->end_us + s->opts.stop_delay_ms * 1000};
    for (int i = 0; i < 4; i++)
        if (b[i] > now && b[i] < due)
            due = b[i];
    return due;
}

/* The plan of classroom ci at now, as text; *due = when it may change next. */
static char *plan_text(const bbt_sched *s, int ci, int64_t now, int64_t *due)
{
    const bbt_classroom *c = &s->tt.classrooms[ci];
    bbt_day today;
    bbt_us_to_local(now, c->tz_min, &today, NULL, NULL);
    *due = bbt_local_to_us(today + 1, 0, c->tz_min); /* local midnight */
    static const int lead_max = 3600000;
    char d[11], id[BBT_OCC_ID_MAX + 1];
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:I, s:[]}", "type", "plan", "classroom", c->id,
                          "date", bbt_day_format(today, d), "timezone", c->tz, "lead_ms",
                          (json_int_t)(s->opts.lead_ms < lead_max ? s->opts.lead_ms : lead_max),
                          "sessions");
    bbt_occ occ[PLAN_MAX];
    size_t n = bbt_recur_classroom_day(&s->tt, ci, today, occ, PLAN_MAX);
    json_t *arr = json_object_get(m, "sessions");
    for (size_t i = 0; m && i < n && i < PLAN_MAX; i++) {
        if (occ[i].status == BBT_OCC_HOLIDAY)
            continue; /* nobody is at school */
        json_array_append_new(arr, plan_session(s, c, &occ[i], now));
        if (occ[i].status != BBT_OCC_ON)
            continue;
        *due = next_boundary(s, &occ[i], now, *due);
        if (now >= occ[i].start_us && now < occ[i].end_us && !json_object_get(m, "live"))
            json_object_set_new(m, "live", json_string(bbt_occ_id(&s->tt, &occ[i], id)));
    }
    bbt_occ next;
    if (m && bbt_recur_next(&s->tt, ci, now + 1, NEXT_DAYS, &next) == BBT_OK) {
        json_t *j = plan_session(s, c, &next, now);
        bbt_day nd;
        bbt_us_to_local(next.start_us, c->tz_min, &nd, NULL, NULL);
        if (j)
            json_object_set_new(j, "date", json_string(bbt_day_format(nd, d)));
        json_object_set_new(m, "next", j);
        *due = next_boundary(s, &next, now, *due);
    }
    char *text = m ? bbt_control_dump(m, NULL) : NULL;
    json_decref(m);
    return text;
}

/* A plan for a classroom the timetable does not know: empty, in the county's zone. */
static char *empty_plan(const bbt_sched *s, const char *classroom, int64_t now)
{
    bbt_day today;
    char d[11];
    bbt_us_to_local(now, s->tz_min, &today, NULL, NULL);
    json_t *m = json_pack("{s:s, s:s, s:s, s:[]}", "type", "plan", "classroom",
                          bbt_id_ok(classroom, BBT_ID_MAX) ? classroom : "unknown", "date",
                          bbt_day_format(today, d), "sessions");
    char *text = m ? bbt_control_dump(m, NULL) : NULL;
    json_decref(m);
    return text;
}

static void send_text(bbt_sched *s, void *conn, const char *text)
{
    json_t *m = json_loads(text, 0, NULL);
    s->hooks.send(conn, m, s->hooks.ud);
}

static void send_plan(bbt_sched *s, struct slot *sl)
{
    if (sl->ci >= 0 && s->plans[sl->ci].text) {
        send_text(s, sl->conn, s->plans[sl->ci].text);
        return;
    }
    char *t = empty_plan(s, sl->classroom, bbt_sched_now(s));
    if (t)
        send_text(s, sl->conn, t);
    free(t);
}

/* The lesson a source connection should capture now: ON, its classroom the source, within
 * [start - lead, end + stop_delay). */
static bool capture_due(bbt_sched *s, int ci, int64_t now, bbt_occ *out)
{
    const bbt_classroom *c = &s->tt.classrooms[ci];
    bbt_day today;
    bbt_us_to_local(now, c->tz_min, &today, NULL, NULL);
    for (bbt_day d = today - 1; d <= today + 1; d++) {
        bbt_occ occ[64];
        size_t n = bbt_recur_classroom_day(&s->tt, ci, d, occ, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            if (occ[i].status == BBT_OCC_ON && occ[i].role == BBT_CR_SOURCE &&
                now >= occ[i].start_us - s->opts.lead_ms * 1000 &&
                now < occ[i].end_us + s->opts.stop_delay_ms * 1000) {
                *out = occ[i];
                return true;
            }
    }
    return false;
}

static void send_start(bbt_sched *s, struct slot *sl, const bbt_occ *o)
{
    const bbt_tt_session *v = &s->tt.sessions[o->session];
    const bbt_classroom *c = &s->tt.classrooms[sl->ci];
    char id[BBT_OCC_ID_MAX + 1], a[6], b[6], d[11];
    bbt_day day;
    bbt_us_to_local(o->start_us, c->tz_min, &day, NULL, NULL);
    hhmm_local(o->start_us, c->tz_min, a);
    hhmm_local(o->end_us, c->tz_min, b);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "type", "start",
                          "session", bbt_occ_id(&s->tt, o, id), "schedule", v->id, "title",
                          v->title, "date", bbt_day_format(day, d), "start", a, "end", b,
                          "start_us", (json_int_t)o->start_us, "end_us", (json_int_t)o->end_us);
    snprintf(sl->capturing, sizeof sl->capturing, "%s", id);
    sl->capturing_end_us = o->end_us;
    BBT_INFO("schedule: start session=%s classroom=%s", id, sl->classroom);
    s->hooks.send(sl->conn, m, s->hooks.ud);
}

static void update_capture(bbt_sched *s, struct slot *sl, int64_t now)
{
    if (!(sl->role & BBT_SCHED_SOURCE))
        return;
    bbt_occ o;
    char id[BBT_OCC_ID_MAX + 1] = "";
    bool due = sl->ci >= 0 && capture_due(s, sl->ci, now, &o);
    if (due)
        bbt_occ_id(&s->tt, &o, id);
    if (strcmp(id, sl->capturing) == 0)
        return;
    if (sl->capturing[0]) {
        const char *why = now >= sl->capturing_end_us ? "lesson ended" : "cancelled";
        BBT_INFO("schedule: stop session=%s classroom=%s reason=\"%s\"", sl->capturing,
                 sl->classroom, why);
        s->hooks.send(sl->conn, json_pack("{s:s, s:s, s:s}", "type", "stop", "session",
                                          sl->capturing, "reason", why), s->hooks.ud);
        sl->capturing[0] = '\0';
    }
    if (due)
        send_start(s, sl, &o);
}

/* Recompute the plan of classroom ci if due (or forced); when it changed, send it to every
 * connection of the classroom and start/stop its sources. Returns whether it was sent. */
static bool refresh_classroom(bbt_sched *s, int ci, int64_t now, bool force)
{
    struct plan_cache *p = &s->plans[ci];
    if (!force && p->text && now < p->due_us)
        return false;
    int64_t due;
    char *text = plan_text(s, ci, now, &due);
    if (!text)
        return false; /* out of memory: again at the next tick */
    p->due_us = due;
    if (p->text && strcmp(p->text, text) == 0) {
        free(text);
        return false;
    }
    free(p->text);
    p->text = text;
    for (size_t k = 0; k < s->nslots; k++) {
        struct slot *o = s->slots[k];
        if (o->ci != ci || !(o->role & (BBT_SCHED_SOURCE | BBT_SCHED_RECEIVER)))
            continue;
        send_text(s, o->conn, text);
        update_capture(s, o, now);
    }
    return true;
}

void sched_replan(bbt_sched *s, bool force)
{
    int64_t now = bbt_sched_now(s);
    bool *done = force ? calloc(s->tt.nclassrooms ? s->tt.nclassrooms : 1, 1) : NULL;
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *sl = s->slots[i];
        if (sl->ci < 0 || !(sl->role & (BBT_SCHED_SOURCE | BBT_SCHED_RECEIVER)))
            continue;
        if (done && done[sl->ci])
            continue;
        refresh_classroom(s, sl->ci, now, force);
        if (done)
            done[sl->ci] = true;
    }
    free(done);
}

void sched_timetable_changed(bbt_sched *s)
{
    struct plan_cache *old = s->plans, *p = plans_new(&s->tt);
    size_t nold = s->nplans;
    if (!p)
        return; /* the old caches still name classrooms by id: plans catch up later */
    for (size_t i = 0; i < s->nslots; i++) /* indexes may have moved */
        s->slots[i]->ci = bbt_tt_find_classroom(&s->tt, s->slots[i]->classroom);
    /* keep the texts last sent (both arrays are sorted by id), so only changes go out */
    for (size_t i = 0, k = 0; i < s->tt.nclassrooms && k < nold;) {
        int c = strcmp(old[k].id, p[i].id);
        if (c == 0) {
            p[i].text = old[k].text;
            old[k].text = NULL;
        }
        if (c <= 0)
            k++;
        if (c >= 0)
            i++;
    }
    for (size_t k = 0; k < nold; k++)
        free(old[k].text);
    free(old);
    s->plans = p;
    s->nplans = s->tt.nclassrooms;
    for (size_t i = 0; i < s->nslots; i++) /* a source whose classroom lost its lessons */
        if (s->slots[i]->ci < 0)
            update_capture(s, s->slots[i], bbt_sched_now(s));
    sched_replan(s, true);
}

void bbt_sched_poll(bbt_sched *s)
{
    jobs_poll(s);
}

void bbt_sched_tick(bbt_sched *s)
{
    jobs_poll(s); /* in case a wake-up was missed */
    sched_replan(s, false);
    int64_t now = bbt_sched_now(s);
    for (size_t i = 0; i < s->nslots; i++) /* a source whose lesson ended after a stop_delay */
        if (s->slots[i]->capturing[0] &&
            now >= s->slots[i]->capturing_end_us + s->opts.stop_delay_ms * 1000)
            update_capture(s, s->slots[i], now);
    att_tick(s);
    int64_t real = bbt_clock_real_us();
    if (real - s->last_flush_real >= s->opts.flush_ms * 1000) {
        char err[SCHED_ERR_MAX];
        if (att_flush(s, err, sizeof err) != BBT_OK)
            BBT_ERROR("schedule: attendance not written: %s", err);
        s->last_flush_real = real;
    }
}

char *bbt_sched_plan(bbt_sched *s, const char *classroom, int64_t at_us)
{
    int ci = bbt_tt_find_classroom(&s->tt, classroom);
    int64_t due;
    return ci < 0 ? NULL : plan_text(s, ci, at_us ? at_us : bbt_sched_now(s), &due);
}

bool bbt_sched_handles(bbt_msg_type t)
{
    return t >= BBT_MSG_SCHOOL_SET && t < BBT_MSG__COUNT;
}

json_t *bbt_sched_request(bbt_sched *s, void *conn, bbt_msg_type type, const json_t *msg)
{
    struct slot *sl = slot_add(s, conn); /* an operator that skipped nothing: known by hello */
    json_t *r;
    if (!sl)
        r = sched_error(BBT_ENOMEM, NULL, NULL, type);
    else if (!(sl->role & BBT_SCHED_OPERATOR))
        r = sched_error(BBT_EDENIED, "only an operator may change or read the timetable",
                        "只有管理员（operator）可以查看或修改课表", type);
    else
        r = admin_request(s, sl, type, msg);
    if (r)
        bbt_msg_echo_id(r, msg);
    return r;
}
