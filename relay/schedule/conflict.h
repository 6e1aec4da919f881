/* relay/schedule/conflict.h — the rules a timetable must satisfy. Pure: no I/O, no clock.
 *
 * Every rule violation becomes one problem (problem.h) in English and Chinese, with the CSV
 * line of the session concerned (the later line when two sessions are involved). The rules:
 *   sessions   the source and every receiver are known classrooms; the source may be a source
 *              (role source or both), each receiver may receive (receiver or both); the source
 *              is not also a receiver; no receiver is listed twice; there is a receiver; the
 *              end is after the start; a weekly session's term ends on or after it starts and
 *              contains at least one of its weekdays;
 *   exceptions (checked when one is made, bbt_conflict_check_exception: a holiday declared
 *              later, or a session's rule changed by a new import, must not block anything —
 *              recurrence then ignores or overrides the exception) the day cancelled or
 *              moved is a lesson of the session by its rule; a lesson is not moved onto a
 *              holiday, nor (weekly) outside its term; the new end is after the new start;
 *   at once    no classroom takes part in two lessons that overlap in time ("source classroom
 *              ... would broadcast two sessions at once" when it is the source of both),
 *              counting every real occurrence: holidays, cancellations and moves included, in
 *              absolute time (zones). Each pair of sessions is reported once, at its first
 *              clash, naming the classroom, both sessions, the day and both times.
 * Texts are fixed (tests compare them): see conflict.c for each.
 */
#ifndef BBT_SCHED_CONFLICT_H
#define BBT_SCHED_CONFLICT_H

#include "relay/schedule/model.h"
#include "relay/schedule/problem.h"

/* All rules over an indexed timetable; the list is then sorted by line (stable). BBT_OK (no problem added), BBT_ECONFLICT (problems
 * added) or BBT_ENOMEM. */
int bbt_conflict_check(const bbt_timetable *t, bbt_problems *out);

/* The rules of one new exception e (the timetable indexed; e need not be in it). Same
 * returns. */
int bbt_conflict_check_exception(const bbt_timetable *t, const bbt_exception *e,
                                 bbt_problems *out);

#endif
