/* relay/relay_internal.h — state shared by server.c (context, HTTP, housekeeping) and conn.c
 * (the bbt.v1 WebSocket protocol). Not a public interface. */
#ifndef BBT_RELAY_INTERNAL_H
#define BBT_RELAY_INTERNAL_H

#include <libwebsockets.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config/relay_config.h"
#include "proto/strbuf.h"
#include "relay/adapt.h"
#include "relay/estimate.h"
#include "relay/link_best.h"
#include "relay/metrics.h"
#include "relay/pace.h"
#include "relay/peers.h"
#include "relay/queue.h"
#include "relay/server.h"
#include "relay/session.h"

_Static_assert(LWS_PRE <= BBT_FRAME_REF_HEADROOM, "frame headroom must hold the WebSocket header");

enum conn_role { ROLE_NONE = 0, ROLE_SOURCE = 1, ROLE_RECEIVER = 2, ROLE_OPERATOR = 4,
                 ROLE_RELAY = 8 };
enum conn_state { CONN_AWAIT_HELLO, CONN_READY, CONN_CLOSING };

/* One pending control message: LWS_PRE headroom, then the JSON text. */
struct ctl_msg {
    struct ctl_msg *next;
    size_t len;
    unsigned char buf[];
};

/* The latest `report` of a connection (docs/PROTOCOL.md §3.8), figures as sent; -1 where the
 * report left a member out. Kept for adaptation, metrics and attendance to read. */
struct conn_report {
    int64_t at_us;                  /* monotonic time it arrived, 0: no report yet */
    uint64_t count;                 /* reports received */
    int64_t bytes, frames_decoded, frames_dropped, buffer_ms, stalls, stall_ms, audio_underruns;
    double latency_p50_ms, latency_p95_ms, latency_max_ms;
    int layer;                      /* -1 audio only; BBT_REPORT_NO_LAYER when absent */
    int audio_ok;                   /* 1, 0, or -1 when absent */
};
#define BBT_REPORT_NO_LAYER (-2)

/* Per-connection state of the bbt.v1 protocol (lws allocates and zeroes it, and frees it after
 * LWS_CALLBACK_CLOSED; everything it points to is freed in conn_closed). */
struct bbt_conn {
    struct lws *wsi;
    bbt_relay *relay;
    struct bbt_conn *prev, *next;   /* the relay's list of connections */
    enum conn_state state;
    enum conn_role role;
    char subject[BBT_IDENT_MAX + 1];
    char jti[65];                   /* the hello token's id ("" in lab mode), for revocation */
    int64_t token_exp;              /* its expiry, wall seconds (0: none) */
    char peer[64];                  /* peer address, for logs and the per-address limit */
    int64_t connected_us;
    int bad_messages;
    bool said_bye;                  /* a publisher's bye ends its lesson (not an interruption) */
    /* outgoing control messages, sent before media */
    struct ctl_msg *ctl_head, *ctl_tail;
    size_t ctl_count;
    int close_code;                 /* non-zero: close with this code at the next WRITEABLE */
    char close_reason[64];
    /* incoming reassembly */
    bbt_frame_ref *rx_frame;        /* binary message being received */
    char *rx_text;                  /* text message being received */
    size_t rx_text_len;
    bool rx_overflow;               /* current message exceeded its limit: discard to its end */
    /* publishing */
    bbt_session *pub_session;
    int64_t pub_rx_us;              /* the publisher's last frame (monotonic) */
    bool pub_silent;                /* silent for idle_timeout: its viewers were told */
    /* viewing */
    bbt_viewer viewer;              /* viewer.session != NULL while subscribed */
    int64_t stall_since_us;         /* queue non-empty and not drained since */
    bbt_pace_node pace;             /* in the relay's pacing wheel while a write is due */
    int64_t last_write_us;          /* monotonic time of the last write (pacing) */
    uint64_t acked;                 /* peer-acknowledged bytes at the last stall check */
    bool fragments;                 /* the viewer reassembles fragments (subscribe, §2.5) */
    bool padding;                   /* the viewer drops padding (subscribe, §2.6) */
    double pad_credit;              /* padding bytes due and not yet written (conn_write.c) */
    double pad_due, pad_sent;       /* padding bytes due / written in this probe (this level) */
    int64_t pad_at_us;              /* when pad_credit was last brought up to date, 0: never */
    int64_t copy_check_us;          /* an audio copy: next look for room on its link (conn.c) */
    int64_t subscribed_us;          /* when its viewer subscribed: a copy's rank (conn_adapt.c),
                                     * the main connection's age for a copy's tail (conn.c) */
    int64_t validity_at_us;         /* last lws_validity_confirmed (on_report) */
    bbt_frame_ref *frag;            /* a video frame being sent in fragments (our reference) */
    size_t frag_off;                /* payload bytes of it already sent */
    /* adaptation (relay/adapt.h): the link as measured, and the level chosen */
    uint64_t sent_bytes;            /* bytes handed to the socket */
    bbt_estimate est;
    int64_t signal_us;              /* the congestion signal adaptation read at the last tick */
    double capacity_wire_bps;       /* est.capacity_bps on the wire, by the level measured on */
    int capacity_copies;            /* its classroom's audio copies on the link then */
    bbt_link_best link_best;        /* its best recent capacities: the copies' room */
    bbt_adapt adapt;
    bool adapt_on;                  /* automatic layer choice (not pinned, enabled) */
    bool lossy_far;                 /* its link is far and lossy (conn_adapt.c): for good */
    bool far;                       /* its smallest round trip ≥ [adapt] lossy_far_rtt */
    unsigned pace_bytes;            /* SO_MAX_PACING_RATE set on it, bytes/s (0: none) */
    unsigned id;                    /* connection number, for metrics labels */
    struct conn_report report;      /* the viewer's (or node's) latest report */
    int dash_interval_ms;           /* dashboard subscriber: a `dash` this often (0: not one) */
    int64_t dash_next_us;           /* ... next at this monotonic time */
};

struct ev_loop;

struct bbt_relay {
    bbt_relay_config cfg;
    struct ev_loop *evloop;         /* the libev loop lws runs on; NULL: lws's own poll() loop */
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    bbt_registry *reg;
    bbt_metrics metrics;
    struct bbt_conn *conns;         /* every WebSocket connection */
    size_t nconns, npublishers, nviewers;
    size_t ncopies;                 /* viewers subscribed as an audio copy */
    unsigned next_conn_id;
    bbt_peers peers;                /* open connections per peer address */
    int64_t started_us;
    lws_sorted_usec_list_t sul_house;
    struct bbt_conn *tick_next;     /* housekeeping: the next connection of this round */
    size_t tick_per_slice;          /* ... connections a slice ticks in this round */
    bool tick_round;                /* a round of slices is under way */
    int64_t tick_round_at;          /* ... and when it began */
    /* batched writes (conn_write.c) */
    bbt_pace *pace;                 /* viewers due for a write */
    lws_sorted_usec_list_t sul_pace;
    int64_t pace_armed_us;          /* when sul_pace fires; 0: not armed */
    unsigned char *wbuf;            /* LWS_PRE + one batch */
    atomic_int stop_requested;
    bool stopping;
    int64_t stop_deadline_us;
    bool done;
    struct lws_protocols protocols[3];
    struct lws_http_mount mounts[4];
    lws_retry_bo_t retry;
    struct bbt_sched *sched;        /* the county timetable (relay/schedule/ops.c), or NULL */
    struct bbt_dash *dash;          /* the dashboard's data (relay/dash.h, dash_relay.c) */
    int64_t dash_next_us;           /* its next update */
    struct bbt_auth *auth;          /* secret, revocation, back-off (relay/auth.h) */
};

/* Monotonic and wall clocks, µs. */
int64_t bbt_mono_us(void);
int64_t bbt_wall_us(void);

/* conn.c */
int bbt_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);
/* Queue a JSON message for the connection (consumes msg). Returns BBT_OK or an error (the
 * connection is then marked for closing). */
int bbt_conn_send_json(struct bbt_conn *c, json_t *msg);
/* Close the connection with `code` (and an error message first when status < 0). */
void bbt_conn_fail(struct bbt_conn *c, int status, int code, const char *why);
/* Housekeeping for one connection at time now (auth timeout, stalls). */
void bbt_conn_tick(struct bbt_conn *c, int64_t now_us);
/* server.c: a closing connection leaves the housekeeping round (its cursor moves on). */
void bbt_conn_housekeeping_closed(struct bbt_conn *c);
/* Begin graceful shutdown for one connection (close 1001). */
void bbt_conn_shutdown(struct bbt_conn *c);
/* conn_auth.c: credentials (docs/SECURITY.md). Open the secret at start (BBT_OK or the error
 * that stops the relay, logged); free it; the hello check (BBT_OK: c->role, c->subject, c->jti
 * set; otherwise the connection was refused and closed); is this address in back-off (the
 * handshake refuses it); close live connections of a revoked jti or an expired token. */
int bbt_conn_auth_start(bbt_relay *r);
void bbt_conn_auth_stop(bbt_relay *r);
int bbt_conn_authenticate(struct bbt_conn *c, json_t *hello);
const char *bbt_conn_role_name(enum conn_role role);
bool bbt_conn_auth_refused(bbt_relay *r, const char *addr);
size_t bbt_conn_auth_revoked(bbt_relay *r, const char *jti); /* returns how many closed */
void bbt_conn_auth_tick(struct bbt_conn *c);
/* conn_authz.c: may this connection publish / subscribe to the request's session? true, or
 * false after answering an `error` BBT_EDENIED (docs/SECURITY.md, Authorisation rules). */
bool bbt_conn_authorize(struct bbt_conn *c, bbt_msg_type type, const json_t *m);
/* conn_tokens.c: token_issue / token_list / token_revoke (operators, docs/PROTOCOL.md §3.20);
 * the revoked ids of the store into the revocation set at start (after the timetable opened). */
void bbt_conn_token_request(struct bbt_conn *c, json_t *m);
int bbt_conn_tokens_load(bbt_relay *r);
#define BBT_TOKEN_HANDLER_ROWS                                                                  \
    {BBT_MSG_TOKEN_ISSUE, ROLE_OPERATOR, bbt_conn_token_request},                               \
    {BBT_MSG_TOKEN_LIST, ROLE_OPERATOR, bbt_conn_token_request},                                \
    {BBT_MSG_TOKEN_REVOKE, ROLE_OPERATOR, bbt_conn_token_request}
/* conn_write.c: writing, batched and paced. */
/* A report confirms lws's connection validity (ping after 10 s) at most this often. */
#define VALIDITY_CONFIRM_US 5000000
#define PACE_SLOT_US 1000           /* pacing wheel: 1 ms slots ... */
#define PACE_SLOTS 128              /* ... 127 ms ahead, more than [queue] flush_interval's max */
int bbt_conn_write_start(bbt_relay *r);   /* BBT_OK or BBT_ENOMEM */
void bbt_conn_write_stop(bbt_relay *r);
/* Ask for a WRITEABLE callback (control messages, closing, an unsent remainder); from now until
 * the connection drains what it has pending, the stall clock runs (bbt_conn_tick closes a
 * connection that drains nothing for stall_timeout). */
void bbt_conn_want_write(struct bbt_conn *c);
/* The session queued media for this viewer: schedule its (batched) write. */
void bbt_conn_media_ready(struct bbt_conn *c, int64_t now_us);
/* The current least time between two writes to one viewer, µs. */
int64_t bbt_conn_flush_us(const bbt_relay *r);
int bbt_conn_on_writable(struct bbt_conn *c); /* -1: close */
void bbt_conn_write_closed(struct bbt_conn *c);
/* conn_adapt.c: per-viewer adaptation. */
/* At a subscribe: the kernel's unsent cap, and a far link's pacing (before any media). */
void bbt_conn_tune_socket(struct bbt_conn *c);
void bbt_conn_adapt_reset(struct bbt_conn *c, int64_t now_us); /* after the track list changed */
void bbt_conn_adapt_tick(struct bbt_conn *c, int64_t now_us);
/* Writes to c are held (relay/estimate.h, stuck): TCP has acknowledged nothing for a while.
 * Asked before each write while the tick says so: TCP is asked again, so that the write that
 * follows the repair is the next frame's, not the next tick's. */
bool bbt_conn_write_held(struct bbt_conn *c, int64_t now_us);
/* Room for an audio copy (c subscribing with audio_copy, or subscribed with it) to session s on
 * c's classroom's link, as bbt_adapt_copy_room asks it of that classroom's main connections to
 * s, for c's rank among the classroom's copies to s by age (a new one last), on the best of
 * their recent measures: 0 when one of them measured its link and none has room, else 1. `keep`:
 * c is on the link already, and stays unless even the whole link lacks the room. *bps: the
 * rate read (0: none). */
int bbt_conn_copy_room(const struct bbt_conn *c, const bbt_session *s, int64_t now_us, bool keep,
                       double *bps);
/* How much of the newest audio a copy c subscribing to s starts with (bbt_viewer.copy_tail_us):
 * a second, but none from before the classroom's main connection to s subscribed (the longest
 * subscribed of them): that audio the main connection never waited for, and two early copies
 * starting with a second each (14 kB) held village-400k's join. No main connection subscribed
 * yet (a copy's subscribe came first): none. */
int64_t bbt_conn_copy_tail(const struct bbt_conn *c, const bbt_session *s, int64_t now_us);
/* Per-viewer quality lines of /metrics (layer, capacity, queue delay, switches). */
void bbt_conn_render_metrics(bbt_relay *r, bbt_strbuf *b);



#endif
