/* relay/adapt.c — per-viewer quality choice, a pure state machine (see adapt.h). */
#include "adapt.h"

#include <string.h>

void bbt_adapt_init(bbt_adapt *a, const bbt_adapt_params *p, const bbt_adapt_level *levels,
                    int nlevels, int level)
{
    memset(a, 0, sizeof *a);
    a->p = *p;
    if (nlevels > BBT_ADAPT_MAX_LEVELS)
        nlevels = BBT_ADAPT_MAX_LEVELS;
    if (nlevels < 1) {
        nlevels = 1;
        a->levels[0] = (bbt_adapt_level){-1, false, 0, 0};
    } else {
        memcpy(a->levels, levels, (size_t)nlevels * sizeof *levels);
    }
    a->nlevels = nlevels;
    a->level = level < 0 ? 0 : level >= nlevels ? nlevels - 1 : level;
}

int bbt_adapt_level_of(const bbt_adapt *a, int camera, bool courseware)
{
    bool any_cw = false;
    for (int i = 0; i < a->nlevels; i++)
        any_cw |= a->levels[i].courseware;
    courseware = courseware && any_cw;
    for (int i = a->nlevels - 1; i >= 0; i--)
        if (a->levels[i].camera_track == camera && a->levels[i].courseware == courseware)
            return i;
    return 0;
}

double bbt_adapt_wire(const bbt_adapt *a, double payload_bps)
{
    const bbt_adapt_level *l = &a->levels[a->level];
    if (l->payload_bps <= 0 || l->bitrate_bps <= l->payload_bps)
        return payload_bps;
    return payload_bps * (double)l->bitrate_bps / (double)l->payload_bps;
}

int bbt_adapt_fit(const bbt_adapt *a, double bps)
{
    int best = 0;
    for (int i = 0; i < a->nlevels; i++)
        if ((double)a->levels[i].bitrate_bps <= a->p.safety * bps)
            best = i;
    return best;
}

#define MISFIT 1.25
#define PAD_RISE_US 50000
#define PAD_OVER_US 250000
#define PAD_MISSING_MAX 0.2
/* A link that needed a move down this recently climbs one level a padding probe, not two: on
 * flaky-3g (2 Mbit/s and 300 kbit/s by turns every 10 s) padding 360p then 720p reached 720p
 * nine seconds into each fast phase, and the fall from it left a backlog that took the viewer
 * on down to audio only, where from 360p it stopped at 180p. */
#define PAD_CHAIN_CALM_US 30000000

/* A rate measured (bps > 0) at `at`, no longer than ttl before now. */
static bool measured_within(double bps, int64_t at, int64_t now, int64_t ttl)
{
    return bps > 0 && now - at <= ttl;
}

static bool capacity_fresh(const bbt_adapt *a, const bbt_adapt_input *in)
{
    return measured_within(in->capacity_bps, in->capacity_at_us, in->now_us, a->p.capacity_ttl_us);
}

static bool link_fresh(const bbt_adapt *a, const bbt_adapt_input *in)
{
    return measured_within(in->link_bps, in->link_at_us, in->now_us, a->p.capacity_ttl_us);
}

int bbt_adapt_copy_room(const bbt_adapt *a, const bbt_adapt_input *in, int64_t ttl_us, int rank,
                        int beside, bool keep)
{
    if (!measured_within(in->capacity_bps, in->capacity_at_us, in->now_us, ttl_us))
        return -1;
    double audio = (double)a->levels[0].bitrate_bps;
    return (double)(rank + 1) * audio <=
           (keep ? 1.0 : a->p.safety) * (in->capacity_bps + beside * audio);
}

static void back_off(bbt_adapt *a, int level, int64_t now)
{
    int64_t b = a->backoff_us[level] ? a->backoff_us[level] * 2 : a->p.backoff_min_us;
    if (b > a->p.backoff_max_us)
        b = a->p.backoff_max_us;
    a->backoff_us[level] = b;
    a->backoff_until[level] = now + b;
}

/* The lowest level with a camera picture (the top when there is none). */
static int first_camera(const bbt_adapt *a)
{
    for (int i = 0; i < a->nlevels; i++)
        if (a->levels[i].camera_track >= 0)
            return i;
    return a->nlevels - 1;
}

int bbt_adapt_hold_cap(const bbt_adapt *a, int64_t now)
{
    int floor = first_camera(a), cap = a->nlevels - 1;
    if (a->hold_until > now)
        cap = a->hold_level > floor ? a->hold_level : floor;
    if (a->lossy_far && cap > floor)
        cap = floor;
    return cap;
}

/* The viewer goes down to `level` now: no probe or padding goes on, and another step down
 * needs another down_delay. */
static void step_down(bbt_adapt *a, int level, int64_t now)
{
    a->probing = false;
    a->probed_ok = false;
    a->padding = false;
    a->level = level;
    a->downs++;
    a->last_down_us = now;
    a->congested_since = now;
}

/* A far lossy link (the ceiling, adapt.h): a padding probe above the lowest camera picture
 * stops, and a viewer above it moves down to it now — no fall (no hold), no back-off. True
 * when it moved. */
static bool ceiling_down(bbt_adapt *a, int64_t now)
{
    int floor = first_camera(a);
    if (!a->lossy_far)
        return false;
    if (a->padding && a->pad_level > floor)
        a->padding = false;
    if (a->level <= floor)
        return false;
    a->returned = false;
    step_down(a, floor, now);
    a->ceilings++;
    return true;
}

/* The fall hold runs fall_hold_us from now, waiting for a new swing up. */
static void hold_renew(bbt_adapt *a, int64_t now)
{
    a->hold_until = now + a->p.fall_hold_us;
    a->hold_up_us = 0;
}

/* The link fell to `level` (a move down that was no probe's failure): hold moves up there. */
static void hold_fall(bbt_adapt *a, int level, double capacity, int64_t now)
{
    if (a->p.fall_hold_us <= 0)
        return;
    a->hold_capacity_bps = capacity;
    if (a->hold_until <= now) {
        a->hold_level = level;
        a->falls++;
    } else if (level < a->hold_level) {
        a->hold_level = level;
    }
    hold_renew(a, now);
}

static void move_down(bbt_adapt *a, const bbt_adapt_input *in)
{
    bool fresh = capacity_fresh(a, in);
    int target = fresh ? bbt_adapt_fit(a, in->capacity_bps) : a->level - 1;
    /* A probe fails, and the capacity is more than MISFIT times too small for the level it
     * started from as well: the link fell under it, which no probe explains (flaky-3g: 720p
     * switched to 0.5 s before the fall to 300 kbit/s read 92 kbit/s; returned to 360p, the
     * viewer took 2 s more to reach audio only, and the audio of both connections waited up
     * to 553 ms behind the backlog). */
    bool fell = a->probing && fresh &&
                (double)a->levels[a->probe_from].bitrate_bps > MISFIT * in->capacity_bps;
    bool fall = !a->probing || fell;
    if (target >= a->level)
        target = a->level - 1;
    if (target < 0)
        target = 0;
    a->returned = false;
    if (a->probing) { /* the probe failed: hold that level, go back to where it started */
        back_off(a, a->level, in->now_us);
        if (!fell && target < a->probe_from && a->probe_from < a->level) {
            target = a->probe_from; /* it held there; a capacity read while the probe
                                     * overloaded the link is no reason to go lower */
            a->returned = true;
        }
    }
    step_down(a, target, in->now_us);
    if (fall)
        hold_fall(a, target, fresh ? in->capacity_bps : 0, in->now_us);
}

/* The level a move up from `from` may go to now, from the measures (a fresh capacity may allow
 * a jump; a fresh capacity or TCP rate may rule the next level out) and the back-offs; ≤ from
 * when none. */
static int up_target(const bbt_adapt *a, const bbt_adapt_input *in, int from)
{
    if (from >= a->nlevels - 1)
        return from;
    int next = from + 1;
    if (capacity_fresh(a, in)) {
        int fit = bbt_adapt_fit(a, in->capacity_bps);
        if (fit <= from)
            return from; /* measured: the next level does not fit */
        next = fit;
    } else if (link_fresh(a, in) && bbt_adapt_fit(a, in->link_bps) <= from) {
        return from; /* TCP's own measure says the same */
    }
    while (next > from && a->backoff_until[next] > in->now_us)
        next--;
    return next;
}

/* Under a fall hold, after a padding probe above it passed: a capacity or TCP rate measured
 * since, that fits no more than the hold's level, shows the link down again (on flaky-3g's
 * 300 kbit/s the TCP rate rules a probe out before one can fail), and renews it. */
static void hold_swing_down(bbt_adapt *a, const bbt_adapt_input *in)
{
    int64_t now = in->now_us;
    if (!a->hold_up_us || a->hold_until <= now)
        return;
    double bps = 0;
    if (capacity_fresh(a, in) && in->capacity_at_us > a->hold_up_us)
        bps = in->capacity_bps;
    else if (link_fresh(a, in) && in->link_at_us > a->hold_up_us)
        bps = in->link_bps;
    if (bps > 0 && bbt_adapt_fit(a, bps) <= bbt_adapt_hold_cap(a, now))
        hold_renew(a, now);
}

/* Move up to `next` now: a probe for probe_us. */
static void switch_up(bbt_adapt *a, int next, int64_t now)
{
    a->probe_from = a->level;
    a->level = next;
    a->ups++;
    a->probing = true;
    a->probe_until = now + a->p.probe_us;
    a->clear_since = now;
}

/* Level `level` did not fit the capacity the link last fell to. */
static bool above_fall(const bbt_adapt *a, int level)
{
    return a->hold_capacity_bps > 0 && (double)a->levels[level].bitrate_bps > a->hold_capacity_bps;
}

/* Pad for `level` from now on, failing over `limit_us` of delay (in two stages above a fall:
 * pad_first). */
static void pad_start(bbt_adapt *a, int level, int64_t now, int64_t limit_us)
{
    a->pad_from_bps = bbt_adapt_pad_bps(a, now); /* 0 unless a probe goes on */
    a->pad_start_us = now;
    a->pad_limit_us = limit_us;
    a->pad_over_since = 0;
    a->padding = true;
    a->pad_level = level;
    a->pad_until = now + a->p.pad_us;
    a->pad_first = above_fall(a, level);
}

/* The padding probe failed (congestion, a rising delay, padding not taken): hold its level,
 * move up to what padded well before. */
static void pad_failed(bbt_adapt *a, int64_t now)
{
    a->padding = false;
    a->pads_failed++;
    a->pad_failed_us = now;
    if (a->backoff_until[a->pad_level] < now + a->p.pad_backoff_us)
        a->backoff_until[a->pad_level] = now + a->p.pad_backoff_us;
    if (a->pad_ok > a->level)
        switch_up(a, a->pad_ok, now);
}

/* How long a delay over the limit is forgiven (jitter): PAD_OVER_US, or nothing for a probe
 * for a level that did not fit the capacity the link last fell to — there the delay is the
 * padding's queue, not jitter, and another quarter second of a rising ramp made it the audio's:
 * the cliff's probes at 40-41 s (to learn) and at 52 s (the hold's end) on its 400 kbit/s padded
 * for 360p and held the audio 213-240 ms in three runs of four. */
static int64_t pad_over_us(const bbt_adapt *a)
{
    return above_fall(a, a->pad_level) ? 0 : PAD_OVER_US;
}

/* A padding probe under way, at a sample that is not congested: a delay over pad_limit_us
 * (what it was when the probe started, plus PAD_RISE_US, at least clear_us) for pad_over_us()
 * fails it — the queue the padding builds is delay for the media: a probe kept open while the
 * delay was between the thresholds held a 400 kbit/s link 200-300 ms late for 3 s; measured
 * from the start, not from clear_us, because a lossy, jittery link reads 40-55 ms with nothing
 * queued (flaky-3g), and a probe that may not add 10 ms there never passes. At its end a delay
 * within the limit passes it (on to the level above, or the move up) if the socket took the
 * padding: a relay writes padding only while the kernel holds less than its unsent cap, so on
 * a link where TCP cannot reach the rate (loss, a small window) the padding is not written and
 * no queue shows — 720p passed that way on flaky-3g, and failed at once when switched to. */
static void pad_step(bbt_adapt *a, const bbt_adapt_input *in)
{
    int64_t now = in->now_us;
    if (in->delay_us > a->pad_limit_us) {
        if (!a->pad_over_since)
            a->pad_over_since = now;
        if (now - a->pad_over_since >= pad_over_us(a))
            pad_failed(a, now);
        return;
    }
    a->pad_over_since = 0;
    if (now < a->pad_until)
        return;
    if (in->pad_missing > PAD_MISSING_MAX) { /* the link did not take the rate */
        pad_failed(a, now);
        return;
    }
    if (a->pad_first) { /* the link carries more than it fell to: now the level's own rate */
        pad_start(a, a->pad_level, now, a->pad_limit_us);
        a->pad_first = false;
        return;
    }
    int cap = bbt_adapt_hold_cap(a, now);
    if (a->pad_level > cap) { /* a probe to learn, under a fall hold: no switch */
        a->hold_up_us = now;
        a->padding = false;
        a->clear_since = now; /* the next one after another up_hold */
        return;
    }
    a->pad_ok = a->pad_level;
    int next = up_target(a, in, a->pad_level);
    bool calm = !a->last_down_us || now - a->last_down_us >= PAD_CHAIN_CALM_US;
    if (calm && next > a->pad_level && next == a->pad_level + 1 && next <= cap) {
        pad_start(a, next, now, a->pad_limit_us); /* the same probe, going on */
        return;
    }
    a->padding = false;
    switch_up(a, a->pad_ok, now);
}

/* Under a fall hold with the capacity the link fell to known: a fresh TCP rate over MISFIT
 * times it is the first sign that the link came back, and only then does a probe to learn
 * run (the cliff's 400 kbit/s, padded for 360p 37 s after its fall, filled its 300 ms queue
 * and the audio lost a packet: a 244 ms gap). Without that capacity: as before, probe. */
static bool came_back(const bbt_adapt *a, const bbt_adapt_input *in)
{
    return a->hold_capacity_bps <= 0 ||
           (link_fresh(a, in) && in->link_bps > MISFIT * a->hold_capacity_bps);
}

/* On a far lossy link (the ceiling) a viewer without a camera picture, unless a probe passed
 * since it moved down, waits this many up_hold_us of clear link before the picture comes back.
 * The move is a switch, whose keyframe enters the bottleneck queue the audio copies share, and
 * a link that fell a few seconds ago may be low still: on flaky-3g with congestion at 90 ms
 * (relay/conn_adapt.c FAR_CONGEST_US) the viewer reached audio only ~2 s into each 300 kbit/s
 * phase and switched back to 180p a median 7.3 s after the fall, still in it; the probe failed,
 * and its back-off (10 s, then 20) held audio only through most of the next 2 Mbit/s phase: 68 %
 * of the run on audio only, against 34 % before; with this hold 52 %, every return in a 2 Mbit/s
 * phase (docs/PERFORMANCE.md, session 17). */
#define FAR_PICTURE_HOLDS 2

static void maybe_move_up(bbt_adapt *a, const bbt_adapt_input *in)
{
    int64_t hold = a->probed_ok ? a->p.probe_us : a->p.up_hold_us;
    if (a->lossy_far && !a->probed_ok && a->levels[a->level].camera_track < 0)
        hold = FAR_PICTURE_HOLDS * a->p.up_hold_us;
    if (a->padding || in->now_us - a->clear_since < hold)
        return;
    int next = up_target(a, in, a->level);
    if (next <= a->level)
        return;
    int cap = bbt_adapt_hold_cap(a, in->now_us);
    bool pad = a->p.pad_us > 0 && a->levels[a->level].camera_track >= 0;
    if (next > cap && cap > a->level)
        next = cap;
    else if (next > cap && (!pad || a->hold_up_us || a->lossy_far || !came_back(a, in)))
        return; /* held, and nothing to learn: no switch without padding, or a probe above the
                 * hold passed already (one near the end of flaky-3g's fast phase was still
                 * padding when the link fell, and its bytes held the audio of both connections),
                 * or a ceiling, which no measure lifts, or no sign yet that the link came back */
    if (pad) {
        int64_t limit = in->delay_us + PAD_RISE_US;
        a->pad_ok = a->level;
        a->pads++;
        pad_start(a, next, in->now_us, limit > a->p.clear_us ? limit : a->p.clear_us);
    } else {
        switch_up(a, next, in->now_us);
    }
}

double bbt_adapt_pad_bps(const bbt_adapt *a, int64_t now_us)
{
    if (!a->padding)
        return 0;
    /* the level at the safety fraction, like a measured capacity: 720p (1.25 Mbit/s) padded
     * for at its bare rate passed on flaky-3g's lossy 2 Mbit/s and then stalled 46 % of a run */
    double d = (double)a->levels[a->pad_level].bitrate_bps / a->p.safety -
               (double)a->levels[a->level].bitrate_bps;
    /* above the capacity the link last fell to, first only a little above it: on a link still
     * down that costs a little queue, not the level's whole rate (the cliff's probe at the
     * hold's end padded for 360p on its 400 kbit/s and held the sound 240 ms) */
    if (a->pad_first) {
        double first = MISFIT * a->hold_capacity_bps - (double)a->levels[a->level].bitrate_bps;
        if (first < d)
            d = first;
    }
    if (d < 0)
        d = 0;
    int64_t ramp = a->p.pad_us / 2, in = now_us - a->pad_start_us;
    if (ramp > 0 && in >= 0 && in < ramp)
        d = a->pad_from_bps + (d - a->pad_from_bps) * (double)in / (double)ramp;
    return d;
}

int bbt_adapt_update(bbt_adapt *a, const bbt_adapt_input *in)
{
    int64_t now = in->now_us;
    bool far = in->lossy_far && a->p.far_congest_us > 0; /* under the ceiling's threshold */
    int64_t congest = far ? a->p.far_congest_us : a->p.congest_us;
    bool congested = in->delay_us >= congest, clear = in->delay_us <= a->p.clear_us;
    /* The probe window is over: the level holds if the link is clear now. A queue that is
     * still building (between the thresholds) leaves the probe open, up to a second window:
     * on a link with deep buffers congestion shows late, and a level that fails then must
     * still count as a failed probe (back-off), or the machine keeps probing it. */
    if (a->probing && now >= a->probe_until && (clear || now >= a->probe_until + a->p.probe_us)) {
        a->probing = false;
        a->probed_ok = true;
        a->backoff_us[a->level] = 0;
    }
    /* A congestion episode starts with a congested sample and ends only when the link is
     * clear: a dip between the thresholds does not restart the wait (the relay's batched
     * writes empty the queue into the socket in one go, so an overloaded link reads as a
     * sawtooth). Clear time builds up only while clear. */
    if (congested && !a->congested)
        a->congested_since = now;
    if (clear && !a->clear)
        a->clear_since = now;
    a->congested = congested || (a->congested && !clear);
    a->clear = clear;
    a->lossy_far = in->lossy_far;
    if (ceiling_down(a, now))
        return a->level;
    if (a->padding && congested)
        pad_failed(a, now);
    else if (a->padding)
        pad_step(a, in);
    hold_swing_down(a, in);
    /* the highest level a fresh capacity fits, -1: none fresh */
    int fit = capacity_fresh(a, in) ? bbt_adapt_fit(a, in->capacity_bps) : -1;
    /* Twice the threshold is no spike: the first step of an episode goes at once. So does a
     * congested level that a fresh capacity (measured while backlogged, i.e. what the link
     * carries now) shows to be more than MISFIT times too big: the cliff, a failed probe. So
     * does any congested sample under the ceiling's far_congest_us: that threshold lies above
     * all the signal read there at rest (bbt-bench rural: at 180p at most 60 ms on flaky-3g
     * outside its 300 kbit/s phases, 78 ms on village-400k), and waiting for one more sample
     * (the relay's tick: 250 ms) was that much more queue in front of the copies' sound. */
    bool misfit = congested && fit >= 0 &&
                  (double)a->levels[a->level].bitrate_bps > MISFIT * in->capacity_bps;
    bool severe = (in->delay_us >= 2 * congest || misfit || (far && congested)) &&
                  (!a->last_down_us || now - a->last_down_us >= a->p.down_delay_us);
    /* An episode that has not cleared yet, whose fresh capacity (measured in it) fits no more
     * than a lower level: the link is full even where a sample reads below congest_us (the
     * sawtooth above; flaky-3g's 300 kbit/s with 180p and the audio copy read 305, 402, 52,
     * 15, 6, 136 ms and never moved down, its audio late behind each keyframe). */
    bool full = a->congested && !congested && !clear && fit >= 0 && fit < a->level;
    if ((congested || full) && a->level > 0 &&
        (now - a->congested_since >= a->p.down_delay_us || severe)) {
        bool fits = fit >= a->level;
        bool draining = (a->last_down_us && now - a->last_down_us < a->p.drain_us &&
                         (a->returned || fits)) ||
                        (a->pad_failed_us && now - a->pad_failed_us < a->p.drain_us &&
                         (fits || fit < 0));
        if (!draining)
            move_down(a, in);
    } else if (clear) {
        maybe_move_up(a, in);
    }
    return a->level;
}

double bbt_adapt_pace_bps(const bbt_adapt *a, double factor, double min_bps)
{
    int lv = a->padding && a->pad_level > a->level ? a->pad_level : a->level;
    double bps = factor * (double)a->levels[lv].bitrate_bps;
    return bps > min_bps ? bps : min_bps;
}
