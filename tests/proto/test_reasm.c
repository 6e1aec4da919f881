/* tests/proto/test_reasm.c — proto/reasm.c against the receiver rules of docs/PROTOCOL.md §2.5:
 * whole frames through untouched, fragments in order with audio between them, a missing last
 * fragment, an oversize assembly, allocation failure, lengths-only mode, bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/reasm.h"
#include "proto/status.h"
#include "support/failalloc.h"

#define VIDEO 1
#define AUDIO 3

static uint8_t g_pay[65536]; /* payload bytes: g_pay[i] = i * 7 + 3 */

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof g_pay; i++)
        g_pay[i] = (uint8_t)(i * 7 + 3);
    return 0;
}

static bbt_frame msg(unsigned track, unsigned flags, uint32_t seq, size_t off, size_t len)
{
    return (bbt_frame){.track = (uint8_t)track, .flags = (uint8_t)flags, .seq = seq,
                       .capture_us = 1740000000000000ull + seq, .payload = g_pay + off,
                       .len = len};
}

static int push(bbt_reasm *r, bbt_frame in, bbt_frame *out, bbt_reasm_drop *d)
{
    return bbt_reasm_push(r, &in, out, d);
}

static void test_single_messages_untouched(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(0, true);
    assert_non_null(r);
    bbt_frame out;
    bbt_reasm_drop d;
    bbt_frame in = msg(VIDEO, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 300, 0, 6);
    assert_int_equal(bbt_reasm_push(r, &in, &out, &d), 1);
    assert_int_equal(d.why, BBT_REASM_NONE);
    assert_ptr_equal(out.payload, in.payload); /* no copy */
    assert_int_equal(out.len, 6);
    assert_int_equal(out.flags, BBT_FRAME_KEY | BBT_FRAME_CONFIG);
    assert_int_equal(out.seq, 300);
    in = msg(VIDEO, BBT_FRAME_END, 301, 0, 0);
    assert_int_equal(bbt_reasm_push(r, &in, &out, NULL), 1);
    assert_int_equal(out.len, 0);
    assert_int_equal(bbt_reasm_errors(r), 0);
    bbt_reasm_free(r);
}

/* A 22 kB keyframe in three fragments, audio frames between them. */
static void test_in_order_with_audio_between(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(0, true);
    bbt_frame out;
    bbt_reasm_drop d;
    unsigned kf = BBT_FRAME_KEY | BBT_FRAME_CONFIG;
    assert_int_equal(push(r, msg(VIDEO, kf | BBT_FRAME_PART, 40, 0, 8000), &out, &d), 0);
    assert_int_equal(push(r, msg(AUDIO, 0, 900, 100, 80), &out, &d), 1);
    assert_int_equal(out.track, AUDIO);
    assert_int_equal(out.seq, 900);
    assert_int_equal(push(r, msg(VIDEO, kf | BBT_FRAME_PART, 40, 8000, 8000), &out, &d), 0);
    assert_int_equal(push(r, msg(AUDIO, 0, 901, 200, 80), &out, &d), 1);
    assert_int_equal(out.seq, 901);
    assert_int_equal(push(r, msg(VIDEO, kf, 40, 16000, 6000), &out, &d), 1);
    assert_int_equal(d.why, BBT_REASM_NONE);
    assert_int_equal(out.track, VIDEO);
    assert_int_equal(out.seq, 40);
    assert_int_equal(out.flags, kf); /* PART clear */
    assert_int_equal(out.capture_us, 1740000000000000ull + 40);
    assert_int_equal(out.len, 22000);
    assert_memory_equal(out.payload, g_pay, 22000); /* the slices, in order */
    /* the next frame (one message) and another fragmented one reuse the buffer */
    assert_int_equal(push(r, msg(VIDEO, 0, 41, 5, 300), &out, &d), 1);
    assert_ptr_equal(out.payload, g_pay + 5);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 42, 7, 1), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, 0, 42, 8, 1), &out, &d), 1);
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.payload, g_pay + 7, 2);
    assert_int_equal(bbt_reasm_errors(r), 0);
    bbt_reasm_free(r);
}

/* The last fragment never comes: the next frame's message discards the pending one and is
 * handled as usual, whether it is a whole frame or a first fragment. */
static void test_missing_last_fragment(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(0, true);
    bbt_frame out;
    bbt_reasm_drop d;
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_KEY | BBT_FRAME_PART, 7, 0, 100), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 7, 100, 100), &out, &d), 0);
    assert_int_equal(push(r, msg(AUDIO, 0, 1, 0, 10), &out, &d), 1); /* other track: no effect */
    assert_int_equal(d.why, BBT_REASM_NONE);
    assert_int_equal(push(r, msg(VIDEO, 0, 8, 300, 50), &out, &d), 1);
    assert_int_equal(d.why, BBT_REASM_INCOMPLETE);
    assert_int_equal(d.track, VIDEO);
    assert_int_equal(d.seq, 7);
    assert_int_equal(d.by_seq, 8);
    assert_int_equal(d.bytes, 200);
    assert_int_equal(out.seq, 8);
    assert_ptr_equal(out.payload, g_pay + 300);
    assert_int_equal(bbt_reasm_errors(r), 1);
    /* a pending frame ended by the next frame's first fragment */
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 9, 0, 10), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 10, 20, 10), &out, &d), 0);
    assert_int_equal(d.why, BBT_REASM_INCOMPLETE);
    assert_int_equal(push(r, msg(VIDEO, 0, 10, 30, 5), &out, &d), 1);
    assert_int_equal(d.why, BBT_REASM_NONE);
    assert_int_equal(out.len, 15);
    assert_memory_equal(out.payload, g_pay + 20, 15);
    /* a final slice of a frame never started (seq differs from the pending one) */
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 11, 0, 10), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_END, 12, 0, 0), &out, &d), 1);
    assert_true(out.flags & BBT_FRAME_END);
    assert_int_equal(d.why, BBT_REASM_INCOMPLETE);
    assert_int_equal(bbt_reasm_errors(r), 3);
    bbt_reasm_free(r);
}

/* An assembly beyond the limit is discarded and the rest of its frame ignored. */
static void test_oversize(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(1000, true);
    bbt_frame out;
    bbt_reasm_drop d;
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 5, 0, 600), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 5, 600, 600), &out, &d), 0);
    assert_int_equal(d.why, BBT_REASM_TOO_BIG);
    assert_int_equal(d.seq, 5);
    assert_int_equal(d.bytes, 1200);
    assert_int_equal(push(r, msg(AUDIO, 0, 2, 0, 10), &out, &d), 1);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 5, 0, 10), &out, &d), 0); /* ignored */
    assert_int_equal(d.why, BBT_REASM_NONE);
    assert_int_equal(push(r, msg(VIDEO, 0, 5, 0, 10), &out, &d), 0); /* its last: ignored */
    assert_int_equal(bbt_reasm_errors(r), 1);
    assert_int_equal(push(r, msg(VIDEO, 0, 6, 0, 10), &out, &d), 1); /* the next frame */
    assert_int_equal(out.seq, 6);
    /* the last slice overflows: discarded, nothing to ignore after it */
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 7, 0, 999), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, 0, 7, 0, 2), &out, &d), 0);
    assert_int_equal(d.why, BBT_REASM_TOO_BIG);
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 8, 0, 500), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, 0, 8, 0, 500), &out, &d), 1); /* exactly the limit */
    assert_int_equal(out.len, 1000);
    /* a skipped frame followed by a different seq: the skipping ends there */
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 9, 0, 1001), &out, &d), 0);
    assert_int_equal(push(r, msg(VIDEO, 0, 10, 0, 3), &out, &d), 1);
    assert_int_equal(out.seq, 10);
    assert_int_equal(bbt_reasm_errors(r), 3);
    bbt_reasm_free(r);
}

static void test_lengths_only(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(0, false);
    bbt_frame out;
    bbt_frame in = msg(VIDEO, BBT_FRAME_KEY | BBT_FRAME_PART, 1, 0, 5000);
    in.payload = NULL;
    assert_int_equal(bbt_reasm_push(r, &in, &out, NULL), 0);
    in.flags = BBT_FRAME_KEY;
    in.len = 17;
    assert_int_equal(bbt_reasm_push(r, &in, &out, NULL), 1);
    assert_null(out.payload);
    assert_int_equal(out.len, 5017);
    assert_int_equal(out.flags, BBT_FRAME_KEY);
    bbt_reasm_free(r);
}

/* Every allocation failing in turn: the assembly is discarded with BBT_ENOMEM, its rest ignored,
 * the next frame works, nothing leaks (sanitizer builds). */
static void test_allocation_failure(void **state)
{
    (void)state;
    failalloc_after(0);
    assert_null(bbt_reasm_new(0, true));
    failalloc_reset();
    for (long n = 0; n < 4; n++) { /* the 3 allocations: 4096, 8192, 16384 bytes */
        bbt_reasm *r = bbt_reasm_new(0, true);
        assert_non_null(r);
        bbt_frame out;
        bbt_reasm_drop d;
        failalloc_after(n);
        int rc1 = push(r, msg(VIDEO, BBT_FRAME_PART, 1, 0, 3000), &out, &d);
        int rc2 = push(r, msg(VIDEO, BBT_FRAME_PART, 1, 3000, 3000), &out, &d);
        int rc3 = push(r, msg(VIDEO, 0, 1, 6000, 3000), &out, &d);
        failalloc_reset();
        if (n == 0) {
            assert_int_equal(rc1, BBT_ENOMEM);
            assert_int_equal(rc2, 0);
            assert_int_equal(rc3, 0);
            assert_int_equal(bbt_reasm_errors(r), 1);
        } else if (n == 1) {
            assert_int_equal(rc1, 0);
            assert_int_equal(rc2, BBT_ENOMEM);
            assert_int_equal(d.why, BBT_REASM_NONE); /* rc3: ignored quietly */
            assert_int_equal(rc3, 0);
        } else if (n == 2) {
            assert_int_equal(rc2, 0);
            assert_int_equal(rc3, BBT_ENOMEM);
            assert_int_equal(d.why, BBT_REASM_NOMEM);
            assert_int_equal(d.bytes, 6000);
        } else {
            assert_int_equal(rc3, 1);
            assert_int_equal(out.len, 9000);
            assert_memory_equal(out.payload, g_pay, 9000);
        }
        assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 2, 0, 10), &out, &d), 0);
        assert_int_equal(push(r, msg(VIDEO, 0, 2, 10, 10), &out, &d), 1);
        assert_memory_equal(out.payload, g_pay, 20);
        bbt_reasm_free(r);
    }
}

static void test_reset_and_arguments(void **state)
{
    (void)state;
    bbt_reasm *r = bbt_reasm_new(0, true);
    bbt_frame out;
    bbt_reasm_drop d;
    assert_int_equal(push(r, msg(VIDEO, BBT_FRAME_PART, 1, 0, 10), &out, &d), 0);
    bbt_reasm_reset(r); /* reconnected: forgotten, not counted */
    assert_int_equal(push(r, msg(VIDEO, 0, 1, 10, 10), &out, &d), 1);
    assert_ptr_equal(out.payload, g_pay + 10);
    assert_int_equal(bbt_reasm_errors(r), 0);
    bbt_frame in = msg(BBT_FRAME_MAX_TRACKS, 0, 1, 0, 1);
    assert_int_equal(bbt_reasm_push(r, &in, &out, &d), BBT_EINVAL);
    assert_int_equal(bbt_reasm_push(NULL, &in, &out, &d), BBT_EINVAL);
    assert_int_equal(bbt_reasm_push(r, NULL, &out, &d), BBT_EINVAL);
    assert_int_equal(bbt_reasm_push(r, &in, NULL, &d), BBT_EINVAL);
    assert_string_equal(bbt_reasm_why_name(BBT_REASM_INCOMPLETE), "incomplete");
    assert_string_equal(bbt_reasm_why_name(BBT_REASM_NONE), "none");
    assert_int_equal(bbt_reasm_errors(NULL), 0);
    bbt_reasm_free(r);
    bbt_reasm_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_messages_untouched),
        cmocka_unit_test(test_in_order_with_audio_between),
        cmocka_unit_test(test_missing_last_fragment),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_lengths_only),
        cmocka_unit_test(test_allocation_failure),
        cmocka_unit_test(test_reset_and_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
