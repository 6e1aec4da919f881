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
 *     copy; a frame larger than the buffer goes alone the same way.
 * The write happens from the pacing timer, outside a WRITEABLE callback, only when lws holds no
 * unsent remainder of an earlier write (lws_partial_buffered): a socket that did not take
 * everything makes lws keep the rest and ask for WRITEABLE, and from then on the connection is
 * written from its WRITEABLE callbacks until it has drained. TCP_NOTSENT_LOWAT (conn_adapt.c,
 * ~100 ms of the delivered rate, 4..32 KiB) makes send() refuse data beyond it, so the kernel never
 * hides a backlog from the queue's drop policy. Closing (close_code) always happens in a
 * WRITEABLE callback.
 * Failure: a write that fails outside a callback marks the connection to be killed by lws (the
 * socket is gone); inside one, returning -1 closes it.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"

/* One write's worth: ~0.2 s of a 600 kbit/s viewer, far more than one flush interval's frames.
 * Small on purpose: what a slow link's socket does not take stays in lws's buffer, out of reach
 * of the drop policy, and the next control message (a layer switch) waits behind it. */
#define WBUF_CAP (16 * 1024)
#define WS_HDR_MAX 10

void bbt_conn_want_write(struct bbt_conn *c)
{
    if (!c->stall_since_us)
        c->stall_since_us = bbt_mono_us();
    lws_callback_on_writable(c->wsi);
}

int bbt_conn_write_start(bbt_relay *r)
{
    r->pace = bbt_pace_new(PACE_SLOT_US, PACE_SLOTS);
    r->wbuf = malloc(LWS_PRE + WBUF_CAP);
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

static void pop_media(struct bbt_conn *c, int64_t now)
{
    bbt_frame_ref *ref = bbt_queue_peek(c->viewer.q);
    bbt_session_count_out(c->viewer.session, ref->len);
    int64_t waited = bbt_queue_pop(c->viewer.q, now);
    bbt_histogram_observe(&c->relay->metrics.queue_delay, (double)waited / 1000.0);
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

/* Frame everything pending that fits into the scratch buffer and write it at once. */
static int write_batch(struct bbt_conn *c, int64_t now)
{
    unsigned char *base = c->relay->wbuf + LWS_PRE, *p = base;
    size_t room = WBUF_CAP;
    while (c->ctl_head && c->ctl_head->len + WS_HDR_MAX <= room) {
        struct ctl_msg *m = c->ctl_head;
        p += ws_header(p, 0x1, m->len);
        memcpy(p, m->buf + LWS_PRE, m->len);
        p += m->len;
        room = WBUF_CAP - (size_t)(p - base);
        pop_control(c);
    }
    while (!c->ctl_head && media_queued(c)) {
        bbt_frame_ref *ref = bbt_queue_peek(c->viewer.q);
        if (ref->len + WS_HDR_MAX > room)
            break;
        p += ws_header(p, 0x2, ref->len);
        memcpy(p, ref->data, ref->len);
        p += ref->len;
        room = WBUF_CAP - (size_t)(p - base);
        pop_media(c, now);
    }
    if (p == base) /* the first item alone is larger than the buffer */
        return write_one(c, now);
    c->sent_bytes += (uint64_t)(p - base);
    c->relay->metrics.writes_batched++;
    return lws_write(c->wsi, base, (size_t)(p - base), LWS_WRITE_RAW) < 0 ? -1 : 0;
}

/* Write what is pending (one lws_write). Afterwards the stall clock restarts if more is left,
 * and WRITEABLE is asked for when more is left or the connection is closing. */
static int flush(struct bbt_conn *c, int64_t now)
{
    size_t items = c->ctl_count + (c->viewer.session ? bbt_queue_count(c->viewer.q) : 0);
    int rc = 0;
    if (items == 1)
        rc = write_one(c, now);
    else if (items > 1)
        rc = write_batch(c, now);
    if (items)
        c->last_write_us = now;
    int more = c->ctl_head || media_queued(c);
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
    return flush(c, bbt_mono_us());
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

/* (Re)arm the pacing timer for `due`, the earliest due viewer's time, unless it is armed for
 * that time or earlier already. */
static void pace_arm(bbt_relay *r, int64_t due, int64_t now)
{
    if (due < 0 || (r->pace_armed_us && r->pace_armed_us <= due))
        return;
    r->pace_armed_us = due;
    lws_sul_schedule(r->ctx, 0, &r->sul_pace, pace_run, due > now ? due - now : 0);
}

static void paced_write(struct bbt_conn *c, int64_t now)
{
    if (c->close_code || lws_partial_buffered(c->wsi)) {
        bbt_conn_want_write(c); /* the WRITEABLE callback takes over */
        return;
    }
    if (!c->ctl_head && !media_queued(c))
        return;
    if (flush(c, now) < 0) {
        BBT_WARN("write failed peer=%s subject=%s: closing", c->peer, c->subject);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void pace_run(lws_sorted_usec_list_t *sul)
{
    bbt_relay *r = lws_container_of(sul, bbt_relay, sul_pace);
    r->pace_armed_us = 0;
    int64_t now = bbt_mono_us();
    bbt_pace_node *n;
    while ((n = bbt_pace_pop(r->pace, now)))
        paced_write(lws_container_of(n, struct bbt_conn, pace), now);
    pace_arm(r, bbt_pace_next_due(r->pace), now);
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
