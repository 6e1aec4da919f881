/* node/play_internal.h — what play.c (link side) and play_pipe.c (GStreamer side) share. */
#ifndef BBT_NODE_PLAY_INTERNAL_H
#define BBT_NODE_PLAY_INTERNAL_H

#include <gst/gst.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/node_config.h"
#include "node/play.h"

#define PLAY_LAT_SAMPLES 512

/* Figures shared by the link thread, the decoder's streaming thread and the main loop; every
 * field is guarded by the mutex of the owning bbt_play_pipe. */
struct play_stats {
    uint64_t bytes, frames_in, frames_decoded, frames_dropped;
    int64_t frames_pushed;             /* into the decoder since the last skip (backlog) */
    uint64_t stalls, stall_ms;
    int64_t stall_since_us;            /* 0: not stalled */
    int64_t last_decoded_us;           /* monotonic µs of the last decoded picture */
    int64_t last_decoded_capture_us;   /* its capture_us */
    int64_t last_in_capture_us;        /* capture_us of the newest video frame received */
    int64_t last_audio_us;             /* monotonic µs of the last audio frame received */
    int layer;                         /* video track id last pushed, -1 none */
    double lat_ms[PLAY_LAT_SAMPLES];   /* latencies since the last report */
    unsigned nlat;
};

typedef struct bbt_play_pipe bbt_play_pipe;

/* Build and start the playback pipeline (fake: fakesinks). NULL on failure (logged). */
bbt_play_pipe *bbt_play_pipe_new(const bbt_node_config *cfg, bool fake);
void bbt_play_pipe_free(bbt_play_pipe *pp);

/* Link thread: push one frame (copied). Returns false when it was dropped. */
bool bbt_play_pipe_push_video(bbt_play_pipe *pp, int track, unsigned flags, int64_t capture_us,
                              const uint8_t *data, size_t len);
void bbt_play_pipe_push_audio(bbt_play_pipe *pp, int channels, int64_t capture_us,
                              const uint8_t *data, size_t len);
/* The stream restarts (new subscription, publisher back): wait for a keyframe. */
void bbt_play_pipe_reset_video(bbt_play_pipe *pp);

/* Any thread: a consistent copy of the figures; with reset_window the latency samples are
 * taken out. Also updates the stall accounting with `live` (a stall is only counted while the
 * lesson is live). */
void bbt_play_pipe_stats(bbt_play_pipe *pp, bool live, bool reset_window, struct play_stats *out);
void bbt_play_pipe_add_bytes(bbt_play_pipe *pp, size_t n);

/* Main loop: show the lesson (text NULL) or the message screen with `text` (a static string).
 * Returns true when what is on screen changed. */
bool bbt_play_pipe_show(bbt_play_pipe *pp, const char *text);
/* Main loop: bus of the pipeline (transfer none), to watch it. */
GstElement *bbt_play_pipe_element(bbt_play_pipe *pp);

int64_t bbt_play_mono_us(void);
int64_t bbt_play_wall_us(void);

#endif
