/* relay/metrics.h — the relay's counters and histograms, and their Prometheus text.
 *
 * A plain struct owned by the relay (no global state), updated in the event-loop thread. Per
 * session and per track figures are read from the session registry at render time, so nothing
 * here has to follow sessions as they come and go. Every metric is documented in docs/METRICS.md.
 */
#ifndef BBT_METRICS_H
#define BBT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/queue.h"
#include "relay/session.h"

/* Why a connection was refused or closed by the relay (label "reason"). */
enum bbt_refusal {
    BBT_REFUSE_PER_IP,         /* max_connections_per_ip reached (at the handshake) */
    BBT_REFUSE_MAX_VIEWERS,    /* max_viewers reached */
    BBT_REFUSE_MAX_SESSIONS,   /* max_sessions reached */
    BBT_REFUSE_AUTH_TIMEOUT,   /* no hello within auth_timeout */
    BBT_REFUSE_BAD_FRAME,      /* malformed media frame */
    BBT_REFUSE_BAD_MESSAGE,    /* too many malformed control messages */
    BBT_REFUSE_DENIED,         /* role not allowed to do what it asked */
    BBT_REFUSE_PUBLISHER_BUSY, /* the session already has a live publisher */
    BBT_REFUSE_STALLED,        /* a viewer that stopped reading */
    BBT_REFUSE_PROTOCOL,       /* wrong path, subprotocol, or message kind */
    BBT_REFUSE_AUTH,           /* hello with no, bad, expired or revoked token, or wrong role */
    BBT_REFUSE_AUTH_BACKOFF,   /* address refused after too many auth failures (handshake) */
    BBT_REFUSE_REVOKED,        /* live connection closed because its token was revoked/expired */
    BBT_REFUSE_CONTROL_BACKLOG, /* 256 control messages unread: the client does not read */
    BBT_REFUSE__COUNT
};

/* 5 ms steps up to 50 ms: the relay's latency target (issue 3: p99 under 50 ms) is read from
 * these buckets by `bbt-bench fanout` (relay_latency_ms, relay_queue_delay_ms), so they must
 * resolve it. */
#define BBT_HIST_BUCKETS 21

typedef struct bbt_histogram {
    uint64_t in[BBT_HIST_BUCKETS]; /* counts per bucket (bbt_hist_bounds_ms[i-1], [i]];
                                    * cumulative only when rendered */
    uint64_t count;
    double sum_ms;
} bbt_histogram;

/* Upper bounds, ms, of the histogram buckets (the last one is +Inf). */
extern const double bbt_hist_bounds_ms[BBT_HIST_BUCKETS];

typedef struct bbt_metrics {
    uint64_t connections_total;
    uint64_t refused[BBT_REFUSE__COUNT];
    uint64_t control_in, control_out; /* text messages */
    uint64_t frames_invalid;          /* malformed media frames received */
    uint64_t keyframe_requests;
    uint64_t writes_single, writes_batched; /* WebSocket writes: one item / several in one send */
    uint64_t fragments_out;           /* fragment messages sent to viewers (PROTOCOL.md §2.5) */
    uint64_t padding_bytes;           /* padding sent to viewers in probes (PROTOCOL.md §2.6) */
    uint64_t stuck_holds;             /* writes held: TCP acknowledged nothing (estimate.h) */
    uint64_t copies_refused;          /* audio copies refused or ended: no room (§3.5) */
    bbt_queue_stats closed_queues;    /* queue statistics of viewers that have left */
    bbt_histogram queue_delay;        /* time frames waited in viewer queues */
    bbt_histogram frame_age;          /* capture (publisher's clock) → written to a viewer */
    bbt_histogram ingest_age;         /* capture (publisher's clock) → read by the relay */
} bbt_metrics;

void bbt_histogram_observe(bbt_histogram *h, double ms);
/* Add a departing viewer's queue statistics to the totals. */
void bbt_metrics_add_queue(bbt_metrics *m, const bbt_queue_stats *s);
const char *bbt_refusal_name(enum bbt_refusal r);

/* Gauges sampled by the server at render time. */
typedef struct bbt_metrics_gauges {
    size_t connections, publishers, viewers;
    int64_t uptime_s;
} bbt_metrics_gauges;

/* Render everything as Prometheus text (version 0.0.4). Returns a malloc'd string the caller
 * frees, or NULL when out of memory. */
char *bbt_metrics_render(const bbt_metrics *m, const bbt_metrics_gauges *g,
                         const bbt_registry *reg, size_t *len);

#endif
