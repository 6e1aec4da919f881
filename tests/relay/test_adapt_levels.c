/* tests/relay/test_adapt_levels.c — relay/adapt_levels.c: the levels in the degradation order,
 * the pinned and audio-only cases, a missing bitrate, and each level's rate on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "relay/adapt_levels.h"
#include "adapt_ladder.h"

static void test_levels_follow_the_degradation_order(void **state)
{
    (void)state;
    bbt_adapt_level lv[BBT_ADAPT_MAX_LEVELS];
    int n = bbt_adapt_levels(ladder, 5, true, true, -1, 0, lv, BBT_ADAPT_MAX_LEVELS);
    assert_int_equal(n, 5);
    /* audio only → + courseware → + 180p → + 360p → + 720p; audio in every level */
    assert_int_equal(lv[AUDIO].camera_track, -1);
    assert_false(lv[AUDIO].courseware);
    assert_int_equal(lv[AUDIO].bitrate_bps, 40000);
    assert_int_equal(lv[SLIDES].camera_track, -1);
    assert_true(lv[SLIDES].courseware);
    assert_int_equal(lv[SLIDES].bitrate_bps, 140000);
    assert_int_equal(lv[P180].camera_track, 2);
    assert_int_equal(lv[P360].camera_track, 1);
    assert_int_equal(lv[P720].camera_track, 0);
    assert_int_equal(lv[P720].bitrate_bps, 1340000);
    /* no courseware track: audio only, then camera layers */
    n = bbt_adapt_levels(ladder, 4, true, true, -1, 0, lv, BBT_ADAPT_MAX_LEVELS);
    assert_int_equal(n, 4);
    assert_int_equal(lv[1].camera_track, 2);
    /* pinned to a track: audio only and that track */
    n = bbt_adapt_levels(ladder, 4, true, true, 1, 0, lv, BBT_ADAPT_MAX_LEVELS);
    assert_int_equal(n, 2);
    assert_int_equal(lv[1].camera_track, 1);
    /* no video wanted: audio only */
    assert_int_equal(bbt_adapt_levels(ladder, 5, false, true, -1, 0, lv, 12), 1);
    /* a track without a stated bitrate gets an estimate from its size */
    bbt_track_info nobr = {.id = 0, .kind = BBT_TRACK_VIDEO, .width = 640, .height = 360};
    assert_int_equal(bbt_adapt_levels(&nobr, 1, true, true, -1, 0, lv, 12), 2);
    assert_int_equal(lv[1].bitrate_bps, 640 * 360 * 3 / 2);
}

/* On the wire: each segment's headers on top of the bitrate (adapt_levels.h). The node's Opus, 40 kbit/s
 * in 50 packets a second of 100 bytes, one segment each: 50 × 70 B = 28 kbit/s more; 360p at
 * 25 fps, 2250-byte frames in two segments each: 50 × 70 B = 28 kbit/s; 720p (fps not given:
 * 25), 6000-byte frames in five: 70 kbit/s. The payload stays beside it. */
static void test_levels_on_the_wire(void **state)
{
    (void)state;
    bbt_track_info t[4] = {ladder[0], ladder[1], ladder[2], ladder[3]};
    t[1].fps = 25;
    t[2].fps = 15; /* 1000-byte frames: one segment each, 15 × 70 B = 8.4 kbit/s */
    bbt_adapt_level lv[BBT_ADAPT_MAX_LEVELS];
    int n = bbt_adapt_levels(t, 4, true, true, -1, BBT_ADAPT_SEGMENT_OVERHEAD, lv, 12);
    assert_int_equal(n, 4);
    assert_int_equal(lv[0].bitrate_bps, 40000 + 28000);
    assert_int_equal(lv[0].payload_bps, 40000);
    assert_int_equal(lv[1].bitrate_bps, 68000 + 120000 + 8400);
    assert_int_equal(lv[1].payload_bps, 160000);
    assert_int_equal(lv[2].bitrate_bps, 68000 + 450000 + 28000);
    assert_int_equal(lv[3].bitrate_bps, 68000 + 1200000 + 70000);
    assert_int_equal(lv[3].payload_bps, 1240000);
    /* without headers (0), the bitrates alone (the state machine's tests use those) */
    n = bbt_adapt_levels(t, 4, true, true, -1, 0, lv, 12);
    assert_int_equal(n, 4);
    assert_int_equal(lv[3].bitrate_bps, 1240000);
    assert_int_equal(lv[3].payload_bps, 1240000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_follow_the_degradation_order),
        cmocka_unit_test(test_levels_on_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
