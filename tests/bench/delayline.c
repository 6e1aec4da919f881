/* tests/bench/delayline.c — bbt-linkemu's packet scheduler (see delayline.h). */
#include "delayline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_rand(delayline *d)
{
    uint64_t x = d->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int dl_init(delayline *d, const dl_params *p, size_t cap, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (cap == 0) {
        errno = EINVAL;
        return -1;
    }
    d->ring = calloc(cap, sizeof *d->ring);
    if (!d->ring)
        return -1;
    d->cap = cap;
    d->p = *p;
    if (d->p.delay_us < 0)
        d->p.delay_us = 0;
    if (d->p.jitter_us < 0)
        d->p.jitter_us = 0;
    if (d->p.jitter_us > d->p.delay_us)
        d->p.jitter_us = d->p.delay_us;
    if (d->p.loss_ppm > 1000000)
        d->p.loss_ppm = 1000000;
    d->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    return 0;
}

void dl_free(delayline *d)
{
    free(d->ring);
    d->ring = NULL;
    d->cap = d->count = 0;
}

enum dl_verdict dl_offer(delayline *d, uint32_t id, int64_t now)
{
    d->st.offered++;
    if (d->p.loss_ppm && next_rand(d) % 1000000u < d->p.loss_ppm) {
        d->st.dropped++;
        return DL_DROP;
    }
    if (d->count == d->cap) {
        d->st.overflow++;
        d->st.released++;
        return DL_PASS;
    }
    int64_t j = 0;
    if (d->p.jitter_us > 0) {
        uint64_t span = (uint64_t)d->p.jitter_us * 2 + 1;
        j = (int64_t)(next_rand(d) % span) - d->p.jitter_us;
    }
    int64_t due = now + d->p.delay_us + j;
    if (due < now)
        due = now;
    if (due < d->last_due_us)
        due = d->last_due_us; /* no reordering */
    d->ring[(d->head + d->count) % d->cap] = (dl_entry){id, due};
    d->count++;
    d->last_due_us = due;
    d->st.delay_sum_us += due - now;
    if (d->count > d->st.max_held)
        d->st.max_held = d->count;
    return DL_HELD;
}

bool dl_pop_any(delayline *d, uint32_t *id)
{
    if (!d->count)
        return false;
    *id = d->ring[d->head].id;
    d->head = (d->head + 1) % d->cap;
    d->count--;
    d->st.released++;
    return true;
}

bool dl_pop_due(delayline *d, int64_t now, uint32_t *id)
{
    if (!d->count || d->ring[d->head].due_us > now)
        return false;
    return dl_pop_any(d, id);
}

int64_t dl_next_due(const delayline *d)
{
    return d->count ? d->ring[d->head].due_us : INT64_MAX;
}

size_t dl_held(const delayline *d) { return d->count; }
