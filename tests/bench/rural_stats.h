/* tests/bench/rural_stats.h — what `bbt-bench rural` measures at the viewer, pure (no I/O, no
 * clock: every call carries its time). Definitions (docs/PERFORMANCE.md, "Rural links", says the
 * same in prose):
 *
 *   time t        µs since the start of the run (the viewer's subscribe); arrival = when the
 *                 whole WebSocket message had been read.
 *   latency       arrival wall clock − the frame's capture_us (the publisher stamps its wall clock
 *                 when it sends; relay and viewer share the machine's clock), every media frame.
 *   audio gap     time between the arrivals of two consecutive audio frames (and from the last
 *                 one to the end of the run), from the first audio frame on. A gap over 200 ms
 *                 would empty a 200 ms jitter buffer. Audio frames missing from the sequence
 *                 (dropped by the relay) are counted apart.
 *   player audio  the browser player's jitter buffer (relay/web/audio-worklet.js) replayed on the
 *                 arrivals: starts at 120 ms buffered (+60 ms in the first 5 s of sound), +40 ms
 *                 per underrun and, when sound arrives again, at least the target before it +
 *                 the time it stood dry + 20 ms, up to 400 ms (restarting at the old target +
 *                 40 ms); −10 ms every 10 s after 30 s
 *                 without one, bursts
 *                 beyond target + 200 ms skipped. Underruns and silent time are what a listener
 *                 hears.
 *   decodable     a video frame that is a keyframe, or the next sequence number of its track
 *                 after a decodable frame of that track. The viewer's layer is the track of the
 *                 latest decodable frame; "audio only" from a relay `state` with layer −1 until
 *                 the next decodable frame.
 *   video stall   from the first decodable frame on, while video is expected (not audio only),
 *                 an interval longer than stall_us (500 ms: the player's own definition,
 *                 docs/PLAYER.md) with no new decodable frame; counted whole. The ratio is
 *                 stalled time / (end − first picture).
 *   layer share   time on each layer (and audio only) / (end − first picture).
 *   link events   a rate change to a lower rate is a drop: the time until the viewer's layer fits
 *                 (its bitrate plus audio at most the new rate, or audio only), 0 if it already
 *                 did; a change to a higher rate is a recovery: the time until the layer is at
 *                 least the best camera layer that fits the new rate. −1 when not reached before
 *                 the next change or the end.
 *   goodput       media bytes received (whole binary messages) × 8 / (end − first frame).
 *
 * Memory: fixed arrays allocated at init for the run's length (latency samples beyond the bound
 * are counted but not stored). Not thread-safe: the caller serialises calls.
 */
#ifndef BBT_RURAL_STATS_H
#define BBT_RURAL_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_MAX_TRACKS 32
#define RS_MAX_EVENTS 64
#define RS_WINDOW_US 10000000 /* latency p95 per 10 s window */
#define RS_MAX_WINDOWS 400

typedef struct rs_layer {
    int track;          /* camera track id */
    int64_t bitrate;    /* declared, bit/s */
    int height;
} rs_layer;

typedef struct rs_event {
    int64_t t;          /* when the rate changed */
    int64_t kbit;       /* the new rate */
    bool drop;          /* lower than before (else a recovery) */
    int target_track;   /* recovery: the best camera layer that fits, -1: none */
    int64_t after_us;   /* time to the condition, -1: not (yet) reached */
    bool open;
} rs_event;

typedef struct rs_summary {
    double seconds;               /* measured: end − first picture */
    double first_frame_ms, first_picture_ms;
    double latency_p50_ms, latency_p95_ms, latency_max_ms;
    int nwindows;
    double window_p95_ms[RS_MAX_WINDOWS];
    double audio_gap_max_ms;
    uint64_t audio_gaps_over_200ms;
    uint64_t audio_frames, audio_frames_lost;
    uint64_t player_underruns;
    double player_silence_ms, player_skipped_ms, player_target_ms;
    uint64_t video_frames, video_undecodable, video_stalls;
    double video_stall_ms, video_stall_ratio;
    double share[RS_MAX_TRACKS];  /* by track id */
    double share_audio_only;
    uint64_t bytes;
    double goodput_kbps;
    uint64_t layer_changes;       /* changes of the viewer's layer (as received) */
    uint64_t latency_dropped;     /* samples beyond the storage bound */
} rs_summary;

typedef struct rural_stats {
    /* set-up */
    rs_layer layers[RS_MAX_TRACKS];
    int nlayers;
    int audio_track;
    int64_t audio_bps, audio_frame_us, stall_us;
    /* latency */
    int32_t *lat_us;             /* per frame: latency, µs (clamped) */
    int32_t *lat_t_ms;           /* and its time */
    size_t nlat, cap_lat;
    uint64_t lat_dropped;
    int32_t win[1024];           /* the current report second, µs */
    size_t nwin;
    /* audio */
    bool audio_seen;
    int64_t last_audio_t;
    uint32_t audio_next_seq;
    uint64_t audio_frames, audio_lost, gaps_over;
    int64_t gap_max;
    /* the player's jitter buffer */
    bool pl_playing, pl_silent;
    int64_t pl_buffered_us, pl_target_us, pl_last_t, pl_first_sound, pl_silence_since;
    int64_t pl_last_underrun, pl_last_decay, pl_silence_us, pl_skipped_us;
    int64_t pl_dry_at, pl_target_before; /* an underrun not yet covered (−1: none) */
    int64_t pl_restart_us;               /* after an underrun: enough to restart (0: target) */
    uint64_t pl_underruns;
    /* video */
    bool dec[RS_MAX_TRACKS];
    uint32_t next_seq[RS_MAX_TRACKS];
    bool seq_known[RS_MAX_TRACKS];
    int layer;                   /* track of the latest decodable frame; -1 audio only; -2 none */
    int64_t layer_since;
    int64_t share_us[RS_MAX_TRACKS], share_audio_only_us;
    bool picture;                /* a decodable frame has arrived */
    int64_t first_picture_t, first_frame_t;
    bool expected;               /* video expected (not audio only) */
    bool relay_audio_only;       /* the relay's last `state` said layer -1 (audio only): as in
                                  * the player, no frame of the old layer still arriving after it
                                  * makes video expected again; the next `state` does */
    int64_t gap_start;
    uint64_t video_frames, undecodable, stalls, layer_changes;
    int64_t stall_total_us;
    uint64_t bytes;
    /* link */
    int64_t link_kbit;
    rs_event ev[RS_MAX_EVENTS];
    int nev;
} rural_stats;

/* tracks: camera layers (any order), the audio track id and its bitrate, the audio frame
 * duration; max_frames bounds the stored latency samples. 0 or -1 (out of memory). */
int rs_init(rural_stats *s, const rs_layer *layers, int nlayers, int audio_track,
            int64_t audio_bps, int64_t audio_frame_us, size_t max_frames);
void rs_free(rural_stats *s);

/* The link's rate at the start (t = 0) and each change later. */
void rs_link(rural_stats *s, int64_t t, int64_t kbit);

/* One media frame: its track, seq, flags (BBT_FRAME_KEY…), message length, latency (µs). */
void rs_frame(rural_stats *s, int64_t t, unsigned track, uint32_t seq, uint8_t flags,
              size_t bytes, int64_t latency_us);

/* A relay `state` message with a layer (−1: audio only). */
void rs_state_layer(rural_stats *s, int64_t t, int layer);

/* What a player's `report` says now (docs/PROTOCOL.md §3.8); the latency window restarts. */
typedef struct rs_report {
    bool have_latency;
    double p50_ms, p95_ms, max_ms;
    int layer;                   /* -1 audio only or none */
    int64_t buffer_ms;
    bool audio_ok;
    uint64_t audio_underruns, stalls, stall_ms, frames_decoded, bytes;
} rs_report;
void rs_take_report(rural_stats *s, int64_t t, rs_report *r);

/* Close the run at t_end and compute the figures. The events are s->ev[0..nev). */
void rs_finish(rural_stats *s, int64_t t_end, rs_summary *out);

/* The camera layer of a track, or NULL. */
const rs_layer *rs_find_layer(const rural_stats *s, int track);

#endif
