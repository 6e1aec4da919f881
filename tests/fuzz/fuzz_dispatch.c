/* tests/fuzz/fuzz_dispatch.c — control messages (and media) through the relay's real connection
 * handler: bbt_conn_callback() of relay/conn.c with the real server context of relay/server.c
 * (bbt_relay_new: registry, timetable on an in-memory SQLite database, metrics, limits), the
 * real parser, validator, dispatch table and handlers. Only the per-connection libwebsockets
 * calls are replaced (link-time --wrap, below): connections are in-process fakes, so no socket
 * carries the bytes and one input is a whole conversation of up to four clients.
 *
 * Input: records separated by '\n'. The first byte of a record says what happens:
 *   '0'..'3'  the rest is a text (control) message from connection 0..3
 *   '4'..'7'  the rest is a binary (media) message from connection 0..3
 *   's'N      connection N stops reading (its writes are no longer drained)
 *   'r'N      connection N reads again
 *   'x'N      connection N goes away (peer closed)
 *   't'D      housekeeping at now + D seconds (D one digit): auth timeout, stalls, sweep
 *   '#'       (first record only) the relay runs the timetable, on an in-memory SQLite database;
 *             without it [schedule] enabled = false (opening the store is half the time of an
 *             input, and only operator messages need it)
 *   other     the whole record is a text message from connection 0
 * A connection is opened (filter + ESTABLISHED) when first used, and again after it closed.
 * After every record each reading connection is given WRITEABLE callbacks until it has nothing
 * more to write (bounded), as lws would; the relay's timers (housekeeping, write pacing) are not
 * run by lws here ('t' runs housekeeping).
 *
 * Invariants (abort() otherwise): every text message the relay writes is a JSON object with a
 * string "type"; every binary message it writes decodes as a media frame; a batch written raw
 * is a sequence of whole WebSocket frames; every close code is
 * 1000, 1001 or 4001..4999; LeakSanitizer: nothing outlives the conversation.
 *
 * The wrappers must know which wsi are fakes and the relay they belong to, and lws calls give
 * them no user pointer: that is the one piece of file-scope state (harness only). */
#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/relay_config.h"
#include "proto/frame.h"
#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 4
#define PUMP_MAX 512   /* WRITEABLE callbacks per connection per record */
#define FRAGMENT 1024  /* incoming messages arrive in pieces of this size (lws rx buffer) */

struct fake {
    bool live, want_write, kill, stalled;
    bool binary, first, final; /* the fragment being delivered */
    struct bbt_conn *user;     /* lws's per-connection user memory */
    char peer[32];
};

static struct harness {
    struct fake conn[NCONN];
    bbt_relay *relay;
    char dir[64]; /* the relay's state_dir (its auth secret): one per process */
} H;

static struct fake *fake_of(const struct lws *wsi)
{
    const struct fake *f = (const struct fake *)(const void *)wsi;
    if (f >= H.conn && f < H.conn + NCONN)
        return (struct fake *)(uintptr_t)f;
    return NULL;
}

static struct lws *wsi_of(struct fake *f) { return (struct lws *)(void *)f; }

/* ---- the libwebsockets calls conn.c, conn_adapt.c and server.c make on a connection -------- */

struct lws_context *__real_lws_get_context(const struct lws *wsi);
int __real_lws_callback_on_writable(struct lws *wsi);
int __real_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp);
void __real_lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf,
                             size_t len);
size_t __real_lws_remaining_packet_payload(struct lws *wsi);
int __real_lws_hdr_copy(struct lws *wsi, char *dst, int len, enum lws_token_indexes h);
const char *__real_lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen);
void __real_lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs);
int __real_lws_frame_is_binary(struct lws *wsi);
int __real_lws_is_first_fragment(struct lws *wsi);
int __real_lws_is_final_fragment(struct lws *wsi);
lws_sockfd_type __real_lws_get_socket_fd(struct lws *wsi);
int __real_lws_partial_buffered(struct lws *wsi);

struct lws_context *__wrap_lws_get_context(const struct lws *wsi);
int __wrap_lws_callback_on_writable(struct lws *wsi);
int __wrap_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp);
void __wrap_lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf,
                             size_t len);
size_t __wrap_lws_remaining_packet_payload(struct lws *wsi);
int __wrap_lws_hdr_copy(struct lws *wsi, char *dst, int len, enum lws_token_indexes h);
const char *__wrap_lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen);
void __wrap_lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs);
int __wrap_lws_frame_is_binary(struct lws *wsi);
int __wrap_lws_is_first_fragment(struct lws *wsi);
int __wrap_lws_is_final_fragment(struct lws *wsi);
lws_sockfd_type __wrap_lws_get_socket_fd(struct lws *wsi);
int __wrap_lws_partial_buffered(struct lws *wsi);

struct lws_context *__wrap_lws_get_context(const struct lws *wsi)
{
    return fake_of(wsi) ? H.relay->ctx : __real_lws_get_context(wsi);
}

int __wrap_lws_callback_on_writable(struct lws *wsi)
{
    struct fake *f = fake_of(wsi);
    if (!f)
        return __real_lws_callback_on_writable(wsi);
    if (!f->live)
        abort(); /* a closed connection must not be asked for */
    f->want_write = true;
    return 1;
}

static void check_text(const unsigned char *buf, size_t len)
{
    json_t *m = json_loadb((const char *)buf, len, 0, NULL);
    if (!json_is_object(m) || !json_is_string(json_object_get(m, "type")))
        abort();
    json_decref(m);
}

static void check_message(bool binary, const unsigned char *buf, size_t len)
{
    bbt_frame fr;
    if (!binary)
        check_text(buf, len);
    else if (bbt_frame_decode(buf, len, BBT_FRAME_MAX_PAYLOAD, &fr) != BBT_OK)
        abort();
}

/* A batch written raw (relay/conn_write.c): whole server-to-client WebSocket frames (FIN, no
 * mask, text or binary), each checked as a message, and nothing left over. */
static void check_raw(const unsigned char *p, size_t len)
{
    while (len) {
        if (len < 2 || (p[0] != 0x81 && p[0] != 0x82) || (p[1] & 0x80))
            abort();
        uint64_t n = p[1] & 0x7f;
        size_t hdr = n == 126 ? 4 : n == 127 ? 10 : 2;
        if (len < hdr)
            abort();
        if (hdr > 2) {
            n = 0;
            for (size_t i = 2; i < hdr; i++)
                n = n << 8 | p[i];
        }
        if (n > len - hdr)
            abort();
        check_message(p[0] == 0x82, p + hdr, (size_t)n);
        p += hdr + n;
        len -= hdr + (size_t)n;
    }
}

int __wrap_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    struct fake *f = fake_of(wsi);
    if (!f)
        return __real_lws_write(wsi, buf, len, wp);
    switch ((int)wp & 0x1f) {
    case LWS_WRITE_TEXT:
    case LWS_WRITE_BINARY:
        check_message(((int)wp & 0x1f) == LWS_WRITE_BINARY, buf, len);
        break;
    case LWS_WRITE_RAW:
        check_raw(buf, len);
        break;
    default:
        abort();
    }
    return (int)len;
}

void __wrap_lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf,
                             size_t len)
{
    if (!fake_of(wsi)) {
        __real_lws_close_reason(wsi, status, buf, len);
        return;
    }
    if (status != 1000 && status != 1001 && (status < 4001 || status > 4999))
        abort();
}

size_t __wrap_lws_remaining_packet_payload(struct lws *wsi)
{
    return fake_of(wsi) ? 0 : __real_lws_remaining_packet_payload(wsi);
}

int __wrap_lws_hdr_copy(struct lws *wsi, char *dst, int len, enum lws_token_indexes h)
{
    if (!fake_of(wsi))
        return __real_lws_hdr_copy(wsi, dst, len, h);
    const char *v = h == WSI_TOKEN_GET_URI ? "/ws" : "";
    if ((int)strlen(v) >= len)
        return -1;
    strcpy(dst, v);
    return (int)strlen(v);
}

const char *__wrap_lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen)
{
    struct fake *f = fake_of(wsi);
    if (!f)
        return __real_lws_get_peer_simple(wsi, name, namelen);
    snprintf(name, namelen, "%s", f->peer);
    return name;
}

void __wrap_lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
    struct fake *f = fake_of(wsi);
    if (!f) {
        __real_lws_set_timeout(wsi, reason, secs);
        return;
    }
    if (secs == LWS_TO_KILL_ASYNC || secs == LWS_TO_KILL_SYNC)
        f->kill = true;
}

int __wrap_lws_frame_is_binary(struct lws *wsi)
{
    struct fake *f = fake_of(wsi);
    return f ? f->binary : __real_lws_frame_is_binary(wsi);
}

int __wrap_lws_is_first_fragment(struct lws *wsi)
{
    struct fake *f = fake_of(wsi);
    return f ? f->first : __real_lws_is_first_fragment(wsi);
}

int __wrap_lws_is_final_fragment(struct lws *wsi)
{
    struct fake *f = fake_of(wsi);
    return f ? f->final : __real_lws_is_final_fragment(wsi);
}

lws_sockfd_type __wrap_lws_get_socket_fd(struct lws *wsi)
{
    return fake_of(wsi) ? -1 : __real_lws_get_socket_fd(wsi);
}

int __wrap_lws_partial_buffered(struct lws *wsi)
{
    return fake_of(wsi) ? 0 : __real_lws_partial_buffered(wsi); /* fakes take every write */
}

/* ---- the conversation ----------------------------------------------------------------------- */

static int callback(struct fake *f, enum lws_callback_reasons reason, void *in, size_t len)
{
    return bbt_conn_callback(wsi_of(f), reason, f->user, in, len);
}

static void conn_close(struct fake *f)
{
    if (!f->live)
        return;
    callback(f, LWS_CALLBACK_CLOSED, NULL, 0);
    free(f->user);
    *f = (struct fake){0};
}

static bool conn_open(struct fake *f, int idx)
{
    if (f->live)
        return true;
    *f = (struct fake){.live = true};
    snprintf(f->peer, sizeof f->peer, "127.0.0.%d", idx + 1);
    f->user = calloc(1, sizeof *f->user);
    if (!f->user)
        abort();
    if (callback(f, LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, NULL, 0) != 0 ||
        callback(f, LWS_CALLBACK_ESTABLISHED, NULL, 0) != 0) {
        free(f->user); /* refused at the handshake: lws sends no CLOSED */
        *f = (struct fake){0};
        return false;
    }
    return true;
}

static void deliver(struct fake *f, bool binary, const uint8_t *p, size_t len)
{
    size_t off = 0;
    do {
        size_t n = len - off < FRAGMENT ? len - off : FRAGMENT;
        f->binary = binary;
        f->first = off == 0;
        f->final = off + n == len;
        if (callback(f, LWS_CALLBACK_RECEIVE, (void *)(uintptr_t)(p + off), n) != 0) {
            conn_close(f);
            return;
        }
        off += n;
    } while (off < len);
}

/* Something to write: asked for WRITEABLE, or holding control messages or media (which the
 * relay's pacing timer would write; here a WRITEABLE callback, which lws may give at any time,
 * writes them at once). */
static bool has_output(const struct fake *f)
{
    const struct bbt_conn *c = f->user;
    return f->want_write || c->ctl_head || (c->viewer.session && bbt_queue_count(c->viewer.q));
}

static void pump(void)
{
    for (int i = 0; i < NCONN; i++) {
        struct fake *f = &H.conn[i];
        for (int k = 0; f->live && !f->stalled && has_output(f) && k < PUMP_MAX; k++) {
            f->want_write = false;
            if (callback(f, LWS_CALLBACK_SERVER_WRITEABLE, NULL, 0) != 0)
                conn_close(f);
        }
        if (f->live && f->kill)
            conn_close(f);
    }
}

static void housekeeping(int64_t ahead_us)
{
    int64_t now = bbt_mono_us() + ahead_us;
    for (int i = 0; i < NCONN; i++)
        if (H.conn[i].live)
            bbt_conn_tick(H.conn[i].user, now);
    bbt_registry_sweep(H.relay->reg);
}

static void record(const uint8_t *p, size_t len)
{
    if (len == 0)
        return;
    int op = p[0], arg = len > 1 && p[1] >= '0' && p[1] <= '9' ? p[1] - '0' : 0;
    struct fake *f = &H.conn[arg % NCONN];
    if (op >= '0' && op <= '7') {
        int idx = (op - '0') % NCONN;
        if (conn_open(&H.conn[idx], idx))
            deliver(&H.conn[idx], op >= '4', p + 1, len - 1);
    } else if (op == 's' || op == 'r') {
        f->stalled = op == 's';
    } else if (op == 'x') {
        conn_close(f);
    } else if (op == 't') {
        housekeeping((int64_t)arg * 1000000);
    } else if (op == '#') {
        /* the timetable switch: read before the relay started */
    } else if (conn_open(&H.conn[0], 0)) {
        deliver(&H.conn[0], false, p, len);
    }
    pump();
}

static void remove_dir(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/secret", H.dir);
    unlink(path);
    rmdir(H.dir);
}

/* The relay as a lab relay would run it ([auth] required = false: an empty token trusts the
 * stated role), on an ephemeral loopback port nobody connects to. */
static bbt_relay *relay_start(bbt_relay_config *cfg, bool timetable)
{
    char err[256], state_dir[96];
    if (!H.dir[0]) {
        snprintf(H.dir, sizeof H.dir, "/tmp/bbt-fuzz-dispatch-XXXXXX");
        if (!mkdtemp(H.dir))
            abort();
        atexit(remove_dir);
    }
    snprintf(state_dir, sizeof state_dir, "relay.state_dir=%s", H.dir);
    static const char *const sets[] = {
        "relay.allow_insecure=true", "relay.listen=127.0.0.1", "schedule.database=:memory:", "schedule.test_clock=true", "limits.auth_timeout=1s",
        "queue.stall_timeout=2s"};
    static const char *const optional[] = {"auth.required=false"}; /* when the key exists */
    if (bbt_relay_config_load(NULL, cfg, err, sizeof err) != BBT_OK)
        abort();
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (bbt_config_set_arg(bbt_relay_directives, bbt_relay_directives_count, cfg, sets[i],
                               err, sizeof err) != BBT_OK) {
            fprintf(stderr, "fuzz_dispatch: %s: %s\n", sets[i], err);
            abort();
        }
    if (bbt_config_set_arg(bbt_relay_directives, bbt_relay_directives_count, cfg, state_dir,
                           err, sizeof err) != BBT_OK)
        abort();
    cfg->schedule.enabled = timetable;
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        bbt_config_set_arg(bbt_relay_directives, bbt_relay_directives_count, cfg, optional[i],
                           err, sizeof err);
    cfg->relay.port = 0;
    int rc;
    bbt_relay *r = bbt_relay_new(cfg, &rc);
    if (!r)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        bbt_log_init("fuzz", getenv("BBT_FUZZ_VERBOSE") ? BBT_LOG_DEBUG : BBT_LOG_ERROR);
        quiet = true;
    }
    bbt_relay_config cfg;
    H.relay = relay_start(&cfg, size > 0 && data[0] == '#');
    size_t start = 0;
    for (size_t i = 0; i <= size; i++)
        if (i == size || data[i] == '\n') {
            record(data + start, i - start);
            start = i + 1;
        }
    for (int i = 0; i < NCONN; i++)
        conn_close(&H.conn[i]);
    bbt_registry_sweep(H.relay->reg);
    bbt_relay_free(H.relay);
    H.relay = NULL;
    bbt_relay_config_free(&cfg);
    return 0;
}
