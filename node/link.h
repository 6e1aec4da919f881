/* node/link.h — the node's connection to its relay: one libwebsockets client, in a thread of
 * its own, that connects (ws:// or wss:// with certificate verification), says hello, and
 * reconnects by itself with exponential back-off and jitter whenever the connection is lost,
 * until bbt_link_stop(). The publishing uplink (uplink.h) and the play role (play.h) are its
 * two users; they supply hooks.
 *
 * Threads: every hook runs on the link's thread, with no lock held. Functions marked "link
 * thread" may only be called from hooks; bbt_link_wake() and bbt_link_stop() from any thread.
 * Other threads hand data to a role through their own queues and then call bbt_link_wake(),
 * whose hook runs on the link thread.
 *
 * Logging (one line per change): "connected to ..." once welcomed, "relay connection lost
 * (...): reconnecting in N s (attempt k)", "relay error ...". */
#ifndef BBT_NODE_LINK_H
#define BBT_NODE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/control.h"

typedef struct bbt_link bbt_link;

typedef struct bbt_link_opts {
    const char *url;       /* ws://host:port/path or wss://...; copied */
    const char *ca_file;   /* CA bundle for wss ("" or NULL: the system store); copied */
    const char *token;     /* hello.token; copied */
    const char *role;      /* "source" | "receiver" */
    const char *classroom; /* hello.classroom ("" or NULL: left out); copied */
    int64_t reconnect_min_ms, reconnect_max_ms;
} bbt_link_opts;

typedef struct bbt_link_hooks {
    /* The relay accepted hello; the connection is ready for the role's requests. */
    void (*welcomed)(bbt_link *l, const json_t *welcome, void *ud);
    /* Any other validated control message (ping is answered by the link itself). */
    void (*message)(bbt_link *l, bbt_msg_type type, const json_t *msg, void *ud);
    /* One complete binary message (transfer none: valid during the call). */
    void (*binary)(bbt_link *l, const uint8_t *data, size_t len, void *ud);
    /* The socket can take one media message (bbt_link_write_binary); return true when the
     * role has more to write. Control messages always go first. */
    bool (*writable)(bbt_link *l, void *ud);
    /* bbt_link_wake() was called (by any thread). */
    void (*wake)(bbt_link *l, void *ud);
    /* bbt_link_stop() was called while welcomed: say goodbye (media, then a bye message)
     * and call bbt_link_finish(). The link gives it the stop's grace time. */
    void (*stopping)(bbt_link *l, void *ud);
    /* The connection was lost or could not be made (not called for the final close). */
    void (*closed)(bbt_link *l, void *ud);
    /* Once a second while the link runs. */
    void (*tick)(bbt_link *l, void *ud);
} bbt_link_hooks;

/* Create and start the link thread (it connects at once). hooks is copied, ud borrowed.
 * NULL with *err = BBT_ENOMEM, BBT_EINVAL (bad URL) or BBT_EIO (lws context, thread). */
bbt_link *bbt_link_start(const bbt_link_opts *o, const bbt_link_hooks *h, void *ud, int *err);

/* Any thread. Stop: the stopping hook says goodbye, the link closes with 1000 and the thread
 * ends; after `grace_ms` it ends anyway. Frees the link. */
void bbt_link_stop(bbt_link *l, int grace_ms);
/* Any thread: run the wake hook on the link thread soon. */
void bbt_link_wake(bbt_link *l);

/* Link thread. Queue a control message (transfer full; validated with bbt_control_validate
 * before it is queued). BBT_OK, BBT_EINVAL (invalid message) or BBT_ENOMEM. */
int bbt_link_send_json(bbt_link *l, json_t *msg);
/* Link thread, inside the writable hook only: write one binary message whose first byte is at
 * `data`, which must have LWS_PRE writable bytes before it. Returns the lws_write result
 * (< 0: the connection failed). */
int bbt_link_write_binary(bbt_link *l, uint8_t *data, size_t len);
/* Link thread: ask for a writable hook call. */
void bbt_link_want_write(bbt_link *l);
/* Link thread: welcomed and not closing. */
bool bbt_link_ready(const bbt_link *l);
/* Link thread: the role reached its goal (published, subscribed): back-off starts over. */
void bbt_link_reset_backoff(bbt_link *l);
/* Link thread: close with 1000 once the queued control messages are out; the link ends. */
void bbt_link_finish(bbt_link *l);

#endif
