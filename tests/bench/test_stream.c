/* tests/bench/test_stream.c — the recording reader (stream.c) and the contract of the stream
 * bbt-mkstream generates at build time (docs/PERFORMANCE.md, "the stream"):
 *   - the seed corpus of tests/fuzz/corpus/recording: valid_* parse, everything else is refused
 *     with the expected status;
 *   - the generated stream: tracks 0..2 video (layers 2, 1, 0) and 3 Opus; per-track seq from 0
 *     without gaps; capture_us from 0, never decreasing; every video track starts with a
 *     KEY|CONFIG access unit whose payload begins with an AUD and holds SPS, PPS and an IDR;
 *     keyframes every 2 s at the same instants on all three layers, and across the loop;
 *     bitrates near nominal.
 * Usage: test_bench_stream CORPUS_DIR STREAM_FILE (CTest passes both). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/status.h"
#include "stream.h"

typedef struct paths {
    const char *corpus, *stream;
} paths;

static void expect_file(const char *dir, const char *name, int want)
{
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    bbt_recording rec;
    int rc = bbt_recording_load(path, &rec, err, sizeof err);
    if (rc != want)
        fail_msg("%s: got %d (%s), want %d", name, rc, err, want);
    if (rc != BBT_OK)
        assert_true(err[0] != '\0');
    bbt_recording_free(&rec);
}

static void test_corpus(void **state)
{
    const paths *p = *state;
    static const struct { const char *name; int rc; } cases[] = {
        {"valid_small", BBT_OK},          {"valid_end", BBT_OK},
        {"valid_two_lists", BBT_OK},      {"bench_head", BBT_OK},
        {"bad_magic", BBT_EINVAL},        {"only_magic", BBT_EINVAL},
        {"no_frames", BBT_EINVAL},        {"truncated_length", BBT_EINVAL},
        {"truncated_record", BBT_EINVAL}, {"zero_length", BBT_EINVAL},
        {"huge_length", BBT_EINVAL},      {"frame_first", BBT_EINVAL},
        {"unknown_track", BBT_EFRAME_TRACK}, {"bad_version", BBT_EFRAME_VERSION},
        {"empty_payload", BBT_EFRAME_EMPTY}, {"bad_json", BBT_EMSG_JSON},
        {"wrong_type", BBT_EMSG_TYPE},    {"empty_list", BBT_EMSG_FIELD},
        {"duplicate_ids", BBT_EMSG_FIELD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_file(p->corpus, cases[i].name, cases[i].rc);
}

static void test_parse_borrows(void **state)
{
    (void)state;
    static const uint8_t buf[] =
        "BBTREC1\n\0\0\0\x74{\"type\":\"tracks\",\"session\":\"s\",\"state\":\"live\",\"tracks\":"
        "[{\"id\":3,\"kind\":\"audio\",\"codec\":\"opus\",\"sample_rate\":48000}]}"
        "\0\0\0\x11\x01\x03\x00\x00\0\0\0\x07\0\0\0\0\0\0\0\x09\xfc";
    bbt_recording rec;
    assert_int_equal(bbt_recording_parse(buf, sizeof buf - 1, &rec, NULL, 0), BBT_OK);
    assert_int_equal(rec.nframes, 1);
    assert_ptr_equal(rec.frames[0].wire, buf + 8 + 4 + 0x74 + 4);
    assert_int_equal(rec.frames[0].seq, 7);
    assert_int_equal(rec.frames[0].capture_us, 9);
    assert_null(rec.owned);
    bbt_recording_free(&rec);
    assert_int_equal(bbt_recording_parse(buf, 7, &rec, NULL, 0), BBT_EINVAL);
    assert_int_equal(bbt_recording_parse(NULL, 0, &rec, NULL, 0), BBT_EINVAL);
}

/* An Annex-B access unit: starts with an AUD, holds NAL types 7, 8 and 5. */
static int is_idr_with_config(const uint8_t *p, size_t n)
{
    int seen = 0;
    if (n < 5 || memcmp(p, "\0\0\0\1\x09", 5) != 0)
        return 0;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            int t = p[i + 3] & 0x1f;
            seen |= t == 7 ? 1 : t == 8 ? 2 : t == 5 ? 4 : 0;
        }
    return seen == 7;
}

static void check_track(const bbt_recording *rec, int id, uint64_t keys_us[], size_t *nkeys)
{
    uint32_t seq = 0;
    uint64_t bytes = 0, last = 0;
    *nkeys = 0;
    for (size_t i = 0; i < rec->nframes; i++) {
        const bbt_rec_frame *f = &rec->frames[i];
        assert_true(f->capture_us >= last || f->track != id);
        if (f->track != id)
            continue;
        last = f->capture_us;
        assert_int_equal(f->seq, seq++);
        bytes += f->wire_len - BBT_FRAME_HEADER_LEN;
        if (f->flags & BBT_FRAME_KEY) {
            assert_int_equal(f->flags & BBT_FRAME_CONFIG, BBT_FRAME_CONFIG);
            assert_true(is_idr_with_config(f->wire + 16, f->wire_len - 16));
            if (*nkeys < 64)
                keys_us[(*nkeys)++] = f->capture_us;
        }
    }
    const bbt_track_info *t = bbt_recording_track(rec, id);
    double kbps = (double)bytes * 8 / ((double)(rec->last_us - rec->first_us) / 1e6) / 1000;
    double nominal = (double)t->bitrate / 1000;
    if (kbps < nominal * 0.8 || kbps > nominal * 1.2)
        fail_msg("track %d: %.1f kbit/s, nominal %.1f", id, kbps, nominal);
}

static void test_generated_stream(void **state)
{
    const paths *p = *state;
    bbt_recording rec;
    char err[512] = "";
    if (bbt_recording_load(p->stream, &rec, err, sizeof err) != BBT_OK)
        fail_msg("%s", err);
    assert_int_equal(rec.ntracks, 4);
    assert_int_equal(rec.first_us, 0);
    static const int layers[3] = {2, 1, 0};
    for (int id = 0; id < 3; id++) {
        const bbt_track_info *t = bbt_recording_track(&rec, id);
        assert_non_null(t);
        assert_int_equal(t->kind, BBT_TRACK_VIDEO);
        assert_int_equal(t->layer, layers[id]);
    }
    assert_int_equal(bbt_recording_track(&rec, 3)->kind, BBT_TRACK_AUDIO);
    uint64_t keys[4][64];
    size_t nkeys[4];
    for (int id = 0; id < 4; id++)
        check_track(&rec, id, keys[id], &nkeys[id]);
    assert_int_equal(nkeys[3], 0);
    assert_true(nkeys[0] >= 2);
    for (size_t k = 0; k < nkeys[0]; k++) {
        assert_int_equal(keys[0][k], k * 2000000);
        assert_int_equal(keys[1][k], k * 2000000);
        assert_int_equal(keys[2][k], k * 2000000);
    }
    /* the loop (tests/bench/publisher.c: every last_us − first_us + 20 ms) keeps them 2 s apart
     * too: no layer ends with the next group's keyframe (180p once did: an IDR at 20.0 s, sent
     * 20 ms before the loop's first one) */
    uint64_t loop_us = rec.last_us - rec.first_us + 20000;
    for (int id = 0; id < 3; id++) {
        assert_int_equal(nkeys[id], nkeys[0]);
        if (loop_us - keys[id][nkeys[id] - 1] < 1900000)
            fail_msg("track %d: its last keyframe %.3f s before the loop's first", id,
                     (double)(loop_us - keys[id][nkeys[id] - 1]) / 1e6);
    }
    bbt_recording_free(&rec);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR STREAM_FILE\n", argv[0]);
        return 2;
    }
    paths p = {argv[1], argv[2]};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_corpus, &p),
        cmocka_unit_test(test_parse_borrows),
        cmocka_unit_test_prestate(test_generated_stream, &p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
