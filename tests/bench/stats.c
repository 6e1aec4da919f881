/* tests/bench/stats.c — fixed-bucket latency histogram (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS (BENCH_HIST_MAX_US / BENCH_HIST_BUCKET_US) /* + 1 overflow bucket */

struct bench_hist {
    uint64_t n;
    int64_t max_us;
    double sum_us;
    uint64_t bucket[NBUCKETS + 1];
};

bench_hist *bench_hist_new(void)
{
    return calloc(1, sizeof(bench_hist));
}

void bench_hist_free(bench_hist *h)
{
    free(h);
}

void bench_hist_reset(bench_hist *h)
{
    memset(h, 0, sizeof *h);
}

void bench_hist_add(bench_hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    size_t b = us >= BENCH_HIST_MAX_US ? NBUCKETS : (size_t)(us / BENCH_HIST_BUCKET_US);
    h->bucket[b]++;
    h->n++;
    h->sum_us += (double)us;
    if (us > h->max_us)
        h->max_us = us;
}

uint64_t bench_hist_count(const bench_hist *h)
{
    return h->n;
}

int64_t bench_hist_max_us(const bench_hist *h)
{
    return h->max_us;
}

double bench_hist_mean_us(const bench_hist *h)
{
    return h->n ? h->sum_us / (double)h->n : 0.0;
}

int64_t bench_hist_quantile_us(const bench_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    if (q > 1.0)
        q = 1.0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->n);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank) {
            int64_t edge = b == NBUCKETS ? h->max_us : (int64_t)(b + 1) * BENCH_HIST_BUCKET_US;
            return edge < h->max_us ? edge : h->max_us;
        }
    }
    return h->max_us;
}
