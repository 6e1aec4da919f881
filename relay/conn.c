/* relay/conn.c — the bbt.v1 WebSocket protocol: one connection's life, from handshake to close.
 *
 * Incoming text is reassembled, parsed and validated by proto/control before the handler table
 * below sees it; incoming binary (publishers only) is reassembled straight into a frame_ref that
 * then is shared by every viewer. Outgoing (relay/conn_write.c): control messages first, then
 * media, a viewer's queued frames batched into one write at most every [queue] flush_interval.
 * A connection that must go is marked (close_code) and closed at its next
 * WRITEABLE after its pending control messages, so it always receives the error that explains
 * why; one that cannot be written to at all is killed by the housekeeping timer.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/log.h"
#include "proto/status.h"
#include "relay/dash_relay.h"
#include "relay/relay_internal.h"
#include "relay/schedule/ops.h"
#include "relay/sockinfo.h"

#define CTL_MAX_PENDING 256     /* control messages queued for one connection */
#define BAD_MESSAGES_MAX 16     /* malformed control messages tolerated before closing */
#define CLOSING_GRACE_US 3000000
#define COPY_CHECK_US 1000000   /* an audio copy looks for room on its link once a second */

/* ---- sending ---------------------------------------------------------------------------- */

static int queue_text(struct bbt_conn *c, const char *text, size_t len)
{
    if (c->ctl_count >= CTL_MAX_PENDING) {
        if (!c->close_code) { /* a client that does not read its control messages */
            c->relay->metrics.refused[BBT_REFUSE_CONTROL_BACKLOG]++;
            c->close_code = 4000 - BBT_EFULL;
            snprintf(c->close_reason, sizeof c->close_reason, "control queue full");
        }
        return BBT_EFULL;
    }
    struct ctl_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return BBT_ENOMEM;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->ctl_tail)
        c->ctl_tail->next = m;
    else
        c->ctl_head = m;
    c->ctl_tail = m;
    c->ctl_count++;
    bbt_conn_want_write(c); /* conn_write.c: the stall clock runs until it drains */
    return BBT_OK;
}

int bbt_conn_send_json(struct bbt_conn *c, json_t *msg)
{
    if (!msg)
        return BBT_ENOMEM;
    size_t len;
    char *text = bbt_control_dump(msg, &len);
    json_decref(msg);
    if (!text)
        return BBT_ENOMEM;
    int rc = queue_text(c, text, len);
    free(text);
    return rc;
}

void bbt_conn_fail(struct bbt_conn *c, int status, int code, const char *why)
{
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        json_t *e = bbt_msg_error(status, why, NULL);
        if (e)
            json_object_set_new(e, "fatal", json_true());
        bbt_conn_send_json(c, e);
        bbt_dash_relay_conn_error(c, status, why); /* the dashboard's recent errors */
    }
    c->state = CONN_CLOSING;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", why ? why : "");
    BBT_INFO("closing connection peer=%s subject=%s code=%d reason=\"%s\"", c->peer,
             c->subject[0] ? c->subject : "-", code, c->close_reason);
    bbt_conn_want_write(c); /* conn_write.c: the stall clock runs until it drains */
}

/* An `error` answering req (NULL: none), or about a request of type ref. */
static void send_error(struct bbt_conn *c, int status, const char *text, bbt_msg_type ref,
                       const json_t *req)
{
    json_t *e = bbt_msg_error(status, text, ref < BBT_MSG__COUNT ? bbt_msg_type_name(ref) : NULL);
    if (e && req)
        bbt_msg_echo_id(e, req);
    bbt_conn_send_json(c, e);
}

/* send_error, and listed in the dashboard's recent errors. */
static void reply_error(struct bbt_conn *c, int status, const char *text, bbt_msg_type ref,
                        const json_t *req)
{
    send_error(c, status, text, ref, req);
    bbt_dash_relay_conn_error(c, status, text);
}

/* The same control message to every viewer of a session: serialised once. */
static void broadcast_json(bbt_session *s, json_t *msg)
{
    size_t len;
    char *text = msg ? bbt_control_dump(msg, &len) : NULL;
    json_decref(msg);
    if (!text)
        return;
    for (size_t i = 0; i < bbt_session_viewer_count(s); i++)
        queue_text(bbt_session_viewer_at(s, i)->conn, text, len);
    free(text);
}

static json_t *tracks_msg(const bbt_session *s, const char *type)
{
    size_t n;
    const bbt_track_info *t = bbt_session_tracks(s, &n);
    if (bbt_session_state(s) != BBT_SESSION_LIVE)
        n = 0;
    json_t *m = json_pack("{s:s, s:s, s:s, s:o?}", "type", type, "session", bbt_session_id(s),
                          "state", bbt_session_state_name(bbt_session_state(s)), "tracks",
                          bbt_tracks_to_json(t, n));
    if (m && strcmp(type, "published") == 0)
        json_object_del(m, "state");
    return m;
}

/* ---- handlers: one per message type a client may send ------------------------------------ */

static void on_hello(struct bbt_conn *c, json_t *m)
{
    if (bbt_conn_authenticate(c, m) != BBT_OK) /* conn_auth.c: the token names who and what */
        return;
    const char *role = bbt_conn_role_name(c->role);
    c->state = CONN_READY;
    bbt_welcome w = {.server = "bbt-relay/" BBT_VERSION, .time_us = bbt_wall_us(),
                     .subject = c->subject, .role = role, .heartbeat_ms = 10000,
                     .max_frame_bytes = (size_t)c->relay->cfg.limits.max_frame_bytes,
                     .max_message_bytes = (size_t)c->relay->cfg.limits.max_message_bytes};
    bbt_sock_path path; /* the network's round trip, without the client's own delays: a
                         * player decides from it whether its link is far (its audio copy) */
    if (bbt_sock_path_read(lws_get_socket_fd(c->wsi), &path) == BBT_OK && path.min_rtt_us > 0)
        w.rtt_us = path.min_rtt_us;
    json_t *reply = bbt_msg_welcome(&w);
    if (reply)
        bbt_msg_echo_id(reply, m);
    bbt_conn_send_json(c, reply);
    BBT_INFO("hello peer=%s subject=%s role=%s", c->peer, c->subject, role);
    bbt_sched_ops_hello(c); /* timetable: plan (and start) after welcome */
}

static void detach_viewer(struct bbt_conn *c)
{
    if (!c->viewer.session)
        return;
    bbt_sched_ops_detached(c); /* timetable: attendance */
    bbt_metrics_add_queue(&c->relay->metrics, bbt_queue_get_stats(c->viewer.q));
    c->relay->ncopies -= c->viewer.audio_copy;
    bbt_session_remove_viewer(&c->viewer);
    bbt_queue_free(c->viewer.q);
    c->viewer.q = NULL;
    bbt_frame_ref_release(c->frag); /* a frame half sent in fragments: the viewer drops it */
    c->frag = NULL;
    c->relay->nviewers--;
}

static void detach_publisher(struct bbt_conn *c)
{
    bbt_session *s = c->pub_session;
    if (!s)
        return;
    c->pub_session = NULL;
    c->relay->npublishers--;
    bbt_session_unpublish(s, c, c->said_bye);
    if (!c->relay->stopping)
        broadcast_json(s, c->said_bye ? bbt_msg_state(bbt_session_id(s), "ended", "lesson ended",
                                                      BBT_LAYER_OMIT)
                                      : bbt_msg_state(bbt_session_id(s), "interrupted",
                                                      "publisher left", BBT_LAYER_OMIT));
    BBT_INFO("publisher left session=%s subject=%s", bbt_session_id(s), c->subject);
}

static void on_publish(struct bbt_conn *c, json_t *m)
{
    bbt_relay *r = c->relay;
    const char *id = json_string_value(json_object_get(m, "session"));
    if (!bbt_conn_authorize(c, BBT_MSG_PUBLISH, m)) /* conn_authz.c: whose lesson, and when */
        return;
    bbt_track_info tracks[BBT_MAX_TRACKS];
    size_t n;
    char err[256];
    int rc = bbt_tracks_from_json(json_object_get(m, "tracks"), tracks, BBT_MAX_TRACKS, &n, err,
                                  sizeof err);
    if (rc != BBT_OK) {
        reply_error(c, rc, err, BBT_MSG_PUBLISH, m);
        return;
    }
    if (c->pub_session && strcmp(bbt_session_id(c->pub_session), id) != 0)
        detach_publisher(c); /* one session per publishing connection */
    bbt_session *s = bbt_registry_open(r->reg, id, &rc);
    if (!s) {
        if (rc == BBT_ELIMIT)
            r->metrics.refused[BBT_REFUSE_MAX_SESSIONS]++;
        reply_error(c, rc, rc == BBT_ELIMIT ? "too many sessions on this relay" : NULL,
                    BBT_MSG_PUBLISH, m);
        return;
    }
    void *replaced = NULL;
    rc = bbt_session_publish(s, c, tracks, n, bbt_mono_us(), &replaced);
    if (rc == BBT_EEXIST) {
        r->metrics.refused[BBT_REFUSE_PUBLISHER_BUSY]++;
        bbt_conn_fail(c, rc, 4000 - rc, "session already has a live publisher");
        return;
    }
    if (rc != BBT_OK) {
        reply_error(c, rc, NULL, BBT_MSG_PUBLISH, m);
        return;
    }
    if (replaced) {
        struct bbt_conn *old = replaced;
        old->pub_session = NULL;
        r->npublishers--;
        bbt_conn_fail(old, BBT_EEXIST, 4000 - BBT_EEXIST, "replaced by a new publisher");
    }
    if (!c->pub_session)
        r->npublishers++;
    c->pub_session = s;
    c->pub_rx_us = bbt_mono_us();
    c->pub_silent = false;
    json_t *ack = tracks_msg(s, "published");
    if (ack)
        bbt_msg_echo_id(ack, m);
    bbt_conn_send_json(c, ack);
    broadcast_json(s, tracks_msg(s, "tracks"));
    int64_t now = bbt_mono_us();
    for (size_t i = 0; i < bbt_session_viewer_count(s); i++)
        bbt_conn_adapt_reset(bbt_session_viewer_at(s, i)->conn, now);
    BBT_INFO("publish session=%s subject=%s tracks=%zu", id, c->subject, n);
}

/* An audio copy (PROTOCOL.md §3.5) needs room for the audio once more on its classroom's link
 * (the n-th copy: n + 1 times): refused at its subscribe (req: the error answers it), or ended
 * later (req NULL) once the main connection's measures say there is none. false: refused or
 * ended. */
static bool copy_room(struct bbt_conn *c, bbt_session *s, int64_t now, const json_t *req)
{
    double bps;
    if (bbt_conn_copy_room(c, s, now, !req, &bps))
        return true;
    c->relay->metrics.copies_refused++;
    BBT_INFO("audio copy %s session=%s subject=%s link_kbps=%.0f: no room for the audio once more",
             req ? "refused" : "ended", bbt_session_id(s), c->subject, bps / 1000);
    if (!req)
        detach_viewer(c);
    /* not reply_error: no entry in the dashboard's recent errors — the relay protecting a slow
     * line is no fault (counted in bbt_audio_copies_refused_total, logged above) */
    send_error(c, BBT_EFULL, "no room on this link for another copy of the audio",
               BBT_MSG_SUBSCRIBE, req);
    return false;
}

static void on_subscribe(struct bbt_conn *c, json_t *m)
{
    bbt_relay *r = c->relay;
    const char *id = json_string_value(json_object_get(m, "session"));
    if (!bbt_conn_authorize(c, BBT_MSG_SUBSCRIBE, m)) /* conn_authz.c: members only */
        return;
    detach_viewer(c);
    if (r->nviewers >= (size_t)r->cfg.limits.max_viewers) {
        r->metrics.refused[BBT_REFUSE_MAX_VIEWERS]++;
        bbt_conn_fail(c, BBT_ELIMIT, 4000 - BBT_ELIMIT, "relay has its maximum of viewers");
        return;
    }
    int rc;
    bbt_session *s = bbt_registry_open(r->reg, id, &rc);
    if (!s) {
        if (rc == BBT_ELIMIT)
            r->metrics.refused[BBT_REFUSE_MAX_SESSIONS]++;
        reply_error(c, rc, NULL, BBT_MSG_SUBSCRIBE, m);
        return;
    }
    bool copy = json_is_true(json_object_get(m, "audio_copy")); /* audio only, whatever else */
    int64_t now = bbt_mono_us();
    if (copy && !copy_room(c, s, now, m))
        return;
    bbt_queue_limits lim = {.max_frames = 1024,
                            .max_bytes = (size_t)r->cfg.queue.max_bytes,
                            .max_delay_us = r->cfg.queue.max_delay_ms * 1000};
    bbt_queue *q = bbt_queue_new(&lim);
    if (!q) {
        reply_error(c, BBT_ENOMEM, NULL, BBT_MSG_SUBSCRIBE, m);
        return;
    }
    json_t *layer = json_object_get(m, "layer");
    json_t *audio = json_object_get(m, "audio"), *video = json_object_get(m, "video");
    c->viewer = (bbt_viewer){.conn = c, .q = q,
                             .pin_track = json_is_integer(layer) ? (int)json_integer_value(layer) : -1,
                             .want_audio = copy || !json_is_false(audio),
                             .want_video = !copy && !json_is_false(video),
                             .camera_pref = -2, .start_bps = r->cfg.adapt.start_bitrate,
                             .courseware = !copy, .audio_copy = copy,
                             .copy_tail_us = copy ? bbt_conn_copy_tail(c, s, now) : 0};
    c->fragments = json_is_true(json_object_get(m, "fragments"));
    c->padding = json_is_true(json_object_get(m, "padding"));
    c->pad_credit = c->pad_due = c->pad_sent = 0;
    c->pad_at_us = 0;
    json_t *reply = tracks_msg(s, "tracks");
    if (reply)
        bbt_msg_echo_id(reply, m);
    bbt_conn_send_json(c, reply); /* before any media: control goes first */
    if (bbt_session_add_viewer(s, &c->viewer, now) != BBT_OK) {
        bbt_queue_free(q);
        c->viewer.q = NULL;
        reply_error(c, BBT_ENOMEM, NULL, BBT_MSG_SUBSCRIBE, m);
        return;
    }
    r->nviewers++;
    r->ncopies += copy;
    c->subscribed_us = now;
    bbt_estimate_init(&c->est);
    c->capacity_wire_bps = 0;
    c->capacity_copies = 0;
    c->link_best = (bbt_link_best){0};
    bbt_conn_adapt_reset(c, now);
    bbt_conn_tune_socket(c);
    BBT_INFO("subscribe session=%s subject=%s peer=%s%s", id, c->subject, c->peer,
             copy ? " audio_copy=1" : "");
    if (!copy) /* the classroom attends through its main connection */
        bbt_sched_ops_subscribed(c, id); /* timetable: attendance */
}

static void on_unsubscribe(struct bbt_conn *c, json_t *m)
{
    (void)m;
    detach_viewer(c);
}

/* A member of a validated report (the table guarantees types and ranges), -1 when absent. */
static int64_t report_int(const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static double report_num(const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* Reports feed adaptation and per-classroom quality: kept as the latest figures. */
static void on_report(struct bbt_conn *c, json_t *m)
{
    struct conn_report *r = &c->report;
    int64_t bytes_before = r->count ? r->bytes : -1;
    const json_t *lat = json_object_get(m, "latency_ms");
    const json_t *layer = json_object_get(m, "layer"), *audio = json_object_get(m, "audio_ok");
    *r = (struct conn_report){
        .at_us = bbt_mono_us(), .count = r->count + 1,
        .bytes = report_int(m, "bytes"), .frames_decoded = report_int(m, "frames_decoded"),
        .frames_dropped = report_int(m, "frames_dropped"), .buffer_ms = report_int(m, "buffer_ms"),
        .stalls = report_int(m, "stalls"), .stall_ms = report_int(m, "stall_ms"),
        .audio_underruns = report_int(m, "audio_underruns"),
        .latency_p50_ms = report_num(lat, "p50"), .latency_p95_ms = report_num(lat, "p95"),
        .latency_max_ms = report_num(lat, "max"),
        .layer = json_is_integer(layer) ? (int)json_integer_value(layer) : BBT_REPORT_NO_LAYER,
        .audio_ok = json_is_boolean(audio) ? json_is_true(audio) : -1};
    if (c->viewer.session) /* adaptation: what the viewer sees of its link */
        bbt_estimate_report(&c->est, r->at_us, r->latency_p50_ms, r->bytes);
    /* A report that counts more bytes received proves both directions carry traffic: it is as
     * good as a PONG for lws's connection-validity timer ([relay] ping 10 s, hang up 30 s). On a
     * saturated rural link the relay's PING and its PONG can take long enough that lws hung
     * up a viewer that was receiving and reporting all along (bbt-bench rural, cliff without
     * adaptation: closed 30 s into the 400 kbit/s phase, silently). At most every
     * VALIDITY_CONFIRM_US: lws keeps its timers in one sorted list, so each confirmation walks
     * every connection's (5 % of the relay's CPU at 2,000 viewers reporting every second). */
    if (bytes_before >= 0 && r->bytes > bytes_before &&
        r->at_us - c->validity_at_us >= VALIDITY_CONFIRM_US) {
        lws_validity_confirmed(c->wsi);
        c->validity_at_us = r->at_us;
    }
    bbt_sched_ops_report(c); /* timetable: attendance quality */
}

static void on_keyframe(struct bbt_conn *c, json_t *m)
{
    int track = (int)json_integer_value(json_object_get(m, "track"));
    if (c->viewer.session)
        bbt_session_request_keyframe(c->viewer.session, (unsigned)track, bbt_mono_us());
}

static void on_bye(struct bbt_conn *c, json_t *m)
{
    (void)m;
    c->said_bye = true;
    bbt_conn_fail(c, BBT_OK, 1000, "bye");
}

static void on_ping(struct bbt_conn *c, json_t *m)
{
    json_t *pong = json_pack("{s:s}", "type", "pong");
    json_t *t = json_object_get(m, "time_us");
    if (pong && t)
        json_object_set(pong, "time_us", t);
    bbt_sock_path path; /* a viewer's player decides on its audio copy from this */
    if (pong && c->viewer.session && bbt_sock_path_read(lws_get_socket_fd(c->wsi), &path) == BBT_OK)
        json_object_set_new(pong, "retrans", json_integer((json_int_t)path.retrans));
    if (pong)
        bbt_msg_echo_id(pong, m);
    bbt_conn_send_json(c, pong);
}

/* A raised hand from a receiving classroom goes to the session's publisher (the teacher). */
static void on_hand(struct bbt_conn *c, json_t *m)
{
    const char *id = json_string_value(json_object_get(m, "session"));
    bbt_session *s = bbt_registry_find(c->relay->reg, id);
    if (!s || c->viewer.session != s) {
        reply_error(c, BBT_ENOTFOUND, "not watching that session", BBT_MSG_HAND, m);
        return;
    }
    struct bbt_conn *pub = bbt_session_publisher(s);
    if (!pub)
        return;
    json_t *fwd = json_deep_copy(m);
    if (fwd)
        json_object_set_new(fwd, "classroom", json_string(c->subject));
    bbt_conn_send_json(pub, fwd);
}

/* Janus-style dispatch: which role may send what, in which state. Messages the relay only
 * sends (welcome, tracks, state, ...) are absent: a client sending one gets BBT_EMSG_TYPE. */
static const struct handler {
    bbt_msg_type type;
    unsigned roles;         /* bit mask of enum conn_role; 0 = before hello */
    void (*fn)(struct bbt_conn *c, json_t *m);
} handlers[] = {
    {BBT_MSG_HELLO, 0, on_hello},
    {BBT_MSG_PUBLISH, ROLE_SOURCE | ROLE_RELAY, on_publish},
    {BBT_MSG_SUBSCRIBE, ROLE_SOURCE | ROLE_RECEIVER | ROLE_OPERATOR | ROLE_RELAY, on_subscribe},
    {BBT_MSG_UNSUBSCRIBE, ROLE_SOURCE | ROLE_RECEIVER | ROLE_OPERATOR | ROLE_RELAY, on_unsubscribe},
    {BBT_MSG_REPORT, ROLE_SOURCE | ROLE_RECEIVER | ROLE_OPERATOR | ROLE_RELAY, on_report},
    {BBT_MSG_KEYFRAME, ROLE_SOURCE | ROLE_RECEIVER | ROLE_OPERATOR | ROLE_RELAY, on_keyframe},
    {BBT_MSG_HAND, ROLE_RECEIVER, on_hand},
    {BBT_MSG_BYE, ~0u, on_bye},
    {BBT_MSG_PING, ~0u, on_ping},
    {BBT_MSG_PONG, ~0u, NULL},
    BBT_SCHED_HANDLER_ROWS, /* timetable: operator messages (relay/schedule/ops.h) */
    BBT_TOKEN_HANDLER_ROWS, /* credentials: operator messages (relay/conn_tokens.c) */
    BBT_DASH_HANDLER_ROW,   /* dashboard: dash_subscribe (relay/dash_relay.h) */
};

static void dispatch(struct bbt_conn *c, bbt_msg_type type, json_t *m)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        const struct handler *h = &handlers[i];
        if (h->type != type)
            continue;
        int before_hello = h->roles == 0, any = h->roles == ~0u;
        if (before_hello != (c->state == CONN_AWAIT_HELLO) && !any) {
            if (c->state == CONN_AWAIT_HELLO)
                bbt_conn_fail(c, BBT_EDENIED, 4000 - BBT_EDENIED, "say hello first");
            else
                reply_error(c, BBT_EINVAL, "hello was already accepted", type, m);
            return;
        }
        if (!before_hello && !any && !(h->roles & (unsigned)c->role)) {
            c->relay->metrics.refused[BBT_REFUSE_DENIED]++;
            BBT_WARN("denied subject=%s message=%s", c->subject, bbt_msg_type_name(type));
            reply_error(c, BBT_EDENIED, "your role may not send this message", type, m);
            return;
        }
        if (h->fn)
            h->fn(c, m);
        return;
    }
    reply_error(c, BBT_EMSG_TYPE, "this message is not accepted from a client", type, m);
}

/* ---- receiving ---------------------------------------------------------------------------- */

static void bad_message(struct bbt_conn *c, int status, const char *text, bbt_msg_type type)
{
    if (++c->bad_messages > BAD_MESSAGES_MAX) {
        c->relay->metrics.refused[BBT_REFUSE_BAD_MESSAGE]++;
        bbt_conn_fail(c, status, 4000 - status, "too many malformed control messages");
        return;
    }
    BBT_DEBUG("bad message peer=%s subject=%s: %s", c->peer, c->subject, text);
    reply_error(c, status, text, type, NULL);
}

static void handle_text(struct bbt_conn *c, const char *text, size_t len)
{
    bbt_control_limits lim = {.max_bytes = (size_t)c->relay->cfg.limits.max_message_bytes,
                              .max_depth = (int)c->relay->cfg.limits.max_json_depth};
    bbt_msg_type type;
    json_t *m = NULL;
    char err[256];
    c->relay->metrics.control_in++;
    int rc = bbt_control_parse(text, len, &lim, &type, &m, err, sizeof err);
    if (rc != BBT_OK) {
        bad_message(c, rc, err, type);
        return;
    }
    dispatch(c, type, m);
    json_decref(m);
}

static int rx_text(struct bbt_conn *c, const void *in, size_t len, int first, int final)
{
    size_t max = (size_t)c->relay->cfg.limits.max_message_bytes;
    if (first) {
        c->rx_text_len = 0;
        c->rx_overflow = false;
    }
    if (!c->rx_overflow && c->rx_text_len + len > max)
        c->rx_overflow = true; /* discard up to the end of this message, then say so */
    if (!c->rx_overflow && len) {
        char *t = realloc(c->rx_text, c->rx_text_len + len);
        if (!t) {
            bbt_conn_fail(c, BBT_ENOMEM, 4000 - BBT_ENOMEM, "out of memory");
            return 0;
        }
        c->rx_text = t;
        memcpy(c->rx_text + c->rx_text_len, in, len);
        c->rx_text_len += len;
    }
    if (!final)
        return 0;
    if (c->rx_overflow)
        bad_message(c, BBT_EMSG_TOO_BIG, "control message larger than max_message_bytes",
                    BBT_MSG__COUNT);
    else
        handle_text(c, c->rx_text, c->rx_text_len);
    free(c->rx_text); /* idle connections keep no receive buffer */
    c->rx_text = NULL;
    c->rx_text_len = 0;
    return 0;
}

static void frame_error(struct bbt_conn *c, int rc)
{
    c->relay->metrics.frames_invalid++;
    c->relay->metrics.refused[BBT_REFUSE_BAD_FRAME]++;
    bbt_conn_fail(c, rc, 4000 - rc, bbt_strerror(rc));
}

/* A publisher whose link is cut sends nothing while its TCP connection stays open (no FIN, no
 * RST): after [publisher] idle_timeout without a frame its viewers are told the lesson is
 * interrupted, and told it is live again at its next frame (tests/fault/test_netcut.c). */
static void publisher_silence(struct bbt_conn *c, int64_t now)
{
    bbt_session *s = c->pub_session;
    if (!s || c->pub_silent || c->state != CONN_READY || bbt_session_state(s) != BBT_SESSION_LIVE ||
        now - c->pub_rx_us <= c->relay->cfg.publisher.idle_timeout_ms * 1000)
        return;
    c->pub_silent = true;
    BBT_WARN("publisher silent session=%s subject=%s for %lld ms", bbt_session_id(s), c->subject,
             (long long)((now - c->pub_rx_us) / 1000));
    broadcast_json(s, bbt_msg_state(bbt_session_id(s), "interrupted", "publisher silent",
                                     BBT_LAYER_OMIT));
}

static void publisher_back(struct bbt_conn *c, int64_t now)
{
    c->pub_rx_us = now;
    if (!c->pub_silent || bbt_session_state(c->pub_session) != BBT_SESSION_LIVE)
        return;
    c->pub_silent = false;
    BBT_INFO("publisher back session=%s subject=%s", bbt_session_id(c->pub_session), c->subject);
    broadcast_json(c->pub_session, bbt_msg_state(bbt_session_id(c->pub_session), "live",
                                                  "publisher back", BBT_LAYER_OMIT));
}

static void finish_frame(struct bbt_conn *c)
{
    bbt_frame_ref *ref = c->rx_frame;
    c->rx_frame = NULL;
    bbt_frame f;
    int rc = bbt_frame_decode(ref->data, ref->len, (size_t)c->relay->cfg.limits.max_frame_bytes, &f);
    if (rc == BBT_OK && (f.flags & BBT_FRAME_PART))
        rc = BBT_EFRAME_FLAGS; /* fragments exist on the relay → viewer hop only (§2.5) */
    if (rc == BBT_OK) {
        ref->track = f.track;
        ref->flags = f.flags;
        ref->seq = f.seq;
        ref->capture_us = f.capture_us;
        /* capture → read: the uplink, and the time the frame waited in the publisher's socket
         * for the event loop (under bbt-bench, only that) */
        int64_t age = bbt_wall_us() - (int64_t)f.capture_us;
        bbt_histogram_observe(&c->relay->metrics.ingest_age, age > 0 ? (double)age / 1000.0 : 0);
        rc = bbt_session_ingest(c->pub_session, ref, bbt_mono_us());
    }
    if (rc == BBT_OK)
        publisher_back(c, bbt_mono_us());
    if (rc != BBT_OK)
        frame_error(c, rc);
    else if ((ref->flags & BBT_FRAME_END) && bbt_session_state(c->pub_session) == BBT_SESSION_ENDED)
        broadcast_json(c->pub_session, bbt_msg_state(bbt_session_id(c->pub_session), "ended",
                                                      "lesson ended", BBT_LAYER_OMIT));
    bbt_frame_ref_release(ref);
}

static int rx_binary(struct bbt_conn *c, const void *in, size_t len, int first, int final)
{
    if (c->state == CONN_CLOSING)
        return 0;
    if (!c->pub_session) {
        c->relay->metrics.refused[BBT_REFUSE_PROTOCOL]++;
        bbt_conn_fail(c, BBT_EDENIED, 4000 - BBT_EDENIED, "media from a connection that is not publishing");
        return 0;
    }
    size_t max = (size_t)c->relay->cfg.limits.max_frame_bytes + BBT_FRAME_HEADER_LEN;
    if (first || !c->rx_frame) {
        bbt_frame_ref_release(c->rx_frame);
        size_t hint = len + lws_remaining_packet_payload(c->wsi);
        c->rx_frame = bbt_frame_ref_new(hint < max ? hint : max);
        if (!c->rx_frame) {
            bbt_conn_fail(c, BBT_ENOMEM, 4000 - BBT_ENOMEM, "out of memory");
            return 0;
        }
    }
    int rc = bbt_frame_ref_append(&c->rx_frame, in, len, max);
    if (rc != BBT_OK) {
        bbt_frame_ref_release(c->rx_frame);
        c->rx_frame = NULL;
        if (rc == BBT_ELIMIT)
            frame_error(c, BBT_EFRAME_TOO_BIG);
        else
            bbt_conn_fail(c, rc, 4000 - rc, "out of memory");
        return 0;
    }
    if (final)
        finish_frame(c);
    return 0;
}

/* ---- life cycle --------------------------------------------------------------------------- */

/* The handshake: right path, and the per-address limit. Non-zero refuses the connection. */
static int filter(struct lws *wsi, bbt_relay *r)
{
    char uri[64] = "", addr[64] = "";
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0) {
        r->metrics.refused[BBT_REFUSE_PROTOCOL]++;
        return -1;
    }
    lws_get_peer_simple(wsi, addr, sizeof addr);
    if (bbt_conn_auth_refused(r, addr)) /* conn_auth.c: too many auth failures: back-off */
        return -1;
    if (bbt_peers_count(&r->peers, addr) >= (unsigned)r->cfg.limits.max_connections_per_ip) {
        r->metrics.refused[BBT_REFUSE_PER_IP]++;
        BBT_WARN("refused peer=%s reason=per_ip_limit limit=%lld", addr,
                 (long long)r->cfg.limits.max_connections_per_ip);
        bbt_dash_relay_error(r, addr, BBT_ELIMIT, "too many connections from this address", NULL);
        return -1;
    }
    return 0;
}

static int established(struct bbt_conn *c, struct lws *wsi, bbt_relay *r)
{
    c->wsi = wsi;
    c->relay = r;
    c->state = CONN_AWAIT_HELLO;
    c->connected_us = bbt_mono_us();
    c->viewer.video_track = -1;
    lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
    if (bbt_peers_add(&r->peers, c->peer) != BBT_OK)
        return -1;
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    r->nconns++;
    c->id = ++r->next_conn_id;
    r->metrics.connections_total++;
    if (r->stopping)
        bbt_conn_shutdown(c);
    return 0;
}

static void closed(struct bbt_conn *c)
{
    bbt_relay *r = c->relay;
    if (!r)
        return; /* never established */
    bbt_conn_write_closed(c); /* out of the pacing wheel */
    bbt_conn_housekeeping_closed(c); /* out of the housekeeping round */
    detach_viewer(c);
    detach_publisher(c);
    bbt_sched_ops_closed(c); /* timetable */
    while (c->ctl_head) {
        struct ctl_msg *m = c->ctl_head;
        c->ctl_head = m->next;
        free(m);
    }
    bbt_frame_ref_release(c->rx_frame);
    free(c->rx_text);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    r->nconns--;
    bbt_peers_remove(&r->peers, c->peer);
    c->relay = NULL;
}

void bbt_conn_tick(struct bbt_conn *c, int64_t now)
{
    bbt_relay *r = c->relay;
    bbt_conn_adapt_tick(c, now);
    if (c->viewer.session && c->viewer.audio_copy && now >= c->copy_check_us) {
        c->copy_check_us = now + COPY_CHECK_US;
        copy_room(c, c->viewer.session, now, NULL);
    }
    if (c->state == CONN_AWAIT_HELLO && now - c->connected_us > r->cfg.limits.auth_timeout_ms * 1000) {
        r->metrics.refused[BBT_REFUSE_AUTH_TIMEOUT]++;
        bbt_conn_fail(c, BBT_ETIMEOUT, 4000 - BBT_ETIMEOUT, "no hello in time");
        return;
    }
    bbt_conn_auth_tick(c); /* conn_auth.c: a token that expired while connected */
    publisher_silence(c, now);
    /* What lws holds of an earlier write drains through lws, not through our writes: while the
     * peer acknowledges new bytes it is reading, however slow the link (a 720p keyframe is ten
     * seconds of a 48 kbit/s link), and the stall clock starts again. */
    uint64_t acked;
    if (c->stall_since_us && c->state != CONN_CLOSING && lws_partial_buffered(c->wsi) &&
        bbt_sock_bytes_acked(lws_get_socket_fd(c->wsi), &acked) == BBT_OK) {
        if (acked > c->acked)
            c->stall_since_us = now;
        c->acked = acked;
    }
    /* Nothing drained for stall_timeout (or a closing connection for the grace time): the
     * peer does not read. Its queue stays bounded meanwhile; now it goes. */
    int64_t limit = c->state == CONN_CLOSING ? CLOSING_GRACE_US : r->cfg.queue.stall_timeout_ms * 1000;
    if (c->stall_since_us && now - c->stall_since_us > limit) {
        if (c->state != CONN_CLOSING)
            r->metrics.refused[BBT_REFUSE_STALLED]++;
        BBT_WARN("killing connection peer=%s subject=%s reason=%s", c->peer, c->subject,
                 c->state == CONN_CLOSING ? "close not drained" : "stalled");
        if (c->state != CONN_CLOSING)
            bbt_dash_relay_conn_error(c, BBT_ETIMEOUT, "stalled: the viewer read nothing");
        c->stall_since_us = 0;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

void bbt_conn_shutdown(struct bbt_conn *c)
{
    bbt_conn_fail(c, BBT_OK, 1001, "relay shutting down");
}

int bbt_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    struct bbt_conn *c = user;
    bbt_relay *r = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter(wsi, r);
    case LWS_CALLBACK_ESTABLISHED:
        return established(c, wsi, r);
    case LWS_CALLBACK_RECEIVE:
        if (lws_frame_is_binary(wsi))
            return rx_binary(c, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi));
        return rx_text(c, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi));
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return bbt_conn_on_writable(c); /* conn_write.c */
    case LWS_CALLBACK_CLOSED:
        closed(c);
        return 0;
    default:
        return 0;
    }
}
