/* tests/fault/test_unauth.c — 500 WebSocket connections that never authenticate.
 *
 * The real bbt-relay ([limits] auth_timeout = 2s) with a synthetic publisher and one viewer that
 * said hello. 500 raw sockets complete the WebSocket upgrade and then send nothing. Asserted:
 *   - every one of the 500 receives a close frame with code 4008 (4000 + |BBT_ETIMEOUT|, "no
 *     hello in time", docs/PROTOCOL.md) no earlier than auth_timeout after it connected and no
 *     later than auth_timeout + 3 s;
 *   - /metrics counts them: bbt_connections_refused_total{reason="auth_timeout"} = 500;
 *   - meanwhile the authenticated viewer keeps receiving media: no frame missing (sequence
 *     numbers), no pause longer than 1 s, and (counted 1 s after the publisher stopped, so that
 *     what is on its way arrives) at least 80 % of the frames sent;
 *   - the relay is still up (/healthz).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "fault/fault_util.h"
#include "support/relay_proc.h"

#define N_UNAUTH 500
#define AUTH_TIMEOUT_MS 2000

static void unauthenticated_connections_are_closed(void **state)
{
    (void)state;
    assert_int_equal(fu_raise_nofile(700), 0); /* 500 sockets here and in the relay */
    relay_proc relay;
    const char *sets[] = {"limits.auth_timeout=2s", "limits.max_connections_per_ip=1000", NULL};
    assert_int_equal(relay_start(&relay, 0, sets), 0);
    tc_ctx *t = tc_new();
    assert_non_null(t);
    fu_pub pub;
    fu_viewer view = {0};
    assert_int_equal(fu_pub_start(&pub, t, relay.port, "lesson", 3000), 0);
    assert_int_equal(fu_viewer_start(&view, t, relay.port, "lesson"), 0);
    fu_pub *pubs[] = {&pub};
    fu_viewer *views[] = {&view};
    fu_run(t, pubs, 1, views, 1, 1000);
    assert_true(view.frames > 0);
    fu_viewer_reset(&view);
    unsigned sent0 = pub.sent;

    static fu_rawws w[N_UNAUTH];
    int64_t opened[N_UNAUTH];
    for (int i = 0; i < N_UNAUTH; i++) {
        w[i] = (fu_rawws){.fd = fu_tcp_connect(relay.port)};
        assert_true(w[i].fd >= 0);
        opened[i] = fu_mono_us();
        assert_int_equal(fu_ws_handshake(w[i].fd, 3000), 0);
        if (i % 50 == 0)
            fu_run(t, pubs, 1, views, 1, 1); /* keep the lesson going while connecting */
    }
    int64_t deadline = fu_mono_us() + (AUTH_TIMEOUT_MS + 4000) * 1000LL;
    int closed = 0;
    while (closed < N_UNAUTH && fu_mono_us() < deadline) {
        fu_run(t, pubs, 1, views, 1, 10);
        closed = 0;
        for (int i = 0; i < N_UNAUTH; i++)
            closed += fu_rawws_poll(&w[i]);
    }
    unsigned sent = pub.sent - sent0;
    fu_run(t, NULL, 0, views, 1, 1000); /* what is still on its way arrives; nothing new is sent */
    int wrong_code = 0, early = 0, late = 0;
    double first_ms = 1e9, last_ms = 0;
    for (int i = 0; i < N_UNAUTH; i++) {
        double ms = w[i].closed_us ? (double)(w[i].closed_us - opened[i]) / 1000.0 : 1e9;
        first_ms = ms < first_ms ? ms : first_ms;
        last_ms = ms > last_ms ? ms : last_ms;
        wrong_code += w[i].close_code != 4008;
        early += ms < AUTH_TIMEOUT_MS;
        late += ms > AUTH_TIMEOUT_MS + 3000;
        close(w[i].fd);
    }
    double auth_timeouts = fu_metric(relay.port, "bbt_connections_refused_total{reason=\"auth_timeout\"}");
    printf("# %d of %d closed; close after %.0f..%.0f ms (auth_timeout %d ms); wrong code %d, "
           "early %d, late %d; viewer: %u of %u frames, %u missing, longest pause %.0f ms; "
           "metrics auth_timeout %.0f; layer notices %u\n",
           closed, N_UNAUTH, first_ms, last_ms, AUTH_TIMEOUT_MS, wrong_code, early, late,
           view.frames, sent, view.gaps, (double)view.max_gap_us / 1000.0, auth_timeouts, view.live);
    assert_int_equal(closed, N_UNAUTH);
    assert_int_equal(wrong_code, 0);
    assert_int_equal(early, 0);
    assert_int_equal(late, 0);
    assert_true(auth_timeouts == N_UNAUTH);
    assert_false(view.closed);
    assert_int_equal(view.gaps, 0);
    assert_true(view.max_gap_us < 1000000);
    assert_true(view.frames * 10 >= sent * 8);
    int st;
    char *h = http_get(relay.port, "/healthz", &st);
    assert_int_equal(st, 200);
    free(h);
    fu_viewer_free(&view);
    tc_free(t);
    assert_int_equal(relay_stop(&relay, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(unauthenticated_connections_are_closed)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
