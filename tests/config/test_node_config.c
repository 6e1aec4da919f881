/* tests/config/test_node_config.c — config/node_config.c: the node's table, its defaults,
 * config/node.example.ini, docs/CONFIG.md, the quality ladder and the cross-key rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_check.h"
#include "config/node_config.h"
#include "proto/status.h"

#define T bbt_node_directives
#define NT bbt_node_directives_count

static char err[1024];

static const bbt_directive *directive(const char *section, const char *key)
{
    for (size_t i = 0; i < NT; i++)
        if (strcmp(T[i].section, section) == 0 && strcmp(T[i].key, key) == 0)
            return &T[i];
    fail_msg("no [%s] %s", section, key);
    return NULL;
}

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(bbt_config_check_table(T, NT, err, sizeof err), BBT_OK);
    cc_check_help(T, NT);
    /* The enums of node_config.h index the choices of the table. */
    const char *const *v = directive("capture", "video")->choices;
    assert_string_equal(v[BBT_NODE_VIDEO_TEST], "test");
    assert_string_equal(v[BBT_NODE_VIDEO_CAMERA], "camera");
    assert_string_equal(v[BBT_NODE_VIDEO_FILE], "file");
    assert_string_equal(v[BBT_NODE_VIDEO_NONE], "none");
    assert_null(v[BBT_NODE_VIDEO_NONE + 1]);
    const char *const *a = directive("capture", "audio")->choices;
    assert_string_equal(a[BBT_NODE_AUDIO_TEST], "test");
    assert_string_equal(a[BBT_NODE_AUDIO_PULSE], "pulse");
    assert_string_equal(a[BBT_NODE_AUDIO_ALSA], "alsa");
    assert_string_equal(a[BBT_NODE_AUDIO_NONE], "none");
    assert_null(a[BBT_NODE_AUDIO_NONE + 1]);
    const char *const *e = directive("encode", "encoder")->choices;
    assert_string_equal(e[BBT_NODE_ENCODER_X264], "x264");
    assert_string_equal(e[BBT_NODE_ENCODER_OPENH264], "openh264");
    assert_string_equal(e[BBT_NODE_ENCODER_VAAPI], "vaapi");
    assert_null(e[BBT_NODE_ENCODER_VAAPI + 1]);
    const char *const *s = directive("play", "sink")->choices;
    assert_string_equal(s[BBT_NODE_SINK_AUTO], "auto");
    assert_string_equal(s[BBT_NODE_SINK_FAKE], "fake");
    assert_null(s[BBT_NODE_SINK_FAKE + 1]);
}

static void test_defaults(void **state)
{
    (void)state;
    bbt_node_config c;
    assert_int_equal(bbt_node_config_load(NULL, &c, err, sizeof err), BBT_OK);
    assert_string_equal(c.node.relay, "ws://127.0.0.1:8443/ws");
    assert_string_equal(c.node.ca_file, "");
    assert_string_equal(c.node.token, "");
    assert_string_equal(c.node.token_file, "");
    assert_string_equal(c.node.classroom, "");
    assert_string_equal(c.node.session, "");
    assert_string_equal(c.node.state_dir, "/var/lib/banbantong-node");
    assert_int_equal(c.node.log_level, BBT_CFG_LOG_INFO);
    assert_int_equal(c.capture.video, BBT_NODE_VIDEO_TEST);
    assert_string_equal(c.capture.video_device, "/dev/video0");
    assert_int_equal(c.capture.audio, BBT_NODE_AUDIO_TEST);
    assert_string_equal(c.capture.audio_device, "");
    assert_false(c.capture.screen);
    assert_string_equal(c.capture.screen_display, ":0");
    assert_string_equal(c.capture.file, "");
    assert_true(c.capture.file_loop);
    assert_int_equal(c.capture.width, 1280);
    assert_int_equal(c.capture.height, 720);
    assert_int_equal(c.capture.fps, 25);
    assert_int_equal(c.encode.encoder, BBT_NODE_ENCODER_X264);
    assert_string_equal(c.encode.ladder, "1280x720@25:1200,640x360@25:450,320x180@15:120");
    assert_int_equal(c.encode.keyframe_interval_ms, 2000);
    assert_int_equal(c.encode.audio_bitrate, 40000);
    assert_int_equal(c.encode.courseware_fps, 2);
    assert_int_equal(c.encode.courseware_bitrate, 300);
    assert_int_equal(c.uplink.reconnect_min_ms, 500);
    assert_int_equal(c.uplink.reconnect_max_ms, 10000);
    assert_int_equal(c.uplink.queue_max_delay_ms, 1000);
    assert_false(c.play.fullscreen);
    assert_int_equal(c.play.sink, BBT_NODE_SINK_AUTO);
    assert_int_equal(bbt_node_config_check(&c, err, sizeof err), BBT_OK);
    bbt_node_config_free(&c);
    bbt_node_config_free(&c);
}

static void test_example_file(void **state)
{
    (void)state;
    cc_check_example(T, NT, sizeof(bbt_node_config), BBT_SOURCE_DIR "/config/node.example.ini");
    bbt_node_config c;
    assert_int_equal(bbt_node_config_load(BBT_SOURCE_DIR "/config/node.example.ini", &c, err,
                                          sizeof err),
                     BBT_OK);
    assert_int_equal(bbt_node_config_check(&c, err, sizeof err), BBT_OK);
    bbt_node_config_free(&c);
}

static void test_docs(void **state)
{
    (void)state;
    cc_check_docs(T, NT, BBT_SOURCE_DIR "/docs/CONFIG.md", "CONFIG.node.md");
}

/* ---- ladder ------------------------------------------------------------------------------ */

static void test_ladder_default(void **state)
{
    (void)state;
    bbt_node_rung r[BBT_NODE_LADDER_MAX];
    size_t n = 99;
    assert_int_equal(bbt_node_ladder_parse("1280x720@25:1200,640x360@25:450,320x180@15:120", r,
                                           BBT_NODE_LADDER_MAX, &n, err, sizeof err),
                     BBT_OK);
    assert_int_equal(n, 3);
    const bbt_node_rung want[] = {{1280, 720, 25, 1200}, {640, 360, 25, 450}, {320, 180, 15, 120}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r[i].width, want[i].width);
        assert_int_equal(r[i].height, want[i].height);
        assert_int_equal(r[i].fps, want[i].fps);
        assert_int_equal(r[i].kbps, want[i].kbps);
    }
    assert_string_equal(err, "");
    /* Spaces around commas, an upper-case X, one rung, four rungs, equal sizes. */
    assert_int_equal(bbt_node_ladder_parse(" 640X360@25:450 ,\t320x180@15:120 ", r, 4, &n, err,
                                           sizeof err),
                     BBT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(r[1].width, 320);
    assert_int_equal(bbt_node_ladder_parse("16x16@1:16", r, 4, &n, err, sizeof err), BBT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(bbt_node_ladder_parse("3840x2160@60:20000,1920x1080@30:4000,1920x1080@15:"
                                           "2000,640x360@25:450",
                                           r, 4, &n, err, sizeof err),
                     BBT_OK);
    assert_int_equal(n, 4);
}

static void expect_ladder(const char *text, size_t max, const char *msg)
{
    bbt_node_rung r[BBT_NODE_LADDER_MAX];
    size_t n = 99;
    assert_int_equal(bbt_node_ladder_parse(text, r, max, &n, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, msg);
    assert_int_equal(n, 0);
}

static void test_ladder_errors(void **state)
{
    (void)state;
    expect_ladder("1280x720@25:1200,640x360@25", 4,
                  "rung 2 \"640x360@25\": expected WIDTHxHEIGHT@FPS:KBITS, such as "
                  "640x360@25:450");
    expect_ladder("", 4, "rung 1 \"\": expected WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450");
    expect_ladder("640x360@25:450,", 4,
                  "rung 2 \"\": expected WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450");
    expect_ladder("640x360@25:450,,320x180@15:120", 4,
                  "rung 2 \"\": expected WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450");
    expect_ladder("641x360@25:450", 4, "rung 1 \"641x360@25:450\": the width must be even, "
                                       "16..3840");
    expect_ladder("3842x360@25:450", 4, "rung 1 \"3842x360@25:450\": the width must be even, "
                                        "16..3840");
    expect_ladder("640x361@25:450", 4, "rung 1 \"640x361@25:450\": the height must be even, "
                                       "16..2160");
    expect_ladder("640x14@25:450", 4, "rung 1 \"640x14@25:450\": the height must be even, "
                                      "16..2160");
    expect_ladder("640x360@0:450", 4, "rung 1 \"640x360@0:450\": the frame rate must be 1..60");
    expect_ladder("640x360@61:450", 4, "rung 1 \"640x360@61:450\": the frame rate must be 1..60");
    expect_ladder("640x360@25:15", 4, "rung 1 \"640x360@25:15\": the bit rate must be "
                                      "16..20000 kbit/s");
    expect_ladder("640x360@25:450,1280x720@25:1200", 4,
                  "rung 2 \"1280x720@25:1200\": must have a lower bit rate than the rung before "
                  "it and be no larger (list the ladder from the highest quality down)");
    expect_ladder("640x360@25:450,640x360@25:450", 4,
                  "rung 2 \"640x360@25:450\": must have a lower bit rate than the rung before "
                  "it and be no larger (list the ladder from the highest quality down)");
    expect_ladder("640x360@25:450,1280x180@25:100", 4,
                  "rung 2 \"1280x180@25:100\": must have a lower bit rate than the rung before "
                  "it and be no larger (list the ladder from the highest quality down)");
    expect_ladder("640x360@25:450,320x180@25:400,320x180@15:300,160x90@15:100,160x90@10:50", 4,
                  "more than 4 rungs");
    expect_ladder("640x360@25:450,320x180@15:120", 1, "more than 1 rung");
    expect_ladder("6400000x360@25:450", 4,
                  "rung 1 \"6400000x360@25:450\": expected WIDTHxHEIGHT@FPS:KBITS, such as "
                  "640x360@25:450");
    const char *bad[] = {"640*360@25:450", "640x360@25:450kbps", "640x360:450", "x360@25:450",
                         "640x360@25:-450", "640 x 360@25:450", "640x360@25.5:450",
                         "640x360@25:450;320x180@15:120", "１２８０x720@25:1200"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bbt_node_rung r[BBT_NODE_LADDER_MAX];
        size_t n;
        assert_int_equal(bbt_node_ladder_parse(bad[i], r, 4, &n, err, sizeof err),
                         BBT_ECONFIG_VALUE);
    }
    /* Long items are cut in the message. */
    expect_ladder("640x360@25:450,1234567890123456789012345678901234567890123456789012345678901234"
                  "567890",
                  4,
                  "rung 2 \"123456789012345678901234567890123456789012345678...\": expected "
                  "WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450");
    bbt_node_rung r[1];
    size_t n;
    assert_int_equal(bbt_node_ladder_parse(NULL, r, 1, &n, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_node_ladder_parse("16x16@1:16", NULL, 1, &n, err, sizeof err),
                     BBT_EINVAL);
    assert_int_equal(bbt_node_ladder_parse("16x16@1:16", r, 1, NULL, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_node_ladder_parse("16x16@1:16", r, 1, &n, NULL, 0), BBT_OK);
}

static int load_text(const char *text, bbt_node_config *c)
{
    memset(c, 0, sizeof *c);
    return bbt_config_load_buffer("node.ini", text, strlen(text), T, NT, c, err, sizeof err);
}

static void expect_error(const char *text, int code, const char *msg)
{
    bbt_node_config c;
    assert_int_equal(load_text(text, &c), code);
    assert_string_equal(err, msg);
    bbt_node_config_free(&c);
}

static void test_errors_in_files(void **state)
{
    (void)state;
    expect_error("[encode]\n# 画质\nladder = 1280x720@25:1200, 640x360@25\n", BBT_ECONFIG_VALUE,
                 "node.ini:3: [encode] ladder: rung 2 \"640x360@25\": expected "
                 "WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450");
    expect_error("[node]\nrelay = http://relay.example.cn/ws\n", BBT_ECONFIG_VALUE,
                 "node.ini:2: [node] relay: expected a ws:// or wss:// URL such as "
                 "wss://relay.example.cn:8443/ws, got \"http://relay.example.cn/ws\"");
    expect_error("[capture]\nvideo = screen\n", BBT_ECONFIG_VALUE,
                 "node.ini:2: [capture] video: expected one of test, camera, file, none, got "
                 "\"screen\"");
    expect_error("[encode]\naudio_bitrate = 5999\n", BBT_ECONFIG_VALUE,
                 "node.ini:2: [encode] audio_bitrate: expected an integer 6000..256000, got "
                 "\"5999\"");
    expect_error("[encode]\ncourseware_fps = 6\n", BBT_ECONFIG_VALUE,
                 "node.ini:2: [encode] courseware_fps: expected an integer 1..5, got \"6\"");
    expect_error("[capture]\nvideo_devcie = /dev/video1\n", BBT_ECONFIG_KEY,
                 "node.ini:2: unknown key [capture] video_devcie (did you mean "
                 "\"video_device\"?)");
}

static void test_urls(void **state)
{
    (void)state;
    const char *good[] = {"ws://127.0.0.1:8443/ws", "wss://relay.example.cn/ws", "wss://[::1]/ws",
                          "wss://县中心.cn/ws"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(bbt_node_url_check(good[i], err, sizeof err), BBT_OK);
    const char *bad[] = {"", "ws://", "wss:///ws", "ws://:8443/ws", "http://x/ws", "ws:/x",
                         "wss://a b/ws", "WSS://x/ws", "ws://x/\tws"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bbt_node_url_check(bad[i], err, sizeof err), BBT_ECONFIG_VALUE);
}

static void set(bbt_node_config *c, const char *arg)
{
    if (bbt_config_set_arg(T, NT, c, arg, err, sizeof err) != BBT_OK)
        fail_msg("%s: %s", arg, err);
}

static void expect_rule(bbt_node_config *c, const char *msg)
{
    assert_int_equal(bbt_node_config_check(c, err, sizeof err), BBT_ECONFIG_VALUE);
    assert_string_equal(err, msg);
}

static void test_check(void **state)
{
    (void)state;
    bbt_node_config c;
    assert_int_equal(bbt_node_config_load(NULL, &c, err, sizeof err), BBT_OK);
    set(&c, "node.token=abc");
    set(&c, "node.token_file=/etc/banbantong/token");
    expect_rule(&c, "[node] token and token_file are both set: keep one");
    set(&c, "node.token=");
    set(&c, "capture.video=file");
    expect_rule(&c, "[capture] video = file but [capture] file is empty");
    set(&c, "capture.file=/srv/课件/第一课.mp4");
    assert_int_equal(bbt_node_config_check(&c, err, sizeof err), BBT_OK);
    set(&c, "uplink.reconnect_min=20s");
    expect_rule(&c, "[uplink] reconnect_min is larger than [uplink] reconnect_max");
    set(&c, "uplink.reconnect_max=20s");
    assert_int_equal(bbt_node_config_check(&c, err, sizeof err), BBT_OK);
    set(&c, "capture.width=1279");
    expect_rule(&c, "[capture] width and height must be even (H.264 4:2:0), got 1279x720");
    set(&c, "capture.width=640");
    set(&c, "capture.height=360");
    expect_rule(&c, "[encode] ladder: rung 1 (1280x720) is larger than the capture size "
                     "[capture] width x height (640x360)");
    set(&c, "encode.ladder=640x360@25:450,320x180@15:120");
    assert_int_equal(bbt_node_config_check(&c, NULL, 0), BBT_OK);
    /* A ladder that bypassed the loader is still caught. */
    free(c.encode.ladder);
    c.encode.ladder = strdup("640x360");
    assert_non_null(c.encode.ladder);
    expect_rule(&c, "[encode] ladder: rung 1 \"640x360\": expected WIDTHxHEIGHT@FPS:KBITS, such "
                     "as 640x360@25:450");
    bbt_node_config_free(&c);
    assert_int_equal(bbt_node_config_check(NULL, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_node_config_check(&c, err, sizeof err), BBT_EINVAL); /* freed */
    assert_int_equal(bbt_node_config_load(NULL, NULL, err, sizeof err), BBT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),          cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_example_file),   cmocka_unit_test(test_docs),
        cmocka_unit_test(test_ladder_default), cmocka_unit_test(test_ladder_errors),
        cmocka_unit_test(test_errors_in_files), cmocka_unit_test(test_urls),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
