/* tests/relay/adapt_fixture.h — what the adaptation's state-machine tests share
 * (test_adapt.c, test_adapt_hold.c): parameters, a machine on the ladder of adapt_ladder.h, and
 * one step of it. Time is driven by the test; nothing sleeps. */
#ifndef BBT_TEST_ADAPT_FIXTURE_H
#define BBT_TEST_ADAPT_FIXTURE_H

#include "relay/adapt.h"
#include "adapt_ladder.h"

#define MS 1000
#define S 1000000

static const bbt_adapt_params params = {
    .safety = 0.8, .congest_us = 250 * MS, .clear_us = 80 * MS, .down_delay_us = 300 * MS,
    .up_hold_us = 5 * S, .probe_us = 3 * S, .backoff_min_us = 10 * S, .backoff_max_us = 80 * S,
    .capacity_ttl_us = 5 * S};

static inline bbt_adapt fresh(int level)
{
    bbt_adapt_level lv[BBT_ADAPT_MAX_LEVELS];
    int n = bbt_adapt_levels(ladder, 5, true, true, -1, 0, lv, BBT_ADAPT_MAX_LEVELS);
    assert_int_equal(n, 5);
    bbt_adapt a;
    bbt_adapt_init(&a, &params, lv, n, level);
    return a;
}

static inline int step(bbt_adapt *a, int64_t now, int64_t delay, double cap, int64_t cap_at)
{
    bbt_adapt_input in = {.now_us = now, .delay_us = delay, .capacity_bps = cap,
                          .capacity_at_us = cap_at};
    return bbt_adapt_update(a, &in);
}

static inline bbt_adapt fresh_pad(int level)
{
    bbt_adapt_params p = params;
    p.pad_us = 2 * S;
    p.pad_backoff_us = 8 * S;
    p.drain_us = 2 * S;
    bbt_adapt a = fresh(level);
    a.p = p;
    return a;
}

#endif
