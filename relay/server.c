/* relay/server.c — the libwebsockets context: listening socket, TLS, HTTP (static pages,
 * /healthz, /metrics), the housekeeping timer and graceful shutdown. The bbt.v1 WebSocket
 * protocol itself is in conn.c. One event-loop thread; see server.h. */
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"
#ifdef BBT_RELAY_HAVE_LIBEV
#include <ev.h>
#endif
#include "relay/dash_relay.h"
#include "relay/schedule/ops.h"
#include "relay/sockinfo.h"

#define HOUSEKEEPING_US 250000
#define HOUSEKEEPING_SLICES 10
#define SHUTDOWN_GRACE_US 2000000
#define HTTP_CHUNK 16384

int64_t bbt_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bbt_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- HTTP: /healthz and /metrics ----------------------------------------------------------- */

struct http_pss {
    unsigned char *body; /* LWS_PRE headroom, then the response body */
    size_t len, sent;
};

static int http_begin(struct lws *wsi, struct http_pss *h, const char *type, char *text,
                      size_t len)
{
    h->body = malloc(LWS_PRE + len + 1);
    if (!h->body) {
        free(text);
        return lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    }
    memcpy(h->body + LWS_PRE, text, len);
    free(text);
    h->len = len;
    h->sent = 0;
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, type, (lws_filepos_t)len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_request(struct lws *wsi, struct http_pss *h, bbt_relay *r)
{
    char uri[128] = "";
    lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (strcmp(uri, "/healthz") == 0) {
        char *t = strdup(r->stopping ? "stopping\n" : "ok\n");
        return t ? http_begin(wsi, h, "text/plain; charset=utf-8", t, strlen(t)) : 1;
    }
    if (strcmp(uri, "/metrics") == 0) {
        bbt_metrics_gauges g = {.connections = r->nconns, .publishers = r->npublishers,
                                .viewers = r->nviewers,
                                .uptime_s = (bbt_mono_us() - r->started_us) / 1000000};
        size_t len;
        char *t = bbt_metrics_render(&r->metrics, &g, r->reg, &len);
        bbt_strbuf b = {.data = t, .len = len, .cap = t ? len + 1 : 0, .failed = !t};
        bbt_conn_render_metrics(r, &b);
        bbt_dash_relay_metrics(r, &b); /* per classroom and session (relay/dash.h) */
        t = bbt_strbuf_take(&b, &len);
        if (!t)
            return lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
        return http_begin(wsi, h, "text/plain; version=0.0.4; charset=utf-8", t, len);
    }
    if (strcmp(uri, "/admin") == 0 || strcmp(uri, "/admin/") == 0) { /* web_root/admin.html */
        char path[4200];
        snprintf(path, sizeof path, "%s/admin.html", r->cfg.relay.web_root);
        int n = lws_serve_http_file(wsi, path, "text/html; charset=utf-8", NULL, 0);
        return n < 0 || (n > 0 && lws_http_transaction_completed(wsi)) ? -1 : 0;
    }
    return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
}

static int http_writable(struct lws *wsi, struct http_pss *h)
{
    if (!h->body)
        return 0;
    size_t n = h->len - h->sent < HTTP_CHUNK ? h->len - h->sent : HTTP_CHUNK;
    int last = h->sent + n == h->len;
    /* The chunk is written in place; the bytes before it (already sent) serve as headroom. */
    unsigned char *p = h->body + LWS_PRE + h->sent;
    if (lws_write(wsi, p, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    h->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(h->body);
    h->body = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void begin_shutdown(bbt_relay *r);

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct http_pss *h = user;
    bbt_relay *r = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return http_request(wsi, h, r);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writable(wsi, h);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (h) {
            free(h->body);
            h->body = NULL;
        }
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        bbt_sched_ops_poll(r); /* timetable: finished worker jobs (relay/schedule/jobs.c) */
        if (atomic_load(&r->stop_requested))
            begin_shutdown(r);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- housekeeping and shutdown -------------------------------------------------------------- */

static void begin_shutdown(bbt_relay *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    r->stop_deadline_us = bbt_mono_us() + SHUTDOWN_GRACE_US;
    BBT_INFO("shutting down: closing %zu connections", r->nconns);
    for (struct bbt_conn *c = r->conns; c; c = c->next)
        bbt_conn_shutdown(c);
}

/* Every HOUSEKEEPING_US a round: the relay-wide work, and every connection ticked (its link
 * measured, timeouts checked) — in HOUSEKEEPING_SLICES slices HOUSEKEEPING_US / SLICES apart,
 * not at once: one pass over 2,000 connections (a TCP_INFO and a SIOCOUTQ each) held the event
 * loop 3.5–9.5 ms four times a second, and every frame arriving then waited (the fan-out's p99,
 * docs/PERFORMANCE.md). A connection that closes mid-round moves the cursor on
 * (bbt_conn_housekeeping_closed); one that opens mid-round waits for the next. */
static void housekeeping(lws_sorted_usec_list_t *sul)
{
    bbt_relay *r = lws_container_of(sul, bbt_relay, sul_house);
    int64_t now = bbt_mono_us();
    if (!r->tick_round) {
        bbt_registry_sweep(r->reg); /* deferred free: never inside a connection's callback */
        bbt_sched_ops_tick(r);      /* timetable: plans, start/stop, attendance */
        bbt_dash_relay_tick(r, now); /* dashboard: lights and the `dash` pushes, once a second */
        if (r->stopping && (r->nconns == 0 || now > r->stop_deadline_us)) {
            r->done = true;
            lws_cancel_service(r->ctx); /* wake lws_service so bbt_relay_run returns */
            return;
        }
        r->tick_next = r->conns;
        r->tick_per_slice = r->nconns / HOUSEKEEPING_SLICES + 1;
        r->tick_round = true;
        r->tick_round_at = now;
    }
    struct bbt_conn *c = r->tick_next;
    for (size_t n = r->tick_per_slice; c && n; n--) {
        struct bbt_conn *next = c->next; /* ticking never frees a connection synchronously */
        bbt_conn_tick(c, now);
        c = next;
    }
    r->tick_next = c;
    r->tick_round = c != NULL;
    /* the next slice, or the next round HOUSEKEEPING_US after this one began (with few
     * connections a round ends after one or two slices: the rounds keep their pace) */
    int64_t wait = HOUSEKEEPING_US / HOUSEKEEPING_SLICES;
    if (!r->tick_round)
        wait = r->tick_round_at + HOUSEKEEPING_US - bbt_mono_us();
    lws_sul_schedule(r->ctx, 0, &r->sul_house, housekeeping, wait > 1000 ? wait : 1000);
}

void bbt_conn_housekeeping_closed(struct bbt_conn *c)
{
    if (c->relay->tick_next == c)
        c->relay->tick_next = c->next;
}

/* ---- session hooks -------------------------------------------------------------------------- */

static void hook_writable(void *conn, int64_t now_us, void *ud)
{
    (void)ud;
    bbt_conn_media_ready(conn, now_us); /* a batched, paced write (conn_write.c) */
}

static void hook_keyframe(void *publisher, unsigned track, void *ud)
{
    bbt_relay *r = ud;
    json_t *m = bbt_msg_keyframe((int)track);
    if (m && bbt_conn_send_json(publisher, m) == BBT_OK)
        r->metrics.keyframe_requests++;
}

/* ---- context ------------------------------------------------------------------------------- */

static void setup_protocols_and_mounts(bbt_relay *r)
{
    r->protocols[0] = (struct lws_protocols){"http", http_callback, sizeof(struct http_pss), 0,
                                             0, NULL, 0};
    r->protocols[1] = (struct lws_protocols){"bbt.v1", bbt_conn_callback, sizeof(struct bbt_conn),
                                             64 * 1024, 0, NULL, 0};
    /* Longest prefix wins: /healthz, /metrics and /admin (the dashboard page, web_root/admin.html)
     * are answered by http_callback, the rest are files under web_root. */
    struct lws_http_mount *m = r->mounts;
    m[0] = (struct lws_http_mount){.mountpoint = "/healthz", .origin = "http",
                                   .origin_protocol = LWSMPRO_CALLBACK,
                                   .mountpoint_len = 8, .mount_next = &m[1]};
    m[1] = (struct lws_http_mount){.mountpoint = "/metrics", .origin = "http",
                                   .origin_protocol = LWSMPRO_CALLBACK,
                                   .mountpoint_len = 8, .mount_next = &m[2]};
    m[2] = (struct lws_http_mount){.mountpoint = "/admin", .origin = "http", /* the dashboard */
                                   .origin_protocol = LWSMPRO_CALLBACK,
                                   .mountpoint_len = 6, .mount_next = &m[3]};
    m[3] = (struct lws_http_mount){.mountpoint = "/", .origin = r->cfg.relay.web_root,
                                   .def = "index.html", .origin_protocol = LWSMPRO_FILE,
                                   .mountpoint_len = 1};
}

static void setup_tls(bbt_relay *r, struct lws_context_creation_info *info)
{
    if (!r->cfg.relay.tls_cert || !r->cfg.relay.tls_cert[0])
        return;
    info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info->ssl_cert_filepath = r->cfg.relay.tls_cert;
    info->ssl_private_key_filepath = r->cfg.relay.tls_key;
    /* Modern settings only: TLS 1.2 with AEAD forward-secret suites, and TLS 1.3. */
    info->ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    info->tls1_3_plus_cipher_list = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                    "TLS_CHACHA20_POLY1305_SHA256";
    info->ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                            SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}

static void free_loop(bbt_relay *r)
{
#ifdef BBT_RELAY_HAVE_LIBEV
    if (r->evloop)
        ev_loop_destroy(r->evloop);
    r->evloop = NULL;
#else
    (void)r;
#endif
}

/* lws on a libev (epoll) loop when built with libev. lws's own loop calls poll() on every
 * descriptor at every wake-up: with 4000 idle viewers sending a report a second that was 63 % of
 * a core, against 12 % on epoll (docs/PERFORMANCE.md). If lws cannot start on libev (its ev
 * plugin, libwebsockets-evlib-ev, missing), it runs on its own loop. */
static struct lws_context *create_on_loop(bbt_relay *r, struct lws_context_creation_info *info)
{
#ifdef BBT_RELAY_HAVE_LIBEV
    void *foreign[1] = {ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK)};
    if (foreign[0]) {
        struct lws_context_creation_info ev = *info;
        ev.options |= LWS_SERVER_OPTION_LIBEV;
        ev.foreign_loops = foreign;
        struct lws_context *ctx = lws_create_context(&ev);
        if (ctx) {
            r->evloop = foreign[0];
            return ctx;
        }
        ev_loop_destroy(foreign[0]);
        BBT_WARN("cannot start on the libev loop; trying lws's own poll() loop");
    }
#else
    (void)r;
#endif
    return lws_create_context(info);
}

static int create_context(bbt_relay *r)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = (int)r->cfg.relay.port;
    info.iface = r->cfg.relay.listen && strcmp(r->cfg.relay.listen, "0.0.0.0") != 0 ? r->cfg.relay.listen : NULL;
    info.protocols = r->protocols;
    info.mounts = r->mounts;
    info.user = r;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    if (!info.iface)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.vhost_name = "bbt-relay";
    info.server_string = "bbt-relay";
    /* Connections still sending their HTTP headers each hold a header buffer (~5 KB) from this
     * pool, and a new connection waits for a free one: with 256, 300 slowloris connections kept
     * every new viewer and /healthz out until their timeout (tests/fault/test_slowloris.c).
     * 4096 (~20 MB, allocated only while in use) is far more than a county's simultaneous joins. */
    info.max_http_header_pool = 0;
    info.max_http_header_pool2 = 4096;
    info.timeout_secs = 10; /* slow HTTP headers (slowloris) are dropped after this */
    /* lws reads at most this much from one connection per loop turn (default 4 KiB). A
     * publisher's keyframes on three layers arrive together (~80 kB): at 4 KiB a turn, and with
     * every turn also writing to every viewer, ingest fell behind the publisher under load and
     * latency grew without bound before any frame reached a queue (docs/PERFORMANCE.md). */
    info.pt_serv_buf_size = 64 * 1024;
    r->retry = (lws_retry_bo_t){.secs_since_valid_ping = 10, .secs_since_valid_hangup = 30};
    info.retry_and_idle_policy = &r->retry;
    setup_tls(r, &info);
    r->ctx = create_on_loop(r, &info);
    if (!r->ctx) {
        BBT_ERROR("cannot listen on %s:%lld (port in use, bad address, or TLS files unreadable)",
                  r->cfg.relay.listen, (long long)r->cfg.relay.port);
        return BBT_EIO;
    }
    r->vhost = lws_get_vhost_by_name(r->ctx, "bbt-relay");
    return BBT_OK;
}

bbt_relay *bbt_relay_new(const bbt_relay_config *cfg, int *err)
{
    *err = BBT_ENOMEM;
    bbt_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cfg = *cfg; /* the strings stay owned by the caller's cfg, which outlives the relay */
    r->started_us = bbt_mono_us();
    atomic_init(&r->stop_requested, 0);
    bbt_registry_limits lim = {.max_sessions = (size_t)cfg->limits.max_sessions,
                               .gop_cache_bytes = (size_t)cfg->publisher.gop_cache_bytes,
                               .idle_us = cfg->publisher.idle_timeout_ms * 1000,
                               .keyreq_interval_us = 500000};
    bbt_session_hooks hooks = {.writable = hook_writable, .keyframe = hook_keyframe, .ud = r};
    r->reg = bbt_registry_new(&lim, &hooks);
    if (!r->reg) {
        free(r);
        return NULL;
    }
    if ((*err = bbt_conn_write_start(r)) != BBT_OK) { /* pacing wheel, write buffer */
        bbt_registry_free(r->reg);
        free(r);
        return NULL;
    }
    if ((*err = bbt_conn_auth_start(r)) != BBT_OK) { /* secret (relay/conn_auth.c) */
        bbt_conn_write_stop(r);
        bbt_registry_free(r->reg);
        free(r);
        return NULL;
    }
    if ((*err = bbt_sched_ops_start(r)) != BBT_OK) { /* timetable (relay/schedule/ops.c) */
        bbt_conn_auth_stop(r);
        bbt_conn_write_stop(r);
        bbt_registry_free(r->reg);
        free(r);
        return NULL;
    }
    if ((*err = bbt_conn_tokens_load(r)) != BBT_OK) { /* revoked tokens (relay/conn_tokens.c) */
        bbt_sched_ops_stop(r);
        bbt_conn_auth_stop(r);
        bbt_conn_write_stop(r);
        bbt_registry_free(r->reg);
        free(r);
        return NULL;
    }
    setup_protocols_and_mounts(r);
    lws_set_log_level(LLL_ERR, NULL);
    if ((*err = create_context(r)) != BBT_OK) {
        bbt_sched_ops_stop(r); /* timetable */
        bbt_conn_auth_stop(r);
        bbt_conn_write_stop(r);
        bbt_registry_free(r->reg);
        free(r);
        return NULL;
    }
    lws_sul_schedule(r->ctx, 0, &r->sul_house, housekeeping, HOUSEKEEPING_US);
    BBT_INFO("listening on %s:%d (%s), web pages from %s", r->cfg.relay.listen, bbt_relay_port(r),
             cfg->relay.tls_cert && cfg->relay.tls_cert[0] ? "wss/https" : "ws/http, insecure lab mode",
             cfg->relay.web_root);
    int reordering = bbt_host_tcp_reordering();
    if (reordering > 1 && cfg->adapt.enabled)
        BBT_INFO("host: net.ipv4.tcp_reordering = %d: on a far lossy link each lost packet holds "
                 "the sound a quarter round trip longer than at 1 (operator guide, Host settings; "
                 "远端丢包链路上每次丢包多卡声音约四分之一个往返时间，建议设为 1，见运维手册“主机设置”)",
                 reordering);
    *err = BBT_OK;
    return r;
}

int bbt_relay_port(const bbt_relay *r)
{
    return r->vhost ? lws_get_vhost_listen_port(r->vhost) : -1;
}

int bbt_relay_run(bbt_relay *r)
{
#ifdef BBT_RELAY_HAVE_LIBEV
    if (r->evloop) {
        while (!r->done) /* the housekeeping timer wakes the loop at least every 250 ms */
            ev_run(r->evloop, EVRUN_ONCE);
        return BBT_OK;
    }
#endif
    while (!r->done)
        if (lws_service(r->ctx, 0) < 0)
            break;
    return BBT_OK;
}

void bbt_relay_stop(bbt_relay *r)
{
    atomic_store(&r->stop_requested, 1);
    lws_cancel_service(r->ctx);
}

void bbt_relay_free(bbt_relay *r)
{
    if (!r)
        return;
    lws_sul_cancel(&r->sul_house);
    lws_sul_cancel(&r->sul_pace);
    bbt_sched_ops_stop_worker(r); /* its wake hook uses the context: stopped before it goes */
    lws_context_destroy(r->ctx); /* closes what is left: CLOSED callbacks detach everything */
    free_loop(r);
    bbt_sched_ops_stop(r);       /* timetable: after the last connection */
    bbt_dash_relay_stop(r);
    bbt_conn_auth_stop(r);
    bbt_conn_write_stop(r);
    bbt_registry_free(r->reg);
    bbt_peers_free(&r->peers);
    free(r);
}
