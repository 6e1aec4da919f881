/* tests/relay/adapt_ladder.h — the track list the adaptation's tests build levels from
 * (test_adapt.c, test_adapt_levels.c): the node's default ladder, its Opus, and courseware. */
#ifndef BBT_TEST_ADAPT_LADDER_H
#define BBT_TEST_ADAPT_LADDER_H

#include "proto/control.h"

static const bbt_track_info ladder[] = {
    {.id = 0, .kind = BBT_TRACK_VIDEO, .layer = 2, .width = 1280, .height = 720, .bitrate = 1200000},
    {.id = 1, .kind = BBT_TRACK_VIDEO, .layer = 1, .width = 640, .height = 360, .bitrate = 450000},
    {.id = 2, .kind = BBT_TRACK_VIDEO, .layer = 0, .width = 320, .height = 180, .bitrate = 120000},
    {.id = 3, .kind = BBT_TRACK_AUDIO, .sample_rate = 48000, .channels = 1, .bitrate = 40000},
    {.id = 4, .kind = BBT_TRACK_COURSEWARE, .width = 1280, .height = 720, .bitrate = 100000},
};

enum { AUDIO, SLIDES, P180, P360, P720 }; /* level indexes with the full ladder */

#endif
