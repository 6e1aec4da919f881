/* relay/schedule/attend.c — attendance: open records of receiving classrooms watching a
 * scheduled lesson, accounted on the scheduler clock and written to the store; and the export
 * of docs/PROTOCOL.md §3.18.11 (sched.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/sched_internal.h"

#define REPORT_STALE_US 3000000 /* without a report this long, trust the relay's own layer */
#define EXPORT_DAYS_MAX 366
#define PAGE_DEFAULT 1000

/* ---- accounting ---------------------------------------------------------------------------- */

static bool att_pend(bbt_sched *s, struct att *a);

/* Account [last_us, now] clipped to the period, on the current label. */
static void advance(struct att *a, int64_t now)
{
    int64_t from = a->last_us > a->start_us ? a->last_us : a->start_us;
    int64_t to = now < a->end_us ? now : a->end_us;
    if (to > from) {
        int64_t dt = to - from;
        a->present_us += dt;
        if (a->label[0]) {
            size_t i = 0;
            while (i < a->nlabels && strcmp(a->labels[i], a->label) != 0)
                i++;
            if (i == a->nlabels && a->nlabels < BBT_LAYERS_MAX)
                memcpy(a->labels[a->nlabels++], a->label, sizeof a->label);
            if (i < a->nlabels)
                a->layer_us[i] += dt;
        }
    }
    if (now > a->last_us)
        a->last_us = a->left_us = now;
    a->dirty = true;
}

void att_open(bbt_sched *s, struct slot *sl, const char *session)
{
    bbt_day date;
    char sid[BBT_TT_SESSION_ID_MAX + 1];
    bbt_occ o;
    if (!(sl->role & BBT_SCHED_RECEIVER) || sl->ci < 0 ||
        bbt_occ_id_parse(session, &date, sid) != BBT_OK ||
        bbt_recur_find(&s->tt, sid, date, &o) != BBT_OK || o.status != BBT_OCC_ON)
        return; /* not a scheduled lesson of this classroom: nothing to record */
    const bbt_tt_session *v = &s->tt.sessions[o.session];
    bool receives = false;
    for (size_t i = 0; i < v->nreceivers && !receives; i++)
        receives = strcmp(v->receivers[i], sl->classroom) == 0;
    if (!receives)
        return;
    struct att *a = calloc(1, sizeof *a);
    if (!a)
        return;
    int64_t now = bbt_sched_now(s);
    memcpy(a->classroom, sl->classroom, sizeof a->classroom);
    memcpy(a->session, v->id, sizeof a->session);
    a->date = o.date;
    a->start_us = o.start_us;
    a->end_us = o.end_us;
    a->joined_us = a->left_us = a->last_us = now;
    s->hooks.layer(sl->conn, a->label, sizeof a->label, s->hooks.ud);
    a->dirty = true;
    sl->att = a;
    BBT_INFO("schedule: attendance classroom=%s session=%s joined", sl->classroom, session);
}

void att_report(bbt_sched *s, struct slot *sl, const char *layer, int64_t stalls)
{
    struct att *a = sl->att;
    advance(a, bbt_sched_now(s)); /* the time so far was on the previous layer */
    if (layer && layer[0])
        snprintf(a->label, sizeof a->label, "%s", layer);
    if (stalls >= 0) {
        a->stalls_new += stalls >= a->stalls_seen ? stalls - a->stalls_seen : stalls;
        a->stalls_seen = stalls;
    }
    a->last_report_real = bbt_clock_real_us();
}

void att_tick(bbt_sched *s)
{
    int64_t now = bbt_sched_now(s), real = bbt_clock_real_us();
    for (size_t i = 0; i < s->nslots; i++) {
        struct att *a = s->slots[i]->att;
        if (!a)
            continue;
        if (real - a->last_report_real > REPORT_STALE_US) {
            advance(a, now); /* what it had until now, then what the relay sends */
            s->hooks.layer(s->slots[i]->conn, a->label, sizeof a->label, s->hooks.ud);
        } else {
            advance(a, now);
        }
    }
}

/* The whole seconds accumulated (rounded when `last`), keeping the rest. */
static int64_t take_seconds(int64_t *us, bool last)
{
    int64_t sec = last ? (*us + 500000) / 1000000 : *us / 1000000;
    *us = last ? 0 : *us - sec * 1000000;
    return sec;
}

static int write_att(bbt_sched *s, struct att *a, bool last, char *err, size_t errlen)
{
    bbt_attendance d = {.date = a->date, .joined_us = a->joined_us, .left_us = a->left_us,
                        .stalls = a->stalls_new};
    memcpy(d.classroom, a->classroom, sizeof d.classroom);
    memcpy(d.session, a->session, sizeof d.session);
    d.seconds = take_seconds(&a->present_us, last);
    for (size_t i = 0; i < a->nlabels; i++)
        bbt_attendance_add_layer(&d, a->labels[i], take_seconds(&a->layer_us[i], last));
    a->stalls_new = 0;
    a->dirty = false;
    return bbt_store_attendance_add(s->store, &d, err, errlen);
}

void att_close(bbt_sched *s, struct slot *sl)
{
    struct att *a = sl->att;
    char err[SCHED_ERR_MAX];
    sl->att = NULL;
    advance(a, bbt_sched_now(s));
    if (s->writing && att_pend(s, a))
        return; /* the worker writes the database now: the next flush writes this record */
    int rc = bbt_store_begin(s->store, err, sizeof err);
    if (rc == BBT_OK)
        rc = write_att(s, a, true, err, sizeof err);
    if (rc == BBT_OK)
        rc = bbt_store_commit(s->store, err, sizeof err);
    else
        bbt_store_rollback(s->store);
    if (rc != BBT_OK)
        BBT_ERROR("schedule: attendance of %s not written: %s", a->classroom, err);
    BBT_INFO("schedule: attendance classroom=%s session=%s left", a->classroom, a->session);
    free(a);
}

/* Keep a closed record for the next flush (a worker job holds the database's write lock). */
static bool att_pend(bbt_sched *s, struct att *a)
{
    if (s->npending == s->cap_pending) {
        size_t cap = s->cap_pending ? s->cap_pending * 2 : 16;
        struct att **v = realloc(s->pending, cap * sizeof *v);
        if (!v)
            return false; /* then it is written now, waiting for the lock */
        s->pending = v;
        s->cap_pending = cap;
    }
    s->pending[s->npending++] = a;
    BBT_INFO("schedule: attendance classroom=%s session=%s left (written after the import)",
             a->classroom, a->session);
    return true;
}

int att_flush(bbt_sched *s, char *err, size_t errlen)
{
    if (s->writing)
        return BBT_OK; /* a worker job writes the database: records stay dirty until it ends */
    size_t n = s->npending;
    for (size_t i = 0; i < s->nslots; i++)
        n += s->slots[i]->att && s->slots[i]->att->dirty;
    if (n == 0)
        return BBT_OK;
    int rc = bbt_store_begin(s->store, err, errlen);
    for (size_t i = 0; rc == BBT_OK && i < s->nslots; i++)
        if (s->slots[i]->att && s->slots[i]->att->dirty)
            rc = write_att(s, s->slots[i]->att, false, err, errlen);
    for (size_t i = 0; rc == BBT_OK && i < s->npending; i++)
        rc = write_att(s, s->pending[i], true, err, errlen);
    if (rc == BBT_OK)
        rc = bbt_store_commit(s->store, err, errlen);
    else
        bbt_store_rollback(s->store);
    if (rc == BBT_OK) {
        for (size_t i = 0; i < s->npending; i++)
            free(s->pending[i]);
        s->npending = 0;
    }
    return rc;
}

/* ---- export -------------------------------------------------------------------------------- */

void export_cache_free(struct export_cache *e)
{
    if (!e)
        return;
    json_decref(e->rows);
    free(e);
}

/* A lesson that should have been attended: one receiver of one started occurrence. */
struct expected {
    bbt_day date;
    const char *session, *classroom;
    int64_t start_us, end_us;
};

struct collect {
    const bbt_timetable *tt;
    const char *only;
    int64_t now;
    struct expected *v;
    size_t n, cap;
    bool nomem;
};

static void collect_occ(const bbt_occ *o, void *ud)
{
    struct collect *c = ud;
    if (o->status != BBT_OCC_ON || o->start_us > c->now)
        return;
    const bbt_tt_session *v = &c->tt->sessions[o->session];
    for (size_t i = 0; i < v->nreceivers; i++) {
        if (c->only && strcmp(c->only, v->receivers[i]) != 0)
            continue;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 256;
            struct expected *nv = realloc(c->v, cap * sizeof *nv);
            if (!nv) {
                c->nomem = true;
                return;
            }
            c->v = nv;
            c->cap = cap;
        }
        c->v[c->n++] = (struct expected){o->date, v->id, v->receivers[i], o->start_us, o->end_us};
    }
}

static int cmp_key(bbt_day d1, const char *s1, const char *c1, bbt_day d2, const char *s2,
                   const char *c2)
{
    if (d1 != d2)
        return d1 < d2 ? -1 : 1;
    int c = strcmp(s1, s2);
    return c ? c : strcmp(c1, c2);
}

static int cmp_expected(const void *a, const void *b)
{
    const struct expected *x = a, *y = b;
    return cmp_key(x->date, x->session, x->classroom, y->date, y->session, y->classroom);
}

static void clock_text(int64_t us, int tz_min, char *buf, size_t size)
{
    int m, sec;
    bbt_us_to_local(us, tz_min, NULL, &m, &sec);
    snprintf(buf, size, "%02d:%02d:%02d", m / 60 % 24, m % 60, sec % 60);
}

/* One row: the expected lesson e and/or the stored record r (either may be NULL). */
static json_t *row_json(const struct export_src *x, const struct expected *e,
                        const bbt_attendance *r)
{
    const char *cls = e ? e->classroom : r->classroom;
    int ci = bbt_tt_find_classroom(x->tt, cls);
    int tz = ci >= 0 ? x->tt->classrooms[ci].tz_min : x->tz_min;
    char d[11], t[16];
    json_t *j = json_pack("{s:s, s:s, s:s}", "classroom", cls, "session",
                          e ? e->session : r->session, "date",
                          bbt_day_format(e ? e->date : r->date, d));
    if (!j)
        return NULL;
    if (e) {
        clock_text(e->start_us, tz, t, sizeof t);
        t[5] = '\0';
        json_object_set_new(j, "start", json_string(t));
        clock_text(e->end_us, tz, t, sizeof t);
        t[5] = '\0';
        json_object_set_new(j, "end", json_string(t));
    }
    if (r) {
        clock_text(r->joined_us, tz, t, sizeof t);
        json_object_set_new(j, "joined", json_string(t));
        clock_text(r->left_us, tz, t, sizeof t);
        json_object_set_new(j, "left", json_string(t));
    }
    json_object_set_new(j, "seconds", json_integer(r ? r->seconds : 0));
    if (e)
        json_object_set_new(j, "lesson_seconds", json_integer((e->end_us - e->start_us) / 1000000));
    json_t *layers = json_object();
    for (size_t i = 0; r && layers && i < r->nlayers; i++)
        json_object_set_new(layers, r->layers[i].label, json_integer(r->layers[i].seconds));
    json_object_set_new(j, "layers", layers);
    json_object_set_new(j, "stalls", json_integer(r ? r->stalls : 0));
    return j;
}

json_t *att_rows(const struct export_src *x, bbt_store *st, bbt_day from, bbt_day to,
                 const char *only, int *status, char *err, size_t errlen)
{
    bbt_attendance *rec;
    size_t nrec;
    *status = bbt_store_attendance_query(st, from, to, only, &rec, &nrec, err, errlen);
    if (*status != BBT_OK)
        return NULL;
    struct collect c = {.tt = x->tt, .only = only, .now = x->now};
    for (bbt_day d = from; d <= to; d++)
        bbt_recur_day_all(x->tt, d, collect_occ, &c);
    if (c.n > 1)
        qsort(c.v, c.n, sizeof *c.v, cmp_expected);
    json_t *rows = json_array();
    size_t i = 0, k = 0;
    while (rows && !c.nomem && (i < c.n || k < nrec)) {
        int cmp = i == c.n ? 1 : k == nrec ? -1
                  : cmp_key(c.v[i].date, c.v[i].session, c.v[i].classroom, rec[k].date,
                            rec[k].session, rec[k].classroom);
        json_t *row = row_json(x, cmp <= 0 ? &c.v[i] : NULL, cmp >= 0 ? &rec[k] : NULL);
        if (!row || json_array_append_new(rows, row) != 0)
            c.nomem = true;
        i += cmp <= 0;
        k += cmp >= 0;
    }
    free(c.v);
    free(rec);
    if (!rows || c.nomem) {
        json_decref(rows);
        *status = BBT_ENOMEM;
        return NULL;
    }
    return rows;
}

json_t *att_page(struct slot *sl, bbt_day from, bbt_day to, const char *only, json_t *rows,
                 json_int_t offset, json_int_t limit, int *status)
{
    struct export_cache *e = sl->exp;
    if (rows) {
        export_cache_free(sl->exp);
        sl->exp = e = calloc(1, sizeof *e);
        if (!e) {
            json_decref(rows);
            *status = BBT_ENOMEM;
            return NULL;
        }
        *e = (struct export_cache){.from = from, .to = to, .rows = rows};
        snprintf(e->classroom, sizeof e->classroom, "%s", only ? only : "");
    }
    size_t total = json_array_size(e->rows);
    json_t *page = json_array();
    for (size_t i = (size_t)offset; page && i < total && i < (size_t)(offset + limit); i++)
        json_array_append(page, json_array_get(e->rows, i));
    char d1[11], d2[11];
    json_t *r = json_pack("{s:s, s:s, s:s, s:o, s:I}", "type", "attendance", "from",
                          bbt_day_format(from, d1), "to", bbt_day_format(to, d2), "rows", page,
                          "total", (json_int_t)total);
    if (r && (size_t)(offset + limit) < total)
        json_object_set_new(r, "next_offset", json_integer(offset + limit));
    *status = r ? BBT_OK : BBT_ENOMEM;
    return r;
}

json_t *att_export(bbt_sched *s, struct slot *sl, const json_t *req, int *status, char *err,
                   size_t errlen)
{
    bbt_day from = json_day(req, "from"), to = json_day(req, "to");
    const char *only = json_string_value(json_object_get(req, "classroom"));
    json_int_t offset = json_integer_value(json_object_get(req, "offset"));
    json_int_t limit = json_object_get(req, "limit") ? json_integer_value(json_object_get(req, "limit"))
                                                     : PAGE_DEFAULT;
    if (to < from || (int64_t)to - from >= EXPORT_DAYS_MAX) { /* 64-bit: a day may be far off */
        *status = BBT_EINVAL;
        snprintf(err, errlen, "from..to must be 1..%d days, from first", EXPORT_DAYS_MAX);
        return NULL;
    }
    struct export_cache *e = sl->exp;
    if (e && offset > 0 && e->from == from && e->to == to &&
        strcmp(e->classroom, only ? only : "") == 0)
        return att_page(sl, from, to, only, NULL, offset, limit, status); /* the next page */
    *status = att_flush(s, err, errlen);
    if (*status != BBT_OK)
        return NULL;
    if (s->worker) { /* off the event loop: answered by jobs_poll (NULL, BBT_OK: later) */
        *status = jobs_export(s, sl, req, from, to, only, offset, limit);
        return NULL;
    }
    struct export_src x = {&s->tt, s->tz_min, bbt_sched_now(s)};
    json_t *rows = att_rows(&x, s->store, from, to, only, status, err, errlen);
    return rows ? att_page(sl, from, to, only, rows, offset, limit, status) : NULL;
}
