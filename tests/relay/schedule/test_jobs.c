/* tests/relay/schedule/test_jobs.c — relay/schedule/jobs.c: the import and the attendance
 * export run on the scheduler's worker thread (real thread, real SQLite database in WAL mode),
 * answered through bbt_sched_poll after the worker's wake-up:
 *   - an import request returns no reply at once; the reply comes later with ref_id, the
 *     wake-up came from another thread, the new session is in the timetable and the plans;
 *   - while an import waits for the database's write lock (the test holds it with a third
 *     connection), other writes and a second import are refused (BBT_ELIMIT), reads still work,
 *     attendance of a classroom that leaves waits in memory and is written after the import;
 *     an operator who disconnects before the answer gets nothing (the import is still applied);
 *   - an attendance export is answered later, and its next page comes from the cache at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "relay/schedule/store.h"

struct fake {
    json_t *last;                  /* the last reply (not a plan) */
    int replies;
};

struct ctx {
    char dir[64], db[128];
    atomic_int wakes;
    atomic_int wakes_elsewhere;    /* wake-ups on a thread other than the test's */
    pthread_t main;
    struct fake op, op2, rcv;
};

static void hook_send(void *conn, json_t *m, void *ud)
{
    (void)ud;
    struct fake *f = conn;
    if (strcmp(json_string_value(json_object_get(m, "type")), "plan") == 0) {
        json_decref(m);
        return;
    }
    json_decref(f->last);
    f->last = m;
    f->replies++;
}

static void hook_live(const char *session, bbt_sched_live *out, void *ud)
{
    (void)session, (void)ud;
    out->state = "none";
}

static void hook_layer(void *conn, char *buf, size_t size, void *ud)
{
    (void)conn, (void)ud;
    snprintf(buf, size, "360p");
}

static void hook_wake(void *ud)
{
    struct ctx *x = ud;
    atomic_fetch_add(&x->wakes, 1);
    if (!pthread_equal(pthread_self(), x->main))
        atomic_fetch_add(&x->wakes_elsewhere, 1);
}

static bbt_sched *open_sched(struct ctx *x)
{
    bbt_sched_opts o = {.db_path = x->db, .lead_ms = 120000, .flush_ms = 1000, .time_scale = 0,
                        .test_clock = true, .timezone = "Asia/Shanghai",
                        .max_import_bytes = 1 << 20};
    bbt_sched_hooks h = {hook_send, hook_live, hook_layer, x, hook_wake};
    int st;
    char err[512];
    bbt_sched *s = bbt_sched_new(&o, &h, &st, err, sizeof err);
    if (!s)
        fail_msg("bbt_sched_new: %s", err);
    bbt_sched_hello(s, &x->op, BBT_SCHED_OPERATOR, NULL);
    bbt_sched_hello(s, &x->op2, BBT_SCHED_OPERATOR, NULL);
    return s;
}

/* Send a request; the reply if it came at once, else NULL (a job). */
static json_t *send_req(bbt_sched *s, struct fake *f, const char *text)
{
    bbt_msg_type t;
    json_t *m;
    char err[256];
    if (bbt_control_parse(text, strlen(text), NULL, &t, &m, err, sizeof err) != BBT_OK)
        fail_msg("request does not parse: %s: %s", err, text);
    json_t *r = bbt_sched_request(s, f, t, m);
    json_decref(m);
    return r;
}

/* Poll until f has n replies (10 s at most); its last reply. */
static json_t *await(bbt_sched *s, struct fake *f, int n)
{
    for (int i = 0; f->replies < n && i < 10000; i++) {
        usleep(1000);
        bbt_sched_poll(s);
    }
    assert_int_equal(f->replies, n);
    return f->last;
}

static const char *type_of(const json_t *r)
{
    return json_string_value(json_object_get(r, "type"));
}

static void expect_refused(json_t *r, int code)
{
    assert_non_null(r);
    assert_string_equal(type_of(r), "error");
    assert_int_equal(json_integer_value(json_object_get(r, "code")), -code);
    json_decref(r);
}

static void county(bbt_sched *s, struct ctx *x)
{
    static const char *const reqs[] = {
        "{\"type\":\"school_set\",\"school\":{\"id\":\"hz\",\"name\":\"实验小学\"}}",
        "{\"type\":\"school_set\",\"school\":{\"id\":\"ls\",\"name\":\"龙山教学点\"}}",
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"src-1\",\"name\":\"301\",\"school\":\"hz\",\"role\":\"source\"}}",
        "{\"type\":\"classroom_set\",\"classroom\":{\"id\":\"rcv-1\",\"name\":\"一年级\",\"school\":\"ls\",\"role\":\"receiver\"}}",
        "{\"type\":\"session_set\",\"session\":{\"id\":\"music\",\"source\":\"src-1\",\"receivers\":[\"rcv-1\"],"
        "\"weekday\":1,\"start\":\"10:00\",\"end\":\"10:40\",\"term_start\":\"2025-03-03\",\"term_end\":\"2025-07-04\"}}",
        "{\"type\":\"clock\",\"time_us\":1740967500000000,\"scale\":0}", /* Mon 2025-03-03 10:05 */
    };
    for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
        json_t *r = send_req(s, &x->op, reqs[i]);
        assert_non_null(r);
        assert_string_not_equal(type_of(r), "error");
        json_decref(r);
    }
}

#define IMPORT_ART                                                                              \
    "{\"type\":\"import\",\"id\":7,\"upload\":\"u\",\"part\":0,\"last\":true,\"csv\":"              \
    "\"session,source,receivers,weekday,start,end,term_start,term_end\\n"                     \
    "art,src-1,rcv-1,2,10:00,10:40,2025-03-03,2025-07-04\\n\"}"

static void test_import_in_the_background(void **state)
{
    struct ctx *x = *state;
    bbt_sched *s = open_sched(x);
    county(s, x);
    assert_null(send_req(s, &x->op, IMPORT_ART)); /* answered later */
    json_t *r = await(s, &x->op, 1);
    assert_string_equal(type_of(r), "imported");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "applied");
    assert_int_equal(json_integer_value(json_object_get(r, "ref_id")), 7);
    assert_true(atomic_load(&x->wakes_elsewhere) >= 1);
    r = send_req(s, &x->op, "{\"type\":\"session_list\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    json_decref(r);
    bbt_sched_free(s);
}

static void test_writes_wait_for_the_import(void **state)
{
    struct ctx *x = *state;
    bbt_sched *s = open_sched(x);
    county(s, x);
    /* a classroom watching the 10:00 lesson */
    bbt_sched_hello(s, &x->rcv, BBT_SCHED_RECEIVER, "rcv-1");
    bbt_sched_subscribed(s, &x->rcv, "2025-03-03.music");
    /* hold the database's write lock from a third connection */
    bbt_store *lock;
    char err[256];
    assert_int_equal(bbt_store_open(x->db, &lock, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_begin(lock, err, sizeof err), BBT_OK);
    bbt_school sc = {.id = "lock", .name = (char *)"锁"};
    assert_int_equal(bbt_store_put_school(lock, &sc, err, sizeof err), BBT_OK);

    assert_null(send_req(s, &x->op, IMPORT_ART)); /* the worker now waits for the lock */
    expect_refused(send_req(s, &x->op2, "{\"type\":\"school_set\",\"school\":{\"id\":\"x\",\"name\":\"x\"}}"),
                   BBT_ELIMIT);
    expect_refused(send_req(s, &x->op2, "{\"type\":\"import\",\"upload\":\"v\",\"part\":0,\"last\":true,"
                                        "\"dry_run\":true,\"csv\":\"\"}"),
                   BBT_ELIMIT);
    json_t *r = send_req(s, &x->op2, "{\"type\":\"session_list\"}"); /* reads go on */
    assert_string_equal(type_of(r), "sessions");
    json_decref(r);
    bbt_sched_closed(s, &x->rcv);   /* leaves: its attendance waits in memory */
    bbt_sched_closed(s, &x->op);    /* the operator goes away before the answer */
    bbt_attendance *rows;
    size_t n;
    bbt_day d;
    assert_int_equal(bbt_day_parse("2025-03-03", 10, false, &d), BBT_OK);
    usleep(200000);
    bbt_sched_poll(s);
    assert_int_equal(x->op.replies, 0);

    assert_int_equal(bbt_store_commit(lock, err, sizeof err), BBT_OK); /* release */
    for (int i = 0; i < 10000; i++) { /* the import is applied though nobody waits for it */
        usleep(1000);
        bbt_sched_poll(s);
        r = send_req(s, &x->op2, "{\"type\":\"session_list\"}");
        json_int_t total = json_integer_value(json_object_get(r, "total"));
        json_decref(r);
        if (total == 2)
            break;
    }
    r = send_req(s, &x->op2, "{\"type\":\"session_list\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    json_decref(r);
    assert_int_equal(x->op.replies, 0); /* the reply went nowhere */
    assert_int_equal(bbt_store_attendance_query(lock, d, d, "rcv-1", &rows, &n, err, sizeof err),
                     BBT_OK);
    assert_int_equal(n, 1); /* written after the import */
    free(rows);
    bbt_store_close(lock);
    /* writes are accepted again */
    r = send_req(s, &x->op2, "{\"type\":\"school_set\",\"school\":{\"id\":\"x\",\"name\":\"x\"}}");
    assert_string_equal(type_of(r), "schools");
    json_decref(r);
    bbt_sched_free(s);
}

static void test_export_in_the_background(void **state)
{
    struct ctx *x = *state;
    bbt_sched *s = open_sched(x);
    county(s, x);
    const char *q = "{\"type\":\"attendance_export\",\"id\":9,\"from\":\"2025-03-03\","
                    "\"to\":\"2025-03-03\",\"limit\":1}";
    assert_null(send_req(s, &x->op, q));
    json_t *r = await(s, &x->op, 1);
    assert_string_equal(type_of(r), "attendance");
    assert_int_equal(json_integer_value(json_object_get(r, "ref_id")), 9);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1);
    /* the next page (none here: offset 1 of 1) from the cache, at once */
    r = send_req(s, &x->op, "{\"type\":\"attendance_export\",\"from\":\"2025-03-03\","
                            "\"to\":\"2025-03-03\",\"offset\":1,\"limit\":1}");
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "rows")), 0);
    json_decref(r);
    bbt_sched_free(s);
}

static int setup(void **state)
{
    struct ctx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/bbt-jobs-XXXXXX");
    if (!mkdtemp(x->dir))
        return -1;
    snprintf(x->db, sizeof x->db, "%s/schedule.db", x->dir);
    x->main = pthread_self();
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *x = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", x->dir);
    json_decref(x->op.last);
    json_decref(x->op2.last);
    json_decref(x->rcv.last);
    int rc = system(cmd) == 0 ? 0 : -1;
    free(x);
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_in_the_background, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_wait_for_the_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_in_the_background, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
