/* relay/schedule/store_internal.h — shared by store.c (open, schema, load) and store_write.c
 * (writes, attendance). Not part of the interface. */
#ifndef BBT_SCHED_STORE_INTERNAL_H
#define BBT_SCHED_STORE_INTERNAL_H

#include <sqlite3.h>

#include "relay/schedule/store.h"

/* Every prepared statement, made once at open. */
enum stmt {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_PUT_SCHOOL, ST_PUT_CLASSROOM, ST_PUT_GROUP, ST_DEL_MEMBERS, ST_PUT_MEMBER,
    ST_PUT_SESSION, ST_DEL_RECEIVERS, ST_PUT_RECEIVER, ST_PUT_HOLIDAY, ST_PUT_EXCEPTION,
    ST_DEL_SCHOOL, ST_DEL_CLASSROOM, ST_DEL_GROUP, ST_DEL_SESSION, ST_DEL_HOLIDAY,
    ST_DEL_EXCEPTION, ST_LOG_IMPORT,
    ST_ATT_GET, ST_ATT_PUT, ST_ATT_QUERY, ST_ATT_QUERY_ONE,
    ST__COUNT
};

struct bbt_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    int version;
};

extern const char *const bbt_store_sql[ST__COUNT];

/* err = "what: sqlite's message"; returns BBT_EIO. */
int bbt_store_fail(bbt_store *s, const char *what, char *err, size_t errlen);
/* Run a prepared statement to completion (SQLITE_DONE) and reset it. */
int bbt_store_step_done(bbt_store *s, sqlite3_stmt *st, const char *what, char *err,
                        size_t errlen);
/* Bind text (NULL binds NULL), a day as 'YYYY-MM-DD' (BBT_DAY_NONE binds NULL), a time of day
 * as 'HH:MM'. */
void bbt_store_bind_text(sqlite3_stmt *st, int i, const char *v);
void bbt_store_bind_day(sqlite3_stmt *st, int i, bbt_day d);
void bbt_store_bind_hhmm(sqlite3_stmt *st, int i, int minutes);
/* Read them back (BBT_DAY_NONE / -1 for NULL or malformed). */
bbt_day bbt_store_col_day(sqlite3_stmt *st, int i);
int bbt_store_col_hhmm(sqlite3_stmt *st, int i);
const char *bbt_store_col_text(sqlite3_stmt *st, int i);

#endif
