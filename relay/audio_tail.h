/* relay/audio_tail.h — the last frames of one audio track, for a viewer's audio copy.
 *
 * An audio copy (docs/PROTOCOL.md §3.5) subscribes when its main connection is held up by a
 * lost packet, or with the lesson on a far link while the main connection still carries the
 * join's group of pictures; either way the main connection is behind. A copy that starts at the
 * newest frame cannot bring the frames the main connection is still waiting for: the player
 * takes frames in sequence, so it waits for them (flaky-3g: 220 ms of silence at the start of
 * most runs, main's audio 130 ms behind the copy's and then held by a loss). Given the tail
 * first, the copy brings them too; the player drops what came already (duplicates).
 * A ring of at most BBT_AUDIO_TAIL_MAX frames, oldest first, one reference each.
 */
#ifndef BBT_AUDIO_TAIL_H
#define BBT_AUDIO_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "frame_ref.h"

/* 64 frames: 1.28 s of 20 ms Opus packets. */
#define BBT_AUDIO_TAIL_MAX 64

typedef struct bbt_audio_tail bbt_audio_tail;

/* NULL when out of memory. */
bbt_audio_tail *bbt_audio_tail_new(void);

/* Releases every frame held. NULL is ignored. */
void bbt_audio_tail_free(bbt_audio_tail *t);

/* Hold `ref` as the newest frame; the oldest is released when the ring is full. */
void bbt_audio_tail_push(bbt_audio_tail *t, bbt_frame_ref *ref);

/* Release every frame (the publisher went away). */
void bbt_audio_tail_clear(bbt_audio_tail *t);

size_t bbt_audio_tail_count(const bbt_audio_tail *t);

/* Frame i, 0 the oldest (borrowed: hold it to keep it); NULL when i ≥ count. */
bbt_frame_ref *bbt_audio_tail_at(const bbt_audio_tail *t, size_t i);

/* Index of the oldest frame captured at most `span_us` before the newest (count when empty):
 * the frames from there on are the last span_us of the track. */
size_t bbt_audio_tail_from(const bbt_audio_tail *t, uint64_t span_us);

#endif
