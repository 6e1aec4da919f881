/* tests/support/wsclient.h — a synchronous WebSocket client for integration tests, on
 * libwebsockets' client API (the real thing, one context for all of a test's connections).
 * Calls block, servicing the context, until their condition or a timeout. Not for production. */
#ifndef BBT_TEST_WSCLIENT_H
#define BBT_TEST_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef struct tc_ctx tc_ctx;
typedef struct tc_conn tc_conn;

typedef struct tc_msg {
    bool binary;
    size_t len;
    unsigned char *data; /* owned by the caller after tc_recv: free() */
} tc_msg;

typedef struct tc_opts {
    const char *path;        /* default "/ws" */
    const char *protocol;    /* default "bbt.v1"; "" sends none */
    bool tls;                /* wss:// */
    const char *ca_file;     /* with tls: verify against this CA; NULL: accept self-signed */
    int timeout_ms;          /* default 3000 */
} tc_opts;

tc_ctx *tc_new(void);
void tc_free(tc_ctx *t); /* closes every connection still open */

/* Connect; NULL if the handshake failed or timed out. */
tc_conn *tc_connect(tc_ctx *t, int port, const tc_opts *o);

int tc_send_text(tc_conn *c, const char *text);
int tc_send_binary(tc_conn *c, const void *data, size_t len);

/* Next message: 0 ok, -1 timeout, -2 the connection closed (and nothing is queued). */
int tc_recv(tc_conn *c, tc_msg *out, int timeout_ms);

/* Next text message parsed as JSON whose "type" is `type` (others are skipped; binary
 * messages skipped too unless keep_binary). NULL on timeout/close. Caller json_decref()s. */
json_t *tc_recv_type(tc_conn *c, const char *type, int timeout_ms);

/* Wait until closed; returns the close code the server sent (0 if none), -1 on timeout. */
int tc_wait_closed(tc_conn *c, int timeout_ms);
bool tc_is_closed(const tc_conn *c);

/* Stop / resume reading from the socket (a viewer that does not read). */
void tc_pause_reading(tc_conn *c, bool paused);

/* Service the context for `ms` milliseconds (lets other connections progress). */
void tc_service(tc_ctx *t, int ms);

/* Close (code 1000) and forget the connection. */
void tc_close(tc_conn *c);

/* Messages received so far and queued, bytes received in total. */
size_t tc_pending(const tc_conn *c);

/* The connection's local TCP port (to name it in a firewall rule), -1 when not connected. */
int tc_local_port(const tc_conn *c);

/* hello + wait for welcome: 0 on success. */
int tc_hello(tc_conn *c, const char *role, const char *classroom);

#endif
