/* tests/relay/schedule/test_sched.c — relay/schedule/sched.c, admin*.c, attend.c, day.c: the
 * scheduler without a network. Fake connections collect what the scheduler sends; the test
 * clock drives a school morning in steps: plans on hello and on every state change, start
 * and stop for the source, live for the receiver, attendance with layers and stalls, the
 * operator requests and their errors, and a restart that keeps everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto/status.h"
#include "relay/schedule/model.h"
#include "relay/schedule/sched.h"

#define MAXQ 64

struct fake {
    const char *name;
    json_t *q[MAXQ];
    size_t n;
    char layer[16];
};

static struct fake op = {.name = "op"}, src = {.name = "src"}, r1 = {.name = "r1"},
                   r2 = {.name = "r2"};
static char dir[64], db[128];

static void hook_send(void *conn, json_t *msg, void *ud)
{
    (void)ud;
    struct fake *f = conn;
    assert_non_null(msg);
    char err[256];
    bbt_msg_type t = bbt_msg_type_from_name(json_string_value(json_object_get(msg, "type")));
    if (bbt_control_validate(t, msg, err, sizeof err) != BBT_OK) /* what we send, we accept */
        fail_msg("%s got an invalid %s: %s", f->name, bbt_msg_type_name(t), err);
    assert_true(f->n < MAXQ);
    f->q[f->n++] = msg;
}

static const char *music_state = "live"; /* the relay's session of the music lesson */

static void hook_live(const char *session, bbt_sched_live *out, void *ud)
{
    (void)ud;
    out->state = strcmp(session, "2025-03-03.music") == 0 ? music_state : "none";
    out->viewers = 1;
    snprintf(out->publisher, sizeof out->publisher, "src-1");
}

static void hook_layer(void *conn, char *buf, size_t size, void *ud)
{
    (void)ud;
    snprintf(buf, size, "%s", ((struct fake *)conn)->layer);
}

static void drain(struct fake *f)
{
    for (size_t i = 0; i < f->n; i++)
        json_decref(f->q[i]);
    f->n = 0;
}

/* The first queued message of `type` (removed), or NULL; earlier ones are dropped. */
static json_t *take(struct fake *f, const char *type)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(json_string_value(json_object_get(f->q[i], "type")), type) != 0)
            continue;
        json_t *m = f->q[i];
        for (size_t k = 0; k < i; k++)
            json_decref(f->q[k]);
        memmove(f->q, f->q + i + 1, (f->n - i - 1) * sizeof *f->q);
        f->n -= i + 1;
        return m;
    }
    return NULL;
}

static bbt_sched *open_sched(bool test_clock)
{
    bbt_sched_opts o = {.db_path = db, .lead_ms = 120000, .stop_delay_ms = 0, .flush_ms = 1000,
                        .time_scale = 0, .test_clock = test_clock, .timezone = "Asia/Shanghai",
                        .max_import_bytes = 1 << 20};
    bbt_sched_hooks h = {hook_send, hook_live, hook_layer, NULL, NULL};
    int st;
    char err[512];
    bbt_sched *s = bbt_sched_new(&o, &h, &st, err, sizeof err);
    if (!s)
        fail_msg("bbt_sched_new: %s", err);
    bbt_sched_hello(s, &op, BBT_SCHED_OPERATOR, NULL);
    return s;
}

/* Send a request (JSON text) as the operator; return the reply (caller decrefs). */
static json_t *req(bbt_sched *s, const char *text)
{
    bbt_msg_type t;
    json_t *m;
    char err[256];
    if (bbt_control_parse(text, strlen(text), NULL, &t, &m, err, sizeof err) != BBT_OK)
        fail_msg("request does not parse: %s: %s", err, text);
    json_t *r = bbt_sched_request(s, &op, t, m);
    json_decref(m);
    for (int i = 0; !r && i < 10000; i++) { /* a worker job (import, export): its answer */
        bbt_sched_poll(s);
        if (op.n > 0)
            r = op.q[--op.n];
        else
            usleep(1000);
    }
    assert_non_null(r);
    hook_send(&op, json_incref(r), NULL); /* validates it */
    drain(&op);
    return r;
}

static void expect_type(json_t *r, const char *type)
{
    const char *t = json_string_value(json_object_get(r, "type"));
    if (strcmp(t, type) != 0)
        fail_msg("reply %s (%s), want %s", t, json_string_value(json_object_get(r, "message")),
                 type);
    json_decref(r);
}

static void expect_error(json_t *r, int code, const char *message)
{
    assert_string_equal(json_string_value(json_object_get(r, "type")), "error");
    assert_int_equal(json_integer_value(json_object_get(r, "code")), -code);
    if (message)
        assert_string_equal(json_string_value(json_object_get(r, "message")), message);
    json_decref(r);
}

#define US(d, hm) ((long long)bbt_local_to_us(day_of(d), hm_of(hm), 480))
static bbt_day day_of(const char *s)
{
    bbt_day d;
    assert_int_equal(bbt_day_parse(s, strlen(s), false, &d), BBT_OK);
    return d;
}
static int hm_of(const char *s)
{
    int m;
    assert_int_equal(bbt_hhmm_parse(s, strlen(s), false, false, &m), BBT_OK);
    return m;
}

static void set_clock(bbt_sched *s, const char *d, const char *hm)
{
    char t[128];
    snprintf(t, sizeof t, "{\"type\":\"clock\",\"time_us\":%lld,\"scale\":0}", US(d, hm));
    expect_type(req(s, t), "time");
}

static void county(bbt_sched *s)
{
    expect_type(req(s, "{\"type\":\"school_set\",\"school\":{\"id\":\"hz\",\"name\":\"实验小学\"}}"),
                "schools");
    expect_type(req(s, "{\"type\":\"school_set\",\"school\":{\"id\":\"ls\",\"name\":\"龙山教学点\"}}"),
                "schools");
    static const char *const cls[] = {
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"src-1\",\"name\":\"301\",\"school\":\"hz\",\"role\":\"source\"}}",
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"src-2\",\"name\":\"302\",\"school\":\"hz\",\"role\":\"source\"}}",
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"rcv-1\",\"name\":\"一年级\",\"school\":\"ls\",\"role\":\"receiver\"}}",
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"rcv-2\",\"name\":\"二年级\",\"school\":\"ls\",\"role\":\"receiver\"}}"};
    for (size_t i = 0; i < 4; i++)
        expect_type(req(s, cls[i]), "classrooms");
    expect_type(req(s, "{\"type\":\"session_set\",\"session\":{\"id\":\"music\",\"title\":\"音乐\","
                       "\"source\":\"src-1\",\"receivers\":[\"rcv-1\",\"rcv-2\"],\"weekday\":1,"
                       "\"start\":\"10:00\",\"end\":\"10:40\",\"term_start\":\"2025-03-03\","
                       "\"term_end\":\"2025-07-04\"}}"),
                "sessions");
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-sched-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof db, "%s/schedule.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *plan_state(json_t *plan, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(plan, "sessions"), i),
                                             "state"));
}

static void test_school_morning(void **state)
{
    (void)state;
    bbt_sched *s = open_sched(true);
    county(s);
    set_clock(s, "2025-03-03", "09:50");
    bbt_sched_hello(s, &src, BBT_SCHED_SOURCE, "src-1");
    bbt_sched_hello(s, &r1, BBT_SCHED_RECEIVER, "rcv-1");
    json_t *p = take(&src, "plan");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "date")), "2025-03-03");
    assert_string_equal(plan_state(p, 0), "upcoming");
    assert_null(json_object_get(p, "live"));
    json_t *rc = json_object_get(json_array_get(json_object_get(p, "sessions"), 0), "receivers");
    assert_int_equal(json_array_size(rc), 2); /* the source sees who should be with it */
    json_decref(p);
    assert_null(take(&src, "start"));
    p = take(&r1, "plan");
    assert_string_equal(json_string_value(json_object_get(p, "next") ? json_object_get(json_object_get(p, "next"), "session") : NULL), "2025-03-03.music");
    json_decref(p);
    /* 09:58: lead time (2 min): the source is told to start, everyone gets "starting" */
    set_clock(s, "2025-03-03", "09:58");
    json_t *st = take(&src, "start");
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "session")), "2025-03-03.music");
    assert_int_equal(json_integer_value(json_object_get(st, "start_us")), US("2025-03-03", "10:00"));
    json_decref(st);
    p = take(&r1, "plan");
    assert_string_equal(plan_state(p, 0), "starting");
    json_decref(p);
    /* 10:00: live; the receiver joins by itself */
    set_clock(s, "2025-03-03", "10:00");
    p = take(&r1, "plan");
    assert_string_equal(json_string_value(json_object_get(p, "live")), "2025-03-03.music");
    json_decref(p);
    assert_null(take(&src, "start")); /* not twice */
    bbt_sched_subscribed(s, &r1, "2025-03-03.music");
    bbt_sched_report(s, &r1, "720p", 0);
    set_clock(s, "2025-03-03", "10:20");
    bbt_sched_report(s, &r1, "360p", 2);
    /* a late joiner gets the live plan at hello */
    bbt_sched_hello(s, &r2, BBT_SCHED_RECEIVER, "rcv-2");
    p = take(&r2, "plan");
    assert_string_equal(json_string_value(json_object_get(p, "live")), "2025-03-03.music");
    json_decref(p);
    /* the day's list with live state */
    json_t *d = req(s, "{\"type\":\"day_list\",\"id\":5,\"date\":\"2025-03-03\"}");
    json_t *o = json_array_get(json_object_get(d, "sessions"), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "ref_id")), 5);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "live");
    assert_string_equal(json_string_value(json_object_get(o, "relay_state")), "live");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "source"), "presence")), "watching");
    json_t *rv = json_object_get(o, "receivers");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rv, 0), "presence")), "watching");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rv, 1), "presence")), "connected");
    assert_null(json_object_get(o, "reason"));
    json_decref(d);
    /* a lesson under way that nobody publishes has failed, and says why (day.c) */
    static const char *const failed[][2] = {{"interrupted", "publisher lost"},
                                            {"none", "source did not publish by start"},
                                            {"waiting", "source did not publish by start"}};
    for (size_t i = 0; i < 3; i++) {
        music_state = failed[i][0];
        d = bbt_sched_day(s); /* the dashboard's call: today by the scheduler clock */
        hook_send(&op, json_incref(d), NULL); /* validates it */
        drain(&op);
        o = json_array_get(json_object_get(d, "sessions"), 0);
        assert_string_equal(json_string_value(json_object_get(d, "date")), "2025-03-03");
        assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
        assert_string_equal(json_string_value(json_object_get(o, "reason")), failed[i][1]);
        json_decref(d);
    }
    music_state = "live";
    /* 10:45: over; the source is told to stop, receivers see "ended" and leave */
    set_clock(s, "2025-03-03", "10:45");
    st = take(&src, "stop");
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "reason")), "lesson ended");
    json_decref(st);
    p = take(&r1, "plan");
    assert_string_equal(plan_state(p, 0), "ended");
    assert_null(json_object_get(p, "live"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "next"), "date")), "2025-03-10");
    json_decref(p);
    bbt_sched_unsubscribed(s, &r1);
    /* attendance: rcv-1 40 minutes (20 on 720p, 20 on 360p, 2 stalls), rcv-2 never joined */
    json_t *a = req(s, "{\"type\":\"attendance_export\",\"from\":\"2025-03-01\",\"to\":\"2025-03-31\"}");
    json_t *rows = json_object_get(a, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(row, "classroom")), "rcv-1");
    assert_int_equal(json_integer_value(json_object_get(row, "seconds")), 2400);
    assert_int_equal(json_integer_value(json_object_get(row, "lesson_seconds")), 2400);
    assert_string_equal(json_string_value(json_object_get(row, "joined")), "10:00:00");
    assert_string_equal(json_string_value(json_object_get(row, "left")), "10:45:00");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "layers"), "720p")), 1200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "layers"), "360p")), 1200);
    assert_int_equal(json_integer_value(json_object_get(row, "stalls")), 2);
    row = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(row, "classroom")), "rcv-2");
    assert_int_equal(json_integer_value(json_object_get(row, "seconds")), 0);
    assert_null(json_object_get(row, "joined"));
    json_decref(a);
    bbt_sched_closed(s, &src);
    bbt_sched_closed(s, &r1);
    bbt_sched_closed(s, &r2);
    drain(&src), drain(&r1), drain(&r2);
    bbt_sched_free(s);
}

static void test_edits_push_plans(void **state)
{
    (void)state;
    bbt_sched *s = open_sched(true);
    set_clock(s, "2025-03-04", "09:00");
    bbt_sched_hello(s, &r1, BBT_SCHED_RECEIVER, "rcv-1");
    json_t *p = take(&r1, "plan");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "next"), "date")), "2025-03-10");
    json_decref(p);
    expect_type(req(s, "{\"type\":\"cancel\",\"session\":\"music\",\"date\":\"2025-03-10\",\"reason\":\"运动会\"}"),
                "occurrence");
    p = take(&r1, "plan");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "next"), "date")), "2025-03-17");
    json_decref(p);
    json_t *r = req(s, "{\"type\":\"move\",\"session\":\"music\",\"date\":\"2025-03-17\",\"to\":\"2025-03-04\",\"start\":\"14:00\",\"end\":\"14:40\"}");
    assert_string_equal(json_string_value(json_object_get(r, "change")), "moved");
    json_decref(r);
    p = take(&r1, "plan"); /* moved into today */
    json_t *o = json_array_get(json_object_get(p, "sessions"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "start")), "14:00");
    assert_string_equal(json_string_value(json_object_get(o, "moved_from")), "2025-03-17");
    json_decref(p);
    /* errors with their exact texts */
    expect_error(req(s, "{\"type\":\"move\",\"session\":\"music\",\"date\":\"2025-03-18\",\"to\":\"2025-03-19\"}"),
                 BBT_ECONFLICT, "\"music\" has no lesson on 2025-03-18 to cancel or move");
    expect_error(req(s, "{\"type\":\"restore\",\"session\":\"music\",\"date\":\"2025-03-24\"}"),
                 BBT_ENOTFOUND, "\"music\" has no cancelled or moved lesson on 2025-03-24");
    expect_error(req(s, "{\"type\":\"session_set\",\"session\":{\"id\":\"art\",\"source\":\"src-2\","
                        "\"receivers\":[\"rcv-1\"],\"weekday\":1,\"start\":\"10:20\",\"end\":\"11:00\","
                        "\"term_start\":\"2025-03-03\",\"term_end\":\"2025-07-04\"}}"),
                 BBT_ECONFLICT, "classroom \"rcv-1\" is in two sessions at once on Mon 2025-03-03: "
                                "\"music\" 10:00-10:40 and \"art\" 10:20-11:00");
    expect_error(req(s, "{\"type\":\"session_set\",\"session\":{\"id\":\"x\",\"source\":\"src-2\","
                        "\"receivers\":[\"rcv-1\"],\"weekday\":2,\"start\":\"10:20\",\"end\":\"11:00\"}}"),
                 BBT_EINVAL, NULL);
    expect_error(req(s, "{\"type\":\"delete\",\"kind\":\"classroom\",\"target\":\"rcv-1\"}"),
                 BBT_EEXIST, "classroom \"rcv-1\" is used by session \"music\"");
    expect_error(req(s, "{\"type\":\"delete\",\"kind\":\"school\",\"target\":\"hz\"}"),
                 BBT_EEXIST, "school \"hz\" still has classroom \"src-1\"");
    expect_error(req(s, "{\"type\":\"delete\",\"kind\":\"holiday\",\"target\":\"nope\"}"),
                 BBT_ENOTFOUND, "no holiday \"nope\"");
    expect_error(req(s, "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"x\",\"name\":\"x\",\"school\":\"nope\",\"role\":\"both\"}}"),
                 BBT_ENOTFOUND, "unknown school \"nope\": add it first (school_set)");
    expect_error(req(s, "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"rcv-1\",\"name\":\"x\",\"school\":\"ls\",\"role\":\"source\"}}"),
                 BBT_ECONFLICT, "session \"music\": classroom \"rcv-1\" is a source classroom and cannot receive");
    /* dates the control tables accept but the timetable's calendar does not (found by fuzzing:
     * they reached the database as NULL) */
    expect_error(req(s, "{\"type\":\"holiday_set\",\"holiday\":{\"id\":\"h\",\"name\":\"x\",\"first\":\"0001-03-04\",\"last\":\"2025-03-04\"}}"),
                 BBT_EINVAL, "a date outside the years 1900..2999");
    expect_error(req(s, "{\"type\":\"group_set\",\"group\":{\"id\":\"g\",\"name\":\"x\",\"strong\":\"hz\",\"weak\":[\"ls\"],\"term_start\":\"2025-02-17\",\"term_end\":\"9999-07-04\"}}"),
                 BBT_EINVAL, "a date outside the years 1900..2999");
    /* a holiday takes today's moved lesson away */
    expect_type(req(s, "{\"type\":\"holiday_set\",\"holiday\":{\"id\":\"h\",\"name\":\"停电\",\"first\":\"2025-03-04\",\"last\":\"2025-03-04\"}}"),
                "holidays");
    p = take(&r1, "plan");
    assert_int_equal(json_array_size(json_object_get(p, "sessions")), 0);
    json_decref(p);
    expect_type(req(s, "{\"type\":\"delete\",\"kind\":\"holiday\",\"target\":\"h\"}"), "deleted");
    /* a receiver may not administer */
    bbt_msg_type t;
    json_t *m;
    assert_int_equal(bbt_control_parse("{\"type\":\"school_list\"}", 22, NULL, &t, &m, NULL, 0), BBT_OK);
    r = bbt_sched_request(s, &r1, t, m);
    expect_error(r, BBT_EDENIED, "only an operator may change or read the timetable");
    json_decref(m);
    bbt_sched_closed(s, &r1);
    drain(&r1);
    bbt_sched_free(s);
}

static void test_import_and_restart(void **state)
{
    (void)state;
    bbt_sched *s = open_sched(false);
    expect_error(req(s, "{\"type\":\"clock\",\"scale\":60}"), BBT_EDENIED, NULL);
    /* two parts, a dry run with a conflict: refused, nothing written */
    expect_type(req(s, "{\"type\":\"import\",\"id\":1,\"upload\":\"u\",\"part\":0,\"last\":false,"
                       "\"csv\":\"课程编号,主讲教室,听课教室,星期,开始,结束,学期开始,学期结束\\n\"}"),
                "imported");
    json_t *r = req(s, "{\"type\":\"import\",\"upload\":\"u\",\"part\":1,\"last\":true,\"dry_run\":true,"
                       "\"csv\":\"art,src-2,rcv-1,1,10:20,11:00,2025-03-03,2025-07-04\\n\"}");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "refused");
    json_t *pr = json_array_get(json_object_get(r, "problems"), 0);
    assert_int_equal(json_integer_value(json_object_get(pr, "line")), 2);
    assert_string_equal(json_string_value(json_object_get(pr, "message")),
                        "classroom \"rcv-1\" is in two sessions at once on Mon 2025-03-03: "
                        "\"music\" 10:00-10:40 and \"art\" 10:20-11:00");
    json_decref(r);
    /* out of order */
    expect_error(req(s, "{\"type\":\"import\",\"upload\":\"v\",\"part\":1,\"last\":true,\"csv\":\"\"}"),
                 BBT_EINVAL, "parts of an upload must come in order from part 0");
    r = req(s, "{\"type\":\"import\",\"upload\":\"w\",\"part\":0,\"last\":true,"
               "\"csv\":\"session,source,receivers,weekday,start,end,term_start,term_end\\n"
               "art,src-2,rcv-1;rcv-2,2,10:20,11:00,2025-03-03,2025-07-04\\n"
               "music,src-1,rcv-1;rcv-2,1,10:00,10:40,2025-03-03,2025-07-04\\n\"}");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "applied");
    assert_int_equal(json_integer_value(json_object_get(r, "added")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "changed")), 1); /* the title */
    json_decref(r);
    bbt_sched_free(s);
    /* a restart finds everything: sessions, exceptions */
    s = open_sched(false);
    r = req(s, "{\"type\":\"session_list\",\"classroom\":\"rcv-2\",\"limit\":1}");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "next_offset")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sessions"), 0), "id")), "art");
    json_decref(r);
    r = req(s, "{\"type\":\"day_list\",\"date\":\"2025-03-10\"}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sessions"), 0), "state")), "cancelled");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sessions"), 0), "note")), "运动会");
    json_decref(r);
    r = req(s, "{\"type\":\"classroom_list\",\"school\":\"ls\"}");
    assert_int_equal(json_array_size(json_object_get(r, "classrooms")), 2);
    json_decref(r);
    bbt_sched_free(s);
}

/* Education groups (relay/schedule/groups.c) reach the operator as warnings: in session_set's
 * reply and in the import's, with the CSV line; the change is made all the same. */
static void test_group_warnings(void **state)
{
    (void)state;
    bbt_sched *s = open_sched(false);
    expect_type(req(s, "{\"type\":\"group_set\",\"group\":{\"id\":\"hz-2025s\",\"name\":\"实验集团\","
                       "\"strong\":\"hz\",\"weak\":[\"ls\"],\"term_start\":\"2025-02-17\","
                       "\"term_end\":\"2025-07-04\"}}"),
                "groups");
    expect_type(req(s, "{\"type\":\"school_set\",\"school\":{\"id\":\"far\",\"name\":\"远山小学\"}}"),
                "schools");
    expect_type(req(s, "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"rcv-far\",\"name\":\"一年级\","
                       "\"school\":\"far\",\"role\":\"receiver\"}}"),
                "classrooms");
    json_t *r = req(s, "{\"type\":\"session_set\",\"session\":{\"id\":\"pe\",\"source\":\"src-2\","
                       "\"receivers\":[\"rcv-far\"],\"weekday\":3,\"start\":\"09:00\",\"end\":\"09:40\","
                       "\"term_start\":\"2025-03-03\",\"term_end\":\"2025-07-04\"}}");
    assert_string_equal(json_string_value(json_object_get(r, "type")), "sessions");
    json_t *w = json_array_get(json_object_get(r, "warnings"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "message")),
                        "session \"pe\": receiving classroom \"rcv-far\" (school \"far\") is not in "
                        "education group \"hz-2025s\" of school \"hz\" (2025-03-03..2025-07-04)");
    assert_int_equal(json_integer_value(json_object_get(w, "line")), 0);
    json_decref(r);
    /* paired (music: hz -> ls): no warnings member */
    r = req(s, "{\"type\":\"session_set\",\"session\":{\"id\":\"music\",\"title\":\"音乐\","
               "\"source\":\"src-1\",\"receivers\":[\"rcv-1\",\"rcv-2\"],\"weekday\":1,"
               "\"start\":\"10:00\",\"end\":\"10:40\",\"term_start\":\"2025-03-03\","
               "\"term_end\":\"2025-07-04\"}}");
    assert_null(json_object_get(r, "warnings"));
    json_decref(r);
    r = req(s, "{\"type\":\"import\",\"upload\":\"g\",\"part\":0,\"last\":true,\"dry_run\":true,"
               "\"csv\":\"session,source,receivers,weekday,start,end,term_start,term_end\\n"
               "music,src-1,rcv-1;rcv-2,1,10:00,10:40,2025-03-03,2025-07-04\\n"
               "art,src-2,rcv-far;rcv-1,4,10:20,11:00,2025-03-03,2025-07-04\\n\"}");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "checked");
    assert_int_equal(json_integer_value(json_object_get(r, "warnings_total")), 1);
    w = json_array_get(json_object_get(r, "warnings"), 0);
    assert_int_equal(json_integer_value(json_object_get(w, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(w, "message_zh")),
                        "课程 \"art\"：听课教室 \"rcv-far\"（学校 \"far\"）不在学校 \"hz\" 的教育集团 "
                        "\"hz-2025s\"（2025-03-03 至 2025-07-04）中");
    json_decref(r);
    bbt_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_school_morning),
        cmocka_unit_test(test_edits_push_plans),
        cmocka_unit_test(test_import_and_restart),
        cmocka_unit_test(test_group_warnings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
