/* relay/schedule/store_tokens.c — issued and revoked tokens in the schedule database (see
 * store_tokens.h). */
#include "relay/schedule/store_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/sched_internal.h"
#include "relay/schedule/store_internal.h"

bbt_store *bbt_sched_store(struct bbt_sched *s)
{
    return s ? s->store : NULL;
}

static int prepare(bbt_store *s, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return bbt_store_fail(s, "prepare", err, errlen);
    return BBT_OK;
}

static int run_done(bbt_store *s, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? BBT_OK : bbt_store_fail(s, what, err, errlen);
    sqlite3_finalize(st);
    return rc;
}

int bbt_store_token_put(bbt_store *s, const bbt_token_row *t, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "INSERT OR REPLACE INTO tokens(jti, subject, role, expires, issued_at, "
                        "note) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", &st, err, errlen);
    if (rc != BBT_OK)
        return rc;
    bbt_store_bind_text(st, 1, t->jti);
    bbt_store_bind_text(st, 2, t->subject);
    bbt_store_bind_text(st, 3, t->role);
    sqlite3_bind_int64(st, 4, t->expires);
    sqlite3_bind_int64(st, 5, t->issued_at);
    bbt_store_bind_text(st, 6, t->note);
    return run_done(s, st, "token", err, errlen);
}

int bbt_store_token_revoke(bbt_store *s, const char *jti, int64_t at_s, char *err,
                           size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "INSERT OR IGNORE INTO revoked_tokens(jti, revoked_at) VALUES(?1, ?2)",
                     &st, err, errlen);
    if (rc != BBT_OK)
        return rc;
    bbt_store_bind_text(st, 1, jti);
    sqlite3_bind_int64(st, 2, at_s);
    return run_done(s, st, "revoke", err, errlen);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int i)
{
    const char *v = bbt_store_col_text(st, i);
    snprintf(dst, n, "%s", v ? v : "");
}

int bbt_store_token_list(bbt_store *s, bbt_token_row **rows, size_t *n, char *err,
                         size_t errlen)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = prepare(s, "SELECT t.jti, t.subject, t.role, t.expires, t.issued_at, t.note, "
                        "r.jti IS NOT NULL FROM tokens t LEFT JOIN revoked_tokens r "
                        "ON r.jti = t.jti ORDER BY t.issued_at DESC, t.jti", &st, err, errlen);
    if (rc != BBT_OK)
        return rc;
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            bbt_token_row *p = realloc(*rows, nc * sizeof *p);
            if (!p) {
                rc = BBT_ENOMEM;
                break;
            }
            *rows = p;
            cap = nc;
        }
        bbt_token_row *t = &(*rows)[(*n)++];
        copy_col(t->jti, sizeof t->jti, st, 0);
        copy_col(t->subject, sizeof t->subject, st, 1);
        copy_col(t->role, sizeof t->role, st, 2);
        t->expires = sqlite3_column_int64(st, 3);
        t->issued_at = sqlite3_column_int64(st, 4);
        copy_col(t->note, sizeof t->note, st, 5);
        t->revoked = sqlite3_column_int(st, 6) != 0;
    }
    if (rc == BBT_OK && step != SQLITE_DONE)
        rc = bbt_store_fail(s, "tokens", err, errlen);
    sqlite3_finalize(st);
    if (rc != BBT_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

int bbt_store_revoked_each(bbt_store *s, int (*fn)(const char *jti, void *ud), void *ud,
                           char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "SELECT jti FROM revoked_tokens", &st, err, errlen);
    if (rc != BBT_OK)
        return rc;
    int step;
    while (rc == BBT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *jti = bbt_store_col_text(st, 0);
        if (jti)
            rc = fn(jti, ud);
    }
    if (rc == BBT_OK && step != SQLITE_DONE)
        rc = bbt_store_fail(s, "revoked tokens", err, errlen);
    sqlite3_finalize(st);
    return rc;
}
