/* relay/adapt.h — per-viewer quality choice: a pure state machine (no I/O, no clock).
 *
 * The viewer's possible levels are listed lowest first, each a set of tracks and the bitrate
 * they need together on the wire, built from the publisher's track list (relay/adapt_levels.h):
 *     audio only → audio + courseware (when the teacher shares the screen) → + camera 180p →
 *     + camera 360p → + camera 720p
 * which is the degradation order of the design, read upwards. Audio is in every level, so it is
 * never dropped by a level change.
 *
 * Each update takes the viewer's congestion signal (how long data waits before it reaches the
 * network: the relay queue's delay plus the kernel's unsent backlog) and, when the link has been
 * the bottleneck recently, its measured capacity (relay/estimate.h). Rules:
 *   down   congested (delay ≥ congest_us) for down_delay_us → the highest level whose bitrate
 *          fits safety × capacity (or one level down when capacity is unknown), at least one
 *          level down. Fast: a rural link that collapses is followed within about a second.
 *          The wait runs from the first congested sample until the link is clear (delay ≤
 *          clear_us): samples in between do not restart it. A delay of 2 × congest_us moves
 *          down at once, unless the last move down was less than down_delay_us ago; so does
 *          congestion on a level whose bitrate is more than 1.25 × a fresh capacity (a link
 *          that fell: bbt-bench rural's cliff, a failed probe). A sample between the
 *          thresholds in an episode not yet clear moves down too, after down_delay_us, when a
 *          fresh capacity fits only a lower level: the link is full though the sawtooth dips.
 *   up     clear (delay ≤ clear_us) for up_hold_us (probe_us after a successful probe) → one
 *          level up, unless that level is backing off, or a fresh capacity (or, without one, a
 *          fresh TCP delivery rate) says it does not fit.
 *          The move up is a probe: congestion within probe_us moves back down and holds the
 *          failed level for a back-off that doubles on each failure (backoff_min..max) and
 *          resets when a probe of it succeeds. A failed probe goes back to the level it
 *          started from (not lower, whatever capacity was read while it overloaded the link);
 *          further steps need further congestion. A probe succeeds when the link is clear at the
 *          end of probe_us; a delay still between the thresholds then keeps it open for up to
 *          another probe_us (deep link buffers show congestion late). A fresh capacity that
 *          fits several levels allows a jump over them.
 *   pad    with pad_us > 0 (the viewer takes padding, docs/PROTOCOL.md §2.6) a move up from a
 *          level with a camera picture is tried first without touching the picture: for pad_us
 *          the caller adds padding up to the rate the next level would need (bbt_adapt_pad_bps:
 *          rising to it over the first half), and the level stays. Congestion ends it at once —
 *          a failed padding probe costs a moment's delay, not a switch and a keyframe each way
 *          — and holds that level for pad_backoff_us (no doubling: cheap probes may be
 *          frequent, so a link that recovers is found within about that time: the cliff's
 *          recovery went unseen for 40 s behind a doubled back-off); so does a delay 50 ms over
 *          the probe's start (at least clear_us) for a quarter of a second (at once when the
 *          level probed for did not fit hold_capacity_bps, the capacity the link last fell to;
 *          such a probe pads first only to 1.25 times that capacity, for pad_us, and then to
 *          the level's rate, for pad_us more): the queue the padding builds delays the media;
 *          and, at the end, padding the socket did not take (over 20 % of it: TCP could not
 *          carry the rate, the backlog stayed in the kernel, where it shows no delay). A delay
 *          within the limit at the end goes on to pad for the level above,
 *          when there is one to try and no move down came in the last 30 s, and the move is
 *          then made to the highest level padded for successfully, as a probe like any other.
 *          Congestion within drain_us of a failed padding probe is its padding draining: no
 *          step down for it, unless a fresh capacity says the level does not fit. From audio
 *          only (or courseware only) there is no picture to keep: the first camera level is
 *          probed by switching to it, as without padding — its keyframe is small, and the
 *          switch needs only the level's own rate where padding asks for rate ÷ safety (on
 *          flaky-3g's 300 kbit/s with the audio copy that failed, and padding probes kept the
 *          viewer on audio only for 44-53 % of the run against 31 % with switches).
 *   hold   with fall_hold_us > 0 a move down that is no probe's failure is a fall of the link:
 *          for fall_hold_us moves up stop at the lowest level it fell to (at least the lowest
 *          camera picture, left to the rules above). A padding probe above the hold may still
 *          run, to learn (it costs no picture) and never to switch, until one passes: then no
 *          other (flaky-3g: a second one near the end of the fast phase was still padding when
 *          the link fell, and its bytes held the audio of both connections in the bottleneck).
 *          A capacity or TCP rate measured after that pass which fits no more than the hold's
 *          level shows a link swinging between its rates and renews the hold (and the probes to
 *          learn start again). On
 *          flaky-3g (2 Mbit/s and 300 kbit/s by turns every 10 s) each climb in the fast phase
 *          was a backlog at the next fall, the audio of both connections behind it; a link that
 *          fell once and stays low (the cliff) sees only failed probes, and the hold ends.
 *          When the fall measured the capacity it fell to, a probe to learn waits for a fresh
 *          TCP rate over 1.25 times that: a sign the link came back (the cliff's 400 kbit/s,
 *          padded for 360p while still down, filled its 300 ms queue: a 244 ms audio gap).
 *   ceiling  with in->lossy_far (the caller's judgement, relay/conn_adapt.c: a round trip of
 *          100 ms or more on a link that loses packets) no level above the lowest camera
 *          picture: moves up stop there, no padding probe goes above it (not even one to learn),
 *          and a viewer above it moves down to it at once (no fall hold, no back-off);
 *          congestion there starts at far_congest_us, lower than congest_us (a queue that holds
 *          the copies' sound as well as the picture's, relay/conn_adapt.c FAR_CONGEST_US), its
 *          first sample moves down at once (no down_delay_us: the threshold lies above all the
 *          signal read there at rest, and each wait is more queue in front of the sound), and
 *          a viewer that fell below that picture waits twice up_hold_us of clear link before
 *          it comes back (adapt.c FAR_PICTURE_HOLDS; unless a probe passed since). On
 *          such a link each lost packet holds a connection's audio for a round trip and more, so
 *          the audio copies (docs/PROTOCOL.md §3.5) carry the sound; they cross the same
 *          bottleneck queue as the picture, and a picture that fills it holds them all at once: on
 *          flaky-3g the first fall found the viewer on 360p or 720p in 3 of 10 runs, and its
 *          backlog held every connection 206-562 ms; under the ceiling none did
 *          (docs/PERFORMANCE.md, session 12).
 *   drain  after a move down, while the level fits a fresh capacity, or after a failed
 *          probe's return to a level that held, congestion is the backlog of the level before
 *          draining through the link: no further step down for drain_us (it took another step
 *          to audio only on a 400 kbit/s link where 180p fits).
 * The caller applies the level at the next keyframe of its camera track (relay/session.h).
 */
#ifndef BBT_ADAPT_H
#define BBT_ADAPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/control.h"
#include "relay/adapt_levels.h"

typedef struct bbt_adapt_params {
    double safety;          /* fraction of the capacity a level may use, 0.1..1 */
    int64_t congest_us;     /* delay at or above this is congestion ... */
    int64_t far_congest_us; /* ... and this on a far lossy link (in->lossy_far; 0: congest_us) */
    int64_t clear_us;       /* delay at or below this is a clear link */
    int64_t down_delay_us;  /* congestion this long moves down */
    int64_t up_hold_us;     /* clear this long moves up */
    int64_t probe_us;       /* a move up is a probe for this long */
    int64_t backoff_min_us; /* first hold of a level whose probe failed */
    int64_t backoff_max_us;
    int64_t capacity_ttl_us; /* a capacity older than this is unknown */
    int64_t drain_us;        /* after a move down to a level that fits a fresh capacity, the
                              * backlog gets this long to drain before another step (0: none) */
    int64_t pad_us;          /* a padding probe's length; 0: the viewer takes no padding */
    int64_t pad_backoff_us;  /* hold of a level whose padding probe failed */
    int64_t fall_hold_us;    /* a fall holds moves up at the level fallen to this long; 0: never */
} bbt_adapt_params;

typedef struct bbt_adapt_input {
    int64_t now_us;
    int64_t delay_us;      /* congestion signal */
    double capacity_bps;   /* measured capacity, 0: never measured */
    int64_t capacity_at_us; /* when it was last measured */
    double link_bps;        /* TCP's delivery rate while busy (relay/estimate.h), 0: none ... */
    int64_t link_at_us;     /* ... measured then: when fresh it can rule out a probe */
    bool lossy_far;         /* the caller's judgement: a far link that loses packets (the
                             * ceiling above) */
    double pad_missing;     /* share of the padding due in this padding probe (this level) that
                             * the socket did not take, 0..1 (0: all of it, or none due) */
} bbt_adapt_input;

typedef struct bbt_adapt {
    bbt_adapt_params p;
    bbt_adapt_level levels[BBT_ADAPT_MAX_LEVELS];
    int nlevels;
    int level;                 /* current choice */
    bool congested, clear;     /* a congestion episode is on / the link is clear ... */
    int64_t congested_since;   /* ... and since when */
    int64_t clear_since;
    bool probing;
    int64_t probe_until;
    bool probed_ok;            /* the last move up succeeded: next one needs only probe_us */
    int64_t backoff_until[BBT_ADAPT_MAX_LEVELS];
    int64_t backoff_us[BBT_ADAPT_MAX_LEVELS];
    uint32_t ups, downs;       /* switches made */
    int64_t last_down_us;      /* time of the last move down, 0: none */
    int probe_from;            /* the level the current (or last) probe started from */
    bool returned;             /* the last move down was a failed probe's return */
    bool padding;              /* a padding probe is on ... */
    int pad_level;             /* ... for this level ... */
    int pad_ok;                /* ... the highest level padded for successfully (≥ level) ... */
    int64_t pad_until;         /* ... until then; it fails when the delay is over ... */
    int64_t pad_start_us;      /* ... (its padding rising from pad_from_bps since then) ... */
    double pad_from_bps;
    int64_t pad_limit_us;      /* ... this (its delay at the start + 50 ms, ≥ clear_us) ... */
    int64_t pad_over_since;    /* ... since then (0: within it) for 250 ms */
    int64_t pad_failed_us;     /* time of the last failed padding probe, 0: none */
    bool pad_first;            /* the first of a probe's two stages above the capacity the link
                                * last fell to: padding only to 1.25 times that capacity */
    uint32_t pads, pads_failed; /* padding probes started / failed */
    int64_t hold_until;        /* a fall hold is on until then (0: none), keeping moves up ... */
    int hold_level;            /* ... at or below this (at least the lowest camera picture) ... */
    int64_t hold_up_us;        /* ... and when a padding probe above it passed (0: not since
                                * it was renewed) */
    uint32_t falls;            /* fall holds begun */
    double hold_capacity_bps;  /* the capacity the link fell to at the last fall (0: none) */
    bool lossy_far;            /* the last input's: the ceiling is on */
    uint32_t ceilings;         /* moves down to the ceiling */
} bbt_adapt;

/* Start at `level` (clamped). */
void bbt_adapt_init(bbt_adapt *a, const bbt_adapt_params *p, const bbt_adapt_level *levels,
                    int nlevels, int level);

/* The level a viewer is on: the one carrying camera track `camera` (-1: none) and, when any
 * level carries courseware, courseware as `courseware` (a viewer's "courseware wanted" flag is
 * true also where the session has no courseware track). 0 when none matches. */
int bbt_adapt_level_of(const bbt_adapt *a, int camera, bool courseware);

/* A rate measured in payload bytes (the relay's own capacity, TCP's delivery rate) as what it
 * carried on the wire, by the headers of the level the viewer is on: they were measured on
 * that level's mix of frames. */
double bbt_adapt_wire(const bbt_adapt *a, double payload_bps);

/* The highest level that fits `bps` (on the wire) at the safety fraction (0 if none). */
int bbt_adapt_fit(const bbt_adapt *a, double bps);

/* The highest level a move up may reach at `now_us`: under a fall hold the level fallen to (at
 * least the lowest camera picture), else the top; under the ceiling (a far lossy link) at most
 * the lowest camera picture. */
int bbt_adapt_hold_cap(const bbt_adapt *a, int64_t now_us);

/* Room on this viewer's link for its audio once more (an audio copy, docs/PROTOCOL.md §3.5):
 * for the classroom's rank-th copy (1: its first), 1 when the link fits the audio-only level's
 * bitrate rank + 1 times at the safety fraction; the link is a capacity measured within ttl_us
 * of in->now_us plus that audio rate for each of the `beside` copies the link carried beside
 * this connection while it was measured (their bytes are outside its measure). With `keep` (a
 * copy on the link already) the whole link is asked, not the safety fraction of it: between
 * the two a copy stays and no new one comes. 0 when it does not (a
 * copy without room holds up the others, docs/PLAYER.md "Audio copy"); -1 when no capacity was
 * measured then: not known. TCP's delivery rate is not asked: a receiver that reads slowly lets
 * TCP send in bursts at the machine's speed (tests/relay/test_conn_adapt.c), which its samples
 * report. Reads `a`, changes nothing. */
int bbt_adapt_copy_room(const bbt_adapt *a, const bbt_adapt_input *in, int64_t ttl_us, int rank,
                        int beside, bool keep);

/* One step; returns the (possibly new) level. */
int bbt_adapt_update(bbt_adapt *a, const bbt_adapt_input *in);

/* The padding rate the caller adds at now_us (bits/s): during a padding probe, what the level
 * probed for needs at the safety fraction (bitrate ÷ safety, as a capacity would have to be)
 * beyond the current level's bitrate, reached in a ramp over the probe's first half from 0 (from
 * the last level's rate for the next level of a probe going on); 0 otherwise. The ramp: a probe
 * that fails does so while it overloads the link a little, not twice over (the cliff's 400
 * kbit/s padded for 360p at once held the audio 240 ms behind the padding). */
double bbt_adapt_pad_bps(const bbt_adapt *a, int64_t now_us);

/* The rate to pace a far link's connection at (bits/s; relay/conn_adapt.c says why): `factor`
 * times the wire rate of the level the viewer is on — of the level a padding probe pads for
 * when that is higher — and at least min_bps. */
double bbt_adapt_pace_bps(const bbt_adapt *a, double factor, double min_bps);

#endif
