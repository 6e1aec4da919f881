/* node/play_pipe.c — the play role's GStreamer pipeline (see play.h, play_internal.h). */
#include <gst/app/gstappsrc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/play_internal.h"
#include "proto/frame.h"
#include "proto/log.h"

#define PTS_MARGIN_NS (10 * GST_SECOND) /* capture times up to this much before the first */
/* Pictures pushed but not decoded yet beyond which the backlog is cut at the next keyframe. Not
 * a capture-time difference: the relay's fast start sends a whole cached group of pictures at
 * once (up to keyframe_interval old), which the decoder clears in a moment. */
#define MAX_PENDING_FRAMES 75
#define STALL_AFTER_US 500000

struct bbt_play_pipe {
    GstElement *pipe, *vsrc, *asrc, *selector, *text;
    GstPad *lesson_pad, *message_pad; /* input-selector sink pads (owned refs) */
    const char *shown_text; /* main loop: the message on screen, NULL for the lesson */
    GMutex mu;
    struct play_stats st;
    /* link thread only */
    bool await_key;
    int64_t ref_us; /* capture_us that maps to PTS_MARGIN_NS; 0 until the first frame */
    int achannels;
};

int64_t bbt_play_mono_us(void) { return g_get_monotonic_time(); }
int64_t bbt_play_wall_us(void) { return g_get_real_time(); }

static GstElement *el(GstElement *bin, const char *factory, const char *name)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e) {
        BBT_ERROR("play: GStreamer element %s is missing", factory);
        return NULL;
    }
    gst_bin_add(GST_BIN(bin), e);
    return e;
}

static GstCaps *caps(const char *text) { return gst_caps_from_string(text); }

/* ---- decoded pictures (decoder streaming thread) ------------------------------------------- */

static GstPadProbeReturn on_decoded(GstPad *pad, GstPadProbeInfo *info, gpointer ud)
{
    bbt_play_pipe *pp = ud;
    GstBuffer *b = gst_pad_probe_info_get_buffer(info);
    if (!b || !GST_BUFFER_PTS_IS_VALID(b))
        return GST_PAD_PROBE_OK;
    int64_t now = bbt_play_mono_us(), wall = bbt_play_wall_us();
    g_mutex_lock(&pp->mu);
    int64_t cap = pp->ref_us + ((int64_t)GST_BUFFER_PTS(b) - (int64_t)PTS_MARGIN_NS) / 1000;
    struct play_stats *s = &pp->st;
    s->frames_decoded++;
    if (s->stall_since_us) {
        s->stall_ms += (uint64_t)(now - s->stall_since_us) / 1000;
        s->stall_since_us = 0;
    }
    s->last_decoded_us = now;
    s->last_decoded_capture_us = cap;
    if (s->nlat < PLAY_LAT_SAMPLES)
        s->lat_ms[s->nlat++] = (double)(wall - cap) / 1000.0;
    g_mutex_unlock(&pp->mu);
    return GST_PAD_PROBE_OK;
}

/* ---- building ------------------------------------------------------------------------------ */

static GstElement *make_sink(GstElement *bin, const char *kind, bool fake, bool fullscreen);

static void on_deep_added(GstBin *bin, GstBin *sub, GstElement *e, gpointer ud)
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "fullscreen"))
        g_object_set(e, "fullscreen", TRUE, NULL);
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "force-aspect-ratio"))
        g_object_set(e, "force-aspect-ratio", TRUE, NULL);
}

static GstElement *make_sink(GstElement *bin, const char *kind, bool fake, bool fullscreen)
{
    GstElement *s = el(bin, fake ? "fakesink" : kind, NULL);
    if (!s)
        return NULL;
    g_object_set(s, "sync", FALSE, NULL); /* live: render what arrives, as it arrives */
    if (!fake && fullscreen)
        g_signal_connect(s, "deep-element-added", G_CALLBACK(on_deep_added), NULL);
    return s;
}

static bool build_video(bbt_play_pipe *pp, bool fake, bool fullscreen)
{
    GstElement *b = pp->pipe;
    pp->vsrc = el(b, "appsrc", "video");
    GstElement *parse = el(b, "h264parse", NULL), *dec = el(b, "avdec_h264", NULL),
               *conv = el(b, "videoconvert", NULL), *black = el(b, "videotestsrc", NULL),
               *bcaps = el(b, "capsfilter", NULL), *conv2 = el(b, "videoconvert", NULL),
               *out = el(b, "videoconvert", NULL), *scale = el(b, "videoscale", NULL);
    pp->text = el(b, "textoverlay", NULL);
    pp->selector = el(b, "input-selector", NULL);
    GstElement *sink = make_sink(b, "autovideosink", fake, fullscreen);
    if (!pp->vsrc || !parse || !dec || !conv || !black || !bcaps || !conv2 || !out || !scale ||
        !pp->text || !pp->selector || !sink)
        return false;
    GstCaps *c = caps("video/x-h264,stream-format=byte-stream,alignment=au");
    g_object_set(pp->vsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "caps", c,
                 "max-bytes", (guint64)16 * 1024 * 1024, NULL);
    gst_caps_unref(c);
    g_object_set(dec, "max-threads", 2, NULL);
    gst_util_set_object_arg(G_OBJECT(dec), "thread-type", "slice"); /* no frame-thread delay */
    g_object_set(black, "is-live", TRUE, NULL);
    gst_util_set_object_arg(G_OBJECT(black), "pattern", "black");
    c = caps("video/x-raw,width=1280,height=720,framerate=5/1");
    g_object_set(bcaps, "caps", c, NULL);
    gst_caps_unref(c);
    g_object_set(pp->text, "text", "", "font-desc", "Sans 36", "wrap-mode", 2, NULL);
    gst_util_set_object_arg(G_OBJECT(pp->text), "valignment", "center");
    gst_util_set_object_arg(G_OBJECT(pp->text), "halignment", "center");
    g_object_set(pp->selector, "sync-streams", FALSE, NULL);
    bool ok = gst_element_link_many(pp->vsrc, parse, dec, conv, NULL) &&
              gst_element_link_many(black, bcaps, pp->text, conv2, NULL) &&
              gst_element_link_many(pp->selector, out, scale, sink, NULL);
    pp->lesson_pad = gst_element_request_pad_simple(pp->selector, "sink_%u");
    pp->message_pad = gst_element_request_pad_simple(pp->selector, "sink_%u");
    GstPad *a = gst_element_get_static_pad(conv, "src"), *m = gst_element_get_static_pad(conv2, "src");
    ok = ok && gst_pad_link(a, pp->lesson_pad) == GST_PAD_LINK_OK &&
         gst_pad_link(m, pp->message_pad) == GST_PAD_LINK_OK;
    gst_object_unref(a);
    gst_object_unref(m);
    GstPad *dsrc = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(dsrc, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, pp, NULL);
    gst_object_unref(dsrc);
    return ok;
}

static bool build_audio(bbt_play_pipe *pp, bool fake)
{
    GstElement *b = pp->pipe;
    pp->asrc = el(b, "appsrc", "audio");
    GstElement *parse = el(b, "opusparse", NULL), *dec = el(b, "opusdec", NULL),
               *conv = el(b, "audioconvert", NULL), *res = el(b, "audioresample", NULL),
               *sink = make_sink(b, "autoaudiosink", fake, false);
    if (!pp->asrc || !parse || !dec || !conv || !res || !sink)
        return false;
    GstCaps *c = caps("audio/x-opus,rate=48000,channels=1,channel-mapping-family=0");
    g_object_set(pp->asrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "caps", c,
                 "max-bytes", (guint64)512 * 1024, NULL);
    gst_caps_unref(c);
    g_object_set(dec, "plc", TRUE, NULL);
    pp->achannels = 1;
    return gst_element_link_many(pp->asrc, parse, dec, conv, res, sink, NULL);
}

bbt_play_pipe *bbt_play_pipe_new(const bbt_node_config *cfg, bool fake)
{
    bbt_play_pipe *pp = g_new0(bbt_play_pipe, 1);
    g_mutex_init(&pp->mu);
    pp->await_key = true;
    pp->st.layer = -1;
    pp->pipe = gst_pipeline_new("play");
    if (!build_video(pp, fake, cfg->play.fullscreen) || !build_audio(pp, fake)) {
        BBT_ERROR("play: cannot build the playback pipeline");
        bbt_play_pipe_free(pp);
        return NULL;
    }
    pp->shown_text = "";
    bbt_play_pipe_show(pp, "正在连接… / Connecting…");
    if (gst_element_set_state(pp->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        BBT_ERROR("play: the playback pipeline did not start%s",
                  fake ? "" : " (no display or sound output? [play] sink = fake plays without)");
        bbt_play_pipe_free(pp);
        return NULL;
    }
    return pp;
}

void bbt_play_pipe_free(bbt_play_pipe *pp)
{
    if (!pp)
        return;
    gst_element_set_state(pp->pipe, GST_STATE_NULL);
    if (pp->lesson_pad)
        gst_object_unref(pp->lesson_pad);
    if (pp->message_pad)
        gst_object_unref(pp->message_pad);
    gst_object_unref(pp->pipe);
    g_mutex_clear(&pp->mu);
    g_free(pp);
}

GstElement *bbt_play_pipe_element(bbt_play_pipe *pp) { return pp->pipe; }

/* ---- frames in (link thread) --------------------------------------------------------------- */

static GstBuffer *wrap(const uint8_t *data, size_t len, GstClockTime pts)
{
    GstBuffer *b = gst_buffer_new_allocate(NULL, len, NULL);
    if (!b)
        return NULL;
    gst_buffer_fill(b, 0, data, len);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DTS(b) = pts;
    return b;
}

/* PTS for a capture time: capture times travel through the decoder as timestamps. */
static GstClockTime pts_for(bbt_play_pipe *pp, int64_t capture_us)
{
    g_mutex_lock(&pp->mu);
    if (!pp->ref_us)
        pp->ref_us = capture_us;
    int64_t ns = (capture_us - pp->ref_us) * 1000 + (int64_t)PTS_MARGIN_NS;
    g_mutex_unlock(&pp->mu);
    return ns > 0 ? (GstClockTime)ns : 0;
}

static void count_drop(bbt_play_pipe *pp)
{
    g_mutex_lock(&pp->mu);
    pp->st.frames_dropped++;
    g_mutex_unlock(&pp->mu);
}

bool bbt_play_pipe_push_video(bbt_play_pipe *pp, int track, unsigned flags, int64_t capture_us,
                              const uint8_t *data, size_t len)
{
    bool key = flags & BBT_FRAME_KEY;
    g_mutex_lock(&pp->mu);
    pp->st.frames_in++;
    pp->st.last_in_capture_us = capture_us;
    int64_t pending = pp->st.frames_pushed - (int64_t)pp->st.frames_decoded;
    if (!key && pending > MAX_PENDING_FRAMES && !pp->await_key) {
        BBT_WARN("play: decoder %lld pictures behind: skipping to the next keyframe",
                 (long long)pending);
        pp->await_key = true;
        pp->st.frames_pushed = (int64_t)pp->st.frames_decoded; /* count afresh from here */
    }
    g_mutex_unlock(&pp->mu);
    if (pp->await_key && !key) {
        count_drop(pp);
        return false;
    }
    pp->await_key = false;
    GstBuffer *b = wrap(data, len, pts_for(pp, capture_us));
    if (!b || gst_app_src_push_buffer(GST_APP_SRC(pp->vsrc), b) != GST_FLOW_OK) {
        count_drop(pp);
        return false;
    }
    g_mutex_lock(&pp->mu);
    pp->st.layer = track;
    pp->st.frames_pushed++;
    g_mutex_unlock(&pp->mu);
    return true;
}

void bbt_play_pipe_push_audio(bbt_play_pipe *pp, int channels, int64_t capture_us,
                              const uint8_t *data, size_t len)
{
    if (channels != pp->achannels && channels >= 1 && channels <= 2) {
        gchar *text = g_strdup_printf("audio/x-opus,rate=48000,channels=%d,"
                                      "channel-mapping-family=0", channels);
        GstCaps *c = gst_caps_from_string(text);
        g_free(text);
        gst_app_src_set_caps(GST_APP_SRC(pp->asrc), c);
        gst_caps_unref(c);
        pp->achannels = channels;
    }
    GstBuffer *b = wrap(data, len, pts_for(pp, capture_us));
    if (b)
        gst_app_src_push_buffer(GST_APP_SRC(pp->asrc), b);
    g_mutex_lock(&pp->mu);
    pp->st.last_audio_us = bbt_play_mono_us();
    g_mutex_unlock(&pp->mu);
}

void bbt_play_pipe_reset_video(bbt_play_pipe *pp) { pp->await_key = true; }

void bbt_play_pipe_add_bytes(bbt_play_pipe *pp, size_t n)
{
    g_mutex_lock(&pp->mu);
    pp->st.bytes += n;
    g_mutex_unlock(&pp->mu);
}

void bbt_play_pipe_stats(bbt_play_pipe *pp, bool live, bool reset_window, struct play_stats *out)
{
    int64_t now = bbt_play_mono_us();
    g_mutex_lock(&pp->mu);
    struct play_stats *s = &pp->st;
    bool late = s->last_decoded_us && now - s->last_decoded_us > STALL_AFTER_US;
    if (live && late && !s->stall_since_us) {
        s->stalls++;
        s->stall_since_us = s->last_decoded_us + STALL_AFTER_US;
    } else if (!live && s->stall_since_us) { /* the lesson stopped: not a playback stall */
        s->stall_ms += (uint64_t)(now - s->stall_since_us) / 1000;
        s->stall_since_us = 0;
    }
    *out = *s;
    if (s->stall_since_us) /* the stall so far counts too */
        out->stall_ms += (uint64_t)(now - s->stall_since_us) / 1000;
    if (reset_window)
        s->nlat = 0;
    g_mutex_unlock(&pp->mu);
}

bool bbt_play_pipe_show(bbt_play_pipe *pp, const char *text)
{
    GstPad *want = text ? pp->message_pad : pp->lesson_pad;
    bool changed = text != pp->shown_text;
    if (text && changed)
        g_object_set(pp->text, "text", text, NULL);
    pp->shown_text = text;
    GstPad *cur = NULL;
    g_object_get(pp->selector, "active-pad", &cur, NULL);
    if (cur != want) {
        g_object_set(pp->selector, "active-pad", want, NULL);
        changed = true;
    }
    if (cur)
        gst_object_unref(cur);
    return changed;
}
