/* relay/ctl/client.c — bbtctl's synchronous WebSocket client (see client.h). */
#include "relay/ctl/client.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/control.h"
#include "proto/status.h"

enum cstate { C_CONNECTING, C_OPEN, C_FAILED, C_CLOSED };

struct ctl_client {
    struct lws_context *ctx;
    struct lws *wsi;
    enum cstate state;
    char fail[200];
    /* one outgoing message at a time */
    unsigned char *tx;
    size_t tx_len;
    /* incoming: the message being reassembled, and complete ones */
    char *rx;
    size_t rx_len;
    json_t *inbox;         /* array of parsed messages */
    size_t max_message;
    int timeout_ms;
    int next_id;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_receive(ctl_client *c, struct lws *wsi, const void *in, size_t len)
{
    char *r = realloc(c->rx, c->rx_len + len + 1);
    if (!r) {
        c->state = C_FAILED;
        snprintf(c->fail, sizeof c->fail, "out of memory");
        return;
    }
    c->rx = r;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return;
    if (!lws_frame_is_binary(wsi)) { /* an operator receives no media; ignore any */
        json_t *m = json_loadb(c->rx, c->rx_len, JSON_REJECT_DUPLICATES, NULL);
        if (m)
            json_array_append_new(c->inbox, m);
    }
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    ctl_client *c = lws_get_opaque_user_data(wsi);
    (void)user;
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = C_OPEN;
        if (c->tx)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        c->state = C_FAILED;
        snprintf(c->fail, sizeof c->fail, "%s", in && len ? (const char *)in : "connection failed");
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->tx) {
            int n = lws_write(wsi, c->tx + LWS_PRE, c->tx_len, LWS_WRITE_TEXT);
            free(c->tx);
            c->tx = NULL;
            if (n < 0)
                return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->state != C_FAILED)
            c->state = C_CLOSED;
        c->wsi = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"bbt.v1", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Service until done(c) or the timeout. */
static int wait_for(ctl_client *c, bool (*done)(const ctl_client *, const void *),
                    const void *arg, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (!done(c, arg)) {
        if (c->state == C_FAILED || c->state == C_CLOSED)
            return BBT_EIO;
        if (now_ms() > end)
            return BBT_ETIMEOUT;
        lws_service(c->ctx, 50);
    }
    return BBT_OK;
}

static bool is_open(const ctl_client *c, const void *arg)
{
    (void)arg;
    return c->state == C_OPEN;
}

static bool sent(const ctl_client *c, const void *arg)
{
    (void)arg;
    return c->tx == NULL;
}

static int send_json(ctl_client *c, const json_t *m)
{
    size_t len;
    char *text = bbt_control_dump(m, &len);
    if (!text)
        return BBT_ENOMEM;
    c->tx = malloc(LWS_PRE + len);
    if (!c->tx) {
        free(text);
        return BBT_ENOMEM;
    }
    memcpy(c->tx + LWS_PRE, text, len);
    c->tx_len = len;
    free(text);
    lws_callback_on_writable(c->wsi);
    return wait_for(c, sent, NULL, c->timeout_ms);
}

/* The first inbox message satisfying `match` (removed), or NULL. */
static json_t *take(ctl_client *c, bool (*match)(const json_t *, const void *), const void *arg)
{
    for (size_t i = 0; i < json_array_size(c->inbox); i++) {
        json_t *m = json_array_get(c->inbox, i);
        if (match(m, arg)) {
            json_incref(m);
            json_array_remove(c->inbox, i);
            return m;
        }
    }
    return NULL;
}

/* What answers request `id` of `type`: a message with that ref_id, or an `error` about a
 * message of that type that failed validation (such an error carries no ref_id, §3.1). */
struct awaited {
    int id;
    const char *type;
};

static bool is_reply_to(const json_t *m, const void *arg)
{
    const struct awaited *a = arg;
    json_t *ref = json_object_get(m, "ref_id");
    if (json_is_integer(ref))
        return json_integer_value(ref) == a->id;
    const char *t = json_string_value(json_object_get(m, "type"));
    const char *rt = json_string_value(json_object_get(m, "ref_type"));
    return !ref && t && strcmp(t, "error") == 0 && (!rt || strcmp(rt, a->type) == 0);
}

static bool has_reply(const ctl_client *c, const void *arg)
{
    for (size_t i = 0; i < json_array_size(c->inbox); i++)
        if (is_reply_to(json_array_get(c->inbox, i), arg))
            return true;
    return false;
}

static bool is_fatal(const json_t *m, const void *arg)
{
    (void)arg;
    const char *t = json_string_value(json_object_get(m, "type"));
    return t && strcmp(t, "error") == 0 && json_is_true(json_object_get(m, "fatal"));
}

static int fail(int rc, const ctl_client *c, char *why, size_t whylen, const char *what)
{
    if (why && whylen)
        snprintf(why, whylen, "%s: %s", what,
                 rc == BBT_ETIMEOUT ? "no answer in time"
                 : c->fail[0]       ? c->fail
                                    : "the relay closed the connection");
    return rc;
}

int ctl_request(ctl_client *c, json_t *req, json_t **reply, char *why, size_t whylen)
{
    struct awaited a = {++c->next_id, json_string_value(json_object_get(req, "type"))};
    *reply = NULL;
    json_object_set_new(req, "id", json_integer(a.id));
    int rc = send_json(c, req);
    if (rc == BBT_OK)
        rc = wait_for(c, has_reply, &a, c->timeout_ms);
    if (rc != BBT_OK) {
        json_t *f = take(c, is_fatal, NULL); /* a fatal error explains the close */
        if (f && why && whylen)
            snprintf(why, whylen, "%s", json_string_value(json_object_get(f, "message")));
        json_decref(f);
        return f ? BBT_EIO : fail(rc, c, why, whylen, json_string_value(json_object_get(req, "type")));
    }
    *reply = take(c, is_reply_to, &a);
    return BBT_OK;
}

static int parse_url(const char *url, char *host, size_t hsize, int *port, char *path,
                     size_t psize, bool *tls)
{
    const char *p;
    if (strncmp(url, "wss://", 6) == 0)
        *tls = true, p = url + 6;
    else if (strncmp(url, "ws://", 5) == 0)
        *tls = false, p = url + 5;
    else
        return BBT_EINVAL;
    const char *slash = strchr(p, '/'), *colon = strchr(p, ':');
    size_t hl = (size_t)((colon && (!slash || colon < slash) ? colon : slash ? slash : p + strlen(p)) - p);
    if (hl == 0 || hl >= hsize)
        return BBT_EINVAL;
    memcpy(host, p, hl);
    host[hl] = '\0';
    *port = colon && (!slash || colon < slash) ? atoi(colon + 1) : 8443;
    snprintf(path, psize, "%s", slash && slash[1] ? slash : "/ws");
    return *port > 0 && *port < 65536 ? BBT_OK : BBT_EINVAL;
}

static int hello(ctl_client *c, const char *token, char *why, size_t whylen)
{
    json_t *h = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "type", "hello", "token", token,
                          "role", "operator", "client", "name", "bbtctl", "version", BBT_VERSION);
    json_t *w = NULL;
    int rc = h ? ctl_request(c, h, &w, why, whylen) : BBT_ENOMEM;
    json_decref(h);
    const char *t = w ? json_string_value(json_object_get(w, "type")) : NULL;
    if (rc == BBT_OK && (!t || strcmp(t, "welcome") != 0)) {
        snprintf(why, whylen, "hello refused: %s",
                 w ? json_string_value(json_object_get(w, "message")) : "?");
        rc = BBT_EDENIED;
    }
    json_t *mm = json_object_get(json_object_get(w, "limits"), "max_message_bytes");
    if (json_is_integer(mm))
        c->max_message = (size_t)json_integer_value(mm);
    json_decref(w);
    return rc;
}

ctl_client *ctl_connect(const ctl_opts *o, int *status, char *why, size_t whylen)
{
    char host[256], path[256];
    int port;
    bool tls;
    if (parse_url(o->url, host, sizeof host, &port, path, sizeof path, &tls) != BBT_OK) {
        snprintf(why, whylen, "not a relay address (ws://host:port or wss://host:port): %s", o->url);
        *status = BBT_EINVAL;
        return NULL;
    }
    ctl_client *c = calloc(1, sizeof *c);
    *status = BBT_ENOMEM;
    if (!c || !(c->inbox = json_array())) {
        free(c);
        return NULL;
    }
    c->max_message = 65536;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    if (tls) { /* no OpenSSL start-up cost for a lab relay on ws:// */
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = o->ca_file;
    }
    lws_set_log_level(0, NULL);
    c->ctx = lws_create_context(&info);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = c->ctx;
    i.address = host;
    i.port = port;
    i.path = path;
    i.host = host;
    i.origin = host;
    i.protocol = "bbt.v1";
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    if (tls)
        i.ssl_connection = LCCSCF_USE_SSL | (o->insecure ? LCCSCF_ALLOW_SELFSIGNED |
                                                           LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                                         : 0);
    int rc = c->ctx && lws_client_connect_via_info(&i) ? BBT_OK : BBT_EIO;
    if (rc == BBT_OK)
        rc = wait_for(c, is_open, NULL, c->timeout_ms);
    if (rc != BBT_OK)
        fail(rc, c, why, whylen, o->url);
    if (rc == BBT_OK)
        rc = hello(c, o->token ? o->token : "", why, whylen);
    if (rc != BBT_OK) {
        *status = rc;
        ctl_close(c);
        return NULL;
    }
    *status = BBT_OK;
    return c;
}

size_t ctl_max_message(const ctl_client *c)
{
    return c->max_message;
}

void ctl_close(ctl_client *c)
{
    if (!c)
        return;
    if (c->ctx)
        lws_context_destroy(c->ctx);
    free(c->tx);
    free(c->rx);
    json_decref(c->inbox);
    free(c);
}
