/* proto/control_internal.h — shared between control.c, control_tables.c and control_build.c.
 * Not part of the public API; nothing outside proto/control*.c includes it. */
#ifndef BBT_CONTROL_INTERNAL_H
#define BBT_CONTROL_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "control.h"
#include "utf8.h"

#define BBT_PATH_MAX 160 /* "plan.sessions[255].subject" and the like, with room to spare */

/* A cross-field rule run after the table of a message passed; BBT_OK or BBT_EMSG_FIELD. */
typedef int (*bbt_msg_check_fn)(const json_t *msg, const char *path, char *err, size_t errlen);

struct bbt_msg_spec {
    const char *name;
    const bbt_param *params;
    bbt_msg_check_fn check; /* NULL: the table says it all */
};

/* The spec of `type`, or NULL when type is out of range. */
const struct bbt_msg_spec *bbt_msg_spec_get(bbt_msg_type type);

/* Fields every message may carry besides its own table: "id" and "ref_id". */
extern const bbt_param bbt_envelope_params[];

/* The "tracks" array row (its element table is the track object). */
extern const bbt_param bbt_tracks_param;

/* The timetable's tables (control_tables_sched.c). */
extern const bbt_param bbt_plan_params[], bbt_start_params[], bbt_stop_params[],
    bbt_school_set_params[], bbt_classroom_set_params[], bbt_group_set_params[],
    bbt_holiday_set_params[], bbt_session_set_params[], bbt_list_params[], bbt_delete_params[],
    bbt_import_params[], bbt_day_list_params[], bbt_cancel_params[], bbt_move_params[],
    bbt_restore_params[], bbt_attendance_export_params[], bbt_clock_params[],
    bbt_schools_params[], bbt_classrooms_params[], bbt_groups_params[], bbt_holidays_params[],
    bbt_sessions_params[], bbt_deleted_params[], bbt_imported_params[], bbt_day_params[],
    bbt_occurrence_params[], bbt_attendance_params[], bbt_time_params[];

/* The credential messages' tables (control_tables_auth.c). */
extern const bbt_param bbt_token_issue_params[], bbt_token_params[], bbt_token_list_params[],
    bbt_tokens_params[], bbt_token_revoke_params[], bbt_token_revoked_params[];

/* The dashboard's tables (control_tables_dash.c). */
extern const bbt_param bbt_dash_subscribe_params[], bbt_dash_params[];

/* The track-list rules shared by bbt_tracks_from_json() and the publish/published/tracks check:
 * `path` is the array's path ("publish.tracks"); `out` has room for BBT_MAX_TRACKS or `max`. */
int bbt_tracks_read(const json_t *arr, const char *path, bbt_track_info *out, size_t max,
                    size_t *n, char *err, size_t errlen);

/* Validate one value against one row (path names the value itself). */
int bbt_param_check(const bbt_param *p, const json_t *v, const char *path, char *err,
                    size_t errlen);


/* snprintf into err (if any), then replace every byte outside printable ASCII with '?'. */
void bbt_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
