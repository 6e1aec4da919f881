/* relay/schedule/day.c — `day_list` → `day`: every lesson of a day with what is happening now
 * (docs/PROTOCOL.md §3.18.10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/sched_internal.h"

#define PAGE_DEFAULT 1000

struct day_occs {
    bbt_occ *v;
    size_t n, cap;
    bool nomem;
};

static void collect(const bbt_occ *o, void *ud)
{
    struct day_occs *d = ud;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        bbt_occ *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            d->nomem = true;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = *o;
}

struct day_ctx {
    const bbt_timetable *tt;
};

static int cmp_occ(const void *a, const void *b, void *ud)
{
    const bbt_occ *x = a, *y = b;
    const struct day_ctx *c = ud;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return strcmp(c->tt->sessions[x->session].id, c->tt->sessions[y->session].id);
}

/* Who is connected, and who watches what. */
struct watch {
    const char *session;
    int ci;
};

struct presence {
    unsigned *connected;        /* connections per classroom */
    struct watch *w;            /* (session watched, classroom), sorted */
    size_t nw;
};

static int cmp_watch(const void *a, const void *b)
{
    const struct watch *x = a, *y = b;
    int c = strcmp(x->session, y->session);
    return c ? c : (x->ci > y->ci) - (x->ci < y->ci);
}

static const char *presence_of(const bbt_sched *s, const struct presence *p, const char *cls,
                               const char *occ_id, const bbt_sched_live *live, bool source)
{
    int ci = bbt_tt_find_classroom(&s->tt, cls);
    if (ci < 0 || !p->connected[ci])
        return "absent";
    if (source)
        return strcmp(live->publisher, cls) == 0 ? "watching" : "connected";
    struct watch key = {occ_id, ci};
    return bsearch(&key, p->w, p->nw, sizeof key, cmp_watch) ? "watching" : "connected";
}

static json_t *presence_json(const char *cls, const char *what)
{
    return json_pack("{s:s, s:s}", "classroom", cls, "presence", what);
}

/* A lesson whose period has begun but that nobody publishes is "failed", with the reason:
 * nothing published DAY_FAIL_GRACE_US after the start, or the publisher went away. */
#define DAY_FAIL_GRACE_US 30000000LL

static const char *failed_reason(const bbt_occ *o, const char *state, const bbt_sched_live *live,
                                 int64_t now)
{
    if (strcmp(state, "live") != 0)
        return NULL;
    if (strcmp(live->state, "interrupted") == 0)
        return "publisher lost";
    if ((strcmp(live->state, "none") == 0 || strcmp(live->state, "waiting") == 0) &&
        now >= o->start_us + DAY_FAIL_GRACE_US)
        return "source did not publish by start";
    return NULL;
}

static json_t *occ_json(bbt_sched *s, const struct presence *p, const bbt_occ *o, int64_t now)
{
    const bbt_tt_session *v = &s->tt.sessions[o->session];
    char id[BBT_OCC_ID_MAX + 1], a[6], b[6], d[11];
    bbt_occ_id(&s->tt, o, id);
    bbt_sched_live live = {.state = "none"};
    if (o->status == BBT_OCC_ON)
        s->hooks.live(id, &live, s->hooks.ud);
    json_t *rcv = json_array();
    for (size_t i = 0; rcv && i < v->nreceivers; i++)
        json_array_append_new(rcv, presence_json(v->receivers[i],
                                                 presence_of(s, p, v->receivers[i], id, &live,
                                                             false)));
    const char *state = occ_state(s, o, now, false);
    const char *why = failed_reason(o, state, &live, now);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I}",
                          "session", id, "schedule", v->id, "title", v->title, "subject",
                          v->subject, "teacher", v->teacher, "start",
                          bbt_hhmm_format(o->start_min, a), "end", bbt_hhmm_format(o->end_min, b),
                          "state", why ? "failed" : state, "source",
                          presence_json(v->source, presence_of(s, p, v->source, id, &live, true)),
                          "receivers", rcv, "relay_state", live.state, "viewers",
                          (json_int_t)live.viewers);
    if (!j)
        return NULL;
    if (why)
        json_object_set_new(j, "reason", json_string(why));
    if (o->orig_date != o->date)
        json_object_set_new(j, "moved_from", json_string(bbt_day_format(o->orig_date, d)));
    if (o->status == BBT_OCC_MOVED_AWAY)
        json_object_set_new(j, "moved_to", json_string(bbt_day_format(o->moved_to, d)));
    if (o->status == BBT_OCC_HOLIDAY)
        json_object_set_new(j, "note", json_string(s->tt.holidays[o->holiday].name));
    int e = bbt_tt_find_exception(&s->tt, v->id, o->orig_date);
    if (e >= 0 && s->tt.exceptions[e].reason[0] && o->status != BBT_OCC_HOLIDAY)
        json_object_set_new(j, "note", json_string(s->tt.exceptions[e].reason));
    return j;
}

/* Keep the occurrences that involve `cls` (source or receiver). */
static void filter(const bbt_timetable *t, struct day_occs *d, const char *cls)
{
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
        const bbt_tt_session *v = &t->sessions[d->v[i].session];
        bool in = strcmp(v->source, cls) == 0;
        for (size_t r = 0; r < v->nreceivers && !in; r++)
            in = strcmp(v->receivers[r], cls) == 0;
        if (in)
            d->v[k++] = d->v[i];
    }
    d->n = k;
}

json_t *day_list(bbt_sched *s, const json_t *req, int *status, char *err, size_t errlen)
{
    int64_t now = bbt_sched_now(s);
    bbt_day day = json_day(req, "date");
    if (day == BBT_DAY_NONE)
        bbt_us_to_local(now, s->tz_min, &day, NULL, NULL);
    const char *cls = json_string_value(json_object_get(req, "classroom"));
    json_int_t offset = json_integer_value(json_object_get(req, "offset"));
    json_t *lim = json_object_get(req, "limit");
    json_int_t limit = lim ? json_integer_value(lim) : PAGE_DEFAULT;
    struct day_occs d = {0};
    bbt_recur_day_all(&s->tt, day, collect, &d);
    struct presence p = {calloc(s->tt.nclassrooms + 1, sizeof *p.connected),
                         calloc(s->nslots + 1, sizeof *p.w), 0};
    if (d.nomem || !p.connected || !p.w) {
        free(d.v);
        free(p.connected);
        free(p.w);
        *status = BBT_ENOMEM;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cls)
        filter(&s->tt, &d, cls);
    struct day_ctx c = {&s->tt};
    if (d.n > 1)
        qsort_r(d.v, d.n, sizeof *d.v, cmp_occ, &c);
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = s->slots[i];
        if (sl->ci < 0)
            continue;
        p.connected[sl->ci]++;
        if (sl->watching[0])
            p.w[p.nw++] = (struct watch){sl->watching, sl->ci};
    }
    if (p.nw > 1)
        qsort(p.w, p.nw, sizeof *p.w, cmp_watch);
    json_t *arr = json_array();
    for (size_t i = (size_t)offset; arr && i < d.n && i < (size_t)(offset + limit); i++)
        json_array_append_new(arr, occ_json(s, &p, &d.v[i], now));
    char ds[11];
    json_t *r = json_pack("{s:s, s:s, s:o, s:I}", "type", "day", "date", bbt_day_format(day, ds),
                          "sessions", arr, "total", (json_int_t)d.n);
    if (r && (size_t)(offset + limit) < d.n)
        json_object_set_new(r, "next_offset", json_integer(offset + limit));
    free(d.v);
    free(p.connected);
    free(p.w);
    *status = r ? BBT_OK : BBT_ENOMEM;
    return r;
}

json_t *bbt_sched_day(bbt_sched *s)
{
    json_t *req = json_object();
    int status;
    char err[64];
    json_t *r = req ? day_list(s, req, &status, err, sizeof err) : NULL;
    json_decref(req);
    return r;
}
