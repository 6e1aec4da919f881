/* relay/session.h — the session registry: sessions, their publisher, tracks and viewers.
 *
 * A session is named by its id. It has at most one publisher (an opaque connection pointer owned
 * by the server), the publisher's track list, a GOP cache per video track, and its viewers. Media
 * flows one way: bbt_session_ingest() takes a complete frame from the publisher and offers one
 * shared reference to each viewer's queue whose track set contains the frame's track, then calls
 * the `writable` hook for that viewer — nothing is copied, nothing is written here. The audio
 * copies (bbt_viewer.audio_copy) are offered each frame after every other viewer, in whatever
 * order they subscribed (the relay writes in the order the hook names viewers).
 *
 * No I/O and no clocks: every function that needs time takes `now_us` (monotonic µs), so tests
 * drive time. Hooks are called synchronously, never while iterating state they may change; a hook
 * must not add or remove viewers or free sessions. Sessions are freed only by
 * bbt_registry_sweep(), which the server calls from its housekeeping timer (deferred free:
 * never inside a callback of the session's own connections). Single-threaded.
 */
#ifndef BBT_SESSION_H
#define BBT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/control.h"
#include "proto/frame.h"
#include "relay/frame_ref.h"
#include "relay/gop_cache.h"
#include "relay/queue.h"

#define BBT_SESSION_ID_MAX 64

typedef struct bbt_registry bbt_registry;
typedef struct bbt_session bbt_session;

enum bbt_session_state {
    BBT_SESSION_WAITING,     /* never had a publisher */
    BBT_SESSION_LIVE,        /* a publisher is sending */
    BBT_SESSION_INTERRUPTED, /* the publisher went away; viewers wait for it to return */
    BBT_SESSION_ENDED,       /* the publisher sent END on every track */
};

/* A subscriber, embedded in the server's connection. The session reads and writes the fields
 * marked (session); the server sets the rest before bbt_session_add_viewer. */
typedef struct bbt_viewer {
    void *conn;          /* the server's connection, passed back to hooks */
    bbt_queue *q;        /* owned by the server; the session pushes into it */
    int pin_track;       /* -1: automatic choice; else the video track to receive */
    bool want_audio, want_video;
    int camera_pref;     /* camera track wanted (adaptation): -1 none, -2 choose by start_bps */
    int64_t start_bps;   /* with camera_pref -2: start on the best layer within this, 0: best */
    bool courseware;     /* (both) courseware tracks are sent; set before add_viewer */
    bool audio_copy;     /* a copy of the audio for a viewer subscribed on another
                            connection (docs/PROTOCOL.md §3.5): audio only, no attendance */
    int64_t copy_tail_us; /* an audio copy starts with the audio captured within this much of
                             the newest (relay/audio_tail.h); 0: none */
    bbt_session *session; /* (session) the session it watches, NULL when detached */
    size_t idx;           /* (session) position in the session's viewer array */
    uint32_t tracks;      /* (session) bit t set: the viewer receives track t */
    int video_track;      /* (session) current camera track, -1 none */
    int pending_track;    /* (session) camera track it moves to at that track's next keyframe */
    uint32_t switches;    /* (session) camera switches completed */
} bbt_viewer;

typedef struct bbt_session_hooks {
    /* A viewer's queue gained a frame at now_us (the time the session was given): schedule
     * its write. */
    void (*writable)(void *conn, int64_t now_us, void *ud);
    /* Ask the publisher for a keyframe on `track` (rate-limited by the session). */
    void (*keyframe)(void *publisher_conn, unsigned track, void *ud);
    void *ud;
} bbt_session_hooks;

typedef struct bbt_registry_limits {
    size_t max_sessions;
    size_t gop_cache_bytes;   /* per video track, 0 disables */
    int64_t idle_us;          /* a publisher silent this long may be replaced */
    int64_t keyreq_interval_us; /* at most one keyframe request per track per interval */
} bbt_registry_limits;

typedef struct bbt_track_stats {
    uint64_t frames_in, bytes_in, keyframes_in;
} bbt_track_stats;

bbt_registry *bbt_registry_new(const bbt_registry_limits *lim, const bbt_session_hooks *hooks);
/* Frees every session. Viewers must have been removed (their queues belong to the server). */
void bbt_registry_free(bbt_registry *r);

bbt_session *bbt_registry_find(const bbt_registry *r, const char *id);
/* Find or create (state WAITING). NULL with *err = BBT_ELIMIT (max_sessions), BBT_EINVAL (bad
 * id) or BBT_ENOMEM. */
bbt_session *bbt_registry_open(bbt_registry *r, const char *id, int *err);
/* Free sessions with no publisher and no viewers. Returns how many were freed. */
size_t bbt_registry_sweep(bbt_registry *r);
size_t bbt_registry_count(const bbt_registry *r);
bbt_session *bbt_registry_at(const bbt_registry *r, size_t i);

/* Make `conn` the publisher with this track list. If another publisher holds the session and
 * has sent a frame within idle_us: BBT_EEXIST. If it has been silent longer, it is replaced and
 * *replaced receives its conn (the server closes it), else NULL. Viewers' track choices are
 * recomputed and their video tracks await a keyframe. */
int bbt_session_publish(bbt_session *s, void *conn, const bbt_track_info *tracks, size_t n,
                        int64_t now_us, void **replaced);
/* The publisher connection went away (or was replaced): state INTERRUPTED, caches emptied. With
 * `ended` (the publisher said bye): state ENDED instead. */
void bbt_session_unpublish(bbt_session *s, void *conn, bool ended);

/* Fan a complete frame (track, flags, seq, capture_us, len set) out to the viewers. Sets
 * ref->cls. Returns BBT_OK, or BBT_EFRAME_TRACK if the track is not in the track list. */
int bbt_session_ingest(bbt_session *s, bbt_frame_ref *ref, int64_t now_us);

/* Attach a viewer: chooses its tracks and primes its queue from the GOP cache, so it decodes at
 * once. Returns BBT_OK or BBT_ENOMEM. */
int bbt_session_add_viewer(bbt_session *s, bbt_viewer *v, int64_t now_us);
void bbt_session_remove_viewer(bbt_viewer *v);
/* Adaptation's choice for a viewer: a camera track (-1 none) and whether courseware is sent.
 * The camera changes at the next keyframe of the new track (one is requested): until then the
 * old camera keeps going, unless `now_down` (a move down: the link is congested), which stops
 * it at once. Courseware is switched at once (primed from its cache). A pinned viewer or one
 * that wants no video is not moved. */
void bbt_session_set_level(bbt_viewer *v, int camera, bool courseware, bool now_down,
                           int64_t now_us);

/* Ask the publisher for a keyframe on `track` (a viewer asked), subject to the rate limit. */
void bbt_session_request_keyframe(bbt_session *s, unsigned track, int64_t now_us);

const char *bbt_session_id(const bbt_session *s);
enum bbt_session_state bbt_session_state(const bbt_session *s);
const char *bbt_session_state_name(enum bbt_session_state st);
void *bbt_session_publisher(const bbt_session *s);
const bbt_track_info *bbt_session_tracks(const bbt_session *s, size_t *n);
const bbt_track_info *bbt_session_track(const bbt_session *s, unsigned track);
const bbt_track_stats *bbt_session_track_stats(const bbt_session *s, unsigned track);
size_t bbt_session_viewer_count(const bbt_session *s);
/* Its viewers without the audio copies (bbt_viewer.audio_copy): the players watching. O(n). */
size_t bbt_session_audience(const bbt_session *s);
bbt_viewer *bbt_session_viewer_at(const bbt_session *s, size_t i);
/* Bytes and frames written to this session's viewers (added to by the server). */
void bbt_session_count_out(bbt_session *s, size_t bytes);
uint64_t bbt_session_bytes_out(const bbt_session *s);
uint64_t bbt_session_frames_out(const bbt_session *s);

#endif
