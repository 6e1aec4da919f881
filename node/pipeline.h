/* node/pipeline.h — the node's GStreamer graph, built from its configuration:
 *
 *   video source ─ snap ─ tee ─┬─ queue ─ videoscale ─ [videorate] ─ I420 WxH@F ─ H.264 ─ parse ─ appsink  (one per rung)
 *                              └─ ...
 *   audio source ─ opusenc (48 kHz, 20 ms) ─ appsink
 *   screen ─ I420 @courseware_fps ─ H.264 (stillimage) ─ parse ─ appsink        ([capture] screen)
 *
 * Every appsink hands its frames (on its streaming thread) to the bbt_txq given at creation,
 * as bbt_node_frames with track id, flags (KEY|CONFIG on IDR access units, parsed from the NAL
 * types) and capture_us. Track ids are fixed by the configuration, whatever is missing:
 * ladder rungs 0..n-1 in ladder order (0 = the highest quality, whose "layer" is n-1; the
 * lowest rung has layer 0), audio n, courseware n+1.
 *
 * Wall-clock timestamps: the pipeline runs on a GstSystemClock of type REALTIME, so a buffer's
 * running time (its PTS mapped through the segment of its sample — x264 timestamps start at
 * 1000 hours) plus the pipeline's base time is the wall-clock time of its capture, in ns since
 * the epoch: capture_us = (running_time + base_time) / 1000. See bbt_capture_us().
 *
 * Keyframes are aligned across the ladder: the capture timestamps are snapped to the capture
 * frame grid (every rung sees the same timestamps; lower frame rates drop frames with
 * videorate drop-only, keeping the survivors' timestamps), every encoder has
 * key-int-max = keyframe_interval x fps, and bbt_pipeline_tick_keys() sends one force-key-unit
 * for the same future running time to every encoder, on a grid that every rung has frames on.
 *
 * Devices that are missing (no camera, no sound server, no X display) are logged in one line
 * each and left out: the pipeline runs with what it has (audio only and video only are valid
 * lessons); bbt_pipeline_missing() says what was left out, so the owner can retry later.
 *
 * Threads: create, start, stop, free, tick and force on one thread (the owner's main loop);
 * bbt_pipeline_tracks() from any thread (it copies under a lock). When the codec strings of all
 * H.264 tracks are known (from the first SPS each produced) an application message named
 * "bbt-tracks-ready" is posted on the pipeline's bus. */
#ifndef BBT_NODE_PIPELINE_H
#define BBT_NODE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gst/gst.h>

#include "config/node_config.h"
#include "node/txq.h"
#include "proto/control.h"

#define BBT_TRACKS_READY_MSG "bbt-tracks-ready"

enum { BBT_MISSING_VIDEO = 1u << 0, BBT_MISSING_AUDIO = 1u << 1, BBT_MISSING_SCREEN = 1u << 2 };

typedef struct bbt_pipeline_opts {
    const char *x264_preset; /* every rung; NULL: veryfast up to BBT_X264_FAST_MAX_PIXELS,
                              * ultrafast above (measured: docs/PERFORMANCE.md) */
    const char *test_pattern; /* videotestsrc pattern of [capture] video = test (NULL: ball) */
    bool screen_test;        /* courseware from a test pattern instead of the X screen (tests) */
} bbt_pipeline_opts;

#define BBT_X264_FAST_MAX_PIXELS (960 * 540)

typedef struct bbt_pipeline bbt_pipeline;

/* Build (not start) the pipeline. cfg and q are borrowed (transfer none) and must outlive it;
 * opts may be NULL. NULL with *err = BBT_ENOMEM, or BBT_EIO when a GStreamer element is
 * missing from the system. A configuration whose every source is missing still gives a
 * pipeline (with no tracks): the caller decides. */
bbt_pipeline *bbt_pipeline_new(const bbt_node_config *cfg, const bbt_pipeline_opts *opts,
                               bbt_txq *q, int *err);
void bbt_pipeline_free(bbt_pipeline *p);

/* PLAYING. BBT_OK or BBT_EIO (the bus has the error). */
int bbt_pipeline_start(bbt_pipeline *p);
/* NULL state: no more frames are pushed once it returns. */
void bbt_pipeline_stop(bbt_pipeline *p);

/* The pipeline element (transfer none), to watch its bus. */
GstElement *bbt_pipeline_element(bbt_pipeline *p);

/* Copy the track list into out[0..max); returns how many tracks there are; *ready (may be
 * NULL) tells whether every codec string is known yet. Thread-safe. */
size_t bbt_pipeline_tracks(bbt_pipeline *p, bbt_track_info *out, size_t max, bool *ready);
/* Bit mask of the H.264 track ids (video and courseware). */
uint32_t bbt_pipeline_video_mask(const bbt_pipeline *p);
/* BBT_MISSING_* of the configured sources that were left out. */
unsigned bbt_pipeline_missing(const bbt_pipeline *p);

/* Ask the encoder of `track` (-1: every H.264 track) for a keyframe now (an upstream
 * force-key-unit event on the encoder's src pad; honoured at its next frame). BBT_OK, or
 * BBT_ENOTFOUND when there is no such H.264 track. */
int bbt_pipeline_force_key(bbt_pipeline *p, int track);
/* Call a few times a second: when the next keyframe grid point is near, every camera layer is
 * told to make its keyframe at exactly that running time. */
void bbt_pipeline_tick_keys(bbt_pipeline *p);

/* The wall-clock capture time in µs for a buffer PTS under `seg`, with the pipeline's base time
 * on a REALTIME clock; -1 when the PTS is invalid or outside the segment. */
int64_t bbt_capture_us(const GstSegment *seg, GstClockTime pts, GstClockTime base_time);

/* Which configured sources, among `mask` (BBT_MISSING_*), can be opened now (probes them). */
unsigned bbt_sources_available(const bbt_node_config *cfg, unsigned mask);

#endif
