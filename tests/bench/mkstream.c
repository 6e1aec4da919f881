/* tests/bench/mkstream.c — bbt-mkstream: encode the benchmark's pre-encoded multi-layer stream.
 *
 *   bbt-mkstream [-o FILE] [--seconds N]        (defaults: stream.bbtrec, 20 s)
 *
 * One GStreamer pipeline, run offline (not live, as fast as the encoders go), encodes
 * videotestsrc pattern=ball (a moving picture, so P frames are not empty) and audiotestsrc
 * wave=ticks into the ladder the node sends, each into an appsink:
 *
 *   track  kind   layer  picture        rate   bitrate       codec (from the first SPS)
 *   0      video  2      1280x720       25     ~1200 kbit/s  avc1.42C01F (constrained baseline)
 *   1      video  1      640x360        25     ~550 kbit/s   avc1.42C01E
 *   2      video  0      320x180        15     ~120 kbit/s   avc1.42C00D
 *   3      audio  0      Opus 48 kHz mono, 20 ms packets, ~48 kbit/s
 *
 * Every x264enc has video/x-raw,format=I420 pinned before it and
 * video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au after it
 * (docs: /work/shared/PLATFORM.md — unconstrained x264 picks 4:4:4, and zerolatency makes several
 * slices per picture). h264parse config-interval=-1 repeats SPS/PPS in front of every IDR.
 * Keyframes every 2 s on every layer (key-int-max 50 at 25 fps, 30 at 15 fps, no scene-cut
 * keyframes), so all layers switch at the same instants.
 *
 * The output is a recording (docs/PROTOCOL.md §2.4): "BBTREC1\n", then records of a 4-byte
 * big-endian length + bytes; the first is the `tracks` message (session "bench", state "live"),
 * then the frames in capture order, each with the 16-byte header: per-track seq from 0,
 * capture_us = running time in µs relative to the earliest frame (so starting at 0), flags
 * KEY|CONFIG on access units holding an IDR slice (and SPS+PPS), DISCARDABLE when every slice
 * has nal_ref_idc 0. The file is written to FILE.tmp and renamed, so a failed run leaves none.
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"
#include "proto/frame.h"
#include "proto/status.h"

#define NTRACKS 4

typedef struct mk_frame {
    uint64_t t_ns; /* running time */
    uint8_t flags;
    uint8_t *data;
    size_t len;
} mk_frame;

/* Frames of one appsink; written only by that appsink's streaming thread until EOS, then read
 * by the main thread after the pipeline stopped. */
typedef struct mk_track {
    const char *sink;
    bbt_track_info info;
    mk_frame *frames;
    size_t n, cap;
    int failed;
    uint64_t bytes;
    size_t keys;
} mk_track;

#define H264_CAPS \
    "video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au"
#define PARSE "h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"

static const char PIPELINE_FMT[] =
    "compositor name=mix background=black ! videoconvert ! "
    "video/x-raw,format=I420,width=1280,height=720,framerate=25/1 ! tee name=vt "
    "videotestsrc pattern=pinwheel num-buffers=1 ! "
    "video/x-raw,format=AYUV,width=1280,height=720,framerate=25/1 ! imagefreeze num-buffers=%d ! "
    "mix. "
    "videotestsrc pattern=ball background-color=0x00000000 num-buffers=%d ! "
    "video/x-raw,format=AYUV,width=1280,height=720,framerate=25/1 ! mix. "
    "vt. ! queue ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=50 bframes=0 "
    "  bitrate=1200 option-string=scenecut=0:nal-hrd=cbr:filler=1 ! " H264_CAPS " ! " PARSE " ! appsink name=v0 "
    "vt. ! queue ! videoscale ! video/x-raw,format=I420,width=640,height=360 ! "
    "  x264enc tune=zerolatency speed-preset=veryfast key-int-max=50 bframes=0 bitrate=550 "
    "  option-string=scenecut=0:nal-hrd=cbr:filler=1 ! " H264_CAPS " ! " PARSE " ! appsink name=v1 "
    "vt. ! queue ! videoscale ! videorate ! "
    "  video/x-raw,format=I420,width=320,height=180,framerate=15/1 ! "
    "  x264enc tune=zerolatency speed-preset=veryfast key-int-max=30 bframes=0 bitrate=120 "
    "  option-string=scenecut=0:nal-hrd=cbr:filler=1 ! " H264_CAPS " ! " PARSE " ! appsink name=v2 "
    "audiotestsrc wave=ticks samplesperbuffer=960 num-buffers=%d ! "
    "audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=48000 bitrate-type=cbr frame-size=20 ! "
    "appsink name=a3";

/* Scan an Annex-B access unit: KEY|CONFIG for IDR (with SPS and PPS: CONFIG), DISCARDABLE when
 * every slice has nal_ref_idc 0. `sps` receives the first SPS's profile/compat/level bytes. */
static uint8_t h264_flags(const uint8_t *p, size_t n, uint8_t sps[3], int *have_sps)
{
    int idr = 0, has_sps = 0, has_pps = 0, slices = 0, ref_slices = 0;
    for (size_t i = 0; i + 3 < n; i++) {
        if (!(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
            continue;
        uint8_t h = p[i + 3];
        int type = h & 0x1f, ref = (h >> 5) & 3;
        if (type == 5)
            idr = 1;
        if (type == 1 || type == 5) {
            slices++;
            ref_slices += ref != 0;
        }
        if (type == 7) {
            has_sps = 1;
            if (!*have_sps && i + 6 < n) {
                memcpy(sps, p + i + 4, 3);
                *have_sps = 1;
            }
        }
        has_pps |= type == 8;
        i += 3;
    }
    uint8_t f = 0;
    if (idr)
        f |= BBT_FRAME_KEY;
    if (idr && has_sps && has_pps)
        f |= BBT_FRAME_CONFIG;
    if (slices && ref_slices == 0)
        f |= BBT_FRAME_DISCARDABLE;
    return f;
}

static GstFlowReturn on_sample(GstAppSink *sink, gpointer ud)
{
    mk_track *t = ud;
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
        return GST_FLOW_EOS;
    GstBuffer *b = gst_sample_get_buffer(s);
    const GstSegment *seg = gst_sample_get_segment(s);
    GstMapInfo map;
    if (!b || !GST_BUFFER_PTS_IS_VALID(b) || !gst_buffer_map(b, &map, GST_MAP_READ)) {
        gst_sample_unref(s);
        return GST_FLOW_OK;
    }
    guint64 rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        mk_frame *nf = realloc(t->frames, cap * sizeof *nf);
        if (!nf)
            t->failed = 1;
        else {
            t->frames = nf;
            t->cap = cap;
        }
    }
    uint8_t *copy = !t->failed && map.size ? malloc(map.size) : NULL;
    if (copy) {
        memcpy(copy, map.data, map.size);
        t->frames[t->n++] = (mk_frame){.t_ns = rt == GST_CLOCK_TIME_NONE ? 0 : rt, .data = copy,
                                       .len = map.size};
    } else if (map.size) {
        t->failed = 1;
    }
    gst_buffer_unmap(b, &map);
    gst_sample_unref(s);
    return t->failed ? GST_FLOW_ERROR : GST_FLOW_OK;
}

static int run_pipeline(int seconds, mk_track *tracks)
{
    char desc[4096];
    snprintf(desc, sizeof desc, PIPELINE_FMT, seconds * 25, seconds * 25, seconds * 50);
    GError *gerr = NULL;
    GstElement *pipe = gst_parse_launch(desc, &gerr);
    if (!pipe) {
        fprintf(stderr, "bbt-mkstream: pipeline: %s\n", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        return BBT_EIO;
    }
    for (int i = 0; i < NTRACKS; i++) {
        GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), tracks[i].sink);
        GstAppSinkCallbacks cb = {.new_sample = on_sample};
        g_object_set(sink, "sync", FALSE, NULL);
        gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &tracks[i], NULL);
        gst_object_unref(sink);
    }
    int rc = BBT_OK;
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *msg = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error(msg, &e, NULL);
        fprintf(stderr, "bbt-mkstream: %s: %s\n", GST_OBJECT_NAME(msg->src), e ? e->message : "?");
        g_clear_error(&e);
        rc = BBT_EIO;
    }
    if (msg)
        gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    return rc;
}

static int put_u32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static int write_record(FILE *f, const void *hdr, size_t hlen, const void *p, size_t n)
{
    if (put_u32(f, (uint32_t)(hlen + n)) || (hlen && fwrite(hdr, 1, hlen, f) != hlen) ||
        (n && fwrite(p, 1, n, f) != n))
        return -1;
    return 0;
}

/* The first record: the tracks message, validated as any receiver would. */
static int write_tracks(FILE *f, mk_track *tracks)
{
    bbt_track_info info[NTRACKS];
    for (int i = 0; i < NTRACKS; i++)
        info[i] = tracks[i].info;
    json_t *m = json_pack("{s:s, s:s, s:s, s:o?}", "type", "tracks", "session", "bench", "state",
                          "live", "tracks", bbt_tracks_to_json(info, NTRACKS));
    char err[256] = "";
    size_t len = 0;
    char *text = NULL;
    if (m && bbt_control_validate(BBT_MSG_TRACKS, m, err, sizeof err) == BBT_OK)
        text = bbt_control_dump(m, &len);
    json_decref(m);
    if (!text) {
        fprintf(stderr, "bbt-mkstream: cannot build the tracks message %s\n", err);
        return -1;
    }
    int rc = write_record(f, NULL, 0, text, len);
    free(text);
    return rc;
}

/* Pick the track whose next frame is earliest (ties: lower track id). -1 when all are done. */
static int next_track(mk_track *tracks, const size_t *pos)
{
    int best = -1;
    for (int i = 0; i < NTRACKS; i++)
        if (pos[i] < tracks[i].n &&
            (best < 0 || tracks[i].frames[pos[i]].t_ns < tracks[best].frames[pos[best]].t_ns))
            best = i;
    return best;
}

static int write_frames(FILE *f, mk_track *tracks, uint64_t base_ns)
{
    size_t pos[NTRACKS] = {0};
    int i;
    while ((i = next_track(tracks, pos)) >= 0) {
        mk_frame *fr = &tracks[i].frames[pos[i]];
        bbt_frame hdr = {.track = (uint8_t)tracks[i].info.id, .flags = fr->flags,
                         .seq = (uint32_t)pos[i],
                         .capture_us = fr->t_ns > base_ns ? (fr->t_ns - base_ns) / 1000 : 0,
                         .len = fr->len};
        uint8_t h[BBT_FRAME_HEADER_LEN];
        if (bbt_frame_encode_header(&hdr, h) != BBT_OK || write_record(f, h, sizeof h, fr->data,
                                                                       fr->len) != 0)
            return -1;
        pos[i]++;
    }
    return 0;
}

/* Flags and codec strings from the bitstream; byte and keyframe counts for the summary. */
static int analyse(mk_track *tracks, uint64_t *base_ns)
{
    *base_ns = UINT64_MAX;
    for (int i = 0; i < NTRACKS; i++) {
        mk_track *t = &tracks[i];
        if (t->failed || t->n == 0) {
            fprintf(stderr, "bbt-mkstream: no frames from %s\n", t->sink);
            return -1;
        }
        uint8_t sps[3] = {0, 0, 0};
        int have_sps = 0;
        for (size_t k = 0; k < t->n; k++) {
            mk_frame *fr = &t->frames[k];
            if (t->info.kind == BBT_TRACK_VIDEO)
                fr->flags = h264_flags(fr->data, fr->len, sps, &have_sps);
            t->bytes += fr->len;
            t->keys += (fr->flags & BBT_FRAME_KEY) != 0;
            if (fr->t_ns < *base_ns)
                *base_ns = fr->t_ns;
        }
        if (t->info.kind == BBT_TRACK_VIDEO) {
            if (!have_sps || !(t->frames[0].flags & BBT_FRAME_KEY)) {
                fprintf(stderr, "bbt-mkstream: %s does not start with SPS + IDR\n", t->sink);
                return -1;
            }
            snprintf(t->info.codec, sizeof t->info.codec, "avc1.%02X%02X%02X", sps[0], sps[1],
                     sps[2]);
        }
    }
    return 0;
}

/* A recording covers [0, seconds), so that its loop keeps every layer's keyframes 2 s apart:
 * videorate ends the 180p layer with a picture at `seconds` exactly, the IDR that opens the next
 * group; kept, the loop sent it and the loop's first IDR 20 ms apart (13 KB at once, a third of
 * a second of a 400 kbit/s link, every 20 s of `bbt-bench rural`). */
static void trim_tracks(mk_track *tracks, uint64_t base_ns, int seconds)
{
    uint64_t end = base_ns + (uint64_t)seconds * 1000000000ull;
    for (int i = 0; i < NTRACKS; i++) {
        mk_track *t = &tracks[i];
        while (t->n > 1 && t->frames[t->n - 1].t_ns >= end) {
            mk_frame *fr = &t->frames[--t->n];
            t->bytes -= fr->len;
            t->keys -= (fr->flags & BBT_FRAME_KEY) != 0;
            free(fr->data);
        }
    }
}

static void summary(const mk_track *tracks, int seconds)
{
    for (int i = 0; i < NTRACKS; i++)
        fprintf(stderr, "bbt-mkstream: track %d %-11s %5zu frames %3zu keyframes %7.1f kbit/s\n",
                tracks[i].info.id, tracks[i].info.codec, tracks[i].n, tracks[i].keys,
                (double)tracks[i].bytes * 8.0 / seconds / 1000.0);
}

static int write_file(const char *path, mk_track *tracks, uint64_t base_ns)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        perror(tmp);
        return -1;
    }
    int rc = fwrite("BBTREC1\n", 1, 8, f) == 8 ? 0 : -1;
    if (rc == 0)
        rc = write_tracks(f, tracks);
    if (rc == 0)
        rc = write_frames(f, tracks, base_ns);
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        perror(path);
        remove(tmp);
    }
    return rc;
}

static void init_tracks(mk_track *t)
{
    static const struct { const char *sink; int w, h, layer; double fps; int64_t br; } v[3] = {
        {"v0", 1280, 720, 2, 25, 1200000}, {"v1", 640, 360, 1, 25, 550000},
        {"v2", 320, 180, 0, 15, 120000}};
    for (int i = 0; i < 3; i++)
        t[i] = (mk_track){.sink = v[i].sink,
                          .info = {.id = i, .kind = BBT_TRACK_VIDEO, .layer = v[i].layer,
                                   .width = v[i].w, .height = v[i].h, .fps = v[i].fps,
                                   .bitrate = v[i].br}};
    t[3] = (mk_track){.sink = "a3", .info = {.id = 3, .kind = BBT_TRACK_AUDIO, .codec = "opus",
                                             .sample_rate = 48000, .channels = 1,
                                             .bitrate = 48000}};
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    const char *out = "stream.bbtrec";
    int seconds = 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bbt-mkstream [-o FILE] [--seconds N]\n");
            return 2;
        }
    }
    if (seconds < 2 || seconds > 3600) {
        fprintf(stderr, "bbt-mkstream: --seconds must be 2..3600\n");
        return 2;
    }
    mk_track tracks[NTRACKS];
    init_tracks(tracks);
    uint64_t base_ns = 0;
    int rc = run_pipeline(seconds, tracks) == BBT_OK && analyse(tracks, &base_ns) == 0 ? 0 : 1;
    if (rc == 0) {
        trim_tracks(tracks, base_ns, seconds);
        rc = write_file(out, tracks, base_ns) == 0 ? 0 : 1;
    }
    if (rc == 0)
        summary(tracks, seconds);
    for (int i = 0; i < NTRACKS; i++) {
        for (size_t k = 0; k < tracks[i].n; k++)
            free(tracks[i].frames[k].data);
        free(tracks[i].frames);
    }
    gst_deinit();
    return rc;
}
