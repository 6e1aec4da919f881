/* tests/bench/rural_internal.h — what the parts of `bbt-bench rural` share (rural.c: runs,
 * threads, options; rural_viewer.c: the viewer's hooks and the audio copy; rural_net.c:
 * commands, namespace, veth, tbf, bbt-linkemu; rural_relay.c: the relay, its /metrics and its
 * log). Internal to the bench; see rural.c for the whole. */
#ifndef BBT_BENCH_RURAL_INTERNAL_H
#define BBT_BENCH_RURAL_INTERNAL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "profiles.h"
#include "proto/reasm.h"
#include "proto/status.h"
#include "rural_stats.h"

#ifndef BBT_BENCH_DEFAULT_STREAM
#define BBT_BENCH_DEFAULT_STREAM "bench/stream.bbtrec"
#endif
#ifndef BBT_BENCH_PROFILES
#define BBT_BENCH_PROFILES "tests/bench/rural-profiles.ini"
#endif

#define SKIP 77
#define MAX_EXPECT 16
#define MAX_CHANGES 128
#define NS_PREFIX "bbt-rural-"

extern char **environ;

typedef struct expect {
    char name[48];
    bool le;  /* NAME<=V, else NAME>=V */
    double v;
} expect;

/* Audio copies a viewer may have (--audio-copies); the player has AudioCopies' COPIES = 2. */
#define RURAL_MAX_COPIES 3

typedef struct rural_opts {
    const char *profiles_path, *only, *relay_bin, *linkemu_bin, *stream_path;
    double seconds;          /* 0: each profile's duration */
    int adapt;               /* 1 on, 0 off, 2 both */
    int audio_copies;        /* viewer connections subscribed to a copy of the audio */
    bool keep, timeline, answer_keys, trace;
    bool padding;            /* the viewer subscribes with "padding": true (padding probes) */
    uint64_t seed;
    expect ex[MAX_EXPECT];
    int nex;
} rural_opts;

typedef struct tl_row {
    int32_t t_ms, kbit, layer;
    float p95_ms, kbps, buffer_ms;
} tl_row;

typedef struct rural_net {
    char ns[48], hif[16], nif[16], hip[16], nip[16];
    bool made;
    int nsfd;
    pid_t linkemu;
    char linkemu_log[400];
} rural_net;

typedef struct rural_run {
    const rural_opts *o;
    const rural_profile *prof;
    bool adapt;
    int64_t dur_ms;
    char dir[256];
    rural_net net;
    pid_t relay;
    int port;
    bench pub, view;
    pthread_t pub_th, view_th;
    bool pub_started, view_started;
    volatile int stop;
    atomic_int pub_state, view_state; /* 0 starting, 1 ready, -1 failed */
    int view_errno;
    int64_t t0;
    pthread_mutex_t mu;
    rural_stats rs;
    bbt_reasm *reasm;        /* the viewer's fragments (docs/PROTOCOL.md §2.5), lengths only */
    bool audio_seen;         /* an audio frame was taken (audio_last: its seq) */
    uint32_t audio_last;
    uint64_t audio_from_copy; /* audio frames that arrived first on a copy connection */
    int relay_lossy_far;     /* the relay's bbt_viewer_lossy_far at the end (-1: not read) */
    double relay_pacing_kbps; /* its bbt_viewer_pacing_bps at the end, kbit/s (NAN: not read) */
    uint64_t audio_dup;      /* audio frames that had already come on another connection */
    uint64_t audio_copy_ahead; /* copy frames ahead of the sequence before it joined */
    bool copy_joined;        /* the copy's frames have met the sequence taken */
    int64_t copy_ahead_since; /* run time its first frame was set aside, µs (-1: none) */
    int64_t audio_lat_min;   /* lowest audio latency on the main connection, µs (-1: none) */
    bool copy_on;            /* the copies are (to be) subscribed: the player's rule */
    uint32_t copy_subscribes, copy_unsubscribes;
    int64_t copy_first_t;    /* run time of the first copy subscription, µs (-1: none) */
    int64_t copy_saturated_since, copy_not_before, copy_backoff; /* µs, run time */
    int64_t lossy_t;         /* run time of the first pong with retransmissions (-1: none) */
    int64_t copy_early_until; /* an early copy is on until then unless lossy (0: none), µs */
    uint32_t copy_early, copy_early_dropped; /* early copies subscribed / ended for no loss */
    uint32_t copy_no_room;   /* copy subscriptions the relay refused: no room on the link */
    /* the copies after the first (viewers 2..): each refused on its own when the link has room
     * for fewer copies, then off for a back-off of its own (AudioCopies in relay/web) */
    int copies_wanted;       /* copies the rule wants while on: 1, and one more each time the
                              * sound breaks with them (AudioCopyRule.taken); it stays */
    int64_t copy_on_since, last_taken_t; /* µs, run time (-1: none) */
    int64_t copy_more_t;     /* run time the rule first wanted a second copy, µs (-1: never) */
    bool extra_off[RURAL_MAX_COPIES];
    int64_t extra_not_before[RURAL_MAX_COPIES], extra_backoff[RURAL_MAX_COPIES]; /* µs */
    int64_t main_capture_us; /* capture time of the main connection's newest audio (0: none) */
    uint64_t frag_errors;    /* assemblies discarded */
    bool closed;             /* the measured interval is over: hooks ignore what comes */
    int64_t link_kbit;
    int announced;           /* the layer of the relay's last `state` (-2: none yet) */
    uint32_t announced_changes;
    tl_row *tl;
    size_t ntl, captl;
    uint64_t tl_bytes;
    int64_t tl_t;
    int64_t t0_wall;         /* wall clock at t0, µs: to place the relay's log lines */
    FILE *trace;             /* --trace: one line per frame and per `state` */
} rural_run;


/* Progress on stderr, prefixed "bbt-bench rural: ". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Microseconds since the run's start. */
int64_t run_t(const rural_run *r);

/* rural_viewer.c: the viewer's hooks (bench.h on_frame, on_state, on_pong, on_error, on_welcome,
 * make_report). The copy's first back-off (run_one sets it; it doubles up to 240 s). */
#define COPY_BACKOFF_US 30000000
bool rural_on_frame(bench *b, viewer *v, const bbt_frame *msg, size_t msg_len);
void rural_on_state(bench *b, viewer *v, json_t *m);
void rural_on_pong(bench *b, viewer *v, json_t *m);
bool rural_on_error(bench *b, viewer *v, json_t *m);
void rural_on_welcome(bench *b, viewer *v);
int rural_make_report(bench *b, viewer *v, char *buf, size_t cap);

/* rural_net.c */
int run_cmd(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *first_line(char *s);
void net_names(rural_net *n);
void net_down(rural_net *n);
void remove_stale(void);
int net_up(rural_run *r, bool first);
int net_set_rate(rural_run *r, int64_t kbit);

/* rural_relay.c */
int relay_up(rural_run *r);
void trace_relay(rural_run *r);
json_t *relay_metrics(rural_run *r);
json_t *relay_decisions(const rural_run *r);

/* rural_json.c */
json_t *tbf_stats(const rural_net *n);
json_t *run_json(rural_run *r, const rs_summary *s, int64_t t_end);
int parse_expect(const char *s, expect *e);
int check_expect(const rural_run *r, const rs_summary *s);
/* The document of all runs on stdout: the machine's load and TCP congestion control, then one
 * run per line. */
void print_document(const rural_opts *o, json_t *runs);

#endif
