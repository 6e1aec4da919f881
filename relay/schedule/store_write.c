/* relay/schedule/store_write.c — writes to the schedule database: one row at a time through
 * prepared statements, inside the caller's transaction (see store.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/store_internal.h"

#define ST(name) (s->st[name])

int bbt_store_begin(bbt_store *s, char *err, size_t errlen)
{
    return bbt_store_step_done(s, ST(ST_BEGIN), "begin", err, errlen);
}

int bbt_store_commit(bbt_store *s, char *err, size_t errlen)
{
    int rc = bbt_store_step_done(s, ST(ST_COMMIT), "commit", err, errlen);
    if (rc != BBT_OK)
        bbt_store_rollback(s);
    return rc;
}

void bbt_store_rollback(bbt_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        bbt_store_step_done(s, ST(ST_ROLLBACK), "rollback", NULL, 0);
}

int bbt_store_put_school(bbt_store *s, const bbt_school *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_SCHOOL);
    bbt_store_bind_text(st, 1, v->id);
    bbt_store_bind_text(st, 2, v->name ? v->name : "");
    return bbt_store_step_done(s, st, "school", err, errlen);
}

int bbt_store_put_classroom(bbt_store *s, const bbt_classroom *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_CLASSROOM);
    bbt_store_bind_text(st, 1, v->id);
    bbt_store_bind_text(st, 2, v->name ? v->name : "");
    bbt_store_bind_text(st, 3, v->school);
    bbt_store_bind_text(st, 4, bbt_cr_role_name(v->role));
    bbt_store_bind_text(st, 5, v->tz);
    return bbt_store_step_done(s, st, "classroom", err, errlen);
}

int bbt_store_put_group(bbt_store *s, const bbt_group *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_GROUP);
    bbt_store_bind_text(st, 1, v->id);
    bbt_store_bind_text(st, 2, v->name ? v->name : "");
    bbt_store_bind_text(st, 3, v->strong);
    bbt_store_bind_day(st, 4, v->term_start);
    bbt_store_bind_day(st, 5, v->term_end);
    int rc = bbt_store_step_done(s, st, "group", err, errlen);
    if (rc == BBT_OK) {
        bbt_store_bind_text(ST(ST_DEL_MEMBERS), 1, v->id);
        rc = bbt_store_step_done(s, ST(ST_DEL_MEMBERS), "group members", err, errlen);
    }
    for (size_t i = 0; rc == BBT_OK && i < v->nweak; i++) {
        st = ST(ST_PUT_MEMBER);
        bbt_store_bind_text(st, 1, v->id);
        bbt_store_bind_text(st, 2, v->weak[i]);
        sqlite3_bind_int(st, 3, (int)i);
        rc = bbt_store_step_done(s, st, "group member", err, errlen);
    }
    return rc;
}

int bbt_store_put_session(bbt_store *s, const bbt_tt_session *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_SESSION);
    bool weekly = v->weekday != 0;
    bbt_store_bind_text(st, 1, v->id);
    bbt_store_bind_text(st, 2, v->title ? v->title : "");
    bbt_store_bind_text(st, 3, v->subject ? v->subject : "");
    bbt_store_bind_text(st, 4, v->teacher ? v->teacher : "");
    bbt_store_bind_text(st, 5, v->source);
    if (weekly)
        sqlite3_bind_int(st, 6, v->weekday);
    else
        sqlite3_bind_null(st, 6);
    bbt_store_bind_hhmm(st, 7, v->start_min);
    bbt_store_bind_hhmm(st, 8, v->end_min);
    bbt_store_bind_day(st, 9, weekly ? v->term_start : BBT_DAY_NONE);
    bbt_store_bind_day(st, 10, weekly ? v->term_end : BBT_DAY_NONE);
    bbt_store_bind_day(st, 11, weekly ? BBT_DAY_NONE : v->date);
    sqlite3_bind_int(st, 12, v->is_public ? 1 : 0);
    int rc = bbt_store_step_done(s, st, "session", err, errlen);
    if (rc == BBT_OK) {
        bbt_store_bind_text(ST(ST_DEL_RECEIVERS), 1, v->id);
        rc = bbt_store_step_done(s, ST(ST_DEL_RECEIVERS), "receivers", err, errlen);
    }
    for (size_t i = 0; rc == BBT_OK && i < v->nreceivers; i++) {
        st = ST(ST_PUT_RECEIVER);
        bbt_store_bind_text(st, 1, v->id);
        bbt_store_bind_text(st, 2, v->receivers[i]);
        sqlite3_bind_int(st, 3, (int)i);
        rc = bbt_store_step_done(s, st, "receiver", err, errlen);
    }
    return rc;
}

int bbt_store_put_holiday(bbt_store *s, const bbt_holiday *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_HOLIDAY);
    bbt_store_bind_text(st, 1, v->id);
    bbt_store_bind_text(st, 2, v->name ? v->name : "");
    bbt_store_bind_day(st, 3, v->first);
    bbt_store_bind_day(st, 4, v->last);
    return bbt_store_step_done(s, st, "holiday", err, errlen);
}

int bbt_store_put_exception(bbt_store *s, const bbt_exception *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_PUT_EXCEPTION);
    bool move = v->kind == BBT_EXC_MOVE;
    bbt_store_bind_text(st, 1, v->session);
    bbt_store_bind_day(st, 2, v->date);
    bbt_store_bind_text(st, 3, move ? "move" : "cancel");
    bbt_store_bind_day(st, 4, move ? v->to : BBT_DAY_NONE);
    if (move) {
        bbt_store_bind_hhmm(st, 5, v->start_min);
        bbt_store_bind_hhmm(st, 6, v->end_min);
    }
    bbt_store_bind_text(st, 7, v->reason ? v->reason : "");
    return bbt_store_step_done(s, st, "exception", err, errlen);
}

static int changed_one(bbt_store *s, int rc, const char *what, char *err, size_t errlen)
{
    if (rc == BBT_OK && sqlite3_changes(s->db) == 0) {
        if (err && errlen)
            snprintf(err, errlen, "no %s with that id", what);
        return BBT_ENOTFOUND;
    }
    return rc;
}

int bbt_store_delete(bbt_store *s, const char *kind, const char *id, char *err, size_t errlen)
{
    static const struct { const char *kind; enum stmt st; } kinds[] = {
        {"school", ST_DEL_SCHOOL},   {"classroom", ST_DEL_CLASSROOM}, {"group", ST_DEL_GROUP},
        {"session", ST_DEL_SESSION}, {"holiday", ST_DEL_HOLIDAY}};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kind, kinds[i].kind) != 0)
            continue;
        sqlite3_stmt *st = ST(kinds[i].st);
        bbt_store_bind_text(st, 1, id);
        int rc = bbt_store_step_done(s, st, kind, err, errlen);
        return changed_one(s, rc, kind, err, errlen);
    }
    return BBT_EINVAL;
}

int bbt_store_delete_exception(bbt_store *s, const char *session, bbt_day date, char *err,
                               size_t errlen)
{
    sqlite3_stmt *st = ST(ST_DEL_EXCEPTION);
    bbt_store_bind_text(st, 1, session);
    bbt_store_bind_day(st, 2, date);
    int rc = bbt_store_step_done(s, st, "exception", err, errlen);
    return changed_one(s, rc, "exception", err, errlen);
}

int bbt_store_log_import(bbt_store *s, int64_t at_us, const char *who, size_t rows,
                         size_t added, size_t changed, char *err, size_t errlen)
{
    sqlite3_stmt *st = ST(ST_LOG_IMPORT);
    sqlite3_bind_int64(st, 1, at_us);
    bbt_store_bind_text(st, 2, who ? who : "");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)rows);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)added);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)changed);
    return bbt_store_step_done(s, st, "import log", err, errlen);
}

/* ---- attendance ---------------------------------------------------------------------------- */

void bbt_attendance_add_layer(bbt_attendance *a, const char *label, int64_t seconds)
{
    for (size_t i = 0; i < a->nlayers; i++)
        if (strcmp(a->layers[i].label, label) == 0) {
            a->layers[i].seconds += seconds;
            return;
        }
    if (a->nlayers == BBT_LAYERS_MAX)
        return;
    snprintf(a->layers[a->nlayers].label, sizeof a->layers[0].label, "%s", label);
    a->layers[a->nlayers++].seconds = seconds;
}

/* "720p=120;audio=5" <-> layers. */
static void layers_parse(bbt_attendance *a, const char *text)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *sv = NULL, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        bbt_attendance_add_layer(a, tok, strtoll(eq + 1, NULL, 10));
    }
}

static void layers_format(const bbt_attendance *a, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->nlayers && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s=%" PRId64, i ? ";" : "",
                              a->layers[i].label, a->layers[i].seconds);
}

static void read_row(sqlite3_stmt *st, int col, bbt_attendance *a)
{
    a->joined_us = sqlite3_column_int64(st, col);
    a->left_us = sqlite3_column_int64(st, col + 1);
    a->seconds = sqlite3_column_int64(st, col + 2);
    layers_parse(a, bbt_store_col_text(st, col + 3));
    a->stalls = sqlite3_column_int64(st, col + 4);
}

int bbt_store_attendance_add(bbt_store *s, const bbt_attendance *d, char *err, size_t errlen)
{
    bbt_attendance a = *d;
    sqlite3_stmt *st = ST(ST_ATT_GET);
    bbt_store_bind_day(st, 1, d->date);
    bbt_store_bind_text(st, 2, d->session);
    bbt_store_bind_text(st, 3, d->classroom);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) { /* the stored row first, so its layers keep their order */
        a.nlayers = 0;
        read_row(st, 0, &a);
        a.joined_us = a.joined_us < d->joined_us ? a.joined_us : d->joined_us;
        a.left_us = a.left_us > d->left_us ? a.left_us : d->left_us;
        a.seconds += d->seconds;
        a.stalls += d->stalls;
        for (size_t i = 0; i < d->nlayers; i++)
            bbt_attendance_add_layer(&a, d->layers[i].label, d->layers[i].seconds);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return bbt_store_fail(s, "attendance", err, errlen);
    char layers[256];
    layers_format(&a, layers, sizeof layers);
    st = ST(ST_ATT_PUT);
    bbt_store_bind_text(st, 1, a.classroom);
    bbt_store_bind_text(st, 2, a.session);
    bbt_store_bind_day(st, 3, a.date);
    sqlite3_bind_int64(st, 4, a.joined_us);
    sqlite3_bind_int64(st, 5, a.left_us);
    sqlite3_bind_int64(st, 6, a.seconds);
    bbt_store_bind_text(st, 7, layers);
    sqlite3_bind_int64(st, 8, a.stalls);
    return bbt_store_step_done(s, st, "attendance", err, errlen);
}

int bbt_store_attendance_query(bbt_store *s, bbt_day from, bbt_day to, const char *classroom,
                               bbt_attendance **rows, size_t *n, char *err, size_t errlen)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = ST(classroom ? ST_ATT_QUERY_ONE : ST_ATT_QUERY);
    bbt_store_bind_day(st, 1, from);
    bbt_store_bind_day(st, 2, to);
    if (classroom)
        bbt_store_bind_text(st, 3, classroom);
    size_t cap = 0;
    int r = SQLITE_DONE, rc = BBT_OK;
    while (rc == BBT_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            bbt_attendance *v = realloc(*rows, cap * sizeof *v);
            if (!v) {
                rc = BBT_ENOMEM;
                break;
            }
            *rows = v;
        }
        bbt_attendance *a = &(*rows)[(*n)++];
        memset(a, 0, sizeof *a);
        snprintf(a->classroom, sizeof a->classroom, "%s", bbt_store_col_text(st, 0));
        snprintf(a->session, sizeof a->session, "%s", bbt_store_col_text(st, 1));
        a->date = bbt_store_col_day(st, 2);
        read_row(st, 3, a);
    }
    if (rc == BBT_OK && r != SQLITE_DONE)
        rc = bbt_store_fail(s, "attendance", err, errlen);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != BBT_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}
