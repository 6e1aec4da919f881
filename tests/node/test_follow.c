/* tests/node/test_follow.c — bbt-node following the timetable (node/plan.c) with the real
 * relay: (1) the relay drives it — on a driven clock the node starts publishing the lesson
 * when told `start` two minutes ahead, a receiver sees it live, and `stop` ends it; (2) without
 * the relay — a node that received its plan, then lost the relay and restarted, starts the
 * lesson by itself from its cached plan at the scheduled time, and publishes as soon as the
 * relay is back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/node_proc.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

#define T0_US 1740967200000000LL /* 2025-03-03 10:00 +08:00, a Monday */
#define SLOW_MS 30000 /* a node starting its pipeline on a busy machine under ASan */

/* Processes of the running test, killed by the teardown if the test failed half-way. */
static relay_proc *live_relay;
static node_proc *live_node[2];

static int cleanup(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        if (live_node[i] && live_node[i]->pid > 0)
            node_stop(live_node[i], SIGKILL, 2000);
    if (live_relay && live_relay->pid > 0)
        relay_stop(live_relay, SIGKILL, 2000);
    live_relay = NULL;
    live_node[0] = live_node[1] = NULL;
    return 0;
}
#define MIN_US 60000000LL

static void request(tc_conn *op, const char *text, const char *reply)
{
    assert_int_equal(tc_send_text(op, text), 0);
    json_t *r = tc_recv_type(op, reply, 5000);
    if (!r)
        fail_msg("no %s for %s", reply, text);
    json_decref(r);
}

static void county(tc_conn *op, const char *session_json)
{
    request(op, "{\"type\":\"school_set\",\"school\":{\"id\":\"hz\",\"name\":\"实验小学\"}}", "schools");
    request(op, "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"hz-301\",\"name\":\"301\","
                "\"school\":\"hz\",\"role\":\"source\"}}", "classrooms");
    request(op, "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"ls-1\",\"name\":\"一年级\","
                "\"school\":\"hz\",\"role\":\"receiver\"}}", "classrooms");
    request(op, session_json, "sessions");
}

static void set_clock(tc_conn *op, long long us)
{
    char t[128];
    snprintf(t, sizeof t, "{\"type\":\"clock\",\"time_us\":%lld,\"scale\":0}", us);
    request(op, t, "time");
}

static const char *const node_sets[] = {
    "node.classroom=hz-301", "capture.width=320", "capture.height=180", "capture.fps=15",
    "encode.ladder=320x180@15:200", "uplink.reconnect_min=200ms", "uplink.reconnect_max=1s",
    NULL};

/* A receiver watching `session` sees it live and gets a media frame within timeout_ms. */
static void expect_live(tc_ctx *t, int port, const char *session, int timeout_ms)
{
    tc_conn *v = tc_connect(t, port, NULL);
    assert_non_null(v);
    assert_int_equal(tc_hello(v, "receiver", "ls-1"), 0);
    char m[160];
    snprintf(m, sizeof m, "{\"type\":\"subscribe\",\"session\":\"%s\"}", session);
    tc_send_text(v, m);
    bool live = false;
    for (int i = 0; i < 20 && !live; i++) {
        json_t *tr = tc_recv_type(v, "tracks", timeout_ms);
        assert_non_null(tr);
        live = strcmp(json_string_value(json_object_get(tr, "state")), "live") == 0;
        json_decref(tr);
    }
    assert_true(live);
    tc_msg msg;
    bool got = false;
    for (int i = 0; i < 200 && !got; i++) {
        assert_int_equal(tc_recv(v, &msg, timeout_ms), 0);
        got = msg.binary;
        free(msg.data);
    }
    assert_true(got);
    tc_close(v);
}

static void test_relay_drives(void **state)
{
    (void)state;
    relay_proc rp;
    const char *sets[] = {"schedule.test_clock=true", NULL};
    assert_int_equal(relay_start(&rp, 0, sets), 0);
    live_relay = &rp;
    tc_ctx *t = tc_new();
    tc_conn *op = tc_connect(t, rp.port, NULL);
    assert_int_equal(tc_hello(op, "operator", NULL), 0);
    county(op, "{\"type\":\"session_set\",\"session\":{\"id\":\"music\",\"source\":\"hz-301\","
               "\"receivers\":[\"ls-1\"],\"weekday\":1,\"start\":\"10:00\",\"end\":\"10:05\","
               "\"term_start\":\"2025-02-17\",\"term_end\":\"2025-07-04\"}}");
    set_clock(op, T0_US - 5 * MIN_US);
    node_proc n;
    assert_int_equal(node_start(&n, false, rp.port, "", node_sets, NULL), 0);
    live_node[0] = &n;
    assert_int_equal(node_wait_log(&n, "following the timetable of classroom hz-301", SLOW_MS), 0);
    assert_int_equal(node_wait_log(&n, "relay", 5000), 0);
    tc_service(t, 500); /* its plan link says hello */
    set_clock(op, T0_US - 2 * MIN_US);
    assert_int_equal(node_wait_log(&n, "timetable: lesson 2025-03-03.music starts (source, as "
                                       "the relay says)", SLOW_MS), 0);
    expect_live(t, rp.port, "2025-03-03.music", SLOW_MS);
    set_clock(op, T0_US + 6 * MIN_US);
    assert_int_equal(node_wait_log(&n, "timetable: lesson 2025-03-03.music over", SLOW_MS), 0);
    assert_int_equal(node_stop(&n, SIGTERM, 5000), 0);
    node_cleanup(&n);
    tc_free(t);
    assert_int_equal(relay_stop(&rp, SIGTERM, 5000), 0);
}

static void test_offline_start(void **state)
{
    (void)state;
    /* a one-off lesson now, in Shanghai time: from a minute ago for five minutes */
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    int m = tm.tm_hour * 60 + tm.tm_min;
    if (m < 1 || m > 23 * 60 + 50)
        skip(); /* too close to midnight in Shanghai for a one-off lesson */
    char session[512], occ[64], dir[] = "/tmp/bbt-follow-XXXXXX", set_state[128], nset[128];
    snprintf(session, sizeof session,
             "{\"type\":\"session_set\",\"session\":{\"id\":\"now\",\"source\":\"hz-301\","
             "\"receivers\":[\"ls-1\"],\"date\":\"%04d-%02d-%02d\",\"start\":\"%02d:%02d\","
             "\"end\":\"%02d:%02d\"}}",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, (m - 1) / 60, (m - 1) % 60,
             (m + 5) / 60, (m + 5) % 60);
    snprintf(occ, sizeof occ, "%04d-%02d-%02d.now", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    assert_non_null(mkdtemp(dir));
    snprintf(set_state, sizeof set_state, "relay.state_dir=%s", dir);
    snprintf(nset, sizeof nset, "node.state_dir=%s/node", dir);
    const char *rsets[] = {set_state, NULL};
    const char *nsets[16];
    size_t k = 0;
    for (; node_sets[k]; k++)
        nsets[k] = node_sets[k];
    nsets[k++] = nset;
    nsets[k] = NULL;
    relay_proc rp;
    assert_int_equal(relay_start(&rp, 0, rsets), 0);
    live_relay = &rp;
    int port = rp.port;
    tc_ctx *t = tc_new();
    tc_conn *op = tc_connect(t, port, NULL);
    assert_int_equal(tc_hello(op, "operator", NULL), 0);
    county(op, session);
    /* 1. connected: the relay starts it, and the node caches its plan */
    node_proc a;
    assert_int_equal(node_start(&a, false, port, "", nsets, NULL), 0);
    live_node[0] = &a;
    char line[256];
    snprintf(line, sizeof line, "timetable: lesson %s starts (source, as the relay says)", occ);
    assert_int_equal(node_wait_log(&a, line, SLOW_MS), 0);
    char plan[200];
    snprintf(plan, sizeof plan, "%s/node/plan.json", dir);
    struct stat st;
    assert_int_equal(stat(plan, &st), 0);
    /* 2. the relay dies; the node, restarted without it, starts the lesson from its cache */
    tc_free(t);
    assert_true(relay_stop(&rp, SIGKILL, 2000) >= 0);
    relay_cleanup(&rp); /* killed on purpose: its scratch directory goes too */
    assert_int_equal(node_stop(&a, SIGTERM, 5000), 0);
    node_cleanup(&a);
    node_proc b;
    assert_int_equal(node_start(&b, false, port, "", nsets, NULL), 0);
    live_node[1] = &b;
    snprintf(line, sizeof line, "timetable: lesson %s starts (source, by the cached plan, relay "
                                "unreachable)", occ);
    assert_int_equal(node_wait_log(&b, line, SLOW_MS), 0);
    /* 3. the relay comes back (same database): the lesson is published at once */
    assert_int_equal(relay_start(&rp, port, rsets), 0);
    t = tc_new();
    expect_live(t, port, occ, SLOW_MS);
    char *log = node_log(&b);
    assert_null(strstr(log, "over")); /* the relay's start names the same lesson: no restart */
    free(log);
    tc_free(t);
    assert_int_equal(node_stop(&b, SIGTERM, 5000), 0);
    node_cleanup(&b);
    assert_int_equal(relay_stop(&rp, SIGTERM, 5000), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_relay_drives, cleanup),
        cmocka_unit_test_teardown(test_offline_start, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
