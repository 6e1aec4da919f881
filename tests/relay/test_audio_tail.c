/* tests/relay/test_audio_tail.c — relay/audio_tail.c: a bounded ring of the newest audio frames,
 * oldest first, one reference each; the last span of it by capture time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "relay/audio_tail.h"
#include "support/failalloc.h"

/* Audio frame `seq`, captured at seq × 20 ms, pushed; the caller's reference dropped. */
static bbt_frame_ref *offer(bbt_audio_tail *t, uint32_t seq)
{
    bbt_frame_ref *r = bbt_frame_ref_new(16);
    assert_non_null(r);
    r->len = 16;
    r->seq = seq;
    r->capture_us = (uint64_t)seq * 20000;
    bbt_audio_tail_push(t, r);
    bbt_frame_ref_release(r);
    return r;
}

static void test_empty(void **state)
{
    (void)state;
    bbt_audio_tail *t = bbt_audio_tail_new();
    assert_non_null(t);
    assert_int_equal(bbt_audio_tail_count(t), 0);
    assert_null(bbt_audio_tail_at(t, 0));
    assert_int_equal(bbt_audio_tail_from(t, 1000000), 0);
    bbt_audio_tail_free(t);
    bbt_audio_tail_free(NULL);
}

/* Oldest first; full, the oldest goes (its reference released) for each new one, across the
 * ring's wrap; clear releases everything. */
static void test_ring_keeps_the_newest(void **state)
{
    (void)state;
    bbt_audio_tail *t = bbt_audio_tail_new();
    bbt_frame_ref *first = offer(t, 0);
    bbt_frame_ref_hold(first); /* to see it released */
    assert_int_equal(first->refs, 2);
    for (uint32_t s = 1; s < BBT_AUDIO_TAIL_MAX; s++)
        offer(t, s);
    assert_int_equal(bbt_audio_tail_count(t), BBT_AUDIO_TAIL_MAX);
    assert_int_equal(bbt_audio_tail_at(t, 0)->seq, 0);
    offer(t, BBT_AUDIO_TAIL_MAX);
    assert_int_equal(first->refs, 1); /* the tail let it go */
    bbt_frame_ref_release(first);
    assert_int_equal(bbt_audio_tail_count(t), BBT_AUDIO_TAIL_MAX);
    for (uint32_t s = BBT_AUDIO_TAIL_MAX + 1; s < 3 * BBT_AUDIO_TAIL_MAX + 5; s++)
        offer(t, s);
    for (size_t i = 0; i < BBT_AUDIO_TAIL_MAX; i++)
        assert_int_equal(bbt_audio_tail_at(t, i)->seq, 2 * BBT_AUDIO_TAIL_MAX + 5 + i);
    assert_null(bbt_audio_tail_at(t, BBT_AUDIO_TAIL_MAX));
    bbt_frame_ref *last = bbt_frame_ref_hold(bbt_audio_tail_at(t, BBT_AUDIO_TAIL_MAX - 1));
    bbt_audio_tail_clear(t);
    assert_int_equal(bbt_audio_tail_count(t), 0);
    assert_int_equal(last->refs, 1);
    bbt_frame_ref_release(last);
    offer(t, 7); /* usable after clear */
    assert_int_equal(bbt_audio_tail_at(t, 0)->seq, 7);
    bbt_audio_tail_free(t); /* releases it (AddressSanitizer: no leak) */
}

/* The last span: frames captured at most span_us before the newest. */
static void test_from_span(void **state)
{
    (void)state;
    bbt_audio_tail *t = bbt_audio_tail_new();
    for (uint32_t s = 0; s < 10; s++) /* 0 .. 180 ms */
        offer(t, s);
    assert_int_equal(bbt_audio_tail_from(t, 0), 9);          /* the newest alone */
    assert_int_equal(bbt_audio_tail_from(t, 60000), 6);      /* 120, 140, 160, 180 ms */
    assert_int_equal(bbt_audio_tail_from(t, 59999), 7);
    assert_int_equal(bbt_audio_tail_from(t, 10000000), 0);   /* all of it */
    bbt_audio_tail_free(t);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    failalloc_after(0);
    assert_null(bbt_audio_tail_new());
    failalloc_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_ring_keeps_the_newest),
        cmocka_unit_test(test_from_span),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
