/* tests/bench/report.h — the figures of one bbt-bench run and their output (JSON or text).
 *
 * bench_result is a plain struct the caller owns (no allocation inside). result_collect() folds
 * the viewers' counters into it after the run; result_print() writes one JSON object (--json) or
 * a readable summary on stdout and returns the process exit status (0 pass, 1 fail). */
#ifndef BBT_BENCH_REPORT_H
#define BBT_BENCH_REPORT_H

#include "bench.h"
#include "promhist.h"

/* The relay's latency histograms (docs/METRICS.md), as read from its /metrics page. */
typedef struct relay_hists {
    prom_hist queue;  /* bbt_queue_delay_ms: the wait in a viewer's queue */
    prom_hist age;    /* bbt_frame_age_ms: capture → written (the bench's publisher stamps
                       * frames as it sends: all the latency the relay adds) */
    prom_hist ingest; /* bbt_ingest_age_ms: capture → read from the publisher */
} relay_hists;

typedef struct bench_result {
    proc_sample relay0, relay1;   /* relay CPU and RSS at start and end of the interval */
    double bench_cpu0, bench_cpu1;
    machine_sample machine0, machine1; /* the whole machine's CPU time */
    double seconds;               /* measured interval, actual */
    long rss_before_kb, rss_after_kb; /* idle: before any viewer, after all subscribed */
    long rss_samples_kb[BENCH_MAX_RSS_SAMPLES];
    int nrss;
    int viewers_connected;        /* subscribed at some point */
    uint64_t frames_expected, frames_received, frames_lost, frames_gaps, out_of_order,
        before_key, tracks_without_frames;
    uint64_t bytes_received;
    /* the relay's own histograms at the start and the end of the interval (plain ws:// only;
     * relay_hist_ok false when a page could not be read) */
    relay_hists h0, h1;
    bool relay_hist_ok;
} bench_result;

void result_init(bench_result *r);
void add_rss_sample(bench_result *r, long rss_kb);
void result_collect(const bench *b, bench_result *r);
int result_print(const bench *b, const bench_result *r);

#endif
