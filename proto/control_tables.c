/* proto/control_tables.c — the parameter table of every control message (docs/PROTOCOL.md §3).
 *
 * One table per message type; docs/PROTOCOL.md §3 has one subsection per table with the same
 * fields, and tests/proto/test_control.c holds the two together. To add a field: add a row
 * here, a line to the spec table, and a rejection test. */
#include "control_params.h"

#include <stddef.h>
#include <stdio.h>

#include "status.h"

static const char *const roles[] = {"source", "receiver", "operator", "relay", NULL};
static const char *const kinds[] = {"video", "audio", "courseware", NULL};
static const char *const states[] = {"waiting", "live", "interrupted", "ended", NULL};
static const char *const auto_choice[] = {"auto", NULL};

const bbt_param bbt_envelope_params[] = {
    P_REF("id", OPT),
    P_REF("ref_id", OPT),
    P_END,
};

static const bbt_param client_fields[] = {
    P_STR("name", OPT, 0, 64),
    P_STR("version", OPT, 0, 32),
    P_END,
};

static const bbt_param hello[] = {
    P_STR("token", REQ, 0, 4096),
    P_ENUM("role", REQ, roles),
    P_IDENT("classroom", OPT),
    P_OBJ("client", OPT, client_fields),
    P_BOOL("resume", OPT),
    P_END,
};

static const bbt_param limits_fields[] = {
    P_INT("max_frame_bytes", OPT, 1, 8 * 1024 * 1024),
    P_INT("max_message_bytes", OPT, 1, 16 * 1024 * 1024),
    P_END,
};

static const bbt_param welcome[] = {
    P_STR("server", REQ, 1, 128),
    P_INT("version", REQ, 1, 255),
    P_INT("time_us", REQ, 0, BIG),
    P_STR("subject", REQ, 1, 64),
    P_ENUM("role", REQ, roles),
    P_INT("heartbeat_ms", REQ, 100, 3600000),
    P_INT("rtt_us", OPT, 1, 60000000),
    P_OBJ("limits", OPT, limits_fields),
    P_END,
};

static const bbt_param error[] = {
    P_INT("code", REQ, 1, 999),
    P_STR("name", REQ, 1, 64),
    P_STR("message", REQ, 0, 1024),
    P_STR("message_zh", OPT, 0, 1024),
    P_STR("ref_type", OPT | NUL_OK, 1, 32),
    P_REF("ref_id", OPT | NUL_OK),
    P_IDENT("session", OPT | NUL_OK),
    P_BOOL("fatal", OPT),
    P_END,
};

static const bbt_param track_fields[] = {
    P_INT("id", REQ, 0, BBT_MAX_TRACKS - 1),
    P_ENUM("kind", REQ, kinds),
    P_STR("codec", REQ, 1, BBT_CODEC_MAX),
    P_INT("layer", OPT, 0, 7),
    P_INT("width", OPT, 0, 7680),
    P_INT("height", OPT, 0, 4320),
    P_NUM("fps", OPT, 0, 120),
    P_INT("bitrate", OPT, 0, 50000000),
    P_INT("sample_rate", OPT, 8000, 192000),
    P_INT("channels", OPT, 1, 8),
    P_END,
};

const bbt_param bbt_tracks_param = P_ARR("tracks", REQ, 0, BBT_MAX_TRACKS, track_fields);

static const bbt_param publish[] = {
    P_IDENT("session", REQ),
    P_STR("title", OPT, 0, 256),
    P_ARR("tracks", REQ, 1, BBT_MAX_TRACKS, track_fields),
    P_END,
};

static const bbt_param published[] = {
    P_IDENT("session", REQ),
    P_ARR("tracks", REQ, 1, BBT_MAX_TRACKS, track_fields),
    P_END,
};

static const bbt_param subscribe[] = {
    P_IDENT("session", REQ),
    {"layer", BBT_PT_INT, BBT_P_OR_CHOICE, 0, BBT_MAX_TRACKS - 1, NULL, auto_choice, 0},
    P_BOOL("audio", OPT),
    P_BOOL("video", OPT),
    P_BOOL("fragments", OPT),
    P_BOOL("audio_copy", OPT),
    P_BOOL("padding", OPT),
    P_END,
};

static const bbt_param session_only[] = {
    P_IDENT("session", REQ),
    P_END,
};

static const bbt_param tracks[] = {
    P_IDENT("session", REQ),
    P_ENUM("state", REQ, states),
    P_ARR("tracks", REQ, 0, BBT_MAX_TRACKS, track_fields),
    P_END,
};

static const bbt_param state[] = {
    P_IDENT("session", REQ),
    P_ENUM("state", REQ, states),
    P_STR("reason", OPT, 0, 256),
    P_INT("layer", OPT, -1, BBT_MAX_TRACKS - 1),
    P_STR("message", OPT, 0, 1024),
    P_END,
};

static const bbt_param latency_fields[] = {
    P_NUM("p50", REQ, 0, BIG),
    P_NUM("p95", REQ, 0, BIG),
    P_NUM("max", REQ, 0, BIG),
    P_END,
};

static const bbt_param report[] = {
    P_IDENT("session", REQ),
    P_INT("bytes", OPT, 0, BIG),
    P_INT("frames_decoded", OPT, 0, BIG),
    P_INT("frames_dropped", OPT, 0, BIG),
    P_INT("buffer_ms", OPT, 0, 600000),
    P_INT("stalls", OPT, 0, BIG),
    P_INT("stall_ms", OPT, 0, BIG),
    P_OBJ("latency_ms", OPT, latency_fields),
    P_INT("layer", OPT, -1, BBT_MAX_TRACKS - 1),
    P_BOOL("audio_ok", OPT),
    P_INT("audio_underruns", OPT, 0, BIG),
    P_END,
};

static const bbt_param keyframe[] = {
    P_INT("track", REQ, 0, BBT_MAX_TRACKS - 1),
    P_STR("reason", OPT, 0, 256),
    P_END,
};

static const bbt_param bye[] = {
    P_STR("reason", OPT, 0, 256),
    P_END,
};

static const bbt_param ping[] = {
    P_INT("time_us", OPT, 0, BIG),
    P_END,
};

static const bbt_param pong[] = {
    P_INT("time_us", OPT, 0, BIG),
    P_INT("retrans", OPT, 0, BIG),
    P_END,
};

static const bbt_param hand[] = {
    P_IDENT("session", REQ),
    P_IDENT("classroom", OPT),
    P_BOOL("raised", REQ),
    P_END,
};

/* publish, published, tracks: the typed track-list rules (duplicate ids, kind-specific fields). */
static int check_tracks(const json_t *msg, const char *path, char *err, size_t errlen)
{
    bbt_track_info t[BBT_MAX_TRACKS];
    size_t n;
    char p[BBT_PATH_MAX];
    snprintf(p, sizeof p, "%s.tracks", path);
    return bbt_tracks_read(json_object_get(msg, "tracks"), p, t, BBT_MAX_TRACKS, &n, err, errlen);
}

static const struct bbt_msg_spec specs[BBT_MSG__COUNT] = {
    [BBT_MSG_HELLO] = {"hello", hello, NULL},
    [BBT_MSG_WELCOME] = {"welcome", welcome, NULL},
    [BBT_MSG_ERROR] = {"error", error, NULL},
    [BBT_MSG_PUBLISH] = {"publish", publish, check_tracks},
    [BBT_MSG_PUBLISHED] = {"published", published, check_tracks},
    [BBT_MSG_SUBSCRIBE] = {"subscribe", subscribe, NULL},
    [BBT_MSG_UNSUBSCRIBE] = {"unsubscribe", session_only, NULL},
    [BBT_MSG_TRACKS] = {"tracks", tracks, check_tracks},
    [BBT_MSG_STATE] = {"state", state, NULL},
    [BBT_MSG_REPORT] = {"report", report, NULL},
    [BBT_MSG_KEYFRAME] = {"keyframe", keyframe, NULL},
    [BBT_MSG_BYE] = {"bye", bye, NULL},
    [BBT_MSG_PING] = {"ping", ping, NULL},
    [BBT_MSG_PONG] = {"pong", pong, NULL},
    [BBT_MSG_PLAN] = {"plan", bbt_plan_params, NULL},
    [BBT_MSG_HAND] = {"hand", hand, NULL},
    /* the timetable: control_tables_sched.c */
    [BBT_MSG_START] = {"start", bbt_start_params, NULL},
    [BBT_MSG_STOP] = {"stop", bbt_stop_params, NULL},
    [BBT_MSG_SCHOOL_SET] = {"school_set", bbt_school_set_params, NULL},
    [BBT_MSG_SCHOOL_LIST] = {"school_list", bbt_list_params, NULL},
    [BBT_MSG_SCHOOLS] = {"schools", bbt_schools_params, NULL},
    [BBT_MSG_CLASSROOM_SET] = {"classroom_set", bbt_classroom_set_params, NULL},
    [BBT_MSG_CLASSROOM_LIST] = {"classroom_list", bbt_list_params, NULL},
    [BBT_MSG_CLASSROOMS] = {"classrooms", bbt_classrooms_params, NULL},
    [BBT_MSG_GROUP_SET] = {"group_set", bbt_group_set_params, NULL},
    [BBT_MSG_GROUP_LIST] = {"group_list", bbt_list_params, NULL},
    [BBT_MSG_GROUPS] = {"groups", bbt_groups_params, NULL},
    [BBT_MSG_HOLIDAY_SET] = {"holiday_set", bbt_holiday_set_params, NULL},
    [BBT_MSG_HOLIDAY_LIST] = {"holiday_list", bbt_list_params, NULL},
    [BBT_MSG_HOLIDAYS] = {"holidays", bbt_holidays_params, NULL},
    [BBT_MSG_SESSION_SET] = {"session_set", bbt_session_set_params, NULL},
    [BBT_MSG_SESSION_LIST] = {"session_list", bbt_list_params, NULL},
    [BBT_MSG_SESSIONS] = {"sessions", bbt_sessions_params, NULL},
    [BBT_MSG_DELETE] = {"delete", bbt_delete_params, NULL},
    [BBT_MSG_DELETED] = {"deleted", bbt_deleted_params, NULL},
    [BBT_MSG_IMPORT] = {"import", bbt_import_params, NULL},
    [BBT_MSG_IMPORTED] = {"imported", bbt_imported_params, NULL},
    [BBT_MSG_DAY_LIST] = {"day_list", bbt_day_list_params, NULL},
    [BBT_MSG_DAY] = {"day", bbt_day_params, NULL},
    [BBT_MSG_CANCEL] = {"cancel", bbt_cancel_params, NULL},
    [BBT_MSG_MOVE] = {"move", bbt_move_params, NULL},
    [BBT_MSG_RESTORE] = {"restore", bbt_restore_params, NULL},
    [BBT_MSG_OCCURRENCE] = {"occurrence", bbt_occurrence_params, NULL},
    [BBT_MSG_ATTENDANCE_EXPORT] = {"attendance_export", bbt_attendance_export_params, NULL},
    [BBT_MSG_ATTENDANCE] = {"attendance", bbt_attendance_params, NULL},
    [BBT_MSG_CLOCK] = {"clock", bbt_clock_params, NULL},
    [BBT_MSG_TIME] = {"time", bbt_time_params, NULL},
    /* credentials: control_tables_auth.c */
    [BBT_MSG_TOKEN_ISSUE] = {"token_issue", bbt_token_issue_params, NULL},
    [BBT_MSG_TOKEN] = {"token", bbt_token_params, NULL},
    [BBT_MSG_TOKEN_LIST] = {"token_list", bbt_token_list_params, NULL},
    [BBT_MSG_TOKENS] = {"tokens", bbt_tokens_params, NULL},
    [BBT_MSG_TOKEN_REVOKE] = {"token_revoke", bbt_token_revoke_params, NULL},
    [BBT_MSG_TOKEN_REVOKED] = {"token_revoked", bbt_token_revoked_params, NULL},
    /* the dashboard: control_tables_dash.c */
    [BBT_MSG_DASH_SUBSCRIBE] = {"dash_subscribe", bbt_dash_subscribe_params, NULL},
    [BBT_MSG_DASH] = {"dash", bbt_dash_params, NULL},
};

const struct bbt_msg_spec *bbt_msg_spec_get(bbt_msg_type type)
{
    if ((unsigned)type >= BBT_MSG__COUNT)
        return NULL;
    return &specs[type];
}
