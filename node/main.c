/* node/main.c — bbt-node: options, configuration, signals, and one of its two roles.
 *
 *   bbt-node --config FILE [--set section.key=value]... [--stats] [--x264-preset P] [--check]
 *   bbt-node play --config FILE [--session ID] [--set section.key=value]... [--check]
 *
 * Both roles run on a GLib main loop in the main thread; SIGINT and SIGTERM are GLib unix
 * signal sources on that loop (no handler state, no globals): the loop quits, the role says
 * goodbye (END frames and bye when publishing, bye when playing) and the process exits 0. */
#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/node_config.h"
#include "node/plan.h"
#include "node/play.h"
#include "node/publish.h"
#include "proto/log.h"
#include "proto/status.h"

#define MAX_SETS 64

struct options {
    bool play, check, stats, test_screen;
    const char *config, *session, *preset, *pattern;
    const char *sets[MAX_SETS];
    int nsets;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bbt-node --config FILE [--set section.key=value]... [--stats] [--check]\n"
            "       bbt-node play --config FILE [--session ID] [--set section.key=value]...\n"
            "       bbt-node --version | --help\n"
            "  --config FILE      node configuration (see config/node.example.ini)\n"
            "  --set K=V          override one key, e.g. --set capture.video=camera\n"
            "  --check            validate the configuration and exit\n"
            "  --stats            log the bit rate per track every 5 s and latency at exit\n"
            "  --x264-preset P    x264 speed preset of every layer (default: veryfast up\n"
            "                     to 960x540, ultrafast above)\n"
            "  --test-pattern P   videotestsrc pattern of capture.video=test (default ball;\n"
            "                     smpte keeps the encoders at their bit rates)\n"
            "  --test-screen      with capture.screen=true: the courseware track shows a test\n"
            "                     slide instead of the X screen (demos)\n"
            "  --session ID       play: the session to watch (default [node] session)\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "play") == 0) {
        o->play = true;
        i = 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--config") == 0 && more) {
            o->config = argv[++i];
        } else if (strcmp(a, "--set") == 0 && more && o->nsets < MAX_SETS) {
            o->sets[o->nsets++] = argv[++i];
        } else if (strcmp(a, "--session") == 0 && more && o->play) {
            o->session = argv[++i];
        } else if (strcmp(a, "--x264-preset") == 0 && more) {
            o->preset = argv[++i];
        } else if (strcmp(a, "--test-pattern") == 0 && more) {
            o->pattern = argv[++i];
        } else if (strcmp(a, "--test-screen") == 0) {
            o->test_screen = true;
        } else if (strcmp(a, "--check") == 0) {
            o->check = true;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("bbt-node %s\n", BBT_VERSION);
            exit(0);
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "bbt-node: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int load_config(const struct options *o, bbt_node_config *cfg)
{
    char err[512];
    if (bbt_node_config_load(o->config, cfg, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-node: %s\n", err);
        return -1;
    }
    for (int i = 0; i < o->nsets; i++)
        if (bbt_config_set_arg(bbt_node_directives, bbt_node_directives_count, cfg, o->sets[i],
                               err, sizeof err) != BBT_OK) {
            fprintf(stderr, "bbt-node: --set %s: %s\n", o->sets[i], err);
            bbt_node_config_free(cfg);
            return -1;
        }
    if (bbt_node_config_check(cfg, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-node: %s\n", err);
        bbt_node_config_free(cfg);
        return -1;
    }
    return 0;
}

/* [node] token, or the first line of token_file. NULL (and a message) when unreadable. */
static char *read_token(const bbt_node_config *cfg)
{
    if (!cfg->node.token_file || !cfg->node.token_file[0])
        return g_strdup(cfg->node.token ? cfg->node.token : "");
    gchar *text = NULL;
    GError *e = NULL;
    if (!g_file_get_contents(cfg->node.token_file, &text, NULL, &e)) {
        fprintf(stderr, "bbt-node: [node] token_file: %s\n", e->message);
        g_error_free(e);
        return NULL;
    }
    return g_strstrip(text);
}

static gboolean on_signal(gpointer loop)
{
    BBT_INFO("signal: stopping");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static int run(const struct options *o, const bbt_node_config *cfg, const char *token,
               const char *session)
{
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    guint s1 = g_unix_signal_add(SIGINT, on_signal, loop);
    guint s2 = g_unix_signal_add(SIGTERM, on_signal, loop);
    int err = BBT_OK;
    bbt_publisher *pub = NULL;
    bbt_player *play = NULL;
    bbt_follow *follow = NULL;
    if (!session[0]) { /* no fixed session: follow the timetable (node/plan.h) */
        bbt_follow_opts fo = {.play = o->play, .token = token,
                              .publish = {.x264_preset = o->preset, .test_pattern = o->pattern,
                                          .test_screen = o->test_screen, .stats = o->stats}};
        follow = bbt_follow_new(cfg, &fo, &err);
    } else if (o->play) {
        bbt_play_opts po = {.token = token, .session = session};
        play = bbt_play_new(cfg, &po, &err);
    } else {
        bbt_publisher_opts po = {.token = token, .x264_preset = o->preset,
                                 .test_pattern = o->pattern, .test_screen = o->test_screen,
                                 .stats = o->stats};
        pub = bbt_publisher_new(cfg, &po, &err);
    }
    if (pub || play || follow)
        g_main_loop_run(loop);
    else
        BBT_ERROR("cannot start: %s", bbt_strerror(err));
    bbt_follow_free(follow);
    bbt_publisher_free(pub);
    bbt_play_free(play);
    g_source_remove(s1);
    g_source_remove(s2);
    g_main_loop_unref(loop);
    return err == BBT_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    bbt_node_config cfg;
    if (load_config(&o, &cfg) != 0)
        return 2;
    const char *session = o.session ? o.session : cfg.node.session;
    char *token = read_token(&cfg);
    if (token && o.check) {
        printf("bbt-node: configuration OK%s\n",
               session[0] || cfg.node.classroom[0]
                   ? ""
                   : " (no [node] session, nor a classroom to follow the timetable: needed to "
                     "run, see --help)");
        g_free(token);
        bbt_node_config_free(&cfg);
        return 0;
    }
    if (!token || (!session[0] && !cfg.node.classroom[0])) {
        if (token)
            fprintf(stderr, "bbt-node: no session: set [node] session%s, or [node] classroom "
                            "to follow the timetable\n", o.play ? " or --session" : "");
        g_free(token);
        bbt_node_config_free(&cfg);
        return 2;
    }
    bbt_log_init("node", (enum bbt_log_level)cfg.node.log_level);
    signal(SIGPIPE, SIG_IGN);
    gst_init(NULL, NULL);
    int rc = run(&o, &cfg, token, session);
    g_free(token);
    bbt_node_config_free(&cfg);
    BBT_INFO("stopped");
    return rc;
}
