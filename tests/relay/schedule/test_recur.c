/* tests/relay/schedule/test_recur.c — relay/schedule/calendar.c and recur.c: day numbers and
 * times, the zone table, and every rule of recurrence: term start and end days, holiday ranges,
 * cancelled and moved lessons (a move onto a holiday, a make-up from a holiday), week
 * boundaries, zones, the next lesson, occurrence ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "relay/schedule/recur.h"
#include "tt_fixture.h"

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(bbt_day_from_civil(1970, 1, 1), 0);
    assert_int_equal(bbt_day_weekday(0), 4); /* a Thursday */
    assert_int_equal(bbt_day_weekday(D("2025-03-03")), 1);
    assert_int_equal(bbt_day_weekday(D("2025-03-09")), 7);
    assert_int_equal(D("2024-03-01") - D("2024-02-28"), 2); /* leap year */
    assert_int_equal(D("2100-03-01") - D("2100-02-28"), 1); /* not a leap year */
    for (bbt_day d = D("1999-12-25"); d < D("2031-01-05"); d += 17) {
        int y, m, dd;
        bbt_day_to_civil(d, &y, &m, &dd);
        assert_int_equal(bbt_day_from_civil(y, m, dd), d);
    }
    bbt_day d;
    char buf[11];
    assert_int_equal(bbt_day_parse("2025-02-29", 10, false, &d), BBT_EINVAL);
    assert_int_equal(bbt_day_parse("2025-2-3", 8, false, &d), BBT_EINVAL);
    assert_int_equal(bbt_day_parse("2025-2-3", 8, true, &d), BBT_OK);
    assert_string_equal(bbt_day_format(d, buf), "2025-02-03");
    assert_int_equal(bbt_day_parse("2025/03/03", 10, false, &d), BBT_OK);
    assert_int_equal(d, D("2025-03-03"));
    assert_int_equal(bbt_day_parse("2025/03-03", 10, true, &d), BBT_EINVAL);
    assert_int_equal(bbt_day_parse("2025-03-03x", 11, true, &d), BBT_EINVAL);
    int m;
    assert_int_equal(bbt_hhmm_parse("8:05", 4, false, false, &m), BBT_EINVAL);
    assert_int_equal(bbt_hhmm_parse("8:05", 4, true, false, &m), BBT_OK);
    assert_int_equal(m, 485);
    assert_int_equal(bbt_hhmm_parse("24:00", 5, false, false, &m), BBT_EINVAL);
    assert_int_equal(bbt_hhmm_parse("24:00", 5, false, true, &m), BBT_OK);
    assert_int_equal(bbt_hhmm_parse("23:60", 5, false, true, &m), BBT_EINVAL);
    assert_int_equal(bbt_hhmm_parse("12:5", 4, true, false, &m), BBT_EINVAL);
    assert_string_equal(bbt_weekday_en(7), "Sun");
    assert_string_equal(bbt_weekday_zh(1), "周一");
}

static void test_zones(void **state)
{
    (void)state;
    int off;
    assert_int_equal(bbt_tz_offset("Asia/Shanghai", &off), BBT_OK);
    assert_int_equal(off, 480);
    assert_int_equal(bbt_tz_offset("Asia/Urumqi", &off), BBT_OK);
    assert_int_equal(off, 360);
    assert_int_equal(bbt_tz_offset("Europe/Berlin", &off), BBT_ENOTFOUND);
    /* 2025-03-03 10:00 in Shanghai is 02:00 UTC */
    int64_t us = bbt_local_to_us(D("2025-03-03"), 600, 480);
    assert_int_equal(us, (int64_t)(D("2025-03-03")) * 86400000000LL + 2 * 3600000000LL);
    bbt_day day;
    int min, sec;
    bbt_us_to_local(us + 59999999, 360, &day, &min, &sec); /* Urumqi: 08:00:59 */
    assert_int_equal(day, D("2025-03-03"));
    assert_int_equal(min, 480);
    assert_int_equal(sec, 59);
    bbt_us_to_local(bbt_local_to_us(D("2025-03-03"), 30, 480), 360, &day, &min, NULL);
    assert_int_equal(day, D("2025-03-02")); /* 00:30 Shanghai is 22:30 the day before */
    assert_int_equal(min, 22 * 60 + 30);
}

static int status_on(const bbt_timetable *t, const char *id, const char *day)
{
    bbt_occ o[8];
    size_t n = bbt_recur_session_day(t, bbt_tt_find_session(t, id), D(day), o, 8);
    if (n == 0)
        return -1;
    return o[0].status;
}

static void test_term_days(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    /* term from a Wednesday to a Friday; Monday and Friday sessions */
    fx_session(&t, "mon", "src-1", "rcv-1", 1, "10:00", "10:40", "2025-03-05", "2025-07-04", 0);
    fx_session(&t, "fri", "src-1", "rcv-1", 5, "10:00", "10:40", "2025-03-05", "2025-07-04", 0);
    fx_session(&t, "wed", "src-1", "rcv-1", 3, "10:00", "10:40", "2025-03-05", "2025-07-04", 0);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    assert_int_equal(status_on(&t, "mon", "2025-03-03"), -1); /* before the term */
    assert_int_equal(status_on(&t, "mon", "2025-03-10"), BBT_OCC_ON); /* first Monday */
    assert_int_equal(status_on(&t, "wed", "2025-03-05"), BBT_OCC_ON); /* term start day */
    assert_int_equal(status_on(&t, "fri", "2025-07-04"), BBT_OCC_ON); /* term end day */
    assert_int_equal(status_on(&t, "fri", "2025-07-11"), -1);
    assert_int_equal(status_on(&t, "mon", "2025-03-11"), -1); /* not its weekday */
    size_t n = 0;
    char buf[11];
    for (bbt_day d = D("2025-01-01"); d <= D("2025-12-31"); d++)
        n += status_on(&t, "fri", bbt_day_format(d, buf)) == BBT_OCC_ON;
    assert_int_equal(n, 18); /* 2025-03-07 .. 2025-07-04 */
    bbt_tt_free(&t);
}

static void test_holidays(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "thu", "src-1", "rcv-1", 4, "10:00", "10:40", "2025-03-03", "2025-07-04", 0);
    fx_session(&t, "mon", "src-1", "rcv-2", 1, "10:00", "10:40", "2025-03-03", "2025-07-04", 0);
    fx_holiday(&t, "labour", "劳动节", "2025-05-01", "2025-05-05");
    fx_holiday(&t, "qingming", "清明节", "2025-04-04", "2025-04-04");
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    assert_int_equal(status_on(&t, "thu", "2025-04-24"), BBT_OCC_ON);
    assert_int_equal(status_on(&t, "thu", "2025-05-01"), BBT_OCC_HOLIDAY); /* first day */
    assert_int_equal(status_on(&t, "mon", "2025-05-05"), BBT_OCC_HOLIDAY); /* last day */
    assert_int_equal(status_on(&t, "thu", "2025-05-08"), BBT_OCC_ON);
    assert_int_equal(status_on(&t, "mon", "2025-04-28"), BBT_OCC_ON); /* day before */
    bbt_occ o[4];
    assert_int_equal(bbt_recur_session_day(&t, bbt_tt_find_session(&t, "thu"), D("2025-05-01"),
                                           o, 4), 1);
    assert_string_equal(t.holidays[o[0].holiday].name, "劳动节");
    bbt_tt_free(&t);
}

static void test_exceptions(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "mon", "src-1", "rcv-1", 1, "10:00", "10:40", "2025-03-03", "2025-07-04", 0);
    fx_holiday(&t, "labour", "劳动节", "2025-05-01", "2025-05-05");
    fx_cancel(&t, "mon", "2025-03-10");
    fx_move(&t, "mon", "2025-03-17", "2025-03-19", "14:00", "14:40");
    fx_move(&t, "mon", "2025-03-24", "2025-05-02", "10:00", "10:40"); /* onto a holiday */
    fx_move(&t, "mon", "2025-05-05", "2025-05-10", "09:00", "09:40"); /* make-up (Saturday) */
    fx_cancel(&t, "mon", "2025-03-11");                                /* stale: a Tuesday */
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    int si = bbt_tt_find_session(&t, "mon");
    bbt_occ o[4];
    assert_int_equal(status_on(&t, "mon", "2025-03-10"), BBT_OCC_CANCELLED);
    assert_int_equal(bbt_recur_session_day(&t, si, D("2025-03-17"), o, 4), 1);
    assert_int_equal(o[0].status, BBT_OCC_MOVED_AWAY);
    assert_int_equal(o[0].moved_to, D("2025-03-19"));
    assert_int_equal(bbt_recur_session_day(&t, si, D("2025-03-19"), o, 4), 1);
    assert_int_equal(o[0].status, BBT_OCC_ON);
    assert_int_equal(o[0].orig_date, D("2025-03-17"));
    assert_int_equal(o[0].start_min, 14 * 60);
    assert_int_equal(o[0].start_us, bbt_local_to_us(D("2025-03-19"), 14 * 60, 480));
    assert_int_equal(status_on(&t, "mon", "2025-05-02"), BBT_OCC_HOLIDAY); /* moved onto one */
    assert_int_equal(status_on(&t, "mon", "2025-05-05"), BBT_OCC_MOVED_AWAY);
    assert_int_equal(status_on(&t, "mon", "2025-05-10"), BBT_OCC_ON);
    assert_int_equal(status_on(&t, "mon", "2025-03-11"), -1);
    bbt_occ f;
    assert_int_equal(bbt_recur_find(&t, "mon", D("2025-03-19"), &f), BBT_OK);
    assert_int_equal(f.orig_date, D("2025-03-17"));
    assert_int_equal(bbt_recur_find(&t, "mon", D("2025-03-17"), &f), BBT_ENOTFOUND);
    assert_int_equal(bbt_recur_find(&t, "nope", D("2025-03-17"), &f), BBT_ENOTFOUND);
    /* two lessons moved onto one day: both, in time order */
    fx_move(&t, "mon", "2025-03-31", "2025-03-19", "08:00", "08:40");
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    si = bbt_tt_find_session(&t, "mon");
    assert_int_equal(bbt_recur_session_day(&t, si, D("2025-03-19"), o, 4), 2);
    assert_int_equal(o[0].start_min, 8 * 60);
    assert_int_equal(o[1].start_min, 14 * 60);
    bbt_tt_free(&t);
}

static void test_week_boundaries(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "sun", "src-1", "rcv-1", 7, "19:00", "19:40", "2025-03-02", "2025-03-16", 0);
    fx_session(&t, "mon", "src-1", "rcv-1", 1, "08:00", "08:40", "2025-03-02", "2025-03-16", 0);
    fx_session(&t, "one", "src-2", "rcv-1", 0, "07:00", "07:40", "2025-03-03", NULL, 0);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    assert_int_equal(status_on(&t, "sun", "2025-03-02"), BBT_OCC_ON); /* term starts Sunday */
    assert_int_equal(status_on(&t, "sun", "2025-03-16"), BBT_OCC_ON); /* and ends Sunday */
    int ci = bbt_tt_find_classroom(&t, "rcv-1");
    bbt_occ o[8];
    assert_int_equal(bbt_recur_classroom_day(&t, ci, D("2025-03-02"), o, 8), 1);
    assert_int_equal(bbt_recur_classroom_day(&t, ci, D("2025-03-03"), o, 8), 2);
    assert_string_equal(t.sessions[o[0].session].id, "one"); /* sorted by start */
    assert_string_equal(t.sessions[o[1].session].id, "mon");
    assert_int_equal(o[0].role, BBT_CR_RECEIVER);
    int src = bbt_tt_find_classroom(&t, "src-1");
    assert_int_equal(bbt_recur_classroom_day(&t, src, D("2025-03-09"), o, 8), 1);
    assert_int_equal(o[0].role, BBT_CR_SOURCE);
    assert_int_equal(bbt_recur_classroom_day(&t, src, D("2025-03-17"), o, 8), 0);
    bbt_tt_free(&t);
}

static void test_zones_across_midnight(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_classroom(&t, "xj-1", BBT_CR_RECEIVER, "Asia/Urumqi");
    fx_session(&t, "early", "src-1", "xj-1", 2, "00:30", "01:10", "2025-03-03", "2025-03-31", 0);
    fx_session(&t, "ten", "src-1", "xj-1", 2, "10:00", "10:40", "2025-03-03", "2025-03-31", 0);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    int ci = bbt_tt_find_classroom(&t, "xj-1");
    bbt_occ o[8];
    /* Tuesday 00:30 in Shanghai is Monday 22:30 in Urumqi */
    assert_int_equal(bbt_recur_classroom_day(&t, ci, D("2025-03-03"), o, 8), 1);
    assert_string_equal(t.sessions[o[0].session].id, "early");
    assert_int_equal(bbt_recur_classroom_day(&t, ci, D("2025-03-04"), o, 8), 1);
    int min;
    bbt_us_to_local(o[0].start_us, 360, NULL, &min, NULL);
    assert_int_equal(min, 8 * 60); /* 10:00 Shanghai is 08:00 Urumqi */
    bbt_tt_free(&t);
}

static void test_next_and_ids(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "music.p3", "src-1", "rcv-1", 1, "10:00", "10:40", "2025-03-03",
               "2025-07-04", 0);
    fx_holiday(&t, "h", "假", "2025-03-10", "2025-03-16");
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    int ci = bbt_tt_find_classroom(&t, "rcv-1");
    bbt_occ o;
    int64_t at = bbt_local_to_us(D("2025-03-03"), 9 * 60, 480);
    assert_int_equal(bbt_recur_next(&t, ci, at, 30, &o), BBT_OK);
    assert_int_equal(o.date, D("2025-03-03"));
    at = bbt_local_to_us(D("2025-03-03"), 10 * 60 + 1, 480); /* started: the next one */
    assert_int_equal(bbt_recur_next(&t, ci, at, 30, &o), BBT_OK);
    assert_int_equal(o.date, D("2025-03-17")); /* the 10th is a holiday */
    char id[BBT_OCC_ID_MAX + 1], sess[BBT_TT_SESSION_ID_MAX + 1];
    assert_string_equal(bbt_occ_id(&t, &o, id), "2025-03-17.music.p3");
    bbt_day d;
    assert_int_equal(bbt_occ_id_parse(id, &d, sess), BBT_OK);
    assert_int_equal(d, D("2025-03-17"));
    assert_string_equal(sess, "music.p3");
    assert_int_equal(bbt_occ_id_parse("2025-03-17music", &d, sess), BBT_EINVAL);
    assert_int_equal(bbt_occ_id_parse("2025-02-30.x", &d, sess), BBT_EINVAL);
    assert_int_equal(bbt_occ_id_parse("2025-03-17.a b", &d, sess), BBT_EINVAL);
    at = bbt_local_to_us(D("2025-07-05"), 0, 480);
    assert_int_equal(bbt_recur_next(&t, ci, at, 400, &o), BBT_ENOTFOUND);
    bbt_tt_free(&t);
}

static void count_all(const bbt_occ *o, void *ud)
{
    (void)o;
    (*(int *)ud)++;
}

static void test_day_all_and_clone(void **state)
{
    (void)state;
    bbt_timetable t, c;
    fx_county(&t);
    fx_session(&t, "a", "src-1", "rcv-1", 1, "10:00", "10:40", "2025-03-03", "2025-07-04", 0);
    fx_session(&t, "b", "src-2", "rcv-2;rcv-3", 1, "10:00", "10:40", "2025-03-03",
               "2025-07-04", 0);
    fx_move(&t, "a", "2025-03-03", "2025-03-04", "10:00", "10:40");
    assert_int_equal(bbt_tt_clone(&t, &c), BBT_OK);
    assert_int_equal(bbt_tt_index(&c), BBT_OK);
    int n = 0;
    bbt_recur_day_all(&c, D("2025-03-03"), count_all, &n);
    assert_int_equal(n, 2); /* b, and a (moved away) */
    n = 0;
    bbt_recur_day_all(&c, D("2025-03-04"), count_all, &n);
    assert_int_equal(n, 1);
    int bi = bbt_tt_find_session(&c, "b");
    assert_int_equal(c.sessions[bi].nreceivers, 2);
    assert_string_equal(c.sessions[bi].receivers[1], "rcv-3");
    assert_true(bbt_tt_index(&t) == BBT_OK &&
                bbt_tt_session_equal(&t.sessions[bbt_tt_find_session(&t, "b")], &c.sessions[bi]));
    bbt_tt_remove(&c, 'S', (size_t)bi);
    assert_int_equal(bbt_tt_index(&c), BBT_OK);
    assert_int_equal(bbt_tt_find_session(&c, "b"), -1);
    size_t np;
    bbt_tt_parts(&c, bbt_tt_find_classroom(&c, "rcv-2"), &np);
    assert_int_equal(np, 0);
    bbt_tt_free(&c);
    bbt_tt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),         cmocka_unit_test(test_zones),
        cmocka_unit_test(test_term_days),        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_exceptions),       cmocka_unit_test(test_week_boundaries),
        cmocka_unit_test(test_zones_across_midnight), cmocka_unit_test(test_next_and_ids),
        cmocka_unit_test(test_day_all_and_clone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
