/* tests/relay/schedule/test_store.c — relay/schedule/store.c: the round trip of every table,
 * deletes, transactions, schema migrations (an old database is upgraded, a newer one refused),
 * attendance sums, and durability: a writer killed with SIGKILL in the middle of importing
 * loses nothing it committed and leaves nothing half-written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "relay/schedule/store.h"
#include "tt_fixture.h"

static char dir[64], path[128], err[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-store-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, BBT_STORE_FILE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static bbt_store *fresh(void)
{
    unlink(path);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    bbt_store *s;
    if (bbt_store_open(path, &s, err, sizeof err) != BBT_OK)
        fail_msg("open: %s", err);
    return s;
}

static void put_county(bbt_store *s)
{
    bbt_timetable t;
    fx_county(&t);
    fx_session(&t, "music", "src-1", "rcv-2;rcv-1", 1, "10:00", "10:40", "2025-03-03",
               "2025-07-04", 0);
    fx_session(&t, "open", "src-2", "rcv-3", 0, "09:00", "09:40", "2025-04-10", NULL, 0);
    fx_holiday(&t, "qm", "清明节", "2025-04-04", "2025-04-06");
    fx_cancel(&t, "music", "2025-03-10");
    fx_move(&t, "music", "2025-03-17", "2025-03-19", "14:00", "14:40");
    assert_int_equal(bbt_store_begin(s, err, sizeof err), BBT_OK);
    for (size_t i = 0; i < t.nschools; i++)
        assert_int_equal(bbt_store_put_school(s, &t.schools[i], err, sizeof err), BBT_OK);
    for (size_t i = 0; i < t.nclassrooms; i++)
        assert_int_equal(bbt_store_put_classroom(s, &t.classrooms[i], err, sizeof err), BBT_OK);
    for (size_t i = 0; i < t.nsessions; i++)
        assert_int_equal(bbt_store_put_session(s, &t.sessions[i], err, sizeof err), BBT_OK);
    for (size_t i = 0; i < t.nholidays; i++)
        assert_int_equal(bbt_store_put_holiday(s, &t.holidays[i], err, sizeof err), BBT_OK);
    for (size_t i = 0; i < t.nexceptions; i++)
        assert_int_equal(bbt_store_put_exception(s, &t.exceptions[i], err, sizeof err), BBT_OK);
    bbt_group g = {.id = "g1", .name = (char *)"实验集团", .strong = "sch", .nweak = 0,
                   .term_start = D("2025-03-03"), .term_end = D("2025-07-04")};
    char weak[2][BBT_ID_MAX + 1] = {"sch", "sch"};
    g.weak = weak;
    g.nweak = 1;
    assert_int_equal(bbt_store_put_group(s, &g, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_commit(s, err, sizeof err), BBT_OK);
    bbt_tt_free(&t);
}

static void test_round_trip(void **state)
{
    (void)state;
    bbt_store *s = fresh();
    assert_int_equal(bbt_store_schema_version(s), bbt_store_schema_latest());
    put_county(s);
    bbt_store_close(s);
    assert_int_equal(bbt_store_open(path, &s, err, sizeof err), BBT_OK);
    bbt_timetable t;
    assert_int_equal(bbt_store_load(s, &t, err, sizeof err), BBT_OK);
    assert_true(t.indexed);
    assert_int_equal(t.nclassrooms, 6);
    assert_int_equal(t.nsessions, 2);
    const bbt_tt_session *m = &t.sessions[bbt_tt_find_session(&t, "music")];
    assert_int_equal(m->weekday, 1);
    assert_int_equal(m->start_min, 600);
    assert_int_equal(m->term_end, D("2025-07-04"));
    assert_int_equal(m->nreceivers, 2);
    assert_string_equal(m->receivers[0], "rcv-2"); /* order kept */
    assert_int_equal(m->exc_count, 2);
    const bbt_tt_session *o = &t.sessions[bbt_tt_find_session(&t, "open")];
    assert_int_equal(o->weekday, 0);
    assert_int_equal(o->date, D("2025-04-10"));
    const bbt_exception *e = &t.exceptions[bbt_tt_find_exception(&t, "music", D("2025-03-17"))];
    assert_int_equal(e->kind, BBT_EXC_MOVE);
    assert_int_equal(e->to, D("2025-03-19"));
    assert_int_equal(e->end_min, 14 * 60 + 40);
    assert_string_equal(t.holidays[0].name, "清明节");
    assert_int_equal(t.ngroups, 1);
    assert_int_equal(t.groups[0].nweak, 1);
    assert_int_equal(t.classrooms[bbt_tt_find_classroom(&t, "both-1")].role, BBT_CR_BOTH);
    size_t np;
    bbt_tt_parts(&t, bbt_tt_find_classroom(&t, "rcv-1"), &np);
    assert_int_equal(np, 1);
    bbt_tt_free(&t);
    /* deletes: a session takes its receivers and exceptions with it */
    assert_int_equal(bbt_store_delete(s, "session", "music", err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_delete(s, "session", "music", err, sizeof err), BBT_ENOTFOUND);
    assert_string_equal(err, "no session with that id");
    assert_int_equal(bbt_store_delete(s, "classroom", "rcv-3", err, sizeof err), BBT_EIO);
    assert_string_equal(err, "classroom: FOREIGN KEY constraint failed"); /* "open" uses it */
    assert_int_equal(bbt_store_load(s, &t, err, sizeof err), BBT_OK);
    assert_int_equal(t.nsessions, 1);
    assert_int_equal(t.nexceptions, 0);
    bbt_tt_free(&t);
    bbt_store_close(s);
}

static void test_rollback(void **state)
{
    (void)state;
    bbt_store *s = fresh();
    put_county(s);
    assert_int_equal(bbt_store_begin(s, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_delete(s, "holiday", "qm", err, sizeof err), BBT_OK);
    bbt_store_rollback(s);
    bbt_timetable t;
    assert_int_equal(bbt_store_load(s, &t, err, sizeof err), BBT_OK);
    assert_int_equal(t.nholidays, 1);
    bbt_tt_free(&t);
    bbt_store_close(s);
}

static void sql(const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", q, msg);
    sqlite3_close(db);
}

static void test_migrations(void **state)
{
    (void)state;
    bbt_store *s = fresh();
    bbt_store_close(s);
    /* a database of schema version 1 (before import_log) is brought up to date */
    sql("DROP TABLE import_log; DROP TABLE tokens; DROP TABLE revoked_tokens; "
        "ALTER TABLE sessions DROP COLUMN public; UPDATE schema_version SET version = 1;");
    assert_int_equal(bbt_store_open(path, &s, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_schema_version(s), bbt_store_schema_latest());
    assert_int_equal(bbt_store_log_import(s, 1, "op", 3, 2, 1, err, sizeof err), BBT_OK);
    bbt_store_close(s);
    /* one written by a newer relay is refused, untouched */
    sql("UPDATE schema_version SET version = 99;");
    assert_int_equal(bbt_store_open(path, &s, err, sizeof err), BBT_ESCHEMA);
    assert_null(s);
    assert_string_equal(err, "the schedule database has schema version 99, newer than this "
                             "bbt-relay knows (4): upgrade bbt-relay");
    /* not a database at all */
    FILE *f = fopen(path, "w");
    fputs("this is not a database, it is a very long line of text to fill a page...", f);
    fclose(f);
    assert_int_equal(bbt_store_open(path, &s, err, sizeof err), BBT_EIO);
}

static void test_attendance(void **state)
{
    (void)state;
    bbt_store *s = fresh();
    bbt_attendance a = {.classroom = "rcv-1", .session = "music", .date = D("2025-03-03"),
                        .joined_us = 2000, .left_us = 3000, .seconds = 600, .stalls = 1};
    bbt_attendance_add_layer(&a, "720p", 500);
    bbt_attendance_add_layer(&a, "audio", 100);
    assert_int_equal(bbt_store_attendance_add(s, &a, err, sizeof err), BBT_OK);
    bbt_attendance b = {.classroom = "rcv-1", .session = "music", .date = D("2025-03-03"),
                        .joined_us = 1000, .left_us = 2500, .seconds = 60, .stalls = 2};
    bbt_attendance_add_layer(&b, "360p", 60);
    bbt_attendance_add_layer(&b, "720p", 1);
    assert_int_equal(bbt_store_attendance_add(s, &b, err, sizeof err), BBT_OK);
    b.date = D("2025-03-10");
    assert_int_equal(bbt_store_attendance_add(s, &b, err, sizeof err), BBT_OK);
    snprintf(b.classroom, sizeof b.classroom, "rcv-2");
    assert_int_equal(bbt_store_attendance_add(s, &b, err, sizeof err), BBT_OK);
    bbt_attendance *rows;
    size_t n;
    assert_int_equal(bbt_store_attendance_query(s, D("2025-03-01"), D("2025-03-31"), NULL,
                                                &rows, &n, err, sizeof err), BBT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].joined_us, 1000);
    assert_int_equal(rows[0].left_us, 3000);
    assert_int_equal(rows[0].seconds, 660);
    assert_int_equal(rows[0].stalls, 3);
    assert_int_equal(rows[0].nlayers, 3);
    assert_string_equal(rows[0].layers[0].label, "720p");
    assert_int_equal(rows[0].layers[0].seconds, 501);
    free(rows);
    assert_int_equal(bbt_store_attendance_query(s, D("2025-03-04"), D("2025-03-31"), "rcv-2",
                                                &rows, &n, err, sizeof err), BBT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].classroom, "rcv-2");
    free(rows);
    bbt_store_close(s);
}

/* ---- kill -9 in the middle of an import ---------------------------------------------------- */

#define BATCH 400

/* The child: imports batch after batch of BATCH sessions, one transaction each, and reports
 * each committed batch number on the pipe. Never returns. */
static void writer(int fd)
{
    bbt_store *s;
    if (bbt_store_open(path, &s, err, sizeof err) != BBT_OK)
        _exit(3);
    for (int b = 0;; b++) {
        if (bbt_store_begin(s, err, sizeof err) != BBT_OK)
            _exit(4);
        for (int i = 0; i < BATCH; i++) {
            char id[32];
            snprintf(id, sizeof id, "b%d-%d", b, i);
            bbt_tt_session x = fx_make(id, "src-1", "rcv-1;rcv-2", 1 + i % 5, "08:00", "08:40",
                                       "2025-03-03", "2025-07-04", 0);
            x.title = (char *)"音乐：茉莉花";
            if (bbt_store_put_session(s, &x, err, sizeof err) != BBT_OK)
                _exit(5);
        }
        if (bbt_store_commit(s, err, sizeof err) != BBT_OK)
            _exit(6);
        if (write(fd, &b, sizeof b) != sizeof b)
            _exit(7);
    }
}

static int count_batch(sqlite3 *db, int b)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM sessions WHERE id LIKE 'b%d-%%'", b);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_kill9_mid_import(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        bbt_store *s = fresh();
        put_county(s);
        bbt_store_close(s);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer(fds[1]);
        }
        close(fds[1]);
        int last = -1, b;
        while (last < round && read(fds[0], &b, sizeof b) == sizeof b)
            last = b; /* wait for 1..3 committed batches */
        usleep(5000 + 7000 * round); /* ... and kill it somewhere inside the next one */
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFSIGNALED(st));
        while (read(fds[0], &b, sizeof b) == sizeof b)
            last = b; /* commits reported before it died */
        close(fds[0]);
        /* reopen through the store (recovers the WAL), then look at the rows */
        assert_int_equal(bbt_store_open(path, &s, err, sizeof err), BBT_OK);
        bbt_timetable t;
        assert_int_equal(bbt_store_load(s, &t, err, sizeof err), BBT_OK);
        assert_int_equal(t.nclassrooms, 6); /* what was there before is intact */
        bbt_tt_free(&t);
        bbt_store_close(s);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
        sqlite3_finalize(q);
        for (int i = 0; i <= last; i++) /* every reported commit is there, whole */
            assert_int_equal(count_batch(db, i), BATCH);
        int next = count_batch(db, last + 1); /* the one being written: all or nothing */
        assert_true(next == 0 || next == BATCH);
        assert_int_equal(count_batch(db, last + 2), 0);
        sqlite3_close(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_migrations),  cmocka_unit_test(test_attendance),
        cmocka_unit_test(test_kill9_mid_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
