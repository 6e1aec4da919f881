/* tests/relay/schedule/test_csv.c — relay/schedule/csv.c (the RFC 4180 reader) and import.c
 * (rows to sessions, merge, check): good files in Chinese and English, and every refusal with
 * its EXACT text and line — encoding, syntax, missing columns, bad cells, duplicate rows,
 * unknown classrooms, conflicts — and the rule that nothing is merged when any row is bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "relay/schedule/csv.h"
#include "relay/schedule/import.h"
#include "relay/schedule/recur.h"
#include "tt_fixture.h"

static bbt_csv parse_ok(const char *text, size_t len)
{
    bbt_csv c;
    bbt_problems p;
    bbt_problems_init(&p);
    int rc = bbt_csv_parse(text, len, &c, &p);
    if (rc != BBT_OK)
        fail_msg("parse: %s", p.n ? p.v[0].en : "?");
    bbt_problems_free(&p);
    return c;
}

static void parse_bad(const char *text, size_t len, int line, const char *en, const char *zh)
{
    bbt_csv c;
    bbt_problems p;
    bbt_problems_init(&p);
    assert_int_equal(bbt_csv_parse(text, len, &c, &p), BBT_ECSV);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.v[0].en, en);
    if (zh)
        assert_string_equal(p.v[0].zh, zh);
    assert_int_equal(p.v[0].line, line);
    assert_null(c.rows);
    bbt_problems_free(&p);
}

static void test_reader(void **state)
{
    (void)state;
    const char t[] = "\xef\xbb\xbf" "a,\"b,1\",\"say \"\"hi\"\"\"\r\n\r\n"
                     "\"multi\r\nline\",x\n,\n\"\"\rlast";
    bbt_csv c = parse_ok(t, sizeof t - 1);
    assert_int_equal(c.nrows, 4);
    assert_int_equal(c.rows[0].line, 1);
    assert_int_equal(c.rows[0].nfields, 3);
    assert_string_equal(c.rows[0].fields[0], "a"); /* BOM skipped */
    assert_string_equal(c.rows[0].fields[1], "b,1");
    assert_string_equal(c.rows[0].fields[2], "say \"hi\"");
    assert_int_equal(c.rows[1].line, 3); /* the blank line 2 is skipped */
    assert_string_equal(c.rows[1].fields[0], "multi\r\nline");
    assert_int_equal(c.rows[2].line, 5);
    assert_int_equal(c.rows[2].nfields, 2); /* "," is two empty fields */
    assert_int_equal(c.rows[3].line, 7);   /* "" then a lone CR: an empty row, skipped */
    assert_string_equal(c.rows[3].fields[0], "last");
    bbt_csv_free(&c);
    c = parse_ok("", 0);
    assert_int_equal(c.nrows, 0);
    bbt_csv_free(&c);
}

static void test_reader_refusals(void **state)
{
    (void)state;
    parse_bad("a,b\nc,\xb2\xe2\xca\xd4\n", 10, 2,
              "not valid UTF-8 (a GBK file?): save the spreadsheet as \"CSV UTF-8 (comma "
              "delimited)\"",
              "不是有效的 UTF-8 编码（可能是 GBK 文件）：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”");
    parse_bad("a\r\nb\r\n\xed\xa0\x80", 9, 3,
              "not valid UTF-8 (a GBK file?): save the spreadsheet as \"CSV UTF-8 (comma "
              "delimited)\"", NULL); /* a surrogate */
    parse_bad("a\nb\0c\n", 6, 2, "contains a NUL byte: this is not a text (CSV) file", NULL);
    parse_bad("a,b\nc,d\"e\n", 10, 2,
              "a double quote inside an unquoted field (put the field in quotes and double the "
              "quote)", NULL);
    parse_bad("a\n\"b\"c,d\n", 9, 2,
              "unexpected text after a closing double quote (a comma or a line end must follow "
              "it)", NULL);
    parse_bad("a\nb,\"c\nd\ne", 10, 2, "a quoted field is not closed (a double quote is missing)",
              "引号中的字段没有结束（缺少右引号）");
    char many[200] = "";
    for (int i = 0; i < 65; i++)
        strcat(many, "x,");
    many[strlen(many) - 1] = '\n';
    parse_bad(many, strlen(many), 1, "more than 64 fields in one record", NULL);
    static char big[5000];
    memset(big, 'x', 4097);
    parse_bad(big, 4097, 1, "a field is longer than 4096 bytes", NULL);
}

/* ---- import ------------------------------------------------------------------------------ */

#define HEAD_ZH "课程编号,标题,学科,教师,主讲教室,听课教室,星期,开始,结束,学期开始,学期结束,日期\n"
#define HEAD_EN "session,title,subject,teacher,source,receivers,weekday,start,end,term_start,term_end,date\n"

struct imp {
    bbt_timetable t, m;
    bbt_import_result r;
    int rc;
};

static void import(struct imp *x, const char *csv)
{
    fx_county(&x->t);
    fx_session(&x->t, "old", "src-2", "rcv-3", 5, "08:00", "08:40", "2025-03-03", "2025-07-04", 0);
    fx_holiday(&x->t, "qm", "清明节", "2025-04-04", "2025-04-06");
    assert_int_equal(bbt_tt_index(&x->t), BBT_OK);
    bbt_import_result_init(&x->r);
    x->rc = bbt_import_csv(&x->t, csv, strlen(csv), &x->m, &x->r);
}

static void done(struct imp *x)
{
    bbt_tt_free(&x->t);
    bbt_tt_free(&x->m);
    bbt_import_result_free(&x->r);
}

/* The problems "LINE: TEXT" joined by '\n'. */
static void expect_problems(struct imp *x, int rc, const char *want)
{
    char got[8192] = "";
    for (size_t i = 0; i < x->r.problems.n; i++) {
        char l[700];
        snprintf(l, sizeof l, "%s%d: %s", i ? "\n" : "", x->r.problems.v[i].line,
                 x->r.problems.v[i].en);
        strncat(got, l, sizeof got - strlen(got) - 1);
    }
    if (strcmp(got, want) != 0)
        fail_msg("problems:\n%s\nwant:\n%s", got, want);
    assert_int_equal(x->rc, rc);
    assert_int_equal(x->m.nsessions, 0); /* nothing merged */
    done(x);
}

static void test_import_chinese(void **state)
{
    (void)state;
    struct imp x;
    import(&x, "\xef\xbb\xbf" HEAD_ZH
               "music-3,音乐：茉莉花,音乐,王老师,src-1,rcv-1;rcv-2,周一,10:00,10:40,2025-03-03,2025-07-04,\r\n"
               "art-5,\"美术：水墨小鸡\",美术,李老师,src-2,rcv-1、rcv-3,星期三,14:00,14:40,2025/3/3,2025-07-04,\r\n"
               "open-1,公开课,英语,张老师,src-1,rcv-3；rcv-2,,9：00,9:40,,,2025/4/10\r\n"
               "old,,,,src-2,rcv-3,5,08:00,08:40,2025-03-03,2025-07-04,\r\n");
    if (x.rc != BBT_OK)
        fail_msg("%s", x.r.problems.n ? x.r.problems.v[0].en : "?");
    assert_int_equal(x.r.rows, 4);
    assert_int_equal(x.r.added, 3);
    assert_int_equal(x.r.unchanged, 1);
    assert_int_equal(x.r.changed, 0);
    assert_int_equal(x.r.changes[0].kind, BBT_CHANGE_ADD);
    assert_int_equal(x.r.changes[0].line, 2);
    assert_int_equal(x.r.changes[3].kind, BBT_CHANGE_SAME);
    int si = bbt_tt_find_session(&x.m, "art-5");
    const bbt_tt_session *s = &x.m.sessions[si];
    assert_string_equal(s->title, "美术：水墨小鸡");
    assert_int_equal(s->weekday, 3);
    assert_int_equal(s->nreceivers, 2);
    assert_string_equal(s->receivers[1], "rcv-3");
    s = &x.m.sessions[bbt_tt_find_session(&x.m, "open-1")];
    assert_int_equal(s->weekday, 0);
    assert_int_equal(s->date, D("2025-04-10"));
    assert_int_equal(s->start_min, 9 * 60);
    assert_string_equal(s->receivers[0], "rcv-3");
    assert_string_equal(s->receivers[1], "rcv-2");
    done(&x);
}

static void test_import_english_and_changes(void **state)
{
    (void)state;
    struct imp x;
    import(&x, "Session / 课程编号,Source,Receivers,Weekday,Start,End,Term_Start,Term_End,备注\n"
               "old,src-2,rcv-3,Friday,09:00,09:40,2025-03-03,2025-07-04,改时间\n"
               "new,src-1,rcv-1,sun,8:00,8:40,2025-03-03,2025-07-04,\n");
    assert_int_equal(x.rc, BBT_OK);
    assert_int_equal(x.r.changed, 1);
    assert_int_equal(x.r.added, 1);
    assert_int_equal(x.r.notes.n, 1);
    assert_string_equal(x.r.notes.v[0].en, "column \"备注\" is not known and is ignored");
    assert_int_equal(x.m.sessions[bbt_tt_find_session(&x.m, "old")].start_min, 9 * 60);
    done(&x);
}

static void test_import_encoding_errors(void **state)
{
    (void)state;
    struct imp x;
    import(&x, HEAD_EN "m1,t,s,t,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,\n"
               "m2,\xd2\xf4\xc0\xd6,s,t,src-1,rcv-1,2,10:00,10:40,2025-03-03,2025-07-04,\n");
    expect_problems(&x, BBT_ECSV,
                    "3: not valid UTF-8 (a GBK file?): save the spreadsheet as \"CSV UTF-8 "
                    "(comma delimited)\"");
    import(&x, "");
    expect_problems(&x, BBT_ECSV, "1: the file is empty");
    import(&x, HEAD_ZH "\n\n");
    expect_problems(&x, BBT_ECSV, "1: the file has a header but no lessons");
}

static void test_import_missing_columns(void **state)
{
    (void)state;
    struct imp x;
    import(&x, "标题,教师,开始,开始\n音乐,王,10:00,10:00\n");
    expect_problems(&x, BBT_ECSV,
                    "1: column \"开始/start\" appears twice\n"
                    "1: missing column \"课程编号/session\"\n"
                    "1: missing column \"主讲教室/source\"\n"
                    "1: missing column \"听课教室/receivers\"\n"
                    "1: missing column \"结束/end\"\n"
                    "1: missing column \"星期/weekday\" (weekly lessons) or \"日期/date\" "
                    "(one-off lessons)");
    import(&x, "session,source,receivers,weekday,start,end\nm,src-1,rcv-1,1,10:00,10:40\n");
    expect_problems(&x, BBT_ECSV,
                    "1: missing column \"学期开始/term_start\"\n"
                    "1: missing column \"学期结束/term_end\"");
}

/* The optional column 公开/public: a lesson every classroom may watch (docs/SECURITY.md). */
static void test_import_public_column(void **state)
{
    (void)state;
    struct imp x;
    import(&x, "session,source,receivers,weekday,start,end,term_start,term_end,公开\n"
               "p1,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,是\n"
               "p2,src-1,rcv-1,2,10:00,10:40,2025-03-03,2025-07-04,\n"
               "p3,src-1,rcv-1,3,10:00,10:40,2025-03-03,2025-07-04,YES\n"
               "p4,src-1,rcv-1,4,10:00,10:40,2025-03-03,2025-07-04,no\n");
    assert_int_equal(x.rc, BBT_OK);
    assert_true(x.m.sessions[bbt_tt_find_session(&x.m, "p1")].is_public);
    assert_false(x.m.sessions[bbt_tt_find_session(&x.m, "p2")].is_public);
    assert_true(x.m.sessions[bbt_tt_find_session(&x.m, "p3")].is_public);
    assert_false(x.m.sessions[bbt_tt_find_session(&x.m, "p4")].is_public);
    done(&x);
    import(&x, "session,source,receivers,weekday,start,end,term_start,term_end,public\n"
               "p1,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,maybe\n");
    expect_problems(&x, BBT_ECSV, "2: 公开/public \"maybe\" is not yes or no");
}

static void test_import_bad_cells(void **state)
{
    (void)state;
    struct imp x;
    import(&x, HEAD_EN
           "m1,,,,src-1,rcv-1,8,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m2,,,,src-1,rcv-1,1,25:00,10:4,2025-03-03,2025-07-04,\n"
           "m3,,,,src-1,rcv-1,1,10:00,10:40,2025-02-30,2025-7-4,\n"
           "m4,,,,src-1,rcv-1,,10:00,10:40,,,\n"
           "m5,,,,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,2025-03-05\n"
           "m6,,,,src-1,rcv-1,1,10:00,10:40,,,\n"
           "音乐1,,,,src 1,rcv-1;r c,2,10:00,10:40,2025-03-03,2025-07-04,\n"
           ",,,,src-1,,2,10:00,10:40,2025-03-03,2025-07-04,,extra\n"
           "m9,\"" "0123456789012345678901234567890123456789012345678901234567890123456789"
           "0123456789012345678901234567890123456789012345678901234567890123456789"
           "0123456789012345678901234567890123456789012345678901234567890123456789"
           "01234567890123456789012345678901234567890123456789\",,,src-1,rcv-1,2,11:00,11:40,"
           "2025-03-03,2025-07-04,\n");
    expect_problems(&x, BBT_ECSV,
                    "2: 星期/weekday \"8\" is not a weekday (1-7, 周一..周日, Mon..Sun)\n"
                    "3: 开始/start \"25:00\" is not a time (HH:MM)\n"
                    "3: 结束/end \"10:4\" is not a time (HH:MM)\n"
                    "4: 学期开始/term_start \"2025-02-30\" is not a date (YYYY-MM-DD)\n"
                    "5: give 星期/weekday (weekly) or 日期/date (one-off)\n"
                    "6: give either 星期/weekday (weekly) or 日期/date (one-off), not both\n"
                    "7: a weekly lesson needs 学期开始/term_start and 学期结束/term_end\n"
                    "8: 课程编号/session \"音乐1\" is not an id (1-53 characters of A-Z a-z 0-9 _ "
                    ". -)\n"
                    "8: 主讲教室/source \"src 1\" is not an id (1-64 characters of A-Z a-z 0-9 _ . "
                    "-)\n"
                    "8: 听课教室/receivers \"rcv-1;r c\" is not a list of classroom ids separated "
                    "by ;\n"
                    "9: 13 fields, but the header has 12\n"
                    "9: 课程编号/session is empty\n"
                    "9: 听课教室/receivers is empty\n"
                    "10: 标题/title is longer than 256 bytes");
}

static void test_import_duplicates_and_unknown(void **state)
{
    (void)state;
    struct imp x;
    import(&x, HEAD_EN
           "m1,,,,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m2,,,,src-1,rcv-2,2,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m1,,,,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m1,,,,src-1,rcv-1,3,10:00,10:40,2025-03-03,2025-07-04,\n");
    expect_problems(&x, BBT_ECSV,
                    "4: session \"m1\" is already defined on line 2\n"
                    "5: session \"m1\" is already defined on line 2");
    import(&x, HEAD_EN
           "m1,,,,src-1,rcv-1;rcv-7,1,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m2,,,,src-9,rcv-2,2,10:00,10:40,2025-03-03,2025-07-04,\n");
    expect_problems(&x, BBT_ECONFLICT,
                    "2: session \"m1\": unknown receiving classroom \"rcv-7\"\n"
                    "3: session \"m2\": unknown source classroom \"src-9\"");
}

static void test_import_conflicts(void **state)
{
    (void)state;
    struct imp x;
    /* with each other, with a session already there (old: Fri 08:00 rcv-3), outside the term */
    import(&x, HEAD_EN
           "m1,,,,src-1,rcv-1,1,10:00,10:40,2025-03-03,2025-07-04,\n"
           "m2,,,,src-2,rcv-1,1,10:30,11:10,2025-03-03,2025-07-04,\n"
           "m3,,,,src-1,rcv-3,5,08:20,09:00,2025-03-03,2025-07-04,\n"
           "m4,,,,src-1,rcv-2,7,10:40,10:00,2025-03-03,2025-03-08,\n");
    expect_problems(&x, BBT_ECONFLICT,
                    "3: classroom \"rcv-1\" is in two sessions at once on Mon 2025-03-03: \"m1\" "
                    "10:00-10:40 and \"m2\" 10:30-11:10\n"
                    "4: classroom \"rcv-3\" is in two sessions at once on Fri 2025-03-07: \"old\" "
                    "08:00-08:40 and \"m3\" 08:20-09:00\n"
                    "5: session \"m4\": ends at 10:00, not after it starts (10:40)\n"
                    "5: session \"m4\": no Sun between 2025-03-03 and 2025-03-08");
}

static void test_weekday_names(void **state)
{
    (void)state;
    static const char *const yes[][2] = {{"1", "1"}, {"7", "7"}, {"周一", "1"}, {"周日", "7"},
                                         {"周天", "7"}, {"星期三", "3"}, {"星期日", "7"},
                                         {"礼拜五", "5"}, {"Mon", "1"}, {"SUN", "7"},
                                         {"thursday", "4"}};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_int_equal(bbt_import_weekday(yes[i][0]), yes[i][1][0] - '0');
    static const char *const no[] = {"0", "8", "周", "星期八", "Mo", "", "11", "周一 "};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_int_equal(bbt_import_weekday(no[i]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_refusals),
        cmocka_unit_test(test_import_chinese),
        cmocka_unit_test(test_import_english_and_changes),
        cmocka_unit_test(test_import_encoding_errors),
        cmocka_unit_test(test_import_missing_columns),
        cmocka_unit_test(test_import_public_column),
        cmocka_unit_test(test_import_bad_cells),
        cmocka_unit_test(test_import_duplicates_and_unknown),
        cmocka_unit_test(test_import_conflicts),
        cmocka_unit_test(test_weekday_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
