/* tests/relay/test_conn_adapt.c — relay/conn_adapt.c and the padding path of relay/conn_write.c
 * end to end: a real bbt-relay process, a publisher of two camera layers and audio, and viewers
 * on loopback (a clear, fast link). A viewer that takes padding ("padding": true, PROTOCOL.md
 * §2.6) is probed with padding messages before it is moved up, and counted in /metrics; one
 * that does not is moved up by switching layers and never sees padding. An audio copy is ended,
 * and refused, on a classroom's link (a viewer reading slowly) with no room for it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

/* 180p (track 0) and 360p (track 1) with their bitrates, audio (track 2). */
#define TRACKS                                                                                    \
    "[{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1.42C01F\",\"layer\":0,\"width\":320,"          \
    "\"height\":180,\"bitrate\":120000},{\"id\":1,\"kind\":\"video\",\"codec\":\"avc1.42C01F\","  \
    "\"layer\":1,\"width\":640,\"height\":360,\"bitrate\":500000},{\"id\":2,\"kind\":\"audio\","  \
    "\"codec\":\"opus\",\"sample_rate\":48000,\"channels\":1,\"bitrate\":48000}]"

struct env {
    relay_proc relay;
    tc_ctx *t;
};

static int group_setup(void **state)
{
    static struct env e;
    /* a viewer starts on 180p (within 200 kbit/s) and may move up after 1 s of clear link */
    const char *sets[] = {"adapt.upswitch_hold=1s", "adapt.start_bitrate=200000", NULL};
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
    return relay_stop(&e->relay, SIGTERM, 5000) == 0 ? 0 : -1;
}

static void send_frame(tc_conn *c, unsigned track, unsigned flags, uint32_t seq, size_t len)
{
    uint8_t *buf = calloc(1, BBT_FRAME_HEADER_LEN + len);
    assert_non_null(buf);
    bbt_frame f = {.track = (uint8_t)track, .flags = (uint8_t)flags, .seq = seq,
                   .capture_us = 1700000000000000ull + seq, .len = len};
    assert_int_equal(bbt_frame_encode_header(&f, buf), 0);
    buf[BBT_FRAME_HEADER_LEN] = 0x09;
    assert_int_equal(tc_send_binary(c, buf, BBT_FRAME_HEADER_LEN + len), 0);
    free(buf);
}

static tc_conn *join(struct env *e, const char *role, const char *name, const char *msg)
{
    tc_conn *c = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(c);
    assert_int_equal(tc_hello(c, role, name), 0);
    tc_send_text(c, msg);
    json_t *ack = tc_recv_type(c, strcmp(role, "source") ? "tracks" : "published", 3000);
    assert_non_null(ack);
    json_decref(ack);
    return c;
}

/* What a viewer received: padding (messages, bytes, and any before its first 360p frame) and
 * frames per track. */
struct seen {
    unsigned padding, padding_before_360p, frames[3];
    size_t padding_bytes;
    bool bad;
};

static void drain(tc_conn *v, struct seen *s)
{
    tc_msg m;
    while (tc_recv(v, &m, 0) == 0) {
        bbt_frame f;
        if (!m.binary) {
            /* control: tracks, state */
        } else if (bbt_frame_is_padding(m.data, m.len)) {
            s->padding++;
            s->padding_bytes += m.len;
            for (size_t i = 0; i < m.len; i++)
                s->bad |= m.data[i] != 0; /* zeros, nothing else */
            if (!s->frames[1])
                s->padding_before_360p++;
        } else if (bbt_frame_decode(m.data, m.len, 0, &f) == 0 && f.track < 3) {
            s->frames[f.track]++;
        } else {
            s->bad = true;
        }
        free(m.data);
    }
}

/* The slow viewer's reading: this many bytes every 20 ms, 2 KB/s (test_copy_needs_room). */
#define SLOW_READ 40

/* One second of the lesson: audio every 20 ms, both camera layers every 40 ms, a keyframe on
 * each at the start of the second. */
static void publish_second(struct env *e, tc_conn *p, uint32_t *seq, tc_conn **v, struct seen *s,
                           int nv, int slow_fd)
{
    for (int k = 0; k < 50; k++, seq[2]++) {
        send_frame(p, 2, 0, seq[2], 120);
        if (k % 2 == 0) {
            unsigned key = k == 0 ? BBT_FRAME_KEY | BBT_FRAME_CONFIG : 0;
            send_frame(p, 0, key, seq[0]++, k == 0 ? 3000 : 500);
            send_frame(p, 1, key, seq[1]++, k == 0 ? 12000 : 2500);
        }
        tc_service(e->t, 20);
        for (int i = 0; i < nv; i++)
            drain(v[i], &s[i]);
        char junk[SLOW_READ];
        if (slow_fd >= 0 && recv(slow_fd, junk, sizeof junk, MSG_DONTWAIT) == 0)
            fail_msg("the relay closed the slow viewer");
    }
}

/* Metric `name` of a classroom's viewer whose line also holds `label` ("" for any); -1: no
 * such line. */
static double viewer_metric(const char *metrics, const char *name, const char *classroom,
                            const char *label)
{
    char who[64], head[96];
    snprintf(who, sizeof who, "classroom=\"%s\"", classroom);
    snprintf(head, sizeof head, "\n%s{", name);
    for (const char *l = strstr(metrics, head); l; l = strstr(l + 1, head)) {
        const char *end = strchr(l + 1, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), l + 1);
        if (strstr(line, who) && strstr(line, label))
            return strtod(strrchr(line, ' ') + 1, NULL);
    }
    return -1;
}

static double probes(const char *metrics, const char *classroom, const char *result)
{
    char res[32];
    snprintf(res, sizeof res, "result=\"%s\"}", result);
    return viewer_metric(metrics, "bbt_viewer_padding_probes_total", classroom, res);
}

static void test_padding_probe_then_switch_up(void **state)
{
    struct env *e = *state;
    tc_conn *p = join(e, "source", "src-1",
                      "{\"type\":\"publish\",\"session\":\"pad\",\"tracks\":" TRACKS "}");
    tc_conn *v[2];
    v[0] = join(e, "receiver", "village-1",
                "{\"type\":\"subscribe\",\"session\":\"pad\",\"layer\":\"auto\","
                "\"padding\":true}");
    v[1] = join(e, "receiver", "village-2",
                "{\"type\":\"subscribe\",\"session\":\"pad\",\"layer\":\"auto\"}");
    struct seen s[2] = {{0}};
    uint32_t seq[3] = {1, 1, 1};
    for (int sec = 0; sec < 8 && !(s[0].frames[1] > 25 && s[1].frames[1] > 25); sec++)
        publish_second(e, p, seq, v, s, 2, -1);
    /* the padding viewer: 180p first, padding (zeros) while still on it, then 360p */
    assert_false(s[0].bad);
    assert_true(s[0].frames[0] > 0);
    assert_true(s[0].padding_before_360p > 0);
    assert_true(s[0].padding_bytes > 10000); /* ~2 s of ~500 kbit/s: far more in fact */
    assert_true(s[0].frames[1] > 25);
    assert_true(s[0].frames[2] > 100);
    /* the other viewer: moved up by a layer switch, never a padding message */
    assert_false(s[1].bad);
    assert_int_equal(s[1].padding, 0);
    assert_true(s[1].frames[1] > 25);
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_padding_bytes_total") >= (double)s[0].padding_bytes);
    assert_true(probes(m, "village-1", "passed") >= 1);
    assert_true(probes(m, "village-2", "passed") == 0);
    /* a loopback link never fell: no fall hold (relay/adapt.h "hold") */
    assert_true(viewer_metric(m, "bbt_viewer_link_falls_total", "village-1", "") == 0);
    assert_true(viewer_metric(m, "bbt_viewer_fall_hold_seconds", "village-1", "") == 0);
    assert_true(viewer_metric(m, "bbt_viewer_lossy_far", "village-1", "") == 0); /* loopback */
    assert_true(viewer_metric(m, "bbt_viewer_pacing_bps", "village-1", "") == 0); /* near: none */
    /* the signal it read: the largest of its parts, TCP's network queue among them */
    double tcpq = viewer_metric(m, "bbt_viewer_tcp_queue_ms", "village-1", "");
    assert_true(tcpq >= 0);
    assert_true(viewer_metric(m, "bbt_viewer_congestion_ms", "village-1", "") >= tcpq);
    free(m);
    for (int i = 0; i < 2; i++)
        tc_close(v[i]);
    tc_close(p);
}

/* A text message from a raw client: one masked frame (mask key 0: the payload as is). */
static void raw_send(int fd, const char *text)
{
    size_t n = strlen(text), hl = n < 126 ? 6 : 8;
    unsigned char h[8] = {0x81, (unsigned char)(0x80 | n), 0, 0, 0, 0, 0, 0};
    assert_true(n < 65536);
    if (n >= 126) {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
    }
    assert_int_equal(send(fd, h, hl, 0), (ssize_t)hl);
    assert_int_equal(send(fd, text, n, 0), (ssize_t)n);
}

/* A viewer on a slow link: a raw socket with a small receive buffer, set before connecting (so
 * its window is small from the start), that publish_second reads SLOW_READ bytes of every 20 ms.
 * (libwebsockets' client reads 64 KiB at a time, which made the link stall for seconds.) It
 * watches `layer` 1 (360p, ~500 kbit/s: always a backlog). Returns the socket. */
static int slow_viewer(struct env *e, const char *classroom)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), buf = 2048;
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e->relay.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char *req = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bbt.v1\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    char resp[512] = "";
    size_t got = 0; /* the 101 response, byte by byte: nothing after it is taken */
    while (got + 1 < sizeof resp && !strstr(resp, "\r\n\r\n") && recv(fd, resp + got, 1, 0) == 1)
        resp[++got] = 0;
    assert_non_null(strstr(resp, " 101 "));
    char msg[256];
    snprintf(msg, sizeof msg,
             "{\"type\":\"hello\",\"token\":\"\",\"role\":\"receiver\",\"classroom\":\"%s\"}",
             classroom);
    raw_send(fd, msg);
    raw_send(fd, "{\"type\":\"subscribe\",\"session\":\"room\",\"layer\":1}");
    return fd;
}

/* A copy's connection: hello as `classroom`, subscribe with audio_copy (id 3). */
static tc_conn *copy_of(struct env *e, const char *classroom)
{
    tc_conn *c = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(c);
    assert_int_equal(tc_hello(c, "receiver", classroom), 0);
    tc_send_text(c, "{\"type\":\"subscribe\",\"id\":3,\"session\":\"room\",\"audio_copy\":true}");
    return c;
}

/* An error BBT_EFULL (received), answering a copy's subscribe (ref_id 3) or not (-1). */
static void assert_no_room(json_t *err, int ref_id)
{
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "name")), "BBT_EFULL");
    json_t *ref = json_object_get(err, "ref_id");
    assert_int_equal(ref ? json_integer_value(ref) : -1, ref_id);
    json_decref(err);
}

/* An audio copy (PROTOCOL.md §3.5) needs room for the audio once more on its classroom's link.
 * Both classrooms' copies subscribe before anything is measured, and are accepted. slow-room's
 * main connection reads 2 KB/s (16 kbit/s; the relay's capacity, measured in the intervals that
 * delivered something, is a few times that, under 2 × 48 kbit/s ÷ 0.8 = 120): once the relay
 * has measured it, it ends slow-room's copy, and refuses the next one. fast-room (a loopback
 * viewer, never backlogged, never measured) keeps its copy. */
static void test_copy_needs_room(void **state)
{
    struct env *e = *state;
    tc_conn *p = join(e, "source", "src-2",
                      "{\"type\":\"publish\",\"session\":\"room\",\"tracks\":" TRACKS "}");
    tc_conn *v = join(e, "receiver", "fast-room",
                      "{\"type\":\"subscribe\",\"session\":\"room\",\"layer\":\"auto\"}");
    int slow = slow_viewer(e, "slow-room");
    tc_conn *c[2] = {copy_of(e, "slow-room"), copy_of(e, "fast-room")};
    for (int i = 0; i < 2; i++) {
        json_t *ok = tc_recv_type(c[i], "tracks", 3000);
        assert_non_null(ok);
        json_decref(ok);
    }
    struct seen s = {0};
    uint32_t seq[3] = {1, 1, 1};
    json_t *err = NULL; /* the relay ends slow-room's copy once it has measured the link */
    for (int sec = 0; sec < 20 && !err; sec++) {
        publish_second(e, p, seq, &v, &s, 1, slow);
        err = tc_recv_type(c[0], "error", 1);
    }
    assert_no_room(err, -1);
    assert_false(tc_is_closed(c[0])); /* nothing closed: the page may ask again later */
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    double cap = viewer_metric(m, "bbt_viewer_capacity_bps", "slow-room", "");
    assert_true(cap > 0 && cap < 100000);
    free(m);
    tc_close(c[0]);
    c[0] = copy_of(e, "slow-room");
    assert_no_room(tc_recv_type(c[0], "error", 3000), 3); /* refused */
    assert_false(tc_is_closed(c[0]));
    m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_audio_copies_refused_total") == 2);
    assert_true(metric_value(m, "bbt_audio_copies") == 1); /* fast-room's */
    free(m);
    for (int i = 0; i < 2; i++)
        tc_close(c[i]);
    tc_close(v);
    close(slow);
    tc_close(p);
}

/* Writes held while TCP acknowledges nothing (relay/estimate.h, stuck). A viewer's incoming
 * packets from the relay are dropped for 2 s (iptables on loopback: what the relay sends is
 * lost on the way, the viewer acknowledges nothing, TCP retransmits into the void): the relay
 * counts a hold in bbt_stuck_holds_total, the lesson waits in its queue for the viewer, and it
 * keeps the connection; once packets pass again, the repair gets in, the hold ends and the
 * viewer receives the lesson again. Needs root and iptables (skipped otherwise). */
static void test_held_while_nothing_is_acknowledged(void **state)
{
    struct env *e = *state;
    if (geteuid() != 0 || run_sh("iptables -L INPUT -n >/dev/null 2>&1") != 0) {
        print_message("skipped: needs root and iptables\n");
        skip();
    }
    tc_conn *p = join(e, "source", "src-3",
                      "{\"type\":\"publish\",\"session\":\"cut\",\"tracks\":" TRACKS "}");
    tc_conn *v = join(e, "receiver", "cut-room",
                      "{\"type\":\"subscribe\",\"session\":\"cut\",\"layer\":0}");
    struct seen s = {0};
    uint32_t seq[3] = {1, 1, 1};
    publish_second(e, p, seq, &v, &s, 1, -1);
    assert_true(s.frames[2] > 0);
    int st;
    char *m = http_get(e->relay.port, "/metrics", &st);
    assert_non_null(m);
    double before = metric_value(m, "bbt_stuck_holds_total");
    free(m);
    assert_true(before >= 0);
    char rule[160];
    snprintf(rule, sizeof rule,
             "INPUT -p tcp -s 127.0.0.1 --sport %d -d 127.0.0.1 --dport %d -j DROP",
             e->relay.port, tc_local_port(v));
    assert_int_equal(run_sh("iptables -I %s", rule), 0);
    for (int sec = 0; sec < 2; sec++)
        publish_second(e, p, seq, &v, &s, 1, -1);
    m = http_get(e->relay.port, "/metrics", &st);
    int dropped = run_sh("iptables -D %s", rule);
    assert_non_null(m);
    double during = metric_value(m, "bbt_stuck_holds_total");
    /* held: the lesson waits in the relay's queue (1 s bound), not in the kernel, which would
     * take all of it from a viewer that asked for no fragments (no unsent cap checked) */
    double waited = viewer_metric(m, "bbt_viewer_queue_delay_ms", "cut-room", "");
    free(m);
    assert_int_equal(dropped, 0);
    assert_true(during >= before + 1);
    assert_true(waited >= 400);
    struct seen after = {0};
    for (int sec = 0; sec < 8 && after.frames[2] < 25; sec++)
        publish_second(e, p, seq, &v, &after, 1, -1);
    assert_false(tc_is_closed(v));
    assert_false(after.bad);
    assert_true(after.frames[2] >= 25); /* half a second of audio again */
    tc_close(v);
    tc_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_padding_probe_then_switch_up),
        cmocka_unit_test(test_copy_needs_room),
        cmocka_unit_test(test_held_while_nothing_is_acknowledged),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
