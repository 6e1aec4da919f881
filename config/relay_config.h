/* config/relay_config.h — the configuration of bbt-relay (relay.ini).
 *
 * Every key, its default, range and meaning is one entry of bbt_relay_directives
 * (config/relay_config.c); config/relay.example.ini and docs/CONFIG.md document them and the
 * tests keep all three in step. Durations are in milliseconds (fields ending in _ms), sizes in
 * bytes. The strings are owned by the struct: release them with bbt_relay_config_free().
 *
 * Typical start-up:
 *     bbt_relay_config cfg;
 *     if (bbt_relay_config_load(path, &cfg, err, sizeof err) != BBT_OK)    -> print err, exit
 *     for each --set argument: bbt_config_set_arg(bbt_relay_directives,
 *                                                 bbt_relay_directives_count, &cfg, arg, ...)
 *     if (bbt_relay_config_check(&cfg, err, sizeof err) != BBT_OK)         -> print err, exit
 */
#ifndef BBT_CONFIG_RELAY_CONFIG_H
#define BBT_CONFIG_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/directives.h"

typedef struct bbt_relay_config {
    struct {
        char *listen;        /* address to bind, "0.0.0.0" or "::" for all */
        int64_t port;        /* 1..65535 */
        char *web_root;      /* the player and dashboard pages */
        char *state_dir;     /* schedule database, recordings */
        char *tls_cert;      /* PEM certificate (chain); "" = no TLS */
        char *tls_key;       /* PEM private key of tls_cert */
        char *tls_ca;        /* CA bundle for relay-to-relay links; "" = system store */
        bool allow_insecure; /* plain ws:// and http:// allowed when there is no certificate */
        int log_level;       /* BBT_CFG_LOG_* */
        char *server_name;   /* shown in the pages, e.g. "某某县教育局" */
    } relay;
    struct {
        int64_t max_viewers;
        int64_t max_connections_per_ip;
        int64_t max_message_bytes; /* one control (text) message */
        int64_t max_json_depth;
        int64_t max_frame_bytes;   /* one media frame payload */
        int64_t auth_timeout_ms;   /* hello/auth must arrive within this */
        int64_t max_sessions;
    } limits;
    struct {
        int64_t max_delay_ms;     /* a viewer queue's bound, in media time */
        int64_t max_bytes;        /* ... and in bytes */
        int64_t stall_timeout_ms; /* a viewer that reads nothing this long is closed */
        int64_t flush_interval_ms; /* most time between two writes to one viewer (batching) */
        int64_t write_rate;        /* relay-wide writes per second the interval aims at */
    } queue;
    struct {
        int64_t idle_timeout_ms; /* a silent publisher is gone after this, and replaceable */
        int64_t gop_cache_bytes; /* per video track; 0 = no cache */
    } publisher;
    struct {
        bool enabled;                /* per-viewer layer choice */
        double safety;               /* fraction of the measured throughput a layer may use */
        int64_t upswitch_hold_ms;    /* a layer must fit this long before switching up */
        int64_t downswitch_delay_ms; /* a congested viewer switches down after this */
        int64_t start_bitrate;       /* a new viewer starts within this (bit/s), 0: best */
        bool padding_probes;         /* probe a layer with padding first (PROTOCOL.md §2.6) */
        int64_t fall_hold_ms;        /* after a fall, no move above its layer this long */
        int64_t lossy_far_rtt_ms;    /* a lossy link this far: at most the lowest camera
                                      * layer (relay/adapt.h "ceiling"); 0: off */
    } adapt;
    struct {
        bool enabled;                /* the county timetable (relay/schedule) */
        char *database;              /* "" = state_dir/schedule.db */
        char *timezone;              /* the county's zone (day lists, new classrooms) */
        int64_t lead_ms;             /* a source starts capture this long before a period */
        int64_t stop_delay_ms;       /* ... and stops this long after it */
        int64_t attendance_flush_ms; /* attendance is written at least this often */
        int64_t clock_offset_s;      /* scheduler clock = wall clock + this (demos, tests) */
        double time_scale;           /* scheduler seconds per real second (tests: 60) */
        bool test_clock;             /* accept the operator message `clock` (tests only) */
        int64_t max_import_bytes;    /* largest timetable upload */
    } schedule;
    struct {
        bool required;               /* every client presents a valid token (false: lab) */
        char *secret_file;           /* signing secret; "" = state_dir/secret */
        int64_t leeway_ms;           /* clock skew allowed on a token's expiry */
        int64_t fail_limit;          /* auth failures per address per minute before back-off */
        int64_t backoff_ms;          /* how long such an address is refused */
    } auth;
} bbt_relay_config;

extern const bbt_directive bbt_relay_directives[];
extern const size_t bbt_relay_directives_count;

/* Loads `path` over the defaults (path NULL: the defaults only). Whatever cfg held before is
 * ignored. Returns BBT_OK or a code of bbt_config_load_file() with err saying where and why;
 * on failure cfg holds no memory (bbt_relay_config_free() on it is harmless). */
int bbt_relay_config_load(const char *path, bbt_relay_config *cfg, char *err, size_t errlen);

/* The rules that involve several keys, for after the last --set: a relay without a TLS
 * certificate refuses to start unless allow_insecure = true; a certificate needs its key (and
 * the other way round); a viewer queue holds at least one frame of max_frame_bytes; lab mode
 * ([auth] required = false) only together with allow_insecure = true.
 * BBT_OK or BBT_ECONFIG_VALUE with a message naming the keys. */
int bbt_relay_config_check(const bbt_relay_config *cfg, char *err, size_t errlen);

void bbt_relay_config_free(bbt_relay_config *cfg);

#endif
