/* relay/schedule/recur.c — expanding sessions into occurrences (see recur.h for the rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/recur.h"

bool bbt_recur_rule(const bbt_tt_session *s, bbt_day day)
{
    if (s->weekday == 0)
        return day == s->date;
    return day >= s->term_start && day <= s->term_end && bbt_day_weekday(day) == s->weekday;
}

int bbt_recur_holiday(const bbt_timetable *t, bbt_day day)
{
    for (size_t i = 0; i < t->nholidays; i++)
        if (day >= t->holidays[i].first && day <= t->holidays[i].last)
            return (int)i;
    return -1;
}

static void set_times(const bbt_tt_session *s, bbt_occ *o)
{
    o->start_us = bbt_local_to_us(o->date, o->start_min, s->tz_min);
    o->end_us = bbt_local_to_us(o->date, o->end_min, s->tz_min);
}

/* The rule's own lesson on `day`, with its exception (if any) applied. */
static bbt_occ rule_occ(const bbt_timetable *t, int si, bbt_day day)
{
    const bbt_tt_session *s = &t->sessions[si];
    bbt_occ o = {.session = si, .status = BBT_OCC_ON, .date = day, .start_min = s->start_min,
                 .end_min = s->end_min, .orig_date = day, .moved_to = BBT_DAY_NONE,
                 .holiday = -1};
    for (int i = s->exc_first; i < s->exc_first + s->exc_count; i++) {
        const bbt_exception *e = &t->exceptions[i];
        if (e->date != day)
            continue;
        o.status = e->kind == BBT_EXC_CANCEL ? BBT_OCC_CANCELLED : BBT_OCC_MOVED_AWAY;
        if (e->kind == BBT_EXC_MOVE)
            o.moved_to = e->to;
    }
    if (o.status == BBT_OCC_ON && (o.holiday = bbt_recur_holiday(t, day)) >= 0)
        o.status = BBT_OCC_HOLIDAY;
    set_times(s, &o);
    return o;
}

static int cmp_occ(const void *a, const void *b)
{
    const bbt_occ *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return (x->session > y->session) - (x->session < y->session);
}

static void put(bbt_occ *out, size_t max, size_t *n, const bbt_occ *o)
{
    if (*n < max)
        out[*n] = *o;
    (*n)++;
}

size_t bbt_recur_session_day(const bbt_timetable *t, int si, bbt_day day, bbt_occ *out,
                             size_t max)
{
    const bbt_tt_session *s = &t->sessions[si];
    size_t n = 0;
    if (bbt_recur_rule(s, day)) {
        bbt_occ o = rule_occ(t, si, day);
        put(out, max, &n, &o);
    }
    for (int i = s->exc_first; i < s->exc_first + s->exc_count; i++) {
        const bbt_exception *e = &t->exceptions[i];
        if (e->kind != BBT_EXC_MOVE || e->to != day || !bbt_recur_rule(s, e->date))
            continue;
        bbt_occ o = {.session = si, .status = BBT_OCC_ON, .date = day,
                     .start_min = e->start_min, .end_min = e->end_min, .orig_date = e->date,
                     .moved_to = BBT_DAY_NONE, .holiday = bbt_recur_holiday(t, day)};
        if (o.holiday >= 0)
            o.status = BBT_OCC_HOLIDAY;
        set_times(s, &o);
        put(out, max, &n, &o);
    }
    if (n > 1)
        qsort(out, n < max ? n : max, sizeof *out, cmp_occ);
    return n;
}

size_t bbt_recur_classroom_day(const bbt_timetable *t, int ci, bbt_day local_day, bbt_occ *out,
                               size_t max)
{
    size_t np, n = 0;
    const bbt_tt_part *parts = bbt_tt_parts(t, ci, &np);
    int tz = t->classrooms[ci].tz_min;
    for (size_t p = 0; p < np; p++) {
        const bbt_tt_session *s = &t->sessions[parts[p].session];
        /* a source in another zone may start the classroom's day on its previous or next day */
        int span = s->tz_min == tz ? 0 : 1;
        for (bbt_day d = local_day - span; d <= local_day + span; d++) {
            bbt_occ buf[8];
            size_t k = bbt_recur_session_day(t, parts[p].session, d, buf, 8);
            for (size_t i = 0; i < k && i < 8; i++) {
                bbt_day ld;
                bbt_us_to_local(buf[i].start_us, tz, &ld, NULL, NULL);
                if (ld != local_day)
                    continue;
                buf[i].role = parts[p].role;
                put(out, max, &n, &buf[i]);
            }
        }
    }
    if (n > 1)
        qsort(out, n < max ? n : max, sizeof *out, cmp_occ);
    return n;
}

int bbt_recur_next(const bbt_timetable *t, int ci, int64_t from_us, int max_days, bbt_occ *out)
{
    bbt_day today;
    bbt_us_to_local(from_us, t->classrooms[ci].tz_min, &today, NULL, NULL);
    for (bbt_day d = today; d <= today + max_days; d++) {
        bbt_occ buf[64];
        size_t n = bbt_recur_classroom_day(t, ci, d, buf, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            if (buf[i].status == BBT_OCC_ON && buf[i].start_us >= from_us) {
                *out = buf[i];
                return BBT_OK;
            }
    }
    return BBT_ENOTFOUND;
}

void bbt_recur_day_all(const bbt_timetable *t, bbt_day day,
                       void (*fn)(const bbt_occ *o, void *ud), void *ud)
{
    for (size_t si = 0; si < t->nsessions; si++) {
        bbt_occ buf[8];
        size_t n = bbt_recur_session_day(t, (int)si, day, buf, 8);
        for (size_t i = 0; i < n && i < 8; i++)
            fn(&buf[i], ud);
    }
}

char *bbt_occ_id(const bbt_timetable *t, const bbt_occ *o, char *buf)
{
    char d[11];
    snprintf(buf, BBT_OCC_ID_MAX + 1, "%s.%s", bbt_day_format(o->date, d),
             t->sessions[o->session].id);
    return buf;
}

int bbt_occ_id_parse(const char *id, bbt_day *date, char *session)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 12 || id[10] != '.' || bbt_day_parse(id, 10, false, date) != BBT_OK ||
        !bbt_id_ok(id + 11, BBT_TT_SESSION_ID_MAX))
        return BBT_EINVAL;
    memcpy(session, id + 11, n - 11 + 1);
    return BBT_OK;
}

int bbt_recur_find(const bbt_timetable *t, const char *session, bbt_day date, bbt_occ *out)
{
    int si = bbt_tt_find_session(t, session);
    if (si < 0)
        return BBT_ENOTFOUND;
    bbt_occ buf[8];
    size_t n = bbt_recur_session_day(t, si, date, buf, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (buf[i].status != BBT_OCC_MOVED_AWAY) {
            *out = buf[i];
            return BBT_OK;
        }
    return BBT_ENOTFOUND;
}
