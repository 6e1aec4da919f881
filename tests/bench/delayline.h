/* tests/bench/delayline.h — the packet scheduler of bbt-linkemu, pure (no I/O, no clock).
 *
 * Each packet offered at time `now` is either dropped (with probability loss) or held until
 * now + delay + a jitter drawn uniformly from [-jitter, +jitter], never earlier than the
 * packet before it (a link does not reorder: jitter only spreads packets out) and never before
 * `now`. Held packets wait in a fixed ring of `cap` entries allocated once; a packet offered
 * to a full ring is released at once and counted as `overflow` (the caller sizes the ring with
 * the kernel queue's length, so it never fills in practice). Randomness is a xorshift64* seeded
 * by the caller, so a run can be repeated exactly. Not thread-safe; no global state.
 */
#ifndef BBT_DELAYLINE_H
#define BBT_DELAYLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dl_params {
    int64_t delay_us;  /* ≥ 0 */
    int64_t jitter_us; /* ≥ 0, at most delay_us (larger is clamped to it) */
    uint32_t loss_ppm; /* drop probability in parts per million, 0..1000000 */
} dl_params;

typedef struct dl_entry {
    uint32_t id;       /* the caller's packet id */
    int64_t due_us;
} dl_entry;

typedef struct dl_stats {
    uint64_t offered, dropped, released, overflow;
    size_t max_held;
    int64_t delay_sum_us; /* sum of due − offered of the packets held */
} dl_stats;

typedef struct delayline {
    dl_params p;
    dl_entry *ring;
    size_t cap, head, count;
    int64_t last_due_us;
    uint64_t rng;
    dl_stats st;
} delayline;

enum dl_verdict { DL_DROP, DL_HELD, DL_PASS /* ring full: release now */ };

/* 0, or -1 when cap is 0 or out of memory (errno set). */
int dl_init(delayline *d, const dl_params *p, size_t cap, uint64_t seed);
void dl_free(delayline *d);

/* Offer packet `id` at time now. */
enum dl_verdict dl_offer(delayline *d, uint32_t id, int64_t now_us);

/* The oldest held packet if it is due at now (removes it): true and *id set; else false. */
bool dl_pop_due(delayline *d, int64_t now_us, uint32_t *id);

/* Remove the oldest held packet whatever its time (shutdown): true and *id set. */
bool dl_pop_any(delayline *d, uint32_t *id);

/* Time the oldest held packet is due, or INT64_MAX when none is held. */
int64_t dl_next_due(const delayline *d);

size_t dl_held(const delayline *d);

#endif
