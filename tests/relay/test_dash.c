/* tests/relay/test_dash.c — relay/dash.c: the light rules one by one, the bounded error ring,
 * and whole updates driven with a `day`, connections and sessions under a test clock: lights
 * and reasons, stalls in the window, egress, failed lessons logged once, the snapshot valid
 * against the `dash` table (docs/PROTOCOL.md §3.19), the metrics, updates without a snapshot
 * (nobody watching), and the bounds. */
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
#include "relay/dash.h"

#define S (1000000LL)

/* ---- the rules ---------------------------------------------------------------------------- */

static enum bbt_dash_light judge(bbt_dash_facts f, unsigned *why)
{
    return bbt_dash_judge(&f, why);
}

static void test_rules(void **state)
{
    (void)state;
    unsigned why;
    const bbt_dash_facts recv = {.role = BBT_DASH_ROLE_RECEIVER, .lesson_on = true,
                                 .connections = 1, .watching_it = true, .watching = true,
                                 .session_live = true, .fresh_report = true,
                                 .latency_p95_ms = 300, .audio_ok = 1};
    assert_int_equal(judge(recv, &why), BBT_DASH_GREEN);
    assert_int_equal(why, 0);
    /* nothing expected, nobody there */
    assert_int_equal(judge((bbt_dash_facts){.role = BBT_DASH_ROLE_RECEIVER}, &why), BBT_DASH_IDLE);
    /* offline: red in the lesson, amber before it */
    assert_int_equal(judge((bbt_dash_facts){.lesson_on = true}, &why), BBT_DASH_RED);
    assert_int_equal(why, BBT_DASH_R_OFFLINE);
    assert_int_equal(judge((bbt_dash_facts){.lesson_soon = true}, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_OFFLINE);
    /* a source that does not publish its lesson */
    bbt_dash_facts src = {.role = BBT_DASH_ROLE_SOURCE, .lesson_on = true, .connections = 1};
    assert_int_equal(judge(src, &why), BBT_DASH_RED);
    assert_int_equal(why, BBT_DASH_R_NOT_PUBLISHING);
    src.lesson_on = false;
    src.lesson_soon = true;
    assert_int_equal(judge(src, &why), BBT_DASH_AMBER);
    src.publishing_it = true;
    assert_int_equal(judge(src, &why), BBT_DASH_GREEN);
    /* a receiver connected but not in its lesson; before the start that is normal */
    bbt_dash_facts f = {.role = BBT_DASH_ROLE_RECEIVER, .lesson_on = true, .connections = 2};
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_NOT_WATCHING);
    f.lesson_on = false;
    f.lesson_soon = true;
    assert_int_equal(judge(f, &why), BBT_DASH_GREEN);
    /* latency: amber from 1500 ms, red from 3000 ms; only from a fresh report */
    f = recv;
    f.latency_p95_ms = 1500;
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_LATENCY);
    f.latency_p95_ms = 3000;
    assert_int_equal(judge(f, &why), BBT_DASH_RED);
    f.fresh_report = false;
    assert_int_equal(judge(f, &why), BBT_DASH_GREEN);
    /* stalls in the window: 1 amber, 3 red */
    f = recv;
    f.stalls_recent = 1;
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_STALLS);
    f.stalls_recent = 3;
    assert_int_equal(judge(f, &why), BBT_DASH_RED);
    /* quality: audio only, low layer, no sound, no reports, no source */
    f = recv;
    f.audio_only = true;
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_AUDIO_ONLY);
    f = recv;
    f.layer_low = true;
    f.audio_ok = 0;
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_LOW_LAYER | BBT_DASH_R_NO_SOUND);
    f = recv;
    f.fresh_report = false;
    f.stale_report = true;
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_NO_REPORTS);
    f = recv;
    f.session_live = false;
    f.audio_only = true; /* meaningless without a publisher */
    assert_int_equal(judge(f, &why), BBT_DASH_AMBER);
    assert_int_equal(why, BBT_DASH_R_NO_SOURCE);
    /* the worst rule wins, every reason is kept */
    f = recv;
    f.stalls_recent = 5;
    f.layer_low = true;
    assert_int_equal(judge(f, &why), BBT_DASH_RED);
    assert_int_equal(why, BBT_DASH_R_STALLS | BBT_DASH_R_LOW_LAYER);
    assert_string_equal(bbt_dash_light_name(BBT_DASH_AMBER), "amber");
    assert_string_equal(bbt_dash_reason_name(BBT_DASH_R_NO_REPORTS), "no_reports");
    assert_string_equal(bbt_dash_reason_name(3), "?");
}

/* ---- the error ring ------------------------------------------------------------------------ */

static const json_t *snap_member(const bbt_dash *d, const char *k)
{
    const json_t *s = bbt_dash_snapshot(d);
    assert_non_null(s);
    return json_object_get(s, k);
}

static void update_empty(bbt_dash *d, int64_t t)
{
    bbt_dash_input in = {.mono_us = t, .wall_us = 1740967200 * S + t, .snapshot = true};
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
}

static void test_error_ring(void **state)
{
    (void)state;
    bbt_dash *d = bbt_dash_new();
    assert_non_null(d);
    assert_null(bbt_dash_snapshot(d));
    char msg[32];
    for (int i = 0; i < BBT_DASH_ERRORS + 10; i++) {
        snprintf(msg, sizeof msg, "error %d", i);
        bbt_dash_error(d, 1000 + i, "ls-1", BBT_EDENIED, msg, "2025-03-03.music");
    }
    assert_int_equal(bbt_dash_error_count(d), BBT_DASH_ERRORS);
    /* hostile text: invalid UTF-8 and control characters become '?', long text is cut at a
     * character boundary, a subject that is not an id is kept as text, a bad session dropped */
    char longtext[400];
    memset(longtext, 0, sizeof longtext);
    for (size_t i = 0; i + 3 < sizeof longtext - 1; i += 3)
        memcpy(longtext + i, "课", 3);
    bbt_dash_error(d, 2000, "10.0.0.7", BBT_ETIMEOUT, longtext, "no such id!");
    bbt_dash_error(d, 2001, NULL, 0, "bad \xff\xfe byte\n", NULL);
    update_empty(d, 5 * S);
    char err[256];
    assert_int_equal(bbt_control_validate(BBT_MSG_DASH, bbt_dash_snapshot(d), err, sizeof err),
                     BBT_OK);
    const json_t *e = snap_member(d, "errors");
    assert_int_equal(json_array_size(e), BBT_DASH_ERRORS);
    const json_t *first = json_array_get(e, 0), *second = json_array_get(e, 1);
    assert_string_equal(json_string_value(json_object_get(first, "message")), "bad ?? byte?");
    assert_string_equal(json_string_value(json_object_get(first, "subject")), "-");
    assert_null(json_object_get(first, "code"));
    assert_string_equal(json_string_value(json_object_get(second, "subject")), "10.0.0.7");
    assert_string_equal(json_string_value(json_object_get(second, "name")), "BBT_ETIMEOUT");
    assert_int_equal(json_integer_value(json_object_get(second, "code")), 8);
    assert_null(json_object_get(second, "session"));
    size_t len = strlen(json_string_value(json_object_get(second, "message")));
    assert_true(len <= 256 && len % 3 == 0 && len >= 252);
    /* newest first: the oldest kept is "error 12" */
    const json_t *last = json_array_get(e, BBT_DASH_ERRORS - 1);
    assert_string_equal(json_string_value(json_object_get(last, "message")), "error 12");
    assert_string_equal(json_string_value(json_object_get(last, "session")), "2025-03-03.music");
    bbt_dash_error(NULL, 0, "x", 0, "ignored", NULL); /* no dash: no-op */
    bbt_dash_free(d);
    bbt_dash_free(NULL);
}

/* ---- whole updates ------------------------------------------------------------------------- */

/* Today: music (live: hz-301 teaches ls-1 and ls-2), art (live, nobody publishes: failed),
 * english (later). */
static json_t *day_json(const char *art_state)
{
    json_error_t je;
    char text[2048];
    snprintf(text, sizeof text,
             "{\"type\":\"day\",\"date\":\"2025-03-03\",\"sessions\":["
             "{\"session\":\"2025-03-03.music\",\"schedule\":\"music\",\"title\":\"音乐\","
             "\"start\":\"10:00\",\"end\":\"10:40\",\"state\":\"live\","
             "\"source\":{\"classroom\":\"hz-301\",\"presence\":\"watching\"},"
             "\"receivers\":[{\"classroom\":\"ls-1\",\"presence\":\"watching\"},"
             "{\"classroom\":\"ls-2\",\"presence\":\"absent\"}],\"relay_state\":\"live\"},"
             "{\"session\":\"2025-03-03.art\",\"schedule\":\"art\",\"start\":\"10:00\","
             "\"end\":\"10:40\",\"state\":\"%s\"%s,"
             "\"source\":{\"classroom\":\"hz-302\",\"presence\":\"absent\"},"
             "\"receivers\":[{\"classroom\":\"ls-3\",\"presence\":\"connected\"}],"
             "\"relay_state\":\"none\"},"
             "{\"session\":\"2025-03-03.english\",\"schedule\":\"english\",\"start\":\"14:00\","
             "\"end\":\"14:40\",\"state\":\"upcoming\","
             "\"source\":{\"classroom\":\"hz-301\",\"presence\":\"connected\"},"
             "\"receivers\":[{\"classroom\":\"ls-1\",\"presence\":\"connected\"}],"
             "\"relay_state\":\"none\"}],\"total\":3}",
             art_state,
             strcmp(art_state, "failed") == 0 ? ",\"reason\":\"source did not publish by start\""
                                              : "");
    json_t *d = json_loads(text, 0, &je);
    if (!d)
        fail_msg("day fixture: %s", je.text);
    char err[256];
    if (bbt_control_validate(BBT_MSG_DAY, d, err, sizeof err) != BBT_OK)
        fail_msg("day fixture invalid: %s", err);
    return d;
}

static const json_t *find(const json_t *arr, const char *key, const char *id)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(arr, i), key)), id) == 0)
            return json_array_get(arr, i);
    fail_msg("%s %s not in the snapshot", key, id);
    return NULL;
}

static const char *light_of(const bbt_dash *d, const char *cls)
{
    return json_string_value(json_object_get(find(snap_member(d, "classrooms"), "classroom", cls),
                                              "light"));
}

static bool has_reason(const bbt_dash *d, const char *cls, const char *why)
{
    const json_t *r = json_object_get(find(snap_member(d, "classrooms"), "classroom", cls),
                                      "reasons");
    for (size_t i = 0; i < json_array_size(r); i++)
        if (strcmp(json_string_value(json_array_get(r, i)), why) == 0)
            return true;
    return false;
}

struct world {
    bbt_dash_conn conns[4];
    bbt_dash_session sessions[2];
    json_t *day;
    int64_t t;
};

static void step(bbt_dash *d, struct world *w, int64_t dt)
{
    w->t += dt;
    bbt_dash_input in = {.mono_us = w->t, .wall_us = 1740967800 * S + w->t, .conns = w->conns,
                         .nconns = 4, .sessions = w->sessions, .nsessions = 2, .day = w->day,
                         .connections = 5, .publishers = 1, .viewers = 2, .uptime_s = 60,
                         .snapshot = true};
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
    char err[256];
    if (bbt_control_validate(BBT_MSG_DASH, bbt_dash_snapshot(d), err, sizeof err) != BBT_OK)
        fail_msg("snapshot invalid: %s", err);
}

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    w->t = 100 * S;
    w->conns[0] = (bbt_dash_conn){.classroom = "hz-301", .role = BBT_DASH_ROLE_SOURCE,
                                  .publishing = "2025-03-03.music", .stalls = -1,
                                  .latency_p95_ms = -1, .audio_ok = -1};
    w->conns[1] = (bbt_dash_conn){.classroom = "ls-1", .role = BBT_DASH_ROLE_RECEIVER,
                                  .watching = "2025-03-03.music", .session_live = true,
                                  .layer = "720p", .video_height = 720, .report_at_us = w->t,
                                  .latency_p95_ms = 400, .stalls = 0, .audio_ok = 1};
    w->conns[2] = (bbt_dash_conn){.classroom = "ls-3", .role = BBT_DASH_ROLE_RECEIVER,
                                  .stalls = -1, .latency_p95_ms = -1, .audio_ok = -1};
    w->conns[3] = (bbt_dash_conn){.classroom = "op-admin", .role = BBT_DASH_ROLE_RECEIVER,
                                  .watching = "adhoc-1", .session_live = false, .stalls = -1,
                                  .latency_p95_ms = -1, .audio_ok = -1};
    w->sessions[0] = (bbt_dash_session){.id = "2025-03-03.music", .state = "live", .viewers = 1,
                                        .bytes_out = 1000000, .publisher_up = true,
                                        .publisher = "hz-301"};
    w->sessions[1] = (bbt_dash_session){.id = "adhoc-1", .state = "interrupted", .viewers = 1};
    w->day = day_json("live");
}

static void test_lights_and_lessons(void **state)
{
    (void)state;
    bbt_dash *d = bbt_dash_new();
    struct world w;
    world_init(&w);
    step(d, &w, 0);
    assert_string_equal(light_of(d, "hz-301"), "green");
    assert_string_equal(light_of(d, "ls-1"), "green");
    assert_string_equal(light_of(d, "ls-2"), "red"); /* in the lesson, not connected */
    assert_true(has_reason(d, "ls-2", "offline"));
    assert_string_equal(light_of(d, "hz-302"), "red"); /* art's source, offline */
    assert_string_equal(light_of(d, "ls-3"), "amber"); /* connected, not in art */
    assert_true(has_reason(d, "ls-3", "not_watching"));
    assert_string_equal(light_of(d, "op-admin"), "amber"); /* watches a session without source */
    /* worst first */
    const json_t *rooms = snap_member(d, "classrooms");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rooms, 0), "light")),
                        "red");
    /* the lessons in timetable order, then the session that is not in it */
    const json_t *ss = snap_member(d, "sessions");
    assert_int_equal(json_array_size(ss), 4);
    const json_t *music = find(ss, "session", "2025-03-03.music");
    assert_true(json_is_true(json_object_get(music, "publisher_up")));
    assert_int_equal(json_integer_value(json_object_get(music, "watching")), 1);
    const json_t *adhoc = json_array_get(ss, 3);
    assert_string_equal(json_string_value(json_object_get(adhoc, "session")), "adhoc-1");
    assert_string_equal(json_string_value(json_object_get(adhoc, "state")), "failed");
    assert_string_equal(json_string_value(json_object_get(adhoc, "reason")), "publisher lost");
    assert_string_equal(json_string_value(snap_member(d, "date")), "2025-03-03");
    /* the lost publisher is one error, not one a second */
    assert_int_equal(bbt_dash_error_count(d), 1);
    step(d, &w, S);
    assert_int_equal(bbt_dash_error_count(d), 1);
    /* art fails (day.c says so): logged once with its reason and source */
    json_decref(w.day);
    w.day = day_json("failed");
    step(d, &w, S);
    step(d, &w, S);
    assert_int_equal(bbt_dash_error_count(d), 2);
    const json_t *e = json_array_get(snap_member(d, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "message")),
                        "source did not publish by start");
    assert_string_equal(json_string_value(json_object_get(e, "subject")), "hz-302");
    assert_string_equal(json_string_value(json_object_get(e, "session")), "2025-03-03.art");
    const json_t *art = find(snap_member(d, "sessions"), "session", "2025-03-03.art");
    assert_false(json_is_true(json_object_get(art, "publisher_up")));
    /* the source stops publishing its lesson: red */
    w.conns[0].publishing = NULL;
    step(d, &w, S);
    assert_string_equal(light_of(d, "hz-301"), "red");
    assert_true(has_reason(d, "hz-301", "not_publishing"));
    json_decref(w.day);
    bbt_dash_free(d);
}

static void test_quality_and_egress(void **state)
{
    (void)state;
    bbt_dash *d = bbt_dash_new();
    struct world w;
    world_init(&w);
    step(d, &w, 0);
    /* 500 kB more in 2 s: 2000 kbit/s */
    w.sessions[0].bytes_out += 500000;
    step(d, &w, 2 * S);
    const json_t *music = find(snap_member(d, "sessions"), "session", "2025-03-03.music");
    assert_true(json_real_value(json_object_get(music, "kbps")) > 1999.0 &&
                json_real_value(json_object_get(music, "kbps")) < 2001.0);
    /* stalls: one is amber, three within a minute red, then they age out */
    w.conns[1].report_at_us = w.t + S;
    w.conns[1].stalls = 1;
    step(d, &w, S);
    assert_string_equal(light_of(d, "ls-1"), "amber");
    assert_true(has_reason(d, "ls-1", "stalls"));
    w.conns[1].stalls = 3;
    w.conns[1].report_at_us = w.t + S;
    step(d, &w, S);
    assert_string_equal(light_of(d, "ls-1"), "red");
    for (int i = 0; i < 61; i++) {
        w.conns[1].report_at_us = w.t + S;
        step(d, &w, S);
    }
    assert_string_equal(light_of(d, "ls-1"), "green");
    const json_t *ls1 = find(snap_member(d, "classrooms"), "classroom", "ls-1");
    assert_int_equal(json_integer_value(json_object_get(ls1, "stalls_total")), 3);
    /* a resubscribe restarts the counter: no phantom stalls */
    w.conns[1].stalls = 0;
    w.conns[1].report_at_us = w.t + S;
    step(d, &w, S);
    assert_string_equal(light_of(d, "ls-1"), "green");
    /* latency, low layer; then silence: no reports */
    w.conns[1].latency_p95_ms = 3500;
    w.conns[1].report_at_us = w.t + S;
    step(d, &w, S);
    assert_string_equal(light_of(d, "ls-1"), "red");
    assert_true(has_reason(d, "ls-1", "latency"));
    w.conns[1].latency_p95_ms = 300;
    w.conns[1].layer = "180p";
    w.conns[1].layer_low = true;
    w.conns[1].report_at_us = w.t + S;
    step(d, &w, S);
    assert_string_equal(light_of(d, "ls-1"), "amber");
    assert_true(has_reason(d, "ls-1", "low_layer"));
    w.conns[1].layer_low = false;
    step(d, &w, 11 * S);
    assert_true(has_reason(d, "ls-1", "no_reports"));
    ls1 = find(snap_member(d, "classrooms"), "classroom", "ls-1");
    assert_int_equal(json_integer_value(json_object_get(ls1, "report_age_s")), 11);
    assert_null(json_object_get(ls1, "latency_ms")); /* stale figures are not shown */
    /* the metrics say the same */
    bbt_strbuf b = BBT_STRBUF_INIT;
    bbt_dash_render_metrics(d, &b);
    assert_true(bbt_strbuf_ok(&b));
    assert_non_null(strstr(b.data, "bbt_classroom_light{classroom=\"ls-1\"} 1\n"));
    assert_non_null(strstr(b.data, "bbt_classroom_light{classroom=\"ls-2\"} 2\n"));
    assert_non_null(strstr(b.data, "bbt_classroom_connected{classroom=\"hz-301\"} 1\n"));
    assert_non_null(strstr(b.data, "bbt_classroom_video_height{classroom=\"ls-1\"} 720\n"));
    assert_non_null(strstr(b.data, "bbt_session_publisher_up{session=\"2025-03-03.music\"} 1\n"));
    assert_non_null(strstr(b.data, "bbt_session_publisher_up{session=\"adhoc-1\"} 0\n"));
    assert_non_null(strstr(b.data, "# TYPE bbt_classroom_stalls_recent gauge\n"));
    bbt_strbuf_free(&b);
    json_decref(w.day);
    bbt_dash_free(d);
}

/* Nobody watching: no snapshot is built, yet the lights, the gauges and the failed lessons
 * are kept (the relay's once-a-second update without a dashboard open). */
static void test_without_snapshot(void **state)
{
    (void)state;
    bbt_dash *d = bbt_dash_new();
    json_t *day = day_json("failed");
    bbt_dash_input in = {.mono_us = S, .wall_us = 1740967800 * S, .day = day};
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
    assert_null(bbt_dash_snapshot(d));
    assert_int_equal(bbt_dash_error_count(d), 1); /* art failed */
    bbt_strbuf b = BBT_STRBUF_INIT;
    bbt_dash_render_metrics(d, &b);
    assert_non_null(strstr(b.data, "bbt_classroom_light{classroom=\"hz-302\"} 2\n"));
    assert_non_null(strstr(b.data, "bbt_session_publisher_up{session=\"2025-03-03.art\"} 0\n"));
    bbt_strbuf_free(&b);
    in.mono_us += S;
    in.snapshot = true;
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
    assert_int_equal(bbt_dash_error_count(d), 1); /* still once */
    assert_int_equal(json_array_size(snap_member(d, "errors")), 1);
    json_decref(day);
    bbt_dash_free(d);
}

/* A county's worth of classrooms: the table and the snapshot stay bounded; ids that are not
 * classroom ids are never labels. */
static void test_bounds(void **state)
{
    (void)state;
    bbt_dash *d = bbt_dash_new();
    enum { N = BBT_DASH_MAX_ROOMS + 100 };
    bbt_dash_conn *c = calloc(N, sizeof *c);
    char (*ids)[16] = calloc(N, 16);
    assert_non_null(c);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 16, "cls-%05d", i);
        c[i] = (bbt_dash_conn){.classroom = ids[i], .role = BBT_DASH_ROLE_RECEIVER,
                               .stalls = -1, .latency_p95_ms = -1, .audio_ok = -1};
    }
    c[0].classroom = "bad\"label";
    bbt_dash_input in = {.mono_us = S, .wall_us = 1740967800 * S, .conns = c, .nconns = N,
                         .snapshot = true};
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
    char err[256];
    assert_int_equal(bbt_control_validate(BBT_MSG_DASH, bbt_dash_snapshot(d), err, sizeof err),
                     BBT_OK);
    assert_int_equal(json_array_size(snap_member(d, "classrooms")), BBT_DASH_MAX_ROOMS);
    bbt_strbuf b = BBT_STRBUF_INIT;
    bbt_dash_render_metrics(d, &b);
    assert_null(strstr(b.data, "bad"));
    bbt_strbuf_free(&b);
    /* twelve hours later, gone from the table (they are not in any timetable) */
    in.nconns = 0;
    in.wall_us += 13 * 3600 * S;
    assert_int_equal(bbt_dash_update(d, &in), BBT_OK);
    assert_int_equal(json_array_size(snap_member(d, "classrooms")), 0);
    free(c);
    free(ids);
    bbt_dash_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_error_ring),
        cmocka_unit_test(test_lights_and_lessons),
        cmocka_unit_test(test_quality_and_egress),
        cmocka_unit_test(test_without_snapshot),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
