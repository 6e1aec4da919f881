/* tests/bench/publisher.c — the synthetic publisher: hello (role source) → welcome,
 * publish (the recording's track list) → published, then the recording's frames in real time,
 * in a loop, one frame per WRITEABLE callback, paced by an lws timer.
 *
 * Each frame goes out as recorded except two header fields: seq continues per track across
 * loops (so viewers see one unbroken sequence), and capture_us is the wall clock at the moment
 * of sending (so a viewer's now − capture_us is the relay's and the sockets' latency only).
 * Keyframe requests from the relay are counted and, by default, not answered: the recording has
 * a keyframe every 2 s on every layer anyway. With o.answer_keyframes (`bbt-bench rural`) the
 * publisher answers like bbt-node's encoder: the next frame it sends on that track is a copy of
 * the track's first recorded keyframe (same size and flags, the track's next seq), and the
 * recording then goes on. Nothing here decodes pictures, so only sizes and flags matter.
 * Also the small text helpers the viewers share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "proto/status.h"

#define LATE_US 50000 /* a frame sent this late counts as late: the bench is overloaded */

int bench_text_append(char **buf, size_t *len, const void *in, size_t n, size_t max)
{
    if (*len + n > max)
        return BBT_EMSG_TOO_BIG;
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return BBT_ENOMEM;
    memcpy(nb + *len, in, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
    return BBT_OK;
}

int bench_write_text(struct lws *wsi, const char *text, size_t len)
{
    unsigned char buf[LWS_PRE + 2048];
    if (len > sizeof buf - LWS_PRE)
        return BBT_EINVAL;
    memcpy(buf + LWS_PRE, text, len);
    return lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len ? BBT_EIO : BBT_OK;
}

char *bench_json_text(bbt_msg_type type, json_t *msg, size_t *len)
{
    char err[256] = "out of memory";
    int rc = msg ? bbt_control_validate(type, msg, err, sizeof err) : BBT_ENOMEM;
    char *text = rc == BBT_OK ? bbt_control_dump(msg, len) : NULL;
    json_decref(msg);
    if (!text)
        fprintf(stderr, "bbt-bench: cannot build a %s message: %s\n", bbt_msg_type_name(type),
                err);
    return text;
}

int bench_write_json(struct lws *wsi, bbt_msg_type type, json_t *msg)
{
    size_t len = 0;
    char *text = bench_json_text(type, msg, &len);
    if (!text)
        return BBT_EINVAL;
    int rc = bench_write_text(wsi, text, len);
    free(text);
    return rc;
}

json_t *bench_hello(const char *role, const char *classroom, const char *token)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s}}", "type", "hello", "id", 1, "token",
                     token ? token : "", "role", role, "classroom", classroom, "client", "name",
                     "bbt-bench", "version", BBT_VERSION);
}

/* ---- pacing ------------------------------------------------------------------------------ */

static int64_t due_us(const publisher *p)
{
    const bbt_recording *r = &p->b->rec;
    return p->start_us + (int64_t)p->loops * p->loop_us +
           (int64_t)(r->frames[p->pos].capture_us - r->first_us);
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
    publisher *p = lws_container_of(sul, publisher, sul);
    if (p->sending && p->wsi)
        lws_callback_on_writable(p->wsi);
}

/* Ask for WRITEABLE now if a frame is due, else set the timer for the next one. */
static void schedule(publisher *p)
{
    if (!p->sending)
        return;
    int64_t wait = due_us(p) - bench_mono_us();
    if (wait <= 0)
        lws_callback_on_writable(p->wsi);
    else
        lws_sul_schedule(p->b->ctx, 0, &p->sul, on_timer, wait);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The first recorded keyframe of `track`, or NULL. */
static const bbt_rec_frame *first_key(const bbt_recording *r, unsigned track)
{
    for (size_t i = 0; i < r->nframes; i++)
        if (r->frames[i].track == track && (r->frames[i].flags & BBT_FRAME_KEY))
            return &r->frames[i];
    return NULL;
}

/* A forced keyframe on `track` now (answering a request). */
static int send_forced_key(publisher *p, unsigned track)
{
    const bbt_rec_frame *f = first_key(&p->b->rec, track);
    p->key_wanted &= ~(1u << track);
    if (!f)
        return 0;
    uint8_t *w = p->buf + LWS_PRE;
    memcpy(w, f->wire, f->wire_len);
    put_be(w + 4, p->seq[track]++, 4);
    put_be(w + 8, (uint64_t)bench_wall_us(), 8);
    if (lws_write(p->wsi, w, f->wire_len, LWS_WRITE_BINARY) < (int)f->wire_len)
        return -1;
    p->keyframes_forced++;
    p->frames_sent++;
    p->bytes_sent += f->wire_len;
    return 0;
}

static int send_frame(publisher *p)
{
    const bbt_recording *r = &p->b->rec;
    const bbt_rec_frame *f = &r->frames[p->pos];
    int64_t now = bench_mono_us();
    if (now < due_us(p))
        return 0;
    if (now - due_us(p) > LATE_US)
        p->late_frames++;
    if ((p->key_wanted & (1u << f->track)) && (f->flags & BBT_FRAME_KEY)) {
        p->key_wanted &= ~(1u << f->track); /* a keyframe was due anyway */
    } else if (p->key_wanted & (1u << f->track)) {
        /* the encoder's forced keyframe replaces this picture; the recording goes on after it */
        int rc = send_forced_key(p, f->track);
        if (++p->pos == r->nframes) {
            p->pos = 0;
            p->loops++;
        }
        return rc;
    }
    uint8_t *w = p->buf + LWS_PRE;
    memcpy(w, f->wire, f->wire_len);
    put_be(w + 4, p->seq[f->track]++, 4);
    put_be(w + 8, (uint64_t)bench_wall_us(), 8);
    if (lws_write(p->wsi, w, f->wire_len, LWS_WRITE_BINARY) < (int)f->wire_len)
        return -1;
    p->sent_mask |= 1u << f->track;
    p->frames_sent++;
    p->bytes_sent += f->wire_len;
    if (++p->pos == r->nframes) {
        p->pos = 0;
        p->loops++;
    }
    return 0;
}

static void start_sending(publisher *p)
{
    p->published = true;
    p->sending = true;
    p->start_us = bench_mono_us();
    const bbt_recording *r = &p->b->rec;
    p->loop_us = (int64_t)(r->last_us - r->first_us) + 20000;
    schedule(p);
}

void publisher_stop(bench *b)
{
    b->pub.sending = false;
    lws_sul_cancel(&b->pub.sul);
}

/* ---- protocol ------------------------------------------------------------------------------ */

static int send_pending(publisher *p)
{
    bench *b = p->b;
    if (p->pending & SEND_HELLO) {
        p->pending &= ~(unsigned)SEND_HELLO;
        return bench_write_json(p->wsi, BBT_MSG_HELLO, bench_hello("source", "bench-publisher",
                                                                   b->o.token));
    }
    p->pending &= ~(unsigned)SEND_PUBLISH;
    json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:o?}", "type", "publish", "id", 2, "session",
                          b->o.session, "title", "bbt-bench", "tracks",
                          bbt_tracks_to_json(b->rec.tracks, b->rec.ntracks));
    return bench_write_json(p->wsi, BBT_MSG_PUBLISH, m);
}

static void on_text(publisher *p, const char *text, size_t len)
{
    bbt_msg_type type;
    json_t *m = NULL;
    char err[256];
    if (bbt_control_parse(text, len, NULL, &type, &m, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-bench: publisher: bad message from the relay: %s\n", err);
        return;
    }
    if (type == BBT_MSG_WELCOME) {
        p->welcomed = true;
        p->pending |= SEND_PUBLISH;
        lws_callback_on_writable(p->wsi);
    } else if (type == BBT_MSG_PUBLISHED && !p->published) {
        start_sending(p);
    } else if (type == BBT_MSG_KEYFRAME) {
        p->keyframe_requests++;
        json_int_t t = json_integer_value(json_object_get(m, "track"));
        if (p->b->o.answer_keyframes && t >= 0 && t < BBT_FRAME_MAX_TRACKS)
            p->key_wanted |= 1u << t;
    } else if (type == BBT_MSG_ERROR) {
        fprintf(stderr, "bbt-bench: publisher: relay error: %s\n",
                json_string_value(json_object_get(m, "message")));
        p->failed = true;
    }
    json_decref(m);
}

static int on_receive(publisher *p, void *in, size_t len, struct lws *wsi)
{
    static const size_t max = 1u << 20;
    if (lws_frame_is_binary(wsi))
        return 0; /* the relay never sends media to a publisher */
    if (lws_is_first_fragment(wsi))
        p->text_len = 0;
    if (bench_text_append(&p->text, &p->text_len, in, len, max) != BBT_OK)
        return -1;
    if (lws_is_final_fragment(wsi))
        on_text(p, p->text, p->text_len);
    return 0;
}

int publisher_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    publisher *p = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        p->pending |= SEND_HELLO;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(p, in, len, wsi);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (p->pending) {
            if (send_pending(p) != BBT_OK)
                return -1;
            if (p->pending)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (p->sending && send_frame(p) < 0)
            return -1;
        schedule(p);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "bbt-bench: publisher cannot connect: %s\n", in ? (char *)in : "?");
        /* fall through */
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (p && !p->closed) {
            p->closed = true;
            p->wsi = NULL;
            p->sending = false;
            lws_sul_cancel(&p->sul);
            if (!p->b->closing)
                p->failed = true;
        }
        return 0;
    default:
        return 0;
    }
}

int publisher_connect(bench *b)
{
    publisher *p = &b->pub;
    p->b = b;
    p->bufcap = LWS_PRE;
    for (size_t i = 0; i < b->rec.nframes; i++)
        if (LWS_PRE + b->rec.frames[i].wire_len > p->bufcap)
            p->bufcap = LWS_PRE + b->rec.frames[i].wire_len;
    p->buf = malloc(p->bufcap);
    if (!p->buf)
        return BBT_ENOMEM;
    struct lws_client_connect_info ci = {.context = b->ctx, .address = b->host, .port = b->port,
                                         .path = b->path, .host = b->host, .origin = b->host,
                                         .protocol = "bbt.v1",
                                         .local_protocol_name = "bench-publisher",
                                         .userdata = p, .pwsi = &p->wsi,
                                         .ssl_connection = b->tls ? LCCSCF_USE_SSL |
                                                                        LCCSCF_ALLOW_SELFSIGNED |
                                                                        LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                                                  : 0};
    return lws_client_connect_via_info(&ci) ? BBT_OK : BBT_EIO;
}
