/* tests/bench/promhist.h — one histogram out of a Prometheus text page (the relay's /metrics),
 * and its quantiles over an interval. Pure: no I/O, no allocation, no global state.
 *
 * Why: the relay measures the latency it adds itself — bbt_queue_delay_ms, the time from a
 * frame's arrival at the relay to its write into the viewer's socket — while `bbt-bench
 * fanout`'s own end-to-end figure also holds the bench's loop on the same two cores. The bench
 * reads the histogram at the start and the end of its measured interval and reports the
 * difference's quantiles (relay_queue_delay_ms), Prometheus-style: linear within the bucket. */
#ifndef BBT_PROMHIST_H
#define BBT_PROMHIST_H

#include <stddef.h>
#include <stdint.h>

#define PROMHIST_MAX 64

typedef struct prom_hist {
    size_t n;                  /* buckets found, the last is +Inf */
    double le[PROMHIST_MAX];   /* upper bounds, increasing; +Inf as INFINITY */
    double cum[PROMHIST_MAX];  /* cumulative counts */
    double sum, count;         /* NAN when absent */
} prom_hist;

/* Parse `name`_bucket{le="…"} lines (no other labels), `name`_sum and `name`_count out of
 * text (NUL-terminated). BBT_OK; BBT_ENOTFOUND when the histogram is not there; BBT_EINVAL when
 * it is malformed (bounds not increasing, counts decreasing, more than PROMHIST_MAX buckets, no
 * +Inf bucket, a count that is not a finite number ≥ 0). */
int prom_hist_parse(const char *text, const char *name, prom_hist *out);

/* The q-quantile (0 < q < 1) of the observations between `before` and `after` (same bounds):
 * linear within the bucket that holds it, from 0 for the first; the last finite bound when it
 * falls in +Inf. NAN with no observations in between or bounds that differ. */
double prom_hist_quantile(const prom_hist *after, const prom_hist *before, double q);

/* Observations between the two (after.count − before.count), or −1 when unknown. */
double prom_hist_observed(const prom_hist *after, const prom_hist *before);

#endif
