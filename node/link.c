/* node/link.c — the relay connection of the node: lws client, hello, reconnect (see link.h). */
#include "node/link.h"

#include <libwebsockets.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/log.h"
#include "proto/status.h"

#define RX_TEXT_MAX (1024 * 1024)
#define RX_BINARY_MAX (BBT_FRAME_MAX_PAYLOAD + BBT_FRAME_HEADER_LEN)

enum link_state { L_IDLE, L_CONNECTING, L_OPEN, L_READY };

struct ctl_msg {
    struct ctl_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
};

struct bbt_link {
    bbt_link_hooks h;
    void *ud;
    char *url, *ca_file, *token, *role, *classroom;
    char host[256], path[512];
    int port;
    bool tls;
    int64_t min_ms, max_ms;
    uint64_t rng;

    struct lws_context *ctx;
    struct lws *wsi;
    pthread_t thread;
    atomic_int stop_requested, grace_ms, force_done;
    atomic_int woken;
    bool stopping, finishing, done, grace_armed;
    bool was_welcomed; /* a later hello says resume: true */
    enum link_state state;
    unsigned attempt;
    int close_code;
    char close_reason[128];
    char tls_error[128]; /* why the relay's certificate was refused, for the log line */

    struct ctl_msg *ctl_head, *ctl_tail;
    unsigned char *rx;
    size_t rx_len;
    bool rx_binary, rx_overflow;

    lws_sorted_usec_list_t sul_connect, sul_tick, sul_grace;
    lws_retry_bo_t retry;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: the jitter needs no quality, and no shared state. */
static uint64_t next_rand(bbt_link *l)
{
    l->rng ^= l->rng >> 12;
    l->rng ^= l->rng << 25;
    l->rng ^= l->rng >> 27;
    return l->rng * 2685821657736338717ull;
}

/* ---- control messages out ------------------------------------------------------------------ */

int bbt_link_send_json(bbt_link *l, json_t *msg)
{
    if (!msg)
        return BBT_ENOMEM;
    const char *type = json_string_value(json_object_get(msg, "type"));
    char err[256];
    if (bbt_control_validate(bbt_msg_type_from_name(type ? type : ""), msg, err, sizeof err) !=
        BBT_OK) {
        BBT_ERROR("not sending an invalid %s message: %s", type ? type : "?", err);
        json_decref(msg);
        return BBT_EINVAL;
    }
    size_t len;
    char *text = bbt_control_dump(msg, &len);
    json_decref(msg);
    struct ctl_msg *m = text ? malloc(sizeof *m + LWS_PRE + len) : NULL;
    if (!m) {
        free(text);
        return BBT_ENOMEM;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    free(text);
    if (l->ctl_tail)
        l->ctl_tail->next = m;
    else
        l->ctl_head = m;
    l->ctl_tail = m;
    bbt_link_want_write(l);
    return BBT_OK;
}

static void drop_ctl(bbt_link *l)
{
    while (l->ctl_head) {
        struct ctl_msg *m = l->ctl_head;
        l->ctl_head = m->next;
        free(m);
    }
    l->ctl_tail = NULL;
}

void bbt_link_want_write(bbt_link *l)
{
    if (l->wsi && l->state >= L_OPEN)
        lws_callback_on_writable(l->wsi);
}

int bbt_link_write_binary(bbt_link *l, uint8_t *data, size_t len)
{
    return lws_write(l->wsi, data, len, LWS_WRITE_BINARY);
}

bool bbt_link_ready(const bbt_link *l) { return l->state == L_READY && !l->finishing; }
void bbt_link_reset_backoff(bbt_link *l) { l->attempt = 0; }

void bbt_link_finish(bbt_link *l)
{
    l->finishing = true;
    if (l->wsi)
        lws_callback_on_writable(l->wsi);
    else
        l->done = true;
}

void bbt_link_wake(bbt_link *l)
{
    atomic_store(&l->woken, 1);
    lws_cancel_service(l->ctx);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void do_connect(lws_sorted_usec_list_t *sul);

static void schedule_reconnect(bbt_link *l, const char *why)
{
    if (l->state == L_IDLE)
        return; /* already scheduled (a failed connect can be reported twice) */
    l->wsi = NULL;
    bool was_ready = l->state == L_READY;
    l->state = L_IDLE;
    drop_ctl(l);
    if (l->stopping) {
        l->done = true;
        return;
    }
    if (was_ready && l->h.closed)
        l->h.closed(l, l->ud);
    int64_t d = l->min_ms;
    for (unsigned i = 0; i < l->attempt && d < l->max_ms; i++)
        d *= 2;
    if (d > l->max_ms)
        d = l->max_ms;
    d = d / 2 + (int64_t)(next_rand(l) % (uint64_t)(d / 2 + 1)); /* jitter: d/2 .. d */
    l->attempt++;
    BBT_WARN("relay %s: connection %s (%s): reconnecting in %.1f s (attempt %u)", l->url,
             was_ready ? "lost" : "failed", why, (double)d / 1000.0, l->attempt);
    lws_sul_schedule(l->ctx, 0, &l->sul_connect, do_connect, d * 1000);
}

static void do_connect(lws_sorted_usec_list_t *sul)
{
    bbt_link *l = lws_container_of(sul, bbt_link, sul_connect);
    if (l->stopping)
        return;
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = l->ctx;
    i.address = l->host;
    i.port = l->port;
    i.path = l->path;
    i.host = l->host;
    i.origin = l->host;
    i.protocol = "bbt.v1";
    i.local_protocol_name = "bbt-node";
    i.ssl_connection = l->tls ? LCCSCF_USE_SSL : 0;
    i.userdata = l;
    i.pwsi = &l->wsi;
    i.retry_and_idle_policy = &l->retry;
    l->state = L_CONNECTING;
    l->close_code = 0;
    l->close_reason[0] = 0;
    if (!lws_client_connect_via_info(&i))
        schedule_reconnect(l, "cannot start connecting");
}

static void send_hello(bbt_link *l)
{
    json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:{s:s, s:s}}", "type", "hello", "id", 1,
                          "token", l->token, "role", l->role, "client", "name", "bbt-node",
                          "version", BBT_VERSION);
    if (m && l->classroom[0])
        json_object_set_new(m, "classroom", json_string(l->classroom));
    if (m && l->was_welcomed)
        json_object_set_new(m, "resume", json_true());
    bbt_link_send_json(l, m);
}

/* ---- receiving ----------------------------------------------------------------------------- */

static void on_text(bbt_link *l, const char *text, size_t len)
{
    bbt_msg_type type;
    json_t *m = NULL;
    char err[256];
    if (bbt_control_parse(text, len, NULL, &type, &m, err, sizeof err) != BBT_OK) {
        BBT_WARN("relay sent an invalid message: %s", err);
        return;
    }
    if (type == BBT_MSG_WELCOME && l->state == L_OPEN) {
        l->state = L_READY;
        l->was_welcomed = true;
        int64_t t = json_integer_value(json_object_get(m, "time_us"));
        BBT_INFO("connected to relay %s as %s (role %s, relay %s, clock offset %+.1f ms)",
                 l->url, json_string_value(json_object_get(m, "subject")),
                 json_string_value(json_object_get(m, "role")),
                 json_string_value(json_object_get(m, "server")),
                 (double)(t - wall_us()) / 1000.0);
        if (l->h.welcomed)
            l->h.welcomed(l, m, l->ud);
    } else if (type == BBT_MSG_PING) {
        json_t *pong = json_pack("{s:s}", "type", "pong");
        json_t *t = json_object_get(m, "time_us");
        if (pong && t)
            json_object_set(pong, "time_us", t);
        if (pong)
            bbt_msg_echo_id(pong, m);
        bbt_link_send_json(l, pong);
    } else {
        if (type == BBT_MSG_ERROR)
            BBT_WARN("relay error %s: %s%s", json_string_value(json_object_get(m, "name")),
                     json_string_value(json_object_get(m, "message")),
                     json_is_true(json_object_get(m, "fatal")) ? " (fatal)" : "");
        if (l->h.message)
            l->h.message(l, type, m, l->ud);
    }
    json_decref(m);
}

static void on_receive(bbt_link *l, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        l->rx_len = 0;
        l->rx_overflow = false;
        l->rx_binary = lws_frame_is_binary(wsi);
    }
    size_t max = l->rx_binary ? RX_BINARY_MAX : RX_TEXT_MAX;
    if (!l->rx_overflow && l->rx_len + len <= max) {
        unsigned char *b = realloc(l->rx, l->rx_len + len + 1);
        if (b) {
            l->rx = b;
            memcpy(b + l->rx_len, in, len);
            l->rx_len += len;
        } else {
            l->rx_overflow = true;
        }
    } else {
        l->rx_overflow = true;
    }
    if (!lws_is_final_fragment(wsi))
        return;
    if (l->rx_overflow)
        BBT_WARN("relay sent a message larger than %zu bytes: ignored", max);
    else if (l->rx_binary && l->h.binary)
        l->h.binary(l, l->rx, l->rx_len, l->ud);
    else if (!l->rx_binary)
        on_text(l, (const char *)l->rx, l->rx_len);
    free(l->rx);
    l->rx = NULL;
    l->rx_len = 0;
}

/* ---- writing, callback --------------------------------------------------------------------- */

static int on_writable(bbt_link *l)
{
    if (l->ctl_head) {
        struct ctl_msg *m = l->ctl_head;
        l->ctl_head = m->next;
        if (!l->ctl_head)
            l->ctl_tail = NULL;
        int n = lws_write(l->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        if (n < 0)
            return -1;
        lws_callback_on_writable(l->wsi);
        return 0;
    }
    if (l->finishing) {
        lws_close_reason(l->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
        return -1;
    }
    if (l->state == L_READY && l->h.writable && l->h.writable(l, l->ud))
        lws_callback_on_writable(l->wsi);
    return 0;
}

static void on_woken(bbt_link *l)
{
    if (!atomic_exchange(&l->woken, 0))
        return;
    if (atomic_load(&l->stop_requested) && !l->stopping) {
        l->stopping = true;
        lws_sul_cancel(&l->sul_connect);
        if (l->state == L_READY && l->h.stopping)
            l->h.stopping(l, l->ud); /* calls bbt_link_finish when its goodbye is queued */
        else if (l->wsi)
            bbt_link_finish(l);
        else
            l->done = true;
        return;
    }
    if (l->h.wake && !l->stopping)
        l->h.wake(l, l->ud);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    /* not `user`: for some reasons (certificate verification) it is not the session data */
    bbt_link *l = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        l->state = L_OPEN;
        send_hello(l);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        schedule_reconnect(l, l->tls_error[0] ? l->tls_error
                              : in && len ? (const char *)in : "cannot connect");
        l->tls_error[0] = 0;
        break;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        if (!len && in) /* in: X509_STORE_CTX, len: preverify_ok; lws then refuses the peer */
            snprintf(l->tls_error, sizeof l->tls_error, "relay certificate refused: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(in)));
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_receive(l, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(l);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *b = in;
            l->close_code = b[0] << 8 | b[1];
            snprintf(l->close_reason, sizeof l->close_reason, "%.*s", (int)(len - 2), b + 2);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED: {
        char why[200];
        if (l->close_code)
            snprintf(why, sizeof why, "closed by the relay with %d %s", l->close_code,
                     l->close_reason);
        else
            snprintf(why, sizeof why, "connection closed");
        schedule_reconnect(l, why);
        break;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        on_woken(l);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"bbt-node", callback, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_tick(lws_sorted_usec_list_t *sul)
{
    bbt_link *l = lws_container_of(sul, bbt_link, sul_tick);
    if (l->h.tick && !l->stopping)
        l->h.tick(l, l->ud);
    lws_sul_schedule(l->ctx, 0, &l->sul_tick, on_tick, LWS_US_PER_SEC);
}

static void on_grace(lws_sorted_usec_list_t *sul)
{
    bbt_link *l = lws_container_of(sul, bbt_link, sul_grace);
    l->done = true;
}

static void *run(void *arg)
{
    bbt_link *l = arg;
    lws_sul_schedule(l->ctx, 0, &l->sul_connect, do_connect, 1);
    lws_sul_schedule(l->ctx, 0, &l->sul_tick, on_tick, LWS_US_PER_SEC);
    while (!l->done && !atomic_load(&l->force_done)) {
        if (lws_service(l->ctx, 0) < 0)
            break;
        if (l->stopping && !l->grace_armed && !l->done) {
            l->grace_armed = true;
            lws_sul_schedule(l->ctx, 0, &l->sul_grace, on_grace,
                             (lws_usec_t)atomic_load(&l->grace_ms) * 1000);
        }
    }
    lws_sul_cancel(&l->sul_connect);
    lws_sul_cancel(&l->sul_tick);
    lws_sul_cancel(&l->sul_grace);
    return NULL;
}

/* ---- start, stop --------------------------------------------------------------------------- */

static int parse_url(bbt_link *l)
{
    char *copy = strdup(l->url);
    const char *prot, *ads, *path;
    int port;
    if (!copy)
        return BBT_ENOMEM;
    int rc = BBT_EINVAL;
    if (lws_parse_uri(copy, &prot, &ads, &port, &path) == 0 &&
        (strcmp(prot, "ws") == 0 || strcmp(prot, "wss") == 0) && ads[0]) {
        l->tls = strcmp(prot, "wss") == 0;
        snprintf(l->host, sizeof l->host, "%s", ads);
        snprintf(l->path, sizeof l->path, "/%s", path);
        l->port = port;
        rc = BBT_OK;
    }
    free(copy);
    return rc;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

/* libwebsockets' own error lines, in the project's one-line log format. */
static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    const char *msg = strstr(line, "] "); /* drop lws's own time stamp */
    msg = msg && msg < line + n ? msg + 2 : line;
    bbt_log(level == LLL_ERR ? BBT_LOG_WARN : BBT_LOG_DEBUG, "lws: %.*s", (int)(line + n - msg),
            msg);
}

static void link_free(bbt_link *l)
{
    drop_ctl(l);
    free(l->rx);
    free(l->url);
    free(l->ca_file);
    free(l->token);
    free(l->role);
    free(l->classroom);
    free(l);
}

static int create_context(bbt_link *l)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = l;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (l->ca_file[0])
        info.client_ssl_ca_filepath = l->ca_file;
    lws_set_log_level(LLL_ERR, lws_emit);
    l->ctx = lws_create_context(&info);
    return l->ctx ? BBT_OK : BBT_EIO;
}

bbt_link *bbt_link_start(const bbt_link_opts *o, const bbt_link_hooks *h, void *ud, int *err)
{
    *err = BBT_ENOMEM;
    bbt_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->h = *h;
    l->ud = ud;
    l->url = dup_or_empty(o->url);
    l->ca_file = dup_or_empty(o->ca_file);
    l->token = dup_or_empty(o->token);
    l->role = dup_or_empty(o->role);
    l->classroom = dup_or_empty(o->classroom);
    l->min_ms = o->reconnect_min_ms > 0 ? o->reconnect_min_ms : 500;
    l->max_ms = o->reconnect_max_ms > l->min_ms ? o->reconnect_max_ms : l->min_ms;
    l->rng = (uint64_t)wall_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)l;
    l->retry = (lws_retry_bo_t){.secs_since_valid_ping = 10, .secs_since_valid_hangup = 30};
    atomic_init(&l->stop_requested, 0);
    atomic_init(&l->grace_ms, 0);
    atomic_init(&l->force_done, 0);
    atomic_init(&l->woken, 0);
    if (!l->url || !l->ca_file || !l->token || !l->role || !l->classroom ||
        (*err = parse_url(l)) != BBT_OK || (*err = create_context(l)) != BBT_OK) {
        if (*err == BBT_EINVAL)
            BBT_ERROR("relay URL %s: expected ws://host[:port]/path or wss://...", o->url);
        link_free(l);
        return NULL;
    }
    if (pthread_create(&l->thread, NULL, run, l) != 0) {
        lws_context_destroy(l->ctx);
        link_free(l);
        *err = BBT_EIO;
        return NULL;
    }
    *err = BBT_OK;
    return l;
}

void bbt_link_stop(bbt_link *l, int grace_ms)
{
    if (!l)
        return;
    atomic_store(&l->grace_ms, grace_ms);
    atomic_store(&l->stop_requested, 1);
    bbt_link_wake(l);
    /* the grace timer is armed by the link thread itself; this is the outer bound */
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    int64_t ns = end.tv_nsec + (int64_t)(grace_ms + 500) * 1000000;
    end.tv_sec += ns / 1000000000;
    end.tv_nsec = ns % 1000000000;
    if (pthread_timedjoin_np(l->thread, NULL, &end) != 0) {
        BBT_WARN("relay link did not close in time");
        atomic_store(&l->force_done, 1);
        lws_cancel_service(l->ctx);
        pthread_join(l->thread, NULL);
    }
    lws_context_destroy(l->ctx);
    link_free(l);
}
