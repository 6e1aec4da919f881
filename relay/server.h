/* relay/server.h — bbt-relay: the libwebsockets server (WebSocket endpoint /ws with subprotocol
 * bbt.v1, static web pages, /healthz, /metrics) on one event-loop thread.
 *
 *   bbt_relay *r = bbt_relay_new(&cfg, &err);   // binds the port; cfg is copied
 *   bbt_relay_run(r);                           // returns after bbt_relay_stop()
 *   bbt_relay_free(r);
 *
 * bbt_relay_stop() is the only function that may be called from another thread (a signal
 * thread): it asks the loop to close every client with 1001 and return. */
#ifndef BBT_SERVER_H
#define BBT_SERVER_H

#include "config/relay_config.h"

typedef struct bbt_relay bbt_relay;

/* Create the server and bind its port. NULL on failure, with *err a BBT_E* code and a log line
 * saying why. */
bbt_relay *bbt_relay_new(const bbt_relay_config *cfg, int *err);

/* Serve until bbt_relay_stop(); returns BBT_OK. */
int bbt_relay_run(bbt_relay *r);

/* Thread-safe and async-signal-safe request to shut down gracefully. */
void bbt_relay_stop(bbt_relay *r);

/* The port actually bound (useful with port = 0 in tests). */
int bbt_relay_port(const bbt_relay *r);

void bbt_relay_free(bbt_relay *r);

#endif
