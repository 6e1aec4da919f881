/* proto/status.c — descriptions of the project's status codes (see status.h). */
#include "status.h"

#include <stddef.h>

struct status_row {
    int code;
    const char *name;
    const char *text;
};

#define ROW(c, t) { c, #c, t }
static const struct status_row rows[] = {
    ROW(BBT_OK, "success"),
    ROW(BBT_ENOMEM, "out of memory"),
    ROW(BBT_EINVAL, "invalid argument"),
    ROW(BBT_EIO, "input/output or system error"),
    ROW(BBT_ENOTFOUND, "not found"),
    ROW(BBT_EEXIST, "already exists"),
    ROW(BBT_EFULL, "full"),
    ROW(BBT_ELIMIT, "limit exceeded"),
    ROW(BBT_ETIMEOUT, "timed out"),
    ROW(BBT_EFRAME_SHORT, "media frame shorter than its header"),
    ROW(BBT_EFRAME_VERSION, "media frame has an unknown version"),
    ROW(BBT_EFRAME_FLAGS, "media frame has reserved bits set"),
    ROW(BBT_EFRAME_TRACK, "media frame track id out of range"),
    ROW(BBT_EFRAME_EMPTY, "media frame has no payload"),
    ROW(BBT_EFRAME_TOO_BIG, "media frame payload too large"),
    ROW(BBT_EMSG_JSON, "control message is not a JSON object"),
    ROW(BBT_EMSG_TOO_BIG, "control message too large"),
    ROW(BBT_EMSG_DEPTH, "control message nested too deeply"),
    ROW(BBT_EMSG_TYPE, "control message type missing or unknown"),
    ROW(BBT_EMSG_FIELD, "control message field invalid"),
    ROW(BBT_ECONFIG_SYNTAX, "configuration syntax error"),
    ROW(BBT_ECONFIG_KEY, "unknown configuration section or key"),
    ROW(BBT_ECONFIG_VALUE, "invalid configuration value"),
    ROW(BBT_ECONFIG_FILE, "configuration file cannot be read"),
    ROW(BBT_ETOKEN, "malformed token"),
    ROW(BBT_ETOKEN_SIG, "token signature invalid"),
    ROW(BBT_ETOKEN_EXPIRED, "token expired"),
    ROW(BBT_EDENIED, "permission denied"),
    ROW(BBT_ETOKEN_REVOKED, "token revoked"),
    ROW(BBT_ECONFLICT, "conflicts with the timetable"),
    ROW(BBT_ECSV, "timetable file invalid"),
    ROW(BBT_ESCHEMA, "schedule database is newer than this program"),
};
#undef ROW

static const struct status_row *find(int status)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].code == status)
            return &rows[i];
    return NULL;
}

const char *bbt_strerror(int status)
{
    const struct status_row *r = find(status);
    return r ? r->text : "unknown status";
}

const char *bbt_status_name(int status)
{
    const struct status_row *r = find(status);
    return r ? r->name : "BBT_E?";
}
