/* tests/relay/schedule/test_conflict.c — relay/schedule/conflict.c: every rule, with its exact
 * English text (and the Chinese one for some), its CSV line, and the cases that must NOT be
 * reported (different terms, holidays, cancelled or moved lessons, back-to-back periods). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "relay/schedule/conflict.h"
#include "tt_fixture.h"

#define TERM "2025-03-03", "2025-07-04"

/* Check t and expect exactly the texts given (NULL-terminated), in order. */
static void expect(bbt_timetable *t, const char *const *want)
{
    bbt_problems p;
    bbt_problems_init(&p);
    assert_int_equal(bbt_tt_index(t), BBT_OK);
    int rc = bbt_conflict_check(t, &p);
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < p.n; i++)
        if (i >= n || strcmp(p.v[i].en, want[i]) != 0)
            fail_msg("problem %zu: %s\n want: %s", i, p.v[i].en, i < n ? want[i] : "(none)");
    assert_int_equal(p.n, n);
    assert_int_equal(rc, n ? BBT_ECONFLICT : BBT_OK);
    bbt_problems_free(&p);
    bbt_tt_free(t);
}

static void test_session_rules(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "ok", "src-1", "rcv-1;rcv-2", 1, "08:00", "08:40", TERM, 2);
    fx_session(&t, "nosrc", "src-9", "rcv-1", 2, "08:00", "08:40", TERM, 3);
    fx_session(&t, "norcv", "src-1", "rcv-9", 3, "08:00", "08:40", TERM, 4);
    fx_session(&t, "self", "src-1", "src-1", 4, "08:00", "08:40", TERM, 5);
    fx_session(&t, "twice", "src-2", "rcv-1;rcv-1", 5, "08:00", "08:40", TERM, 6);
    fx_session(&t, "rolesrc", "rcv-3", "rcv-2", 6, "08:00", "08:40", TERM, 7);
    fx_session(&t, "rolercv", "src-2", "src-1", 1, "09:00", "09:40", TERM, 8);
    fx_session(&t, "times", "src-2", "rcv-3", 2, "10:40", "10:00", TERM, 9);
    fx_session(&t, "same", "src-2", "rcv-3", 2, "11:00", "11:00", TERM, 10);
    fx_session(&t, "term", "src-2", "rcv-3", 3, "10:00", "10:40", "2025-07-04", "2025-03-03", 11);
    fx_session(&t, "noday", "src-2", "rcv-3", 7, "10:00", "10:40", "2025-03-03", "2025-03-08",
               12);
    fx_session(&t, "empty", "both-1", "", 1, "10:00", "10:40", TERM, 13);
    static const char *const want[] = {
        "session \"nosrc\": unknown source classroom \"src-9\"",
        "session \"norcv\": unknown receiving classroom \"rcv-9\"",
        "session \"self\": classroom \"src-1\" is both the source and a receiver",
        "session \"twice\": receiving classroom \"rcv-1\" is listed twice",
        "session \"rolesrc\": classroom \"rcv-3\" is a receiving classroom and cannot be the "
        "source",
        "session \"rolercv\": classroom \"src-1\" is a source classroom and cannot receive",
        "session \"times\": ends at 10:00, not after it starts (10:40)",
        "session \"same\": ends at 11:00, not after it starts (11:00)",
        "session \"term\": the term ends (2025-03-03) before it starts (2025-07-04)",
        "session \"noday\": no Sun between 2025-03-03 and 2025-03-08",
        "session \"empty\": no receiving classroom",
        NULL};
    expect(&t, want);
}

static void test_lines_and_chinese(void **state)
{
    (void)state;
    bbt_timetable t;
    bbt_problems p;
    fx_county(&t);
    fx_session(&t, "a", "src-1", "rcv-9", 1, "10:40", "10:00", TERM, 7);
    bbt_problems_init(&p);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    assert_int_equal(bbt_conflict_check(&t, &p), BBT_ECONFLICT);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.v[0].line, 7);
    assert_string_equal(p.v[0].zh, "课程 \"a\"：听课教室 \"rcv-9\" 不存在");
    assert_string_equal(p.v[1].zh, "课程 \"a\"：结束时间 10:00 不晚于开始时间 10:40");
    bbt_problems_free(&p);
    bbt_tt_free(&t);
}

static void test_at_once(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "music", "src-1", "rcv-1;rcv-2", 1, "10:00", "10:40", TERM, 2);
    fx_session(&t, "art", "src-2", "rcv-2;rcv-3", 1, "10:20", "11:00", TERM, 3);
    fx_session(&t, "maths", "src-1", "rcv-3", 1, "10:30", "11:10", TERM, 4);
    static const char *const want[] = {
        "classroom \"rcv-2\" is in two sessions at once on Mon 2025-03-03: \"music\" 10:00-10:40 "
        "and \"art\" 10:20-11:00",
        "classroom \"rcv-3\" is in two sessions at once on Mon 2025-03-03: \"art\" 10:20-11:00 "
        "and \"maths\" 10:30-11:10",
        "source classroom \"src-1\" would broadcast two sessions at once on Mon 2025-03-03: "
        "\"music\" 10:00-10:40 and \"maths\" 10:30-11:10",
        NULL};
    expect(&t, want);
}

static void test_at_once_chinese_and_line(void **state)
{
    (void)state;
    bbt_timetable t;
    bbt_problems p;
    fx_county(&t);
    fx_session(&t, "art", "src-2", "rcv-1", 3, "10:20", "11:00", TERM, 9);
    fx_session(&t, "music", "src-1", "rcv-1", 3, "10:00", "10:40", TERM, 4);
    bbt_problems_init(&p);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    assert_int_equal(bbt_conflict_check(&t, &p), BBT_ECONFLICT);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.v[0].line, 9); /* the later line; the earlier session named first */
    assert_string_equal(p.v[0].zh, "教室 \"rcv-1\" 在 2025-03-05（周三）同时有两节课：\"music\" "
                                   "10:00-10:40 与 \"art\" 10:20-11:00");
    bbt_problems_free(&p);
    bbt_tt_free(&t);
}

static void test_not_at_once(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    /* back to back */
    fx_session(&t, "p1", "src-1", "rcv-1", 1, "08:00", "08:40", TERM, 0);
    fx_session(&t, "p2", "src-1", "rcv-1", 1, "08:40", "09:20", TERM, 0);
    /* same time, different terms (pairings rotate by term) */
    fx_session(&t, "t1", "src-2", "rcv-2", 2, "08:00", "08:40", "2025-03-03", "2025-07-04", 0);
    fx_session(&t, "t2", "src-2", "rcv-2", 2, "08:00", "08:40", "2025-09-01", "2026-01-16", 0);
    /* same time, other weekday */
    fx_session(&t, "w3", "src-2", "rcv-3", 3, "08:00", "08:40", TERM, 0);
    fx_session(&t, "w4", "src-2", "rcv-3", 4, "08:00", "08:40", TERM, 0);
    /* a one-off on a day the weekly lesson is cancelled (a substitute lesson) */
    fx_session(&t, "sub", "both-1", "rcv-1", 0, "08:00", "08:40", "2025-03-10", NULL, 0);
    fx_cancel(&t, "p1", "2025-03-10");
    /* a one-off on a holiday that covers the weekly lesson too */
    fx_holiday(&t, "h", "清明节", "2025-04-07", "2025-04-07");
    fx_session(&t, "hol", "both-1", "rcv-1", 0, "08:20", "09:00", "2025-04-07", NULL, 0);
    static const char *const none[] = {NULL};
    expect(&t, none);
}

static void test_one_off_and_moves(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "mon", "src-1", "rcv-1", 1, "10:00", "10:40", TERM, 0);
    fx_session(&t, "wed", "src-2", "rcv-1", 3, "14:00", "14:40", TERM, 0);
    fx_session(&t, "one", "src-2", "rcv-1", 0, "10:30", "11:00", "2025-03-17", NULL, 5);
    fx_move(&t, "mon", "2025-03-24", "2025-03-26", "14:20", "15:00"); /* onto wed's lesson */
    static const char *const want[] = {
        "classroom \"rcv-1\" is in two sessions at once on Wed 2025-03-26: \"mon\" 14:20-15:00 "
        "and \"wed\" 14:00-14:40",
        "classroom \"rcv-1\" is in two sessions at once on Mon 2025-03-17: \"mon\" 10:00-10:40 "
        "and \"one\" 10:30-11:00",
        NULL};
    expect(&t, want);
}

static void test_exception_rules(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "mon", "src-1", "rcv-1", 1, "10:00", "10:40", TERM, 0);
    fx_holiday(&t, "nd", "国庆节", "2025-10-01", "2025-10-07");
    fx_holiday(&t, "ld", "劳动节", "2025-05-01", "2025-05-05");
    /* stale and impossible exceptions in the timetable block nothing (recurrence ignores them) */
    fx_cancel(&t, "mon", "2025-03-11");
    fx_move(&t, "mon", "2025-03-24", "2025-05-02", "10:00", "10:40");
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    bbt_problems p;
    bbt_problems_init(&p);
    assert_int_equal(bbt_conflict_check(&t, &p), BBT_OK);
    /* each new one is checked on its own */
    static const struct {
        const char *session, *date, *to, *start, *end, *want;
    } cases[] = {
        {"mon", "2025-03-11", NULL, NULL, NULL,
         "\"mon\" has no lesson on 2025-03-11 to cancel or move"},
        {"gone", "2025-03-10", NULL, NULL, NULL,
         "\"gone\" has no lesson on 2025-03-10 to cancel or move"},
        {"mon", "2025-03-17", "2025-05-02", "10:00", "10:40",
         "cannot move \"mon\" from 2025-03-17 to 2025-05-02: that day is a holiday (劳动节)"},
        {"mon", "2025-03-24", "2025-07-07", "10:00", "10:40",
         "cannot move \"mon\" from 2025-03-24 to 2025-07-07: outside its term "
         "2025-03-03..2025-07-04"},
        {"mon", "2025-03-31", "2025-04-01", "10:40", "10:00",
         "cannot move \"mon\" from 2025-03-31 to 2025-04-01: ends at 10:00, not after it starts "
         "(10:40)"},
        {"mon", "2025-05-05", "2025-05-10", "10:00", "10:40", NULL}, /* make-up: fine */
        {"mon", "2025-03-10", NULL, NULL, NULL, NULL},                  /* a cancel: fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bbt_exception e = {.date = D(cases[i].date), .reason = (char *)"",
                           .kind = cases[i].to ? BBT_EXC_MOVE : BBT_EXC_CANCEL,
                           .to = cases[i].to ? D(cases[i].to) : BBT_DAY_NONE,
                           .start_min = cases[i].start ? HM(cases[i].start) : 0,
                           .end_min = cases[i].end ? HM(cases[i].end) : 0};
        snprintf(e.session, sizeof e.session, "%s", cases[i].session);
        int rc = bbt_conflict_check_exception(&t, &e, &p);
        assert_int_equal(rc, cases[i].want ? BBT_ECONFLICT : BBT_OK);
        if (cases[i].want)
            assert_string_equal(p.v[p.n - 1].en, cases[i].want);
    }
    assert_int_equal(p.n, 5);
    assert_string_equal(p.v[2].zh, "无法将课程 \"mon\" 从 2025-03-17 调到 2025-05-02：当天是假期（劳动节）");
    bbt_problems_free(&p);
    bbt_tt_free(&t);
}

static void test_zones_at_once(void **state)
{
    (void)state;
    bbt_timetable t;
    fx_county(&t);
    fx_classroom(&t, "xj-src", BBT_CR_SOURCE, "Asia/Urumqi");
    /* 08:00 in Urumqi is 10:00 in Shanghai */
    fx_session(&t, "sh", "src-1", "rcv-1", 1, "10:00", "10:40", TERM, 0);
    fx_session(&t, "xj", "xj-src", "rcv-1", 1, "08:20", "09:00", TERM, 0);
    static const char *const want[] = {
        "classroom \"rcv-1\" is in two sessions at once on Mon 2025-03-03: \"sh\" 10:00-10:40 "
        "and \"xj\" 10:20-11:00",
        NULL};
    expect(&t, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_rules),   cmocka_unit_test(test_lines_and_chinese),
        cmocka_unit_test(test_at_once),         cmocka_unit_test(test_at_once_chinese_and_line),
        cmocka_unit_test(test_not_at_once),     cmocka_unit_test(test_one_off_and_moves),
        cmocka_unit_test(test_exception_rules), cmocka_unit_test(test_zones_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
