/* node/plan.h — bbt-node following the county timetable ([node] session empty, [node]
 * classroom set): the relay pushes this classroom's `plan` (docs/PROTOCOL.md §3.13) and, to a
 * source, `start`/`stop` (§3.17); the node caches the plan in [node] state_dir/plan.json and
 * runs the publishing role (publish.h) or the play role (play.h) for the lesson that is due.
 *
 * What is due:
 *   - while the relay is connected, it decides: a source publishes the session of the last
 *     `start` until `stop`; a receiver plays `plan.live`;
 *   - while it is not (the county link is down, the relay restarts), the cached plan and the
 *     node's own clock decide: a source captures from start_us − lead_ms to end_us, a receiver
 *     plays from start_us to end_us — so a strong school's lesson starts on time without the
 *     relay, and its uplink publishes as soon as the relay is back (the uplink reconnects by
 *     itself). The plan's `next` lesson is taken into account too, so a node that lost the
 *     relay yesterday still starts today's first lesson.
 * A second connection to the relay (the "plan link", role as the node's, hello.classroom set)
 * carries these messages; the roles keep their own connections.
 *
 * Threads: create, free and run on the GLib main loop's thread; the plan link's thread only
 * queues what it receives (a GAsyncQueue) and a 250 ms timer on the main loop acts on it.
 * Ownership: cfg is borrowed and must outlive the follower; everything else is owned. */
#ifndef BBT_NODE_PLAN_H
#define BBT_NODE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/node_config.h"
#include "node/publish.h"

#define BBT_PLAN_FILE "plan.json"

/* ---- the plan on disk, and what it says is due (pure, for tests) --------------------------- */

/* Read path: BBT_OK with *plan (a validated `plan` message, caller owns), BBT_ENOTFOUND (no
 * file), BBT_EMSG_* (not a plan), BBT_EIO. */
int bbt_plan_load(const char *path, json_t **plan);
/* Write atomically (a temporary file, fsync, rename): a crash leaves the old plan or the new
 * one, never half of one. BBT_OK or BBT_EIO. */
int bbt_plan_save(const char *path, const json_t *plan);

/* The lesson this node should run at now_us by the plan alone: a session id (copied into
 * session, of size >= 65) for `role` ("source": from start_us − lead_ms to end_us; "receiver":
 * from start_us to end_us), from the plan's sessions and its `next`. false if none. */
bool bbt_plan_due(const json_t *plan, const char *role, int64_t now_us, char *session,
                  size_t size);

/* ---- following the timetable ------------------------------------------------------------- */

typedef struct bbt_follow bbt_follow;

typedef struct bbt_follow_opts {
    bool play;                  /* the play (receiver) role, else publishing (source) */
    const char *token;          /* hello.token; copied */
    bbt_publisher_opts publish; /* the publishing role's options (token set here) */
} bbt_follow_opts;

/* Load the cached plan, connect the plan link, start the timer. NULL with *err (BBT_EINVAL: no
 * [node] classroom; BBT_ENOMEM; BBT_EIO). */
bbt_follow *bbt_follow_new(const bbt_node_config *cfg, const bbt_follow_opts *o, int *err);
/* Stop the role that runs (a publisher ends its lesson: END frames and bye), the plan link,
 * free. NULL is fine. */
void bbt_follow_free(bbt_follow *f);

#endif
