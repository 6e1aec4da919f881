/* relay/dash.h — the operators' dashboard (/admin) as data: which classroom has a problem and
 * why, today's lessons with their state, each session's viewers and egress, recent errors.
 *
 * Contract. A bbt_dash is a plain object owned by the relay (no global state, one thread: the
 * event loop). Once a second the relay hands it what it sees — its connections as classrooms
 * (bbt_dash_conn), its sessions (bbt_dash_session) and the timetable's `day` for today — with
 * bbt_dash_update(); the dash judges a light per classroom (bbt_dash_judge(), the rules below,
 * documented in docs/DASHBOARD.md), measures each session's egress from its byte counter, and
 * keeps the `dash` message (docs/PROTOCOL.md §3.19) ready for bbt_dash_snapshot(). Errors (the
 * relay's refusals and failures, and lessons that fail) go into a bounded ring with
 * bbt_dash_error(). Everything is bounded: BBT_DASH_MAX_ROOMS classrooms, BBT_DASH_MAX_SESSIONS
 * sessions, BBT_DASH_ERRORS errors. No I/O, no clock: times are passed in, so tests drive them.
 *
 * The lights (worst rule wins):
 *   red    in a lesson that has begun and no connection of the classroom; a source classroom
 *          not publishing its lesson after the start; latency p95 >= BBT_DASH_LATENCY_RED_MS;
 *          BBT_DASH_STALLS_RED stalls or more within BBT_DASH_STALL_WINDOW_US
 *   amber  the same before the start (lesson "starting"); a receiver connected but not in its
 *          lesson; watching a session with no live publisher; audio only; courseware only or
 *          the lowest camera layer of a ladder; latency p95 >= BBT_DASH_LATENCY_AMBER_MS; a
 *          stall within the window; audio not playing; no report for BBT_DASH_REPORT_STALE_US
 *   green  connected and none of the above
 *   idle   no lesson now and not connected (nothing is expected of it)
 */
#ifndef BBT_DASH_H
#define BBT_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/strbuf.h"

#define BBT_DASH_ERRORS 50
#define BBT_DASH_MAX_ROOMS 1024
#define BBT_DASH_MAX_SESSIONS 512
#define BBT_DASH_LATENCY_AMBER_MS 1500.0
#define BBT_DASH_LATENCY_RED_MS 3000.0
#define BBT_DASH_STALL_WINDOW_US 60000000LL
#define BBT_DASH_STALLS_AMBER 1
#define BBT_DASH_STALLS_RED 3
#define BBT_DASH_REPORT_STALE_US 10000000LL

typedef struct bbt_dash bbt_dash;

enum bbt_dash_light { BBT_DASH_GREEN = 0, BBT_DASH_AMBER = 1, BBT_DASH_RED = 2, BBT_DASH_IDLE = 3 };

/* Why a light is not green: bits of a mask, named by bbt_dash_reason_name(). */
enum bbt_dash_reason {
    BBT_DASH_R_OFFLINE = 1u << 0,        /* "offline": no connection of the classroom */
    BBT_DASH_R_NOT_PUBLISHING = 1u << 1, /* "not_publishing": a source not sending its lesson */
    BBT_DASH_R_NOT_WATCHING = 1u << 2,   /* "not_watching": connected, not in its lesson */
    BBT_DASH_R_NO_SOURCE = 1u << 3,      /* "no_source": the watched session has no publisher */
    BBT_DASH_R_LATENCY = 1u << 4,        /* "latency" */
    BBT_DASH_R_STALLS = 1u << 5,         /* "stalls" */
    BBT_DASH_R_AUDIO_ONLY = 1u << 6,     /* "audio_only" */
    BBT_DASH_R_LOW_LAYER = 1u << 7,      /* "low_layer": lowest camera layer or courseware only */
    BBT_DASH_R_NO_SOUND = 1u << 8,       /* "no_sound": the player says audio is not playing */
    BBT_DASH_R_NO_REPORTS = 1u << 9,     /* "no_reports": the player stopped reporting */
};
#define BBT_DASH_REASONS 10

enum bbt_dash_role { BBT_DASH_ROLE_NONE = 0, BBT_DASH_ROLE_SOURCE = 1, BBT_DASH_ROLE_RECEIVER = 2 };

/* One connection of a classroom (a node, a player), as the relay sees it now. Strings are
 * borrowed for the duration of bbt_dash_update(). */
typedef struct bbt_dash_conn {
    const char *classroom;       /* the connection's subject */
    enum bbt_dash_role role;
    const char *publishing;      /* session it publishes, NULL none */
    const char *watching;        /* session it watches, NULL none */
    bool session_live;           /* the watched session has a live publisher */
    const char *layer;           /* what it plays: "720p", "courseware", "audio"; NULL unknown */
    bool layer_low;              /* the lowest camera layer of a ladder, or courseware only */
    bool audio_only;
    int video_height;            /* height of the camera layer played, 0 none */
    int64_t report_at_us;        /* monotonic time of its last report, 0 none */
    double latency_p95_ms;       /* from its last report, < 0 unknown */
    int64_t stalls;              /* stalls since it subscribed, < 0 unknown */
    int audio_ok;                /* 1, 0, or -1 unknown */
} bbt_dash_conn;

/* One session of the relay's registry. */
typedef struct bbt_dash_session {
    const char *id;
    const char *state;           /* "waiting", "live", "interrupted", "ended" */
    size_t viewers;
    uint64_t bytes_out;          /* media bytes written to its viewers so far */
    bool publisher_up;           /* a publisher is connected and the session is live */
    const char *publisher;       /* the publisher's classroom, NULL none */
} bbt_dash_session;

typedef struct bbt_dash_input {
    int64_t mono_us, wall_us;
    const bbt_dash_conn *conns;
    size_t nconns;
    const bbt_dash_session *sessions;
    size_t nsessions;
    const json_t *day;           /* the timetable's `day` of today (§3.18.10), NULL: none */
    size_t connections, publishers, viewers;
    int64_t uptime_s;
    bool snapshot;               /* build the `dash` message too (a dashboard is watching) */
} bbt_dash_input;

/* What is known of one classroom at one instant, for bbt_dash_judge(). */
typedef struct bbt_dash_facts {
    enum bbt_dash_role role;
    bool lesson_soon;            /* its lesson is "starting" (within the lead time) */
    bool lesson_on;              /* its lesson's period has begun (live or failed) */
    unsigned connections;
    bool publishing_it;          /* source: publishes the lesson */
    bool watching_it;            /* receiver: watches the lesson */
    bool watching;               /* watches some session */
    bool session_live;           /* ... that has a live publisher */
    bool fresh_report;           /* a report within BBT_DASH_REPORT_STALE_US */
    bool stale_report;           /* had reports, none within BBT_DASH_REPORT_STALE_US */
    double latency_p95_ms;       /* < 0 unknown */
    int stalls_recent;           /* within BBT_DASH_STALL_WINDOW_US */
    bool audio_only, layer_low;
    int audio_ok;
} bbt_dash_facts;

/* The rules of the header comment: the light, and the reasons in *reasons. */
enum bbt_dash_light bbt_dash_judge(const bbt_dash_facts *f, unsigned *reasons);
const char *bbt_dash_light_name(enum bbt_dash_light l); /* "green", "amber", "red", "idle" */
const char *bbt_dash_reason_name(enum bbt_dash_reason r); /* "offline", ...; "?" otherwise */

bbt_dash *bbt_dash_new(void);
void bbt_dash_free(bbt_dash *d);

/* Add an error to the ring (the oldest goes when full). status: a BBT_E* code or 0; subject
 * and session may be NULL; text is cut to 256 bytes at a character boundary. */
void bbt_dash_error(bbt_dash *d, int64_t wall_us, const char *subject, int status,
                    const char *message, const char *session);
size_t bbt_dash_error_count(const bbt_dash *d);

/* Take what the relay sees now: lights, egress, failed lessons (added to the errors once per
 * lesson and reason), and, with in->snapshot, the next `dash` message (the costly part: about a
 * kilobyte per lesson and classroom). BBT_OK or BBT_ENOMEM (the last snapshot stays). */
int bbt_dash_update(bbt_dash *d, const bbt_dash_input *in);

/* The `dash` message of the last update (borrowed: valid until the next update or free), or
 * NULL before the first one. */
const json_t *bbt_dash_snapshot(const bbt_dash *d);

/* Per-classroom and per-session gauges of the last update, Prometheus text (docs/METRICS.md):
 * bbt_classroom_light, bbt_classroom_connected, bbt_classroom_latency_ms,
 * bbt_classroom_stalls_recent, bbt_classroom_video_height, bbt_session_publisher_up,
 * bbt_session_egress_kbps. */
void bbt_dash_render_metrics(const bbt_dash *d, bbt_strbuf *b);

#endif
