/* node/txq.h — encoded frames on their way out, and the bounded queue between the GStreamer
 * streaming threads (producers) and the one uplink thread (consumer).
 *
 * A bbt_node_frame is one encoded frame in a single allocation with room in front of the
 * payload for the WebSocket header (LWS_PRE) and the 16-byte media header, so the uplink
 * writes it with one lws_write and no copy.
 *
 * The queue is bounded by MEDIA TIME (newest capture_us − oldest capture_us ≤ max_delay) and by
 * bytes. When a push goes over either bound, the queue drops, in this order (the written drop
 * policy): the oldest video frames of one video track up to that track's next keyframe (the
 * group of pictures that can no longer be shown in time); when that track has no later keyframe
 * queued, all of its frames, and the track then waits for a keyframe (non-key frames pushed
 * for it are dropped, and bbt_txq_take_key_wanted() reports it so an encoder can be asked);
 * audio only when no video is left. So audio is never dropped first.
 *
 * A closed queue (the uplink is not publishing: disconnected, or before "published") takes no
 * frames: every push is dropped at once, so nothing piles up while the relay is away.
 *
 * Thread safety: every function may be called from any thread; one mutex guards the queue and
 * the notify function is called after it is released (never under the lock).
 * Ownership: push takes the frame (transfer full) even when it drops it; pop gives the frame to
 * the caller (transfer full), who frees it with bbt_node_frame_free(). */
#ifndef BBT_NODE_TXQ_H
#define BBT_NODE_TXQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"

/* Room before the media header: must be >= LWS_PRE (uplink.c checks it at compile time). */
#define BBT_NODE_FRAME_HEADROOM 32

typedef struct bbt_node_frame {
    struct bbt_node_frame *next; /* queue link, owned by the queue */
    uint8_t track;
    uint8_t flags;               /* BBT_FRAME_* */
    bool audio;                  /* audio frames are dropped last */
    int64_t capture_us;          /* wall-clock capture time (µs since the epoch) */
    size_t len;                  /* payload bytes */
    /* BBT_NODE_FRAME_HEADROOM + BBT_FRAME_HEADER_LEN + len bytes */
    uint8_t buf[];
} bbt_node_frame;

/* A frame with an uninitialised payload of `len` bytes; NULL when out of memory. */
bbt_node_frame *bbt_node_frame_new(size_t len);
void bbt_node_frame_free(bbt_node_frame *f);
/* Where the payload goes (transfer none). */
uint8_t *bbt_node_frame_payload(bbt_node_frame *f);
/* Write the media header for sequence number `seq` in front of the payload; returns the start of
 * the header (the message to send is BBT_FRAME_HEADER_LEN + f->len bytes from there), or NULL
 * when the frame would not be valid on the wire (bbt_frame_encode_header refused it). */
uint8_t *bbt_node_frame_seal(bbt_node_frame *f, uint32_t seq);

typedef struct bbt_txq bbt_txq;

typedef struct bbt_txq_stats {
    uint64_t pushed, popped;
    uint64_t dropped_closed;  /* pushed while closed */
    uint64_t dropped_video;   /* dropped by the policy: video */
    uint64_t dropped_audio;   /* dropped by the policy: audio */
    uint64_t dropped_nokey;   /* video that arrived while its track waited for a keyframe */
    size_t frames, bytes;     /* queued now */
} bbt_txq_stats;

/* notify(ud) runs after every accepted push, on the pushing thread, with no lock held (the
 * uplink wakes its service loop with it). It may be NULL. */
bbt_txq *bbt_txq_new(int64_t max_delay_us, size_t max_bytes, void (*notify)(void *ud), void *ud);
void bbt_txq_free(bbt_txq *q);

/* Take `f` (transfer full). BBT_OK when queued, BBT_EFULL when dropped (closed, waiting for a
 * keyframe, or dropped by the policy at once), BBT_EINVAL for NULL. */
int bbt_txq_push(bbt_txq *q, bbt_node_frame *f);
/* The oldest frame (transfer full), or NULL when empty. */
bbt_node_frame *bbt_txq_pop(bbt_txq *q);

/* Open: frames are taken, and every track in `video_mask` (bit = track id) waits for its next
 * keyframe, so what follows is decodable on its own. Closed: everything queued is freed and
 * pushes are dropped. */
void bbt_txq_open(bbt_txq *q, uint32_t video_mask);
void bbt_txq_close(bbt_txq *q);
bool bbt_txq_is_open(bbt_txq *q);

/* Tracks that lost frames to the policy and wait for a keyframe since the last call (bit =
 * track id); the caller asks their encoders for one. Clears the set. */
uint32_t bbt_txq_take_key_wanted(bbt_txq *q);

bbt_txq_stats bbt_txq_get_stats(bbt_txq *q);

#endif
