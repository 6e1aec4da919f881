/* relay/dash_relay.c — the dashboard inside bbt-relay (see dash_relay.h and dash.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/dash.h"
#include "relay/dash_relay.h"
#include "relay/relay_internal.h"
#include "relay/schedule/sched.h"

#define UPDATE_US 1000000
#define DEFAULT_INTERVAL_MS 1000
#define MAX_PENDING 4 /* a subscriber with more unsent messages than this skips a snapshot */
#define LABEL_MAX 16

/* The relay's dash, made at first use (the dashboard is optional: without memory for it, the
 * relay serves on and says so). */
static bbt_dash *dash_of(bbt_relay *r)
{
    if (!r->dash) {
        r->dash = bbt_dash_new();
        if (!r->dash)
            BBT_WARN("dashboard: out of memory");
    }
    return r->dash;
}

void bbt_dash_relay_stop(bbt_relay *r)
{
    bbt_dash_free(r->dash);
    r->dash = NULL;
}

void bbt_dash_relay_error(bbt_relay *r, const char *subject, int status, const char *why,
                          const char *session)
{
    if (r && dash_of(r))
        bbt_dash_error(r->dash, bbt_wall_us(), subject, status, why, session);
}

void bbt_dash_relay_conn_error(struct bbt_conn *c, int status, const char *why)
{
    const bbt_session *s = c->pub_session ? c->pub_session : c->viewer.session;
    bbt_dash_relay_error(c->relay, c->state == CONN_AWAIT_HELLO ? c->peer : c->subject, status,
                         why, s ? bbt_session_id(s) : NULL);
}

/* Is track `id` the lowest of two or more camera layers? */
static bool lowest_camera(const bbt_session *s, const bbt_track_info *t)
{
    size_t n, cams = 0;
    const bbt_track_info *all = bbt_session_tracks(s, &n);
    bool lowest = true;
    for (size_t i = 0; i < n; i++) {
        if (all[i].kind != BBT_TRACK_VIDEO)
            continue;
        cams++;
        if (all[i].layer < t->layer)
            lowest = false;
    }
    return cams > 1 && lowest;
}

static bool has_courseware(const bbt_session *s)
{
    size_t n;
    const bbt_track_info *all = bbt_session_tracks(s, &n);
    for (size_t i = 0; i < n; i++)
        if (all[i].kind == BBT_TRACK_COURSEWARE)
            return true;
    return false;
}

/* What the viewer plays: its report's layer when it reports one, else what the relay sends. */
static void view_layer(const struct bbt_conn *c, bbt_dash_conn *o, char *label)
{
    const bbt_session *s = c->viewer.session;
    int track = c->report.count && c->report.layer != BBT_REPORT_NO_LAYER ? c->report.layer
                                                                           : c->viewer.video_track;
    const bbt_track_info *t = track >= 0 ? bbt_session_track(s, (unsigned)track) : NULL;
    if (t && t->kind == BBT_TRACK_VIDEO) {
        snprintf(label, LABEL_MAX, "%dp", t->height);
        o->video_height = t->height;
        o->layer_low = lowest_camera(s, t);
    } else if ((t && t->kind == BBT_TRACK_COURSEWARE) ||
               (!t && c->viewer.courseware && has_courseware(s))) {
        snprintf(label, LABEL_MAX, "courseware");
        o->layer_low = true;
    } else {
        snprintf(label, LABEL_MAX, "audio");
        o->audio_only = true;
    }
    o->layer = label;
}

static bool conn_view(const struct bbt_conn *c, bbt_dash_conn *o, char *label)
{
    if (c->state != CONN_READY || !(c->role & (ROLE_SOURCE | ROLE_RECEIVER)))
        return false;
    if (c->viewer.session && c->viewer.audio_copy) /* its classroom is listed by its main one */
        return false;
    *o = (bbt_dash_conn){.classroom = c->subject,
                         .role = c->role == ROLE_SOURCE ? BBT_DASH_ROLE_SOURCE
                                                        : BBT_DASH_ROLE_RECEIVER,
                         .publishing = c->pub_session ? bbt_session_id(c->pub_session) : NULL,
                         .report_at_us = c->report.count ? c->report.at_us : 0,
                         .latency_p95_ms = c->report.count ? c->report.latency_p95_ms : -1,
                         .stalls = c->report.count ? c->report.stalls : -1,
                         .audio_ok = c->report.count ? c->report.audio_ok : -1};
    const bbt_session *s = c->viewer.session;
    if (s) {
        o->watching = bbt_session_id(s);
        o->session_live = bbt_session_state(s) == BBT_SESSION_LIVE;
        if (o->session_live)
            view_layer(c, o, label);
    }
    return true;
}

static bbt_dash_session *sessions_view(const bbt_relay *r, size_t *n)
{
    size_t count = bbt_registry_count(r->reg);
    bbt_dash_session *v = calloc(count + 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const bbt_session *s = bbt_registry_at(r->reg, i);
        const struct bbt_conn *p = bbt_session_publisher(s);
        enum bbt_session_state st = bbt_session_state(s);
        v[i] = (bbt_dash_session){.id = bbt_session_id(s), .state = bbt_session_state_name(st),
                                  .viewers = bbt_session_audience(s),
                                  .bytes_out = bbt_session_bytes_out(s),
                                  .publisher_up = p && st == BBT_SESSION_LIVE,
                                  .publisher = p ? p->subject : NULL};
    }
    *n = count;
    return v;
}

/* Hand the dash what the relay sees now; the `dash` message too when someone will read it. */
static void update(bbt_relay *r, int64_t now, bool snapshot)
{
    bbt_dash_conn *conns = calloc(r->nconns + 1, sizeof *conns);
    char (*labels)[LABEL_MAX] = calloc(r->nconns + 1, LABEL_MAX);
    size_t nsessions = 0, n = 0, audience = 0;
    bbt_dash_session *sessions = sessions_view(r, &nsessions);
    for (size_t i = 0; sessions && i < nsessions; i++)
        audience += sessions[i].viewers; /* players watching, not their audio copies */
    json_t *day = r->sched ? bbt_sched_day(r->sched) : NULL;
    if (conns && labels && sessions) {
        for (const struct bbt_conn *c = r->conns; c && n < r->nconns; c = c->next)
            n += conn_view(c, &conns[n], labels[n]);
        bbt_dash_input in = {.mono_us = now, .wall_us = bbt_wall_us(), .conns = conns,
                             .nconns = n, .sessions = sessions, .nsessions = nsessions,
                             .day = day, .connections = r->nconns,
                             .publishers = r->npublishers, .viewers = audience,
                             .uptime_s = (now - r->started_us) / 1000000,
                             .snapshot = snapshot};
        if (bbt_dash_update(r->dash, &in) != BBT_OK)
            BBT_WARN("dashboard: out of memory, snapshot not updated");
    }
    json_decref(day);
    free(sessions);
    free(labels);
    free(conns);
}

static void send_snapshot(struct bbt_conn *c, const json_t *req)
{
    const json_t *snap = bbt_dash_snapshot(c->relay->dash);
    if (!snap)
        return;
    json_t *m = req ? json_copy((json_t *)snap) : json_incref((json_t *)snap);
    if (m && req)
        bbt_msg_echo_id(m, req);
    bbt_conn_send_json(c, m);
}

void bbt_dash_relay_tick(bbt_relay *r, int64_t now)
{
    if (now < r->dash_next_us || !dash_of(r))
        return;
    r->dash_next_us = now + UPDATE_US;
    bool due = false;
    for (const struct bbt_conn *c = r->conns; c && !due; c = c->next)
        due = c->dash_interval_ms && c->state == CONN_READY && now >= c->dash_next_us;
    update(r, now, due);
    for (struct bbt_conn *c = r->conns; c && due; c = c->next) {
        if (!c->dash_interval_ms || c->state != CONN_READY || now < c->dash_next_us)
            continue;
        if (c->ctl_count > MAX_PENDING)
            continue; /* it does not read: no pile of snapshots */
        c->dash_next_us = now + (int64_t)c->dash_interval_ms * 1000 - UPDATE_US / 2;
        send_snapshot(c, NULL);
    }
}

void bbt_dash_relay_subscribe(struct bbt_conn *c, json_t *m)
{
    json_t *interval = json_object_get(m, "interval_ms");
    if (json_is_false(json_object_get(m, "enabled"))) {
        c->dash_interval_ms = 0;
        return;
    }
    c->dash_interval_ms = interval ? (int)json_integer_value(interval) : DEFAULT_INTERVAL_MS;
    int64_t now = bbt_mono_us();
    c->dash_next_us = now + (int64_t)c->dash_interval_ms * 1000 - UPDATE_US / 2;
    if (dash_of(c->relay))
        update(c->relay, now, true); /* the answer, at once, and current */
    send_snapshot(c, m);
    BBT_INFO("dashboard subscribed subject=%s peer=%s interval_ms=%d", c->subject, c->peer,
             c->dash_interval_ms);
}

void bbt_dash_relay_metrics(bbt_relay *r, bbt_strbuf *b)
{
    bbt_dash_render_metrics(r->dash, b);
}
