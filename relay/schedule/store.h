/* relay/schedule/store.h — the timetable and attendance on disk: one SQLite database
 * (`schedule.db` in the relay's state_dir).
 *
 * Durability: WAL journal with synchronous=FULL, so a transaction that returned from commit
 * survives kill -9 and power loss, and one that did not is not there at all (never a half
 * import). Writes go through prepared statements; a change of several rows is one transaction
 * (bbt_store_begin .. bbt_store_commit / bbt_store_rollback). foreign_keys is on.
 *
 * Schema: versioned migrations (store.c: an ordered array of SQL scripts). The database
 * records its version in the table schema_version; opening applies the missing migrations in
 * one transaction each, and refuses (BBT_ESCHEMA) a database newer than this program.
 * Tables: schools, classrooms, edu_groups + edu_group_members, sessions + session_receivers,
 * holidays, exceptions, attendance, import_log, tokens + revoked_tokens (store_tokens.h);
 * sessions.public (migration 4). Dates are stored as 'YYYY-MM-DD' text and times
 * as 'HH:MM', so `sqlite3 schedule.db` shows what county IT staff expect to read.
 *
 * Status: every function returns BBT_OK or a negative BBT_E* code, and writes a one-line
 * English reason into err (may be NULL): BBT_EIO (SQLite failed: its message), BBT_ESCHEMA,
 * BBT_ENOTFOUND (a delete of nothing), BBT_ENOMEM, BBT_EINVAL (bad arguments).
 * Ownership: the store owns its connection and statements; the data it loads is the caller's.
 * One store is used by one thread (the relay's event loop, or a test). */
#ifndef BBT_SCHED_STORE_H
#define BBT_SCHED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "relay/schedule/model.h"

#define BBT_STORE_FILE "schedule.db"
#define BBT_LAYERS_MAX 8
#define BBT_LAYER_LABEL_MAX 15

typedef struct bbt_store bbt_store;

/* Open (creating if needed) the database at `path` and bring its schema up to date. */
int bbt_store_open(const char *path, bbt_store **out, char *err, size_t errlen);
void bbt_store_close(bbt_store *s);

/* The schema version of the open database, and the newest this program knows. */
int bbt_store_schema_version(bbt_store *s);
int bbt_store_schema_latest(void);

/* Everything but attendance into *t (initialised here, indexed on success; empty on
 * failure). */
int bbt_store_load(bbt_store *s, bbt_timetable *t, char *err, size_t errlen);

int bbt_store_begin(bbt_store *s, char *err, size_t errlen);
int bbt_store_commit(bbt_store *s, char *err, size_t errlen);
void bbt_store_rollback(bbt_store *s);

/* Insert or replace one row (a session's receivers, a group's members are replaced too). */
int bbt_store_put_school(bbt_store *s, const bbt_school *v, char *err, size_t errlen);
int bbt_store_put_classroom(bbt_store *s, const bbt_classroom *v, char *err, size_t errlen);
int bbt_store_put_group(bbt_store *s, const bbt_group *v, char *err, size_t errlen);
int bbt_store_put_session(bbt_store *s, const bbt_tt_session *v, char *err, size_t errlen);
int bbt_store_put_holiday(bbt_store *s, const bbt_holiday *v, char *err, size_t errlen);
int bbt_store_put_exception(bbt_store *s, const bbt_exception *v, char *err, size_t errlen);

/* Delete by id; kind is "school", "classroom", "group", "session" or "holiday". A session's
 * receivers and exceptions go with it. BBT_ENOTFOUND when there was no such row. */
int bbt_store_delete(bbt_store *s, const char *kind, const char *id, char *err, size_t errlen);
int bbt_store_delete_exception(bbt_store *s, const char *session, bbt_day date, char *err,
                               size_t errlen);

/* One line of the import log (what an import changed, for the audit of county IT). */
int bbt_store_log_import(bbt_store *s, int64_t at_us, const char *who, size_t rows,
                         size_t added, size_t changed, char *err, size_t errlen);

/* ---- attendance ---------------------------------------------------------------------------- */

typedef struct bbt_layer_time {
    char label[BBT_LAYER_LABEL_MAX + 1]; /* "720p", "360p", "courseware", "audio" */
    int64_t seconds;
} bbt_layer_time;

/* One classroom at one occurrence (session, date). Times are the scheduler clock's µs. */
typedef struct bbt_attendance {
    char classroom[BBT_ID_MAX + 1];
    char session[BBT_TT_SESSION_ID_MAX + 1];
    bbt_day date;
    int64_t joined_us, left_us;
    int64_t seconds;           /* present during the lesson's period */
    bbt_layer_time layers[BBT_LAYERS_MAX];
    size_t nlayers;
    int64_t stalls;
} bbt_attendance;

/* Add `delta` to the row of (classroom, session, date): joined = earliest, left = latest,
 * seconds, per-layer seconds and stalls summed. Creates the row. */
int bbt_store_attendance_add(bbt_store *s, const bbt_attendance *delta, char *err,
                             size_t errlen);

/* Rows with from <= date <= to (and of `classroom` when not NULL), ordered by date, session,
 * classroom: *rows (malloc'd, caller frees) and *n. */
int bbt_store_attendance_query(bbt_store *s, bbt_day from, bbt_day to, const char *classroom,
                               bbt_attendance **rows, size_t *n, char *err, size_t errlen);

/* Add `seconds` to the time on layer `label` of a (parsing aid shared with the scheduler). */
void bbt_attendance_add_layer(bbt_attendance *a, const char *label, int64_t seconds);

#endif
