/* relay/schedule/ops.h — the relay's side of the scheduler: the few calls conn.c and server.c
 * make (one each, clearly marked there), turning connections into the scheduler's opaque
 * pointers and answering its hooks from the session registry. Event-loop thread only.
 * With [schedule] enabled = false every call is a no-op. */
#ifndef BBT_SCHED_OPS_H
#define BBT_SCHED_OPS_H

#include <jansson.h>

struct bbt_relay;
struct bbt_conn;

/* server.c: open the timetable (bbt_relay_new) — BBT_OK or the error that stops the relay
 * (logged with its reason); close it after the last connection is gone (bbt_relay_free);
 * housekeeping every tick. */
int bbt_sched_ops_start(struct bbt_relay *r);
void bbt_sched_ops_stop(struct bbt_relay *r);
/* server.c, before destroying the lws context: the worker thread's wake hook calls
 * lws_cancel_service on it, so the worker stops first (found by tests/fuzz/fuzz_dispatch.c). */
void bbt_sched_ops_stop_worker(struct bbt_relay *r);
void bbt_sched_ops_tick(struct bbt_relay *r);
/* server.c, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: answer the timetable worker's finished jobs
 * (imports, attendance exports run off the event loop: relay/schedule/jobs.c). */
void bbt_sched_ops_poll(struct bbt_relay *r);

/* conn.c: after welcome; on close; after a subscribe was accepted; when a viewer detaches;
 * after a report was read into c->report. */
void bbt_sched_ops_hello(struct bbt_conn *c);
void bbt_sched_ops_closed(struct bbt_conn *c);
void bbt_sched_ops_subscribed(struct bbt_conn *c, const char *session);
void bbt_sched_ops_detached(struct bbt_conn *c);
void bbt_sched_ops_report(struct bbt_conn *c);

/* conn.c's handler for the operator messages of docs/PROTOCOL.md §3.18. */
void bbt_sched_ops_request(struct bbt_conn *c, json_t *m);

/* The rows of conn.c's handlers[] for those messages (operators only). */
#define BBT_SCHED_HANDLER_ROWS                                                                  \
    {BBT_MSG_SCHOOL_SET, ROLE_OPERATOR, bbt_sched_ops_request},                                 \
    {BBT_MSG_SCHOOL_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                                \
    {BBT_MSG_CLASSROOM_SET, ROLE_OPERATOR, bbt_sched_ops_request},                              \
    {BBT_MSG_CLASSROOM_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                             \
    {BBT_MSG_GROUP_SET, ROLE_OPERATOR, bbt_sched_ops_request},                                  \
    {BBT_MSG_GROUP_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                                 \
    {BBT_MSG_HOLIDAY_SET, ROLE_OPERATOR, bbt_sched_ops_request},                                \
    {BBT_MSG_HOLIDAY_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                               \
    {BBT_MSG_SESSION_SET, ROLE_OPERATOR, bbt_sched_ops_request},                                \
    {BBT_MSG_SESSION_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                               \
    {BBT_MSG_DELETE, ROLE_OPERATOR, bbt_sched_ops_request},                                     \
    {BBT_MSG_IMPORT, ROLE_OPERATOR, bbt_sched_ops_request},                                     \
    {BBT_MSG_DAY_LIST, ROLE_OPERATOR, bbt_sched_ops_request},                                   \
    {BBT_MSG_CANCEL, ROLE_OPERATOR, bbt_sched_ops_request},                                     \
    {BBT_MSG_MOVE, ROLE_OPERATOR, bbt_sched_ops_request},                                       \
    {BBT_MSG_RESTORE, ROLE_OPERATOR, bbt_sched_ops_request},                                    \
    {BBT_MSG_ATTENDANCE_EXPORT, ROLE_OPERATOR, bbt_sched_ops_request},                          \
    {BBT_MSG_CLOCK, ROLE_OPERATOR, bbt_sched_ops_request}

#endif
