/* relay/session.c — session registry, publisher, tracks, viewers and fan-out (see session.h). */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/audio_tail.h"

struct bbt_session {
    char id[BBT_SESSION_ID_MAX + 1];
    bbt_registry *reg;
    enum bbt_session_state state;
    void *publisher;
    int64_t last_in_us;                        /* last frame from the publisher */
    bbt_track_info tracks[BBT_FRAME_MAX_TRACKS];
    size_t ntracks;
    int slot[BBT_FRAME_MAX_TRACKS];            /* track id -> index in tracks[], -1 absent */
    uint32_t ended;                            /* bit t: track t sent END */
    bbt_gop_cache *gop[BBT_FRAME_MAX_TRACKS];  /* video and courseware tracks */
    bbt_audio_tail *atail[BBT_FRAME_MAX_TRACKS]; /* audio tracks: the start of a copy */
    bbt_track_stats stats[BBT_FRAME_MAX_TRACKS];
    int64_t last_keyreq_us[BBT_FRAME_MAX_TRACKS];
    bbt_viewer **viewers;
    size_t nviewers, cap_viewers;
    uint64_t bytes_out, frames_out;
};

struct bbt_registry {
    bbt_session **sessions;
    size_t count, cap;
    bbt_registry_limits lim;
    bbt_session_hooks hooks;
};

bbt_registry *bbt_registry_new(const bbt_registry_limits *lim, const bbt_session_hooks *hooks)
{
    bbt_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->lim = *lim;
    r->hooks = *hooks;
    return r;
}

static void session_free(bbt_session *s)
{
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        bbt_gop_cache_free(s->gop[t]);
        bbt_audio_tail_free(s->atail[t]);
    }
    free(s->viewers);
    free(s);
}

void bbt_registry_free(bbt_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        session_free(r->sessions[i]);
    free(r->sessions);
    free(r);
}

bbt_session *bbt_registry_find(const bbt_registry *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->sessions[i]->id, id) == 0)
            return r->sessions[i];
    return NULL;
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > BBT_SESSION_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

bbt_session *bbt_registry_open(bbt_registry *r, const char *id, int *err)
{
    bbt_session *s = bbt_registry_find(r, id);
    if (s)
        return s;
    *err = BBT_EINVAL;
    if (!valid_id(id))
        return NULL;
    *err = BBT_ELIMIT;
    if (r->count >= r->lim.max_sessions)
        return NULL;
    *err = BBT_ENOMEM;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        bbt_session **ns = realloc(r->sessions, cap * sizeof *ns);
        if (!ns)
            return NULL;
        r->sessions = ns;
        r->cap = cap;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    strcpy(s->id, id);
    s->reg = r;
    s->state = BBT_SESSION_WAITING;
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
        s->slot[t] = -1;
    r->sessions[r->count++] = s;
    return s;
}

size_t bbt_registry_sweep(bbt_registry *r)
{
    size_t freed = 0, w = 0;
    for (size_t i = 0; i < r->count; i++) {
        bbt_session *s = r->sessions[i];
        if (!s->publisher && s->nviewers == 0) {
            session_free(s);
            freed++;
            continue;
        }
        r->sessions[w++] = s;
    }
    r->count = w;
    return freed;
}

size_t bbt_registry_count(const bbt_registry *r) { return r->count; }

bbt_session *bbt_registry_at(const bbt_registry *r, size_t i)
{
    return i < r->count ? r->sessions[i] : NULL;
}

static int is_visual(const bbt_track_info *t)
{
    return t->kind == BBT_TRACK_VIDEO || t->kind == BBT_TRACK_COURSEWARE;
}

static int is_camera(const bbt_session *s, int track)
{
    return track >= 0 && track < BBT_FRAME_MAX_TRACKS && s->slot[track] >= 0 &&
           s->tracks[s->slot[track]].kind == BBT_TRACK_VIDEO;
}

/* The camera a viewer starts with: its preference when the track exists; else the highest
 * layer within start_bps (0: no limit), or the lowest layer when none is within it. */
static int start_camera(const bbt_session *s, const bbt_viewer *v)
{
    if (is_camera(s, v->camera_pref))
        return v->camera_pref;
    if (v->camera_pref == -1)
        return -1;
    int best = -1, best_layer = -1, low = -1, low_layer = 1 << 30;
    for (size_t i = 0; i < s->ntracks; i++) {
        const bbt_track_info *t = &s->tracks[i];
        if (t->kind != BBT_TRACK_VIDEO)
            continue;
        if (t->layer < low_layer) {
            low_layer = t->layer;
            low = t->id;
        }
        if ((v->start_bps == 0 || t->bitrate <= v->start_bps) && t->layer > best_layer) {
            best_layer = t->layer;
            best = t->id;
        }
    }
    return best >= 0 ? best : low;
}

static void request_key(bbt_session *s, unsigned track, int64_t now_us)
{
    if (!s->publisher || !s->reg->hooks.keyframe)
        return;
    if (s->last_keyreq_us[track] &&
        now_us - s->last_keyreq_us[track] < s->reg->lim.keyreq_interval_us)
        return;
    s->last_keyreq_us[track] = now_us ? now_us : 1;
    s->reg->hooks.keyframe(s->publisher, track, s->reg->hooks.ud);
}

/* Put the cached group of pictures of `track` into the viewer's queue, or make the queue wait
 * for (and ask for) the next keyframe when there is none. */
static void prime_track(bbt_session *s, bbt_viewer *v, unsigned track, int64_t now_us)
{
    bbt_gop_cache *c = s->gop[track];
    size_t n = c ? bbt_gop_cache_count(c) : 0;
    if (n == 0) {
        bbt_queue_await_key(v->q, track);
        request_key(s, track, now_us);
        return;
    }
    for (size_t i = 0; i < n; i++)
        bbt_queue_push(v->q, bbt_gop_cache_at(c, i), now_us);
}

static uint32_t courseware_mask(const bbt_session *s)
{
    uint32_t m = 0;
    for (size_t i = 0; i < s->ntracks; i++)
        if (s->tracks[i].kind == BBT_TRACK_COURSEWARE)
            m |= 1u << s->tracks[i].id;
    return m;
}

/* Choose the viewer's tracks from the session's track list and prime new video tracks. */
static void choose_tracks(bbt_session *s, bbt_viewer *v, int64_t now_us)
{
    uint32_t old = v->tracks, want = 0;
    int video = -1;
    if (v->want_video) {
        if (v->pin_track >= 0 && v->pin_track < BBT_FRAME_MAX_TRACKS &&
            s->slot[v->pin_track] >= 0 && is_visual(&s->tracks[s->slot[v->pin_track]]))
            video = v->pin_track;
        else
            video = start_camera(s, v);
        if (video >= 0)
            want |= 1u << video;
        if (v->courseware)
            want |= courseware_mask(s);
    }
    if (v->want_audio)
        for (size_t i = 0; i < s->ntracks; i++)
            if (s->tracks[i].kind == BBT_TRACK_AUDIO)
                want |= 1u << s->tracks[i].id;
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
        if ((old >> t & 1u) && !(want >> t & 1u))
            bbt_queue_drop_track(v->q, t);
    v->tracks = want;
    v->video_track = video;
    v->pending_track = -1;
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
        if ((want >> t & 1u) && !(old >> t & 1u) && s->slot[t] >= 0 &&
            is_visual(&s->tracks[s->slot[t]]))
            prime_track(s, v, t, now_us);
    if (bbt_queue_count(v->q) && s->reg->hooks.writable)
        s->reg->hooks.writable(v->conn, now_us, s->reg->hooks.ud);
}

static void set_tracks(bbt_session *s, const bbt_track_info *tracks, size_t n)
{
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
        s->slot[t] = -1;
    memcpy(s->tracks, tracks, n * sizeof *tracks);
    s->ntracks = n;
    for (size_t i = 0; i < n; i++)
        s->slot[tracks[i].id] = (int)i;
}

/* Caches for the visual tracks of the new track list; freed for tracks that went away. */
static int make_caches(bbt_session *s)
{
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        int audio = s->slot[t] >= 0 && s->tracks[s->slot[t]].kind == BBT_TRACK_AUDIO;
        if (!audio) {
            bbt_audio_tail_free(s->atail[t]);
            s->atail[t] = NULL;
        } else if (!s->atail[t] && !(s->atail[t] = bbt_audio_tail_new())) {
            return BBT_ENOMEM;
        } else {
            bbt_audio_tail_clear(s->atail[t]);
        }
        int visual = s->slot[t] >= 0 && is_visual(&s->tracks[s->slot[t]]);
        if (!visual) {
            bbt_gop_cache_free(s->gop[t]);
            s->gop[t] = NULL;
        } else if (!s->gop[t] && !(s->gop[t] = bbt_gop_cache_new(s->reg->lim.gop_cache_bytes))) {
            return BBT_ENOMEM;
        } else {
            bbt_gop_cache_clear(s->gop[t]);
        }
    }
    return BBT_OK;
}

int bbt_session_publish(bbt_session *s, void *conn, const bbt_track_info *tracks, size_t n,
                        int64_t now_us, void **replaced)
{
    *replaced = NULL;
    if (n == 0 || n > BBT_FRAME_MAX_TRACKS)
        return BBT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (tracks[i].id < 0 || tracks[i].id >= BBT_FRAME_MAX_TRACKS)
            return BBT_EINVAL;
    if (s->publisher && s->publisher != conn) {
        if (now_us - s->last_in_us < s->reg->lim.idle_us)
            return BBT_EEXIST;
        *replaced = s->publisher;
    }
    set_tracks(s, tracks, n);
    if (make_caches(s) != BBT_OK) {
        s->ntracks = 0;
        for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
            s->slot[t] = -1;
        return BBT_ENOMEM;
    }
    s->publisher = conn;
    s->last_in_us = now_us;
    s->ended = 0;
    s->state = BBT_SESSION_LIVE;
    memset(s->last_keyreq_us, 0, sizeof s->last_keyreq_us);
    /* A new stream: every viewer restarts its video at a keyframe of the new stream. */
    for (size_t i = 0; i < s->nviewers; i++) {
        bbt_viewer *v = s->viewers[i];
        for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++)
            if (v->tracks >> t & 1u)
                bbt_queue_drop_track(v->q, t);
        v->tracks = 0;
        choose_tracks(s, v, now_us);
    }
    return BBT_OK;
}

void bbt_session_unpublish(bbt_session *s, void *conn, bool ended)
{
    if (!s->publisher || s->publisher != conn)
        return;
    s->publisher = NULL;
    if (ended)
        s->state = BBT_SESSION_ENDED;
    else if (s->state == BBT_SESSION_LIVE)
        s->state = BBT_SESSION_INTERRUPTED;
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        if (s->gop[t])
            bbt_gop_cache_clear(s->gop[t]);
        if (s->atail[t])
            bbt_audio_tail_clear(s->atail[t]);
    }
}

static void note_end(bbt_session *s, const bbt_frame_ref *ref)
{
    s->ended |= 1u << ref->track;
    for (size_t i = 0; i < s->ntracks; i++)
        if (!(s->ended >> s->tracks[i].id & 1u))
            return;
    s->state = BBT_SESSION_ENDED;
}

/* The target camera's keyframe is queued: from here on the viewer gets the new track only.
 * Frames of the old track already queued go first, so the decoder sees no gap. */
static void complete_switch(bbt_viewer *v)
{
    if (v->video_track >= 0 && v->video_track != v->pending_track)
        v->tracks &= ~(1u << v->video_track);
    v->video_track = v->pending_track;
    v->pending_track = -1;
    v->switches++;
}

/* The frame to the viewers that take its track, the audio copies (copy) or the others (!copy:
 * *copies says whether a copy was passed over): queued, and the writable hook told. Main viewers
 * go first because the relay writes viewers in the order the hook named them (relay/pace.h),
 * and a copy's packet written before its main connection's goes ahead of it into the
 * classroom's bottleneck: with copies subscribed before the main connection (the player's
 * copies subscribe together with it) the main connection's audio came 7-12 ms after the first
 * copy's in 14 of 32 bbt-bench rural flaky-3g runs, under 4 ms otherwise, and that raised its
 * congestion signal: the picture did not come back in 7 of 96 fast phases (docs/PERFORMANCE.md,
 * session 19). true: a viewer awaits a keyframe of this track. */
static bool fan_out(bbt_session *s, bbt_frame_ref *ref, bool copy, bool *copies, int64_t now_us)
{
    const uint32_t bit = 1u << ref->track;
    bool want_key = false;
    for (size_t i = 0; i < s->nviewers; i++) {
        bbt_viewer *v = s->viewers[i];
        if (!(v->tracks & bit))
            continue;
        if (v->audio_copy != copy) {
            *copies |= v->audio_copy;
            continue;
        }
        if (bbt_queue_push(v->q, ref, now_us) == BBT_OK) {
            if (ref->track == v->pending_track && (ref->flags & BBT_FRAME_KEY))
                complete_switch(v);
            if (s->reg->hooks.writable)
                s->reg->hooks.writable(v->conn, now_us, s->reg->hooks.ud);
        } else if (bbt_queue_awaiting_key(v->q, ref->track)) {
            want_key = true;
        }
    }
    return want_key;
}

int bbt_session_ingest(bbt_session *s, bbt_frame_ref *ref, int64_t now_us)
{
    if (ref->track >= BBT_FRAME_MAX_TRACKS || s->slot[ref->track] < 0)
        return BBT_EFRAME_TRACK;
    const bbt_track_info *ti = &s->tracks[s->slot[ref->track]];
    ref->cls = ti->kind == BBT_TRACK_AUDIO ? BBT_CLASS_AUDIO : BBT_CLASS_VIDEO;
    s->last_in_us = now_us;
    bbt_track_stats *st = &s->stats[ref->track];
    st->frames_in++;
    st->bytes_in += ref->len;
    if (ref->flags & BBT_FRAME_KEY)
        st->keyframes_in++;
    if (s->gop[ref->track])
        bbt_gop_cache_push(s->gop[ref->track], ref); /* failure: viewers wait for a key */
    if (s->atail[ref->track] && !(ref->flags & BBT_FRAME_END)) /* an end is no sound to repeat */
        bbt_audio_tail_push(s->atail[ref->track], ref);
    if (ref->flags & BBT_FRAME_END)
        note_end(s, ref);
    else if (s->state == BBT_SESSION_ENDED)
        s->state = BBT_SESSION_LIVE;
    bool copies = false;
    bool want_key = fan_out(s, ref, false, &copies, now_us);
    if (copies) /* after every main viewer: see fan_out */
        want_key |= fan_out(s, ref, true, &copies, now_us);
    if (want_key)
        request_key(s, ref->track, now_us);
    return BBT_OK;
}

/* An audio copy starts with the audio of its last copy_tail_us (relay/audio_tail.h): the main
 * connection it stands in for is behind. */
static void prime_copy(bbt_session *s, bbt_viewer *v, int64_t now_us)
{
    for (unsigned t = 0; v->copy_tail_us > 0 && t < BBT_FRAME_MAX_TRACKS; t++) {
        if (!(v->tracks >> t & 1u) || !s->atail[t])
            continue;
        size_t n = bbt_audio_tail_count(s->atail[t]);
        for (size_t i = bbt_audio_tail_from(s->atail[t], (uint64_t)v->copy_tail_us); i < n; i++)
            bbt_queue_push(v->q, bbt_audio_tail_at(s->atail[t], i), now_us);
    }
    if (bbt_queue_count(v->q) && s->reg->hooks.writable)
        s->reg->hooks.writable(v->conn, now_us, s->reg->hooks.ud);
}

int bbt_session_add_viewer(bbt_session *s, bbt_viewer *v, int64_t now_us)
{
    if (s->nviewers == s->cap_viewers) {
        size_t cap = s->cap_viewers ? s->cap_viewers * 2 : 16;
        bbt_viewer **nv = realloc(s->viewers, cap * sizeof *nv);
        if (!nv)
            return BBT_ENOMEM;
        s->viewers = nv;
        s->cap_viewers = cap;
    }
    v->session = s;
    v->idx = s->nviewers;
    v->tracks = 0;
    v->video_track = -1;
    s->viewers[s->nviewers++] = v;
    choose_tracks(s, v, now_us);
    if (v->audio_copy)
        prime_copy(s, v, now_us);
    return BBT_OK;
}

void bbt_session_remove_viewer(bbt_viewer *v)
{
    bbt_session *s = v->session;
    if (!s)
        return;
    bbt_viewer *last = s->viewers[--s->nviewers];
    s->viewers[v->idx] = last;
    last->idx = v->idx;
    v->session = NULL;
    v->tracks = 0;
}

static void set_courseware(bbt_session *s, bbt_viewer *v, bool on, int64_t now_us)
{
    uint32_t cw = courseware_mask(s);
    v->courseware = on;
    for (unsigned t = 0; t < BBT_FRAME_MAX_TRACKS; t++) {
        if (!(cw >> t & 1u) || (bool)(v->tracks >> t & 1u) == on)
            continue;
        if (on) {
            v->tracks |= 1u << t;
            prime_track(s, v, t, now_us); /* a few still pictures: cheap to send at once */
        } else {
            v->tracks &= ~(1u << t);
            bbt_queue_drop_track(v->q, t);
        }
    }
}

void bbt_session_set_level(bbt_viewer *v, int camera, bool courseware, bool now_down,
                           int64_t now_us)
{
    bbt_session *s = v->session;
    if (!s || v->pin_track >= 0)
        return;
    if (!v->want_video) {
        camera = -1;
        courseware = false;
    }
    if (courseware != v->courseware)
        set_courseware(s, v, courseware, now_us);
    v->camera_pref = camera;
    if (camera >= 0 && !is_camera(s, camera))
        camera = -1;
    if (v->pending_track >= 0 && v->pending_track != camera) { /* a switch overtaken */
        v->tracks &= ~(1u << v->pending_track);
        bbt_queue_drop_track(v->q, (unsigned)v->pending_track);
        v->pending_track = -1;
    }
    if (camera == v->video_track)
        return;
    if (v->video_track >= 0 && (camera < 0 || now_down)) {
        /* going down: stop the old camera now, so the link carries audio and the new
         * keyframe instead of a backlog of pictures too big for it */
        v->tracks &= ~(1u << v->video_track);
        bbt_queue_drop_track(v->q, (unsigned)v->video_track);
        v->video_track = -1;
        v->switches += camera < 0;
    }
    if (camera < 0 || camera == v->pending_track)
        return;
    v->pending_track = camera;
    v->tracks |= 1u << camera;
    bbt_queue_await_key(v->q, (unsigned)camera);
    request_key(s, (unsigned)camera, now_us);
}

void bbt_session_request_keyframe(bbt_session *s, unsigned track, int64_t now_us)
{
    if (track < BBT_FRAME_MAX_TRACKS && s->gop[track])
        request_key(s, track, now_us);
}

const char *bbt_session_id(const bbt_session *s) { return s->id; }
enum bbt_session_state bbt_session_state(const bbt_session *s) { return s->state; }
void *bbt_session_publisher(const bbt_session *s) { return s->publisher; }
size_t bbt_session_viewer_count(const bbt_session *s) { return s->nviewers; }

size_t bbt_session_audience(const bbt_session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nviewers; i++)
        n += !s->viewers[i]->audio_copy;
    return n;
}
uint64_t bbt_session_bytes_out(const bbt_session *s) { return s->bytes_out; }
uint64_t bbt_session_frames_out(const bbt_session *s) { return s->frames_out; }

const char *bbt_session_state_name(enum bbt_session_state st)
{
    static const char *const names[] = {"waiting", "live", "interrupted", "ended"};
    return (unsigned)st < 4 ? names[st] : "?";
}

const bbt_track_info *bbt_session_tracks(const bbt_session *s, size_t *n)
{
    *n = s->ntracks;
    return s->tracks;
}

const bbt_track_info *bbt_session_track(const bbt_session *s, unsigned track)
{
    return track < BBT_FRAME_MAX_TRACKS && s->slot[track] >= 0 ? &s->tracks[s->slot[track]]
                                                                 : NULL;
}

const bbt_track_stats *bbt_session_track_stats(const bbt_session *s, unsigned track)
{
    return track < BBT_FRAME_MAX_TRACKS ? &s->stats[track] : NULL;
}

bbt_viewer *bbt_session_viewer_at(const bbt_session *s, size_t i)
{
    return i < s->nviewers ? s->viewers[i] : NULL;
}

void bbt_session_count_out(bbt_session *s, size_t bytes)
{
    s->bytes_out += bytes;
    s->frames_out++;
}
