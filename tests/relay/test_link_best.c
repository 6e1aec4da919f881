/* tests/relay/test_link_best.c — relay/link_best.c: the best capacity of this stretch and the
 * one before, for the audio copies' room; a low reading does not hide a better one, a stretch
 * gone by twice does. Time is driven by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adapt_fixture.h"
#include "relay/link_best.h"

/* The audio-only level of the fixture's ladder is 40 kbit/s, the safety 0.8: a first copy needs
 * 100 kbit/s measured without it (twice the audio at 0.8), with keep 80. */
static void test_best_of_two_stretches(void **state)
{
    (void)state;
    bbt_adapt a = fresh(AUDIO);
    bbt_link_best b = {0};
    double bps = -1;
    assert_int_equal(bbt_link_best_room(&b, &a, 1 * S, 1, false, &bps), -1); /* none yet */
    assert_true(bps == 0);
    bbt_link_best_note(&b, 120000, 0, 1 * S);
    bbt_link_best_note(&b, 50000, 0, 2 * S); /* a second of loss recovery reads low */
    assert_int_equal(bbt_link_best_room(&b, &a, 2 * S, 1, false, &bps), 1);
    assert_true(bps == 120000);
    bbt_link_best_note(&b, 60000, 0, 7 * S); /* the next stretch: the one before still counts */
    assert_true(b.s[1].bps == 120000 && b.s[0].bps == 60000);
    assert_int_equal(bbt_link_best_room(&b, &a, 7 * S, 1, false, &bps), 1);
    assert_int_equal(bbt_link_best_room(&b, &a, 11 * S, 1, false, &bps), 1); /* 10 s old */
    assert_int_equal(bbt_link_best_room(&b, &a, 11 * S + 1, 1, false, &bps), 0); /* then 60 */
    assert_true(bps == 60000);
    assert_int_equal(bbt_link_best_room(&b, &a, 17 * S + 1, 1, false, &bps), -1); /* stale */
    bbt_link_best_note(&b, 55000, 0, 13 * S); /* two stretches on: 120 is gone */
    assert_true(b.s[1].bps == 60000 && b.s[0].bps == 55000);
    bbt_link_best_note(&b, 90000, 0, 25 * S); /* after a quiet stretch: none before it */
    assert_true(b.s[1].bps == 0 && b.s[0].bps == 90000);
}

/* The copies beside the connection when it was measured count with that measure; keep asks the
 * whole link. */
static void test_copies_beside_and_keep(void **state)
{
    (void)state;
    bbt_adapt a = fresh(AUDIO);
    bbt_link_best b = {0};
    double bps;
    bbt_link_best_note(&b, 70000, 1, 1 * S); /* 70 beside a copy: 110 of link */
    assert_int_equal(bbt_link_best_room(&b, &a, 2 * S, 1, false, &bps), 1);  /* 80 ≤ 88 */
    assert_int_equal(bbt_link_best_room(&b, &a, 2 * S, 2, false, &bps), 0);  /* 120 > 88 */
    assert_int_equal(bbt_link_best_room(&b, &a, 2 * S, 2, true, &bps), 0);   /* 120 > 110 */
    bbt_link_best_note(&b, 80000, 2, 3 * S); /* 80 beside two: 160 */
    assert_int_equal(bbt_link_best_room(&b, &a, 3 * S, 2, false, &bps), 1);  /* 120 ≤ 128 */
    assert_int_equal(bbt_link_best_room(&b, &a, 3 * S, 3, true, &bps), 1);   /* 160 ≤ 160 */
    assert_int_equal(bbt_link_best_room(&b, &a, 3 * S, 3, false, &bps), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_of_two_stretches),
        cmocka_unit_test(test_copies_beside_and_keep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
