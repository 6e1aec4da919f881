/* tests/bench/bench.h — bbt-bench internals shared by its source files (not a public API).
 *
 * One thread, one lws client context, every connection on it: a synthetic publisher
 * (publisher.c) replays a recording in real time in a loop, N viewers (viewers.c) subscribe and
 * check every frame's sequence number and latency; bench_main.c drives the phases (spawn relay,
 * publish, ramp viewers, measure, drain, report) and procstat.c reads /proc and runs the relay.
 *
 * Ownership: struct bench owns everything (recording, viewers array, histogram, lws context);
 * the lws connections carry pointers into it as user data (lws never frees them). No global
 * state: callbacks find the bench through lws_context_user().
 */
#ifndef BBT_BENCH_H
#define BBT_BENCH_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"
#include "stream.h"

#ifdef BBT_BENCH_HAVE_LIBEV
#define BENCH_HAVE_EV true
#else
#define BENCH_HAVE_EV false
#endif
struct ev_loop;

#define BENCH_MAX_RSS_SAMPLES 1024
#define BENCH_TICK_US 10000

typedef struct bench_opts {
    const char *mode;        /* "fanout" | "idle" */
    const char *relay_url;   /* ws://host:port/path (NULL with --spawn-relay) */
    int viewers;
    double seconds;          /* measured interval (idle: soak length, 0 = none) */
    int layer;               /* video track id the viewers pin, -1: "auto" (the relay picks) */
    const char *session;
    const char *stream_path;
    bool spawn_relay;
    const char *relay_bin;
    const char *relay_cmd;   /* --relay-cmd: spawn this instead of bbt-relay */
    pid_t relay_pid;         /* --relay-pid, or the spawned relay */
    bool json;
    bool allow_loss;
    bool raw_client;         /* viewers use wsraw.c instead of the lws ws client */
    bool use_ev;             /* libev (epoll) loop instead of lws's poll() */
    int ramp_batch;          /* viewers connected per ramp step */
    int ramp_interval_ms;
    int report_ms;           /* viewer report interval, 0 = no reports */
    int ping_ms;             /* viewer `ping` interval (the first 1 s after opening), 0: none */
    int relay_cpu, bench_cpu; /* CPU to pin to, -1 = leave alone */
    const char *token;
    int rss_interval_s;
    double drain_seconds;
    double connect_timeout_s;
    bool answer_keyframes;   /* the publisher answers keyframe requests (as bbt-node does) */
    bool fragments;          /* viewers subscribe with "fragments": true (rural only; the
                                on_frame hook then reassembles, docs/PROTOCOL.md §2.5) */
    bool padding;            /* the main subscription says "padding": true (rural only):
                                padding messages (§2.6) count as bytes, are not decoded */
    const char *classroom;   /* every viewer's hello names this classroom (rural: a main
                                connection and its audio copies are one classroom, as a
                                player's are); NULL: bench-viewer-N each */
} bench_opts;

enum viewer_state { V_IDLE, V_CONNECTING, V_HELLO, V_SUBSCRIBING, V_SUBSCRIBED, V_CLOSED,
                    V_WELCOMED /* welcomed, not subscribed (viewer_subscribe(v, false)) */ };

/* The minimal WebSocket client of --client raw (wsraw.c). */
enum wsraw_state { WSRAW_NONE, WSRAW_HANDSHAKE, WSRAW_OPEN };
typedef struct wsraw {
    enum wsraw_state state;
    char accept[32];         /* the Sec-WebSocket-Accept we expect */
    char *hs;                /* handshake response so far (freed once complete) */
    size_t hs_len;
    uint8_t fh[14], fh_len;  /* frame header being collected */
    bool in_payload, fin, msg_first;
    uint8_t opcode, msg_op;
    uint64_t remaining;      /* payload bytes left in the current frame */
    uint8_t ctl[125], ctl_len; /* control frame payload (ping, close) */
} wsraw;

/* Pending text messages of one connection (bit mask). */
enum {
    SEND_HELLO = 1, SEND_SUBSCRIBE = 2, SEND_REPORT = 4, SEND_PUBLISH = 8, SEND_UPGRADE = 16,
    SEND_UNSUBSCRIBE = 32, SEND_PING = 64
};

typedef struct viewer {
    struct bench *b;
    struct lws *wsi;
    int idx;
    enum viewer_state state;
    bool failed;             /* connect or handshake failure (before subscribed) */
    bool dropped;            /* closed after it had subscribed */
    unsigned pending;
    int64_t next_report_us;
    int64_t next_ping_us;    /* 0: not open yet */
    int64_t opened_us;       /* when the connection opened */
    int64_t hello_us;        /* when its hello went out */
    int64_t hello_rtt_us;    /* the welcome's rtt_us, else hello → welcome (0: not welcomed) */
    /* receive state of the current message */
    bool in_msg, msg_binary;
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    uint8_t hdr_len;
    size_t msg_len;
    char *text;              /* text message being reassembled (freed after each message) */
    size_t text_len;
    /* per-track sequence check */
    uint32_t started;        /* bit t: baseline set on track t */
    uint32_t base_seq[BBT_FRAME_MAX_TRACKS], next_seq[BBT_FRAME_MAX_TRACKS];
    uint64_t got[BBT_FRAME_MAX_TRACKS];
    uint64_t lost, out_of_order, before_key, bytes, frames;
    wsraw ws;                /* --client raw only */
    bool audio_copy;         /* subscribes with "audio_copy": true (rural's second audio path) */
    bool unwanted;           /* viewer_subscribe(v, false): stay welcomed, not subscribed */
    bool counted;            /* counted in c.connected (once, whatever its resubscriptions) */
} viewer;

typedef struct publisher {
    struct bench *b;
    struct lws *wsi;
    bool welcomed, published, sending, failed, closed;
    unsigned pending;
    size_t pos;              /* next frame of the recording */
    uint64_t loops;
    int64_t start_us;        /* monotonic time of recording time 0 of loop 0 */
    int64_t loop_us;         /* length of one loop */
    uint32_t seq[BBT_FRAME_MAX_TRACKS]; /* next seq per track */
    uint32_t sent_mask;      /* tracks with at least one frame sent */
    uint64_t frames_sent, bytes_sent, keyframe_requests, late_frames;
    uint32_t key_wanted;     /* tracks whose keyframe request is to be answered */
    uint64_t keyframes_forced;
    char *text;              /* text message being reassembled */
    size_t text_len;
    uint8_t *buf;            /* LWS_PRE + largest frame */
    size_t bufcap;
    lws_sorted_usec_list_t sul;
} publisher;

typedef struct bench_counters {
    int connected;           /* viewers subscribed */
    int failed;              /* connect/handshake failures */
    int dropped;             /* closed after subscribing */
    int closed;              /* CLOSED callbacks seen */
    uint64_t errors;         /* error messages received by viewers */
    uint64_t bad_frames;     /* binary messages that did not decode */
    uint64_t unexpected;     /* frames on a track the viewer did not subscribe to */
} bench_counters;

typedef struct bench {
    bench_opts o;
    struct lws_context *ctx;
    char host[128], path[256];
    int port;
    bool tls;
    bbt_recording rec;
    uint32_t want_tracks;    /* tracks a viewer should receive */
    publisher pub;
    viewer *v;
    int next_connect;
    bench_counters c;
    bench_hist *lat;
    bool measuring, closing;
    uint64_t bytes_measured;
    lws_sorted_usec_list_t sul_tick;
    bool ramping;
    int64_t next_ramp_us;
    struct lws_protocols protocols[4];
    uint64_t rng;            /* xorshift state: WebSocket masks and keys */
    struct ev_loop *evloop;  /* --loop ev: the libev loop lws runs on (owned) */
    char tmpdir[256];
    /* `bbt-bench rural` (rural.c) watches its viewer through these; NULL otherwise */
    /* every message (len: all its bytes); false: a fragment, not a whole frame yet, which the
     * viewer's own checks (seq, latency) then skip */
    bool (*on_frame)(struct bench *b, viewer *v, const bbt_frame *f, size_t len);
    void (*on_state)(struct bench *b, viewer *v, json_t *msg);
    void (*on_pong)(struct bench *b, viewer *v, json_t *msg);
    /* the relay's `error`: true when expected (not counted as an error) */
    bool (*on_error)(struct bench *b, viewer *v, json_t *msg);
    void (*on_welcome)(struct bench *b, viewer *v); /* after the welcome, subscribe queued */
    int (*make_report)(struct bench *b, viewer *v, char *buf, size_t cap); /* text length */
    void *hook_ud;
    volatile int *stop;      /* bench_run_for() returns once *stop is non-zero (may be NULL) */
} bench;

/* bench_main.c: the lws context of b (protocols, loop, the 10 ms tick), and serving it for
 * `seconds` or until done(b) or *b->stop. */
typedef bool (*bench_pred)(const struct bench *b);
int bench_create_context(bench *b);
void bench_destroy_context(bench *b); /* closes every connection; b->closing set */
void bench_run_for(bench *b, double seconds, bench_pred done);

/* rural.c: `bbt-bench rural` (its own options; argv[1] is "rural"). Returns the exit status. */
int rural_main(int argc, char **argv);

/* Clocks, µs. */
int64_t bench_mono_us(void);
int64_t bench_wall_us(void);

/* publisher.c: shared text helpers. Append to a growing NUL-terminated buffer (at most max
 * bytes: BBT_EMSG_TOO_BIG); write one text message (≤ 2 KiB); validate, serialise and write a
 * control message (consumes msg); a hello message (caller owns). */
int bench_text_append(char **buf, size_t *len, const void *in, size_t n, size_t max);
int bench_write_text(struct lws *wsi, const char *text, size_t len);
int bench_write_json(struct lws *wsi, bbt_msg_type type, json_t *msg);
/* Validate and serialise (consumes msg): a malloc'ed text, or NULL with a message on stderr. */
char *bench_json_text(bbt_msg_type type, json_t *msg, size_t *len);
json_t *bench_hello(const char *role, const char *classroom, const char *token);

/* publisher.c */
int publisher_connect(bench *b);
/* Stop sending (the end of the measured interval). */
void publisher_stop(bench *b);
int publisher_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);

/* viewers.c */
int viewer_connect(bench *b, viewer *v);
/* Subscribe (on) or unsubscribe (off) a viewer, connecting it first if it never was; from the
 * bench's own thread. An unsubscribed viewer keeps its connection, welcomed. */
int viewer_subscribe(bench *b, viewer *v, bool on);
/* Periodic work for every viewer (reports), at monotonic time now. */
void viewers_tick(bench *b, int64_t now);
/* True once every viewer has received the last frame the publisher sent on its tracks. */
bool viewers_caught_up(const bench *b);
int viewer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);
/* The same viewers on lws RAW connections with wsraw.c doing the WebSocket part. */
int viewer_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);
/* The connection is a WebSocket now: start the bbt.v1 exchange. */
void viewer_established(viewer *v);
/* A chunk of a received message (binary or text); first/final delimit the message. Returns 0,
 * or -1 to close the connection. */
int viewer_rx(viewer *v, bool binary, const uint8_t *in, size_t len, bool first, bool final);

/* wsraw.c */
int wsraw_send_upgrade(viewer *v);
int wsraw_rx(viewer *v, const uint8_t *in, size_t len);
int wsraw_write_text(viewer *v, const char *text, size_t len);
void wsraw_free(viewer *v);

/* procstat.c */
typedef struct proc_sample {
    double cpu_s;   /* utime + stime */
    long rss_kb;    /* VmRSS */
} proc_sample;
/* BBT_OK or BBT_EIO (no such process). */
int proc_sample_read(pid_t pid, proc_sample *out);
/* CPU time of the whole machine (all CPUs, /proc/stat), seconds: in tasks (user, nice,
 * system), in interrupts (irq, softirq: on loopback, much of the TCP receive path), and stolen
 * by the hypervisor; and, for CPU `core` (≥ 0), its busy time (everything but idle and iowait)
 * and its interrupt time. BBT_OK or BBT_EIO. */
typedef struct machine_sample {
    double task_s, irq_s, steal_s;
    double core_busy_s, core_irq_s;
} machine_sample;
int proc_machine_read(machine_sample *out, int core);
/* CPU time of this process (user + system), seconds. */
double proc_self_cpu(void);
/* Something listens on ip:port (IPv4 text): a TCP connect succeeds within 2 s. */
bool port_open_at(const char *ip, int port);
/* GET /metrics from the relay at ip:port (plain HTTP, 2 s timeouts): a malloc'ed
 * NUL-terminated text (the response's headers included) the caller frees, or NULL. */
char *relay_get_metrics(const char *ip, int port);
/* A free TCP port on 127.0.0.1, or -1. */
int free_port(void);
/* Start `bin` with a temporary configuration in dir (created) on 127.0.0.1:port — or, when
 * `cmd` is not NULL, `/bin/sh -c cmd` with PORT=port in its environment (use `exec` in cmd so
 * the pid is the server's) — pinned to cpu (-1: not pinned), output to dir/relay.log; wait until
 * it accepts connections. Returns its pid, or -1 with a message on stderr. */
pid_t relay_spawn(const char *bin, const char *cmd, const char *dir, int port, int cpu);
/* SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit status (waitpid) or -1. */
int relay_stop(pid_t pid);
/* Wait up to timeout_ms for child `pid` to end, then SIGKILL it. Returns the exit status
 * (waitpid) or -1. */
int child_wait(pid_t pid, int timeout_ms);
int pin_self(int cpu);

#endif
