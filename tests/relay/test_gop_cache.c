/* tests/relay/test_gop_cache.c — relay/gop_cache.c: starts at a keyframe, bounded, shares refs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/status.h"
#include "relay/gop_cache.h"
#include "support/failalloc.h"

static bbt_frame_ref *mk(unsigned flags, size_t len, uint32_t seq)
{
    bbt_frame_ref *r = bbt_frame_ref_new(len);
    assert_non_null(r);
    r->len = len;
    r->flags = (uint8_t)flags;
    r->seq = seq;
    return r;
}

static void offer(bbt_gop_cache *c, unsigned flags, size_t len, uint32_t seq)
{
    bbt_frame_ref *r = mk(flags, len, seq);
    assert_int_equal(bbt_gop_cache_push(c, r), BBT_OK);
    bbt_frame_ref_release(r);
}

static void test_starts_at_keyframe_and_resets(void **state)
{
    (void)state;
    bbt_gop_cache *c = bbt_gop_cache_new(1 << 20);
    offer(c, 0, 10, 1); /* before any keyframe: not decodable, ignored */
    assert_int_equal(bbt_gop_cache_count(c), 0);
    offer(c, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 100, 2);
    offer(c, 0, 10, 3);
    offer(c, 0, 10, 4);
    assert_int_equal(bbt_gop_cache_count(c), 3);
    assert_int_equal(bbt_gop_cache_bytes(c), 120);
    assert_int_equal(bbt_gop_cache_at(c, 0)->seq, 2);
    assert_int_equal(bbt_gop_cache_at(c, 2)->seq, 4);
    assert_null(bbt_gop_cache_at(c, 3));
    offer(c, BBT_FRAME_KEY, 100, 5);
    assert_int_equal(bbt_gop_cache_count(c), 1);
    assert_int_equal(bbt_gop_cache_at(c, 0)->seq, 5);
    bbt_gop_cache_clear(c);
    assert_int_equal(bbt_gop_cache_count(c), 0);
    offer(c, 0, 10, 6); /* after clear: waits for a keyframe again */
    assert_int_equal(bbt_gop_cache_count(c), 0);
    bbt_gop_cache_free(c);
}

static void test_holds_shared_references(void **state)
{
    (void)state;
    bbt_gop_cache *c = bbt_gop_cache_new(1 << 20);
    bbt_frame_ref *k = mk(BBT_FRAME_KEY, 10, 1);
    assert_int_equal(bbt_gop_cache_push(c, k), BBT_OK);
    assert_int_equal(k->refs, 2);
    assert_ptr_equal(bbt_gop_cache_at(c, 0), k);
    bbt_gop_cache_free(c);
    assert_int_equal(k->refs, 1);
    bbt_frame_ref_release(k);
}

static void test_byte_bound_empties_until_next_key(void **state)
{
    (void)state;
    bbt_gop_cache *c = bbt_gop_cache_new(100);
    offer(c, BBT_FRAME_KEY, 60, 1);
    offer(c, 0, 30, 2);
    offer(c, 0, 30, 3); /* 120 > 100 */
    assert_int_equal(bbt_gop_cache_count(c), 0);
    offer(c, 0, 10, 4);
    assert_int_equal(bbt_gop_cache_count(c), 0);
    offer(c, BBT_FRAME_KEY, 60, 5);
    assert_int_equal(bbt_gop_cache_count(c), 1);
    bbt_gop_cache_free(c);
    bbt_gop_cache *off = bbt_gop_cache_new(0); /* 0 disables caching */
    offer(off, BBT_FRAME_KEY, 1, 1);
    assert_int_equal(bbt_gop_cache_count(off), 0);
    bbt_gop_cache_free(off);
}

static void test_growth_past_first_block(void **state)
{
    (void)state;
    bbt_gop_cache *c = bbt_gop_cache_new(1 << 20);
    offer(c, BBT_FRAME_KEY, 10, 0);
    for (uint32_t s = 1; s < 500; s++)
        offer(c, 0, 10, s);
    assert_int_equal(bbt_gop_cache_count(c), 500);
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(bbt_gop_cache_at(c, i)->seq, i);
    bbt_gop_cache_free(c);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    failalloc_after(0);
    assert_null(bbt_gop_cache_new(100));
    failalloc_reset();
    bbt_gop_cache *c = bbt_gop_cache_new(1 << 20);
    bbt_frame_ref *k = mk(BBT_FRAME_KEY, 10, 1);
    failalloc_after(0); /* the frame array cannot grow */
    assert_int_equal(bbt_gop_cache_push(c, k), BBT_ENOMEM);
    failalloc_reset();
    assert_int_equal(bbt_gop_cache_count(c), 0);
    assert_int_equal(k->refs, 1); /* the caller keeps its reference */
    assert_int_equal(bbt_gop_cache_push(c, k), BBT_OK);
    bbt_frame_ref_release(k);
    bbt_gop_cache_free(c);
    bbt_gop_cache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts_at_keyframe_and_resets),
        cmocka_unit_test(test_holds_shared_references),
        cmocka_unit_test(test_byte_bound_empties_until_next_key),
        cmocka_unit_test(test_growth_past_first_block),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
