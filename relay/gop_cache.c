/* relay/gop_cache.c — frames since the last keyframe of one video track (see gop_cache.h). */
#include "gop_cache.h"

#include <stdlib.h>

#include "proto/frame.h"
#include "proto/status.h"

struct bbt_gop_cache {
    bbt_frame_ref **frames;
    size_t count, cap;
    size_t bytes, max_bytes;
};

bbt_gop_cache *bbt_gop_cache_new(size_t max_bytes)
{
    bbt_gop_cache *c = calloc(1, sizeof *c);
    if (c)
        c->max_bytes = max_bytes;
    return c;
}

void bbt_gop_cache_clear(bbt_gop_cache *c)
{
    for (size_t i = 0; i < c->count; i++)
        bbt_frame_ref_release(c->frames[i]);
    c->count = 0;
    c->bytes = 0;
}

void bbt_gop_cache_free(bbt_gop_cache *c)
{
    if (!c)
        return;
    bbt_gop_cache_clear(c);
    free(c->frames);
    free(c);
}

int bbt_gop_cache_push(bbt_gop_cache *c, bbt_frame_ref *ref)
{
    if (ref->flags & BBT_FRAME_KEY)
        bbt_gop_cache_clear(c);
    else if (c->count == 0)
        return BBT_OK; /* no keyframe yet: nothing decodable to cache */
    if (c->bytes + ref->len > c->max_bytes) {
        bbt_gop_cache_clear(c);
        return BBT_OK;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        bbt_frame_ref **f = realloc(c->frames, cap * sizeof *f);
        if (!f) {
            bbt_gop_cache_clear(c);
            return BBT_ENOMEM;
        }
        c->frames = f;
        c->cap = cap;
    }
    c->frames[c->count++] = bbt_frame_ref_hold(ref);
    c->bytes += ref->len;
    return BBT_OK;
}

size_t bbt_gop_cache_count(const bbt_gop_cache *c) { return c->count; }
size_t bbt_gop_cache_bytes(const bbt_gop_cache *c) { return c->bytes; }

bbt_frame_ref *bbt_gop_cache_at(const bbt_gop_cache *c, size_t i)
{
    return i < c->count ? c->frames[i] : NULL;
}
