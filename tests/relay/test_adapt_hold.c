/* tests/relay/test_adapt_hold.c — relay/adapt.c, what keeps a viewer from climbing: the fall
 * hold (a link that fell, one that keeps swinging) and the ceiling of a far lossy link. The
 * other transitions: test_adapt.c (split for length). Time is driven by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "adapt_fixture.h"

/* ---- fall holds ---------------------------------------------------------------------------- */

static bbt_adapt fresh_hold(int level, bool pad)
{
    bbt_adapt a = pad ? fresh_pad(level) : fresh(level);
    a.p.fall_hold_us = 30 * S;
    return a;
}

/* Congestion at 1 s on `a`'s level: the move down at 1.3 s, then clear from 2 s. */
static void fall_at_1s(bbt_adapt *a)
{
    step(a, 0, 10 * MS, 0, 0);
    step(a, 1 * S, 300 * MS, 0, 0);
    step(a, 1300 * MS, 300 * MS, 0, 0);
    step(a, 2 * S, 10 * MS, 0, 0);
}

/* A fall holds moves up at the level fallen to; a padding probe above it still runs, never
 * switches, and once one has passed no other starts (nothing more to learn: a probe near the
 * end of a fast phase was still padding when the link fell); a measure after the pass that fits
 * only the hold's level (a swinging link) renews the hold, and the probes to learn start again;
 * at its end the viewer climbs as before. */
static void test_fall_hold_renewed_by_a_swinging_link(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    fall_at_1s(&a);
    assert_int_equal(a.level, P180);
    assert_int_equal(a.falls, 1);
    assert_int_equal(a.hold_until, 31300 * MS);
    assert_int_equal(bbt_adapt_hold_cap(&a, 2 * S), P180);
    assert_int_equal(step(&a, 7 * S, 10 * MS, 0, 0), P180); /* up_hold over: padding, to learn */
    assert_true(a.padding);
    assert_int_equal(a.pad_level, P360);
    assert_int_equal(step(&a, 9 * S, 10 * MS, 0, 0), P180); /* passed: no switch under a hold */
    assert_false(a.padding);
    assert_int_equal(a.hold_up_us, 9 * S);
    assert_int_equal(a.ups, 0);
    step(&a, 13 * S, 10 * MS, 0, 0);
    assert_int_equal(step(&a, 14 * S, 10 * MS, 0, 0), P180); /* another up_hold: no probe */
    assert_false(a.padding);
    assert_int_equal(a.pads, 1);
    /* the link swung down: a capacity measured since the pass fits only 180p */
    assert_int_equal(step(&a, 14500 * MS, 10 * MS, 300000, 14500 * MS), P180);
    assert_int_equal(a.hold_up_us, 0);
    assert_int_equal(a.hold_until, 44500 * MS);
    assert_int_equal(a.downs, 1);
    assert_int_equal(a.falls, 1);
    step(&a, 20 * S, 10 * MS, 0, 0); /* up_hold after the pass, the capacity stale: learn again */
    assert_true(a.padding);
    step(&a, 20500 * MS, 300 * MS, 0, 0); /* that one fails: the hold stays as it was */
    assert_false(a.padding);
    assert_int_equal(a.hold_until, 44500 * MS);
    assert_int_equal(a.downs, 1); /* the failure is drain, not another fall */
    step(&a, 21 * S, 10 * MS, 0, 0);
    step(&a, 45 * S, 10 * MS, 0, 0); /* the hold is over */
    assert_int_equal(bbt_adapt_hold_cap(&a, 45 * S), P720);
    assert_true(a.padding);
    step(&a, 47 * S, 10 * MS, 0, 0);
    assert_int_equal(a.pad_level, P720); /* passed, and on to the level above */
    assert_int_equal(step(&a, 49 * S, 10 * MS, 0, 0), P720);
}

/* After a pass above the hold, a TCP rate (or capacity) measured since that fits only the hold's
 * level renews it too: on a 300 kbit/s phase the rate rules the next probe out before it fails.
 * A measure from before the pass does not. */
static void test_fall_hold_renewed_by_a_measure(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    fall_at_1s(&a);
    step(&a, 7 * S, 10 * MS, 0, 0);
    bbt_adapt_input in = {.now_us = 9 * S, .delay_us = 10 * MS, .capacity_bps = 300000,
                          .capacity_at_us = 8 * S};
    bbt_adapt_update(&a, &in); /* passed; the capacity is older */
    assert_int_equal(a.hold_up_us, 9 * S);
    assert_int_equal(a.hold_until, 31300 * MS);
    in = (bbt_adapt_input){.now_us = 12 * S, .delay_us = 10 * MS, .link_bps = 300000,
                           .link_at_us = 11 * S};
    bbt_adapt_update(&a, &in);
    assert_int_equal(a.hold_until, 42 * S);
    assert_int_equal(a.hold_up_us, 0);
    assert_int_equal(a.level, P180);
}

/* A link that fell and stays low fails every probe: the hold is not renewed and ends on time
 * (bbt-bench rural's cliff is back up within 15 s of its recovery). */
static void test_fall_hold_ends_on_a_link_that_stays_low(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    fall_at_1s(&a);
    step(&a, 7 * S, 10 * MS, 0, 0);
    assert_true(a.padding);
    step(&a, 7500 * MS, 300 * MS, 0, 0);
    assert_false(a.padding);
    step(&a, 8 * S, 10 * MS, 0, 0);
    step(&a, 16 * S, 10 * MS, 0, 0); /* after the padding back-off: again, and fails again */
    assert_true(a.padding);
    step(&a, 16500 * MS, 300 * MS, 0, 0);
    assert_int_equal(a.hold_until, 31300 * MS);
    step(&a, 17 * S, 10 * MS, 0, 0);
    assert_int_equal(step(&a, 31 * S, 10 * MS, 0, 0), P180);
    assert_true(a.padding); /* to learn: the hold is on until 31.3 s */
    step(&a, 33 * S, 10 * MS, 0, 0); /* it ends after the hold: it counts */
    assert_int_equal(a.pad_level, P720);
    assert_int_equal(step(&a, 35 * S, 10 * MS, 0, 0), P720);
    assert_int_equal(a.falls, 1);
}

/* A failed probe's return is no fall; without padding nothing runs above the hold; the hold
 * never keeps the lowest camera picture from a viewer on audio only; fall_hold_us 0: none. */
static void test_fall_hold_scope(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P180, false);
    step(&a, 0, 10 * MS, 0, 0);
    assert_int_equal(step(&a, 5 * S, 10 * MS, 0, 0), P360); /* a probe by switching */
    step(&a, 6 * S, 300 * MS, 0, 0);
    assert_int_equal(step(&a, 6300 * MS, 300 * MS, 0, 0), P180);
    assert_int_equal(a.falls, 0);
    assert_int_equal(a.hold_until, 0);
    bbt_adapt b = fresh_hold(P360, false);
    fall_at_1s(&b);
    assert_int_equal(step(&b, 20 * S, 10 * MS, 0, 0), P180);
    assert_false(b.probing);
    assert_int_equal(b.ups, 0);
    bbt_adapt c = fresh_hold(SLIDES, false);
    fall_at_1s(&c);
    assert_int_equal(c.level, AUDIO);
    assert_int_equal(c.hold_level, AUDIO);
    assert_int_equal(bbt_adapt_hold_cap(&c, 2 * S), P180);
    assert_int_equal(step(&c, 7 * S, 10 * MS, 0, 0), SLIDES);
    assert_int_equal(step(&c, 10 * S, 10 * MS, 0, 0), P180);
    assert_int_equal(step(&c, 20 * S, 10 * MS, 0, 0), P180); /* held there */
    bbt_adapt d = fresh(P360);
    fall_at_1s(&d);
    assert_int_equal(d.falls, 0);
    assert_int_equal(bbt_adapt_hold_cap(&d, 2 * S), P720);
}

/* A fall that measured the capacity it fell to (400 kbit/s) keeps its probes to learn until a
 * fresh TCP rate over 1.25 times that says the link came back (not 450; 800, which fits 360p,
 * yes): with no fresh rate, none; a fall without a capacity probes as before
 * (test_fall_hold_renewed_by_a_swinging_link). */
static void test_learning_waits_for_a_sign(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    step(&a, 0, 10 * MS, 0, 0);
    step(&a, 1 * S, 300 * MS, 400000, 1 * S); /* 360p far too big for 400: down at once */
    assert_int_equal(a.level, P180);
    assert_int_equal(a.falls, 1);
    assert_true(a.hold_capacity_bps == 400000);
    step(&a, 2 * S, 10 * MS, 0, 0);
    step(&a, 7 * S, 10 * MS, 0, 0); /* up_hold over, nothing measured since */
    assert_false(a.padding);
    bbt_adapt_input in = {.now_us = 8 * S, .delay_us = 10 * MS, .link_bps = 450000,
                          .link_at_us = 8 * S};
    bbt_adapt_update(&a, &in);
    assert_false(a.padding);
    in = (bbt_adapt_input){.now_us = 9 * S, .delay_us = 10 * MS, .link_bps = 800000,
                           .link_at_us = 9 * S};
    bbt_adapt_update(&a, &in);
    assert_true(a.padding); /* to learn: no switch */
    assert_int_equal(a.pad_level, P360);
    assert_int_equal(a.level, P180);
    assert_int_equal(a.pads, 1);
}

/* A probe for a level that did not fit the capacity the link fell to fails at the first delay
 * over its limit; one for a level that did fit it still forgives a quarter second. */
static void test_probe_above_the_fall_fails_at_once(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    step(&a, 0, 10 * MS, 0, 0);
    step(&a, 1 * S, 300 * MS, 400000, 1 * S); /* fell to 180p at 400 kbit/s */
    assert_int_equal(a.level, P180);
    step(&a, 2 * S, 10 * MS, 0, 0);
    bbt_adapt_input in = {.now_us = 9 * S, .delay_us = 10 * MS, .link_bps = 800000,
                          .link_at_us = 9 * S};
    bbt_adapt_update(&a, &in); /* a probe to learn, for 360p (over 400 kbit/s) */
    assert_true(a.padding);
    assert_int_equal(a.pad_level, P360);
    step(&a, 9250 * MS, 200 * MS, 0, 0); /* over the limit once: failed */
    assert_false(a.padding);
    assert_int_equal(a.pads_failed, 1);
    bbt_adapt b = fresh_hold(P720, true); /* 720p falls at 600 kbit/s, which 360p fits */
    step(&b, 0, 10 * MS, 0, 0);
    step(&b, 1 * S, 300 * MS, 600000, 1 * S);
    assert_int_equal(b.level, P180);
    assert_true(b.hold_capacity_bps == 600000);
    assert_true(b.levels[P360].bitrate_bps <= 600000);
    step(&b, 2 * S, 10 * MS, 0, 0);
    in.now_us = 9 * S;
    bbt_adapt_update(&b, &in);
    assert_true(b.padding);
    assert_int_equal(b.pad_level, P360);
    step(&b, 9250 * MS, 200 * MS, 0, 0);
    assert_true(b.padding); /* forgiven once */
    step(&b, 9500 * MS, 200 * MS, 0, 0);
    assert_false(b.padding); /* not twice */
}

/* A probe for a level above the capacity the link fell to goes in two stages: padding first to
 * 1.25 times that capacity (the current level's rate counted), and only when that passed to the
 * level's own rate; a stage that fails ends it there. */
static void test_probe_above_the_fall_in_two_stages(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P360, true);
    step(&a, 0, 10 * MS, 0, 0);
    step(&a, 1 * S, 300 * MS, 400000, 1 * S); /* fell to 180p at 400 kbit/s */
    step(&a, 2 * S, 10 * MS, 0, 0);
    bbt_adapt_input in = {.now_us = 9 * S, .delay_us = 10 * MS, .link_bps = 800000,
                          .link_at_us = 9 * S};
    bbt_adapt_update(&a, &in); /* a probe to learn, for 360p */
    assert_true(a.padding && a.pad_first);
    double first = 1.25 * 400000 - (double)a.levels[P180].bitrate_bps;
    double full = (double)a.levels[P360].bitrate_bps / params.safety -
                  (double)a.levels[P180].bitrate_bps;
    assert_true(first < full);
    assert_true(fabs(bbt_adapt_pad_bps(&a, 10 * S) - first) < 1); /* the ramp's top */
    assert_true(fabs(bbt_adapt_pad_bps(&a, 10500 * MS) - first) < 1);
    step(&a, 11 * S, 10 * MS, 0, 0); /* the first stage passed: on to the level's rate */
    assert_true(a.padding);
    assert_false(a.pad_first);
    assert_int_equal(a.pad_level, P360);
    assert_true(fabs(bbt_adapt_pad_bps(&a, 11 * S) - first) < 1); /* rising from there */
    assert_true(fabs(bbt_adapt_pad_bps(&a, 12 * S) - full) < 1);
    step(&a, 13 * S, 10 * MS, 0, 0); /* passed: learnt, no switch under the hold */
    assert_false(a.padding);
    assert_int_equal(a.level, P180);
    assert_int_equal(a.hold_up_us, 13 * S);
    assert_int_equal(a.pads_failed, 0);
    bbt_adapt b = fresh_hold(P360, true); /* the first stage fails: no second */
    step(&b, 0, 10 * MS, 0, 0);
    step(&b, 1 * S, 300 * MS, 400000, 1 * S);
    step(&b, 2 * S, 10 * MS, 0, 0);
    in.now_us = 9 * S;
    bbt_adapt_update(&b, &in);
    step(&b, 10 * S, 200 * MS, 0, 0);
    assert_false(b.padding);
    assert_int_equal(b.pads_failed, 1);
}

/* ---- the ceiling of a far lossy link ------------------------------------------------------- */

static int step_far(bbt_adapt *a, int64_t now, int64_t delay, double cap, int64_t cap_at)
{
    bbt_adapt_input in = {.now_us = now, .delay_us = delay, .capacity_bps = cap,
                          .capacity_at_us = cap_at, .lossy_far = true};
    return bbt_adapt_update(a, &in);
}

/* A viewer on 180p with a fall hold and padding, the ceiling's congestion at 120 ms. */
static bbt_adapt fresh_far_180p(void)
{
    bbt_adapt a = fresh_hold(P180, true);
    a.p.far_congest_us = 120 * MS;
    return a;
}

/* A viewer above the lowest camera picture moves down to it at once, clear link or not: no fall
 * hold, no back-off; then nothing moves it up, not a capacity that fits 720p, not padding. */
static void test_ceiling_moves_down_and_caps(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(P720, true);
    step(&a, 0, 10 * MS, 0, 0);
    assert_int_equal(bbt_adapt_hold_cap(&a, 0), P720);
    assert_int_equal(step_far(&a, 1 * S, 10 * MS, 0, 0), P180);
    assert_int_equal(a.ceilings, 1);
    assert_int_equal(a.downs, 1);
    assert_int_equal(a.falls, 0);
    assert_int_equal(a.hold_until, 0);
    assert_int_equal(a.backoff_until[P720], 0);
    assert_int_equal(a.backoff_until[P360], 0);
    assert_int_equal(bbt_adapt_hold_cap(&a, 1 * S), P180);
    for (int64_t t = 2 * S; t <= 60 * S; t += S)
        assert_int_equal(step_far(&a, t, 10 * MS, 4000000, t), P180);
    assert_int_equal(a.ups, 0);
    assert_int_equal(a.pads, 0);
    assert_false(a.padding);
    assert_int_equal(a.ceilings, 1);
    /* the same link without the ceiling: padding, then the climb */
    bbt_adapt b = fresh_hold(P180, true);
    for (int64_t t = 0; t <= 12 * S; t += S)
        step(&b, t, 10 * MS, 4000000, t);
    assert_int_equal(b.level, P720);
}

/* Below the ceiling: from audio only a viewer climbs to the lowest camera picture (by
 * switching) and stops there — its first move after FAR_PICTURE_HOLDS × up_hold_us of clear
 * link, the next after probe_us as elsewhere; congestion there still moves down, as a fall. */
static void test_ceiling_below(void **state)
{
    (void)state;
    bbt_adapt a = fresh_hold(AUDIO, true);
    step_far(&a, 0, 10 * MS, 0, 0);
    assert_int_equal(step_far(&a, 5 * S, 10 * MS, 0, 0), AUDIO);
    assert_int_equal(step_far(&a, 9900 * MS, 10 * MS, 0, 0), AUDIO);
    assert_int_equal(step_far(&a, 10 * S, 10 * MS, 0, 0), SLIDES);
    assert_int_equal(step_far(&a, 13 * S, 10 * MS, 0, 0), P180);
    assert_true(a.probing);
    assert_int_equal(step_far(&a, 20 * S, 10 * MS, 0, 0), P180);
    assert_int_equal(step_far(&a, 40 * S, 10 * MS, 0, 0), P180);
    assert_int_equal(a.ups, 2);
    assert_int_equal(a.pads, 0);
    step_far(&a, 41 * S, 300 * MS, 0, 0);
    assert_int_equal(step_far(&a, 41300 * MS, 300 * MS, 0, 0), SLIDES);
    assert_int_equal(a.falls, 1);
    assert_int_equal(a.ceilings, 0);
}

/* Under the ceiling, a viewer that fell to a level without a camera picture waits twice
 * up_hold_us of clear link before the picture comes back (a switch: its keyframe enters the
 * queue the audio copies share); the same fall on another link, up_hold_us. (After a probe
 * that passed, probe_us as before: test_ceiling_below's courseware → 180p.) */
static void test_ceiling_picture_comes_back_later(void **state)
{
    (void)state;
    bbt_adapt a = fresh_far_180p();
    bbt_adapt b = a;
    step_far(&a, 0, 10 * MS, 0, 0);
    assert_int_equal(step_far(&a, 1 * S, 130 * MS, 0, 0), SLIDES); /* the fall */
    assert_int_equal(step_far(&a, 2 * S, 10 * MS, 0, 0), SLIDES);  /* clear from here */
    assert_int_equal(step_far(&a, 7 * S, 10 * MS, 0, 0), SLIDES);
    assert_int_equal(step_far(&a, 11900 * MS, 10 * MS, 0, 0), SLIDES);
    assert_int_equal(step_far(&a, 12 * S, 10 * MS, 0, 0), P180);
    assert_true(a.probing);
    /* the same fall, not far and lossy: up_hold_us */
    step(&b, 0, 10 * MS, 0, 0);
    step(&b, 1 * S, 300 * MS, 0, 0);
    assert_int_equal(step(&b, 1300 * MS, 300 * MS, 0, 0), SLIDES);
    step(&b, 2 * S, 10 * MS, 0, 0);
    assert_int_equal(step(&b, 7 * S, 10 * MS, 0, 0), P180);
}

/* A padding probe above the lowest camera picture that is under way when the link turns out far
 * and lossy stops, and the picture stays. */
static void test_ceiling_stops_a_padding_probe(void **state)
{
    (void)state;
    bbt_adapt a = fresh_pad(P180);
    step(&a, 0, 10 * MS, 0, 0);
    step(&a, 5 * S, 10 * MS, 0, 0);
    assert_true(a.padding);
    assert_true(bbt_adapt_pad_bps(&a, 6 * S) > 0);
    assert_int_equal(step_far(&a, 5500 * MS, 10 * MS, 0, 0), P180);
    assert_false(a.padding);
    assert_true(bbt_adapt_pad_bps(&a, 6 * S) == 0);
    assert_int_equal(a.pads_failed, 0);
    assert_int_equal(a.ceilings, 0);
    assert_int_equal(step_far(&a, 9 * S, 10 * MS, 0, 0), P180);
    assert_int_equal(a.ups, 0);
}

/* Under the ceiling congestion starts at far_congest_us, and its first sample moves: 130 ms of
 * network queue takes a far lossy link's viewer from the lowest camera picture to the level
 * below (a fall) at once, where the same delay on another link is no congestion; so does
 * twice that; without far_congest_us, congest_us and down_delay_us as before. */
static void test_ceiling_congests_sooner(void **state)
{
    (void)state;
    bbt_adapt a = fresh_far_180p();
    bbt_adapt b = a;
    step_far(&a, 0, 10 * MS, 0, 0);
    step(&b, 0, 10 * MS, 0, 0);
    assert_int_equal(step_far(&a, 1 * S, 110 * MS, 0, 0), P180); /* under far_congest_us */
    assert_int_equal(step_far(&a, 1100 * MS, 130 * MS, 0, 0), SLIDES);
    assert_int_equal(a.falls, 1);
    for (int64_t t = 1 * S; t <= 3 * S; t += 100 * MS)
        assert_int_equal(step(&b, t, 130 * MS, 0, 0), P180);
    assert_int_equal(b.downs, 0);
    bbt_adapt c = fresh_far_180p();
    step_far(&c, 0, 10 * MS, 0, 0);
    assert_int_equal(step_far(&c, 1 * S, 240 * MS, 0, 0), SLIDES); /* 2 × far_congest_us */
    bbt_adapt d = fresh_hold(P180, true); /* far_congest_us 0: congest_us */
    step_far(&d, 0, 10 * MS, 0, 0);
    for (int64_t t = 1 * S; t <= 3 * S; t += 100 * MS)
        assert_int_equal(step_far(&d, t, 240 * MS, 0, 0), P180);
    assert_int_equal(step_far(&d, 3100 * MS, 250 * MS, 0, 0), P180);
    assert_int_equal(step_far(&d, 3400 * MS, 250 * MS, 0, 0), SLIDES);
}

/* Pacing: factor × the level's wire rate, at least the floor; a padding probe's level above
 * when it pads, its own level again when the probe ends. */
static void test_pace_follows_the_level(void **state)
{
    (void)state;
    bbt_adapt a = fresh_pad(P180);
    double r180 = (double)a.levels[P180].bitrate_bps, r360 = (double)a.levels[P360].bitrate_bps;
    assert_true(r360 > r180);
    assert_true(fabs(bbt_adapt_pace_bps(&a, 4, 1000) - 4 * r180) < 1);
    assert_true(fabs(bbt_adapt_pace_bps(&a, 4, 10 * r180) - 10 * r180) < 1); /* the floor */
    a.level = AUDIO;
    assert_true(fabs(bbt_adapt_pace_bps(&a, 4, 1000) - 4 * (double)a.levels[AUDIO].bitrate_bps) <
                1);
    a.level = P180;
    step(&a, 0, 10 * MS, 0, 0);
    assert_int_equal(step(&a, 6 * S, 10 * MS, 0, 0), P180); /* clear for up_hold: padding */
    assert_true(a.padding);
    assert_int_equal(a.pad_level, P360);
    assert_true(fabs(bbt_adapt_pace_bps(&a, 4, 1000) - 4 * r360) < 1);
    step(&a, 6100 * MS, 300 * MS, 0, 0); /* congested: the probe fails */
    assert_false(a.padding);
    assert_true(fabs(bbt_adapt_pace_bps(&a, 4, 1000) - 4 * r180) < 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fall_hold_renewed_by_a_swinging_link),
        cmocka_unit_test(test_fall_hold_renewed_by_a_measure),
        cmocka_unit_test(test_fall_hold_ends_on_a_link_that_stays_low),
        cmocka_unit_test(test_fall_hold_scope),
        cmocka_unit_test(test_learning_waits_for_a_sign),
        cmocka_unit_test(test_probe_above_the_fall_fails_at_once),
        cmocka_unit_test(test_probe_above_the_fall_in_two_stages),
        cmocka_unit_test(test_ceiling_moves_down_and_caps),
        cmocka_unit_test(test_ceiling_below),
        cmocka_unit_test(test_ceiling_picture_comes_back_later),
        cmocka_unit_test(test_ceiling_stops_a_padding_probe),
        cmocka_unit_test(test_ceiling_congests_sooner),
        cmocka_unit_test(test_pace_follows_the_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
