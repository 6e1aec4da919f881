/* node/filesrc.c — a media file as a live source (see sources.h): a decoding pipeline of its
 * own, paced by its sinks' clock, feeding intervideo/interaudio channels that the node's
 * pipeline reads. Looping is a flushing seek to the start on end of stream. */
#include <stdio.h>
#include <string.h>

#include "node/sources.h"
#include "proto/log.h"
#include "proto/status.h"

struct bbt_filesrc {
    GstElement *pipe;
    guint bus_watch;
    bool loop;
    bool has_video, has_audio;
    gint pads_done; /* atomic: decodebin said no-more-pads */
    char vchan[64], achan[64];
    GstElement *vhead, *ahead; /* first element of each branch (transfer none) */
    char path[512];
};

static GstElement *make(const char *factory)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (!e)
        BBT_ERROR("GStreamer element %s is missing", factory);
    return e;
}

static GstElement *caps_el(const char *text)
{
    GstElement *f = make("capsfilter");
    GstCaps *c = gst_caps_from_string(text);
    if (f && c)
        g_object_set(f, "caps", c, NULL);
    if (c)
        gst_caps_unref(c);
    return f;
}

/* Add and link elems[0..n) in `pipe`; the first one is returned (transfer none), NULL on
 * failure. */
static GstElement *branch(GstElement *pipe, GstElement **elems, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!elems[i])
            return NULL;
    for (size_t i = 0; i < n; i++)
        gst_bin_add(GST_BIN(pipe), elems[i]);
    for (size_t i = 0; i + 1 < n; i++)
        if (!gst_element_link(elems[i], elems[i + 1]))
            return NULL;
    return elems[0];
}

static void on_pad(GstElement *dec, GstPad *pad, gpointer ud)
{
    bbt_filesrc *f = ud;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    const char *name = caps ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "";
    GstElement *target = g_str_has_prefix(name, "video/") ? f->vhead
                         : g_str_has_prefix(name, "audio/") ? f->ahead : NULL;
    if (caps)
        gst_caps_unref(caps);
    if (!target)
        return;
    GstPad *sink = gst_element_get_static_pad(target, "sink");
    if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) == GST_PAD_LINK_OK) {
        if (target == f->vhead)
            f->has_video = true;
        else
            f->has_audio = true;
    }
    gst_object_unref(sink);
}

static void on_no_more_pads(GstElement *dec, gpointer ud)
{
    bbt_filesrc *f = ud;
    g_atomic_int_set(&f->pads_done, 1);
}

static gboolean on_bus(GstBus *bus, GstMessage *m, gpointer ud)
{
    bbt_filesrc *f = ud;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
        if (f->loop) {
            BBT_DEBUG("file %s: end, looping", f->path);
            gst_element_seek_simple(f->pipe, GST_FORMAT_TIME,
                                    GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0);
        } else {
            BBT_INFO("file %s: end of the file (file_loop = false): black picture from now", f->path);
        }
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error(m, &e, NULL);
        BBT_ERROR("file %s: %s (from %s)", f->path, e ? e->message : "error",
                  GST_OBJECT_NAME(GST_MESSAGE_SRC(m)));
        g_clear_error(&e);
    }
    return G_SOURCE_CONTINUE;
}

static bool build(bbt_filesrc *f, const bbt_node_config *cfg)
{
    char vcaps[256];
    snprintf(vcaps, sizeof vcaps, "video/x-raw,format=I420,width=%lld,height=%lld,"
             "framerate=%lld/1,pixel-aspect-ratio=1/1", (long long)cfg->capture.width,
             (long long)cfg->capture.height, (long long)cfg->capture.fps);
    GstElement *dec = make("uridecodebin"), *vsink = make("intervideosink"),
               *asink = make("interaudiosink");
    if (!dec || !vsink || !asink)
        return false;
    gchar *uri = gst_filename_to_uri(cfg->capture.file, NULL);
    g_object_set(dec, "uri", uri, NULL);
    g_free(uri);
    /* async=false: a stream the file lacks leaves its branch unlinked, which must not stop
     * the pipeline from starting */
    g_object_set(vsink, "channel", f->vchan, "async", FALSE, NULL);
    g_object_set(asink, "channel", f->achan, "async", FALSE, NULL);
    gst_bin_add(GST_BIN(f->pipe), dec);
    GstElement *v[] = {make("videoconvert"), make("videoscale"), make("videorate"),
                       caps_el(vcaps), vsink};
    GstElement *a[] = {make("audioconvert"), make("audioresample"),
                       caps_el("audio/x-raw,format=S16LE,rate=48000,channels=1"), asink};
    f->vhead = branch(f->pipe, v, 5);
    f->ahead = branch(f->pipe, a, 4);
    g_signal_connect(dec, "pad-added", G_CALLBACK(on_pad), f);
    g_signal_connect(dec, "no-more-pads", G_CALLBACK(on_no_more_pads), f);
    return f->vhead && f->ahead;
}

bbt_filesrc *bbt_filesrc_new(const bbt_node_config *cfg, char *why, size_t whylen)
{
    bbt_filesrc *f = g_new0(bbt_filesrc, 1);
    f->loop = cfg->capture.file_loop;
    snprintf(f->path, sizeof f->path, "%s", cfg->capture.file);
    snprintf(f->vchan, sizeof f->vchan, "bbt-file-video-%p", (void *)f);
    snprintf(f->achan, sizeof f->achan, "bbt-file-audio-%p", (void *)f);
    f->pipe = gst_pipeline_new("file");
    if (!build(f, cfg)) {
        snprintf(why, whylen, "file %s: cannot build the decoder", f->path);
        bbt_filesrc_free(f);
        return NULL;
    }
    GstStateChangeReturn sr = gst_element_set_state(f->pipe, GST_STATE_PAUSED);
    for (int i = 0; i < 500 && sr != GST_STATE_CHANGE_FAILURE && !g_atomic_int_get(&f->pads_done); i++)
        g_usleep(10000); /* the demuxer finds the streams on its own thread */
    if (sr == GST_STATE_CHANGE_FAILURE || !g_atomic_int_get(&f->pads_done) || !f->has_video) {
        GstBus *bus = gst_element_get_bus(f->pipe);
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        GError *e = NULL;
        if (m)
            gst_message_parse_error(m, &e, NULL);
        snprintf(why, whylen, "file %s: %s", f->path,
                 e ? e->message : !f->has_video ? "no video stream" : "cannot be played");
        g_clear_error(&e);
        if (m)
            gst_message_unref(m);
        gst_object_unref(bus);
        bbt_filesrc_free(f);
        return NULL;
    }
    GstBus *bus = gst_element_get_bus(f->pipe);
    f->bus_watch = gst_bus_add_watch(bus, on_bus, f);
    gst_object_unref(bus);
    gst_element_set_state(f->pipe, GST_STATE_PLAYING);
    return f;
}

bool bbt_filesrc_has_audio(const bbt_filesrc *f) { return f && f->has_audio; }

GstElement *bbt_filesrc_video(bbt_filesrc *f, const bbt_node_config *cfg)
{
    char caps[256];
    snprintf(caps, sizeof caps, "video/x-raw,format=I420,width=%lld,height=%lld,"
             "framerate=%lld/1,pixel-aspect-ratio=1/1", (long long)cfg->capture.width,
             (long long)cfg->capture.height, (long long)cfg->capture.fps);
    GstElement *src = make("intervideosrc"), *cf = caps_el(caps);
    if (!src || !cf)
        return NULL;
    g_object_set(src, "channel", f->vchan, NULL);
    GstElement *bin = gst_bin_new("filevideo");
    gst_bin_add_many(GST_BIN(bin), src, cf, NULL);
    gst_element_link(src, cf);
    GstPad *pad = gst_element_get_static_pad(cf, "src");
    gst_element_add_pad(bin, gst_ghost_pad_new("src", pad));
    gst_object_unref(pad);
    return bin;
}

GstElement *bbt_filesrc_audio(bbt_filesrc *f)
{
    if (!f->has_audio)
        return NULL;
    GstElement *src = make("interaudiosrc"), *conv = make("audioconvert"),
               *cf = caps_el("audio/x-raw,rate=48000,channels=1");
    if (!src || !conv || !cf)
        return NULL;
    g_object_set(src, "channel", f->achan, NULL);
    GstElement *bin = gst_bin_new("fileaudio");
    gst_bin_add_many(GST_BIN(bin), src, conv, cf, NULL);
    gst_element_link_many(src, conv, cf, NULL);
    GstPad *pad = gst_element_get_static_pad(cf, "src");
    gst_element_add_pad(bin, gst_ghost_pad_new("src", pad));
    gst_object_unref(pad);
    return bin;
}

void bbt_filesrc_free(bbt_filesrc *f)
{
    if (!f)
        return;
    if (f->bus_watch)
        g_source_remove(f->bus_watch);
    if (f->pipe) {
        gst_element_set_state(f->pipe, GST_STATE_NULL);
        gst_object_unref(f->pipe);
    }
    g_free(f);
}
