/* config/node_config.h — the configuration of bbt-node (node.ini), and the quality ladder.
 *
 * Every key, its default, range and meaning is one entry of bbt_node_directives
 * (config/node_config.c); config/node.example.ini and docs/CONFIG.md document them and the
 * tests keep all three in step. Durations are in milliseconds (fields ending in _ms). The
 * strings are owned by the struct: release them with bbt_node_config_free().
 *
 * Start-up: bbt_node_config_load(), then any --set (bbt_config_set_arg with
 * bbt_node_directives), then bbt_node_config_check(); the pipeline reads [encode] ladder with
 * bbt_node_ladder_parse(), which cannot fail on a value that the loader accepted.
 */
#ifndef BBT_CONFIG_NODE_CONFIG_H
#define BBT_CONFIG_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/directives.h"

/* [capture] video, audio; [encode] encoder; [play] sink: indexes into the choices. */
enum { BBT_NODE_VIDEO_TEST, BBT_NODE_VIDEO_CAMERA, BBT_NODE_VIDEO_FILE, BBT_NODE_VIDEO_NONE };
enum { BBT_NODE_AUDIO_TEST, BBT_NODE_AUDIO_PULSE, BBT_NODE_AUDIO_ALSA, BBT_NODE_AUDIO_NONE };
enum { BBT_NODE_ENCODER_X264, BBT_NODE_ENCODER_OPENH264, BBT_NODE_ENCODER_VAAPI };
enum { BBT_NODE_SINK_AUTO, BBT_NODE_SINK_FAKE };

typedef struct bbt_node_config {
    struct {
        char *relay;      /* ws:// or wss:// URL of the relay's WebSocket */
        char *ca_file;    /* CA bundle to verify the relay; "" = system store */
        char *token;      /* signed token naming this classroom ("" = see token_file) */
        char *token_file; /* file holding the token (kept out of the config file) */
        char *classroom;  /* this classroom's id in the timetable */
        char *session;    /* a fixed session to publish or play; "" = follow the timetable */
        char *state_dir;  /* cached plan, logs */
        int log_level;    /* BBT_CFG_LOG_* */
    } node;
    struct {
        int video;            /* BBT_NODE_VIDEO_* */
        char *video_device;   /* camera device (video = camera) */
        int audio;            /* BBT_NODE_AUDIO_* */
        char *audio_device;   /* "" = the system default */
        bool screen;          /* also capture the screen as the courseware track */
        char *screen_display; /* X display of the screen */
        char *file;           /* media file (video = file) */
        bool file_loop;
        int64_t width, height, fps; /* capture format */
    } capture;
    struct {
        int encoder;                 /* BBT_NODE_ENCODER_* */
        char *ladder;                /* see bbt_node_ladder_parse() */
        int64_t keyframe_interval_ms;
        int64_t audio_bitrate;       /* Opus, bit/s */
        int64_t courseware_fps;
        int64_t courseware_bitrate;  /* kbit/s */
    } encode;
    struct {
        int64_t reconnect_min_ms; /* first retry after a lost connection */
        int64_t reconnect_max_ms; /* retries back off up to this */
        int64_t queue_max_delay_ms;
    } uplink;
    struct {
        bool fullscreen;
        int sink; /* BBT_NODE_SINK_* */
    } play;
} bbt_node_config;

extern const bbt_directive bbt_node_directives[];
extern const size_t bbt_node_directives_count;

/* Loads `path` over the defaults (path NULL: the defaults only); see bbt_relay_config_load. */
int bbt_node_config_load(const char *path, bbt_node_config *cfg, char *err, size_t errlen);

/* The rules that involve several keys: token and token_file not both set; video = file needs
 * [capture] file; reconnect_min <= reconnect_max; an even capture size; no ladder rung larger
 * than the capture size. BBT_OK or BBT_ECONFIG_VALUE with a message naming the keys. */
int bbt_node_config_check(const bbt_node_config *cfg, char *err, size_t errlen);

void bbt_node_config_free(bbt_node_config *cfg);

/* ---- the quality ladder ------------------------------------------------------------------
 * "1280x720@25:1200,640x360@25:450,320x180@15:120": comma-separated rungs
 * WIDTHxHEIGHT@FPS:KBITS (spaces around commas allowed), from the highest quality down: each
 * rung has a lower bit rate than the one before and is no larger. Width 16..3840 and height
 * 16..2160, both even (H.264 4:2:0); fps 1..60; 16..20000 kbit/s; 1..BBT_NODE_LADDER_MAX rungs. */
#define BBT_NODE_LADDER_MAX 4

typedef struct bbt_node_rung {
    int width, height, fps, kbps;
} bbt_node_rung;

/* Parses `text` into rungs[0..*count). BBT_OK, BBT_ECONFIG_VALUE with a message such as
 * `rung 2 "640x360@25": expected WIDTHxHEIGHT@FPS:KBITS, such as 640x360@25:450`, or
 * BBT_EINVAL (NULL arguments). rungs may hold up to `max` entries (<= BBT_NODE_LADDER_MAX is
 * enforced in any case). */
int bbt_node_ladder_parse(const char *text, bbt_node_rung *rungs, size_t max, size_t *count,
                          char *err, size_t errlen);

/* The ladder's bbt_cfg_check_fn: the loader names the file, line and key before its message. */
int bbt_node_ladder_check(const char *text, char *msg, size_t msglen);

/* The relay URL's bbt_cfg_check_fn: ws:// or wss://, a host, no spaces. */
int bbt_node_url_check(const char *text, char *msg, size_t msglen);

#endif
