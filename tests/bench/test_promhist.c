/* tests/bench/test_promhist.c — tests/bench/promhist.c: a histogram read out of /metrics text
 * (the relay's own page layout), refused when malformed, and its quantiles over an interval. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "promhist.h"
#include "proto/status.h"

#define NAME "bbt_queue_delay_ms"

static const char page0[] =
    "HTTP/1.0 200 OK\r\n\r\n"
    "# TYPE bbt_queue_delay_ms histogram\n"
    "bbt_queue_delay_ms_bucket{le=\"10\"} 100\n"
    "bbt_queue_delay_ms_bucket{le=\"20\"} 100\n"
    "bbt_queue_delay_ms_bucket{le=\"50\"} 100\n"
    "bbt_queue_delay_ms_bucket{le=\"+Inf\"} 100\n"
    "bbt_queue_delay_ms_sum 500\n"
    "bbt_queue_delay_ms_count 100\n"
    "bbt_queue_delay_ms_other 7\n"
    "bbt_viewers 3\n";

/* 1,000 more observations: 500 in (0,10], 400 in (10,20], 90 in (20,50], 10 beyond 50. */
static const char page1[] =
    "bbt_viewers 3\n"
    "bbt_queue_delay_ms_bucket{le=\"10\"} 600\n"
    "bbt_queue_delay_ms_bucket{le=\"20\"} 1000\n"
    "bbt_queue_delay_ms_bucket{le=\"50\"} 1090\n"
    "bbt_queue_delay_ms_bucket{le=\"+Inf\"} 1100\n"
    "bbt_queue_delay_ms_sum 15500\n"
    "bbt_queue_delay_ms_count 1100";

static void test_parse_the_relay_page(void **state)
{
    (void)state;
    prom_hist h;
    assert_int_equal(prom_hist_parse(page0, NAME, &h), BBT_OK);
    assert_int_equal(h.n, 4);
    assert_true(h.le[0] == 10 && h.le[2] == 50 && isinf(h.le[3]));
    assert_true(h.cum[3] == 100 && h.sum == 500 && h.count == 100);
    assert_int_equal(prom_hist_parse(page1, NAME, &h), BBT_OK); /* no newline at the end */
    assert_true(h.count == 1100);
    assert_int_equal(prom_hist_parse(page0, "bbt_other", &h), BBT_ENOTFOUND);
    assert_int_equal(prom_hist_parse(NULL, NAME, &h), BBT_EINVAL);
}

static void test_quantiles_over_the_interval(void **state)
{
    (void)state;
    prom_hist a, b;
    assert_int_equal(prom_hist_parse(page0, NAME, &a), BBT_OK);
    assert_int_equal(prom_hist_parse(page1, NAME, &b), BBT_OK);
    assert_true(prom_hist_observed(&b, &a) == 1000);
    assert_float_equal(prom_hist_quantile(&b, &a, 0.25), 5.0, 1e-9);  /* 250 of 500 in (0,10] */
    assert_float_equal(prom_hist_quantile(&b, &a, 0.5), 10.0, 1e-9);
    assert_float_equal(prom_hist_quantile(&b, &a, 0.7), 15.0, 1e-9);  /* 200 of 400 in (10,20] */
    assert_float_equal(prom_hist_quantile(&b, &a, 0.945), 35.0, 1e-9); /* 45 of 90 in (20,50] */
    assert_float_equal(prom_hist_quantile(&b, &a, 0.999), 50.0, 1e-9); /* in +Inf: the last bound */
    assert_true(isnan(prom_hist_quantile(&a, &a, 0.5)));                /* nothing in between */
    assert_true(isnan(prom_hist_quantile(&b, &a, 1.0)));
}

static void test_refuses_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        NAME "_bucket{le=\"20\"} 5\n" NAME "_bucket{le=\"10\"} 6\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"10\"} 6\n" NAME "_bucket{le=\"20\"} 5\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"10\"} 6\n",                                   /* no +Inf */
        NAME "_bucket{le=\"10\"} -1\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"10\"} nan\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"x\"} 1\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"10\",a=\"b\"} 1\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_bucket{le=\"10\"} 1 junk\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_count 1e400\n" NAME "_bucket{le=\"+Inf\"} 6\n",
        NAME "_sum 5\n",                                                  /* no buckets */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prom_hist h;
        assert_int_equal(prom_hist_parse(bad[i], NAME, &h), BBT_EINVAL);
    }
}

static void test_too_many_buckets(void **state)
{
    (void)state;
    static char text[PROMHIST_MAX * 64 + 128];
    size_t n = 0;
    for (int i = 1; i <= PROMHIST_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, NAME "_bucket{le=\"%d\"} %d\n", i, i);
    snprintf(text + n, sizeof text - n, NAME "_bucket{le=\"+Inf\"} 999\n");
    prom_hist h;
    assert_int_equal(prom_hist_parse(text, NAME, &h), BBT_EINVAL);
}

static void test_different_bounds_have_no_quantile(void **state)
{
    (void)state;
    prom_hist a, b;
    assert_int_equal(prom_hist_parse(page1, NAME, &b), BBT_OK);
    assert_int_equal(prom_hist_parse(NAME "_bucket{le=\"5\"} 0\n" NAME "_bucket{le=\"+Inf\"} 0\n",
                                     NAME, &a), BBT_OK);
    assert_true(prom_hist_observed(&b, &a) < 0);
    assert_true(isnan(prom_hist_quantile(&b, &a, 0.5)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_the_relay_page),
        cmocka_unit_test(test_quantiles_over_the_interval),
        cmocka_unit_test(test_refuses_malformed),
        cmocka_unit_test(test_too_many_buckets),
        cmocka_unit_test(test_different_bounds_have_no_quantile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
