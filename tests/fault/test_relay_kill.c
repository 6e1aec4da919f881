/* tests/fault/test_relay_kill.c — the relay killed with SIGKILL mid-lesson, and restarted.
 *
 * The real bbt-relay (timetable on, its SQLite store in a state directory that survives the
 * restart), the real bbt-node publishing test sources (audio + one 320x180 layer, keyframe each
 * second, uplink reconnecting after 200 ms .. 1 s), two viewers that reconnect as the player does
 * (relay/web/ws.js back-off: 250-500 ms, then doubling), and an operator connection writing
 * schools to the timetable (school_set) as fast as the relay answers, right up to the kill.
 * Asserted:
 *   - the store is intact after the kill: PRAGMA integrity_check says "ok" and every school whose
 *     school_set had been answered before the kill is in the database;
 *   - after the restart (same port, same state directory), each viewer receives media again
 *     within 5 s of the moment the relay was started again (the node must have reconnected and
 *     published again for that: the restarted relay has no cached frames), and the node's log
 *     says it published twice;
 *   - the restarted relay serves the schools: school_list counts at least the answered ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "fault/fault_util.h"
#include "support/node_proc.h"
#include "support/relay_proc.h"

#define VIEWERS 2
#define RESUME_MS 5000

static const char *const node_sets[] = {
    "capture.width=320", "capture.height=180", "capture.fps=15", "encode.ladder=320x180@15:200",
    "encode.keyframe_interval=1s", "uplink.reconnect_min=200ms", "uplink.reconnect_max=1s",
    NULL};

struct env {
    relay_proc relay;
    char state[128], dbpath[200], state_set[160], port_set[40];
    node_proc node;
    tc_ctx *t;
    fu_rviewer v[VIEWERS];
    tc_conn *op;
    int next_school, acked;       /* schools sent; highest id answered */
};

static int start_relay(struct env *e, int port)
{
    const char *sets[] = {e->state_set, "schedule.enabled=true", "publisher.idle_timeout=1s",
                          NULL};
    return relay_start(&e->relay, port, sets);
}

static void poll_viewers(struct env *e, int ms)
{
    int64_t end = fu_mono_us() + (int64_t)ms * 1000;
    do {
        tc_service(e->t, 1);
        for (int i = 0; i < VIEWERS; i++)
            fu_rviewer_poll(&e->v[i]);
    } while (fu_mono_us() < end);
}

/* Keep one school_set in flight; note the answers. */
static void operator_step(struct env *e)
{
    tc_msg m;
    while (tc_recv(e->op, &m, 0) == 0) {
        json_t *j = m.binary ? NULL : json_loadb((const char *)m.data, m.len, 0, NULL);
        const char *type = json_string_value(json_object_get(j, "type"));
        json_t *ref = json_object_get(j, "ref_id");
        if (type && strcmp(type, "schools") == 0 && json_is_integer(ref))
            e->acked = (int)json_integer_value(ref);
        json_decref(j);
        free(m.data);
    }
    if (e->next_school <= e->acked + 1 && !tc_is_closed(e->op)) {
        char msg[200];
        e->next_school++;
        snprintf(msg, sizeof msg,
                 "{\"type\":\"school_set\",\"id\":%d,\"school\":{\"id\":\"fault-%d\","
                 "\"name\":\"故障测试学校 %d\"}}",
                 e->next_school, e->next_school, e->next_school);
        tc_send_text(e->op, msg);
    }
}

/* The store as the kill left it: integrity and the answered schools. */
static void check_store(struct env *e)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(e->dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char verdict[64];
    snprintf(verdict, sizeof verdict, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    int missing = 0;
    for (int i = 1; i <= e->acked; i++) {
        char id[32];
        snprintf(id, sizeof id, "fault-%d", i);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM schools WHERE id = ?", -1,
                                            &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        missing += sqlite3_column_int(st, 0) != 1;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    printf("# store after SIGKILL: integrity_check \"%s\"; %d schools answered before the kill, "
           "%d missing; %d sent\n",
           verdict, e->acked, missing, e->next_school);
    assert_string_equal(verdict, "ok");
    assert_true(e->acked >= 5);
    assert_int_equal(missing, 0);
}

static int count_in_log(const node_proc *n, const char *needle)
{
    char *log = node_log(n);
    int c = 0;
    for (const char *p = log; p && (p = strstr(p, needle)); p++)
        c++;
    free(log);
    return c;
}

static void relay_killed_and_restarted(void **state)
{
    (void)state;
    static struct env e;
    snprintf(e.state, sizeof e.state, "/tmp/bbt-fault-kill-XXXXXX");
    assert_non_null(mkdtemp(e.state));
    snprintf(e.dbpath, sizeof e.dbpath, "%s/schedule.db", e.state);
    snprintf(e.state_set, sizeof e.state_set, "relay.state_dir=%s", e.state);
    assert_int_equal(start_relay(&e, 0), 0);
    int port = e.relay.port;
    const char *extra[] = {"--test-pattern", "ball", NULL};
    assert_int_equal(node_start(&e.node, false, port, "lesson", node_sets, extra), 0);
    assert_int_equal(node_wait_log(&e.node, "publishing session=lesson", 10000), 0);
    e.t = tc_new();
    assert_non_null(e.t);
    e.op = tc_connect(e.t, port, NULL);
    assert_non_null(e.op);
    assert_int_equal(tc_hello(e.op, "operator", "county-it"), 0);
    for (int i = 0; i < VIEWERS; i++)
        fu_rviewer_init(&e.v[i], e.t, port, "lesson", 17u + (unsigned)i);
    int64_t end = fu_mono_us() + 3000000; /* the lesson runs, the timetable is written to */
    while (fu_mono_us() < end) {
        poll_viewers(&e, 5);
        operator_step(&e);
    }
    for (int i = 0; i < VIEWERS; i++)
        assert_true(e.v[i].v.frames > 0);

    operator_step(&e);
    assert_true(relay_stop(&e.relay, SIGKILL, 2000) == 128 + SIGKILL);
    relay_cleanup(&e.relay); /* killed on purpose: its scratch directory goes too */
    operator_step(&e); /* answers that arrived before the kill are counted; none can come now */
    check_store(&e);
    unsigned before[VIEWERS];
    for (int i = 0; i < VIEWERS; i++)
        before[i] = e.v[i].v.frames;
    poll_viewers(&e, 300); /* the viewers and the node notice and start backing off */

    int64_t restart = fu_mono_us();
    assert_int_equal(start_relay(&e, port), 0);
    double started_ms = (double)(fu_mono_us() - restart) / 1000.0;
    double resumed_ms[VIEWERS] = {-1, -1};
    int64_t deadline = restart + (RESUME_MS + 5000) * 1000LL;
    int waiting = VIEWERS;
    while (waiting && fu_mono_us() < deadline) {
        poll_viewers(&e, 5);
        waiting = 0;
        for (int i = 0; i < VIEWERS; i++) {
            if (resumed_ms[i] < 0 && e.v[i].v.frames > before[i])
                resumed_ms[i] = (double)(e.v[i].v.last_frame_us - restart) / 1000.0;
            waiting += resumed_ms[i] < 0;
        }
    }
    int published = count_in_log(&e.node, "publishing session=lesson");
    printf("# relay restarted (healthy after %.0f ms); media again at the viewers after %.0f ms "
           "and %.0f ms (reconnections %u, %u); node published %d times\n",
           started_ms, resumed_ms[0], resumed_ms[1], e.v[0].reconnects, e.v[1].reconnects,
           published);
    for (int i = 0; i < VIEWERS; i++) {
        assert_true(resumed_ms[i] >= 0);
        assert_true(resumed_ms[i] <= RESUME_MS);
        assert_true(e.v[i].reconnects >= 2);
    }
    assert_true(published >= 2);

    tc_conn *op = tc_connect(e.t, port, NULL);
    assert_non_null(op);
    assert_int_equal(tc_hello(op, "operator", "county-it"), 0);
    tc_send_text(op, "{\"type\":\"school_list\",\"id\":1}");
    json_t *schools = tc_recv_type(op, "schools", 3000);
    assert_non_null(schools);
    json_int_t total = json_integer_value(json_object_get(schools, "total"));
    if (!json_object_get(schools, "total"))
        total = (json_int_t)json_array_size(json_object_get(schools, "schools"));
    printf("# the restarted relay lists %lld schools\n", (long long)total);
    assert_true(total >= e.acked);
    json_decref(schools);

    for (int i = 0; i < VIEWERS; i++)
        fu_viewer_free(&e.v[i].v);
    tc_free(e.t);
    node_stop(&e.node, SIGTERM, 5000);
    node_cleanup(&e.node);
    relay_stop(&e.relay, SIGTERM, 5000);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e.state);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(relay_killed_and_restarted)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
