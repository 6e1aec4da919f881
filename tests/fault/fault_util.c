/* tests/fault/fault_util.c — shared pieces of the fault tests (see fault_util.h). */
#include "fault/fault_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/frame.h"
#include "support/relay_proc.h"

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fu_wall_us(void) { return clock_us(CLOCK_REALTIME); }
int64_t fu_mono_us(void) { return clock_us(CLOCK_MONOTONIC); }

/* ---- publisher ------------------------------------------------------------------------------ */

int fu_pub_start(fu_pub *p, tc_ctx *t, int port, const char *session, size_t video_bytes)
{
    memset(p, 0, sizeof *p);
    snprintf(p->session, sizeof p->session, "%s", session);
    p->video_bytes = video_bytes;
    p->c = tc_connect(t, port, NULL);
    if (!p->c || tc_hello(p->c, "source", "fault-source") != 0)
        return -1;
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"type\":\"publish\",\"session\":\"%s\",\"tracks\":["
             "{\"id\":0,\"kind\":\"video\",\"codec\":\"avc1.42E01E\",\"layer\":0,\"width\":640,"
             "\"height\":360,\"fps\":25,\"bitrate\":500000},"
             "{\"id\":1,\"kind\":\"audio\",\"codec\":\"opus\",\"sample_rate\":48000,"
             "\"channels\":1,\"bitrate\":32000}]}",
             session);
    tc_send_text(p->c, msg);
    json_t *ack = tc_recv_type(p->c, "published", 3000);
    if (!ack)
        return -1;
    json_decref(ack);
    int64_t now = fu_mono_us();
    p->next_us[0] = p->next_us[1] = now;
    return 0;
}

static void send_frame(fu_pub *p, unsigned track, size_t len, uint8_t flags)
{
    static const size_t max = 64 * 1024;
    uint8_t buf[BBT_FRAME_HEADER_LEN + 64 * 1024];
    if (len > max)
        len = max;
    bbt_frame f = {.track = (uint8_t)track, .flags = flags, .seq = p->seq[track]++,
                   .capture_us = (uint64_t)fu_wall_us(), .len = len};
    bbt_frame_encode_header(&f, buf);
    memset(buf + BBT_FRAME_HEADER_LEN, 0x40 + (int)track, len);
    if (tc_send_binary(p->c, buf, BBT_FRAME_HEADER_LEN + len) != 0)
        p->closed = true;
    else
        p->sent++;
}

void fu_pub_tick(fu_pub *p)
{
    if (p->closed || !p->c)
        return;
    if (tc_is_closed(p->c)) {
        p->closed = true;
        return;
    }
    int64_t now = fu_mono_us();
    while (!p->closed && now >= p->next_us[0]) { /* video, 25 fps, a keyframe each second */
        bool key = p->seq[0] % 25 == 0;
        send_frame(p, 0, key ? p->video_bytes * 4 : p->video_bytes,
                   key ? BBT_FRAME_KEY | BBT_FRAME_CONFIG : 0);
        p->next_us[0] += 40000;
    }
    while (!p->closed && now >= p->next_us[1]) { /* audio, 50 fps */
        send_frame(p, 1, 120, 0);
        p->next_us[1] += 20000;
    }
}

/* ---- viewers -------------------------------------------------------------------------------- */

int fu_viewer_start(fu_viewer *v, tc_ctx *t, int port, const char *session)
{
    double *lat = v->lat_ms;
    size_t cap = v->cap;
    bool rec = v->record_latency;
    memset(v, 0, sizeof *v);
    v->lat_ms = lat;
    v->cap = cap;
    v->record_latency = rec;
    snprintf(v->session, sizeof v->session, "%s", session);
    v->c = tc_connect(t, port, NULL);
    if (!v->c || tc_hello(v->c, "receiver", "fault-viewer") != 0) {
        v->closed = true;
        return -1;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"session\":\"%s\"}", session);
    tc_send_text(v->c, msg);
    json_t *tr = tc_recv_type(v->c, "tracks", 3000);
    if (!tr) {
        v->closed = tc_is_closed(v->c);
        return -1;
    }
    json_decref(tr);
    return 0;
}

static void take_frame(fu_viewer *v, const tc_msg *m)
{
    bbt_frame f;
    if (bbt_frame_decode(m->data, m->len, 0, &f) != 0)
        return;
    int64_t now = fu_mono_us();
    if (v->frames && now - v->last_frame_us > v->max_gap_us)
        v->max_gap_us = now - v->last_frame_us;
    if (!v->frames)
        v->first_frame_us = now;
    v->last_frame_us = now;
    v->frames++;
    if (f.track >= FU_TRACKS) /* another publisher's track list (bbt-node): counted only */
        return;
    if (v->have_seq[f.track] && f.seq != v->last_seq[f.track] + 1 && f.seq > v->last_seq[f.track])
        v->gaps += f.seq - v->last_seq[f.track] - 1;
    v->last_seq[f.track] = f.seq;
    v->have_seq[f.track] = true;
    if (v->record_latency) {
        if (v->nlat == v->cap) {
            size_t cap = v->cap ? v->cap * 2 : 4096;
            double *nl = realloc(v->lat_ms, cap * sizeof *nl);
            if (!nl)
                return;
            v->lat_ms = nl;
            v->cap = cap;
        }
        v->lat_ms[v->nlat++] = (double)(fu_wall_us() - (int64_t)f.capture_us) / 1000.0;
    }
}

static void take_text(fu_viewer *v, const tc_msg *m)
{
    json_t *j = json_loadb((const char *)m->data, m->len, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *state = json_string_value(json_object_get(j, "state"));
    if (type && strcmp(type, "state") == 0 && state) {
        if (strcmp(state, "interrupted") == 0)
            v->interrupted++;
        else if (strcmp(state, "live") == 0)
            v->live++;
    }
    json_decref(j);
}

void fu_viewer_drain(fu_viewer *v)
{
    if (!v->c || v->closed)
        return;
    tc_msg m;
    int rc;
    while ((rc = tc_recv(v->c, &m, 0)) == 0) {
        if (m.binary)
            take_frame(v, &m);
        else
            take_text(v, &m);
        free(m.data);
    }
    if (rc == -2) {
        v->closed = true;
        v->close_code = tc_wait_closed(v->c, 0);
    }
}

void fu_viewer_reset(fu_viewer *v)
{
    v->frames = v->gaps = 0;
    v->max_gap_us = 0;
    v->first_frame_us = v->last_frame_us = 0;
    v->nlat = 0;
    v->interrupted = v->live = 0;
}

void fu_viewer_free(fu_viewer *v)
{
    free(v->lat_ms);
    v->lat_ms = NULL;
    v->nlat = v->cap = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fu_viewer_quantile(const fu_viewer *v, double q)
{
    if (!v->nlat)
        return -1;
    double *s = malloc(v->nlat * sizeof *s);
    if (!s)
        return -1;
    memcpy(s, v->lat_ms, v->nlat * sizeof *s);
    qsort(s, v->nlat, sizeof *s, cmp_double);
    size_t i = (size_t)(q * (double)(v->nlat - 1) + 0.5);
    double r = s[i < v->nlat ? i : v->nlat - 1];
    free(s);
    return r;
}

/* ---- reconnecting viewer -------------------------------------------------------------------- */

void fu_rviewer_init(fu_rviewer *r, tc_ctx *t, int port, const char *session, unsigned seed)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->port = port;
    r->rng = seed ? seed : 1;
    snprintf(r->v.session, sizeof r->v.session, "%s", session);
    r->v.closed = true;
    r->retry_at_us = fu_mono_us(); /* connect at the first poll */
}

static double rnd01(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (double)((*s >> 8) & 0xffff) / 65536.0;
}

void fu_rviewer_poll(fu_rviewer *r)
{
    fu_viewer_drain(&r->v);
    if (!r->v.closed)
        return;
    int64_t now = fu_mono_us();
    if (!r->retry_at_us) { /* just closed: back off as the player does */
        if (r->v.frames)
            r->attempt = 0;
        double ceiling = 500.0 * (double)(1u << (r->attempt < 5 ? r->attempt : 5));
        if (ceiling > 15000)
            ceiling = 15000;
        double delay = ceiling / 2 + rnd01(&r->rng) * ceiling / 2;
        r->attempt++;
        r->retry_at_us = now + (int64_t)(delay * 1000);
        return;
    }
    if (now < r->retry_at_us)
        return;
    char session[64];
    snprintf(session, sizeof session, "%s", r->v.session);
    unsigned frames = r->v.frames; /* counters survive a reconnection */
    int64_t first = r->v.first_frame_us, last = r->v.last_frame_us;
    if (fu_viewer_start(&r->v, r->t, r->port, session) == 0) {
        r->retry_at_us = 0;
        r->reconnects++;
    } else {
        r->v.closed = true;
        r->retry_at_us = 0;
    }
    r->v.frames = frames;
    r->v.first_frame_us = first;
    r->v.last_frame_us = last;
}

/* ---- the loop ------------------------------------------------------------------------------- */

void fu_run(tc_ctx *t, fu_pub *const *pubs, size_t npubs, fu_viewer *const *views, size_t nviews,
            int ms)
{
    int64_t end = fu_mono_us() + (int64_t)ms * 1000;
    do {
        tc_service(t, 1);
        for (size_t i = 0; i < npubs; i++)
            fu_pub_tick(pubs[i]);
        for (size_t i = 0; i < nviews; i++)
            fu_viewer_drain(views[i]);
    } while (fu_mono_us() < end);
}

double fu_metric(int port, const char *name_and_labels)
{
    int st;
    char *body = http_get(port, "/metrics", &st);
    double v = body && st == 200 ? metric_value(body, name_and_labels) : -1;
    free(body);
    return v;
}

/* ---- raw sockets ---------------------------------------------------------------------------- */

const char fu_ws_request[] = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bbt.v1\r\n\r\n";

int fu_tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int fu_ws_handshake(int fd, int timeout_ms)
{
    size_t n = strlen(fu_ws_request);
    if (write(fd, fu_ws_request, n) != (ssize_t)n)
        return -1;
    char buf[1024];
    size_t len = 0;
    int64_t end = fu_mono_us() + (int64_t)timeout_ms * 1000;
    while (fu_mono_us() < end && len < sizeof buf - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t got = read(fd, buf + len, 1); /* up to the blank line only: frames follow */
        if (got <= 0)
            return -1;
        len += (size_t)got;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n"))
            return strncmp(buf, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
    }
    return -1;
}

static void parse_frames(fu_rawws *w)
{
    for (;;) {
        if (w->len < 2)
            return;
        uint64_t n = w->buf[1] & 0x7f;
        size_t hdr = n == 126 ? 4 : n == 127 ? 10 : 2;
        if (w->len < hdr)
            return;
        if (hdr > 2) {
            n = 0;
            for (size_t i = 2; i < hdr; i++)
                n = n << 8 | w->buf[i];
        }
        if (hdr + n > sizeof w->buf) { /* larger than we keep: skip what we have */
            w->len = 0;
            return;
        }
        if (w->len < hdr + n)
            return;
        unsigned op = w->buf[0] & 0x0f;
        if (op == 0x1)
            w->texts++;
        if (op == 0x8 && !w->close_code) {
            w->close_code = n >= 2 ? w->buf[hdr] << 8 | w->buf[hdr + 1] : 1005;
            if (!w->closed_us)
                w->closed_us = fu_mono_us();
        }
        memmove(w->buf, w->buf + hdr + n, w->len - hdr - (size_t)n);
        w->len -= hdr + (size_t)n;
    }
}

bool fu_rawws_poll(fu_rawws *w)
{
    while (!w->eof) {
        ssize_t got = read(w->fd, w->buf + w->len, sizeof w->buf - w->len);
        if (got > 0) {
            w->len += (size_t)got;
            parse_frames(w);
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        w->eof = true; /* 0: orderly close; < 0: reset */
        if (!w->closed_us)
            w->closed_us = fu_mono_us();
    }
    return w->close_code || w->eof;
}

int fu_raise_nofile(long n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if ((long)rl.rlim_cur >= n)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < n)
        rl.rlim_max = (rlim_t)n; /* allowed as root (CAP_SYS_RESOURCE); else capped below */
    rl.rlim_cur = (rlim_t)n;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        return 0;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= n ? (rlim_t)n : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    return (long)rl.rlim_cur >= n ? 0 : -1;
}
