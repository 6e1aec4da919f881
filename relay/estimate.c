/* relay/estimate.c — a viewer's link measured from what its socket drains (see estimate.h). */
#include "estimate.h"

#include <string.h>

#define EWMA_NEW 0.3 /* weight of a new sample: follows a cliff within a few samples */

void bbt_estimate_init(bbt_estimate *e)
{
    memset(e, 0, sizeof *e);
    e->report_bytes = -1;
    e->window_min = 1;
}

int bbt_estimate_unsent_cap(const bbt_estimate *e)
{
    if (e->delivered_bps <= 0)
        return BBT_ESTIMATE_UNSENT_MAX;
    double want = e->delivered_bps / 8.0 * (double)BBT_ESTIMATE_UNSENT_US / 1e6;
    int cap = BBT_ESTIMATE_UNSENT_MIN;
    while (cap < BBT_ESTIMATE_UNSENT_MAX && (double)cap * 2 <= want)
        cap *= 2;
    return cap;
}

static double ewma(double old, double sample)
{
    return old <= 0 ? sample : old * (1 - EWMA_NEW) + sample * EWMA_NEW;
}

/* One backlogged interval into the window; the window's rate is the capacity (the window is
 * the smoothing: it follows a cliff as fast as the EWMA of single intervals did), unless the
 * whole window delivered nothing (a stall says nothing of the rate: no sample) or the stretch
 * has fewer than window_min intervals yet. */
static void capacity_sample(bbt_estimate *e, int64_t now, int64_t delivered, int64_t dt)
{
    if (e->win_n == BBT_ESTIMATE_WINDOW) { /* the oldest interval leaves */
        size_t keep = BBT_ESTIMATE_WINDOW - 1;
        memmove(e->win_bytes, e->win_bytes + 1, keep * sizeof e->win_bytes[0]);
        memmove(e->win_us, e->win_us + 1, keep * sizeof e->win_us[0]);
        e->win_n--;
    }
    e->win_bytes[e->win_n] = delivered;
    e->win_us[e->win_n++] = dt;
    int64_t bytes = 0, us = 0;
    for (int i = 0; i < e->win_n; i++) {
        bytes += e->win_bytes[i];
        us += e->win_us[i];
    }
    if (bytes <= 0 || e->win_n < e->window_min)
        return;
    e->capacity_bps = (double)bytes * 8.0 * 1e6 / (double)us;
    e->capacity_at_us = now;
}

void bbt_estimate_sample(bbt_estimate *e, int64_t now, uint64_t sent, int64_t outq,
                         int64_t queue_delay)
{
    if (outq < 0)
        outq = 0;
    if (e->last_us == 0) {
        e->last_us = now;
        e->last_sent = sent;
        e->last_outq = outq;
        e->last_queue_delay = queue_delay;
        e->delay_us = queue_delay;
        return;
    }
    int64_t dt = now - e->last_us;
    if (dt < BBT_ESTIMATE_MIN_INTERVAL_US)
        return;
    int64_t delivered = (int64_t)(sent - e->last_sent) - (outq - e->last_outq);
    if (delivered < 0)
        delivered = 0;
    double rate = (double)delivered * 8.0 * 1e6 / (double)dt;
    e->delivered_bps = ewma(e->delivered_bps, rate);
    int backlogged = e->last_queue_delay >= BBT_ESTIMATE_BACKLOG_US &&
                     queue_delay >= BBT_ESTIMATE_BACKLOG_US;
    if (backlogged)
        capacity_sample(e, now, delivered, dt);
    else
        e->win_n = 0; /* the stretch is over: the next one starts afresh */
    e->delay_us = queue_delay;
    e->last_us = now;
    e->last_sent = sent;
    e->last_outq = outq;
    e->last_queue_delay = queue_delay;
}

void bbt_estimate_report(bbt_estimate *e, int64_t now, double latency_p50_ms, int64_t bytes)
{
    if (bytes >= 0) {
        int64_t dt = now - e->report_bytes_at_us;
        if (e->report_bytes >= 0 && bytes >= e->report_bytes && dt >= BBT_ESTIMATE_MIN_INTERVAL_US)
            e->report_bps = ewma(e->report_bps,
                                 (double)(bytes - e->report_bytes) * 8.0 * 1e6 / (double)dt);
        e->report_bytes = bytes;
        e->report_bytes_at_us = now;
    }
    if (latency_p50_ms < 0)
        return;
    int64_t lat = (int64_t)(latency_p50_ms * 1000.0);
    int64_t risen = e->lat_base_us + BBT_ESTIMATE_BASE_RISE_US; /* the best creeps up ... */
    e->lat_base_us = e->report_at_us == 0 || lat < risen ? lat : risen; /* ... never past lat */
    int64_t excess = lat - e->lat_base_us - BBT_ESTIMATE_REPORT_SLACK_US;
    e->report_excess_us = excess > 0 ? excess : 0;
    e->report_at_us = now;
}

void bbt_estimate_rtt(bbt_estimate *e, int64_t srtt_us, int64_t min_rtt_us)
{
    e->net_queue_us = srtt_us >= 0 && min_rtt_us >= 0 && srtt_us > min_rtt_us
                          ? srtt_us - min_rtt_us : 0;
}

void bbt_estimate_tcp_rate(bbt_estimate *e, int64_t now, int64_t delivery_bps, bool app_limited)
{
    if (app_limited || delivery_bps <= 0)
        return;
    e->tcp_bps = ewma(e->tcp_bps, (double)delivery_bps);
    e->tcp_at_us = now;
}

int64_t bbt_estimate_delay(const bbt_estimate *e, int64_t now, bool with_report)
{
    int64_t d = e->delay_us > e->net_queue_us ? e->delay_us : e->net_queue_us;
    if (with_report && e->report_at_us && now - e->report_at_us <= BBT_ESTIMATE_REPORT_TTL_US &&
        e->report_excess_us > d)
        return e->report_excess_us;
    return d;
}

void bbt_estimate_acks(bbt_estimate *e, int64_t now, uint64_t acked, int64_t unacked, int64_t srtt)
{
    if (!e->acked_at_us || unacked <= 0 || acked != e->acked) { /* the clock (re)starts */
        e->acked = acked;
        e->acked_at_us = unacked > 0 ? now : 0;
        e->stuck = false;
        return;
    }
    int64_t limit = srtt > 0 ? srtt * BBT_ESTIMATE_STUCK_RTTS : 0;
    if (limit < BBT_ESTIMATE_STUCK_US)
        limit = BBT_ESTIMATE_STUCK_US;
    e->stuck = now - e->acked_at_us >= limit;
}
