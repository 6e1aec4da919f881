/* relay/adapt_levels.h — a viewer's possible levels and what each takes on the wire.
 *
 * Built from the publisher's track list, lowest first: audio only → audio + courseware (when
 * the teacher shares the screen) → + camera 180p → + 360p → + 720p, the degradation order read
 * upwards (audio is in every level). The adaptation (relay/adapt.h) chooses among them.
 * Pure: no I/O.
 */
#ifndef BBT_ADAPT_LEVELS_H
#define BBT_ADAPT_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/control.h"

#define BBT_ADAPT_MAX_LEVELS 12

typedef struct bbt_adapt_level {
    int camera_track;    /* camera video track id, -1: none */
    bool courseware;     /* the courseware track is sent */
    int64_t bitrate_bps; /* audio + courseware + camera on the wire (bbt_adapt_levels) */
    int64_t payload_bps; /* the same without the headers; 0: not known (taken as bitrate_bps) */
} bbt_adapt_level;

/* The headers each TCP segment of a viewer's media carries on the wire: WebSocket (2-4), TCP
 * with timestamps (32), IPv4 (20), Ethernet (14). */
#define BBT_ADAPT_SEGMENT_OVERHEAD 70
#define BBT_ADAPT_MSS 1448

/* Build the levels from a track list (audio-only first). With pin_track ≥ 0 the only camera
 * level is that track. Returns the number of levels (≥ 1). A level's bitrate is what its tracks
 * take on the wire: each track's bitrate plus seg_overhead bytes per segment (the relay:
 * BBT_ADAPT_SEGMENT_OVERHEAD; 0: the bitrates alone, payload_bps = bitrate_bps)
 * (a video frame of `fps`, 25 when not given, in segments of BBT_ADAPT_MSS; audio in 50 packets
 * a second, Opus's 20 ms, each a segment of its own). Small packets make that large: 40 kbit/s
 * of Opus is ~68 kbit/s on the wire, and flaky-3g's 300 kbit/s, where the payload of 180p,
 * its audio and the audio copy came to 230 kbit/s (77 %), carried 296 kbit/s of segments: a
 * full link, whose queue and tail drops held the audio of both connections at once. */
int bbt_adapt_levels(const bbt_track_info *tracks, size_t n, bool want_video, bool want_audio,
                     int pin_track, int seg_overhead, bbt_adapt_level *out, int max);

#endif
