/* relay/queue.h — one viewer's bounded queue of shared frames, and its drop policy.
 *
 * The queue holds references (never copies) in arrival order. It is bounded three ways: entry
 * count (a ring that grows on demand up to the limit; a growth that cannot allocate counts as a
 * full ring), bytes referenced, and delay (how long its oldest entry has waited, in the
 * relay's monotonic clock). When a new frame would break a bound, the policy is, in order:
 *   1. Video goes first, a whole group of pictures at a time: for each video track in the queue,
 *      frames before that track's newest queued keyframe are dropped, so what remains still
 *      decodes. A track whose queue holds no later keyframe is dropped entirely and the track is
 *      marked "awaiting keyframe": its frames are refused until the next keyframe arrives (the
 *      caller sees bbt_queue_awaiting_key() and may ask the publisher for one).
 *   2. Only when no video is left is the oldest audio dropped: audio is never dropped while the
 *      link carries it, because a link that carries audio never lets it wait max_delay.
 * A single frame larger than max_bytes is refused (video: and its track awaits a keyframe).
 * Consequences: the delay a viewer sees is bounded by max_delay; a slow viewer only ever loses
 * its own frames. Not thread-safe: the relay's event-loop thread owns every queue.
 */
#ifndef BBT_QUEUE_H
#define BBT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "frame_ref.h"

typedef struct bbt_queue bbt_queue;

typedef struct bbt_queue_limits {
    uint32_t max_frames;  /* entries, rounded up to a power of two (≥ 8); the ring starts at 16
                           * entries and doubles on demand up to this */
    size_t max_bytes;     /* bytes referenced */
    int64_t max_delay_us; /* wait of the oldest entry */
} bbt_queue_limits;

typedef struct bbt_queue_stats {
    uint64_t pushed;             /* frames accepted */
    uint64_t popped;             /* frames handed to the socket */
    uint64_t dropped_video;      /* queued video frames dropped by the policy */
    uint64_t dropped_audio;      /* queued audio frames dropped by the policy */
    uint64_t refused_await_key;  /* video refused while its track awaited a keyframe */
    uint64_t refused_oversize;   /* single frames larger than max_bytes */
    uint64_t key_waits;          /* times a track started awaiting a keyframe */
} bbt_queue_stats;

/* NULL when out of memory or a limit is zero. */
bbt_queue *bbt_queue_new(const bbt_queue_limits *lim);

/* Releases every queued reference. NULL is ignored. */
void bbt_queue_free(bbt_queue *q);

/* Offer a frame (its cls, track and flags set) at monotonic time now_us. On BBT_OK the queue
 * holds its own reference; otherwise the frame was refused (BBT_EFULL) and the caller keeps its
 * reference either way. */
int bbt_queue_push(bbt_queue *q, bbt_frame_ref *ref, int64_t now_us);

/* The oldest frame (borrowed), or NULL when empty. */
bbt_frame_ref *bbt_queue_peek(const bbt_queue *q);

/* Remove the oldest frame, releasing the queue's reference; returns how long it waited (µs),
 * or -1 when the queue was empty. */
int64_t bbt_queue_pop(bbt_queue *q, int64_t now_us);

/* The oldest frame of class `cls` (enum bbt_track_class; borrowed), or NULL; *pos gets its
 * position (0 = the oldest entry). With bbt_queue_pop_at the writer sends audio ahead of video
 * that waits longer (docs/PROTOCOL.md §2.5): the order within each track never changes. */
bbt_frame_ref *bbt_queue_peek_class(const bbt_queue *q, unsigned cls, size_t *pos);

/* Remove the entry at `pos`, releasing the queue's reference; the others keep their order.
 * Returns how long it waited (µs), or -1 when pos is out of range. */
int64_t bbt_queue_pop_at(bbt_queue *q, size_t pos, int64_t now_us);

/* Drop everything of one track (a layer switch away from it); returns frames dropped. */
size_t bbt_queue_drop_track(bbt_queue *q, unsigned track);

/* Mark a video track as awaiting a keyframe (a viewer switching onto it). */
void bbt_queue_await_key(bbt_queue *q, unsigned track);

int bbt_queue_awaiting_key(const bbt_queue *q, unsigned track);
size_t bbt_queue_count(const bbt_queue *q);
size_t bbt_queue_bytes(const bbt_queue *q);
/* How long the oldest entry has waited, µs (0 when empty). */
int64_t bbt_queue_delay(const bbt_queue *q, int64_t now_us);
const bbt_queue_stats *bbt_queue_get_stats(const bbt_queue *q);

#endif
