/* tests/relay/test_dash_relay.c — relay/dash_relay.c inside the real bbt-relay (integration):
 * /admin serves web_root/admin.html; an operator's dash_subscribe is answered at once and then
 * pushed about once a second until it says enabled:false; a receiver is refused; a lesson
 * started by hand shows its publisher, then "failed: publisher lost" when the publisher goes,
 * logged once in the recent errors; a classroom watching a session without a publisher is amber
 * (no_source), its player's audio copy not counted as a second connection; /metrics carries the
 * classroom and session gauges. Every `dash` is validated against its table (docs/PROTOCOL.md
 * §3.19). Also runs under the sanitizers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/control.h"
#include "proto/status.h"
#include "support/relay_proc.h"
#include "support/wsclient.h"

static json_t *next_dash(tc_conn *c, int timeout_ms)
{
    json_t *d = tc_recv_type(c, "dash", timeout_ms);
    if (!d)
        return NULL;
    char err[256];
    if (bbt_control_validate(BBT_MSG_DASH, d, err, sizeof err) != BBT_OK)
        fail_msg("invalid dash: %s", err);
    return d;
}

static const json_t *find(const json_t *arr, const char *key, const char *id)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(arr, i), key));
        if (v && strcmp(v, id) == 0)
            return json_array_get(arr, i);
    }
    return NULL;
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Dashes until `ok` holds for one (at most `n` of them); the last one read, or NULL. */
static json_t *dash_until(tc_conn *op, bool (*ok)(const json_t *), int n)
{
    for (int i = 0; i < n; i++) {
        json_t *d = next_dash(op, 3000);
        if (!d || ok(d))
            return d;
        json_decref(d);
    }
    return NULL;
}

static bool adhoc_live(const json_t *d)
{
    const json_t *s = find(json_object_get(d, "sessions"), "session", "adhoc-1");
    return s && strcmp(str(s, "state"), "live") == 0;
}

static bool adhoc_lost(const json_t *d)
{
    const json_t *s = find(json_object_get(d, "sessions"), "session", "adhoc-1");
    return s && strcmp(str(s, "state"), "failed") == 0;
}

static void test_admin_page(void **state)
{
    (void)state;
    relay_proc r;
    assert_int_equal(relay_start(&r, 0, NULL), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/web/admin.html", r.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<!doctype html><title>班班通 县级监控</title>", f);
    fclose(f);
    int st;
    for (int i = 0; i < 2; i++) {
        char *b = http_get(r.port, i ? "/admin/" : "/admin", &st);
        assert_int_equal(st, 200);
        assert_non_null(strstr(b, "县级监控"));
        free(b);
    }
    free(http_get(r.port, "/adminx", &st));
    assert_int_equal(st, 404);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

static void test_subscribe_and_lights(void **state)
{
    (void)state;
    relay_proc r;
    assert_int_equal(relay_start(&r, 0, NULL), 0);
    tc_ctx *t = tc_new();
    tc_conn *op = tc_connect(t, r.port, NULL), *rx = tc_connect(t, r.port, NULL);
    tc_conn *src = tc_connect(t, r.port, NULL), *nosy = tc_connect(t, r.port, NULL);
    assert_non_null(op);
    assert_int_equal(tc_hello(op, "operator", NULL), 0);
    assert_int_equal(tc_hello(rx, "receiver", "ls-1"), 0);
    assert_int_equal(tc_hello(src, "source", "hz-1"), 0);
    assert_int_equal(tc_hello(nosy, "receiver", "ls-nosy"), 0);
    /* a receiver may not watch the dashboard */
    tc_send_text(nosy, "{\"type\":\"dash_subscribe\",\"id\":4}");
    json_t *e = tc_recv_type(nosy, "error", 3000);
    assert_non_null(e);
    assert_string_equal(str(e, "name"), "BBT_EDENIED");
    json_decref(e);
    /* ls-1 waits for a lesson nobody publishes yet */
    tc_send_text(rx, "{\"type\":\"subscribe\",\"session\":\"adhoc-1\"}");
    json_decref(tc_recv_type(rx, "tracks", 3000));
    /* and its player's audio copy (docs/PROTOCOL.md §3.5): not a second connection of ls-1 */
    tc_conn *copy = tc_connect(t, r.port, NULL);
    assert_int_equal(tc_hello(copy, "receiver", "ls-1"), 0);
    tc_send_text(copy, "{\"type\":\"subscribe\",\"session\":\"adhoc-1\",\"audio_copy\":true}");
    json_decref(tc_recv_type(copy, "tracks", 3000));
    /* the answer at once, with the request's id */
    tc_send_text(op, "{\"type\":\"dash_subscribe\",\"id\":3,\"interval_ms\":1000}");
    json_t *d = next_dash(op, 3000);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "ref_id")), 3);
    assert_true(json_integer_value(json_object_get(json_object_get(d, "relay"), "connections")) >= 4);
    json_decref(d);
    d = next_dash(op, 3000); /* pushed, fresh: ls-1 is amber, its session has no source */
    assert_non_null(d);
    const json_t *ls1 = find(json_object_get(d, "classrooms"), "classroom", "ls-1");
    assert_non_null(ls1);
    assert_string_equal(str(ls1, "light"), "amber");
    assert_int_equal(json_integer_value(json_object_get(ls1, "connections")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ls1, "reasons"), 0)),
                        "no_source");
    const json_t *err0 = json_array_get(json_object_get(d, "errors"), 0);
    assert_string_equal(str(err0, "subject"), "ls-nosy");
    assert_string_equal(str(err0, "name"), "BBT_EDENIED");
    json_decref(d);
    /* the source publishes: live, its publisher up */
    tc_send_text(src, "{\"type\":\"publish\",\"id\":2,\"session\":\"adhoc-1\",\"tracks\":[{\"id\":0,"
                      "\"kind\":\"audio\",\"codec\":\"opus\",\"sample_rate\":48000}]}");
    json_decref(tc_recv_type(src, "published", 3000));
    d = dash_until(op, adhoc_live, 5);
    assert_non_null(d);
    const json_t *s = find(json_object_get(d, "sessions"), "session", "adhoc-1");
    assert_true(json_is_true(json_object_get(s, "publisher_up")));
    assert_string_equal(str(s, "source"), "hz-1");
    assert_int_equal(json_integer_value(json_object_get(s, "viewers")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "relay"), "viewers")), 1);
    json_decref(d);
    /* the publisher goes without bye: failed, publisher lost, one error */
    tc_close(src);
    d = dash_until(op, adhoc_lost, 5);
    assert_non_null(d);
    s = find(json_object_get(d, "sessions"), "session", "adhoc-1");
    assert_string_equal(str(s, "reason"), "publisher lost");
    json_decref(d);
    d = next_dash(op, 3000);
    assert_non_null(d);
    size_t lost = 0;
    const json_t *errs = json_object_get(d, "errors");
    for (size_t i = 0; i < json_array_size(errs); i++)
        lost += strcmp(str(json_array_get(errs, i), "message"), "publisher lost") == 0;
    assert_int_equal(lost, 1);
    json_decref(d);
    int st;
    char *m = http_get(r.port, "/metrics", &st);
    assert_int_equal(st, 200);
    assert_true(metric_value(m, "bbt_session_publisher_up{session=\"adhoc-1\"}") == 0);
    assert_true(metric_value(m, "bbt_classroom_connected{classroom=\"ls-1\"}") == 1);
    assert_true(metric_value(m, "bbt_classroom_light{classroom=\"ls-1\"}") == 1);
    free(m);
    /* enabled:false stops the pushes */
    tc_send_text(op, "{\"type\":\"dash_subscribe\",\"enabled\":false}");
    tc_service(t, 300);
    while (tc_pending(op)) {
        tc_msg msg;
        if (tc_recv(op, &msg, 100) == 0)
            free(msg.data);
    }
    assert_null(tc_recv_type(op, "dash", 2500));
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_page),
        cmocka_unit_test(test_subscribe_and_lights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
