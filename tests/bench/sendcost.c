/* tests/bench/sendcost.c — bbt-sendcost: what one loopback TCP send() costs the sender on this
 * machine, the floor under any relay that writes each frame to each viewer with its own send().
 *
 *   bbt-sendcost [BYTES [FRAMES_PER_SEND [CONNECTIONS]]]      (defaults 1500 1 500)
 *
 * CONNECTIONS loopback TCP connections (TCP_NODELAY, as libwebsockets sets); a reader thread
 * pinned to CPU 1 drains them with epoll; the sender, pinned to CPU 0, sends BYTES x
 * FRAMES_PER_SEND bytes on each connection in turn, 400 rounds with a 2 ms pause (so queues
 * never fill). Prints the sender thread's CPU time (utime + stime, which on this kernel includes
 * the softirq work done in its context: on loopback, the receiver's TCP input) per send and per
 * frame. No global state: the connections live in one struct on main's stack. */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 4096

typedef struct links {
    int n;
    int rd[MAX_CONNS], wr[MAX_CONNS];
} links;

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

static double thread_cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_THREAD, &r);
    return (double)r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
}

static void *reader(void *arg)
{
    const links *l = arg;
    pin(1);
    int ep = epoll_create1(0);
    for (int i = 0; i < l->n; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.fd = l->rd[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, l->rd[i], &e);
    }
    static _Thread_local char buf[65536];
    struct epoll_event ev[256];
    for (;;) {
        int k = epoll_wait(ep, ev, 256, -1);
        for (int i = 0; i < k; i++)
            while (read(ev[i].data.fd, buf, sizeof buf) > 0)
                ;
    }
    return NULL;
}

static int open_links(links *l)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024) ||
        getsockname(ls, (struct sockaddr *)&a, &al))
        return -1;
    for (int i = 0; i < l->n; i++) {
        l->wr[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (l->wr[i] < 0 || connect(l->wr[i], (struct sockaddr *)&a, sizeof a) ||
            (l->rd[i] = accept(ls, NULL, NULL)) < 0)
            return -1;
        setsockopt(l->wr[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(l->rd[i], F_SETFL, O_NONBLOCK);
        fcntl(l->wr[i], F_SETFL, O_NONBLOCK);
    }
    close(ls);
    return 0;
}

int main(int argc, char **argv)
{
    int size = argc > 1 ? atoi(argv[1]) : 1500, batch = argc > 2 ? atoi(argv[2]) : 1;
    links *l = calloc(1, sizeof *l);
    if (!l)
        return 1;
    l->n = argc > 3 ? atoi(argv[3]) : 500;
    if (size < 1 || batch < 1 || l->n < 1 || l->n > MAX_CONNS || open_links(l) != 0) {
        fprintf(stderr, "usage: bbt-sendcost [BYTES [FRAMES_PER_SEND [CONNECTIONS <= %d]]]\n",
                MAX_CONNS);
        return 2;
    }
    pthread_t t;
    pthread_create(&t, NULL, reader, l);
    pin(0);
    char *buf = calloc(1, (size_t)size * (size_t)batch);
    if (!buf)
        return 1;
    long sends = 0;
    double c0 = thread_cpu();
    for (int round = 0; round < 400; round++) {
        for (int i = 0; i < l->n; i++)
            sends += send(l->wr[i], buf, (size_t)size * (size_t)batch, MSG_DONTWAIT) > 0;
        usleep(2000);
    }
    double c = thread_cpu() - c0;
    printf("bytes=%d frames_per_send=%d connections=%d sends=%ld sender_cpu=%.3f s "
           "per_send=%.2f us per_frame=%.2f us\n",
           size, batch, l->n, sends, c, c / (double)sends * 1e6,
           c / (double)sends / batch * 1e6);
    return 0; /* the reader thread dies with the process */
}
