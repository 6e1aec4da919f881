/* tests/relay/test_frame_ref.c — relay/frame_ref.c: one block, headroom, growth, refcount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/status.h"
#include "relay/frame_ref.h"
#include "support/failalloc.h"

static void test_append_grows_and_keeps_bytes(void **state)
{
    (void)state;
    bbt_frame_ref *r = bbt_frame_ref_new(4);
    assert_non_null(r);
    assert_int_equal(r->refs, 1);
    uint8_t chunk[1000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)i;
    for (int k = 0; k < 10; k++)
        assert_int_equal(bbt_frame_ref_append(&r, chunk, sizeof chunk, 1 << 20), BBT_OK);
    assert_int_equal(r->len, 10000);
    assert_true(r->cap >= r->len);
    for (int k = 0; k < 10; k++)
        assert_memory_equal(r->data + k * 1000, chunk, sizeof chunk);
    /* the headroom in front of the data is writable (libwebsockets' header goes there) */
    memset(r->data - BBT_FRAME_REF_HEADROOM, 0xee, BBT_FRAME_REF_HEADROOM);
    bbt_frame_ref_release(r);
}

static void test_limit(void **state)
{
    (void)state;
    bbt_frame_ref *r = bbt_frame_ref_new(0);
    uint8_t b[100] = {0};
    assert_int_equal(bbt_frame_ref_append(&r, b, 100, 150), BBT_OK);
    assert_int_equal(bbt_frame_ref_append(&r, b, 51, 150), BBT_ELIMIT);
    assert_int_equal(r->len, 100);
    assert_int_equal(bbt_frame_ref_append(&r, b, 50, 150), BBT_OK);
    assert_int_equal(r->len, 150);
    assert_int_equal(bbt_frame_ref_append(&r, b, (size_t)-1, 150), BBT_ELIMIT);
    bbt_frame_ref_release(r);
}

static void test_refcount(void **state)
{
    (void)state;
    bbt_frame_ref *r = bbt_frame_ref_new(8);
    assert_ptr_equal(bbt_frame_ref_hold(r), r);
    assert_int_equal(r->refs, 2);
    bbt_frame_ref_release(r);
    assert_int_equal(r->refs, 1);
    bbt_frame_ref_release(r); /* freed: ASan would report a leak otherwise */
    bbt_frame_ref_release(NULL);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    failalloc_after(0);
    assert_null(bbt_frame_ref_new(8));
    failalloc_reset();
    bbt_frame_ref *r = bbt_frame_ref_new(8);
    uint8_t b[64] = {1};
    assert_int_equal(bbt_frame_ref_append(&r, b, 8, 1024), BBT_OK);
    failalloc_after(0);
    bbt_frame_ref *before = r;
    assert_int_equal(bbt_frame_ref_append(&r, b, 64, 1024), BBT_ENOMEM);
    failalloc_reset();
    assert_ptr_equal(r, before);
    assert_int_equal(r->len, 8);
    bbt_frame_ref_release(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows_and_keeps_bytes),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
