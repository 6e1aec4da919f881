/* tests/proto/test_control_build.c — what we send is what we accept: every example of
 * docs/PROTOCOL.md §3 round-trips (parse → dump → parse, same content), every builder makes
 * exactly the document's example, the typed track list keeps its rules, and the builders
 * survive allocation failure at every point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/control.h"
#include "proto/status.h"
#include "support/failalloc.h"

#include "control_examples.h"

#define SESSION "2025-03-03.music.p3"

/* jansson allocates through these, so failalloc (which wraps malloc in this program) sees it. */
static void *j_malloc(size_t n) { return malloc(n); }
static void j_free(void *p) { free(p); }

static int setup(void **state)
{
    (void)state;
    json_set_alloc_funcs(j_malloc, j_free);
    return examples_load() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    examples_free();
    return 0;
}

/* dump → parse must give the same type and an equal object; returns the re-parsed copy. */
static json_t *round_trip(bbt_msg_type type, const json_t *m)
{
    char err[256];
    assert_int_equal(bbt_control_validate(type, m, err, sizeof err), BBT_OK);
    size_t len;
    char *text = bbt_control_dump(m, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_null(strchr(text, '\n')); /* compact: one line */
    bbt_msg_type t;
    json_t *back = NULL;
    int rc = bbt_control_parse(text, len, NULL, &t, &back, err, sizeof err);
    if (rc != BBT_OK)
        fail_msg("%s: %s\n%s", bbt_status_name(rc), err, text);
    assert_int_equal(t, type);
    assert_true(json_equal(back, m));
    free(text);
    return back;
}

static void expect_equal(const json_t *got, const json_t *want)
{
    if (json_equal(got, want))
        return;
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
    fail_msg("got  %s\nwant %s", g, w);
}

static void test_every_example_round_trips(void **state)
{
    (void)state;
    int covered[BBT_MSG__COUNT] = {0};
    for (size_t i = 0; i < examples_count(); i++) {
        bbt_msg_type t;
        const char *text = example_at(i, &t);
        json_error_t je;
        json_t *m = json_loads(text, 0, &je);
        assert_non_null(m);
        json_decref(round_trip(t, m));
        json_decref(m);
        covered[t]++;
    }
    for (int t = 0; t < BBT_MSG__COUNT; t++)
        if (!covered[t])
            fail_msg("docs/PROTOCOL.md §3 has no example of %s", bbt_msg_type_name(t));
}

/* ---- builders make exactly the document's examples ---------------------------------------- */

static void test_build_welcome(void **state)
{
    (void)state;
    bbt_welcome w = {.server = "bbt-relay/0.1.0", .time_us = 1740000000123456,
                     .subject = "hz-shiyan-301", .role = "source", .heartbeat_ms = 10000,
                     .rtt_us = 38000, .max_frame_bytes = 2097152, .max_message_bytes = 65536};
    json_t *m = bbt_msg_welcome(&w);
    assert_non_null(m);
    json_t *hello = example_json(BBT_MSG_HELLO, 0);
    assert_int_equal(bbt_msg_echo_id(m, hello), BBT_OK);
    json_t *want = example_json(BBT_MSG_WELCOME, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_WELCOME, m));
    json_decref(m);
    /* without limits (and without a round trip); with only one limit */
    w.max_frame_bytes = w.max_message_bytes = 0;
    w.rtt_us = 0;
    m = bbt_msg_welcome(&w);
    assert_null(json_object_get(m, "limits"));
    assert_null(json_object_get(m, "rtt_us"));
    json_decref(m);
    w.max_frame_bytes = 1;
    m = bbt_msg_welcome(&w);
    assert_int_equal(json_object_size(json_object_get(m, "limits")), 1);
    json_decref(m);
    /* arguments that cannot make a valid welcome */
    w.role = "teacher";
    assert_null(bbt_msg_welcome(&w));
    w.role = "source";
    w.max_frame_bytes = SIZE_MAX;
    assert_null(bbt_msg_welcome(&w));
    w.max_frame_bytes = 0;
    w.heartbeat_ms = 0;
    assert_null(bbt_msg_welcome(&w));
    w.heartbeat_ms = 1000;
    w.subject = NULL;
    assert_null(bbt_msg_welcome(&w));
    assert_null(bbt_msg_welcome(NULL));
    json_decref(want);
    json_decref(hello);
}

static void test_build_error(void **state)
{
    (void)state;
    /* the first error example answers the publish example with tracks[2].width = 9000 */
    json_t *pub = example_json(BBT_MSG_PUBLISH, 0);
    json_object_set_new(json_array_get(json_object_get(pub, "tracks"), 2), "width",
                        json_integer(9000));
    char *text = bbt_control_dump(pub, NULL);
    char err[256];
    bbt_msg_type t;
    json_t *none;
    int rc = bbt_control_parse(text, strlen(text), NULL, &t, &none, err, sizeof err);
    assert_int_equal(rc, BBT_EMSG_FIELD);
    json_t *m = bbt_msg_error(rc, err, bbt_msg_type_name(t));
    json_t *want = example_json(BBT_MSG_ERROR, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_ERROR, m));
    json_decref(m);
    json_decref(want);
    free(text);

    /* the second: a valid request refused, with ref_id, session and fatal */
    m = bbt_msg_error(BBT_EDENIED, "a receiver may not publish", "publish");
    assert_int_equal(bbt_msg_echo_id(m, pub), BBT_OK);
    json_object_set_new(m, "session", json_string(SESSION));
    json_object_set_new(m, "fatal", json_false());
    want = example_json(BBT_MSG_ERROR, 1);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_ERROR, m));
    json_decref(m);
    json_decref(want);
    json_decref(pub);

    /* defaults, limits and bad arguments */
    m = bbt_msg_error(BBT_ETIMEOUT, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(m, "code")), 8);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "BBT_ETIMEOUT");
    assert_string_equal(json_string_value(json_object_get(m, "message")), "timed out");
    assert_null(json_object_get(m, "ref_type"));
    json_decref(m);
    assert_null(bbt_msg_error(BBT_OK, "x", NULL));
    assert_null(bbt_msg_error(5, "x", NULL));
    assert_null(bbt_msg_error(-1000, "x", NULL));
    assert_null(bbt_msg_error(BBT_EIO, "x", "")); /* ref_type is 1..32 bytes */
    m = bbt_msg_error(-999, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "BBT_E?");
    json_decref(m);
}

/* Free text is cut at a character boundary and cleaned of bytes that are not UTF-8. */
static void test_build_cleans_text(void **state)
{
    (void)state;
    char long_cn[1100 * 3 + 1] = "";
    for (int i = 0; i < 1100; i++)
        strcat(long_cn, "\xe8\xaf\xbe"); /* 课, 3 bytes */
    json_t *m = bbt_msg_error(BBT_EIO, long_cn, NULL);
    assert_non_null(m);
    assert_int_equal(json_string_length(json_object_get(m, "message")), 1023); /* 341 × 3 */
    json_decref(m);
    m = bbt_msg_bye("ab\xff\xc3(\xe8\xaf");
    assert_string_equal(json_string_value(json_object_get(m, "reason")), "ab?" "?(" "??");
    json_decref(m);
    m = bbt_msg_bye(NULL);
    assert_int_equal(json_object_size(m), 1);
    json_decref(m);
    char reason[300];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    m = bbt_msg_bye(reason);
    assert_int_equal(json_string_length(json_object_get(m, "reason")), 256);
    json_decref(m);
    /* identifiers are never cut or changed: a bad one makes no message */
    assert_null(bbt_msg_state("a b", "live", NULL, BBT_LAYER_OMIT));
    assert_null(bbt_msg_state(SESSION, "Live", NULL, BBT_LAYER_OMIT));
    assert_null(bbt_msg_state(NULL, "live", NULL, BBT_LAYER_OMIT));
    assert_null(bbt_msg_state(SESSION, NULL, NULL, BBT_LAYER_OMIT));
}

static void test_build_state_keyframe_bye(void **state)
{
    (void)state;
    json_t *m = bbt_msg_state(SESSION, "interrupted", "publisher connection lost", 1);
    json_t *want = example_json(BBT_MSG_STATE, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_STATE, m));
    json_decref(want);
    json_decref(m);
    m = bbt_msg_state(SESSION, "live", NULL, BBT_LAYER_OMIT);
    assert_int_equal(json_object_size(m), 3);
    json_decref(m);
    m = bbt_msg_state(SESSION, "live", NULL, -1);
    assert_int_equal(json_integer_value(json_object_get(m, "layer")), -1);
    json_decref(m);
    assert_null(bbt_msg_state(SESSION, "live", NULL, 32));
    assert_null(bbt_msg_state(SESSION, "live", NULL, -3));

    m = bbt_msg_keyframe(1);
    json_object_set_new(m, "reason", json_string("viewer switching layer"));
    want = example_json(BBT_MSG_KEYFRAME, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_KEYFRAME, m));
    json_decref(want);
    json_decref(m);
    assert_null(bbt_msg_keyframe(32));
    assert_null(bbt_msg_keyframe(-1));

    m = bbt_msg_bye("lesson ended");
    want = example_json(BBT_MSG_BYE, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_BYE, m));
    json_decref(want);
    json_decref(m);
}

static void test_echo_id(void **state)
{
    (void)state;
    json_t *reply = bbt_msg_bye(NULL);
    json_t *req = json_pack("{s:s,s:s}", "type", "ping", "id", "q-1");
    assert_int_equal(bbt_msg_echo_id(reply, req), BBT_OK);
    assert_string_equal(json_string_value(json_object_get(reply, "ref_id")), "q-1");
    json_object_del(req, "id");
    json_object_del(reply, "ref_id");
    assert_int_equal(bbt_msg_echo_id(reply, req), BBT_OK); /* no id: nothing to echo */
    assert_null(json_object_get(reply, "ref_id"));
    assert_int_equal(bbt_msg_echo_id(NULL, req), BBT_EINVAL);
    assert_int_equal(bbt_msg_echo_id(reply, NULL), BBT_EINVAL);
    json_decref(req);
    json_decref(reply);
    assert_null(bbt_control_dump(NULL, NULL));
}

/* The other messages have no builder: json_pack + bbt_tracks_to_json, then validate. */
static void test_build_track_messages(void **state)
{
    (void)state;
    json_t *pub = example_json(BBT_MSG_PUBLISH, 0);
    bbt_track_info t[BBT_MAX_TRACKS];
    size_t n;
    char err[256];
    assert_int_equal(bbt_tracks_from_json(json_object_get(pub, "tracks"), t, BBT_MAX_TRACKS, &n,
                                          err, sizeof err), BBT_OK);
    json_t *m = json_pack("{s:s,s:s,s:o}", "type", "published", "session", SESSION, "tracks",
                          bbt_tracks_to_json(t, n));
    assert_int_equal(bbt_msg_echo_id(m, pub), BBT_OK);
    json_t *want = example_json(BBT_MSG_PUBLISHED, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_PUBLISHED, m));
    json_decref(want);
    json_decref(m);

    /* a viewer that can take only 360p, 180p and audio: tracks 1..3 */
    m = json_pack("{s:s,s:i,s:s,s:s,s:o}", "type", "tracks", "ref_id", 2, "session", SESSION,
                  "state", "live", "tracks", bbt_tracks_to_json(t + 1, 3));
    want = example_json(BBT_MSG_TRACKS, 0);
    expect_equal(m, want);
    json_decref(round_trip(BBT_MSG_TRACKS, m));
    json_decref(want);
    json_decref(m);
    json_decref(pub);
}

/* ---- the typed track list ------------------------------------------------------------------ */

static int tracks_of(const char *json, bbt_track_info *t, size_t max, size_t *n, char *err)
{
    json_error_t je;
    json_t *a = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(a);
    err[0] = '\0';
    int rc = bbt_tracks_from_json(a, t, max, n, err, 256);
    json_decref(a);
    return rc;
}

static void test_tracks_from_json(void **state)
{
    (void)state;
    json_t *pub = example_json(BBT_MSG_PUBLISH, 0);
    bbt_track_info t[BBT_MAX_TRACKS];
    size_t n = 99;
    char err[256];
    assert_int_equal(bbt_tracks_from_json(json_object_get(pub, "tracks"), t, BBT_MAX_TRACKS, &n,
                                          err, sizeof err), BBT_OK);
    json_decref(pub);
    assert_int_equal(n, 5);
    assert_int_equal(t[0].id, 0);
    assert_int_equal(t[0].kind, BBT_TRACK_VIDEO);
    assert_string_equal(t[0].codec, "avc1.42E01F");
    assert_int_equal(t[0].layer, 2);
    assert_int_equal(t[0].width, 1280);
    assert_int_equal(t[0].height, 720);
    assert_true(t[0].fps == 25.0);
    assert_int_equal(t[0].bitrate, 1200000);
    assert_int_equal(t[0].sample_rate, 0);
    assert_int_equal(t[0].channels, 0);
    assert_int_equal(t[3].kind, BBT_TRACK_AUDIO);
    assert_string_equal(t[3].codec, "opus");
    assert_int_equal(t[3].layer, 0); /* default */
    assert_int_equal(t[3].sample_rate, 48000);
    assert_int_equal(t[3].channels, 1);
    assert_int_equal(t[3].width, 0);
    assert_int_equal(t[4].kind, BBT_TRACK_COURSEWARE);
    assert_true(t[4].fps == 2.0);

    /* to_json → from_json gives the same structs */
    json_t *a = bbt_tracks_to_json(t, n);
    assert_non_null(a);
    bbt_track_info u[BBT_MAX_TRACKS];
    size_t m;
    assert_int_equal(bbt_tracks_from_json(a, u, BBT_MAX_TRACKS, &m, err, sizeof err), BBT_OK);
    assert_int_equal(m, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(u[i].id, t[i].id);
        assert_int_equal(u[i].kind, t[i].kind);
        assert_string_equal(u[i].codec, t[i].codec);
        assert_int_equal(u[i].layer, t[i].layer);
        assert_int_equal(u[i].width, t[i].width);
        assert_int_equal(u[i].height, t[i].height);
        assert_true(u[i].fps == t[i].fps);
        assert_int_equal(u[i].bitrate, t[i].bitrate);
        assert_int_equal(u[i].sample_rate, t[i].sample_rate);
        assert_int_equal(u[i].channels, t[i].channels);
    }
    json_decref(a);
}

static void test_tracks_rules(void **state)
{
    (void)state;
    bbt_track_info t[4];
    size_t n = 7;
    char err[256];
#define AUDIO(id) "{\"id\":" #id ",\"kind\":\"audio\",\"codec\":\"opus\",\"sample_rate\":48000}"
    assert_int_equal(tracks_of("[" AUDIO(1) "," AUDIO(1) "]", t, 4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[1].id: duplicate track id 1");
    assert_int_equal(n, 0);
    assert_int_equal(tracks_of("[{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1\",\"width\":640}]", t,
                               4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[0]: a video track needs width and height");
    assert_int_equal(tracks_of("[{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1\",\"width\":0,"
                               "\"height\":0}]", t, 4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[0]: a video track needs width and height");
    assert_int_equal(tracks_of("[{\"id\":5,\"kind\":\"courseware\",\"codec\":\"avc1\"}]", t, 4, &n,
                               err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[0]: a courseware track needs width and height");
    assert_int_equal(tracks_of("[" AUDIO(0) ",{\"id\":1,\"kind\":\"audio\",\"codec\":\"opus\"}]", t,
                               4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[1]: an audio track needs sample_rate");
    assert_int_equal(tracks_of("[{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1\",\"width\":9000,"
                               "\"height\":1}]", t, 4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks[0].width: expected an integer 0..7680, got 9000");
    assert_int_equal(tracks_of("{}", t, 4, &n, err), BBT_EMSG_FIELD);
    assert_string_equal(err, "tracks: expected an array of 0..32 items, got an object");
    assert_int_equal(tracks_of("[" AUDIO(0) "," AUDIO(1) "," AUDIO(2) "]", t, 2, &n, err),
                     BBT_EFULL);
    assert_string_equal(err, "tracks: 3 tracks do not fit in 2");
    assert_int_equal(n, 0);
    assert_int_equal(tracks_of("[" AUDIO(31) "," AUDIO(0) "]", t, 2, &n, err), BBT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(t[0].id, 31);
    assert_int_equal(t[0].channels, 1); /* default for audio */
    assert_int_equal(tracks_of("[]", t, 0, &n, err), BBT_OK);
    assert_int_equal(n, 0);
#undef AUDIO
    json_t *empty = json_array();
    assert_int_equal(bbt_tracks_from_json(NULL, t, 4, &n, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_tracks_from_json(empty, NULL, 4, &n, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_tracks_from_json(empty, t, 4, NULL, err, sizeof err), BBT_EINVAL);
    json_decref(empty);
}

static void test_tracks_to_json(void **state)
{
    (void)state;
    bbt_track_info t = {.id = 7, .kind = BBT_TRACK_VIDEO, .codec = "avc1.42E01F", .width = 640,
                        .height = 360, .fps = 29.97};
    json_t *a = bbt_tracks_to_json(&t, 1);
    assert_non_null(a);
    json_t *o = json_array_get(a, 0);
    assert_true(json_is_real(json_object_get(o, "fps")));
    assert_int_equal(json_object_size(o), 7); /* id kind codec layer width height fps */
    json_decref(a);
    t.fps = 25;
    a = bbt_tracks_to_json(&t, 1);
    assert_true(json_is_integer(json_object_get(json_array_get(a, 0), "fps")));
    json_decref(a);
    memset(t.codec, 'c', sizeof t.codec - 1); /* the longest codec string fits */
    t.codec[BBT_CODEC_MAX] = '\0';
    a = bbt_tracks_to_json(&t, 1);
    assert_non_null(a);
    json_decref(a);
    a = bbt_tracks_to_json(NULL, 0);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* what the table or the rules would reject is never built */
    bbt_track_info bad[BBT_MAX_TRACKS + 1];
    memset(bad, 0, sizeof bad);
    for (int i = 0; i <= BBT_MAX_TRACKS; i++)
        bad[i] = t;
    assert_null(bbt_tracks_to_json(bad, BBT_MAX_TRACKS + 1));
    assert_null(bbt_tracks_to_json(bad, 2)); /* duplicate ids */
    bad[0].id = 32;
    assert_null(bbt_tracks_to_json(bad, 1));
    bad[0] = t;
    bad[0].kind = (bbt_track_kind)7;
    assert_null(bbt_tracks_to_json(bad, 1));
    bad[0] = t;
    bad[0].codec[0] = '\0';
    assert_null(bbt_tracks_to_json(bad, 1));
    bad[0] = t;
    bad[0].kind = BBT_TRACK_AUDIO; /* no sample_rate */
    assert_null(bbt_tracks_to_json(bad, 1));
    bad[0] = t;
    bad[0].fps = 1e300;
    assert_null(bbt_tracks_to_json(bad, 1));
    assert_string_equal(bbt_track_kind_name(BBT_TRACK_COURSEWARE), "courseware");
    assert_string_equal(bbt_track_kind_name((bbt_track_kind)9), "?");
}

/* ---- allocation failure at every point ----------------------------------------------------- */

static json_t *b_error(void) { return bbt_msg_error(BBT_EMSG_FIELD, "x.y: bad", "publish"); }
static json_t *b_state(void) { return bbt_msg_state(SESSION, "live", "back", 2); }
static json_t *b_keyframe(void) { return bbt_msg_keyframe(3); }
static json_t *b_bye(void) { return bbt_msg_bye("lesson ended"); }

static json_t *b_welcome(void)
{
    bbt_welcome w = {.server = "s", .time_us = 1, .subject = "c1", .role = "receiver",
                     .heartbeat_ms = 10000, .max_frame_bytes = 1, .max_message_bytes = 2};
    return bbt_msg_welcome(&w);
}

static json_t *b_tracks(void)
{
    static const bbt_track_info t[2] = {
        {.id = 0, .kind = BBT_TRACK_VIDEO, .codec = "avc1", .width = 2, .height = 2, .fps = 1.5},
        {.id = 1, .kind = BBT_TRACK_AUDIO, .codec = "opus", .sample_rate = 48000, .bitrate = 1}};
    return bbt_tracks_to_json(t, 2);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    json_t *(*const builders[])(void) = {b_error, b_welcome, b_state, b_keyframe, b_bye, b_tracks};
    for (size_t b = 0; b < sizeof builders / sizeof builders[0]; b++) {
        json_t *m = NULL;
        long k = 0;
        for (; !m && k < 1000; k++) {
            failalloc_after(k);
            m = builders[b]();
            failalloc_reset();
        }
        assert_non_null(m);
        assert_true(k > 1); /* it did fail (cleanly) at least once first */
        json_decref(m);
    }
    /* parsing, dumping and echoing too */
    const char *text = example_at(0, NULL);
    int rc = BBT_ENOMEM;
    for (long k = 0; rc != BBT_OK && k < 10000; k++) {
        bbt_msg_type t;
        json_t *m = NULL;
        failalloc_after(k);
        rc = bbt_control_parse(text, strlen(text), NULL, &t, &m, NULL, 0);
        failalloc_reset();
        /* jansson reports a failed string allocation as a syntax error: still a clean
         * rejection (documented in control.h), and ASan checks that nothing leaks */
        if (rc != BBT_OK && rc != BBT_ENOMEM && rc != BBT_EMSG_JSON)
            fail_msg("after %ld allocations: %s", k, bbt_status_name(rc));
        assert_true((rc == BBT_OK) == (m != NULL));
        if (rc == BBT_OK) {
            for (long j = 0; j < 10000; j++) {
                failalloc_after(j);
                char *s = bbt_control_dump(m, NULL);
                json_t *r = bbt_msg_bye(NULL);
                int erc = r ? bbt_msg_echo_id(r, m) : BBT_ENOMEM;
                failalloc_reset();
                json_decref(r);
                free(s);
                if (s && erc == BBT_OK)
                    break;
                assert_true(erc == BBT_OK || erc == BBT_ENOMEM);
            }
        }
        json_decref(m);
    }
    assert_int_equal(rc, BBT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_example_round_trips),
        cmocka_unit_test(test_build_welcome),
        cmocka_unit_test(test_build_error),
        cmocka_unit_test(test_build_cleans_text),
        cmocka_unit_test(test_build_state_keyframe_bye),
        cmocka_unit_test(test_echo_id),
        cmocka_unit_test(test_build_track_messages),
        cmocka_unit_test(test_tracks_from_json),
        cmocka_unit_test(test_tracks_rules),
        cmocka_unit_test(test_tracks_to_json),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
