/* node/txq.c — the bounded, time-limited uplink queue and its drop policy (see txq.h). */
#include "node/txq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

struct bbt_txq {
    pthread_mutex_t mu;
    bbt_node_frame *head, *tail;
    int64_t max_delay_us;
    size_t max_bytes;
    bool open;
    uint32_t await_key;  /* video tracks waiting for a keyframe */
    uint32_t key_wanted; /* reported by bbt_txq_take_key_wanted */
    bbt_txq_stats st;
    void (*notify)(void *ud);
    void *ud;
};

bbt_node_frame *bbt_node_frame_new(size_t len)
{
    bbt_node_frame *f = malloc(sizeof *f + BBT_NODE_FRAME_HEADROOM + BBT_FRAME_HEADER_LEN + len);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->len = len;
    return f;
}

void bbt_node_frame_free(bbt_node_frame *f) { free(f); }

uint8_t *bbt_node_frame_payload(bbt_node_frame *f)
{
    return f->buf + BBT_NODE_FRAME_HEADROOM + BBT_FRAME_HEADER_LEN;
}

uint8_t *bbt_node_frame_seal(bbt_node_frame *f, uint32_t seq)
{
    bbt_frame h = {.track = f->track, .flags = f->flags, .seq = seq,
                   .capture_us = (uint64_t)(f->capture_us > 0 ? f->capture_us : 0),
                   .len = f->len};
    uint8_t *at = f->buf + BBT_NODE_FRAME_HEADROOM;
    return bbt_frame_encode_header(&h, at) == BBT_OK ? at : NULL;
}

bbt_txq *bbt_txq_new(int64_t max_delay_us, size_t max_bytes, void (*notify)(void *ud), void *ud)
{
    bbt_txq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->max_delay_us = max_delay_us;
    q->max_bytes = max_bytes;
    q->notify = notify;
    q->ud = ud;
    return q;
}

static void flush_locked(bbt_txq *q)
{
    while (q->head) {
        bbt_node_frame *f = q->head;
        q->head = f->next;
        free(f);
    }
    q->tail = NULL;
    q->st.frames = 0;
    q->st.bytes = 0;
}

void bbt_txq_free(bbt_txq *q)
{
    if (!q)
        return;
    flush_locked(q);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* Unlink `f` (whose predecessor is `prev`, NULL at the head) and free it. */
static void unlink_frame(bbt_txq *q, bbt_node_frame *prev, bbt_node_frame *f)
{
    if (prev)
        prev->next = f->next;
    else
        q->head = f->next;
    if (q->tail == f)
        q->tail = prev;
    q->st.frames--;
    q->st.bytes -= f->len;
    if (f->audio)
        q->st.dropped_audio++;
    else
        q->st.dropped_video++;
    free(f);
}

/* Drop the oldest group of pictures of the track of the oldest queued video frame. Returns
 * false when there is no video in the queue. */
static bool drop_oldest_video(bbt_txq *q)
{
    bbt_node_frame *v = q->head;
    while (v && v->audio)
        v = v->next;
    if (!v)
        return false;
    unsigned track = v->track;
    bool has_later_key = false;
    for (bbt_node_frame *f = v->next; f; f = f->next)
        if (f->track == track && (f->flags & BBT_FRAME_KEY)) {
            has_later_key = true;
            break;
        }
    bbt_node_frame *prev = NULL, *f = q->head;
    bool first = true;
    while (f) {
        bbt_node_frame *next = f->next;
        if (f->track == track) {
            if (has_later_key && !first && (f->flags & BBT_FRAME_KEY))
                break; /* keep from the next keyframe on */
            first = false;
            unlink_frame(q, prev, f);
        } else {
            prev = f;
        }
        f = next;
    }
    if (!has_later_key) {
        q->await_key |= 1u << track;
        q->key_wanted |= 1u << track;
    }
    return true;
}

static bool over_limits(const bbt_txq *q)
{
    if (!q->head)
        return false;
    return q->tail->capture_us - q->head->capture_us > q->max_delay_us || q->st.bytes > q->max_bytes;
}

static void enforce_locked(bbt_txq *q)
{
    while (over_limits(q)) {
        if (drop_oldest_video(q))
            continue;
        unlink_frame(q, NULL, q->head); /* only audio left */
    }
}

/* Under the lock: whether `f` may join the queue at all. */
static bool admit_locked(bbt_txq *q, const bbt_node_frame *f)
{
    if (!q->open) {
        q->st.dropped_closed++;
        return false;
    }
    uint32_t bit = 1u << f->track;
    if (!f->audio && (q->await_key & bit)) {
        if (!(f->flags & BBT_FRAME_KEY)) {
            q->st.dropped_nokey++;
            return false;
        }
        q->await_key &= ~bit;
    }
    return true;
}

int bbt_txq_push(bbt_txq *q, bbt_node_frame *f)
{
    if (!q || !f) {
        free(f);
        return BBT_EINVAL;
    }
    f->next = NULL;
    pthread_mutex_lock(&q->mu);
    q->st.pushed++;
    if (!admit_locked(q, f)) {
        pthread_mutex_unlock(&q->mu);
        free(f);
        return BBT_EFULL;
    }
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->st.frames++;
    q->st.bytes += f->len;
    enforce_locked(q);
    bool kept = q->tail == f;
    pthread_mutex_unlock(&q->mu);
    if (q->notify)
        q->notify(q->ud);
    return kept ? BBT_OK : BBT_EFULL;
}

bbt_node_frame *bbt_txq_pop(bbt_txq *q)
{
    pthread_mutex_lock(&q->mu);
    bbt_node_frame *f = q->head;
    if (f) {
        q->head = f->next;
        if (!q->head)
            q->tail = NULL;
        q->st.frames--;
        q->st.bytes -= f->len;
        q->st.popped++;
        f->next = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    return f;
}

void bbt_txq_open(bbt_txq *q, uint32_t video_mask)
{
    pthread_mutex_lock(&q->mu);
    q->open = true;
    q->await_key = video_mask;
    pthread_mutex_unlock(&q->mu);
}

void bbt_txq_close(bbt_txq *q)
{
    pthread_mutex_lock(&q->mu);
    q->open = false;
    flush_locked(q);
    pthread_mutex_unlock(&q->mu);
}

bool bbt_txq_is_open(bbt_txq *q)
{
    pthread_mutex_lock(&q->mu);
    bool open = q->open;
    pthread_mutex_unlock(&q->mu);
    return open;
}

uint32_t bbt_txq_take_key_wanted(bbt_txq *q)
{
    pthread_mutex_lock(&q->mu);
    uint32_t m = q->key_wanted;
    q->key_wanted = 0;
    pthread_mutex_unlock(&q->mu);
    return m;
}

bbt_txq_stats bbt_txq_get_stats(bbt_txq *q)
{
    pthread_mutex_lock(&q->mu);
    bbt_txq_stats s = q->st;
    pthread_mutex_unlock(&q->mu);
    return s;
}
