/* relay/schedule/groups.h — education groups (教育集团) as a timetable rule: a WARNING, not an
 * error. Pure: no I/O, no clock.
 *
 * A session should pair its source classroom's school (the strong school) with receiving
 * classrooms of schools paired with it in an education group whose term contains every lesson
 * of the session (weekly: term_start..term_end; one-off: its date). Pairings rotate by term, so
 * a session of the spring term is checked against the spring groups. Decision (docs/SCHEDULE.md
 * §3): a county may hold ad-hoc lessons across groups (a 公开课, a substitute teacher), so a
 * pairing outside the groups is reported as a warning — listed by the dry run and the import
 * and in replies to session_set — and the change is still made. Rules:
 *   - no groups in the timetable at all: nothing to check (a county that does not use them);
 *   - a receiver of the source's own school, or an unknown classroom (an error elsewhere):
 *     nothing;
 *   - the source's school leads a group for the session's dates, but the receiver's school is
 *     not among its weak schools: "not in education group G";
 *   - the source's school leads no group covering the session's dates: one warning naming the
 *     session and the first receiver school outside any pairing.
 * Texts are fixed (tests compare them), English and Chinese, with the session's CSV line. */
#ifndef BBT_SCHED_GROUPS_H
#define BBT_SCHED_GROUPS_H

#include "relay/schedule/model.h"
#include "relay/schedule/problem.h"

/* Warnings for session s of the indexed timetable t (s need not be in t; its line is used).
 * Returns the number of warnings added. */
size_t bbt_groups_check_session(const bbt_timetable *t, const bbt_tt_session *s,
                                 bbt_problems *warn);

#endif
