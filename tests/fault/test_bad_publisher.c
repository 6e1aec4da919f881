/* tests/fault/test_bad_publisher.c — a flood of malformed media frames from a publisher that
 * said hello and published.
 *
 * The real bbt-relay; session "good" has a synthetic publisher and a viewer, session "bad" a
 * viewer and a publisher that, after some good frames, sends 200 malformed frames in a burst.
 * Each of the six kinds of malformed frame (docs/PROTOCOL.md §2 and §4) in turn, on a fresh
 * publisher connection. Asserted for each kind:
 *   - the relay closes the bad publisher with 4000 + |code|: 4020 short, 4021 version, 4022
 *     flags, 4023 track, 4024 empty, 4025 too big — its log line "closing connection ...
 *     code=40xx" — and the client sees its connection closed, with that close code or (when
 *     the relay's socket still had unread flood data as it closed, so the kernel answered with
 *     a reset that overtook the close frame) with none; never with another code;
 *   - the viewer of "bad" is told: a `state` message with state `interrupted`, and it stays
 *     connected;
 *   - the viewer of "good" is unaffected: it stays connected, misses no frame (sequence
 *     numbers) and never waits longer than 1 s for one;
 * and at the end /metrics counts six bad frames (bbt_frames_invalid_total and
 * bbt_connections_refused_total{reason="bad_frame"}) and /healthz answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fault/fault_util.h"
#include "proto/frame.h"
#include "support/relay_proc.h"

#define FLOOD 200
#define MAX_FRAME 65536 /* [limits] max_frame_bytes for this test */

struct kind {
    const char *name;
    int close_code;
};

static const struct kind kinds[] = {
    {"short", 4020}, {"version", 4021}, {"flags", 4022}, {"track", 4023}, {"empty", 4024},
    {"too big", 4025}};

/* One malformed frame of kind k into buf; returns its length. */
static size_t bad_frame(int k, uint32_t seq, uint8_t *buf, size_t cap)
{
    bbt_frame f = {.track = 0, .seq = seq, .capture_us = (uint64_t)fu_wall_us(), .len = 100};
    bbt_frame_encode_header(&f, buf);
    memset(buf + BBT_FRAME_HEADER_LEN, 0x55, 100);
    size_t len = BBT_FRAME_HEADER_LEN + 100;
    switch (k) {
    case 0: return 7;                                 /* shorter than the header */
    case 1: buf[0] = 9; return len;                   /* unknown version */
    case 2: buf[2] = 0x80; return len;                /* reserved flag bit */
    case 3: buf[1] = BBT_FRAME_MAX_TRACKS; return len; /* track id out of range */
    case 4: return BBT_FRAME_HEADER_LEN;              /* no payload, not an END frame */
    default:                                          /* payload over max_frame_bytes */
        memset(buf + BBT_FRAME_HEADER_LEN, 0x55, cap - BBT_FRAME_HEADER_LEN);
        return cap;
    }
}

/* Occurrences of needle in the file (the relay's log). */
static int count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "closing connection") && strstr(line, needle);
    fclose(f);
    return n;
}

static int logged_before[6];

static void flood_one_kind(int k, int port, const char *log, tc_ctx *t, fu_pub *good,
                           fu_viewer *gview, fu_viewer *bview)
{
    char want0[32];
    snprintf(want0, sizeof want0, "code=%d ", kinds[k].close_code);
    logged_before[k] = count_in_file(log, want0);
    fu_pub bad;
    assert_int_equal(fu_pub_start(&bad, t, port, "bad", 2000), 0);
    fu_pub *pubs[] = {good, &bad};
    fu_viewer *views[] = {gview, bview};
    fu_run(t, pubs, 2, views, 2, 600);
    fu_viewer_reset(gview);
    fu_viewer_reset(bview);
    unsigned bframes = bview->frames;
    static uint8_t buf[MAX_FRAME + 4096];
    for (int i = 0; i < FLOOD; i++) {
        size_t n = bad_frame(k, bad.seq[0]++, buf, sizeof buf);
        if (tc_send_binary(bad.c, buf, n) != 0)
            break; /* closed already */
    }
    int code = tc_wait_closed(bad.c, 3000);
    char want[32];
    snprintf(want, sizeof want, "code=%d ", kinds[k].close_code);
    int64_t until = fu_mono_us() + 2000000;
    int logged = count_in_file(log, want);
    while (logged <= logged_before[k] && fu_mono_us() < until) {
        fu_run(t, pubs, 1, views, 2, 50);
        logged = count_in_file(log, want);
    }
    int64_t end = fu_mono_us() + 3000000;
    while (!bview->interrupted && fu_mono_us() < end)
        fu_run(t, pubs, 1, views, 2, 20);
    fu_run(t, pubs, 1, views, 2, 500); /* the good session goes on afterwards too */
    printf("# %-8s: relay closed the bad publisher with %d (its log), the client saw %d; its "
           "viewer: interrupted %u, "
           "connected %d; good viewer: %u frames, %u missing, longest pause %.0f ms, "
           "connected %d\n",
           kinds[k].name, logged > logged_before[k] ? kinds[k].close_code : -1, code,
           bview->interrupted, !bview->closed,
           gview->frames, gview->gaps, (double)gview->max_gap_us / 1000.0, !gview->closed);
    assert_true(logged > logged_before[k]);
    assert_true(code == kinds[k].close_code || code == 0);
    assert_true(bview->interrupted >= 1);
    assert_false(bview->closed);
    assert_false(gview->closed);
    assert_true(gview->frames > 25);
    assert_int_equal(gview->gaps, 0);
    assert_true(gview->max_gap_us < 1000000);
    (void)bframes;
}

static void malformed_frames_close_only_their_publisher(void **state)
{
    (void)state;
    relay_proc relay;
    const char *sets[] = {"limits.max_frame_bytes=64k", NULL};
    assert_int_equal(relay_start(&relay, 0, sets), 0);
    tc_ctx *t = tc_new();
    assert_non_null(t);
    fu_pub good;
    fu_viewer gview = {0}, bview = {0};
    assert_int_equal(fu_pub_start(&good, t, relay.port, "good", 2000), 0);
    assert_int_equal(fu_viewer_start(&gview, t, relay.port, "good"), 0);
    assert_int_equal(fu_viewer_start(&bview, t, relay.port, "bad"), 0);
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        flood_one_kind(k, relay.port, relay.log, t, &good, &gview, &bview);
    double invalid = fu_metric(relay.port, "bbt_frames_invalid_total");
    double refused = fu_metric(relay.port, "bbt_connections_refused_total{reason=\"bad_frame\"}");
    printf("# metrics: bbt_frames_invalid_total %.0f, refused{bad_frame} %.0f\n", invalid, refused);
    assert_true(invalid == 6);
    assert_true(refused == 6);
    int st;
    char *h = http_get(relay.port, "/healthz", &st);
    assert_int_equal(st, 200);
    free(h);
    fu_viewer_free(&gview);
    fu_viewer_free(&bview);
    tc_free(t);
    assert_int_equal(relay_stop(&relay, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_frames_close_only_their_publisher)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
