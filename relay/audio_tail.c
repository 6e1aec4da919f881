/* relay/audio_tail.c — the last frames of one audio track (see audio_tail.h). */
#include "audio_tail.h"

#include <stdlib.h>

struct bbt_audio_tail {
    bbt_frame_ref *ring[BBT_AUDIO_TAIL_MAX];
    size_t head, count; /* ring[head] is the oldest */
};

bbt_audio_tail *bbt_audio_tail_new(void)
{
    return calloc(1, sizeof(bbt_audio_tail));
}

void bbt_audio_tail_clear(bbt_audio_tail *t)
{
    for (size_t i = 0; i < t->count; i++)
        bbt_frame_ref_release(t->ring[(t->head + i) % BBT_AUDIO_TAIL_MAX]);
    t->head = 0;
    t->count = 0;
}

void bbt_audio_tail_free(bbt_audio_tail *t)
{
    if (!t)
        return;
    bbt_audio_tail_clear(t);
    free(t);
}

void bbt_audio_tail_push(bbt_audio_tail *t, bbt_frame_ref *ref)
{
    if (t->count == BBT_AUDIO_TAIL_MAX) {
        bbt_frame_ref_release(t->ring[t->head]);
        t->head = (t->head + 1) % BBT_AUDIO_TAIL_MAX;
        t->count--;
    }
    t->ring[(t->head + t->count++) % BBT_AUDIO_TAIL_MAX] = bbt_frame_ref_hold(ref);
}

size_t bbt_audio_tail_count(const bbt_audio_tail *t) { return t->count; }

bbt_frame_ref *bbt_audio_tail_at(const bbt_audio_tail *t, size_t i)
{
    return i < t->count ? t->ring[(t->head + i) % BBT_AUDIO_TAIL_MAX] : NULL;
}

size_t bbt_audio_tail_from(const bbt_audio_tail *t, uint64_t span_us)
{
    if (t->count == 0)
        return 0;
    uint64_t newest = bbt_audio_tail_at(t, t->count - 1)->capture_us;
    size_t i = t->count;
    while (i > 0 && newest - bbt_audio_tail_at(t, i - 1)->capture_us <= span_us)
        i--;
    return i;
}
