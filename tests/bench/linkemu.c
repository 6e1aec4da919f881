/* tests/bench/linkemu.c — bbt-linkemu: delay, jitter and loss for a test link, in user space.
 *
 *   bbt-linkemu --queue-num N [--delay MS] [--jitter MS] [--loss PERCENT] [--max-held PACKETS]
 *               [--seed S] [--quiet]
 *
 * This machine's kernel has tbf but not netem (/work/shared/PLATFORM.md, "Link emulation"), so
 * the rate of an emulated rural link comes from `tc … tbf` and the rest from this program: it
 * binds NFQUEUE queue N (libnetfilter-queue) and gives every packet the kernel queues there a
 * verdict — drop (with probability PERCENT/100, independently per packet), or accept once it
 * has been held for MS ± jitter (uniform; a packet is never released before the one ahead of it,
 * so the link does not reorder). The scheduler itself is tests/bench/delayline.c.
 *
 * Attach it at the RECEIVING side's PREROUTING, in the namespace that receives the traffic:
 *
 *     iptables -t raw -A PREROUTING -i VETH -j NFQUEUE --queue-num N --queue-bypass
 *     bbt-linkemu --queue-num N --delay 120 --jitter 10 --loss 1
 *
 * (Holding packets in the sender's OUTPUT chain throttles TCP and its drops are not losses.)
 * With --queue-bypass, packets pass untouched while no program listens on the queue, so the link
 * keeps working before start and after exit. `bbt-bench rural` sets all this up itself.
 *
 * Bounded: at most --max-held packets (default 4096) are held; the kernel queue is given the
 * same length, so it drops (like a full link buffer) before the ring could overflow. Memory is
 * allocated once at start. SIGTERM, SIGINT or SIGHUP: every held packet is released (accepted),
 * the queue is unbound, counters go to stderr, exit 0. Prints "ready" on stdout (then closes
 * it) once the queue is bound. Exit 2 for bad options, 3 when the queue cannot be bound (not
 * root, no nfnetlink_queue in the kernel, queue in use) with a message saying which, 1 for a
 * failure while running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delayline.h"

#define RCVBUF (4u << 20)

typedef struct linkemu {
    struct nfq_handle *h;
    struct nfq_q_handle *qh;
    delayline dl;
    uint64_t verdict_errors;
} linkemu;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bbt-linkemu --queue-num N [--delay MS] [--jitter MS] [--loss PERCENT]\n"
            "                   [--max-held PACKETS] [--seed S] [--quiet]\n"
            "Holds the packets of NFQUEUE queue N for MS (± jitter, uniform, no reordering) and\n"
            "drops PERCENT of them. Attach at the receiving side's PREROUTING:\n"
            "  iptables -t raw -A PREROUTING -i VETH -j NFQUEUE --queue-num N --queue-bypass\n"
            "Needs root (CAP_NET_ADMIN). SIGTERM/SIGINT release every held packet and exit.\n");
}

static int num_arg(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static void verdict(linkemu *e, uint32_t id, int v)
{
    if (nfq_set_verdict(e->qh, id, (uint32_t)v, 0, NULL) < 0)
        e->verdict_errors++;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
                     void *data)
{
    linkemu *e = data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    switch (dl_offer(&e->dl, id, mono_us())) {
    case DL_DROP:
        verdict(e, id, NF_DROP);
        break;
    case DL_PASS:
        verdict(e, id, NF_ACCEPT);
        break;
    case DL_HELD:
        break;
    }
    return 0;
}

static void release_due(linkemu *e, int64_t now)
{
    uint32_t id;
    while (dl_pop_due(&e->dl, now, &id))
        verdict(e, id, NF_ACCEPT);
}

/* Bind queue `num`; on failure a message saying why. */
static int bind_queue(linkemu *e, unsigned num, size_t maxlen)
{
    e->h = nfq_open();
    if (!e->h) {
        int err = errno;
        fprintf(stderr, "bbt-linkemu: cannot open a netfilter netlink socket: %s%s\n",
                strerror(err),
                err == EPROTONOSUPPORT ? " (the kernel has no nfnetlink: CONFIG_NETFILTER_NETLINK)"
                                       : "");
        return -1;
    }
    e->qh = nfq_create_queue(e->h, (uint16_t)num, on_packet, e);
    if (!e->qh) {
        int err = errno;
        const char *why = err == EPERM || err == EACCES
                              ? "needs root (CAP_NET_ADMIN in the network namespace)"
                          : err == EBUSY ? "another program is bound to this queue"
                          : err == EOPNOTSUPP || err == ENOENT || err == EPROTONOSUPPORT ||
                                  err == EINVAL
                              ? "the kernel has no NFQUEUE support (modprobe nfnetlink_queue)"
                              : "unexpected error";
        if (geteuid() != 0 && err != EBUSY)
            why = "needs root (CAP_NET_ADMIN in the network namespace)";
        fprintf(stderr, "bbt-linkemu: cannot bind NFQUEUE queue %u: %s (%s)\n", num, why,
                strerror(err));
        return -1;
    }
    if (nfq_set_mode(e->qh, NFQNL_COPY_META, 0) < 0) {
        fprintf(stderr, "bbt-linkemu: cannot set the copy mode: %s\n", strerror(errno));
        return -1;
    }
    if (nfq_set_queue_maxlen(e->qh, (uint32_t)maxlen) < 0)
        fprintf(stderr, "bbt-linkemu: cannot set the queue length (kernel default kept)\n");
    nfnl_rcvbufsiz(nfq_nfnlh(e->h), RCVBUF);
    return 0;
}

static void unbind(linkemu *e)
{
    if (e->qh)
        nfq_destroy_queue(e->qh);
    if (e->h)
        nfq_close(e->h);
    e->qh = NULL;
    e->h = NULL;
}

/* Read and handle everything the socket holds now. */
static int drain_socket(linkemu *e, int fd, char *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n > 0) {
            nfq_handle_packet(e->h, buf, (int)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n < 0 && errno == ENOBUFS) {
            /* the kernel could not hand us packets fast enough: they were dropped there */
            fprintf(stderr, "bbt-linkemu: receive buffer overrun (packets lost in the kernel)\n");
            continue;
        }
        fprintf(stderr, "bbt-linkemu: netlink receive failed: %s\n",
                n == 0 ? "socket closed" : strerror(errno));
        return -1;
    }
}

static int run(linkemu *e)
{
    static char buf[65536 + 4096];
    int fd = nfq_fd(e->h);
    sigset_t none;
    sigemptyset(&none);
    while (!stop_signal) {
        release_due(e, mono_us());
        int64_t next = dl_next_due(&e->dl);
        struct timespec ts = {1, 0}; /* idle: wake once a second anyway */
        if (next != INT64_MAX) {
            int64_t wait = next - mono_us();
            if (wait < 0)
                wait = 0;
            ts = (struct timespec){wait / 1000000, (wait % 1000000) * 1000};
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = ppoll(&pfd, 1, &ts, &none); /* signals are delivered only here */
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "bbt-linkemu: poll: %s\n", strerror(errno));
            return -1;
        }
        if (r > 0 && drain_socket(e, fd, buf, sizeof buf) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    double queue = -1, delay = 0, jitter = 0, loss = 0, max_held = 4096, seed = 0;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
            continue;
        } else if (!v) {
            bad = 1;
        } else if (!strcmp(a, "--queue-num")) {
            bad = num_arg(v, 0, 65535, &queue) || queue != (double)(long)queue;
        } else if (!strcmp(a, "--delay")) {
            bad = num_arg(v, 0, 10000, &delay);
        } else if (!strcmp(a, "--jitter")) {
            bad = num_arg(v, 0, 10000, &jitter);
        } else if (!strcmp(a, "--loss")) {
            bad = num_arg(v, 0, 100, &loss);
        } else if (!strcmp(a, "--max-held")) {
            bad = num_arg(v, 16, 1 << 20, &max_held) || max_held != (double)(long)max_held;
        } else if (!strcmp(a, "--seed")) {
            bad = num_arg(v, 0, 9007199254740991.0, &seed);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "bbt-linkemu: bad or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (queue < 0) {
        fprintf(stderr, "bbt-linkemu: --queue-num is required\n");
        usage(stderr);
        return 2;
    }
    if (jitter > delay) {
        fprintf(stderr, "bbt-linkemu: --jitter (%g ms) may not exceed --delay (%g ms)\n", jitter,
                delay);
        return 2;
    }
    /* Signals only interrupt ppoll(): blocked everywhere else, so no packet is half-handled. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    linkemu e = {0};
    dl_params p = {.delay_us = (int64_t)(delay * 1000), .jitter_us = (int64_t)(jitter * 1000),
                   .loss_ppm = (uint32_t)(loss * 10000 + 0.5)};
    uint64_t s = seed > 0 ? (uint64_t)seed : (uint64_t)mono_us() ^ ((uint64_t)getpid() << 32);
    if (dl_init(&e.dl, &p, (size_t)max_held, s) != 0) {
        fprintf(stderr, "bbt-linkemu: out of memory\n");
        return 1;
    }
    if (bind_queue(&e, (unsigned)queue, (size_t)max_held) != 0) {
        unbind(&e);
        dl_free(&e.dl);
        return 3;
    }
    if (!quiet)
        fprintf(stderr,
                "bbt-linkemu: queue %u: delay %g ms, jitter ±%g ms, loss %g %%, up to %u held, "
                "seed %llu\n",
                (unsigned)queue, delay, jitter, loss, (unsigned)max_held, (unsigned long long)s);
    printf("ready\n");
    fflush(stdout);
    fclose(stdout);
    int rc = run(&e);
    uint32_t id;
    while (dl_pop_any(&e.dl, &id)) /* let every held packet go: the link empties */
        verdict(&e, id, NF_ACCEPT);
    unbind(&e);
    const dl_stats *st = &e.dl.st;
    uint64_t held = st->offered - st->dropped - st->overflow;
    fprintf(stderr,
            "bbt-linkemu: %s: %llu packets, %llu dropped (%.2f %%), %llu held (mean %.1f ms), "
            "%llu passed at once (ring full), at most %zu held at a time, %llu verdict errors\n",
            rc == 0 ? "stopped" : "failed", (unsigned long long)st->offered,
            (unsigned long long)st->dropped,
            st->offered ? 100.0 * (double)st->dropped / (double)st->offered : 0.0,
            (unsigned long long)held, held ? (double)st->delay_sum_us / (double)held / 1000.0 : 0.0,
            (unsigned long long)st->overflow, st->max_held,
            (unsigned long long)e.verdict_errors);
    dl_free(&e.dl);
    return rc == 0 ? 0 : 1;
}
