/* tests/relay/schedule/test_worker.c — relay/schedule/worker.c: jobs run on another thread, in
 * the order submitted, each with the worker's own store (a real SQLite connection: it reads
 * what another connection committed); finished jobs come back in order; every finished job
 * wakes the caller (from the worker thread); freeing the worker hands back what was not
 * collected — finished jobs as ran, queued jobs as not run. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto/status.h"
#include "relay/schedule/worker.h"

struct tjob {
    bbt_job base;
    int n;
    pthread_t ran_on;
    bool ran;
    size_t schools;                /* what the worker's store saw */
    pthread_mutex_t *gate;         /* held by the test: the job waits for it */
    atomic_int *started;
};

static void run(bbt_job *b, bbt_store *st)
{
    struct tjob *j = (struct tjob *)b;
    if (j->started)
        atomic_fetch_add(j->started, 1);
    if (j->gate) {
        pthread_mutex_lock(j->gate);
        pthread_mutex_unlock(j->gate);
    }
    j->ran_on = pthread_self();
    j->ran = true;
    bbt_timetable t;
    char err[256];
    if (bbt_store_load(st, &t, err, sizeof err) == BBT_OK) {
        j->schools = t.nschools;
        bbt_tt_free(&t);
    }
}

struct wake_count {
    atomic_int n;
};

static void wake(void *ud)
{
    atomic_fetch_add(&((struct wake_count *)ud)->n, 1);
}

static int dropped_ran, dropped_queued;
static void drop(bbt_job *b, bool ran)
{
    if (ran)
        dropped_ran++;
    else
        dropped_queued++;
    free(b);
}

static char dir[64], db[128];

static bbt_worker *new_worker(struct wake_count *wc)
{
    int st;
    char err[256];
    bbt_worker *w = bbt_worker_new(db, wake, wc, &st, err, sizeof err);
    if (!w)
        fail_msg("bbt_worker_new: %s", err);
    return w;
}

static struct tjob *job(int n)
{
    struct tjob *j = calloc(1, sizeof *j);
    j->base.run = run;
    j->n = n;
    return j;
}

static void test_order_thread_store(void **state)
{
    (void)state;
    /* a school committed by another connection before the jobs */
    bbt_store *st;
    char err[256];
    assert_int_equal(bbt_store_open(db, &st, err, sizeof err), BBT_OK);
    bbt_school sc = {.id = "hz", .name = (char *)"实验小学"};
    assert_int_equal(bbt_store_begin(st, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_put_school(st, &sc, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_store_commit(st, err, sizeof err), BBT_OK);
    bbt_store_close(st);

    struct wake_count wc = {0};
    bbt_worker *w = new_worker(&wc);
    for (int i = 0; i < 3; i++)
        bbt_worker_submit(w, &job(i)->base);
    int got = 0;
    for (int tries = 0; got < 3 && tries < 5000; tries++) {
        bbt_job *next;
        for (bbt_job *b = bbt_worker_done(w); b; b = next) {
            next = b->next;
            struct tjob *j = (struct tjob *)b;
            assert_int_equal(j->n, got++);       /* in order */
            assert_true(j->ran);
            assert_false(pthread_equal(j->ran_on, pthread_self()));
            assert_int_equal(j->schools, 1);     /* the worker's own connection sees it */
            free(j);
        }
        usleep(1000);
    }
    assert_int_equal(got, 3);
    assert_int_equal(atomic_load(&wc.n), 3);
    assert_null(bbt_worker_done(w));
    bbt_worker_free(w, drop);
}

static void test_free_hands_back(void **state)
{
    (void)state;
    struct wake_count wc = {0};
    bbt_worker *w = new_worker(&wc);
    /* one job finished and not collected */
    bbt_worker_submit(w, &job(0)->base);
    for (int i = 0; atomic_load(&wc.n) < 1 && i < 5000; i++)
        usleep(1000);
    assert_int_equal(atomic_load(&wc.n), 1);
    /* one job held at its start, two queued behind it */
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    atomic_int started = 0;
    pthread_mutex_lock(&gate);
    struct tjob *held = job(1);
    held->gate = &gate;
    held->started = &started;
    bbt_worker_submit(w, &held->base);
    bbt_worker_submit(w, &job(2)->base);
    bbt_worker_submit(w, &job(3)->base);
    for (int i = 0; atomic_load(&started) < 1 && i < 5000; i++)
        usleep(1000);
    assert_int_equal(atomic_load(&started), 1);
    dropped_ran = dropped_queued = 0;
    pthread_mutex_unlock(&gate); /* bbt_worker_free waits for the running job */
    bbt_worker_free(w, drop);
    /* the finished one and the held one ran; the others may or may not have started before
     * the stop was seen, but every job is handed back exactly once */
    assert_int_equal(dropped_ran + dropped_queued, 4);
    assert_true(dropped_ran >= 2);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-worker-XXXXXX");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_thread_store),
        cmocka_unit_test(test_free_hands_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
