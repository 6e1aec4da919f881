/* tests/config/test_relay_config.c — config/relay_config.c: the relay's table, its defaults,
 * config/relay.example.ini, docs/CONFIG.md, and the cross-key rules of bbt_relay_config_check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_check.h"
#include "config/relay_config.h"
#include "proto/log.h"
#include "proto/status.h"

#define T bbt_relay_directives
#define NT bbt_relay_directives_count

static char err[1024];

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(bbt_config_check_table(T, NT, err, sizeof err), BBT_OK);
    cc_check_help(T, NT);
    /* The config's log levels are proto/log.h's. */
    assert_int_equal(BBT_CFG_LOG_ERROR, BBT_LOG_ERROR);
    assert_int_equal(BBT_CFG_LOG_WARN, BBT_LOG_WARN);
    assert_int_equal(BBT_CFG_LOG_INFO, BBT_LOG_INFO);
    assert_int_equal(BBT_CFG_LOG_DEBUG, BBT_LOG_DEBUG);
}

static void test_defaults(void **state)
{
    (void)state;
    bbt_relay_config c;
    assert_int_equal(bbt_relay_config_load(NULL, &c, err, sizeof err), BBT_OK);
    assert_string_equal(c.relay.listen, "0.0.0.0");
    assert_int_equal(c.relay.port, 8443);
    assert_string_equal(c.relay.web_root, "/usr/share/banbantong/web");
    assert_string_equal(c.relay.state_dir, "/var/lib/banbantong");
    assert_string_equal(c.relay.tls_cert, "");
    assert_string_equal(c.relay.tls_key, "");
    assert_string_equal(c.relay.tls_ca, "");
    assert_false(c.relay.allow_insecure);
    assert_int_equal(c.relay.log_level, BBT_CFG_LOG_INFO);
    assert_string_equal(c.relay.server_name, "");
    assert_int_equal(c.limits.max_viewers, 10000);
    assert_int_equal(c.limits.max_connections_per_ip, 256);
    assert_int_equal(c.limits.max_message_bytes, 64 * 1024);
    assert_int_equal(c.limits.max_json_depth, 8);
    assert_int_equal(c.limits.max_frame_bytes, 2 * 1024 * 1024);
    assert_int_equal(c.limits.auth_timeout_ms, 5000);
    assert_int_equal(c.limits.max_sessions, 1000);
    assert_int_equal(c.queue.max_delay_ms, 1000);
    assert_int_equal(c.queue.max_bytes, 2 * 1024 * 1024);
    assert_int_equal(c.queue.stall_timeout_ms, 10000);
    assert_int_equal(c.publisher.idle_timeout_ms, 5000);
    assert_int_equal(c.publisher.gop_cache_bytes, 4 * 1024 * 1024);
    assert_true(c.adapt.enabled);
    assert_true(c.adapt.safety == 0.8);
    assert_int_equal(c.adapt.upswitch_hold_ms, 5000);
    assert_int_equal(c.adapt.start_bitrate, 200000);
    assert_int_equal(c.adapt.downswitch_delay_ms, 300);
    assert_true(c.auth.required);
    assert_string_equal(c.auth.secret_file, "");
    assert_int_equal(c.auth.leeway_ms, 60000);
    assert_int_equal(c.auth.fail_limit, 10);
    assert_int_equal(c.auth.backoff_ms, 60000);
    bbt_relay_config_free(&c);
    bbt_relay_config_free(&c);
}

static void test_example_file(void **state)
{
    (void)state;
    cc_check_example(T, NT, sizeof(bbt_relay_config), BBT_SOURCE_DIR "/config/relay.example.ini");
    bbt_relay_config c;
    assert_int_equal(bbt_relay_config_load(BBT_SOURCE_DIR "/config/relay.example.ini", &c, err,
                                           sizeof err),
                     BBT_OK);
    bbt_relay_config_free(&c);
}

static void test_docs(void **state)
{
    (void)state;
    cc_check_docs(T, NT, BBT_SOURCE_DIR "/docs/CONFIG.md", "CONFIG.relay.md");
}

static int load_text(const char *text, bbt_relay_config *c)
{
    memset(c, 0, sizeof *c);
    return bbt_config_load_buffer("relay.ini", text, strlen(text), T, NT, c, err, sizeof err);
}

static void expect_error(const char *text, int code, const char *msg)
{
    bbt_relay_config c;
    assert_int_equal(load_text(text, &c), code);
    assert_string_equal(err, msg);
    bbt_relay_config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    /* The example of the brief, on line 12. */
    expect_error("# relay\n\n[relay]\nlisten = ::\n\n# 端口\n\n\n\n\n\nport = 80a\n",
                 BBT_ECONFIG_VALUE,
                 "relay.ini:12: [relay] port: expected an integer 1..65535, got \"80a\"");
    expect_error("[relay]\nport = 0\n", BBT_ECONFIG_VALUE,
                 "relay.ini:2: [relay] port: expected an integer 1..65535, got \"0\"");
    expect_error("[limits]\nmax_message_bytes = 1023\n", BBT_ECONFIG_VALUE,
                 "relay.ini:2: [limits] max_message_bytes: expected a size 1k..1M (bytes, or a "
                 "number with k, M or G), got \"1023\"");
    expect_error("[queue]\nmax_delay = 31s\n", BBT_ECONFIG_VALUE,
                 "relay.ini:2: [queue] max_delay: expected a duration 100ms..30s (a number with "
                 "ms, s, m or h; a bare number is ms), got \"31s\"");
    expect_error("[adapt]\nsafety = 0.09\n", BBT_ECONFIG_VALUE,
                 "relay.ini:2: [adapt] safety: expected a number 0.1..1, got \"0.09\"");
    expect_error("[relay]\nlog_level = verbose\n", BBT_ECONFIG_VALUE,
                 "relay.ini:2: [relay] log_level: expected one of error, warn, info, debug, got "
                 "\"verbose\"");
    expect_error("[relay]\nmax_viewers = 5\n", BBT_ECONFIG_KEY,
                 "relay.ini:2: unknown key [relay] max_viewers (it belongs in [limits])");
    expect_error("[limit]\n", BBT_ECONFIG_KEY,
                 "relay.ini:1: unknown section [limit] (did you mean [limits]?)");
    expect_error("[relay]\ntls_crt = /x\n", BBT_ECONFIG_KEY,
                 "relay.ini:2: unknown key [relay] tls_crt (did you mean \"tls_cert\"?)");
    bbt_relay_config c;
    assert_int_equal(bbt_relay_config_load("/nonexistent/relay.ini", &c, err, sizeof err),
                     BBT_ECONFIG_FILE);
    assert_string_equal(err, "/nonexistent/relay.ini: cannot open: No such file or directory");
    bbt_relay_config_free(&c);
    assert_int_equal(bbt_relay_config_load(NULL, NULL, err, sizeof err), BBT_EINVAL);
}

static void test_bounds(void **state)
{
    (void)state;
    bbt_relay_config c;
    assert_int_equal(load_text("[relay]\nport = 65535\nserver_name = \"某某县 教育局\"\n"
                               "[limits]\nmax_message_bytes = 1M\nmax_frame_bytes = 8M\n"
                               "auth_timeout = 100ms\n[queue]\nmax_bytes = 64M\n"
                               "[publisher]\ngop_cache_bytes = 0\n[adapt]\nsafety = 1.0\n"
                               "downswitch_delay = 0\nenabled = off\n",
                               &c),
                     BBT_OK);
    assert_int_equal(c.relay.port, 65535);
    assert_string_equal(c.relay.server_name, "某某县 教育局");
    assert_int_equal(c.limits.max_message_bytes, 1 << 20);
    assert_int_equal(c.limits.max_frame_bytes, 8 << 20);
    assert_int_equal(c.limits.auth_timeout_ms, 100);
    assert_int_equal(c.queue.max_bytes, 64 << 20);
    assert_int_equal(c.publisher.gop_cache_bytes, 0);
    assert_true(c.adapt.safety == 1.0);
    assert_int_equal(c.adapt.downswitch_delay_ms, 0);
    assert_false(c.adapt.enabled);
    bbt_relay_config_free(&c);
}

static void test_set(void **state)
{
    (void)state;
    bbt_relay_config c;
    assert_int_equal(bbt_relay_config_load(NULL, &c, err, sizeof err), BBT_OK);
    assert_int_equal(bbt_config_set_arg(T, NT, &c, "relay.port=9443", err, sizeof err), BBT_OK);
    assert_int_equal(c.relay.port, 9443);
    assert_int_equal(bbt_config_set_arg(T, NT, &c, "relay.server_name=县教育局", err, sizeof err),
                     BBT_OK);
    assert_string_equal(c.relay.server_name, "县教育局");
    assert_int_equal(bbt_config_set_arg(T, NT, &c, "relay.port=80a", err, sizeof err),
                     BBT_ECONFIG_VALUE);
    assert_string_equal(err, "--set: [relay] port: expected an integer 1..65535, got \"80a\"");
    assert_int_equal(c.relay.port, 9443);
    bbt_relay_config_free(&c);
}

static void set(bbt_relay_config *c, const char *arg)
{
    if (bbt_config_set_arg(T, NT, c, arg, err, sizeof err) != BBT_OK)
        fail_msg("%s: %s", arg, err);
}

static void test_check(void **state)
{
    (void)state;
    bbt_relay_config c;
    assert_int_equal(bbt_relay_config_load(NULL, &c, err, sizeof err), BBT_OK);
    /* No certificate and no allow_insecure: refuse to start. */
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "[relay] tls_cert is empty and allow_insecure = false: refusing to "
                             "start without TLS. Set tls_cert and tls_key, or allow_insecure = "
                             "true for a test set-up (没有配置 TLS 证书：请设置 tls_cert 和 "
                             "tls_key)");
    set(&c, "relay.allow_insecure=true");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_OK);
    assert_string_equal(err, "");
    set(&c, "relay.tls_cert=/etc/banbantong/relay.crt");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "[relay] tls_key is empty: tls_cert needs its private key");
    set(&c, "relay.tls_key=/etc/banbantong/relay.key");
    set(&c, "relay.allow_insecure=false");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_OK);
    /* Lab mode (no tokens) only with allow_insecure. */
    set(&c, "auth.required=false");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "[auth] required = false (lab mode) needs [relay] allow_insecure = "
                             "true (实验室模式只能用于测试环境)");
    set(&c, "relay.allow_insecure=true");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_OK);
    set(&c, "relay.allow_insecure=false");
    set(&c, "auth.required=true");
    set(&c, "relay.tls_cert=");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "[relay] tls_cert is empty: tls_key needs its certificate");
    set(&c, "relay.tls_cert=/etc/banbantong/relay.crt");
    set(&c, "queue.max_bytes=1M");
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, "[queue] max_bytes (1048576) is smaller than [limits] "
                             "max_frame_bytes (2097152): a viewer's queue must hold at least "
                             "one frame");
    set(&c, "limits.max_frame_bytes=1M");
    assert_int_equal(bbt_relay_config_check(&c, NULL, 0), BBT_OK);
    bbt_relay_config_free(&c);
    assert_int_equal(bbt_relay_config_check(NULL, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_relay_config_check(&c, err, sizeof err), BBT_EINVAL); /* freed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),    cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_example_file), cmocka_unit_test(test_docs),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_set),      cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
