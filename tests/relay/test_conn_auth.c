/* tests/relay/test_conn_auth.c — relay/conn_auth.c against the real bbt-relay with tokens
 * required: hello refused for no token (4080), a bad signature (4081), an expired token (4082),
 * a stated role or classroom that is not the token's (4083); the subject and role granted are
 * the token's; a receiver may neither publish nor send operator messages (BBT_EDENIED); an
 * address with fail_limit failures is refused at the handshake (back-off); every refusal is
 * counted in /metrics. docs/SECURITY.md names these tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/tokens.h"
#include "support/wsclient.h"

static char secret_dir[64];
static char secret_path[128];
static uint8_t secret[TEST_SECRET_BYTES];

static int setup(void **state)
{
    (void)state;
    snprintf(secret_dir, sizeof secret_dir, "/tmp/bbt-auth-XXXXXX");
    if (!mkdtemp(secret_dir))
        return -1;
    snprintf(secret_path, sizeof secret_path, "%s/secret", secret_dir);
    return test_secret_write(secret_path, 7, secret);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", secret_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void start(relay_proc *r, const char *fail_limit)
{
    char sf[200], fl[64];
    snprintf(sf, sizeof sf, "auth.secret_file=%s", secret_path);
    snprintf(fl, sizeof fl, "auth.fail_limit=%s", fail_limit);
    const char *sets[] = {"auth.required=true", sf, fl, "schedule.enabled=false", NULL};
    assert_int_equal(relay_start(r, 0, sets), 0);
}

static int hello_code(tc_ctx *t, int port, const char *token, const char *role,
                      const char *classroom)
{
    tc_conn *c = tc_connect(t, port, NULL);
    assert_non_null(c);
    int rc = tc_hello_token(c, token, role, classroom);
    tc_close(c);
    return rc;
}

static int error_code(tc_conn *c)
{
    json_t *e = tc_recv_type(c, "error", 3000);
    assert_non_null(e);
    int code = (int)json_integer_value(json_object_get(e, "code"));
    json_decref(e);
    return code;
}

static double metric(int port, const char *name)
{
    int st;
    char *m = http_get(port, "/metrics", &st);
    assert_non_null(m);
    double v = metric_value(m, name);
    free(m);
    return v;
}

static void test_hello_refusals(void **state)
{
    (void)state;
    relay_proc r;
    start(&r, "10");
    tc_ctx *t = tc_new();
    uint8_t other[TEST_SECRET_BYTES];
    char other_path[160];
    snprintf(other_path, sizeof other_path, "%s/other", secret_dir);
    assert_int_equal(test_secret_write(other_path, 99, other), 0);
    char *good = test_token(secret, "ls-301", "receiver", 3600, NULL);
    char *forged = test_token(other, "ls-301", "receiver", 3600, NULL);
    char *expired = test_token(secret, "ls-301", "receiver", -3600, NULL);
    assert_int_equal(hello_code(t, r.port, "", "receiver", NULL), 4080);       /* no token */
    assert_int_equal(hello_code(t, r.port, "x.y.z", "receiver", NULL), 4080);  /* malformed */
    assert_int_equal(hello_code(t, r.port, forged, "receiver", NULL), 4081);   /* bad signature */
    assert_int_equal(hello_code(t, r.port, expired, "receiver", NULL), 4082);  /* expired */
    assert_int_equal(hello_code(t, r.port, good, "source", NULL), 4083);       /* role differs */
    assert_int_equal(hello_code(t, r.port, good, "receiver", "hz-301"), 4083); /* classroom */
    assert_int_equal(metric(r.port, "bbt_connections_refused_total{reason=\"auth_failed\"}"), 6);
    /* the granted subject and role are the token's */
    tc_conn *c = tc_connect(t, r.port, NULL);
    assert_non_null(c);
    assert_int_equal(tc_send_text(c, "{\"type\":\"hello\",\"id\":1,\"role\":\"receiver\","
                                     "\"token\":\"\"}"), 0);
    assert_int_equal(tc_wait_closed(c, 3000), 4080);
    tc_close(c);
    c = tc_connect(t, r.port, NULL);
    char hello[4400];
    snprintf(hello, sizeof hello, "{\"type\":\"hello\",\"id\":1,\"role\":\"receiver\","
                                  "\"classroom\":\"ls-301\",\"token\":\"%s\"}", good);
    assert_int_equal(tc_send_text(c, hello), 0);
    json_t *w = tc_recv_type(c, "welcome", 3000);
    assert_non_null(w);
    assert_string_equal(json_string_value(json_object_get(w, "subject")), "ls-301");
    assert_string_equal(json_string_value(json_object_get(w, "role")), "receiver");
    /* TCP's round trip on loopback: never a far link (30 ms, the player's test), however
     * busy this machine */
    json_t *rtt = json_object_get(w, "rtt_us");
    assert_true(json_is_integer(rtt) && json_integer_value(rtt) > 0 &&
                json_integer_value(rtt) < 30000);
    json_decref(w);
    /* a receiver cannot publish, nor send an operator message; it stays connected */
    assert_int_equal(tc_send_text(c, "{\"type\":\"publish\",\"id\":2,\"session\":\"s1\","
                                     "\"tracks\":[{\"id\":0,\"kind\":\"audio\",\"codec\":\"opus\","
                                     "\"sample_rate\":48000,\"channels\":1}]}"), 0);
    assert_int_equal(error_code(c), 83);
    assert_int_equal(tc_send_text(c, "{\"type\":\"token_list\",\"id\":3}"), 0);
    assert_int_equal(error_code(c), 83);
    assert_int_equal(tc_send_text(c, "{\"type\":\"ping\",\"id\":4}"), 0);
    json_t *pong = tc_recv_type(c, "pong", 3000);
    assert_non_null(pong);
    json_decref(pong);
    assert_true(metric(r.port, "bbt_connections_refused_total{reason=\"denied\"}") >= 2);
    tc_free(t);
    free(good);
    free(forged);
    free(expired);
    /* no log line names a token (the first-run operator token block is not a log line) */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -E '^[0-9TZ:.-]+ [a-z]+ relay: .*eyJ' %s", r.log);
    r.keep = true; /* the whole log, its last lines too, read after the stop */
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
    assert_int_equal(access(r.log, R_OK), 0);
    assert_int_not_equal(system(cmd), 0);
    relay_cleanup(&r);
}

/* fail_limit = 3: the third failure blocks the address; its next handshake is refused (the
 * WebSocket never opens), counted as auth_backoff. */
static void test_backoff(void **state)
{
    (void)state;
    relay_proc r;
    start(&r, "3");
    tc_ctx *t = tc_new();
    for (int i = 0; i < 3; i++)
        assert_int_equal(hello_code(t, r.port, "", "receiver", NULL), 4080);
    tc_opts o = {.timeout_ms = 1500};
    assert_null(tc_connect(t, r.port, &o));
    assert_true(metric(r.port, "bbt_connections_refused_total{reason=\"auth_backoff\"}") >= 1);
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

/* Lab mode needs allow_insecure: a relay with required = false and TLS off but allow_insecure
 * false does not start (exit 2). */
static void test_lab_mode_needs_insecure(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --set relay.listen=127.0.0.1 --set relay.port=1 --set "
             "auth.required=false --set relay.tls_cert=/nonexistent --set "
             "relay.tls_key=/nonexistent --check >/dev/null 2>&1", relay_bin());
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_refusals),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_lab_mode_needs_insecure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
