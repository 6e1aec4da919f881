/* tests/relay/test_queue.c — relay/queue.c: bounds and the written drop policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/status.h"
#include "relay/queue.h"
#include "support/failalloc.h"

#define V 0 /* video track id used below */
#define A 1 /* audio track id */

static bbt_frame_ref *mk(unsigned track, unsigned flags, size_t len, uint32_t seq)
{
    bbt_frame_ref *r = bbt_frame_ref_new(len);
    assert_non_null(r);
    r->len = len;
    r->track = (uint8_t)track;
    r->flags = (uint8_t)flags;
    r->seq = seq;
    r->cls = track == A ? BBT_CLASS_AUDIO : BBT_CLASS_VIDEO;
    return r;
}

/* Push a frame and drop the caller's reference. Returns push status. */
static int put(bbt_queue *q, unsigned track, unsigned flags, size_t len, uint32_t seq, int64_t now)
{
    bbt_frame_ref *r = mk(track, flags, len, seq);
    int rc = bbt_queue_push(q, r, now);
    bbt_frame_ref_release(r);
    return rc;
}

/* The queue's content as a string: K/P for video key/non-key, a for audio, with seq digits. */
static void expect_content(bbt_queue *q, const char *want)
{
    char got[256] = "";
    size_t n = bbt_queue_count(q);
    /* Reading pops everything: callers use this last. */
    for (size_t i = 0; i < n; i++) {
        bbt_frame_ref *r = bbt_queue_peek(q);
        char c = r->cls == BBT_CLASS_AUDIO ? 'a' : (r->flags & BBT_FRAME_KEY) ? 'K' : 'P';
        size_t l = strlen(got);
        got[l] = c;
        got[l + 1] = (char)('0' + r->seq % 10);
        got[l + 2] = 0;
        bbt_queue_pop(q, 0);
    }
    assert_string_equal(got, want);
}

static bbt_queue *mkq(uint32_t frames, size_t bytes, int64_t delay)
{
    bbt_queue_limits lim = {.max_frames = frames, .max_bytes = bytes, .max_delay_us = delay};
    bbt_queue *q = bbt_queue_new(&lim);
    assert_non_null(q);
    return q;
}

static void test_fifo_and_wait_time(void **state)
{
    (void)state;
    bbt_queue *q = mkq(16, 1 << 20, 1000000);
    assert_null(bbt_queue_peek(q));
    assert_int_equal(bbt_queue_pop(q, 0), -1);
    assert_int_equal(put(q, V, BBT_FRAME_KEY, 100, 1, 1000), BBT_OK);
    assert_int_equal(put(q, A, 0, 10, 2, 1500), BBT_OK);
    assert_int_equal(bbt_queue_count(q), 2);
    assert_int_equal(bbt_queue_bytes(q), 110);
    assert_int_equal(bbt_queue_delay(q, 4000), 3000);
    assert_int_equal(bbt_queue_peek(q)->seq, 1);
    assert_int_equal(bbt_queue_pop(q, 4000), 3000);
    assert_int_equal(bbt_queue_peek(q)->seq, 2);
    assert_int_equal(bbt_queue_pop(q, 4000), 2500);
    assert_int_equal(bbt_queue_get_stats(q)->pushed, 2);
    assert_int_equal(bbt_queue_get_stats(q)->popped, 2);
    assert_int_equal(bbt_queue_bytes(q), 0);
    bbt_queue_free(q);
}

static void test_shared_frame_refcount(void **state)
{
    (void)state;
    bbt_queue *q1 = mkq(8, 1 << 20, 1000000), *q2 = mkq(8, 1 << 20, 1000000);
    bbt_frame_ref *r = mk(V, BBT_FRAME_KEY, 50, 1);
    assert_int_equal(bbt_queue_push(q1, r, 0), BBT_OK);
    assert_int_equal(bbt_queue_push(q2, r, 0), BBT_OK);
    assert_int_equal(r->refs, 3);
    assert_ptr_equal(bbt_queue_peek(q1), r); /* the same frame, not a copy */
    assert_ptr_equal(bbt_queue_peek(q2), r);
    bbt_queue_pop(q1, 0);
    assert_int_equal(r->refs, 2);
    bbt_queue_free(q2);
    assert_int_equal(r->refs, 1);
    bbt_frame_ref_release(r);
    bbt_queue_free(q1);
}

/* Count bound: the oldest group of pictures goes when a later keyframe is queued. */
static void test_drop_up_to_next_keyframe(void **state)
{
    (void)state;
    bbt_queue *q = mkq(8, 1 << 20, 1000000);
    put(q, V, BBT_FRAME_KEY, 10, 1, 0);
    put(q, A, 0, 10, 2, 0);
    put(q, V, 0, 10, 3, 0);
    put(q, A, 0, 10, 4, 0);
    put(q, V, BBT_FRAME_KEY, 10, 5, 0);
    put(q, A, 0, 10, 6, 0);
    put(q, V, 0, 10, 7, 0);
    put(q, A, 0, 10, 8, 0);
    assert_int_equal(put(q, V, 0, 10, 9, 0), BBT_OK); /* full: K1 P3 go, audio stays */
    assert_int_equal(bbt_queue_get_stats(q)->dropped_video, 2);
    assert_int_equal(bbt_queue_get_stats(q)->dropped_audio, 0);
    assert_false(bbt_queue_awaiting_key(q, V));
    expect_content(q, "a2a4K5a6P7a8P9");
    bbt_queue_free(q);
}

/* No later keyframe in the queue: the whole track goes and waits for the next keyframe. */
static void test_drop_whole_gop_then_await_key(void **state)
{
    (void)state;
    bbt_queue *q = mkq(8, 1 << 20, 1000000);
    put(q, V, BBT_FRAME_KEY, 10, 1, 0);
    for (uint32_t s = 2; s <= 8; s++)
        put(q, s % 2 ? V : A, 0, 10, s, 0);
    assert_int_equal(put(q, V, 0, 10, 9, 0), BBT_EFULL); /* dropped, and refused itself */
    assert_true(bbt_queue_awaiting_key(q, V));
    assert_int_equal(bbt_queue_get_stats(q)->key_waits, 1);
    assert_int_equal(put(q, V, 0, 10, 10, 0), BBT_EFULL);
    assert_int_equal(put(q, A, 0, 10, 11, 0), BBT_OK);
    assert_int_equal(put(q, V, BBT_FRAME_KEY, 10, 12, 0), BBT_OK);
    assert_false(bbt_queue_awaiting_key(q, V));
    assert_int_equal(bbt_queue_get_stats(q)->refused_await_key, 2);
    expect_content(q, "a2a4a6a8a1K2");
    bbt_queue_free(q);
}

/* An incoming keyframe on a full queue replaces the old group without any wait. */
static void test_incoming_keyframe_needs_no_wait(void **state)
{
    (void)state;
    bbt_queue *q = mkq(8, 1 << 20, 1000000);
    put(q, V, BBT_FRAME_KEY, 10, 1, 0);
    for (uint32_t s = 2; s <= 8; s++)
        put(q, V, 0, 10, s, 0);
    assert_int_equal(put(q, V, BBT_FRAME_KEY, 10, 9, 0), BBT_OK);
    assert_false(bbt_queue_awaiting_key(q, V));
    expect_content(q, "K9");
    bbt_queue_free(q);
}

/* Delay bound: when the oldest entry waited too long, video goes first, then the oldest audio. */
static void test_delay_bound_video_then_audio(void **state)
{
    (void)state;
    bbt_queue *q = mkq(64, 1 << 20, 1000);
    put(q, A, 0, 10, 1, 0);
    put(q, V, BBT_FRAME_KEY, 10, 2, 100);
    put(q, A, 0, 10, 3, 600);
    put(q, V, 0, 10, 4, 700);
    assert_int_equal(put(q, A, 0, 10, 5, 1500), BBT_OK);
    /* video went first (whole group: no later key), then audio 1 (waited 1500 > 1000) */
    assert_int_equal(bbt_queue_get_stats(q)->dropped_video, 2);
    assert_int_equal(bbt_queue_get_stats(q)->dropped_audio, 1);
    assert_true(bbt_queue_delay(q, 1500) <= 1000);
    expect_content(q, "a3a5");
    bbt_queue_free(q);
}

/* Audio is dropped only when no video is left, oldest first, to keep the delay bounded. */
static void test_audio_only_overflow(void **state)
{
    (void)state;
    bbt_queue *q = mkq(5, 1 << 20, 1000000); /* rounded up to 8 */
    for (uint32_t s = 1; s <= 10; s++)
        assert_int_equal(put(q, A, 0, 10, s, 0), BBT_OK);
    assert_int_equal(bbt_queue_get_stats(q)->dropped_audio, 2);
    expect_content(q, "a3a4a5a6a7a8a9a0");
    bbt_queue_free(q);
}

static void test_byte_bound_and_oversize(void **state)
{
    (void)state;
    bbt_queue *q = mkq(64, 100, 1000000);
    put(q, V, BBT_FRAME_KEY, 40, 1, 0);
    put(q, A, 0, 10, 2, 0);
    put(q, V, 0, 40, 3, 0);
    assert_int_equal(put(q, A, 0, 20, 4, 0), BBT_OK); /* 110 > 100: video group dropped */
    assert_int_equal(bbt_queue_bytes(q), 30);
    assert_true(bbt_queue_awaiting_key(q, V));
    assert_int_equal(put(q, V, BBT_FRAME_KEY, 101, 5, 0), BBT_EFULL);
    assert_int_equal(bbt_queue_get_stats(q)->refused_oversize, 1);
    assert_int_equal(put(q, A, 0, 101, 6, 0), BBT_EFULL);
    assert_int_equal(bbt_queue_get_stats(q)->refused_oversize, 2);
    expect_content(q, "a2a4");
    bbt_queue_free(q);
}

static void test_drop_track_and_await(void **state)
{
    (void)state;
    bbt_queue *q = mkq(16, 1 << 20, 1000000);
    put(q, V, BBT_FRAME_KEY, 10, 1, 0);
    put(q, A, 0, 10, 2, 0);
    put(q, 2, BBT_FRAME_KEY, 10, 3, 0);
    assert_int_equal(bbt_queue_drop_track(q, V), 1);
    assert_int_equal(bbt_queue_bytes(q), 20);
    bbt_queue_await_key(q, 2);
    bbt_queue_await_key(q, 2);
    assert_int_equal(bbt_queue_get_stats(q)->key_waits, 1);
    assert_int_equal(put(q, 2, 0, 10, 4, 0), BBT_EFULL);
    assert_false(bbt_queue_awaiting_key(q, 40));
    expect_content(q, "a2K3");
    bbt_queue_free(q);
}

/* A queue that never drains stays bounded however long frames keep coming. */
static void test_never_drained_stays_bounded(void **state)
{
    (void)state;
    bbt_queue *q = mkq(256, 1 << 16, 500000);
    int64_t now = 0;
    for (uint32_t s = 0; s < 100000; s++, now += 10000) {
        unsigned t = s % 3 == 0 ? A : V;
        put(q, t, (t == V && s % 50 == 1) ? BBT_FRAME_KEY : 0, 300 + s % 700, s, now);
        assert_true(bbt_queue_count(q) <= 256);
        assert_true(bbt_queue_bytes(q) <= 1 << 16);
        assert_true(bbt_queue_delay(q, now) <= 500000);
    }
    bbt_queue_free(q);
}

/* The ring starts small and grows while wrapped: order and content survive each doubling. */
static void test_ring_grows_in_order(void **state)
{
    (void)state;
    bbt_queue *q = mkq(64, 1 << 20, 10000000);
    for (uint32_t s = 0; s < 10; s++) /* move head off 0 so the growth copies a wrapped ring */
        put(q, A, 0, 10, s, 0);
    for (uint32_t s = 0; s < 10; s++)
        bbt_queue_pop(q, 0);
    for (uint32_t s = 0; s < 64; s++)
        assert_int_equal(put(q, A, 0, 10, s, 0), BBT_OK);
    assert_int_equal(bbt_queue_count(q), 64);
    /* At the frame limit the drop policy applies as before: the oldest audio goes. */
    assert_int_equal(put(q, A, 0, 10, 64, 0), BBT_OK);
    assert_int_equal(bbt_queue_count(q), 64);
    assert_int_equal(bbt_queue_get_stats(q)->dropped_audio, 1);
    for (uint32_t s = 1; s <= 64; s++) {
        assert_int_equal(bbt_queue_peek(q)->seq, s);
        bbt_queue_pop(q, 0);
    }
    bbt_queue_free(q);
}

/* A growth that cannot allocate leaves the queue as it was, counted as full: the policy makes
 * room (here: the oldest audio) and the new frame is still accepted. */
static void test_growth_failure_is_a_full_queue(void **state)
{
    (void)state;
    bbt_queue *q = mkq(1024, 1 << 20, 10000000);
    for (uint32_t s = 0; s < 16; s++)
        assert_int_equal(put(q, A, 0, 10, s, 0), BBT_OK);
    bbt_frame_ref *r = mk(A, 0, 10, 16);
    failalloc_after(0);
    int rc = bbt_queue_push(q, r, 0);
    failalloc_reset();
    bbt_frame_ref_release(r);
    assert_int_equal(rc, BBT_OK);
    assert_int_equal(bbt_queue_count(q), 16);
    assert_int_equal(bbt_queue_get_stats(q)->dropped_audio, 1);
    assert_int_equal(bbt_queue_peek(q)->seq, 1);
    assert_int_equal(put(q, A, 0, 10, 17, 0), BBT_OK); /* memory is back: it grows */
    assert_int_equal(bbt_queue_count(q), 17);
    bbt_queue_free(q);
}

/* Audio taken from the middle (the writer sends it ahead of video): the rest keeps its order,
 * across the ring's wrap, and the counts, bytes and wait times stay right. */
static void test_pop_audio_from_the_middle(void **state)
{
    (void)state;
    bbt_queue *q = mkq(16, 1 << 20, 1000000);
    size_t pos = 99;
    assert_null(bbt_queue_peek_class(q, BBT_CLASS_AUDIO, &pos));
    assert_int_equal(bbt_queue_pop_at(q, 0, 0), -1);
    for (uint32_t i = 0; i < 14; i++) /* move head near the end of the 16-entry ring */
        assert_int_equal(put(q, V, 0, 1, i, 0), BBT_OK);
    for (int i = 0; i < 14; i++)
        bbt_queue_pop(q, 0);
    assert_int_equal(put(q, V, BBT_FRAME_KEY, 100, 1, 1000), BBT_OK);
    assert_int_equal(put(q, V, 0, 50, 2, 1100), BBT_OK);
    assert_int_equal(put(q, A, 0, 10, 3, 1200), BBT_OK);
    assert_int_equal(put(q, V, 0, 50, 4, 1300), BBT_OK);
    assert_int_equal(put(q, A, 0, 10, 5, 1400), BBT_OK);
    assert_null(bbt_queue_peek_class(q, 7, &pos));
    bbt_frame_ref *a = bbt_queue_peek_class(q, BBT_CLASS_AUDIO, &pos);
    assert_non_null(a);
    assert_int_equal(a->seq, 3);
    assert_int_equal(pos, 2);
    assert_int_equal(bbt_queue_pop_at(q, pos, 2000), 800);
    assert_int_equal(bbt_queue_pop_at(q, 9, 2000), -1);
    assert_int_equal(bbt_queue_count(q), 4);
    assert_int_equal(bbt_queue_bytes(q), 210);
    assert_int_equal(bbt_queue_delay(q, 2000), 1000); /* the oldest is still the keyframe */
    a = bbt_queue_peek_class(q, BBT_CLASS_AUDIO, &pos);
    assert_int_equal(pos, 3);
    assert_int_equal(bbt_queue_pop_at(q, pos, 2000), 600);
    assert_int_equal(bbt_queue_get_stats(q)->popped, 14 + 2);
    expect_content(q, "K1P2P4");
    bbt_queue_free(q);
}

static void test_bad_limits_and_alloc_failure(void **state)
{
    (void)state;
    bbt_queue_limits lim = {.max_frames = 0, .max_bytes = 1, .max_delay_us = 1};
    assert_null(bbt_queue_new(&lim));
    assert_null(bbt_queue_new(NULL));
    lim.max_frames = 8;
    for (long n = 0; n < 3; n++) { /* each of the three allocations fails in turn */
        failalloc_after(n);
        bbt_queue *q = bbt_queue_new(&lim);
        failalloc_reset();
        assert_null(q);
    }
    failalloc_after(3);
    bbt_queue *q = bbt_queue_new(&lim);
    failalloc_reset();
    assert_non_null(q);
    bbt_queue_free(q);
    bbt_queue_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_wait_time),
        cmocka_unit_test(test_shared_frame_refcount),
        cmocka_unit_test(test_drop_up_to_next_keyframe),
        cmocka_unit_test(test_drop_whole_gop_then_await_key),
        cmocka_unit_test(test_incoming_keyframe_needs_no_wait),
        cmocka_unit_test(test_delay_bound_video_then_audio),
        cmocka_unit_test(test_audio_only_overflow),
        cmocka_unit_test(test_byte_bound_and_oversize),
        cmocka_unit_test(test_drop_track_and_await),
        cmocka_unit_test(test_never_drained_stays_bounded),
        cmocka_unit_test(test_ring_grows_in_order),
        cmocka_unit_test(test_growth_failure_is_a_full_queue),
        cmocka_unit_test(test_pop_audio_from_the_middle),
        cmocka_unit_test(test_bad_limits_and_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
