/* relay/schedule/csv.h — an RFC 4180 CSV reader for timetables exported from spreadsheets.
 *
 * Accepted: fields separated by commas; records ended by CRLF, LF or a lone CR (old Mac
 * Excel); fields enclosed in double quotes may hold commas, line breaks and doubled quotes
 * (""); one UTF-8 byte-order mark at the start is skipped; the last record may lack a line
 * end. Records that are completely empty (a blank line) are skipped.
 * Refused, with the line it happens on (BBT_ECSV and one problem in English and Chinese):
 * bytes that are not UTF-8 (a GBK/GB2312 file: the text says how to save as UTF-8), NUL bytes,
 * a quote inside an unquoted field, anything but a comma or a line end after a closing quote,
 * a quoted field still open at the end of the file, more than BBT_CSV_MAX_FIELDS fields in a
 * record, a field longer than BBT_CSV_MAX_FIELD bytes.
 *
 * Lines are counted from 1 and a record's line is the line it starts on (a quoted line break
 * counts). Ownership: bbt_csv owns every row and field (bbt_csv_free); fields are
 * NUL-terminated, exactly as in the file but unquoted. Pure: no I/O, no global state. */
#ifndef BBT_SCHED_CSV_H
#define BBT_SCHED_CSV_H

#include <stddef.h>

#include "relay/schedule/problem.h"

#define BBT_CSV_MAX_FIELDS 64
#define BBT_CSV_MAX_FIELD 4096

typedef struct bbt_csv_row {
    int line;
    size_t nfields;
    char **fields;   /* point into the csv's storage */
} bbt_csv_row;

typedef struct bbt_csv {
    bbt_csv_row *rows;
    size_t nrows, cap_rows;
    char **fields;   /* every field pointer, rows point into it */
    size_t nfields, cap_fields;
    char *store;     /* the unquoted text of every field, NUL-separated */
    size_t store_len, store_cap;
} bbt_csv;

/* Parse `len` bytes. BBT_OK; BBT_ECSV with one problem added to `p`; BBT_ENOMEM. On failure
 * *out holds nothing (freed). */
int bbt_csv_parse(const char *data, size_t len, bbt_csv *out, bbt_problems *p);
void bbt_csv_free(bbt_csv *c);

#endif
