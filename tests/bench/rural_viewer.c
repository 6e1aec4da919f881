/* tests/bench/rural_viewer.c — the rural bench viewer's hooks into bench.h (rural.c's viewer
 * thread runs them): fragments reassembled (lengths only), each audio frame taken once from the
 * main connection or the audio copies, the player's rule for subscribing the copies, the relay's
 * `state` and the player's once-a-second report. Every whole frame and `state` goes into
 * rural_stats.c (and --trace); all under the run's mutex. */
#include <string.h>

#include "rural_internal.h"

/* The viewer's message in; true when it completes a frame (*f, len: that whole frame). */
static bool reassemble(rural_run *r, bbt_frame *f, size_t *len)
{
    bbt_frame in = *f, out;
    in.payload = NULL; /* the viewer keeps headers only */
    in.len = *len - BBT_FRAME_HEADER_LEN;
    bbt_reasm_drop d;
    int rc = bbt_reasm_push(r->reasm, &in, &out, &d);
    if (d.why != BBT_REASM_NONE && r->frag_errors++ < 5)
        say("viewer: fragmented frame discarded (%s): track %u seq %u, then seq %u",
            bbt_reasm_why_name(d.why), d.track, d.seq, d.by_seq);
    if (rc != 1)
        return false;
    *f = out;
    *len = out.len + BBT_FRAME_HEADER_LEN;
    return true;
}

/* Audio comes on the main connection and on each copy (--audio-copies): like the player
 * (relay/web/audio-copy.js, AudioPick), the viewer takes each audio frame from whichever
 * connection brings it first, in sequence order; one at or before the newest taken is a
 * duplicate. A copy just subscribed counts only once it has joined the sequence (a frame of it
 * follows the newest taken or had come already, or it has been ahead for COPY_JOIN_WAIT_US):
 * before that it is ahead of frames the held-up main connection is still bringing. */
#define COPY_JOIN_WAIT_US 300000
static bool audio_duplicate(rural_run *r, const viewer *v, const bbt_frame *f)
{
    if ((int)f->track != r->rs.audio_track)
        return false;
    int32_t d = (int32_t)(f->seq - r->audio_last);
    if (r->audio_seen && d <= 0) {
        r->audio_dup++;
        r->copy_joined |= v->audio_copy;
        return true;
    }
    if (r->audio_seen && v->audio_copy && !r->copy_joined && d > 1) {
        int64_t now = run_t(r);
        if (r->copy_ahead_since < 0)
            r->copy_ahead_since = now;
        if (now - r->copy_ahead_since < COPY_JOIN_WAIT_US) {
            r->audio_copy_ahead++;
            return true;
        }
    }
    r->copy_joined |= v->audio_copy;
    r->audio_seen = true;
    r->audio_last = f->seq;
    r->audio_from_copy += v->audio_copy;
    return false;
}

/* The player's rule for its audio copy (relay/web/audio-copy.js, AudioCopyRule, with the same
 * constants; docs/PLAYER.md "Audio copy"): once a relay's `pong` has said that TCP retransmitted
 * on the main connection (rural_on_pong), an audio frame there held up COPY_HOLDUP_US beyond the
 * lowest audio latency seen there subscribes the copies. For COPY_SATURATED_FOR_US every main
 * audio frame COPY_SATURATED_US over that lowest, and every copy frame that far ahead of the
 * main's newest (a main starved by its copy brings next to nothing), means the link has no room
 * for the audio twice: the copies unsubscribe, and the next subscription waits a back-off (30 s,
 * doubling to 240 s); an early copy (rural_on_welcome) that saw no retransmission in
 * COPY_EARLY_FOR_US unsubscribes, with no back-off; a copy the relay refuses for want of room
 * (rural_on_error) backs off as a saturated one. Under r->mu: +1 subscribe, -1 unsubscribe,
 * 0. */
#define COPY_HOLDUP_US 100000
#define COPY_FAR_RTT_US 30000
#define COPY_FAR2_RTT_US 100000 /* far and lossy: FAR_LOSSY_RTT_MS */
#define COPY_EARLY_FOR_US 10000000
#define COPY_EARLY_FAR_FOR_US 30000000 /* at COPY_FAR2_RTT_US or more (EARLY_FAR_FOR_MS) */
#define COPY_SATURATED_US 400000
#define COPY_SATURATED_FOR_US 4000000
#define COPY_BACKOFF_MAX_US 240000000

/* The copies are off for want of room: back off, doubling (AudioCopyRule.noRoom). */
static void copy_no_room(rural_run *r, int64_t now)
{
    r->copy_on = false;
    r->copy_unsubscribes++;
    r->copy_early_until = 0;
    r->copy_not_before = now + r->copy_backoff;
    r->copy_backoff = r->copy_backoff * 2 < COPY_BACKOFF_MAX_US ? r->copy_backoff * 2
                                                                 : COPY_BACKOFF_MAX_US;
}

/* The audio stands `over` µs late (AudioCopyRule.pressure). */
static int copy_pressure(rural_run *r, int64_t over, int64_t now)
{
    if (over < COPY_SATURATED_US) {
        r->copy_saturated_since = -1;
        return 0;
    }
    if (r->copy_saturated_since < 0)
        r->copy_saturated_since = now;
    if (now - r->copy_saturated_since < COPY_SATURATED_FOR_US)
        return 0;
    copy_no_room(r, now);
    return -1;
}

/* The copies are to subscribe now. */
static void copy_start(rural_run *r, int64_t now)
{
    r->copy_on = true;
    r->copy_on_since = now;
    r->copy_joined = false;
    r->copy_ahead_since = -1;
    r->copy_saturated_since = -1;
    r->copy_subscribes++;
    if (r->copy_first_t < 0)
        r->copy_first_t = now;
}

static int copy_rule(rural_run *r, const viewer *v, const bbt_frame *f, int64_t lat)
{
    if (!r->o->audio_copies || (int)f->track != r->rs.audio_track)
        return 0;
    int64_t now = run_t(r), cap = (int64_t)f->capture_us;
    if (v->audio_copy) /* how far the main connection is behind the copy */
        return r->copy_on && r->main_capture_us ? copy_pressure(r, cap - r->main_capture_us, now)
                                                : 0;
    if (cap > r->main_capture_us)
        r->main_capture_us = cap;
    if (r->audio_lat_min < 0 || lat < r->audio_lat_min)
        r->audio_lat_min = lat;
    if (r->copy_early_until && now >= r->copy_early_until) {
        r->copy_early_until = 0;
        if (r->copy_on && r->lossy_t < 0) { /* no retransmission: the early copy is not needed */
            r->copy_on = false;
            r->copy_unsubscribes++;
            r->copy_early_dropped++;
            return -1;
        }
    }
    int64_t over = lat - r->audio_lat_min;
    if (r->copy_on)
        return copy_pressure(r, over, now);
    if (over < COPY_HOLDUP_US || r->lossy_t < 0 || now < r->copy_not_before)
        return 0;
    copy_start(r, now);
    return 1;
}

/* The copies to (un)subscribe when the rule turns on or off: all of them, but for one after the
 * first that the relay refused and whose back-off is on (viewer i: bit i). Under r->mu. */
static unsigned copies_mask(const rural_run *r, bool on)
{
    unsigned m = 0;
    for (int i = 1; i <= r->o->audio_copies; i++)
        if (!on || (i <= r->copies_wanted && (i < 2 || !r->extra_off[i - 2])))
            m |= 1u << i;
    return m;
}

/* One more copy is wanted from t on: its bit when it is to subscribe now (the copies on, and it
 * not backing off after a refusal: extra_due brings it when that is over), else 0. Under
 * r->mu. */
static unsigned copy_want_more(rural_run *r, int64_t t)
{
    int i = ++r->copies_wanted;
    if (r->copy_more_t < 0)
        r->copy_more_t = t;
    if (!r->copy_on || r->extra_off[i - 2])
        return 0;
    r->copy_subscribes++;
    return 1u << i;
}

/* An audio frame taken at t (AudioCopyRule.taken): the sound broke — more than COPY_BREAK_US
 * since the last one taken, the copies on for COPY_BREAK_AFTER_US — so one more copy is wanted,
 * up to --audio-copies: its bit. Under r->mu. */
#define COPY_BREAK_US 200000
#define COPY_BREAK_AFTER_US 1000000
static unsigned copy_taken(rural_run *r, int64_t t)
{
    int64_t last = r->last_taken_t;
    r->last_taken_t = t;
    if (!r->copy_on || last < 0 || t - r->copy_on_since < COPY_BREAK_AFTER_US ||
        t - last <= COPY_BREAK_US || r->copies_wanted >= r->o->audio_copies)
        return 0;
    return copy_want_more(r, t);
}

/* A copy after the first that the relay refused is due again (AudioCopies.follow): its bit,
 * the copy back on. Under r->mu, at a main connection's audio frame while the rule is on. */
static unsigned extra_due(rural_run *r, int64_t now)
{
    unsigned m = 0;
    for (int i = 2; r->copy_on && i <= r->copies_wanted; i++)
        if (r->extra_off[i - 2] && now >= r->extra_not_before[i - 2]) {
            r->extra_off[i - 2] = false;
            r->copy_subscribes++;
            m |= 1u << i;
        }
    return m;
}

/* Outside r->mu: connecting may call back. */
static void copies_subscribe(bench *b, unsigned mask, bool on)
{
    for (int i = 1; i < b->o.viewers; i++)
        if (mask & (1u << i))
            viewer_subscribe(b, &b->v[i], on);
}

bool rural_on_frame(bench *b, viewer *v, const bbt_frame *msg, size_t msg_len)
{
    rural_run *r = b->hook_ud;
    int64_t wall = bench_wall_us(); /* a fragmented frame arrives with its last fragment */
    bbt_frame frame = *msg, *f = &frame;
    size_t len = msg_len;
    pthread_mutex_lock(&r->mu);
    /* a copy carries audio alone, never fragmented: its frames skip the main's reassembly */
    bool whole = v->audio_copy || reassemble(r, f, &len);
    int copy = whole && !r->closed ? copy_rule(r, v, f, wall - (int64_t)f->capture_us) : 0;
    unsigned mask = copy ? copies_mask(r, copy > 0) : 0;
    unsigned again = whole && !r->closed && !v->audio_copy && copy >= 0 &&
                             (int)f->track == r->rs.audio_track
                         ? extra_due(r, run_t(r)) & ~mask
                         : 0;
    if (whole && !r->closed && r->trace && (int)f->track == r->rs.audio_track)
        fprintf(r->trace, "%.3f,audio_on,%d,%u,,%zu,%.1f\n", (double)run_t(r) / 1e6, v->idx,
                f->seq, len, (double)(wall - (int64_t)f->capture_us) / 1000.0);
    if (whole && !r->closed && !audio_duplicate(r, v, f)) {
        int64_t t = run_t(r);
        if ((int)f->track == r->rs.audio_track)
            again |= copy_taken(r, t);
        rs_frame(&r->rs, t, f->track, f->seq, f->flags, len, wall - (int64_t)f->capture_us);
        if (r->trace)
            fprintf(r->trace, "%.3f,frame,%u,%u,%d,%zu,%.1f\n", (double)t / 1e6, f->track,
                    f->seq, (f->flags & BBT_FRAME_KEY) != 0, len,
                    (double)(wall - (int64_t)f->capture_us) / 1000.0);
    }
    pthread_mutex_unlock(&r->mu);
    if (copy)
        copies_subscribe(b, mask, copy > 0);
    if (again)
        copies_subscribe(b, again, true);
    return whole;
}

/* The main connection was welcomed (its subscribe is queued): on a far link (a round trip of
 * COPY_FAR_RTT_US or more: the welcome's rtt_us, else hello → welcome) the copy subscribes
 * with it, before any loss is known, on the connection opened with the main one (view_main in
 * rural.c) — on a link of COPY_FAR2_RTT_US or more every copy — and
 * they unsubscribe after COPY_EARLY_FOR_US (COPY_EARLY_FAR_FOR_US there) if no pong said TCP
 * retransmitted (AudioCopyRule.subscribed in relay/web/audio-copy.js). */
void rural_on_welcome(bench *b, viewer *v)
{
    rural_run *r = b->hook_ud;
    if (v->audio_copy || !r->o->audio_copies || v->hello_rtt_us < COPY_FAR_RTT_US)
        return;
    pthread_mutex_lock(&r->mu);
    int64_t now = run_t(r);
    bool go = !r->closed && !r->copy_on && now >= r->copy_not_before;
    unsigned mask = 0;
    if (go) {
        bool far = v->hello_rtt_us >= COPY_FAR2_RTT_US;
        copy_start(r, now);
        r->copy_early++;
        r->copy_early_until = now + (far ? COPY_EARLY_FAR_FOR_US : COPY_EARLY_FOR_US);
        while (far && r->copies_wanted < r->o->audio_copies)
            copy_want_more(r, now); /* (its bits are in copies_mask's) */
        mask = copies_mask(r, true);
    }
    pthread_mutex_unlock(&r->mu);
    if (go)
        copies_subscribe(b, mask, true);
}

/* An error on a copy's connection: BBT_EFULL refuses its subscribe, or ends it, when the relay
 * measured no room on the link for the audio once more (docs/PROTOCOL.md §3.5). The first copy:
 * every copy unsubscribes and the rule backs off; a later one: that one alone, off for a
 * back-off of its own (30 s doubling to 240 s; AudioCopies in relay/web). True for that error
 * (expected), false for any other. */
bool rural_on_error(bench *b, viewer *v, json_t *m)
{
    rural_run *r = b->hook_ud;
    const char *name = json_string_value(json_object_get(m, "name"));
    if (!v->audio_copy || !name || strcmp(name, "BBT_EFULL") != 0)
        return false;
    pthread_mutex_lock(&r->mu);
    int64_t now = run_t(r);
    unsigned mask = 0;
    if (!r->closed && r->copy_on && v->idx >= 2 && !r->extra_off[v->idx - 2]) {
        int k = v->idx - 2;
        r->extra_off[k] = true;
        r->extra_not_before[k] = now + r->extra_backoff[k];
        r->extra_backoff[k] = r->extra_backoff[k] * 2 < COPY_BACKOFF_MAX_US
                                  ? r->extra_backoff[k] * 2
                                  : COPY_BACKOFF_MAX_US;
        r->copy_unsubscribes++;
        r->copy_no_room++;
        mask = 1u << v->idx;
    } else if (!r->closed && r->copy_on && v->idx < 2) {
        mask = copies_mask(r, false);
        copy_no_room(r, now);
        r->copy_no_room++;
    }
    pthread_mutex_unlock(&r->mu);
    if (mask)
        copies_subscribe(b, mask, false);
    return true;
}

/* The relay's answer to the main connection's ping: TCP's retransmissions on it. On a link that
 * is far as well (COPY_FAR2_RTT_US: FAR_LOSSY_RTT_MS), two copies are wanted at once
 * (AudioCopyRule.retrans). */
void rural_on_pong(bench *b, viewer *v, json_t *m)
{
    rural_run *r = b->hook_ud;
    json_t *n = json_object_get(m, "retrans");
    if (v->audio_copy || !json_is_integer(n) || json_integer_value(n) <= 0)
        return;
    unsigned mask = 0;
    pthread_mutex_lock(&r->mu);
    if (r->lossy_t < 0)
        r->lossy_t = run_t(r);
    if (v->hello_rtt_us >= COPY_FAR2_RTT_US && r->copies_wanted < 2 && r->o->audio_copies >= 2)
        mask = copy_want_more(r, run_t(r));
    pthread_mutex_unlock(&r->mu);
    if (mask)
        copies_subscribe(b, mask, true);
}

void rural_on_state(bench *b, viewer *v, json_t *m)
{
    rural_run *r = b->hook_ud;
    json_t *l = json_object_get(m, "layer");
    if (!json_is_integer(l) || v->audio_copy) /* a copy is audio only by its own choice */
        return;
    int layer = (int)json_integer_value(l);
    pthread_mutex_lock(&r->mu);
    if (!r->closed) {
        rs_state_layer(&r->rs, run_t(r), layer);
        if (r->trace)
            fprintf(r->trace, "%.3f,state,%d,,,,\n", (double)run_t(r) / 1e6, layer);
        if (r->announced != -2 && layer != r->announced)
            r->announced_changes++;
        r->announced = layer;
    }
    pthread_mutex_unlock(&r->mu);
}

/* The player's once-a-second report (docs/PROTOCOL.md §3.8, relay/web/stats.js). */
int rural_make_report(bench *b, viewer *v, char *buf, size_t cap)
{
    rural_run *r = b->hook_ud;
    rs_report rep;
    if (v->audio_copy) /* the player reports on its main connection only */
        return 0;
    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    int64_t t = run_t(r);
    rs_take_report(&r->rs, t, &rep);
    if (r->ntl < r->captl) {
        double dt = (double)(t - r->tl_t) / 1e6;
        double kbps = dt > 0 ? (double)(rep.bytes - r->tl_bytes) * 8 / dt / 1000 : 0;
        r->tl[r->ntl++] = (tl_row){(int32_t)(t / 1000), (int32_t)r->link_kbit, rep.layer,
                                   rep.have_latency ? (float)rep.p95_ms : -1, (float)kbps,
                                   (float)rep.buffer_ms};
        r->tl_bytes = rep.bytes;
        r->tl_t = t;
    }
    pthread_mutex_unlock(&r->mu);
    char lat[128] = "";
    if (rep.have_latency)
        snprintf(lat, sizeof lat, ",\"latency_ms\":{\"p50\":%.1f,\"p95\":%.1f,\"max\":%.1f}",
                 rep.p50_ms, rep.p95_ms, rep.max_ms);
    return snprintf(buf, cap,
                    "{\"type\":\"report\",\"session\":\"%s\",\"bytes\":%llu,"
                    "\"frames_decoded\":%llu,\"frames_dropped\":0,\"buffer_ms\":%lld,"
                    "\"stalls\":%llu,\"stall_ms\":%llu%s,"
                    "\"layer\":%d,\"audio_ok\":%s,\"audio_underruns\":%llu}",
                    b->o.session, (unsigned long long)rep.bytes,
                    (unsigned long long)rep.frames_decoded, (long long)rep.buffer_ms,
                    (unsigned long long)rep.stalls, (unsigned long long)rep.stall_ms, lat,
                    rep.layer, rep.audio_ok ? "true" : "false",
                    (unsigned long long)rep.audio_underruns);
}
