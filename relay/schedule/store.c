/* relay/schedule/store.c — the SQLite database: open, schema migrations, loading the
 * timetable, and the statement text (see store.h). Writes are in store_write.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/store_internal.h"

/* ---- schema --------------------------------------------------------------------------------
 * Migration i brings the schema from version i to i + 1. Append only: never edit a migration
 * that has shipped; add a new one that alters what is there. */
static const char *const migrations[] = {
    /* 1: the timetable and attendance */
    "CREATE TABLE schools(id TEXT PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE classrooms(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  school TEXT NOT NULL REFERENCES schools(id),"
    "  role TEXT NOT NULL CHECK(role IN ('source','receiver','both')),"
    "  timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai');"
    "CREATE INDEX classrooms_school ON classrooms(school);"
    "CREATE TABLE edu_groups(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  strong_school TEXT NOT NULL REFERENCES schools(id),"
    "  term_start TEXT NOT NULL, term_end TEXT NOT NULL);"
    "CREATE TABLE edu_group_members(grp TEXT NOT NULL REFERENCES edu_groups(id) ON DELETE CASCADE,"
    "  school TEXT NOT NULL REFERENCES schools(id), pos INTEGER NOT NULL,"
    "  PRIMARY KEY(grp, school));"
    "CREATE TABLE sessions(id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '',"
    "  subject TEXT NOT NULL DEFAULT '', teacher TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL REFERENCES classrooms(id),"
    "  weekday INTEGER CHECK(weekday BETWEEN 1 AND 7),"
    "  start_time TEXT NOT NULL, end_time TEXT NOT NULL,"
    "  term_start TEXT, term_end TEXT, date TEXT,"
    "  CHECK((weekday IS NULL) = (date IS NOT NULL)));"
    "CREATE INDEX sessions_source ON sessions(source);"
    "CREATE TABLE session_receivers(session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  classroom TEXT NOT NULL REFERENCES classrooms(id), pos INTEGER NOT NULL,"
    "  PRIMARY KEY(session, classroom));"
    "CREATE INDEX session_receivers_classroom ON session_receivers(classroom);"
    "CREATE TABLE holidays(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  first_day TEXT NOT NULL, last_day TEXT NOT NULL);"
    "CREATE TABLE exceptions(session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  date TEXT NOT NULL, kind TEXT NOT NULL CHECK(kind IN ('cancel','move')),"
    "  to_date TEXT, start_time TEXT, end_time TEXT, reason TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(session, date));"
    "CREATE TABLE attendance(classroom TEXT NOT NULL, session TEXT NOT NULL, date TEXT NOT NULL,"
    "  joined_at INTEGER NOT NULL, left_at INTEGER NOT NULL,"
    "  seconds_present INTEGER NOT NULL DEFAULT 0, layers TEXT NOT NULL DEFAULT '',"
    "  stalls INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(date, session, classroom));"
    "CREATE INDEX attendance_classroom ON attendance(classroom, date);",
    /* 2: who imported what, when */
    "CREATE TABLE import_log(id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL, rows INTEGER NOT NULL, added INTEGER NOT NULL,"
    "  changed INTEGER NOT NULL);",
    /* 3: credentials (relay/schedule/store_tokens.c): tokens the relay issued, revoked ids */
    "CREATE TABLE tokens(jti TEXT PRIMARY KEY, subject TEXT NOT NULL, role TEXT NOT NULL,"
    "  expires INTEGER NOT NULL, issued_at INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE revoked_tokens(jti TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL);",
    /* 4: a lesson every classroom may watch (relay/schedule/authz.c) */
    "ALTER TABLE sessions ADD COLUMN public INTEGER NOT NULL DEFAULT 0;",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

const char *const bbt_store_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT_SCHOOL] = "INSERT OR REPLACE INTO schools(id, name) VALUES(?1, ?2)",
    [ST_PUT_CLASSROOM] = "INSERT INTO classrooms(id, name, school, role, timezone) "
                         "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
                         "name = ?2, school = ?3, role = ?4, timezone = ?5",
    [ST_PUT_GROUP] = "INSERT INTO edu_groups(id, name, strong_school, term_start, term_end) "
                     "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET name = ?2, "
                     "strong_school = ?3, term_start = ?4, term_end = ?5",
    [ST_DEL_MEMBERS] = "DELETE FROM edu_group_members WHERE grp = ?1",
    [ST_PUT_MEMBER] = "INSERT INTO edu_group_members(grp, school, pos) VALUES(?1, ?2, ?3)",
    [ST_PUT_SESSION] = "INSERT INTO sessions(id, title, subject, teacher, source, weekday, "
                       "start_time, end_time, term_start, term_end, date, public) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(id) "
                       "DO UPDATE SET title = ?2, subject = ?3, teacher = ?4, source = ?5, "
                       "weekday = ?6, start_time = ?7, end_time = ?8, term_start = ?9, "
                       "term_end = ?10, date = ?11, public = ?12",
    [ST_DEL_RECEIVERS] = "DELETE FROM session_receivers WHERE session = ?1",
    [ST_PUT_RECEIVER] = "INSERT INTO session_receivers(session, classroom, pos) VALUES(?1, ?2, ?3)",
    [ST_PUT_HOLIDAY] = "INSERT OR REPLACE INTO holidays(id, name, first_day, last_day) "
                       "VALUES(?1, ?2, ?3, ?4)",
    [ST_PUT_EXCEPTION] = "INSERT OR REPLACE INTO exceptions(session, date, kind, to_date, "
                         "start_time, end_time, reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_DEL_SCHOOL] = "DELETE FROM schools WHERE id = ?1",
    [ST_DEL_CLASSROOM] = "DELETE FROM classrooms WHERE id = ?1",
    [ST_DEL_GROUP] = "DELETE FROM edu_groups WHERE id = ?1",
    [ST_DEL_SESSION] = "DELETE FROM sessions WHERE id = ?1",
    [ST_DEL_HOLIDAY] = "DELETE FROM holidays WHERE id = ?1",
    [ST_DEL_EXCEPTION] = "DELETE FROM exceptions WHERE session = ?1 AND date = ?2",
    [ST_LOG_IMPORT] = "INSERT INTO import_log(at_us, who, rows, added, changed) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_ATT_GET] = "SELECT joined_at, left_at, seconds_present, layers, stalls FROM attendance "
                   "WHERE date = ?1 AND session = ?2 AND classroom = ?3",
    [ST_ATT_PUT] = "INSERT OR REPLACE INTO attendance(classroom, session, date, joined_at, "
                   "left_at, seconds_present, layers, stalls) VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
                   "?7, ?8)",
    [ST_ATT_QUERY] = "SELECT classroom, session, date, joined_at, left_at, seconds_present, "
                     "layers, stalls FROM attendance WHERE date BETWEEN ?1 AND ?2 "
                     "ORDER BY date, session, classroom",
    [ST_ATT_QUERY_ONE] = "SELECT classroom, session, date, joined_at, left_at, seconds_present, "
                         "layers, stalls FROM attendance WHERE date BETWEEN ?1 AND ?2 AND "
                         "classroom = ?3 ORDER BY date, session, classroom",
};

int bbt_store_fail(bbt_store *s, const char *what, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "no database");
    return BBT_EIO;
}

int bbt_store_step_done(bbt_store *s, sqlite3_stmt *st, const char *what, char *err,
                        size_t errlen)
{
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? BBT_OK : bbt_store_fail(s, what, err, errlen);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

void bbt_store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void bbt_store_bind_day(sqlite3_stmt *st, int i, bbt_day d)
{
    char buf[11];
    if (d == BBT_DAY_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, bbt_day_format(d, buf), 10, SQLITE_TRANSIENT);
}

void bbt_store_bind_hhmm(sqlite3_stmt *st, int i, int minutes)
{
    char buf[6];
    sqlite3_bind_text(st, i, bbt_hhmm_format(minutes, buf), 5, SQLITE_TRANSIENT);
}

const char *bbt_store_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

bbt_day bbt_store_col_day(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    bbt_day d;
    return t && bbt_day_parse(t, strlen(t), false, &d) == BBT_OK ? d : BBT_DAY_NONE;
}

int bbt_store_col_hhmm(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    int m;
    return t && bbt_hhmm_parse(t, strlen(t), false, false, &m) == BBT_OK ? m : -1;
}

/* ---- open ---------------------------------------------------------------------------------- */

static int exec(bbt_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return BBT_OK;
    if (err && errlen)
        snprintf(err, errlen, "%.60s...: %s", sql, msg ? msg : "failed");
    sqlite3_free(msg);
    return BBT_EIO;
}

static int read_version(bbt_store *s, int *v, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL) != SQLITE_OK)
        return bbt_store_fail(s, "schema_version", err, errlen);
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BBT_OK
                                                 : bbt_store_fail(s, "schema_version", err, errlen);
}

/* Each missing migration in its own transaction, with the version bump. */
static int migrate(bbt_store *s, char *err, size_t errlen)
{
    int rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)", err,
                  errlen);
    int v = 0;
    if (rc == BBT_OK)
        rc = read_version(s, &v, err, errlen);
    if (rc == BBT_OK && v > NMIGRATIONS) {
        if (err && errlen)
            snprintf(err, errlen,
                     "the schedule database has schema version %d, newer than this bbt-relay "
                     "knows (%d): upgrade bbt-relay",
                     v, NMIGRATIONS);
        return BBT_ESCHEMA;
    }
    for (; rc == BBT_OK && v < NMIGRATIONS; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "DELETE FROM schema_version; INSERT INTO schema_version "
                                    "VALUES(%d);", v + 1);
        rc = exec(s, "BEGIN IMMEDIATE", err, errlen);
        if (rc == BBT_OK)
            rc = exec(s, migrations[v], err, errlen);
        if (rc == BBT_OK)
            rc = exec(s, bump, err, errlen);
        if (rc == BBT_OK)
            rc = exec(s, "COMMIT", err, errlen);
        else
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    s->version = v;
    return rc;
}

int bbt_store_open(const char *path, bbt_store **out, char *err, size_t errlen)
{
    *out = NULL;
    bbt_store *s = calloc(1, sizeof *s);
    if (!s)
        return BBT_ENOMEM;
    int rc = BBT_OK;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = bbt_store_fail(s, path, err, errlen);
    } else {
        sqlite3_busy_timeout(s->db, 5000);
        rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA foreign_keys=ON;", err, errlen);
    }
    if (rc == BBT_OK)
        rc = migrate(s, err, errlen);
    for (int i = 0; rc == BBT_OK && i < ST__COUNT; i++)
        if (sqlite3_prepare_v3(s->db, bbt_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            rc = bbt_store_fail(s, bbt_store_sql[i], err, errlen);
    if (rc != BBT_OK) {
        bbt_store_close(s);
        return rc;
    }
    *out = s;
    return BBT_OK;
}

void bbt_store_close(bbt_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

int bbt_store_schema_version(bbt_store *s)
{
    return s->version;
}

int bbt_store_schema_latest(void)
{
    return NMIGRATIONS;
}

/* ---- load ---------------------------------------------------------------------------------- */

/* Run `sql` and call fn for each row; stops at the first failing fn. */
static int each_row(bbt_store *s, const char *sql, int (*fn)(sqlite3_stmt *, bbt_timetable *),
                    bbt_timetable *t, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return bbt_store_fail(s, sql, err, errlen);
    int rc = BBT_OK, r;
    while (rc == BBT_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(st, t);
    if (rc == BBT_OK && r != SQLITE_DONE)
        rc = bbt_store_fail(s, sql, err, errlen);
    else if (rc != BBT_OK && err && errlen)
        snprintf(err, errlen, "%s: %s", sql, bbt_strerror(rc));
    sqlite3_finalize(st);
    return rc;
}

static void copy_id(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static int row_school(sqlite3_stmt *st, bbt_timetable *t)
{
    bbt_school v = {.name = (char *)bbt_store_col_text(st, 1)};
    copy_id(v.id, sizeof v.id, bbt_store_col_text(st, 0));
    return bbt_tt_add_school(t, &v);
}

static int row_classroom(sqlite3_stmt *st, bbt_timetable *t)
{
    bbt_classroom v = {.name = (char *)bbt_store_col_text(st, 1),
                       .role = bbt_cr_role_from_name(bbt_store_col_text(st, 3))};
    copy_id(v.id, sizeof v.id, bbt_store_col_text(st, 0));
    copy_id(v.school, sizeof v.school, bbt_store_col_text(st, 2));
    copy_id(v.tz, sizeof v.tz, bbt_store_col_text(st, 4));
    return bbt_tt_add_classroom(t, &v);
}

static int row_holiday(sqlite3_stmt *st, bbt_timetable *t)
{
    bbt_holiday v = {.name = (char *)bbt_store_col_text(st, 1),
                     .first = bbt_store_col_day(st, 2), .last = bbt_store_col_day(st, 3)};
    copy_id(v.id, sizeof v.id, bbt_store_col_text(st, 0));
    return bbt_tt_add_holiday(t, &v);
}

static int row_exception(sqlite3_stmt *st, bbt_timetable *t)
{
    bool move = strcmp(bbt_store_col_text(st, 2), "move") == 0;
    bbt_exception v = {.date = bbt_store_col_day(st, 1),
                       .kind = move ? BBT_EXC_MOVE : BBT_EXC_CANCEL,
                       .to = move ? bbt_store_col_day(st, 3) : BBT_DAY_NONE,
                       .start_min = move ? bbt_store_col_hhmm(st, 4) : 0,
                       .end_min = move ? bbt_store_col_hhmm(st, 5) : 0,
                       .reason = (char *)bbt_store_col_text(st, 6)};
    copy_id(v.session, sizeof v.session, bbt_store_col_text(st, 0));
    return bbt_tt_add_exception(t, &v);
}

static int row_session(sqlite3_stmt *st, bbt_timetable *t)
{
    bbt_tt_session v = {.title = (char *)bbt_store_col_text(st, 1),
                        .subject = (char *)bbt_store_col_text(st, 2),
                        .teacher = (char *)bbt_store_col_text(st, 3),
                        .weekday = sqlite3_column_int(st, 5),
                        .start_min = bbt_store_col_hhmm(st, 6),
                        .end_min = bbt_store_col_hhmm(st, 7),
                        .term_start = bbt_store_col_day(st, 8),
                        .term_end = bbt_store_col_day(st, 9),
                        .date = bbt_store_col_day(st, 10), .src = -1,
                        .is_public = sqlite3_column_int(st, 11) != 0};
    copy_id(v.id, sizeof v.id, bbt_store_col_text(st, 0));
    copy_id(v.source, sizeof v.source, bbt_store_col_text(st, 4));
    return bbt_tt_add_session(t, &v);
}

/* Receivers come ordered by (session, pos); sessions are in id order, like the index. */
static int row_receiver(sqlite3_stmt *st, bbt_timetable *t)
{
    const char *sid = bbt_store_col_text(st, 0), *cls = bbt_store_col_text(st, 1);
    int si = bbt_tt_find_session(t, sid);
    if (si < 0)
        return BBT_OK; /* cannot happen with foreign keys on */
    bbt_tt_session *s = &t->sessions[si];
    void *r = realloc(s->receivers, (s->nreceivers + 1) * sizeof *s->receivers);
    if (!r)
        return BBT_ENOMEM;
    s->receivers = r;
    copy_id(s->receivers[s->nreceivers++], BBT_ID_MAX + 1, cls);
    return BBT_OK;
}

static int row_group(sqlite3_stmt *st, bbt_timetable *t)
{
    bbt_group v = {.name = (char *)bbt_store_col_text(st, 1),
                   .term_start = bbt_store_col_day(st, 3), .term_end = bbt_store_col_day(st, 4)};
    copy_id(v.id, sizeof v.id, bbt_store_col_text(st, 0));
    copy_id(v.strong, sizeof v.strong, bbt_store_col_text(st, 2));
    return bbt_tt_add_group(t, &v);
}

static int row_member(sqlite3_stmt *st, bbt_timetable *t)
{
    int gi = bbt_tt_find_group(t, bbt_store_col_text(st, 0));
    if (gi < 0)
        return BBT_OK;
    bbt_group *g = &t->groups[gi];
    void *w = realloc(g->weak, (g->nweak + 1) * sizeof *g->weak);
    if (!w)
        return BBT_ENOMEM;
    g->weak = w;
    copy_id(g->weak[g->nweak++], BBT_ID_MAX + 1, bbt_store_col_text(st, 1));
    return BBT_OK;
}

int bbt_store_load(bbt_store *s, bbt_timetable *t, char *err, size_t errlen)
{
    bbt_tt_init(t);
    int rc = each_row(s, "SELECT id, name FROM schools", row_school, t, err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT id, name, school, role, timezone FROM classrooms",
                      row_classroom, t, err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT id, name, first_day, last_day FROM holidays", row_holiday, t,
                      err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT session, date, kind, to_date, start_time, end_time, reason "
                         "FROM exceptions", row_exception, t, err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT id, title, subject, teacher, source, IFNULL(weekday, 0), "
                         "start_time, end_time, term_start, term_end, date, public FROM sessions",
                      row_session, t, err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT id, name, strong_school, term_start, term_end FROM edu_groups",
                      row_group, t, err, errlen);
    if (rc == BBT_OK) /* the finds below need it; the receivers are then added in place */
        rc = bbt_tt_index(t);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT session, classroom FROM session_receivers ORDER BY session, pos",
                      row_receiver, t, err, errlen);
    if (rc == BBT_OK)
        rc = each_row(s, "SELECT grp, school FROM edu_group_members ORDER BY grp, pos",
                      row_member, t, err, errlen);
    t->indexed = false; /* receivers changed the classrooms' parts */
    if (rc == BBT_OK)
        rc = bbt_tt_index(t);
    if (rc != BBT_OK)
        bbt_tt_free(t);
    return rc;
}
