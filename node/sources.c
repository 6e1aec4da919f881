/* node/sources.c — capture bins for the node (see sources.h). */
#include "node/sources.h"

#include <stdio.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"

#define PROBE_TIMEOUT (3 * GST_SECOND)

/* ---- helpers ------------------------------------------------------------------------------- */

static GstElement *make(const char *factory)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (!e)
        BBT_ERROR("GStreamer element %s is missing (install the GStreamer plugin that has it)",
                  factory);
    return e;
}

static GstElement *capsfilter(const char *caps_text)
{
    GstElement *f = make("capsfilter");
    GstCaps *caps = gst_caps_from_string(caps_text);
    if (f && caps)
        g_object_set(f, "caps", caps, NULL);
    if (caps)
        gst_caps_unref(caps);
    return f;
}

/* A bin holding elems[0..n) linked in a chain, its last src pad ghosted as "src". Consumes the
 * elements (NULL entries make it fail, freeing the rest). */
static GstElement *chain_bin(const char *name, GstElement **elems, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = ok && elems[i];
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            if (elems[i])
                gst_object_unref(gst_object_ref_sink(elems[i]));
        return NULL;
    }
    GstElement *bin = gst_bin_new(name);
    for (size_t i = 0; i < n; i++)
        gst_bin_add(GST_BIN(bin), elems[i]);
    for (size_t i = 0; i + 1 < n && ok; i++)
        ok = gst_element_link(elems[i], elems[i + 1]);
    GstPad *src = gst_element_get_static_pad(elems[n - 1], "src");
    ok = ok && src && gst_element_add_pad(bin, gst_ghost_pad_new("src", src));
    if (src)
        gst_object_unref(src);
    if (!ok) {
        BBT_ERROR("cannot link the %s capture elements", name);
        gst_object_unref(gst_object_ref_sink(bin));
        return NULL;
    }
    return bin;
}

static void video_caps_text(char *buf, size_t len, const bbt_node_config *cfg, int64_t fps)
{
    snprintf(buf, len, "video/x-raw,format=I420,width=%lld,height=%lld,framerate=%lld/1,"
             "pixel-aspect-ratio=1/1", (long long)cfg->capture.width,
             (long long)cfg->capture.height, (long long)fps);
}

#define AUDIO_CAPS "audio/x-raw,rate=48000,channels=1"

int bbt_source_probe(GstElement *src, char *why, size_t whylen)
{
    GstElement *pipe = gst_pipeline_new("probe");
    GstElement *sink = make("fakesink");
    if (!sink) {
        gst_object_unref(gst_object_ref_sink(src));
        gst_object_unref(pipe);
        snprintf(why, whylen, "fakesink missing");
        return BBT_ENOTFOUND;
    }
    gst_bin_add_many(GST_BIN(pipe), src, sink, NULL);
    int rc = BBT_OK;
    GstStateChangeReturn sr = GST_STATE_CHANGE_FAILURE;
    if (gst_element_link(src, sink)) {
        sr = gst_element_set_state(pipe, GST_STATE_PAUSED);
        if (sr == GST_STATE_CHANGE_ASYNC)
            sr = gst_element_get_state(pipe, NULL, NULL, PROBE_TIMEOUT);
    }
    if (sr == GST_STATE_CHANGE_FAILURE || sr == GST_STATE_CHANGE_ASYNC) {
        rc = BBT_ENOTFOUND;
        snprintf(why, whylen, "%s", sr == GST_STATE_CHANGE_ASYNC ? "no data in 3 s" : "failed to start");
        GstBus *bus = gst_element_get_bus(pipe);
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        if (m) {
            GError *e = NULL;
            gst_message_parse_error(m, &e, NULL);
            snprintf(why, whylen, "%s", e ? e->message : "error");
            g_clear_error(&e);
            gst_message_unref(m);
        }
        gst_object_unref(bus);
    }
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    return rc;
}

/* Probe a fresh element made by `mk`, then make the one to use. */
static GstElement *probed(GstElement *(*mk)(const bbt_node_config *), const bbt_node_config *cfg,
                          const char *what, char *why, size_t whylen)
{
    GstElement *e = mk(cfg);
    if (!e) {
        snprintf(why, whylen, "%s: element missing", what);
        return NULL;
    }
    char err[256];
    if (bbt_source_probe(e, err, sizeof err) != BBT_OK) {
        snprintf(why, whylen, "%s: %s", what, err);
        return NULL;
    }
    return mk(cfg);
}

/* ---- video ---------------------------------------------------------------------------------- */

static GstElement *make_camera(const bbt_node_config *cfg)
{
    GstElement *e = make("v4l2src");
    if (e)
        g_object_set(e, "device", cfg->capture.video_device, NULL);
    return e;
}

/* decodebin's pad to the converter (cameras give raw video or MJPEG). */
static void on_decoded_pad(GstElement *dec, GstPad *pad, gpointer target)
{
    GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(target), "sink");
    if (sink && !gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
        BBT_WARN("camera: cannot link the decoded stream");
    if (sink)
        gst_object_unref(sink);
}

static GstElement *camera_bin(const bbt_node_config *cfg, char *why, size_t whylen)
{
    char label[300];
    snprintf(label, sizeof label, "camera %s", cfg->capture.video_device);
    GstElement *src = probed(make_camera, cfg, label, why, whylen);
    if (!src)
        return NULL;
    char caps[256];
    video_caps_text(caps, sizeof caps, cfg, cfg->capture.fps);
    GstElement *rate = make("videorate");
    if (rate)
        g_object_set(rate, "drop-only", TRUE, NULL);
    GstElement *tail[] = {make("videoconvert"), make("videoscale"), rate, capsfilter(caps)};
    GstElement *bin = chain_bin("camera", tail, 4);
    GstElement *dec = make("decodebin");
    if (!bin || !dec) {
        gst_object_unref(gst_object_ref_sink(src));
        if (dec)
            gst_object_unref(gst_object_ref_sink(dec));
        if (bin)
            gst_object_unref(gst_object_ref_sink(bin));
        snprintf(why, whylen, "%s: cannot build the capture elements", label);
        return NULL;
    }
    gst_bin_add_many(GST_BIN(bin), src, dec, NULL);
    gst_element_link(src, dec);
    g_signal_connect(dec, "pad-added", G_CALLBACK(on_decoded_pad), tail[0]);
    return bin;
}

/* Set an enum property by nick when the nick exists. */
static bool set_enum(GstElement *e, const char *prop, const char *nick)
{
    GParamSpec *ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop);
    if (!ps || !G_IS_PARAM_SPEC_ENUM(ps))
        return false;
    GEnumClass *ec = G_PARAM_SPEC_ENUM(ps)->enum_class;
    GEnumValue *v = g_enum_get_value_by_nick(ec, nick);
    if (v)
        g_object_set(e, prop, v->value, NULL);
    return v != NULL;
}

static GstElement *test_video_bin(const bbt_node_config *cfg, const char *pattern)
{
    char caps[256];
    video_caps_text(caps, sizeof caps, cfg, cfg->capture.fps);
    GstElement *src = make("videotestsrc"), *clock = make("clockoverlay");
    if (src)
        g_object_set(src, "is-live", TRUE, NULL);
    if (src && !set_enum(src, "pattern", pattern ? pattern : "ball")) {
        BBT_WARN("test pattern %s does not exist (see gst-inspect-1.0 videotestsrc): using ball",
                 pattern);
        set_enum(src, "pattern", "ball");
    }
    if (clock)
        g_object_set(clock, "time-format", "%H:%M:%S", "font-desc", "Sans 24", NULL);
    GstElement *elems[] = {src, capsfilter(caps), clock};
    return chain_bin("testvideo", elems, 3);
}

GstElement *bbt_source_video(const bbt_node_config *cfg, const char *test_pattern, char *why,
                             size_t whylen)
{
    snprintf(why, whylen, "no video source configured");
    switch (cfg->capture.video) {
    case BBT_NODE_VIDEO_TEST:
        return test_video_bin(cfg, test_pattern);
    case BBT_NODE_VIDEO_CAMERA:
        return camera_bin(cfg, why, whylen);
    default:
        return NULL;
    }
}

/* ---- audio ---------------------------------------------------------------------------------- */

static GstElement *make_mic(const bbt_node_config *cfg)
{
    bool pulse = cfg->capture.audio == BBT_NODE_AUDIO_PULSE;
    GstElement *e = make(pulse ? "pulsesrc" : "alsasrc");
    if (e && cfg->capture.audio_device && cfg->capture.audio_device[0])
        g_object_set(e, "device", cfg->capture.audio_device, NULL);
    if (e) /* 10 ms periods: the capture adds little latency */
        g_object_set(e, "latency-time", (gint64)10000, "buffer-time", (gint64)200000, NULL);
    return e;
}

GstElement *bbt_source_audio(const bbt_node_config *cfg, char *why, size_t whylen)
{
    GstElement *src = NULL;
    if (cfg->capture.audio == BBT_NODE_AUDIO_TEST) {
        src = make("audiotestsrc");
        if (src)
            g_object_set(src, "is-live", TRUE, "samplesperbuffer", 480, "volume", 0.2, NULL);
    } else if (cfg->capture.audio == BBT_NODE_AUDIO_PULSE ||
               cfg->capture.audio == BBT_NODE_AUDIO_ALSA) {
        const char *dev = cfg->capture.audio_device && cfg->capture.audio_device[0]
                              ? cfg->capture.audio_device : "default";
        char label[300];
        snprintf(label, sizeof label, "microphone (%s %s)",
                 cfg->capture.audio == BBT_NODE_AUDIO_PULSE ? "pulse" : "alsa", dev);
        src = probed(make_mic, cfg, label, why, whylen);
        if (!src)
            return NULL;
    } else {
        snprintf(why, whylen, "no audio source configured");
        return NULL;
    }
    GstElement *elems[] = {src, make("audioconvert"), make("audioresample"), capsfilter(AUDIO_CAPS)};
    return chain_bin("audio", elems, 4);
}

/* ---- screen --------------------------------------------------------------------------------- */

static GstElement *make_screen(const bbt_node_config *cfg)
{
    GstElement *e = make("ximagesrc");
    if (e)
        g_object_set(e, "display-name", cfg->capture.screen_display, "use-damage", FALSE,
                     "show-pointer", TRUE, NULL);
    return e;
}

GstElement *bbt_source_screen(const bbt_node_config *cfg, bool test, char *why, size_t whylen)
{
    char label[300], rate[64], caps[256];
    snprintf(label, sizeof label, "screen %s", cfg->capture.screen_display);
    snprintf(rate, sizeof rate, "video/x-raw,framerate=%lld/1", (long long)cfg->encode.courseware_fps);
    video_caps_text(caps, sizeof caps, cfg, cfg->encode.courseware_fps);
    GstElement *src;
    if (test) {
        src = make("videotestsrc");
        if (src)
            g_object_set(src, "is-live", TRUE, NULL);
    } else {
        src = probed(make_screen, cfg, label, why, whylen);
        if (!src)
            return NULL;
    }
    GstElement *elems[] = {src, capsfilter(rate), make("videoconvert"), make("videoscale"),
                           capsfilter(caps)};
    return chain_bin("screen", elems, 5);
}
