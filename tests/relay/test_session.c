/* tests/relay/test_session.c — relay/session.c: publish, fan-out, fast start, publisher loss,
 * replacement, track choice, keyframe requests, sweep. Time is driven by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/status.h"
#include "relay/session.h"
#include "support/failalloc.h"

struct calls {
    int writable;
    void *order[4]; /* the first viewers the writable hook named */
    int keyframes;
    unsigned last_key_track;
    void *last_key_conn;
};

static void on_writable(void *conn, int64_t now_us, void *ud)
{
    (void)now_us;
    struct calls *c = ud;
    if (c->writable < 4)
        c->order[c->writable] = conn;
    c->writable++;
}

static void on_keyframe(void *conn, unsigned track, void *ud)
{
    struct calls *c = ud;
    c->keyframes++;
    c->last_key_track = track;
    c->last_key_conn = conn;
}

/* A ladder: track 0 = 180p (layer 0), 1 = 720p (layer 2), 2 = 360p (layer 1), 3 = audio,
 * 4 = courseware. */
static const bbt_track_info ladder[] = {
    {.id = 0, .kind = BBT_TRACK_VIDEO, .codec = "avc1.42C01F", .layer = 0, .width = 320, .height = 180},
    {.id = 1, .kind = BBT_TRACK_VIDEO, .codec = "avc1.42C01F", .layer = 2, .width = 1280, .height = 720},
    {.id = 2, .kind = BBT_TRACK_VIDEO, .codec = "avc1.42C01F", .layer = 1, .width = 640, .height = 360},
    {.id = 3, .kind = BBT_TRACK_AUDIO, .codec = "opus", .sample_rate = 48000, .channels = 1},
    {.id = 4, .kind = BBT_TRACK_COURSEWARE, .codec = "avc1.42C01F", .width = 1280, .height = 720},
};

struct fixture {
    struct calls calls;
    bbt_registry *reg;
    int pub; /* its address is the publisher's "connection" */
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    bbt_registry_limits lim = {.max_sessions = 4, .gop_cache_bytes = 1 << 20,
                               .idle_us = 5000000, .keyreq_interval_us = 500000};
    bbt_session_hooks hooks = {.writable = on_writable, .keyframe = on_keyframe, .ud = &f.calls};
    f.reg = bbt_registry_new(&lim, &hooks);
    assert_non_null(f.reg);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bbt_registry_free(f->reg);
    return 0;
}

static bbt_queue *mkq(void)
{
    bbt_queue_limits lim = {.max_frames = 256, .max_bytes = 1 << 20, .max_delay_us = 1000000};
    bbt_queue *q = bbt_queue_new(&lim);
    assert_non_null(q);
    return q;
}

static void init_viewer(bbt_viewer *v, void *conn)
{
    memset(v, 0, sizeof *v);
    v->conn = conn;
    v->q = mkq();
    v->pin_track = -1;
    v->want_audio = v->want_video = true;
    v->camera_pref = -2; /* automatic start: the best layer (start_bps 0) */
    v->courseware = true;
}

static int ingest(bbt_session *s, unsigned track, unsigned flags, uint32_t seq, int64_t now)
{
    bbt_frame_ref *r = bbt_frame_ref_new(32);
    r->len = 32;
    r->track = (uint8_t)track;
    r->flags = (uint8_t)flags;
    r->seq = seq;
    int rc = bbt_session_ingest(s, r, now);
    bbt_frame_ref_release(r);
    return rc;
}

static void test_open_find_and_limits(void **state)
{
    struct fixture *f = *state;
    int err = 0;
    bbt_session *s = bbt_registry_open(f->reg, "music-3", &err);
    assert_non_null(s);
    assert_ptr_equal(bbt_registry_open(f->reg, "music-3", &err), s);
    assert_ptr_equal(bbt_registry_find(f->reg, "music-3"), s);
    assert_null(bbt_registry_find(f->reg, "art"));
    assert_null(bbt_registry_open(f->reg, "bad id!", &err));
    assert_int_equal(err, BBT_EINVAL);
    assert_null(bbt_registry_open(f->reg, "", &err));
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        assert_non_null(bbt_registry_open(f->reg, id, &err));
    }
    assert_null(bbt_registry_open(f->reg, "one-too-many", &err));
    assert_int_equal(err, BBT_ELIMIT);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_WAITING);
    assert_int_equal(bbt_registry_sweep(f->reg), 4); /* nobody in them */
    assert_int_equal(bbt_registry_count(f->reg), 0);
}

static void test_fanout_shares_one_frame(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    assert_int_equal(bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced), BBT_OK);
    assert_null(replaced);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_LIVE);
    bbt_viewer v[3];
    for (int i = 0; i < 3; i++) {
        init_viewer(&v[i], &v[i]);
        assert_int_equal(bbt_session_add_viewer(s, &v[i], 0), BBT_OK);
        /* automatic choice: the best camera layer (track 1), courseware (4), audio (3) */
        assert_int_equal(v[i].tracks, (1u << 1) | (1u << 3) | (1u << 4));
        assert_int_equal(v[i].video_track, 1);
    }
    bbt_frame_ref *r = bbt_frame_ref_new(100);
    r->len = 100;
    r->track = 3;
    f->calls.writable = 0;
    assert_int_equal(bbt_session_ingest(s, r, 10), BBT_OK);
    assert_int_equal(r->cls, BBT_CLASS_AUDIO);
    assert_int_equal(r->refs, 5); /* one per viewer queue, the audio tail's + ours: no copy */
    assert_int_equal(f->calls.writable, 3);
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(bbt_queue_peek(v[i].q), r);
    bbt_frame_ref_release(r);
    assert_int_equal(ingest(s, 7, 0, 1, 10), BBT_EFRAME_TRACK); /* not in the track list */
    assert_int_equal(ingest(s, 0, BBT_FRAME_KEY, 1, 10), BBT_OK); /* nobody takes track 0 */
    assert_int_equal(bbt_queue_count(v[0].q), 1);
    for (int i = 0; i < 3; i++) {
        bbt_session_remove_viewer(&v[i]);
        bbt_queue_free(v[i].q);
    }
    assert_int_equal(bbt_session_viewer_count(s), 0);
    bbt_session_unpublish(s, &f->pub, false);
    assert_int_equal(bbt_registry_sweep(f->reg), 1);
}

/* A viewer that joins mid-GOP gets the cached frames from the last keyframe: decodes at once. */
static void test_late_join_starts_at_keyframe(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    ingest(s, 1, 0, 1, 0); /* before any keyframe: not cached */
    ingest(s, 1, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 2, 0);
    ingest(s, 3, 0, 1, 0);
    ingest(s, 1, 0, 3, 0);
    ingest(s, 1, 0, 4, 0);
    bbt_viewer v;
    init_viewer(&v, &v);
    f->calls.keyframes = 0;
    bbt_session_add_viewer(s, &v, 100);
    assert_int_equal(bbt_queue_count(v.q), 3);
    bbt_frame_ref *first = bbt_queue_peek(v.q);
    assert_true(first->flags & BBT_FRAME_KEY);
    assert_int_equal(first->seq, 2);
    /* the courseware track has no cached keyframe: it waits, and one is requested */
    assert_true(bbt_queue_awaiting_key(v.q, 4));
    assert_int_equal(f->calls.keyframes, 1);
    assert_int_equal(f->calls.last_key_track, 4);
    assert_ptr_equal(f->calls.last_key_conn, &f->pub);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* Publisher loss: viewers stay, state interrupted; the publisher comes back, viewers resume
 * at the next keyframe without doing anything. */
static void test_publisher_loss_and_return(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    bbt_viewer v;
    init_viewer(&v, &v);
    bbt_session_add_viewer(s, &v, 0);
    ingest(s, 1, BBT_FRAME_KEY, 1, 0);
    bbt_session_unpublish(s, &f->pub, false);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_INTERRUPTED);
    assert_int_equal(bbt_registry_sweep(f->reg), 0); /* a viewer is still there */
    int pub2;
    assert_int_equal(bbt_session_publish(s, &pub2, ladder, 5, 1000, &replaced), BBT_OK);
    assert_null(replaced);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_LIVE);
    assert_int_equal(bbt_queue_count(v.q), 0);      /* old stream's video is gone */
    assert_true(bbt_queue_awaiting_key(v.q, 1));    /* and the new one starts at a keyframe */
    assert_int_equal(ingest(s, 1, 0, 1, 1000), BBT_OK);
    assert_int_equal(bbt_queue_count(v.q), 0);
    ingest(s, 1, BBT_FRAME_KEY, 2, 1000);
    assert_int_equal(bbt_queue_count(v.q), 1);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &pub2, false);
}

/* A second publisher is refused while the first is live, and replaces it once silent. */
static void test_second_publisher(void **state)
{
    struct fixture *f = *state;
    int err, other;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    ingest(s, 3, 0, 1, 1000000);
    assert_int_equal(bbt_session_publish(s, &other, ladder, 5, 2000000, &replaced), BBT_EEXIST);
    assert_ptr_equal(bbt_session_publisher(s), &f->pub);
    /* silent for more than idle_us (5 s) after its last frame at 1 s */
    assert_int_equal(bbt_session_publish(s, &other, ladder, 5, 6000001, &replaced), BBT_OK);
    assert_ptr_equal(replaced, &f->pub);
    assert_ptr_equal(bbt_session_publisher(s), &other);
    bbt_session_unpublish(s, &f->pub, false); /* the old connection closing changes nothing */
    assert_ptr_equal(bbt_session_publisher(s), &other);
    bbt_session_unpublish(s, &other, false);
    assert_null(bbt_session_publisher(s));
}

static void test_pin(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    ingest(s, 2, BBT_FRAME_KEY, 1, 0);
    bbt_viewer v;
    init_viewer(&v, &v);
    v.pin_track = 2;
    v.want_audio = false;
    bbt_session_add_viewer(s, &v, 0);
    assert_int_equal(v.video_track, 2);
    assert_int_equal(v.tracks, (1u << 2) | (1u << 4));
    assert_int_equal(bbt_queue_count(v.q), 1);
    bbt_session_set_level(&v, 0, false, true, 10); /* a pinned viewer is not moved */
    assert_int_equal(v.video_track, 2);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* An audio copy (relay/conn.c sets want_video false, courseware false, audio_copy): audio alone,
 * whatever the adaptation asks, and not part of the audience. */
static void test_audio_copy(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    bbt_viewer v, c;
    init_viewer(&v, &v);
    init_viewer(&c, &c);
    c.want_video = c.courseware = false;
    c.audio_copy = true;
    bbt_session_add_viewer(s, &v, 0);
    bbt_session_add_viewer(s, &c, 0);
    assert_int_equal(c.tracks, 1u << 3);
    assert_int_equal(c.video_track, -1);
    bbt_session_set_level(&c, 1, true, false, 10);
    assert_int_equal(c.tracks, 1u << 3);
    assert_int_equal(bbt_session_viewer_count(s), 2);
    assert_int_equal(bbt_session_audience(s), 1);
    bbt_session_remove_viewer(&v);
    assert_int_equal(bbt_session_audience(s), 0);
    bbt_session_remove_viewer(&c);
    bbt_queue_free(v.q);
    bbt_queue_free(c.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* The audio copies are offered a frame after every main viewer, whatever the order they
 * subscribed in: two copies before the main viewer, an audio frame names the main one first to
 * the writable hook, then the copies; a video frame names the main viewer alone. */
static void test_copies_after_main_viewers(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    bbt_viewer v, c[2];
    for (int i = 0; i < 2; i++) {
        init_viewer(&c[i], &c[i]);
        c[i].want_video = c[i].courseware = false;
        c[i].audio_copy = true;
        bbt_session_add_viewer(s, &c[i], 0);
    }
    init_viewer(&v, &v);
    bbt_session_add_viewer(s, &v, 0);
    f->calls.writable = 0;
    assert_int_equal(ingest(s, 3, 0, 1, 10), BBT_OK);
    assert_int_equal(f->calls.writable, 3);
    assert_ptr_equal(f->calls.order[0], &v);
    assert_ptr_equal(f->calls.order[1], &c[0]);
    assert_ptr_equal(f->calls.order[2], &c[1]);
    f->calls.writable = 0;
    assert_int_equal(ingest(s, 1, BBT_FRAME_KEY | BBT_FRAME_CONFIG, 1, 20), BBT_OK); /* 720p */
    assert_int_equal(f->calls.writable, 1);
    assert_ptr_equal(f->calls.order[0], &v);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bbt_queue_count(c[i].q), 1); /* the audio frame alone */
        bbt_session_remove_viewer(&c[i]);
        bbt_queue_free(c[i].q);
    }
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* An audio copy starts with the last second of the audio (relay/audio_tail.h), oldest first,
 * without a track's end; a main viewer does not; a publisher that goes away takes the tail
 * with it. */
static void test_audio_copy_starts_with_the_tail(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    static const uint64_t at_ms[] = {0, 500, 1000, 1400, 1600};
    for (uint32_t i = 0; i < 5; i++) {
        bbt_frame_ref *r = bbt_frame_ref_new(32);
        r->len = 32;
        r->track = 3;
        r->seq = i + 1;
        r->capture_us = 5000000 + at_ms[i] * 1000;
        assert_int_equal(bbt_session_ingest(s, r, 10), BBT_OK);
        bbt_frame_ref_release(r);
    }
    bbt_frame_ref *end = bbt_frame_ref_new(32); /* the track's end: no sound to repeat */
    end->len = 32;
    end->track = 3;
    end->flags = BBT_FRAME_END;
    end->seq = 6;
    end->capture_us = 5000000 + 1700 * 1000;
    assert_int_equal(bbt_session_ingest(s, end, 10), BBT_OK);
    bbt_frame_ref_release(end);
    bbt_viewer v, c;
    init_viewer(&v, &v);
    init_viewer(&c, &c);
    c.want_video = c.courseware = false;
    c.audio_copy = true;
    c.copy_tail_us = 1000000;
    f->calls.writable = 0;
    bbt_session_add_viewer(s, &v, 20);
    assert_int_equal(bbt_queue_count(v.q), 0); /* the main viewer: no old audio */
    bbt_session_add_viewer(s, &c, 20);
    assert_int_equal(bbt_queue_count(c.q), 3); /* captured 1.0, 1.4 and 1.6 s */
    assert_int_equal(bbt_queue_peek(c.q)->seq, 3);
    assert_int_equal(f->calls.writable, 1);
    bbt_session_remove_viewer(&c);
    bbt_queue_free(c.q);
    static const struct { int64_t span; size_t n; } spans[] = {{300000, 2}, {0, 0}};
    for (size_t k = 0; k < 2; k++) { /* a shorter tail (its main connection is younger) */
        init_viewer(&c, &c);
        c.want_video = c.courseware = false;
        c.audio_copy = true;
        c.copy_tail_us = spans[k].span;
        bbt_session_add_viewer(s, &c, 20);
        assert_int_equal(bbt_queue_count(c.q), spans[k].n);
        bbt_session_remove_viewer(&c);
        bbt_queue_free(c.q);
    }
    bbt_session_unpublish(s, &f->pub, false);
    init_viewer(&c, &c);
    c.want_video = c.courseware = false;
    c.audio_copy = true;
    c.copy_tail_us = 1000000;
    bbt_session_publish(s, &f->pub, ladder, 5, 30, &replaced);
    bbt_session_add_viewer(s, &c, 40);
    assert_int_equal(bbt_queue_count(c.q), 0); /* the tail went with the publisher */
    bbt_session_remove_viewer(&c);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(c.q);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* The start layer: the best within start_bps, or the lowest when none is within it. */
static void test_start_layer(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_track_info l[5];
    memcpy(l, ladder, sizeof l);
    l[0].bitrate = 120000;
    l[1].bitrate = 1200000;
    l[2].bitrate = 450000;
    bbt_session_publish(s, &f->pub, l, 5, 0, &replaced);
    bbt_viewer v;
    init_viewer(&v, &v);
    v.start_bps = 600000;
    bbt_session_add_viewer(s, &v, 0);
    assert_int_equal(v.video_track, 2); /* 360p */
    bbt_session_remove_viewer(&v);
    v.start_bps = 50000;
    bbt_session_add_viewer(s, &v, 0);
    assert_int_equal(v.video_track, 0); /* nothing fits: the lowest */
    bbt_session_remove_viewer(&v);
    v.camera_pref = -1; /* adaptation said: no camera */
    v.courseware = false;
    bbt_session_add_viewer(s, &v, 0);
    assert_int_equal(v.video_track, -1);
    assert_int_equal(v.tracks, 1u << 3);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* Up: the old camera keeps going until the new one's keyframe, which is requested. */
static void test_switch_up_at_keyframe(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    bbt_viewer v;
    init_viewer(&v, &v);
    v.camera_pref = 0; /* 180p */
    bbt_session_add_viewer(s, &v, 0);
    ingest(s, 0, BBT_FRAME_KEY, 1, 0);
    assert_int_equal(v.video_track, 0);
    f->calls.keyframes = 0;
    bbt_session_set_level(&v, 1, true, false, 1000000);
    assert_int_equal(v.pending_track, 1);
    assert_int_equal(f->calls.keyframes, 1);
    assert_int_equal(f->calls.last_key_track, 1);
    ingest(s, 0, 0, 2, 1000000); /* old camera still flows */
    ingest(s, 1, 0, 1, 1000000); /* new camera: not before its keyframe */
    assert_int_equal(bbt_queue_count(v.q), 2);
    ingest(s, 1, BBT_FRAME_KEY, 2, 1000000); /* switch */
    assert_int_equal(v.video_track, 1);
    assert_int_equal(v.pending_track, -1);
    assert_int_equal(v.switches, 1);
    ingest(s, 0, 0, 3, 1000000); /* old camera no more */
    assert_int_equal(bbt_queue_count(v.q), 3);
    assert_int_equal(bbt_queue_peek(v.q)->track, 0); /* queued old frames go first */
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

/* Down: the old camera stops at once; audio only and courseware-only levels; back up. */
static void test_switch_down_now(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    ingest(s, 4, BBT_FRAME_KEY, 1, 0); /* a courseware slide in the cache */
    bbt_viewer v;
    init_viewer(&v, &v);
    v.camera_pref = 1; /* 720p */
    bbt_session_add_viewer(s, &v, 0);
    ingest(s, 1, BBT_FRAME_KEY, 1, 0);
    ingest(s, 1, 0, 2, 0);
    ingest(s, 3, 0, 1, 0);
    size_t before = bbt_queue_count(v.q); /* slide + 2 camera + audio */
    assert_int_equal(before, 4);
    bbt_session_set_level(&v, 0, true, true, 10);
    assert_int_equal(v.video_track, -1);            /* 720p gone now */
    assert_int_equal(bbt_queue_count(v.q), 2);      /* slide and audio stay */
    assert_int_equal(v.pending_track, 0);
    ingest(s, 0, BBT_FRAME_KEY, 1, 20);
    assert_int_equal(v.video_track, 0);
    bbt_session_set_level(&v, -1, true, true, 30);  /* courseware only */
    assert_int_equal(v.video_track, -1);
    assert_int_equal(v.tracks, (1u << 3) | (1u << 4));
    bbt_session_set_level(&v, -1, false, true, 40); /* audio only */
    assert_int_equal(v.tracks, 1u << 3);
    bbt_session_set_level(&v, 2, true, false, 50);  /* back up: slide at once, camera at key */
    assert_int_equal(v.tracks, (1u << 3) | (1u << 4) | (1u << 2));
    assert_int_equal(v.pending_track, 2);
    bbt_session_set_level(&v, 0, true, false, 60);  /* overtaken before its keyframe */
    assert_int_equal(v.pending_track, 0);
    assert_false(v.tracks & (1u << 2));
    bbt_session_set_level(&v, 3, true, false, 70);  /* an audio track is not a camera */
    assert_int_equal(v.pending_track, -1);
    bbt_session_remove_viewer(&v);
    bbt_queue_free(v.q);
    bbt_session_unpublish(s, &f->pub, false);
}

static void test_keyframe_requests_rate_limited(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced);
    f->calls.keyframes = 0;
    bbt_session_request_keyframe(s, 1, 1000);
    bbt_session_request_keyframe(s, 1, 2000);   /* within 500 ms: suppressed */
    bbt_session_request_keyframe(s, 3, 2000);   /* audio has no keyframes */
    assert_int_equal(f->calls.keyframes, 1);
    bbt_session_request_keyframe(s, 1, 600000);
    assert_int_equal(f->calls.keyframes, 2);
    bbt_session_unpublish(s, &f->pub, false);
}

static void test_end_of_stream(void **state)
{
    struct fixture *f = *state;
    int err;
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    bbt_session_publish(s, &f->pub, ladder, 2, 0, &replaced); /* tracks 0 and 1 */
    ingest(s, 0, BBT_FRAME_END, 9, 0);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_LIVE);
    ingest(s, 1, BBT_FRAME_END, 9, 0);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_ENDED);
    bbt_session_unpublish(s, &f->pub, false);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_ENDED);
    /* a publisher that says bye ends the lesson; one that drops interrupts it */
    bbt_session_publish(s, &f->pub, ladder, 2, 0, &replaced);
    bbt_session_unpublish(s, &f->pub, true);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_ENDED);
    bbt_session_publish(s, &f->pub, ladder, 2, 0, &replaced);
    bbt_session_unpublish(s, &f->pub, false);
    assert_int_equal(bbt_session_state(s), BBT_SESSION_INTERRUPTED);
}

static void test_alloc_failure(void **state)
{
    struct fixture *f = *state;
    int err;
    failalloc_after(0);
    assert_null(bbt_registry_open(f->reg, "s", &err));
    failalloc_reset();
    assert_int_equal(err, BBT_ENOMEM);
    bbt_session *s = bbt_registry_open(f->reg, "s", &err);
    void *replaced;
    failalloc_after(0); /* the GOP caches cannot be made */
    assert_int_equal(bbt_session_publish(s, &f->pub, ladder, 5, 0, &replaced), BBT_ENOMEM);
    failalloc_reset();
    assert_null(bbt_session_publisher(s));
    bbt_viewer v;
    init_viewer(&v, &v);
    failalloc_after(0);
    assert_int_equal(bbt_session_add_viewer(s, &v, 0), BBT_ENOMEM);
    failalloc_reset();
    assert_null(v.session);
    bbt_queue_free(v.q);
    failalloc_after(0);
    assert_null(bbt_registry_new(&(bbt_registry_limits){0}, &(bbt_session_hooks){0}));
    failalloc_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_find_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_shares_one_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_join_starts_at_keyframe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publisher_loss_and_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_publisher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audio_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copies_after_main_viewers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audio_copy_starts_with_the_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_up_at_keyframe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_down_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyframe_requests_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_of_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
