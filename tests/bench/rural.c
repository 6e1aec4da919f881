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
 * This file: the threads, one run, options. The viewer's hooks are rural_viewer.c, the link
 * rural_net.c, the relay rural_relay.c, the JSON and --expect rural_json.c, the viewer's
 * figures rural_stats.c.
 */
#include "rural_internal.h"

static volatile sig_atomic_t g_signal;
static rural_run *g_run; /* for the exit-time cleanup */

static void on_signal(int sig) { g_signal = sig; }

int64_t run_t(const rural_run *r) { return bench_mono_us() - r->t0; }

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bbt-bench rural: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- the two client threads (the viewer's hooks: rural_viewer.c) ---------------------------- */

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
    for (int i = 0; i < b->o.viewers; i++) {
        b->v[i].idx = i;
        b->v[i].audio_copy = i > 0;
    }
    viewer_connect(b, &b->v[0]);
    /* the copies connect with it, subscribing when the rule says (the player's NetCore.start;
     * it closes them at a LAN's welcome, which no rural profile is) */
    for (int i = 1; i < b->o.viewers; i++) {
        b->v[i].unwanted = true;
        viewer_connect(b, &b->v[i]);
    }
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

/* The viewer's figures for this stream: its camera layers and audio track (rs_init), and the
 * per-second timeline. 0, or 2 when out of memory. */
static int stats_init(rural_run *r, const bench *proto)
{
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
    if (!r->tl || rs_init(&r->rs, layers, nl, audio, audio_bps, audio_frame_us,
                          (size_t)(r->dur_ms / 1000 + 10) * 250) != 0)
        return 2;
    return 0;
}

/* The link, the relay, the two bench threads' state and the publisher, accepted. 0, SKIP (the
 * machine cannot emulate links) or 2. */
static int start_parts(rural_run *r, const bench *proto, bool first)
{
    int status = net_up(r, first);
    if (status != 0)
        return status;
    if (relay_up(r) != 0)
        return 2;
    bench_for_thread(&r->pub, proto, r, 0);
    bench_for_thread(&r->view, proto, r, 1 + r->o->audio_copies);
    if (!r->view.v || !r->pub.lat || !r->view.lat || !(r->reasm = bbt_reasm_new(0, false)))
        return 2;
    r->view.o.fragments = true;
    r->view.o.padding = r->o->padding;
    r->view.o.classroom = "bench-classroom";
    r->view.on_frame = rural_on_frame;
    r->view.on_state = rural_on_state;
    r->view.make_report = rural_make_report;
    r->view.on_pong = rural_on_pong;
    r->view.on_error = rural_on_error;
    r->view.on_welcome = rural_on_welcome;
    if (start_thread(&r->pub_th, pub_main, r) != 0)
        return 2;
    r->pub_started = true;
    for (int64_t until = bench_mono_us() + 10000000;
         atomic_load(&r->pub_state) == 0 && bench_mono_us() < until && !g_signal;)
        usleep(10000);
    if (atomic_load(&r->pub_state) != 1) {
        say("the publisher was not accepted (relay log: %s/relay.log)", r->dir);
        return 2;
    }
    return 0;
}

/* The run starts: the trace file, time 0, the link at its first rate, the viewer subscribing. */
static int start_viewing(rural_run *r, int nch)
{
    const rural_profile *p = r->prof;
    if (r->o->trace) {
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
        return 2;
    r->view_started = true;
    say("%s, adaptation %s: %.0f s, link %lld kbit/s, RTT %lld ms, loss %g %%%s", p->name,
        r->adapt ? "on" : "off", (double)r->dur_ms / 1000, (long long)p->rate_kbit,
        (long long)p->rtt_ms, p->loss_pct, nch ? ", with rate changes" : "");
    return 0;
}

/* The link's rate change `c`, now. false when tc failed. */
static bool change_rate(rural_run *r, const rural_step *c)
{
    if (net_set_rate(r, c->kbit) != 0)
        return false;
    pthread_mutex_lock(&r->mu);
    r->link_kbit = c->kbit;
    rs_link(&r->rs, run_t(r), c->kbit);
    if (r->trace)
        fprintf(r->trace, "%.3f,link,%lld,,,,\n", (double)run_t(r) / 1e6, (long long)c->kbit);
    pthread_mutex_unlock(&r->mu);
    return true;
}

/* Until the run's end: the rate changes on time, the relay's view sampled (--trace), every part
 * watched. false when a part failed (said why) or a signal came. */
static bool drive(rural_run *r, const rural_step *changes, int nch)
{
    int k = 0;
    int64_t next_sample = r->t0;
    for (;;) {
        int64_t t = run_t(r);
        if (t >= r->dur_ms * 1000 || g_signal)
            return !g_signal;
        if (atomic_load(&r->view_state) < 0) {
            say("the viewer %s", r->view_errno ? "could not enter the namespace"
                                               : "could not connect or was closed");
            return false;
        }
        if (k < nch && t >= changes[k].at_ms * 1000) {
            if (!change_rate(r, &changes[k++]))
                return false;
            continue;
        }
        if (!child_alive(&r->relay, "the relay") || !child_alive(&r->net.linkemu, "bbt-linkemu") ||
            atomic_load(&r->pub_state) < 0)
            return false;
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
}

/* The run is over: the relay's figures, the threads stopped, the viewer's figures, the JSON and
 * the expectations. Returns 0 or 1 (an --expect failed); *res the run's JSON. */
static int finish(rural_run *r, rs_summary *sum, json_t **res)
{
    json_t *relay = relay_metrics(r);
    json_t *tbf = tbf_stats(&r->net);
    pthread_mutex_lock(&r->mu);
    int64_t t_end = run_t(r);
    r->closed = true;
    pthread_mutex_unlock(&r->mu);
    run_cleanup(r); /* threads joined: rs is ours alone now */
    rs_finish(&r->rs, t_end, sum);
    *res = run_json(r, sum, t_end);
    json_object_set_new(json_object_get(*res, "link"), "tbf", tbf);
    if (relay)
        json_object_set_new(relay, "decisions", relay_decisions(r));
    json_t *far = relay ? json_object_get(relay, "lossy_far") : NULL;
    r->relay_lossy_far = json_is_integer(far) ? (int)json_integer_value(far) : -1;
    json_t *pace = relay ? json_object_get(relay, "pacing_kbps") : NULL;
    r->relay_pacing_kbps = json_is_number(pace) ? json_number_value(pace) : NAN;
    json_object_set_new(*res, "relay", relay ? relay : json_null());
    int status = check_expect(r, sum);
    say("%s, adaptation %s: audio gap max %.0f ms (%llu over 200 ms), stalls %.1f %%, latency "
        "p50/p95/max %.0f/%.0f/%.0f ms, goodput %.0f kbit/s",
        r->prof->name, r->adapt ? "on" : "off", sum->audio_gap_max_ms,
        (unsigned long long)sum->audio_gaps_over_200ms, sum->video_stall_ratio * 100,
        sum->latency_p50_ms, sum->latency_p95_ms, sum->latency_max_ms, sum->goodput_kbps);
    return status;
}

static void run_free(rural_run *r)
{
    bench_thread_free(&r->pub);
    bench_thread_free(&r->view);
    rs_free(&r->rs);
    bbt_reasm_free(r->reasm);
    free(r->tl);
    if (r->trace)
        fclose(r->trace);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* One profile with adaptation on or off. Returns 0, 1 (expectation failed), 2 or SKIP; *out the
 * run's JSON. */
static int run_one(const rural_opts *o, const rural_profile *p, bool adapt, const bench *proto,
                   const char *topdir, bool first, json_t **out)
{
    rural_run *r = calloc(1, sizeof *r);
    rs_summary *sum = calloc(1, sizeof *sum);
    if (!r || !sum) {
        free(r);
        free(sum);
        return 2;
    }
    r->o = o;
    r->prof = p;
    r->adapt = adapt;
    r->relay = -1;
    r->announced = -2;
    r->audio_lat_min = r->copy_first_t = r->copy_saturated_since = r->lossy_t = -1;
    r->copy_backoff = COPY_BACKOFF_US;
    for (int i = 0; i < RURAL_MAX_COPIES; i++)
        r->extra_backoff[i] = COPY_BACKOFF_US;
    r->copies_wanted = 1;
    r->copy_on_since = r->last_taken_t = r->copy_more_t = -1;
    r->dur_ms = o->seconds > 0 ? (int64_t)(o->seconds * 1000) : p->duration_ms;
    snprintf(r->dir, sizeof r->dir, "%s/%s-%s", topdir, p->name, adapt ? "adapt" : "fixed");
    mkdir(r->dir, 0755);
    pthread_mutex_init(&r->mu, NULL);
    net_names(&r->net);
    g_run = r;
    json_t *res = NULL;
    rural_step changes[MAX_CHANGES];
    int nch = rural_profile_changes(p, r->dur_ms, changes, MAX_CHANGES);
    int status = stats_init(r, proto);
    if (status == 0)
        status = start_parts(r, proto, first);
    if (status == 0)
        status = start_viewing(r, nch);
    if (status == 0)
        status = drive(r, changes, nch) ? finish(r, sum, &res) : 2;
    if (g_signal)
        say("interrupted: cleaning up");
    run_cleanup(r);
    g_run = NULL;
    if (status == 2 && !g_signal)
        say("logs of the failed run: %s", r->dir);
    run_free(r);
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
            "                      upswitch_after_recovery_ms (the worst event; never = inf),\n"
            "                      audio_copy_frames_first (audio frames the copy brought first),\n"
            "                      audio_copies_wanted (the player's rule), relay_lossy_far\n"
            "                      (the relay's bbt_viewer_lossy_far at the end),\n"
            "                      relay_pacing_kbps (its bbt_viewer_pacing_bps at the end)\n"
            "  --timeline          add each run's per-second timeline to the JSON\n"
            "  --trace             write every frame's arrival, every `state` and, every 250 ms,\n"
            "                      the relay's view of the viewer (/metrics) to RUNDIR/trace.csv\n"
            "                      (implies --keep)\n"
            "  --keyframes answer|ignore  the publisher answers keyframe requests like bbt-node\n"
            "                      (default) or leaves switches to the stream's 2 s keyframes\n"
            "  --seed S            bbt-linkemu's random seed (default 1)\n"
            "  --audio-copies N    audio copies on connections of their own, subscribed and\n"
            "                      unsubscribed by the player's rule (docs/PLAYER.md); 0-3,\n"
            "                      default 2 like the player; 0: the main connection alone\n"
            "  --padding on|off    the viewer takes padding (docs/PROTOCOL.md §2.6), so the relay\n"
            "                      probes its link with padding before a switch up (default on,\n"
            "                      like the player); off: it probes by switching layers\n"
            "  --keep              keep the logs (relay, bbt-linkemu) of every run\n"
            "  --relay-bin PATH    default: bbt-relay next to bbt-bench\n"
            "  --linkemu-bin PATH  default: bbt-linkemu next to bbt-bench\n"
            "  --stream FILE       default " BBT_BENCH_DEFAULT_STREAM "\n"
            "Exit: 0 done, 1 an --expect failed, 2 error, 77 the machine cannot emulate links.\n");
}

static int parse_opts(int argc, char **argv, rural_opts *o)
{
    *o = (rural_opts){.profiles_path = BBT_BENCH_PROFILES, .stream_path = BBT_BENCH_DEFAULT_STREAM,
                      .adapt = 2, .answer_keys = true, .seed = 1, .audio_copies = 2,
                      .padding = true};
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
        } else if (!strcmp(a, "--audio-copies")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > RURAL_MAX_COPIES)
                goto bad;
            o->audio_copies = (int)n;
        } else if (!strcmp(a, "--adapt")) {
            o->adapt = !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : !strcmp(v, "both") ? 2 : -1;
            if (o->adapt < 0)
                goto bad;
        } else if (!strcmp(a, "--padding")) {
            if (strcmp(v, "on") && strcmp(v, "off"))
                goto bad;
            o->padding = !strcmp(v, "on");
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

/* Every name of --profile is a profile of the file. */
static bool profiles_known(const rural_opts *o, const rural_profiles *ps)
{
    for (const char *p = o->only; p && *p;) {
        size_t len = strcspn(p, ",");
        char name[RURAL_NAME_MAX + 1];
        int nlen = (int)(len < RURAL_NAME_MAX ? len : RURAL_NAME_MAX);
        snprintf(name, sizeof name, "%.*s", nlen, p);
        if (!rural_profile_find(ps, name)) {
            say("no profile [%s] in %s", name, o->profiles_path);
            return false;
        }
        p += len + (p[len] == ',');
    }
    return true;
}

/* What a run needs of the machine and the stream: 0, SKIP (said why) or 2. */
static int prepare(rural_opts *o, bench *proto)
{
    if (geteuid() != 0) {
        say("SKIP: needs root (network namespaces, tc, iptables, NFQUEUE); run it with sudo");
        return SKIP;
    }
    if (access(o->linkemu_bin, X_OK) != 0) {
        say("SKIP: %s is missing (built only with libnetfilter-queue-dev installed)",
            o->linkemu_bin);
        return SKIP;
    }
    char err[512];
    if (bbt_recording_load(o->stream_path, &proto->rec, err, sizeof err) != BBT_OK) {
        say("%s (build it: cmake --build build --target bench-stream)", err);
        return 2;
    }
    proto->o = (bench_opts){.mode = "rural", .viewers = 0, .layer = -1, .session = "rural",
                            .stream_path = o->stream_path, .report_ms = 1000, .ping_ms = 5000,
                            .connect_timeout_s = 20, .use_ev = BENCH_HAVE_EV,
                            .answer_keyframes = o->answer_keys, .relay_cpu = -1,
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
    return 0;
}

/* Every selected profile, adaptation on then off, into runs. 0, 1 (an --expect failed), 2 (a
 * run failed or a signal came) or SKIP. */
static int run_all(const rural_opts *o, const rural_profiles *ps, const bench *proto,
                   const char *topdir, json_t *runs)
{
    int status = 0;
    bool first = true, failed_run = false;
    for (int i = 0; i < ps->n && !g_signal; i++) {
        if (!selected(o, ps->p[i].name))
            continue;
        for (int a = 1; a >= 0 && !g_signal; a--) {
            if (o->adapt != 2 && o->adapt != a)
                continue;
            json_t *res = NULL;
            int rc = run_one(o, &ps->p[i], a == 1, proto, topdir, first, &res);
            first = false;
            if (res)
                json_array_append_new(runs, res);
            if (rc == SKIP)
                return SKIP;
            if (rc == 2)
                failed_run = true;
            if (rc == 1 && status == 0)
                status = 1;
        }
    }
    return failed_run || g_signal ? 2 : status;
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
    if (!proto || !runs || !profiles_known(&o, &ps))
        goto out;
    if (!o.relay_bin)
        o.relay_bin = relay_bin = sibling("bbt-relay");
    if (!o.linkemu_bin)
        o.linkemu_bin = linkemu_bin = sibling("bbt-linkemu");
    if (!o.relay_bin || !o.linkemu_bin || (status = prepare(&o, proto)) != 0)
        goto out;
    char topdir[] = "/tmp/bbt-rural.XXXXXX";
    if (!mkdtemp(topdir)) {
        say("cannot make a directory in /tmp: %s", strerror(errno));
        status = 2;
        goto out;
    }
    status = run_all(&o, &ps, proto, topdir, runs);
    if (status == SKIP || (!o.keep && status != 2))
        run_cmd(NULL, 0, "rm -rf %s", topdir);
    else
        say("logs: %s", topdir);
    if (status != SKIP)
        print_document(&o, runs);
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
