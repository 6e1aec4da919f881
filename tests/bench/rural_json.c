/* tests/bench/rural_json.c — `bbt-bench rural`'s output: one run's JSON object (the figures of
 * rural_stats.h, the link's and the relay's counters), the --expect checks against it, and the
 * document of all runs on stdout (see rural.c for the whole). */
#include "rural_internal.h"

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

json_t *tbf_stats(const rural_net *n)
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
/* The link as configured and as it behaved: its rate changes, mean rate, bbt-linkemu's counts. */
static json_t *link_json(const rural_run *r, int64_t t_end)
{
    const rural_profile *p = r->prof;
    const rural_stats *rs = &r->rs;
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
    return link;
}

/* --timeline: one row a second. */
static json_t *timeline_json(const rural_run *r)
{
    json_t *tl = json_array();
    for (size_t i = 0; i < r->ntl; i++) {
        const tl_row *x = &r->tl[i];
        json_array_append_new(tl, json_pack("[f, i, i, f, f, f]", x->t_ms / 1000.0, x->kbit,
                                            x->layer, round(x->p95_ms), round(x->kbps),
                                            (double)x->buffer_ms));
    }
    return tl;
}

json_t *run_json(rural_run *r, const rs_summary *s, int64_t t_end)
{
    const rural_profile *p = r->prof;
    rural_stats *rs = &r->rs;
    json_t *o = json_object();
    json_object_set_new(o, "profile", json_string(p->name));
    json_object_set_new(o, "adapt", json_boolean(r->adapt));
    json_object_set_new(o, "seconds", json_real(round((double)t_end / 1e5) / 10));
    json_object_set_new(o, "link", link_json(r, t_end));
    json_object_set_new(o, "fragment_errors", json_integer((json_int_t)r->frag_errors));
    json_object_set_new(o, "padding", json_boolean(r->o->padding));
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
    json_object_set_new(o, "audio_copies",
                        json_pack("{s:i, s:i, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I}",
                                  "connections", r->o->audio_copies, "wanted", r->copies_wanted,
                                  "more_at_s",
                                  r->copy_more_t < 0 ? json_null()
                                                     : json_real(round((double)r->copy_more_t / 1e5) / 10),
                                  "lossy_at_s",
                                  r->lossy_t < 0 ? json_null()
                                                 : json_real(round((double)r->lossy_t / 1e5) / 10),
                                  "subscribes", (json_int_t)r->copy_subscribes,
                                  "unsubscribes", (json_int_t)r->copy_unsubscribes,
                                  "early", (json_int_t)r->copy_early, "early_unneeded",
                                  (json_int_t)r->copy_early_dropped, "no_room",
                                  (json_int_t)r->copy_no_room, "first_subscribe_s",
                                  r->copy_first_t < 0 ? json_null()
                                                      : json_real(round((double)r->copy_first_t / 1e5) / 10),
                                  "frames_first", (json_int_t)r->audio_from_copy, "duplicates",
                                  (json_int_t)r->audio_dup, "ahead_before_joining",
                                  (json_int_t)r->audio_copy_ahead));
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
        json_object_set_new(o, "timeline_columns",
                            json_pack("[s, s, s, s, s, s]", "t_s", "link_kbit", "layer_track",
                                      "latency_p95_ms", "goodput_kbps", "player_buffer_ms"));
        json_object_set_new(o, "timeline", timeline_json(r));
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
    if (!strcmp(name, "audio_copy_frames_first")) return (double)r->audio_from_copy;
    if (!strcmp(name, "audio_copies_wanted")) return (double)r->copies_wanted;
    if (!strcmp(name, "relay_lossy_far"))
        return r->relay_lossy_far < 0 ? NAN : (double)r->relay_lossy_far;
    if (!strcmp(name, "relay_pacing_kbps"))
        return r->relay_pacing_kbps;
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
    "upswitch_after_recovery_ms", "audio_copy_frames_first", "audio_copies_wanted",
    "relay_lossy_far", "relay_pacing_kbps", NULL};

int parse_expect(const char *s, expect *e)
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
int check_expect(const rural_run *r, const rs_summary *s)
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

/* The first line of a small /proc file into buf (cut at the newline), or "?" */
static void read_proc_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)cap, f))
        snprintf(buf, cap, "?");
    buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

/* One document on stdout, one run per line (grep-able, and a timeline stays one line). */
void print_document(const rural_opts *o, json_t *runs)
{
    double load[3] = {-1, 0, 0};
    char line[128], cc[32], reord[16];
    read_proc_line("/proc/loadavg", line, sizeof line);
    if (sscanf(line, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = -1;
    /* the relay's TCP congestion control is the machine's default (a namespace cannot choose its
     * own here): it shapes how the link's buffers fill, so it is reported */
    read_proc_line("/proc/sys/net/ipv4/tcp_congestion_control", cc, sizeof cc);
    /* ... and so is how long its repair of a loss waits (docs/operator-guide, Host settings) */
    read_proc_line("/proc/sys/net/ipv4/tcp_reordering", reord, sizeof reord);
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
    json_t *head = json_pack("{s:s, s:s, s:s, s:s, s:[f,f,f]}", "bench", "rural", "profiles",
                             o->profiles_path, "tcp_congestion_control", cc, "tcp_reordering",
                             reord, "loadavg", load[0], load[1], load[2]);
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
