/* tests/support/wsclient.c — synchronous lws WebSocket client for tests (see wsclient.h). */
#include "wsclient.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
    struct node *next;
    bool binary;
    size_t len;
    unsigned char *data; /* for tx: LWS_PRE headroom first */
};

enum cstate { C_CONNECTING, C_OPEN, C_FAILED, C_CLOSED };

struct tc_conn {
    tc_ctx *t;
    struct lws *wsi;
    enum cstate state;
    int close_code;
    bool want_close;
    struct node *rx_head, *rx_tail, *tx_head, *tx_tail;
    size_t rx_count;
    unsigned char *frag;
    size_t frag_len;
    tc_conn *next_all;
};

struct tc_ctx {
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    tc_conn *all;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push(struct node **h, struct node **tl, struct node *n)
{
    n->next = NULL;
    if (*tl)
        (*tl)->next = n;
    else
        *h = n;
    *tl = n;
}

static struct node *pop(struct node **h, struct node **tl)
{
    struct node *n = *h;
    if (n) {
        *h = n->next;
        if (!*h)
            *tl = NULL;
    }
    return n;
}

static void on_rx(tc_conn *c, struct lws *wsi, const void *in, size_t len)
{
    unsigned char *f = realloc(c->frag, c->frag_len + len + 1);
    if (!f)
        abort();
    memcpy(f + c->frag_len, in, len);
    c->frag = f;
    c->frag_len += len;
    if (!lws_is_final_fragment(wsi))
        return;
    struct node *n = calloc(1, sizeof *n);
    n->binary = lws_frame_is_binary(wsi);
    n->len = c->frag_len;
    n->data = c->frag;
    n->data[n->len] = 0;
    c->frag = NULL;
    c->frag_len = 0;
    push(&c->rx_head, &c->rx_tail, n);
    c->rx_count++;
}

static int on_writable(tc_conn *c, struct lws *wsi)
{
    if (c->want_close && !c->tx_head) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
        return -1;
    }
    struct node *n = pop(&c->tx_head, &c->tx_tail);
    if (!n)
        return 0;
    int rc = lws_write(wsi, n->data + LWS_PRE, n->len, n->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    free(n->data);
    free(n);
    if (rc < 0)
        return -1;
    if (c->tx_head || c->want_close)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    tc_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = C_OPEN;
        if (c->tx_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            c->state = C_FAILED;
            c->wsi = NULL;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_rx(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->close_code = ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->state = C_CLOSED;
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"tc", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void tick(lws_sorted_usec_list_t *sul)
{
    tc_ctx *t = lws_container_of(sul, tc_ctx, tick);
    lws_sul_schedule(t->ctx, 0, &t->tick, tick, 5000);
}

tc_ctx *tc_new(void)
{
    tc_ctx *t = calloc(1, sizeof *t);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    lws_set_log_level(LLL_ERR, NULL);
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        free(t);
        return NULL;
    }
    lws_sul_schedule(t->ctx, 0, &t->tick, tick, 5000);
    return t;
}

void tc_service(tc_ctx *t, int ms)
{
    long long end = now_ms() + ms;
    do
        lws_service(t->ctx, 0);
    while (now_ms() < end);
}

static void free_conn(tc_conn *c)
{
    struct node *n;
    while ((n = pop(&c->rx_head, &c->rx_tail))) {
        free(n->data);
        free(n);
    }
    while ((n = pop(&c->tx_head, &c->tx_tail))) {
        free(n->data);
        free(n);
    }
    free(c->frag);
    free(c);
}

void tc_free(tc_ctx *t)
{
    if (!t)
        return;
    lws_sul_cancel(&t->tick);
    lws_context_destroy(t->ctx);
    tc_conn *c = t->all, *next;
    for (; c; c = next) {
        next = c->next_all;
        free_conn(c);
    }
    free(t);
}

tc_conn *tc_connect(tc_ctx *t, int port, const tc_opts *o)
{
    tc_opts d = {0};
    if (o)
        d = *o;
    tc_conn *c = calloc(1, sizeof *c);
    c->t = t;
    c->next_all = t->all;
    t->all = c;
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = t->ctx;
    i.address = "127.0.0.1";
    i.port = port;
    i.path = d.path ? d.path : "/ws";
    i.host = "localhost";
    i.origin = "localhost";
    const char *proto = d.protocol ? d.protocol : "bbt.v1";
    i.protocol = proto[0] ? proto : NULL;
    i.local_protocol_name = "tc";
    i.userdata = c;
    i.pwsi = &c->wsi;
    if (d.tls)
        i.ssl_connection = LCCSCF_USE_SSL |
                           (d.ca_file ? 0 : LCCSCF_ALLOW_SELFSIGNED |
                                                LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                                LCCSCF_ALLOW_EXPIRED);
    if (!lws_client_connect_via_info(&i))
        return NULL;
    long long end = now_ms() + (d.timeout_ms ? d.timeout_ms : 3000);
    while (c->state == C_CONNECTING && now_ms() < end)
        lws_service(t->ctx, 0);
    return c->state == C_OPEN ? c : NULL;
}

static int send_msg(tc_conn *c, const void *data, size_t len, bool binary)
{
    if (c->state != C_OPEN)
        return -1;
    struct node *n = calloc(1, sizeof *n);
    n->data = malloc(LWS_PRE + len + 1);
    memcpy(n->data + LWS_PRE, data, len);
    n->len = len;
    n->binary = binary;
    push(&c->tx_head, &c->tx_tail, n);
    lws_callback_on_writable(c->wsi);
    /* let it go out now, so callers can rely on ordering between connections */
    for (int i = 0; i < 50 && c->tx_head && c->state == C_OPEN; i++)
        lws_service(c->t->ctx, 0);
    return 0;
}

int tc_send_text(tc_conn *c, const char *text) { return send_msg(c, text, strlen(text), false); }

int tc_send_binary(tc_conn *c, const void *data, size_t len)
{
    return send_msg(c, data, len, true);
}

int tc_recv(tc_conn *c, tc_msg *out, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (!c->rx_head && c->state != C_CLOSED && c->state != C_FAILED && now_ms() < end)
        lws_service(c->t->ctx, 0);
    struct node *n = pop(&c->rx_head, &c->rx_tail);
    if (!n)
        return c->state == C_OPEN ? -1 : -2;
    c->rx_count--;
    out->binary = n->binary;
    out->len = n->len;
    out->data = n->data;
    free(n);
    return 0;
}

json_t *tc_recv_type(tc_conn *c, const char *type, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    for (;;) {
        long long left = end - now_ms();
        tc_msg m;
        if (left <= 0 || tc_recv(c, &m, (int)left) != 0)
            return NULL;
        if (!m.binary) {
            json_t *j = json_loadb((const char *)m.data, m.len, 0, NULL);
            const char *ty = j ? json_string_value(json_object_get(j, "type")) : NULL;
            if (ty && strcmp(ty, type) == 0) {
                free(m.data);
                return j;
            }
            json_decref(j);
        }
        free(m.data);
    }
}

bool tc_is_closed(const tc_conn *c) { return c->state == C_CLOSED || c->state == C_FAILED; }

int tc_wait_closed(tc_conn *c, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (!tc_is_closed(c) && now_ms() < end)
        lws_service(c->t->ctx, 0);
    return tc_is_closed(c) ? c->close_code : -1;
}

void tc_pause_reading(tc_conn *c, bool paused)
{
    if (c->wsi)
        lws_rx_flow_control(c->wsi, paused ? 0 : 1);
}

void tc_close(tc_conn *c)
{
    if (c->state != C_OPEN)
        return;
    c->want_close = true;
    lws_callback_on_writable(c->wsi);
    tc_wait_closed(c, 2000);
}

size_t tc_pending(const tc_conn *c) { return c->rx_count; }

int tc_local_port(const tc_conn *c)
{
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    int fd = c->wsi ? lws_get_socket_fd(c->wsi) : -1;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    if (a.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&a)->sin_port);
    return a.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port) : -1;
}

int tc_hello(tc_conn *c, const char *role, const char *classroom)
{
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"hello\",\"token\":\"\",\"role\":\"%s\"%s%s%s}", role,
             classroom ? ",\"classroom\":\"" : "", classroom ? classroom : "",
             classroom ? "\"" : "");
    if (tc_send_text(c, msg) != 0)
        return -1;
    json_t *w = tc_recv_type(c, "welcome", 3000);
    if (!w)
        return -1;
    json_decref(w);
    return 0;
}
