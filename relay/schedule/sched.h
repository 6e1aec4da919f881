/* relay/schedule/sched.h — the scheduler: the county timetable in the running relay.
 *
 * It owns the store (store.h), the timetable in memory (model.h) and the clock (clock.h), and
 * knows the relay's connections only as opaque pointers with a role and a classroom, given by
 * the hooks below (relay/schedule/ops.c calls them from conn.c and server.c). What it does:
 *   - pushes each classroom's `plan` (docs/PROTOCOL.md §3.13) to every connection of it after
 *     hello, and again whenever it changes: an edit, a lesson changing state, local midnight.
 *     Plans are computed only for classrooms with a connection, only when due (each cached
 *     plan knows the next instant it can change), and sent only when the text differs;
 *   - tells every source connection of a lesson's source classroom to `start` lead_ms before
 *     the period and to `stop` after it (§3.17);
 *   - records attendance of receiving classrooms: subscribe .. unsubscribe/close, clipped to
 *     the period, time per quality layer, stalls; kept in memory and written in one
 *     transaction every flush_ms and when a classroom leaves;
 *   - answers the operator messages of §3.18 (bbt_sched_request): every change is checked
 *     (conflict.h) on a copy, written in one transaction, then swapped in and re-planned.
 *
 * Time: everything reads bbt_sched_now() (the scheduler clock), so tests drive it.
 * Threading: one thread (the relay's event loop). Ownership: the scheduler owns everything it
 * allocates; messages given to hooks.send are owned by the hook. No global state.
 */
#ifndef BBT_SCHED_SCHED_H
#define BBT_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/control.h"

typedef struct bbt_sched bbt_sched;

/* The role a connection said in hello. */
enum bbt_sched_role {
    BBT_SCHED_SOURCE = 1,
    BBT_SCHED_RECEIVER = 2,
    BBT_SCHED_OPERATOR = 4,
    BBT_SCHED_RELAY = 8,
};

/* The relay's side of an occurrence (its live session). */
typedef struct bbt_sched_live {
    const char *state;             /* "none", "waiting", "live", "interrupted", "ended" */
    size_t viewers;
    char publisher[65];            /* the publishing connection's classroom, "" if none */
} bbt_sched_live;

typedef struct bbt_sched_hooks {
    /* Queue a message for the connection (msg is consumed; may be NULL on allocation
     * failure, then nothing is sent). */
    void (*send)(void *conn, json_t *msg, void *ud);
    /* The relay's session of this id (state "none" when it has none). */
    void (*live)(const char *session, bbt_sched_live *out, void *ud);
    /* The quality layer the relay sends to this viewer now ("720p", "audio", ...): written to
     * buf, or "" if it does not watch. */
    void (*layer)(void *conn, char *buf, size_t size, void *ud);
    void *ud;
    /* Called on the scheduler's WORKER thread when a long job (an import, an attendance
     * export) has finished: make the event loop call bbt_sched_poll soon (the relay:
     * lws_cancel_service). No lock is held. NULL: the next bbt_sched_tick collects it. */
    void (*wake)(void *ud);
} bbt_sched_hooks;

typedef struct bbt_sched_opts {
    const char *db_path;          /* the SQLite file */
    int64_t lead_ms;              /* start capture this long before a period */
    int64_t stop_delay_ms;        /* stop this long after it */
    int64_t flush_ms;             /* write attendance at least this often (real time) */
    int64_t clock_offset_ms;      /* scheduler clock = wall clock + offset ... */
    double time_scale;            /* ... running at this speed */
    bool test_clock;              /* accept the `clock` message */
    const char *timezone;         /* the county's zone: day_list's "today", new classrooms */
    size_t max_import_bytes;      /* largest timetable upload */
    bool inline_jobs;             /* imports and exports on the calling thread (no worker):
                                   * for comparison in bbt-schedbench */
} bbt_sched_opts;

/* Open the database and load the timetable. NULL with *status (BBT_EIO, BBT_ESCHEMA,
 * BBT_ENOTFOUND for an unknown timezone, BBT_ENOMEM) and err saying why. */
bbt_sched *bbt_sched_new(const bbt_sched_opts *o, const bbt_sched_hooks *h, int *status,
                         char *err, size_t errlen);
/* Writes what attendance it holds, closes the database. */
void bbt_sched_free(bbt_sched *s);
/* Stop the worker thread (pending jobs are dropped); what follows runs inline. Before the
 * event loop that its wake hook pokes goes away. NULL is ignored. */
void bbt_sched_stop_worker(bbt_sched *s);

/* Housekeeping (the relay calls it every 250 ms): plans that fell due, start/stop, the
 * attendance clock and flush; finished worker jobs. */
void bbt_sched_tick(bbt_sched *s);
/* Answer the worker's finished jobs (after hooks.wake): an applied import becomes the
 * timetable, replies go to the connections that asked if they are still there. */
void bbt_sched_poll(bbt_sched *s);

/* The scheduler clock, µs since 1970. */
int64_t bbt_sched_now(const bbt_sched *s);

/* ---- connections ---------------------------------------------------------------------------
 * conn is the relay's connection pointer; it must be told closed before it is freed. */
void bbt_sched_hello(bbt_sched *s, void *conn, int role, const char *classroom);
void bbt_sched_closed(bbt_sched *s, void *conn);
/* The connection subscribed to / left the relay session `session`. */
void bbt_sched_subscribed(bbt_sched *s, void *conn, const char *session);
void bbt_sched_unsubscribed(bbt_sched *s, void *conn);
/* A viewer's report: the layer it plays (label, NULL if it did not say) and its stall count
 * since it subscribed (-1 if it did not say). */
void bbt_sched_report(bbt_sched *s, void *conn, const char *layer, int64_t stalls);

/* ---- operator requests (§3.18) -------------------------------------------------------------
 * Answer one validated request of `type` from an operator connection: the reply or an
 * `error`, with ref_id set (caller owns it). NULL: answered later through hooks.send (an
 * import's last part, an attendance export: worker jobs), or out of memory. */
json_t *bbt_sched_request(bbt_sched *s, void *conn, bbt_msg_type type, const json_t *msg);

/* Today's plan of `classroom` at scheduler time at_us (0: now), computed afresh (not from
 * the cache the pushes use): the `plan` message as text (malloc'd, caller frees), or NULL
 * (unknown classroom, out of memory). For the dashboard and the benchmark. */
char *bbt_sched_plan(bbt_sched *s, const char *classroom, int64_t at_us);

/* Today's `day` (docs/PROTOCOL.md §3.18.10: every lesson with its live state, a failed one
 * with its reason) at scheduler time, for the dashboard (relay/dash_relay.c): a new object the
 * caller owns, or NULL when out of memory. In memory only: no database access. */
json_t *bbt_sched_day(bbt_sched *s);

/* Is this a message type bbt_sched_request answers? */
bool bbt_sched_handles(bbt_msg_type type);

#endif
