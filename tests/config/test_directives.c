/* tests/config/test_directives.c — config/directives.c (and value.c): syntax, every type and
 * unit, every rejection with its message, --set, files, and every allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/directives.h"
#include "proto/status.h"

struct all {
    char *name;
    int64_t count;
    bool flag;
    int64_t size;
    int64_t limit;
    int64_t wait;
    int64_t timeout;
    int color;
    double ratio;
    char *path;
    char *list;
    char *shortstr;
    char *checked;
    int64_t any;
};

static const char *const colors[] = {"red", "green", "blue", NULL};

static int must_start_ok(const char *value, char *msg, size_t msglen)
{
    if (strncmp(value, "ok", 2) == 0)
        return BBT_OK;
    snprintf(msg, msglen, "must start with \"ok\"");
    return BBT_ECONFIG_VALUE;
}

#define F(field) offsetof(struct all, field)
static const bbt_directive table[] = {
    {"main", "name", BBT_CFG_STRING, "默认", 0, 0, F(name), NULL, "名\nname", NULL},
    {"main", "count", BBT_CFG_INT, "7", -10, 100, F(count), NULL, "数\ncount", NULL},
    {"main", "flag", BBT_CFG_BOOL, "no", 0, 0, F(flag), NULL, "开关\nflag", NULL},
    {"main", "size", BBT_CFG_SIZE, "64k", 0, 0, F(size), NULL, "大小\nsize", NULL},
    {"main", "limit", BBT_CFG_SIZE, "2M", BBT_CFG_KIB(1), BBT_CFG_MIB(1) * 2, F(limit), NULL,
     "上限\nlimit", NULL},
    {"main", "wait", BBT_CFG_DURATION, "250ms", 0, 0, F(wait), NULL, "等\nwait", NULL},
    {"main", "timeout", BBT_CFG_DURATION, "5s", 100, BBT_CFG_MINUTES(5), F(timeout), NULL,
     "超时\ntimeout", NULL},
    {"main", "color", BBT_CFG_ENUM, "green", 0, 0, F(color), colors, "颜色\ncolor", NULL},
    {"main", "ratio", BBT_CFG_DOUBLE, "0.5", BBT_CFG_MICRO(0.1), BBT_CFG_MICRO(1.0), F(ratio),
     NULL, "比例\nratio | pipe", NULL},
    {"files", "path", BBT_CFG_PATH, "/tmp/x", 1, 4095, F(path), NULL, "路径\npath", NULL},
    {"files", "list", BBT_CFG_LIST, "a, b", 0, 0, F(list), NULL, "列表\nlist", NULL},
    {"files", "short", BBT_CFG_STRING, "abc", 2, 5, F(shortstr), NULL, "短\nshort", NULL},
    {"files", "checked", BBT_CFG_STRING, "ok", 0, 0, F(checked), NULL, "查\nchecked",
     must_start_ok},
    {"files", "any", BBT_CFG_INT, "-9223372036854775808", 0, 0, F(any), NULL, "任意\nany", NULL},
};
#define N (sizeof table / sizeof table[0])

static char err[1024];

static int load(const char *text, struct all *a)
{
    memset(a, 0x5a, sizeof *a); /* whatever was there before is ignored */
    return bbt_config_load_buffer("t.ini", text, strlen(text), table, N, a, err, sizeof err);
}

/* A failed load leaves no memory behind and every string field NULL. */
static void assert_emptied(const struct all *a)
{
    assert_null(a->name);
    assert_null(a->path);
    assert_null(a->list);
    assert_null(a->shortstr);
    assert_null(a->checked);
}

static void expect_error(const char *text, int code, const char *msg)
{
    struct all a;
    assert_int_equal(load(text, &a), code);
    assert_string_equal(err, msg);
    assert_emptied(&a);
    bbt_config_free(table, N, &a); /* harmless */
}

static void test_defaults(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(load("", &a), BBT_OK);
    assert_string_equal(err, "");
    assert_string_equal(a.name, "默认");
    assert_int_equal(a.count, 7);
    assert_false(a.flag);
    assert_int_equal(a.size, 65536);
    assert_int_equal(a.limit, 2 * 1024 * 1024);
    assert_int_equal(a.wait, 250);
    assert_int_equal(a.timeout, 5000);
    assert_int_equal(a.color, 1);
    assert_true(a.ratio == 0.5);
    assert_string_equal(a.path, "/tmp/x");
    assert_string_equal(a.list, "a, b");
    assert_string_equal(a.shortstr, "abc");
    assert_string_equal(a.checked, "ok");
    assert_true(a.any == INT64_MIN);
    bbt_config_free(table, N, &a);
    assert_null(a.name);
    bbt_config_free(table, N, &a); /* twice is harmless */
    char e[512];
    assert_int_equal(bbt_config_check_table(table, N, e, sizeof e), BBT_OK);
}

static void test_every_type_from_a_file(void **state)
{
    (void)state;
    struct all a;
    const char *text = "# a comment\n"
                       "; another\n"
                       "\n"
                       "[main]\n"
                       "name = 三年级一班\n"
                       "count = -10\n"
                       "flag = on\n"
                       "size = 1G\n"
                       "limit = 1k\n"
                       "wait = 1h\n"
                       "timeout = 5m\n"
                       "color = BLUE\n"
                       "ratio = 0.1\n"
                       "[files]\n"
                       "path = /var/lib/班班通/x y\n"
                       "list = a,b , c\n"
                       "short = ab\n"
                       "checked = ok, fine\n"
                       "any = 9223372036854775807\n";
    assert_int_equal(load(text, &a), BBT_OK);
    assert_string_equal(a.name, "三年级一班");
    assert_int_equal(a.count, -10);
    assert_true(a.flag);
    assert_true(a.size == (int64_t)1 << 30);
    assert_int_equal(a.limit, 1024);
    assert_int_equal(a.wait, 3600000);
    assert_int_equal(a.timeout, 300000);
    assert_int_equal(a.color, 2);
    assert_true(a.ratio == 0.1);
    assert_string_equal(a.path, "/var/lib/班班通/x y");
    assert_string_equal(a.list, "a,b , c");
    assert_string_equal(a.shortstr, "ab");
    assert_string_equal(a.checked, "ok, fine");
    assert_true(a.any == INT64_MAX);
    bbt_config_free(table, N, &a);
}

/* Loads `value` into [section] key through --set, over the defaults. */
static int set1(struct all *a, const char *section, const char *key, const char *value)
{
    memset(a, 0, sizeof *a);
    assert_int_equal(bbt_config_load_buffer("t.ini", "", 0, table, N, a, err, sizeof err), BBT_OK);
    int rc = bbt_config_set(table, N, a, section, key, value, err, sizeof err);
    return rc;
}

static void expect_int(const char *key, const char *value, int64_t want)
{
    struct all a;
    if (set1(&a, "main", key, value) != BBT_OK)
        fail_msg("%s = \"%s\": %s", key, value, err);
    int64_t got = strcmp(key, "count") == 0   ? a.count
                  : strcmp(key, "size") == 0  ? a.size
                  : strcmp(key, "limit") == 0 ? a.limit
                  : strcmp(key, "wait") == 0  ? a.wait
                                              : a.timeout;
    if (got != want)
        fail_msg("%s = \"%s\": got %lld, want %lld", key, value, (long long)got, (long long)want);
    bbt_config_free(table, N, &a);
}

static void expect_bad(const char *section, const char *key, const char *value)
{
    struct all a;
    int rc = set1(&a, section, key, value);
    if (rc != BBT_ECONFIG_VALUE)
        fail_msg("[%s] %s = \"%s\": rc %d, want BBT_ECONFIG_VALUE", section, key, value, rc);
    bbt_config_free(table, N, &a);
}

static void test_integers(void **state)
{
    (void)state;
    expect_int("count", "42", 42);
    expect_int("count", "-10", -10);
    expect_int("count", "+5", 5);
    expect_int("count", "0100", 100);
    expect_int("count", "0", 0);
    const char *bad[] = {"", "1e3", "0x10", "12a", " 1", "1 ", "101", "-11", "--1", "+",
                         "99999999999999999999", "1.0", "１２"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad("main", "count", bad[i]);
    struct all a;
    assert_int_equal(set1(&a, "files", "any", "-9223372036854775809"), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [files] any: expected an integer, got "
                             "\"-9223372036854775809\"");
    bbt_config_free(table, N, &a);
}

static void test_sizes(void **state)
{
    (void)state;
    expect_int("size", "512", 512);
    expect_int("size", "0", 0);
    expect_int("size", "64k", 65536);
    expect_int("size", "64K", 65536);
    expect_int("size", "2M", 2 << 20);
    expect_int("size", "2m", 2 << 20);
    expect_int("size", "1G", 1 << 30);
    expect_int("size", "3g", (int64_t)3 << 30);
    expect_int("size", "8589934591G", (int64_t)8589934591 << 30);
    expect_int("limit", "1024", 1024);
    expect_int("limit", "2048k", 2 << 20);
    const char *bad[] = {"", "-1", "1.5M", "64kb", "64KiB", "k", "64 k", "1T", "8589934592G",
                         "99999999999999999999", "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad("main", "size", bad[i]);
    expect_bad("main", "limit", "1023");
    expect_bad("main", "limit", "3M");
    struct all a;
    assert_int_equal(set1(&a, "main", "limit", "64x"), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] limit: expected a size 1k..2M (bytes, or a number "
                             "with k, M or G), got \"64x\"");
    bbt_config_free(table, N, &a);
}

static void test_durations(void **state)
{
    (void)state;
    expect_int("wait", "250ms", 250);
    expect_int("wait", "250MS", 250);
    expect_int("wait", "1500", 1500);
    expect_int("wait", "2s", 2000);
    expect_int("wait", "2S", 2000);
    expect_int("wait", "5m", 300000);
    expect_int("wait", "1h", 3600000);
    expect_int("wait", "0", 0);
    expect_int("timeout", "100ms", 100);
    expect_int("timeout", "100", 100);
    expect_int("timeout", "300s", 300000);
    const char *bad[] = {"", "1d", "1.5s", "-1s", "s", "ms", "1 s", "1sec", "1hm", "1msx",
                         "9223372036854775807h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad("main", "wait", bad[i]);
    expect_bad("main", "timeout", "99ms");
    expect_bad("main", "timeout", "301s");
    struct all a;
    assert_int_equal(set1(&a, "main", "timeout", "6m"), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] timeout: expected a duration 100ms..5m (a number with "
                             "ms, s, m or h; a bare number is ms), got \"6m\"");
    bbt_config_free(table, N, &a);
}

static void test_booleans(void **state)
{
    (void)state;
    const char *yes[] = {"true", "yes", "on", "1", "TRUE", "Yes", "oN"};
    const char *no[] = {"false", "no", "off", "0", "False", "NO", "OFF"};
    struct all a;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        assert_int_equal(set1(&a, "main", "flag", yes[i]), BBT_OK);
        assert_true(a.flag);
        assert_int_equal(bbt_config_set(table, N, &a, "main", "flag", no[i], err, sizeof err),
                         BBT_OK);
        assert_false(a.flag);
        bbt_config_free(table, N, &a);
    }
    const char *bad[] = {"", "2", "y", "n", "truee", "t", "enabled"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad("main", "flag", bad[i]);
    assert_int_equal(set1(&a, "main", "flag", "maybe"), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] flag: expected true or false (or yes/no, on/off, "
                             "1/0), got \"maybe\"");
    bbt_config_free(table, N, &a);
}

static void test_enums(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(set1(&a, "main", "color", "red"), BBT_OK);
    assert_int_equal(a.color, 0);
    assert_int_equal(bbt_config_set(table, N, &a, "main", "color", "Blue", err, sizeof err),
                     BBT_OK);
    assert_int_equal(a.color, 2);
    assert_int_equal(bbt_config_set(table, N, &a, "main", "color", "purple", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] color: expected one of red, green, blue, got "
                             "\"purple\"");
    assert_int_equal(a.color, 2); /* unchanged on failure */
    bbt_config_free(table, N, &a);
    expect_bad("main", "color", "");
    expect_bad("main", "color", "re");
}

static void test_doubles(void **state)
{
    (void)state;
    const char *good[] = {"0.1", "1", "1.0", "0.25", "+0.5", "0.100000000000000", "00.3"};
    const double want[] = {0.1, 1.0, 1.0, 0.25, 0.5, 0.1, 0.3};
    struct all a;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (set1(&a, "main", "ratio", good[i]) != BBT_OK)
            fail_msg("%s: %s", good[i], err);
        assert_true(a.ratio == want[i]);
        bbt_config_free(table, N, &a);
    }
    const char *bad[] = {"",    "0.05", "1.01", "abc", "1e-1", ".5", "1.", "nan", "inf", "0,5",
                         "0.1234567890123456", "-0.5", "0.5.1", "0x1p-1", "1 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad("main", "ratio", bad[i]);
    assert_int_equal(set1(&a, "main", "ratio", "2"), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] ratio: expected a number 0.1..1, got \"2\"");
    bbt_config_free(table, N, &a);
}

static void test_strings(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(set1(&a, "files", "short", "abcde"), BBT_OK);
    assert_string_equal(a.shortstr, "abcde");
    assert_int_equal(bbt_config_set(table, N, &a, "files", "short", "a", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [files] short: expected a string of 2..5 bytes, got 1 byte");
    assert_int_equal(bbt_config_set(table, N, &a, "files", "short", "abcdef", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [files] short: expected a string of 2..5 bytes, got 6 bytes");
    assert_string_equal(a.shortstr, "abcde");
    /* Bytes, not characters: two Chinese characters are six bytes. */
    assert_int_equal(bbt_config_set(table, N, &a, "files", "short", "中文", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_int_equal(bbt_config_set(table, N, &a, "files", "path", "", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_int_equal(bbt_config_set(table, N, &a, "files", "checked", "bad", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [files] checked: must start with \"ok\"");
    assert_string_equal(a.checked, "ok");
    assert_int_equal(bbt_config_set(table, N, &a, "files", "checked", "okay", err, sizeof err),
                     BBT_OK);
    assert_string_equal(a.checked, "okay");
    bbt_config_free(table, N, &a);
}

static void test_syntax(void **state)
{
    (void)state;
    struct all a;
#define SYNTAX_TEXT(short_value)                                                                \
    "  [ main ]  # trailing comment\n"                                                          \
    "\tname\t=\t\"a \\\"quoted\\\" # value; \\\\ \"  # comment\n"                              \
    "count=3 ;comment\n"                                                                        \
    "flag = yes ; comment\n"                                                                    \
    "  ; indented comment\n"                                                                    \
    "  # indented comment\n"                                                                    \
    "[files]\n"                                                                                 \
    "path = ws://host/#frag\n"                                                                  \
    "list = a;b\n"                                                                              \
    "checked = ok #c\n"                                                                         \
    "short = " short_value "\n"
    assert_int_equal(load(SYNTAX_TEXT("\"\""), &a), BBT_ECONFIG_VALUE); /* 0 bytes */
    assert_string_equal(err, "t.ini:11: [files] short: expected a string of 2..5 bytes, got 0 "
                             "bytes");
    assert_int_equal(load(SYNTAX_TEXT("\"xy\""), &a), BBT_OK);
    assert_string_equal(a.name, "a \"quoted\" # value; \\ ");
    assert_int_equal(a.count, 3);
    assert_true(a.flag);
    assert_string_equal(a.path, "ws://host/#frag");
    assert_string_equal(a.list, "a;b");
    assert_string_equal(a.checked, "ok");
    assert_string_equal(a.shortstr, "xy");
    bbt_config_free(table, N, &a);
    assert_int_equal(load("[main]\ncount=3;comment\n", &a), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "t.ini:2: [main] count: expected an integer -10..100, got "
                             "\"3;comment\"");

    /* Empty values; a value that is only a comment; a section repeated. */
    assert_int_equal(load("[main]\nname =\n[files]\nlist = # nothing\n[main]\ncount = 1", &a),
                     BBT_OK);
    assert_string_equal(a.name, "");
    assert_string_equal(a.list, "");
    assert_int_equal(a.count, 1);
    bbt_config_free(table, N, &a);
}

static void test_bom_crlf_utf8(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(load("\xef\xbb\xbf[main]\r\nname = 班班通\r\n\r\ncount = 9\r\n", &a), BBT_OK);
    assert_string_equal(a.name, "班班通");
    assert_int_equal(a.count, 9);
    bbt_config_free(table, N, &a);
    /* Line numbers count CRLF lines; the \r is not part of the value. */
    expect_error("\xef\xbb\xbf# 注释\r\n[main]\r\ncount = 1x\r\n", BBT_ECONFIG_VALUE,
                 "t.ini:3: [main] count: expected an integer -10..100, got \"1x\"");
    /* A BOM anywhere else is text. */
    expect_error("[main]\n\xef\xbb\xbf[files]\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: expected [section], key = value or a comment, got "
                 "\"\xef\xbb\xbf[files]\"");
    /* Four-byte characters and the largest code point are fine. */
    assert_int_equal(load("[main]\nname = \xf0\x9f\x93\x9a\xf4\x8f\xbf\xbf\n", &a), BBT_OK);
    bbt_config_free(table, N, &a);
    /* The last line needs no newline; a lone \r before it is dropped with it. */
    assert_int_equal(load("[main]\ncount = 4\r", &a), BBT_OK);
    assert_int_equal(a.count, 4);
    bbt_config_free(table, N, &a);
}

static void test_bad_bytes(void **state)
{
    (void)state;
    static const char nul[] = "[main]\nco\0unt = 1\n";
    struct all a;
    assert_int_equal(bbt_config_load_buffer("t.ini", nul, sizeof nul - 1, table, N, &a, err,
                                            sizeof err),
                     BBT_ECONFIG_SYNTAX);
    assert_string_equal(err, "t.ini:2: NUL byte at byte 3");
    assert_emptied(&a);
    /* GBK, as saved by a Chinese Windows editor. */
    expect_error("[main]\nname = \xd6\xd0\xce\xc4\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: invalid UTF-8 at byte 8 (save the file as UTF-8, not GBK)");
    const char *bad[] = {
        "[main]\nname = \xc0\xaf\n",         /* overlong '/' */
        "[main]\nname = \xe0\x80\xaf\n",     /* overlong, three bytes */
        "[main]\nname = \xed\xa0\x80\n",     /* a surrogate */
        "[main]\nname = \xf4\x90\x80\x80\n", /* above U+10FFFF */
        "[main]\nname = \xf5\x80\x80\x80\n", /* never a lead byte */
        "[main]\nname = \x80\n",             /* a lone continuation byte */
        "[main]\nname = \xe4\xb8",           /* cut at the end of the file */
        "[main]\nname = \xe4\xb8\n",         /* cut at the end of a line */
        "# \xff\n[main]\n",                  /* in a comment too */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(load(bad[i], &a), BBT_ECONFIG_SYNTAX);
        assert_non_null(strstr(err, "invalid UTF-8"));
    }
    expect_error("[main]\nname = a\x01\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: control character 0x01 at byte 9");
    expect_error("[main]\nname = a\x7f\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: control character 0x7f at byte 9");
    expect_error("[main]\rname = a\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:1: carriage return at byte 7 (line ends must be LF or CRLF)");
}

static void test_rejections(void **state)
{
    (void)state;
    expect_error("count = 1\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:1: key \"count\" is outside any section: put a [section] line above it");
    expect_error("[main]\ncount = 1\nflag = 1\ncount = 2\n", BBT_ECONFIG_KEY,
                 "t.ini:4: [main] count is set twice (first on line 2)");
    expect_error("[main]\ncount = 1\n[files]\n[main]\ncount = 2\n", BBT_ECONFIG_KEY,
                 "t.ini:5: [main] count is set twice (first on line 2)");
    expect_error("[main]\ncuont = 1\n", BBT_ECONFIG_KEY,
                 "t.ini:2: unknown key [main] cuont (did you mean \"count\"?)");
    expect_error("[main]\npath = /x\n", BBT_ECONFIG_KEY,
                 "t.ini:2: unknown key [main] path (it belongs in [files])");
    expect_error("[main]\nzzzzzz = 1\n", BBT_ECONFIG_KEY, "t.ini:2: unknown key [main] zzzzzz");
    expect_error("[mian]\n", BBT_ECONFIG_KEY,
                 "t.ini:1: unknown section [mian] (did you mean [main]?)");
    expect_error("[other]\n", BBT_ECONFIG_KEY,
                 "t.ini:1: unknown section [other] (sections: [main], [files])");
    expect_error("[main]\njust words\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: expected [section], key = value or a comment, got \"just words\"");
    expect_error("[main]\n= 1\n", BBT_ECONFIG_SYNTAX, "t.ini:2: missing key before '='");
    expect_error("[main]\nmy key = 1\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: invalid key \"my key\" (letters, digits, '_' and '-' only)");
    expect_error("[main\n", BBT_ECONFIG_SYNTAX, "t.ini:1: expected ']' to close the section name");
    expect_error("[]\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:1: invalid section name \"\" (letters, digits, '_' and '-' only)");
    expect_error("[main] x\n", BBT_ECONFIG_SYNTAX, "t.ini:1: unexpected text after ']': \"x\"");
    expect_error("[main]\nname = \"abc\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: unterminated quoted value: add the closing \"");
    expect_error("[main]\nname = \"abc\\\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: unterminated quoted value: add the closing \"");
    expect_error("[main]\nname = \"a\\nb\"\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: unknown escape in a quoted value: only \\\" and \\\\ are allowed");
    expect_error("[main]\nname = \"a\" b\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: unexpected text after the closing quote: \"b\"");
    expect_error("[main]\ncount = \"80a\"\n", BBT_ECONFIG_VALUE,
                 "t.ini:2: [main] count: expected an integer -10..100, got \"80a\"");
    expect_error("[main]\ncount =\n", BBT_ECONFIG_VALUE,
                 "t.ini:2: [main] count: expected an integer -10..100, got \"\"");
    /* A full-width '＝', bracket or space typed with a Chinese input method. */
    expect_error("[main]\ncount＝1\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: expected [section], key = value or a comment, got \"count＝1\" (use an "
                 "ASCII '=', not a full-width '＝')");
    expect_error("［main］\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:1: expected [section], key = value or a comment, got \"［main］\" (use "
                 "ASCII '[' and ']', not full-width brackets)");
    expect_error("[main]\ncount　= 1\n", BBT_ECONFIG_SYNTAX,
                 "t.ini:2: invalid key \"count　\" (letters, digits, '_' and '-' only) (remove "
                 "the full-width space)");
    /* Long values are cut in messages, never in the middle of a character. */
    expect_error("[main]\ncount = 一二三四五六七八九十一二三四五六七八九十\n", BBT_ECONFIG_VALUE,
                 "t.ini:2: [main] count: expected an integer -10..100, got "
                 "\"一二三四五六七八九十一二三四五六...\"");
}

static void test_line_and_file_limits(void **state)
{
    (void)state;
    struct all a;
    size_t big = BBT_CONFIG_MAX_FILE + 1;
    char *text = malloc(big + 64);
    assert_non_null(text);
    /* A 4096-byte line is fine; 4097 is not (the line end is not counted). */
    memset(text, ' ', 5000);
    memcpy(text, "[main]\n#", 8);
    text[7 + BBT_CONFIG_MAX_LINE] = '\r';
    text[8 + BBT_CONFIG_MAX_LINE] = '\n';
    text[9 + BBT_CONFIG_MAX_LINE] = '\0';
    assert_int_equal(load(text, &a), BBT_OK);
    bbt_config_free(table, N, &a);
    text[7 + BBT_CONFIG_MAX_LINE] = ' ';
    text[9 + BBT_CONFIG_MAX_LINE] = '\n';
    text[10 + BBT_CONFIG_MAX_LINE] = '\0';
    expect_error(text, BBT_ECONFIG_SYNTAX, "t.ini:2: line longer than 4096 bytes");
    /* 1 MiB of comments is fine; one byte more is not. */
    for (size_t i = 0; i < big; i += 64) {
        memset(text + i, ' ', 64);
        memcpy(text + i, "#", 1);
        text[i + 63] = '\n';
    }
    text[BBT_CONFIG_MAX_FILE] = '\0';
    assert_int_equal(load(text, &a), BBT_OK);
    bbt_config_free(table, N, &a);
    text[BBT_CONFIG_MAX_FILE] = '\n';
    text[big] = '\0';
    expect_error(text, BBT_ECONFIG_FILE, "t.ini: larger than 1 MiB (1048577 bytes)");
    free(text);
}

static void test_line_numbers(void **state)
{
    (void)state;
    expect_error("# 1\n\n[main]\n; 4\n\n   \ncount = 1\n\tflag = 0\n[files]\npath = /p\nlist = 1\n"
                 "any = x\n",
                 BBT_ECONFIG_VALUE, "t.ini:12: [files] any: expected an integer, got \"x\"");
}

static void test_set_and_set_arg(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(set1(&a, "main", "name", "新名字"), BBT_OK); /* replaces, frees the old */
    assert_string_equal(a.name, "新名字");
    assert_int_equal(bbt_config_set_arg(table, N, &a, "main.count=12", err, sizeof err), BBT_OK);
    assert_int_equal(a.count, 12);
    assert_int_equal(bbt_config_set_arg(table, N, &a, "main.name=a=b # c", err, sizeof err),
                     BBT_OK);
    assert_string_equal(a.name, "a=b # c"); /* values from the command line are literal */
    assert_int_equal(bbt_config_set_arg(table, N, &a, "main.cuont=1", err, sizeof err),
                     BBT_ECONFIG_KEY);
    assert_string_equal(err, "--set: unknown key [main] cuont (did you mean \"count\"?)");
    assert_int_equal(bbt_config_set_arg(table, N, &a, "mian.count=1", err, sizeof err),
                     BBT_ECONFIG_KEY);
    assert_string_equal(err, "--set: unknown section [mian] (did you mean [main]?)");
    assert_int_equal(bbt_config_set_arg(table, N, &a, "main.count=1000", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] count: expected an integer -10..100, got \"1000\"");
    assert_int_equal(a.count, 12);
    const char *bad[] = {"main.count", "count=1", ".count=1", "main.=1", "=1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bbt_config_set_arg(table, N, &a, bad[i], err, sizeof err),
                         BBT_ECONFIG_SYNTAX);
    assert_string_equal(err, "--set: expected section.key=value, got \"\"");
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname + 200, ".b=1", 5);
    assert_int_equal(bbt_config_set_arg(table, N, &a, longname, err, sizeof err), BBT_ECONFIG_KEY);
    /* Values from the command line are checked like file text. */
    assert_int_equal(bbt_config_set(table, N, &a, "main", "name", "\xd6\xd0", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] name: invalid UTF-8 at byte 1 of the value");
    assert_int_equal(bbt_config_set(table, N, &a, "main", "name", "a\nb", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] name: control character 0x0a at byte 2 of the value");
    char *huge = malloc(BBT_CONFIG_MAX_LINE + 2);
    assert_non_null(huge);
    memset(huge, 'x', BBT_CONFIG_MAX_LINE + 1);
    huge[BBT_CONFIG_MAX_LINE + 1] = '\0';
    assert_int_equal(bbt_config_set(table, N, &a, "main", "name", huge, err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [main] name: value longer than 4096 bytes");
    free(huge);
    assert_string_equal(a.name, "a=b # c");
    bbt_config_free(table, N, &a);
}

static char *temp_file(const char *text, size_t len)
{
    char *path = strdup("/tmp/bbt_test_config_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, text, len) == (ssize_t)len);
    close(fd);
    return path;
}

static void test_files(void **state)
{
    (void)state;
    struct all a;
    const char *text = "[main]\ncount = 5\n";
    char *path = temp_file(text, strlen(text));
    assert_int_equal(bbt_config_load_file(path, table, N, &a, err, sizeof err), BBT_OK);
    assert_int_equal(a.count, 5);
    bbt_config_free(table, N, &a);
    unlink(path);
    free(path);

    text = "[main]\n\ncount = 500\n";
    path = temp_file(text, strlen(text));
    char want[256];
    snprintf(want, sizeof want, "%s:3: [main] count: expected an integer -10..100, got \"500\"",
             path);
    assert_int_equal(bbt_config_load_file(path, table, N, &a, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, want);
    assert_emptied(&a);
    unlink(path);
    free(path);

    assert_int_equal(bbt_config_load_file("/nonexistent/relay.ini", table, N, &a, err, sizeof err),
                     BBT_ECONFIG_FILE);
    assert_string_equal(err, "/nonexistent/relay.ini: cannot open: No such file or directory");
    assert_emptied(&a);
    assert_int_equal(bbt_config_load_file("/tmp", table, N, &a, err, sizeof err),
                     BBT_ECONFIG_FILE);
    assert_string_equal(err, "/tmp: cannot read: Is a directory");

    size_t big = BBT_CONFIG_MAX_FILE + 10;
    char *body = malloc(big);
    assert_non_null(body);
    memset(body, '\n', big);
    path = temp_file(body, big);
    snprintf(want, sizeof want, "%s: larger than 1 MiB", path);
    assert_int_equal(bbt_config_load_file(path, table, N, &a, err, sizeof err), BBT_ECONFIG_FILE);
    assert_string_equal(err, want);
    unlink(path);
    free(path);
    path = temp_file(body, BBT_CONFIG_MAX_FILE); /* exactly the limit */
    assert_int_equal(bbt_config_load_file(path, table, N, &a, err, sizeof err), BBT_OK);
    bbt_config_free(table, N, &a);
    unlink(path);
    free(path);
    free(body);
}

/* ---- allocation failures ---------------------------------------------------------------- */

struct failing {
    int calls, fail_at; /* the fail_at-th call (from 0) returns NULL; -1: none */
};

static void *failing_alloc(size_t size, void *ud)
{
    struct failing *f = ud;
    return f->calls++ == f->fail_at ? NULL : malloc(size);
}

/* Runs op with allocation k failing, for every k until op succeeds; each failure must be
 * BBT_ENOMEM, leak nothing (ASan) and leave the strings NULL. Returns how many allocations a
 * successful op made. */
typedef int (*op_fn)(const bbt_config_opts *o, struct all *a, const void *arg);

static int every_failure(op_fn op, const void *arg, bool load)
{
    for (int k = 0;; k++) {
        struct failing f = {0, k};
        bbt_config_opts o = {failing_alloc, &f};
        struct all a;
        memset(&a, 0, sizeof a);
        if (!load)
            assert_int_equal(bbt_config_load_buffer("t", "", 0, table, N, &a, err, sizeof err),
                             BBT_OK);
        int rc = op(&o, &a, arg);
        if (f.calls <= k) { /* nothing failed: done */
            assert_int_equal(rc, BBT_OK);
            bbt_config_free(table, N, &a);
            return k;
        }
        assert_int_equal(rc, BBT_ENOMEM);
        assert_non_null(strstr(err, "out of memory"));
        if (load)
            assert_emptied(&a);
        else
            assert_string_equal(a.name, "默认"); /* --set leaves dest as it was */
        bbt_config_free(table, N, &a);
    }
}

static const char *const full_text = "\xef\xbb\xbf[main]\nname = 甲\ncount = 1\n[files]\n"
                                     "path = /p\nlist = x\nshort = xyz\nchecked = ok2\n";

static int op_load_buffer(const bbt_config_opts *o, struct all *a, const void *arg)
{
    return bbt_config_load_buffer_ex(o, "t", arg, strlen(arg), table, N, a, err, sizeof err);
}

static int op_load_file(const bbt_config_opts *o, struct all *a, const void *arg)
{
    return bbt_config_load_file_ex(o, arg, table, N, a, err, sizeof err);
}

static int op_set(const bbt_config_opts *o, struct all *a, const void *arg)
{
    return bbt_config_set_ex(o, table, N, a, "main", "name", arg, err, sizeof err);
}

static int op_set_arg(const bbt_config_opts *o, struct all *a, const void *arg)
{
    return bbt_config_set_arg_ex(o, table, N, a, arg, err, sizeof err);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    /* 5 default strings, the bookkeeping, 5 strings from the text. */
    assert_int_equal(every_failure(op_load_buffer, full_text, true), 11);
    assert_int_equal(every_failure(op_load_buffer, "", true), 6);
    /* A file larger than the first read buffer, so that the buffer grows. */
    size_t len = 100000;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '\n', len);
    memcpy(text, full_text, strlen(full_text));
    char *path = temp_file(text, len);
    /* ... plus the read buffer: 16k, 32k, 64k, 128k. */
    assert_int_equal(every_failure(op_load_file, path, true), 11 + 4);
    unlink(path);
    free(path);
    free(text);
    assert_int_equal(every_failure(op_set, "乙", false), 1);
    assert_int_equal(every_failure(op_set_arg, "main.name=丙", false), 1);
    assert_int_equal(every_failure(op_set_arg, "main.count=3", false), 0);
}

/* ---- tables, documentation, arguments --------------------------------------------------- */

static void test_bad_default_is_caught(void **state)
{
    (void)state;
    bbt_directive t[2];
    memcpy(t, table, sizeof t);
    t[1].def = "80a";
    struct all a;
    char e[512];
    assert_int_equal(bbt_config_load_buffer("t", "", 0, t, 2, &a, e, sizeof e), BBT_ECONFIG_VALUE);
    assert_string_equal(e, "built-in default: [main] count: expected an integer -10..100, got "
                           "\"80a\"");
    assert_null(a.name);
    assert_int_equal(bbt_config_check_table(t, 2, e, sizeof e), BBT_EINVAL);
    assert_string_equal(e, "built-in default: [main] count: expected an integer -10..100, got "
                           "\"80a\"");
}

static void expect_table_error(const bbt_directive *t, size_t n, const char *msg)
{
    char e[512];
    assert_int_equal(bbt_config_check_table(t, n, e, sizeof e), BBT_EINVAL);
    assert_string_equal(e, msg);
}

static void test_check_table(void **state)
{
    (void)state;
    bbt_directive t[N];
    memcpy(t, table, sizeof t);
    t[2].key = "count";
    expect_table_error(t, N, "table: [main] count: listed twice");
    memcpy(t, table, sizeof t);
    t[7].choices = NULL;
    expect_table_error(t, N, "table: [main] color: an ENUM without choices");
    memcpy(t, table, sizeof t);
    t[1].min = 200;
    expect_table_error(t, N, "table: [main] count: bad type, range (min > max) or no "
                             "help");
    memcpy(t, table, sizeof t);
    t[1].help = NULL;
    expect_table_error(t, N, "table: [main] count: bad type, range (min > max) or no "
                             "help");
    memcpy(t, table, sizeof t);
    t[0].section = "ma in";
    expect_table_error(t, N, "table: entry 0: invalid section or key name");
    memcpy(t, table, sizeof t);
    t[10].offset = t[9].offset;
    expect_table_error(t, N, "table: [files] list: same string field as [files] path");
    memcpy(t, table, sizeof t);
    t[10].section = "main";
    expect_table_error(t, N, "table: [main] list: keep a section's keys together");
    memcpy(t, table, sizeof t);
    t[3].type = (enum bbt_cfg_type)99;
    expect_table_error(t, N, "table: [main] size: bad type, range (min > max) or no "
                             "help");
    assert_int_equal(bbt_config_check_table(NULL, 0, NULL, 0), BBT_OK);
    assert_int_equal(bbt_config_check_table(NULL, 1, NULL, 0), BBT_EINVAL);
}

static void test_describe(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    assert_non_null(m);
    assert_int_equal(bbt_config_describe(m, table, N), BBT_OK);
    fclose(m);
    const char *want[] = {
        "#### [main]\n\n| key | type | default | range | 说明 / description |\n|---|---|---|---|---|\n"
        "| `name` | string | `默认` |  | 名<br>name |\n"
        "| `count` | integer | `7` | -10..100 | 数<br>count |\n",
        "| `flag` | boolean | `no` |  | 开关<br>flag |\n",
        "| `limit` | size | `2M` | 1k..2M | 上限<br>limit |\n",
        "| `timeout` | duration | `5s` | 100ms..5m | 超时<br>timeout |\n",
        "| `color` | choice | `green` | red, green, blue | 颜色<br>color |\n",
        "| `ratio` | number | `0.5` | 0.1..1 | 比例<br>ratio \\| pipe |\n\n#### [files]\n",
        "| `path` | path | `/tmp/x` | 1..4095 bytes | 路径<br>path |\n",
        "| `list` | list | `a, b` |  | 列表<br>list |\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(out, want[i]))
            fail_msg("describe lacks:\n%s\nin:\n%s", want[i], out);
    free(out);
    assert_int_equal(bbt_config_describe(NULL, table, N), BBT_EINVAL);

    char r[64];
    bbt_directive d = table[4];
    d.min = 0;
    d.max = BBT_CFG_MIB(1024) * 3 + 512;
    bbt_config_describe_range(&d, r, sizeof r);
    assert_string_equal(r, "0..3221225984");
    d.type = BBT_CFG_DURATION;
    d.min = 1;
    d.max = 90000;
    bbt_config_describe_range(&d, r, sizeof r);
    assert_string_equal(r, "1ms..90s");
}

static void test_arguments(void **state)
{
    (void)state;
    struct all a;
    assert_int_equal(bbt_config_load_buffer("t", NULL, 1, table, N, &a, err, sizeof err),
                     BBT_EINVAL);
    assert_int_equal(bbt_config_load_buffer("t", "", 0, NULL, 1, &a, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_config_load_buffer("t", "", 0, table, N, NULL, err, sizeof err),
                     BBT_EINVAL);
    assert_int_equal(bbt_config_load_file(NULL, table, N, &a, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_config_set(table, N, &a, NULL, "k", "v", err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_config_set_arg(table, N, &a, NULL, err, sizeof err), BBT_EINVAL);
    /* NULL text of length 0, no name, no error buffer. */
    assert_int_equal(bbt_config_load_buffer(NULL, NULL, 0, table, N, &a, NULL, 0), BBT_OK);
    bbt_config_free(table, N, &a);
    assert_int_equal(bbt_config_load_buffer(NULL, "x", 1, table, N, &a, NULL, 0),
                     BBT_ECONFIG_SYNTAX);
    assert_int_equal(bbt_config_load_buffer(NULL, "x", 1, table, N, &a, err, sizeof err),
                     BBT_ECONFIG_SYNTAX);
    assert_string_equal(err, "config:1: expected [section], key = value or a comment, got \"x\"");
    /* A short buffer is cut, still terminated. */
    char small[12];
    assert_int_equal(bbt_config_load_buffer("t.ini", "x", 1, table, N, &a, small, sizeof small),
                     BBT_ECONFIG_SYNTAX);
    assert_string_equal(small, "t.ini:1: ex");
    assert_int_equal(bbt_config_load_buffer("a-very-long-file-name.ini", "x", 1, table, N, &a,
                                            small, sizeof small),
                     BBT_ECONFIG_SYNTAX);
    assert_string_equal(small, "a-very-long");
    /* An empty table accepts only comments. */
    assert_int_equal(bbt_config_load_buffer("t", "# hi\n", 5, NULL, 0, &a, err, sizeof err),
                     BBT_OK);
    assert_int_equal(bbt_config_load_buffer("t", "[a]\n", 4, NULL, 0, &a, err, sizeof err),
                     BBT_ECONFIG_KEY);
    assert_string_equal(err, "t:1: unknown section [a]");
    bbt_config_free(NULL, 0, &a);
    bbt_config_free(table, N, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_type_from_a_file),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_bom_crlf_utf8),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_line_and_file_limits),
        cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_set_and_set_arg),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_bad_default_is_caught),
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
