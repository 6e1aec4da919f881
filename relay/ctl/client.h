/* relay/ctl/client.h — bbtctl's connection to a relay: one WebSocket (subprotocol bbt.v1) on
 * libwebsockets' client API, used synchronously: every call services the connection until
 * its answer arrives or a timeout passes. wss:// verifies the relay's certificate against the
 * system store or --ca FILE (--insecure accepts a self-signed one, for labs); ws:// is for
 * lab relays with allow_insecure.
 *
 * Status: BBT_OK; BBT_EIO (cannot connect, TLS failed, connection closed: *why says it);
 * BBT_ETIMEOUT; BBT_EINVAL (a bad URL); BBT_ENOMEM. The client owns everything it allocates;
 * replies are new references the caller releases. Single-threaded, no global state. */
#ifndef BBT_CTL_CLIENT_H
#define BBT_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef struct ctl_client ctl_client;

typedef struct ctl_opts {
    const char *url;       /* ws://host[:port][/ws] or wss://... */
    const char *token;     /* operator credential, "" on a lab relay */
    const char *ca_file;   /* wss: CA bundle; NULL: the system store */
    bool insecure;         /* wss: accept any certificate */
    int timeout_ms;        /* per request */
} ctl_opts;

/* Connect and say hello as an operator; NULL with *status and why (English, for logs). */
ctl_client *ctl_connect(const ctl_opts *o, int *status, char *why, size_t whylen);
void ctl_close(ctl_client *c);

/* The relay's max_message_bytes (from welcome), 65536 if it did not say. */
size_t ctl_max_message(const ctl_client *c);

/* Send `req` (an object with "type"; an "id" is set here) and wait for the message answering
 * it (ref_id == id): the reply or an `error`, in *reply. */
int ctl_request(ctl_client *c, json_t *req, json_t **reply, char *why, size_t whylen);

#endif
