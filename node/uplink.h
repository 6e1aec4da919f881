/* node/uplink.h — publishing: frames from the pipeline's appsinks go through the bounded queue
 * this module owns (bbt_uplink_queue) to ONE uplink thread (a bbt_link, link.h) that says
 * hello (role source), publishes the track list, and writes every frame as one binary message
 * in the proto/ framing, with per-track sequence numbers.
 *
 *   - The queue is opened when the relay answers "published", with every video track waiting
 *     for a keyframe (and every encoder asked for one), and closed when the connection goes:
 *     while disconnected the pipeline keeps running and its frames are dropped.
 *   - A "keyframe" request from the relay calls key_fn(track) on the uplink thread (no lock
 *     held); so does the queue's drop policy when a track lost its group of pictures.
 *   - The track list may change at any time (bbt_uplink_set_tracks, any thread): it is
 *     published again on the same connection.
 *   - bbt_uplink_stop() sends an END frame on every track and a bye, then closes with 1000.
 *   - Latency: now − capture_us when lws_write returns, per frame, kept in histograms for the
 *     summary (bbt_uplink_summary).
 *
 * Logging: "publishing session=... tracks: ..." once published, "keyframe request track=N",
 * "hand raised by ...", plus the link's lines (connected, lost, reconnecting in N s). */
#ifndef BBT_NODE_UPLINK_H
#define BBT_NODE_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/link.h"
#include "node/txq.h"
#include "proto/control.h"

typedef struct bbt_uplink bbt_uplink;

typedef struct bbt_uplink_opts {
    bbt_link_opts link;      /* role is set to "source" */
    const char *session;     /* what to publish; copied */
    int64_t queue_max_delay_ms;
} bbt_uplink_opts;

/* Called on the uplink thread with no lock held: make a keyframe on `track` (-1: all). */
typedef void (*bbt_keyframe_fn)(int track, void *ud);

/* Start (the link connects at once). ud is borrowed. NULL with *err (BBT_ENOMEM, BBT_EINVAL,
 * BBT_EIO as bbt_link_start). */
bbt_uplink *bbt_uplink_start(const bbt_uplink_opts *o, bbt_keyframe_fn key_fn, void *ud, int *err);

/* The queue the pipeline pushes into (transfer none; lives as long as the uplink). */
bbt_txq *bbt_uplink_queue(bbt_uplink *u);

/* Any thread: the tracks to publish from now on (copied). n == 0: publish nothing. */
void bbt_uplink_set_tracks(bbt_uplink *u, const bbt_track_info *tracks, size_t n);

typedef struct bbt_uplink_summary {
    uint64_t frames_sent, bytes_sent;
    uint64_t video_frames, audio_frames;
    double video_p50_ms, video_p95_ms, video_p99_ms, video_max_ms;
    double audio_p50_ms, audio_p95_ms, audio_max_ms;
    uint64_t dropped_disconnected, dropped_queue, dropped_nokey;
    unsigned connects;
} bbt_uplink_summary;

/* Any thread: bytes and frames sent so far per track id (for periodic bit rate lines). */
void bbt_uplink_counters(bbt_uplink *u, uint64_t bytes[32], uint64_t frames[32]);

/* Any thread: END frames and bye (within grace_ms), close, stop the thread, fill *sum (may be
 * NULL) and free everything. */
void bbt_uplink_stop(bbt_uplink *u, int grace_ms, bbt_uplink_summary *sum);

#endif
