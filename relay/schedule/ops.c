/* relay/schedule/ops.c — the scheduler inside bbt-relay (see ops.h and sched.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"
#include "relay/schedule/ops.h"
#include "relay/schedule/sched.h"
#include "relay/schedule/store.h"

static void hook_send(void *conn, json_t *msg, void *ud)
{
    (void)ud;
    struct bbt_conn *c = conn;
    if (msg && c->state != CONN_CLOSING)
        bbt_conn_send_json(c, msg);
    else
        json_decref(msg);
}

static void hook_live(const char *session, bbt_sched_live *out, void *ud)
{
    bbt_relay *r = ud;
    bbt_session *s = bbt_registry_find(r->reg, session);
    out->state = "none";
    out->viewers = 0;
    out->publisher[0] = '\0';
    if (!s)
        return;
    out->state = bbt_session_state_name(bbt_session_state(s));
    out->viewers = bbt_session_audience(s); /* players, not audio copies */
    struct bbt_conn *p = bbt_session_publisher(s);
    if (p)
        snprintf(out->publisher, sizeof out->publisher, "%s", p->subject);
}

/* The label of a video track: "720p", "courseware"; -1 (no video): "audio". */
static void track_label(const bbt_session *s, int track, char *buf, size_t size)
{
    const bbt_track_info *t = track >= 0 ? bbt_session_track(s, (unsigned)track) : NULL;
    if (!t)
        snprintf(buf, size, "%s", track == -1 ? "audio" : "");
    else if (t->kind == BBT_TRACK_COURSEWARE)
        snprintf(buf, size, "courseware");
    else if (t->kind == BBT_TRACK_VIDEO)
        snprintf(buf, size, "%dp", t->height);
    else
        snprintf(buf, size, "audio");
}

/* What the viewer receives: nothing ("") unless the lesson is live. */
static void hook_layer(void *conn, char *buf, size_t size, void *ud)
{
    (void)ud;
    struct bbt_conn *c = conn;
    buf[0] = '\0';
    if (c->viewer.session && bbt_session_state(c->viewer.session) == BBT_SESSION_LIVE)
        track_label(c->viewer.session, c->viewer.video_track, buf, size);
}

/* The scheduler's worker thread finished a job: wake the event loop (server.c answers
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED with bbt_sched_ops_poll). Thread-safe in lws. */
static void hook_wake(void *ud)
{
    bbt_relay *r = ud;
    lws_cancel_service(r->ctx);
}

int bbt_sched_ops_start(bbt_relay *r)
{
    const bbt_relay_config *cfg = &r->cfg;
    if (!cfg->schedule.enabled)
        return BBT_OK;
    char path[4200], err[600];
    if (cfg->schedule.database && cfg->schedule.database[0]) {
        snprintf(path, sizeof path, "%s", cfg->schedule.database);
    } else {
        if (mkdir(cfg->relay.state_dir, 0750) != 0 && errno != EEXIST)
            BBT_WARN("schedule: cannot create state_dir %s: %s", cfg->relay.state_dir,
                     strerror(errno));
        snprintf(path, sizeof path, "%s/%s", cfg->relay.state_dir, BBT_STORE_FILE);
    }
    bbt_sched_opts o = {.db_path = path, .lead_ms = cfg->schedule.lead_ms,
                        .stop_delay_ms = cfg->schedule.stop_delay_ms,
                        .flush_ms = cfg->schedule.attendance_flush_ms,
                        .clock_offset_ms = cfg->schedule.clock_offset_s * 1000,
                        .time_scale = cfg->schedule.time_scale,
                        .test_clock = cfg->schedule.test_clock,
                        .timezone = cfg->schedule.timezone,
                        .max_import_bytes = (size_t)cfg->schedule.max_import_bytes};
    bbt_sched_hooks h = {hook_send, hook_live, hook_layer, r, hook_wake};
    int rc;
    r->sched = bbt_sched_new(&o, &h, &rc, err, sizeof err);
    if (!r->sched) {
        BBT_ERROR("schedule: cannot open the timetable: %s", err);
        return rc;
    }
    if (cfg->schedule.test_clock)
        BBT_WARN("schedule: test_clock = true: operators may set the timetable's clock");
    return BBT_OK;
}

void bbt_sched_ops_stop_worker(bbt_relay *r)
{
    bbt_sched_stop_worker(r->sched);
}

void bbt_sched_ops_stop(bbt_relay *r)
{
    bbt_sched_free(r->sched);
    r->sched = NULL;
}

void bbt_sched_ops_tick(bbt_relay *r)
{
    if (r->sched)
        bbt_sched_tick(r->sched);
}

void bbt_sched_ops_poll(bbt_relay *r)
{
    if (r->sched)
        bbt_sched_poll(r->sched);
}

static int sched_role(enum conn_role role)
{
    return role == ROLE_SOURCE     ? BBT_SCHED_SOURCE
           : role == ROLE_RECEIVER ? BBT_SCHED_RECEIVER
           : role == ROLE_OPERATOR ? BBT_SCHED_OPERATOR
                                   : BBT_SCHED_RELAY;
}

void bbt_sched_ops_hello(struct bbt_conn *c)
{
    if (c->relay->sched)
        bbt_sched_hello(c->relay->sched, c, sched_role(c->role), c->subject);
}

void bbt_sched_ops_closed(struct bbt_conn *c)
{
    if (c->relay->sched)
        bbt_sched_closed(c->relay->sched, c);
}

void bbt_sched_ops_subscribed(struct bbt_conn *c, const char *session)
{
    if (c->relay->sched)
        bbt_sched_subscribed(c->relay->sched, c, session);
}

void bbt_sched_ops_detached(struct bbt_conn *c)
{
    if (c->relay->sched)
        bbt_sched_unsubscribed(c->relay->sched, c);
}

void bbt_sched_ops_report(struct bbt_conn *c)
{
    if (!c->relay->sched || !c->viewer.session)
        return;
    char label[32] = "";
    if (c->report.layer != BBT_REPORT_NO_LAYER)
        track_label(c->viewer.session, c->report.layer, label, sizeof label);
    bbt_sched_report(c->relay->sched, c, label[0] ? label : NULL, c->report.stalls);
}

void bbt_sched_ops_request(struct bbt_conn *c, json_t *m)
{
    bbt_msg_type type = bbt_msg_type_from_name(json_string_value(json_object_get(m, "type")));
    json_t *reply;
    if (!c->relay->sched) {
        reply = bbt_msg_error(BBT_ENOTFOUND, "the timetable is off on this relay "
                                             "([schedule] enabled = false)",
                              bbt_msg_type_name(type));
        if (reply)
            bbt_msg_echo_id(reply, m);
    } else {
        reply = bbt_sched_request(c->relay->sched, c, type, m);
        if (!reply)
            return; /* a worker job answers later (bbt_sched_ops_poll), or out of memory */
    }
    bbt_conn_send_json(c, reply);
}
