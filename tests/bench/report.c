/* tests/bench/report.c — counting a run's frames and printing its figures (see report.h). */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void result_init(bench_result *r)
{
    memset(r, 0, sizeof *r);
    r->relay0 = r->relay1 = (proc_sample){-1, -1};
    r->rss_before_kb = r->rss_after_kb = -1;
}

void add_rss_sample(bench_result *r, long rss_kb)
{
    if (r->nrss < BENCH_MAX_RSS_SAMPLES)
        r->rss_samples_kb[r->nrss++] = rss_kb;
}

/* Per viewer and track: expected = frames the publisher sent from the viewer's first frame on
 * (its baseline) to the end; lost = expected − received. A track the viewer asked for and never
 * got a frame of is counted apart (its expected count is unknown). */
void result_collect(const bench *b, bench_result *r)
{
    const publisher *p = &b->pub;
    for (int i = 0; i < b->o.viewers; i++) {
        const viewer *v = &b->v[i];
        if (v->state != V_SUBSCRIBED && !v->dropped)
            continue;
        r->viewers_connected++;
        r->bytes_received += v->bytes;
        r->frames_gaps += v->lost;
        r->out_of_order += v->out_of_order;
        r->before_key += v->before_key;
        for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
            if (!(b->want_tracks >> t & 1u))
                continue;
            if (!(v->started >> t & 1u)) {
                r->tracks_without_frames += p->frames_sent > 0;
                continue;
            }
            uint64_t expected = (uint32_t)(p->seq[t] - v->base_seq[t]);
            r->frames_expected += expected;
            r->frames_received += v->got[t];
            if (expected > v->got[t])
                r->frames_lost += expected - v->got[t];
        }
    }
}

static double stream_kbps(const bench *b)
{
    const bbt_recording *rec = &b->rec;
    uint64_t bytes = 0;
    for (size_t i = 0; i < rec->nframes; i++)
        if (b->want_tracks >> rec->frames[i].track & 1u)
            bytes += rec->frames[i].wire_len;
    double s = (double)(rec->last_us - rec->first_us) / 1e6;
    return s > 0 ? (double)bytes * 8.0 / s / 1000.0 : 0.0;
}

static bool passed(const bench *b, const bench_result *r)
{
    if (r->viewers_connected < b->o.viewers || b->c.dropped || b->pub.failed)
        return false;
    if (b->o.allow_loss)
        return true;
    return r->frames_lost == 0 && r->out_of_order == 0 && r->tracks_without_frames == 0 &&
           b->c.bad_frames == 0 && b->c.unexpected == 0;
}

static json_t *latency_json(const bench *b)
{
    const bench_hist *h = b->lat;
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "p50",
                     bench_hist_quantile_us(h, 0.50) / 1000.0, "p95",
                     bench_hist_quantile_us(h, 0.95) / 1000.0, "p99",
                     bench_hist_quantile_us(h, 0.99) / 1000.0, "p999",
                     bench_hist_quantile_us(h, 0.999) / 1000.0, "max",
                     bench_hist_max_us(h) / 1000.0, "mean", bench_hist_mean_us(h) / 1000.0,
                     "samples", (json_int_t)bench_hist_count(h));
}

/* Quantiles of one of the relay's histograms over the measured interval (linear within its
 * 5 ms buckets), or null when it could not be read. */
static json_t *relay_hist_json(const bench_result *r, const prom_hist *h0, const prom_hist *h1)
{
    double n = r->relay_hist_ok ? prom_hist_observed(h1, h0) : -1;
    if (n <= 0)
        return json_null();
    double mean = (h1->sum - h0->sum) / n;
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:I}", "p50", prom_hist_quantile(h1, h0, 0.50),
                     "p95", prom_hist_quantile(h1, h0, 0.95), "p99",
                     prom_hist_quantile(h1, h0, 0.99), "p999", prom_hist_quantile(h1, h0, 0.999),
                     "mean", isfinite(mean) ? mean : -1.0, "frames", (json_int_t)n);
}

/* A per-second figure, or null when there was no measured interval. */
static json_t *rate(double v, double seconds)
{
    return seconds >= 0.5 && v >= 0 ? json_real(v / seconds) : json_null();
}

static json_t *common_json(const bench *b, const bench_result *r)
{
    double relay_cpu = r->relay1.cpu_s >= 0 && r->relay0.cpu_s >= 0 ? r->relay1.cpu_s - r->relay0.cpu_s : -1;
    double bench_cpu = r->bench_cpu1 - r->bench_cpu0;
    bool timed = r->seconds >= 0.5;
    json_t *rss = json_array();
    for (int i = 0; i < r->nrss; i++)
        json_array_append_new(rss, json_integer(r->rss_samples_kb[i]));
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:o, s:I, s:I, s:f, s:o, s:o, s:b}",
        "mode", b->o.mode, "relay", b->host, "relay_port", b->port, "viewers_requested",
        b->o.viewers, "viewers_connected", r->viewers_connected, "connect_failures", b->c.failed,
        "viewers_dropped", b->c.dropped, "seconds", r->seconds, "rss_samples_kb", rss,
        "relay_rss_kb", (json_int_t)r->relay1.rss_kb, "relay_rss_start_kb",
        (json_int_t)r->relay0.rss_kb, "bench_cpu_seconds", bench_cpu, "bench_cpu_percent",
        rate(100.0 * bench_cpu, r->seconds), "relay_cpu_percent",
        rate(relay_cpu >= 0 ? 100.0 * relay_cpu : -1, r->seconds), "bench_saturated",
        timed && bench_cpu / r->seconds > 0.9);
    if (!o)
        return NULL;
    json_object_set_new(o, "relay_cpu_seconds", relay_cpu >= 0 ? json_real(relay_cpu) : json_null());
    json_object_set_new(o, "viewers_per_relay_core",
                        timed && relay_cpu > 0
                            ? json_real(r->viewers_connected / (relay_cpu / r->seconds))
                            : json_null());
    /* Whatever else ran on the machine meanwhile (other than the relay and the bench): the
     * figures are only comparable when this is near 0. */
    const machine_sample *m0 = &r->machine0, *m1 = &r->machine1;
    double other = m1->task_s - m0->task_s - bench_cpu - (relay_cpu > 0 ? relay_cpu : 0);
    bool have = timed && m0->task_s >= 0;
    double other_pct = have ? 100.0 * (other > 0 ? other : 0) / r->seconds : -1;
    json_object_set_new(o, "other_cpu_percent", have ? json_real(other_pct) : json_null());
    json_object_set_new(o, "irq_cpu_percent",
                        have ? json_real(100.0 * (m1->irq_s - m0->irq_s) / r->seconds) : json_null());
    json_object_set_new(o, "steal_cpu_percent",
                        have ? json_real(100.0 * (m1->steal_s - m0->steal_s) / r->seconds)
                             : json_null());
    if (other_pct > 10)
        fprintf(stderr, "bbt-bench: warning: other processes used %.0f%% of a CPU during the "
                        "measurement; the figures are not comparable\n", other_pct);
    /* The relay's core, everything on it: on loopback the TCP receive path of the viewers'
     * sockets runs in softirq on the sending (relay) core, outside the relay's own CPU time. */
    bool core = have && b->o.relay_cpu >= 0;
    json_object_set_new(o, "relay_core", core ? json_integer(b->o.relay_cpu) : json_null());
    json_object_set_new(o, "relay_core_busy_percent",
                        core ? json_real(100.0 * (m1->core_busy_s - m0->core_busy_s) / r->seconds)
                             : json_null());
    json_object_set_new(o, "relay_core_irq_percent",
                        core ? json_real(100.0 * (m1->core_irq_s - m0->core_irq_s) / r->seconds)
                             : json_null());
    /* Conservative: everything the relay's core did (its own CPU, the softirq work its sends
     * trigger, and whatever else ran there) counted against the relay. */
    double core_busy = core ? (m1->core_busy_s - m0->core_busy_s) / r->seconds : 0;
    json_object_set_new(o, "viewers_per_relay_core_busy",
                        core_busy > 0.01 ? json_real(r->viewers_connected / core_busy)
                                         : json_null());
    /* connected but never answered with tracks (handshake or subscribe still pending) */
    int unanswered = b->o.viewers - r->viewers_connected - b->c.failed;
    json_object_set_new(o, "viewers_unanswered", json_integer(unanswered > 0 ? unanswered : 0));
    json_object_set_new(o, "ok", json_boolean(passed(b, r)));
    return o;
}

static json_t *fanout_json(const bench *b, const bench_result *r)
{
    json_t *o = common_json(b, r);
    if (!o)
        return NULL;
    const publisher *p = &b->pub;
    json_t *more = json_pack(
        "{s:s, s:s, s:i, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:I,"
        " s:{s:I, s:I, s:I, s:I}}",
        "client", b->o.raw_client ? "raw" : "lws", "loop", b->o.use_ev ? "ev" : "poll", "layer", b->o.layer, "session", b->o.session, "stream_kbps_per_viewer", stream_kbps(b),
        "frames_expected", (json_int_t)r->frames_expected, "frames_received",
        (json_int_t)r->frames_received, "frames_lost", (json_int_t)r->frames_lost,
        "frames_in_gaps", (json_int_t)r->frames_gaps, "frames_out_of_order",
        (json_int_t)r->out_of_order, "frames_before_keyframe", (json_int_t)r->before_key,
        "tracks_without_frames", (json_int_t)r->tracks_without_frames, "bad_frames",
        (json_int_t)b->c.bad_frames, "unexpected_frames", (json_int_t)b->c.unexpected,
        "latency_ms", latency_json(b), "egress_mbps",
        r->seconds > 0 ? (double)b->bytes_measured * 8.0 / r->seconds / 1e6 : 0.0,
        "keyframe_requests", (json_int_t)p->keyframe_requests, "publisher", "frames_sent",
        (json_int_t)p->frames_sent, "bytes_sent", (json_int_t)p->bytes_sent, "loops",
        (json_int_t)p->loops, "late_frames", (json_int_t)p->late_frames);
    json_object_update(o, more);
    json_decref(more);
    /* The latency the relay adds, as it measures it: a frame's age when written to a viewer
     * (the publisher stamps it as it sends: reading it, the fan-out, the viewer's queue), and
     * two parts of it: the age when read from the publisher, and the wait in the queue.
     * latency_ms above also holds the sockets and the bench's loop. */
    json_object_set_new(o, "relay_latency_ms", relay_hist_json(r, &r->h0.age, &r->h1.age));
    json_object_set_new(o, "relay_ingest_ms", relay_hist_json(r, &r->h0.ingest, &r->h1.ingest));
    json_object_set_new(o, "relay_queue_delay_ms",
                        relay_hist_json(r, &r->h0.queue, &r->h1.queue));
    json_object_set_new(o, "error_messages", json_integer((json_int_t)b->c.errors));
    /* viewers_per_relay_core is a capacity only when this is 100: an overloaded relay spends its
     * CPU on fewer frames than were asked of it */
    json_object_set_new(o, "frames_delivered_percent",
                        r->frames_expected ? json_real(100.0 * (double)r->frames_received /
                                                       (double)r->frames_expected)
                                           : json_null());
    return o;
}

static json_t *idle_json(const bench *b, const bench_result *r)
{
    json_t *o = common_json(b, r);
    if (!o)
        return NULL;
    long grown = r->rss_after_kb - r->rss_before_kb;
    json_object_set_new(o, "relay_rss_before_kb", json_integer(r->rss_before_kb));
    json_object_set_new(o, "relay_rss_after_kb", json_integer(r->rss_after_kb));
    json_object_set_new(o, "rss_per_viewer_kb",
                        r->viewers_connected ? json_real((double)grown / r->viewers_connected)
                                             : json_null());
    json_object_set_new(o, "error_messages", json_integer((json_int_t)b->c.errors));
    return o;
}

static void print_text(const json_t *o)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        printf("  %-24s %s\n", key, s ? s : "?");
        free(s);
    }
}

int result_print(const bench *b, const bench_result *r)
{
    json_t *o = strcmp(b->o.mode, "fanout") == 0 ? fanout_json(b, r) : idle_json(b, r);
    if (!o) {
        fprintf(stderr, "bbt-bench: out of memory\n");
        return 2;
    }
    if (b->o.json) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        printf("bbt-bench %s: %s\n", b->o.mode, passed(b, r) ? "PASS" : "FAIL");
        print_text(o);
    }
    fflush(stdout);
    json_decref(o);
    return passed(b, r) ? 0 : 1;
}
