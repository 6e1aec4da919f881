/* tests/relay/schedule/test_groups.c — relay/schedule/groups.c: education groups as a warning.
 * A session pairing its source's school with receivers of its group for the term is fine; a
 * receiver school outside the group, a term the group does not cover (groups rotate by term),
 * a source school with no group — each one warning with its exact English and Chinese text
 * and the session's CSV line; no groups at all, or the source's own school: nothing. Also
 * through the CSV import (the line numbers of the file; the import is not refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "relay/schedule/groups.h"
#include "relay/schedule/import.h"
#include "tt_fixture.h"

#define SPRING "2025-02-17", "2025-07-04"
#define AUTUMN "2025-09-01", "2026-01-16"

static void classroom(bbt_timetable *t, const char *id, const char *school, int role)
{
    bbt_classroom c = {.name = (char *)id, .role = role};
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.school, sizeof c.school, "%s", school);
    snprintf(c.tz, sizeof c.tz, "%s", BBT_DEFAULT_TZ);
    assert_int_equal(bbt_tt_add_classroom(t, &c), BBT_OK);
}

static void group(bbt_timetable *t, const char *id, const char *strong, const char *weak1,
                  const char *weak2, const char *from, const char *to)
{
    char weak[2][BBT_ID_MAX + 1];
    bbt_group g = {.name = (char *)id, .weak = weak, .term_start = D(from), .term_end = D(to)};
    snprintf(g.id, sizeof g.id, "%s", id);
    snprintf(g.strong, sizeof g.strong, "%s", strong);
    snprintf(weak[g.nweak++], BBT_ID_MAX + 1, "%s", weak1);
    if (weak2)
        snprintf(weak[g.nweak++], BBT_ID_MAX + 1, "%s", weak2);
    assert_int_equal(bbt_tt_add_group(t, &g), BBT_OK);
}

/* Strong schools city-a (classrooms a-1, a-2) and city-b (b-1); village schools v1 (v1-1),
 * v2 (v2-1), v3 (v3-1). Spring: city-a with v1 and v2; city-b with v3. Autumn: city-a with v3. */
static void county(bbt_timetable *t, bool groups)
{
    bbt_tt_init(t);
    const char *schools[] = {"city-a", "city-b", "v1", "v2", "v3"};
    for (size_t i = 0; i < 5; i++)
        fx_school(t, schools[i]);
    classroom(t, "a-1", "city-a", BBT_CR_SOURCE);
    classroom(t, "a-2", "city-a", BBT_CR_BOTH);
    classroom(t, "b-1", "city-b", BBT_CR_SOURCE);
    classroom(t, "v1-1", "v1", BBT_CR_RECEIVER);
    classroom(t, "v2-1", "v2", BBT_CR_RECEIVER);
    classroom(t, "v3-1", "v3", BBT_CR_RECEIVER);
    if (groups) {
        group(t, "a-spring", "city-a", "v1", "v2", SPRING);
        group(t, "b-spring", "city-b", "v3", NULL, SPRING);
        group(t, "a-autumn", "city-a", "v3", NULL, AUTUMN);
    }
}

/* Warnings for session `s` (added to t): exactly `want` (English, NULL-terminated). */
static bbt_problems check(bbt_timetable *t, bbt_tt_session s, const char *const *want)
{
    assert_int_equal(bbt_tt_add_session(t, &s), BBT_OK);
    assert_int_equal(bbt_tt_index(t), BBT_OK);
    bbt_problems w;
    bbt_problems_init(&w);
    int si = bbt_tt_find_session(t, s.id);
    size_t n = bbt_groups_check_session(t, &t->sessions[si], &w), k = 0;
    while (want[k])
        k++;
    for (size_t i = 0; i < w.n; i++)
        if (i >= k || strcmp(w.v[i].en, want[i]) != 0)
            fail_msg("warning %zu: %s\n want: %s", i, w.v[i].en, i < k ? want[i] : "(none)");
    assert_int_equal(n, k);
    assert_int_equal(w.n, k);
    return w;
}

static void test_paired_no_warning(void **state)
{
    (void)state;
    bbt_timetable t;
    county(&t, true);
    const char *none[] = {NULL};
    bbt_problems w = check(&t, fx_make("m", "a-1", "v1-1;v2-1;a-2", 1, "10:00", "10:40", SPRING, 2),
                           none);
    bbt_problems_free(&w);
    w = check(&t, fx_make("o", "a-1", "v3-1", 0, "10:00", "10:40", "2025-10-08", NULL, 3), none);
    bbt_problems_free(&w); /* one-off in the autumn: the autumn pairing */
    bbt_tt_free(&t);
}

static void test_outside_group(void **state)
{
    (void)state;
    bbt_timetable t;
    county(&t, true);
    const char *want[] = {"session \"m\": receiving classroom \"v3-1\" (school \"v3\") is not in "
                          "education group \"a-spring\" of school \"city-a\" "
                          "(2025-02-17..2025-07-04)",
                          NULL};
    bbt_problems w = check(&t, fx_make("m", "a-1", "v1-1;v3-1", 1, "10:00", "10:40", SPRING, 7),
                           want);
    assert_int_equal(w.v[0].line, 7);
    assert_string_equal(w.v[0].zh, "课程 \"m\"：听课教室 \"v3-1\"（学校 \"v3\"）不在学校 \"city-a\" "
                                   "的教育集团 \"a-spring\"（2025-02-17 至 2025-07-04）中");
    bbt_problems_free(&w);
    bbt_tt_free(&t);
}

static void test_term_rotation(void **state)
{
    (void)state;
    bbt_timetable t;
    county(&t, true);
    /* v1 is city-a's partner in the spring only: an autumn lesson with v1 is outside */
    const char *want[] = {"session \"aut\": receiving classroom \"v1-1\" (school \"v1\") is not in "
                          "education group \"a-autumn\" of school \"city-a\" "
                          "(2025-09-01..2026-01-16)",
                          NULL};
    bbt_problems w = check(&t, fx_make("aut", "a-1", "v1-1", 3, "09:00", "09:40", AUTUMN, 4), want);
    bbt_problems_free(&w);
    /* a session across both terms is covered by neither pairing */
    const char *want2[] = {"session \"year\": school \"city-b\" of the source leads no education "
                           "group for 2025-02-17..2026-01-16, so receiving classroom \"v3-1\" "
                           "(school \"v3\") is paired with it outside any group",
                           NULL};
    w = check(&t, fx_make("year", "b-1", "v3-1", 2, "09:00", "09:40", "2025-02-17", "2026-01-16", 5),
              want2);
    assert_string_equal(w.v[0].zh, "课程 \"year\"：主讲学校 \"city-b\" 在 2025-02-17 至 2026-01-16 "
                                   "没有教育集团，听课教室 \"v3-1\"（学校 \"v3\"）与它的结对不属于任何"
                                   "教育集团");
    bbt_problems_free(&w);
    bbt_tt_free(&t);
}

static void test_no_groups_or_unknown(void **state)
{
    (void)state;
    bbt_timetable t;
    const char *none[] = {NULL};
    county(&t, false); /* a county without groups: nothing is checked */
    bbt_problems w = check(&t, fx_make("m", "a-1", "v3-1", 1, "10:00", "10:40", SPRING, 2), none);
    bbt_problems_free(&w);
    bbt_tt_free(&t);
    county(&t, true); /* unknown classrooms are conflict.c's errors, not warnings */
    w = check(&t, fx_make("u", "a-1", "zz-9", 1, "10:00", "10:40", SPRING, 2), none);
    bbt_problems_free(&w);
    w = check(&t, fx_make("u2", "zz-src", "v3-1", 1, "11:00", "11:40", SPRING, 3), none);
    bbt_problems_free(&w);
    bbt_tt_free(&t);
}

/* Through the CSV import: each warning with its line in the file, the import goes ahead. */
static void test_import_lines(void **state)
{
    (void)state;
    bbt_timetable t, merged;
    county(&t, true);
    assert_int_equal(bbt_tt_index(&t), BBT_OK);
    const char *csv = "课程编号,主讲教室,听课教室,星期,开始,结束,学期开始,学期结束\n"
                      "ok,a-1,v1-1;v2-1,周一,10:00,10:40,2025-02-17,2025-07-04\n"
                      "cross,b-1,v3-1;v1-1,周二,10:00,10:40,2025-02-17,2025-07-04\n";
    bbt_import_result r;
    bbt_import_result_init(&r);
    assert_int_equal(bbt_import_csv(&t, csv, strlen(csv), &merged, &r), BBT_OK);
    bbt_problems w;
    bbt_problems_init(&w);
    for (size_t i = 0; i < r.nchanges; i++) {
        int si = bbt_tt_find_session(&merged, r.changes[i].session);
        assert_true(si >= 0);
        bbt_groups_check_session(&merged, &merged.sessions[si], &w);
    }
    assert_int_equal(w.n, 1);
    assert_int_equal(w.v[0].line, 3);
    assert_string_equal(w.v[0].en, "session \"cross\": receiving classroom \"v1-1\" (school \"v1\") "
                                   "is not in education group \"b-spring\" of school \"city-b\" "
                                   "(2025-02-17..2025-07-04)");
    bbt_problems_free(&w);
    bbt_import_result_free(&r);
    bbt_tt_free(&merged);
    bbt_tt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paired_no_warning),
        cmocka_unit_test(test_outside_group),
        cmocka_unit_test(test_term_rotation),
        cmocka_unit_test(test_no_groups_or_unknown),
        cmocka_unit_test(test_import_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
