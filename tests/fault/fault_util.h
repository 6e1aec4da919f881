/* tests/fault/fault_util.h — what the fault tests (tests/fault/test_*.c) share: a synthetic
 * publisher and measuring viewers on the lws test client (tests/support/wsclient.h), a viewer
 * that reconnects with the player's back-off, raw TCP/WebSocket sockets for hostile clients, and
 * /metrics readings. Everything runs on the test's one thread: fu_run() services the client
 * context, lets publishers send what is due and viewers take what arrived. Test-only; no global
 * state. */
#ifndef BBT_FAULT_UTIL_H
#define BBT_FAULT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "support/wsclient.h"

#define FU_TRACKS 2 /* synthetic lesson: track 0 video (25 fps), track 1 audio (50 fps) */

int64_t fu_wall_us(void);
int64_t fu_mono_us(void);

/* A publisher of `session` sending synthetic frames with capture_us = now: 25 fps video of
 * video_bytes (a keyframe each second), 50 fps audio of 120 bytes. */
typedef struct fu_pub {
    tc_conn *c;
    char session[64];
    size_t video_bytes;
    uint32_t seq[FU_TRACKS];
    int64_t next_us[FU_TRACKS];
    unsigned sent;
    bool closed;
} fu_pub;

/* hello (source) + publish; 0 once `published` arrived. */
int fu_pub_start(fu_pub *p, tc_ctx *t, int port, const char *session, size_t video_bytes);
/* Send the frames due now (no-op once closed). */
void fu_pub_tick(fu_pub *p);

/* A viewer of `session` that records what it receives. */
typedef struct fu_viewer {
    tc_conn *c;
    char session[64];
    unsigned frames, gaps;          /* frames received; sequence gaps (frames missed) */
    uint32_t last_seq[FU_TRACKS];
    bool have_seq[FU_TRACKS];
    int64_t first_frame_us, last_frame_us; /* monotonic */
    int64_t max_gap_us;             /* longest time between two frames (after the first) */
    double *lat_ms;                 /* arrival - capture, per frame (when recording) */
    size_t nlat, cap;
    bool record_latency;
    unsigned interrupted, live;     /* `state` messages with state interrupted / live */
    bool closed;
    int close_code;
} fu_viewer;

/* hello (receiver) + subscribe; 0 once `tracks` arrived. */
int fu_viewer_start(fu_viewer *v, tc_ctx *t, int port, const char *session);
/* Take everything that arrived (never blocks). */
void fu_viewer_drain(fu_viewer *v);
/* Forget the counters (not the connection), e.g. between two measurement phases. */
void fu_viewer_reset(fu_viewer *v);
void fu_viewer_free(fu_viewer *v);
/* The q-quantile (0..1) of the recorded latencies, -1 if none. */
double fu_viewer_quantile(const fu_viewer *v, double q);

/* A viewer that reconnects as the player does (relay/web/ws.js): after a close it waits a
 * random time in [ceiling/2, ceiling], ceiling = 500 ms * 2^attempt up to 15 s, then says hello
 * and subscribes again; the attempt count restarts after a connection that received media. */
typedef struct fu_rviewer {
    fu_viewer v;
    tc_ctx *t;
    int port;
    int attempt;
    int64_t retry_at_us;            /* monotonic; 0: connected */
    unsigned reconnects;
    unsigned rng;
} fu_rviewer;

void fu_rviewer_init(fu_rviewer *r, tc_ctx *t, int port, const char *session, unsigned seed);
/* Drain, and reconnect when due. */
void fu_rviewer_poll(fu_rviewer *r);

/* Service the context for ms, ticking publishers and draining viewers every ~2 ms. */
void fu_run(tc_ctx *t, fu_pub *const *pubs, size_t npubs, fu_viewer *const *views, size_t nviews,
            int ms);

/* /metrics of the relay on port: the value of `name_and_labels`, or -1. */
double fu_metric(int port, const char *name_and_labels);

/* Raw sockets on 127.0.0.1:port. fu_tcp_connect: a connected non-blocking socket, or -1. */
int fu_tcp_connect(int port);
/* The WebSocket upgrade request of a bbt.v1 client (for sending whole or a byte at a time). */
extern const char fu_ws_request[];
/* Send fu_ws_request and wait for "101": 0, or -1. The socket stays non-blocking. */
int fu_ws_handshake(int fd, int timeout_ms);

/* Reading server frames from a raw WebSocket socket without blocking. */
typedef struct fu_rawws {
    int fd;
    unsigned char buf[4096];
    size_t len;
    int close_code;     /* from the close frame; 0 none yet */
    bool eof;           /* the relay closed the TCP connection */
    int64_t closed_us;  /* monotonic time of the close frame or EOF */
    unsigned texts;     /* text messages (e.g. the error before the close) */
} fu_rawws;

/* Read what is there; returns true once closed (close frame or EOF). */
bool fu_rawws_poll(fu_rawws *w);

/* Raise RLIMIT_NOFILE to at least n (up to the hard limit): 0, or -1. */
int fu_raise_nofile(long n);

#endif
