/* relay/schedule/import.h — a timetable CSV (docs/SCHEDULE.md, config/timetable.example.csv)
 * turned into sessions, merged into a timetable and checked. Pure: no I/O.
 *
 * The header row names the columns, in Chinese or English, in any order, each either alone or
 * written "中文/english" (课程编号/session). Columns: session (课程编号), title (标题),
 * subject (学科), teacher (教师), source (主讲教室), receivers (听课教室: ids separated by
 * ; ； 、 or ，), weekday (星期: 1-7, 周一..周日, 星期一..星期日, Mon..Sun, Monday..Sunday),
 * start (开始), end (结束) as H:MM or HH:MM, term_start (学期开始), term_end (学期结束),
 * date (日期) as YYYY-MM-DD or YYYY/M/D. A row is weekly (weekday + term dates) or one-off
 * (date). Columns the reader does not know are ignored (and listed in `notes`).
 *
 * Each row's problems (with its line) are all collected; then the rows are merged into a copy
 * of the timetable — a session id already there is replaced by the row, others are added,
 * sessions not in the file are kept — and the whole result is checked by conflict.h. Any
 * problem and the import is refused as a whole: *merged is left empty. */
#ifndef BBT_SCHED_IMPORT_H
#define BBT_SCHED_IMPORT_H

#include <stddef.h>

#include "relay/schedule/model.h"
#include "relay/schedule/problem.h"

enum bbt_change_kind { BBT_CHANGE_ADD = 'a', BBT_CHANGE_CHANGE = 'c', BBT_CHANGE_SAME = '=' };

typedef struct bbt_import_change {
    char session[BBT_TT_SESSION_ID_MAX + 1];
    int kind;  /* enum bbt_change_kind */
    int line;
} bbt_import_change;

typedef struct bbt_import_result {
    bbt_problems problems;      /* why the file is refused (empty: it is fine) */
    bbt_problems notes;         /* what was ignored (unknown columns) */
    size_t rows;                /* data rows read */
    size_t added, changed, unchanged;
    bbt_import_change *changes; /* one per row, in file order */
    size_t nchanges;
} bbt_import_result;

void bbt_import_result_init(bbt_import_result *r);
void bbt_import_result_free(bbt_import_result *r);

/* Read `len` bytes of CSV against the indexed timetable t. BBT_OK: *merged is the new
 * timetable (indexed), r says what changed. BBT_ECSV (the file cannot be read or has bad
 * rows) or BBT_ECONFLICT (the result breaks a rule): r->problems says why, *merged is empty.
 * BBT_ENOMEM. */
int bbt_import_csv(const bbt_timetable *t, const char *data, size_t len, bbt_timetable *merged,
                   bbt_import_result *r);

/* Weekday from a cell ("3", "周三", "星期三", "Wed", "wednesday"): 1..7, or 0. */
int bbt_import_weekday(const char *s);

#endif
