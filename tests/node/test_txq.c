/* tests/node/test_txq.c — node/txq.c: the uplink queue's time bound and its written drop
 * policy (oldest video group of pictures first, audio last), closed/open, keyframe waits;
 * and node/stats.c percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "node/stats.h"
#include "node/txq.h"
#include "proto/status.h"

#define MS 1000

static int notified;
static void notify(void *ud) { (*(int *)ud)++; }

static int push(bbt_txq *q, unsigned track, bool audio, unsigned flags, int64_t t_ms)
{
    bbt_node_frame *f = bbt_node_frame_new(100);
    f->track = (uint8_t)track;
    f->audio = audio;
    f->flags = (uint8_t)flags;
    f->capture_us = t_ms * MS;
    return bbt_txq_push(q, f);
}

/* Pop everything: "track@ms" items, space-separated, into buf. */
static void drain(bbt_txq *q, char *buf, size_t len)
{
    buf[0] = 0;
    bbt_node_frame *f;
    size_t off = 0;
    while ((f = bbt_txq_pop(q))) {
        off += (size_t)snprintf(buf + off, len - off, "%s%d@%lld", off ? " " : "", f->track,
                                (long long)(f->capture_us / MS));
        bbt_node_frame_free(f);
    }
}

static void test_closed_drops(void **state)
{
    int n = 0;
    bbt_txq *q = bbt_txq_new(1000 * MS, 1 << 20, notify, &n);
    assert_int_equal(push(q, 0, false, BBT_FRAME_KEY, 0), BBT_EFULL);
    assert_int_equal(n, 0);
    assert_int_equal(bbt_txq_get_stats(q).dropped_closed, 1);
    bbt_txq_open(q, 0);
    assert_int_equal(push(q, 0, false, 0, 0), BBT_OK);
    assert_int_equal(n, 1);
    bbt_txq_close(q); /* flushes */
    assert_null(bbt_txq_pop(q));
    bbt_txq_free(q);
}

static void test_open_waits_for_key(void **state)
{
    bbt_txq *q = bbt_txq_new(1000 * MS, 1 << 20, NULL, NULL);
    bbt_txq_open(q, 1u << 0 | 1u << 1);
    assert_int_equal(push(q, 0, false, 0, 0), BBT_EFULL);  /* not decodable yet */
    assert_int_equal(push(q, 2, true, 0, 0), BBT_OK);      /* audio is not held back */
    assert_int_equal(push(q, 0, false, BBT_FRAME_KEY, 40), BBT_OK);
    assert_int_equal(push(q, 0, false, 0, 80), BBT_OK);
    assert_int_equal(push(q, 1, false, 0, 80), BBT_EFULL);
    char buf[256];
    drain(q, buf, sizeof buf);
    assert_string_equal(buf, "2@0 0@40 0@80");
    assert_int_equal(bbt_txq_get_stats(q).dropped_nokey, 2);
    bbt_txq_free(q);
}

/* Over the time bound: the oldest video GOP goes (up to its track's next keyframe); audio and
 * the other track stay. */
static void test_drops_oldest_gop_first(void **state)
{
    bbt_txq *q = bbt_txq_new(500 * MS, 1 << 20, NULL, NULL);
    bbt_txq_open(q, 0);
    push(q, 0, false, BBT_FRAME_KEY, 0);
    push(q, 0, false, 0, 100);
    push(q, 0, false, BBT_FRAME_KEY, 200);
    push(q, 9, true, 0, 200);
    push(q, 1, false, BBT_FRAME_KEY, 200);
    push(q, 0, false, 0, 300);
    assert_int_equal(push(q, 0, false, 0, 600), BBT_OK); /* span 600 > 500: 0@0, 0@100 go */
    char buf[256];
    drain(q, buf, sizeof buf);
    assert_string_equal(buf, "0@200 9@200 1@200 0@300 0@600");
    assert_int_equal(bbt_txq_take_key_wanted(q), 0); /* track 0 still had a keyframe */
    assert_int_equal(bbt_txq_get_stats(q).dropped_video, 2);
    bbt_txq_free(q);
}

/* Stale audio at the head: every video frame goes before any audio does (never audio first). */
static void test_video_goes_before_audio(void **state)
{
    bbt_txq *q = bbt_txq_new(500 * MS, 1 << 20, NULL, NULL);
    bbt_txq_open(q, 0);
    push(q, 9, true, 0, 0);
    push(q, 0, false, BBT_FRAME_KEY, 100);
    push(q, 1, false, BBT_FRAME_KEY, 100);
    push(q, 9, true, 0, 200);
    assert_int_equal(push(q, 9, true, 0, 600), BBT_OK); /* span 600: tracks 0, 1, then 9@0 */
    char buf[256];
    drain(q, buf, sizeof buf);
    assert_string_equal(buf, "9@200 9@600");
    assert_int_equal(bbt_txq_take_key_wanted(q), 1u << 0 | 1u << 1);
    bbt_txq_stats st = bbt_txq_get_stats(q);
    assert_int_equal(st.dropped_video, 2);
    assert_int_equal(st.dropped_audio, 1);
    bbt_txq_free(q);
}

/* No later keyframe: the whole track goes and waits for a keyframe, which is reported; when
 * only audio is left, the oldest audio goes. */
static void test_track_waits_and_audio_last(void **state)
{
    bbt_txq *q = bbt_txq_new(500 * MS, 1 << 20, NULL, NULL);
    bbt_txq_open(q, 0);
    push(q, 9, true, 0, 0);
    push(q, 0, false, BBT_FRAME_KEY, 20);
    push(q, 0, false, 0, 300);
    push(q, 9, true, 0, 300);
    assert_int_equal(push(q, 9, true, 0, 600), BBT_OK); /* span 600: track 0 goes */
    assert_int_equal(bbt_txq_take_key_wanted(q), 1u << 0);
    assert_int_equal(bbt_txq_take_key_wanted(q), 0);
    assert_int_equal(push(q, 0, false, 0, 610), BBT_EFULL); /* waits for its keyframe */
    assert_int_equal(push(q, 9, true, 0, 1000), BBT_OK);    /* span 1000: oldest audio goes */
    char buf[256];
    drain(q, buf, sizeof buf);
    assert_string_equal(buf, "9@600 9@1000");
    bbt_txq_stats st = bbt_txq_get_stats(q);
    assert_int_equal(st.dropped_video, 2);
    assert_int_equal(st.dropped_audio, 2);
    bbt_txq_free(q);
}

static void test_byte_bound(void **state)
{
    bbt_txq *q = bbt_txq_new(10000 * MS, 250, NULL, NULL); /* 2 frames of 100 bytes fit */
    bbt_txq_open(q, 0);
    push(q, 0, false, BBT_FRAME_KEY, 0);
    push(q, 0, false, BBT_FRAME_KEY, 40);
    push(q, 0, false, BBT_FRAME_KEY, 80);
    char buf[256];
    drain(q, buf, sizeof buf);
    assert_string_equal(buf, "0@40 0@80");
    bbt_txq_free(q);
}

static void test_seal(void **state)
{
    bbt_node_frame *f = bbt_node_frame_new(3);
    memcpy(bbt_node_frame_payload(f), "abc", 3);
    f->track = 2;
    f->flags = BBT_FRAME_KEY | BBT_FRAME_CONFIG;
    f->capture_us = 1740000000000000;
    uint8_t *m = bbt_node_frame_seal(f, 300);
    assert_non_null(m);
    const uint8_t want[] = {1, 2, 3, 0, 0, 0, 1, 0x2c, 0x00, 0x06, 0x2e, 0x85, 0x51, 0xe8, 0xc0, 0x00,
                            'a', 'b', 'c'};
    assert_memory_equal(m, want, sizeof want);
    assert_true(m - f->buf >= 16); /* headroom for the WebSocket header */
    f->track = 40;
    assert_null(bbt_node_frame_seal(f, 1));
    bbt_node_frame_free(f);
}

static void test_latency_percentiles(void **state)
{
    bbt_latency l;
    assert_int_equal(bbt_latency_init(&l), BBT_OK);
    assert_true(bbt_latency_percentile(&l, 50) == 0);
    for (int i = 1; i <= 100; i++)
        bbt_latency_add(&l, i);
    assert_true(bbt_latency_percentile(&l, 50) == 50);
    assert_true(bbt_latency_percentile(&l, 95) == 95);
    assert_true(bbt_latency_percentile(&l, 100) == 100);
    bbt_latency_add(&l, 99999);
    assert_true(l.max_ms == 99999);
    assert_true(bbt_latency_percentile(&l, 100) == 99999);
    bbt_latency_reset(&l);
    assert_int_equal(l.count, 0);
    bbt_latency_clear(&l);
}

int main(void)
{
    (void)notified;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_drops),
        cmocka_unit_test(test_open_waits_for_key),
        cmocka_unit_test(test_drops_oldest_gop_first),
        cmocka_unit_test(test_video_goes_before_audio),
        cmocka_unit_test(test_track_waits_and_audio_last),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_latency_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
