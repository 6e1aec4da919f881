/* relay/schedule/sched_internal.h — the scheduler's state, shared by sched.c (connections,
 * plans, start/stop), attend.c (attendance, export), admin.c (operator requests) and
 * sched_json.c (the timetable as JSON). Not an interface. */
#ifndef BBT_SCHED_INTERNAL_H
#define BBT_SCHED_INTERNAL_H

#include "relay/schedule/clock.h"
#include "relay/schedule/model.h"
#include "relay/schedule/problem.h"
#include "relay/schedule/recur.h"
#include "relay/schedule/sched.h"
#include "relay/schedule/store.h"
#include "relay/schedule/worker.h"

#define SCHED_ERR_MAX 512
#define PLAN_MAX 256
#define NEXT_DAYS 366

/* An open attendance record: one receiving connection watching one scheduled lesson. The
 * µs counters accumulate since the last flush (whole seconds are written, the rest kept). */
struct att {
    char classroom[BBT_ID_MAX + 1];
    char session[BBT_TT_SESSION_ID_MAX + 1];
    bbt_day date;
    int64_t start_us, end_us;      /* the period */
    int64_t joined_us, left_us;    /* since the last flush */
    int64_t last_us;               /* accounted up to (scheduler time) */
    int64_t present_us;
    char label[BBT_LAYER_LABEL_MAX + 1];
    char labels[BBT_LAYERS_MAX][BBT_LAYER_LABEL_MAX + 1];
    int64_t layer_us[BBT_LAYERS_MAX];
    size_t nlabels;
    int64_t stalls_seen, stalls_new;
    int64_t last_report_real;      /* real µs of the last report (0: none yet) */
    bool dirty;
};

/* A timetable upload of an operator, part by part. */
struct upload {
    char id[BBT_ID_MAX + 1];
    int next_part;
    char *data;
    size_t len, cap;
};

/* An attendance export kept for its next pages. */
struct export_cache {
    bbt_day from, to;
    char classroom[BBT_ID_MAX + 1];
    json_t *rows;                  /* array of row objects */
};

struct slot {
    void *conn;
    uint64_t serial;               /* this connection among all (a job's answer finds it) */
    int role;                      /* enum bbt_sched_role */
    char classroom[BBT_ID_MAX + 1];
    int ci;                        /* index in the timetable, -1 unknown */
    char watching[BBT_OCC_ID_MAX + 1];   /* relay session subscribed to, "" none */
    char capturing[BBT_OCC_ID_MAX + 1];  /* source: the lesson told to start, "" none */
    int64_t capturing_end_us;
    struct att *att;
    struct upload *up;
    struct export_cache *exp;
};

/* The last plan of a classroom with connections. */
struct plan_cache {
    char id[BBT_ID_MAX + 1];
    char *text;                    /* last sent (NULL: none yet) */
    int64_t due_us;                /* recompute at or after this scheduler time */
};

struct bbt_sched {
    bbt_sched_opts opts;
    char timezone[BBT_TZ_NAME_MAX + 1];
    int tz_min;
    bbt_sched_hooks hooks;
    bbt_store *store;
    bbt_timetable tt;              /* indexed */
    bbt_clock clock;
    struct slot **slots;           /* sorted by conn address */
    size_t nslots, cap_slots;
    struct plan_cache *plans;      /* one per classroom of tt, same order */
    size_t nplans;
    int64_t last_flush_real;
    bbt_worker *worker;            /* long jobs off the event loop (jobs.c); NULL: inline */
    uint64_t next_serial;
    bool importing;                /* an import job is in flight (one at a time) */
    bool writing;                  /* ... and it writes: no other write until it is done */
    struct att **pending;          /* attendance closed while `writing`, for the next flush */
    size_t npending, cap_pending;
};

/* sched.c */
struct slot *sched_slot(bbt_sched *s, void *conn);
/* The timetable changed (s->tt replaced): re-resolve classrooms, re-plan everyone now. */
void sched_timetable_changed(bbt_sched *s);
/* Plans (and start/stop) of every classroom whose plan is due, or all with force. */
void sched_replan(bbt_sched *s, bool force);

/* attend.c */
void att_open(bbt_sched *s, struct slot *sl, const char *session);
void att_close(bbt_sched *s, struct slot *sl);
void att_report(bbt_sched *s, struct slot *sl, const char *layer, int64_t stalls);
void att_tick(bbt_sched *s);
/* Write every dirty record (one transaction). BBT_OK or the store's error. */
int att_flush(bbt_sched *s, char *err, size_t errlen);
/* An export's first page (NULL and BBT_OK: a worker job answers later, jobs.c). */
json_t *att_export(bbt_sched *s, struct slot *sl, const json_t *req, int *status, char *err,
                   size_t errlen);
/* What an export reads, so it can run on the worker with a copy of the timetable. */
struct export_src {
    const bbt_timetable *tt;       /* indexed */
    int tz_min;                    /* the county's zone (unknown classrooms) */
    int64_t now;                   /* lessons started by then */
};
/* Every row of from..to (of `only` if not NULL), sorted by date, session, classroom, from the
 * attendance in st (flushed before) and the lessons of x->tt. Any thread. */
json_t *att_rows(const struct export_src *x, bbt_store *st, bbt_day from, bbt_day to,
                 const char *only, int *status, char *err, size_t errlen);
/* The page offset..offset+limit as an `attendance` reply; rows (consumed) replace the
 * connection's cached export first when not NULL. */
json_t *att_page(struct slot *sl, bbt_day from, bbt_day to, const char *only, json_t *rows,
                 json_int_t offset, json_int_t limit, int *status);
void export_cache_free(struct export_cache *e);

/* day.c */
json_t *day_list(bbt_sched *s, const json_t *req, int *status, char *err, size_t errlen);
/* The state name of an occurrence at `now` for plans and day lists. */
const char *occ_state(const bbt_sched *s, const bbt_occ *o, int64_t now, bool plan);

/* jobs.c: the import and the attendance export as worker jobs (worker.h) */
/* The whole upload is here (taken from sl->up): check it and, unless a dry run, write it. The
 * reply now (no worker, or refused at once) or NULL (BBT_OK: jobs_poll answers). */
json_t *jobs_import(bbt_sched *s, struct slot *sl, struct upload *up, bool dry_run,
                    const json_t *req);
/* Queue an export's rows (the first page is sent by jobs_poll). BBT_OK or BBT_ENOMEM. */
int jobs_export(bbt_sched *s, struct slot *sl, const json_t *req, bbt_day from, bbt_day to,
                const char *only, json_int_t offset, json_int_t limit);
/* Finished jobs: apply them and answer their connections (if still there). */
void jobs_poll(bbt_sched *s);
/* Stop the worker, dropping what it has not answered. */
void jobs_stop(bbt_sched *s);

/* admin.c */
json_t *admin_request(bbt_sched *s, struct slot *sl, bbt_msg_type type, const json_t *msg);
/* Index and check (when `check`) next, write it with w(arg) in one transaction, make it the
 * timetable and re-plan. NULL on success, else the error reply; next is consumed. */
json_t *admin_apply(bbt_sched *s, bbt_timetable *next, bool check,
                    int (*w)(bbt_store *, const void *, char *, size_t), const void *arg,
                    bbt_msg_type type);
json_t *admin_conflict_error(const bbt_problems *p, bbt_msg_type type);

/* admin_ops.c: delete, cancel/move/restore, import, clock */
json_t *admin_del(bbt_sched *s, const json_t *m);
json_t *admin_occurrence(bbt_sched *s, bbt_msg_type type, const json_t *m);
json_t *admin_import(bbt_sched *s, struct slot *sl, const json_t *m);
json_t *admin_clock(bbt_sched *s, const json_t *m);

/* sched_json.c: the timetable's objects as JSON (§3.18) and back. The from_json functions
 * take validated objects; strings they set point into the JSON (valid while it lives). */
json_t *school_json(const bbt_timetable *t, size_t i);
json_t *classroom_json(const bbt_timetable *t, size_t i, bool connected);
json_t *group_json(const bbt_timetable *t, size_t i);
json_t *holiday_json(const bbt_timetable *t, size_t i);
json_t *session_json(const bbt_tt_session *v);
void school_from_json(const json_t *j, bbt_school *out);
int classroom_from_json(const json_t *j, const char *default_tz, bbt_classroom *out);
int group_from_json(const json_t *j, bbt_group *out);   /* out->weak malloc'd */
void holiday_from_json(const json_t *j, bbt_holiday *out);
int session_from_json(const json_t *j, bbt_tt_session *out); /* out->receivers malloc'd */
/* "YYYY-MM-DD" member -> day (BBT_DAY_NONE when absent); "HH:MM" -> minutes (-1). */
bbt_day json_day(const json_t *obj, const char *key);
int json_hhmm(const json_t *obj, const char *key);
/* Add {"line","message","message_zh"} objects for a problem list. */
json_t *problems_json(const bbt_problems *p);

/* Cut a UTF-8 sequence left incomplete at the end of s (after a byte-limited copy). */
void utf8_trim_tail(char *s);

/* An `error` reply (§3.10) with message and message_zh. */
json_t *sched_error(int status, const char *en, const char *zh, bbt_msg_type ref);

#endif
