/* tests/proto/test_control.c — proto/control.c held to docs/PROTOCOL.md §3: limits, JSON-level
 * rejections, the envelope, and the argument contract. The examples of §3
 * are the fixtures (control_examples.c reads them from the document). The rows of the parameter
 * tables are in test_control_rules.c; builders, round trips and the typed track list in
 * test_control_build.c. */
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

/* Parse `len` bytes and expect `rc`, the exact `err` (unless NULL) and no message on failure. */
static void expect_n(const char *text, size_t len, const bbt_control_limits *lim, int rc,
                     const char *err_want)
{
    char err[512] = "unset";
    bbt_msg_type t;
    json_t *m = (json_t *)&t; /* must be overwritten */
    int got = bbt_control_parse(text, len, lim, &t, &m, err, sizeof err);
    if (got != rc)
        fail_msg("rc %s (%s), want %s for: %.200s", bbt_status_name(got), err,
                 bbt_status_name(rc), text);
    if (rc == BBT_OK) {
        assert_non_null(m);
        assert_string_equal(err, "");
        json_decref(m);
        return;
    }
    assert_null(m);
    if (err_want)
        assert_string_equal(err, err_want);
}

static void expect(const char *text, int rc, const char *err_want)
{
    expect_n(text, strlen(text), NULL, rc, err_want);
}

/* ---- envelope and JSON level ---------------------------------------------------------------- */

static void test_not_an_object(void **state)
{
    (void)state;
    expect("", BBT_EMSG_JSON, "invalid JSON at line 1 column 0: '[' or '{' expected near end of file");
    expect("[]", BBT_EMSG_JSON, "expected a JSON object, got an array of 0 items");
    expect("[{\"type\":\"bye\"}]", BBT_EMSG_JSON, "expected a JSON object, got an array of 1 items");
    expect("\"bye\"", BBT_EMSG_JSON, NULL);
    expect("null", BBT_EMSG_JSON, NULL);
    expect("42", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"bye\"", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"bye\",}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"bye\"} {}", BBT_EMSG_JSON,
           "invalid JSON at line 1 column 16: end of file expected near '{'");
    expect("{'type':'bye'}", BBT_EMSG_JSON, NULL);
    expect(" \n{\"type\":\"bye\"}\n ", BBT_OK, NULL); /* surrounding whitespace is fine */
    static const char nul_after[] = "{\"type\":\"bye\"}\0";
    expect_n(nul_after, sizeof nul_after - 1, NULL, BBT_EMSG_JSON, NULL);
}

static void test_type_member(void **state)
{
    (void)state;
    expect("{}", BBT_EMSG_TYPE, "missing required field \"type\"");
    expect("{\"reason\":\"x\"}", BBT_EMSG_TYPE, "missing required field \"type\"");
    expect("{\"type\":5}", BBT_EMSG_TYPE, "type: expected a string, got 5");
    expect("{\"type\":null}", BBT_EMSG_TYPE, "type: expected a string, got null");
    expect("{\"type\":[\"bye\"]}", BBT_EMSG_TYPE, "type: expected a string, got an array of 1 items");
    expect("{\"type\":\"HELLO\"}", BBT_EMSG_TYPE, "type: unknown message type \"HELLO\"");
    expect("{\"type\":\"\"}", BBT_EMSG_TYPE, "type: unknown message type \"\"");
    expect("{\"type\":\"bye \"}", BBT_EMSG_TYPE, "type: unknown message type \"bye \"");
    expect("{\"type\":\"\\u8bfe\"}", BBT_EMSG_TYPE,
           "type: unknown message type a string of 3 bytes");

    /* the type is reported even when the fields are wrong, so the error can name ref_type */
    char err[128];
    bbt_msg_type t = BBT_MSG_HELLO;
    json_t *m;
    assert_int_equal(bbt_control_parse("{\"type\":\"hand\"}", 15, NULL, &t, &m, err, sizeof err),
                     BBT_EMSG_FIELD);
    assert_int_equal(t, BBT_MSG_HAND);
    assert_int_equal(bbt_control_parse("{\"type\":\"x\"}", 12, NULL, &t, &m, err, sizeof err),
                     BBT_EMSG_TYPE);
    assert_int_equal(t, BBT_MSG__COUNT);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect("{\"type\":\"bye\",\"reason\":\"a\",\"reason\":\"b\"}", BBT_EMSG_JSON,
           "invalid JSON at line 1 column 35: duplicate object key near '\"reason\"'");
    expect("{\"type\":\"bye\",\"type\":\"ping\"}", BBT_EMSG_JSON, NULL);
    /* in an unknown member and deep inside a track too */
    expect("{\"type\":\"bye\",\"x\":{\"a\":1,\"a\":1}}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"publish\",\"session\":\"s\",\"tracks\":[{\"id\":3,\"id\":3,\"kind\":\"audio\","
           "\"codec\":\"opus\",\"sample_rate\":48000}]}",
           BBT_EMSG_JSON, NULL);
}

static void test_encoding(void **state)
{
    (void)state;
    expect("{\"type\":\"bye\",\"reason\":\"\xc3\x28\"}", BBT_EMSG_JSON, NULL);     /* bad continuation */
    expect("{\"type\":\"bye\",\"reason\":\"\xc0\xaf\"}", BBT_EMSG_JSON, NULL);     /* overlong '/' */
    expect("{\"type\":\"bye\",\"reason\":\"\xed\xa0\x80\"}", BBT_EMSG_JSON, NULL); /* surrogate */
    expect("{\"type\":\"bye\",\"reason\":\"\xf4\x90\x80\x80\"}", BBT_EMSG_JSON, NULL); /* > U+10FFFF */
    expect("{\"type\":\"bye\",\"reason\":\"\xff\"}", BBT_EMSG_JSON,
           "invalid JSON at line 1 column 24: unable to decode byte 0xff near '\"'");
    expect("{\"type\":\"bye\",\"\xff\":1}", BBT_EMSG_JSON, NULL); /* in an unknown key too */
    expect("{\"type\":\"bye\",\"reason\":\"a\\u0000b\"}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"bye\",\"reason\":\"\\ud800\"}", BBT_EMSG_JSON, NULL); /* lone surrogate */
    expect("{\"type\":\"bye\",\"reason\":\"tab\there\"}", BBT_EMSG_JSON, NULL); /* raw control */
    static const char raw_nul[] = "{\"type\":\"bye\",\"reason\":\"a\0b\"}";
    expect_n(raw_nul, sizeof raw_nul - 1, NULL, BBT_EMSG_JSON, NULL);
    /* valid: Chinese text, escaped and raw, and a character outside the BMP */
    expect("{\"type\":\"bye\",\"reason\":\"\xe4\xb8\x8b\xe8\xaf\xbe \\u4e0b\\u8bfe \xf0\x9f\x8e\xb5\"}",
           BBT_OK, NULL);
}

static void test_numbers(void **state)
{
    (void)state;
    expect("{\"type\":\"ping\",\"time_us\":NaN}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"ping\",\"time_us\":Infinity}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"ping\",\"time_us\":-Infinity}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"ping\",\"time_us\":1e400}", BBT_EMSG_JSON,
           "invalid JSON at line 1 column 30: real number overflow near '1e400'");
    expect("{\"type\":\"ping\",\"x\":-1e400}", BBT_EMSG_JSON, NULL); /* even unknown */
    expect("{\"type\":\"ping\",\"time_us\":99999999999999999999}", BBT_EMSG_JSON,
           "invalid JSON at line 1 column 45: too big integer near '99999999999999999999'");
    expect("{\"type\":\"ping\",\"time_us\":0x10}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"ping\",\"time_us\":010}", BBT_EMSG_JSON, NULL);
    expect("{\"type\":\"ping\",\"time_us\":9223372036854775807}", BBT_EMSG_FIELD,
           "ping.time_us: expected an integer 0..9007199254740992, got 9223372036854775807");
    expect("{\"type\":\"ping\",\"time_us\":9007199254740993}", BBT_EMSG_FIELD, NULL);
    expect("{\"type\":\"ping\",\"time_us\":9007199254740992}", BBT_OK, NULL);
    expect("{\"type\":\"ping\",\"time_us\":1e3}", BBT_EMSG_FIELD,
           "ping.time_us: expected an integer 0..9007199254740992, got 1000.0");
    expect("{\"type\":\"ping\",\"time_us\":-0}", BBT_OK, NULL);
    expect("{\"type\":\"ping\",\"x\":1e-400}", BBT_OK, NULL); /* underflow is 0, not an error */
}

/* ---- size and depth ------------------------------------------------------------------------ */

/* A valid bye of exactly `len` bytes, padded in an unknown member. Caller frees. */
static char *bye_of(size_t len)
{
    static const char head[] = "{\"type\":\"bye\",\"pad\":\"";
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, head, sizeof head - 1);
    memset(s + sizeof head - 1, 'x', len - (sizeof head - 1) - 2);
    memcpy(s + len - 2, "\"}", 3);
    return s;
}

static void test_size_limit(void **state)
{
    (void)state;
    char *ok = bye_of(BBT_CONTROL_DEFAULT_MAX_BYTES);
    expect_n(ok, BBT_CONTROL_DEFAULT_MAX_BYTES, NULL, BBT_OK, NULL);
    free(ok);
    char *big = bye_of(BBT_CONTROL_DEFAULT_MAX_BYTES + 1);
    expect_n(big, BBT_CONTROL_DEFAULT_MAX_BYTES + 1, NULL, BBT_EMSG_TOO_BIG,
             "message of 65537 bytes exceeds the limit of 65536 bytes");
    bbt_control_limits raised = {.max_bytes = 1 << 20};
    expect_n(big, BBT_CONTROL_DEFAULT_MAX_BYTES + 1, &raised, BBT_OK, NULL);
    free(big);
    bbt_control_limits tight = {.max_bytes = 20};
    expect_n("{\"type\":\"bye\"}", 14, &tight, BBT_OK, NULL);
    expect_n("{\"type\":\"bye\",\"x\":1}", 20, &tight, BBT_OK, NULL);
    expect_n("{\"type\":\"bye\",\"x\":12}", 21, &tight, BBT_EMSG_TOO_BIG,
             "message of 21 bytes exceeds the limit of 20 bytes");
    /* the limit is checked before anything else, even on garbage */
    expect_n("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
             21, &tight, BBT_EMSG_TOO_BIG, NULL);
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* the message object is level 1: 7 arrays inside make 8 */
    expect("{\"type\":\"bye\",\"x\":[[[[[[[1]]]]]]]}", BBT_OK, NULL);
    expect("{\"type\":\"bye\",\"x\":[[[[[[[[1]]]]]]]]}", BBT_EMSG_DEPTH, "nested deeper than 8 levels");
    expect("{\"type\":\"bye\",\"x\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{}}}}}}}}", BBT_OK, NULL);
    expect("{\"type\":\"bye\",\"x\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}}",
           BBT_EMSG_DEPTH, "nested deeper than 8 levels");
    expect("{\"type\":\"bye\",\"x\":[{},{},{},[],[[]],[[[[[[1]]]]]]]}", BBT_OK, NULL);
    /* brackets in strings, also after escaped quotes and backslashes, do not count */
    expect("{\"type\":\"bye\",\"reason\":\"[[[[[[[[[[{{{{{{{{{{\"}", BBT_OK, NULL);
    expect("{\"type\":\"bye\",\"reason\":\"\\\"[[[[[[[[[[\\\\\",\"x\":[]}", BBT_OK, NULL);
    /* a custom limit */
    bbt_control_limits two = {.max_depth = 2};
    const char *sub = "{\"type\":\"hello\",\"token\":\"\",\"role\":\"receiver\",\"client\":{}}";
    expect_n(sub, strlen(sub), &two, BBT_OK, NULL);
    json_t *pub = example_json(BBT_MSG_PUBLISH, 0);
    char *text = bbt_control_dump(pub, NULL);
    expect_n(text, strlen(text), &two, BBT_EMSG_DEPTH, "nested deeper than 2 levels");
    free(text);
    json_decref(pub);
}

/* 100,000 nested brackets: rejected by the raw scan without a single allocation. */
static void test_hostile_nesting(void **state)
{
    (void)state;
    const size_t n = 100000;
    char *deep = malloc(2 * n);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    expect_n(deep, 2 * n, NULL, BBT_EMSG_TOO_BIG,
             "message of 200000 bytes exceeds the limit of 65536 bytes");
    bbt_control_limits roomy = {.max_bytes = 4 * n};
    failalloc_after(0); /* any allocation would fail, and be counted */
    char err[128];
    bbt_msg_type t;
    json_t *m;
    int rc = bbt_control_parse(deep, n, &roomy, &t, &m, err, sizeof err); /* unclosed too */
    long allocs = failalloc_count();
    int rc2 = bbt_control_parse(deep, 2 * n, &roomy, &t, &m, err, sizeof err);
    allocs += failalloc_count();
    failalloc_reset();
    assert_int_equal(rc, BBT_EMSG_DEPTH);
    assert_int_equal(rc2, BBT_EMSG_DEPTH);
    assert_string_equal(err, "nested deeper than 8 levels");
    assert_int_equal(allocs, 0);
    /* the same inside a valid-looking message */
    memcpy(deep, "{\"type\":\"bye\",\"x\":", 18);
    expect_n(deep, 2 * n, &roomy, BBT_EMSG_DEPTH, NULL);
    free(deep);
}

static void test_null_arguments(void **state)
{
    (void)state;
    bbt_msg_type t;
    json_t *m;
    char err[64];
    assert_int_equal(bbt_control_parse(NULL, 0, NULL, &t, &m, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_control_parse("{}", 2, NULL, NULL, &m, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_control_parse("{}", 2, NULL, &t, NULL, err, sizeof err), BBT_EINVAL);
    /* err is optional, and never overflows a small buffer */
    assert_int_equal(bbt_control_parse("{}", 2, NULL, &t, &m, NULL, 0), BBT_EMSG_TYPE);
    char tiny[8];
    assert_int_equal(bbt_control_parse("{}", 2, NULL, &t, &m, tiny, sizeof tiny), BBT_EMSG_TYPE);
    assert_string_equal(tiny, "missing");
    assert_int_equal(bbt_control_validate(BBT_MSG_BYE, NULL, err, sizeof err), BBT_EINVAL);
    json_t *bye = json_pack("{s:s}", "type", "bye");
    assert_int_equal(bbt_control_validate(BBT_MSG__COUNT, bye, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_control_validate((bbt_msg_type)-1, bye, err, sizeof err), BBT_EINVAL);
    json_decref(bye);
    assert_string_equal(bbt_msg_type_name(BBT_MSG__COUNT), "?");
    assert_string_equal(bbt_msg_type_name((bbt_msg_type)-1), "?");
}

static void test_type_names(void **state)
{
    (void)state;
    static const char *const names[BBT_MSG__COUNT] = {
        "hello", "welcome", "error", "publish", "published", "subscribe", "unsubscribe", "tracks",
        "state", "report", "keyframe", "bye", "ping", "pong", "plan", "hand", "start", "stop",
        "school_set", "school_list", "schools", "classroom_set", "classroom_list", "classrooms",
        "group_set", "group_list", "groups", "holiday_set", "holiday_list", "holidays",
        "session_set", "session_list", "sessions", "delete", "deleted", "import", "imported",
        "day_list", "day", "cancel", "move", "restore", "occurrence", "attendance_export",
        "attendance", "clock", "time", "token_issue", "token", "token_list", "tokens",
        "token_revoke", "token_revoked", "dash_subscribe", "dash"};
    for (int i = 0; i < BBT_MSG__COUNT; i++) {
        assert_string_equal(bbt_msg_type_name((bbt_msg_type)i), names[i]);
        assert_int_equal(bbt_msg_type_from_name(names[i]), i);
    }
    assert_int_equal(bbt_msg_type_from_name("Hello"), BBT_MSG__COUNT);
    assert_int_equal(bbt_msg_type_from_name(NULL), BBT_MSG__COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_type_member),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_hostile_nesting),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
