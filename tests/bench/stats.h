/* tests/bench/stats.h — a latency histogram: fixed 0.1 ms buckets from 0 to 10 s, plus one
 * overflow bucket and the exact maximum, so percentiles are exact to 0.1 ms below 10 s whatever
 * the number of samples (no sampling, constant memory: ~800 KB per histogram).
 *
 * Ownership: bench_hist_new() returns a histogram the caller frees with bench_hist_free().
 * Single-threaded; no global state. */
#ifndef BBT_BENCH_STATS_H
#define BBT_BENCH_STATS_H

#include <stdint.h>

#define BENCH_HIST_BUCKET_US 100
#define BENCH_HIST_MAX_US 10000000 /* values at or above go to the overflow bucket */

typedef struct bench_hist bench_hist;

/* NULL when out of memory. */
bench_hist *bench_hist_new(void);
void bench_hist_free(bench_hist *h);
void bench_hist_reset(bench_hist *h);

/* Record one value in µs; negative values (clock skew) count as 0. */
void bench_hist_add(bench_hist *h, int64_t us);

uint64_t bench_hist_count(const bench_hist *h);
/* Largest value recorded, µs (0 when empty). */
int64_t bench_hist_max_us(const bench_hist *h);
/* Mean, µs (0 when empty). */
double bench_hist_mean_us(const bench_hist *h);
/* The q-quantile (0 < q ≤ 1) in µs: the upper edge of the bucket holding the ceil(q·n)-th
 * smallest value (so a reported p99 is never below the true p99), capped at the maximum; 0 when
 * empty. */
int64_t bench_hist_quantile_us(const bench_hist *h, double q);

#endif
