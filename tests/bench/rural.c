/* tests/bench/rural.c — `bbt-bench rural`: one viewer behind an emulated rural link.
 *
 *   bbt-bench rural [--profiles FILE] [--profile NAME[,NAME…]] [--seconds T] [--adapt on|off|both]
 *                   [--expect NAME<=V|NAME>=V]… [--timeline] [--keep] [--seed S] [...]
 *
 * For each profile (tests/bench/rural-profiles.ini, profiles.h) and each adaptation setting:
 *
 *   1. a network namespace and a veth pair (names from our pid: bbt-rural-PID, bbtrPIDh/n), the
 *      host end 10.213.X.Y+1/30, the namespace end +2; `tc qdisc add … tbf` on the host end sets
 *      the rate (and the bottleneck's queue) towards the viewer; in the namespace,
 *      `iptables -t raw -A PREROUTING -i bbtrPIDn -j NFQUEUE --queue-bypass` and bbt-linkemu
 *      add the delay, jitter and loss (/work/shared/PLATFORM.md: at the receiving side);
 *   2. bbt-relay on the host end's address (adapt.enabled as asked; with adaptation off,
 *      adapt.start_bitrate = 0, so the viewer stays on the top layer);
 *   3. a publisher thread replaying the bench stream (720p/360p/180p + Opus, answering keyframe
 *      requests like bbt-node) over the host's own stack, unshaped;
 *   4. a viewer thread that entered the namespace (setns) before creating its sockets: it
 *      subscribes with "layer":"auto" and "fragments": true and reports once a second like the
 *      browser player (relay/web/stats.js); it reassembles fragments (proto/reasm.h, lengths
 *      only) and every whole frame, arrived when its last fragment did, and every `state` go
 *      into rural_stats.c, which defines the figures;
 *   5. the main thread applies the profile's rate steps with `tc qdisc change` on schedule,
 *      reads the relay's /metrics at the end, then stops everything and removes the namespace.
 *
 * The namespace, the veth pair, bbt-linkemu and the relay are removed on every path: normal
 * end, error, SIGINT/SIGTERM (handled: the run stops early and cleans up), exit(); namespaces
 * of an earlier bench that was killed with SIGKILL are removed at the next start.
 * Output: one JSON document on stdout (runs[]), progress on stderr. Exit 0; 1 when an
 * --expect failed; 2 for errors; 77 when the machine cannot emulate the link (not root, no
 * namespaces, no tbf, no NFQUEUE), with a message saying which.
 */
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

typedef struct rural_opts {
    const char *profiles_path, *only, *relay_bin, *linkemu_bin, *stream_path;
    double seconds;          /* 0: each profile's duration */
    int adapt;               /* 1 on, 0 off, 2 both */
    bool keep, timeline, answer_keys, trace;
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

static volatile sig_atomic_t g_signal;
static rural_run *g_run; /* for the exit-time cleanup */

static void on_signal(int sig) { g_signal = sig; }

static int64_t run_t(const rural_run *r) { return bench_mono_us() - r->t0; }

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bbt-bench rural: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- commands -------------------------------------------------------------------------------- */

/* Run `cmd` split at spaces (no shell, no quoting: our arguments have no spaces); stdout and
 * stderr into out (truncated). The exit status (0 = success), 127 when it cannot be started. */
static int run_cmd(char *out, size_t outlen, const char *fmt, ...)
{
    char line[1024], *argv[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    if (out && outlen)
        out[0] = '\0';
    int pfd[2];
    if (argc == 0 || pipe2(pfd, O_CLOEXEC) != 0)
        return 127;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        if (out && outlen)
            snprintf(out, outlen, "%s: %s", argv[0], strerror(rc));
        return 127;
    }
    size_t len = 0;
    char sink[512];
    for (;;) {
        char *dst = out && len + 1 < outlen ? out + len : sink;
        size_t room = out && len + 1 < outlen ? outlen - len - 1 : sizeof sink;
        ssize_t n = read(pfd[0], dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (dst != sink)
            len += (size_t)n;
    }
    if (out && outlen)
        out[len] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first line of a command's output, for messages. */
static const char *first_line(char *s)
{
    s[strcspn(s, "\n")] = '\0';
    return s;
}

/* ---- the network ----------------------------------------------------------------------------- */

static void tbf_args(char *buf, size_t len, int64_t kbit, int64_t buffer_ms)
{
    int64_t burst = kbit * 1000 / 8 / 50; /* 20 ms at the rate, at least two full packets */
    if (burst < 3028)
        burst = 3028;
    snprintf(buf, len, "tbf rate %lldkbit burst %lld latency %lldms", (long long)kbit,
             (long long)burst, (long long)buffer_ms);
}

static void net_names(rural_net *n)
{
    unsigned pid = (unsigned)getpid();
    snprintf(n->ns, sizeof n->ns, NS_PREFIX "%u", pid);
    snprintf(n->hif, sizeof n->hif, "bbtr%uh", pid % 10000000u);
    snprintf(n->nif, sizeof n->nif, "bbtr%un", pid % 10000000u);
    unsigned x = (pid >> 6) & 255u, y = (pid & 63u) * 4u;
    snprintf(n->hip, sizeof n->hip, "10.213.%u.%u", x, y + 1);
    snprintf(n->nip, sizeof n->nip, "10.213.%u.%u", x, y + 2);
    n->nsfd = -1;
    n->linkemu = -1;
}

static void net_down(rural_net *n)
{
    char out[256];
    if (n->linkemu > 0) {
        kill(n->linkemu, SIGTERM);
        child_wait(n->linkemu, 3000);
        n->linkemu = -1;
    }
    if (n->nsfd >= 0)
        close(n->nsfd);
    n->nsfd = -1;
    if (n->made) {
        if (run_cmd(out, sizeof out, "ip netns del %s", n->ns) != 0)
            say("could not remove namespace %s: %s", n->ns, first_line(out));
        /* the host end goes with its peer; make sure */
        run_cmd(NULL, 0, "ip link del %s", n->hif);
        n->made = false;
    }
}

/* Namespaces left by benches that are gone (killed with SIGKILL). */
static void remove_stale(void)
{
    DIR *d = opendir("/var/run/netns");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned pid;
        if (sscanf(e->d_name, NS_PREFIX "%u", &pid) != 1 || pid == (unsigned)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char out[256];
        say("removing namespace %s left by a bench that is gone", e->d_name);
        run_cmd(out, sizeof out, "ip netns del %s", e->d_name);
    }
    closedir(d);
}

/* Set up the namespace, the pair and the shaping. 0, SKIP (the machine cannot) or 2. */
static int net_up(rural_run *r, bool first)
{
    rural_net *n = &r->net;
    const rural_profile *p = r->prof;
    char out[1024], tbf[128];
    int fail = first ? SKIP : 2;
    if (run_cmd(out, sizeof out, "ip netns add %s", n->ns) != 0) {
        say("%s network namespaces: ip netns add: %s", fail == SKIP ? "SKIP: no" : "cannot create",
            first_line(out));
        return fail;
    }
    n->made = true;
    char path[128];
    snprintf(path, sizeof path, "/var/run/netns/%s", n->ns);
    n->nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (n->nsfd < 0) {
        say("cannot open %s: %s", path, strerror(errno));
        return 2;
    }
    if (run_cmd(out, sizeof out, "ip link add %s type veth peer name %s netns %s", n->hif, n->nif,
                n->ns) ||
        run_cmd(out, sizeof out, "ip addr add %s/30 dev %s", n->hip, n->hif) ||
        run_cmd(out, sizeof out, "ip link set %s up", n->hif) ||
        run_cmd(out, sizeof out, "ip -n %s addr add %s/30 dev %s", n->ns, n->nip, n->nif) ||
        run_cmd(out, sizeof out, "ip -n %s link set %s up", n->ns, n->nif) ||
        run_cmd(out, sizeof out, "ip -n %s link set lo up", n->ns)) {
        say("%sveth pair: %s", fail == SKIP ? "SKIP: cannot make a " : "cannot make the ",
            first_line(out));
        return fail;
    }
    tbf_args(tbf, sizeof tbf, p->rate_kbit, p->buffer_ms);
    if (run_cmd(out, sizeof out, "tc qdisc add dev %s root %s", n->hif, tbf) != 0) {
        say("%s: tc qdisc add … tbf: %s", fail == SKIP ? "SKIP: no tbf rate limiting" : "tbf",
            first_line(out));
        return fail;
    }
    if (p->rtt_ms == 0 && p->loss_pct == 0)
        return 0; /* rate only: no NFQUEUE needed */
    if (run_cmd(out, sizeof out,
                "ip netns exec %s iptables -t raw -A PREROUTING -i %s -j NFQUEUE --queue-num 0 "
                "--queue-bypass",
                n->ns, n->nif) != 0) {
        say("%s: iptables … -j NFQUEUE: %s", fail == SKIP ? "SKIP: no NFQUEUE" : "NFQUEUE",
            first_line(out));
        return fail;
    }
    /* bbt-linkemu in the namespace; "ready" on its stdout once the queue is bound */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return 2;
    snprintf(n->linkemu_log, sizeof n->linkemu_log, "%s/linkemu.log", r->dir);
    char delay[32], jitter[32], loss[32], seed[32];
    snprintf(delay, sizeof delay, "%lld", (long long)p->rtt_ms);
    snprintf(jitter, sizeof jitter, "%lld", (long long)p->jitter_ms);
    snprintf(loss, sizeof loss, "%g", p->loss_pct);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->o->seed);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int log = open(n->linkemu_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0)
            dup2(log, STDERR_FILENO);
        dup2(pfd[1], STDOUT_FILENO);
        if (setns(n->nsfd, CLONE_NEWNET) != 0) {
            fprintf(stderr, "bbt-bench: setns: %s\n", strerror(errno));
            _exit(3);
        }
        execl(r->o->linkemu_bin, r->o->linkemu_bin, "--queue-num", "0", "--delay", delay,
              "--jitter", jitter, "--loss", loss, "--seed", seed, (char *)NULL);
        fprintf(stderr, "bbt-bench: exec %s: %s\n", r->o->linkemu_bin, strerror(errno));
        _exit(4);
    }
    close(pfd[1]);
    n->linkemu = pid;
    char buf[64] = "";
    struct pollfd pf = {pfd[0], POLLIN, 0};
    ssize_t got = 0;
    if (poll(&pf, 1, 5000) > 0)
        got = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    if (got > 0 && strncmp(buf, "ready", 5) == 0)
        return 0;
    int st = child_wait(pid, 1000);
    n->linkemu = -1;
    char msg[512] = "";
    FILE *f = fopen(n->linkemu_log, "r");
    if (f) {
        size_t k = fread(msg, 1, sizeof msg - 1, f);
        msg[k] = '\0';
        fclose(f);
    }
    bool cannot = WIFEXITED(st) && (WEXITSTATUS(st) == 3 || WEXITSTATUS(st) == 4);
    say("%sbbt-linkemu did not start: %s", cannot && first ? "SKIP: " : "",
        msg[0] ? first_line(msg) : "no message");
    return cannot && first ? SKIP : 2;
}

static int net_set_rate(rural_run *r, int64_t kbit)
{
    char out[512], tbf[128];
    tbf_args(tbf, sizeof tbf, kbit, r->prof->buffer_ms);
    if (run_cmd(out, sizeof out, "tc qdisc change dev %s root %s", r->net.hif, tbf) != 0) {
        say("tc qdisc change: %s", first_line(out));
        return -1;
    }
    return 0;
}

/* ---- the relay ------------------------------------------------------------------------------- */

static int write_relay_config(rural_run *r, const char *path, bool with_auth)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "# written by bbt-bench rural for one run\n"
            "[relay]\nlisten = %s\nport = %d\nallow_insecure = true\n"
            "web_root = %s\nstate_dir = %s\nlog_level = info\n"
            "[adapt]\nenabled = %s\n%s"
            "%s",
            r->net.hip, r->port, r->dir, r->dir, r->adapt ? "true" : "false",
            r->adapt ? "" : "start_bitrate = 0\n",
            with_auth ? "[auth]\nrequired = false\n" : "");
    return fclose(f);
}

static bool port_open_at(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int relay_up(rural_run *r)
{
    char cfg[400], log[400], out[1024];
    snprintf(cfg, sizeof cfg, "%s/relay.ini", r->dir);
    snprintf(log, sizeof log, "%s/relay.log", r->dir);
    r->port = free_port();
    if (r->port < 0)
        return -1;
    /* a relay with token authentication needs it switched off for the lab ([auth] required =
     * false); an older relay has no [auth] section */
    if (write_relay_config(r, cfg, true) != 0)
        return -1;
    if (run_cmd(out, sizeof out, "%s --config %s --check", r->o->relay_bin, cfg) != 0 &&
        (write_relay_config(r, cfg, false) != 0 ||
         run_cmd(out, sizeof out, "%s --config %s --check", r->o->relay_bin, cfg) != 0)) {
        say("the relay refuses its configuration: %s", first_line(out));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execl(r->o->relay_bin, r->o->relay_bin, "--config", cfg, (char *)NULL);
        fprintf(stderr, "bbt-bench: exec %s: %s\n", r->o->relay_bin, strerror(errno));
        _exit(127);
    }
    r->relay = pid;
    for (int i = 0; i < 1000; i++) { /* up to 10 s on a loaded machine */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            r->relay = -1;
            say("the relay exited at start (status %d), see %s", st, log);
            return -1;
        }
        if (port_open_at(r->net.hip, r->port))
            return 0;
        usleep(10000);
    }
    say("the relay does not listen on %s:%d, see %s", r->net.hip, r->port, log);
    return -1;
}

/* GET /metrics into a malloc'ed NUL-terminated text, or NULL. */
static char *get_metrics(rural_run *r)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
    inet_pton(AF_INET, r->net.hip, &a.sin_addr);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        free(buf);
        close(fd);
        return NULL;
    }
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: relay\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        ssize_t n;
        while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
            len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* --trace: the relay's view of the viewer now (queue delay, capacity, delivered, level). */
static void trace_relay(rural_run *r)
{
    char *m = get_metrics(r);
    double delay = -1, capb = -1, deliv = -1, level = -1;
    char *save = NULL;
    for (char *line = m ? strtok_r(m, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        const char *sp = strrchr(line, ' ');
        double v;
        if (!sp || sscanf(sp + 1, "%lf", &v) != 1)
            continue;
        if (!strncmp(line, "bbt_viewer_queue_delay_ms{", 26)) delay = v;
        else if (!strncmp(line, "bbt_viewer_capacity_bps{", 24)) capb = v;
        else if (!strncmp(line, "bbt_viewer_delivered_bps{", 25)) deliv = v;
        else if (!strncmp(line, "bbt_viewer_level{", 17)) level = v;
    }
    free(m);
    pthread_mutex_lock(&r->mu);
    fprintf(r->trace, "%.3f,relay,%.0f,%.1f,%.0f,%.0f,\n", (double)run_t(r) / 1e6, level, delay,
            capb / 1000, deliv / 1000);
    pthread_mutex_unlock(&r->mu);
}

/* GET /metrics: a few of the relay's own figures for this run. */
static json_t *relay_metrics(rural_run *r)
{
    char *buf = get_metrics(r);
    if (!buf)
        return NULL;
    json_t *o = json_object(), *drops = json_object();
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char reason[64];
        double v;
        const char *sp = strrchr(line, ' ');
        if (line[0] == '#' || !sp || sscanf(sp + 1, "%lf", &v) != 1)
            continue;
        if (sscanf(line, "bbt_frames_dropped_total{reason=\"%63[^\"]\"}", reason) == 1)
            json_object_set_new(drops, reason, json_integer((json_int_t)v));
        else if (strncmp(line, "bbt_keyframe_requests_total ", 28) == 0)
            json_object_set_new(o, "keyframe_requests", json_integer((json_int_t)v));
        else if (strncmp(line, "bbt_viewer_switches_total{", 26) == 0)
            json_object_set_new(o, strstr(line, "direction=\"up\"") ? "switches_up"
                                                                   : "switches_down",
                                json_integer((json_int_t)v));
        else if (strncmp(line, "bbt_viewer_capacity_bps{", 24) == 0)
            json_object_set_new(o, "capacity_kbps_at_end", json_real(round(v / 100) / 10));
    }
    free(buf);
    json_object_set_new(o, "frames_dropped", drops);
    return o;
}

/* The relay's adaptation decisions (its log's "adapt" lines), on the run's clock:
 * [[t_s, from_level, to_level, camera_track, delay_ms, capacity_kbps], ...]. */
static json_t *relay_decisions(const rural_run *r)
{
    char path[400], line[1024];
    snprintf(path, sizeof path, "%s/relay.log", r->dir);
    FILE *f = fopen(path, "r");
    json_t *a = json_array();
    if (!f)
        return a;
    while (fgets(line, sizeof line, f)) {
        struct tm tm = {0};
        int ms, from, to, cam;
        long long delay;
        double cap;
        const char *s = strstr(line, " level=");
        if (!strstr(line, " adapt ") || !s ||
            sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7 ||
            sscanf(s, " level=%d->%d camera=%d courseware=%*d delay_ms=%lld capacity_kbps=%lf",
                   &from, &to, &cam, &delay, &cap) != 5)
            continue;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        int64_t wall = (int64_t)timegm(&tm) * 1000000 + (int64_t)ms * 1000;
        json_array_append_new(a, json_pack("[f, i, i, i, I, f]",
                                           round((double)(wall - r->t0_wall) / 1e4) / 100, from,
                                           to, cam, (json_int_t)delay, cap));
    }
    fclose(f);
    return a;
}

/* ---- the two client threads ------------------------------------------------------------------ */

/* The viewer's message in; true when it completes a frame (*f, len: that whole frame). */
static bool reassemble(rural_run *r, bbt_frame *f, size_t *len)
{
    bbt_frame in = *f, out;
    in.payload = NULL; /* the viewer keeps headers only */
    in.len = *len - BBT_FRAME_HEADER_LEN;
    bbt_reasm_drop d;
    int rc = bbt_reasm_push(r->reasm, &in, &out, &d);
    if (d.why != BBT_REASM_NONE && r->frag_errors++ < 5)
        say("viewer: fragmented frame discarded (%s): track %u seq %u, then seq %u",
            bbt_reasm_why_name(d.why), d.track, d.seq, d.by_seq);
    if (rc != 1)
        return false;
    *f = out;
    *len = out.len + BBT_FRAME_HEADER_LEN;
    return true;
}

static bool on_frame(bench *b, viewer *v, const bbt_frame *msg, size_t msg_len)
{
    rural_run *r = b->hook_ud;
    int64_t wall = bench_wall_us(); /* a fragmented frame arrives with its last fragment */
    bbt_frame frame = *msg, *f = &frame;
    size_t len = msg_len;
    pthread_mutex_lock(&r->mu);
    bool whole = reassemble(r, f, &len);
    if (whole && !r->closed) {
        int64_t t = run_t(r);
        rs_frame(&r->rs, t, f->track, f->seq, f->flags, len, wall - (int64_t)f->capture_us);
        if (r->trace)
            fprintf(r->trace, "%.3f,frame,%u,%u,%d,%zu,%.1f\n", (double)t / 1e6, f->track,
                    f->seq, (f->flags & BBT_FRAME_KEY) != 0, len,
                    (double)(wall - (int64_t)f->capture_us) / 1000.0);
    }
    pthread_mutex_unlock(&r->mu);
    (void)v;
    return whole;
}

static void on_state(bench *b, viewer *v, json_t *m)
{
    rural_run *r = b->hook_ud;
    json_t *l = json_object_get(m, "layer");
    if (!json_is_integer(l))
        return;
    int layer = (int)json_integer_value(l);
    pthread_mutex_lock(&r->mu);
    if (!r->closed) {
        rs_state_layer(&r->rs, run_t(r), layer);
        if (r->trace)
            fprintf(r->trace, "%.3f,state,%d,,,,\n", (double)run_t(r) / 1e6, layer);
        if (r->announced != -2 && layer != r->announced)
            r->announced_changes++;
        r->announced = layer;
    }
    pthread_mutex_unlock(&r->mu);
    (void)v;
}

/* The player's once-a-second report (docs/PROTOCOL.md §3.8, relay/web/stats.js). */
static int make_report(bench *b, viewer *v, char *buf, size_t cap)
{
    rural_run *r = b->hook_ud;
    rs_report rep;
    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    int64_t t = run_t(r);
    rs_take_report(&r->rs, t, &rep);
    if (r->ntl < r->captl) {
        double dt = (double)(t - r->tl_t) / 1e6;
        double kbps = dt > 0 ? (double)(rep.bytes - r->tl_bytes) * 8 / dt / 1000 : 0;
        r->tl[r->ntl++] = (tl_row){(int32_t)(t / 1000), (int32_t)r->link_kbit, rep.layer,
                                   rep.have_latency ? (float)rep.p95_ms : -1, (float)kbps,
                                   (float)rep.buffer_ms};
        r->tl_bytes = rep.bytes;
        r->tl_t = t;
    }
    pthread_mutex_unlock(&r->mu);
    char lat[128] = "";
    if (rep.have_latency)
        snprintf(lat, sizeof lat, ",\"latency_ms\":{\"p50\":%.1f,\"p95\":%.1f,\"max\":%.1f}",
                 rep.p50_ms, rep.p95_ms, rep.max_ms);
    (void)v;
    return snprintf(buf, cap,
                    "{\"type\":\"report\",\"session\":\"%s\",\"bytes\":%llu,"
                    "\"frames_decoded\":%llu,\"frames_dropped\":0,\"buffer_ms\":%lld,"
                    "\"stalls\":%llu,\"stall_ms\":%llu%s,"
                    "\"layer\":%d,\"audio_ok\":%s,\"audio_underruns\":%llu}",
                    b->o.session, (unsigned long long)rep.bytes,
                    (unsigned long long)rep.frames_decoded, (long long)rep.buffer_ms,
                    (unsigned long long)rep.stalls, (unsigned long long)rep.stall_ms, lat,
                    rep.layer, rep.audio_ok ? "true" : "false",
                    (unsigned long long)rep.audio_underruns);
}

static void *pub_main(void *arg)
{
    rural_run *r = arg;
    bench *b = &r->pub;
    if (bench_create_context(b) != BBT_OK || publisher_connect(b) != BBT_OK) {
        atomic_store(&r->pub_state, -1);
        bench_destroy_context(b);
        return NULL;
    }
    while (!r->stop) {
        bench_run_for(b, 0.05, NULL);
        if (b->pub.failed) {
            atomic_store(&r->pub_state, -1);
            break;
        }
        if (b->pub.published)
            atomic_store(&r->pub_state, 1);
    }
    publisher_stop(b);
    bench_destroy_context(b);
    return NULL;
}

static void *view_main(void *arg)
{
    rural_run *r = arg;
    bench *b = &r->view;
    /* this thread's sockets are the viewer's: they live in the namespace */
    if (setns(r->net.nsfd, CLONE_NEWNET) != 0) {
        r->view_errno = errno;
        atomic_store(&r->view_state, -1);
        return NULL;
    }
    if (bench_create_context(b) != BBT_OK) {
        atomic_store(&r->view_state, -1);
        return NULL;
    }
    viewer *v = &b->v[0];
    v->idx = 0;
    viewer_connect(b, v);
    while (!r->stop) {
        bench_run_for(b, 0.05, NULL);
        if (b->c.connected && !b->c.dropped)
            atomic_store(&r->view_state, 1);
        if (b->c.failed || b->c.dropped) {
            atomic_store(&r->view_state, -1);
            break;
        }
    }
    bench_destroy_context(b);
    return NULL;
}

/* A bench struct for one thread, sharing the loaded recording (not owned). */
static void bench_for_thread(bench *b, const bench *proto, rural_run *r, int viewers)
{
    *b = *proto;
    b->o.viewers = viewers;
    b->stop = &r->stop;
    b->hook_ud = r;
    b->v = viewers ? calloc((size_t)viewers + 1, sizeof *b->v) : NULL;
    b->lat = bench_hist_new();
    b->port = r->port;
    snprintf(b->host, sizeof b->host, "%s", r->net.hip);
    snprintf(b->path, sizeof b->path, "/ws");
}

static void bench_thread_free(bench *b)
{
    if (b->v)
        for (int i = 0; i < b->o.viewers; i++) {
            free(b->v[i].text);
            b->v[i].text = NULL;
        }
    free(b->v);
    free(b->pub.buf);
    free(b->pub.text);
    bench_hist_free(b->lat);
    b->v = NULL;
    b->pub.buf = NULL;
    b->pub.text = NULL;
    b->lat = NULL;
}

static int start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals go to the main thread only */
    int rc = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- one run --------------------------------------------------------------------------------- */

static bool sleep_until(int64_t mono_us)
{
    while (!g_signal) {
        int64_t now = bench_mono_us();
        if (now >= mono_us)
            return true;
        int64_t d = mono_us - now > 100000 ? 100000 : mono_us - now;
        struct timespec ts = {0, (long)d * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static bool child_alive(pid_t *pid, const char *what)
{
    int st;
    if (*pid <= 0 || waitpid(*pid, &st, WNOHANG) != *pid)
        return true;
    say("%s exited during the run (status %d)", what, st);
    *pid = -1;
    return false;
}

static int read_linkemu_stats(const rural_net *n, unsigned long long *pk, unsigned long long *dr)
{
    FILE *f = fopen(n->linkemu_log, "r");
    char line[512];
    int ok = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        const char *s = strstr(line, "stopped: ");
        if (s && sscanf(s, "stopped: %llu packets, %llu dropped", pk, dr) == 2)
            ok = 0;
    }
    fclose(f);
    return ok;
}

static json_t *tbf_stats(const rural_net *n)
{
    char out[2048];
    if (run_cmd(out, sizeof out, "tc -s qdisc show dev %s", n->hif) != 0)
        return json_null();
    unsigned long long bytes = 0, pkts = 0, dropped = 0, over = 0;
    const char *s = strstr(out, "Sent ");
    if (!s || sscanf(s, "Sent %llu bytes %llu pkt (dropped %llu, overlimits %llu", &bytes, &pkts,
                     &dropped, &over) < 3)
        return json_null();
    return json_pack("{s:I, s:I, s:I}", "packets", (json_int_t)pkts, "bytes", (json_int_t)bytes,
                     "dropped", (json_int_t)dropped);
}

static json_t *num_or_null(double v) { return v < 0 ? json_null() : json_real(round(v * 10) / 10); }

static char *layer_name(const rs_layer *l, char *buf, size_t len)
{
    snprintf(buf, len, "%dp", l->height);
    return buf;
}

/* The JSON object of a finished run. */
static json_t *run_json(rural_run *r, const rs_summary *s, int64_t t_end)
{
    const rural_profile *p = r->prof;
    rural_stats *rs = &r->rs;
    json_t *o = json_object();
    json_object_set_new(o, "profile", json_string(p->name));
    json_object_set_new(o, "adapt", json_boolean(r->adapt));
    json_object_set_new(o, "seconds", json_real(round((double)t_end / 1e5) / 10));
    /* the link as configured and as it behaved */
    json_t *link = json_pack("{s:I, s:I, s:I, s:f, s:I}", "rate_kbit", (json_int_t)p->rate_kbit,
                             "rtt_ms", (json_int_t)p->rtt_ms, "jitter_ms",
                             (json_int_t)p->jitter_ms, "loss_percent", p->loss_pct, "buffer_ms",
                             (json_int_t)p->buffer_ms);
    json_t *ch = json_array();
    double area = 0;
    int64_t prev_t = 0, prev_k = p->rate_kbit;
    for (int i = 0; i < rs->nev; i++) {
        json_array_append_new(ch, json_pack("[f, I]", round((double)rs->ev[i].t / 1e4) / 100,
                                            (json_int_t)rs->ev[i].kbit));
        area += (double)prev_k * (double)(rs->ev[i].t - prev_t);
        prev_t = rs->ev[i].t;
        prev_k = rs->ev[i].kbit;
    }
    area += (double)prev_k * (double)(t_end - prev_t);
    json_object_set_new(link, "changes", ch);
    json_object_set_new(link, "mean_kbit", json_real(round(area / (double)t_end * 10) / 10));
    unsigned long long pk = 0, dr = 0;
    if (read_linkemu_stats(&r->net, &pk, &dr) == 0)
        json_object_set_new(link, "linkemu",
                            json_pack("{s:I, s:I}", "packets", (json_int_t)pk, "dropped",
                                      (json_int_t)dr));
    json_object_set_new(o, "link", link);
    json_object_set_new(o, "fragment_errors", json_integer((json_int_t)r->frag_errors));
    /* the figures the issue asks for, then the rest */
    json_object_set_new(o, "audio_gap_max_ms", num_or_null(s->audio_gap_max_ms));
    json_object_set_new(o, "audio_gaps_over_200ms",
                        json_integer((json_int_t)s->audio_gaps_over_200ms));
    json_object_set_new(o, "video_stall_ratio",
                        json_real(round(s->video_stall_ratio * 10000) / 10000));
    json_object_set_new(o, "latency_ms",
                        json_pack("{s:o, s:o, s:o}", "p50", num_or_null(s->latency_p50_ms), "p95",
                                  num_or_null(s->latency_p95_ms), "max",
                                  num_or_null(s->latency_max_ms)));
    json_t *share = json_object();
    char nm[32];
    for (int i = 0; i < rs->nlayers; i++)
        json_object_set_new(share, layer_name(&rs->layers[i], nm, sizeof nm),
                            json_real(round(s->share[rs->layers[i].track] * 1000) / 1000));
    json_object_set_new(share, "audio_only", json_real(round(s->share_audio_only * 1000) / 1000));
    json_object_set_new(o, "layer_time_share", share);
    json_t *down = json_array(), *up = json_array();
    for (int i = 0; i < rs->nev; i++) {
        const rs_event *e = &rs->ev[i];
        json_array_append_new(e->drop ? down : up,
                              e->after_us < 0 ? json_null() : json_integer(e->after_us / 1000));
    }
    json_object_set_new(o, "downswitch_after_drop_ms", json_array_size(down) ? down : json_null());
    json_object_set_new(o, "upswitch_after_recovery_ms", json_array_size(up) ? up : json_null());
    if (!json_array_size(down))
        json_decref(down);
    if (!json_array_size(up))
        json_decref(up);
    json_object_set_new(o, "mean_goodput_kbps", json_real(round(s->goodput_kbps * 10) / 10));
    json_object_set_new(o, "first_picture_ms", num_or_null(s->first_picture_ms));
    json_t *w = json_array();
    for (int i = 0; i < s->nwindows; i++)
        json_array_append_new(w, num_or_null(s->window_p95_ms[i]));
    json_object_set_new(o, "latency_p95_per_10s_ms", w);
    json_object_set_new(o, "audio",
                        json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "frames",
                                  (json_int_t)s->audio_frames, "frames_lost",
                                  (json_int_t)s->audio_frames_lost, "player_underruns",
                                  (json_int_t)s->player_underruns, "player_silence_ms",
                                  num_or_null(s->player_silence_ms), "player_skipped_ms",
                                  num_or_null(s->player_skipped_ms), "player_target_ms_at_end",
                                  num_or_null(s->player_target_ms)));
    json_object_set_new(o, "video",
                        json_pack("{s:I, s:I, s:I, s:o, s:I, s:I}", "frames",
                                  (json_int_t)s->video_frames, "undecodable",
                                  (json_int_t)s->video_undecodable, "stalls",
                                  (json_int_t)s->video_stalls, "stall_ms",
                                  num_or_null(s->video_stall_ms), "layer_changes",
                                  (json_int_t)s->layer_changes, "relay_announced_changes",
                                  (json_int_t)r->announced_changes));
    json_object_set_new(o, "publisher",
                        json_pack("{s:I, s:I, s:I}", "keyframe_requests",
                                  (json_int_t)r->pub.pub.keyframe_requests, "keyframes_forced",
                                  (json_int_t)r->pub.pub.keyframes_forced, "late_frames",
                                  (json_int_t)r->pub.pub.late_frames));
    if (r->o->timeline) {
        json_t *tl = json_array();
        for (size_t i = 0; i < r->ntl; i++) {
            const tl_row *x = &r->tl[i];
            json_array_append_new(tl, json_pack("[f, i, i, f, f, f]", x->t_ms / 1000.0, x->kbit,
                                                x->layer, round(x->p95_ms), round(x->kbps),
                                                (double)x->buffer_ms));
        }
        json_object_set_new(o, "timeline_columns",
                            json_pack("[s, s, s, s, s, s]", "t_s", "link_kbit", "layer_track",
                                      "latency_p95_ms", "goodput_kbps", "player_buffer_ms"));
        json_object_set_new(o, "timeline", tl);
    }
    return o;
}

/* ---- expectations -------------------------------------------------------------------------- */

static double metric(const rural_run *r, const rs_summary *s, const char *name)
{
    const rural_stats *rs = &r->rs;
    if (!strcmp(name, "audio_gap_max_ms")) return s->audio_gap_max_ms;
    if (!strcmp(name, "audio_gaps_over_200ms")) return (double)s->audio_gaps_over_200ms;
    if (!strcmp(name, "audio_frames_lost")) return (double)s->audio_frames_lost;
    if (!strcmp(name, "player_audio_underruns")) return (double)s->player_underruns;
    if (!strcmp(name, "player_audio_silence_ms")) return s->player_silence_ms;
    if (!strcmp(name, "video_stall_ratio")) return s->video_stall_ratio;
    if (!strcmp(name, "latency_p50_ms")) return s->latency_p50_ms;
    if (!strcmp(name, "latency_p95_ms")) return s->latency_p95_ms;
    if (!strcmp(name, "latency_max_ms")) return s->latency_max_ms;
    if (!strcmp(name, "first_picture_ms"))
        return s->first_picture_ms < 0 ? INFINITY : s->first_picture_ms;
    if (!strcmp(name, "mean_goodput_kbps")) return s->goodput_kbps;
    if (!strcmp(name, "audio_only_share")) return s->share_audio_only;
    if (!strcmp(name, "top_layer_share") || !strcmp(name, "bottom_layer_share")) {
        const rs_layer *pick = NULL;
        bool top = name[0] == 't';
        for (int i = 0; i < rs->nlayers; i++)
            if (!pick || (top ? rs->layers[i].bitrate > pick->bitrate
                              : rs->layers[i].bitrate < pick->bitrate))
                pick = &rs->layers[i];
        return pick ? s->share[pick->track] : 0;
    }
    if (!strcmp(name, "downswitch_after_drop_ms") || !strcmp(name, "upswitch_after_recovery_ms")) {
        bool drop = name[0] == 'd';
        double worst = 0;
        for (int i = 0; i < rs->nev; i++)
            if (rs->ev[i].drop == drop)
                worst = rs->ev[i].after_us < 0 ? INFINITY
                        : fmax(worst, (double)rs->ev[i].after_us / 1000.0);
        return worst;
    }
    return NAN;
}

static const char *const metric_names[] = {
    "audio_gap_max_ms", "audio_gaps_over_200ms", "audio_frames_lost", "player_audio_underruns",
    "player_audio_silence_ms", "video_stall_ratio", "latency_p50_ms", "latency_p95_ms",
    "latency_max_ms", "first_picture_ms", "mean_goodput_kbps", "audio_only_share",
    "top_layer_share", "bottom_layer_share", "downswitch_after_drop_ms",
    "upswitch_after_recovery_ms", NULL};

static int parse_expect(const char *s, expect *e)
{
    const char *op = strstr(s, "<=");
    if (!op)
        op = strstr(s, ">=");
    if (!op || op == s || (size_t)(op - s) >= sizeof e->name)
        return -1;
    memcpy(e->name, s, (size_t)(op - s));
    e->name[op - s] = '\0';
    e->le = op[0] == '<';
    char *end;
    e->v = strtod(op + 2, &end);
    if (end == op + 2 || *end)
        return -1;
    for (int i = 0; metric_names[i]; i++)
        if (!strcmp(metric_names[i], e->name))
            return 0;
    return -1;
}

/* 0 when every expectation holds for this run, else 1 (each failure said). */
static int check_expect(const rural_run *r, const rs_summary *s)
{
    int bad = 0;
    for (int i = 0; i < r->o->nex; i++) {
        const expect *e = &r->o->ex[i];
        double v = metric(r, s, e->name);
        bool ok = e->le ? v <= e->v : v >= e->v;
        if (!ok) {
            say("FAILED: %s %s adaptation: %s = %g, expected %s %g", r->prof->name,
                r->adapt ? "with" : "without", e->name, v, e->le ? "<=" : ">=", e->v);
            bad = 1;
        }
    }
    return bad;
}

/* ---- a run ----------------------------------------------------------------------------------- */

static void run_cleanup(rural_run *r)
{
    r->stop = 1;
    if (r->view_started)
        pthread_join(r->view_th, NULL);
    if (r->pub_started)
        pthread_join(r->pub_th, NULL);
    r->view_started = r->pub_started = false;
    if (r->relay > 0) {
        int st = relay_stop(r->relay);
        if (st != 0 && !g_signal)
            say("the relay exited with status %d (log: %s/relay.log)", st, r->dir);
        r->relay = -1;
    }
    net_down(&r->net);
}

static void exit_cleanup(void)
{
    if (g_run)
        run_cleanup(g_run);
}

/* One profile with adaptation on or off. Returns 0, 1 (expectation failed), 2 or SKIP; *out the
 * run's JSON. */
static int run_one(const rural_opts *o, const rural_profile *p, bool adapt, const bench *proto,
                   const char *topdir, bool first, json_t **out)
{
    rural_run *r = calloc(1, sizeof *r);
    if (!r)
        return 2;
    r->o = o;
    r->prof = p;
    r->adapt = adapt;
    r->relay = -1;
    r->announced = -2;
    r->dur_ms = o->seconds > 0 ? (int64_t)(o->seconds * 1000) : p->duration_ms;
    snprintf(r->dir, sizeof r->dir, "%s/%s-%s", topdir, p->name, adapt ? "adapt" : "fixed");
    mkdir(r->dir, 0755);
    pthread_mutex_init(&r->mu, NULL);
    net_names(&r->net);
    g_run = r;
    int status = 2;
    json_t *res = NULL;
    rs_summary *sum = calloc(1, sizeof *sum);

    /* what the viewer can get: the camera layers and the audio track of the stream */
    rs_layer layers[RS_MAX_TRACKS];
    int nl = 0, audio = -1;
    int64_t audio_bps = 0, audio_frames = 0;
    const bbt_recording *rec = &proto->rec;
    for (size_t i = 0; i < rec->ntracks; i++) {
        const bbt_track_info *t = &rec->tracks[i];
        if (t->kind == BBT_TRACK_VIDEO && nl < RS_MAX_TRACKS)
            layers[nl++] = (rs_layer){t->id, t->bitrate, t->height};
        else if (t->kind == BBT_TRACK_AUDIO && audio < 0) {
            audio = t->id;
            audio_bps = t->bitrate;
        }
    }
    for (size_t i = 0; i < rec->nframes; i++)
        audio_frames += rec->frames[i].track == audio;
    int64_t audio_frame_us =
        audio_frames > 1 ? (int64_t)(rec->last_us - rec->first_us) / (audio_frames - 1) : 20000;
    r->captl = (size_t)(r->dur_ms / 1000) + 16;
    r->tl = calloc(r->captl, sizeof *r->tl);
    if (!sum || !r->tl ||
        rs_init(&r->rs, layers, nl, audio, audio_bps, audio_frame_us,
                (size_t)(r->dur_ms / 1000 + 10) * 250) != 0)
        goto done;

    status = net_up(r, first);
    if (status != 0)
        goto done;
    status = 2;
    if (relay_up(r) != 0)
        goto done;
    bench_for_thread(&r->pub, proto, r, 0);
    bench_for_thread(&r->view, proto, r, 1);
    if (!r->view.v || !r->pub.lat || !r->view.lat)
        goto done;
    r->reasm = bbt_reasm_new(0, false);
    if (!r->reasm)
        goto done;
    r->view.o.fragments = true;
    r->view.on_frame = on_frame;
    r->view.on_state = on_state;
    r->view.make_report = make_report;
    if (start_thread(&r->pub_th, pub_main, r) != 0)
        goto done;
    r->pub_started = true;
    for (int64_t until = bench_mono_us() + 10000000;
         atomic_load(&r->pub_state) == 0 && bench_mono_us() < until && !g_signal;)
        usleep(10000);
    if (atomic_load(&r->pub_state) != 1) {
        say("the publisher was not accepted (relay log: %s/relay.log)", r->dir);
        goto done;
    }
    /* the run starts: the link at its first rate, the viewer subscribing */
    rural_step changes[MAX_CHANGES];
    int nch = rural_profile_changes(p, r->dur_ms, changes, MAX_CHANGES);
    if (o->trace) {
        char tp[400];
        snprintf(tp, sizeof tp, "%s/trace.csv", r->dir);
        if ((r->trace = fopen(tp, "w")))
            fputs("t_s,what,track_or_layer_or_kbit,seq,key,bytes,latency_ms\n", r->trace);
    }
    r->t0 = bench_mono_us();
    r->t0_wall = bench_wall_us();
    r->tl_t = 0;
    r->link_kbit = p->rate_kbit;
    rs_link(&r->rs, 0, p->rate_kbit);
    if (start_thread(&r->view_th, view_main, r) != 0)
        goto done;
    r->view_started = true;
    say("%s, adaptation %s: %.0f s, link %lld kbit/s, RTT %lld ms, loss %g %%%s", p->name,
        adapt ? "on" : "off", (double)r->dur_ms / 1000, (long long)p->rate_kbit,
        (long long)p->rtt_ms, p->loss_pct, nch ? ", with rate changes" : "");
    int k = 0;
    bool ok = true;
    int64_t next_sample = r->t0;
    for (;;) {
        int64_t t = run_t(r);
        if (t >= r->dur_ms * 1000 || g_signal)
            break;
        if (atomic_load(&r->view_state) < 0) {
            say("the viewer %s", r->view_errno ? "could not enter the namespace"
                                               : "could not connect or was closed");
            ok = false;
            break;
        }
        if (k < nch && t >= changes[k].at_ms * 1000) {
            if (net_set_rate(r, changes[k].kbit) != 0) {
                ok = false;
                break;
            }
            pthread_mutex_lock(&r->mu);
            r->link_kbit = changes[k].kbit;
            rs_link(&r->rs, run_t(r), changes[k].kbit);
            if (r->trace)
                fprintf(r->trace, "%.3f,link,%lld,,,,\n", (double)run_t(r) / 1e6,
                        (long long)changes[k].kbit);
            pthread_mutex_unlock(&r->mu);
            k++;
            continue;
        }
        if (!child_alive(&r->relay, "the relay") || !child_alive(&r->net.linkemu, "bbt-linkemu") ||
            atomic_load(&r->pub_state) < 0) {
            ok = false;
            break;
        }
        if (r->trace && bench_mono_us() >= next_sample) {
            trace_relay(r);
            next_sample += 250000;
        }
        int64_t next = r->t0 + r->dur_ms * 1000;
        if (k < nch && r->t0 + changes[k].at_ms * 1000 < next)
            next = r->t0 + changes[k].at_ms * 1000;
        if (r->trace && next_sample < next)
            next = next_sample;
        sleep_until(next < bench_mono_us() + 100000 ? next : bench_mono_us() + 100000);
    }
    if (g_signal) {
        say("interrupted: cleaning up");
        goto done;
    }
    if (!ok)
        goto done;
    json_t *relay = relay_metrics(r);
    json_t *tbf = tbf_stats(&r->net);
    pthread_mutex_lock(&r->mu);
    int64_t t_end = run_t(r);
    r->closed = true;
    pthread_mutex_unlock(&r->mu);
    run_cleanup(r); /* threads joined: rs is ours alone now */
    rs_finish(&r->rs, t_end, sum);
    res = run_json(r, sum, t_end);
    json_object_set_new(json_object_get(res, "link"), "tbf", tbf);
    if (relay)
        json_object_set_new(relay, "decisions", relay_decisions(r));
    json_object_set_new(res, "relay", relay ? relay : json_null());
    status = check_expect(r, sum);
    say("%s, adaptation %s: audio gap max %.0f ms (%llu over 200 ms), stalls %.1f %%, latency "
        "p50/p95/max %.0f/%.0f/%.0f ms, goodput %.0f kbit/s",
        p->name, adapt ? "on" : "off", sum->audio_gap_max_ms,
        (unsigned long long)sum->audio_gaps_over_200ms, sum->video_stall_ratio * 100,
        sum->latency_p50_ms, sum->latency_p95_ms, sum->latency_max_ms, sum->goodput_kbps);
done:
    run_cleanup(r);
    g_run = NULL;
    if (status == 2 && !g_signal)
        say("logs of the failed run: %s", r->dir);
    bench_thread_free(&r->pub);
    bench_thread_free(&r->view);
    rs_free(&r->rs);
    bbt_reasm_free(r->reasm);
    free(r->tl);
    if (r->trace)
        fclose(r->trace);
    pthread_mutex_destroy(&r->mu);
    free(r);
    free(sum);
    *out = res;
    return status;
}

/* ---- options and main ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bbt-bench rural [options]      (needs root: namespaces, tc, iptables)\n"
            "  --profiles FILE     link profiles (default " BBT_BENCH_PROFILES ")\n"
            "  --profile A,B       profiles to run (default: every profile of the file)\n"
            "  --seconds T         length of each run (default: the profile's duration)\n"
            "  --adapt on|off|both relay adaptation (default both: on, then off = top layer)\n"
            "  --expect M<=V       fail (exit 1) when a run's figure M is not <= V (or >=);\n"
            "                      repeatable. M: audio_gap_max_ms, audio_gaps_over_200ms,\n"
            "                      audio_frames_lost, player_audio_underruns,\n"
            "                      player_audio_silence_ms, video_stall_ratio, latency_p50_ms,\n"
            "                      latency_p95_ms, latency_max_ms, first_picture_ms,\n"
            "                      mean_goodput_kbps, audio_only_share, top_layer_share,\n"
            "                      bottom_layer_share, downswitch_after_drop_ms,\n"
            "                      upswitch_after_recovery_ms (the worst event; never = inf)\n"
            "  --timeline          add each run's per-second timeline to the JSON\n"
            "  --trace             write every frame's arrival, every `state` and, every 250 ms,\n"
            "                      the relay's view of the viewer (/metrics) to RUNDIR/trace.csv\n"
            "                      (implies --keep)\n"
            "  --keyframes answer|ignore  the publisher answers keyframe requests like bbt-node\n"
            "                      (default) or leaves switches to the stream's 2 s keyframes\n"
            "  --seed S            bbt-linkemu's random seed (default 1)\n"
            "  --keep              keep the logs (relay, bbt-linkemu) of every run\n"
            "  --relay-bin PATH    default: bbt-relay next to bbt-bench\n"
            "  --linkemu-bin PATH  default: bbt-linkemu next to bbt-bench\n"
            "  --stream FILE       default " BBT_BENCH_DEFAULT_STREAM "\n"
            "Exit: 0 done, 1 an --expect failed, 2 error, 77 the machine cannot emulate links.\n");
}

static int parse_opts(int argc, char **argv, rural_opts *o)
{
    *o = (rural_opts){.profiles_path = BBT_BENCH_PROFILES, .stream_path = BBT_BENCH_DEFAULT_STREAM,
                      .adapt = 2, .answer_keys = true, .seed = 1};
    const char *a = "";
    for (int i = 2; i < argc; i++) {
        a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--keep")) { o->keep = true; continue; }
        if (!strcmp(a, "--timeline")) { o->timeline = true; continue; }
        if (!strcmp(a, "--trace")) { o->trace = o->keep = true; continue; }
        if (!strcmp(a, "--json")) continue; /* always JSON */
        if (!v)
            goto bad;
        i++;
        if (!strcmp(a, "--profiles")) o->profiles_path = v;
        else if (!strcmp(a, "--profile")) o->only = v;
        else if (!strcmp(a, "--relay-bin")) o->relay_bin = v;
        else if (!strcmp(a, "--linkemu-bin")) o->linkemu_bin = v;
        else if (!strcmp(a, "--stream")) o->stream_path = v;
        else if (!strcmp(a, "--seconds")) {
            char *end;
            o->seconds = strtod(v, &end);
            if (*end || !(o->seconds >= 5 && o->seconds <= 3600))
                goto bad;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            o->seed = strtoull(v, &end, 10);
            if (*end || !o->seed)
                goto bad;
        } else if (!strcmp(a, "--adapt")) {
            o->adapt = !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : !strcmp(v, "both") ? 2 : -1;
            if (o->adapt < 0)
                goto bad;
        } else if (!strcmp(a, "--keyframes")) {
            if (strcmp(v, "answer") && strcmp(v, "ignore"))
                goto bad;
            o->answer_keys = !strcmp(v, "answer");
        } else if (!strcmp(a, "--expect")) {
            if (o->nex == MAX_EXPECT || parse_expect(v, &o->ex[o->nex]) != 0) {
                fprintf(stderr, "bbt-bench rural: bad --expect '%s' (NAME<=V or NAME>=V, a "
                                "figure of --help)\n", v);
                return -1;
            }
            o->nex++;
        } else {
            goto bad;
        }
    }
    return 0;
bad:
    fprintf(stderr, "bbt-bench rural: bad or incomplete option '%s'\n", a);
    return -1;
}

/* `name` next to this program. */
static char *sibling(const char *name)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        slash[1] = '\0';
    size_t len = strlen(self) + strlen(name) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s", self, name);
    return out;
}

static bool selected(const rural_opts *o, const char *name)
{
    if (!o->only)
        return true;
    size_t n = strlen(name);
    for (const char *p = o->only; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

int rural_main(int argc, char **argv)
{
    rural_opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    char err[512];
    rural_profiles ps;
    if (rural_profiles_load_file(o.profiles_path, &ps, err, sizeof err) != BBT_OK) {
        say("%s", err);
        return 2;
    }
    int status = 2;
    char *relay_bin = NULL, *linkemu_bin = NULL;
    bench *proto = calloc(1, sizeof *proto);
    json_t *runs = json_array();
    if (o.only)
        for (const char *p = o.only; *p;) {
            size_t len = strcspn(p, ",");
            char name[RURAL_NAME_MAX + 1];
            int nlen = (int)(len < RURAL_NAME_MAX ? len : RURAL_NAME_MAX);
            snprintf(name, sizeof name, "%.*s", nlen, p);
            if (!rural_profile_find(&ps, name)) {
                say("no profile [%s] in %s", name, o.profiles_path);
                goto out;
            }
            p += len + (p[len] == ',');
        }
    if (!proto)
        goto out;
    if (!o.relay_bin)
        o.relay_bin = relay_bin = sibling("bbt-relay");
    if (!o.linkemu_bin)
        o.linkemu_bin = linkemu_bin = sibling("bbt-linkemu");
    if (!o.relay_bin || !o.linkemu_bin)
        goto out;
    if (geteuid() != 0) {
        say("SKIP: needs root (network namespaces, tc, iptables, NFQUEUE); run it with sudo");
        status = SKIP;
        goto out;
    }
    if (access(o.linkemu_bin, X_OK) != 0) {
        say("SKIP: %s is missing (built only with libnetfilter-queue-dev installed)",
            o.linkemu_bin);
        status = SKIP;
        goto out;
    }
    if (bbt_recording_load(o.stream_path, &proto->rec, err, sizeof err) != BBT_OK) {
        say("%s (build it: cmake --build build --target bench-stream)", err);
        goto out;
    }
    proto->o = (bench_opts){.mode = "rural", .viewers = 0, .layer = -1, .session = "rural",
                            .stream_path = o.stream_path, .report_ms = 1000,
                            .connect_timeout_s = 20, .use_ev = BENCH_HAVE_EV,
                            .answer_keyframes = o.answer_keys, .relay_cpu = -1,
                            .bench_cpu = -1};
    for (size_t i = 0; i < proto->rec.ntracks; i++)
        proto->want_tracks |= 1u << proto->rec.tracks[i].id;
    lws_set_log_level(LLL_ERR, NULL);

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(exit_cleanup);
    remove_stale();

    char topdir[] = "/tmp/bbt-rural.XXXXXX";
    if (!mkdtemp(topdir)) {
        say("cannot make a directory in /tmp: %s", strerror(errno));
        goto out;
    }
    status = 0;
    bool first = true, failed_run = false;
    for (int i = 0; i < ps.n && !g_signal; i++) {
        if (!selected(&o, ps.p[i].name))
            continue;
        for (int a = 1; a >= 0 && !g_signal; a--) {
            if (o.adapt != 2 && o.adapt != a)
                continue;
            json_t *res = NULL;
            int rc = run_one(&o, &ps.p[i], a == 1, proto, topdir, first, &res);
            first = false;
            if (res)
                json_array_append_new(runs, res);
            if (rc == SKIP) {
                status = SKIP;
                goto done;
            }
            if (rc == 2)
                failed_run = true;
            if (rc == 1 && status == 0)
                status = 1;
        }
    }
    if (failed_run || g_signal)
        status = 2;
done:
    if (status == SKIP || (!o.keep && status != 2))
        run_cmd(NULL, 0, "rm -rf %s", topdir);
    else
        say("logs: %s", topdir);
    if (status != SKIP) {
        double load[3] = {0};
        FILE *f = fopen("/proc/loadavg", "r");
        if (f) {
            if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
                load[0] = -1;
            fclose(f);
        }
        /* one document, one run per line (grep-able, and a timeline stays one line) */
        const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
        /* the relay's TCP congestion control is the machine's default (a namespace cannot
         * choose its own here): it shapes how the link's buffers fill, so it is reported */
        char cc[32] = "?";
        FILE *ccf = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "r");
        if (ccf) {
            if (!fgets(cc, sizeof cc, ccf))
                strcpy(cc, "?");
            cc[strcspn(cc, "\n")] = '\0';
            fclose(ccf);
        }
        json_t *head = json_pack("{s:s, s:s, s:s, s:[f,f,f]}", "bench", "rural", "profiles",
                                 o.profiles_path, "tcp_congestion_control", cc, "loadavg",
                                 load[0], load[1], load[2]);
        char *text = json_dumps(head, flags);
        if (text) {
            text[strlen(text) - 1] = '\0'; /* the closing brace: runs follow */
            printf("%s,\"runs\":[\n", text);
        }
        free(text);
        json_decref(head);
        for (size_t i = 0; i < json_array_size(runs); i++) {
            char *run = json_dumps(json_array_get(runs, i), flags);
            printf("%s%s\n", run ? run : "null", i + 1 < json_array_size(runs) ? "," : "");
            free(run);
        }
        printf("]}\n");
        fflush(stdout);
    }
out:
    json_decref(runs);
    if (proto)
        bbt_recording_free(&proto->rec);
    free(proto);
    free(relay_bin);
    free(linkemu_bin);
    rural_profiles_free(&ps);
    return status;
}
