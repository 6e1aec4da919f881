/* tests/relay/test_conn_authz.c — relay/conn_authz.c (with relay/schedule/authz.c) against the
 * real bbt-relay with tokens required and a timetable on a driven clock: a source publishes its
 * own lesson only when it is scheduled (lead before the start), never another classroom's;
 * outside the timetable only session ids named after its classroom; a classroom watches only
 * lessons it takes part in, or public ones; each refusal is BBT_EDENIED (83) and the connection stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/tokens.h"
#include "support/wsclient.h"

#define LESSON "2025-03-03.music-p3"
#define T_0900 "1740963600000000" /* 2025-03-03 09:00 +08:00 */
#define T_1000 "1740967200000000" /* 10:00, the lesson's start */

static char dir[64], secret_path[128];
static uint8_t secret[TEST_SECRET_BYTES];
static tc_ctx *t;
static relay_proc r;

static tc_conn *login(const char *sub, const char *role)
{
    char *tok = test_token(secret, sub, role, 3600, NULL);
    tc_conn *c = tc_connect(t, r.port, NULL);
    assert_non_null(c);
    assert_int_equal(tc_hello_token(c, tok, role, NULL), 0);
    free(tok);
    return c;
}

static json_t *call(tc_conn *c, const char *text, const char *want)
{
    assert_int_equal(tc_send_text(c, text), 0);
    json_t *m = tc_recv_type(c, want, 3000);
    if (!m)
        fail_msg("no %s in answer to %s", want, text);
    return m;
}

static void ok(tc_conn *c, const char *text, const char *want)
{
    json_decref(call(c, text, want));
}

/* The answer to a publish/subscribe: 0 when accepted, else the error code. */
static int attempt(tc_conn *c, const char *type, const char *session)
{
    char text[600];
    if (strcmp(type, "publish") == 0)
        snprintf(text, sizeof text, "{\"type\":\"publish\",\"id\":7,\"session\":\"%s\",\"tracks\":"
                 "[{\"id\":0,\"kind\":\"audio\",\"codec\":\"opus\",\"sample_rate\":48000,"
                 "\"channels\":1}]}", session);
    else
        snprintf(text, sizeof text, "{\"type\":\"subscribe\",\"id\":7,\"session\":\"%s\"}", session);
    assert_int_equal(tc_send_text(c, text), 0);
    for (;;) {
        tc_msg msg;
        if (tc_recv(c, &msg, 3000) != 0)
            fail_msg("no answer to %s %s", type, session);
        json_t *j = msg.binary ? NULL : json_loadb((char *)msg.data, msg.len, 0, NULL);
        free(msg.data);
        const char *mt = j ? json_string_value(json_object_get(j, "type")) : NULL;
        int rc = -1;
        if (mt && strcmp(mt, "error") == 0)
            rc = (int)json_integer_value(json_object_get(j, "code"));
        else if (mt && (strcmp(mt, "published") == 0 || strcmp(mt, "tracks") == 0))
            rc = 0;
        json_decref(j);
        if (rc >= 0)
            return rc;
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-authz-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
    if (test_secret_write(secret_path, 5, secret) != 0)
        return -1;
    char sf[200];
    snprintf(sf, sizeof sf, "auth.secret_file=%s", secret_path);
    const char *sets[] = {"auth.required=true", sf, "schedule.test_clock=true", NULL};
    if (relay_start(&r, 0, sets) != 0)
        return -1;
    t = tc_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tc_free(t);
    int rc = relay_stop(&r, SIGTERM, 5000);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return rc == 0 && system(cmd) == 0 ? 0 : -1;
}

static void timetable(tc_conn *op)
{
    ok(op, "{\"type\":\"school_set\",\"id\":1,\"school\":{\"id\":\"hz\",\"name\":\"HZ\"}}",
       "schools");
    ok(op, "{\"type\":\"school_set\",\"id\":2,\"school\":{\"id\":\"ls\",\"name\":\"LS\"}}",
       "schools");
    const char *rooms[][3] = {{"hz-301", "hz", "source"}, {"hz-302", "hz", "source"},
                              {"ls-1", "ls", "receiver"}, {"ls-2", "ls", "receiver"}};
    for (int i = 0; i < 4; i++) {
        char m[300];
        snprintf(m, sizeof m, "{\"type\":\"classroom_set\",\"id\":3,\"classroom\":{\"id\":\"%s\","
                 "\"name\":\"%s\",\"school\":\"%s\",\"role\":\"%s\"}}", rooms[i][0], rooms[i][0],
                 rooms[i][1], rooms[i][2]);
        ok(op, m, "classrooms");
    }
    ok(op, "{\"type\":\"session_set\",\"id\":4,\"session\":{\"id\":\"music-p3\",\"title\":\"M\","
           "\"source\":\"hz-301\",\"receivers\":[\"ls-1\"],\"weekday\":1,\"start\":\"10:00\","
           "\"end\":\"10:40\",\"term_start\":\"2025-02-17\",\"term_end\":\"2025-07-04\"}}",
       "sessions");
    ok(op, "{\"type\":\"session_set\",\"id\":5,\"session\":{\"id\":\"assembly\",\"title\":\"A\","
           "\"source\":\"hz-302\",\"receivers\":[\"ls-1\"],\"weekday\":1,\"start\":\"11:00\","
           "\"end\":\"11:40\",\"term_start\":\"2025-02-17\",\"term_end\":\"2025-07-04\","
           "\"public\":true}}",
       "sessions");
}

static void test_publish_and_watch(void **state)
{
    (void)state;
    tc_conn *op = login("zhang", "operator");
    timetable(op);
    ok(op, "{\"type\":\"clock\",\"id\":5,\"time_us\":" T_0900 ",\"scale\":0}", "time");
    tc_conn *src = login("hz-301", "source"), *other = login("hz-302", "source");
    /* an hour early: not yet (the lead is 2 minutes) */
    assert_int_equal(attempt(src, "publish", LESSON), 83);
    ok(op, "{\"type\":\"clock\",\"id\":6,\"time_us\":" T_1000 ",\"scale\":0}", "time");
    assert_int_equal(attempt(other, "publish", LESSON), 83); /* not its lesson */
    assert_int_equal(attempt(src, "publish", LESSON), 0);
    assert_int_equal(attempt(src, "publish", "2025-03-04.music-p3"), 83); /* not that day */
    /* outside the timetable: only ids named after the classroom */
    assert_int_equal(attempt(other, "publish", "hz-301.extra"), 83);
    assert_int_equal(attempt(other, "publish", "hz-3021"), 83);
    assert_int_equal(attempt(other, "publish", "hz-302.extra"), 0);
    /* watching: members only; sessions outside the timetable are open */
    tc_conn *member = login("ls-1", "receiver"), *stranger = login("ls-2", "receiver");
    assert_int_equal(attempt(stranger, "subscribe", LESSON), 83);
    assert_int_equal(attempt(member, "subscribe", LESSON), 0);
    assert_int_equal(attempt(stranger, "subscribe", "hz-302.extra"), 0);
    assert_int_equal(attempt(stranger, "subscribe", "2025-03-03.assembly"), 0); /* public */
    assert_false(tc_is_closed(stranger)); /* a refusal does not cost the connection */
    int st;
    char *m = http_get(r.port, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric_value(m, "bbt_connections_refused_total{reason=\"denied\"}") >= 6);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_publish_and_watch)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
