/* proto/control_tables_dash.c — the parameter tables of the dashboard's messages
 * (docs/PROTOCOL.md §3.19): `dash_subscribe` (operator -> relay) and `dash` (relay -> operator,
 * the snapshot relay/dash.c builds). control_tables.c lists them in its spec array; the row
 * macros are the same as there. To add a field: a row here, a line in §3.19, a rejection row in
 * tests/proto/test_control_rules.c. */
#include "control_params.h"

#include <stddef.h>

static const char *const sess_states[] = {"upcoming", "starting", "live",  "ended", "cancelled",
                                          "holiday",  "moved",    "failed", NULL};
static const char *const relay_states[] = {"none", "waiting", "live", "interrupted", "ended",
                                           NULL};
static const char *const lights[] = {"green", "amber", "red", "idle", NULL};
static const char *const cr_roles[] = {"source", "receiver", NULL};

const bbt_param bbt_dash_subscribe_params[] = {
    P_BOOL("enabled", OPT),
    P_INT("interval_ms", OPT, 500, 60000),
    P_END,
};

static const bbt_param relay_fields[] = {
    P_INT("connections", REQ, 0, BIG),
    P_INT("publishers", REQ, 0, BIG),
    P_INT("viewers", REQ, 0, BIG),
    P_INT("uptime_s", REQ, 0, BIG),
    P_END,
};

static const bbt_param session_fields[] = {
    P_IDENT("session", REQ),
    P_IDENT("schedule", OPT),
    P_STR("title", OPT, 0, 256),
    P_STR("subject", OPT, 0, 64),
    P_STR("teacher", OPT, 0, 64),
    P_FMT("start", OPT, BBT_P_HHMM),
    P_FMT("end", OPT, BBT_P_HHMM),
    P_ENUM("state", REQ, sess_states),
    P_STR("reason", OPT, 0, 256),
    P_IDENT("source", OPT),
    P_IDS("receivers", OPT, 0, 256),
    P_ENUM("relay_state", REQ, relay_states),
    P_BOOL("publisher_up", REQ),
    P_INT("viewers", REQ, 0, BIG),
    P_INT("watching", OPT, 0, 256),
    P_NUM("kbps", REQ, 0, BIG),
    P_END,
};

static const bbt_param classroom_fields[] = {
    P_IDENT("classroom", REQ),
    P_ENUM("light", REQ, lights),
    P_IDS("reasons", OPT, 0, 16),
    P_ENUM("role", OPT, cr_roles),
    P_BOOL("connected", REQ),
    P_INT("connections", OPT, 0, BIG),
    P_IDENT("session", OPT),
    P_BOOL("watching", OPT),
    P_STR("layer", OPT, 0, 16),
    P_NUM("latency_ms", OPT, 0, BIG),
    P_INT("stalls", OPT, 0, BIG),
    P_INT("stalls_total", OPT, 0, BIG),
    P_BOOL("audio_ok", OPT),
    P_INT("report_age_s", OPT, 0, BIG),
    P_INT("last_seen_s", OPT, 0, BIG),
    P_END,
};

static const bbt_param error_fields[] = {
    P_INT("time_us", REQ, 0, BIG),
    P_STR("subject", REQ, 0, 64),
    P_INT("code", OPT, 0, 999),
    P_STR("name", OPT, 0, 64),
    P_STR("message", REQ, 0, 256),
    P_IDENT("session", OPT),
    P_END,
};

const bbt_param bbt_dash_params[] = {
    P_INT("time_us", REQ, 0, BIG),
    P_FMT("date", OPT, BBT_P_DATE),
    P_OBJ("relay", REQ, relay_fields),
    P_ARR("sessions", REQ, 0, 512, session_fields),
    P_ARR("classrooms", REQ, 0, 1024, classroom_fields),
    P_ARR("errors", REQ, 0, 64, error_fields),
    P_END,
};
