/* tests/node/test_h264.c — node/h264.c: NAL walking, frame flags, codec strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/h264.h"
#include "proto/frame.h"
#include "proto/status.h"

/* AUD, SPS (constrained baseline, level 3.1), PPS, IDR slice; 4- and 3-byte start codes. */
static const uint8_t idr_au[] = {0, 0, 0, 1, 0x09, 0xf0,
                                 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40,
                                 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80,
                                 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33};
/* AUD, a non-IDR slice that is referenced (nal_ref_idc 2), a second one. */
static const uint8_t p_au[] = {0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x41, 0x9a, 0x02,
                               0, 0, 1, 0x41, 0x9a, 0x03};
/* a non-reference slice (nal_ref_idc 0, type 1) */
static const uint8_t nonref_au[] = {0, 0, 0, 1, 0x09, 0x50, 0, 0, 0, 1, 0x01, 0x9e, 0x04};

static void test_idr_with_config(void **state)
{
    bbt_h264_au au;
    assert_int_equal(bbt_h264_parse_au(idr_au, sizeof idr_au, &au), BBT_OK);
    assert_int_equal(au.nals, 4);
    assert_true(au.aud && au.sps && au.pps && au.idr && au.vcl);
    assert_false(au.nonref);
    assert_int_equal(bbt_h264_frame_flags(&au), BBT_FRAME_KEY | BBT_FRAME_CONFIG);
    assert_non_null(au.sps_nal);
    assert_int_equal(au.sps_nal[0], 0x67);
    assert_int_equal(au.sps_len, 7); /* up to the next start code, its zeros excluded */
    char codec[12];
    assert_int_equal(bbt_h264_codec_string(au.sps_nal, au.sps_len, codec), BBT_OK);
    assert_string_equal(codec, "avc1.42C01F");
}

static void test_p_and_nonref(void **state)
{
    bbt_h264_au au;
    assert_int_equal(bbt_h264_parse_au(p_au, sizeof p_au, &au), BBT_OK);
    assert_int_equal(au.nals, 3);
    assert_false(au.idr);
    assert_int_equal(bbt_h264_frame_flags(&au), 0);
    assert_int_equal(bbt_h264_parse_au(nonref_au, sizeof nonref_au, &au), BBT_OK);
    assert_true(au.nonref);
    assert_int_equal(bbt_h264_frame_flags(&au), BBT_FRAME_DISCARDABLE);
}

static void test_codec_strings(void **state)
{
    char c[12];
    const uint8_t main_l30[] = {0x67, 0x4d, 0x40, 0x1e};
    assert_int_equal(bbt_h264_codec_string(main_l30, sizeof main_l30, c), BBT_OK);
    assert_string_equal(c, "avc1.4D401E");
    /* an emulation-prevention byte inside the three bytes is skipped */
    const uint8_t epb[] = {0x67, 0x00, 0x00, 0x03, 0x0d, 0x11};
    assert_int_equal(bbt_h264_codec_string(epb, sizeof epb, c), BBT_OK);
    assert_string_equal(c, "avc1.00000D");
    const uint8_t pps[] = {0x68, 0x42, 0xc0, 0x1f};
    assert_int_equal(bbt_h264_codec_string(pps, sizeof pps, c), BBT_EINVAL);
    assert_int_equal(bbt_h264_codec_string(main_l30, 3, c), BBT_EINVAL);
    assert_int_equal(bbt_h264_codec_string(NULL, 4, c), BBT_EINVAL);
}

static void test_garbage(void **state)
{
    bbt_h264_au au;
    const uint8_t none[] = {1, 2, 3, 4, 5};
    assert_int_equal(bbt_h264_parse_au(none, sizeof none, &au), BBT_EINVAL);
    const uint8_t lead[] = {7, 0, 0, 1, 0x65, 0x88};
    assert_int_equal(bbt_h264_parse_au(lead, sizeof lead, &au), BBT_EINVAL);
    const uint8_t empty_nals[] = {0, 0, 1, 0, 0, 1};
    assert_int_equal(bbt_h264_parse_au(empty_nals, sizeof empty_nals, &au), BBT_OK);
    assert_int_equal(bbt_h264_frame_flags(&au), 0);
    assert_int_equal(bbt_h264_parse_au(NULL, 0, &au), BBT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idr_with_config),
        cmocka_unit_test(test_p_and_nonref),
        cmocka_unit_test(test_codec_strings),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
