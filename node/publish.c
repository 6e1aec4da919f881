/* node/publish.c — the publishing role on the main loop (see publish.h). */
#include "node/publish.h"

#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

#include "node/pipeline.h"
#include "node/pipeline_internal.h"
#include "node/uplink.h"
#include "proto/log.h"
#include "proto/status.h"

#define KEY_TICK_MS 100
#define STATS_MS 5000
#define RETRY_SOURCES_MS 30000
#define REBUILD_DELAY_MS 2000

struct bbt_publisher {
    const bbt_node_config *cfg;
    bbt_publisher_opts o;
    GMainContext *ctx;
    bbt_uplink *up;
    bbt_pipeline *pipe;
    guint bus_watch, key_timer, stats_timer, retry_timer, rebuild_timer;
    uint64_t last_bytes[32];
    gint64 last_stats_us;
};

struct key_req {
    bbt_publisher *p;
    int track;
};

static gboolean do_force_key(gpointer data)
{
    struct key_req *r = data;
    if (r->p->pipe)
        bbt_pipeline_force_key(r->p->pipe, r->track);
    return G_SOURCE_REMOVE;
}

/* Uplink thread, no lock held: hand the request to the main loop. */
static void on_key_request(int track, void *ud)
{
    bbt_publisher *p = ud;
    struct key_req *r = g_new(struct key_req, 1);
    r->p = p;
    r->track = track;
    g_main_context_invoke_full(p->ctx, G_PRIORITY_HIGH, do_force_key, r, g_free);
}

static void publish_tracks(bbt_publisher *p)
{
    bbt_track_info t[BBT_MAX_TRACKS];
    bool ready;
    size_t n = bbt_pipeline_tracks(p->pipe, t, BBT_MAX_TRACKS, &ready);
    if (ready)
        bbt_uplink_set_tracks(p->up, t, n);
}

static void start_pipeline(bbt_publisher *p);

static gboolean do_rebuild(gpointer ud)
{
    bbt_publisher *p = ud;
    p->rebuild_timer = 0;
    BBT_INFO("rebuilding the capture pipeline");
    start_pipeline(p);
    return G_SOURCE_REMOVE;
}

static void schedule_rebuild(bbt_publisher *p)
{
    if (!p->rebuild_timer)
        p->rebuild_timer = g_timeout_add(REBUILD_DELAY_MS, do_rebuild, p);
}

static gboolean on_bus(GstBus *bus, GstMessage *m, gpointer ud)
{
    bbt_publisher *p = ud;
    switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_ERROR:
        bbt_log_bus_problem("pipeline", m);
        schedule_rebuild(p); /* a device that failed is probed again and left out if gone */
        break;
    case GST_MESSAGE_WARNING:
        bbt_log_bus_problem("pipeline", m);
        break;
    case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name(m, BBT_TRACKS_READY_MSG))
            publish_tracks(p);
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

static void stop_pipeline(bbt_publisher *p)
{
    if (p->bus_watch)
        g_source_remove(p->bus_watch);
    p->bus_watch = 0;
    bbt_pipeline_free(p->pipe); /* stops it first */
    p->pipe = NULL;
}

static void start_pipeline(bbt_publisher *p)
{
    stop_pipeline(p);
    int err;
    bbt_pipeline_opts po = {.x264_preset = p->o.x264_preset, .test_pattern = p->o.test_pattern,
                            .screen_test = p->o.test_screen};
    p->pipe = bbt_pipeline_new(p->cfg, &po, bbt_uplink_queue(p->up), &err);
    if (!p->pipe) {
        BBT_ERROR("cannot build the capture pipeline: %s; retrying", bbt_strerror(err));
        schedule_rebuild(p);
        return;
    }
    GstBus *bus = gst_element_get_bus(bbt_pipeline_element(p->pipe));
    p->bus_watch = gst_bus_add_watch(bus, on_bus, p);
    gst_object_unref(bus);
    if (bbt_pipeline_start(p->pipe) != BBT_OK)
        BBT_ERROR("the capture pipeline did not start (see the pipeline error above)");
    bbt_track_info t[1];
    if (bbt_pipeline_tracks(p->pipe, t, 1, NULL) == 0)
        bbt_uplink_set_tracks(p->up, t, 0); /* nothing to capture: say so */
}

static gboolean on_key_tick(gpointer ud)
{
    bbt_publisher *p = ud;
    if (p->pipe)
        bbt_pipeline_tick_keys(p->pipe);
    return G_SOURCE_CONTINUE;
}

static gboolean on_retry_sources(gpointer ud)
{
    bbt_publisher *p = ud;
    unsigned missing = p->pipe ? bbt_pipeline_missing(p->pipe) : 0;
    if (missing && bbt_sources_available(p->cfg, missing)) {
        BBT_INFO("a missing source is back: rebuilding the pipeline to use it");
        schedule_rebuild(p);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_stats(gpointer ud)
{
    bbt_publisher *p = ud;
    uint64_t bytes[32], frames[32];
    bbt_uplink_counters(p->up, bytes, frames);
    gint64 now = g_get_monotonic_time();
    double secs = (double)(now - p->last_stats_us) / 1e6;
    char buf[512];
    size_t off = 0;
    for (int t = 0; t < 32 && off < sizeof buf; t++)
        if (bytes[t] > p->last_bytes[t])
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d=%.0fk", t,
                                    (double)(bytes[t] - p->last_bytes[t]) * 8 / secs / 1000);
    memcpy(p->last_bytes, bytes, sizeof p->last_bytes);
    p->last_stats_us = now;
    BBT_INFO("stats: sent kbit/s by track:%s", off ? buf : " none");
    return G_SOURCE_CONTINUE;
}

bbt_publisher *bbt_publisher_new(const bbt_node_config *cfg, const bbt_publisher_opts *o, int *err)
{
    bbt_publisher *p = g_new0(bbt_publisher, 1);
    p->cfg = cfg;
    p->o = *o;
    p->ctx = g_main_context_ref_thread_default();
    bbt_uplink_opts uo = {
        .link = {.url = cfg->node.relay, .ca_file = cfg->node.ca_file, .token = o->token,
                 .classroom = cfg->node.classroom, .reconnect_min_ms = cfg->uplink.reconnect_min_ms,
                 .reconnect_max_ms = cfg->uplink.reconnect_max_ms},
        .session = cfg->node.session, .queue_max_delay_ms = cfg->uplink.queue_max_delay_ms};
    p->up = bbt_uplink_start(&uo, on_key_request, p, err);
    if (!p->up) {
        g_main_context_unref(p->ctx);
        g_free(p);
        return NULL;
    }
    start_pipeline(p);
    p->key_timer = g_timeout_add(KEY_TICK_MS, on_key_tick, p);
    p->retry_timer = g_timeout_add(RETRY_SOURCES_MS, on_retry_sources, p);
    p->last_stats_us = g_get_monotonic_time();
    if (o->stats)
        p->stats_timer = g_timeout_add(STATS_MS, on_stats, p);
    *err = BBT_OK;
    return p;
}

static void log_summary(const bbt_uplink_summary *s)
{
    BBT_INFO("stats: sent %llu frames, %llu bytes; connected %u time(s)",
             (unsigned long long)s->frames_sent, (unsigned long long)s->bytes_sent, s->connects);
    BBT_INFO("stats: video capture-to-send latency over %llu frames: p50=%.1f ms p95=%.1f ms "
             "p99=%.1f ms max=%.1f ms", (unsigned long long)s->video_frames, s->video_p50_ms,
             s->video_p95_ms, s->video_p99_ms, s->video_max_ms);
    BBT_INFO("stats: audio capture-to-send latency over %llu frames: p50=%.1f ms p95=%.1f ms "
             "max=%.1f ms", (unsigned long long)s->audio_frames, s->audio_p50_ms, s->audio_p95_ms,
             s->audio_max_ms);
    BBT_INFO("stats: dropped frames: %llu while disconnected, %llu by the queue bound, %llu "
             "waiting for a keyframe", (unsigned long long)s->dropped_disconnected,
             (unsigned long long)s->dropped_queue, (unsigned long long)s->dropped_nokey);
}

void bbt_publisher_free(bbt_publisher *p)
{
    if (!p)
        return;
    guint timers[] = {p->key_timer, p->stats_timer, p->retry_timer, p->rebuild_timer};
    for (size_t i = 0; i < 4; i++)
        if (timers[i])
            g_source_remove(timers[i]);
    stop_pipeline(p); /* no frame is pushed after this */
    bbt_uplink_summary s;
    bbt_uplink_stop(p->up, 2000, &s);
    if (p->o.stats)
        log_summary(&s);
    g_main_context_unref(p->ctx);
    g_free(p);
}
