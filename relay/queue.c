/* relay/queue.c — bounded per-viewer queue and its drop policy (see queue.h). */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/status.h"

struct entry {
    bbt_frame_ref *ref;
    int64_t enq_us;
};

struct bbt_queue {
    struct entry *ring;
    uint32_t mask;      /* ring capacity - 1; the ring grows on demand up to lim.max_frames */
    uint32_t head;      /* index of the oldest entry */
    uint32_t count;
    size_t bytes;
    uint32_t await_key; /* bit t: video track t refuses frames until a keyframe */
    uint8_t *keep;      /* scratch for the drop policy, one byte per ring slot */
    bbt_queue_limits lim;
    bbt_queue_stats stats;
};

static struct entry *at(const bbt_queue *q, uint32_t i)
{
    return &q->ring[(q->head + i) & q->mask];
}

/* An idle viewer's queue is small: the ring starts at QUEUE_START_CAP entries and doubles when a
 * push finds it full, up to the limit (docs/PERFORMANCE.md § Memory: most viewers never hold more
 * than a few dozen frames). */
#define QUEUE_START_CAP 16u

bbt_queue *bbt_queue_new(const bbt_queue_limits *lim)
{
    if (!lim || lim->max_frames == 0 || lim->max_bytes == 0 || lim->max_delay_us <= 0)
        return NULL;
    uint32_t max = 8;
    while (max < lim->max_frames && max < (1u << 20))
        max <<= 1;
    uint32_t cap = max < QUEUE_START_CAP ? max : QUEUE_START_CAP;
    bbt_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = calloc(cap, sizeof *q->ring);
    q->keep = malloc(cap);
    if (!q->ring || !q->keep) {
        free(q->ring);
        free(q->keep);
        free(q);
        return NULL;
    }
    q->mask = cap - 1;
    q->lim = *lim;
    q->lim.max_frames = max;
    return q;
}

/* Double the ring, keeping the entries in order from index 0. On failure (out of memory) the
 * queue is unchanged and simply counts as full: the drop policy then makes room. */
static int grow(bbt_queue *q)
{
    uint32_t cap = q->mask + 1, ncap = cap * 2;
    if (cap >= q->lim.max_frames)
        return BBT_EFULL;
    struct entry *ring = malloc((size_t)ncap * sizeof *ring);
    uint8_t *keep = malloc(ncap);
    if (!ring || !keep) {
        free(ring);
        free(keep);
        return BBT_ENOMEM;
    }
    for (uint32_t i = 0; i < q->count; i++)
        ring[i] = *at(q, i);
    free(q->ring);
    free(q->keep);
    q->ring = ring;
    q->keep = keep;
    q->head = 0;
    q->mask = ncap - 1;
    return BBT_OK;
}

void bbt_queue_free(bbt_queue *q)
{
    if (!q)
        return;
    for (uint32_t i = 0; i < q->count; i++)
        bbt_frame_ref_release(at(q, i)->ref);
    free(q->ring);
    free(q->keep);
    free(q);
}

/* May grow the ring (hence not const). */
static int over_limits(bbt_queue *q, size_t incoming, int64_t now_us)
{
    if (q->bytes + incoming > q->lim.max_bytes)
        return 1;
    if (q->count == q->mask + 1 && grow(q) != BBT_OK)
        return 1;
    return q->count > 0 && now_us - at(q, 0)->enq_us > q->lim.max_delay_us;
}

/* Keep the entries for which keep[i] is set, in order; release and count the others. */
static void compact(bbt_queue *q, const uint8_t *keep)
{
    uint32_t w = 0;
    for (uint32_t r = 0; r < q->count; r++) {
        struct entry e = *at(q, r);
        if (keep[r]) {
            *at(q, w++) = e;
            continue;
        }
        q->bytes -= e.ref->len;
        if (e.ref->cls == BBT_CLASS_AUDIO)
            q->stats.dropped_audio++;
        else
            q->stats.dropped_video++;
        bbt_frame_ref_release(e.ref);
    }
    q->count = w;
}

/* Policy step 1 (queue.h): drop video a group of pictures at a time. Returns frames dropped.
 * `incoming` is the frame being offered: a track it restarts with a keyframe needs no await. */
static uint32_t drop_video(bbt_queue *q, const bbt_frame_ref *incoming, uint8_t *keep)
{
    int32_t first[BBT_FRAME_MAX_TRACKS], lastkey[BBT_FRAME_MAX_TRACKS];
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
        first[t] = lastkey[t] = -1;
    for (uint32_t i = 0; i < q->count; i++) {
        const bbt_frame_ref *r = at(q, i)->ref;
        if (r->cls == BBT_CLASS_AUDIO)
            continue;
        if (first[r->track] < 0)
            first[r->track] = (int32_t)i;
        if (r->flags & BBT_FRAME_KEY)
            lastkey[r->track] = (int32_t)i;
    }
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < q->count; i++) {
        const bbt_frame_ref *r = at(q, i)->ref;
        keep[i] = 1;
        if (r->cls == BBT_CLASS_AUDIO)
            continue;
        /* A later keyframe exists: drop up to it. Otherwise the whole track goes. */
        int whole = lastkey[r->track] <= first[r->track];
        if (whole || (int32_t)i < lastkey[r->track]) {
            keep[i] = 0;
            dropped++;
            if (whole && !(incoming->cls != BBT_CLASS_AUDIO && incoming->track == r->track &&
                           (incoming->flags & BBT_FRAME_KEY)) &&
                !(q->await_key & (1u << r->track))) {
                q->await_key |= 1u << r->track;
                q->stats.key_waits++;
            }
        }
    }
    if (dropped)
        compact(q, keep);
    return dropped;
}

/* Policy step 2: drop the oldest audio entry. Returns 1 if one was dropped. */
static int drop_oldest_audio(bbt_queue *q, uint8_t *keep)
{
    for (uint32_t i = 0; i < q->count; i++) {
        if (at(q, i)->ref->cls != BBT_CLASS_AUDIO)
            continue;
        memset(keep, 1, q->count);
        keep[i] = 0;
        compact(q, keep);
        return 1;
    }
    return 0;
}

/* Video refused while its track awaits a keyframe; a keyframe ends the wait. */
static int refuse_awaiting(bbt_queue *q, const bbt_frame_ref *ref)
{
    if (ref->cls == BBT_CLASS_AUDIO || !(q->await_key & (1u << ref->track)))
        return 0;
    if (ref->flags & BBT_FRAME_KEY) {
        q->await_key &= ~(1u << ref->track);
        return 0;
    }
    q->stats.refused_await_key++;
    return 1;
}

int bbt_queue_push(bbt_queue *q, bbt_frame_ref *ref, int64_t now_us)
{
    if (refuse_awaiting(q, ref))
        return BBT_EFULL;
    if (ref->len > q->lim.max_bytes) {
        q->stats.refused_oversize++;
        if (ref->cls != BBT_CLASS_AUDIO)
            bbt_queue_await_key(q, ref->track);
        return BBT_EFULL;
    }
    while (over_limits(q, ref->len, now_us))
        if (drop_video(q, ref, q->keep) == 0 && !drop_oldest_audio(q, q->keep))
            break; /* empty queue: cannot happen, the frame alone fits every bound */
    /* Dropping may have put this very frame's track into the keyframe wait. */
    if (refuse_awaiting(q, ref) || q->count == q->mask + 1)
        return BBT_EFULL;
    struct entry *e = at(q, q->count++);
    e->ref = bbt_frame_ref_hold(ref);
    e->enq_us = now_us;
    q->bytes += ref->len;
    q->stats.pushed++;
    return BBT_OK;
}

bbt_frame_ref *bbt_queue_peek(const bbt_queue *q)
{
    return q->count ? at(q, 0)->ref : NULL;
}

int64_t bbt_queue_pop(bbt_queue *q, int64_t now_us)
{
    return bbt_queue_pop_at(q, 0, now_us);
}

bbt_frame_ref *bbt_queue_peek_class(const bbt_queue *q, unsigned cls, size_t *pos)
{
    for (uint32_t i = 0; i < q->count; i++)
        if (at(q, i)->ref->cls == cls) {
            *pos = i;
            return at(q, i)->ref;
        }
    return NULL;
}

int64_t bbt_queue_pop_at(bbt_queue *q, size_t pos, int64_t now_us)
{
    if (pos >= q->count)
        return -1;
    struct entry e = *at(q, (uint32_t)pos);
    for (uint32_t i = (uint32_t)pos; i > 0; i--) /* the older entries move up by one */
        *at(q, i) = *at(q, i - 1);
    at(q, 0)->ref = NULL;
    int64_t waited = now_us - e.enq_us;
    q->bytes -= e.ref->len;
    bbt_frame_ref_release(e.ref);
    q->head = (q->head + 1) & q->mask;
    q->count--;
    q->stats.popped++;
    return waited < 0 ? 0 : waited;
}

size_t bbt_queue_drop_track(bbt_queue *q, unsigned track)
{
    uint32_t before = q->count, w = 0;
    for (uint32_t r = 0; r < q->count; r++) {
        struct entry e = *at(q, r);
        if (e.ref->track == track) {
            q->bytes -= e.ref->len;
            bbt_frame_ref_release(e.ref);
            continue;
        }
        *at(q, w++) = e;
    }
    q->count = w;
    return before - w;
}

void bbt_queue_await_key(bbt_queue *q, unsigned track)
{
    if (track < BBT_FRAME_MAX_TRACKS && !(q->await_key & (1u << track))) {
        q->await_key |= 1u << track;
        q->stats.key_waits++;
    }
}

int bbt_queue_awaiting_key(const bbt_queue *q, unsigned track)
{
    return track < BBT_FRAME_MAX_TRACKS && (q->await_key >> track) & 1u;
}

size_t bbt_queue_count(const bbt_queue *q) { return q->count; }
size_t bbt_queue_bytes(const bbt_queue *q) { return q->bytes; }

int64_t bbt_queue_delay(const bbt_queue *q, int64_t now_us)
{
    return q->count ? now_us - at(q, 0)->enq_us : 0;
}

const bbt_queue_stats *bbt_queue_get_stats(const bbt_queue *q) { return &q->stats; }
