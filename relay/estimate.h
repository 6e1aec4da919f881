/* relay/estimate.h — one viewer's link, measured from what its socket actually drains.
 *
 * Fed every tick (a few times a second) with three readings the server takes:
 *   sent_total  bytes handed to the socket so far (lws_write of media and control);
 *   outq        bytes the kernel still holds for the peer: not yet acknowledged (SIOCOUTQ);
 *   queue_delay how long the oldest frame has waited in the relay's queue for this viewer.
 * Bytes delivered in an interval = sent − (outq_now − outq_before). While the viewer is
 * backlogged (its queue waited at least backlog_us at both ends of the interval, so the socket
 * was never idle), what it delivered is what the link carried: capacity_bps is the rate over the
 * last second of such intervals in a row (BBT_ESTIMATE_WINDOW), those that delivered nothing
 * counted too, with the time of the last one, so a capacity goes stale when the link stops
 * being the bottleneck. The congestion signal is the queue delay: the server caps the
 * kernel's unsent data per viewer (TCP_NOTSENT_LOWAT), so a backlog builds in the relay's queue,
 * where it is visible and where the drop policy can act, rather than in the kernel. Bytes in
 * flight (sent, not yet acknowledged) are TCP's business.
 * The viewer's report (once a second, docs/PROTOCOL.md `report`) adds what the socket cannot
 * show: the median latency of its last second (capture → arrival). Beyond the best median it
 * has reported, less BBT_ESTIMATE_REPORT_SLACK_US of jitter allowance, that is data waiting in
 * the network (a bottleneck queue that TCP's congestion control keeps full — with BBR on an
 * ACK-compressing link, most of a second while a probe overloads it, docs/PERFORMANCE.md
 * "Rural links"), which the relay's queue does not see until the socket stops taking data.
 * TCP's own round-trip times say the same sooner (srtt − min_rtt: what a bottleneck queue holds,
 * smoothed over a few round trips; bbt_estimate_rtt, every tick).
 * bbt_estimate_delay() is the largest of the three (the report only while fresh). The report's byte
 * count gives the rate the viewer actually received (report_bps, for /metrics).
 * Pure: no I/O; the caller passes the readings and the time.
 */
#ifndef BBT_ESTIMATE_H
#define BBT_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

/* A capacity sample is the rate over the last (up to) this many backlogged intervals of one
 * stretch, those that delivered nothing included: on a lossy link TCP delivers nothing while
 * it recovers a loss, then the held bytes at once when the hole is filled, and the burst
 * interval alone read 305-722 kbit/s on a 300 kbit/s link (flaky-3g), which kept a layer there
 * that the link could not carry beside the audio copy. 4 ticks of 250 ms: a second. */
#define BBT_ESTIMATE_WINDOW 4
/* ... and on a far lossy link no sample before a stretch has this many (window_min below):
 * there a loss's recovery takes a round trip of 100 ms or more, and one interval alone is a
 * stall or a burst — a quarter second of TCP recovering a loss read 9 kbit/s on flaky-3g's
 * 300 kbit/s, the audio copies' room was judged on it, and the second copy was ended. Other
 * links give one from the first interval (the cliff's fall is measured, and followed, a quarter
 * second sooner; on every link that retransmitted, e2e/poornet's 48 kbit/s step failed 2 CI
 * runs of 5, where it had passed 11 before). */
#define BBT_ESTIMATE_WINDOW_LOSSY 2

typedef struct bbt_estimate {
    int64_t last_us;          /* time of the previous sample, 0 before the first */
    uint64_t last_sent;
    int64_t last_outq;
    int64_t last_queue_delay;
    double delivered_bps;     /* smoothed delivery rate, whatever limited it */
    double capacity_bps;      /* rate while backlogged (the window's), 0: never measured */
    int64_t capacity_at_us;   /* when capacity was last measured */
    /* the backlogged stretch going on: its last BBT_ESTIMATE_WINDOW intervals (ring) */
    int64_t win_bytes[BBT_ESTIMATE_WINDOW];
    int64_t win_us[BBT_ESTIMATE_WINDOW];
    int win_n;
    int window_min;           /* the caller's: intervals a stretch needs before it gives a
                               * capacity (1 from init; BBT_ESTIMATE_WINDOW_LOSSY on a far
                               * lossy link) */
    int64_t delay_us;         /* congestion signal of the last sample */
    int unsent_cap;           /* the caller's: the kernel unsent cap now in force (0: none) */
    /* from the viewer's reports */
    int64_t report_at_us;     /* time of the last report with a latency, 0: none */
    int64_t lat_base_us;      /* best median latency reported (rises slowly, see .c) */
    int64_t report_excess_us; /* the last median beyond lat_base_us, less the slack, ≥ 0 */
    int64_t report_bytes;     /* bytes the viewer said it had received, -1: none yet */
    int64_t report_bytes_at_us;
    double report_bps;        /* smoothed rate the viewer received, 0: not known */
    int64_t net_queue_us;     /* TCP: srtt − min_rtt at the last tick, 0: not known */
    double tcp_bps;           /* TCP: smoothed delivery rate while not app-limited, 0: none */
    int64_t tcp_at_us;        /* ... and the time of its last sample */
    /* TCP's acknowledgements (bbt_estimate_acks) */
    uint64_t acked;           /* bytes acknowledged at the last tick */
    int64_t acked_at_us;      /* since when they have not moved with bytes in flight (the
                               * first tick that saw them so), 0: nothing in flight */
    bool stuck;               /* nothing acknowledged for too long with bytes in flight */
} bbt_estimate;

/* An interval shorter than this is ignored (too noisy); 100 ms. */
#define BBT_ESTIMATE_MIN_INTERVAL_US 100000
/* Backlogged means the relay queue held data at least this long; 50 ms. */
#define BBT_ESTIMATE_BACKLOG_US 50000

/* The kernel's unsent backlog per viewer (TCP_NOTSENT_LOWAT) should hold about
 * BBT_ESTIMATE_UNSENT_US of what the link delivers: that queue is invisible to the delay signal
 * and out of reach of the drop policy, and what sits there when the viewer switches down still
 * has to cross the link before the new layer's keyframe. A fixed 32 KiB was 650 ms of pictures
 * at 400 kbit/s (bbt-bench rural, docs/PERFORMANCE.md "Rural links"). */
#define BBT_ESTIMATE_UNSENT_US 100000
#define BBT_ESTIMATE_UNSENT_MIN 4096
#define BBT_ESTIMATE_UNSENT_MAX 32768

void bbt_estimate_init(bbt_estimate *e);

/* The unsent cap for the delivered rate: BBT_ESTIMATE_UNSENT_US of it, rounded down to a power
 * of two (so it changes rarely) within MIN..MAX bytes; MAX while the rate is not known. */
int bbt_estimate_unsent_cap(const bbt_estimate *e);

/* Jitter allowance of the report signal; a report older than BBT_ESTIMATE_REPORT_TTL_US is
 * not used; the best latency rises by BBT_ESTIMATE_BASE_RISE_US a report, so a route that gets
 * slower for good stops counting as congestion within minutes. */
#define BBT_ESTIMATE_REPORT_SLACK_US 50000
#define BBT_ESTIMATE_REPORT_TTL_US 2500000
#define BBT_ESTIMATE_BASE_RISE_US 500

/* A viewer's report: its median latency over the last second in ms (< 0: absent) and the
 * bytes it has received so far (< 0: absent). */
void bbt_estimate_report(bbt_estimate *e, int64_t now_us, double latency_p50_ms, int64_t bytes);

/* TCP's smoothed and minimum round-trip times (µs), each tick; < 0: not known. */
void bbt_estimate_rtt(bbt_estimate *e, int64_t srtt_us, int64_t min_rtt_us);

/* TCP's latest delivery-rate sample (bits/s) at now_us, each tick. One taken while the relay
 * kept the connection busy (not app-limited) is what the link carried, smoothed into tcp_bps.
 * It comes with keyframes that fill the socket also on a level that fits, so it is known
 * between congestion episodes: adaptation uses it to skip probes it rules out (adsl-1m: no
 * failed 720p probes on a 1 Mbit/s link). Not for moving down: after a fall it lags (the cliff
 * went 720p → 360p → 180p instead of straight to 180p). App-limited samples are ignored. */
void bbt_estimate_tcp_rate(bbt_estimate *e, int64_t now_us, int64_t delivery_bps,
                           bool app_limited);

/* The congestion signal: the largest of the relay queue's delay of the last sample, the
 * network queue TCP measures, and — with_report — the report's excess while the report is
 * fresh. */
int64_t bbt_estimate_delay(const bbt_estimate *e, int64_t now_us, bool with_report);

/* Stuck: bytes in flight and none acknowledged for at least the larger of this and
 * BBT_ESTIMATE_STUCK_RTTS round trips (srtt). TCP delivers in order, so what the relay writes
 * behind a lost segment reaches the viewer only once that segment is repaired — and on a link
 * whose bottleneck queue is small and kept full, the repair may not get in for seconds. On
 * e2e/poornet's 48 kbit/s tbf (a 3.6 kB queue) `ss -ti` showed bytes_acked flat for 9.6 s
 * while new segments kept arriving (SACKed); in other such stalls (6-9 s) tbf's queue was
 * never empty (1.5-3.6 kB) and refused 300-400 packets a second, the repair among them
 * (TcpExtTCPRetransFail) — kept full, as far as we can tell, by the relay's own new writes
 * (docs/PERFORMANCE.md, session 16). The writer holds its writes while stuck
 * (relay/conn_write.c): the queue drains, the repair gets in, and what waited meanwhile is in
 * the relay's queue, under its drop policy. */
#define BBT_ESTIMATE_STUCK_US 500000
#define BBT_ESTIMATE_STUCK_RTTS 2

/* TCP's acknowledgements, each tick: bytes acknowledged so far, segments in flight (sent, not
 * acknowledged), the smoothed round trip (µs; < 0: not known). Updates e->stuck. */
void bbt_estimate_acks(bbt_estimate *e, int64_t now_us, uint64_t bytes_acked, int64_t unacked,
                       int64_t srtt_us);

/* One sample. outq < 0 means unknown (then the kernel backlog is taken as zero). */
void bbt_estimate_sample(bbt_estimate *e, int64_t now_us, uint64_t sent_total, int64_t outq,
                         int64_t queue_delay_us);

#endif
