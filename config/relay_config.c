/* config/relay_config.c — bbt-relay's configuration table (see relay_config.h). */
#include "relay_config.h"

#include <stdio.h>
#include <string.h>

#include "proto/status.h"

#define F(field) offsetof(bbt_relay_config, field)
#define KIB BBT_CFG_KIB
#define MIB BBT_CFG_MIB
#define SEC BBT_CFG_SEC
#define MINUTES BBT_CFG_MINUTES

/* section, key, type, default, min, max, field, choices, help (中文\nEnglish), check */
const bbt_directive bbt_relay_directives[] = {
    {"relay", "listen", BBT_CFG_STRING, "0.0.0.0", 1, 255, F(relay.listen), NULL,
     "监听地址：0.0.0.0 表示所有 IPv4 地址，:: 表示所有 IPv6 地址。\n"
     "Address to listen on: 0.0.0.0 for every IPv4 address, :: for every IPv6 address.", NULL},
    {"relay", "port", BBT_CFG_INT, "8443", 1, 65535, F(relay.port), NULL,
     "监听端口（HTTPS 与 WebSocket 共用）。\nTCP port for HTTPS and WebSocket.", NULL},
    {"relay", "web_root", BBT_CFG_PATH, "/usr/share/banbantong/web", 1, 4095, F(relay.web_root),
     NULL, "播放页与管理页所在目录。\nDirectory of the player and dashboard pages.", NULL},
    {"relay", "state_dir", BBT_CFG_PATH, "/var/lib/banbantong", 1, 4095, F(relay.state_dir), NULL,
     "数据目录：课表数据库、录像。\nState directory: schedule database, recordings.", NULL},
    {"relay", "tls_cert", BBT_CFG_PATH, "", 0, 4095, F(relay.tls_cert), NULL,
     "TLS 证书（PEM，可含证书链）；为空则使用中继首次启动时在 state_dir/tls 生成的县级 CA 与"
     "证书（allow_insecure = true 时不启用 TLS）。\n"
     "TLS certificate (PEM, may hold the chain); empty: the county CA and certificate the relay "
     "makes in state_dir/tls on its first start (no TLS with allow_insecure = true).", NULL},
    {"relay", "tls_key", BBT_CFG_PATH, "", 0, 4095, F(relay.tls_key), NULL,
     "TLS 证书的私钥（PEM）。\nPrivate key (PEM) of tls_cert.", NULL},
    {"relay", "tls_ca", BBT_CFG_PATH, "", 0, 4095, F(relay.tls_ca), NULL,
     "中继之间互连时用于验证对方的 CA 证书；为空则用系统证书库。\n"
     "CA bundle to verify other relays; empty: the system store.", NULL},
    {"relay", "allow_insecure", BBT_CFG_BOOL, "false", 0, 0, F(relay.allow_insecure), NULL,
     "允许不加密的 ws:// 和 http://（仅限测试环境）；为 false 且没有配置证书时，中继使用自己生成的"
     "证书。\n"
     "Allow plain ws:// and http:// (test set-ups only); false with no certificate configured: "
     "the relay uses one it makes itself.", NULL},
    {"relay", "log_level", BBT_CFG_ENUM, "info", 0, 0, F(relay.log_level), bbt_cfg_log_levels,
     "日志详细程度。\nHow much to log.", NULL},
    {"relay", "server_name", BBT_CFG_STRING, "", 0, 128, F(relay.server_name), NULL,
     "页面上显示的名称，如“某某县教育局”。\nName shown in the pages, e.g. a county bureau.", NULL},

    {"limits", "max_viewers", BBT_CFG_INT, "10000", 1, 1000000, F(limits.max_viewers), NULL,
     "同时观看的最大人数（所有课堂合计）。\nMost viewers at once, all sessions together.", NULL},
    {"limits", "max_connections_per_ip", BBT_CFG_INT, "256", 1, 1000000,
     F(limits.max_connections_per_ip), NULL,
     "每个 IP 地址的最大连接数（一所学校常共用一个出口地址）。\n"
     "Most connections from one IP address (a school often shares one).", NULL},
    {"limits", "max_message_bytes", BBT_CFG_SIZE, "64k", KIB(1), MIB(1),
     F(limits.max_message_bytes), NULL,
     "一条控制消息（JSON 文本）的最大长度。\nLargest control (JSON text) message.", NULL},
    {"limits", "max_json_depth", BBT_CFG_INT, "8", 2, 32, F(limits.max_json_depth), NULL,
     "控制消息 JSON 的最大嵌套层数。\nDeepest nesting of a control message.", NULL},
    {"limits", "max_frame_bytes", BBT_CFG_SIZE, "2M", KIB(1), MIB(8), F(limits.max_frame_bytes),
     NULL, "一个媒体帧的最大长度。\nLargest media frame payload.", NULL},
    {"limits", "auth_timeout", BBT_CFG_DURATION, "5s", 100, MINUTES(5), F(limits.auth_timeout_ms),
     NULL, "连接后必须在此时间内完成认证。\nA new connection must authenticate within this.",
     NULL},
    {"limits", "max_sessions", BBT_CFG_INT, "1000", 1, 100000, F(limits.max_sessions), NULL,
     "同时进行的课堂（会话）最大数。\nMost sessions (live lessons) at once.", NULL},

    {"queue", "max_delay", BBT_CFG_DURATION, "1000ms", 100, SEC(30), F(queue.max_delay_ms), NULL,
     "每个观看者队列按媒体时间计的上限，超过则按丢弃策略丢帧，延迟不会无限增长。\n"
     "Bound of a viewer's queue in media time; beyond it frames are dropped by the written "
     "policy, so latency stays bounded.", NULL},
    {"queue", "max_bytes", BBT_CFG_SIZE, "2M", KIB(64), MIB(64), F(queue.max_bytes), NULL,
     "每个观看者队列按字节计的上限。\nBound of a viewer's queue in bytes.", NULL},
    {"queue", "stall_timeout", BBT_CFG_DURATION, "10s", SEC(1), MINUTES(10),
     F(queue.stall_timeout_ms), NULL,
     "观看者在此时间内一点数据也没有读取则断开。\nA viewer that reads nothing for this long is "
     "closed.", NULL},
    {"queue", "flush_interval", BBT_CFG_DURATION, "40ms", 0, 100, F(queue.flush_interval_ms), NULL,
     "向同一观看者两次写出之间间隔的上限。期间到达的帧合并为一次发送，观看者多时大幅节省 CPU。"
     "实际间隔为 观看者数 ÷ write_rate（观看者少时几乎为零，不增加延迟），但不超过此值。"
     "0 表示每帧都立即发送。\n"
     "Most time between two writes to one viewer. Frames arriving meanwhile go out in one send, "
     "which saves most of the relay's CPU with many viewers. The interval used is viewers / "
     "write_rate (next to nothing with few viewers: no added latency), at most this. 0 sends "
     "every frame at once.", NULL},
    {"queue", "write_rate", BBT_CFG_INT, "50000", 1000, 10000000, F(queue.write_rate), NULL,
     "整个中继每秒写出次数的目标，用于按观看者人数计算合并发送的间隔（见 flush_interval）。\n"
     "Relay-wide writes per second the batching aims at: the flush interval is viewers / this "
     "(see flush_interval).", NULL},

    {"publisher", "idle_timeout", BBT_CFG_DURATION, "5s", SEC(1), MINUTES(5),
     F(publisher.idle_timeout_ms), NULL,
     "推流端静默超过此时间视为已离开，可被新的推流端替换。\n"
     "A publisher silent this long is considered gone and may be replaced.", NULL},
    {"publisher", "gop_cache_bytes", BBT_CFG_SIZE, "4M", 0, MIB(64), F(publisher.gop_cache_bytes),
     NULL, "每路视频缓存自上一个关键帧以来的帧，新观看者可立即出画面；0 表示不缓存。\n"
           "Per video track, frames since the last keyframe, so a new viewer sees a picture at "
           "once; 0: no cache.", NULL},

    {"adapt", "enabled", BBT_CFG_BOOL, "true", 0, 0, F(adapt.enabled), NULL,
     "按每个观看者的网络状况自动选择画质。\nChoose a quality layer per viewer from its link.",
     NULL},
    {"adapt", "safety", BBT_CFG_DOUBLE, "0.8", BBT_CFG_MICRO(0.1), BBT_CFG_MICRO(1.0),
     F(adapt.safety), NULL,
     "一个画质层最多可占用实测吞吐量的比例。\nFraction of a viewer's measured throughput a "
     "layer may use.", NULL},
    {"adapt", "upswitch_hold", BBT_CFG_DURATION, "5s", SEC(1), MINUTES(5), F(adapt.upswitch_hold_ms),
     NULL, "更高画质须持续可承载这么久才切换上去。\nA higher layer must fit this long before "
           "switching up.", NULL},
    {"adapt", "downswitch_delay", BBT_CFG_DURATION, "300ms", 0, SEC(10),
     F(adapt.downswitch_delay_ms), NULL,
     "拥塞持续这么久就切换到较低画质（远距离丢包线路上不等：排队一超过 90 毫秒即切换）。\n"
     "A congested viewer switches down after this (not on a far lossy link: there 90 ms of "
     "queue switches down at once).", NULL},
    {"adapt", "padding_probes", BBT_CFG_BOOL, "true", 0, 0, F(adapt.padding_probes), NULL,
     "试探更高画质时先发送填充数据（不换画面），线路承载得住再切换；只对声明可接收填充的观看端。\n"
     "Probe a higher layer with padding first (the picture stays), switch once the link carries "
     "it; only for viewers that accept padding.", NULL},
    {"adapt", "fall_hold", BBT_CFG_DURATION, "30s", 0, MINUTES(10), F(adapt.fall_hold_ms), NULL,
     "线路突然变差后，这段时间内不升回更高画质；线路反复起落时自动延长；0 表示不限制。\n"
     "After the link falls, a viewer stays at most at the layer it fell to this long, renewed "
     "while the link keeps swinging; 0: off.", NULL},
    {"adapt", "lossy_far_rtt", BBT_CFG_DURATION, "100ms", 0, SEC(10), F(adapt.lossy_far_rtt_ms),
     NULL,
     "往返时延不低于此值、又丢包的线路，画面最高只到最低摄像画质，把线路留给声音和声音副本；"
     "往返时延不低于此值的线路，主连接按当前画质码率的 4 倍限速发送，关键帧不再堵住声音；"
     "0 表示都不启用。\nOn a link whose round trip is at least this and that loses packets, the "
     "picture goes no higher than the lowest camera layer, leaving the line to the sound and its "
     "copies; on any link whose round trip is at least this, the main connection is paced at 4 "
     "times its layer's rate, so that a keyframe no longer holds up the sound; 0: neither.", NULL},
    {"adapt", "start_bitrate", BBT_CFG_INT, "200000", 0, 50000000, F(adapt.start_bitrate), NULL,
     "新观看者从不超过此码率（bit/s）的最高摄像画质开始，再按网络升降；0 表示从最高画质开始。\n"
     "A new viewer starts on the best camera layer within this bitrate (bit/s), then adapts; "
     "0: start on the best layer.", NULL},

    {"schedule", "enabled", BBT_CFG_BOOL, "true", 0, 0, F(schedule.enabled), NULL,
     "按县课表自动开课：推送课表、通知主讲端开始和结束、记录出勤。\n"
     "Run the county timetable: push plans, tell sources to start and stop, record "
     "attendance.", NULL},
    {"schedule", "database", BBT_CFG_PATH, "", 0, 4095, F(schedule.database), NULL,
     "课表数据库文件（SQLite）；为空则为 state_dir/schedule.db。\n"
     "Timetable database (SQLite); empty: state_dir/schedule.db.", NULL},
    {"schedule", "timezone", BBT_CFG_STRING, "Asia/Shanghai", 1, 39, F(schedule.timezone), NULL,
     "本县所在时区（新建教室的默认时区，“今天”按此计算）。\n"
     "The county's time zone (default of new classrooms; what \"today\" means).", NULL},
    {"schedule", "lead", BBT_CFG_DURATION, "2m", 0, MINUTES(60), F(schedule.lead_ms), NULL,
     "上课前多久通知主讲端开始采集。\nHow long before a period the source is told to start "
     "capture.", NULL},
    {"schedule", "stop_delay", BBT_CFG_DURATION, "0", 0, MINUTES(60), F(schedule.stop_delay_ms),
     NULL, "下课后多久通知主讲端停止。\nHow long after a period the source is told to stop.",
     NULL},
    {"schedule", "attendance_flush", BBT_CFG_DURATION, "30s", SEC(1), MINUTES(10),
     F(schedule.attendance_flush_ms), NULL,
     "出勤记录至少每隔这么久写入数据库一次。\nAttendance is written to the database at least "
     "this often.", NULL},
    {"schedule", "clock_offset", BBT_CFG_INT, "0", -315360000, 315360000,
     F(schedule.clock_offset_s), NULL,
     "课表时钟比系统时间快（正）或慢（负）的秒数，用于演示和测试。\n"
     "Seconds the timetable's clock runs ahead (or, negative, behind) the system clock: demos "
     "and tests.", NULL},
    {"schedule", "time_scale", BBT_CFG_DOUBLE, "1", BBT_CFG_MICRO(0.0), BBT_CFG_MICRO(3600.0),
     F(schedule.time_scale), NULL,
     "课表时钟的速度（60 表示一分钟走一小时），仅用于测试。\n"
     "Speed of the timetable's clock (60: an hour per minute), for tests only.", NULL},
    {"schedule", "test_clock", BBT_CFG_BOOL, "false", 0, 0, F(schedule.test_clock), NULL,
     "允许管理端用 clock 消息设置课表时钟（仅限测试，正式部署必须为 false）。\n"
     "Let operators set the timetable's clock with the clock message (tests only; false in "
     "production).", NULL},
    {"schedule", "max_import_bytes", BBT_CFG_SIZE, "16M", KIB(64), MIB(256),
     F(schedule.max_import_bytes), NULL,
     "导入课表 CSV 文件的最大长度。\nLargest timetable CSV file to import.", NULL},

    {"auth", "required", BBT_CFG_BOOL, "true", 0, 0, F(auth.required), NULL,
     "每个连接都必须在 hello 中出示有效令牌；false 为实验室模式（信任客户端自称的角色，"
     "仅可与 allow_insecure = true 同用）。\n"
     "Every client must present a valid token in hello; false is lab mode (the stated role is "
     "trusted; only accepted with allow_insecure = true).", NULL},
    {"auth", "secret_file", BBT_CFG_PATH, "", 0, 4095, F(auth.secret_file), NULL,
     "令牌签名密钥文件（64 个十六进制字符，权限 0600），不存在时自动生成；为空则为 "
     "state_dir/secret。\n"
     "Token signing secret (64 hex characters, mode 0600), created when missing; empty: "
     "state_dir/secret.", NULL},
    {"auth", "leeway", BBT_CFG_DURATION, "60s", 0, MINUTES(10), F(auth.leeway_ms), NULL,
     "检查令牌有效期时允许的时钟误差。\nClock skew allowed when checking a token's expiry.",
     NULL},
    {"auth", "fail_limit", BBT_CFG_INT, "10", 1, 100000, F(auth.fail_limit), NULL,
     "同一地址每分钟认证失败达到此次数后，暂时拒绝该地址的连接。\n"
     "Authentication failures per address per minute before that address is refused for a "
     "while (back-off).", NULL},
    {"auth", "backoff", BBT_CFG_DURATION, "60s", SEC(1), MINUTES(60), F(auth.backoff_ms), NULL,
     "认证失败过多的地址被拒绝连接的时长。\n"
     "How long an address with too many authentication failures is refused.", NULL},
};

const size_t bbt_relay_directives_count = sizeof bbt_relay_directives / sizeof bbt_relay_directives[0];

int bbt_relay_config_load(const char *path, bbt_relay_config *cfg, char *err, size_t errlen)
{
    if (!cfg)
        return BBT_EINVAL;
    memset(cfg, 0, sizeof *cfg);
    if (!path)
        return bbt_config_load_buffer("defaults", "", 0, bbt_relay_directives,
                                      bbt_relay_directives_count, cfg, err, errlen);
    return bbt_config_load_file(path, bbt_relay_directives, bbt_relay_directives_count, cfg, err,
                                errlen);
}

static int check_fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return BBT_ECONFIG_VALUE;
}

int bbt_relay_config_check(const bbt_relay_config *cfg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !cfg->relay.tls_cert || !cfg->relay.tls_key)
        return BBT_EINVAL;
    bool cert = cfg->relay.tls_cert[0] != '\0', key = cfg->relay.tls_key[0] != '\0';
    if (!cert && !key && !cfg->relay.allow_insecure)
        return check_fail(err, errlen,
                          "[relay] tls_cert is empty and allow_insecure = false: refusing to start "
                          "without TLS. Set tls_cert and tls_key, or allow_insecure = true for a "
                          "test set-up (没有配置 TLS 证书：请设置 tls_cert 和 tls_key)");
    if (!cfg->auth.required && !cfg->relay.allow_insecure)
        return check_fail(err, errlen,
                          "[auth] required = false (lab mode) needs [relay] allow_insecure = true "
                          "(实验室模式只能用于测试环境)");
    if (cert && !key)
        return check_fail(err, errlen,
                          "[relay] tls_key is empty: tls_cert needs its private key");
    if (key && !cert)
        return check_fail(err, errlen, "[relay] tls_cert is empty: tls_key needs its certificate");
    if (cfg->queue.max_bytes < cfg->limits.max_frame_bytes) {
        if (err && errlen)
            snprintf(err, errlen,
                     "[queue] max_bytes (%lld) is smaller than [limits] max_frame_bytes (%lld): a "
                     "viewer's queue must hold at least one frame",
                     (long long)cfg->queue.max_bytes, (long long)cfg->limits.max_frame_bytes);
        return BBT_ECONFIG_VALUE;
    }
    return BBT_OK;
}

void bbt_relay_config_free(bbt_relay_config *cfg)
{
    bbt_config_free(bbt_relay_directives, bbt_relay_directives_count, cfg);
}
