/* tests/support/h264dec.c — GStreamer H.264 decoding for tests (see h264dec.h). */
#include "h264dec.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdlib.h>

struct h264dec {
    GstElement *pipe, *src;
    gint frames, width, height;
    GstClockTime pts;
};

static GstFlowReturn on_sample(GstAppSink *sink, gpointer ud)
{
    h264dec *d = ud;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_OK;
    GstStructure *st = gst_caps_get_structure(gst_sample_get_caps(s), 0);
    gint w = 0, h = 0;
    gst_structure_get_int(st, "width", &w);
    gst_structure_get_int(st, "height", &h);
    g_atomic_int_set(&d->width, w);
    g_atomic_int_set(&d->height, h);
    g_atomic_int_inc(&d->frames);
    gst_sample_unref(s);
    return GST_FLOW_OK;
}

h264dec *h264dec_new(void)
{
    h264dec *d = calloc(1, sizeof *d);
    GError *e = NULL;
    d->pipe = gst_parse_launch("appsrc name=src format=time caps=video/x-h264,stream-format="
                               "byte-stream,alignment=au ! h264parse ! avdec_h264 max-errors=0 "
                               "! appsink name=sink sync=false", &e);
    if (!d->pipe) {
        g_clear_error(&e);
        free(d);
        return NULL;
    }
    d->src = gst_bin_get_by_name(GST_BIN(d->pipe), "src");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(d->pipe), "sink");
    GstAppSinkCallbacks cbs = {.new_sample = on_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, d, NULL);
    gst_object_unref(sink);
    gst_element_set_state(d->pipe, GST_STATE_PLAYING);
    return d;
}

int h264dec_push(h264dec *d, const uint8_t *au, size_t len)
{
    GstBuffer *b = gst_buffer_new_allocate(NULL, len, NULL);
    gst_buffer_fill(b, 0, au, len);
    GST_BUFFER_PTS(b) = d->pts;
    d->pts += GST_SECOND / 25;
    return gst_app_src_push_buffer(GST_APP_SRC(d->src), b) == GST_FLOW_OK ? 0 : -1;
}

h264dec_result h264dec_finish(h264dec *d)
{
    h264dec_result r = {0};
    gst_app_src_end_of_stream(GST_APP_SRC(d->src));
    GstBus *bus = gst_element_get_bus(d->pipe);
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
                                                       GST_MESSAGE_WARNING);
        if (!m)
            break;
        GstMessageType t = GST_MESSAGE_TYPE(m);
        gst_message_unref(m);
        if (t == GST_MESSAGE_EOS)
            break;
        r.errors++;
        if (t == GST_MESSAGE_ERROR)
            break;
    }
    gst_object_unref(bus);
    gst_element_set_state(d->pipe, GST_STATE_NULL);
    r.frames = g_atomic_int_get(&d->frames);
    r.width = g_atomic_int_get(&d->width);
    r.height = g_atomic_int_get(&d->height);
    gst_object_unref(d->src);
    gst_object_unref(d->pipe);
    free(d);
    return r;
}
