/* relay/main.c — bbt-relay: options, configuration, signals, and the server's life.
 *
 *   bbt-relay --config /etc/banbantong/relay.ini [--set section.key=value ...]
 *   bbt-relay --check --config FILE     validate the configuration and exit
 *
 * SIGINT/SIGTERM are taken by a dedicated thread (sigwait) that asks the server to stop: every
 * client then receives a close frame with 1001 and the process exits 0. No signal handler runs
 * on the event-loop thread, and no global state is needed for it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/relay_config.h"
#include "proto/log.h"
#include "proto/status.h"
#include "relay/firstrun.h"
#include "relay/server.h"

struct signal_waiter {
    sigset_t set;
    bbt_relay *relay;
};

static void *wait_signals(void *arg)
{
    struct signal_waiter *w = arg;
    int sig = 0;
    if (sigwait(&w->set, &sig) == 0 && w->relay) {
        BBT_INFO("signal %d: stopping", sig);
        bbt_relay_stop(w->relay);
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bbt-relay --config FILE [--set section.key=value]... [--check]\n"
               "       bbt-relay --version | --help\n"
               "  --config FILE   relay configuration (see config/relay.example.ini)\n"
               "  --set K=V       override one key, e.g. --set relay.port=9000\n"
               "  --check         validate the configuration and exit\n");
}

struct options {
    const char *config;
    const char *sets[64];
    int nsets;
    int check;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 && i + 1 < argc) {
            o->config = argv[++i];
        } else if (strcmp(a, "--set") == 0 && i + 1 < argc && o->nsets < 64) {
            o->sets[o->nsets++] = argv[++i];
        } else if (strcmp(a, "--check") == 0) {
            o->check = 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("bbt-relay %s\n", BBT_VERSION);
            exit(0);
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "bbt-relay: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int load_config(const struct options *o, bbt_relay_config *cfg)
{
    char err[512];
    if (bbt_relay_config_load(o->config, cfg, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-relay: %s\n", err);
        return -1;
    }
    for (int i = 0; i < o->nsets; i++)
        if (bbt_config_set_arg(bbt_relay_directives, bbt_relay_directives_count, cfg, o->sets[i],
                               err, sizeof err) != BBT_OK) {
            fprintf(stderr, "bbt-relay: --set %s: %s\n", o->sets[i], err);
            bbt_relay_config_free(cfg);
            return -1;
        }
    /* no TLS configured: the relay's own county CA (relay/firstrun.h); --check writes nothing */
    if (bbt_firstrun_tls(cfg, !o->check, err, sizeof err) != BBT_OK ||
        bbt_relay_config_check(cfg, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-relay: %s\n", err);
        bbt_relay_config_free(cfg);
        return -1;
    }
    return 0;
}

/* The first operator token, printed once (relay/firstrun.h); only where tokens are required. */
static int first_operator_token(const bbt_relay_config *cfg)
{
    char err[512];
    bool created = false;
    if (!cfg->auth.required)
        return 0;
    if (bbt_firstrun_operator(cfg, cfg->auth.secret_file, &created, err, sizeof err) != BBT_OK) {
        fprintf(stderr, "bbt-relay: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    bbt_log_init("relay", BBT_LOG_INFO); /* until the configuration names the level */
    bbt_relay_config cfg;
    if (load_config(&o, &cfg) != 0)
        return 2;
    if (o.check) {
        printf("bbt-relay: configuration OK\n");
        bbt_relay_config_free(&cfg);
        return 0;
    }
    bbt_log_init("relay", (enum bbt_log_level)cfg.relay.log_level);
    signal(SIGPIPE, SIG_IGN);
    if (first_operator_token(&cfg) != 0) {
        bbt_relay_config_free(&cfg);
        return 1;
    }
    struct signal_waiter w = {.relay = NULL};
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGINT);
    sigaddset(&w.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &w.set, NULL); /* inherited by every thread created after */
    int err;
    bbt_relay *r = bbt_relay_new(&cfg, &err);
    if (!r) {
        fprintf(stderr, "bbt-relay: cannot start: %s\n", bbt_strerror(err));
        bbt_relay_config_free(&cfg);
        return 1;
    }
    w.relay = r;
    pthread_t tid;
    if (pthread_create(&tid, NULL, wait_signals, &w) != 0) {
        BBT_ERROR("cannot start the signal thread");
        bbt_relay_free(r);
        bbt_relay_config_free(&cfg);
        return 1;
    }
    bbt_relay_run(r);
    pthread_join(tid, NULL); /* run only returns after a signal asked it to */
    bbt_relay_free(r);
    bbt_relay_config_free(&cfg);
    BBT_INFO("stopped");
    return 0;
}
