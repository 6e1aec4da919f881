/* node/publish.h — the publishing role: wires the pipeline (pipeline.h) to the uplink
 * (uplink.h) on the caller's GLib main loop (the thread-default main context at creation):
 * bus watch (errors are logged with the element's path and the pipeline is rebuilt), the
 * keyframe grid timer, keyframe requests from the uplink thread (handed over with
 * g_main_context_invoke, a queue), a periodic retry of missing devices, and the --stats lines.
 *
 * Ownership: cfg is borrowed and must outlive the publisher. Create and free on the main-loop
 * thread. */
#ifndef BBT_NODE_PUBLISH_H
#define BBT_NODE_PUBLISH_H

#include <stdbool.h>

#include "config/node_config.h"

typedef struct bbt_publisher bbt_publisher;

typedef struct bbt_publisher_opts {
    const char *token;       /* resolved from [node] token or token_file */
    const char *x264_preset; /* NULL: the default */
    const char *test_pattern; /* NULL: ball */
    bool test_screen;         /* courseware ([capture] screen) from a test slide, not the X screen */
    bool stats;              /* bit rate lines every 5 s, latency summary at exit */
} bbt_publisher_opts;

/* Starts capturing and connecting at once. NULL with *err (BBT_ENOMEM, BBT_EINVAL for a bad
 * relay URL, BBT_EIO). */
bbt_publisher *bbt_publisher_new(const bbt_node_config *cfg, const bbt_publisher_opts *o, int *err);

/* Stop capture, send END frames and bye (up to 2 s), log the summary, free. */
void bbt_publisher_free(bbt_publisher *p);

#endif
