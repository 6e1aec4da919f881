/* relay/adapt_levels.c — a viewer's levels and their rates on the wire (see adapt_levels.h). */
#include "adapt_levels.h"

static int64_t track_bitrate(const bbt_track_info *t)
{
    if (t->bitrate > 0)
        return t->bitrate;
    /* A publisher that did not say: a conservative guess from the picture size. */
    if (t->kind == BBT_TRACK_AUDIO)
        return 48000;
    return (int64_t)t->width * t->height * 3 / 2;
}

/* A track's bitrate on the wire (adapt_levels.h, bbt_adapt_levels). */
static int64_t track_wire(const bbt_track_info *t, int64_t bps, int seg_overhead)
{
    if (seg_overhead <= 0)
        return bps;
    double msgs = t->kind == BBT_TRACK_AUDIO ? 50.0 : t->fps > 0 ? t->fps : 25.0;
    double bytes = (double)bps / 8.0 / msgs;
    double segs = msgs * (double)(1 + (int64_t)(bytes / BBT_ADAPT_MSS));
    return bps + (int64_t)(segs * seg_overhead * 8.0);
}

int bbt_adapt_levels(const bbt_track_info *tracks, size_t n, bool want_video, bool want_audio,
                     int pin_track, int seg_overhead, bbt_adapt_level *out, int max)
{
    int64_t base = 0, base_pl = 0, cw_rate = 0, cw_pl = 0;
    bool courseware = false;
    for (size_t i = 0; i < n; i++) {
        int64_t bps = track_bitrate(&tracks[i]);
        if (tracks[i].kind == BBT_TRACK_AUDIO && want_audio) {
            base += track_wire(&tracks[i], bps, seg_overhead);
            base_pl += bps;
        }
        if (tracks[i].kind == BBT_TRACK_COURSEWARE && want_video) {
            courseware = true;
            cw_rate += track_wire(&tracks[i], bps, seg_overhead);
            cw_pl += bps;
        }
    }
    int k = 0;
    out[k++] = (bbt_adapt_level){-1, false, base, base_pl};
    if (courseware && k < max)
        out[k++] = (bbt_adapt_level){-1, true, base + cw_rate, base_pl + cw_pl};
    if (!want_video)
        return k;
    /* camera tracks in ascending layer order (insertion sort: at most 32) */
    int first_cam = k;
    for (size_t i = 0; i < n && k < max; i++) {
        const bbt_track_info *t = &tracks[i];
        if (t->kind != BBT_TRACK_VIDEO || (pin_track >= 0 && t->id != pin_track))
            continue;
        int64_t bps = track_bitrate(t);
        bbt_adapt_level l = {t->id, courseware, base + cw_rate + track_wire(t, bps, seg_overhead),
                             base_pl + cw_pl + bps};
        int j = k++;
        while (j > first_cam && out[j - 1].bitrate_bps > l.bitrate_bps) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = l;
    }
    return k;
}
