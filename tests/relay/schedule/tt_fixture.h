/* tests/relay/schedule/tt_fixture.h — a small timetable to test against, built in C. Include
 * after <cmocka.h>. Test-only. */
#ifndef BBT_TEST_TT_FIXTURE_H
#define BBT_TEST_TT_FIXTURE_H

#include <string.h>

#include "proto/status.h"
#include "relay/schedule/model.h"

static inline bbt_day D(const char *s)
{
    bbt_day d;
    assert_int_equal(bbt_day_parse(s, strlen(s), false, &d), BBT_OK);
    return d;
}

static inline int HM(const char *s)
{
    int m;
    assert_int_equal(bbt_hhmm_parse(s, strlen(s), false, false, &m), BBT_OK);
    return m;
}

static inline void fx_school(bbt_timetable *t, const char *id)
{
    bbt_school s = {.name = (char *)id};
    snprintf(s.id, sizeof s.id, "%s", id);
    assert_int_equal(bbt_tt_add_school(t, &s), BBT_OK);
}

static inline void fx_classroom(bbt_timetable *t, const char *id, int role, const char *tz)
{
    bbt_classroom c = {.name = (char *)id, .role = role};
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.school, sizeof c.school, "sch");
    snprintf(c.tz, sizeof c.tz, "%s", tz ? tz : BBT_DEFAULT_TZ);
    assert_int_equal(bbt_tt_add_classroom(t, &c), BBT_OK);
}

/* receivers: "a;b;c" */
static inline bbt_tt_session fx_make(const char *id, const char *src, const char *receivers,
                                     int weekday, const char *start, const char *end,
                                     const char *from_or_date, const char *to, int line)
{
    static char rcv[16][BBT_ID_MAX + 1];
    bbt_tt_session s = {.title = (char *)"", .subject = (char *)"", .teacher = (char *)"",
                        .weekday = weekday, .start_min = HM(start), .end_min = HM(end),
                        .line = line, .receivers = rcv};
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.source, sizeof s.source, "%s", src);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", receivers);
    for (char *sv = NULL, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv))
        snprintf(rcv[s.nreceivers++], BBT_ID_MAX + 1, "%s", tok);
    if (weekday) {
        s.term_start = D(from_or_date);
        s.term_end = D(to);
    } else {
        s.date = D(from_or_date);
    }
    return s;
}

static inline void fx_session(bbt_timetable *t, const char *id, const char *src,
                              const char *receivers, int weekday, const char *start,
                              const char *end, const char *from_or_date, const char *to, int line)
{
    bbt_tt_session s = fx_make(id, src, receivers, weekday, start, end, from_or_date, to, line);
    assert_int_equal(bbt_tt_add_session(t, &s), BBT_OK);
}

static inline void fx_holiday(bbt_timetable *t, const char *id, const char *name,
                              const char *first, const char *last)
{
    bbt_holiday h = {.name = (char *)name, .first = D(first), .last = D(last)};
    snprintf(h.id, sizeof h.id, "%s", id);
    assert_int_equal(bbt_tt_add_holiday(t, &h), BBT_OK);
}

static inline void fx_cancel(bbt_timetable *t, const char *session, const char *date)
{
    bbt_exception e = {.kind = BBT_EXC_CANCEL, .date = D(date), .to = BBT_DAY_NONE,
                       .reason = (char *)""};
    snprintf(e.session, sizeof e.session, "%s", session);
    assert_int_equal(bbt_tt_add_exception(t, &e), BBT_OK);
}

static inline void fx_move(bbt_timetable *t, const char *session, const char *date,
                           const char *to, const char *start, const char *end)
{
    bbt_exception e = {.kind = BBT_EXC_MOVE, .date = D(date), .to = D(to),
                       .start_min = HM(start), .end_min = HM(end), .reason = (char *)""};
    snprintf(e.session, sizeof e.session, "%s", session);
    assert_int_equal(bbt_tt_add_exception(t, &e), BBT_OK);
}

/* A county: strong school classrooms src-1, src-2 (source), both-1 (both); rural
 * rcv-1..rcv-3 (receiver); term 2025-03-03 (Mon) .. 2025-07-04 (Fri). */
static inline void fx_county(bbt_timetable *t)
{
    bbt_tt_init(t);
    fx_school(t, "sch");
    fx_classroom(t, "src-1", BBT_CR_SOURCE, NULL);
    fx_classroom(t, "src-2", BBT_CR_SOURCE, NULL);
    fx_classroom(t, "both-1", BBT_CR_BOTH, NULL);
    fx_classroom(t, "rcv-1", BBT_CR_RECEIVER, NULL);
    fx_classroom(t, "rcv-2", BBT_CR_RECEIVER, NULL);
    fx_classroom(t, "rcv-3", BBT_CR_RECEIVER, NULL);
}

#endif
