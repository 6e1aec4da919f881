/* relay/schedule/jobs.c — the two long operator requests as worker jobs (worker.h): a
 * timetable import (read, check against a copy of the timetable, write in one transaction on
 * the worker's own connection) and an attendance export (rows from the worker's connection
 * and a copy of the timetable). The event loop copies what a job needs, submits it, and
 * answers later in jobs_poll: it swaps an applied import's timetable in and re-plans, caches
 * an export's rows for its next pages, and sends the reply to the connection that asked — if
 * it is still there (found by pointer AND serial: a new connection at a reused address is not
 * it). While an import writes, every other timetable write is refused (BBT_ELIMIT) and
 * attendance waits in memory (attend.c), so the event loop never waits for the database's
 * write lock. Without a worker (bbt_sched_opts.inline_jobs) the same code runs inline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/schedule/groups.h"
#include "relay/schedule/import.h"
#include "relay/schedule/sched_internal.h"

enum { JOB_IMPORT = 1, JOB_EXPORT = 2 };

struct job {
    bbt_job base;                  /* first */
    int kind;
    void *conn;
    uint64_t serial;
    json_t *echo;                  /* {"id": …} of the request, for ref_id */
    bbt_timetable snap;            /* a copy of the timetable (the worker indexes it) */
    int64_t now;
    json_t *reply;                 /* the answer (import) */
};

struct import_job {
    struct job j;
    struct upload *up;
    bool dry_run;
    bbt_timetable merged;          /* the new timetable, when applied */
    bool applied;
    size_t rows, added, changed, unchanged;
};

struct export_job {
    struct job j;
    bbt_day from, to;
    char only[BBT_ID_MAX + 1];
    json_int_t offset, limit;
    int tz_min;
    json_t *rows;
    int status;
    char err[SCHED_ERR_MAX];
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    json_decref(j->echo);
    json_decref(j->reply);
    bbt_tt_free(&j->snap);
    if (j->kind == JOB_IMPORT) {
        struct import_job *ij = (struct import_job *)j;
        if (ij->up)
            free(ij->up->data);
        free(ij->up);
        bbt_tt_free(&ij->merged);
    } else {
        json_decref(((struct export_job *)j)->rows);
    }
    free(j);
}

/* ---- import (worker side: only the job and the store) ------------------------------------- */

static int w_import(bbt_store *st, const bbt_timetable *merged, const bbt_import_result *r,
                    int64_t now, char *e, size_t n)
{
    int rc = BBT_OK;
    for (size_t i = 0; rc == BBT_OK && i < r->nchanges; i++) {
        if (r->changes[i].kind == BBT_CHANGE_SAME)
            continue;
        int si = bbt_tt_find_session(merged, r->changes[i].session);
        rc = si < 0 ? BBT_EINVAL : bbt_store_put_session(st, &merged->sessions[si], e, n);
    }
    if (rc == BBT_OK)
        rc = bbt_store_log_import(st, now, "operator", r->rows, r->added, r->changed, e, n);
    return rc;
}

static json_t *changes_json(const bbt_import_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->nchanges && i < 1000; i++) {
        const bbt_import_change *c = &r->changes[i];
        const char *k = c->kind == BBT_CHANGE_ADD ? "added" : c->kind == BBT_CHANGE_CHANGE
                                                                  ? "changed"
                                                                  : "unchanged";
        json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "session", c->session, "change", k,
                                           "line", (json_int_t)c->line));
    }
    return a;
}

/* Education groups (groups.h): warnings for every session of the file, with its line; the
 * import goes ahead. */
static void import_warnings(const bbt_timetable *merged, const bbt_import_result *r,
                            json_t *reply)
{
    bbt_problems w;
    bbt_problems_init(&w);
    for (size_t i = 0; i < r->nchanges; i++) {
        int si = bbt_tt_find_session(merged, r->changes[i].session);
        if (si >= 0)
            bbt_groups_check_session(merged, &merged->sessions[si], &w);
    }
    bbt_problems_sort(&w);
    json_object_set_new(reply, "warnings", problems_json(&w));
    json_object_set_new(reply, "warnings_total", json_integer((json_int_t)bbt_problems_total(&w)));
    bbt_problems_free(&w);
}

/* Write the merged timetable's changes in one transaction: NULL, or the error reply. */
static json_t *import_write(struct import_job *ij, bbt_store *st, const bbt_import_result *r)
{
    char err[SCHED_ERR_MAX] = "";
    int rc = bbt_store_begin(st, err, sizeof err);
    if (rc == BBT_OK) {
        rc = w_import(st, &ij->merged, r, ij->j.now, err, sizeof err);
        if (rc == BBT_OK)
            rc = bbt_store_commit(st, err, sizeof err); /* rolls back if it fails */
        else
            bbt_store_rollback(st);
    }
    if (rc == BBT_OK)
        return NULL;
    if (rc == BBT_ENOMEM)
        return sched_error(rc, NULL, NULL, BBT_MSG_IMPORT);
    BBT_ERROR("schedule: database: %s", err);
    char zh[SCHED_ERR_MAX + 64];
    snprintf(zh, sizeof zh, "课表数据库出错：%s", err);
    return sched_error(rc, err, zh, BBT_MSG_IMPORT);
}

static void run_import(bbt_job *base, bbt_store *st)
{
    struct import_job *ij = (struct import_job *)base;
    struct upload *up = ij->up;
    bbt_import_result r;
    bbt_import_result_init(&r);
    int rc = bbt_tt_index(&ij->j.snap);
    if (rc == BBT_OK)
        rc = bbt_import_csv(&ij->j.snap, up->data ? up->data : "", up->len, &ij->merged, &r);
    bbt_tt_free(&ij->j.snap); /* not needed any more: free it here, off the loop */
    if (rc == BBT_ENOMEM) {
        bbt_import_result_free(&r);
        ij->j.reply = sched_error(rc, NULL, NULL, BBT_MSG_IMPORT);
        return;
    }
    const char *state = rc != BBT_OK ? "refused" : ij->dry_run ? "checked" : "applied";
    json_t *reply = json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o}",
                              "type", "imported", "upload", up->id, "state", state,
                              "received_bytes", (json_int_t)up->len, "dry_run", ij->dry_run,
                              "rows", (json_int_t)r.rows, "added", (json_int_t)r.added,
                              "changed", (json_int_t)r.changed, "unchanged",
                              (json_int_t)r.unchanged, "changes", changes_json(&r), "problems",
                              problems_json(&r.problems), "problems_total",
                              (json_int_t)bbt_problems_total(&r.problems), "notes",
                              problems_json(&r.notes));
    if (rc == BBT_OK && reply)
        import_warnings(&ij->merged, &r, reply);
    if (rc == BBT_OK && !ij->dry_run && reply) {
        json_t *err = import_write(ij, st, &r);
        if (err) {
            json_decref(reply);
            reply = err;
        } else {
            ij->applied = true;
            ij->rows = r.rows;
            ij->added = r.added;
            ij->changed = r.changed;
            ij->unchanged = r.unchanged;
        }
    }
    if (!ij->applied)
        bbt_tt_free(&ij->merged);
    bbt_import_result_free(&r);
    ij->j.reply = reply ? reply : sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_IMPORT);
}

/* ---- export (worker side) ------------------------------------------------------------------ */

static void run_export(bbt_job *base, bbt_store *st)
{
    struct export_job *ej = (struct export_job *)base;
    ej->status = bbt_tt_index(&ej->j.snap);
    if (ej->status != BBT_OK)
        return;
    struct export_src x = {&ej->j.snap, ej->tz_min, ej->j.now};
    ej->rows = att_rows(&x, st, ej->from, ej->to, ej->only[0] ? ej->only : NULL, &ej->status,
                        ej->err, sizeof ej->err);
    bbt_tt_free(&ej->j.snap);
}

/* ---- the event loop's side ----------------------------------------------------------------- */

/* A job for connection sl with a copy of the timetable: NULL when out of memory. */
static struct job *job_new(bbt_sched *s, struct slot *sl, size_t size, int kind,
                           void (*run)(bbt_job *, bbt_store *), const json_t *req)
{
    struct job *j = calloc(1, size);
    if (!j)
        return NULL;
    j->kind = kind;
    j->base.run = run;
    j->conn = sl->conn;
    j->serial = sl->serial;
    j->now = bbt_sched_now(s);
    j->echo = json_object();
    json_t *id = json_object_get(req, "id");
    if (j->echo && id)
        json_object_set_new(j->echo, "id", json_deep_copy(id));
    if (!j->echo || bbt_tt_clone(&s->tt, &j->snap) != BBT_OK) {
        json_decref(j->echo);
        free(j);
        return NULL;
    }
    return j;
}

/* An import job is answered: apply it (the loop's side) and return the reply. */
static json_t *import_done(bbt_sched *s, struct import_job *ij)
{
    s->importing = s->writing = false;
    if (ij->applied) {
        bbt_tt_free(&s->tt);
        s->tt = ij->merged;
        bbt_tt_init(&ij->merged);
        sched_timetable_changed(s);
        BBT_INFO("schedule: imported %zu rows: %zu added, %zu changed, %zu unchanged", ij->rows,
                 ij->added, ij->changed, ij->unchanged);
    }
    char err[SCHED_ERR_MAX];
    if (att_flush(s, err, sizeof err) != BBT_OK) /* what waited for the write */
        BBT_ERROR("schedule: attendance not written: %s", err);
    json_t *r = ij->j.reply;
    ij->j.reply = NULL;
    return r;
}

json_t *jobs_import(bbt_sched *s, struct slot *sl, struct upload *up, bool dry_run,
                    const json_t *req)
{
    if (s->importing) {
        free(up->data);
        free(up);
        return sched_error(BBT_ELIMIT,
                           "another import is being checked or written; send this one when "
                           "that one is answered",
                           "另一个课表文件正在检查或写入，请在它完成后再导入", BBT_MSG_IMPORT);
    }
    struct import_job *ij = (struct import_job *)job_new(s, sl, sizeof *ij, JOB_IMPORT,
                                                         run_import, req);
    if (!ij) {
        free(up->data);
        free(up);
        return sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_IMPORT);
    }
    ij->up = up;
    ij->dry_run = dry_run;
    s->importing = true;
    s->writing = !dry_run;
    if (s->worker) {
        bbt_worker_submit(s->worker, &ij->j.base);
        return NULL;
    }
    run_import(&ij->j.base, s->store);
    json_t *r = import_done(s, ij);
    job_free(&ij->j);
    return r;
}

int jobs_export(bbt_sched *s, struct slot *sl, const json_t *req, bbt_day from, bbt_day to,
                const char *only, json_int_t offset, json_int_t limit)
{
    struct export_job *ej = (struct export_job *)job_new(s, sl, sizeof *ej, JOB_EXPORT,
                                                         run_export, req);
    if (!ej)
        return BBT_ENOMEM;
    ej->from = from;
    ej->to = to;
    snprintf(ej->only, sizeof ej->only, "%s", only ? only : "");
    ej->offset = offset;
    ej->limit = limit;
    ej->tz_min = s->tz_min;
    bbt_worker_submit(s->worker, &ej->j.base);
    return BBT_OK;
}

/* An export's rows are here: cache them on the connection, answer its first page. */
static json_t *export_done(struct slot *sl, struct export_job *ej)
{
    int st = ej->status;
    if (st != BBT_OK) {
        if (st == BBT_ENOMEM)
            return sched_error(st, NULL, NULL, BBT_MSG_ATTENDANCE_EXPORT);
        char zh[SCHED_ERR_MAX + 64];
        snprintf(zh, sizeof zh, "课表数据库出错：%s", ej->err);
        return sched_error(st, ej->err, zh, BBT_MSG_ATTENDANCE_EXPORT);
    }
    json_t *rows = ej->rows;
    ej->rows = NULL;
    json_t *r = att_page(sl, ej->from, ej->to, ej->only[0] ? ej->only : NULL, rows, ej->offset,
                         ej->limit, &st);
    return r ? r : sched_error(BBT_ENOMEM, NULL, NULL, BBT_MSG_ATTENDANCE_EXPORT);
}

static void finish(bbt_sched *s, struct job *j)
{
    struct slot *sl = sched_slot(s, j->conn);
    bool there = sl && sl->serial == j->serial;
    json_t *r = NULL;
    if (j->kind == JOB_IMPORT)
        r = import_done(s, (struct import_job *)j); /* applied even if the operator left */
    else if (there)
        r = export_done(sl, (struct export_job *)j);
    if (there && r) {
        bbt_msg_echo_id(r, j->echo);
        s->hooks.send(j->conn, r, s->hooks.ud);
    } else {
        if (!there)
            BBT_INFO("schedule: the connection that asked is gone: its %s reply is dropped",
                     j->kind == JOB_IMPORT ? "import" : "export");
        json_decref(r);
    }
    job_free(j);
}

void jobs_poll(bbt_sched *s)
{
    if (!s->worker)
        return;
    bbt_job *next;
    for (bbt_job *b = bbt_worker_done(s->worker); b; b = next) {
        next = b->next;
        finish(s, (struct job *)b);
    }
}

static void drop(bbt_job *b, bool ran)
{
    (void)ran;
    job_free((struct job *)b);
}

void jobs_stop(bbt_sched *s)
{
    bbt_worker_free(s->worker, drop);
    s->worker = NULL;
    s->importing = s->writing = false;
}
