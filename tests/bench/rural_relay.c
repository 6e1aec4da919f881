/* tests/bench/rural_relay.c — `bbt-bench rural`'s relay: its configuration, start, /metrics
 * (the trace's rows and the run's figures) and its adaptation log (see rural.c). */
#include "rural_internal.h"

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

int relay_up(rural_run *r)
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

static char *get_metrics(rural_run *r)
{
    return relay_get_metrics(r->net.hip, r->port);
}

/* `line` begins with `prefix` (a metric's name and what follows it). */
static bool starts(const char *line, const char *prefix)
{
    return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* --trace: the relay's view of the viewer now (level, queue delay, capacity, delivered, and in
 * the latency column the congestion signal adaptation read, then TCP's network queue and the
 * kernel's pacing of the connection in kbit/s, 0: not paced). */
void trace_relay(rural_run *r)
{
    char *m = get_metrics(r);
    double delay = -1, capb = -1, deliv = -1, level = -1, signal = -1, tcpq = -1, pace = -1;
    char *save = NULL;
    for (char *line = m ? strtok_r(m, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        const char *sp = strrchr(line, ' ');
        double v;
        if (!sp || sscanf(sp + 1, "%lf", &v) != 1)
            continue;
        if (starts(line, "bbt_viewer_queue_delay_ms{")) delay = v;
        else if (starts(line, "bbt_viewer_capacity_bps{")) capb = v;
        else if (starts(line, "bbt_viewer_delivered_bps{")) deliv = v;
        else if (starts(line, "bbt_viewer_level{")) level = v;
        else if (starts(line, "bbt_viewer_congestion_ms{")) signal = v;
        else if (starts(line, "bbt_viewer_tcp_queue_ms{")) tcpq = v;
        else if (starts(line, "bbt_viewer_pacing_bps{")) pace = v;
    }
    free(m);
    pthread_mutex_lock(&r->mu);
    fprintf(r->trace, "%.3f,relay,%.0f,%.1f,%.0f,%.0f,%.1f,%.1f,%.0f\n", (double)run_t(r) / 1e6,
            level, delay, capb / 1000, deliv / 1000, signal, tcpq, pace < 0 ? -1 : pace / 1000);
    pthread_mutex_unlock(&r->mu);
}

/* GET /metrics: a few of the relay's own figures for this run. */
json_t *relay_metrics(rural_run *r)
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
        else if (starts(line, "bbt_keyframe_requests_total "))
            json_object_set_new(o, "keyframe_requests", json_integer((json_int_t)v));
        else if (starts(line, "bbt_viewer_switches_total{"))
            json_object_set_new(o, strstr(line, "direction=\"up\"") ? "switches_up"
                                                                   : "switches_down",
                                json_integer((json_int_t)v));
        else if (starts(line, "bbt_viewer_capacity_bps{"))
            json_object_set_new(o, "capacity_kbps_at_end", json_real(round(v / 100) / 10));
        else if (starts(line, "bbt_viewer_lossy_far{"))
            json_object_set_new(o, "lossy_far", json_integer((json_int_t)v));
        else if (starts(line, "bbt_viewer_pacing_bps{"))
            json_object_set_new(o, "pacing_kbps", json_real(round(v / 100) / 10));
        else if (starts(line, "bbt_stuck_holds_total "))
            json_object_set_new(o, "stuck_holds", json_integer((json_int_t)v));
        else if (starts(line, "bbt_padding_bytes_total "))
            json_object_set_new(o, "padding_bytes", json_integer((json_int_t)v));
        else if (starts(line, "bbt_viewer_padding_probes_total{"))
            json_object_set_new(o, strstr(line, "result=\"passed\"") ? "padding_probes_passed"
                                                                      : "padding_probes_failed",
                                json_integer((json_int_t)v));
    }
    free(buf);
    json_object_set_new(o, "frames_dropped", drops);
    return o;
}

/* The relay's adaptation decisions (its log's "adapt" lines), on the run's clock:
 * [[t_s, from_level, to_level, camera_track, delay_ms, capacity_kbps], ...]. */
json_t *relay_decisions(const rural_run *r)
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
