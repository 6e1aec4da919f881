/* relay/metrics.c — counters, histograms and their Prometheus text (see metrics.h). */
#include "metrics.h"

#include "proto/strbuf.h"

const double bbt_hist_bounds_ms[BBT_HIST_BUCKETS] = {
    1, 2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 100, 250, 500, 1000, 2500, 5000, 1e300};

/* One increment per observation (millions a second at 2,000 viewers): the bucket's own count. */
void bbt_histogram_observe(bbt_histogram *h, double ms)
{
    int i = 0;
    while (i < BBT_HIST_BUCKETS - 1 && !(ms <= bbt_hist_bounds_ms[i]))
        i++;
    h->in[i]++;
    h->count++;
    h->sum_ms += ms;
}

void bbt_metrics_add_queue(bbt_metrics *m, const bbt_queue_stats *s)
{
    bbt_queue_stats *t = &m->closed_queues;
    t->pushed += s->pushed;
    t->popped += s->popped;
    t->dropped_video += s->dropped_video;
    t->dropped_audio += s->dropped_audio;
    t->refused_await_key += s->refused_await_key;
    t->refused_oversize += s->refused_oversize;
    t->key_waits += s->key_waits;
}

const char *bbt_refusal_name(enum bbt_refusal r)
{
    static const char *const names[BBT_REFUSE__COUNT] = {
        "per_ip_limit", "max_viewers", "max_sessions", "auth_timeout", "bad_frame",
        "bad_message", "denied", "publisher_busy", "stalled", "protocol", "auth_failed",
        "auth_backoff", "token_revoked", "control_backlog"};
    return (unsigned)r < BBT_REFUSE__COUNT ? names[r] : "?";
}

static void header(bbt_strbuf *b, const char *name, const char *type, const char *help)
{
    bbt_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_histogram(bbt_strbuf *b, const char *name, const bbt_histogram *h)
{
    uint64_t le = 0;
    for (int i = 0; i < BBT_HIST_BUCKETS - 1; i++) {
        le += h->in[i];
        bbt_strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bbt_hist_bounds_ms[i],
                          (unsigned long long)le);
    }
    bbt_strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n", name,
                      (unsigned long long)h->count, name, h->sum_ms, name,
                      (unsigned long long)h->count);
}

/* Live viewers' queue statistics plus those of viewers that have left. */
static bbt_queue_stats total_queues(const bbt_metrics *m, const bbt_registry *reg)
{
    bbt_metrics sum = {.closed_queues = m->closed_queues};
    for (size_t i = 0; i < bbt_registry_count(reg); i++) {
        const bbt_session *s = bbt_registry_at(reg, i);
        for (size_t j = 0; j < bbt_session_viewer_count(s); j++)
            bbt_metrics_add_queue(&sum, bbt_queue_get_stats(bbt_session_viewer_at(s, j)->q));
    }
    return sum.closed_queues;
}

static void render_sessions(bbt_strbuf *b, const bbt_registry *reg)
{
    header(b, "bbt_session_viewers", "gauge", "Viewers subscribed to a session.");
    for (size_t i = 0; i < bbt_registry_count(reg); i++) {
        const bbt_session *s = bbt_registry_at(reg, i);
        bbt_strbuf_printf(b, "bbt_session_viewers{session=\"%s\",state=\"%s\"} %zu\n",
                          bbt_session_id(s), bbt_session_state_name(bbt_session_state(s)),
                          bbt_session_viewer_count(s));
    }
    header(b, "bbt_session_bytes_out_total", "counter", "Media bytes written to viewers.");
    for (size_t i = 0; i < bbt_registry_count(reg); i++) {
        const bbt_session *s = bbt_registry_at(reg, i);
        bbt_strbuf_printf(b, "bbt_session_bytes_out_total{session=\"%s\"} %llu\n",
                          bbt_session_id(s), (unsigned long long)bbt_session_bytes_out(s));
    }
    header(b, "bbt_session_frames_out_total", "counter", "Media frames written to viewers.");
    for (size_t i = 0; i < bbt_registry_count(reg); i++) {
        const bbt_session *s = bbt_registry_at(reg, i);
        bbt_strbuf_printf(b, "bbt_session_frames_out_total{session=\"%s\"} %llu\n",
                          bbt_session_id(s), (unsigned long long)bbt_session_frames_out(s));
    }
}

static void render_tracks(bbt_strbuf *b, const bbt_registry *reg, const char *name,
                          const char *help, int field)
{
    header(b, name, "counter", help);
    for (size_t i = 0; i < bbt_registry_count(reg); i++) {
        const bbt_session *s = bbt_registry_at(reg, i);
        size_t n;
        const bbt_track_info *t = bbt_session_tracks(s, &n);
        for (size_t k = 0; k < n; k++) {
            const bbt_track_stats *st = bbt_session_track_stats(s, (unsigned)t[k].id);
            uint64_t v = field == 0 ? st->frames_in : field == 1 ? st->bytes_in : st->keyframes_in;
            bbt_strbuf_printf(b, "%s{session=\"%s\",track=\"%d\",kind=\"%s\",layer=\"%d\"} %llu\n",
                              name, bbt_session_id(s), t[k].id, bbt_track_kind_name(t[k].kind),
                              t[k].layer, (unsigned long long)v);
        }
    }
}

static void render_drops(bbt_strbuf *b, const bbt_queue_stats *q)
{
    header(b, "bbt_frames_dropped_total", "counter",
           "Frames a viewer did not get, by reason (the queue's drop policy).");
    bbt_strbuf_printf(b,
                      "bbt_frames_dropped_total{reason=\"video_overflow\"} %llu\n"
                      "bbt_frames_dropped_total{reason=\"audio_overflow\"} %llu\n"
                      "bbt_frames_dropped_total{reason=\"await_keyframe\"} %llu\n"
                      "bbt_frames_dropped_total{reason=\"oversize\"} %llu\n",
                      (unsigned long long)q->dropped_video, (unsigned long long)q->dropped_audio,
                      (unsigned long long)q->refused_await_key,
                      (unsigned long long)q->refused_oversize);
    header(b, "bbt_frames_out_total", "counter", "Media frames written to viewers.");
    bbt_strbuf_printf(b, "bbt_frames_out_total %llu\n", (unsigned long long)q->popped);
}

char *bbt_metrics_render(const bbt_metrics *m, const bbt_metrics_gauges *g,
                         const bbt_registry *reg, size_t *len)
{
    bbt_strbuf b = BBT_STRBUF_INIT;
    header(&b, "bbt_up", "gauge", "1 while the relay runs.");
    bbt_strbuf_printf(&b, "bbt_up 1\n");
    header(&b, "bbt_uptime_seconds", "gauge", "Seconds since the relay started.");
    bbt_strbuf_printf(&b, "bbt_uptime_seconds %lld\n", (long long)g->uptime_s);
    header(&b, "bbt_sessions", "gauge", "Sessions known to the relay.");
    bbt_strbuf_printf(&b, "bbt_sessions %zu\n", bbt_registry_count(reg));
    header(&b, "bbt_connections", "gauge", "Open WebSocket connections.");
    bbt_strbuf_printf(&b, "bbt_connections %zu\n", g->connections);
    header(&b, "bbt_publishers", "gauge", "Connections publishing a session.");
    bbt_strbuf_printf(&b, "bbt_publishers %zu\n", g->publishers);
    header(&b, "bbt_viewers", "gauge", "Connections subscribed to a session.");
    bbt_strbuf_printf(&b, "bbt_viewers %zu\n", g->viewers);
    header(&b, "bbt_connections_total", "counter", "WebSocket connections accepted.");
    bbt_strbuf_printf(&b, "bbt_connections_total %llu\n",
                      (unsigned long long)m->connections_total);
    header(&b, "bbt_connections_refused_total", "counter",
           "Connections refused or closed by the relay, by reason.");
    for (int r = 0; r < BBT_REFUSE__COUNT; r++)
        bbt_strbuf_printf(&b, "bbt_connections_refused_total{reason=\"%s\"} %llu\n",
                          bbt_refusal_name((enum bbt_refusal)r), (unsigned long long)m->refused[r]);
    header(&b, "bbt_control_messages_total", "counter", "Control (text) messages.");
    bbt_strbuf_printf(&b, "bbt_control_messages_total{direction=\"in\"} %llu\n"
                          "bbt_control_messages_total{direction=\"out\"} %llu\n",
                      (unsigned long long)m->control_in, (unsigned long long)m->control_out);
    header(&b, "bbt_frames_invalid_total", "counter", "Malformed media frames received.");
    bbt_strbuf_printf(&b, "bbt_frames_invalid_total %llu\n", (unsigned long long)m->frames_invalid);
    header(&b, "bbt_writes_total", "counter",
           "WebSocket writes (system calls) to clients: one item, or several batched in one send.");
    bbt_strbuf_printf(&b, "bbt_writes_total{kind=\"single\"} %llu\n"
                          "bbt_writes_total{kind=\"batched\"} %llu\n",
                      (unsigned long long)m->writes_single, (unsigned long long)m->writes_batched);
    header(&b, "bbt_fragments_total", "counter",
           "Fragment messages sent: large video frames split for slow viewers, so audio can pass.");
    bbt_strbuf_printf(&b, "bbt_fragments_total %llu\n", (unsigned long long)m->fragments_out);
    header(&b, "bbt_padding_bytes_total", "counter",
           "Padding sent to viewers to probe their links before a switch up (PROTOCOL.md §2.6).");
    bbt_strbuf_printf(&b, "bbt_padding_bytes_total %llu\n", (unsigned long long)m->padding_bytes);
    header(&b, "bbt_stuck_holds_total", "counter",
           "Times a viewer's writes were held: TCP had acknowledged nothing for 500 ms or 2 round "
           "trips with bytes in flight (a lost segment not yet repaired).");
    bbt_strbuf_printf(&b, "bbt_stuck_holds_total %llu\n", (unsigned long long)m->stuck_holds);
    header(&b, "bbt_keyframe_requests_total", "counter", "Keyframe requests sent to publishers.");
    bbt_strbuf_printf(&b, "bbt_keyframe_requests_total %llu\n",
                      (unsigned long long)m->keyframe_requests);
    bbt_queue_stats q = total_queues(m, reg);
    render_drops(&b, &q);
    header(&b, "bbt_queue_delay_ms", "histogram", "Time frames waited in viewer queues, ms.");
    render_histogram(&b, "bbt_queue_delay_ms", &m->queue_delay);
    header(&b, "bbt_frame_age_ms", "histogram",
           "Age of frames written to viewers: capture (publisher's clock) to the write, ms.");
    render_histogram(&b, "bbt_frame_age_ms", &m->frame_age);
    header(&b, "bbt_ingest_age_ms", "histogram",
           "Age of frames read from publishers: capture (publisher's clock) to the read, ms.");
    render_histogram(&b, "bbt_ingest_age_ms", &m->ingest_age);
    render_sessions(&b, reg);
    render_tracks(&b, reg, "bbt_track_frames_in_total", "Frames received from the publisher.", 0);
    render_tracks(&b, reg, "bbt_track_bytes_in_total", "Bytes received from the publisher.", 1);
    render_tracks(&b, reg, "bbt_track_keyframes_in_total", "Keyframes received.", 2);
    return bbt_strbuf_take(&b, len);
}
