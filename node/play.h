/* node/play.h — the play (kiosk) role: subscribe to a session and render it.
 *
 *   relay ─ link thread ─┬─ appsrc (H.264 AU) ─ h264parse ─ avdec_h264 ─┐
 *                        │      black + "等待上课… / Waiting for the lesson" ─ input-selector ─ video sink
 *                        └─ appsrc (Opus) ─ opusparse ─ opusdec ─ audioconvert ─ audio sink
 *
 * The link thread (link.h) receives frames and pushes them into the appsrcs (their internal
 * queues are the hand-over between threads); video is pushed from a keyframe on, and when the
 * decoder falls 75 pictures (3 s at 25 fps) behind, the backlog is cut at the next keyframe. Frame
 * timestamps carry capture_us through the decoder, so a pad probe at the decoder's output
 * measures glass-to-glass latency (wall clock now − capture_us; node and publisher are assumed
 * NTP-synchronised).
 *
 * The main loop (every 250 ms) chooses what is on screen: the lesson while pictures are
 * decoded, else the message screen with a text for the situation (connecting, waiting for the
 * lesson, interrupted, ended). A report (docs/PROTOCOL.md §3.8) goes to the relay once a second.
 * At exit one log line gives the totals: "play: frames_decoded=N frames_dropped=N ...".
 *
 * [play] sink = fake uses fakesinks (tests, measurements); fullscreen asks the video sink for
 * full screen where it supports it. cfg is borrowed and must outlive the player; create and
 * free on the main-loop thread. */
#ifndef BBT_NODE_PLAY_H
#define BBT_NODE_PLAY_H

#include "config/node_config.h"

typedef struct bbt_player bbt_player;

typedef struct bbt_play_opts {
    const char *token;   /* hello.token; copied */
    const char *session; /* the session to watch; copied */
} bbt_play_opts;

/* NULL with *err (BBT_ENOMEM, BBT_EINVAL bad relay URL, BBT_EIO pipeline or link). */
bbt_player *bbt_play_new(const bbt_node_config *cfg, const bbt_play_opts *o, int *err);
/* bye, stop, log the totals, free. NULL is fine. */
void bbt_play_free(bbt_player *p);

#endif
