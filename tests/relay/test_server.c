/* tests/relay/test_server.c — relay/server.c and main.c with the real binary: HTTP endpoints,
 * static pages, TLS (wss/https), graceful shutdown (close 1001 to every client), limits, and the
 * refusal to start without TLS unless the configuration says it is a lab. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/tokens.h"
#include "support/wsclient.h"

static void test_http_endpoints_and_pages(void **state)
{
    (void)state;
    relay_proc r;
    assert_int_equal(relay_start(&r, 0, NULL), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/web/index.html", r.dir);
    FILE *f = fopen(path, "w");
    fputs("<!doctype html><title>班班通</title>", f);
    fclose(f);
    int st;
    char *b = http_get(r.port, "/healthz", &st);
    assert_int_equal(st, 200);
    assert_string_equal(b, "ok\n");
    free(b);
    b = http_get(r.port, "/", &st);
    assert_int_equal(st, 200);
    assert_non_null(strstr(b, "班班通"));
    free(b);
    b = http_get(r.port, "/nope.html", &st);
    assert_int_equal(st, 404);
    free(b);
    b = http_get(r.port, "/metrics", &st);
    assert_int_equal(st, 200);
    assert_true(metric_value(b, "bbt_up") == 1);
    assert_true(metric_value(b, "bbt_viewers") == 0);
    assert_non_null(strstr(b, "# TYPE bbt_queue_delay_ms histogram"));
    free(b);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

/* SIGTERM: every client receives a close frame with 1001, and the relay exits 0. */
static void test_graceful_shutdown(void **state)
{
    (void)state;
    relay_proc r;
    assert_int_equal(relay_start(&r, 0, NULL), 0);
    tc_ctx *t = tc_new();
    tc_conn *c[5];
    for (int i = 0; i < 5; i++) {
        c[i] = tc_connect(t, r.port, NULL);
        assert_non_null(c[i]);
        assert_int_equal(tc_hello(c[i], "receiver", NULL), 0);
    }
    kill(r.pid, SIGTERM);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tc_wait_closed(c[i], 3000), 1001);
    assert_int_equal(relay_stop(&r, 0, 3000), 0); /* already exiting: wait for it */
    tc_free(t);
}

static void make_cert(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=localhost -keyout %s/key.pem -out %s/cert.pem 2>/dev/null",
             dir, dir);
    assert_int_equal(system(cmd), 0);
}

static void test_tls(void **state)
{
    (void)state;
    char dir[] = "/tmp/bbt-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    make_cert(dir);
    char cert[300], key[300], statedir[300], secret_path[300];
    snprintf(cert, sizeof cert, "relay.tls_cert=%s/cert.pem", dir);
    snprintf(key, sizeof key, "relay.tls_key=%s/key.pem", dir);
    snprintf(statedir, sizeof statedir, "relay.state_dir=%s", dir);
    /* A production relay: tokens required; this one's secret is written first. */
    uint8_t secret[TEST_SECRET_BYTES];
    snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
    assert_int_equal(test_secret_write(secret_path, 1, secret), 0);
    char *token = test_token(secret, "tls-room", "receiver", 600, NULL);
    assert_non_null(token);
    /* relay_start probes /healthz over plain HTTP, which a TLS listener refuses: start it here
     * and wait through a wss connection instead (allow_insecure stays false). */
    relay_proc r = {.port = free_port()};
    char port[64];
    snprintf(port, sizeof port, "relay.port=%d", r.port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(relay_bin(), relay_bin(), "--set", "relay.listen=127.0.0.1", "--set", port,
              "--set", cert, "--set", key, "--set", "relay.web_root=/tmp", "--set", statedir,
              (char *)NULL);
        _exit(127);
    }
    r.pid = pid;
    tc_ctx *t = tc_new();
    tc_conn *c = NULL;
    tc_opts tls = {.tls = true, .timeout_ms = 500};
    for (int i = 0; i < 40 && !c; i++) {
        c = tc_connect(t, r.port, &tls);
        if (!c)
            usleep(100000);
    }
    assert_non_null(c);
    assert_int_equal(tc_hello_token(c, token, "receiver", NULL), 0);
    free(token);
    tc_opts plain = {.timeout_ms = 1000};
    assert_null(tc_connect(t, r.port, &plain)); /* no plain WebSocket on a TLS relay */
    /* modern settings only: TLS 1.2 and 1.3 are accepted, 1.1 is refused */
    char cmd[300];
    const char *versions[] = {"-tls1_3", "-tls1_2", "-tls1_1"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "openssl s_client -connect 127.0.0.1:%d %s </dev/null "
                 ">/dev/null 2>&1", r.port, versions[i]);
        int rc = system(cmd);
        if (i < 2)
            assert_int_equal(rc, 0);
        else
            assert_int_not_equal(rc, 0);
    }
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
    tc_free(t);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Without a certificate and without allow_insecure the relay refuses to start (exit 2). */
/* No certificate and no allow_insecure: the relay makes its own county CA under state_dir
 * (relay/firstrun.h, tested in tests/relay/test_firstrun.c and tests/ops/walkthrough.sh); when it
 * cannot, it refuses to start rather than fall back to plain ws. */
static void test_refuses_plain_without_lab_flag(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(relay_bin(), relay_bin(), "--set", "relay.listen=127.0.0.1", "--set",
              "relay.port=1", "--set", "relay.state_dir=/proc/bbt-cannot-create", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
}

/* The per-address connection limit refuses at the handshake; max_viewers refuses at subscribe
 * with an error that says why. Both are counted in /metrics. */
static void test_connection_limits(void **state)
{
    (void)state;
    const char *sets[] = {"limits.max_connections_per_ip=4", "limits.max_viewers=2", NULL};
    relay_proc r;
    assert_int_equal(relay_start(&r, 0, sets), 0);
    tc_ctx *t = tc_new();
    tc_conn *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = tc_connect(t, r.port, NULL);
        assert_non_null(c[i]);
        assert_int_equal(tc_hello(c[i], "receiver", NULL), 0);
    }
    assert_null(tc_connect(t, r.port, NULL)); /* a fifth from the same address */
    for (int i = 0; i < 2; i++) {
        tc_send_text(c[i], "{\"type\":\"subscribe\",\"session\":\"s\"}");
        json_t *tr = tc_recv_type(c[i], "tracks", 3000);
        assert_non_null(tr);
        json_decref(tr);
    }
    tc_send_text(c[2], "{\"type\":\"subscribe\",\"session\":\"s\"}");
    json_t *err = tc_recv_type(c[2], "error", 3000);
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "name")), "BBT_ELIMIT");
    json_decref(err);
    assert_int_equal(tc_wait_closed(c[2], 3000), 4007);
    tc_close(c[3]);
    tc_service(t, 100);
    assert_non_null(tc_connect(t, r.port, NULL)); /* room again */
    int st;
    char *m = http_get(r.port, "/metrics", &st);
    assert_true(metric_value(m, "bbt_connections_refused_total{reason=\"per_ip_limit\"}") == 1);
    assert_true(metric_value(m, "bbt_connections_refused_total{reason=\"max_viewers\"}") == 1);
    assert_true(metric_value(m, "bbt_viewers") == 2);
    free(m);
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_endpoints_and_pages),
        cmocka_unit_test(test_graceful_shutdown),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_refuses_plain_without_lab_flag),
        cmocka_unit_test(test_connection_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
