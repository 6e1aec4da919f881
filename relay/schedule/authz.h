/* relay/schedule/authz.h — the timetable's answer to "may this classroom publish / watch this
 * session?" (docs/SECURITY.md, Authorisation rules), for relay/conn_authz.c.
 *
 * A session id that is an occurrence of the timetable ("YYYY-MM-DD.<session>", recur.h):
 *   publish: YES when the classroom is the lesson's source, the lesson takes place that day
 *            (not cancelled, not on a holiday, after moves) and the scheduler clock is within
 *            [start - lead, end + stop_delay]; otherwise NO with a reason;
 *   watch:   YES when the classroom is the lesson's source or one of its receivers, or the
 *            session is public (`public` in session_set, the CSV column 公开/public); else NO.
 * Any other id (a lesson started by hand, not in the timetable): NOT_SCHEDULED, the caller's
 * rule applies. Pure reads of the scheduler's timetable and clock; event-loop thread only. */
#ifndef BBT_SCHED_AUTHZ_H
#define BBT_SCHED_AUTHZ_H

#include <stddef.h>

struct bbt_sched;

enum bbt_authz { BBT_AUTHZ_NOT_SCHEDULED = 0, BBT_AUTHZ_YES = 1, BBT_AUTHZ_NO = 2 };

/* why (may be NULL) gets a short English reason for NO, safe to log and to send. */
int bbt_sched_may_publish(struct bbt_sched *s, const char *classroom, const char *session,
                          char *why, size_t whylen);
int bbt_sched_may_watch(struct bbt_sched *s, const char *classroom, const char *session,
                        char *why, size_t whylen);

#endif
