/* node/play.c — the play role: subscription, frames to the pipeline, reports, the screen
 * (see play.h). */
#include "node/play.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "node/link.h"
#include "node/pipeline_internal.h"
#include "node/play_internal.h"
#include "proto/frame.h"
#include "proto/log.h"
#include "proto/reasm.h"
#include "proto/status.h"

#define UI_TICK_MS 250
#define NO_PICTURE_US 2000000 /* no picture this long: the message screen */

enum view { V_CONNECTING, V_WAITING, V_LIVE, V_INTERRUPTED, V_ENDED, V_RECONNECTING };

struct bbt_player {
    const bbt_node_config *cfg;
    char *session;
    bbt_play_pipe *pp;
    bbt_link *link;
    guint ui_timer, bus_watch;
    atomic_int view; /* enum view: written by the link thread, read by the main loop */
    /* link thread only */
    bbt_reasm *reasm; /* large frames come in fragments (docs/PROTOCOL.md §2.5) */
    bbt_track_info tracks[BBT_MAX_TRACKS];
    size_t ntracks;
    bool have_camera;
};

/* ---- link hooks (link thread) ----------------------------------------------------------------- */

static void on_welcomed(bbt_link *l, const json_t *w, void *ud)
{
    bbt_player *p = ud;
    json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:b, s:b}", "type", "subscribe", "id", 2,
                          "session", p->session, "layer", "auto", "fragments", 1, "padding", 1);
    bbt_link_send_json(l, m);
}

static void set_state(bbt_player *p, const char *state)
{
    enum view v = V_WAITING;
    if (strcmp(state, "live") == 0)
        v = V_LIVE;
    else if (strcmp(state, "interrupted") == 0)
        v = V_INTERRUPTED;
    else if (strcmp(state, "ended") == 0)
        v = V_ENDED;
    if (atomic_exchange(&p->view, (int)v) != (int)v)
        BBT_INFO("play: session %s is %s", p->session, state);
    if (v != V_LIVE)
        bbt_play_pipe_reset_video(p->pp);
}

static void on_tracks(bbt_player *p, bbt_link *l, const json_t *m)
{
    char err[256];
    if (bbt_tracks_from_json(json_object_get(m, "tracks"), p->tracks, BBT_MAX_TRACKS,
                             &p->ntracks, err, sizeof err) != BBT_OK) {
        BBT_WARN("play: bad track list from the relay: %s", err);
        p->ntracks = 0;
    }
    p->have_camera = false;
    for (size_t i = 0; i < p->ntracks; i++)
        p->have_camera |= p->tracks[i].kind == BBT_TRACK_VIDEO;
    bbt_link_reset_backoff(l);
    bbt_play_pipe_reset_video(p->pp);
    set_state(p, json_string_value(json_object_get(m, "state")));
}

static void on_message(bbt_link *l, bbt_msg_type type, const json_t *m, void *ud)
{
    bbt_player *p = ud;
    if (type == BBT_MSG_TRACKS)
        on_tracks(p, l, m);
    else if (type == BBT_MSG_STATE)
        set_state(p, json_string_value(json_object_get(m, "state")));
    else if (type == BBT_MSG_BYE)
        BBT_INFO("play: the relay said bye (%s)", json_string_value(json_object_get(m, "reason")));
}

static const bbt_track_info *find_track(const bbt_player *p, int id)
{
    for (size_t i = 0; i < p->ntracks; i++)
        if (p->tracks[i].id == id)
            return &p->tracks[i];
    return NULL;
}

/* One message in; true with a whole frame in *f (a fragment completing one, or a message that is
 * a frame by itself). A discarded assembly is logged here, once. */
static bool whole_frame(bbt_player *p, const bbt_frame *in, bbt_frame *f)
{
    bbt_reasm_drop d;
    int rc = bbt_reasm_push(p->reasm, in, f, &d);
    if (d.why != BBT_REASM_NONE)
        BBT_WARN("play: fragmented frame discarded (%s): track %u seq %u, then seq %u, %zu bytes",
                 bbt_reasm_why_name(d.why), d.track, d.seq, d.by_seq, d.bytes);
    return rc == 1;
}

static void on_binary(bbt_link *l, const uint8_t *data, size_t len, void *ud)
{
    bbt_player *p = ud;
    bbt_frame in, f;
    if (bbt_frame_is_padding(data, len)) { /* a padding probe (PROTOCOL.md §2.6): bytes only */
        bbt_play_pipe_add_bytes(p->pp, len);
        return;
    }
    if (bbt_frame_decode(data, len, 0, &in) != BBT_OK)
        return;
    bbt_play_pipe_add_bytes(p->pp, len);
    if (!whole_frame(p, &in, &f))
        return;
    const bbt_track_info *t = find_track(p, f.track);
    if (!t || (f.flags & BBT_FRAME_END) || f.len == 0)
        return;
    int64_t cap = (int64_t)f.capture_us;
    if (t->kind == BBT_TRACK_AUDIO)
        bbt_play_pipe_push_audio(p->pp, t->channels, cap, f.payload, f.len);
    else if (t->kind == BBT_TRACK_VIDEO || !p->have_camera) /* courseware when no camera */
        bbt_play_pipe_push_video(p->pp, f.track, f.flags, cap, f.payload, f.len);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void on_tick(bbt_link *l, void *ud)
{
    bbt_player *p = ud;
    if (!bbt_link_ready(l))
        return;
    bool live = atomic_load(&p->view) == V_LIVE;
    struct play_stats s;
    bbt_play_pipe_stats(p->pp, live, true, &s);
    int64_t buffered = s.last_in_capture_us - s.last_decoded_capture_us;
    json_t *m = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "type", "report",
                          "session", p->session, "bytes", (json_int_t)s.bytes,
                          "frames_decoded", (json_int_t)s.frames_decoded,
                          "frames_dropped", (json_int_t)s.frames_dropped,
                          "buffer_ms", (json_int_t)(buffered > 0 && buffered < 600000000 ? buffered / 1000 : 0),
                          "stalls", (json_int_t)s.stalls, "stall_ms", (json_int_t)s.stall_ms,
                          "layer", (json_int_t)s.layer,
                          "audio_ok", s.last_audio_us && bbt_play_mono_us() - s.last_audio_us < 1000000);
    if (m && s.nlat) {
        qsort(s.lat_ms, s.nlat, sizeof s.lat_ms[0], cmp_double);
        double p50 = s.lat_ms[s.nlat / 2], p95 = s.lat_ms[(s.nlat * 95) / 100];
        double mx = s.lat_ms[s.nlat - 1];
        json_object_set_new(m, "latency_ms", json_pack("{s:f, s:f, s:f}", "p50", p50 < 0 ? 0 : p50,
                                                       "p95", p95 < 0 ? 0 : p95, "max", mx < 0 ? 0 : mx));
    }
    bbt_link_send_json(l, m);
}

static void on_closed(bbt_link *l, void *ud)
{
    bbt_player *p = ud;
    atomic_store(&p->view, V_RECONNECTING);
    bbt_reasm_reset(p->reasm);
    bbt_play_pipe_reset_video(p->pp);
}

static void on_stopping(bbt_link *l, void *ud)
{
    bbt_link_send_json(l, json_pack("{s:s, s:s}", "type", "bye", "reason", "player stopped"));
    bbt_link_finish(l);
}

/* ---- main loop ---------------------------------------------------------------------------------- */

static const char *message_for(enum view v)
{
    switch (v) {
    case V_CONNECTING:
        return "正在连接… / Connecting…";
    case V_INTERRUPTED:
        return "信号中断，请稍候… / The lesson was interrupted, please wait…";
    case V_ENDED:
        return "本节课已结束 / The lesson has ended";
    case V_RECONNECTING:
        return "网络中断，正在重新连接… / Reconnecting…";
    case V_LIVE:
        return "正在缓冲… / Buffering…";
    default:
        return "等待上课… / Waiting for the lesson";
    }
}

static gboolean on_ui_tick(gpointer ud)
{
    bbt_player *p = ud;
    enum view v = (enum view)atomic_load(&p->view);
    struct play_stats s;
    bbt_play_pipe_stats(p->pp, v == V_LIVE, false, &s);
    bool pictures = s.last_decoded_us && bbt_play_mono_us() - s.last_decoded_us < NO_PICTURE_US;
    const char *text = v == V_LIVE && pictures ? NULL : message_for(v);
    if (bbt_play_pipe_show(p->pp, text))
        BBT_INFO("play: screen: %s", text ? text : "the lesson");
    return G_SOURCE_CONTINUE;
}

static gboolean on_bus(GstBus *bus, GstMessage *m, gpointer ud)
{
    (void)bus;
    (void)ud;
    bbt_log_bus_problem("play:", m);
    return G_SOURCE_CONTINUE;
}

bbt_player *bbt_play_new(const bbt_node_config *cfg, const bbt_play_opts *o, int *err)
{
    bbt_player *p = g_new0(bbt_player, 1);
    p->cfg = cfg;
    p->session = g_strdup(o->session);
    atomic_init(&p->view, V_CONNECTING);
    p->reasm = bbt_reasm_new(0, true);
    if (!p->reasm) {
        *err = BBT_ENOMEM;
        bbt_play_free(p);
        return NULL;
    }
    *err = BBT_EIO;
    p->pp = bbt_play_pipe_new(cfg, cfg->play.sink == BBT_NODE_SINK_FAKE);
    if (!p->pp) {
        bbt_play_free(p);
        return NULL;
    }
    GstBus *bus = gst_element_get_bus(bbt_play_pipe_element(p->pp));
    p->bus_watch = gst_bus_add_watch(bus, on_bus, p);
    gst_object_unref(bus);
    bbt_link_opts lo = {.url = cfg->node.relay, .ca_file = cfg->node.ca_file, .token = o->token,
                        .role = "receiver", .classroom = cfg->node.classroom,
                        .reconnect_min_ms = cfg->uplink.reconnect_min_ms,
                        .reconnect_max_ms = cfg->uplink.reconnect_max_ms};
    bbt_link_hooks h = {.welcomed = on_welcomed, .message = on_message, .binary = on_binary,
                        .tick = on_tick, .closed = on_closed, .stopping = on_stopping};
    p->link = bbt_link_start(&lo, &h, p, err);
    if (!p->link) {
        bbt_play_free(p);
        return NULL;
    }
    p->ui_timer = g_timeout_add(UI_TICK_MS, on_ui_tick, p);
    BBT_INFO("play: watching session %s from %s (%s output)", p->session, cfg->node.relay,
             cfg->play.sink == BBT_NODE_SINK_FAKE ? "fake" : "screen and speakers");
    return p;
}

void bbt_play_free(bbt_player *p)
{
    if (!p)
        return;
    if (p->ui_timer)
        g_source_remove(p->ui_timer);
    bbt_link_stop(p->link, 1000); /* no more frames pushed after this */
    if (p->pp) {
        struct play_stats s;
        bbt_play_pipe_stats(p->pp, false, false, &s);
        BBT_INFO("play: frames_decoded=%llu frames_dropped=%llu frames_received=%llu "
                 "bytes=%llu stalls=%llu stall_ms=%llu", (unsigned long long)s.frames_decoded,
                 (unsigned long long)s.frames_dropped, (unsigned long long)s.frames_in,
                 (unsigned long long)s.bytes, (unsigned long long)s.stalls,
                 (unsigned long long)s.stall_ms);
    }
    if (p->bus_watch)
        g_source_remove(p->bus_watch);
    bbt_play_pipe_free(p->pp);
    bbt_reasm_free(p->reasm); /* after the link thread stopped */
    g_free(p->session);
    g_free(p);
}
