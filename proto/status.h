/* proto/status.h — the one status convention of the whole project.
 *
 * Every function that can fail returns `int`: BBT_OK (0) on success, or a negative BBT_E*
 * code below. Functions that return a pointer return NULL on failure and, where the caller
 * needs to know why, take an `int *err` out-parameter. Codes are stable: they appear in logs,
 * in the wire protocol's error messages (as their positive value plus 4000 where a WebSocket
 * close code is needed, see docs/PROTOCOL.md) and in tests.
 */
#ifndef BBT_STATUS_H
#define BBT_STATUS_H

enum {
    BBT_OK = 0,
    BBT_ENOMEM = -1,        /* allocation failed */
    BBT_EINVAL = -2,        /* bad argument from the caller (a programming error) */
    BBT_EIO = -3,           /* a system call or a library failed; errno or a log line says why */
    BBT_ENOTFOUND = -4,     /* a named thing does not exist */
    BBT_EEXIST = -5,        /* a named thing already exists */
    BBT_EFULL = -6,         /* a bounded container is full */
    BBT_ELIMIT = -7,        /* a configured limit would be exceeded */
    BBT_ETIMEOUT = -8,      /* something did not happen in time */

    /* media frame decoder (proto/frame.c) */
    BBT_EFRAME_SHORT = -20,   /* fewer bytes than the fixed header */
    BBT_EFRAME_VERSION = -21, /* unknown version byte */
    BBT_EFRAME_FLAGS = -22,   /* reserved flag bits or reserved byte set */
    BBT_EFRAME_TRACK = -23,   /* track id out of range */
    BBT_EFRAME_EMPTY = -24,   /* no payload on a frame that must carry one */
    BBT_EFRAME_TOO_BIG = -25, /* payload larger than the allowed maximum */

    /* control messages (proto/control.c) */
    BBT_EMSG_JSON = -40,      /* not valid JSON, or not a JSON object */
    BBT_EMSG_TOO_BIG = -41,   /* message longer than the allowed maximum */
    BBT_EMSG_DEPTH = -42,     /* nesting deeper than allowed */
    BBT_EMSG_TYPE = -43,      /* missing or unknown "type" */
    BBT_EMSG_FIELD = -44,     /* a field is missing, of the wrong type or out of range */

    /* configuration (config/directives.c) */
    BBT_ECONFIG_SYNTAX = -60, /* a line that is not a section, a key = value or a comment */
    BBT_ECONFIG_KEY = -61,    /* unknown section or key */
    BBT_ECONFIG_VALUE = -62,  /* a value of the wrong type or out of range */
    BBT_ECONFIG_FILE = -63,   /* the file cannot be read */

    /* tokens and authorisation (proto/token.c, relay) */
    BBT_ETOKEN = -80,         /* malformed token */
    BBT_ETOKEN_SIG = -81,     /* bad signature */
    BBT_ETOKEN_EXPIRED = -82, /* token expired */
    BBT_EDENIED = -83,        /* the role may not do this */
    BBT_ETOKEN_REVOKED = -84, /* token revoked (token_revoke) */

    /* the timetable (relay/schedule) */
    BBT_ECONFLICT = -90,      /* a timetable change conflicts with itself or with what is there */
    BBT_ECSV = -91,           /* a timetable file cannot be used: encoding, syntax, columns, rows */
    BBT_ESCHEMA = -92,        /* the schedule database was written by a newer program */
};

/* A short English description of a status code; never NULL ("unknown status" for others). */
const char *bbt_strerror(int status);

/* The symbolic name of a status code ("BBT_EFRAME_SHORT"); never NULL. */
const char *bbt_status_name(int status);

#endif
