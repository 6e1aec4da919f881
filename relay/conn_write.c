/* relay/conn_write.c — writing to a connection: control messages first, then media, batched.
 *
 * Why batching: one send() per frame per viewer is what limits a relay core (~10 µs each here,
 * docs/PERFORMANCE.md § Fan-out), so a viewer's frames are written together:
 *   - a new frame for a viewer (bbt_conn_media_ready, from the session's fan-out) only puts the
 *     viewer into the pacing wheel (relay/pace.h), due at its last write + the flush interval
 *     (bbt_conn_flush_us: viewers ÷ [queue] write_rate, at most [queue] flush_interval) — at
 *     once if it has not been written to for that long;
 *   - when due, everything queued for it (control messages, then media, up to WBUF_CAP bytes) is
 *     framed into the relay's one scratch buffer and written with a single lws_write(RAW): one
 *     system call. A lone item is written from where it lies (the frame's own headroom), with no
 *     copy. A viewer without a video budget (below) gets a frame too large for a batch (a
 *     keyframe) appended to it all the same, up to WBUF_BIG (put_big); a larger one goes alone,
 *     from where it lies, right after the batch before it (big_frame_next).
 * Audio first, and fragments (docs/PROTOCOL.md §2.5): a write takes control messages, then every
 * queued audio frame (from wherever it waits in the queue), then video. A viewer that
 * reassembles fragments ("fragments": true in its subscribe) gets at most video_budget() bytes
 * of video a write — about FRAG_US of its link — and a video frame larger than that is sent as
 * fragments of that size, one a write: on a slow link an audio frame then waits behind at most
 * one fragment in the relay's writes, not behind a whole keyframe (a 22 kB 360p keyframe is
 * ~180 ms of a 1 Mbit/s link: most audio gaps over 200 ms in bbt-bench rural were that).
 * The order within a track never changes. Fragments are copied into the scratch buffer; the
 * frame under way is held by the connection (c->frag) until its last fragment is written.
 * The write happens from the pacing timer, outside a WRITEABLE callback, only when lws holds no
 * unsent remainder of an earlier write (lws_partial_buffered): a socket that did not take
 * everything makes lws keep the rest and ask for WRITEABLE, and from then on the connection is
 * written from its WRITEABLE callbacks until it has drained. TCP_NOTSENT_LOWAT (conn_adapt.c,
 * ~100 ms of the delivered rate, 4..32 KiB) keeps poll() from calling such a socket writable,
 * and a paced write to a slow viewer checks the kernel's unsent bytes itself (kernel_full()),
 * so the kernel does not hide a backlog from the queue's drop policy. Closing (close_code)
 * always happens in a WRITEABLE callback.
 * Held: while TCP has acknowledged nothing for a while with bytes in flight (c->est.stuck,
 * relay/estimate.h: a lost segment not yet repaired), nothing new is written — it could not
 * reach the viewer before the repair anyway, and on a link whose small queue the relay's own
 * writes keep full, writing it kept the repair out for up to 10 s (e2e/poornet, 48 kbit/s).
 * What waits meanwhile is in the viewer's queue, under its drop policy. Each frame that comes
 * for the viewer meanwhile asks TCP again (bbt_conn_write_held: one getsockopt, only while
 * held), so the write after the repair is the next frame's; the housekeeping tick asks too.
 * Failure: a write that fails outside a callback marks the connection to be killed by lws (the
 * socket is gone); inside one, returning -1 closes it.
 */
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"

/* One write's worth: ~0.2 s of a 600 kbit/s viewer, far more than one flush interval's frames.
 * Small on purpose: what a slow link's socket does not take stays in lws's buffer, out of reach
 * of the drop policy, and the next control message (a layer switch) waits behind it. */
#define WBUF_CAP (16 * 1024)
/* ... except that a viewer written without a video budget (a fast link) gets a whole frame
 * larger than that (a keyframe) appended to the batch, up to this size, rather than in a write
 * of its own: the same bytes at the same time, one system call instead of two (put_big). */
#define WBUF_BIG (64 * 1024)
#define WS_HDR_MAX 10
/* Video per write to a viewer that reassembles fragments: this much of its link's rate ... */
#define FRAG_US 60000
/* ... but not less (20 bytes of headers per fragment), and only the link's rate as measured
 * within this time (a capacity older than that may describe a link that has recovered). */
#define FRAG_MIN 1024
#define FRAG_RATE_TTL_US 30000000

void bbt_conn_want_write(struct bbt_conn *c)
{
    if (!c->stall_since_us)
        c->stall_since_us = bbt_mono_us();
    lws_callback_on_writable(c->wsi);
}

int bbt_conn_write_start(bbt_relay *r)
{
    r->pace = bbt_pace_new(PACE_SLOT_US, PACE_SLOTS);
    r->wbuf = malloc(LWS_PRE + WBUF_BIG);
    if (!r->pace || !r->wbuf) {
        bbt_conn_write_stop(r);
        return BBT_ENOMEM;
    }
    return BBT_OK;
}

/* The caller cancels sul_pace before destroying the lws context (the timer list lives there). */
void bbt_conn_write_stop(bbt_relay *r)
{
    bbt_pace_free(r->pace);
    free(r->wbuf);
    r->pace = NULL;
    r->wbuf = NULL;
}

static size_t ws_header_len(size_t len)
{
    return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

/* A server-to-client WebSocket frame header (FIN set, no mask). Returns its length. */
static size_t ws_header(unsigned char *p, unsigned opcode, size_t len)
{
    p[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

static void pop_control(struct bbt_conn *c)
{
    struct ctl_msg *m = c->ctl_head;
    c->ctl_head = m->next;
    if (!c->ctl_head)
        c->ctl_tail = NULL;
    c->ctl_count--;
    free(m);
    c->relay->metrics.control_out++;
}

/* Take the queue's entry at pos (a fragmented frame: when its first fragment goes). Two
 * latencies are counted: the wait in this queue, and the frame's age since capture on the
 * publisher's clock (ahead of the relay's, e.g. a skewed node: counted as 0). Under bbt-bench,
 * whose publisher stamps a frame as it sends it, the age is all the latency the relay adds:
 * reading the publisher, the fan-out and this queue. */
static void pop_media_at(struct bbt_conn *c, size_t pos, const bbt_frame_ref *ref, int64_t now)
{
    bbt_relay *r = c->relay;
    bbt_session_count_out(c->viewer.session, ref->len);
    int64_t age = bbt_wall_us() - (int64_t)ref->capture_us;
    int64_t waited = bbt_queue_pop_at(c->viewer.q, pos, now);
    bbt_histogram_observe(&r->metrics.queue_delay, (double)waited / 1000.0);
    bbt_histogram_observe(&r->metrics.frame_age, age > 0 ? (double)age / 1000.0 : 0.0);
}

static void pop_media(struct bbt_conn *c, int64_t now)
{
    pop_media_at(c, 0, bbt_queue_peek(c->viewer.q), now);
}

/* Video bytes a write may carry to this viewer (0: no limit, frames go whole): FRAG_US of the
 * larger of its delivery rate (before it is measured: [adapt] start_bitrate) and its recently
 * measured capacity. A viewer on a fast link gets no limit (the budget would exceed a batch);
 * one that does not reassemble fragments, too. A frame under way when the budget goes to 0 is
 * finished in batch-sized fragments. */
static size_t video_budget(const struct bbt_conn *c, int64_t now)
{
    if (!c->fragments)
        return 0;
    double bps = c->est.delivered_bps;
    if (bps <= 0) /* not measured yet (the join): the rate adaptation starts from */
        bps = (double)c->relay->cfg.adapt.start_bitrate;
    if (c->est.capacity_bps > bps && now - c->est.capacity_at_us < FRAG_RATE_TTL_US)
        bps = c->est.capacity_bps;
    double b = bps / 8.0 * FRAG_US / 1e6;
    if (b <= 0 || b >= WBUF_CAP - 64) /* a fragment (and its headers) fits a batch */
        return 0;
    return b < FRAG_MIN ? FRAG_MIN : (size_t)b;
}

/* A frame the budget makes us send in fragments. */
static bool needs_fragments(const bbt_frame_ref *ref, size_t budget)
{
    return budget && ref->cls != BBT_CLASS_AUDIO && !(ref->flags & BBT_FRAME_END) &&
           ref->len - BBT_FRAME_HEADER_LEN > budget;
}

/* One item written from where it lies (no copy). */
static int write_one(struct bbt_conn *c, int64_t now)
{
    c->relay->metrics.writes_single++;
    if (c->ctl_head) {
        struct ctl_msg *m = c->ctl_head;
        int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        c->sent_bytes += m->len + ws_header_len(m->len);
        pop_control(c);
        return n < 0 ? -1 : 0;
    }
    bbt_frame_ref *ref = bbt_queue_peek(c->viewer.q);
    int n = lws_write(c->wsi, ref->data, ref->len, LWS_WRITE_BINARY);
    c->sent_bytes += ref->len + ws_header_len(ref->len);
    pop_media(c, now);
    return n < 0 ? -1 : 0;
}

static int media_queued(const struct bbt_conn *c)
{
    return c->viewer.session && bbt_queue_count(c->viewer.q);
}

/* Append one whole message (a control message's or a frame's wire bytes). */
static unsigned char *put_msg(unsigned char *p, unsigned opcode, const void *msg, size_t len)
{
    p += ws_header(p, opcode, len);
    memcpy(p, msg, len);
    return p + len;
}

/* Append the next fragment of c->frag, at most `max` payload bytes (≥ 1); the frame is
 * released after its last one. */
static unsigned char *put_fragment(struct bbt_conn *c, unsigned char *p, size_t max)
{
    bbt_frame_ref *f = c->frag;
    size_t left = f->len - BBT_FRAME_HEADER_LEN - c->frag_off, n = left < max ? left : max;
    p += ws_header(p, 0x2, BBT_FRAME_HEADER_LEN + n);
    memcpy(p, f->data, BBT_FRAME_HEADER_LEN);
    p[2] = (unsigned char)(n < left ? f->flags | BBT_FRAME_PART : f->flags);
    memcpy(p + BBT_FRAME_HEADER_LEN, f->data + BBT_FRAME_HEADER_LEN + c->frag_off, n);
    c->frag_off += n;
    c->relay->metrics.fragments_out++;
    if (n == left) {
        bbt_frame_ref_release(f);
        c->frag = NULL;
    }
    return p + BBT_FRAME_HEADER_LEN + n;
}

/* Video into the batch after audio: the fragment under way, then whole frames in order, at
 * most `budget` bytes (0: as many as fit); a frame larger than the budget becomes c->frag. */
static unsigned char *put_video(struct bbt_conn *c, unsigned char *p, const unsigned char *end,
                                size_t budget, int64_t now)
{
    size_t limit = budget ? budget : SIZE_MAX, sent = 0;
    const size_t over = WS_HDR_MAX + BBT_FRAME_HEADER_LEN;
    for (;;) {
        size_t room = (size_t)(end - p);
        if (c->frag) {
            if (sent >= limit || room <= over)
                break;
            size_t max = limit - sent < room - over ? limit - sent : room - over;
            unsigned char *q = put_fragment(c, p, max);
            sent += (size_t)(q - p);
            p = q;
            continue;
        }
        bbt_frame_ref *ref = media_queued(c) ? bbt_queue_peek(c->viewer.q) : NULL;
        if (!ref || ref->cls == BBT_CLASS_AUDIO) /* audio that did not fit: the next write */
            break;
        if (needs_fragments(ref, budget)) {
            c->frag = bbt_frame_ref_hold(ref);
            c->frag_off = 0;
            pop_media(c, now);
            continue;
        }
        if (ref->len + WS_HDR_MAX > room || (sent && sent + ref->len > limit))
            break;
        p = put_msg(p, 0x2, ref->data, ref->len);
        sent += ref->len;
        pop_media(c, now);
    }
    return p;
}

/* The next frame of a viewer without a video budget when it is larger than a batch and nothing
 * comes before it (no control message, no fragment under way); NULL otherwise. */
static bbt_frame_ref *next_big_frame(const struct bbt_conn *c, size_t budget)
{
    if (budget || c->ctl_head || c->frag || !media_queued(c))
        return NULL;
    bbt_frame_ref *ref = bbt_queue_peek(c->viewer.q);
    return ref->len + WS_HDR_MAX > WBUF_CAP ? ref : NULL;
}

/* After the batch, for a viewer without a video budget: the next frame when it could not be
 * batched for its size alone (more than WBUF_CAP) and fits the rest of WBUF_BIG. At a keyframe
 * to 2,000 viewers, writing it on its own meant 2,000 more writes within one flush interval:
 * the relay fell behind, and in the seconds with a keyframe several times more frames waited
 * over 50 ms than in the others (docs/PERFORMANCE.md, session 5). */
static unsigned char *put_big(struct bbt_conn *c, unsigned char *p, size_t budget, int64_t now)
{
    bbt_frame_ref *ref = next_big_frame(c, budget);
    size_t room = (size_t)(c->relay->wbuf + LWS_PRE + WBUF_BIG - p);
    if (!ref || ref->len + WS_HDR_MAX > room)
        return p;
    p = put_msg(p, 0x2, ref->data, ref->len);
    pop_media(c, now);
    return p;
}

/* Frame what is pending into the scratch buffer — control messages, every queued audio frame,
 * then video — and write it at once. */
static int write_batch(struct bbt_conn *c, int64_t now, size_t budget)
{
    unsigned char *base = c->relay->wbuf + LWS_PRE, *p = base, *end = base + WBUF_CAP;
    while (c->ctl_head && c->ctl_head->len + WS_HDR_MAX <= (size_t)(end - p)) {
        p = put_msg(p, 0x1, c->ctl_head->buf + LWS_PRE, c->ctl_head->len);
        pop_control(c);
    }
    if (!c->ctl_head && media_queued(c)) {
        size_t pos;
        bbt_frame_ref *a;
        while ((a = bbt_queue_peek_class(c->viewer.q, BBT_CLASS_AUDIO, &pos)) &&
               a->len + WS_HDR_MAX <= (size_t)(end - p)) {
            p = put_msg(p, 0x2, a->data, a->len);
            pop_media_at(c, pos, a, now);
        }
    }
    if (!c->ctl_head)
        p = put_big(c, put_video(c, p, end, budget, now), budget, now);
    if (p == base) /* the first item alone is larger than the buffer */
        return write_one(c, now);
    c->sent_bytes += (uint64_t)(p - base);
    c->relay->metrics.writes_batched++;
    return lws_write(c->wsi, base, (size_t)(p - base), LWS_WRITE_RAW) < 0 ? -1 : 0;
}

/* The batch stopped at a whole frame too large for it (over WBUF_BIG, or over WBUF_CAP after
 * control messages: a keyframe to a viewer on a fast link) and the socket took the batch: that
 * frame goes now, from where it lies, rather than after a round trip through poll() — at a
 * keyframe that round trip for every viewer held the event loop for milliseconds (689
 * WRITEABLE callbacks, 8 ms, at 2,000 viewers). */
static bool big_frame_next(struct bbt_conn *c, size_t budget)
{
    return next_big_frame(c, budget) && !lws_partial_buffered(c->wsi);
}

/* Bytes the kernel holds for this viewer and has not sent yet; -1 when it cannot say. */
static int kernel_unsent(const struct bbt_conn *c)
{
    int notsent = 0, fd = lws_get_socket_fd(c->wsi);
    return fd >= 0 && ioctl(fd, SIOCOUTQNSD, &notsent) == 0 ? notsent : -1;
}

/* ---- padding (docs/PROTOCOL.md §2.6) ----------------------------------------------------- */

/* A padding probe (relay/adapt.h) adds bbt_adapt_pad_bps() to what a viewer receives: after
 * each write, the padding due since the last one goes as one message of zeros (its first byte
 * BBT_FRAME_PADDING), behind the media it follows and ahead of the next write's: an audio frame
 * waits behind at most one write's padding, a flush interval of it (~2 kB for 360p → 720p).
 * Never more than the kernel's unsent cap allows (padding must not push media into the relay's
 * queue by itself), never more than PAD_CREDIT_US of the rate at once, never in fragments. */
#define PAD_CREDIT_US 100000
#define PAD_MIN 256
#define PAD_MAX 8192

static void write_padding(struct bbt_conn *c, int64_t now)
{
    double bps = c->adapt_on ? bbt_adapt_pad_bps(&c->adapt, now) : 0;
    if (bps <= 0) {
        c->pad_credit = 0;
        c->pad_at_us = 0;
        return;
    }
    if (c->pad_at_us) {
        double due = bps / 8.0 * (double)(now - c->pad_at_us) / 1e6;
        c->pad_credit += due;
        c->pad_due += due;
    }
    c->pad_at_us = now;
    double cap = bps / 8.0 * PAD_CREDIT_US / 1e6;
    if (c->pad_credit > cap)
        c->pad_credit = cap;
    if (c->pad_credit < PAD_MIN || lws_partial_buffered(c->wsi))
        return;
    int unsent = kernel_unsent(c);
    if (unsent < 0 || unsent >= c->est.unsent_cap)
        return;
    size_t n = c->pad_credit > PAD_MAX ? PAD_MAX : (size_t)c->pad_credit;
    unsigned char *p = c->relay->wbuf + LWS_PRE;
    memset(p, BBT_FRAME_PADDING, n);
    if (lws_write(c->wsi, p, n, LWS_WRITE_BINARY) < 0)
        return; /* the socket is gone: the next write or the stall check closes it */
    c->pad_credit -= (double)n;
    c->pad_sent += (double)n;
    c->sent_bytes += n + ws_header_len(n);
    c->relay->metrics.padding_bytes += n;
}

/* Write what is pending (one lws_write), at most `budget` bytes of video (video_budget(), the
 * caller's: a paced write has computed it already). Afterwards the stall clock restarts if more
 * is left, and WRITEABLE is asked for when more is left or the connection is closing. */
static int flush(struct bbt_conn *c, int64_t now, size_t budget)
{
    size_t items = c->ctl_count + (c->viewer.session ? bbt_queue_count(c->viewer.q) : 0);
    int rc = 0;
    if (items == 1 && !c->frag &&
        (c->ctl_head || !needs_fragments(bbt_queue_peek(c->viewer.q), budget)))
        rc = write_one(c, now);
    else if (items || c->frag)
        rc = write_batch(c, now, budget);
    if (rc == 0 && big_frame_next(c, budget))
        rc = write_one(c, now);
    if (rc == 0 && c->padding && !c->close_code && c->viewer.session)
        write_padding(c, now);
    if (items || c->frag)
        c->last_write_us = now;
    int more = c->ctl_head || media_queued(c) || c->frag;
    c->stall_since_us = more ? now : 0;
    if (rc == 0 && (more || c->close_code))
        bbt_conn_want_write(c);
    return rc;
}

int bbt_conn_on_writable(struct bbt_conn *c)
{
    if (!c->ctl_head && c->close_code) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    int64_t now = bbt_mono_us();
    if (bbt_conn_write_held(c, now)) /* (paced_write) asked again when the next frame comes */
        return 0;
    return flush(c, now, video_budget(c, now));
}

/* ---- pacing ------------------------------------------------------------------------------ */

/* The interval between two writes to one viewer: viewers ÷ write_rate, so the relay as a whole
 * makes about write_rate writes a second however many watch (with 2,000 viewers and the default
 * 50,000: 40 ms; with 100: 2 ms, i.e. no added latency worth the name), capped by
 * flush_interval. */
int64_t bbt_conn_flush_us(const bbt_relay *r)
{
    int64_t us = (int64_t)r->nviewers * 1000000 / r->cfg.queue.write_rate;
    int64_t cap = r->cfg.queue.flush_interval_ms * 1000;
    return us < cap ? us : cap;
}

static void pace_run(lws_sorted_usec_list_t *sul);
/* A run of the pacing timer writes for at most this long, then gives the event loop a turn (the
 * timer is re-armed at once): a frame from the publisher waits at most this long to be read.
 * Unbounded, runs of 800-1,200 viewers held the loop 10-25 ms and frames waited in the
 * publisher's socket that long (bbt_ingest_age_ms p99 15-35 ms at 2,000 viewers; 5 ms with
 * the bound). */
#define PACE_RUN_MAX_US 2000

/* (Re)arm the pacing timer for `due`, the earliest due viewer's time, unless it is armed for
 * that time or earlier already. */
static void pace_arm(bbt_relay *r, int64_t due, int64_t now)
{
    if (due < 0 || (r->pace_armed_us && r->pace_armed_us <= due))
        return;
    r->pace_armed_us = due;
    lws_sul_schedule(r->ctx, 0, &r->sul_pace, pace_run, due > now ? due - now : 0);
}

/* The kernel holds at least the unsent cap for this viewer already. TCP_NOTSENT_LOWAT alone
 * does not bound it: it stops poll() reporting the socket writable, but a send() appends to the
 * last unsent segment without looking at it, and with segmentation offload (size_goal up to
 * 64 KiB) that is most sends — `ss -ti` showed 18–42 kB unsent (a second at 400 kbit/s) on the
 * rural bench's veth, audio behind it. Asked only for viewers with a video budget (slow
 * links): one more system call a write. */
static bool kernel_full(const struct bbt_conn *c, size_t budget)
{
    return budget && c->est.unsent_cap > 0 && kernel_unsent(c) >= c->est.unsent_cap;
}

static void paced_write(struct bbt_conn *c, int64_t now)
{
    if (!c->close_code && bbt_conn_write_held(c, now))
        return; /* TCP is repairing a loss: nothing new until it has (file comment) */
    size_t budget = video_budget(c, now);
    if (c->close_code || lws_partial_buffered(c->wsi) || kernel_full(c, budget)) {
        bbt_conn_want_write(c); /* the WRITEABLE callback takes over (when poll says so) */
        return;
    }
    if (!c->ctl_head && !media_queued(c) && !c->frag)
        return;
    if (flush(c, now, budget) < 0) {
        BBT_WARN("write failed peer=%s subject=%s: closing", c->peer, c->subject);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

/* Writes the viewers due when it started, for at most PACE_RUN_MAX_US, each with the time of its
 * own write: the queue-wait histogram counts up to the write, not to the start of the run (which
 * undercounted the wait of the last of 2,000 viewers by the run's length). Viewers still due
 * when the time is up are written by the next run, at once after the event loop's turn. */
static void pace_run(lws_sorted_usec_list_t *sul)
{
    bbt_relay *r = lws_container_of(sul, bbt_relay, sul_pace);
    r->pace_armed_us = 0;
    int64_t now = bbt_mono_us(), t = now;
    bbt_pace_node *n;
    while (t - now < PACE_RUN_MAX_US && (n = bbt_pace_pop(r->pace, now))) {
        paced_write(lws_container_of(n, struct bbt_conn, pace), t);
        t = bbt_mono_us();
    }
    pace_arm(r, bbt_pace_next_due(r->pace), bbt_mono_us());
}

void bbt_conn_media_ready(struct bbt_conn *c, int64_t now)
{
    bbt_relay *r = c->relay;
    if (!c->stall_since_us)
        c->stall_since_us = now;
    /* The timer is armed whenever the wheel is not empty (pace_run re-arms it), so this node's
     * due time is the only one that can be earlier than the armed one. */
    int64_t due = bbt_pace_add(r->pace, &c->pace, c->last_write_us + bbt_conn_flush_us(r), now);
    pace_arm(r, due, now);
}

void bbt_conn_write_closed(struct bbt_conn *c)
{
    bbt_pace_remove(c->relay->pace, &c->pace);
}
