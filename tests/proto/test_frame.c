/* tests/proto/test_frame.c — proto/frame.c held to docs/PROTOCOL.md §2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/status.h"

/* The example frame of docs/PROTOCOL.md §2.3, byte for byte. */
static const uint8_t spec_example[] = {
    0x01, 0x02, 0x03, 0x00,                         /* v1, track 2, KEY|CONFIG, reserved */
    0x00, 0x00, 0x01, 0x2c,                         /* seq 300 */
    0x00, 0x06, 0x2e, 0x85, 0x51, 0xe8, 0xc0, 0x00, /* capture_us 1740000000000000 */
    0x00, 0x00, 0x00, 0x01, 0x09, 0xf0,             /* payload: an AUD NAL */
};

static void test_decode_spec_example(void **state)
{
    (void)state;
    bbt_frame f;
    assert_int_equal(bbt_frame_decode(spec_example, sizeof spec_example, 0, &f), BBT_OK);
    assert_int_equal(f.track, 2);
    assert_int_equal(f.flags, BBT_FRAME_KEY | BBT_FRAME_CONFIG);
    assert_int_equal(f.seq, 300);
    assert_true(f.capture_us == 1740000000000000ull);
    assert_int_equal(f.len, 6);
    assert_ptr_equal(f.payload, spec_example + 16); /* no copy: points into the buffer */
}

static void test_encode_spec_example(void **state)
{
    (void)state;
    bbt_frame f = {.track = 2, .flags = BBT_FRAME_KEY | BBT_FRAME_CONFIG, .seq = 300,
                   .capture_us = 1740000000000000ull, .len = 6};
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_OK);
    assert_memory_equal(hdr, spec_example, sizeof hdr);
}

static void test_round_trip_extremes(void **state)
{
    (void)state;
    static uint8_t buf[BBT_FRAME_HEADER_LEN + 3] = {0};
    const uint32_t seqs[] = {0, 1, 0x7fffffffu, 0xffffffffu};
    const uint64_t times[] = {0, 1, 0x8000000000000000ull, UINT64_MAX};
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t += 31)
        for (size_t i = 0; i < 4; i++)
            for (unsigned fl = 0; fl <= BBT_FRAME_FLAGS_ALL; fl++) {
                if ((fl & BBT_FRAME_END) && (fl & BBT_FRAME_PART))
                    continue; /* refused: test_reject_flags_and_reserved */
                bbt_frame in = {.track = (uint8_t)t, .flags = (uint8_t)fl, .seq = seqs[i],
                                .capture_us = times[i], .len = 3};
                assert_int_equal(bbt_frame_encode_header(&in, buf), BBT_OK);
                bbt_frame out;
                assert_int_equal(bbt_frame_decode(buf, sizeof buf, 0, &out), BBT_OK);
                assert_int_equal(out.track, in.track);
                assert_int_equal(out.flags, in.flags);
                assert_int_equal(out.seq, in.seq);
                assert_true(out.capture_us == in.capture_us);
                assert_int_equal(out.len, 3);
            }
}

static void expect_decode(const uint8_t *b, size_t n, size_t max, int want)
{
    bbt_frame f;
    memset(&f, 0xa5, sizeof f);
    bbt_frame before = f;
    assert_int_equal(bbt_frame_decode(b, n, max, &f), want);
    if (want != BBT_OK)
        assert_memory_equal(&f, &before, sizeof f); /* untouched on failure */
}

static void test_reject_short(void **state)
{
    (void)state;
    for (size_t n = 0; n < BBT_FRAME_HEADER_LEN; n++)
        expect_decode(spec_example, n, 0, BBT_EFRAME_SHORT);
}

/* Padding (§2.6): any message of ≥ 1 byte starting with 0; never a frame, and a frame never
 * padding. */
static void test_padding(void **state)
{
    (void)state;
    uint8_t zeros[64] = {0};
    assert_true(bbt_frame_is_padding(zeros, 1));
    assert_true(bbt_frame_is_padding(zeros, sizeof zeros));
    assert_false(bbt_frame_is_padding(zeros, 0));
    assert_false(bbt_frame_is_padding(NULL, 4));
    assert_false(bbt_frame_is_padding(spec_example, sizeof spec_example));
    expect_decode(zeros, sizeof zeros, 0, BBT_EFRAME_VERSION);
}

static void test_reject_version(void **state)
{
    (void)state;
    uint8_t b[sizeof spec_example];
    memcpy(b, spec_example, sizeof b);
    const uint8_t bad[] = {0x00, 0x02, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        b[0] = bad[i];
        expect_decode(b, sizeof b, 0, BBT_EFRAME_VERSION);
    }
}

static void test_reject_flags_and_reserved(void **state)
{
    (void)state;
    uint8_t b[sizeof spec_example];
    for (unsigned bit = 5; bit < 8; bit++) {
        memcpy(b, spec_example, sizeof b);
        b[2] = (uint8_t)(1u << bit);
        expect_decode(b, sizeof b, 0, BBT_EFRAME_FLAGS);
    }
    memcpy(b, spec_example, sizeof b);
    b[3] = 1;
    expect_decode(b, sizeof b, 0, BBT_EFRAME_FLAGS);
    bbt_frame f = {.track = 0, .flags = 0x20, .len = 1};
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_EFRAME_FLAGS);
    /* PART (a fragment, §2.5) is a flag like the others, but an END is never fragmented. */
    memcpy(b, spec_example, sizeof b);
    b[2] = BBT_FRAME_KEY | BBT_FRAME_PART;
    expect_decode(b, sizeof b, 0, BBT_OK);
    b[2] = BBT_FRAME_END | BBT_FRAME_PART;
    expect_decode(b, sizeof b, 0, BBT_EFRAME_FLAGS);
    f.flags = BBT_FRAME_END | BBT_FRAME_PART;
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_EFRAME_FLAGS);
}

static void test_reject_track(void **state)
{
    (void)state;
    uint8_t b[sizeof spec_example];
    memcpy(b, spec_example, sizeof b);
    b[1] = BBT_FRAME_MAX_TRACKS;
    expect_decode(b, sizeof b, 0, BBT_EFRAME_TRACK);
    b[1] = 0xff;
    expect_decode(b, sizeof b, 0, BBT_EFRAME_TRACK);
    bbt_frame f = {.track = BBT_FRAME_MAX_TRACKS, .len = 1};
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_EFRAME_TRACK);
}

static void test_empty_payload_only_at_end(void **state)
{
    (void)state;
    uint8_t b[BBT_FRAME_HEADER_LEN];
    memcpy(b, spec_example, sizeof b);
    expect_decode(b, sizeof b, 0, BBT_EFRAME_EMPTY);
    b[2] = BBT_FRAME_END;
    bbt_frame f;
    assert_int_equal(bbt_frame_decode(b, sizeof b, 0, &f), BBT_OK);
    assert_int_equal(f.len, 0);
    assert_true(f.flags & BBT_FRAME_END);
    bbt_frame e = {.len = 0};
    assert_int_equal(bbt_frame_encode_header(&e, b), BBT_EFRAME_EMPTY);
}

static void test_reject_too_big(void **state)
{
    (void)state;
    expect_decode(spec_example, sizeof spec_example, 5, BBT_EFRAME_TOO_BIG);
    expect_decode(spec_example, sizeof spec_example, 6, BBT_OK);
    /* A limit above the protocol ceiling is clamped to it. */
    bbt_frame f = {.track = 1, .len = (size_t)BBT_FRAME_MAX_PAYLOAD + 1};
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_EFRAME_TOO_BIG);
    f.len = BBT_FRAME_MAX_PAYLOAD;
    assert_int_equal(bbt_frame_encode_header(&f, hdr), BBT_OK);
}

static void test_null_arguments(void **state)
{
    (void)state;
    bbt_frame f;
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    assert_int_equal(bbt_frame_decode(NULL, 20, 0, &f), BBT_EINVAL);
    assert_int_equal(bbt_frame_decode(spec_example, sizeof spec_example, 0, NULL), BBT_EINVAL);
    assert_int_equal(bbt_frame_encode_header(NULL, hdr), BBT_EINVAL);
    assert_int_equal(bbt_frame_encode_header(&f, NULL), BBT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_spec_example),
        cmocka_unit_test(test_encode_spec_example),
        cmocka_unit_test(test_round_trip_extremes),
        cmocka_unit_test(test_reject_short),
        cmocka_unit_test(test_reject_version),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_reject_flags_and_reserved),
        cmocka_unit_test(test_reject_track),
        cmocka_unit_test(test_empty_payload_only_at_end),
        cmocka_unit_test(test_reject_too_big),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
