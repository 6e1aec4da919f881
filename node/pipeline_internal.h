/* node/pipeline_internal.h — what pipeline.c and encoders.c share; not for other modules. */
#ifndef BBT_NODE_PIPELINE_INTERNAL_H
#define BBT_NODE_PIPELINE_INTERNAL_H

#include <stdbool.h>

#include <gst/gst.h>

#include "node/pipeline.h"
#include "node/sources.h"

/* One encoded track: its encoder's src pad (for force-key-unit) and its appsink's state. */
struct enc_branch {
    bbt_pipeline *p;
    int track, slot;  /* track id; index in p->tracks */
    bool h264;        /* H.264 (video or courseware); else Opus */
    bool courseware;
    bool codec_known; /* streaming thread only */
    GstPad *enc_src;  /* owned ref */
};

struct bbt_pipeline {
    const bbt_node_config *cfg; /* borrowed */
    bbt_pipeline_opts opts;
    bbt_txq *q;                 /* borrowed */
    GstElement *pipe;
    GstClock *clock;            /* REALTIME system clock */
    bbt_filesrc *file;
    bbt_node_rung rungs[BBT_NODE_LADDER_MAX];
    size_t nrungs;

    GMutex mu; /* guards tracks[].codec, codecs_known and phase */
    bbt_track_info tracks[BBT_MAX_TRACKS];
    struct enc_branch br[BBT_MAX_TRACKS];
    size_t ntracks;
    uint32_t video_mask, codecs_known;
    unsigned missing;
    bool fallback_logged;

    /* the snap probe (capture streaming thread only, but phase is read under mu) */
    bool snap_started;
    guint64 snap_last;
    GstClockTime phase; /* capture timestamps are phase + k / fps */

    /* keyframe grid (owner thread) */
    GstClockTime key_interval, last_key_rt;
    guint key_count;
};

struct bbt_enc_params {
    int kbps, fps, width, height;
    bool courseware; /* still images at a low rate */
};

/* An element of `factory` (floating), or NULL with an error line naming the missing plugin. */
GstElement *bbt_make(const char *factory, const char *name);
/* A capsfilter with these caps (floating), or NULL. */
GstElement *bbt_capsfilter(const char *caps);
/* Log a bus ERROR or WARNING message in one line: `who` (e.g. "pipeline"), the element's path,
 * the message and GStreamer's debug details. Other messages are ignored. */
void bbt_log_bus_problem(const char *who, GstMessage *m);
/* Unref whichever of these is not NULL (floating or not); returns false. */
bool bbt_discard(GstElement *a, GstElement *b, GstElement *c, GstElement *d);
/* The configured H.264 encoder set up for `ep` (falls back to x264 with a log line when the
 * configured one is not installed), floating; NULL when none can be made. */
GstElement *bbt_make_encoder(bbt_pipeline *p, const struct bbt_enc_params *ep);

#endif
