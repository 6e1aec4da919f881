/* relay/gop_cache.h — the frames of one video track since its last keyframe.
 *
 * A viewer that joins, or switches onto this track, is given these frames first, so it decodes at
 * once instead of waiting up to a keyframe interval. The cache holds one reference per frame. It
 * starts at a keyframe (frames before the first keyframe are ignored) and is emptied by the next
 * one. If the group grows past max_bytes (an encoder that stopped sending keyframes) the cache
 * empties and waits for the next keyframe: a viewer joining then waits too, but memory stays
 * bounded. max_bytes = 0 disables caching.
 */
#ifndef BBT_GOP_CACHE_H
#define BBT_GOP_CACHE_H

#include <stddef.h>

#include "frame_ref.h"

typedef struct bbt_gop_cache bbt_gop_cache;

/* NULL when out of memory. */
bbt_gop_cache *bbt_gop_cache_new(size_t max_bytes);

/* Releases every cached reference. NULL is ignored. */
void bbt_gop_cache_free(bbt_gop_cache *c);

/* Offer the track's next frame. Returns BBT_OK (cached or ignored by rule), or BBT_ENOMEM (the
 * cache then empties and waits for the next keyframe; the caller keeps its reference). */
int bbt_gop_cache_push(bbt_gop_cache *c, bbt_frame_ref *ref);

/* Number of cached frames; the first, if any, is a keyframe. */
size_t bbt_gop_cache_count(const bbt_gop_cache *c);

/* Frame i (borrowed: hold it to keep it), 0 ≤ i < count. */
bbt_frame_ref *bbt_gop_cache_at(const bbt_gop_cache *c, size_t i);

/* Bytes currently referenced. */
size_t bbt_gop_cache_bytes(const bbt_gop_cache *c);

/* Empty the cache (publisher gone); it waits for the next keyframe. */
void bbt_gop_cache_clear(bbt_gop_cache *c);

#endif
