/* node/uplink.c — the publishing role on the relay link (see uplink.h). */
#include "node/uplink.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/stats.h"
#include "proto/frame.h"
#include "proto/log.h"
#include "proto/status.h"

_Static_assert(BBT_NODE_FRAME_HEADROOM >= LWS_PRE, "frame headroom must hold the ws header");

#define QUEUE_MAX_BYTES (32u * 1024u * 1024u)

enum pub_state { P_IDLE, P_SENT, P_LIVE };

struct bbt_uplink {
    bbt_link *link;
    bbt_txq *q;
    char *session;
    bbt_keyframe_fn key_fn;
    void *key_ud;

    pthread_mutex_t mu; /* guards the pending track list */
    bbt_track_info pending[BBT_MAX_TRACKS];
    size_t npending;
    unsigned pending_version;

    /* link thread only */
    bbt_track_info tracks[BBT_MAX_TRACKS];
    size_t ntracks;
    unsigned published_version;
    enum pub_state state;
    uint32_t seq[BBT_FRAME_MAX_TRACKS];
    bool ending;
    size_t end_next;
    bbt_latency video_lat, audio_lat;
    unsigned connects;

    _Atomic uint64_t bytes[BBT_FRAME_MAX_TRACKS], frames[BBT_FRAME_MAX_TRACKS];
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void wake_link(void *ud)
{
    bbt_uplink *u = ud;
    if (u->link)
        bbt_link_wake(u->link);
}

static uint32_t video_mask(const bbt_uplink *u)
{
    uint32_t m = 0;
    for (size_t i = 0; i < u->ntracks; i++)
        if (u->tracks[i].kind != BBT_TRACK_AUDIO)
            m |= 1u << u->tracks[i].id;
    return m;
}

/* ---- publishing ----------------------------------------------------------------------------- */

static void maybe_publish(bbt_uplink *u, bbt_link *l)
{
    bbt_track_info tracks[BBT_MAX_TRACKS];
    pthread_mutex_lock(&u->mu);
    unsigned version = u->pending_version;
    size_t n = u->npending;
    memcpy(tracks, u->pending, n * sizeof *tracks);
    pthread_mutex_unlock(&u->mu);
    if (!bbt_link_ready(l) || version == u->published_version)
        return;
    memcpy(u->tracks, tracks, n * sizeof *tracks);
    u->ntracks = n;
    u->published_version = version;
    if (n == 0) {
        BBT_WARN("nothing to publish: no source could be opened");
        return;
    }
    json_t *m = json_pack("{s:s, s:i, s:s, s:o?}", "type", "publish", "id", 2, "session",
                          u->session, "tracks", bbt_tracks_to_json(u->tracks, n));
    if (bbt_link_send_json(l, m) == BBT_OK && u->state == P_IDLE)
        u->state = P_SENT;
}

static void log_published(const bbt_uplink *u)
{
    char buf[768];
    size_t off = 0;
    for (size_t i = 0; i < u->ntracks && off < sizeof buf; i++) {
        const bbt_track_info *t = &u->tracks[i];
        if (t->kind == BBT_TRACK_AUDIO)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d:audio %s %lldk", t->id,
                                    t->codec, (long long)t->bitrate / 1000);
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d:%s/L%d %dx%d@%g %s %lldk",
                                    t->id, bbt_track_kind_name(t->kind), t->layer, t->width,
                                    t->height, t->fps, t->codec, (long long)t->bitrate / 1000);
    }
    BBT_INFO("publishing session=%s tracks:%s", u->session, buf);
}

static void on_published(bbt_uplink *u, bbt_link *l)
{
    u->state = P_LIVE;
    u->connects++;
    bbt_link_reset_backoff(l);
    log_published(u);
    bbt_txq_open(u->q, video_mask(u)); /* video waits for keyframes... */
    if (u->key_fn && video_mask(u))
        u->key_fn(-1, u->key_ud); /* ...which are made at once */
}

/* ---- link hooks (link thread) --------------------------------------------------------------- */

static void on_welcomed(bbt_link *l, const json_t *w, void *ud)
{
    bbt_uplink *u = ud;
    u->state = P_IDLE;
    u->published_version = 0;
    maybe_publish(u, l);
}

static void on_keyframe_msg(bbt_uplink *u, const json_t *m)
{
    int track = (int)json_integer_value(json_object_get(m, "track"));
    const char *reason = json_string_value(json_object_get(m, "reason"));
    BBT_INFO("keyframe request track=%d%s%s", track, reason ? " reason=" : "", reason ? reason : "");
    if (u->key_fn)
        u->key_fn(track, u->key_ud);
}

static void on_message(bbt_link *l, bbt_msg_type type, const json_t *m, void *ud)
{
    bbt_uplink *u = ud;
    switch (type) {
    case BBT_MSG_PUBLISHED:
        on_published(u, l);
        break;
    case BBT_MSG_KEYFRAME:
        on_keyframe_msg(u, m);
        break;
    case BBT_MSG_HAND:
        BBT_INFO("hand %s by classroom %s",
                 json_is_true(json_object_get(m, "raised")) ? "raised" : "lowered",
                 json_string_value(json_object_get(m, "classroom")));
        break;
    case BBT_MSG_ERROR:
        if (u->state == P_SENT) /* the publish was refused: try again on the next change */
            u->state = P_IDLE;
        break;
    default:
        BBT_DEBUG("relay message %s ignored", bbt_msg_type_name(type));
        break;
    }
}

static void account(bbt_uplink *u, const bbt_node_frame *f, int64_t now)
{
    atomic_fetch_add(&u->bytes[f->track], f->len + BBT_FRAME_HEADER_LEN);
    atomic_fetch_add(&u->frames[f->track], 1);
    double ms = (double)(now - f->capture_us) / 1000.0;
    bbt_latency_add(f->audio ? &u->audio_lat : &u->video_lat, ms);
}

static bool write_end(bbt_uplink *u, bbt_link *l)
{
    if (u->end_next >= u->ntracks) {
        json_t *bye = json_pack("{s:s, s:s}", "type", "bye", "reason", "lesson ended");
        bbt_link_send_json(l, bye);
        bbt_link_finish(l);
        return false;
    }
    bbt_node_frame *f = bbt_node_frame_new(0);
    if (!f)
        return false;
    f->track = (uint8_t)u->tracks[u->end_next++].id;
    f->flags = BBT_FRAME_END;
    f->capture_us = wall_us();
    uint8_t *msg = bbt_node_frame_seal(f, u->seq[f->track]++);
    if (msg)
        bbt_link_write_binary(l, msg, BBT_FRAME_HEADER_LEN);
    bbt_node_frame_free(f);
    return true;
}

static bool on_writable(bbt_link *l, void *ud)
{
    bbt_uplink *u = ud;
    if (u->ending)
        return write_end(u, l);
    if (u->state != P_LIVE)
        return false;
    bbt_node_frame *f = bbt_txq_pop(u->q);
    if (!f)
        return false;
    uint8_t *msg = bbt_node_frame_seal(f, u->seq[f->track]);
    if (msg) {
        u->seq[f->track]++;
        int n = bbt_link_write_binary(l, msg, BBT_FRAME_HEADER_LEN + f->len);
        if (n >= 0)
            account(u, f, wall_us());
    }
    bbt_node_frame_free(f);
    return bbt_txq_get_stats(u->q).frames > 0;
}

static void on_wake(bbt_link *l, void *ud)
{
    bbt_uplink *u = ud;
    maybe_publish(u, l);
    uint32_t want = bbt_txq_take_key_wanted(u->q);
    for (int t = 0; want && t < BBT_FRAME_MAX_TRACKS; t++)
        if (want >> t & 1u) {
            want &= ~(1u << t);
            BBT_INFO("keyframe needed track=%d (uplink queue dropped its pictures)", t);
            if (u->key_fn)
                u->key_fn(t, u->key_ud);
        }
    if (u->state == P_LIVE)
        bbt_link_want_write(l);
}

static void on_stopping(bbt_link *l, void *ud)
{
    bbt_uplink *u = ud;
    bbt_txq_close(u->q);
    if (u->state != P_LIVE) {
        bbt_link_send_json(l, json_pack("{s:s, s:s}", "type", "bye", "reason", "lesson ended"));
        bbt_link_finish(l);
        return;
    }
    u->ending = true;
    u->end_next = 0;
    bbt_link_want_write(l);
}

static void on_closed(bbt_link *l, void *ud)
{
    bbt_uplink *u = ud;
    bbt_txq_close(u->q); /* nothing piles up while the relay is away */
    u->state = P_IDLE;
}

/* ---- public ----------------------------------------------------------------------------------- */

static void uplink_free(bbt_uplink *u)
{
    bbt_txq_free(u->q);
    bbt_latency_clear(&u->video_lat);
    bbt_latency_clear(&u->audio_lat);
    pthread_mutex_destroy(&u->mu);
    free(u->session);
    free(u);
}

bbt_uplink *bbt_uplink_start(const bbt_uplink_opts *o, bbt_keyframe_fn key_fn, void *ud, int *err)
{
    *err = BBT_ENOMEM;
    bbt_uplink *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    pthread_mutex_init(&u->mu, NULL);
    u->key_fn = key_fn;
    u->key_ud = ud;
    u->session = strdup(o->session ? o->session : "");
    u->q = bbt_txq_new(o->queue_max_delay_ms * 1000, QUEUE_MAX_BYTES, wake_link, u);
    if (!u->session || !u->q || bbt_latency_init(&u->video_lat) != BBT_OK ||
        bbt_latency_init(&u->audio_lat) != BBT_OK) {
        uplink_free(u);
        return NULL;
    }
    bbt_link_opts lo = o->link;
    lo.role = "source";
    bbt_link_hooks h = {.welcomed = on_welcomed, .message = on_message, .writable = on_writable,
                        .wake = on_wake, .stopping = on_stopping, .closed = on_closed};
    /* frames pushed before the link exists are dropped: the queue is still closed */
    u->link = bbt_link_start(&lo, &h, u, err);
    if (!u->link) {
        uplink_free(u);
        return NULL;
    }
    return u;
}

bbt_txq *bbt_uplink_queue(bbt_uplink *u) { return u->q; }

void bbt_uplink_set_tracks(bbt_uplink *u, const bbt_track_info *tracks, size_t n)
{
    if (n > BBT_MAX_TRACKS)
        n = BBT_MAX_TRACKS;
    pthread_mutex_lock(&u->mu);
    memcpy(u->pending, tracks, n * sizeof *tracks);
    u->npending = n;
    u->pending_version++;
    pthread_mutex_unlock(&u->mu);
    bbt_link_wake(u->link);
}

void bbt_uplink_counters(bbt_uplink *u, uint64_t bytes[32], uint64_t frames[32])
{
    for (int t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        bytes[t] = atomic_load(&u->bytes[t]);
        frames[t] = atomic_load(&u->frames[t]);
    }
}

static void summarise(bbt_uplink *u, bbt_uplink_summary *s)
{
    memset(s, 0, sizeof *s);
    for (int t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        s->frames_sent += atomic_load(&u->frames[t]);
        s->bytes_sent += atomic_load(&u->bytes[t]);
    }
    s->video_frames = u->video_lat.count;
    s->audio_frames = u->audio_lat.count;
    s->video_p50_ms = bbt_latency_percentile(&u->video_lat, 50);
    s->video_p95_ms = bbt_latency_percentile(&u->video_lat, 95);
    s->video_p99_ms = bbt_latency_percentile(&u->video_lat, 99);
    s->video_max_ms = u->video_lat.max_ms;
    s->audio_p50_ms = bbt_latency_percentile(&u->audio_lat, 50);
    s->audio_p95_ms = bbt_latency_percentile(&u->audio_lat, 95);
    s->audio_max_ms = u->audio_lat.max_ms;
    bbt_txq_stats q = bbt_txq_get_stats(u->q);
    s->dropped_disconnected = q.dropped_closed;
    s->dropped_queue = q.dropped_video + q.dropped_audio;
    s->dropped_nokey = q.dropped_nokey;
    s->connects = u->connects;
}

void bbt_uplink_stop(bbt_uplink *u, int grace_ms, bbt_uplink_summary *sum)
{
    if (!u)
        return;
    bbt_link_stop(u->link, grace_ms); /* the link thread has ended when this returns */
    u->link = NULL;
    if (sum)
        summarise(u, sum);
    uplink_free(u);
}
