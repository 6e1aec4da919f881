/* node/stats.c — latency histogram (see stats.h). */
#include "node/stats.h"

#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

int bbt_latency_init(bbt_latency *l)
{
    memset(l, 0, sizeof *l);
    l->bucket = calloc(BBT_LAT_BUCKETS, sizeof *l->bucket);
    return l->bucket ? BBT_OK : BBT_ENOMEM;
}

void bbt_latency_reset(bbt_latency *l)
{
    if (l->count)
        memset(l->bucket, 0, BBT_LAT_BUCKETS * sizeof *l->bucket);
    l->count = 0;
    l->max_ms = 0;
}

void bbt_latency_clear(bbt_latency *l)
{
    free(l->bucket);
    memset(l, 0, sizeof *l);
}

void bbt_latency_add(bbt_latency *l, double ms)
{
    if (!l->bucket)
        return;
    if (ms < 0)
        ms = 0;
    long b = (long)(ms * 10.0);
    if (b >= BBT_LAT_BUCKETS)
        b = BBT_LAT_BUCKETS - 1;
    l->bucket[b]++;
    l->count++;
    if (ms > l->max_ms)
        l->max_ms = ms;
}

double bbt_latency_percentile(const bbt_latency *l, double p)
{
    if (!l->count || !l->bucket)
        return 0;
    uint64_t rank = (uint64_t)((double)l->count * p / 100.0 + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (long b = 0; b < BBT_LAT_BUCKETS; b++) {
        seen += l->bucket[b];
        if (seen >= rank) {
            if (b == BBT_LAT_BUCKETS - 1)
                return l->max_ms; /* the overflow bucket */
            double v = (double)b / 10.0;
            return v > l->max_ms ? l->max_ms : v;
        }
    }
    return l->max_ms;
}
