/* config/node_config.c — bbt-node's configuration table and quality ladder (node_config.h). */
#include "node_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/status.h"
#include "value.h"

#define F(field) offsetof(bbt_node_config, field)
#define SEC BBT_CFG_SEC
#define MINUTES BBT_CFG_MINUTES

static const char *const video_sources[] = {"test", "camera", "file", "none", NULL};
static const char *const audio_sources[] = {"test", "pulse", "alsa", "none", NULL};
static const char *const encoders[] = {"x264", "openh264", "vaapi", NULL};
static const char *const sinks[] = {"auto", "fake", NULL};

/* section, key, type, default, min, max, field, choices, help (中文\nEnglish), check */
const bbt_directive bbt_node_directives[] = {
    {"node", "relay", BBT_CFG_STRING, "ws://127.0.0.1:8443/ws", 1, 2048, F(node.relay), NULL,
     "中继的 WebSocket 地址，正式部署用 wss://。\n"
     "The relay's WebSocket URL; wss:// in any real deployment.", bbt_node_url_check},
    {"node", "ca_file", BBT_CFG_PATH, "", 0, 4095, F(node.ca_file), NULL,
     "用于验证中继证书的 CA 证书；为空则用系统证书库。\n"
     "CA bundle to verify the relay's certificate; empty: the system store.", NULL},
    {"node", "token", BBT_CFG_STRING, "", 0, 4096, F(node.token), NULL,
     "本教室的签名令牌（也可改用 token_file）。\n"
     "This classroom's signed token (or use token_file).", NULL},
    {"node", "token_file", BBT_CFG_PATH, "", 0, 4095, F(node.token_file), NULL,
     "存放令牌的文件，令牌不必写进配置文件。\n"
     "File holding the token, to keep it out of this file.", NULL},
    {"node", "classroom", BBT_CFG_STRING, "", 0, 128, F(node.classroom), NULL,
     "本教室在课表中的编号。\nThis classroom's id in the timetable.", NULL},
    {"node", "session", BBT_CFG_STRING, "", 0, 128, F(node.session), NULL,
     "固定推送或播放的课堂；为空则按课表自动进行。\n"
     "A fixed session to publish or play; empty: follow the timetable.", NULL},
    {"node", "state_dir", BBT_CFG_PATH, "/var/lib/banbantong-node", 1, 4095, F(node.state_dir),
     NULL, "数据目录：缓存的课表、日志。\nState directory: cached plan, logs.", NULL},
    {"node", "log_level", BBT_CFG_ENUM, "info", 0, 0, F(node.log_level), bbt_cfg_log_levels,
     "日志详细程度。\nHow much to log.", NULL},

    {"capture", "video", BBT_CFG_ENUM, "test", 0, 0, F(capture.video), video_sources,
     "视频来源：test 测试图像，camera 摄像头，file 媒体文件，none 不采集。\n"
     "Video source: test pattern, camera, a media file, or none.", NULL},
    {"capture", "video_device", BBT_CFG_PATH, "/dev/video0", 1, 4095, F(capture.video_device),
     NULL, "摄像头设备（video = camera 时）。\nCamera device (video = camera).", NULL},
    {"capture", "audio", BBT_CFG_ENUM, "test", 0, 0, F(capture.audio), audio_sources,
     "音频来源：test 测试音，pulse，alsa，none 不采集。\n"
     "Audio source: test tone, PulseAudio, ALSA, or none.", NULL},
    {"capture", "audio_device", BBT_CFG_STRING, "", 0, 255, F(capture.audio_device), NULL,
     "音频设备；为空则用系统默认设备。\nAudio device; empty: the system default.", NULL},
    {"capture", "screen", BBT_CFG_BOOL, "false", 0, 0, F(capture.screen), NULL,
     "同时采集屏幕作为课件画面。\nAlso capture the screen as the courseware track.", NULL},
    {"capture", "screen_display", BBT_CFG_STRING, ":0", 1, 255, F(capture.screen_display), NULL,
     "要采集的 X 显示。\nX display to capture.", NULL},
    {"capture", "file", BBT_CFG_PATH, "", 0, 4095, F(capture.file), NULL,
     "媒体文件（video = file 时）。\nMedia file (video = file).", NULL},
    {"capture", "file_loop", BBT_CFG_BOOL, "true", 0, 0, F(capture.file_loop), NULL,
     "文件播完后从头循环。\nLoop the file when it ends.", NULL},
    {"capture", "width", BBT_CFG_INT, "1280", 16, 3840, F(capture.width), NULL,
     "采集宽度（像素，偶数）。\nCapture width in pixels (even).", NULL},
    {"capture", "height", BBT_CFG_INT, "720", 16, 2160, F(capture.height), NULL,
     "采集高度（像素，偶数）。\nCapture height in pixels (even).", NULL},
    {"capture", "fps", BBT_CFG_INT, "25", 1, 60, F(capture.fps), NULL,
     "采集帧率。\nCapture frame rate.", NULL},

    {"encode", "encoder", BBT_CFG_ENUM, "x264", 0, 0, F(encode.encoder), encoders,
     "H.264 编码器：x264 软件编码，openh264，vaapi 硬件编码。\n"
     "H.264 encoder: x264 (software), openh264, vaapi (hardware).", NULL},
    {"encode", "ladder", BBT_CFG_STRING, "1280x720@25:1200,640x360@25:450,320x180@15:120", 1, 256,
     F(encode.ladder), NULL,
     "画质阶梯：宽x高@帧率:码率(kbit/s)，逗号分隔，从高到低，最多 4 档。\n"
     "Quality ladder: WIDTHxHEIGHT@FPS:KBITS, comma-separated, highest first, at most 4.",
     bbt_node_ladder_check},
    {"encode", "keyframe_interval", BBT_CFG_DURATION, "2s", 500, SEC(10),
     F(encode.keyframe_interval_ms), NULL,
     "关键帧间隔：越短切换画质和新加入越快，但更费码率。\n"
     "Keyframe interval: shorter means faster switches and joins, at a bit rate cost.", NULL},
    {"encode", "audio_bitrate", BBT_CFG_INT, "40000", 6000, 256000, F(encode.audio_bitrate), NULL,
     "Opus 音频码率（bit/s）。\nOpus audio bit rate in bit/s.", NULL},
    {"encode", "courseware_fps", BBT_CFG_INT, "2", 1, 5, F(encode.courseware_fps), NULL,
     "课件（屏幕）画面的帧率。\nFrame rate of the courseware (screen) track.", NULL},
    {"encode", "courseware_bitrate", BBT_CFG_INT, "300", 50, 2000, F(encode.courseware_bitrate),
     NULL, "课件画面的码率（kbit/s）。\nBit rate of the courseware track in kbit/s.", NULL},

    {"uplink", "reconnect_min", BBT_CFG_DURATION, "500ms", 100, MINUTES(1),
     F(uplink.reconnect_min_ms), NULL,
     "断线后第一次重连的等待时间。\nWait before the first reconnection attempt.", NULL},
    {"uplink", "reconnect_max", BBT_CFG_DURATION, "10s", SEC(1), MINUTES(10),
     F(uplink.reconnect_max_ms), NULL,
     "重连等待时间逐次加倍，最多到此值。\nReconnection waits double up to this.", NULL},
    {"uplink", "queue_max_delay", BBT_CFG_DURATION, "1000ms", 100, SEC(30),
     F(uplink.queue_max_delay_ms), NULL,
     "上行发送队列按媒体时间计的上限。\nBound of the uplink send queue in media time.", NULL},

    {"play", "fullscreen", BBT_CFG_BOOL, "false", 0, 0, F(play.fullscreen), NULL,
     "播放时全屏（教室投影用）。\nPlay full screen (for a classroom projector).", NULL},
    {"play", "sink", BBT_CFG_ENUM, "auto", 0, 0, F(play.sink), sinks,
     "播放输出：auto 自动选择，fake 不显示（测试用）。\n"
     "Playback output: auto, or fake (no output, for tests).", NULL},
};

const size_t bbt_node_directives_count = sizeof bbt_node_directives / sizeof bbt_node_directives[0];

int bbt_node_config_load(const char *path, bbt_node_config *cfg, char *err, size_t errlen)
{
    if (!cfg)
        return BBT_EINVAL;
    memset(cfg, 0, sizeof *cfg);
    if (!path)
        return bbt_config_load_buffer("defaults", "", 0, bbt_node_directives,
                                      bbt_node_directives_count, cfg, err, errlen);
    return bbt_config_load_file(path, bbt_node_directives, bbt_node_directives_count, cfg, err,
                                errlen);
}

void bbt_node_config_free(bbt_node_config *cfg)
{
    bbt_config_free(bbt_node_directives, bbt_node_directives_count, cfg);
}

__attribute__((format(printf, 3, 4))) static int value_fail(char *err, size_t errlen,
                                                            const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return BBT_ECONFIG_VALUE;
}

/* ---- ladder ------------------------------------------------------------------------------ */

/* 1..6 decimal digits. */
static const char *parse_num(const char *s, int *out)
{
    int v = 0, k = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++k > 6)
            return NULL;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return k ? s : NULL;
}

static bool parse_rung(const char *s, size_t len, bbt_node_rung *r)
{
    char buf[64];
    const char *p;
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!(p = parse_num(buf, &r->width)) || (*p != 'x' && *p != 'X'))
        return false;
    if (!(p = parse_num(p + 1, &r->height)) || *p != '@')
        return false;
    if (!(p = parse_num(p + 1, &r->fps)) || *p != ':')
        return false;
    return (p = parse_num(p + 1, &r->kbps)) && *p == '\0';
}

static const char *rung_problem(const bbt_node_rung *r, const bbt_node_rung *prev)
{
    if (r->width < 16 || r->width > 3840 || r->width % 2)
        return "the width must be even, 16..3840";
    if (r->height < 16 || r->height > 2160 || r->height % 2)
        return "the height must be even, 16..2160";
    if (r->fps < 1 || r->fps > 60)
        return "the frame rate must be 1..60";
    if (r->kbps < 16 || r->kbps > 20000)
        return "the bit rate must be 16..20000 kbit/s";
    if (prev && (r->kbps >= prev->kbps || r->width > prev->width || r->height > prev->height))
        return "must have a lower bit rate than the rung before it and be no larger "
               "(list the ladder from the highest quality down)";
    return NULL;
}

int bbt_node_ladder_parse(const char *text, bbt_node_rung *rungs, size_t max, size_t *count,
                          char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!text || !rungs || !count)
        return BBT_EINVAL;
    *count = 0;
    max = max < BBT_NODE_LADDER_MAX ? max : BBT_NODE_LADDER_MAX;
    size_t n = 0;
    for (const char *p = text;; n++) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        char item[128], q[128];
        size_t il = (size_t)(end - p) < 60 ? (size_t)(end - p) : 60;
        while (il > 0 && il < (size_t)(end - p) && (p[il] & 0xc0) == 0x80)
            il--; /* never cut a UTF-8 character */
        snprintf(item, sizeof item, "%.*s", (int)il, p);
        bbt_cfg_quote(item, q, sizeof q);
        if (n == max)
            return value_fail(err, errlen, "more than %zu rung%s", max, max == 1 ? "" : "s");
        if (!parse_rung(p, (size_t)(end - p), &rungs[n]))
            return value_fail(err, errlen,
                              "rung %zu %s: expected WIDTHxHEIGHT@FPS:KBITS, such as "
                              "640x360@25:450",
                              n + 1, q);
        const char *why = rung_problem(&rungs[n], n ? &rungs[n - 1] : NULL);
        if (why)
            return value_fail(err, errlen, "rung %zu %s: %s", n + 1, q, why);
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = n + 1;
    return BBT_OK;
}

int bbt_node_ladder_check(const char *text, char *msg, size_t msglen)
{
    bbt_node_rung rungs[BBT_NODE_LADDER_MAX];
    size_t n;
    return bbt_node_ladder_parse(text, rungs, BBT_NODE_LADDER_MAX, &n, msg, msglen);
}

int bbt_node_url_check(const char *text, char *msg, size_t msglen)
{
    const char *host = strncmp(text, "wss://", 6) == 0  ? text + 6
                       : strncmp(text, "ws://", 5) == 0 ? text + 5
                                                        : NULL;
    if (host && *host && *host != '/' && *host != ':' && !strpbrk(text, " \t"))
        return BBT_OK;
    char q[128];
    return value_fail(msg, msglen, "expected a ws:// or wss:// URL such as "
                                   "wss://relay.example.cn:8443/ws, got %s",
                      bbt_cfg_quote(text, q, sizeof q));
}

/* ---- rules across keys ------------------------------------------------------------------- */

int bbt_node_config_check(const bbt_node_config *cfg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !cfg->node.token || !cfg->node.token_file || !cfg->capture.file ||
        !cfg->encode.ladder)
        return BBT_EINVAL;
    if (cfg->node.token[0] && cfg->node.token_file[0])
        return value_fail(err, errlen, "[node] token and token_file are both set: keep one");
    if (cfg->capture.video == BBT_NODE_VIDEO_FILE && !cfg->capture.file[0])
        return value_fail(err, errlen, "[capture] video = file but [capture] file is empty");
    if (cfg->uplink.reconnect_min_ms > cfg->uplink.reconnect_max_ms)
        return value_fail(err, errlen,
                          "[uplink] reconnect_min is larger than [uplink] reconnect_max");
    if (cfg->capture.width % 2 || cfg->capture.height % 2)
        return value_fail(err, errlen,
                          "[capture] width and height must be even (H.264 4:2:0), got %lldx%lld",
                          (long long)cfg->capture.width, (long long)cfg->capture.height);
    bbt_node_rung rungs[BBT_NODE_LADDER_MAX];
    size_t n;
    char msg[256];
    if (bbt_node_ladder_parse(cfg->encode.ladder, rungs, BBT_NODE_LADDER_MAX, &n, msg,
                              sizeof msg) != BBT_OK)
        return value_fail(err, errlen, "[encode] ladder: %s", msg);
    if (rungs[0].width > cfg->capture.width || rungs[0].height > cfg->capture.height)
        return value_fail(err, errlen,
                          "[encode] ladder: rung 1 (%dx%d) is larger than the capture size "
                          "[capture] width x height (%lldx%lld)",
                          rungs[0].width, rungs[0].height, (long long)cfg->capture.width,
                          (long long)cfg->capture.height);
    return BBT_OK;
}
