/* tests/relay/test_metrics.c — relay/metrics.c: the histogram's buckets (each observation in
 * exactly one, cumulative when rendered, a bound belongs to its own bucket), the Prometheus text
 * of counters, and rendering when memory runs out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay/metrics.h"
#include "relay/session.h"
#include "support/failalloc.h"

static bbt_registry *empty_registry(void)
{
    bbt_registry_limits lim = {.max_sessions = 1};
    bbt_session_hooks hooks = {0};
    bbt_registry *reg = bbt_registry_new(&lim, &hooks);
    assert_non_null(reg);
    return reg;
}

/* The value of the exposition line that starts with `key ` (−1: absent). */
static double value_of(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static char *render(const bbt_metrics *m, bbt_registry *reg)
{
    bbt_metrics_gauges g = {.connections = 3, .viewers = 2, .uptime_s = 7};
    size_t len = 0;
    char *t = bbt_metrics_render(m, &g, reg, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    return t;
}

static void test_bounds_increase_and_end_in_inf(void **state)
{
    (void)state;
    for (int i = 1; i < BBT_HIST_BUCKETS; i++)
        assert_true(bbt_hist_bounds_ms[i] > bbt_hist_bounds_ms[i - 1]);
    assert_true(bbt_hist_bounds_ms[BBT_HIST_BUCKETS - 1] > 1e100);
}

/* 5 ms steps to 50 ms: bbt-bench reads the relay's p99 against the 50 ms target from them. */
static void test_buckets_resolve_the_latency_target(void **state)
{
    (void)state;
    for (double ms = 5; ms <= 50; ms += 5) {
        int found = 0;
        for (int i = 0; i < BBT_HIST_BUCKETS; i++)
            found |= bbt_hist_bounds_ms[i] == ms;
        assert_true(found);
    }
}

static void test_observations_cumulate_when_rendered(void **state)
{
    (void)state;
    bbt_metrics m = {0};
    const double obs[] = {0, 0.5, 1, 1.0001, 2, 44.9, 45, 45.1, 50, 4999, 6000, 1e9};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        bbt_histogram_observe(&m.queue_delay, obs[i]);
    assert_int_equal(m.queue_delay.count, 12);
    uint64_t sum = 0;
    for (int i = 0; i < BBT_HIST_BUCKETS; i++)
        sum += m.queue_delay.in[i];
    assert_int_equal(sum, 12); /* each observation counted once */
    bbt_registry *reg = empty_registry();
    char *t = render(&m, reg);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"1\"}"), 3); /* 0, 0.5, 1 */
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"2\"}"), 5);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"40\"}"), 5);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"45\"}"), 7);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"50\"}"), 9);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"5000\"}"), 10);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_bucket{le=\"+Inf\"}"), 12);
    assert_int_equal(value_of(t, "bbt_queue_delay_ms_count"), 12);
    /* buckets never decrease down the page */
    double prev = 0;
    for (int i = 0; i < BBT_HIST_BUCKETS - 1; i++) {
        char key[64];
        snprintf(key, sizeof key, "bbt_queue_delay_ms_bucket{le=\"%g\"}", bbt_hist_bounds_ms[i]);
        double v = value_of(t, key);
        assert_true(v >= prev);
        prev = v;
    }
    free(t);
    bbt_registry_free(reg);
}

static void test_counters_and_gauges(void **state)
{
    (void)state;
    bbt_metrics m = {0};
    m.connections_total = 41;
    m.writes_batched = 9;
    m.refused[BBT_REFUSE_AUTH] = 2;
    bbt_registry *reg = empty_registry();
    char *t = render(&m, reg);
    assert_int_equal(value_of(t, "bbt_connections_total"), 41);
    assert_int_equal(value_of(t, "bbt_writes_total{kind=\"batched\"}"), 9);
    assert_int_equal(value_of(t, "bbt_sessions"), 0);
    assert_non_null(strstr(t, "# TYPE bbt_queue_delay_ms histogram"));
    assert_non_null(strstr(t, "# TYPE bbt_frame_age_ms histogram"));
    assert_non_null(strstr(t, "# TYPE bbt_ingest_age_ms histogram"));
    free(t);
    bbt_registry_free(reg);
}

static void test_render_out_of_memory(void **state)
{
    (void)state;
    bbt_metrics m = {0};
    bbt_histogram_observe(&m.queue_delay, 3);
    bbt_registry *reg = empty_registry();
    bbt_metrics_gauges g = {0};
    for (int n = 0; n < 64; n++) {
        size_t len = 0;
        failalloc_after(n);
        char *t = bbt_metrics_render(&m, &g, reg, &len);
        failalloc_reset();
        if (t) { /* enough allocations: a whole page */
            assert_non_null(strstr(t, "bbt_queue_delay_ms_count 1"));
            free(t);
            break;
        }
    }
    bbt_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_increase_and_end_in_inf),
        cmocka_unit_test(test_buckets_resolve_the_latency_target),
        cmocka_unit_test(test_observations_cumulate_when_rendered),
        cmocka_unit_test(test_counters_and_gauges),
        cmocka_unit_test(test_render_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
