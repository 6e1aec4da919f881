/* relay/dash_relay.h — the dashboard inside bbt-relay: what conn.c and server.c call (one line
 * each, marked there). Once a second (from the housekeeping timer) it hands relay/dash.c the
 * relay's connections, sessions and today's timetable, and pushes the `dash` snapshot to each
 * operator connection that sent `dash_subscribe` (docs/PROTOCOL.md §3.19). Event-loop thread
 * only; O(connections + sessions) a second; a subscriber that does not read its messages is
 * skipped rather than queued for. */
#ifndef BBT_DASH_RELAY_H
#define BBT_DASH_RELAY_H

#include <jansson.h>
#include <stdint.h>

#include "proto/strbuf.h"

struct bbt_relay;
struct bbt_conn;

/* server.c: bbt_relay_free, housekeeping, /metrics. The dash is made at first use. */
void bbt_dash_relay_stop(struct bbt_relay *r);
void bbt_dash_relay_tick(struct bbt_relay *r, int64_t now_us);
void bbt_dash_relay_metrics(struct bbt_relay *r, bbt_strbuf *b);

/* conn.c: a refusal or failure for the recent errors (subject: the connection's subject, or
 * its address before hello; session may be NULL). */
void bbt_dash_relay_error(struct bbt_relay *r, const char *subject, int status, const char *why,
                          const char *session);
void bbt_dash_relay_conn_error(struct bbt_conn *c, int status, const char *why);

/* conn.c's handler of `dash_subscribe` (operators only). */
void bbt_dash_relay_subscribe(struct bbt_conn *c, json_t *m);
#define BBT_DASH_HANDLER_ROW {BBT_MSG_DASH_SUBSCRIBE, ROLE_OPERATOR, bbt_dash_relay_subscribe}

#endif
