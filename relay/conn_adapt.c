/* relay/conn_adapt.c — adaptation glue for one viewer connection: measure its link
 * (relay/estimate.h) from the socket every housekeeping tick, let the state machine
 * (relay/adapt.h) choose a level, apply it through the session (switch at the new camera's
 * keyframe), and tell the viewer its layer. Also the per-viewer lines of /metrics. */
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "proto/log.h"
#include "relay/relay_internal.h"
#include "proto/status.h"
#include "relay/sockinfo.h"

/* Unsent bytes the kernel may hold per viewer: beyond this the backlog stays in the relay's
 * queue, where delay is measured and the drop policy can act. It starts at
 * BBT_ESTIMATE_UNSENT_MAX and follows the delivered rate (bbt_estimate_unsent_cap: ~100 ms of
 * it), so a slow link does not hide most of a second of pictures in the kernel. */
static void set_unsent_cap(struct bbt_conn *c, int cap)
{
    int fd = lws_get_socket_fd(c->wsi);
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &cap, sizeof cap) != 0)
        BBT_DEBUG("TCP_NOTSENT_LOWAT not set peer=%s", c->peer);
    c->est.unsent_cap = cap;
}

#define REPORT_LAG_US 1500000

/* A padding probe's length, and the hold of a level whose padding probe failed: short, since
 * such a probe costs a moment's delay (docs/PERFORMANCE.md, "padding probes"). */
#define PAD_PROBE_US 2000000
#define PAD_BACKOFF_US 8000000

/* Congestion on a far lossy link (relay/adapt.h "ceiling"): a network queue of this much. There
 * the picture is 180p at most and the classroom's audio copies share the line; TCP's queue
 * reads 30-60 ms on such a link that carries the level (flaky-3g's 2 Mbit/s at 180p and its
 * 300 kbit/s on audio only; village-400k at 180p with two copies: at most 78 ms in 17 runs),
 * while 180p and two copies on flaky-3g's 300 kbit/s build it by ~40 ms a second: it passed
 * 90 ms a median 1.0 s after the fall, 120 ms (the threshold of sessions 14-16) 2.25 s after,
 * and the move to audio only came a median 2.6 s after, with ~144 ms waiting. Each lost
 * packet holds a connection's sound a round trip plus that queue, all of them at once when they
 * lose within it: the audio taken from the three connections broke for over 100 ms 9.2 times a
 * run in the 300 kbit/s phases at 120 ms, 2.6 times at 90 ms (with adapt.c FAR_PICTURE_HOLDS),
 * and gaps over 200 ms fell from 0.75 a run to 0.31 (docs/PERFORMANCE.md, session 17). */
#define FAR_CONGEST_US 90000

static bbt_adapt_params params_from(const bbt_relay_config *cfg, bool padding)
{
    int64_t max_delay = cfg->queue.max_delay_ms * 1000;
    return (bbt_adapt_params){
        .safety = cfg->adapt.safety,
        .congest_us = max_delay / 4 > 150000 ? max_delay / 4 : 150000,
        .far_congest_us = FAR_CONGEST_US,
        .clear_us = 60000,
        .down_delay_us = cfg->adapt.downswitch_delay_ms * 1000,
        .up_hold_us = cfg->adapt.upswitch_hold_ms * 1000,
        .probe_us = 3000000,
        .backoff_min_us = 10000000,
        .backoff_max_us = 120000000,
        .capacity_ttl_us = 5000000,
        .drain_us = 2000000,
        .pad_us = padding && cfg->adapt.padding_probes ? PAD_PROBE_US : 0,
        .pad_backoff_us = PAD_BACKOFF_US,
        .fall_hold_us = cfg->adapt.fall_hold_ms * 1000};
}

/* A far link's main connection is paced by TCP itself (SO_MAX_PACING_RATE: the kernel's own
 * pacing, no fq qdisc needed) at PACE_FACTOR times its level's rate on the wire (the level
 * padded for, in a padding probe), at least PACE_MIN_BPS. Why: over a long round trip TCP's
 * window, grown while the link was fast, lets the kernel pour a whole keyframe into the
 * bottleneck at once, and every connection's audio — the audio copies' too, on the same line —
 * then waits behind all of it. On flaky-3g a 180p keyframe of 8.3 kB is 222 ms of the 300 kbit/s
 * phase: in two traced runs the audio frame written after it arrived 195 ms later than the one
 * before, on all three connections in the same millisecond — a gap over 200 ms, the keyframe's
 * time on the line (docs/PERFORMANCE.md, session 15). Paced, the keyframe goes out over ~80 ms
 * with the audio between its packets: the delay grows as a ramp, which the adaptation sees and
 * no single frame feels. Four times the level keeps what waits in the kernel under the 90 ms
 * that is congestion there (FAR_CONGEST_US). A viewer whose layer is pinned (adaptation off) is
 * not paced: its level is not the layer it gets. Failure to set it is logged (debug) and the
 * connection works unpaced, as before. */
#define PACE_FACTOR 4
#define PACE_MIN_BPS 256000.0

static void set_pacing(struct bbt_conn *c)
{
    bool paced = c->far && c->adapt_on && !c->viewer.audio_copy && c->adapt.nlevels > 0;
    unsigned bytes =
        paced ? (unsigned)(bbt_adapt_pace_bps(&c->adapt, PACE_FACTOR, PACE_MIN_BPS) / 8) : 0;
    if (bytes == c->pace_bytes)
        return;
    unsigned v = bytes ? bytes : ~0U; /* ~0U: no limit */
    int fd = lws_get_socket_fd(c->wsi);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &v, sizeof v) != 0) {
        BBT_DEBUG("SO_MAX_PACING_RATE not set peer=%s", c->peer);
        return;
    }
    c->pace_bytes = bytes;
}

/* Far: the smallest round trip only (TCP's, from the handshake on), lossy or not. */
static void note_far(struct bbt_conn *c, const bbt_sock_path *p)
{
    int64_t far_us = c->relay->cfg.adapt.lossy_far_rtt_ms * 1000;
    c->far = far_us > 0 && p->min_rtt_us >= far_us;
}

/* TCP acknowledged nothing for a while with bytes in flight (relay/estimate.h, stuck): the
 * writer holds (conn_write.c) from now until something is acknowledged — seen by the tick, or
 * by the next write's bbt_conn_write_held — and then writes what is pending. */
static void note_acks(struct bbt_conn *c, int64_t now, const bbt_sock_path *p)
{
    bool was = c->est.stuck;
    bbt_estimate_acks(&c->est, now, p->bytes_acked, p->unacked, p->srtt_us);
    if (c->est.stuck && !was) {
        c->relay->metrics.stuck_holds++;
        BBT_DEBUG("writes held peer=%s subject=%s: nothing acknowledged for %lld ms", c->peer,
                  c->subject, (long long)(now - c->est.acked_at_us) / 1000);
    } else if (was && !c->est.stuck) {
        bbt_conn_want_write(c);
    }
}

bool bbt_conn_write_held(struct bbt_conn *c, int64_t now)
{
    bbt_sock_path path;
    if (c->est.stuck && bbt_sock_path_read(lws_get_socket_fd(c->wsi), &path) == BBT_OK)
        note_acks(c, now, &path);
    return c->est.stuck;
}

void bbt_conn_tune_socket(struct bbt_conn *c)
{
    set_unsent_cap(c, BBT_ESTIMATE_UNSENT_MAX);
    /* paced before the join's pictures are written (the handshake gave a round trip) */
    bbt_sock_path path;
    if (bbt_sock_path_read(lws_get_socket_fd(c->wsi), &path) == BBT_OK)
        note_far(c, &path);
    set_pacing(c);
}

/* The level that matches what the viewer receives now (its pending camera counts). */
static int current_level(const bbt_adapt *a, const bbt_viewer *v)
{
    int cam = v->pending_track >= 0 ? v->pending_track : v->video_track;
    return bbt_adapt_level_of(a, cam, v->courseware);
}

void bbt_conn_adapt_reset(struct bbt_conn *c, int64_t now)
{
    bbt_viewer *v = &c->viewer;
    if (!v->session)
        return;
    size_t n;
    const bbt_track_info *t = bbt_session_tracks(v->session, &n);
    if (bbt_session_state(v->session) != BBT_SESSION_LIVE)
        n = 0;
    bbt_adapt_level lv[BBT_ADAPT_MAX_LEVELS];
    int k = bbt_adapt_levels(t, n, v->want_video, v->want_audio, v->pin_track,
                             BBT_ADAPT_SEGMENT_OVERHEAD, lv,
                             BBT_ADAPT_MAX_LEVELS);
    bbt_adapt_params p = params_from(&c->relay->cfg, c->padding);
    bbt_adapt_init(&c->adapt, &p, lv, k, 0);
    c->adapt.level = current_level(&c->adapt, v);
    c->adapt_on = c->relay->cfg.adapt.enabled && v->pin_track < 0 && n > 0;
    (void)now;
}

/* What the adaptation of c would read now (its measures; the viewer's report aside). The
 * relay's capacity counts the payload it handed over, so it is scaled to the wire by the
 * headers of the level it was measured on (adapt_levels.h; bbt_conn_adapt_tick); TCP's
 * delivery rate is taken as it is: it counts segments at the full segment size, and its samples
 * come from bursts of full segments. */
static bbt_adapt_input measured(const struct bbt_conn *c, int64_t now)
{
    return (bbt_adapt_input){.now_us = now,
                             .capacity_bps = c->capacity_wire_bps,
                             .capacity_at_us = c->est.capacity_at_us,
                             .link_bps = c->est.tcp_bps,
                             .link_at_us = c->est.tcp_at_us};
}

/* A copy that has no room holds up its own main connection's audio too: both wait in the one
 * bottleneck queue (e2e/poornet at 48 kbit/s: no sound for seconds until the player's
 * saturation rule let the copy go). Several main connections of one classroom (two pages
 * open): one with room is enough. A measure counts for COPY_MEASURE_TTL_US, longer than the
 * adaptation's 5 s: a link just under the audio's rate, on audio only, is seldom backlogged
 * long enough to be measured again (e2e/poornet: the copy came 5.1 s after the last measure, of
 * 46 kbit/s); a link that has recovered since gets its copy after the page's back-off. */
#define COPY_MEASURE_TTL_US 30000000

/* Is m a connection of c's classroom to s, a copy (copy) or a main one (!copy)? */
static bool classroom_conn(const struct bbt_conn *m, const struct bbt_conn *c, const bbt_session *s,
                           bool copy)
{
    return m->viewer.session == s && m->viewer.audio_copy == copy &&
           strcmp(m->subject, c->subject) == 0;
}

/* c's rank among its classroom's audio copies to s by age (1: the oldest; a copy not yet
 * subscribed comes last). */
static int copy_rank(const struct bbt_conn *c, const bbt_session *s)
{
    bool mine = classroom_conn(c, c, s, true);
    int rank = 1;
    for (const struct bbt_conn *m = c->relay->conns; m; m = m->next)
        if (m != c && classroom_conn(m, c, s, true) &&
            (!mine || m->subscribed_us < c->subscribed_us ||
             (m->subscribed_us == c->subscribed_us && m->id < c->id)))
            rank++;
    return rank;
}

/* The audio copies of main connection c's classroom to s on the link now: they take their
 * bytes beside c, outside its measure. No walk on a relay without copies (a big one). */
static int copies_beside(const struct bbt_conn *c, const bbt_session *s)
{
    int n = 0;
    if (!c->relay->ncopies || c->viewer.audio_copy)
        return 0;
    for (const struct bbt_conn *m = c->relay->conns; m; m = m->next)
        n += m != c && classroom_conn(m, c, s, true);
    return n;
}

/* A copy starts with at most a second of audio: about what a lost packet and a join's pictures
 * put the main connection behind on a rural link (flaky-3g: 130-350 ms). A copy whose main
 * connection has not subscribed yet (the player's copies connect with it and subscribe at its
 * welcome: theirs may come first) starts live, as the main one will. */
#define COPY_TAIL_US 1000000

int64_t bbt_conn_copy_tail(const struct bbt_conn *c, const bbt_session *s, int64_t now)
{
    int64_t age = -1;
    for (const struct bbt_conn *m = c->relay->conns; m; m = m->next)
        if (m != c && classroom_conn(m, c, s, false) && now - m->subscribed_us > age)
            age = now - m->subscribed_us;
    return age < 0 ? 0 : age > COPY_TAIL_US ? COPY_TAIL_US : age;
}

/* Room for copy `rank` by main connection m's measures: the best of its recent ones
 * (relay/link_best.h), else (none in the last two stretches) its latest capacity within
 * COPY_MEASURE_TTL_US. */
static int link_room(const struct bbt_conn *m, int64_t now, int rank, bool keep, double *bps)
{
    int room = bbt_link_best_room(&m->link_best, &m->adapt, now, rank, keep, bps);
    if (room < 0) {
        bbt_adapt_input in = measured(m, now);
        room = bbt_adapt_copy_room(&m->adapt, &in, COPY_MEASURE_TTL_US, rank, m->capacity_copies,
                                   keep);
        *bps = room < 0 ? 0 : in.capacity_bps;
    }
    return room;
}

/* The room is judged on the link as it was measured: a main connection's capacity plus the
 * audio of the copies beside it then (not now: flaky-3g's second copy, ended for want of room,
 * took the first with it, whose check came next and counted one copy beside a capacity read
 * with two). */
int bbt_conn_copy_room(const struct bbt_conn *c, const bbt_session *s, int64_t now, bool keep,
                       double *bps)
{
    int room = -1, rank = copy_rank(c, s);
    *bps = 0;
    for (const struct bbt_conn *m = c->relay->conns; m; m = m->next) {
        if (m == c || !classroom_conn(m, c, s, false)) /* (a pinned layer is measured too) */
            continue;
        double read = 0;
        int r = link_room(m, now, rank, keep, &read);
        if (read > *bps)
            *bps = read;
        if (r > room)
            room = r;
    }
    return room != 0;
}

/* A far lossy link (relay/adapt.h "ceiling"): TCP's smallest round trip at least [adapt]
 * lossy_far_rtt, and LOSSY_MIN_RETRANS segments retransmitted, one in LOSSY_SEGS_PER_RETRANS
 * sent or more (0.5 %: village-400k loses 1 %, flaky-3g 2 %). Said once, and kept for the
 * connection's life: the line does not change, and a ceiling that came and went would climb
 * into the next fall. */
#define LOSSY_MIN_RETRANS 3
#define LOSSY_SEGS_PER_RETRANS 200

static void note_lossy_far(struct bbt_conn *c, const bbt_sock_path *p)
{
    if (c->lossy_far || c->viewer.audio_copy || !c->far || /* note_far: the round trip */
        p->retrans < LOSSY_MIN_RETRANS || p->retrans * LOSSY_SEGS_PER_RETRANS < p->segs_out)
        return;
    c->lossy_far = true;
    BBT_INFO("adapt lossy far link subject=%s min_rtt_ms=%lld retrans=%lld segs=%lld: pictures "
             "up to the lowest camera layer", c->subject, (long long)(p->min_rtt_us / 1000),
             (long long)p->retrans, (long long)p->segs_out);
}

static void tell_layer(struct bbt_conn *c, const bbt_adapt_level *l, bool down)
{
    bbt_session *s = c->viewer.session;
    const char *reason = !down ? "network recovered"
                         : l->camera_track >= 0 ? "poor network"
                         : l->courseware        ? "poor network: courseware and audio only"
                                                : "poor network: audio only";
    bbt_conn_send_json(c, bbt_msg_state(bbt_session_id(s), "live", reason, l->camera_track));
}

void bbt_conn_adapt_tick(struct bbt_conn *c, int64_t now)
{
    bbt_viewer *v = &c->viewer;
    if (!v->session || c->state != CONN_READY) {
        if (c->est.stuck) /* a hold ends when TCP moves, subscribed or not (note_acks below) */
            bbt_conn_write_held(c, now);
        return;
    }
    int outq = -1, fd = lws_get_socket_fd(c->wsi);
    if (fd < 0 || ioctl(fd, SIOCOUTQ, &outq) != 0)
        outq = -1;
    bbt_estimate_sample(&c->est, now, c->sent_bytes, outq, bbt_queue_delay(v->q, now));
    /* On the wire by the level it was measured on, not the one a check reads it at: 92 kbit/s
     * of payload measured on audio only (156 on the wire) read 112 half a second after the
     * move to 180p, and took both audio copies of flaky-3g's 300 kbit/s away for their room. */
    if (c->est.capacity_at_us == now) {
        c->capacity_wire_bps = bbt_adapt_wire(&c->adapt, c->est.capacity_bps);
        c->capacity_copies = copies_beside(c, v->session);
        bbt_link_best_note(&c->link_best, c->capacity_wire_bps, c->capacity_copies, now);
    }
    bbt_sock_path path;
    if (bbt_sock_path_read(fd, &path) == BBT_OK) {
        bbt_estimate_rtt(&c->est, path.srtt_us, path.min_rtt_us);
        bbt_estimate_tcp_rate(&c->est, now, path.delivery_bps, path.app_limited);
        note_far(c, &path);
        note_lossy_far(c, &path);
        note_acks(c, now, &path);
        c->est.window_min = c->lossy_far ? BBT_ESTIMATE_WINDOW_LOSSY : 1;
    }
    int cap = bbt_estimate_unsent_cap(&c->est);
    if (cap != c->est.unsent_cap)
        set_unsent_cap(c, cap);
    /* The viewer's latency report (relay/estimate.h) covers its last second and arrives up to a
     * second late: after a move down it still shows the old level's backlog draining through
     * the network for drain_us + REPORT_LAG_US, which must not take another step (measured:
     * 180p → audio only 2.0 s after a failed probe of 360p on village-400k). */
    bool report_lags = c->adapt.last_down_us &&
                       now - c->adapt.last_down_us < c->adapt.p.drain_us + REPORT_LAG_US;
    bbt_adapt_input in = measured(c, now);
    in.delay_us = bbt_estimate_delay(&c->est, now, !report_lags);
    c->signal_us = in.delay_us;
    if (!c->adapt_on) {
        set_pacing(c); /* none */
        return;
    }
    int before = c->adapt.level;
    in.lossy_far = c->lossy_far;
    /* padding the socket did not take: credit the kernel's unsent cap kept back (conn_write.c);
     * the credit still in hand is not missing yet */
    double missing = c->pad_due - c->pad_sent - c->pad_credit;
    if (c->pad_due > 0 && missing > 0)
        in.pad_missing = missing / c->pad_due;
    bool padding = c->adapt.padding;
    int pad_level = c->adapt.pad_level;
    int64_t hold_until = c->adapt.hold_until;
    int after = bbt_adapt_update(&c->adapt, &in);
    set_pacing(c);
    if (c->adapt.hold_until != hold_until)
        BBT_INFO("adapt hold subject=%s level_max=%d hold_s=%.0f falls=%u", c->subject,
                 bbt_adapt_hold_cap(&c->adapt, now), (double)(c->adapt.hold_until - now) / 1e6,
                 c->adapt.falls);
    if (padding != c->adapt.padding || pad_level != c->adapt.pad_level)
        c->pad_due = c->pad_sent = 0; /* a new probe, or the next level of one */
    if (padding || c->adapt.padding)
        BBT_DEBUG("adapt padding subject=%s level=%d pad_level=%d on=%d delay_ms=%lld "
                  "queue_ms=%lld net_queue_ms=%lld report_excess_ms=%lld pad_missing=%.2f",
                  c->subject, after, c->adapt.pad_level, c->adapt.padding,
                  (long long)(in.delay_us / 1000), (long long)(c->est.delay_us / 1000),
                  (long long)(c->est.net_queue_us / 1000),
                  (long long)(c->est.report_excess_us / 1000), in.pad_missing);
    if (after == before)
        return;
    const bbt_adapt_level *l = &c->adapt.levels[after];
    bbt_session_set_level(v, l->camera_track, l->courseware, after < before, now);
    tell_layer(c, l, after < before);
    BBT_INFO("adapt subject=%s session=%s level=%d->%d camera=%d courseware=%d delay_ms=%lld "
             "capacity_kbps=%.0f report_excess_ms=%lld net_queue_ms=%lld",
             c->subject, bbt_session_id(v->session), before, after, l->camera_track,
             l->courseware, (long long)(c->est.delay_us / 1000), c->est.capacity_bps / 1000,
             (long long)(c->est.report_excess_us / 1000), (long long)(c->est.net_queue_us / 1000));
}

void bbt_conn_render_metrics(bbt_relay *r, bbt_strbuf *b)
{
    static const char *const head =
        "# HELP bbt_viewer_layer Camera track a viewer receives (-1: none).\n"
        "# TYPE bbt_viewer_layer gauge\n"
        "# HELP bbt_viewer_level Adaptation level (0 = audio only, rising with quality).\n"
        "# TYPE bbt_viewer_level gauge\n"
        "# HELP bbt_viewer_capacity_bps Measured link capacity (0: not measured).\n"
        "# TYPE bbt_viewer_capacity_bps gauge\n"
        "# HELP bbt_viewer_delivered_bps Smoothed delivery rate to the viewer.\n"
        "# TYPE bbt_viewer_delivered_bps gauge\n"
        "# HELP bbt_viewer_queue_delay_ms Wait of the oldest frame in the viewer's queue.\n"
        "# TYPE bbt_viewer_queue_delay_ms gauge\n"
        "# HELP bbt_viewer_reported_bps Rate the viewer says it received (its reports).\n"
        "# TYPE bbt_viewer_reported_bps gauge\n"
        "# HELP bbt_viewer_network_delay_ms Viewer's median latency beyond its best, less 50 ms.\n"
        "# TYPE bbt_viewer_network_delay_ms gauge\n"
        "# HELP bbt_viewer_tcp_queue_ms TCP's smoothed round trip beyond its smallest: data "
        "queued in the network.\n"
        "# TYPE bbt_viewer_tcp_queue_ms gauge\n"
        "# HELP bbt_viewer_congestion_ms The congestion signal adaptation read last (the largest "
        "of the queue delay, the TCP queue and the network delay).\n"
        "# TYPE bbt_viewer_congestion_ms gauge\n"
        "# HELP bbt_viewer_switches_total Level changes, by direction.\n"
        "# TYPE bbt_viewer_switches_total counter\n"
        "# HELP bbt_viewer_padding_probes_total Probes of a higher level with padding, by result "
        "(failed ones held the level).\n"
        "# TYPE bbt_viewer_padding_probes_total counter\n"
        "# HELP bbt_viewer_link_falls_total Falls of the viewer's link (a move down that was no "
        "probe's failure), each holding moves up for a while.\n"
        "# TYPE bbt_viewer_link_falls_total counter\n"
        "# HELP bbt_viewer_fall_hold_seconds Time left in the viewer's fall hold (0: none).\n"
        "# TYPE bbt_viewer_fall_hold_seconds gauge\n"
        "# HELP bbt_viewer_lossy_far 1: the viewer's link is far and lossy, its picture at most "
        "the lowest camera layer.\n"
        "# TYPE bbt_viewer_lossy_far gauge\n"
        "# HELP bbt_viewer_pacing_bps Most the kernel sends to the viewer a second, in bits: a "
        "far link's connection is paced (0: not paced).\n"
        "# TYPE bbt_viewer_pacing_bps gauge\n";
    bbt_strbuf_puts(b, head);
    int64_t now = bbt_mono_us();
    unsigned copies = 0;
    for (struct bbt_conn *c = r->conns; c; c = c->next) {
        const bbt_viewer *v = &c->viewer;
        copies += v->session && v->audio_copy;
        if (!v->session || v->audio_copy) /* a copy is audio alone: nothing adapts */
            continue;
        char lbl[192];
        snprintf(lbl, sizeof lbl, "session=\"%s\",classroom=\"%s\",conn=\"%u\"",
                 bbt_session_id(v->session), c->subject, c->id);
        bbt_strbuf_printf(b,
                          "bbt_viewer_layer{%s} %d\nbbt_viewer_level{%s} %d\n"
                          "bbt_viewer_capacity_bps{%s} %.0f\nbbt_viewer_delivered_bps{%s} %.0f\n"
                          "bbt_viewer_queue_delay_ms{%s} %.1f\n"
                          "bbt_viewer_reported_bps{%s} %.0f\n"
                          "bbt_viewer_network_delay_ms{%s} %.1f\n"
                          "bbt_viewer_tcp_queue_ms{%s} %.1f\n"
                          "bbt_viewer_congestion_ms{%s} %.1f\n"
                          "bbt_viewer_switches_total{%s,direction=\"up\"} %u\n"
                          "bbt_viewer_switches_total{%s,direction=\"down\"} %u\n"
                          "bbt_viewer_padding_probes_total{%s,result=\"passed\"} %u\n"
                          "bbt_viewer_padding_probes_total{%s,result=\"failed\"} %u\n"
                          "bbt_viewer_link_falls_total{%s} %u\n"
                          "bbt_viewer_fall_hold_seconds{%s} %.1f\n"
                          "bbt_viewer_lossy_far{%s} %d\n"
                          "bbt_viewer_pacing_bps{%s} %.0f\n",
                          lbl, v->video_track, lbl, c->adapt.level, lbl, c->est.capacity_bps, lbl,
                          c->est.delivered_bps, lbl,
                          (double)bbt_queue_delay(v->q, now) / 1000.0, lbl, c->est.report_bps,
                          lbl, (double)c->est.report_excess_us / 1000.0, lbl,
                          (double)c->est.net_queue_us / 1000.0, lbl,
                          (double)c->signal_us / 1000.0, lbl, c->adapt.ups, lbl,
                          c->adapt.downs, lbl, c->adapt.pads - c->adapt.pads_failed -
                          (c->adapt.padding ? 1u : 0u), lbl, c->adapt.pads_failed, lbl,
                          c->adapt.falls, lbl,
                          c->adapt.hold_until > now ? (double)(c->adapt.hold_until - now) / 1e6
                                                    : 0.0,
                          lbl, c->lossy_far, lbl, (double)c->pace_bytes * 8);
    }
    bbt_strbuf_printf(b,
                      "# HELP bbt_audio_copies Subscriptions to a copy of the audio "
                      "(audio_copy).\n# TYPE bbt_audio_copies gauge\nbbt_audio_copies %u\n"
                      "# HELP bbt_audio_copies_refused_total Audio copies refused or ended: the "
                      "classroom's link has no room for the audio once more.\n"
                      "# TYPE bbt_audio_copies_refused_total counter\n"
                      "bbt_audio_copies_refused_total %llu\n",
                      copies, (unsigned long long)r->metrics.copies_refused);
}
