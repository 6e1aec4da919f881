/* relay/schedule/worker.c — the scheduler's worker thread (see worker.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/worker.h"

struct queue {
    bbt_job *head, *tail;
};

struct bbt_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct queue todo, done;
    bool stop;
    bbt_store *store;
    void (*wake)(void *ud);
    void *ud;
};

static void push(struct queue *q, bbt_job *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static bbt_job *pop(struct queue *q)
{
    bbt_job *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        j->next = NULL;
    }
    return j;
}

static void *worker_main(void *arg)
{
    bbt_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && !w->todo.head)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        bbt_job *j = pop(&w->todo);
        pthread_mutex_unlock(&w->mu);
        j->run(j, w->store); /* no lock held */
        pthread_mutex_lock(&w->mu);
        push(&w->done, j);
        pthread_mutex_unlock(&w->mu);
        if (w->wake)
            w->wake(w->ud); /* no lock held: the loop may take the job at once */
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

bbt_worker *bbt_worker_new(const char *db_path, void (*wake)(void *ud), void *ud, int *status,
                           char *err, size_t errlen)
{
    bbt_worker *w = calloc(1, sizeof *w);
    if (!w) {
        *status = BBT_ENOMEM;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->wake = wake;
    w->ud = ud;
    *status = bbt_store_open(db_path, &w->store, err, errlen);
    if (*status != BBT_OK) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        snprintf(err, errlen, "cannot start the timetable's worker thread");
        *status = BBT_EIO;
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        bbt_store_close(w->store);
        free(w);
        return NULL;
    }
    return w;
}

void bbt_worker_submit(bbt_worker *w, bbt_job *j)
{
    pthread_mutex_lock(&w->mu);
    push(&w->todo, j);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bbt_job *bbt_worker_done(bbt_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bbt_job *list = w->done.head;
    w->done.head = w->done.tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return list;
}

void bbt_worker_free(bbt_worker *w, void (*drop)(bbt_job *j, bool ran))
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    bbt_job *j;
    while ((j = pop(&w->done)))
        drop(j, true);
    while ((j = pop(&w->todo)))
        drop(j, false);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    bbt_store_close(w->store);
    free(w);
}
