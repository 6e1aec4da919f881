/* relay/schedule/worker.h — the scheduler's worker thread: long timetable jobs (a county
 * import, a month's attendance export) run here instead of on the relay's event loop.
 *
 * One thread with its OWN SQLite connection to the schedule database (WAL: it reads while the
 * event loop reads and writes; a write of its own waits for no reader). Jobs go in through a
 * request queue and come back through a completion queue, both FIFO, each under one mutex
 * held only to link or unlink a job. When a job is finished the worker calls wake(ud) — from
 * the worker thread, with no lock held — so the event loop collects finished jobs soon
 * (the relay: lws_cancel_service → LWS_CALLBACK_EVENT_WAIT_CANCELLED → bbt_sched_poll); the
 * loop may also just poll. A job's run() is the only code that runs on the worker thread: it
 * touches only what the job owns and the worker's store. The loop owns a job before submit
 * and after bbt_worker_done; never in between.
 * Status: proto/status.h. No global state. */
#ifndef BBT_SCHED_WORKER_H
#define BBT_SCHED_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/schedule/store.h"

typedef struct bbt_worker bbt_worker;
typedef struct bbt_job bbt_job;

/* Embed this at the start of a job's struct. */
struct bbt_job {
    void (*run)(bbt_job *j, bbt_store *st); /* worker thread */
    bbt_job *next;                          /* queue link: the worker's */
};

/* Open the worker's store on db_path and start the thread. NULL with err on failure
 * (BBT_EIO: the database or the thread; BBT_ENOMEM). wake may be NULL. */
bbt_worker *bbt_worker_new(const char *db_path, void (*wake)(void *ud), void *ud, int *status,
                           char *err, size_t errlen);

/* Queue a job (never fails: the link is in the job). */
void bbt_worker_submit(bbt_worker *w, bbt_job *j);

/* The finished jobs, oldest first (a list linked by next), or NULL. */
bbt_job *bbt_worker_done(bbt_worker *w);

/* Stop: the job running finishes, queued jobs are not run; every job not yet collected
 * (finished or not) is handed to drop(j, ran) on the calling thread. Joins the thread, closes
 * its store. */
void bbt_worker_free(bbt_worker *w, void (*drop)(bbt_job *j, bool ran));

#endif
