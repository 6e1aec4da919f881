/* relay/schedule/recur.h — occurrences: which lessons take place when. Pure: no I/O, no clock;
 * every function reads an INDEXED timetable (bbt_tt_index) and writes only its out-parameters.
 *
 * The rules, in order:
 *   1. a weekly session has a lesson on each day of its weekday from term_start to term_end
 *      (both included); a one-off session on its date;
 *   2. an exception on such a day cancels that lesson, or moves it to another day and time
 *      (an exception on a day the rule does not give is stale and ignored);
 *   3. a lesson (where it would take place, after a move) on a county holiday is not held:
 *      holidays win over everything, including a lesson moved onto a holiday after the move
 *      was made. A lesson whose own day is a holiday may still be moved to a school day (a
 *      make-up lesson, 补课).
 * All days and times are those of the session's source classroom; start_us/end_us are the
 * absolute instants. An occurrence's id, used as the relay's session id for the live lesson,
 * is "YYYY-MM-DD.<session id>" with the day it takes place.
 */
#ifndef BBT_SCHED_RECUR_H
#define BBT_SCHED_RECUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/schedule/model.h"

#define BBT_OCC_ID_MAX 64

enum bbt_occ_status {
    BBT_OCC_ON,         /* takes place */
    BBT_OCC_CANCELLED,  /* an exception cancelled it */
    BBT_OCC_HOLIDAY,    /* falls on a holiday */
    BBT_OCC_MOVED_AWAY, /* an exception moved it to moved_to */
};

typedef struct bbt_occ {
    int session;             /* index in t->sessions */
    int role;                /* bbt_recur_classroom_day: the classroom's part; else 0 */
    int status;              /* enum bbt_occ_status */
    bbt_day date;            /* the day it takes place (moved: the new day) */
    int start_min, end_min;  /* local times of the source classroom */
    bbt_day orig_date;       /* the day the rule gives (== date unless moved here) */
    bbt_day moved_to;        /* MOVED_AWAY: the new day; else BBT_DAY_NONE */
    int holiday;             /* HOLIDAY: index in t->holidays; else -1 */
    int64_t start_us, end_us;
} bbt_occ;

/* Does the rule of s (weekly within the term, or the one-off date) give a lesson on `day`? */
bool bbt_recur_rule(const bbt_tt_session *s, bbt_day day);

/* Index of a holiday containing `day`, or -1. */
int bbt_recur_holiday(const bbt_timetable *t, bbt_day day);

/* The occurrences of session si on `day` (source's days): the rule's lesson of that day (in
 * any status) and the lessons moved there from other days, sorted by start. Returns how many
 * there are (out receives at most max of them). */
size_t bbt_recur_session_day(const bbt_timetable *t, int si, bbt_day day, bbt_occ *out,
                             size_t max);

/* The occurrences, in any status, of every session classroom ci takes part in that start on
 * `local_day` of the classroom's own zone, sorted by start (then session id). Returns how many
 * (out receives at most max). */
size_t bbt_recur_classroom_day(const bbt_timetable *t, int ci, bbt_day local_day, bbt_occ *out,
                               size_t max);

/* The first occurrence of classroom ci that takes place (BBT_OCC_ON) and starts at or after
 * `from_us`, looking up to max_days ahead: BBT_OK, or BBT_ENOTFOUND. */
int bbt_recur_next(const bbt_timetable *t, int ci, int64_t from_us, int max_days, bbt_occ *out);

/* Calls fn for every occurrence (any status) of every session on `day` (source's days). */
void bbt_recur_day_all(const bbt_timetable *t, bbt_day day,
                       void (*fn)(const bbt_occ *o, void *ud), void *ud);

/* "YYYY-MM-DD.<session>" for an occurrence (buf >= BBT_OCC_ID_MAX + 1). Returns buf. */
char *bbt_occ_id(const bbt_timetable *t, const bbt_occ *o, char *buf);
/* Split an occurrence id: BBT_OK or BBT_EINVAL (not of that form). session >= 54 bytes. */
int bbt_occ_id_parse(const char *id, bbt_day *date, char *session);

/* The occurrence of session `session` that takes place on `date` (after moves): BBT_OK with
 * *out, or BBT_ENOTFOUND. Of several (two lessons moved onto one day) the first. */
int bbt_recur_find(const bbt_timetable *t, const char *session, bbt_day date, bbt_occ *out);

#endif
