/* relay/schedule/model.h — the county timetable in memory, and the calendar arithmetic it needs.
 *
 * Dates are day numbers (bbt_day: days since 1970-01-01 in the proleptic Gregorian calendar),
 * times of day are minutes since midnight (0..1439), instants are µs since the epoch (UTC).
 *
 * Time zones: a classroom names an IANA zone ("Asia/Shanghai" by default). The zones a Chinese
 * county can be in have had fixed offsets since 1991 (no daylight saving), so the model keeps a
 * small table of names with their fixed UTC offset (bbt_tz_offset) instead of depending on the
 * host's tzdata and TZ environment: the result is the same on every machine, and a name outside
 * the table is refused with the list of known ones. A session's times are local times of its
 * SOURCE classroom's zone; an occurrence is therefore an absolute interval, and every
 * classroom sees it in its own zone (all the same zone in practice).
 *
 * Ownership: a bbt_timetable owns every array and string it points to (bbt_tt_free). Strings
 * are malloc'd and never NULL once added ("" when empty). The add functions copy their
 * argument. After any change call bbt_tt_index() before a query that uses the index (find,
 * parts of a classroom, exceptions of a session); the functions that need it say so.
 * No global mutable state; single-threaded.
 */
#ifndef BBT_SCHED_MODEL_H
#define BBT_SCHED_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BBT_ID_MAX 64          /* school, classroom, group, holiday ids: [A-Za-z0-9_.-]{1,64} */
#define BBT_TT_SESSION_ID_MAX 53  /* "YYYY-MM-DD." + session id is an occurrence id of <= 64 */
#define BBT_TZ_NAME_MAX 39
#define BBT_DAY_NONE INT32_MIN
#define BBT_DEFAULT_TZ "Asia/Shanghai"

typedef int32_t bbt_day;

/* ---- calendar ------------------------------------------------------------------------------ */

bbt_day bbt_day_from_civil(int y, int m, int d);
void bbt_day_to_civil(bbt_day day, int *y, int *m, int *d);
/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int bbt_day_weekday(bbt_day day);
/* "YYYY-MM-DD" (also "YYYY/MM/DD", as spreadsheets write it; and single-digit month/day when
 * `lenient`) of `len` bytes -> BBT_OK, or BBT_EINVAL when not a real date. */
int bbt_day_parse(const char *s, size_t len, bool lenient, bbt_day *out);
/* "YYYY-MM-DD" into buf (>= 11 bytes). Returns buf. */
char *bbt_day_format(bbt_day day, char *buf);
/* "HH:MM" (or "H:MM" when lenient), 00:00..23:59 -> minutes; BBT_EINVAL otherwise. "24:00" is
 * accepted only with allow_24 (an end of day). */
int bbt_hhmm_parse(const char *s, size_t len, bool lenient, bool allow_24, int *minutes);
char *bbt_hhmm_format(int minutes, char *buf); /* buf >= 6 bytes */
/* "Mon".."Sun" and "周一".."周日" for weekday 1..7 ("?" otherwise). */
const char *bbt_weekday_en(int weekday);
const char *bbt_weekday_zh(int weekday);

/* ---- time zones ---------------------------------------------------------------------------- */

/* The fixed offset (minutes east of UTC) of a known zone name: BBT_OK or BBT_ENOTFOUND. */
int bbt_tz_offset(const char *name, int *minutes);
/* "Asia/Shanghai, Asia/Urumqi, ..." for error messages. */
const char *bbt_tz_known(void);
/* The instant of local day + minutes in a zone of offset tz_min. */
int64_t bbt_local_to_us(bbt_day day, int minutes, int tz_min);
/* The local day and minute (and second within the minute, if sec) of an instant. */
void bbt_us_to_local(int64_t us, int tz_min, bbt_day *day, int *minutes, int *sec);

/* ---- the timetable -------------------------------------------------------------------------- */

enum bbt_cr_role { BBT_CR_SOURCE = 1, BBT_CR_RECEIVER = 2, BBT_CR_BOTH = 3 };
const char *bbt_cr_role_name(int role); /* "source", "receiver", "both" */
int bbt_cr_role_from_name(const char *name); /* 0 if unknown */

typedef struct bbt_school {
    char id[BBT_ID_MAX + 1];
    char *name;
} bbt_school;

typedef struct bbt_classroom {
    char id[BBT_ID_MAX + 1];
    char *name;
    char school[BBT_ID_MAX + 1];
    int role;                      /* enum bbt_cr_role */
    char tz[BBT_TZ_NAME_MAX + 1];
    int tz_min;                    /* the zone's offset, set by bbt_tt_add_classroom */
} bbt_classroom;

/* An education group (教育集团 / 结对): a strong school paired with weak schools for a term. */
typedef struct bbt_group {
    char id[BBT_ID_MAX + 1];
    char *name;
    char strong[BBT_ID_MAX + 1];
    char (*weak)[BBT_ID_MAX + 1];
    size_t nweak;
    bbt_day term_start, term_end;
} bbt_group;

/* A weekly (weekday 1..7, within the term) or one-off (weekday 0, on `date`) session. */
typedef struct bbt_tt_session {
    char id[BBT_TT_SESSION_ID_MAX + 1];
    char *title, *subject, *teacher;
    char source[BBT_ID_MAX + 1];
    char (*receivers)[BBT_ID_MAX + 1];
    size_t nreceivers;
    int weekday;
    int start_min, end_min;        /* local times of the source classroom */
    bbt_day term_start, term_end;  /* weekly */
    bbt_day date;                  /* one-off */
    int line;                      /* CSV line it came from (0: not from a file) */
    bool is_public;                /* any classroom may watch it (docs/SECURITY.md) */
    /* set by bbt_tt_index(): */
    int src;                       /* classroom index, -1 when unknown */
    int tz_min;                    /* the source's zone offset (0 when unknown) */
    int exc_first, exc_count;      /* its exceptions: t->exceptions[exc_first ..] */
} bbt_tt_session;

typedef struct bbt_holiday {
    char id[BBT_ID_MAX + 1];
    char *name;
    bbt_day first, last;           /* inclusive, county-wide */
} bbt_holiday;

enum bbt_exc_kind { BBT_EXC_CANCEL = 1, BBT_EXC_MOVE = 2 };

/* One occurrence of a session (by its rule, on `date`) cancelled or moved. */
typedef struct bbt_exception {
    char session[BBT_TT_SESSION_ID_MAX + 1];
    bbt_day date;
    int kind;
    bbt_day to;                    /* move: the new date */
    int start_min, end_min;        /* move: the new times */
    char *reason;
} bbt_exception;

/* A classroom's part in a session (index of the classroom's sessions). */
typedef struct bbt_tt_part {
    int session;
    int role;                      /* BBT_CR_SOURCE or BBT_CR_RECEIVER */
} bbt_tt_part;

typedef struct bbt_timetable {
    bbt_school *schools;
    size_t nschools, cap_schools;
    bbt_classroom *classrooms;
    size_t nclassrooms, cap_classrooms;
    bbt_group *groups;
    size_t ngroups, cap_groups;
    bbt_tt_session *sessions;
    size_t nsessions, cap_sessions;
    bbt_holiday *holidays;
    size_t nholidays, cap_holidays;
    bbt_exception *exceptions;
    size_t nexceptions, cap_exceptions;
    /* the index (bbt_tt_index): arrays sorted by id, and each classroom's parts */
    bool indexed;
    size_t *part_off;              /* nclassrooms + 1 offsets into parts */
    bbt_tt_part *parts;
} bbt_timetable;

void bbt_tt_init(bbt_timetable *t);
void bbt_tt_free(bbt_timetable *t);
/* A deep copy (not indexed). BBT_OK or BBT_ENOMEM (then *out is empty). */
int bbt_tt_clone(const bbt_timetable *t, bbt_timetable *out);

/* Append copies (no checks but the zone name of a classroom: BBT_ENOTFOUND if unknown). The
 * index is invalidated. BBT_OK, BBT_ENOTFOUND or BBT_ENOMEM. */
int bbt_tt_add_school(bbt_timetable *t, const bbt_school *s);
int bbt_tt_add_classroom(bbt_timetable *t, const bbt_classroom *c);
int bbt_tt_add_group(bbt_timetable *t, const bbt_group *g);
int bbt_tt_add_session(bbt_timetable *t, const bbt_tt_session *s);
int bbt_tt_add_holiday(bbt_timetable *t, const bbt_holiday *h);
int bbt_tt_add_exception(bbt_timetable *t, const bbt_exception *e);

/* Replace element i by a copy of `s` (same rules as add). */
int bbt_tt_set_session(bbt_timetable *t, size_t i, const bbt_tt_session *s);
/* Remove element i (the last one takes its place; the index is invalidated). */
void bbt_tt_remove(bbt_timetable *t, char kind, size_t i); /* kind: 's'chool 'c'lassroom
                                                            * 'g'roup 'S'ession 'h'oliday
                                                            * 'e'xception */

/* Sort every array by id (exceptions by session, date), resolve sessions' source classrooms
 * and build each classroom's parts. BBT_OK or BBT_ENOMEM (the timetable is then not indexed).
 * Cheap when already indexed. */
int bbt_tt_index(bbt_timetable *t);

/* Index of the element with this id, or -1 (needs the index). */
int bbt_tt_find_school(const bbt_timetable *t, const char *id);
int bbt_tt_find_classroom(const bbt_timetable *t, const char *id);
int bbt_tt_find_group(const bbt_timetable *t, const char *id);
int bbt_tt_find_session(const bbt_timetable *t, const char *id);
int bbt_tt_find_holiday(const bbt_timetable *t, const char *id);
int bbt_tt_find_exception(const bbt_timetable *t, const char *session, bbt_day date);

/* The parts (sessions) of classroom ci: *n of them (needs the index). */
const bbt_tt_part *bbt_tt_parts(const bbt_timetable *t, int ci, size_t *n);

/* Two sessions define the same thing (every field but line and the index). */
bool bbt_tt_session_equal(const bbt_tt_session *a, const bbt_tt_session *b);

/* Free the strings and arrays a session owns (for sessions built outside a timetable). */
void bbt_tt_session_clear(bbt_tt_session *s);

/* A valid id: 1..max characters of [A-Za-z0-9_.-]. */
bool bbt_id_ok(const char *s, size_t max);

#endif
