/* tests/fault/test_slowloris.c — connections that send their HTTP headers a byte at a time.
 *
 * The real bbt-relay with a synthetic publisher and one viewer. 300 raw sockets send the
 * WebSocket upgrade request one byte every 500 ms (it would take ~90 s to complete). The relay
 * drops connections whose headers have not arrived after its lws timeout (relay/server.c,
 * timeout_secs = 10 s). Asserted:
 *   - every slow connection is closed by the relay between 5 s and 15 s after it opened;
 *   - meanwhile the relay keeps serving: /healthz answers within 1 s every second, a viewer
 *     that joins while all 300 are open connects, says hello and receives its first frame within
 *     2 s, and the viewer already there misses no frame and never waits more than 1 s for one.
 * With lws's header pool at 256 (before relay/server.c raised it), 300 slow connections kept
 * every new connection (viewers and /healthz) waiting until their timeout.
 */
#include <errno.h>
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

#include "fault/fault_util.h"
#include "support/relay_proc.h"

#define N_SLOW 300

struct slow {
    int fd;
    size_t sent;
    int64_t opened_us, closed_us;
};

/* One more byte of the request on every open slow connection; notes the ones the relay closed. */
static int slow_step(struct slow *s, int n)
{
    int closed = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].closed_us) {
            closed++;
            continue;
        }
        char buf[256];
        ssize_t got = read(s[i].fd, buf, sizeof buf);
        bool gone = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (!gone && s[i].sent < strlen(fu_ws_request) &&
            write(s[i].fd, fu_ws_request + s[i].sent, 1) == 1)
            s[i].sent++;
        else if (!gone && errno != EAGAIN && errno != EWOULDBLOCK)
            gone = true;
        if (gone) {
            s[i].closed_us = fu_mono_us();
            closed++;
        }
    }
    return closed;
}

static double healthz_ms(int port)
{
    int64_t t0 = fu_mono_us();
    int st;
    char *b = http_get(port, "/healthz", &st);
    free(b);
    return st == 200 ? (double)(fu_mono_us() - t0) / 1000.0 : 1e9;
}

static void slow_headers_are_dropped_and_others_served(void **state)
{
    (void)state;
    assert_int_equal(fu_raise_nofile(500), 0); /* 300 sockets here and in the relay */
    relay_proc relay;
    const char *sets[] = {"limits.max_connections_per_ip=1000", NULL};
    assert_int_equal(relay_start(&relay, 0, sets), 0);
    tc_ctx *t = tc_new();
    assert_non_null(t);
    fu_pub pub;
    fu_viewer view = {0}, late = {0};
    assert_int_equal(fu_pub_start(&pub, t, relay.port, "lesson", 3000), 0);
    assert_int_equal(fu_viewer_start(&view, t, relay.port, "lesson"), 0);
    fu_pub *pubs[] = {&pub};
    fu_viewer *views[] = {&view, &late};
    fu_run(t, pubs, 1, views, 1, 1000);
    fu_viewer_reset(&view);

    static struct slow s[N_SLOW];
    for (int i = 0; i < N_SLOW; i++) {
        s[i] = (struct slow){.fd = fu_tcp_connect(relay.port), .opened_us = fu_mono_us()};
        assert_true(s[i].fd >= 0);
    }
    double worst_healthz = 0, join_ms = -1;
    int closed = 0, step = 0;
    int64_t start = fu_mono_us(), end = start + 17000000;
    while (closed < N_SLOW && fu_mono_us() < end) {
        closed = slow_step(s, N_SLOW);
        if (step % 2 == 0) { /* every second */
            double h = healthz_ms(relay.port);
            worst_healthz = h > worst_healthz ? h : worst_healthz;
        }
        if (step == 6) { /* 3 s in, every slow connection open: a new viewer joins */
            int64_t t0 = fu_mono_us();
            assert_int_equal(fu_viewer_start(&late, t, relay.port, "lesson"), 0);
            while (!late.frames && fu_mono_us() - t0 < 5000000)
                fu_run(t, pubs, 1, views, 2, 5);
            join_ms = late.frames ? (double)(late.first_frame_us - t0) / 1000.0 : 1e9;
        }
        fu_run(t, pubs, 1, views, 2, 500);
        step++;
    }
    int early = 0, late_close = 0;
    double first = 1e9, last = 0;
    for (int i = 0; i < N_SLOW; i++) {
        double ms = s[i].closed_us ? (double)(s[i].closed_us - s[i].opened_us) / 1000.0 : 1e9;
        first = ms < first ? ms : first;
        last = ms > last ? ms : last;
        early += ms < 5000;
        late_close += ms > 15000;
        close(s[i].fd);
    }
    printf("# %d of %d slow connections closed, after %.0f..%.0f ms; /healthz worst %.0f ms; "
           "a viewer joining meanwhile: first frame after %.0f ms; the viewer there: %u frames, "
           "%u missing, longest pause %.0f ms\n",
           closed, N_SLOW, first, last, worst_healthz, join_ms, view.frames, view.gaps,
           (double)view.max_gap_us / 1000.0);
    assert_int_equal(closed, N_SLOW);
    assert_int_equal(early, 0);
    assert_int_equal(late_close, 0);
    assert_true(worst_healthz < 1000);
    assert_true(join_ms >= 0 && join_ms < 2000);
    assert_false(view.closed);
    assert_int_equal(view.gaps, 0);
    assert_true(view.max_gap_us < 1000000);
    fu_viewer_free(&view);
    fu_viewer_free(&late);
    tc_free(t);
    assert_int_equal(relay_stop(&relay, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_headers_are_dropped_and_others_served)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
