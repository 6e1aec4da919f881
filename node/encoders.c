/* node/encoders.c — the H.264 encoders of the ladder: x264 (default), openh264, VA-API, each
 * set for live use: constant bit rate, no B-frames, keyframes every keyframe_interval and on
 * request, low latency. The caps after the encoder pin constrained-baseline (pipeline.c). */
#include <stdio.h>

#include "node/pipeline_internal.h"
#include "proto/log.h"

GstElement *bbt_make(const char *factory, const char *name)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        BBT_ERROR("GStreamer element %s is missing (install the plugin package that has it)",
                  factory);
    return e;
}

void bbt_log_bus_problem(const char *who, GstMessage *m)
{
    bool error = GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
    if (!error && GST_MESSAGE_TYPE(m) != GST_MESSAGE_WARNING)
        return;
    GError *e = NULL;
    gchar *debug = NULL;
    if (error)
        gst_message_parse_error(m, &e, &debug);
    else
        gst_message_parse_warning(m, &e, &debug);
    gchar *path = gst_object_get_path_string(GST_MESSAGE_SRC(m));
    bbt_log(error ? BBT_LOG_ERROR : BBT_LOG_WARN, "%s %s in %s: %s (%s)", who,
            error ? "error" : "warning", path, e ? e->message : "?", debug ? debug : "no details");
    g_free(path);
    g_free(debug);
    g_clear_error(&e);
}

GstElement *bbt_capsfilter(const char *text)
{
    GstElement *f = bbt_make("capsfilter", NULL);
    GstCaps *caps = gst_caps_from_string(text);
    if (f && caps)
        g_object_set(f, "caps", caps, NULL);
    if (caps)
        gst_caps_unref(caps);
    return f;
}

bool bbt_discard(GstElement *a, GstElement *b, GstElement *c, GstElement *d)
{
    GstElement *all[] = {a, b, c, d};
    for (size_t i = 0; i < 4; i++)
        if (all[i] && !GST_OBJECT_PARENT(all[i]))
            gst_object_unref(gst_object_ref_sink(all[i]));
    return false;
}

static guint key_frames(const bbt_pipeline *p, int fps)
{
    guint n = (guint)(p->cfg->encode.keyframe_interval_ms * fps / 1000);
    return n ? n : 1;
}

static GstElement *x264(bbt_pipeline *p, const struct bbt_enc_params *ep)
{
    GstElement *e = bbt_make("x264enc", NULL);
    if (!e)
        return NULL;
    /* default: veryfast (deblocking, better motion search: quality per bit where bits are
     * scarce) up to 640x360-class rungs, ultrafast for the big ones where the pixels cost */
    const char *preset = p->opts.x264_preset ? p->opts.x264_preset
                         : ep->width * ep->height > BBT_X264_FAST_MAX_PIXELS ? "ultrafast"
                                                                              : "veryfast";
    gst_util_set_object_arg(G_OBJECT(e), "tune",
                            ep->courseware ? "stillimage+zerolatency" : "zerolatency");
    gst_util_set_object_arg(G_OBJECT(e), "speed-preset", ep->courseware ? "veryfast" : preset);
    /* scenecut=0: keyframes only when asked for or at key-int-max, so the layers stay aligned */
    /* one thread each: the layers already run in parallel, and slice threads cost more CPU
     * (measured, docs/PERFORMANCE.md) for a few ms less latency at 720p */
    g_object_set(e, "bitrate", (guint)ep->kbps, "key-int-max", key_frames(p, ep->fps),
                 "bframes", 0, "option-string", "scenecut=0", "threads", 1, NULL);
    return e;
}

static GstElement *openh264(bbt_pipeline *p, const struct bbt_enc_params *ep)
{
    GstElement *e = gst_element_factory_make("openh264enc", NULL);
    if (!e)
        return NULL;
    g_object_set(e, "bitrate", (guint)ep->kbps * 1000, "gop-size", key_frames(p, ep->fps), NULL);
    gst_util_set_object_arg(G_OBJECT(e), "rate-control", "bitrate");
    gst_util_set_object_arg(G_OBJECT(e), "usage-type", ep->courseware ? "screen" : "camera");
    gst_util_set_object_arg(G_OBJECT(e), "complexity", "low");
    return e;
}

static GstElement *vaapi(bbt_pipeline *p, const struct bbt_enc_params *ep)
{
    GstElement *e = gst_element_factory_make("vaapih264enc", NULL);
    if (!e)
        return NULL;
    /* installed is not enough: it needs a VA display (a GPU and its driver) to open */
    GstStateChangeReturn sr = gst_element_set_state(e, GST_STATE_READY);
    gst_element_set_state(e, GST_STATE_NULL);
    if (sr == GST_STATE_CHANGE_FAILURE) {
        gst_object_unref(gst_object_ref_sink(e));
        return NULL;
    }
    g_object_set(e, "bitrate", (guint)ep->kbps, "keyframe-period", key_frames(p, ep->fps),
                 "max-bframes", 0, NULL);
    gst_util_set_object_arg(G_OBJECT(e), "rate-control", "cbr");
    return e;
}

GstElement *bbt_make_encoder(bbt_pipeline *p, const struct bbt_enc_params *ep)
{
    int which = p->cfg->encode.encoder;
    GstElement *e = NULL;
    const char *name = "x264enc";
    if (which == BBT_NODE_ENCODER_VAAPI) {
        e = vaapi(p, ep);
        name = "vaapih264enc";
    } else if (which == BBT_NODE_ENCODER_OPENH264) {
        e = openh264(p, ep);
        name = "openh264enc";
    }
    if (!e && which != BBT_NODE_ENCODER_X264 && !p->fallback_logged) {
        p->fallback_logged = true;
        BBT_WARN("encoder %s is not available (%s): using x264 instead", name,
                 which == BBT_NODE_ENCODER_VAAPI
                     ? "install gstreamer1.0-vaapi and a VA-API driver for this GPU"
                     : "install gstreamer1.0-plugins-bad with openh264");
    }
    return e ? e : x264(p, ep);
}
