/* relay/pace.h — when each viewer's next write may happen: a small timer wheel.
 *
 * Why: on a busy relay the price of fan-out is the system call, not the bytes: one send() per
 * frame per viewer (~80 frames a second with 20 ms audio) costs ~10 µs each on this machine
 * (docs/PERFORMANCE.md § Fan-out). The relay therefore writes a viewer's queued frames together,
 * at most once per flush interval, and this wheel says when each viewer is due. A viewer that
 * has not been written to for a whole interval is due at once, so a quiet relay adds no delay.
 *
 * The wheel holds intrusive nodes (one per connection, inside struct bbt_conn) in `slots` lists
 * of `granularity_us` each; a node is due at the first slot boundary at or after its due time,
 * and a due time beyond the wheel's horizon (slots × granularity) is clamped to the horizon. A
 * node is in the wheel at most once; adding a queued node again keeps the earlier due time.
 * Nodes due in the same slot pop in the order they were added (the current slot holds every
 * node added overdue: first come, first written).
 * Everything is O(1) but bbt_pace_next_due (O(slots)). No I/O, no clock of its own: callers pass
 * the time. Not thread-safe: the relay's event-loop thread owns it.
 */
#ifndef BBT_PACE_H
#define BBT_PACE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct bbt_pace_node {
    struct bbt_pace_node *prev, *next;
    unsigned slot;
    bool queued;
} bbt_pace_node;

typedef struct bbt_pace bbt_pace;

/* NULL when out of memory or an argument is zero. */
bbt_pace *bbt_pace_new(int64_t granularity_us, unsigned slots);
void bbt_pace_free(bbt_pace *p); /* the nodes are the caller's; NULL is ignored */

/* Queue `n` due at due_us (clamped to [now_us, now_us + horizon]). Returns the time it will be
 * due (its slot's boundary; the earlier one when it was queued already). */
int64_t bbt_pace_add(bbt_pace *p, bbt_pace_node *n, int64_t due_us, int64_t now_us);

/* Take `n` out of the wheel if it is queued (a closing connection). */
void bbt_pace_remove(bbt_pace *p, bbt_pace_node *n);

/* The time the earliest queued node is due, or -1 when the wheel is empty. */
int64_t bbt_pace_next_due(const bbt_pace *p);

/* Remove and return one node that is due at now_us, or NULL when none is. Call repeatedly. */
bbt_pace_node *bbt_pace_pop(bbt_pace *p, int64_t now_us);

/* Nodes queued. */
unsigned bbt_pace_count(const bbt_pace *p);

#endif
