/* proto/control_build.c — builders of outgoing control messages and the typed track list
 * (see control.h, docs/PROTOCOL.md §3). Every builder validates what it built, so what we send
 * is exactly what bbt_control_parse() accepts. */
#include "control.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "control_internal.h"
#include "status.h"

#define TEXT_MAX 4096 /* the longest free-text field of any table (hello.token) */

/* Copy at most `max` bytes of `s` into buf (room for max + 1), cut at a character boundary;
 * a byte that does not start a well-formed UTF-8 sequence becomes '?'. Returns the length. */
static size_t clean_text(char *buf, size_t max, const char *s)
{
    size_t o = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = bbt_utf8_seq((const unsigned char *)s + i, n - i);
        const char *src = k ? s + i : "?";
        size_t out = k ? k : 1;
        if (o + out > max)
            break;
        memcpy(buf + o, src, out);
        o += out;
        i += out;
    }
    buf[o] = '\0';
    return o;
}

/* Free text (messages, reasons): cleaned and cut to `max` bytes. */
static bool set_text(json_t *obj, const char *key, const char *s, size_t max)
{
    char buf[TEXT_MAX + 1];
    if (max > TEXT_MAX)
        max = TEXT_MAX;
    size_t n = clean_text(buf, max, s);
    return json_object_set_new(obj, key, json_stringn(buf, n)) == 0;
}

/* Identifiers and enum values: copied exactly, so a bad one fails validation instead of being
 * silently changed into another one. */
static bool set_str(json_t *obj, const char *key, const char *s)
{
    return json_object_set_new(obj, key, json_string(s)) == 0;
}

static bool set_int(json_t *obj, const char *key, int64_t v)
{
    return json_object_set_new(obj, key, json_integer((json_int_t)v)) == 0;
}

static json_t *new_msg(bbt_msg_type type)
{
    json_t *m = json_object();
    if (m && !set_str(m, "type", bbt_msg_type_name(type))) {
        json_decref(m);
        return NULL;
    }
    return m;
}

/* Hand out `m` only if everything was set and it validates as `type`. */
static json_t *finish(bbt_msg_type type, json_t *m, bool ok)
{
    if (m && ok && bbt_control_validate(type, m, NULL, 0) == BBT_OK)
        return m;
    json_decref(m);
    return NULL;
}

json_t *bbt_msg_error(int status, const char *message, const char *ref_type)
{
    if (status > -1 || status < -999)
        return NULL;
    json_t *m = new_msg(BBT_MSG_ERROR);
    bool ok = m && set_int(m, "code", -status) && set_str(m, "name", bbt_status_name(status)) &&
              set_text(m, "message", message ? message : bbt_strerror(status), 1024);
    if (ok && ref_type)
        ok = set_str(m, "ref_type", ref_type);
    return finish(BBT_MSG_ERROR, m, ok);
}

static int64_t size_to_int(size_t v)
{
    return v > (size_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

json_t *bbt_msg_welcome(const bbt_welcome *w)
{
    if (!w || !w->server || !w->subject || !w->role)
        return NULL;
    json_t *m = new_msg(BBT_MSG_WELCOME);
    bool ok = m && set_str(m, "server", w->server) &&
              set_int(m, "version", BBT_PROTOCOL_VERSION) && set_int(m, "time_us", w->time_us) &&
              set_str(m, "subject", w->subject) && set_str(m, "role", w->role) &&
              set_int(m, "heartbeat_ms", w->heartbeat_ms);
    if (ok && w->rtt_us > 0)
        ok = set_int(m, "rtt_us", w->rtt_us);
    if (ok && (w->max_frame_bytes || w->max_message_bytes)) {
        json_t *lim = json_object();
        ok = json_object_set_new(m, "limits", lim) == 0; /* lim is borrowed from m now */
        if (ok && w->max_frame_bytes)
            ok = set_int(lim, "max_frame_bytes", size_to_int(w->max_frame_bytes));
        if (ok && w->max_message_bytes)
            ok = set_int(lim, "max_message_bytes", size_to_int(w->max_message_bytes));
    }
    return finish(BBT_MSG_WELCOME, m, ok);
}

json_t *bbt_msg_state(const char *session, const char *state, const char *reason, int layer)
{
    if (!session || !state)
        return NULL;
    json_t *m = new_msg(BBT_MSG_STATE);
    bool ok = m && set_str(m, "session", session) && set_str(m, "state", state);
    if (ok && reason)
        ok = set_text(m, "reason", reason, 256);
    if (ok && layer != BBT_LAYER_OMIT)
        ok = set_int(m, "layer", layer);
    return finish(BBT_MSG_STATE, m, ok);
}

json_t *bbt_msg_keyframe(int track)
{
    json_t *m = new_msg(BBT_MSG_KEYFRAME);
    bool ok = m && set_int(m, "track", track);
    return finish(BBT_MSG_KEYFRAME, m, ok);
}

json_t *bbt_msg_bye(const char *reason)
{
    json_t *m = new_msg(BBT_MSG_BYE);
    bool ok = m != NULL;
    if (ok && reason)
        ok = set_text(m, "reason", reason, 256);
    return finish(BBT_MSG_BYE, m, ok);
}

/* ---- the typed track list ----------------------------------------------------------------- */

const char *bbt_track_kind_name(bbt_track_kind kind)
{
    switch (kind) {
    case BBT_TRACK_VIDEO:
        return "video";
    case BBT_TRACK_AUDIO:
        return "audio";
    case BBT_TRACK_COURSEWARE:
        return "courseware";
    }
    return "?";
}

static int64_t get_int(const json_t *o, const char *key, int64_t def)
{
    const json_t *v = json_object_get(o, key);
    return v ? (int64_t)json_integer_value(v) : def;
}

/* One element already validated against the track table; the kind-specific rules. */
static int read_track(const json_t *o, const char *path, bbt_track_info *t, char *err,
                      size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    t->kind = strcmp(kind, "audio") == 0        ? BBT_TRACK_AUDIO
              : strcmp(kind, "courseware") == 0 ? BBT_TRACK_COURSEWARE
                                                : BBT_TRACK_VIDEO;
    t->id = (int)get_int(o, "id", 0);
    snprintf(t->codec, sizeof t->codec, "%s", json_string_value(json_object_get(o, "codec")));
    t->layer = (int)get_int(o, "layer", 0);
    t->width = (int)get_int(o, "width", 0);
    t->height = (int)get_int(o, "height", 0);
    const json_t *fps = json_object_get(o, "fps");
    t->fps = fps ? json_number_value(fps) : 0.0;
    t->bitrate = get_int(o, "bitrate", 0);
    t->sample_rate = (int)get_int(o, "sample_rate", 0);
    t->channels = (int)get_int(o, "channels", t->kind == BBT_TRACK_AUDIO ? 1 : 0);
    if (t->kind != BBT_TRACK_AUDIO && (t->width <= 0 || t->height <= 0)) {
        bbt_errf(err, errlen, "%s: a %s track needs width and height", path, kind);
        return BBT_EMSG_FIELD;
    }
    if (t->kind == BBT_TRACK_AUDIO && t->sample_rate <= 0) {
        bbt_errf(err, errlen, "%s: an audio track needs sample_rate", path);
        return BBT_EMSG_FIELD;
    }
    return BBT_OK;
}

int bbt_tracks_read(const json_t *arr, const char *path, bbt_track_info *out, size_t max,
                    size_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (!arr) {
        bbt_errf(err, errlen, "%s: missing", path);
        return BBT_EMSG_FIELD;
    }
    int rc = bbt_param_check(&bbt_tracks_param, arr, path, err, errlen);
    if (rc != BBT_OK)
        return rc;
    size_t count = json_array_size(arr);
    if (count > max) {
        bbt_errf(err, errlen, "%s: %zu tracks do not fit in %zu", path, count, max);
        return BBT_EFULL;
    }
    uint32_t seen = 0;
    for (size_t i = 0; i < count; i++) {
        char sub[BBT_PATH_MAX];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        rc = read_track(json_array_get(arr, i), sub, &out[i], err, errlen);
        if (rc != BBT_OK)
            return rc;
        if (seen & (1u << out[i].id)) {
            bbt_errf(err, errlen, "%s.id: duplicate track id %d", sub, out[i].id);
            return BBT_EMSG_FIELD;
        }
        seen |= 1u << out[i].id;
    }
    *n = count;
    return BBT_OK;
}

int bbt_tracks_from_json(const json_t *tracks_array, bbt_track_info *out, size_t max, size_t *n,
                         char *err, size_t errlen)
{
    if (!tracks_array || !out || !n) {
        if (n)
            *n = 0;
        bbt_errf(err, errlen, "invalid argument");
        return BBT_EINVAL;
    }
    return bbt_tracks_read(tracks_array, "tracks", out, max, n, err, errlen);
}

static json_t *track_json(const bbt_track_info *t)
{
    json_t *o = json_object();
    bool ok = o && set_int(o, "id", t->id) && set_str(o, "kind", bbt_track_kind_name(t->kind)) &&
              json_object_set_new(o, "codec", json_stringn(t->codec, strnlen(t->codec,
                                                                         sizeof t->codec))) == 0 &&
              set_int(o, "layer", t->layer);
    if (ok && t->width > 0)
        ok = set_int(o, "width", t->width);
    if (ok && t->height > 0)
        ok = set_int(o, "height", t->height);
    if (ok && t->fps > 0) { /* 25 rather than 25.0 when whole: what a publisher writes */
        bool whole = t->fps <= 1000 && t->fps == (double)(int)t->fps;
        json_t *fps = whole ? json_integer((json_int_t)t->fps) : json_real(t->fps);
        ok = json_object_set_new(o, "fps", fps) == 0;
    }
    if (ok && t->bitrate > 0)
        ok = set_int(o, "bitrate", t->bitrate);
    if (ok && t->sample_rate > 0)
        ok = set_int(o, "sample_rate", t->sample_rate);
    if (ok && t->channels > 0)
        ok = set_int(o, "channels", t->channels);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *bbt_tracks_to_json(const bbt_track_info *tracks, size_t n)
{
    if ((!tracks && n) || n > BBT_MAX_TRACKS)
        return NULL;
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(arr, track_json(&tracks[i])) == 0;
    bbt_track_info check[BBT_MAX_TRACKS];
    size_t k;
    if (ok && bbt_tracks_read(arr, "tracks", check, BBT_MAX_TRACKS, &k, NULL, 0) == BBT_OK)
        return arr;
    json_decref(arr);
    return NULL;
}
