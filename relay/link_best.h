/* relay/link_best.h — the best capacity a main connection measured lately, for the audio copies'
 * room (docs/PROTOCOL.md §3.5).
 *
 * Why not the latest: on a lossy link a second of TCP recovering losses reads low — 56 kbit/s on
 * flaky-3g's 300 kbit/s, where three audio streams fit, ended the first copy, and the sound broke
 * 14 times in the 30 s back-off that followed. So the copies' room reads the best capacity of the
 * current stretch of BBT_LINK_BEST_STRETCH_US and of the one before (each with the copies that
 * were on the link beside the connection when it was measured): a link that fell for good has no
 * better measure after two stretches. Two slots, no allocation; pure (the caller passes the
 * time); not thread-safe (the relay's event-loop thread owns it).
 */
#ifndef BBT_LINK_BEST_H
#define BBT_LINK_BEST_H

#include <stdbool.h>
#include <stdint.h>

#include "relay/adapt.h"

#define BBT_LINK_BEST_STRETCH_US 5000000

typedef struct bbt_link_best {
    struct bbt_link_best_slot {
        double bps;       /* the best capacity (on the wire) of the stretch, 0: none */
        int copies;       /* the copies beside the connection when it was measured */
        int64_t at_us;    /* when */
        int64_t start_us; /* the stretch's start */
    } s[2];               /* [0] this stretch, [1] the one before */
} bbt_link_best;

/* A capacity measured at now_us with `copies` audio copies beside the connection. Zeroed
 * (memset or {0}) is empty. */
void bbt_link_best_note(bbt_link_best *b, double bps, int copies, int64_t now_us);

/* bbt_adapt_copy_room for the classroom's rank-th copy on the better of the two stretches (a
 * measure up to two stretches old): 1, 0, or -1 when neither has one. *bps: the capacity read
 * (0 with -1). `a` gives the audio's rate and the safety fraction. */
int bbt_link_best_room(const bbt_link_best *b, const bbt_adapt *a, int64_t now_us, int rank,
                       bool keep, double *bps);

#endif
