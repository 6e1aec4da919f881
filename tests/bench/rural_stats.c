/* tests/bench/rural_stats.c — the viewer-side figures of `bbt-bench rural` (see rural_stats.h). */
#include "rural_stats.h"

#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

#define PL_BASE_US 120000
#define PL_START_EXTRA_US 60000
#define PL_START_PERIOD_US 5000000
#define PL_STEP_US 40000
#define PL_COVER_US 20000
#define PL_MAX_US 400000
#define PL_SKIP_EXTRA_US 200000
#define PL_DECAY_AFTER_US 30000000
#define PL_DECAY_EVERY_US 10000000
#define PL_DECAY_STEP_US 10000
#define GAP_LIMIT_US 200000

int rs_init(rural_stats *s, const rs_layer *layers, int nlayers, int audio_track,
            int64_t audio_bps, int64_t audio_frame_us, size_t max_frames)
{
    memset(s, 0, sizeof *s);
    if (nlayers > RS_MAX_TRACKS)
        nlayers = RS_MAX_TRACKS;
    for (int i = 0; i < nlayers; i++)
        s->layers[i] = layers[i];
    s->nlayers = nlayers;
    s->audio_track = audio_track;
    s->audio_bps = audio_bps;
    s->audio_frame_us = audio_frame_us > 0 ? audio_frame_us : 20000;
    s->stall_us = 500000;
    s->layer = -2;
    s->pl_target_us = PL_BASE_US;
    s->pl_first_sound = -1;
    s->pl_dry_at = -1;
    s->link_kbit = -1;
    s->cap_lat = max_frames ? max_frames : 1;
    s->lat_us = malloc(s->cap_lat * sizeof *s->lat_us);
    s->lat_t_ms = malloc(s->cap_lat * sizeof *s->lat_t_ms);
    if (!s->lat_us || !s->lat_t_ms) {
        rs_free(s);
        return -1;
    }
    return 0;
}

void rs_free(rural_stats *s)
{
    free(s->lat_us);
    free(s->lat_t_ms);
    s->lat_us = NULL;
    s->lat_t_ms = NULL;
    s->cap_lat = 0;
}

const rs_layer *rs_find_layer(const rural_stats *s, int track)
{
    for (int i = 0; i < s->nlayers; i++)
        if (s->layers[i].track == track)
            return &s->layers[i];
    return NULL;
}

/* The best camera layer whose bitrate plus audio fits kbit, or NULL. */
static const rs_layer *best_fit(const rural_stats *s, int64_t kbit)
{
    const rs_layer *best = NULL;
    for (int i = 0; i < s->nlayers; i++) {
        const rs_layer *l = &s->layers[i];
        if (l->bitrate + s->audio_bps <= kbit * 1000 && (!best || l->bitrate > best->bitrate))
            best = l;
    }
    return best;
}

/* ---- link events -------------------------------------------------------------------------- */

static bool event_met(const rural_stats *s, const rs_event *e)
{
    const rs_layer *cur = s->layer >= 0 ? rs_find_layer(s, s->layer) : NULL;
    if (e->drop) /* fits: audio only, or the layer plus audio within the rate */
        return s->layer == -1 || (cur && cur->bitrate + s->audio_bps <= e->kbit * 1000);
    const rs_layer *target = e->target_track >= 0 ? rs_find_layer(s, e->target_track) : NULL;
    if (!target)
        return true;
    return cur && cur->bitrate >= target->bitrate;
}

static void check_events(rural_stats *s, int64_t t)
{
    for (int i = 0; i < s->nev; i++) {
        rs_event *e = &s->ev[i];
        if (e->open && event_met(s, e)) {
            e->after_us = t > e->t ? t - e->t : 0;
            e->open = false;
        }
    }
}

void rs_link(rural_stats *s, int64_t t, int64_t kbit)
{
    int64_t prev = s->link_kbit;
    s->link_kbit = kbit;
    if (prev < 0 || kbit == prev)
        return;
    for (int i = 0; i < s->nev; i++)
        s->ev[i].open = false; /* a later change ends the earlier one's wait */
    if (s->nev == RS_MAX_EVENTS)
        return;
    rs_event *e = &s->ev[s->nev++];
    const rs_layer *target = best_fit(s, kbit);
    *e = (rs_event){.t = t, .kbit = kbit, .drop = kbit < prev,
                    .target_track = target ? target->track : -1, .after_us = -1, .open = true};
    check_events(s, t);
}

/* ---- the layer timeline ------------------------------------------------------------------- */

static void account(rural_stats *s, int64_t t)
{
    if (!s->picture)
        return;
    int64_t d = t - s->layer_since;
    if (d > 0) {
        if (s->layer >= 0 && s->layer < RS_MAX_TRACKS)
            s->share_us[s->layer] += d;
        else if (s->layer == -1)
            s->share_audio_only_us += d;
    }
    s->layer_since = t;
}

static void set_layer(rural_stats *s, int64_t t, int layer)
{
    if (layer == s->layer)
        return;
    account(s, t);
    if (s->layer != -2)
        s->layer_changes++;
    s->layer = layer;
    check_events(s, t);
}

/* A gap in the expected video closes at t. */
static void close_gap(rural_stats *s, int64_t t)
{
    int64_t gap = t - s->gap_start;
    if (s->picture && s->expected && gap > s->stall_us) {
        s->stalls++;
        s->stall_total_us += gap;
    }
    s->gap_start = t;
}

void rs_state_layer(rural_stats *s, int64_t t, int layer)
{
    s->relay_audio_only = layer < 0;
    if (layer < 0) {
        if (s->expected)
            close_gap(s, t);
        s->expected = false;
        if (s->picture)
            set_layer(s, t, -1);
    } else if (!s->expected) {
        s->expected = true;
        s->gap_start = t;
    }
}

static void video_frame(rural_stats *s, int64_t t, unsigned track, uint32_t seq, uint8_t flags)
{
    bool key = (flags & BBT_FRAME_KEY) != 0;
    bool in_seq = s->seq_known[track] && seq == s->next_seq[track];
    s->dec[track] = key || (s->dec[track] && in_seq);
    s->seq_known[track] = true;
    s->next_seq[track] = seq + 1;
    s->video_frames++;
    if (!s->dec[track]) {
        s->undecodable++;
        return;
    }
    if (!s->picture) {
        s->picture = true;
        s->first_picture_t = t;
        s->layer_since = t;
        s->gap_start = t;
        s->expected = true;
        s->layer = (int)track;
        check_events(s, t);
        return;
    }
    if (s->relay_audio_only)
        return; /* the old layer's last frames, after the relay said audio only */
    if (!s->expected) {
        s->expected = true;
        s->gap_start = t;
    }
    close_gap(s, t);
    set_layer(s, t, (int)track);
}

/* ---- audio and the player's jitter buffer --------------------------------------------------- */

static void player_advance(rural_stats *s, int64_t t)
{
    if (s->pl_playing) {
        int64_t played = t - s->pl_last_t;
        if (played >= s->pl_buffered_us) { /* ran dry */
            int64_t dry_at = s->pl_last_t + s->pl_buffered_us;
            s->pl_playing = false;
            s->pl_buffered_us = 0;
            s->pl_underruns++;
            s->pl_last_underrun = dry_at;
            if (s->pl_dry_at < 0) {
                s->pl_dry_at = dry_at;
                s->pl_target_before = s->pl_target_us;
            }
            s->pl_target_us += PL_STEP_US;
            if (s->pl_target_us > PL_MAX_US)
                s->pl_target_us = PL_MAX_US;
            s->pl_restart_us = s->pl_target_us;
            s->pl_silent = true;
            s->pl_silence_since = dry_at;
        } else {
            s->pl_buffered_us -= played;
            if (t - s->pl_last_underrun >= PL_DECAY_AFTER_US &&
                t - s->pl_last_decay >= PL_DECAY_EVERY_US && s->pl_target_us > PL_BASE_US) {
                s->pl_target_us -= PL_DECAY_STEP_US;
                s->pl_last_decay = t;
            }
        }
    }
    s->pl_last_t = t;
}

static void player_audio(rural_stats *s, int64_t t)
{
    player_advance(s, t);
    if (s->pl_dry_at >= 0) { /* sound again: the target grows to what covers that gap */
        int64_t need = s->pl_target_before + (t - s->pl_dry_at) + PL_COVER_US;
        if (need > PL_MAX_US)
            need = PL_MAX_US;
        if (need > s->pl_target_us)
            s->pl_target_us = need;
        s->pl_dry_at = -1;
    }
    s->pl_buffered_us += s->audio_frame_us;
    int64_t start = s->pl_restart_us && s->pl_restart_us < s->pl_target_us ? s->pl_restart_us
                                                                           : s->pl_target_us;
    if (s->pl_first_sound < 0 || t - s->pl_first_sound < PL_START_PERIOD_US)
        start += PL_START_EXTRA_US;
    if (!s->pl_playing && s->pl_buffered_us >= start) {
        s->pl_playing = true;
        s->pl_restart_us = 0;
        if (s->pl_first_sound < 0) {
            s->pl_first_sound = t;
            s->pl_last_underrun = t;
            s->pl_last_decay = t;
        }
        if (s->pl_silent) {
            s->pl_silence_us += t - s->pl_silence_since;
            s->pl_silent = false;
        }
    }
    if (s->pl_playing && s->pl_buffered_us > s->pl_target_us + PL_SKIP_EXTRA_US) {
        s->pl_skipped_us += s->pl_buffered_us - s->pl_target_us;
        s->pl_buffered_us = s->pl_target_us;
    }
}

static void audio_frame(rural_stats *s, int64_t t, uint32_t seq)
{
    if (s->audio_seen) {
        int64_t gap = t - s->last_audio_t;
        if (gap > s->gap_max)
            s->gap_max = gap;
        if (gap > GAP_LIMIT_US)
            s->gaps_over++;
        uint32_t d = seq - s->audio_next_seq;
        if (d != 0 && d < 0x80000000u)
            s->audio_lost += d;
    }
    s->audio_seen = true;
    s->last_audio_t = t;
    s->audio_next_seq = seq + 1;
    s->audio_frames++;
    player_audio(s, t);
}

void rs_frame(rural_stats *s, int64_t t, unsigned track, uint32_t seq, uint8_t flags,
              size_t bytes, int64_t latency_us)
{
    if (track >= RS_MAX_TRACKS)
        return;
    if (!s->bytes)
        s->first_frame_t = t;
    s->bytes += bytes;
    int32_t lat = latency_us < 0 ? 0 : latency_us > INT32_MAX ? INT32_MAX : (int32_t)latency_us;
    if (s->nlat < s->cap_lat) {
        s->lat_us[s->nlat] = lat;
        s->lat_t_ms[s->nlat++] = (int32_t)(t / 1000);
    } else {
        s->lat_dropped++;
    }
    if (s->nwin < sizeof s->win / sizeof s->win[0])
        s->win[s->nwin++] = lat;
    if ((int)track == s->audio_track)
        audio_frame(s, t, seq);
    else if (rs_find_layer(s, (int)track))
        video_frame(s, t, track, seq, flags);
}

/* ---- reports and the end --------------------------------------------------------------------- */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* q-quantile of v[0..n) (sorts v): the smallest value with at least q·n values at or below. */
static int32_t quantile(int32_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_i32);
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

void rs_take_report(rural_stats *s, int64_t t, rs_report *r)
{
    player_advance(s, t);
    memset(r, 0, sizeof *r);
    if (s->nwin) {
        r->have_latency = true;
        r->p50_ms = quantile(s->win, s->nwin, 0.5) / 1000.0;
        r->p95_ms = quantile(s->win, s->nwin, 0.95) / 1000.0;
        r->max_ms = s->win[s->nwin - 1] / 1000.0;
        s->nwin = 0;
    }
    r->layer = s->layer >= 0 ? s->layer : -1;
    r->buffer_ms = s->pl_buffered_us / 1000;
    r->audio_ok = s->pl_playing;
    r->audio_underruns = s->pl_underruns;
    int64_t stall_ms = s->stall_total_us;
    uint64_t stalls = s->stalls;
    if (s->picture && s->expected && t - s->gap_start > s->stall_us) { /* one going on now */
        stalls++;
        stall_ms += t - s->gap_start;
    }
    r->stalls = stalls;
    r->stall_ms = (uint64_t)(stall_ms / 1000);
    r->frames_decoded = s->video_frames - s->undecodable;
    r->bytes = s->bytes;
}

void rs_finish(rural_stats *s, int64_t t_end, rs_summary *o)
{
    memset(o, 0, sizeof *o);
    account(s, t_end);
    if (s->expected)
        close_gap(s, t_end);
    if (s->audio_seen) {
        int64_t gap = t_end - s->last_audio_t;
        if (gap > s->gap_max)
            s->gap_max = gap;
        if (gap > GAP_LIMIT_US)
            s->gaps_over++;
    }
    player_advance(s, t_end);
    if (s->pl_silent) {
        s->pl_silence_us += t_end - s->pl_silence_since;
        s->pl_silence_since = t_end;
    }
    for (int i = 0; i < s->nev; i++)
        s->ev[i].open = false;

    int64_t span = s->picture ? t_end - s->first_picture_t : 0;
    o->seconds = (double)span / 1e6;
    o->first_frame_ms = s->bytes ? (double)s->first_frame_t / 1000.0 : -1;
    o->first_picture_ms = s->picture ? (double)s->first_picture_t / 1000.0 : -1;
    /* latency windows first (they need the time order), then the whole run */
    int32_t *tmp = malloc((s->nlat ? s->nlat : 1) * sizeof *tmp);
    if (tmp) {
        size_t i = 0;
        while (i < s->nlat && o->nwindows < RS_MAX_WINDOWS) {
            int64_t w = (int64_t)s->lat_t_ms[i] * 1000 / RS_WINDOW_US;
            size_t n = 0;
            while (i < s->nlat && (int64_t)s->lat_t_ms[i] * 1000 / RS_WINDOW_US == w)
                tmp[n++] = s->lat_us[i++];
            while (o->nwindows < w && o->nwindows < RS_MAX_WINDOWS) /* empty windows */
                o->window_p95_ms[o->nwindows++] = -1;
            if (o->nwindows < RS_MAX_WINDOWS)
                o->window_p95_ms[o->nwindows++] = quantile(tmp, n, 0.95) / 1000.0;
        }
        memcpy(tmp, s->lat_us, s->nlat * sizeof *tmp);
        o->latency_p50_ms = quantile(tmp, s->nlat, 0.5) / 1000.0;
        o->latency_p95_ms = quantile(tmp, s->nlat, 0.95) / 1000.0;
        o->latency_max_ms = s->nlat ? tmp[s->nlat - 1] / 1000.0 : 0;
        free(tmp);
    }
    o->latency_dropped = s->lat_dropped;
    o->audio_gap_max_ms = (double)s->gap_max / 1000.0;
    o->audio_gaps_over_200ms = s->gaps_over;
    o->audio_frames = s->audio_frames;
    o->audio_frames_lost = s->audio_lost;
    o->player_underruns = s->pl_underruns;
    o->player_silence_ms = (double)s->pl_silence_us / 1000.0;
    o->player_skipped_ms = (double)s->pl_skipped_us / 1000.0;
    o->player_target_ms = (double)s->pl_target_us / 1000.0;
    o->video_frames = s->video_frames;
    o->video_undecodable = s->undecodable;
    o->video_stalls = s->stalls;
    o->video_stall_ms = (double)s->stall_total_us / 1000.0;
    o->video_stall_ratio = span > 0 ? (double)s->stall_total_us / (double)span : 0;
    if (o->video_stall_ratio > 1)
        o->video_stall_ratio = 1;
    for (int t = 0; t < RS_MAX_TRACKS; t++)
        o->share[t] = span > 0 ? (double)s->share_us[t] / (double)span : 0;
    o->share_audio_only = span > 0 ? (double)s->share_audio_only_us / (double)span : 0;
    o->bytes = s->bytes;
    int64_t gspan = s->bytes ? t_end - s->first_frame_t : 0;
    o->goodput_kbps = gspan > 0 ? (double)s->bytes * 8.0 / ((double)gspan / 1e6) / 1000.0 : 0;
    o->layer_changes = s->layer_changes;
}
