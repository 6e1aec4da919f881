/* tests/relay/test_estimate.c — relay/estimate.c: delivered bytes, capacity only while
 * backlogged, smoothing, congestion signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "relay/estimate.h"

#define MS 1000

static void test_first_sample_is_a_baseline(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_sample(&e, 1000 * MS, 5000, 100, 0);
    assert_true(e.delivered_bps == 0);
    assert_true(e.capacity_bps == 0);
}

/* Not backlogged: delivery is measured but says nothing about capacity. */
static void test_unbacklogged_link_gives_no_capacity(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    uint64_t sent = 0;
    for (int i = 0; i <= 10; i++, sent += 25000) /* 25 kB per 250 ms = 800 kbit/s */
        bbt_estimate_sample(&e, (int64_t)i * 250 * MS + 1, sent, 0, 5 * MS);
    assert_true(e.delivered_bps > 790000 && e.delivered_bps < 810000);
    assert_true(e.capacity_bps == 0);
    assert_int_equal(e.delay_us, 5 * MS);
}

/* Backlogged: what drains is the capacity; bytes still in the kernel are not delivered. */
static void test_backlogged_link_measures_capacity(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_sample(&e, 1, 0, 0, 200 * MS);
    /* 250 ms: 30 kB handed to the socket, 17.5 kB of it still in the kernel → 12.5 kB
     * delivered = 400 kbit/s */
    bbt_estimate_sample(&e, 250 * MS + 1, 30000, 17500, 300 * MS);
    assert_true(e.capacity_bps > 399000 && e.capacity_bps < 401000);
    assert_int_equal(e.capacity_at_us, 250 * MS + 1);
    assert_int_equal(e.delay_us, 300 * MS);
    /* the kernel drains its backlog: delivered exceeds what was handed over */
    bbt_estimate_sample(&e, 500 * MS + 1, 35000, 10000, 300 * MS);
    /* 5000 + 7500 = 12.5 kB → 400 kbit/s again */
    assert_true(e.capacity_bps > 399000 && e.capacity_bps < 401000);
}

/* On a far lossy link (window_min BBT_ESTIMATE_WINDOW_LOSSY) one interval alone reads
 * a stall (a quarter second of TCP recovering a loss) or a burst: a stretch gives a capacity
 * from its second interval on. */
static void test_lossy_link_needs_two_intervals(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    assert_int_equal(e.window_min, 1);
    e.window_min = BBT_ESTIMATE_WINDOW_LOSSY;
    bbt_estimate_sample(&e, 1, 0, 0, 200 * MS);
    /* 250 ms: 300 bytes acknowledged (9.6 kbit/s), the rest held behind a loss */
    bbt_estimate_sample(&e, 250 * MS + 1, 10000, 9700, 200 * MS);
    assert_true(e.capacity_bps == 0);
    assert_int_equal(e.capacity_at_us, 0);
    /* the stretch ends; the next one's first interval is alone again */
    bbt_estimate_sample(&e, 500 * MS + 1, 10000, 0, 0);
    bbt_estimate_sample(&e, 750 * MS + 1, 20000, 0, 200 * MS);
    bbt_estimate_sample(&e, 1000 * MS + 1, 30000, 10000, 200 * MS);
    assert_true(e.capacity_bps == 0);
    /* its second: nothing, then 20 kB, in 500 ms */
    bbt_estimate_sample(&e, 1250 * MS + 1, 40000, 0, 200 * MS);
    assert_true(e.capacity_bps > 319000 && e.capacity_bps < 321000);
    assert_int_equal(e.capacity_at_us, 1250 * MS + 1);
}

/* A cliff: the capacity follows within a few samples (the window of a second). */
/* A backlogged estimate's first sample at t = 1 µs (a baseline: nothing measured yet). */
static bbt_estimate backlogged_at_start(int64_t queue_delay)
{
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_sample(&e, 1, 0, 0, queue_delay);
    return e;
}

static void test_follows_a_cliff(void **state)
{
    (void)state;
    bbt_estimate e = backlogged_at_start(100 * MS);
    uint64_t sent = 0;
    int64_t t = 1;
    for (int i = 0; i < 10; i++) /* 4 Mbit/s: 125 kB per 250 ms */
        bbt_estimate_sample(&e, t += 250 * MS, sent += 125000, 0, 100 * MS);
    assert_true(e.capacity_bps > 3900000);
    for (int i = 0; i < 3; i++) /* 400 kbit/s */
        bbt_estimate_sample(&e, t += 250 * MS, sent += 12500, 0, 400 * MS);
    assert_true(e.capacity_bps < 1400000); /* (3 × 400 kbit/s + 4 Mbit/s) / 4 */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 12500, 0, 400 * MS);
    assert_true(e.capacity_bps > 399000 && e.capacity_bps < 401000); /* a second after it */
}

/* A lossy link: TCP delivers nothing while it recovers a loss, then the held bytes at once.
 * The capacity is the rate over the stretch's last second, the stalled intervals included,
 * not the burst; a window that delivered nothing gives no sample; a stretch that ends (an
 * interval not backlogged) starts the next one afresh. */
static void test_capacity_counts_stalls(void **state)
{
    (void)state;
    bbt_estimate e = backlogged_at_start(200 * MS);
    int64_t t = 1;
    uint64_t sent = 0;
    /* 250 ms stalled: 10 kB handed over, none of it acknowledged */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 10000, 10000, 200 * MS);
    assert_true(e.capacity_bps == 0); /* nothing delivered yet: no sample */
    assert_int_equal(e.capacity_at_us, 0);
    /* the hole filled: 20 kB acknowledged in the next 250 ms (640 kbit/s alone) */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 10000, 0, 200 * MS);
    assert_true(e.capacity_bps > 319000 && e.capacity_bps < 321000); /* 20 kB in 500 ms */
    assert_int_equal(e.capacity_at_us, t);
    /* two more steady intervals of 10 kB: 40 kB in 1 s */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 10000, 0, 200 * MS);
    bbt_estimate_sample(&e, t += 250 * MS, sent += 10000, 0, 200 * MS);
    assert_true(e.capacity_bps > 319000 && e.capacity_bps < 321000);
    /* the window holds a second: the stall leaves it, the burst is the oldest now */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 10000, 0, 200 * MS);
    assert_true(e.capacity_bps > 399000 && e.capacity_bps < 401000); /* 50 kB in 1 s */
    /* not backlogged: the stretch ends, the capacity stays as it was */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 2500, 0, 0);
    assert_true(e.capacity_bps > 399000 && e.capacity_bps < 401000);
    int64_t at = e.capacity_at_us;
    /* a new stretch: its first interval alone (the old burst is not in it) */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 5000, 0, 200 * MS);
    assert_int_equal(e.capacity_at_us, at); /* the first interval's start was not backlogged */
    bbt_estimate_sample(&e, t += 250 * MS, sent += 5000, 0, 200 * MS);
    assert_true(e.capacity_bps > 159000 && e.capacity_bps < 161000);
    assert_int_equal(e.capacity_at_us, t);
}

/* The kernel's unsent cap follows the delivered rate: ~100 ms of it, a power of two within
 * 4..32 KiB, 32 KiB while the rate is unknown. */
static void test_unsent_cap_follows_the_rate(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    assert_int_equal(bbt_estimate_unsent_cap(&e), BBT_ESTIMATE_UNSENT_MAX);
    static const struct {
        double bps;
        int cap;
    } cases[] = {{100000, 4096},   {400000, 4096},   {655360, 8192},  {1000000, 8192},
                 {1400000, 16384}, {4000000, 32768}, {1e9, 32768}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        e.delivered_bps = cases[i].bps;
        assert_int_equal(bbt_estimate_unsent_cap(&e), cases[i].cap);
    }
    /* fed through samples: 400 kbit/s delivered */
    bbt_estimate_init(&e);
    uint64_t sent = 0;
    for (int i = 0; i <= 8; i++, sent += 12500)
        bbt_estimate_sample(&e, (int64_t)i * 250 * MS + 1, sent, 0, 5 * MS);
    assert_int_equal(bbt_estimate_unsent_cap(&e), 4096);
    assert_int_equal(e.unsent_cap, 0); /* the caller's to set */
}

static void test_short_interval_ignored_and_unknown_outq(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_sample(&e, 1, 0, -1, 0);
    bbt_estimate_sample(&e, 50 * MS, 100000, -1, 0); /* < 100 ms: ignored */
    assert_true(e.delivered_bps == 0);
    bbt_estimate_sample(&e, 250 * MS + 1, 100000, -1, 0);
    assert_true(e.delivered_bps > 3000000);
    /* a counter that goes backwards never gives a negative rate */
    bbt_estimate_sample(&e, 500 * MS + 1, 100000, 500000, 0);
    assert_true(e.delivered_bps >= 0);
}

/* The viewer's median latency beyond its best (less the 50 ms slack) is congestion the socket
 * does not show: it is the signal while larger than the queue delay and fresh (2.5 s). */
static void test_report_latency_is_network_delay(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    assert_int_equal(bbt_estimate_delay(&e, 1, true), 0);
    bbt_estimate_sample(&e, 1, 0, 0, 20 * MS);
    bbt_estimate_report(&e, 1000 * MS, 130.0, 10000); /* first: the baseline */
    assert_int_equal(e.lat_base_us, 130 * MS);
    assert_int_equal(bbt_estimate_delay(&e, 1000 * MS, true), 20 * MS); /* the queue's */
    bbt_estimate_report(&e, 2000 * MS, 120.0, 60000); /* a better median: new baseline */
    assert_int_equal(e.lat_base_us, 120 * MS);
    assert_true(e.report_bps > 399000 && e.report_bps < 401000); /* 50 kB in 1 s */
    bbt_estimate_report(&e, 3000 * MS, 160.0, -1); /* 40 ms of jitter: within the slack */
    assert_int_equal(e.report_excess_us, 0);
    assert_int_equal(e.lat_base_us, 120 * MS + BBT_ESTIMATE_BASE_RISE_US); /* rises slowly */
    bbt_estimate_report(&e, 4000 * MS, 520.0, -1); /* a queue in the network */
    int64_t want = 520 * MS - e.lat_base_us - BBT_ESTIMATE_REPORT_SLACK_US;
    assert_int_equal(e.report_excess_us, want);
    assert_int_equal(bbt_estimate_delay(&e, 4000 * MS, true), want);
    assert_int_equal(bbt_estimate_delay(&e, 6500 * MS, true), want);  /* still fresh */
    assert_int_equal(bbt_estimate_delay(&e, 6500 * MS, false), 20 * MS); /* not asked for */
    assert_int_equal(bbt_estimate_delay(&e, 6500 * MS + 1, true), 20 * MS); /* stale: the queue's */
    bbt_estimate_sample(&e, 4100 * MS, 0, 0, 900 * MS); /* a longer queue wins */
    assert_int_equal(bbt_estimate_delay(&e, 4100 * MS, true), 900 * MS);
    /* absent figures change nothing; a byte count that goes back gives no rate */
    double bps = e.report_bps;
    bbt_estimate_report(&e, 5000 * MS, -1, 100);
    assert_int_equal(e.report_excess_us, want);
    assert_true(e.report_bps == bps);
}

/* TCP's view: srtt − min_rtt is a bottleneck's queue; it joins the signal when larger. */
static void test_rtt_is_network_queue(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_sample(&e, 1, 0, 0, 30 * MS);
    bbt_estimate_rtt(&e, 120 * MS, 120 * MS);
    assert_int_equal(e.net_queue_us, 0);
    assert_int_equal(bbt_estimate_delay(&e, 2, true), 30 * MS);
    bbt_estimate_rtt(&e, 420 * MS, 120 * MS);
    assert_int_equal(e.net_queue_us, 300 * MS);
    assert_int_equal(bbt_estimate_delay(&e, 2, true), 300 * MS);
    bbt_estimate_rtt(&e, 100 * MS, 120 * MS); /* srtt below the minimum: no queue */
    assert_int_equal(e.net_queue_us, 0);
    bbt_estimate_rtt(&e, -1, 120 * MS); /* not known */
    assert_int_equal(e.net_queue_us, 0);
}

/* TCP's delivery-rate samples taken while the relay kept it busy are smoothed into tcp_bps
 * (with their time); app-limited ones and zeros say nothing. */
static void test_tcp_delivery_rate_is_capacity(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_tcp_rate(&e, 1 * MS, 3000000, true);
    bbt_estimate_tcp_rate(&e, 2 * MS, 0, false);
    assert_true(e.tcp_bps == 0);
    assert_int_equal(e.tcp_at_us, 0);
    bbt_estimate_tcp_rate(&e, 3 * MS, 400000, false);
    assert_true(e.tcp_bps == 400000);
    assert_int_equal(e.tcp_at_us, 3 * MS);
    bbt_estimate_tcp_rate(&e, 4 * MS, 800000, false); /* smoothed like the relay's samples */
    assert_true(e.tcp_bps > 400000 && e.tcp_bps < 800000);
    assert_int_equal(e.tcp_at_us, 4 * MS);
    assert_true(e.capacity_bps == 0); /* the relay's own capacity is apart */
}

/* Stuck: bytes in flight and the acknowledged count flat for the larger of 500 ms and two
 * round trips; any acknowledgement, or nothing in flight, ends it (and restarts the clock). */
static void test_stuck_when_nothing_is_acknowledged(void **state)
{
    (void)state;
    bbt_estimate e;
    bbt_estimate_init(&e);
    bbt_estimate_acks(&e, 1000 * MS, 5000, 3, 20 * MS); /* the first reading: a baseline */
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 1499 * MS, 5000, 3, 20 * MS); /* under 500 ms (2 rtt is 40 ms) */
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 1500 * MS, 5000, 3, 20 * MS);
    assert_true(e.stuck);
    bbt_estimate_acks(&e, 1750 * MS, 5001, 3, 20 * MS); /* one byte acknowledged */
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 2500 * MS, 5001, 0, 20 * MS); /* nothing in flight: idle, not stuck */
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 2750 * MS, 5001, 2, 20 * MS); /* in flight again from here */
    bbt_estimate_acks(&e, 3000 * MS, 5001, 2, 20 * MS);
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 3250 * MS, 5001, 2, 20 * MS);
    assert_true(e.stuck);
    /* a long round trip: two of them (430 ms each: 860 ms) */
    bbt_estimate_acks(&e, 4000 * MS, 9000, 5, 430 * MS);
    bbt_estimate_acks(&e, 4750 * MS, 9000, 5, 430 * MS);
    assert_false(e.stuck);
    bbt_estimate_acks(&e, 4860 * MS, 9000, 5, 430 * MS);
    assert_true(e.stuck);
    bbt_estimate_acks(&e, 5000 * MS, 9000, 5, -1); /* rtt not known: 500 ms */
    assert_true(e.stuck);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sample_is_a_baseline),
        cmocka_unit_test(test_unbacklogged_link_gives_no_capacity),
        cmocka_unit_test(test_backlogged_link_measures_capacity),
        cmocka_unit_test(test_lossy_link_needs_two_intervals),
        cmocka_unit_test(test_follows_a_cliff),
        cmocka_unit_test(test_capacity_counts_stalls),
        cmocka_unit_test(test_unsent_cap_follows_the_rate),
        cmocka_unit_test(test_short_interval_ignored_and_unknown_outq),
        cmocka_unit_test(test_report_latency_is_network_delay),
        cmocka_unit_test(test_rtt_is_network_queue),
        cmocka_unit_test(test_tcp_delivery_rate_is_capacity),
        cmocka_unit_test(test_stuck_when_nothing_is_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
