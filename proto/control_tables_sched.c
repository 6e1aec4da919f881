/* proto/control_tables_sched.c — the parameter tables of the timetable's messages
 * (docs/PROTOCOL.md §3.13 plan, §3.17 start/stop, §3.18 operator messages). control_tables.c
 * lists them in its spec array; the row macros are the same. To add a field: a row here, a
 * line in the spec, a rejection row in tests/proto/test_control_rules.c. */
#include "control_params.h"

#include <stddef.h>

#define PAGE_MAX 1000
#define TEXT_MAX 512

static const char *const plan_roles[] = {"source", "receiver", NULL};
static const char *const plan_states[] = {"upcoming", "starting", "live",
                                          "ended",    "cancelled", "failed", NULL};
static const char *const cr_roles[] = {"source", "receiver", "both", NULL};
static const char *const kinds[] = {"school", "classroom", "group", "holiday", "session", NULL};
static const char *const import_states[] = {"receiving", "checked", "applied", "refused", NULL};
static const char *const occ_states[] = {"upcoming", "starting", "live",    "ended",
                                         "cancelled", "holiday", "moved",   "failed", NULL};
static const char *const relay_states[] = {"none", "waiting", "live", "interrupted", "ended",
                                           NULL};
static const char *const presence[] = {"watching", "connected", "absent", NULL};
static const char *const occ_changes[] = {"cancelled", "moved", "restored", NULL};
static const char *const change_kinds[] = {"added", "changed", "unchanged", NULL};

/* ---- plan (relay -> node), start, stop ------------------------------------------------------ */

#define PLAN_SESSION_ROWS                                                                  \
    P_IDENT("session", REQ), P_IDENT("schedule", OPT), P_STR("title", OPT, 0, 256),       \
    P_STR("subject", OPT, 0, 64), P_STR("teacher", OPT, 0, 64),                           \
    P_FMT("start", REQ, BBT_P_HHMM), P_FMT("end", REQ, BBT_P_HHMM),                       \
    P_INT("start_us", OPT, 0, BIG), P_INT("end_us", OPT, 0, BIG),                         \
    P_ENUM("role", REQ, plan_roles), P_ENUM("state", REQ, plan_states),                   \
    P_IDENT("source", OPT), P_IDS("receivers", OPT, 0, 256),                              \
    P_FMT("moved_from", OPT, BBT_P_DATE), P_FMT("moved_to", OPT, BBT_P_DATE)

static const bbt_param plan_session_fields[] = {PLAN_SESSION_ROWS, P_END};
static const bbt_param plan_next_fields[] = {P_FMT("date", REQ, BBT_P_DATE), PLAN_SESSION_ROWS,
                                             P_END};

const bbt_param bbt_plan_params[] = {
    P_IDENT("classroom", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_ARR("sessions", REQ, 0, 256, plan_session_fields),
    P_IDENT("live", OPT),
    P_OBJ("next", OPT, plan_next_fields),
    P_INT("lead_ms", OPT, 0, 3600000),
    P_STR("timezone", OPT, 1, 64),
    P_END,
};

const bbt_param bbt_start_params[] = {
    P_IDENT("session", REQ),
    P_IDENT("schedule", OPT),
    P_STR("title", OPT, 0, 256),
    P_FMT("date", REQ, BBT_P_DATE),
    P_FMT("start", REQ, BBT_P_HHMM),
    P_FMT("end", REQ, BBT_P_HHMM),
    P_INT("start_us", REQ, 0, BIG),
    P_INT("end_us", REQ, 0, BIG),
    P_END,
};

const bbt_param bbt_stop_params[] = {
    P_IDENT("session", REQ),
    P_STR("reason", OPT, 0, 256),
    P_END,
};

/* ---- the timetable's objects -------------------------------------------------------------- */

static const bbt_param school_fields[] = {
    P_IDENT("id", REQ),
    P_STR("name", REQ, 1, 128),
    P_INT("classrooms", OPT, 0, BIG),
    P_END,
};

static const bbt_param classroom_fields[] = {
    P_IDENT("id", REQ),
    P_STR("name", REQ, 1, 128),
    P_IDENT("school", REQ),
    P_ENUM("role", REQ, cr_roles),
    P_STR("timezone", OPT, 1, 39),
    P_BOOL("connected", OPT),
    P_END,
};

static const bbt_param group_fields[] = {
    P_IDENT("id", REQ),
    P_STR("name", REQ, 1, 128),
    P_IDENT("strong", REQ),
    P_IDS("weak", REQ, 1, 256),
    P_FMT("term_start", REQ, BBT_P_DATE),
    P_FMT("term_end", REQ, BBT_P_DATE),
    P_END,
};

static const bbt_param holiday_fields[] = {
    P_IDENT("id", REQ),
    P_STR("name", REQ, 1, 128),
    P_FMT("first", REQ, BBT_P_DATE),
    P_FMT("last", REQ, BBT_P_DATE),
    P_END,
};

static const bbt_param session_fields[] = {
    P_IDENT("id", REQ),
    P_STR("title", OPT, 0, 256),
    P_STR("subject", OPT, 0, 64),
    P_STR("teacher", OPT, 0, 64),
    P_IDENT("source", REQ),
    P_IDS("receivers", REQ, 1, 256),
    P_INT("weekday", OPT, 1, 7),
    P_FMT("start", REQ, BBT_P_HHMM),
    P_FMT("end", REQ, BBT_P_HHMM),
    P_FMT("term_start", OPT, BBT_P_DATE),
    P_FMT("term_end", OPT, BBT_P_DATE),
    P_FMT("date", OPT, BBT_P_DATE),
    P_BOOL("public", OPT),
    P_END,
};

static const bbt_param problem_fields[] = {
    P_INT("line", OPT, 0, BIG),
    P_STR("message", REQ, 0, TEXT_MAX),
    P_STR("message_zh", OPT, 0, TEXT_MAX),
    P_END,
};

/* ---- operator requests -------------------------------------------------------------------- */

const bbt_param bbt_school_set_params[] = {P_OBJ("school", REQ, school_fields), P_END};
const bbt_param bbt_classroom_set_params[] = {P_OBJ("classroom", REQ, classroom_fields), P_END};
const bbt_param bbt_group_set_params[] = {P_OBJ("group", REQ, group_fields), P_END};
const bbt_param bbt_holiday_set_params[] = {P_OBJ("holiday", REQ, holiday_fields), P_END};
const bbt_param bbt_session_set_params[] = {P_OBJ("session", REQ, session_fields), P_END};

/* school_list, group_list, holiday_list, classroom_list, session_list */
const bbt_param bbt_list_params[] = {
    P_IDENT("school", OPT),
    P_IDENT("classroom", OPT),
    P_INT("offset", OPT, 0, BIG),
    P_INT("limit", OPT, 1, PAGE_MAX),
    P_END,
};

const bbt_param bbt_delete_params[] = {
    P_ENUM("kind", REQ, kinds),
    P_IDENT("target", REQ),
    P_END,
};

const bbt_param bbt_import_params[] = {
    P_IDENT("upload", REQ),
    P_INT("part", REQ, 0, 100000),
    P_BOOL("last", REQ),
    P_STR("csv", REQ, 0, 16 * 1024 * 1024),
    P_BOOL("dry_run", OPT),
    P_END,
};

const bbt_param bbt_day_list_params[] = {
    P_FMT("date", OPT, BBT_P_DATE),
    P_IDENT("classroom", OPT),
    P_INT("offset", OPT, 0, BIG),
    P_INT("limit", OPT, 1, PAGE_MAX),
    P_END,
};

const bbt_param bbt_cancel_params[] = {
    P_IDENT("session", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_STR("reason", OPT, 0, 256),
    P_END,
};

const bbt_param bbt_move_params[] = {
    P_IDENT("session", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_FMT("to", REQ, BBT_P_DATE),
    P_FMT("start", OPT, BBT_P_HHMM),
    P_FMT("end", OPT, BBT_P_HHMM),
    P_STR("reason", OPT, 0, 256),
    P_END,
};

const bbt_param bbt_restore_params[] = {
    P_IDENT("session", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_END,
};

const bbt_param bbt_attendance_export_params[] = {
    P_FMT("from", REQ, BBT_P_DATE),
    P_FMT("to", REQ, BBT_P_DATE),
    P_IDENT("classroom", OPT),
    P_INT("offset", OPT, 0, BIG),
    P_INT("limit", OPT, 1, PAGE_MAX),
    P_END,
};

const bbt_param bbt_clock_params[] = {
    P_INT("time_us", OPT, 0, BIG),
    P_NUM("scale", OPT, 0, 3600),
    P_END,
};

/* ---- replies ------------------------------------------------------------------------------ */

const bbt_param bbt_schools_params[] = {P_ARR("schools", REQ, 0, PAGE_MAX, school_fields), P_END};
const bbt_param bbt_groups_params[] = {P_ARR("groups", REQ, 0, PAGE_MAX, group_fields), P_END};
const bbt_param bbt_holidays_params[] = {P_ARR("holidays", REQ, 0, PAGE_MAX, holiday_fields),
                                         P_END};

const bbt_param bbt_classrooms_params[] = {
    P_ARR("classrooms", REQ, 0, PAGE_MAX, classroom_fields),
    P_INT("total", OPT, 0, BIG),
    P_INT("next_offset", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_sessions_params[] = {
    P_ARR("sessions", REQ, 0, PAGE_MAX, session_fields),
    P_INT("total", OPT, 0, BIG),
    P_INT("next_offset", OPT, 0, BIG),
    P_ARR("warnings", OPT, 0, PAGE_MAX, problem_fields), /* session_set: education groups */
    P_END,
};

const bbt_param bbt_deleted_params[] = {
    P_ENUM("kind", REQ, kinds),
    P_IDENT("target", REQ),
    P_END,
};

static const bbt_param change_fields[] = {
    P_IDENT("session", REQ),
    P_ENUM("change", REQ, change_kinds),
    P_INT("line", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_imported_params[] = {
    P_IDENT("upload", REQ),
    P_ENUM("state", REQ, import_states),
    P_INT("received_bytes", REQ, 0, BIG),
    P_BOOL("dry_run", OPT),
    P_INT("rows", OPT, 0, BIG),
    P_INT("added", OPT, 0, BIG),
    P_INT("changed", OPT, 0, BIG),
    P_INT("unchanged", OPT, 0, BIG),
    P_ARR("changes", OPT, 0, PAGE_MAX, change_fields),
    P_ARR("problems", OPT, 0, PAGE_MAX, problem_fields),
    P_INT("problems_total", OPT, 0, BIG),
    P_ARR("notes", OPT, 0, PAGE_MAX, problem_fields),
    P_ARR("warnings", OPT, 0, PAGE_MAX, problem_fields), /* education groups: not refused */
    P_INT("warnings_total", OPT, 0, BIG),
    P_END,
};

static const bbt_param presence_fields[] = {
    P_IDENT("classroom", REQ),
    P_ENUM("presence", REQ, presence),
    P_END,
};

static const bbt_param day_session_fields[] = {
    P_IDENT("session", REQ),
    P_IDENT("schedule", REQ),
    P_STR("title", OPT, 0, 256),
    P_STR("subject", OPT, 0, 64),
    P_STR("teacher", OPT, 0, 64),
    P_FMT("start", REQ, BBT_P_HHMM),
    P_FMT("end", REQ, BBT_P_HHMM),
    P_ENUM("state", REQ, occ_states),
    P_STR("reason", OPT, 0, 256),
    P_FMT("moved_from", OPT, BBT_P_DATE),
    P_FMT("moved_to", OPT, BBT_P_DATE),
    P_STR("note", OPT, 0, 256),
    P_OBJ("source", REQ, presence_fields),
    P_ARR("receivers", REQ, 0, 256, presence_fields),
    P_ENUM("relay_state", REQ, relay_states),
    P_INT("viewers", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_day_params[] = {
    P_FMT("date", REQ, BBT_P_DATE),
    P_ARR("sessions", REQ, 0, PAGE_MAX, day_session_fields),
    P_INT("total", OPT, 0, BIG),
    P_INT("next_offset", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_occurrence_params[] = {
    P_IDENT("session", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_ENUM("change", REQ, occ_changes),
    P_FMT("to", OPT, BBT_P_DATE),
    P_FMT("start", OPT, BBT_P_HHMM),
    P_FMT("end", OPT, BBT_P_HHMM),
    P_END,
};

static const bbt_param attendance_row_fields[] = {
    P_IDENT("classroom", REQ),
    P_IDENT("session", REQ),
    P_FMT("date", REQ, BBT_P_DATE),
    P_FMT("start", OPT, BBT_P_HHMM),
    P_FMT("end", OPT, BBT_P_HHMM),
    P_STR("joined", OPT, 0, 8),
    P_STR("left", OPT, 0, 8),
    P_INT("seconds", REQ, 0, BIG),
    P_INT("lesson_seconds", OPT, 0, BIG),
    P_OBJ("layers", OPT, NULL),
    P_INT("stalls", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_attendance_params[] = {
    P_FMT("from", REQ, BBT_P_DATE),
    P_FMT("to", REQ, BBT_P_DATE),
    P_ARR("rows", REQ, 0, PAGE_MAX, attendance_row_fields),
    P_INT("total", OPT, 0, BIG),
    P_INT("next_offset", OPT, 0, BIG),
    P_END,
};

const bbt_param bbt_time_params[] = {
    P_INT("time_us", REQ, 0, BIG),
    P_NUM("scale", REQ, 0, 3600),
    P_STR("local", OPT, 0, 32),
    P_END,
};
