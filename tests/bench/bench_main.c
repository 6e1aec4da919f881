/* tests/bench/bench_main.c — bbt-bench: options and the phases of a run.
 *
 *   bbt-bench fanout (--relay ws://127.0.0.1:PORT/ws [--relay-pid PID] | --spawn-relay
 *                     [--relay-bin PATH]) --viewers N --seconds T [--layer TRACK] [--session ID]
 *                    [--stream FILE] [--json] [--allow-loss] [...]
 *   bbt-bench idle   (same relay options) --viewers N [--seconds T] [--json]
 *
 * fanout: spawn the relay (or use the given one), connect the publisher and wait for
 * `published`, connect the viewers ramp_batch at a time, then — all connected — sample the
 * relay's CPU and RSS, run the measured interval (RSS every rss_interval s), sample again, stop
 * the publisher and let the viewers drain, then count. idle: the viewers subscribe to a session
 * nobody publishes; relay RSS before and after, then an optional soak.
 * Exit status: 0 when every viewer connected and stayed, and (unless --allow-loss) no frame was
 * lost; 1 when the run did not meet that; 2 for bad options or a setup failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#ifdef BBT_BENCH_HAVE_LIBEV
#include <ev.h>
#endif
#include "proto/log.h"
#include "proto/status.h"
#include "report.h"

#ifndef BBT_BENCH_DEFAULT_STREAM
#define BBT_BENCH_DEFAULT_STREAM "bench/stream.bbtrec"
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: bbt-bench fanout|idle [options]\n"
        "       bbt-bench rural [options]   (rural links: bbt-bench rural --help)\n"
        "  --relay URL         ws://127.0.0.1:PORT/ws of a running relay\n"
        "  --relay-pid PID     that relay's process, for CPU and RSS readings\n"
        "  --spawn-relay       start bbt-relay on a free loopback port (pinned to --relay-cpu)\n"
        "  --relay-bin PATH    relay binary (default: bbt-relay next to bbt-bench)\n"
        "  --relay-cmd CMD     spawn `sh -c CMD` instead, with PORT set (e.g. 'exec node\n"
        "                      tests/bench/node-ws-relay/server.js $PORT'); implies --spawn-relay\n"
        "  --viewers N         viewers to connect (default 100)\n"
        "  --seconds T         measured interval (fanout, default 10) or soak (idle, default 0)\n"
        "  --layer TRACK       video track id the viewers pin (default 1 = 640x360)\n"
        "  --session ID        session id (default bench)\n"
        "  --stream FILE       recording to replay (default " BBT_BENCH_DEFAULT_STREAM ")\n"
        "  --ramp N/MS         connect N viewers every MS ms (default 200/100)\n"
        "  --report-ms MS      viewer report interval, 0 = none (default 1000)\n"
        "  --relay-cpu C       CPU for a spawned relay (default 0; -1 = not pinned); with\n"
        "                      --relay-pid, the CPU that relay was pinned to (for core figures)\n"
        "  --cpu C             CPU for the bench (default 1 with --spawn-relay; -1 = not pinned)\n"
        "  --rss-interval S    RSS sample interval (default 10)\n"
        "  --drain S           after the interval, wait up to S s for in-flight frames (default 3)\n"
        "  --token T           hello token (default empty: a lab relay)\n"
        "  --client lws|raw    viewers' WebSocket client: libwebsockets' (default) or the\n"
        "                      bench's own minimal one (cheaper: for capacity runs)\n"
        "  --loop ev|poll      event loop: libev/epoll (default when built with libev) or\n"
        "                      lws's own poll()\n"
        "  --json              print one JSON object on stdout\n"
        "  --allow-loss        exit 0 even when frames were lost\n");
}

static int opt_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int opt_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_value(bench_opts *o, const char *a, const char *v)
{
    int pid = 0;
    if (!strcmp(a, "--relay")) o->relay_url = v;
    else if (!strcmp(a, "--relay-bin")) o->relay_bin = v;
    else if (!strcmp(a, "--relay-cmd")) o->relay_cmd = v, o->spawn_relay = true;
    else if (!strcmp(a, "--session")) o->session = v;
    else if (!strcmp(a, "--stream")) o->stream_path = v;
    else if (!strcmp(a, "--token")) o->token = v;
    else if (!strcmp(a, "--viewers")) return opt_int(v, 0, 1000000, &o->viewers);
    else if (!strcmp(a, "--seconds")) return opt_num(v, 0, 86400, &o->seconds);
    else if (!strcmp(a, "--layer")) return opt_int(v, 0, 31, &o->layer);
    else if (!strcmp(a, "--report-ms")) return opt_int(v, 0, 60000, &o->report_ms);
    else if (!strcmp(a, "--relay-cpu")) return opt_int(v, -1, 1023, &o->relay_cpu);
    else if (!strcmp(a, "--cpu")) return opt_int(v, -1, 1023, &o->bench_cpu);
    else if (!strcmp(a, "--rss-interval")) return opt_int(v, 1, 3600, &o->rss_interval_s);
    else if (!strcmp(a, "--drain")) return opt_num(v, 0, 600, &o->drain_seconds);
    else if (!strcmp(a, "--relay-pid")) {
        if (opt_int(v, 1, 1 << 30, &pid))
            return -1;
        o->relay_pid = (pid_t)pid;
    } else if (!strcmp(a, "--ramp")) {
        char *slash = strchr(v, '/');
        if (!slash || sscanf(v, "%d/%d", &o->ramp_batch, &o->ramp_interval_ms) != 2 ||
            o->ramp_batch < 1 || o->ramp_interval_ms < 1)
            return -1;
    } else
        return 1; /* not an option with a value */
    return 0;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.viewers = 100, .seconds = -1, .layer = 1, .session = "bench",
                      .stream_path = BBT_BENCH_DEFAULT_STREAM, .ramp_batch = 200,
                      .ramp_interval_ms = 100, .report_ms = 1000, .relay_cpu = -2,
                      .bench_cpu = -2, .rss_interval_s = 10, .drain_seconds = 3,
                      .connect_timeout_s = 30, .use_ev = BENCH_HAVE_EV};
    if (argc < 2 || (strcmp(argv[1], "fanout") && strcmp(argv[1], "idle")))
        return -1;
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--spawn-relay")) o->spawn_relay = true;
        else if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--allow-loss")) o->allow_loss = true;
        else if (!strcmp(a, "--loop") && i + 1 < argc && !strcmp(argv[i + 1], "poll"))
            o->use_ev = false, i++;
        else if (!strcmp(a, "--loop") && i + 1 < argc && !strcmp(argv[i + 1], "ev"))
            o->use_ev = true, i++;
        else if (!strcmp(a, "--client") && i + 1 < argc && !strcmp(argv[i + 1], "raw"))
            o->raw_client = true, i++;
        else if (!strcmp(a, "--client") && i + 1 < argc && !strcmp(argv[i + 1], "lws"))
            o->raw_client = false, i++;
        else if (i + 1 < argc && parse_value(o, a, argv[i + 1]) == 0) i++;
        else {
            fprintf(stderr, "bbt-bench: bad or incomplete option '%s'\n", a);
            return -1;
        }
    }
    if (o->use_ev && !BENCH_HAVE_EV) {
        fprintf(stderr, "bbt-bench: built without libev: --loop poll only\n");
        return -1;
    }
    if (o->seconds < 0)
        o->seconds = strcmp(o->mode, "fanout") == 0 ? 10 : 0;
    if (o->relay_cpu == -2)
        o->relay_cpu = o->spawn_relay ? 0 : -1;
    if (o->bench_cpu == -2)
        o->bench_cpu = o->spawn_relay && sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : -1;
    if (!o->spawn_relay && !o->relay_url) {
        fprintf(stderr, "bbt-bench: give --relay URL or --spawn-relay\n");
        return -1;
    }
    for (const char *p = o->session; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
            return -1;
    return o->session[0] ? 0 : -1;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int parse_url(bench *b, const char *url)
{
    char tmp[512];
    const char *prot, *ads, *path;
    snprintf(tmp, sizeof tmp, "%s", url);
    if (lws_parse_uri(tmp, &prot, &ads, &b->port, &path) ||
        (strcmp(prot, "ws") && strcmp(prot, "wss"))) {
        fprintf(stderr, "bbt-bench: --relay must be ws://HOST:PORT/PATH or wss://...\n");
        return BBT_EINVAL;
    }
    b->tls = strcmp(prot, "wss") == 0;
    snprintf(b->host, sizeof b->host, "%s", ads);
    snprintf(b->path, sizeof b->path, "/%s", path);
    return BBT_OK;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl); /* the spawned relay inherits it */
    }
}

static int start_relay(bench *b)
{
    if (!b->o.spawn_relay)
        return parse_url(b, b->o.relay_url);
    char bin[4096];
    if (!b->o.relay_bin) {
        ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 16);
        if (n <= 0)
            return BBT_EIO;
        bin[n] = '\0';
        char *slash = strrchr(bin, '/');
        strcpy(slash ? slash + 1 : bin, "bbt-relay");
        b->o.relay_bin = bin;
    }
    snprintf(b->tmpdir, sizeof b->tmpdir, "/tmp/bbt-bench.XXXXXX");
    int port = free_port();
    if (!mkdtemp(b->tmpdir) || port < 0)
        return BBT_EIO;
    b->o.relay_pid = relay_spawn(b->o.relay_bin, b->o.relay_cmd, b->tmpdir, port, b->o.relay_cpu);
    b->o.relay_bin = NULL; /* `bin` goes out of scope */
    if (b->o.relay_pid < 0)
        return BBT_EIO;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws", port);
    return parse_url(b, url);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    bench *b = lws_container_of(sul, bench, sul_tick);
    int64_t now = bench_mono_us();
    if (b->ramping && now >= b->next_ramp_us) {
        for (int k = 0; k < b->o.ramp_batch && b->next_connect < b->o.viewers; k++) {
            viewer *v = &b->v[b->next_connect];
            v->idx = b->next_connect++;
            viewer_connect(b, v);
        }
        b->next_ramp_us = now + (int64_t)b->o.ramp_interval_ms * 1000;
        b->ramping = b->next_connect < b->o.viewers;
    }
    viewers_tick(b, now);
    lws_sul_schedule(b->ctx, 0, &b->sul_tick, on_tick, BENCH_TICK_US);
}

int bench_create_context(bench *b)
{
    b->protocols[0] = (struct lws_protocols){"bench-publisher", publisher_callback, 0, 65536, 0,
                                             NULL, 0};
    b->protocols[1] = (struct lws_protocols){"bench-viewer", viewer_callback, 0, 65536, 0, NULL,
                                             0};
    b->protocols[2] = (struct lws_protocols){"bench-raw-viewer", viewer_raw_callback, 0, 0, 0,
                                             NULL, 0};
    b->rng = (uint64_t)bench_wall_us() | 1;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = b->protocols;
    info.user = b;
    info.pt_serv_buf_size = 65536; /* read up to 64 KiB per recv() */
    info.timeout_secs = (unsigned)b->o.connect_timeout_s;
    if (b->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
#ifdef BBT_BENCH_HAVE_LIBEV
    /* epoll through libev: lws's own poll() walks every descriptor at every wake-up, which
     * was a third of the bench's CPU with a thousand viewers */
    void *foreign[1] = {NULL};
    if (b->o.use_ev) {
        if (!(b->evloop = ev_loop_new(EVBACKEND_EPOLL)))
            return BBT_EIO;
        foreign[0] = b->evloop;
        info.options |= LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = foreign;
    }
#endif
    lws_set_log_level(LLL_ERR, NULL);
    b->ctx = lws_create_context(&info);
    if (!b->ctx)
        return BBT_EIO;
    lws_sul_schedule(b->ctx, 0, &b->sul_tick, on_tick, BENCH_TICK_US);
    return BBT_OK;
}

/* ---- phases ------------------------------------------------------------------------------- */

/* Serve until `done` (if given) is true, *b->stop is set or `seconds` have passed. */
void bench_run_for(bench *b, double seconds, bench_pred done)
{
    int64_t until = bench_mono_us() + (int64_t)(seconds * 1e6);
    while (bench_mono_us() < until && !(done && done(b)) && !(b->stop && *b->stop)) {
#ifdef BBT_BENCH_HAVE_LIBEV
        if (b->evloop) {
            ev_run(b->evloop, EVRUN_ONCE); /* the 10 ms tick bounds the wait */
            continue;
        }
#endif
        if (lws_service(b->ctx, 0) < 0)
            break;
    }
}

static bool pub_ready(const bench *b)
{
    return b->pub.published || b->pub.failed;
}

static bool all_resolved(const bench *b)
{
    return !b->ramping && b->c.connected + b->c.failed + b->c.dropped >= b->o.viewers;
}

static int ramp_viewers(bench *b)
{
    b->ramping = b->o.viewers > 0;
    b->next_ramp_us = 0;
    double ramp_s = (double)b->o.viewers / b->o.ramp_batch * b->o.ramp_interval_ms / 1000.0;
    bench_run_for(b, ramp_s + b->o.connect_timeout_s, all_resolved);
    b->ramping = false;
    return b->c.connected == b->o.viewers ? BBT_OK : BBT_ETIMEOUT;
}

static void sample_relay(const bench *b, proc_sample *s)
{
    if (proc_sample_read(b->o.relay_pid, s) != BBT_OK)
        *s = (proc_sample){-1, -1};
}

/* The relay's own latency histograms into h: false when they cannot be had (TLS, a relay that
 * has none). A blocking GET of a few ms, outside the measured part. */
static bool sample_relay_hists(const bench *b, relay_hists *h)
{
    char *text = b->tls ? NULL : relay_get_metrics(b->host, b->port);
    bool ok = text && prom_hist_parse(text, "bbt_queue_delay_ms", &h->queue) == BBT_OK &&
              prom_hist_parse(text, "bbt_frame_age_ms", &h->age) == BBT_OK &&
              prom_hist_parse(text, "bbt_ingest_age_ms", &h->ingest) == BBT_OK;
    free(text);
    return ok;
}

/* The measured interval: T seconds with RSS samples every rss_interval_s. */
static void measure(bench *b, bench_result *r, double seconds)
{
    r->relay_hist_ok = sample_relay_hists(b, &r->h0);
    sample_relay(b, &r->relay0);
    r->bench_cpu0 = proc_self_cpu();
    if (proc_machine_read(&r->machine0, b->o.relay_cpu) != BBT_OK)
        r->machine0.task_s = -1;
    int64_t t0 = bench_mono_us();
    bench_hist_reset(b->lat);
    b->bytes_measured = 0;
    b->measuring = true;
    add_rss_sample(r, r->relay0.rss_kb);
    for (double done = 0; done < seconds;) {
        double step = seconds - done < b->o.rss_interval_s ? seconds - done : b->o.rss_interval_s;
        bench_run_for(b, step, NULL);
        done += step;
        proc_sample s;
        sample_relay(b, &s);
        add_rss_sample(r, s.rss_kb);
        if (!b->o.json)
            fprintf(stderr, "bbt-bench: %.0f s: %d viewers, relay RSS %ld kB\n", done,
                    b->c.connected - b->c.dropped, s.rss_kb);
    }
    b->measuring = false;
    r->seconds = (double)(bench_mono_us() - t0) / 1e6;
    sample_relay(b, &r->relay1);
    r->bench_cpu1 = proc_self_cpu();
    proc_machine_read(&r->machine1, b->o.relay_cpu);
    r->relay_hist_ok = sample_relay_hists(b, &r->h1) && r->relay_hist_ok;
}

static int run_fanout(bench *b, bench_result *r)
{
    if (publisher_connect(b) != BBT_OK)
        return BBT_EIO;
    bench_run_for(b, 10, pub_ready);
    if (!b->pub.published) {
        fprintf(stderr, "bbt-bench: the publisher was not accepted\n");
        return BBT_EIO;
    }
    ramp_viewers(b);
    measure(b, r, b->o.seconds);
    publisher_stop(b);
    bench_run_for(b, b->o.drain_seconds, viewers_caught_up);
    return BBT_OK;
}

static int run_idle(bench *b, bench_result *r)
{
    sample_relay(b, &r->relay0);
    r->rss_before_kb = r->relay0.rss_kb;
    ramp_viewers(b);
    bench_run_for(b, 2, NULL); /* let the relay settle */
    proc_sample s;
    sample_relay(b, &s);
    r->rss_after_kb = s.rss_kb;
    if (b->o.seconds > 0)
        measure(b, r, b->o.seconds);
    else
        r->relay1 = s;
    return BBT_OK;
}

static int setup(bench *b)
{
    char err[512];
    if (strcmp(b->o.mode, "fanout") == 0 &&
        bbt_recording_load(b->o.stream_path, &b->rec, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-bench: %s (build it: cmake --build build --target bench-stream)\n", err);
        return BBT_EIO;
    }
    if (b->rec.ntracks) {
        const bbt_track_info *t = bbt_recording_track(&b->rec, b->o.layer);
        if (!t || t->kind == BBT_TRACK_AUDIO) {
            fprintf(stderr, "bbt-bench: --layer %d is not a video track of the stream\n", b->o.layer);
            return BBT_EINVAL;
        }
        b->want_tracks = 1u << b->o.layer;
        for (size_t i = 0; i < b->rec.ntracks; i++)
            if (b->rec.tracks[i].kind == BBT_TRACK_AUDIO)
                b->want_tracks |= 1u << b->rec.tracks[i].id;
    }
    b->v = calloc((size_t)b->o.viewers + 1, sizeof *b->v);
    b->lat = bench_hist_new();
    if (!b->v || !b->lat)
        return BBT_ENOMEM;
    raise_fd_limit();
    if (start_relay(b) != BBT_OK)
        return BBT_EIO;
    if (pin_self(b->o.bench_cpu) != BBT_OK)
        fprintf(stderr, "bbt-bench: cannot pin to CPU %d\n", b->o.bench_cpu);
    return bench_create_context(b);
}

void bench_destroy_context(bench *b)
{
    b->closing = true;
    if (b->ctx)
        lws_context_destroy(b->ctx);
    b->ctx = NULL;
#ifdef BBT_BENCH_HAVE_LIBEV
    if (b->evloop)
        ev_loop_destroy(b->evloop);
    b->evloop = NULL;
#endif
}

static void teardown(bench *b)
{
    bench_destroy_context(b);
    if (b->o.spawn_relay && b->o.relay_pid > 0) {
        int st = relay_stop(b->o.relay_pid);
        if (st != 0)
            fprintf(stderr, "bbt-bench: the relay exited with status %d (log: %s/relay.log)\n",
                    st, b->tmpdir);
    }
    for (int i = 0; i < b->o.viewers; i++)
        free(b->v[i].text);
    free(b->v);
    free(b->pub.buf);
    free(b->pub.text);
    bench_hist_free(b->lat);
    bbt_recording_free(&b->rec);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "rural"))
        return rural_main(argc, argv);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    bench *b = calloc(1, sizeof *b);
    if (!b)
        return 2;
    if (parse_args(argc, argv, &b->o) != 0) {
        usage(stderr);
        free(b);
        return 2;
    }
    bbt_log_init("bench", BBT_LOG_WARN);
    bench_result r;
    result_init(&r);
    int rc = setup(b);
    if (rc == BBT_OK)
        rc = strcmp(b->o.mode, "fanout") == 0 ? run_fanout(b, &r) : run_idle(b, &r);
    int status = 2;
    if (rc == BBT_OK) {
        result_collect(b, &r);
        status = result_print(b, &r);
    }
    teardown(b);
    free(b);
    return status;
}
