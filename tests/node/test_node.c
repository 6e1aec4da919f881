/* tests/node/test_node.c — bbt-node end to end: the real node binary (test sources) publishing
 * to the real bbt-relay on loopback, real WebSocket viewers, GStreamer decoding.
 *   - every ladder layer reaches a viewer pinned to it and decodes cleanly at its size, at its
 *     bit rate (±30 %), with keyframes aligned across layers and capture_us close to now;
 *   - a viewer's keyframe request (forwarded by the relay) is honoured within 200 ms;
 *   - the play role renders to fakesink and counts its frames; it shows the waiting screen
 *     before the lesson, the lesson, then the end screen;
 *   - a missing camera leaves an audio-only lesson;
 *   - the node survives SIGKILL of the relay and publishes again within 5 s of its restart;
 *   - SIGTERM: END frames, the lesson ends, exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gst/gst.h>

#include "proto/frame.h"
#include "support/h264dec.h"
#include "support/node_proc.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

#define NLAYERS 3
#define MAXKEYS 64
#define RUN_MS 6500

static const int layer_kbps[NLAYERS] = {600, 250, 100};
static const int layer_w[NLAYERS] = {640, 320, 160}, layer_h[NLAYERS] = {360, 180, 90};

static const char *const pub_sets[] = {
    "capture.width=640", "capture.height=360", "capture.fps=25",
    "encode.ladder=640x360@25:600,320x180@25:250,160x90@15:100", "encode.keyframe_interval=2s",
    "uplink.reconnect_min=200ms", "uplink.reconnect_max=1s", NULL};

struct env {
    relay_proc relay;
    tc_ctx *t;
    node_proc pub;
    node_proc extra[2]; /* other nodes of a test: stopped in teardown if a test failed */
    pid_t tls_relay;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* node_wait_log, and the node's log on stderr when the line does not come. */
static int wait_log(const node_proc *n, const char *needle, int timeout_ms)
{
    if (node_wait_log(n, needle, timeout_ms) == 0)
        return 0;
    char *log = node_log(n);
    fprintf(stderr, "no \"%s\" in %d ms; the node's log (%s):\n%s\n", needle, timeout_ms,
            n->log, log);
    free(log);
    return -1;
}

static int group_setup(void **state)
{
    static struct env e;
    gst_init(NULL, NULL);
    const char *sets[] = {"publisher.idle_timeout=1s", NULL};
    if (relay_start(&e.relay, 0, sets) != 0)
        return -1;
    e.t = tc_new();
    /* smpte: its moving noise patch uses the layers' bit rates (the ball alone is too easy) */
    const char *extra[] = {"--stats", "--test-pattern", "smpte", NULL};
    if (!e.t || node_start(&e.pub, false, e.relay.port, "lesson", pub_sets, extra) != 0)
        return -1;
    *state = &e;
    return wait_log(&e.pub, "publishing session=lesson", 8000);
}

static int group_teardown(void **state)
{
    struct env *e = *state;
    node_proc *all[] = {&e->pub, &e->extra[0], &e->extra[1]};
    for (int i = 0; i < 3; i++) {
        if (all[i]->pid)
            node_stop(all[i], SIGKILL, 2000);
        if (all[i]->dir[0])
            node_cleanup(all[i]);
    }
    if (e->tls_relay > 0) {
        kill(e->tls_relay, SIGKILL);
        waitpid(e->tls_relay, NULL, 0);
    }
    tc_free(e->t);
    relay_stop(&e->relay, SIGTERM, 5000);
    return 0;
}

/* A viewer of `session`: hello, subscribe with `extra` JSON members; returns the tracks reply. */
static tc_conn *viewer(struct env *e, const char *session, const char *extra, json_t **tracks)
{
    tc_conn *v = tc_connect(e->t, e->relay.port, NULL);
    assert_non_null(v);
    assert_int_equal(tc_hello(v, "receiver", "village"), 0);
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"session\":\"%s\"%s}", session, extra);
    tc_send_text(v, msg);
    json_t *tr = tc_recv_type(v, "tracks", 3000);
    assert_non_null(tr);
    if (tracks)
        *tracks = tr;
    else
        json_decref(tr);
    return v;
}

/* Next binary frame within timeout_ms (control messages skipped): 0, or -1. f->payload points
 * into *buf, which the caller frees. */
static int next_frame(tc_conn *c, int timeout_ms, bbt_frame *f, unsigned char **buf)
{
    tc_msg m;
    int64_t end = wall_us() + (int64_t)timeout_ms * 1000;
    do {
        int64_t left = (end - wall_us()) / 1000;
        if (tc_recv(c, &m, left > 0 ? (int)left : 0) != 0)
            return -1;
        if (m.binary && bbt_frame_decode(m.data, m.len, 0, f) == 0) {
            *buf = m.data;
            return 0;
        }
        free(m.data);
    } while (wall_us() < end);
    return -1;
}

struct layer_rx {
    tc_conn *c;
    h264dec *dec;
    int frames, keys;
    int64_t key_us[MAXKEYS], key_rx_us[MAXKEYS];
    uint64_t bytes;          /* payload of live frames (captured after the viewer joined) */
    int64_t first_us, last_us;
    double late_ms[1024];    /* receive time - capture_us, live frames */
    int nlate;
};

static void take(struct layer_rx *l, const bbt_frame *f, int64_t joined_us)
{
    int64_t now = wall_us();
    l->frames++;
    h264dec_push(l->dec, f->payload, f->len);
    if ((f->flags & BBT_FRAME_KEY) && l->keys < MAXKEYS) {
        l->key_rx_us[l->keys] = now;
        l->key_us[l->keys++] = (int64_t)f->capture_us;
    }
    if ((int64_t)f->capture_us < joined_us + 500000)
        return; /* the relay's cached group of pictures: not live */
    if (!l->first_us)
        l->first_us = (int64_t)f->capture_us;
    else
        l->bytes += f->len; /* bytes after the first live frame, over the span that follows */
    l->last_us = (int64_t)f->capture_us;
    if (l->nlate < 1024)
        l->late_ms[l->nlate++] = (double)(now - (int64_t)f->capture_us) / 1000.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A keyframe request on track 1, sent when the last periodic keyframe is 0.6-1.2 s old (so the
 * next one is far): returns the ms until a keyframe of track 1 arrived, or -1. */
static void maybe_request_key(struct layer_rx *l1, int64_t *sent_us, int64_t start_us)
{
    int64_t now = wall_us();
    if (*sent_us || now - start_us < 2500000 || l1->keys == 0)
        return;
    int64_t since = now - l1->key_rx_us[l1->keys - 1];
    if (since < 600000 || since > 1200000)
        return;
    *sent_us = now;
    tc_send_text(l1->c, "{\"type\":\"keyframe\",\"track\":1,\"reason\":\"test\"}");
}

static void receive_layers(struct env *e, struct layer_rx *l, tc_conn *audio, int *audio_frames,
                           double *key_ms)
{
    int64_t start = wall_us(), sent = 0;
    *key_ms = -1;
    while (wall_us() - start < RUN_MS * 1000) {
        tc_service(e->t, 5);
        for (int i = 0; i < NLAYERS; i++) {
            bbt_frame f;
            unsigned char *buf;
            while (next_frame(l[i].c, 0, &f, &buf) == 0) {
                assert_int_equal(f.track, i); /* pinned */
                take(&l[i], &f, start);
                if (i == 1 && sent && *key_ms < 0 && (f.flags & BBT_FRAME_KEY))
                    *key_ms = (double)(wall_us() - sent) / 1000.0;
                free(buf);
            }
        }
        bbt_frame f;
        unsigned char *buf;
        while (next_frame(audio, 0, &f, &buf) == 0) {
            *audio_frames += f.track == NLAYERS;
            free(buf);
        }
        maybe_request_key(&l[1], &sent, start);
    }
}

static void check_layer(struct layer_rx *l, int i)
{
    h264dec_result d = h264dec_finish(l->dec);
    double secs = (double)(l->last_us - l->first_us) / 1e6;
    double kbps = (double)l->bytes * 8 / secs / 1000;
    qsort(l->late_ms, (size_t)l->nlate, sizeof l->late_ms[0], cmp_d);
    double p50 = l->late_ms[l->nlate / 2], p95 = l->late_ms[l->nlate * 95 / 100];
    print_message("layer %d: %d frames, %d decoded %dx%d, errors %d, %.0f kbit/s (target %d), "
                  "capture-to-viewer p50 %.1f ms p95 %.1f ms\n", i, l->frames, d.frames, d.width,
                  d.height, d.errors, kbps, layer_kbps[i], p50, p95);
    assert_int_equal(d.errors, 0);
    assert_true(d.frames >= l->frames - 1); /* the last may still be in the decoder */
    assert_int_equal(d.width, layer_w[i]);
    assert_int_equal(d.height, layer_h[i]);
    assert_true(kbps > layer_kbps[i] * 0.7 && kbps < layer_kbps[i] * 1.3);
    /* capture_us is wall-clock capture time: the median frame reaches the viewer within a few
     * tens of ms (median: the machine is shared; timing limits belong to benchmarks) */
    assert_true(l->late_ms[0] > -2.0);
    assert_true(p50 < 60);
}

/* Every periodic keyframe of the lowest layer (after the start-up requests) has twins with
 * the same capture_us on the other layers. */
static void check_aligned(struct layer_rx *l, int64_t after_us)
{
    int periodic = 0;
    for (int k = 0; k < l[2].keys; k++) {
        if (l[2].key_us[k] < after_us)
            continue;
        periodic++;
        for (int i = 0; i < 2; i++) {
            bool twin = false;
            for (int j = 0; j < l[i].keys; j++)
                twin |= l[i].key_us[j] == l[2].key_us[k];
            if (!twin)
                fail_msg("keyframe at %lld on layer 2 has no twin on layer %d",
                         (long long)l[2].key_us[k], i);
        }
    }
    assert_true(periodic >= 2); /* every 2 s over 6.5 s */
}

static void test_ladder_layers(void **state)
{
    struct env *e = *state;
    struct layer_rx l[NLAYERS];
    memset(l, 0, sizeof l);
    int64_t joined = wall_us();
    for (int i = 0; i < NLAYERS; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, ",\"layer\":%d,\"audio\":false", i);
        l[i].c = viewer(e, "lesson", extra, NULL);
        l[i].dec = h264dec_new();
    }
    json_t *tr;
    tc_conn *audio = viewer(e, "lesson", ",\"video\":false", &tr);
    assert_string_equal(json_string_value(json_object_get(tr, "state")), "live");
    assert_int_equal(json_array_size(json_object_get(tr, "tracks")), NLAYERS + 1);
    json_decref(tr);
    int audio_frames = 0;
    double key_ms;
    receive_layers(e, l, audio, &audio_frames, &key_ms);
    for (int i = 0; i < NLAYERS; i++)
        check_layer(&l[i], i);
    check_aligned(l, joined + 2500000);
    print_message("keyframe request honoured after %.1f ms; %d audio frames\n", key_ms,
                  audio_frames);
    assert_true(key_ms >= 0 && key_ms < 200);
    assert_true(audio_frames > RUN_MS / 20 * 8 / 10); /* 20 ms Opus packets */
    for (int i = 0; i < NLAYERS; i++)
        tc_close(l[i].c);
    tc_close(audio);
}

static void test_play_role_renders(void **state)
{
    struct env *e = *state;
    node_proc play;
    const char *sets[] = {"play.sink=fake", NULL};
    assert_int_equal(node_start(&play, true, e->relay.port, "lesson", sets, NULL), 0);
    assert_int_equal(wait_log(&play, "play: session lesson is live", 5000), 0);
    tc_service(e->t, 3000);
    assert_int_equal(node_stop(&play, SIGTERM, 5000), 0);
    char *log = node_log(&play);
    const char *at = strstr(log, "frames_decoded=");
    assert_non_null(at);
    long frames = strtol(at + strlen("frames_decoded="), NULL, 10);
    const char *dropped = strstr(log, "frames_dropped=");
    print_message("play role decoded %ld frames in ~3 s\n", frames);
    assert_true(frames >= 50);
    assert_non_null(dropped);
    assert_int_equal(strtol(dropped + strlen("frames_dropped="), NULL, 10), 0);
    assert_null(strstr(log, " error "));
    free(log);
    node_cleanup(&play);
}

/* Before the lesson the play role shows the waiting screen, then the lesson, then the end. */
static void test_play_waits_for_lesson(void **state)
{
    struct env *e = *state;
    node_proc *play = &e->extra[0], *pub = &e->extra[1];
    const char *psets[] = {"play.sink=fake", NULL};
    assert_int_equal(node_start(play, true, e->relay.port, "later", psets, NULL), 0);
    assert_int_equal(wait_log(play, "play: session later is waiting", 5000), 0);
    assert_int_equal(wait_log(play, "play: screen: 等待上课… / Waiting for the lesson", 3000), 0);
    const char *sets[] = {"capture.width=320", "capture.height=180",
                          "encode.ladder=320x180@25:200", NULL};
    assert_int_equal(node_start(pub, false, e->relay.port, "later", sets, NULL), 0);
    assert_int_equal(wait_log(play, "play: screen: the lesson", 8000), 0);
    assert_int_equal(node_stop(pub, SIGTERM, 5000), 0);
    assert_int_equal(wait_log(play, "play: screen: 本节课已结束 / The lesson has ended", 4000),
                     0);
    assert_int_equal(node_stop(play, SIGTERM, 5000), 0);
    char *log = node_log(play);
    assert_null(strstr(log, "relay error")); /* its reports were accepted */
    assert_null(strstr(log, "frames_decoded=0 "));
    free(log);
    node_cleanup(play);
    node_cleanup(pub);
}

static void test_missing_camera_audio_only(void **state)
{
    struct env *e = *state;
    node_proc n;
    const char *sets[] = {"capture.video=camera", "capture.video_device=/dev/bbt-no-such-camera",
                          NULL};
    assert_int_equal(node_start(&n, false, e->relay.port, "nocam", sets, NULL), 0);
    assert_int_equal(wait_log(&n, "publishing session=nocam", 8000), 0);
    char *log = node_log(&n);
    assert_non_null(strstr(log, "video source unavailable: camera /dev/bbt-no-such-camera"));
    free(log);
    json_t *tr;
    tc_conn *v = viewer(e, "nocam", "", &tr);
    json_t *tracks = json_object_get(tr, "tracks");
    assert_int_equal(json_array_size(tracks), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tracks, 0), "kind")),
                        "audio");
    json_decref(tr);
    int audio = 0;
    int64_t end = wall_us() + 1500000;
    bbt_frame f;
    unsigned char *buf;
    while (wall_us() < end && next_frame(v, 200, &f, &buf) == 0) {
        audio += f.track == NLAYERS;
        free(buf);
    }
    assert_true(audio >= 40); /* an audio-only lesson is running */
    tc_close(v);
    assert_int_equal(node_stop(&n, SIGTERM, 5000), 0);
    node_cleanup(&n);
}

static void test_relay_restart(void **state)
{
    struct env *e = *state;
    int port = e->relay.port;
    assert_int_equal(relay_stop(&e->relay, SIGKILL, 2000), 128 + SIGKILL);
    relay_cleanup(&e->relay); /* killed on purpose: its scratch directory goes too */
    assert_int_equal(wait_log(&e->pub, "reconnecting in", 3000), 0);
    tc_service(e->t, 1500); /* the node keeps trying meanwhile */
    const char *sets[] = {"publisher.idle_timeout=1s", NULL};
    assert_int_equal(relay_start(&e->relay, port, sets), 0);
    int64_t restarted = wall_us();
    tc_conn *v = NULL;
    bbt_frame f;
    unsigned char *buf = NULL;
    while (wall_us() - restarted < 5000000) { /* subscribe, and wait for the lesson's frames */
        v = viewer(e, "lesson", ",\"layer\":2", NULL);
        if (next_frame(v, 1000, &f, &buf) == 0)
            break;
        tc_close(v);
        v = NULL;
    }
    double secs = (double)(wall_us() - restarted) / 1e6;
    print_message("publishing again %.2f s after the relay restarted\n", secs);
    assert_non_null(v);
    assert_true(secs < 5);
    free(buf);
    tc_close(v);
    assert_true(e->pub.pid > 0); /* never restarted by hand */
}

static void test_sigterm_ends_lesson(void **state)
{
    struct env *e = *state;
    tc_conn *v = viewer(e, "lesson", ",\"layer\":2", NULL);
    bbt_frame f;
    unsigned char *buf;
    assert_int_equal(next_frame(v, 3000, &f, &buf), 0);
    free(buf);
    assert_int_equal(node_stop(&e->pub, SIGTERM, 5000), 0);
    bool end_frame = false, ended = false; /* the relay sends control before media */
    tc_msg m;
    while (!(end_frame && ended) && tc_recv(v, &m, 3000) == 0) {
        if (m.binary && bbt_frame_decode(m.data, m.len, 0, &f) == 0)
            end_frame |= (f.flags & BBT_FRAME_END) != 0;
        json_t *j = m.binary ? NULL : json_loadb((const char *)m.data, m.len, 0, NULL);
        const char *type = json_string_value(json_object_get(j, "type"));
        if (type && strcmp(type, "state") == 0)
            ended |= strcmp(json_string_value(json_object_get(j, "state")), "ended") == 0;
        json_decref(j);
        free(m.data);
    }
    assert_true(end_frame);
    assert_true(ended);
    char *log = node_log(&e->pub);
    assert_non_null(strstr(log, "stats: video capture-to-send latency"));
    free(log);
    tc_close(v);
}

/* A TLS relay with a certificate for "localhost" from a throw-away CA file. */
static pid_t tls_relay(const char *dir, int port)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout %s/key.pem "
             "-out %s/cert.pem 2>/dev/null", dir, dir);
    assert_int_equal(system(cmd), 0);
    char o[5][320];
    snprintf(o[0], sizeof o[0], "relay.port=%d", port);
    snprintf(o[1], sizeof o[1], "relay.tls_cert=%s/cert.pem", dir);
    snprintf(o[2], sizeof o[2], "relay.tls_key=%s/key.pem", dir);
    snprintf(o[3], sizeof o[3], "relay.web_root=%s", dir);
    snprintf(o[4], sizeof o[4], "relay.state_dir=%s", dir);
    pid_t pid = fork();
    if (pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/relay.log", dir);
        if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(relay_bin(), relay_bin(), "--set", "relay.listen=127.0.0.1", "--set", o[0],
              "--set", o[1], "--set", o[2], "--set", o[3], "--set", o[4], "--set",
              "relay.allow_insecure=true", "--set", "auth.required=false", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* wss:// with [node] ca_file: verified and publishing; without it (system store), refused. */
static void test_wss_verified(void **state)
{
    char dir[] = "/tmp/bbt-node-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int port = free_port();
    struct env *e = *state;
    pid_t relay = e->tls_relay = tls_relay(dir, port);
    char url[128], ca[320];
    snprintf(url, sizeof url, "node.relay=wss://localhost:%d/ws", port);
    snprintf(ca, sizeof ca, "node.ca_file=%s/cert.pem", dir);
    const char *good[] = {url, ca, "capture.video=none", "uplink.reconnect_min=200ms",
                          "uplink.reconnect_max=1s", NULL};
    const char *bad[] = {url, "capture.video=none", "uplink.reconnect_min=200ms",
                         "uplink.reconnect_max=1s", NULL};
    node_proc *ok = &e->extra[0], *refused = &e->extra[1];
    assert_int_equal(node_start(ok, false, port, "tls", good, NULL), 0);
    assert_int_equal(node_start(refused, false, port, "tls2", bad, NULL), 0);
    assert_int_equal(wait_log(ok, "publishing session=tls", 8000), 0);
    assert_int_equal(wait_log(refused, "relay certificate refused", 3000), 0);
    char *log = node_log(refused);
    assert_null(strstr(log, "publishing session="));
    free(log);
    assert_int_equal(node_stop(ok, SIGTERM, 5000), 0);
    assert_int_equal(node_stop(refused, SIGTERM, 5000), 0);
    kill(relay, SIGTERM);
    waitpid(relay, NULL, 0);
    e->tls_relay = 0;
    node_cleanup(ok);
    node_cleanup(refused);
    scratch_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder_layers),
        cmocka_unit_test(test_play_role_renders),
        cmocka_unit_test(test_play_waits_for_lesson),
        cmocka_unit_test(test_missing_camera_audio_only),
        cmocka_unit_test(test_wss_verified),
        cmocka_unit_test(test_relay_restart),
        cmocka_unit_test(test_sigterm_ends_lesson),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
