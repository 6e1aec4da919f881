/* relay/dash.c — the dashboard's data: lights, lessons, egress, errors (see dash.h). */
#include "relay/dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"
#include "proto/status.h"
#include "proto/utf8.h"

#define ID_MAX 64
#define TEXT_MAX 256
#define STALL_RING 16

struct dash_err {
    int64_t wall_us;
    int status;
    char subject[ID_MAX + 1];
    char session[ID_MAX + 1];
    char message[TEXT_MAX + 1];
};

/* A classroom seen since the relay started (or in today's lessons). */
struct room {
    char id[ID_MAX + 1];
    enum bbt_dash_role role;
    int64_t last_seen_wall;        /* 0: never connected */
    int64_t stalls_prev;           /* stall counter at the last update, -1 none */
    int64_t stall_at[STALL_RING];  /* monotonic times of recent stalls */
    unsigned stall_head;
    int64_t stalls_total;
    /* this update */
    bool listed;
    unsigned connections;
    char lesson[ID_MAX + 1];       /* its lesson now ("" none) */
    bool lesson_soon, lesson_on, publishing_it, watching_it, watching, session_live;
    char layer[17];
    int video_height, audio_ok, stalls_recent;
    bool audio_only, layer_low, fresh, stale;
    double latency;
    int64_t report_at;
    enum bbt_dash_light light;
    unsigned reasons;
};

/* A session's egress between updates, and the failure already logged for it. */
struct sess {
    char id[ID_MAX + 1];
    uint64_t bytes;
    int64_t at_us;
    double kbps;
    bool publisher_up, listed;
    bool in_day;                   /* one of today's lessons (this update) */
    const bbt_dash_session *reg;   /* the registry's session (this update), NULL none */
    char failed[48];
};

struct bbt_dash {
    struct dash_err err[BBT_DASH_ERRORS];
    size_t err_head, err_count;
    struct room *rooms;
    size_t nrooms;
    struct sess *sess;
    size_t nsess;
    json_t *snap;
};

/* ---- the rules ---------------------------------------------------------------------------- */

static enum bbt_dash_light worse(enum bbt_dash_light a, enum bbt_dash_light b)
{
    return a > b ? a : b;
}

static void flag(enum bbt_dash_light *l, unsigned *reasons, enum bbt_dash_light to, unsigned why)
{
    *l = worse(*l, to);
    *reasons |= why;
}

static void judge_quality(const bbt_dash_facts *f, enum bbt_dash_light *l, unsigned *r)
{
    if (!f->session_live)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_NO_SOURCE);
    if (f->fresh_report && f->latency_p95_ms >= BBT_DASH_LATENCY_RED_MS)
        flag(l, r, BBT_DASH_RED, BBT_DASH_R_LATENCY);
    else if (f->fresh_report && f->latency_p95_ms >= BBT_DASH_LATENCY_AMBER_MS)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_LATENCY);
    if (f->stalls_recent >= BBT_DASH_STALLS_RED)
        flag(l, r, BBT_DASH_RED, BBT_DASH_R_STALLS);
    else if (f->stalls_recent >= BBT_DASH_STALLS_AMBER)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_STALLS);
    if (!f->session_live)
        return; /* layer and sound mean nothing without a publisher */
    if (f->audio_only)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_AUDIO_ONLY);
    else if (f->layer_low)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_LOW_LAYER);
    if (f->fresh_report && f->audio_ok == 0)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_NO_SOUND);
    if (f->stale_report)
        flag(l, r, BBT_DASH_AMBER, BBT_DASH_R_NO_REPORTS);
}

enum bbt_dash_light bbt_dash_judge(const bbt_dash_facts *f, unsigned *reasons)
{
    enum bbt_dash_light l = BBT_DASH_GREEN;
    *reasons = 0;
    bool expected = f->lesson_on || f->lesson_soon;
    if (!f->connections) {
        if (!expected)
            return BBT_DASH_IDLE;
        flag(&l, reasons, f->lesson_on ? BBT_DASH_RED : BBT_DASH_AMBER, BBT_DASH_R_OFFLINE);
        return l;
    }
    if (expected && f->role == BBT_DASH_ROLE_SOURCE && !f->publishing_it)
        flag(&l, reasons, f->lesson_on ? BBT_DASH_RED : BBT_DASH_AMBER,
             BBT_DASH_R_NOT_PUBLISHING);
    if (f->lesson_on && f->role == BBT_DASH_ROLE_RECEIVER && !f->watching_it)
        flag(&l, reasons, BBT_DASH_AMBER, BBT_DASH_R_NOT_WATCHING);
    if (f->watching)
        judge_quality(f, &l, reasons);
    return l;
}

const char *bbt_dash_light_name(enum bbt_dash_light l)
{
    static const char *const n[] = {"green", "amber", "red", "idle"};
    return (unsigned)l < 4 ? n[l] : "?";
}

const char *bbt_dash_reason_name(enum bbt_dash_reason r)
{
    static const char *const n[BBT_DASH_REASONS] = {
        "offline", "not_publishing", "not_watching", "no_source", "latency",
        "stalls",  "audio_only",     "low_layer",    "no_sound",  "no_reports"};
    for (int i = 0; i < BBT_DASH_REASONS; i++)
        if ((unsigned)r == 1u << i)
            return n[i];
    return "?";
}

/* ---- errors ------------------------------------------------------------------------------- */

/* Copy at most size-1 bytes of well-formed UTF-8 without control characters ('?' instead). */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t o = 0, n = src ? strlen(src) : 0;
    for (size_t i = 0; i < n && o + 1 < size;) {
        size_t k = bbt_utf8_seq((const unsigned char *)src + i, n - i);
        if (k == 0 || (k == 1 && ((unsigned char)src[i] < 0x20 || src[i] == 0x7f))) {
            dst[o++] = '?';
            i += k ? k : 1;
            continue;
        }
        if (o + k + 1 > size)
            break;
        memcpy(dst + o, src + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
}

static bool is_ident(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

void bbt_dash_error(bbt_dash *d, int64_t wall_us, const char *subject, int status,
                    const char *message, const char *session)
{
    if (!d)
        return;
    struct dash_err *e = &d->err[d->err_head];
    d->err_head = (d->err_head + 1) % BBT_DASH_ERRORS;
    if (d->err_count < BBT_DASH_ERRORS)
        d->err_count++;
    e->wall_us = wall_us;
    e->status = status;
    copy_text(e->subject, sizeof e->subject, subject ? subject : "-");
    copy_text(e->message, sizeof e->message,
              message && message[0] ? message : status < 0 ? bbt_strerror(status) : "-");
    snprintf(e->session, sizeof e->session, "%s", is_ident(session) ? session : "");
}

size_t bbt_dash_error_count(const bbt_dash *d)
{
    return d ? d->err_count : 0;
}

static json_t *errors_json(const bbt_dash *d)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < d->err_count; k++) { /* newest first */
        const struct dash_err *e =
            &d->err[(d->err_head + BBT_DASH_ERRORS - 1 - k) % BBT_DASH_ERRORS];
        json_t *o = json_pack("{s:I, s:s, s:s}", "time_us", (json_int_t)e->wall_us, "subject",
                              e->subject, "message", e->message);
        if (o && e->status < 0) {
            json_object_set_new(o, "code", json_integer(-e->status));
            json_object_set_new(o, "name", json_string(bbt_status_name(e->status)));
        }
        if (o && e->session[0])
            json_object_set_new(o, "session", json_string(e->session));
        json_array_append_new(a, o);
    }
    return a;
}

/* ---- life ----------------------------------------------------------------------------------- */

bbt_dash *bbt_dash_new(void)
{
    bbt_dash *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->rooms = calloc(BBT_DASH_MAX_ROOMS, sizeof *d->rooms);
    d->sess = calloc(BBT_DASH_MAX_SESSIONS, sizeof *d->sess);
    if (!d->rooms || !d->sess) {
        bbt_dash_free(d);
        return NULL;
    }
    return d;
}

void bbt_dash_free(bbt_dash *d)
{
    if (!d)
        return;
    json_decref(d->snap);
    free(d->rooms);
    free(d->sess);
    free(d);
}

const json_t *bbt_dash_snapshot(const bbt_dash *d)
{
    return d ? d->snap : NULL;
}


/* ---- classrooms --------------------------------------------------------------------------- */

static int cmp_room(const void *a, const void *b)
{
    return strcmp(((const struct room *)a)->id, ((const struct room *)b)->id);
}

/* The room of `id` (kept sorted by id), created when new; NULL when the table is full or the
 * id is not a classroom id. */
static struct room *room_get(bbt_dash *d, const char *id)
{
    if (!is_ident(id))
        return NULL;
    size_t lo = 0, hi = d->nrooms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->rooms[mid].id, id);
        if (c == 0)
            return &d->rooms[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (d->nrooms == BBT_DASH_MAX_ROOMS)
        return NULL;
    memmove(&d->rooms[lo + 1], &d->rooms[lo], (d->nrooms - lo) * sizeof *d->rooms);
    d->nrooms++;
    struct room *r = &d->rooms[lo];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    r->stalls_prev = -1;
    r->audio_ok = -1;
    r->latency = -1;
    return r;
}

static void rooms_reset(bbt_dash *d)
{
    for (size_t i = 0; i < d->nrooms; i++) {
        struct room *r = &d->rooms[i];
        int64_t seen = r->last_seen_wall, prev = r->stalls_prev, total = r->stalls_total;
        int64_t at[STALL_RING];
        unsigned head = r->stall_head;
        memcpy(at, r->stall_at, sizeof at);
        char id[ID_MAX + 1];
        memcpy(id, r->id, sizeof id);
        memset(r, 0, sizeof *r);
        memcpy(r->id, id, sizeof id);
        memcpy(r->stall_at, at, sizeof at);
        r->stall_head = head;
        r->last_seen_wall = seen;
        r->stalls_prev = prev;
        r->stalls_total = total;
        r->audio_ok = -1;
        r->latency = -1;
    }
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void lesson_room(bbt_dash *d, const char *cls, const char *occ, const char *state,
                        enum bbt_dash_role role)
{
    struct room *r = room_get(d, cls);
    if (!r)
        return;
    r->listed = true;
    bool soon = strcmp(state, "starting") == 0;
    bool on = strcmp(state, "live") == 0 || strcmp(state, "failed") == 0;
    if (!soon && !on)
        return;
    snprintf(r->lesson, sizeof r->lesson, "%s", occ);
    r->lesson_soon = soon;
    r->lesson_on = on;
    r->role = role;
}

/* Today's lessons: who is expected where. */
static void rooms_from_day(bbt_dash *d, const json_t *day)
{
    const json_t *list = json_object_get(day, "sessions");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const char *occ = jstr(o, "session"), *state = jstr(o, "state");
        lesson_room(d, jstr(json_object_get(o, "source"), "classroom"), occ, state,
                    BBT_DASH_ROLE_SOURCE);
        const json_t *rv = json_object_get(o, "receivers");
        for (size_t k = 0; k < json_array_size(rv); k++)
            lesson_room(d, jstr(json_array_get(rv, k), "classroom"), occ, state,
                        BBT_DASH_ROLE_RECEIVER);
    }
}

/* One connection's figures into its room (the worst of several watching connections). */
static void room_add_watch(struct room *r, const bbt_dash_conn *c, int64_t *stalls)
{
    bool first = !r->watching;
    r->watching = true;
    if (r->lesson[0] && strcmp(c->watching, r->lesson) == 0)
        r->watching_it = true;
    r->session_live = first ? c->session_live : r->session_live && c->session_live;
    if (c->layer && (first || !r->layer[0]))
        snprintf(r->layer, sizeof r->layer, "%s", c->layer);
    if (c->video_height > 0 && (r->video_height == 0 || c->video_height < r->video_height))
        r->video_height = c->video_height;
    r->audio_only |= c->audio_only;
    r->layer_low |= c->layer_low;
    if (c->audio_ok == 0 || (c->audio_ok == 1 && r->audio_ok < 0))
        r->audio_ok = c->audio_ok;
    if (c->report_at_us > r->report_at)
        r->report_at = c->report_at_us;
    if (c->latency_p95_ms > r->latency)
        r->latency = c->latency_p95_ms;
    if (c->stalls >= 0)
        *stalls = (*stalls < 0 ? 0 : *stalls) + c->stalls;
}

static void room_from_conn(bbt_dash *d, const bbt_dash_conn *c, int64_t wall, int64_t *stalls)
{
    struct room *r = room_get(d, c->classroom);
    if (!r)
        return;
    r->listed = true;
    r->connections++;
    r->last_seen_wall = wall;
    if (r->role == BBT_DASH_ROLE_NONE || !r->lesson[0])
        r->role = c->role;
    if (c->publishing && r->lesson[0] && strcmp(c->publishing, r->lesson) == 0)
        r->publishing_it = true;
    if (c->watching)
        room_add_watch(r, c, &stalls[r - d->rooms]);
}

static void room_stalls(struct room *r, int64_t stalls, int64_t now)
{
    if (stalls >= 0 && r->stalls_prev >= 0 && stalls > r->stalls_prev) {
        int64_t add = stalls - r->stalls_prev;
        r->stalls_total += add;
        for (int64_t k = 0; k < add && k < STALL_RING; k++) {
            r->stall_at[r->stall_head] = now;
            r->stall_head = (r->stall_head + 1) % STALL_RING;
        }
    }
    r->stalls_prev = stalls;
    r->stalls_recent = 0;
    for (int k = 0; k < STALL_RING; k++)
        if (r->stall_at[k] && now - r->stall_at[k] < BBT_DASH_STALL_WINDOW_US)
            r->stalls_recent++;
}

static void room_judge(struct room *r, int64_t now)
{
    r->fresh = r->report_at && now - r->report_at < BBT_DASH_REPORT_STALE_US;
    r->stale = r->report_at && !r->fresh;
    bbt_dash_facts f = {.role = r->role, .lesson_soon = r->lesson_soon,
                        .lesson_on = r->lesson_on, .connections = r->connections,
                        .publishing_it = r->publishing_it, .watching_it = r->watching_it,
                        .watching = r->watching, .session_live = r->session_live,
                        .fresh_report = r->fresh, .stale_report = r->stale,
                        .latency_p95_ms = r->latency, .stalls_recent = r->stalls_recent,
                        .audio_only = r->audio_only, .layer_low = r->layer_low,
                        .audio_ok = r->audio_ok};
    r->light = bbt_dash_judge(&f, &r->reasons);
}

/* Rooms neither connected nor in today's timetable, last seen over 12 hours ago, go. */
static void rooms_prune(bbt_dash *d, int64_t wall)
{
    size_t k = 0;
    for (size_t i = 0; i < d->nrooms; i++) {
        const struct room *r = &d->rooms[i];
        if (r->listed || wall - r->last_seen_wall < 12LL * 3600 * 1000000)
            d->rooms[k++] = *r;
    }
    d->nrooms = k;
}

static int rooms_update(bbt_dash *d, const bbt_dash_input *in)
{
    rooms_reset(d);
    if (in->day)
        rooms_from_day(d, in->day);
    int64_t *stalls = malloc(BBT_DASH_MAX_ROOMS * sizeof *stalls);
    if (!stalls)
        return BBT_ENOMEM;
    for (size_t i = 0; i < BBT_DASH_MAX_ROOMS; i++)
        stalls[i] = -1;
    /* room_get may insert and shift rooms: the lessons are in first, then the connections
     * can only add rooms of their own, so index stalls by room after a settling pass */
    for (size_t i = 0; i < in->nconns; i++)
        room_get(d, in->conns[i].classroom);
    for (size_t i = 0; i < in->nconns; i++)
        room_from_conn(d, &in->conns[i], in->wall_us, stalls);
    for (size_t i = 0; i < d->nrooms; i++) {
        room_stalls(&d->rooms[i], stalls[i], in->mono_us);
        room_judge(&d->rooms[i], in->mono_us);
    }
    free(stalls);
    rooms_prune(d, in->wall_us);
    return BBT_OK;
}

/* ---- sessions ------------------------------------------------------------------------------- */

/* The entry of `id` (kept sorted by id; an insertion moves the entries after it), created when
 * asked and new; NULL otherwise, when full, or for an id that is not a session id. */
static struct sess *sess_find(bbt_dash *d, const char *id, bool create)
{
    size_t lo = 0, hi = d->nsess;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->sess[mid].id, id);
        if (c == 0)
            return &d->sess[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!create || d->nsess == BBT_DASH_MAX_SESSIONS || !is_ident(id))
        return NULL;
    memmove(&d->sess[lo + 1], &d->sess[lo], (d->nsess - lo) * sizeof *d->sess);
    d->nsess++;
    struct sess *s = &d->sess[lo];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    return s;
}

/* Egress of the registry's sessions since the last update. */
static void sess_measure(bbt_dash *d, const bbt_dash_input *in)
{
    for (size_t i = 0; i < d->nsess; i++) {
        d->sess[i].listed = d->sess[i].in_day = false;
        d->sess[i].reg = NULL;
    }
    for (size_t i = 0; i < in->nsessions; i++) {
        const bbt_dash_session *x = &in->sessions[i];
        bool known = sess_find(d, x->id, false) != NULL;
        struct sess *s = sess_find(d, x->id, true);
        if (!s)
            continue;
        s->listed = true;
        s->reg = x;
        s->publisher_up = x->publisher_up;
        int64_t dt = in->mono_us - s->at_us;
        if (!known || x->bytes_out < s->bytes) {
            s->kbps = 0;
        } else if (dt < 500000) {
            continue; /* too soon to measure: keep the last figure */
        } else {
            s->kbps = (double)(x->bytes_out - s->bytes) * 8.0 / 1000.0 / ((double)dt / 1e6);
        }
        s->bytes = x->bytes_out;
        s->at_us = in->mono_us;
    }
}

/* A failed lesson goes into the errors once per reason. */
static void sess_failed(bbt_dash *d, const char *id, const char *reason, const char *source,
                        int64_t wall)
{
    struct sess *s = sess_find(d, id, reason != NULL);
    if (!s)
        return;
    s->listed = true;
    if (!reason) {
        s->failed[0] = '\0';
        return;
    }
    if (strcmp(s->failed, reason) == 0)
        return;
    snprintf(s->failed, sizeof s->failed, "%s", reason);
    bbt_dash_error(d, wall, source, 0, reason, id);
}

/* Which sessions are today's lessons, and which have failed (logged once); then forget the
 * entries neither in the registry nor failing. */
static void sessions_scan(bbt_dash *d, const bbt_dash_input *in)
{
    const json_t *list = json_object_get(in->day, "sessions");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const char *occ = jstr(o, "session");
        bool failed = strcmp(jstr(o, "state"), "failed") == 0;
        const char *why = json_string_value(json_object_get(o, "reason"));
        sess_failed(d, occ, failed ? (why ? why : "failed") : NULL,
                    jstr(json_object_get(o, "source"), "classroom"), in->wall_us);
        struct sess *s = sess_find(d, occ, false);
        if (s)
            s->in_day = true;
    }
    for (size_t i = 0; i < in->nsessions; i++) {
        const bbt_dash_session *x = &in->sessions[i];
        const struct sess *s = sess_find(d, x->id, false);
        if (s && !s->in_day)
            sess_failed(d, x->id, strcmp(x->state, "interrupted") == 0 ? "publisher lost" : NULL,
                        x->publisher, in->wall_us);
    }
    size_t k = 0;
    for (size_t i = 0; i < d->nsess; i++)
        if (d->sess[i].listed)
            d->sess[k++] = d->sess[i];
    d->nsess = k;
}

static unsigned watching_count(bbt_dash *d, const json_t *rv, const char *occ)
{
    unsigned n = 0;
    for (size_t k = 0; k < json_array_size(rv); k++) {
        struct room key, *r;
        snprintf(key.id, sizeof key.id, "%s", jstr(json_array_get(rv, k), "classroom"));
        r = bsearch(&key, d->rooms, d->nrooms, sizeof *d->rooms, cmp_room);
        n += r && r->watching_it && strcmp(r->lesson, occ) == 0;
    }
    return n;
}

/* One of today's lessons as a row of `dash`. */
static json_t *lesson_row(bbt_dash *d, const json_t *o)
{
    const char *occ = jstr(o, "session");
    const struct sess *s = sess_find(d, occ, false);
    const bbt_dash_session *x = s ? s->reg : NULL;
    json_t *rv = json_object_get(o, "receivers"), *ids = json_array();
    for (size_t k = 0; ids && k < json_array_size(rv); k++)
        json_array_append_new(ids, json_string(jstr(json_array_get(rv, k), "classroom")));
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:I, "
                            "s:I, s:f}",
                            "session", occ, "schedule", jstr(o, "schedule"), "title",
                            jstr(o, "title"), "subject", jstr(o, "subject"), "teacher",
                            jstr(o, "teacher"), "start", jstr(o, "start"), "end", jstr(o, "end"),
                            "state", jstr(o, "state"), "source",
                            jstr(json_object_get(o, "source"), "classroom"), "receivers", ids,
                            "relay_state", jstr(o, "relay_state"), "publisher_up",
                            x && x->publisher_up, "viewers", (json_int_t)(x ? x->viewers : 0),
                            "watching", (json_int_t)watching_count(d, rv, occ), "kbps",
                            x ? s->kbps : 0.0);
    const char *why = json_string_value(json_object_get(o, "reason"));
    if (row && why)
        json_object_set_new(row, "reason", json_string(why));
    return row;
}

/* A session of the relay that is not in today's timetable (a lesson started by hand). */
static json_t *adhoc_row(const struct sess *s)
{
    const bbt_dash_session *x = s->reg;
    bool lost = strcmp(x->state, "interrupted") == 0;
    const char *state = lost                                ? "failed"
                        : strcmp(x->state, "live") == 0     ? "live"
                        : strcmp(x->state, "ended") == 0    ? "ended"
                                                            : "starting";
    json_t *row = json_pack("{s:s, s:s, s:s, s:b, s:I, s:f}", "session", x->id, "state", state,
                            "relay_state", x->state, "publisher_up", x->publisher_up, "viewers",
                            (json_int_t)x->viewers, "kbps", s->kbps);
    if (row && lost)
        json_object_set_new(row, "reason", json_string("publisher lost"));
    if (row && is_ident(x->publisher))
        json_object_set_new(row, "source", json_string(x->publisher));
    return row;
}

/* Today's lessons in timetable order, then the relay's sessions that are not among them. */
static json_t *sessions_json(bbt_dash *d, const bbt_dash_input *in)
{
    json_t *a = json_array();
    const json_t *list = json_object_get(in->day, "sessions");
    size_t n = 0;
    for (size_t i = 0; a && i < json_array_size(list) && n < BBT_DASH_MAX_SESSIONS; i++, n++)
        json_array_append_new(a, lesson_row(d, json_array_get(list, i)));
    for (size_t i = 0; a && i < d->nsess && n < BBT_DASH_MAX_SESSIONS; i++) {
        if (d->sess[i].reg && !d->sess[i].in_day) {
            json_array_append_new(a, adhoc_row(&d->sess[i]));
            n++;
        }
    }
    return a;
}

/* ---- the snapshot --------------------------------------------------------------------------- */

static json_t *room_json(const struct room *r, int64_t wall)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:I}", "classroom", r->id, "light",
                          bbt_dash_light_name(r->light), "connected", r->connections > 0,
                          "connections", (json_int_t)r->connections);
    if (!o)
        return NULL;
    json_t *why = json_array();
    for (int i = 0; why && i < BBT_DASH_REASONS; i++)
        if (r->reasons & (1u << i))
            json_array_append_new(why, json_string(bbt_dash_reason_name(1u << i)));
    json_object_set_new(o, "reasons", why);
    if (r->role != BBT_DASH_ROLE_NONE)
        json_object_set_new(o, "role", json_string(r->role == BBT_DASH_ROLE_SOURCE ? "source"
                                                                                : "receiver"));
    if (r->lesson[0])
        json_object_set_new(o, "session", json_string(r->lesson));
    if (r->watching) {
        json_object_set_new(o, "watching", json_true());
        if (r->layer[0])
            json_object_set_new(o, "layer", json_string(r->layer));
    }
    if (r->fresh && r->latency >= 0)
        json_object_set_new(o, "latency_ms", json_real(r->latency));
    if (r->watching || r->stalls_total)
        json_object_set_new(o, "stalls", json_integer(r->stalls_recent));
    if (r->stalls_total)
        json_object_set_new(o, "stalls_total", json_integer(r->stalls_total));
    if (r->fresh && r->audio_ok >= 0)
        json_object_set_new(o, "audio_ok", json_boolean(r->audio_ok));
    if (r->stale)
        json_object_set_new(o, "report_age_s", json_integer(0)); /* set by the caller */
    if (r->last_seen_wall)
        json_object_set_new(o, "last_seen_s",
                            json_integer(wall > r->last_seen_wall
                                             ? (wall - r->last_seen_wall) / 1000000 : 0));
    return o;
}

/* Worst first (red, amber, green, idle), then by id. */
static int cmp_light(const void *a, const void *b)
{
    const struct room *x = *(const struct room *const *)a, *y = *(const struct room *const *)b;
    static const int rank[] = {2, 1, 0, 3}; /* green, amber, red, idle */
    if (rank[x->light] != rank[y->light])
        return rank[x->light] - rank[y->light];
    return strcmp(x->id, y->id);
}

static json_t *rooms_json(const bbt_dash *d, const bbt_dash_input *in)
{
    const struct room **v = malloc((d->nrooms + 1) * sizeof *v);
    json_t *a = json_array();
    if (!v || !a) {
        free(v);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < d->nrooms; i++)
        v[i] = &d->rooms[i];
    qsort(v, d->nrooms, sizeof *v, cmp_light);
    for (size_t i = 0; i < d->nrooms; i++) {
        json_t *o = room_json(v[i], in->wall_us);
        if (o && v[i]->stale)
            json_object_set_new(o, "report_age_s",
                                json_integer((in->mono_us - v[i]->report_at) / 1000000));
        json_array_append_new(a, o);
    }
    free(v);
    return a;
}

int bbt_dash_update(bbt_dash *d, const bbt_dash_input *in)
{
    if (rooms_update(d, in) != BBT_OK)
        return BBT_ENOMEM;
    sess_measure(d, in);
    sessions_scan(d, in); /* before the errors are listed: failed lessons are logged */
    if (!in->snapshot)
        return BBT_OK; /* nobody watches: the lights and gauges are enough */
    json_t *relay = json_pack("{s:I, s:I, s:I, s:I}", "connections", (json_int_t)in->connections,
                              "publishers", (json_int_t)in->publishers, "viewers",
                              (json_int_t)in->viewers, "uptime_s",
                              (json_int_t)(in->uptime_s > 0 ? in->uptime_s : 0));
    json_t *sessions = sessions_json(d, in);
    json_t *snap = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "type", "dash", "time_us",
                             (json_int_t)in->wall_us, "relay", relay, "sessions", sessions,
                             "classrooms", rooms_json(d, in), "errors", errors_json(d));
    if (!snap)
        return BBT_ENOMEM;
    const char *date = json_string_value(json_object_get(in->day, "date"));
    if (date)
        json_object_set_new(snap, "date", json_string(date));
    json_decref(d->snap);
    d->snap = snap;
    return BBT_OK;
}

/* ---- metrics -------------------------------------------------------------------------------- */

static void gauge(bbt_strbuf *b, const char *name, const char *help)
{
    bbt_strbuf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void bbt_dash_render_metrics(const bbt_dash *d, bbt_strbuf *b)
{
    if (!d)
        return;
    gauge(b, "bbt_classroom_light", "Classroom light: 0 green (or idle), 1 amber, 2 red.");
    for (size_t i = 0; i < d->nrooms; i++)
        bbt_strbuf_printf(b, "bbt_classroom_light{classroom=\"%s\"} %d\n", d->rooms[i].id,
                          d->rooms[i].light == BBT_DASH_IDLE ? 0 : (int)d->rooms[i].light);
    gauge(b, "bbt_classroom_connected", "Connections of the classroom (nodes, players).");
    for (size_t i = 0; i < d->nrooms; i++)
        bbt_strbuf_printf(b, "bbt_classroom_connected{classroom=\"%s\"} %u\n", d->rooms[i].id,
                          d->rooms[i].connections);
    gauge(b, "bbt_classroom_latency_ms", "Glass-to-glass latency p95 the player reports, ms.");
    for (size_t i = 0; i < d->nrooms; i++)
        if (d->rooms[i].fresh && d->rooms[i].latency >= 0)
            bbt_strbuf_printf(b, "bbt_classroom_latency_ms{classroom=\"%s\"} %.1f\n",
                              d->rooms[i].id, d->rooms[i].latency);
    gauge(b, "bbt_classroom_stalls_recent", "Playback stalls in the last 60 s.");
    for (size_t i = 0; i < d->nrooms; i++)
        if (d->rooms[i].watching)
            bbt_strbuf_printf(b, "bbt_classroom_stalls_recent{classroom=\"%s\"} %d\n",
                              d->rooms[i].id, d->rooms[i].stalls_recent);
    gauge(b, "bbt_classroom_video_height", "Height of the camera layer played, 0 audio only.");
    for (size_t i = 0; i < d->nrooms; i++)
        if (d->rooms[i].watching && d->rooms[i].session_live)
            bbt_strbuf_printf(b, "bbt_classroom_video_height{classroom=\"%s\"} %d\n",
                              d->rooms[i].id, d->rooms[i].video_height);
    gauge(b, "bbt_session_publisher_up", "1 while a publisher sends the session, else 0.");
    for (size_t i = 0; i < d->nsess; i++)
        bbt_strbuf_printf(b, "bbt_session_publisher_up{session=\"%s\"} %d\n", d->sess[i].id,
                          d->sess[i].publisher_up ? 1 : 0);
    gauge(b, "bbt_session_egress_kbps", "Media sent to the session's viewers, kbit/s.");
    for (size_t i = 0; i < d->nsess; i++)
        bbt_strbuf_printf(b, "bbt_session_egress_kbps{session=\"%s\"} %.1f\n", d->sess[i].id,
                          d->sess[i].kbps);
}
