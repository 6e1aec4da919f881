/* tests/relay/schedule/test_e2e.c — the timetable end to end: the real bbt-relay, real
 * WebSocket clients for the operator, the strong school's node (source) and a rural classroom
 * (receiver). A lesson is scheduled a few minutes ahead on a driven clock; the source is told
 * to start before the period and publishes, the receiver's plan names the live lesson and it
 * joins, both are told it is over, the receiver leaves, and the attendance export lists it.
 * Twice: once stepping the clock with the test-only `clock` message, once with the clock
 * running 60 times faster ([schedule] time_scale, clock_offset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

#define T0_US 1740967200000000LL /* 2025-03-03 10:00 in Shanghai (a Monday) */
#define MIN_US 60000000LL

/* The relay of the running test, killed by the teardown if the test failed half-way. */
static relay_proc *live_relay;

static int cleanup(void **state)
{
    (void)state;
    if (live_relay && live_relay->pid > 0)
        relay_stop(live_relay, SIGKILL, 2000);
    live_relay = NULL;
    return 0;
}

static const char *const setup_msgs[] = {
    "{\"type\":\"school_set\",\"school\":{\"id\":\"hz\",\"name\":\"杭州市实验小学\"}}",
    "{\"type\":\"school_set\",\"school\":{\"id\":\"ls\",\"name\":\"龙山教学点\"}}",
    "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"hz-301\",\"name\":\"三（1）班\",\"school\":\"hz\",\"role\":\"source\"}}",
    "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"ls-1\",\"name\":\"一年级\",\"school\":\"ls\",\"role\":\"receiver\"}}",
    "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"ls-2\",\"name\":\"二年级\",\"school\":\"ls\",\"role\":\"receiver\"}}",
    "{\"type\":\"session_set\",\"session\":{\"id\":\"music\",\"title\":\"音乐：茉莉花\",\"source\":\"hz-301\","
    "\"receivers\":[\"ls-1\",\"ls-2\"],\"weekday\":1,\"start\":\"10:00\",\"end\":\"10:05\","
    "\"term_start\":\"2025-02-17\",\"term_end\":\"2025-07-04\"}}",
};

static json_t *request(tc_conn *op, const char *text, const char *reply_type)
{
    assert_int_equal(tc_send_text(op, text), 0);
    json_t *r = tc_recv_type(op, reply_type, 5000);
    if (!r)
        fail_msg("no %s in reply to %s", reply_type, text);
    return r;
}

static tc_conn *operator(tc_ctx *t, int port)
{
    tc_conn *op = tc_connect(t, port, NULL);
    assert_non_null(op);
    assert_int_equal(tc_hello(op, "operator", NULL), 0);
    return op;
}

static void set_clock(tc_conn *op, long long us)
{
    char t[128];
    snprintf(t, sizeof t, "{\"type\":\"clock\",\"time_us\":%lld,\"scale\":0}", us);
    json_decref(request(op, t, "time"));
}

/* The next plan of c, and whether it names a live lesson (copied to live). */
static json_t *next_plan(tc_conn *c, char *live, size_t size, int timeout_ms)
{
    json_t *p = tc_recv_type(c, "plan", timeout_ms);
    assert_non_null(p);
    const char *l = json_string_value(json_object_get(p, "live"));
    snprintf(live, size, "%s", l ? l : "");
    return p;
}

/* Wait until c's plan names a live lesson (or none, want_live false); returns it in live. */
static void wait_live(tc_conn *c, bool want_live, char *live, size_t size, int timeout_ms)
{
    for (int i = 0; i < 8; i++) {
        json_decref(next_plan(c, live, size, timeout_ms));
        if ((live[0] != '\0') == want_live)
            return;
    }
    fail_msg("the plan never %s", want_live ? "named a live lesson" : "stopped naming one");
}

static void publish(tc_conn *src, const char *session)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"type\":\"publish\",\"session\":\"%s\",\"tracks\":[{\"id\":0,\"kind\":\"video\","
             "\"codec\":\"avc1.42E01F\",\"width\":640,\"height\":360},{\"id\":1,\"kind\":"
             "\"audio\",\"codec\":\"opus\",\"sample_rate\":48000}]}",
             session);
    tc_send_text(src, msg);
    json_decref(tc_recv_type(src, "published", 3000));
    uint8_t buf[BBT_FRAME_HEADER_LEN + 64];
    bbt_frame f = {.track = 0, .flags = BBT_FRAME_KEY | BBT_FRAME_CONFIG, .seq = 1,
                   .capture_us = 1, .len = 64};
    assert_int_equal(bbt_frame_encode_header(&f, buf), 0);
    memset(buf + BBT_FRAME_HEADER_LEN, 7, 64);
    tc_send_binary(src, buf, sizeof buf);
}

/* The receiver subscribes to `live` and gets the lesson's tracks (live), then a report. */
static void join(tc_conn *rcv, const char *live)
{
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"session\":\"%s\"}", live);
    tc_send_text(rcv, msg);
    json_t *tr = tc_recv_type(rcv, "tracks", 3000);
    assert_non_null(tr);
    assert_string_equal(json_string_value(json_object_get(tr, "state")), "live");
    json_decref(tr);
    snprintf(msg, sizeof msg, "{\"type\":\"report\",\"session\":\"%s\",\"layer\":0,\"stalls\":1}",
             live);
    tc_send_text(rcv, msg);
}

static void leave(tc_conn *rcv, const char *session)
{
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"unsubscribe\",\"session\":\"%s\"}", session);
    tc_send_text(rcv, msg);
}

/* The attendance of 2025-03-03: ls-1 present `min_s`..`max_s` seconds, ls-2 absent. */
static void check_attendance(tc_conn *op, long min_s, long max_s)
{
    json_t *a = request(op, "{\"type\":\"attendance_export\",\"from\":\"2025-03-03\","
                            "\"to\":\"2025-03-03\"}", "attendance");
    json_t *rows = json_object_get(a, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *r0 = json_array_get(rows, 0), *r1 = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(r0, "classroom")), "ls-1");
    assert_string_equal(json_string_value(json_object_get(r0, "session")), "music");
    long sec = (long)json_integer_value(json_object_get(r0, "seconds"));
    if (sec < min_s || sec > max_s)
        fail_msg("ls-1 present %ld s, want %ld..%ld", sec, min_s, max_s);
    json_t *layers = json_object_get(r0, "layers");
    assert_true(json_integer_value(json_object_get(layers, "360p")) > 0);
    assert_int_equal(json_integer_value(json_object_get(r0, "stalls")), 1);
    assert_string_equal(json_string_value(json_object_get(r1, "classroom")), "ls-2");
    assert_int_equal(json_integer_value(json_object_get(r1, "seconds")), 0);
    json_decref(a);
}

static void test_driven_clock(void **state)
{
    (void)state;
    relay_proc rp;
    const char *sets[] = {"schedule.test_clock=true", NULL};
    assert_int_equal(relay_start(&rp, 0, sets), 0);
    live_relay = &rp;
    tc_ctx *t = tc_new();
    tc_conn *op = operator(t, rp.port);
    for (size_t i = 0; i < sizeof setup_msgs / sizeof setup_msgs[0]; i++)
        json_decref(request(op, setup_msgs[i], i < 2 ? "schools" : i < 5 ? "classrooms"
                                                                           : "sessions"));
    set_clock(op, T0_US - 5 * MIN_US); /* 09:55 */
    tc_conn *src = tc_connect(t, rp.port, NULL), *rcv = tc_connect(t, rp.port, NULL);
    assert_int_equal(tc_hello(src, "source", "hz-301"), 0);
    assert_int_equal(tc_hello(rcv, "receiver", "ls-1"), 0);
    char live[80];
    json_t *p = next_plan(src, live, sizeof live, 3000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "sessions"), 0), "state")), "upcoming");
    json_decref(p);
    /* 09:58: two minutes ahead the source is told to start, and publishes */
    set_clock(op, T0_US - 2 * MIN_US);
    json_t *st = tc_recv_type(src, "start", 3000);
    assert_non_null(st);
    char session[80];
    snprintf(session, sizeof session, "%s", json_string_value(json_object_get(st, "session")));
    assert_string_equal(session, "2025-03-03.music");
    json_decref(st);
    publish(src, session);
    /* 10:00: the receiver's plan names the live lesson; it joins by itself */
    set_clock(op, T0_US);
    wait_live(rcv, true, live, sizeof live, 3000);
    assert_string_equal(live, session);
    join(rcv, live);
    json_t *d = request(op, "{\"type\":\"day_list\",\"date\":\"2025-03-03\"}", "day");
    json_t *o = json_array_get(json_object_get(d, "sessions"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "live");
    assert_string_equal(json_string_value(json_object_get(o, "relay_state")), "live");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "receivers"), 0), "presence")), "watching");
    json_decref(d);
    /* 10:06: over: the source is told to stop, the receiver's plan has no live lesson */
    set_clock(op, T0_US + 6 * MIN_US);
    st = tc_recv_type(src, "stop", 3000);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "reason")), "lesson ended");
    json_decref(st);
    wait_live(rcv, false, live, sizeof live, 3000);
    leave(rcv, session);
    tc_service(t, 100);
    check_attendance(op, 300, 300);
    tc_free(t);
    assert_int_equal(relay_stop(&rp, SIGTERM, 5000), 0);
}

static void test_fast_clock(void **state)
{
    (void)state;
    /* scheduler time starts at 09:52 and runs 60 times faster than the wall clock: about 6 s
     * for the set-up (a loaded machine under ASan is slow), then the lesson in 7 s */
    long long offset_s = (T0_US - 8 * MIN_US) / 1000000 - (long long)time(NULL);
    char off[64];
    snprintf(off, sizeof off, "schedule.clock_offset=%lld", offset_s);
    const char *sets[] = {off, "schedule.time_scale=60", NULL};
    relay_proc rp;
    assert_int_equal(relay_start(&rp, 0, sets), 0);
    live_relay = &rp;
    tc_ctx *t = tc_new();
    tc_conn *op = operator(t, rp.port);
    for (size_t i = 0; i < sizeof setup_msgs / sizeof setup_msgs[0]; i++)
        json_decref(request(op, setup_msgs[i], i < 2 ? "schools" : i < 5 ? "classrooms"
                                                                           : "sessions"));
    tc_conn *src = tc_connect(t, rp.port, NULL), *rcv = tc_connect(t, rp.port, NULL);
    assert_int_equal(tc_hello(src, "source", "hz-301"), 0);
    assert_int_equal(tc_hello(rcv, "receiver", "ls-1"), 0);
    json_t *st = tc_recv_type(src, "start", 15000); /* 09:58 */
    assert_non_null(st);
    char session[80], live[80];
    snprintf(session, sizeof session, "%s", json_string_value(json_object_get(st, "session")));
    json_decref(st);
    publish(src, session);
    wait_live(rcv, true, live, sizeof live, 15000); /* 10:00 */
    join(rcv, live);
    wait_live(rcv, false, live, sizeof live, 15000); /* 10:05 */
    leave(rcv, session);
    st = tc_recv_type(src, "stop", 3000);
    assert_non_null(st);
    json_decref(st);
    tc_service(t, 100);
    check_attendance(op, 30, 300); /* joined within a few real seconds: up to minutes here */
    tc_free(t);
    assert_int_equal(relay_stop(&rp, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_driven_clock, cleanup),
        cmocka_unit_test_teardown(test_fast_clock, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
