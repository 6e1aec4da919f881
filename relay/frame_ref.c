/* relay/frame_ref.c — shared, refcounted media frames (see frame_ref.h). */
#include "frame_ref.h"

#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

static size_t block_size(size_t cap)
{
    return sizeof(bbt_frame_ref) + BBT_FRAME_REF_HEADROOM + cap;
}

bbt_frame_ref *bbt_frame_ref_new(size_t cap)
{
    if (cap == 0)
        cap = 64;
    bbt_frame_ref *r = malloc(block_size(cap));
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->refs = 1;
    r->cap = cap;
    r->data = (uint8_t *)(r + 1) + BBT_FRAME_REF_HEADROOM;
    return r;
}

int bbt_frame_ref_append(bbt_frame_ref **ref, const void *p, size_t n, size_t max)
{
    bbt_frame_ref *r = *ref;
    if (n > max || r->len > max - n)
        return BBT_ELIMIT;
    if (r->len + n > r->cap) {
        size_t cap = r->cap;
        while (cap < r->len + n)
            cap = cap > max / 2 ? max : cap * 2;
        bbt_frame_ref *g = realloc(r, block_size(cap));
        if (!g)
            return BBT_ENOMEM;
        g->cap = cap;
        g->data = (uint8_t *)(g + 1) + BBT_FRAME_REF_HEADROOM;
        *ref = r = g;
    }
    if (n)
        memcpy(r->data + r->len, p, n);
    r->len += n;
    return BBT_OK;
}

bbt_frame_ref *bbt_frame_ref_hold(bbt_frame_ref *ref)
{
    ref->refs++;
    return ref;
}

void bbt_frame_ref_release(bbt_frame_ref *ref)
{
    if (ref && --ref->refs == 0)
        free(ref);
}
