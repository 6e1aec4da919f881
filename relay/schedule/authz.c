/* relay/schedule/authz.c — who may publish or watch an occurrence (see authz.h). */
#include "relay/schedule/authz.h"

#include <stdio.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/recur.h"
#include "relay/schedule/sched_internal.h"

static int say(char *why, size_t n, int verdict, const char *text)
{
    if (why && n)
        snprintf(why, n, "%s", text);
    return verdict;
}

/* The lesson an occurrence id names: its timetable session (index) and occurrence. */
static int lookup(bbt_sched *s, const char *id, int *si, bbt_occ *occ)
{
    bbt_day date;
    char sid[BBT_TT_SESSION_ID_MAX + 2];
    if (!s || !id || bbt_occ_id_parse(id, &date, sid) != BBT_OK)
        return BBT_AUTHZ_NOT_SCHEDULED;
    *si = bbt_tt_find_session(&s->tt, sid);
    if (*si < 0)
        return BBT_AUTHZ_NOT_SCHEDULED;
    if (bbt_recur_find(&s->tt, sid, date, occ) != BBT_OK)
        return BBT_AUTHZ_NO;
    return BBT_AUTHZ_YES;
}

static bool is_receiver(const bbt_tt_session *ts, const char *classroom)
{
    for (size_t i = 0; i < ts->nreceivers; i++)
        if (strcmp(ts->receivers[i], classroom) == 0)
            return true;
    return false;
}

int bbt_sched_may_publish(struct bbt_sched *s, const char *classroom, const char *session,
                          char *why, size_t whylen)
{
    int si;
    bbt_occ occ;
    int v = lookup(s, session, &si, &occ);
    if (v == BBT_AUTHZ_NOT_SCHEDULED)
        return v;
    if (v == BBT_AUTHZ_NO)
        return say(why, whylen, v, "no such lesson on that date");
    const bbt_tt_session *ts = &s->tt.sessions[si];
    if (strcmp(ts->source, classroom) != 0)
        return say(why, whylen, BBT_AUTHZ_NO, "this classroom is not the lesson's source");
    if (occ.status != BBT_OCC_ON)
        return say(why, whylen, BBT_AUTHZ_NO, "the lesson does not take place that day");
    int64_t now = bbt_sched_now(s);
    if (now < occ.start_us - s->opts.lead_ms * 1000 ||
        now > occ.end_us + s->opts.stop_delay_ms * 1000)
        return say(why, whylen, BBT_AUTHZ_NO, "the lesson is not scheduled now");
    return BBT_AUTHZ_YES;
}

int bbt_sched_may_watch(struct bbt_sched *s, const char *classroom, const char *session,
                        char *why, size_t whylen)
{
    int si;
    bbt_occ occ;
    int v = lookup(s, session, &si, &occ);
    if (v == BBT_AUTHZ_NOT_SCHEDULED)
        return v;
    const bbt_tt_session *ts = &s->tt.sessions[si];
    if (ts->is_public || strcmp(ts->source, classroom) == 0 || is_receiver(ts, classroom))
        return BBT_AUTHZ_YES;
    return say(why, whylen, BBT_AUTHZ_NO, "this classroom does not take part in the lesson");
}
