/* relay/ctl/ctl.h — bbtctl, the county IT staff's command line for the timetable: shared by
 * main.c (options, dispatch), cmds.c (school, classroom, holiday, session), cmds_day.c
 * (import, sessions, cancel/move/restore, attendance) and text.c (languages, tables, CSV).
 *
 * Every message is in Simplified Chinese unless --lang en; errors go to stderr, results to
 * stdout. Exit codes (docs/SCHEDULE.md):
 *   0  done
 *   1  the relay refused the request (a conflict, a problem in the file, not found, ...)
 *   2  wrong usage: unknown command or option, a bad date, an unreadable file
 *   3  the relay cannot be reached: address, network, TLS, or no answer in time
 *   4  the relay answered something unexpected (a protocol mismatch: upgrade one side)
 */
#ifndef BBT_CTL_H
#define BBT_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "relay/ctl/client.h"

enum { CTL_OK = 0, CTL_REFUSED = 1, CTL_USAGE = 2, CTL_UNREACHABLE = 3, CTL_PROTOCOL = 4 };

typedef struct ctl {
    ctl_opts opts;
    bool en;                /* --lang en */
    ctl_client *client;     /* connected on first use */
    const char *token_file; /* --token-file: read when --token is not given (before BBT_TOKEN) */
    bool token_given;       /* --token on the command line */
    FILE *out, *err;
    /* the command line after the command words */
    int argc;
    char **argv;
} ctl;

/* The text in the chosen language. */
#define T(c, zh_text, en_text) ((c)->en ? (en_text) : (zh_text))

/* Connect if not yet; CTL_OK or CTL_UNREACHABLE (after saying why). */
int ctl_ensure(ctl *c);
/* Send req (consumed) and put the reply in *reply. An `error` reply is printed and gives
 * CTL_REFUSED; a reply of another type than `want` gives CTL_PROTOCOL. */
int ctl_call(ctl *c, json_t *req, const char *want, json_t **reply);

/* Options of the command: "--name value" (NULL if absent), flags. */
const char *ctl_opt(const ctl *c, const char *name);
bool ctl_flag(const ctl *c, const char *name);
/* The n-th positional argument (options skipped), or NULL. */
const char *ctl_arg(const ctl *c, int n);
/* Complain about a usage error; returns CTL_USAGE. */
int ctl_usage(ctl *c, const char *zh, const char *en);
/* A valid "YYYY-MM-DD" / "HH:MM" option, or a usage complaint (returns false). */
bool ctl_check_date(ctl *c, const char *name, const char *v);
bool ctl_check_time(ctl *c, const char *name, const char *v);

/* text.c: the display width of UTF-8 text (a Chinese character is 2 columns), and padding to
 * a width. */
int ctl_width(const char *s);
void ctl_pad(FILE *f, const char *s, int width);
/* A CSV field (quoted when needed). */
void ctl_csv_field(FILE *f, const char *s, bool last);
/* Translations of the protocol's state names. */
const char *ctl_state_text(const ctl *c, const char *state);
const char *ctl_presence_text(const ctl *c, const char *presence);
const char *ctl_role_text(const ctl *c, const char *role);

/* The commands; each returns an exit code. */
int cmd_school(ctl *c, const char *verb);
int cmd_classroom(ctl *c, const char *verb);
int cmd_holiday(ctl *c, const char *verb);
int cmd_session(ctl *c, const char *verb);
int cmd_import(ctl *c);
int cmd_sessions(ctl *c);
int cmd_occurrence(ctl *c, const char *verb); /* cancel, move, restore */
int cmd_attendance(ctl *c);
int cmd_token(ctl *c, const char *verb); /* issue, list, revoke (cmds_token.c) */

/* The operator token from --token-file into buf (when --token was not given): CTL_OK (also
 * with no file), CTL_USAGE after saying why (unreadable, empty, too long). */
#define BBT_CTL_TOKEN_MAX 4096
int ctl_read_token_file(ctl *c, char *buf, size_t size);
int cmd_next(ctl *c); /* next.c: what to do next (also bbtctl with no command) */

#endif
