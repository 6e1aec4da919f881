/* node/sources.h — the capture part of the node's pipeline: one GstBin per source, each with
 * a ghost "src" pad giving a fixed raw format, so the encoders never see a device's quirks:
 *   video (camera, test pattern, media file): video/x-raw,format=I420,WxH,framerate=F/1
 *   audio (microphone, test tone, media file): audio/x-raw,rate=48000,channels=1
 *   screen (courseware): video/x-raw,format=I420,WxH,framerate=courseware_fps/1
 *
 * Devices are probed before use: a throw-away pipeline "source ! fakesink" is taken to PAUSED,
 * and when that fails the maker returns NULL with the element's own error text in `why` (one
 * line, e.g. "camera /dev/video0: Cannot identify device '/dev/video0'."), so the caller can log
 * it and go on without that source. A bin returned is floating (transfer floating: add it to a
 * pipeline, which takes it).
 *
 * A media file is decoded by a small pipeline of its own that feeds the node's pipeline through
 * intervideo/interaudio channels: it can loop (seek to the start at end of stream) or end
 * (the channel then turns black and silent) without disturbing the live encode. That helper is
 * a bbt_filesrc, owned by the caller (bbt_filesrc_free), and must outlive the bins it made. */
#ifndef BBT_NODE_SOURCES_H
#define BBT_NODE_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include <gst/gst.h>

#include "config/node_config.h"

/* The video of [capture] video = test | camera (file: see bbt_filesrc). test_pattern names the
 * videotestsrc pattern of video = test (NULL: "ball"; an unknown name is logged and ignored). */
GstElement *bbt_source_video(const bbt_node_config *cfg, const char *test_pattern, char *why,
                             size_t whylen);
/* The sound of [capture] audio = test | pulse | alsa. */
GstElement *bbt_source_audio(const bbt_node_config *cfg, char *why, size_t whylen);
/* The screen of [capture] screen_display; `test` makes a test pattern instead (unit tests). */
GstElement *bbt_source_screen(const bbt_node_config *cfg, bool test, char *why, size_t whylen);

typedef struct bbt_filesrc bbt_filesrc;
/* Open [capture] file; NULL with `why` when it cannot be played. The decoding pipeline runs
 * (and loops, with [capture] file_loop) until bbt_filesrc_free. Its bus is watched on the
 * thread-default GLib main context of the caller. */
bbt_filesrc *bbt_filesrc_new(const bbt_node_config *cfg, char *why, size_t whylen);
bool bbt_filesrc_has_audio(const bbt_filesrc *f);
/* Bins reading the file's channels (floating), or NULL when the file has no such stream. */
GstElement *bbt_filesrc_video(bbt_filesrc *f, const bbt_node_config *cfg);
GstElement *bbt_filesrc_audio(bbt_filesrc *f);
void bbt_filesrc_free(bbt_filesrc *f);

/* Probe one source element (transfer full: always consumed) as described above. BBT_OK, or
 * BBT_ENOTFOUND with the element's error text in `why`. */
int bbt_source_probe(GstElement *src, char *why, size_t whylen);

#endif
