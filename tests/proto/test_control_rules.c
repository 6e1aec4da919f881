/* tests/proto/test_control_rules.c — every parameter-table rule of docs/PROTOCOL.md §3, one row
 * each: take an example of the document, change one member, expect the exact result. Also the
 * unknown-member rule, validation of built objects, and the table engine on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/control.h"
#include "proto/status.h"

#include "control_examples.h"

static int setup(void **state)
{
    (void)state;
    return examples_load() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    examples_free();
    return 0;
}

/* A value for a row: "-" deletes the member, "@a*N" is a string of N 'a', "@arr*N" an array of
 * N zeros, anything else is JSON text. */
static json_t *make_value(const char *v)
{
    if (strncmp(v, "@a*", 3) == 0) {
        size_t n = (size_t)atol(v + 3);
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, 'a', n);
        s[n] = '\0';
        json_t *j = json_string(s);
        free(s);
        return j;
    }
    if (strncmp(v, "@arr*", 5) == 0) {
        json_t *a = json_array();
        for (long i = atol(v + 5); i > 0; i--)
            json_array_append_new(a, json_integer(0));
        return a;
    }
    json_error_t je;
    json_t *j = json_loads(v, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad row value %s: %s", v, je.text);
    return j;
}

/* Set (value != NULL) or delete the member at `path` ("tracks[2].width", "client.name"). */
static void set_path(json_t *root, const char *path, json_t *value)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        char *br = strchr(tok, '[');
        long idx = br ? atol(br + 1) : -1;
        if (br)
            *br = '\0';
        bool last = save == NULL || *save == '\0';
        if (last && idx < 0) {
            if (value)
                json_object_set_new(cur, tok, value);
            else
                json_object_del(cur, tok);
            return;
        }
        json_t *next = json_object_get(cur, tok);
        assert_non_null(next);
        if (last) {
            if (value)
                json_array_set_new(next, (size_t)idx, value);
            else
                json_array_remove(next, (size_t)idx);
            return;
        }
        cur = idx >= 0 ? json_array_get(next, (size_t)idx) : next;
        assert_non_null(cur);
    }
}

struct row {
    bbt_msg_type type;
    int nth; /* which example of the type */
    const char *path;
    const char *value;
    int rc;
    const char *err;
};

#define OK BBT_OK, ""
#define BAD BBT_EMSG_FIELD

static const struct row rows[] = {
    /* envelope: id and ref_id on any message */
    {BBT_MSG_HELLO, 0, "id", "-1", BAD, "hello.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got -1"},
    {BBT_MSG_HELLO, 0, "id", "2147483648", BAD, "hello.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got 2147483648"},
    {BBT_MSG_HELLO, 0, "id", "1.5", BAD, "hello.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got 1.5"},
    {BBT_MSG_HELLO, 0, "id", "@a*65", BAD, "hello.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got a string of 65 bytes"},
    {BBT_MSG_HELLO, 0, "id", "null", BAD, "hello.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got null"},
    {BBT_MSG_WELCOME, 0, "ref_id", "{}", BAD, "welcome.ref_id: expected an integer 0..2147483647 or a string of 0..64 bytes, got an object"},
    {BBT_MSG_HELLO, 0, "id", "2147483647", OK},
    {BBT_MSG_HELLO, 0, "id", "@a*64", OK},
    {BBT_MSG_HELLO, 0, "id", "\"\"", OK},
    {BBT_MSG_PING, 0, "id", "\"req-\u8bfe\"", OK},
    /* hello */
    {BBT_MSG_HELLO, 0, "role", "-", BAD, "hello: missing required field \"role\""},
    {BBT_MSG_HELLO, 0, "token", "-", BAD, "hello: missing required field \"token\""},
    {BBT_MSG_HELLO, 0, "role", "\"teacher\"", BAD, "hello.role: expected one of source|receiver|operator|relay, got \"teacher\""},
    {BBT_MSG_HELLO, 0, "role", "\"Source\"", BAD, "hello.role: expected one of source|receiver|operator|relay, got \"Source\""},
    {BBT_MSG_HELLO, 0, "role", "null", BAD, "hello.role: expected one of source|receiver|operator|relay, got null"},
    {BBT_MSG_HELLO, 0, "role", "\"relay\"", OK},
    {BBT_MSG_HELLO, 0, "token", "5", BAD, "hello.token: expected a string of 0..4096 bytes, got 5"},
    {BBT_MSG_HELLO, 0, "token", "@a*4097", BAD, "hello.token: expected a string of 0..4096 bytes, got a string of 4097 bytes"},
    {BBT_MSG_HELLO, 0, "token", "@a*4096", OK},
    {BBT_MSG_HELLO, 0, "token", "\"\"", OK},
    {BBT_MSG_HELLO, 0, "classroom", "\"a b\"", BAD, "hello.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_HELLO, 0, "classroom", "\"\"", BAD, "hello.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got \"\""},
    {BBT_MSG_HELLO, 0, "classroom", "@a*65", BAD, "hello.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got a string of 65 bytes"},
    {BBT_MSG_HELLO, 0, "classroom", "\"\u6559\u5ba4\"", BAD, "hello.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got a string of 6 bytes"},
    {BBT_MSG_HELLO, 0, "classroom", "@a*64", OK},
    {BBT_MSG_HELLO, 0, "classroom", "\"Az09_.-\"", OK},
    {BBT_MSG_HELLO, 0, "client", "\"bbt-node\"", BAD, "hello.client: expected an object, got \"bbt-node\""},
    {BBT_MSG_HELLO, 0, "client.name", "@a*65", BAD, "hello.client.name: expected a string of 0..64 bytes, got a string of 65 bytes"},
    {BBT_MSG_HELLO, 0, "client.version", "@a*33", BAD, "hello.client.version: expected a string of 0..32 bytes, got a string of 33 bytes"},
    {BBT_MSG_HELLO, 0, "client", "{}", OK},
    {BBT_MSG_HELLO, 0, "resume", "1", BAD, "hello.resume: expected true or false, got 1"},
    {BBT_MSG_HELLO, 0, "resume", "\"true\"", BAD, "hello.resume: expected true or false, got \"true\""},
    {BBT_MSG_HELLO, 0, "resume", "false", OK},
    /* welcome */
    {BBT_MSG_WELCOME, 0, "server", "\"\"", BAD, "welcome.server: expected a string of 1..128 bytes, got \"\""},
    {BBT_MSG_WELCOME, 0, "version", "0", BAD, "welcome.version: expected an integer 1..255, got 0"},
    {BBT_MSG_WELCOME, 0, "version", "\"1\"", BAD, "welcome.version: expected an integer 1..255, got \"1\""},
    {BBT_MSG_WELCOME, 0, "time_us", "-1", BAD, "welcome.time_us: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_WELCOME, 0, "time_us", "-", BAD, "welcome: missing required field \"time_us\""},
    {BBT_MSG_WELCOME, 0, "subject", "-", BAD, "welcome: missing required field \"subject\""},
    {BBT_MSG_WELCOME, 0, "role", "\"admin\"", BAD, "welcome.role: expected one of source|receiver|operator|relay, got \"admin\""},
    {BBT_MSG_WELCOME, 0, "heartbeat_ms", "99", BAD, "welcome.heartbeat_ms: expected an integer 100..3600000, got 99"},
    {BBT_MSG_WELCOME, 0, "limits", "[]", BAD, "welcome.limits: expected an object, got an array of 0 items"},
    {BBT_MSG_WELCOME, 0, "limits.max_frame_bytes", "8388609", BAD, "welcome.limits.max_frame_bytes: expected an integer 1..8388608, got 8388609"},
    {BBT_MSG_WELCOME, 0, "limits.max_message_bytes", "0", BAD, "welcome.limits.max_message_bytes: expected an integer 1..16777216, got 0"},
    {BBT_MSG_WELCOME, 0, "limits", "-", OK},
    /* error */
    {BBT_MSG_ERROR, 0, "code", "0", BAD, "error.code: expected an integer 1..999, got 0"},
    {BBT_MSG_ERROR, 0, "code", "1000", BAD, "error.code: expected an integer 1..999, got 1000"},
    {BBT_MSG_ERROR, 0, "name", "\"\"", BAD, "error.name: expected a string of 1..64 bytes, got \"\""},
    {BBT_MSG_ERROR, 0, "message", "@a*1025", BAD, "error.message: expected a string of 0..1024 bytes, got a string of 1025 bytes"},
    {BBT_MSG_ERROR, 0, "message", "-", BAD, "error: missing required field \"message\""},
    {BBT_MSG_ERROR, 0, "ref_type", "@a*33", BAD, "error.ref_type: expected a string of 1..32 bytes, got a string of 33 bytes"},
    {BBT_MSG_ERROR, 1, "session", "\"a/b\"", BAD, "error.session: expected 1..64 characters of [A-Za-z0-9_.-], got \"a/b\""},
    {BBT_MSG_ERROR, 1, "fatal", "\"yes\"", BAD, "error.fatal: expected true or false, got \"yes\""},
    {BBT_MSG_ERROR, 1, "fatal", "null", BAD, "error.fatal: expected true or false, got null"},
    {BBT_MSG_ERROR, 1, "ref_type", "null", OK}, /* nullable */
    {BBT_MSG_ERROR, 1, "ref_id", "null", OK},
    {BBT_MSG_ERROR, 1, "session", "null", OK},
    /* publish and the track object */
    {BBT_MSG_PUBLISH, 0, "session", "-", BAD, "publish: missing required field \"session\""},
    {BBT_MSG_PUBLISH, 0, "session", "\"a b\"", BAD, "publish.session: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_PUBLISH, 0, "title", "@a*257", BAD, "publish.title: expected a string of 0..256 bytes, got a string of 257 bytes"},
    {BBT_MSG_PUBLISH, 0, "tracks", "-", BAD, "publish: missing required field \"tracks\""},
    {BBT_MSG_PUBLISH, 0, "tracks", "[]", BAD, "publish.tracks: expected an array of 1..32 items, got an array of 0 items"},
    {BBT_MSG_PUBLISH, 0, "tracks", "@arr*33", BAD, "publish.tracks: expected an array of 1..32 items, got an array of 33 items"},
    {BBT_MSG_PUBLISH, 0, "tracks", "{}", BAD, "publish.tracks: expected an array of 1..32 items, got an object"},
    {BBT_MSG_PUBLISH, 0, "tracks[0]", "\"x\"", BAD, "publish.tracks[0]: expected an object, got \"x\""},
    {BBT_MSG_PUBLISH, 0, "tracks[2].width", "9000", BAD, "publish.tracks[2].width: expected an integer 0..7680, got 9000"},
    {BBT_MSG_PUBLISH, 0, "tracks[2].width", "320.0", BAD, "publish.tracks[2].width: expected an integer 0..7680, got 320.0"},
    {BBT_MSG_PUBLISH, 0, "tracks[2].width", "\"320\"", BAD, "publish.tracks[2].width: expected an integer 0..7680, got \"320\""},
    {BBT_MSG_PUBLISH, 0, "tracks[2].height", "4321", BAD, "publish.tracks[2].height: expected an integer 0..4320, got 4321"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].id", "-", BAD, "publish.tracks[0]: missing required field \"id\""},
    {BBT_MSG_PUBLISH, 0, "tracks[0].id", "32", BAD, "publish.tracks[0].id: expected an integer 0..31, got 32"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].id", "-1", BAD, "publish.tracks[0].id: expected an integer 0..31, got -1"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].id", "31", OK},
    {BBT_MSG_PUBLISH, 0, "tracks[1].id", "0", BAD, "publish.tracks[1].id: duplicate track id 0"},
    {BBT_MSG_PUBLISH, 0, "tracks[4].id", "3", BAD, "publish.tracks[4].id: duplicate track id 3"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].kind", "\"data\"", BAD, "publish.tracks[0].kind: expected one of video|audio|courseware, got \"data\""},
    {BBT_MSG_PUBLISH, 0, "tracks[0].codec", "\"\"", BAD, "publish.tracks[0].codec: expected a string of 1..64 bytes, got \"\""},
    {BBT_MSG_PUBLISH, 0, "tracks[0].codec", "@a*65", BAD, "publish.tracks[0].codec: expected a string of 1..64 bytes, got a string of 65 bytes"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].codec", "@a*64", OK},
    {BBT_MSG_PUBLISH, 0, "tracks[0].layer", "8", BAD, "publish.tracks[0].layer: expected an integer 0..7, got 8"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].fps", "240", BAD, "publish.tracks[0].fps: expected a number 0..120, got 240"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].fps", "-0.5", BAD, "publish.tracks[0].fps: expected a number 0..120, got -0.5"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].fps", "\"25\"", BAD, "publish.tracks[0].fps: expected a number 0..120, got \"25\""},
    {BBT_MSG_PUBLISH, 0, "tracks[0].fps", "29.97", OK},
    {BBT_MSG_PUBLISH, 0, "tracks[0].bitrate", "50000001", BAD, "publish.tracks[0].bitrate: expected an integer 0..50000000, got 50000001"},
    {BBT_MSG_PUBLISH, 0, "tracks[3].sample_rate", "7999", BAD, "publish.tracks[3].sample_rate: expected an integer 8000..192000, got 7999"},
    {BBT_MSG_PUBLISH, 0, "tracks[3].channels", "9", BAD, "publish.tracks[3].channels: expected an integer 1..8, got 9"},
    {BBT_MSG_PUBLISH, 0, "tracks[3].channels", "0", BAD, "publish.tracks[3].channels: expected an integer 1..8, got 0"},
    {BBT_MSG_PUBLISH, 0, "tracks[0].width", "-", BAD, "publish.tracks[0]: a video track needs width and height"},
    {BBT_MSG_PUBLISH, 0, "tracks[4].height", "0", BAD, "publish.tracks[4]: a courseware track needs width and height"},
    {BBT_MSG_PUBLISH, 0, "tracks[3].sample_rate", "-", BAD, "publish.tracks[3]: an audio track needs sample_rate"},
    {BBT_MSG_PUBLISH, 0, "tracks[3].channels", "-", OK},
    /* published */
    {BBT_MSG_PUBLISHED, 0, "tracks", "[]", BAD, "published.tracks: expected an array of 1..32 items, got an array of 0 items"},
    {BBT_MSG_PUBLISHED, 0, "tracks[1].id", "0", BAD, "published.tracks[1].id: duplicate track id 0"},
    {BBT_MSG_PUBLISHED, 0, "session", "-", BAD, "published: missing required field \"session\""},
    /* subscribe, unsubscribe */
    {BBT_MSG_SUBSCRIBE, 0, "session", "\"a b\"", BAD, "subscribe.session: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "\"best\"", BAD, "subscribe.layer: expected \"auto\" or an integer 0..31, got \"best\""},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "32", BAD, "subscribe.layer: expected \"auto\" or an integer 0..31, got 32"},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "-1", BAD, "subscribe.layer: expected \"auto\" or an integer 0..31, got -1"},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "true", BAD, "subscribe.layer: expected \"auto\" or an integer 0..31, got true"},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "2", OK},
    {BBT_MSG_SUBSCRIBE, 0, "layer", "-", OK},
    {BBT_MSG_SUBSCRIBE, 0, "audio", "\"no\"", BAD, "subscribe.audio: expected true or false, got \"no\""},
    {BBT_MSG_SUBSCRIBE, 0, "audio", "1", BAD, "subscribe.audio: expected true or false, got 1"},
    {BBT_MSG_SUBSCRIBE, 0, "video", "0", BAD, "subscribe.video: expected true or false, got 0"},
    {BBT_MSG_UNSUBSCRIBE, 0, "session", "-", BAD, "unsubscribe: missing required field \"session\""},
    {BBT_MSG_UNSUBSCRIBE, 0, "session", "@a*65", BAD, "unsubscribe.session: expected 1..64 characters of [A-Za-z0-9_.-], got a string of 65 bytes"},
    /* tracks */
    {BBT_MSG_TRACKS, 0, "state", "\"paused\"", BAD, "tracks.state: expected one of waiting|live|interrupted|ended, got \"paused\""},
    {BBT_MSG_TRACKS, 0, "tracks", "-", BAD, "tracks: missing required field \"tracks\""},
    {BBT_MSG_TRACKS, 0, "tracks", "[]", OK},
    {BBT_MSG_TRACKS, 0, "tracks[2].sample_rate", "-", BAD, "tracks.tracks[2]: an audio track needs sample_rate"},
    /* state */
    {BBT_MSG_STATE, 0, "state", "-", BAD, "state: missing required field \"state\""},
    {BBT_MSG_STATE, 0, "layer", "-2", BAD, "state.layer: expected an integer -1..31, got -2"},
    {BBT_MSG_STATE, 0, "layer", "-1", OK},
    {BBT_MSG_STATE, 0, "reason", "@a*257", BAD, "state.reason: expected a string of 0..256 bytes, got a string of 257 bytes"},
    {BBT_MSG_STATE, 0, "message", "@a*1025", BAD, "state.message: expected a string of 0..1024 bytes, got a string of 1025 bytes"},
    /* report */
    {BBT_MSG_REPORT, 0, "session", "-", BAD, "report: missing required field \"session\""},
    {BBT_MSG_REPORT, 0, "bytes", "-1", BAD, "report.bytes: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_REPORT, 0, "bytes", "9007199254740993", BAD, "report.bytes: expected an integer 0..9007199254740992, got 9007199254740993"},
    {BBT_MSG_REPORT, 0, "frames_dropped", "1e3", BAD, "report.frames_dropped: expected an integer 0..9007199254740992, got 1000.0"},
    {BBT_MSG_REPORT, 0, "buffer_ms", "600001", BAD, "report.buffer_ms: expected an integer 0..600000, got 600001"},
    {BBT_MSG_REPORT, 0, "stall_ms", "null", BAD, "report.stall_ms: expected an integer 0..9007199254740992, got null"},
    {BBT_MSG_REPORT, 0, "latency_ms", "[]", BAD, "report.latency_ms: expected an object, got an array of 0 items"},
    {BBT_MSG_REPORT, 0, "latency_ms.p95", "-0.5", BAD, "report.latency_ms.p95: expected a number 0..9007199254740992, got -0.5"},
    {BBT_MSG_REPORT, 0, "latency_ms.max", "-", BAD, "report.latency_ms: missing required field \"max\""},
    {BBT_MSG_REPORT, 0, "layer", "32", BAD, "report.layer: expected an integer -1..31, got 32"},
    {BBT_MSG_REPORT, 0, "audio_ok", "\"yes\"", BAD, "report.audio_ok: expected true or false, got \"yes\""},
    {BBT_MSG_REPORT, 0, "audio_underruns", "-3", BAD, "report.audio_underruns: expected an integer 0..9007199254740992, got -3"},
    {BBT_MSG_REPORT, 0, "latency_ms", "-", OK},
    /* keyframe, bye, ping, pong */
    {BBT_MSG_KEYFRAME, 0, "track", "-", BAD, "keyframe: missing required field \"track\""},
    {BBT_MSG_KEYFRAME, 0, "track", "32", BAD, "keyframe.track: expected an integer 0..31, got 32"},
    {BBT_MSG_KEYFRAME, 0, "reason", "@a*257", BAD, "keyframe.reason: expected a string of 0..256 bytes, got a string of 257 bytes"},
    {BBT_MSG_BYE, 0, "reason", "5", BAD, "bye.reason: expected a string of 0..256 bytes, got 5"},
    {BBT_MSG_BYE, 0, "reason", "\"\\\"quoted\\\"\"", OK},
    {BBT_MSG_PING, 0, "time_us", "-1", BAD, "ping.time_us: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_PONG, 0, "time_us", "\"now\"", BAD, "pong.time_us: expected an integer 0..9007199254740992, got \"now\""},
    /* plan */
    {BBT_MSG_PLAN, 0, "classroom", "-", BAD, "plan: missing required field \"classroom\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-13-01\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-13-01\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-02-29\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-02-29\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-04-31\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-04-31\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-3-3\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-3-3\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-03-03T00:00\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-03-03T00:00\""},
    {BBT_MSG_PLAN, 0, "date", "\"2025-0a-03\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2025-0a-03\""},
    {BBT_MSG_PLAN, 0, "date", "\"2024-02-29\"", OK},
    {BBT_MSG_PLAN, 0, "date", "\"2000-02-29\"", OK},
    {BBT_MSG_PLAN, 0, "date", "\"2100-02-29\"", BAD, "plan.date: expected a date YYYY-MM-DD, got \"2100-02-29\""},
    {BBT_MSG_PLAN, 0, "sessions", "@arr*257", BAD, "plan.sessions: expected an array of 0..256 items, got an array of 257 items"},
    {BBT_MSG_PLAN, 0, "sessions", "[]", OK},
    {BBT_MSG_PLAN, 0, "sessions[1]", "[]", BAD, "plan.sessions[1]: expected an object, got an array of 0 items"},
    {BBT_MSG_PLAN, 0, "sessions[0].session", "-", BAD, "plan.sessions[0]: missing required field \"session\""},
    {BBT_MSG_PLAN, 0, "sessions[0].end", "\"24:00\"", BAD, "plan.sessions[0].end: expected a time HH:MM, got \"24:00\""},
    {BBT_MSG_PLAN, 0, "sessions[0].start", "\"9:00\"", BAD, "plan.sessions[0].start: expected a time HH:MM, got \"9:00\""},
    {BBT_MSG_PLAN, 0, "sessions[0].start", "\"09:60\"", BAD, "plan.sessions[0].start: expected a time HH:MM, got \"09:60\""},
    {BBT_MSG_PLAN, 0, "sessions[0].start", "\"00:00\"", OK},
    {BBT_MSG_PLAN, 0, "sessions[1].end", "\"23:59\"", OK},
    {BBT_MSG_PLAN, 0, "sessions[0].role", "\"operator\"", BAD, "plan.sessions[0].role: expected one of source|receiver, got \"operator\""},
    {BBT_MSG_PLAN, 0, "sessions[1].state", "\"done\"", BAD, "plan.sessions[1].state: expected one of upcoming|starting|live|ended|cancelled|failed, got \"done\""},
    {BBT_MSG_PLAN, 0, "sessions[0].teacher", "@a*65", BAD, "plan.sessions[0].teacher: expected a string of 0..64 bytes, got a string of 65 bytes"},
    {BBT_MSG_PLAN, 0, "sessions[0].title", "-", OK},
    /* hand */
    {BBT_MSG_HAND, 0, "raised", "-", BAD, "hand: missing required field \"raised\""},
    {BBT_MSG_HAND, 0, "raised", "\"yes\"", BAD, "hand.raised: expected true or false, got \"yes\""},
    {BBT_MSG_HAND, 1, "classroom", "\"a/b\"", BAD, "hand.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got \"a/b\""},
    {BBT_MSG_HAND, 0, "session", "-", BAD, "hand: missing required field \"session\""},
    /* plan: the timetable's members (the second example) */
    {BBT_MSG_PLAN, 1, "live", "\"a b\"", BAD, "plan.live: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_PLAN, 1, "lead_ms", "3600001", BAD, "plan.lead_ms: expected an integer 0..3600000, got 3600001"},
    {BBT_MSG_PLAN, 1, "timezone", "\"\"", BAD, "plan.timezone: expected a string of 1..64 bytes, got \"\""},
    {BBT_MSG_PLAN, 1, "next.date", "-", BAD, "plan.next: missing required field \"date\""},
    {BBT_MSG_PLAN, 1, "next.state", "\"soon\"", BAD, "plan.next.state: expected one of upcoming|starting|live|ended|cancelled|failed, got \"soon\""},
    {BBT_MSG_PLAN, 1, "sessions[0].start_us", "-1", BAD, "plan.sessions[0].start_us: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_PLAN, 1, "sessions[0].receivers", "\"ls-1\"", BAD, "plan.sessions[0].receivers: expected an array of 0..256 items, got \"ls-1\""},
    {BBT_MSG_PLAN, 1, "sessions[0].moved_to", "\"2025-3-10\"", BAD, "plan.sessions[0].moved_to: expected a date YYYY-MM-DD, got \"2025-3-10\""},
    {BBT_MSG_PLAN, 1, "sessions[0].schedule", "\"\"", BAD, "plan.sessions[0].schedule: expected 1..64 characters of [A-Za-z0-9_.-], got \"\""},
    {BBT_MSG_PLAN, 1, "next", "-", OK},
    /* start, stop */
    {BBT_MSG_START, 0, "session", "-", BAD, "start: missing required field \"session\""},
    {BBT_MSG_START, 0, "start_us", "-", BAD, "start: missing required field \"start_us\""},
    {BBT_MSG_START, 0, "end", "\"10:4\"", BAD, "start.end: expected a time HH:MM, got \"10:4\""},
    {BBT_MSG_START, 0, "date", "\"03/03/2025\"", BAD, "start.date: expected a date YYYY-MM-DD, got \"03/03/2025\""},
    {BBT_MSG_START, 0, "title", "-", OK},
    {BBT_MSG_STOP, 0, "session", "5", BAD, "stop.session: expected 1..64 characters of [A-Za-z0-9_.-], got 5"},
    {BBT_MSG_STOP, 0, "reason", "@a*257", BAD, "stop.reason: expected a string of 0..256 bytes, got a string of 257 bytes"},
    /* operator requests and their replies */
    {BBT_MSG_SCHOOL_SET, 0, "school.name", "\"\"", BAD, "school_set.school.name: expected a string of 1..128 bytes, got \"\""},
    {BBT_MSG_SCHOOL_SET, 0, "school", "-", BAD, "school_set: missing required field \"school\""},
    {BBT_MSG_SCHOOL_LIST, 0, "limit", "1001", BAD, "school_list.limit: expected an integer 1..1000, got 1001"},
    {BBT_MSG_SCHOOL_LIST, 0, "offset", "0", OK},
    {BBT_MSG_SCHOOLS, 0, "schools[0].id", "\"\xe5\xad\xa6\"", BAD, "schools.schools[0].id: expected 1..64 characters of [A-Za-z0-9_.-], got a string of 3 bytes"},
    {BBT_MSG_CLASSROOM_SET, 0, "classroom.role", "\"teacher\"", BAD, "classroom_set.classroom.role: expected one of source|receiver|both, got \"teacher\""},
    {BBT_MSG_CLASSROOM_SET, 0, "classroom.school", "-", BAD, "classroom_set.classroom: missing required field \"school\""},
    {BBT_MSG_CLASSROOM_SET, 0, "classroom.timezone", "@a*40", BAD, "classroom_set.classroom.timezone: expected a string of 1..39 bytes, got a string of 40 bytes"},
    {BBT_MSG_CLASSROOM_SET, 0, "classroom.timezone", "-", OK},
    {BBT_MSG_CLASSROOM_LIST, 0, "school", "\"a b\"", BAD, "classroom_list.school: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_CLASSROOMS, 0, "classrooms[0].connected", "0", BAD, "classrooms.classrooms[0].connected: expected true or false, got 0"},
    {BBT_MSG_GROUP_SET, 0, "group.weak", "[]", BAD, "group_set.group.weak: expected an array of 1..256 items, got an array of 0 items"},
    {BBT_MSG_GROUP_SET, 0, "group.term_end", "-", BAD, "group_set.group: missing required field \"term_end\""},
    {BBT_MSG_GROUP_LIST, 0, "offset", "-1", BAD, "group_list.offset: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_GROUPS, 0, "groups", "{}", BAD, "groups.groups: expected an array of 0..1000 items, got an object"},
    {BBT_MSG_HOLIDAY_SET, 0, "holiday.first", "\"2025-04-31\"", BAD, "holiday_set.holiday.first: expected a date YYYY-MM-DD, got \"2025-04-31\""},
    {BBT_MSG_HOLIDAY_LIST, 0, "limit", "0", BAD, "holiday_list.limit: expected an integer 1..1000, got 0"},
    {BBT_MSG_HOLIDAYS, 0, "holidays[0].last", "-", BAD, "holidays.holidays[0]: missing required field \"last\""},
    {BBT_MSG_SESSION_SET, 0, "session.weekday", "8", BAD, "session_set.session.weekday: expected an integer 1..7, got 8"},
    {BBT_MSG_SESSION_SET, 0, "session.public", "\"yes\"", BAD, "session_set.session.public: expected true or false, got \"yes\""},
    {BBT_MSG_SESSION_SET, 0, "session.public", "true", OK},
    {BBT_MSG_SESSION_SET, 0, "session.receivers", "[]", BAD, "session_set.session.receivers: expected an array of 1..256 items, got an array of 0 items"},
    {BBT_MSG_SESSION_SET, 0, "session.start", "\"8:00\"", BAD, "session_set.session.start: expected a time HH:MM, got \"8:00\""},
    {BBT_MSG_SESSION_SET, 0, "session.title", "-", OK},
    {BBT_MSG_SESSION_LIST, 0, "classroom", "\"\"", BAD, "session_list.classroom: expected 1..64 characters of [A-Za-z0-9_.-], got \"\""},
    {BBT_MSG_SESSIONS, 0, "next_offset", "\"5\"", BAD, "sessions.next_offset: expected an integer 0..9007199254740992, got \"5\""},
    {BBT_MSG_DELETE, 0, "kind", "\"teacher\"", BAD, "delete.kind: expected one of school|classroom|group|holiday|session, got \"teacher\""},
    {BBT_MSG_DELETE, 0, "target", "-", BAD, "delete: missing required field \"target\""},
    {BBT_MSG_DELETED, 0, "target", "\"a b\"", BAD, "deleted.target: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_IMPORT, 0, "last", "-", BAD, "import: missing required field \"last\""},
    {BBT_MSG_IMPORT, 0, "part", "-1", BAD, "import.part: expected an integer 0..100000, got -1"},
    {BBT_MSG_IMPORT, 0, "csv", "7", BAD, "import.csv: expected a string of 0..16777216 bytes, got 7"},
    {BBT_MSG_IMPORT, 0, "dry_run", "-", OK},
    {BBT_MSG_IMPORTED, 0, "state", "\"done\"", BAD, "imported.state: expected one of receiving|checked|applied|refused, got \"done\""},
    {BBT_MSG_IMPORTED, 0, "problems[0].message", "-", BAD, "imported.problems[0]: missing required field \"message\""},
    {BBT_MSG_DAY_LIST, 0, "date", "\"today\"", BAD, "day_list.date: expected a date YYYY-MM-DD, got \"today\""},
    {BBT_MSG_DAY_LIST, 0, "date", "-", OK},
    {BBT_MSG_DAY, 0, "sessions[0].state", "\"running\"", BAD, "day.sessions[0].state: expected one of upcoming|starting|live|ended|cancelled|holiday|moved|failed, got \"running\""},
    {BBT_MSG_DAY, 0, "sessions[0].relay_state", "-", BAD, "day.sessions[0]: missing required field \"relay_state\""},
    {BBT_MSG_DAY, 0, "sessions[0].receivers[1].presence", "\"here\"", BAD, "day.sessions[0].receivers[1].presence: expected one of watching|connected|absent, got \"here\""},
    {BBT_MSG_CANCEL, 0, "date", "-", BAD, "cancel: missing required field \"date\""},
    {BBT_MSG_MOVE, 0, "to", "-", BAD, "move: missing required field \"to\""},
    {BBT_MSG_MOVE, 0, "start", "-", OK},
    {BBT_MSG_RESTORE, 0, "session", "-", BAD, "restore: missing required field \"session\""},
    {BBT_MSG_OCCURRENCE, 0, "change", "\"postponed\"", BAD, "occurrence.change: expected one of cancelled|moved|restored, got \"postponed\""},
    {BBT_MSG_ATTENDANCE_EXPORT, 0, "from", "-", BAD, "attendance_export: missing required field \"from\""},
    {BBT_MSG_ATTENDANCE, 0, "rows[0].seconds", "-5", BAD, "attendance.rows[0].seconds: expected an integer 0..9007199254740992, got -5"},
    {BBT_MSG_ATTENDANCE, 0, "rows[0].layers", "[]", BAD, "attendance.rows[0].layers: expected an object, got an array of 0 items"},
    {BBT_MSG_ATTENDANCE, 0, "rows[0].joined", "@a*9", BAD, "attendance.rows[0].joined: expected a string of 0..8 bytes, got \"aaaaaaaaa\""},
    {BBT_MSG_CLOCK, 0, "scale", "3601", BAD, "clock.scale: expected a number 0..3600, got 3601"},
    {BBT_MSG_CLOCK, 0, "time_us", "-", OK},
    {BBT_MSG_TIME, 0, "scale", "-", BAD, "time: missing required field \"scale\""},
    /* credentials (§3.20) */
    {BBT_MSG_TOKEN_ISSUE, 0, "subject", "\"a b\"", BAD, "token_issue.subject: expected 1..64 characters of [A-Za-z0-9_.-], got \"a b\""},
    {BBT_MSG_TOKEN_ISSUE, 0, "subject", "-", BAD, "token_issue: missing required field \"subject\""},
    {BBT_MSG_TOKEN_ISSUE, 0, "role", "\"teacher\"", BAD, "token_issue.role: expected one of source|receiver|operator|relay, got \"teacher\""},
    {BBT_MSG_TOKEN_ISSUE, 0, "days", "0", BAD, "token_issue.days: expected an integer 1..3650, got 0"},
    {BBT_MSG_TOKEN_ISSUE, 0, "days", "3651", BAD, "token_issue.days: expected an integer 1..3650, got 3651"},
    {BBT_MSG_TOKEN_ISSUE, 0, "days", "-", OK},
    {BBT_MSG_TOKEN_ISSUE, 0, "note", "@a*129", BAD, "token_issue.note: expected a string of 0..128 bytes, got a string of 129 bytes"},
    {BBT_MSG_TOKEN, 0, "token", "\"\"", BAD, "token.token: expected a string of 1..4096 bytes, got \"\""},
    {BBT_MSG_TOKEN, 0, "jti", "-", BAD, "token: missing required field \"jti\""},
    {BBT_MSG_TOKEN, 0, "subject", "5", BAD, "token.subject: expected 1..64 characters of [A-Za-z0-9_.-], got 5"},
    {BBT_MSG_TOKEN, 0, "role", "\"admin\"", BAD, "token.role: expected one of source|receiver|operator|relay, got \"admin\""},
    {BBT_MSG_TOKEN, 0, "expires", "-1", BAD, "token.expires: expected an integer 0..9007199254740992, got -1"},
    {BBT_MSG_TOKEN_LIST, 0, "id", "-1", BAD, "token_list.id: expected an integer 0..2147483647 or a string of 0..64 bytes, got -1"},
    {BBT_MSG_TOKENS, 0, "tokens", "-", BAD, "tokens: missing required field \"tokens\""},
    {BBT_MSG_TOKENS, 0, "tokens[0].jti", "\"a/b\"", BAD, "tokens.tokens[0].jti: expected 1..64 characters of [A-Za-z0-9_.-], got \"a/b\""},
    {BBT_MSG_TOKENS, 0, "tokens[0].subject", "-", BAD, "tokens.tokens[0]: missing required field \"subject\""},
    {BBT_MSG_TOKENS, 0, "tokens[0].role", "\"x\"", BAD, "tokens.tokens[0].role: expected one of source|receiver|operator|relay, got \"x\""},
    {BBT_MSG_TOKENS, 0, "tokens[0].issued_at", "1.5", BAD, "tokens.tokens[0].issued_at: expected an integer 0..9007199254740992, got 1.5"},
    {BBT_MSG_TOKENS, 0, "tokens[0].expires", "-", BAD, "tokens.tokens[0]: missing required field \"expires\""},
    {BBT_MSG_TOKENS, 0, "tokens[0].revoked", "0", BAD, "tokens.tokens[0].revoked: expected true or false, got 0"},
    {BBT_MSG_TOKENS, 0, "tokens[0].note", "@a*129", BAD, "tokens.tokens[0].note: expected a string of 0..128 bytes, got a string of 129 bytes"},
    {BBT_MSG_TOKEN_REVOKE, 0, "jti", "-", BAD, "token_revoke: missing required field \"jti\""},
    {BBT_MSG_TOKEN_REVOKE, 0, "jti", "@a*65", BAD, "token_revoke.jti: expected 1..64 characters of [A-Za-z0-9_.-], got a string of 65 bytes"},
    {BBT_MSG_TOKEN_REVOKED, 0, "jti", "\"\"", BAD, "token_revoked.jti: expected 1..64 characters of [A-Za-z0-9_.-], got \"\""},
    {BBT_MSG_TOKEN_REVOKED, 0, "closed", "-", BAD, "token_revoked: missing required field \"closed\""},
    /* the dashboard (§3.19) */
    {BBT_MSG_DASH_SUBSCRIBE, 0, "interval_ms", "100", BAD, "dash_subscribe.interval_ms: expected an integer 500..60000, got 100"},
    {BBT_MSG_DASH_SUBSCRIBE, 0, "enabled", "1", BAD, "dash_subscribe.enabled: expected true or false, got 1"},
    {BBT_MSG_DASH_SUBSCRIBE, 0, "interval_ms", "-", OK},
    {BBT_MSG_DASH, 0, "classrooms[0].light", "\"blue\"", BAD, "dash.classrooms[0].light: expected one of green|amber|red|idle, got \"blue\""},
    {BBT_MSG_DASH, 0, "sessions[1].state", "\"broken\"", BAD, "dash.sessions[1].state: expected one of upcoming|starting|live|ended|cancelled|holiday|moved|failed, got \"broken\""},
    {BBT_MSG_DASH, 0, "sessions[0].publisher_up", "-", BAD, "dash.sessions[0]: missing required field \"publisher_up\""},
    {BBT_MSG_DASH, 0, "sessions[0].kbps", "-1", BAD, "dash.sessions[0].kbps: expected a number 0..9007199254740992, got -1"},
    {BBT_MSG_DASH, 0, "errors", "@arr*65", BAD, "dash.errors: expected an array of 0..64 items, got an array of 65 items"},
    {BBT_MSG_DASH, 0, "relay", "-", BAD, "dash: missing required field \"relay\""},
    {BBT_MSG_DASH, 0, "date", "-", OK},
    {BBT_MSG_DAY, 0, "sessions[0].state", "\"failed\"", OK},
    {BBT_MSG_DAY, 0, "sessions[0].reason", "@a*257", BAD, "day.sessions[0].reason: expected a string of 0..256 bytes, got a string of 257 bytes"},
    {BBT_MSG_ERROR, 2, "message_zh", "@a*1025", BAD, "error.message_zh: expected a string of 0..1024 bytes, got a string of 1025 bytes"},
};

static void run_row(const struct row *r)
{
    json_t *m = example_json(r->type, r->nth);
    if (!m)
        fail_msg("no example %d of %s in docs/PROTOCOL.md", r->nth, bbt_msg_type_name(r->type));
    set_path(m, r->path, strcmp(r->value, "-") == 0 ? NULL : make_value(r->value));
    size_t len;
    char *text = bbt_control_dump(m, &len);
    assert_non_null(text);
    char err[512] = "";
    bbt_msg_type t;
    json_t *out = NULL;
    int rc = bbt_control_parse(text, len, NULL, &t, &out, err, sizeof err);
    if (rc != r->rc || strcmp(err, r->err) != 0)
        fail_msg("%s %s = %s: rc %s err \"%s\"\n  want %s \"%s\"", bbt_msg_type_name(r->type),
                 r->path, r->value, bbt_status_name(rc), err, bbt_status_name(r->rc), r->err);
    assert_int_equal(t, r->type); /* the type is known even when a field is wrong */
    /* validation of the built object agrees with parsing its text */
    assert_int_equal(bbt_control_validate(r->type, m, NULL, 0), r->rc);
    json_decref(out);
    json_decref(m);
    free(text);
}

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i]);
}

/* Every table row is exercised by a rejection above: a cheap guard that nobody adds a field to
 * the tables and forgets the test. Counted by the members the examples do not omit. */
static void test_every_type_has_rows(void **state)
{
    (void)state;
    int seen[BBT_MSG__COUNT] = {0};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].rc != BBT_OK)
            seen[rows[i].type]++;
    for (int t = 0; t < BBT_MSG__COUNT; t++)
        if (!seen[t])
            fail_msg("no rejection row for %s", bbt_msg_type_name((bbt_msg_type)t));
}

/* Every error text the document quotes (`publish.tracks[2].width: expected ...`) is one that a
 * row above produces, character for character. */
static void test_document_error_texts(void **state)
{
    (void)state;
    const char *p = examples_section();
    int checked = 0;
    assert_non_null(p);
    while ((p = strchr(p, '`')) != NULL) {
        if (strncmp(p, "```", 3) == 0) { /* a fenced block: skip it whole */
            const char *fence_end = strstr(p + 3, "```");
            assert_non_null(fence_end);
            p = fence_end + 3;
            continue;
        }
        const char *q = strchr(p + 1, '`');
        if (!q)
            break;
        char quote[256] = "";
        size_t n = 0;
        for (const char *c = p + 1; c < q && n + 1 < sizeof quote; c++)
            if (!(c[0] == '\\' && c[1] == '|')) /* "\|" inside a Markdown table is "|" */
                quote[n++] = *c;
        quote[n] = '\0';
        p = q + 1;
        bool is_err = strstr(quote, ": expected ") || strstr(quote, ": missing required") ||
                      strstr(quote, "duplicate track id") || strstr(quote, " track needs ");
        if (!is_err)
            continue;
        bool found = false;
        for (size_t i = 0; !found && i < sizeof rows / sizeof rows[0]; i++)
            found = strcmp(rows[i].err, quote) == 0;
        if (!found)
            fail_msg("docs/PROTOCOL.md quotes an error text no row produces: %s", quote);
        checked++;
    }
    assert_true(checked >= 12);
}

static void test_unknown_members_ignored(void **state)
{
    (void)state;
    for (size_t i = 0; i < examples_count(); i++) {
        bbt_msg_type t;
        example_at(i, &t);
        json_t *m = example_json(t, 0);
        json_object_set_new(m, "x_future", json_pack("{s:[i,s,{s:n}]}", "a", 1, "b", "c", NULL));
        json_object_set_new(m, "Session", json_integer(5)); /* names are case-sensitive */
        char err[256];
        if (bbt_control_validate(t, m, err, sizeof err) != BBT_OK)
            fail_msg("%s: %s", bbt_msg_type_name(t), err);
        json_decref(m);
    }
    /* unknown members inside known objects too */
    const char *s = "{\"type\":\"report\",\"session\":\"s1\",\"latency_ms\":{\"p50\":1,\"p95\":2,"
                    "\"max\":3,\"p99\":\"soon\"},\"gpu\":{\"name\":\"x\"}}";
    bbt_msg_type t;
    json_t *m;
    assert_int_equal(bbt_control_parse(s, strlen(s), NULL, &t, &m, NULL, 0), BBT_OK);
    json_decref(m);
}

/* Objects built in C can hold what JSON text cannot; validation still refuses them. */
static void test_validate_built_objects(void **state)
{
    (void)state;
    char err[256];
    json_t *m = json_pack("{s:s,s:s%}", "type", "bye", "reason", "a\0b", (size_t)3);
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, m, err, sizeof err), BBT_EMSG_FIELD);
    assert_string_equal(err, "bye.reason: contains a NUL character");
    json_object_set_new(m, "reason", json_string_nocheck("\xc3\x28"));
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, m, err, sizeof err), BBT_EMSG_FIELD);
    assert_string_equal(err, "bye.reason: not valid UTF-8");
    json_object_set_new(m, "reason", json_string_nocheck("\xed\xa0\x80"));
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, m, err, sizeof err), BBT_EMSG_FIELD);
    json_object_set_new(m, "reason", json_string("ok"));
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, m, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_control_validate(BBT_MSG_PING, m, err, sizeof err), BBT_EMSG_TYPE);
    assert_string_equal(err, "type: expected \"ping\", got \"bye\"");
    json_decref(m);
    json_t *arr = json_array();
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, arr, err, sizeof err), BBT_EMSG_JSON);
    assert_string_equal(err, "expected a JSON object, got an array of 0 items");
    json_decref(arr);
    /* a hostile string is never echoed raw: err stays printable ASCII */
    m = json_pack("{s:s,s:s,s:s}", "type", "hello", "token", "", "role", "\x1b[31m\xe8\x80\x81");
    assert_int_equal(bbt_control_validate(BBT_MSG_HELLO, m, err, sizeof err), BBT_EMSG_FIELD);
    assert_string_equal(err, "hello.role: expected one of source|receiver|operator|relay, "
                             "got a string of 8 bytes");
    json_decref(m);
}

/* The engine on a table of its own: nullable, required + nullable, scalar arrays, no path. */
static void test_params_engine(void **state)
{
    (void)state;
    static const bbt_param inner[] = {
        {"n", BBT_PT_NUMBER, BBT_P_REQUIRED, -5, 5, NULL, NULL, BBT_PT_STRING},
        {NULL, BBT_PT_STRING, 0, 0, 0, NULL, NULL, BBT_PT_STRING},
    };
    static const bbt_param table[] = {
        {"maybe", BBT_PT_INT, BBT_P_NULLABLE, 0, 9, NULL, NULL, BBT_PT_STRING},
        {"must", BBT_PT_STRING, BBT_P_REQUIRED | BBT_P_NULLABLE, 0, 3, NULL, NULL, BBT_PT_STRING},
        {"tags", BBT_PT_ARRAY, 0, 0, 3, NULL, NULL, BBT_PT_STRING},
        {"any", BBT_PT_OBJECT, 0, 0, 0, NULL, NULL, BBT_PT_STRING},
        {"objs", BBT_PT_ARRAY, 0, 1, 2, inner, NULL, BBT_PT_OBJECT},
        {NULL, BBT_PT_STRING, 0, 0, 0, NULL, NULL, BBT_PT_STRING},
    };
    char err[256];
    json_error_t je;
    struct {
        const char *json, *path;
        int rc;
        const char *err;
    } cases[] = {
        {"{\"must\":null,\"maybe\":null}", "req", BBT_OK, ""},
        {"{\"maybe\":1}", "req", BBT_EMSG_FIELD, "req: missing required field \"must\""},
        {"{\"maybe\":1}", NULL, BBT_EMSG_FIELD, "missing required field \"must\""},
        {"{\"must\":\"abcd\"}", NULL, BBT_EMSG_FIELD, "must: expected a string of 0..3 bytes, got \"abcd\""},
        {"{\"must\":\"\",\"tags\":[\"a\",\"b\"]}", "r", BBT_OK, ""},
        {"{\"must\":\"\",\"tags\":[\"a\",2]}", "r", BBT_EMSG_FIELD, "r.tags[1]: expected a string of 0..4096 bytes, got 2"},
        {"{\"must\":\"\",\"tags\":[1,2,3,4]}", "r", BBT_EMSG_FIELD, "r.tags: expected an array of 0..3 items, got an array of 4 items"},
        {"{\"must\":\"\",\"any\":{\"x\":[1]}}", "r", BBT_OK, ""},
        {"{\"must\":\"\",\"objs\":[{\"n\":-5},{\"n\":5.5}]}", "r", BBT_EMSG_FIELD, "r.objs[1].n: expected a number -5..5, got 5.5"},
        {"{\"must\":\"\",\"objs\":[{\"n\":-5},{}]}", "r", BBT_EMSG_FIELD, "r.objs[1]: missing required field \"n\""},
        {"[]", "r", BBT_EMSG_FIELD, "r: expected an object, got an array of 0 items"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = json_loads(cases[i].json, JSON_DECODE_ANY, &je);
        assert_non_null(o);
        err[0] = '\0';
        int rc = bbt_params_validate(table, o, cases[i].path, err, sizeof err);
        if (rc != cases[i].rc || strcmp(err, cases[i].err) != 0)
            fail_msg("%s: %s \"%s\"", cases[i].json, bbt_status_name(rc), err);
        json_decref(o);
    }
    assert_int_equal(bbt_params_validate(NULL, json_null(), "x", err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_params_validate(table, NULL, "x", err, sizeof err), BBT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_every_type_has_rows),
        cmocka_unit_test(test_document_error_texts),
        cmocka_unit_test(test_unknown_members_ignored),
        cmocka_unit_test(test_validate_built_objects),
        cmocka_unit_test(test_params_engine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
