/* tests/relay/test_conn.c — relay/conn.c end to end: a real bbt-relay process and real
 * WebSocket clients on loopback. Publish/subscribe, late join at a keyframe, publisher loss and
 * return, refused second publisher, slow-viewer isolation, malformed input closing only the
 * offending connection, authentication timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

#define TRACKS "[{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1.42C01F\",\"layer\":1," \
               "\"width\":640,\"height\":360},{\"id\":1,\"kind\":\"audio\",\"codec\":\"opus\"," \
               "\"sample_rate\":48000,\"channels\":1}]"

struct env {
    relay_proc relay;
    tc_ctx *t;
};

static int group_setup(void **state)
{
    static struct env e;
    const char *sets[] = {"queue.stall_timeout=1s", "limits.auth_timeout=500ms",
                          "publisher.idle_timeout=1s", "queue.max_delay=500ms",
                          "queue.write_rate=1000" /* a ms between writes per viewer: batches */,
                          NULL};
    if (relay_start(&e.relay, 0, sets) != 0)
        return -1;
    e.t = tc_new();
    *state = &e;
    return e.t ? 0 : -1;
}

static int group_teardown(void **state)
{
    struct env *e = *state;
    tc_free(e->t);
    int rc = relay_stop(&e->relay, SIGTERM, 5000);
    return rc == 0 ? 0 : -1; /* a clean exit, or the test fails */
}

/* A media frame: header + `len` payload bytes whose first 4 bytes are the seq again. */
/* A frame captured at capture_us; its payload starts with seq (expect_frame checks it). */
static size_t frame_at(uint8_t *buf, unsigned track, unsigned flags, uint32_t seq, size_t len,
                       uint64_t capture_us)
{
    bbt_frame f = {.track = (uint8_t)track, .flags = (uint8_t)flags, .seq = seq,
                   .capture_us = capture_us, .len = len};
    assert_int_equal(bbt_frame_encode_header(&f, buf), 0);
    memset(buf + BBT_FRAME_HEADER_LEN, (int)(seq & 0xff), len);
    memcpy(buf + BBT_FRAME_HEADER_LEN, &seq, len >= 4 ? 4 : len);
    return BBT_FRAME_HEADER_LEN + len;
}

static size_t frame(uint8_t *buf, unsigned track, unsigned flags, uint32_t seq, size_t len)
{
    return frame_at(buf, track, flags, seq, len, 1700000000000000ull + seq);
}

static void send_frame(tc_conn *c, unsigned track, unsigned flags, uint32_t seq, size_t len)
{
    uint8_t *buf = malloc(BBT_FRAME_HEADER_LEN + len);
    size_t n = frame(buf, track, flags, seq, len);
    assert_int_equal(tc_send_binary(c, buf, n), 0);
    free(buf);
}

static tc_conn *publisher(struct env *e, const char *session)
{
    tc_conn *p = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(p);
    assert_int_equal(tc_hello(p, "source", "src-1"), 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "{\"type\":\"publish\",\"session\":\"%s\",\"tracks\":" TRACKS "}",
             session);
    tc_send_text(p, msg);
    json_t *ack = tc_recv_type(p, "published", 3000);
    assert_non_null(ack);
    json_decref(ack);
    return p;
}

static tc_conn *viewer_with(struct env *e, const char *session, const char *expect_state,
                            const char *more);

static tc_conn *viewer(struct env *e, const char *session, const char *expect_state)
{
    return viewer_with(e, session, expect_state, "");
}

/* A viewer whose subscribe has `more` members (",\"fragments\":true"). */
static tc_conn *viewer_with(struct env *e, const char *session, const char *expect_state,
                            const char *more)
{
    tc_conn *v = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(v);
    assert_int_equal(tc_hello(v, "receiver", "village-1"), 0);
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"session\":\"%s\"%s}", session, more);
    tc_send_text(v, msg);
    json_t *tr = tc_recv_type(v, "tracks", 3000);
    assert_non_null(tr);
    assert_string_equal(json_string_value(json_object_get(tr, "state")), expect_state);
    json_decref(tr);
    return v;
}

/* The next binary message into *m (the caller frees m->data); control messages in between
 * are fine and skipped. */
static void recv_binary(tc_conn *v, tc_msg *m)
{
    for (;;) {
        assert_int_equal(tc_recv(v, m, 3000), 0);
        if (m->binary)
            return;
        free(m->data);
    }
}

/* The next binary frame; asserts its track and seq. Returns the payload length. */
static size_t expect_frame(tc_conn *v, unsigned track, uint32_t seq)
{
    tc_msg m;
    recv_binary(v, &m);
    bbt_frame f;
    assert_int_equal(bbt_frame_decode(m.data, m.len, 0, &f), 0);
    assert_int_equal(f.track, track);
    assert_int_equal(f.seq, seq);
    uint32_t inner;
    memcpy(&inner, f.payload, 4);
    assert_int_equal(inner, seq); /* the payload arrived intact */
    size_t len = f.len;
    free(m.data);
    return len;
}

/* The next n frames are `w`, in each track's order: the relay writes audio ahead of video that
 * waits longer (relay/conn_write.c), so only the order within a track is fixed. */
struct want {
    unsigned track;
    uint32_t seq;
    size_t len;
};

static void expect_frames(tc_conn *v, const struct want *w, size_t n)
{
    bool *done = calloc(n, sizeof *done);
    assert_non_null(done);
    for (size_t k = 0; k < n; k++) {
        tc_msg m;
        recv_binary(v, &m);
        bbt_frame f;
        assert_int_equal(bbt_frame_decode(m.data, m.len, 0, &f), 0);
        size_t i = 0;
        while (i < n && (done[i] || w[i].track != f.track))
            i++;
        assert_true(i < n);
        assert_int_equal(f.seq, w[i].seq);
        assert_int_equal(f.len, w[i].len);
        uint32_t inner;
        memcpy(&inner, f.payload, 4);
        assert_int_equal(inner, f.seq); /* the payload arrived intact */
        done[i] = true;
        free(m.data);
    }
    free(done);
}

static void test_publish_subscribe(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "pubsub");
    tc_conn *v1 = viewer(e, "pubsub", "live"), *v2 = viewer(e, "pubsub", "live");
    send_frame(p, 0, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 1, 5000);
    send_frame(p, 1, 0, 1, 80);
    send_frame(p, 0, 0, 2, 200000); /* larger than one lws buffer: reassembled */
    const struct want w[] = {{0, 1, 5000}, {1, 1, 80}, {0, 2, 200000}};
    expect_frames(v1, w, 3);
    expect_frames(v2, w, 3);
    tc_close(v1);
    tc_close(v2);
    tc_close(p);
}

/* A second audio path (docs/PROTOCOL.md §3.5 audio_copy): the copy gets the audio alone, even
 * when it asks for video too, while the main subscription of the same classroom gets both; an
 * unsubscribe stops the copy's frames and it can subscribe again. /metrics counts it apart; a
 * viewer's pong carries its connection's TCP retransmissions. */
static void test_audio_copy(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "copy");
    tc_conn *v = viewer(e, "copy", "live");
    tc_conn *c = viewer_with(e, "copy", "live", ",\"audio_copy\":true,\"video\":true");
    send_frame(p, 0, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 1, 3000);
    send_frame(p, 1, 0, 1, 80);
    send_frame(p, 0, 0, 2, 900);
    send_frame(p, 1, 0, 2, 80);
    const struct want w[] = {{0, 1, 3000}, {1, 1, 80}, {0, 2, 900}, {1, 2, 80}};
    expect_frames(v, w, 4);
    expect_frame(c, 1, 1);
    expect_frame(c, 1, 2); /* no video in between */
    int status = 0;
    char *page = http_get(e->relay.port, "/metrics", &status);
    assert_non_null(page);
    assert_int_equal(status, 200);
    assert_non_null(strstr(page, "\nbbt_audio_copies 1\n"));
    char *first = strstr(page, "bbt_viewer_layer{session=\"copy\"");
    assert_non_null(first); /* the main subscription has its adaptation line, the copy none */
    assert_null(strstr(first + 1, "bbt_viewer_layer{session=\"copy\""));
    free(page);
    /* a viewer's pong says how many segments TCP retransmitted to it: the player's cue */
    tc_send_text(v, "{\"type\":\"ping\",\"id\":9,\"time_us\":5}");
    json_t *pong = tc_recv_type(v, "pong", 3000);
    assert_non_null(pong);
    assert_int_equal(json_integer_value(json_object_get(pong, "time_us")), 5);
    assert_true(json_is_integer(json_object_get(pong, "retrans")));
    assert_int_equal(json_integer_value(json_object_get(pong, "retrans")), 0); /* loopback */
    json_decref(pong);
    tc_send_text(c, "{\"type\":\"unsubscribe\",\"session\":\"copy\"}");
    send_frame(p, 1, 0, 3, 80);
    expect_frame(v, 1, 3);
    tc_send_text(c, "{\"type\":\"subscribe\",\"session\":\"copy\",\"audio_copy\":true}");
    json_t *tr = tc_recv_type(c, "tracks", 3000);
    assert_non_null(tr);
    json_decref(tr);
    send_frame(p, 0, 0, 3, 900);
    send_frame(p, 1, 0, 4, 80);
    /* a copy starts with the last second of its audio (relay/audio_tail.h): 1-3, sent before
     * it subscribed again (the first time there was none yet), then 4; video never comes */
    for (uint32_t seq = 1; seq <= 4; seq++)
        expect_frame(c, 1, seq);
    tc_close(c);
    tc_close(v);
    tc_close(p);
}

/* Audio 1-3, captured 0.5 s apart, reach session `id` before anyone subscribes; then its
 * classroom comes, main connection *v and copy *c, the copy first when copy_first; then audio
 * 4. Returns the publisher. */
static tc_conn *classroom_after_audio(struct env *e, const char *id, bool copy_first, tc_conn **v,
                                      tc_conn **c)
{
    tc_conn *p = publisher(e, id);
    uint8_t buf[BBT_FRAME_HEADER_LEN + 80];
    for (uint32_t seq = 1; seq <= 4; seq++) {
        if (seq == 4) {
            if (copy_first)
                *c = viewer_with(e, id, "live", ",\"audio_copy\":true");
            *v = viewer(e, id, "live");
            if (!copy_first)
                *c = viewer_with(e, id, "live", ",\"audio_copy\":true");
        }
        size_t n = frame_at(buf, 1, 0, seq, 80, 1700000000000000ull + seq * 500000ull);
        assert_int_equal(tc_send_binary(p, buf, n), 0);
        tc_service(e->t, 50); /* into the relay before the next step */
    }
    return p;
}

/* A copy that subscribes together with its classroom's main connection (the player's early
 * copy) starts with no audio from before the main one subscribed (bbt_conn_copy_tail): the
 * main connection never waited for it. Of audio 1-3 the copy gets the newest, 3, then 4 (a
 * second of tail would have been 1-3). */
static void test_early_copy_no_old_audio(void **state)
{
    tc_conn *v, *c, *p = classroom_after_audio(*state, "early", false, &v, &c);
    expect_frame(c, 1, 3);
    expect_frame(c, 1, 4);
    expect_frame(v, 1, 4);
    tc_close(c);
    tc_close(v);
    tc_close(p);
}

/* A copy whose subscribe comes before its main connection's (the player's copies connect with
 * it and subscribe at its welcome) starts live, like the main one: the copy's first frame is 4
 * (with a second of tail it would have been 2). */
static void test_copy_before_main_starts_live(void **state)
{
    tc_conn *v, *c, *p = classroom_after_audio(*state, "first", true, &v, &c);
    expect_frame(c, 1, 4);
    expect_frame(v, 1, 4);
    tc_close(c);
    tc_close(v);
    tc_close(p);
}

/* Frames arriving together reach a viewer in batched writes (relay/conn_write.c): all of them,
 * in order, intact — a frame larger than the batch buffer among small ones included — and the
 * relay counts batched writes. */
static void test_frames_batched_in_order(void **state)
{
    struct env *e = *state;
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    double batched0 = metric_value(m, "bbt_writes_total{kind=\"batched\"}");
    free(m);
    tc_conn *p = publisher(e, "batch");
    tc_conn *v = viewer(e, "batch", "live");
    send_frame(p, 0, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 1, 3000);
    for (uint32_t s = 1; s <= 60; s++) {
        send_frame(p, 1, 0, s, 120);
        if (s == 30)
            send_frame(p, 0, 0, 2, 150000); /* larger than the batch buffer: written alone */
    }
    struct want w[62] = {{0, 1, 3000}, {0, 2, 150000}};
    for (uint32_t s = 1; s <= 60; s++)
        w[1 + s] = (struct want){1, s, 120};
    expect_frames(v, w, 62);
    m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_writes_total{kind=\"batched\"}") > batched0);
    free(m);
    tc_close(v);
    tc_close(p);
}

/* Receive a fragmented video frame (track 0) and one audio frame (track 1) in any order: the
 * fragments' payloads concatenated into `out`; returns how many fragments there were. Each
 * carries the frame's seq, flags other than PART are `flags`, and none exceeds `max`. */
static unsigned recv_fragments(tc_conn *v, uint32_t seq, unsigned flags, size_t max, uint8_t *out,
                               size_t len, uint32_t audio_seq)
{
    size_t got = 0;
    unsigned parts = 0;
    bool audio = false, last = false;
    while (!last || !audio) {
        tc_msg m;
        recv_binary(v, &m);
        bbt_frame f;
        assert_int_equal(bbt_frame_decode(m.data, m.len, 0, &f), 0);
        if (f.track == 1) {
            assert_int_equal(f.seq, audio_seq);
            audio = true;
        } else {
            assert_false(last);
            assert_int_equal(f.track, 0);
            assert_int_equal(f.seq, seq);
            assert_int_equal(f.flags & ~BBT_FRAME_PART, flags);
            assert_true(f.len <= max && got + f.len <= len);
            memcpy(out + got, f.payload, f.len);
            got += f.len;
            parts++;
            last = !(f.flags & BBT_FRAME_PART);
        }
        free(m.data);
    }
    assert_int_equal(got, len);
    return parts;
}

/* A viewer that asked for fragments (PROTOCOL.md §2.5) and that the relay measured at a few kB
 * a second gets a large frame in fragments of at most the 1 KiB floor, all but the last marked
 * PART, concatenating to the frame; a viewer that did not ask gets it whole. */
static void test_fragments_for_slow_viewer(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "frag");
    tc_conn *v = viewer_with(e, "frag", "live", ",\"fragments\":true"), *w = viewer(e, "frag", "live");
    send_frame(p, 0, BBT_FRAME_KEY, 1, 500);
    struct want early[13] = {{0, 1, 500}};
    for (uint32_t s = 1; s <= 12; s++) { /* ~0.6 s of a slow stream: the relay measures it */
        send_frame(p, 1, 0, s, 80);
        early[s] = (struct want){1, s, 80};
        tc_service(e->t, 50);
    }
    expect_frames(v, early, 13);
    expect_frames(w, early, 13);
    send_frame(p, 0, 0, 2, 20000);
    send_frame(p, 1, 0, 13, 80);
    uint8_t *out = malloc(20000), *want = malloc(BBT_FRAME_HEADER_LEN + 20000);
    assert_true(out && want);
    frame(want, 0, 0, 2, 20000);
    unsigned parts = recv_fragments(v, 2, 0, 1024, out, 20000, 13);
    assert_true(parts >= 20);
    assert_memory_equal(out, want + BBT_FRAME_HEADER_LEN, 20000);
    const struct want whole[] = {{0, 2, 20000}, {1, 13, 80}};
    expect_frames(w, whole, 2);
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_fragments_total") >= parts);
    free(m);
    free(out);
    free(want);
    tc_close(v);
    tc_close(w);
    tc_close(p);
}

static void test_late_join_starts_at_keyframe(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "late");
    send_frame(p, 0, 0, 1, 100); /* no keyframe yet: never sent to anyone */
    send_frame(p, 0, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 2, 1000);
    send_frame(p, 0, 0, 3, 100);
    send_frame(p, 0, 0, 4, 100);
    tc_service(e->t, 50);
    tc_conn *v = viewer(e, "late", "live");
    expect_frame(v, 0, 2); /* the cached group of pictures, from its keyframe */
    expect_frame(v, 0, 3);
    expect_frame(v, 0, 4);
    send_frame(p, 0, 0, 5, 100);
    expect_frame(v, 0, 5); /* then live */
    tc_close(v);
    tc_close(p);
}

static void test_publisher_loss_and_return(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "flap");
    tc_conn *v = viewer(e, "flap", "live");
    send_frame(p, 0, BBT_FRAME_KEY, 1, 100);
    expect_frame(v, 0, 1);
    tc_close(p);
    json_t *st = tc_recv_type(v, "state", 3000);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "interrupted");
    json_decref(st);
    assert_false(tc_is_closed(v)); /* the viewer stays */
    tc_conn *p2 = publisher(e, "flap");
    json_t *tr = tc_recv_type(v, "tracks", 3000); /* told, without asking */
    assert_non_null(tr);
    assert_string_equal(json_string_value(json_object_get(tr, "state")), "live");
    json_decref(tr);
    send_frame(p2, 0, 0, 7, 100);             /* not a keyframe: the viewer waits for one */
    send_frame(p2, 0, BBT_FRAME_KEY, 8, 100);
    expect_frame(v, 0, 8);
    tc_close(v);
    tc_close(p2);
}

/* A publisher that says bye ends the lesson: viewers are told "ended", not "interrupted". */
static void test_publisher_bye_ends_lesson(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "byebye");
    tc_conn *v = viewer(e, "byebye", "live");
    tc_send_text(p, "{\"type\":\"bye\",\"reason\":\"lesson over\"}");
    assert_int_equal(tc_wait_closed(p, 3000), 1000);
    json_t *st = tc_recv_type(v, "state", 3000);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "ended");
    json_decref(st);
    tc_close(v);
}

static void test_second_publisher_refused(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "busy");
    send_frame(p, 1, 0, 1, 10);
    tc_conn *q = tc_connect(e->t, e->relay.port, NULL);
    assert_int_equal(tc_hello(q, "source", "src-2"), 0);
    tc_send_text(q, "{\"type\":\"publish\",\"session\":\"busy\",\"tracks\":" TRACKS "}");
    json_t *err = tc_recv_type(q, "error", 3000);
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "name")), "BBT_EEXIST");
    json_decref(err);
    assert_int_equal(tc_wait_closed(q, 3000), 4005);
    assert_false(tc_is_closed(p)); /* the first publisher is untouched */
    tc_close(p);
}

/* A viewer that stops reading loses only its own frames and is closed after stall_timeout;
 * the other viewer gets every frame, promptly. */
static void test_slow_viewer_isolated(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "slow");
    tc_conn *good = viewer(e, "slow", "live"), *bad = viewer(e, "slow", "live");
    tc_pause_reading(bad, true);
    uint32_t seq = 1;
    for (int round = 0; round < 60; round++) { /* 60 × 500 kB = 30 MB: beyond socket buffers */
        send_frame(p, 0, round % 10 == 0 ? BBT_FRAME_KEY : 0, seq, 500000);
        assert_int_equal(expect_frame(good, 0, seq), 500000);
        seq++;
    }
    tc_service(e->t, 1500); /* past stall_timeout (1 s) */
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_connections_refused_total{reason=\"stalled\"}") >= 1);
    assert_true(metric_value(m, "bbt_frames_dropped_total{reason=\"video_overflow\"}") > 0);
    free(m);
    tc_pause_reading(bad, false); /* it reads again: what was in flight, then the end */
    assert_int_not_equal(tc_wait_closed(bad, 5000), -1);
    assert_false(tc_is_closed(good));
    send_frame(p, 0, 0, seq, 100);
    expect_frame(good, 0, seq);
    tc_close(good);
    tc_close(p);
}

/* A client that sends requests but reads none of the answers: once 256 control messages wait
 * for it (its socket already full of media), it is closed (4000 + |BBT_EFULL|) and counted as
 * reason="control_backlog"; the publisher and the other viewer are not affected. */
static void test_unread_control_messages_close(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "backlog");
    tc_conn *good = viewer(e, "backlog", "live"), *deaf = viewer(e, "backlog", "live");
    tc_pause_reading(deaf, true);
    uint32_t seq = 1;
    for (int i = 0; i < 12; i++, seq++) { /* 6 MB: its socket and queue fill up */
        send_frame(p, 0, i == 0 ? BBT_FRAME_KEY : 0, seq, 500000);
        assert_int_equal(expect_frame(good, 0, seq), 500000);
    }
    for (int i = 0; i < 300; i++) /* each answered with a pong that cannot be written */
        assert_int_equal(tc_send_text(deaf, "{\"type\":\"ping\"}"), 0);
    tc_service(e->t, 300);
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_connections_refused_total{reason=\"control_backlog\"}") >= 1);
    free(m);
    tc_pause_reading(deaf, false);
    assert_int_not_equal(tc_wait_closed(deaf, 8000), -1);
    assert_false(tc_is_closed(good));
    send_frame(p, 0, 0, seq, 100);
    expect_frame(good, 0, seq);
    tc_close(good);
    tc_close(p);
}

/* A malformed media frame closes its publisher (4000 + code) and nobody else; the viewer is
 * told the session is interrupted. */
static void test_malformed_frame_closes_only_publisher(void **state)
{
    struct env *e = *state;
    tc_conn *p = publisher(e, "bad");
    tc_conn *v = viewer(e, "bad", "live");
    uint8_t buf[64];
    size_t n = frame(buf, 0, BBT_FRAME_KEY, 1, 10);
    buf[0] = 2; /* version 2 */
    tc_send_binary(p, buf, n);
    json_t *err = tc_recv_type(p, "error", 3000);
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "name")), "BBT_EFRAME_VERSION");
    assert_true(json_is_true(json_object_get(err, "fatal")));
    json_decref(err);
    assert_int_equal(tc_wait_closed(p, 3000), 4021);
    json_t *st = tc_recv_type(v, "state", 3000);
    assert_non_null(st);
    json_decref(st);
    assert_false(tc_is_closed(v));
    /* a track that is not in the track list, and a frame that is too short */
    tc_conn *p2 = publisher(e, "bad");
    n = frame(buf, 5, 0, 1, 10);
    tc_send_binary(p2, buf, n);
    assert_int_equal(tc_wait_closed(p2, 3000), 4023);
    tc_conn *p3 = publisher(e, "bad");
    tc_send_binary(p3, buf, 7);
    assert_int_equal(tc_wait_closed(p3, 3000), 4020);
    /* media from a viewer */
    tc_send_binary(v, buf, 20);
    assert_int_equal(tc_wait_closed(v, 3000), 4083);
}

/* Malformed control messages get an error each; the connection survives up to a limit. */
static void test_bad_control_messages(void **state)
{
    struct env *e = *state;
    tc_conn *c = tc_connect(e->t, e->relay.port, NULL);
    assert_int_equal(tc_hello(c, "receiver", NULL), 0);
    const char *bad[] = {"not json", "[1,2]", "{\"type\":\"nope\"}",
                         "{\"type\":\"subscribe\"}", "{\"type\":\"subscribe\",\"session\":\"a b\"}",
                         "{\"type\":\"state\",\"session\":\"x\",\"state\":\"live\"}"};
    const char *names[] = {"BBT_EMSG_JSON", "BBT_EMSG_JSON", "BBT_EMSG_TYPE", "BBT_EMSG_FIELD",
                           "BBT_EMSG_FIELD", "BBT_EMSG_TYPE"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_send_text(c, bad[i]);
        json_t *err = tc_recv_type(c, "error", 3000);
        assert_non_null(err);
        assert_string_equal(json_string_value(json_object_get(err, "name")), names[i]);
        json_decref(err);
    }
    /* a receiver may not publish */
    tc_send_text(c, "{\"type\":\"publish\",\"session\":\"x\",\"tracks\":" TRACKS "}");
    json_t *err = tc_recv_type(c, "error", 3000);
    assert_string_equal(json_string_value(json_object_get(err, "name")), "BBT_EDENIED");
    json_decref(err);
    tc_send_text(c, "{\"type\":\"ping\",\"time_us\":5}");
    json_t *pong = tc_recv_type(c, "pong", 3000);
    assert_non_null(pong);
    json_decref(pong);
    for (int i = 0; i < 20 && !tc_is_closed(c); i++)
        tc_send_text(c, "{");
    assert_int_equal(tc_wait_closed(c, 3000), 4040);
}

static void test_auth_timeout_and_hello_first(void **state)
{
    struct env *e = *state;
    tc_conn *quiet = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(quiet);
    tc_conn *rude = tc_connect(e->t, e->relay.port, NULL);
    tc_send_text(rude, "{\"type\":\"subscribe\",\"session\":\"x\"}");
    assert_int_equal(tc_wait_closed(rude, 3000), 4083);
    assert_int_equal(tc_wait_closed(quiet, 3000), 4008); /* auth_timeout = 500 ms */
}

static void test_wrong_path_or_protocol_refused(void **state)
{
    struct env *e = *state;
    tc_opts o = {.path = "/other"};
    assert_null(tc_connect(e->t, e->relay.port, &o));
    tc_opts o2 = {.protocol = "chat"};
    assert_null(tc_connect(e->t, e->relay.port, &o2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_subscribe),
        cmocka_unit_test(test_audio_copy),
        cmocka_unit_test(test_early_copy_no_old_audio),
        cmocka_unit_test(test_copy_before_main_starts_live),
        cmocka_unit_test(test_frames_batched_in_order),
        cmocka_unit_test(test_fragments_for_slow_viewer),
        cmocka_unit_test(test_unread_control_messages_close),
        cmocka_unit_test(test_late_join_starts_at_keyframe),
        cmocka_unit_test(test_publisher_loss_and_return),
        cmocka_unit_test(test_publisher_bye_ends_lesson),
        cmocka_unit_test(test_second_publisher_refused),
        cmocka_unit_test(test_slow_viewer_isolated),
        cmocka_unit_test(test_malformed_frame_closes_only_publisher),
        cmocka_unit_test(test_bad_control_messages),
        cmocka_unit_test(test_auth_timeout_and_hello_first),
        cmocka_unit_test(test_wrong_path_or_protocol_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
