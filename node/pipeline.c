/* node/pipeline.c — capture, simulcast encode, hand-off to the uplink queue (see pipeline.h). */
#include "node/pipeline.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "node/h264.h"
#include "node/pipeline_internal.h"
#include "node/sources.h"
#include "proto/log.h"
#include "proto/status.h"

#define KEY_LEAD (300 * GST_MSECOND) /* force-key-unit events go out this long before */

int64_t bbt_capture_us(const GstSegment *seg, GstClockTime pts, GstClockTime base_time)
{
    if (!seg || !GST_CLOCK_TIME_IS_VALID(pts) || !GST_CLOCK_TIME_IS_VALID(base_time))
        return -1;
    guint64 rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID(rt))
        return -1;
    return (int64_t)((rt + base_time) / 1000);
}

/* ---- frames out of the appsinks (streaming threads) ---------------------------------------- */

static void note_codec(struct enc_branch *b, const bbt_h264_au *au)
{
    char codec[12];
    if (!au->sps_nal || bbt_h264_codec_string(au->sps_nal, au->sps_len, codec) != BBT_OK)
        return;
    bbt_pipeline *p = b->p;
    bool post = false;
    g_mutex_lock(&p->mu);
    bbt_track_info *t = &p->tracks[b->slot];
    if (strcmp(t->codec, codec) != 0) {
        snprintf(t->codec, sizeof t->codec, "%s", codec);
        p->codecs_known |= 1u << t->id;
        post = p->codecs_known == p->video_mask;
    }
    g_mutex_unlock(&p->mu);
    b->codec_known = true;
    if (post) /* every H.264 track has its codec string: the uplink may publish */
        gst_element_post_message(p->pipe, gst_message_new_application(
            GST_OBJECT(p->pipe), gst_structure_new_empty(BBT_TRACKS_READY_MSG)));
}

static GstFlowReturn on_sample(GstAppSink *sink, gpointer ud)
{
    struct enc_branch *b = ud;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_OK;
    GstBuffer *buf = gst_sample_get_buffer(s);
    GstMapInfo map;
    if (!buf || gst_buffer_get_size(buf) == 0 || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
        gst_sample_unref(s);
        return GST_FLOW_OK;
    }
    int64_t cap = bbt_capture_us(gst_sample_get_segment(s), GST_BUFFER_PTS(buf),
                                 gst_element_get_base_time(GST_ELEMENT(sink)));
    bbt_node_frame *f = bbt_node_frame_new(map.size);
    if (f) {
        memcpy(bbt_node_frame_payload(f), map.data, map.size);
        f->track = (uint8_t)b->track;
        f->audio = !b->h264;
        f->capture_us = cap > 0 ? cap : g_get_real_time();
        if (b->h264) {
            bbt_h264_au au;
            if (bbt_h264_parse_au(map.data, map.size, &au) == BBT_OK) {
                f->flags = (uint8_t)bbt_h264_frame_flags(&au);
                if (au.sps && !b->codec_known)
                    note_codec(b, &au);
            }
        }
    }
    gst_buffer_unmap(buf, &map);
    gst_sample_unref(s);
    if (f)
        bbt_txq_push(b->p->q, f);
    return GST_FLOW_OK;
}

static GstElement *make_appsink(struct enc_branch *b)
{
    GstElement *e = bbt_make("appsink", NULL);
    if (!e)
        return NULL;
    /* never block the pipeline: no clock sync, a few buffers at most, drop the old ones */
    g_object_set(e, "sync", FALSE, "max-buffers", 8, "drop", TRUE, "enable-last-sample", FALSE,
                 NULL);
    GstAppSinkCallbacks cbs = {.new_sample = on_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(e), &cbs, b, NULL);
    return e;
}

/* ---- building ------------------------------------------------------------------------------- */

static struct enc_branch *new_branch(bbt_pipeline *p, const bbt_track_info *t, bool h264)
{
    struct enc_branch *b = &p->br[p->ntracks];
    b->p = p;
    b->track = t->id;
    b->slot = (int)p->ntracks;
    b->h264 = h264;
    p->tracks[p->ntracks++] = *t;
    if (h264)
        p->video_mask |= 1u << t->id;
    return b;
}

/* encoder ─ caps ─ h264parse ─ appsink, appended to `from` (already in the pipeline). */
static bool add_h264_tail(bbt_pipeline *p, struct enc_branch *b, GstElement *from,
                          const struct bbt_enc_params *ep)
{
    GstElement *enc = bbt_make_encoder(p, ep);
    GstElement *caps = bbt_capsfilter("video/x-h264,profile=constrained-baseline,"
                                      "stream-format=byte-stream,alignment=au");
    GstElement *parse = bbt_make("h264parse", NULL), *sink = make_appsink(b);
    if (!enc || !caps || !parse || !sink)
        return bbt_discard(enc, caps, parse, sink);
    g_object_set(parse, "config-interval", -1, NULL); /* SPS/PPS with every IDR */
    gst_bin_add_many(GST_BIN(p->pipe), enc, caps, parse, sink, NULL);
    if (!gst_element_link_many(from, enc, caps, parse, sink, NULL)) {
        BBT_ERROR("cannot link the encoder of track %d", b->track);
        return false;
    }
    b->enc_src = gst_element_get_static_pad(enc, "src");
    return true;
}

static GstElement *leaky_queue(void)
{
    GstElement *q = bbt_make("queue", NULL);
    if (!q)
        return NULL;
    /* a slow consumer drops its own input, never holds up capture or the other layers */
    g_object_set(q, "max-size-buffers", 3, "max-size-bytes", 0, "max-size-time", (guint64)0,
                 NULL);
    gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
    return q;
}

/* from ─ queue ─ videoscale ─ [videorate drop-only] ─ I420 WxH@fps ─ tee; returns the tee
 * (in the pipeline), NULL on failure. `from_fps` is the frame rate coming in. */
static GstElement *add_scaled(bbt_pipeline *p, GstElement *from, int from_fps, int w, int h,
                              int fps)
{
    char caps[200];
    snprintf(caps, sizeof caps, "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,"
             "pixel-aspect-ratio=1/1", w, h, fps);
    GstElement *q = leaky_queue(), *scale = bbt_make("videoscale", NULL);
    GstElement *rate = fps < from_fps ? bbt_make("videorate", NULL) : NULL;
    GstElement *cf = bbt_capsfilter(caps), *tee = bbt_make("tee", NULL);
    if (!q || !scale || !cf || !tee || (fps < from_fps && !rate)) {
        bbt_discard(q, scale, rate, cf);
        bbt_discard(tee, NULL, NULL, NULL);
        return NULL;
    }
    if (rate) /* lower frame rate: drop frames, keep the survivors' (grid) timestamps */
        g_object_set(rate, "drop-only", TRUE, NULL);
    gst_bin_add_many(GST_BIN(p->pipe), q, scale, cf, tee, NULL);
    if (rate)
        gst_bin_add(GST_BIN(p->pipe), rate);
    bool ok = gst_element_link_many(from, q, scale, NULL) &&
              (rate ? gst_element_link_many(scale, rate, cf, NULL) : gst_element_link(scale, cf)) &&
              gst_element_link(cf, tee);
    return ok ? tee : NULL;
}

/* One rung, scaled from `from` (the capture, or the rung above when it is at least as fast:
 * scaling 360p from 360p's source rather than from 720p costs less); *out is the tee of this
 * rung's raw pictures, for the next rung. */
static bool add_rung(bbt_pipeline *p, GstElement **from, int *from_fps, const bbt_node_rung *r,
                     int id, int layer)
{
    int cap_fps = (int)p->cfg->capture.fps;
    int fps = r->fps < cap_fps ? r->fps : cap_fps;
    bbt_track_info t = {.id = id, .kind = BBT_TRACK_VIDEO, .layer = layer, .width = r->width,
                        .height = r->height, .fps = fps, .bitrate = (int64_t)r->kbps * 1000};
    struct enc_branch *b = new_branch(p, &t, true);
    bool same = r->width == p->cfg->capture.width && r->height == p->cfg->capture.height &&
                fps == *from_fps;
    GstElement *src = same ? *from : add_scaled(p, *from, *from_fps, r->width, r->height, fps);
    GstElement *q = leaky_queue();
    if (!src || !q)
        return bbt_discard(q, NULL, NULL, NULL);
    gst_bin_add(GST_BIN(p->pipe), q);
    if (!gst_element_link(src, q))
        return false;
    *from = src;
    *from_fps = fps;
    struct bbt_enc_params ep = {.kbps = r->kbps, .fps = fps, .width = r->width,
                                .height = r->height, .courseware = false};
    return add_h264_tail(p, b, q, &ep);
}

/* Snap capture timestamps to a regular grid of the capture rate, phase taken from the first
 * frame (phase + k/fps: jitter goes, no systematic shift), so that every rung and every
 * rung's keyframes share timestamps; a second frame in one slot is dropped. */
static GstPadProbeReturn snap_probe(GstPad *pad, GstPadProbeInfo *info, gpointer ud)
{
    bbt_pipeline *p = ud;
    GstBuffer *buf = gst_pad_probe_info_get_buffer(info);
    if (!buf || !GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    guint64 fps = (guint64)p->cfg->capture.fps, pts = GST_BUFFER_PTS(buf);
    if (!p->snap_started) {
        guint64 whole = gst_util_uint64_scale(pts, fps, GST_SECOND);
        g_mutex_lock(&p->mu);
        p->phase = pts - gst_util_uint64_scale(whole, GST_SECOND, fps);
        g_mutex_unlock(&p->mu);
    }
    if (pts < p->phase)
        return GST_PAD_PROBE_DROP;
    guint64 slot = gst_util_uint64_scale_round(pts - p->phase, fps, GST_SECOND);
    if (p->snap_started && slot <= p->snap_last)
        return GST_PAD_PROBE_DROP;
    p->snap_started = true;
    p->snap_last = slot;
    buf = gst_buffer_make_writable(buf);
    GST_BUFFER_PTS(buf) = p->phase + gst_util_uint64_scale(slot, GST_SECOND, fps);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, fps);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    return GST_PAD_PROBE_OK;
}

static GstElement *video_source(bbt_pipeline *p)
{
    char why[512];
    GstElement *src = NULL;
    if (p->cfg->capture.video == BBT_NODE_VIDEO_FILE) {
        p->file = bbt_filesrc_new(p->cfg, why, sizeof why);
        src = p->file ? bbt_filesrc_video(p->file, p->cfg) : NULL;
    } else if (p->cfg->capture.video != BBT_NODE_VIDEO_NONE) {
        src = bbt_source_video(p->cfg, p->opts.test_pattern, why, sizeof why);
    }
    if (!src && p->cfg->capture.video != BBT_NODE_VIDEO_NONE) {
        p->missing |= BBT_MISSING_VIDEO;
        BBT_WARN("video source unavailable: %s; continuing without video", why);
    }
    return src;
}

static bool add_video(bbt_pipeline *p)
{
    GstElement *src = video_source(p);
    if (!src)
        return true;
    GstElement *tee = bbt_make("tee", NULL);
    if (!tee)
        return bbt_discard(src, NULL, NULL, NULL);
    gst_bin_add_many(GST_BIN(p->pipe), src, tee, NULL);
    if (!gst_element_link(src, tee))
        return false;
    GstPad *pad = gst_element_get_static_pad(src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, snap_probe, p, NULL);
    gst_object_unref(pad);
    GstElement *from = tee;
    int from_fps = (int)p->cfg->capture.fps;
    for (size_t i = 0; i < p->nrungs; i++)
        if (!add_rung(p, &from, &from_fps, &p->rungs[i], (int)i, (int)(p->nrungs - 1 - i)))
            return false;
    return true;
}

static bool add_audio(bbt_pipeline *p)
{
    char why[512];
    GstElement *src = NULL;
    if (p->file && bbt_filesrc_has_audio(p->file)) {
        src = bbt_filesrc_audio(p->file); /* the file's own sound */
    } else if (p->cfg->capture.audio != BBT_NODE_AUDIO_NONE) {
        src = bbt_source_audio(p->cfg, why, sizeof why);
        if (!src) {
            p->missing |= BBT_MISSING_AUDIO;
            BBT_WARN("audio source unavailable: %s; continuing without sound", why);
        }
    }
    if (!src)
        return true;
    bbt_track_info t = {.id = (int)p->nrungs, .kind = BBT_TRACK_AUDIO, .codec = "opus",
                        .sample_rate = 48000, .channels = 1,
                        .bitrate = p->cfg->encode.audio_bitrate};
    struct enc_branch *b = new_branch(p, &t, false);
    GstElement *enc = bbt_make("opusenc", NULL), *sink = make_appsink(b);
    if (!enc || !sink)
        return bbt_discard(src, enc, sink, NULL);
    g_object_set(enc, "bitrate", (gint)p->cfg->encode.audio_bitrate, NULL);
    gst_util_set_object_arg(G_OBJECT(enc), "frame-size", "20");
    gst_bin_add_many(GST_BIN(p->pipe), src, enc, sink, NULL);
    return gst_element_link_many(src, enc, sink, NULL);
}

static bool add_screen(bbt_pipeline *p, bool test)
{
    if (!p->cfg->capture.screen)
        return true;
    char why[512];
    GstElement *src = bbt_source_screen(p->cfg, test, why, sizeof why);
    if (!src) {
        p->missing |= BBT_MISSING_SCREEN;
        BBT_WARN("screen capture unavailable: %s; continuing without courseware", why);
        return true;
    }
    int fps = (int)p->cfg->encode.courseware_fps, kbps = (int)p->cfg->encode.courseware_bitrate;
    bbt_track_info t = {.id = (int)p->nrungs + 1, .kind = BBT_TRACK_COURSEWARE,
                        .width = (int)p->cfg->capture.width, .height = (int)p->cfg->capture.height,
                        .fps = fps, .bitrate = (int64_t)kbps * 1000};
    struct enc_branch *b = new_branch(p, &t, true);
    b->courseware = true;
    gst_bin_add(GST_BIN(p->pipe), src);
    struct bbt_enc_params ep = {.kbps = kbps, .fps = fps, .width = t.width, .height = t.height,
                                .courseware = true};
    return add_h264_tail(p, b, src, &ep);
}

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The keyframe grid: keyframe_interval rounded up to a multiple of the time at which every
 * rung has a frame (1 s / gcd of the frame rates). */
static void plan_key_grid(bbt_pipeline *p)
{
    unsigned g = (unsigned)p->cfg->capture.fps;
    for (size_t i = 0; i < p->ntracks; i++)
        if (p->tracks[i].kind == BBT_TRACK_VIDEO)
            g = gcd(g, (unsigned)p->tracks[i].fps);
    GstClockTime unit = GST_SECOND / (g ? g : 1);
    GstClockTime want = (GstClockTime)p->cfg->encode.keyframe_interval_ms * GST_MSECOND;
    p->key_interval = (want + unit - 1) / unit * unit;
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static void log_plan(const bbt_pipeline *p)
{
    char buf[512];
    size_t off = 0;
    for (size_t i = 0; i < p->ntracks && off < sizeof buf; i++) {
        const bbt_track_info *t = &p->tracks[i];
        if (t->kind == BBT_TRACK_AUDIO)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d=opus@%lldk", t->id,
                                    (long long)t->bitrate / 1000);
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d=%s%dx%d@%g@%lldk", t->id,
                                    t->kind == BBT_TRACK_COURSEWARE ? "courseware:" : "",
                                    t->width, t->height, t->fps, (long long)t->bitrate / 1000);
    }
    BBT_INFO("pipeline: tracks%s; keyframes every %.1f s", p->ntracks ? buf : " none (nothing to capture)",
             (double)p->key_interval / GST_SECOND);
}

static bool build(bbt_pipeline *p)
{
    char err[256];
    if (bbt_node_ladder_parse(p->cfg->encode.ladder, p->rungs, BBT_NODE_LADDER_MAX, &p->nrungs,
                              err, sizeof err) != BBT_OK) {
        BBT_ERROR("[encode] ladder: %s", err);
        return false;
    }
    return add_video(p) && add_audio(p) && add_screen(p, p->opts.screen_test);
}

bbt_pipeline *bbt_pipeline_new(const bbt_node_config *cfg, const bbt_pipeline_opts *opts,
                               bbt_txq *q, int *err)
{
    *err = BBT_ENOMEM;
    bbt_pipeline *p = g_new0(bbt_pipeline, 1);
    p->cfg = cfg;
    p->q = q;
    if (opts)
        p->opts = *opts;
    g_mutex_init(&p->mu);
    p->pipe = gst_pipeline_new("node");
    /* REALTIME: running time + base time = wall-clock time (capture_us, pipeline.h) */
    p->clock = g_object_new(GST_TYPE_SYSTEM_CLOCK, "clock-type", GST_CLOCK_TYPE_REALTIME, NULL);
    gst_pipeline_use_clock(GST_PIPELINE(p->pipe), p->clock);
    if (!build(p)) {
        *err = BBT_EIO;
        bbt_pipeline_free(p);
        return NULL;
    }
    plan_key_grid(p);
    log_plan(p);
    *err = BBT_OK;
    return p;
}

void bbt_pipeline_free(bbt_pipeline *p)
{
    if (!p)
        return;
    bbt_pipeline_stop(p);
    for (size_t i = 0; i < p->ntracks; i++)
        if (p->br[i].enc_src)
            gst_object_unref(p->br[i].enc_src);
    gst_object_unref(p->pipe);
    gst_object_unref(p->clock);
    bbt_filesrc_free(p->file);
    g_mutex_clear(&p->mu);
    g_free(p);
}

int bbt_pipeline_start(bbt_pipeline *p)
{
    if (p->ntracks == 0)
        return BBT_OK; /* nothing to run */
    if (p->video_mask == 0) /* nothing to wait for: audio only */
        gst_element_post_message(p->pipe, gst_message_new_application(
            GST_OBJECT(p->pipe), gst_structure_new_empty(BBT_TRACKS_READY_MSG)));
    GstStateChangeReturn r = gst_element_set_state(p->pipe, GST_STATE_PLAYING);
    return r == GST_STATE_CHANGE_FAILURE ? BBT_EIO : BBT_OK;
}

void bbt_pipeline_stop(bbt_pipeline *p)
{
    gst_element_set_state(p->pipe, GST_STATE_NULL);
}

GstElement *bbt_pipeline_element(bbt_pipeline *p) { return p->pipe; }

size_t bbt_pipeline_tracks(bbt_pipeline *p, bbt_track_info *out, size_t max, bool *ready)
{
    g_mutex_lock(&p->mu);
    size_t n = p->ntracks;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = p->tracks[i];
    if (ready)
        *ready = p->codecs_known == p->video_mask;
    g_mutex_unlock(&p->mu);
    return n;
}

uint32_t bbt_pipeline_video_mask(const bbt_pipeline *p) { return p->video_mask; }
unsigned bbt_pipeline_missing(const bbt_pipeline *p) { return p->missing; }

static void send_key_event(struct enc_branch *b, GstClockTime running_time, guint count)
{
    if (b->enc_src)
        gst_pad_send_event(b->enc_src,
                           gst_video_event_new_upstream_force_key_unit(running_time, TRUE, count));
}

int bbt_pipeline_force_key(bbt_pipeline *p, int track)
{
    int found = 0;
    for (size_t i = 0; i < p->ntracks; i++) {
        struct enc_branch *b = &p->br[i];
        if (b->h264 && (track < 0 || b->track == track)) {
            send_key_event(b, GST_CLOCK_TIME_NONE, ++p->key_count);
            found++;
        }
    }
    return found ? BBT_OK : BBT_ENOTFOUND;
}

void bbt_pipeline_tick_keys(bbt_pipeline *p)
{
    GstClockTime base = gst_element_get_base_time(p->pipe);
    if (!p->key_interval || !(p->video_mask) || !GST_CLOCK_TIME_IS_VALID(base) ||
        GST_STATE(p->pipe) != GST_STATE_PLAYING)
        return;
    GstClockTime now = gst_clock_get_time(p->clock);
    if (now < base)
        return;
    GstClockTime rt = now - base;
    g_mutex_lock(&p->mu);
    GstClockTime phase = p->phase; /* the grid of the capture timestamps */
    g_mutex_unlock(&p->mu);
    if (rt < phase)
        return;
    GstClockTime next = phase + (rt - phase + KEY_LEAD / 2 + p->key_interval - 1) /
                                    p->key_interval * p->key_interval;
    if (next == p->last_key_rt || next - rt > KEY_LEAD)
        return; /* already announced, or not near yet */
    p->last_key_rt = next;
    p->key_count++;
    for (size_t i = 0; i < p->ntracks; i++)
        if (p->br[i].h264 && !p->br[i].courseware)
            send_key_event(&p->br[i], next, p->key_count);
}

unsigned bbt_sources_available(const bbt_node_config *cfg, unsigned mask)
{
    unsigned ok = 0;
    char why[512];
    GstElement *e;
    if ((mask & BBT_MISSING_VIDEO) && cfg->capture.video != BBT_NODE_VIDEO_FILE &&
        (e = bbt_source_video(cfg, NULL, why, sizeof why))) {
        gst_object_unref(gst_object_ref_sink(e));
        ok |= BBT_MISSING_VIDEO;
    }
    if ((mask & BBT_MISSING_AUDIO) && (e = bbt_source_audio(cfg, why, sizeof why))) {
        gst_object_unref(gst_object_ref_sink(e));
        ok |= BBT_MISSING_AUDIO;
    }
    if ((mask & BBT_MISSING_SCREEN) && (e = bbt_source_screen(cfg, false, why, sizeof why))) {
        gst_object_unref(gst_object_ref_sink(e));
        ok |= BBT_MISSING_SCREEN;
    }
    return ok;
}
