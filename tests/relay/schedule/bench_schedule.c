/* tests/relay/schedule/bench_schedule.c — bbt-schedbench: the timetable at county size.
 *
 *   bbt-schedbench [--dir DIR] [--csv FILE] [--lookups N] [--schools 300] [--classrooms 2000]
 *                  [--sessions 10000]
 *
 * Generates a county (300 schools: 60 strong, 240 rural; 2,000 classrooms: 500 source, 1,500
 * receiving; 10,000 weekly sessions: each source classroom teaches 20 periods a week to 3
 * receiving classrooms, with no conflict), writes the timetable as a CSV file with Chinese
 * headers (reusable with bbtctl import), then measures, on a fresh database in DIR:
 *   1. the import as the relay does it: CSV read, rows to sessions, merge, every conflict rule,
 *      and the write in one transaction (synchronous=FULL);
 *   2. "today's plan for classroom X" (bbt_sched_plan: the plan message of a random classroom
 *      on a school day, computed without the cache), N times: median, p99, max;
 *   3. the event loop's longest stall while the scheduler answers an operator's import of the
 *      whole file (on a fresh database) and then a month's attendance export (March, every
 *      lesson started): the loop is simulated — it hands the request to bbt_sched_request and
 *      then turns every millisecond (bbt_sched_poll) until the reply is sent; a stall is the
 *      time spent inside one such call. Twice: with the work inline on the loop (as before
 *      the worker thread, bbt_sched_opts.inline_jobs) and with the worker thread (jobs.c).
 * Prints one line per figure. A benchmark, not a test: it asserts nothing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/status.h"
#include "relay/schedule/import.h"
#include "relay/schedule/sched.h"
#include "relay/schedule/store.h"

#define PERIODS 8
#define DAYS 5
#define RECEIVERS_PER_SESSION 3

struct county {
    int schools, strong, classrooms, sources, sessions;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void classroom_id(const struct county *c, int i, char *buf, size_t n)
{
    if (i < c->sources)
        snprintf(buf, n, "src-%04d", i);
    else
        snprintf(buf, n, "rcv-%04d", i - c->sources);
}

/* Schools and classrooms straight into the store (one transaction). */
static int put_county(bbt_store *st, const struct county *c)
{
    char err[256], id[32], sid[32];
    int rc = bbt_store_begin(st, err, sizeof err);
    for (int i = 0; rc == BBT_OK && i < c->schools; i++) {
        bbt_school s = {.name = i < c->strong ? (char *)"城区学校" : (char *)"乡村学校"};
        snprintf(s.id, sizeof s.id, "%s-%03d", i < c->strong ? "city" : "rural", i);
        rc = bbt_store_put_school(st, &s, err, sizeof err);
    }
    int rural = c->schools - c->strong;
    for (int i = 0; rc == BBT_OK && i < c->classrooms; i++) {
        bool src = i < c->sources;
        int school = src ? i % c->strong : c->strong + (i - c->sources) % rural;
        snprintf(sid, sizeof sid, "%s-%03d", src ? "city" : "rural", school);
        classroom_id(c, i, id, sizeof id);
        bbt_classroom cl = {.name = (char *)"教室", .role = src ? BBT_CR_SOURCE : BBT_CR_RECEIVER,
                            .tz = BBT_DEFAULT_TZ};
        snprintf(cl.id, sizeof cl.id, "%s", id);
        snprintf(cl.school, sizeof cl.school, "%s", sid);
        rc = bbt_store_put_classroom(st, &cl, err, sizeof err);
    }
    if (rc == BBT_OK)
        rc = bbt_store_commit(st, err, sizeof err);
    if (rc != BBT_OK)
        fprintf(stderr, "county: %s\n", err);
    return rc;
}

/* The timetable: source classroom s teaches in slots (day, period) s*k..., each lesson to the
 * first 3 receivers (from a random start) free in that slot. */
static int write_csv(const struct county *c, const char *path)
{
    static const char *const starts[PERIODS] = {"08:00", "08:50", "09:40", "10:30",
                                                "11:20", "14:00", "14:50", "15:40"};
    static const char *const ends[PERIODS] = {"08:40", "09:30", "10:20", "11:10",
                                              "12:00", "14:40", "15:30", "16:20"};
    static const char *const subjects[] = {"音乐", "美术", "英语", "科学", "体育", "书法"};
    int nrcv = c->classrooms - c->sources;
    unsigned char *busy = calloc((size_t)nrcv * DAYS * PERIODS, 1);
    FILE *f = fopen(path, "w");
    if (!busy || !f)
        return -1;
    fputs("\xef\xbb\xbf课程编号,标题,学科,教师,主讲教室,听课教室,星期,开始,结束,学期开始,学期结束\r\n", f);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int per_source = c->sessions / c->sources, made = 0;
    for (int s = 0; s < c->sources; s++) {
        char src[32];
        classroom_id(c, s, src, sizeof src);
        for (int k = 0; k < per_source && made < c->sessions; k++, made++) {
            int slot = (s + k * 2) % (DAYS * PERIODS); /* a source's 20 slots are distinct */
            int day = slot / PERIODS, period = slot % PERIODS;
            char rcv[3 * 16] = "";
            int got = 0, start = (int)(rng(&seed) % (uint64_t)nrcv);
            for (int r = 0; r < nrcv && got < RECEIVERS_PER_SESSION; r++) {
                int ri = (start + r) % nrcv;
                unsigned char *b = &busy[(size_t)ri * DAYS * PERIODS + (size_t)slot];
                if (*b)
                    continue;
                *b = 1;
                char id[16];
                snprintf(id, sizeof id, "rcv-%04d", ri);
                strcat(rcv, got ? ";" : "");
                strcat(rcv, id);
                got++;
            }
            const char *subj = subjects[(s + k) % 6];
            fprintf(f, "s%05d,%s：第%d课,%s,教师%d,%s,%s,%d,%s,%s,2025-02-17,2025-07-04\r\n", made,
                    subj, k + 1, subj, s, src, rcv, day + 1, starts[period], ends[period]);
        }
    }
    free(busy);
    return fclose(f) == 0 ? made : -1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The import as the relay runs it: read, check, write in one transaction. */
static int import(bbt_store *st, const char *csv)
{
    char err[256];
    size_t len = 0;
    char *data = slurp(csv, &len);
    if (!data)
        return BBT_EIO;
    bbt_timetable t, merged;
    bbt_import_result r;
    bbt_import_result_init(&r);
    double t0 = now_s();
    int rc = bbt_store_load(st, &t, err, sizeof err);
    double t1 = now_s();
    rc = rc == BBT_OK ? bbt_import_csv(&t, data, len, &merged, &r) : rc;
    double t2 = now_s();
    if (rc != BBT_OK) {
        fprintf(stderr, "import refused (%d): %s\n", rc, r.problems.n ? r.problems.v[0].en : err);
        return rc;
    }
    rc = bbt_store_begin(st, err, sizeof err);
    for (size_t i = 0; rc == BBT_OK && i < merged.nsessions; i++)
        rc = bbt_store_put_session(st, &merged.sessions[i], err, sizeof err);
    if (rc == BBT_OK)
        rc = bbt_store_commit(st, err, sizeof err);
    double t3 = now_s();
    printf("import: %zu bytes, %zu sessions: load %.3f s, read+check %.3f s, write %.3f s, "
           "total %.3f s\n",
           len, r.rows, t1 - t0, t2 - t1, t3 - t2, t3 - t0);
    bbt_tt_free(&t);
    bbt_tt_free(&merged);
    bbt_import_result_free(&r);
    free(data);
    return rc;
}

static void hook_send(void *conn, json_t *m, void *ud)
{
    (void)conn, (void)ud;
    json_decref(m);
}
static void hook_live(const char *s, bbt_sched_live *o, void *ud)
{
    (void)s, (void)ud;
    o->state = "none";
}
static void hook_layer(void *conn, char *b, size_t n, void *ud)
{
    (void)conn, (void)ud;
    snprintf(b, n, "%s", "");
}

/* The stall measurement's connection and reply. */
struct stall_op {
    json_t *reply;
};
static void stall_send(void *conn, json_t *m, void *ud)
{
    (void)ud;
    struct stall_op *op = conn;
    json_decref(op->reply);
    op->reply = m;
}

/* One request the way the event loop runs it: the longest time inside one call (ms); *wait_s
 * is the time until the reply. */
static double loop_request(bbt_sched *s, struct stall_op *op, bbt_msg_type type, json_t *m,
                           double *wait_s)
{
    double t0 = now_s();
    json_t *r = bbt_sched_request(s, op, type, m);
    double worst = now_s() - t0;
    if (r)
        stall_send(op, r, NULL);
    while (!op->reply) {
        usleep(1000);
        double a = now_s();
        bbt_sched_poll(s);
        double d = now_s() - a;
        worst = d > worst ? d : worst;
    }
    *wait_s = now_s() - t0;
    return worst * 1000;
}

static int stall(const char *dir, const struct county *c, const char *csv, bool inline_jobs)
{
    char db[600], cmd[700], err[256];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/stall.db*", dir);
    snprintf(db, sizeof db, "%s/stall.db", dir);
    bbt_store *st;
    if (system(cmd) != 0 || bbt_store_open(db, &st, err, sizeof err) != BBT_OK ||
        put_county(st, c) != BBT_OK)
        return BBT_EIO;
    bbt_store_close(st);
    size_t len = 0;
    char *data = slurp(csv, &len);
    /* the scheduler clock at 2025-04-01 12:00 in Shanghai: March's lessons have all started */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    bbt_sched_opts o = {.db_path = db, .lead_ms = 120000, .flush_ms = 30000, .time_scale = 1,
                        .clock_offset_ms = 1743480000000LL - real_ms, .timezone = BBT_DEFAULT_TZ,
                        .max_import_bytes = 1u << 24, .inline_jobs = inline_jobs};
    bbt_sched_hooks h = {stall_send, hook_live, hook_layer, NULL, NULL};
    int rc;
    bbt_sched *s = data ? bbt_sched_new(&o, &h, &rc, err, sizeof err) : NULL;
    if (!s) {
        fprintf(stderr, "stall: %s\n", data ? err : "cannot read the CSV");
        free(data);
        return BBT_EIO;
    }
    struct stall_op op = {NULL};
    bbt_sched_hello(s, &op, BBT_SCHED_OPERATOR, NULL);
    json_t *m = json_pack("{s:s, s:s, s:i, s:b, s:s%}", "type", "import", "upload", "u", "part", 0,
                          "last", 1, "csv", data, len);
    double wait_s, worst = loop_request(s, &op, BBT_MSG_IMPORT, m, &wait_s);
    json_decref(m);
    printf("%s import: longest event-loop stall %.1f ms, reply after %.3f s (%s)\n",
           inline_jobs ? "inline" : "worker", worst, wait_s,
           json_string_value(json_object_get(op.reply, "state")));
    json_decref(op.reply);
    op.reply = NULL;
    /* again, onto the full timetable (the loop copies it for the job): all unchanged */
    m = json_pack("{s:s, s:s, s:i, s:b, s:s%}", "type", "import", "upload", "u", "part", 0,
                  "last", 1, "csv", data, len);
    worst = loop_request(s, &op, BBT_MSG_IMPORT, m, &wait_s);
    json_decref(m);
    printf("%s re-import (10,000 unchanged): longest event-loop stall %.1f ms, reply after %.3f s\n",
           inline_jobs ? "inline" : "worker", worst, wait_s);
    json_decref(op.reply);
    op.reply = NULL;
    m = json_pack("{s:s, s:s, s:s}", "type", "attendance_export", "from", "2025-03-01", "to",
                  "2025-03-31");
    worst = loop_request(s, &op, BBT_MSG_ATTENDANCE_EXPORT, m, &wait_s);
    json_decref(m);
    printf("%s attendance export (March): longest event-loop stall %.1f ms, reply after %.3f s "
           "(%lld rows)\n",
           inline_jobs ? "inline" : "worker", worst, wait_s,
           (long long)json_integer_value(json_object_get(op.reply, "total")));
    json_decref(op.reply);
    bbt_sched_closed(s, &op);
    bbt_sched_free(s);
    free(data);
    return BBT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int lookups(const char *db, const struct county *c, int n)
{
    bbt_sched_opts o = {.db_path = db, .lead_ms = 120000, .flush_ms = 30000, .time_scale = 1,
                        .timezone = BBT_DEFAULT_TZ, .max_import_bytes = 1u << 24};
    bbt_sched_hooks h = {hook_send, hook_live, hook_layer, NULL, NULL};
    int st;
    char err[256];
    double t0 = now_s();
    bbt_sched *s = bbt_sched_new(&o, &h, &st, err, sizeof err);
    if (!s) {
        fprintf(stderr, "scheduler: %s\n", err);
        return st;
    }
    printf("relay start: load the timetable %.3f s\n", now_s() - t0);
    double *v = malloc((size_t)n * sizeof *v);
    uint64_t seed = 42;
    size_t bytes = 0;
    /* Wednesday 2025-03-05 09:00 in Shanghai: a school day in the term */
    const int64_t at = 1741136400000000LL;
    for (int i = 0; i < n; i++) {
        char id[32];
        classroom_id(c, (int)(rng(&seed) % (uint64_t)c->classrooms), id, sizeof id);
        double a = now_s();
        char *p = bbt_sched_plan(s, id, at);
        v[i] = (now_s() - a) * 1e6;
        bytes += p ? strlen(p) : 0;
        free(p);
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("plan lookups: %d, median %.1f us, p99 %.1f us, max %.1f us (%.0f bytes on average)\n", n,
           v[n / 2], v[(int)((double)n * 0.99)], v[n - 1], (double)bytes / n);
    free(v);
    bbt_sched_free(s);
    return BBT_OK;
}

int main(int argc, char **argv)
{
    struct county c = {300, 60, 2000, 500, 10000};
    const char *dir = "/tmp/bbt-schedbench", *csv = NULL;
    int n = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--csv") == 0)
            csv = argv[i + 1];
        else if (strcmp(argv[i], "--lookups") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--sessions") == 0)
            c.sessions = atoi(argv[i + 1]);
    }
    char db[512], path[512], cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && rm -f '%s'/schedule.db*", dir, dir);
    if (system(cmd) != 0)
        return 1;
    snprintf(db, sizeof db, "%s/schedule.db", dir);
    snprintf(path, sizeof path, "%s", csv ? csv : "");
    if (!csv)
        snprintf(path, sizeof path, "%s/county.csv", dir);
    int made = write_csv(&c, path);
    printf("county: %d schools, %d classrooms, %d weekly sessions -> %s\n", c.schools,
           c.classrooms, made, path);
    bbt_store *st;
    char err[256];
    if (bbt_store_open(db, &st, err, sizeof err) != BBT_OK || put_county(st, &c) != BBT_OK) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    int rc = import(st, path);
    bbt_store_close(st);
    if (rc == BBT_OK)
        rc = lookups(db, &c, n);
    if (rc == BBT_OK)
        rc = stall(dir, &c, path, true);
    if (rc == BBT_OK)
        rc = stall(dir, &c, path, false);
    return rc == BBT_OK ? 0 : 1;
}
