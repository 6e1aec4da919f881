/* node/stats.h — latency percentiles for the node's figures: capture-to-send at the uplink
 * (--stats) and capture-to-decode in the play role (report.latency_ms).
 *
 * A histogram of 0.1 ms buckets up to 10 s (values above land in the last bucket, the maximum
 * is kept exactly). Plain data, no locking: the owner serialises access. */
#ifndef BBT_NODE_STATS_H
#define BBT_NODE_STATS_H

#include <stdint.h>

#define BBT_LAT_BUCKETS 100000 /* 0.1 ms each: 0 .. 10 s */

typedef struct bbt_latency {
    uint64_t count;
    double max_ms;
    uint32_t *bucket; /* BBT_LAT_BUCKETS counters, owned */
} bbt_latency;

/* BBT_OK or BBT_ENOMEM. */
int bbt_latency_init(bbt_latency *l);
void bbt_latency_reset(bbt_latency *l);
void bbt_latency_clear(bbt_latency *l); /* frees the buckets */
void bbt_latency_add(bbt_latency *l, double ms); /* negative values count as 0 */
/* The p-th percentile (0 < p <= 100) in ms, to 0.1 ms; 0 when empty. */
double bbt_latency_percentile(const bbt_latency *l, double p);

#endif
