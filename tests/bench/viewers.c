/* tests/bench/viewers.c — the synthetic viewers: hello (role receiver) → welcome, subscribe
 * (session, "layer": the pinned video track id) → tracks, then binary frames, each checked:
 *
 *   - it decodes (version, flags, track) and is on a track the viewer asked for;
 *   - per track, the first frame sets the baseline (on a video track only a KEY frame may:
 *     frames before the first keyframe are counted apart and ignored); after it every seq must
 *     be the previous + 1 — a jump forward counts the missing frames as lost, a step back is
 *     out of order;
 *   - latency = wall clock at the end of the message − capture_us, into the bench's histogram
 *     while the measured interval runs.
 *
 * The payload is never copied: only the 16 header bytes are kept from each message. Viewers
 * also send a `report` every report_ms like a player does (spread over the interval).
 * `bbt-bench rural` (rural.c) subscribes with "layer":"auto" (o.layer −1) and "fragments": true
 * (o.fragments; the fan-out viewers never ask for fragments), sees every message and `state`
 * message through the bench's hooks (its on_frame reassembles fragments and says which
 * messages complete a frame), and writes the player's reports itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "proto/status.h"

#define MAX_TEXT (256u * 1024u)
#define ERRORS_SHOWN 5

/* ---- frames ---------------------------------------------------------------------------------- */

static int is_video(const bench *b, unsigned track)
{
    const bbt_track_info *t = bbt_recording_track(&b->rec, (int)track);
    return t && t->kind != BBT_TRACK_AUDIO;
}

static void check_seq(viewer *v, unsigned t, uint32_t seq)
{
    uint32_t bit = 1u << t;
    if (!(v->started & bit)) {
        v->started |= bit;
        v->base_seq[t] = seq;
        v->next_seq[t] = seq + 1;
        v->got[t] = 1;
        return;
    }
    uint32_t gap = seq - v->next_seq[t];
    if (gap != 0 && gap < 0x80000000u) {
        v->lost += gap;
    } else if (gap != 0) {
        v->out_of_order++;
        return;
    }
    v->next_seq[t] = seq + 1;
    v->got[t]++;
}

static void finish_frame(viewer *v)
{
    bench *b = v->b;
    v->bytes += v->msg_len; /* egress: every byte that arrived, whatever it was */
    if (b->measuring)
        b->bytes_measured += v->msg_len;
    if (b->o.padding && bbt_frame_is_padding(v->hdr, v->hdr_len))
        return; /* a padding probe's filler (PROTOCOL.md §2.6): counted in bytes above only */
    bbt_frame f;
    /* Decode the header alone: a message of 16 header bytes + n payload bytes. */
    uint8_t probe[BBT_FRAME_HEADER_LEN + 1];
    memcpy(probe, v->hdr, v->hdr_len);
    probe[BBT_FRAME_HEADER_LEN] = 0;
    size_t plen = v->msg_len > BBT_FRAME_HEADER_LEN ? BBT_FRAME_HEADER_LEN + 1 : v->msg_len;
    if (v->hdr_len < BBT_FRAME_HEADER_LEN || bbt_frame_decode(probe, plen, 0, &f) != BBT_OK) {
        b->c.bad_frames++;
        return;
    }
    if (!(b->want_tracks >> f.track & 1u)) {
        b->c.unexpected++;
        return;
    }
    if (b->on_frame && !b->on_frame(b, v, &f, v->msg_len))
        return; /* a fragment (rural viewer only): the hook counts it when its frame is whole */
    if (!(v->started >> f.track & 1u) && is_video(b, f.track) && !(f.flags & BBT_FRAME_KEY)) {
        v->before_key++;
        return;
    }
    check_seq(v, f.track, f.seq);
    v->frames++;
    if (b->measuring)
        bench_hist_add(b->lat, bench_wall_us() - (int64_t)f.capture_us);
}

static void on_binary(viewer *v, const uint8_t *in, size_t len, bool first, bool final)
{
    if (first) {
        v->hdr_len = 0;
        v->msg_len = 0;
    }
    if (v->hdr_len < BBT_FRAME_HEADER_LEN) {
        size_t n = BBT_FRAME_HEADER_LEN - v->hdr_len;
        if (n > len)
            n = len;
        memcpy(v->hdr + v->hdr_len, in, n);
        v->hdr_len = (uint8_t)(v->hdr_len + n);
    }
    v->msg_len += len;
    if (final)
        finish_frame(v);
}

/* ---- control ----------------------------------------------------------------------------- */

static void on_tracks(viewer *v)
{
    if (v->state != V_SUBSCRIBING)
        return; /* a later tracks message: the session changed state */
    bench *b = v->b;
    v->state = V_SUBSCRIBED;
    if (!v->counted)
        b->c.connected++;
    v->counted = true;
    if (b->o.report_ms > 0) /* spread the reports over the interval */
        v->next_report_us = bench_mono_us() + (int64_t)(v->idx % b->o.report_ms) * 1000 +
                            (int64_t)b->o.report_ms * 1000;
}

static void on_text(viewer *v, const char *text, size_t len)
{
    bench *b = v->b;
    bbt_msg_type type;
    json_t *m = NULL;
    char err[256];
    if (bbt_control_parse(text, len, NULL, &type, &m, err, sizeof err) != BBT_OK) {
        if (b->c.errors++ < ERRORS_SHOWN)
            fprintf(stderr, "bbt-bench: viewer %d: bad message from the relay: %s\n", v->idx, err);
        return;
    }
    if (type == BBT_MSG_WELCOME && v->state == V_HELLO) {
        json_t *rtt = json_object_get(m, "rtt_us"); /* the relay's TCP measure, as the player */
        v->hello_rtt_us = json_is_integer(rtt) ? json_integer_value(rtt)
                                               : bench_mono_us() - v->hello_us;
        v->state = v->unwanted ? V_WELCOMED : V_SUBSCRIBING;
        if (!v->unwanted)
            v->pending |= SEND_SUBSCRIBE;
        lws_callback_on_writable(v->wsi);
        if (b->on_welcome)
            b->on_welcome(b, v);
    } else if (type == BBT_MSG_TRACKS) {
        on_tracks(v);
    } else if (type == BBT_MSG_STATE) {
        if (b->on_state)
            b->on_state(b, v, m);
    } else if (type == BBT_MSG_PONG) {
        if (b->on_pong)
            b->on_pong(b, v, m);
    } else if (type == BBT_MSG_ERROR && b->on_error && b->on_error(b, v, m)) {
        /* expected by the hook (an audio copy refused for want of room) */
    } else if (type == BBT_MSG_ERROR) {
        if (b->c.errors++ < ERRORS_SHOWN)
            fprintf(stderr, "bbt-bench: viewer %d: relay error: %s\n", v->idx,
                    json_string_value(json_object_get(m, "message")));
    }
    json_decref(m);
}

int viewer_rx(viewer *v, bool binary, const uint8_t *in, size_t len, bool first, bool final)
{
    if (binary) {
        on_binary(v, in, len, first, final);
        return 0;
    }
    if (first)
        v->text_len = 0;
    if (bench_text_append(&v->text, &v->text_len, in, len, MAX_TEXT) != BBT_OK)
        return -1;
    if (final) {
        on_text(v, v->text, v->text_len);
        free(v->text); /* idle viewers keep no buffer */
        v->text = NULL;
        v->text_len = 0;
    }
    return 0;
}

#define EARLY_PING_US 1000000
#define EARLY_PING_FOR_US 10000000

void viewer_established(viewer *v)
{
    v->opened_us = bench_mono_us();
    if (v->b->o.ping_ms > 0) /* like the player (relay/web/ws.js): 1 s after opening */
        v->next_ping_us = v->opened_us + EARLY_PING_US;
    v->pending |= SEND_HELLO;
    lws_callback_on_writable(v->wsi);
}

static int send_text(viewer *v, const char *text, size_t len)
{
    return v->b->o.raw_client ? wsraw_write_text(v, text, len)
                              : bench_write_text(v->wsi, text, len);
}

static int send_pending(viewer *v)
{
    bench *b = v->b;
    char buf[512];
    int n;
    if (v->pending & SEND_UPGRADE) {
        v->pending &= ~(unsigned)SEND_UPGRADE;
        return wsraw_send_upgrade(v);
    }
    if (v->pending & SEND_HELLO) {
        v->pending &= ~(unsigned)SEND_HELLO;
        if (b->o.classroom)
            snprintf(buf, sizeof buf, "%s", b->o.classroom);
        else
            snprintf(buf, sizeof buf, "bench-viewer-%d", v->idx);
        v->state = V_HELLO;
        v->hello_us = bench_mono_us();
        size_t len = 0;
        char *text = bench_json_text(BBT_MSG_HELLO, bench_hello("receiver", buf, b->o.token), &len);
        int rc = text ? send_text(v, text, len) : BBT_EINVAL;
        free(text);
        return rc;
    }
    if (v->pending & SEND_PING) {
        v->pending &= ~(unsigned)SEND_PING;
        n = snprintf(buf, sizeof buf, "{\"type\":\"ping\",\"time_us\":%lld}",
                     (long long)bench_wall_us());
    } else if (v->pending & SEND_UNSUBSCRIBE) {
        v->pending &= ~(unsigned)SEND_UNSUBSCRIBE;
        n = snprintf(buf, sizeof buf, "{\"type\":\"unsubscribe\",\"session\":\"%s\"}",
                     b->o.session);
    } else if (v->pending & SEND_SUBSCRIBE) {
        v->pending &= ~(unsigned)SEND_SUBSCRIBE;
        char layer[16] = "\"auto\"";
        if (b->o.layer >= 0)
            snprintf(layer, sizeof layer, "%d", b->o.layer);
        n = snprintf(buf, sizeof buf,
                     "{\"type\":\"subscribe\",\"id\":2,\"session\":\"%s\",\"layer\":%s,"
                     "\"audio\":true,\"video\":%s%s%s}",
                     b->o.session, layer, v->audio_copy ? "false,\"audio_copy\":true" : "true",
                     b->o.fragments ? ",\"fragments\":true" : "",
                     b->o.padding && !v->audio_copy ? ",\"padding\":true" : "");
    } else if (b->make_report) {
        v->pending &= ~(unsigned)SEND_REPORT;
        n = b->make_report(b, v, buf, sizeof buf);
        if (n <= 0 || (size_t)n >= sizeof buf)
            return BBT_OK; /* nothing to say this time */
    } else {
        v->pending &= ~(unsigned)SEND_REPORT;
        n = snprintf(buf, sizeof buf,
                     "{\"type\":\"report\",\"session\":\"%s\",\"bytes\":%llu,\"layer\":%d,"
                     "\"audio_ok\":true}",
                     b->o.session, (unsigned long long)v->bytes, b->o.layer);
    }
    return send_text(v, buf, (size_t)n);
}

static int on_writeable(viewer *v)
{
    if (!v->pending)
        return 0;
    if (send_pending(v) != BBT_OK)
        return -1;
    if (v->pending)
        lws_callback_on_writable(v->wsi);
    return 0;
}

static void on_closed(viewer *v)
{
    bench *b = v->b;
    free(v->text);
    v->text = NULL;
    wsraw_free(v);
    if (v->state == V_CLOSED)
        return;
    b->c.closed++;
    if (!b->closing) {
        if (v->state == V_SUBSCRIBED) {
            v->dropped = true;
            b->c.dropped++;
        } else {
            v->failed = true;
            b->c.failed++;
        }
    }
    v->state = V_CLOSED;
    v->wsi = NULL;
}

static void connect_error(viewer *v, const void *in)
{
    if (v->b->c.failed < ERRORS_SHOWN)
        fprintf(stderr, "bbt-bench: viewer %d cannot connect: %s\n", v->idx,
                in ? (const char *)in : "?");
    on_closed(v);
}

int viewer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    viewer *v = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        viewer_established(v);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
        if (first)
            v->msg_binary = lws_frame_is_binary(wsi);
        return viewer_rx(v, v->msg_binary, in, len, first, final);
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(v);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (v)
            connect_error(v, in);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (v)
            on_closed(v);
        return 0;
    default:
        return 0;
    }
}

int viewer_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    viewer *v = user;
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED:
        v->pending |= SEND_UPGRADE;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        return wsraw_rx(v, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        return on_writeable(v);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (v)
            connect_error(v, in);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (v)
            on_closed(v);
        return 0;
    default:
        return 0;
    }
}

int viewer_connect(bench *b, viewer *v)
{
    v->b = b;
    v->state = V_CONNECTING;
    struct lws_client_connect_info ci = {.context = b->ctx, .address = b->host, .port = b->port,
                                         .path = b->path, .host = b->host, .origin = b->host,
                                         .protocol = "bbt.v1",
                                         .method = b->o.raw_client ? "RAW" : NULL,
                                         .local_protocol_name = b->o.raw_client ? "bench-raw-viewer"
                                                                                : "bench-viewer",
                                         .userdata = v, .pwsi = &v->wsi,
                                         .ssl_connection = b->tls ? LCCSCF_USE_SSL |
                                                                        LCCSCF_ALLOW_SELFSIGNED |
                                                                        LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                                                  : 0};
    if (lws_client_connect_via_info(&ci))
        return BBT_OK;
    if (v->state != V_CLOSED) { /* no callback said so yet */
        v->state = V_CLOSED;
        v->failed = true;
        b->c.failed++;
    }
    return BBT_EIO;
}

int viewer_subscribe(bench *b, viewer *v, bool on)
{
    v->unwanted = !on;
    if (on && v->state == V_IDLE)
        return viewer_connect(b, v);
    if (on && v->state == V_WELCOMED) {
        v->state = V_SUBSCRIBING;
        v->started = 0; /* a new baseline per track: the frames in between are not "lost" */
        v->pending = (v->pending & ~(unsigned)SEND_UNSUBSCRIBE) | SEND_SUBSCRIBE;
    } else if (!on && (v->state == V_SUBSCRIBING || v->state == V_SUBSCRIBED)) {
        v->state = V_WELCOMED;
        v->pending = (v->pending & ~(unsigned)(SEND_SUBSCRIBE | SEND_REPORT)) | SEND_UNSUBSCRIBE;
    } else {
        return BBT_OK; /* connecting (the welcome decides) or closed */
    }
    lws_callback_on_writable(v->wsi);
    return BBT_OK;
}

/* A ping due on an open, welcomed connection: every second for the first 10 s after opening,
 * then every ping_ms (the player's schedule, relay/web/ws.js). */
static void tick_ping(bench *b, viewer *v, int64_t now)
{
    if (!v->next_ping_us || now < v->next_ping_us ||
        (v->state != V_SUBSCRIBED && v->state != V_SUBSCRIBING && v->state != V_WELCOMED))
        return;
    bool early = now - v->opened_us < EARLY_PING_FOR_US;
    v->next_ping_us = now + (early ? EARLY_PING_US : (int64_t)b->o.ping_ms * 1000);
    v->pending |= SEND_PING;
    lws_callback_on_writable(v->wsi);
}

void viewers_tick(bench *b, int64_t now)
{
    for (int i = 0; i < b->o.viewers && b->o.ping_ms > 0; i++)
        tick_ping(b, &b->v[i], now);
    if (b->o.report_ms <= 0)
        return;
    for (int i = 0; i < b->o.viewers; i++) {
        viewer *v = &b->v[i];
        if (v->state != V_SUBSCRIBED || now < v->next_report_us)
            continue;
        v->next_report_us += (int64_t)b->o.report_ms * 1000;
        if (v->next_report_us < now)
            v->next_report_us = now + (int64_t)b->o.report_ms * 1000;
        v->pending |= SEND_REPORT;
        lws_callback_on_writable(v->wsi);
    }
}

bool viewers_caught_up(const bench *b)
{
    const publisher *p = &b->pub;
    for (int i = 0; i < b->o.viewers; i++) {
        const viewer *v = &b->v[i];
        if (v->state != V_SUBSCRIBED)
            continue;
        for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
            if ((v->started >> t & 1u) && v->next_seq[t] != p->seq[t])
                return false;
    }
    return true;
}
