/* tests/fault/test_stalled_viewer.c — a viewer that stops reading its socket.
 *
 * The real bbt-relay ([queue] stall_timeout = 4s), a synthetic publisher (~1.3 Mbit/s), three
 * healthy viewers that record the latency of every frame (arrival wall clock − capture_us), and
 * a fourth viewer that receives normally for a while and then stops reading (lws rx flow
 * control: its socket buffers fill, the relay can write nothing more to it).
 * Two measurement windows in the same run, on the same machine state:
 *   A: 4 s with all four viewers reading;
 *   B: from 1 s after the fourth viewer stopped reading (its socket buffers are full by then)
 *      until the relay closes it.
 * Asserted:
 *   - the relay closes the stalled viewer: /metrics bbt_connections_refused_total
 *     {reason="stalled"} goes up by one no earlier than stall_timeout after it stopped reading
 *     and no later than stall_timeout + 6 s (the socket buffers fill first), and the bbt_viewers
 *     gauge is back to the three healthy ones;
 *   - the healthy viewers are unaffected: none is closed, none misses a frame (sequence numbers)
 *     in A or B, and the highest of their latency p99s over B is at most 1.10 x that over A
 *     plus 20 ms. The floor: on a loaded 2-core machine one scheduling hiccup moves a p99 of
 *     25-45 ms (this single-threaded test loop's 5 ms service tick, the relay's write pacing) by
 *     more than 10 %; 20 ms is half the relay's [queue] flush_interval. A stalled viewer that
 *     held up the others (a blocking write, a shared queue) would add its stall_timeout. If the
 *     bound fails, a second round (a new fourth viewer that stalls) decides; the close and
 *     no-missing-frame assertions hold in every round.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fault/fault_util.h"
#include "support/relay_proc.h"

#define HEALTHY 3
#define STALL_TIMEOUT_MS 4000
#define FLOOR_MS 20.0 /* half the relay's [queue] flush_interval (40 ms) */

static double p99_of(fu_viewer *v, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double q = fu_viewer_quantile(&v[i], 0.99);
        worst = q > worst ? q : worst;
    }
    return worst;
}

static unsigned gaps_of(const fu_viewer *v, int n)
{
    unsigned g = 0;
    for (int i = 0; i < n; i++)
        g += v[i].gaps + (v[i].closed ? 1000 : 0);
    return g;
}

struct env {
    relay_proc relay;
    tc_ctx *t;
    fu_pub pub;
    fu_viewer v[HEALTHY + 1]; /* v[HEALTHY]: the one that stalls */
};

static void run(struct env *e, int nviews, int ms)
{
    fu_pub *pubs[] = {&e->pub};
    fu_viewer *all[] = {&e->v[0], &e->v[1], &e->v[2], &e->v[3]};
    fu_run(e->t, pubs, 1, all, (size_t)nviews, ms);
}

/* One round: window A with a fresh fourth viewer reading, then window B while it is stalled,
 * until the relay closes it. Asserts the close; returns whether the latency bound held. */
static bool round_ok(struct env *e, int round)
{
    fu_viewer *s = &e->v[HEALTHY];
    assert_int_equal(fu_viewer_start(s, e->t, e->relay.port, "lesson"), 0);
    run(e, HEALTHY + 1, 1000); /* past the cached GOP */
    for (int i = 0; i <= HEALTHY; i++)
        fu_viewer_reset(&e->v[i]);
    run(e, HEALTHY + 1, 4000); /* A */
    double p99_a = p99_of(e->v, HEALTHY);
    unsigned gaps_a = gaps_of(e->v, HEALTHY), frames_a = e->v[0].frames;
    assert_true(s->frames > 100); /* the fourth viewer did receive before it stalled */

    double stalled0 = fu_metric(e->relay.port, "bbt_connections_refused_total{reason=\"stalled\"}");
    tc_pause_reading(s->c, true);
    int64_t paused = fu_mono_us();
    run(e, HEALTHY, 1000); /* its socket buffers fill */
    for (int i = 0; i < HEALTHY; i++)
        fu_viewer_reset(&e->v[i]);
    int64_t killed = 0, deadline = paused + (STALL_TIMEOUT_MS + 6000) * 1000LL;
    while (!killed && fu_mono_us() < deadline) { /* B */
        run(e, HEALTHY, 200);
        if (fu_metric(e->relay.port, "bbt_connections_refused_total{reason=\"stalled\"}") >
            stalled0)
            killed = fu_mono_us();
    }
    double p99_b = p99_of(e->v, HEALTHY);
    unsigned gaps_b = gaps_of(e->v, HEALTHY), frames_b = e->v[0].frames;
    double viewers = fu_metric(e->relay.port, "bbt_viewers");
    double killed_ms = killed ? (double)(killed - paused) / 1000.0 : -1;
    bool within = p99_a > 0 && p99_b > 0 && p99_b <= p99_a * 1.10 + FLOOR_MS;
    printf("# round %d: stalled viewer closed %.0f ms after it stopped reading (stall_timeout "
           "%d ms), viewers left %.0f; healthy viewers: A %u frames p99 %.1f ms, B %u frames "
           "p99 %.1f ms (bound %.1f ms: %s), missing A %u B %u\n",
           round, killed_ms, STALL_TIMEOUT_MS, viewers, frames_a, p99_a, frames_b, p99_b,
           p99_a * 1.10 + FLOOR_MS, within ? "held" : "exceeded", gaps_a, gaps_b);
    assert_true(killed != 0);
    assert_true(killed_ms >= STALL_TIMEOUT_MS);
    assert_true(viewers == HEALTHY); /* the relay let go of it */
    assert_int_equal(gaps_a, 0);
    assert_int_equal(gaps_b, 0);
    assert_true(frames_a > 100 && frames_b > 50);
    tc_pause_reading(s->c, false);
    tc_wait_closed(s->c, 1000);
    return within;
}

static void stalled_viewer_is_closed_others_unaffected(void **state)
{
    (void)state;
    static struct env e;
    const char *sets[] = {"queue.stall_timeout=4s", NULL};
    assert_int_equal(relay_start(&e.relay, 0, sets), 0);
    e.t = tc_new();
    assert_non_null(e.t);
    assert_int_equal(fu_pub_start(&e.pub, e.t, e.relay.port, "lesson", 6000), 0);
    for (int i = 0; i < HEALTHY; i++) {
        e.v[i].record_latency = true;
        assert_int_equal(fu_viewer_start(&e.v[i], e.t, e.relay.port, "lesson"), 0);
    }
    /* A wall-clock p99 on a shared 2-core machine can catch one scheduling hiccup: a second
     * round decides. A stalled viewer that really slowed the others would fail both. */
    bool ok = round_ok(&e, 1) || round_ok(&e, 2);
    assert_true(ok);
    for (int i = 0; i <= HEALTHY; i++)
        fu_viewer_free(&e.v[i]);
    tc_free(e.t);
    assert_int_equal(relay_stop(&e.relay, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stalled_viewer_is_closed_others_unaffected)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
