/* tests/bench/wsraw.c — a minimal WebSocket client (RFC 6455) for the viewers of
 * `bbt-bench --client raw`, on lws "RAW" client connections of the bench's one lws context.
 *
 * Why: libwebsockets 4.1's client parses received frames one byte at a time
 * (lws_ws_client_rx_sm), which made the lws-client bench cost more CPU per viewer than the relay
 * it measures. Here lws still connects, polls and reads (64 KiB per read), and this file does the
 * upgrade handshake (checking Sec-WebSocket-Accept and the bbt.v1 subprotocol) and the framing:
 * headers are parsed byte-wise, payloads are handed over in whole chunks without a copy.
 * Server frames must be unmasked; ping is answered with pong, close ends the connection.
 * Sent frames (text only: hello, subscribe, report; pong; close) are masked with a key from the
 * bench's own PRNG. Everything lives in the viewer (no global state).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"
#include "proto/status.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HS_MAX 4096

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

static uint64_t next_rand(bench *b)
{
    uint64_t x = b->rng ? b->rng : 0x9E3779B97F4A7C15ull; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b->rng = x;
    return x;
}

/* Write one masked frame (FIN set) of `len` ≤ 2 KiB bytes. */
static int write_frame(viewer *v, int opcode, const void *payload, size_t len)
{
    unsigned char buf[LWS_PRE + 8 + 2048];
    unsigned char *p = buf + LWS_PRE, *h = p;
    if (len > 2048)
        return BBT_EINVAL;
    *h++ = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        *h++ = (unsigned char)(0x80 | len);
    } else {
        *h++ = 0x80 | 126;
        *h++ = (unsigned char)(len >> 8);
        *h++ = (unsigned char)len;
    }
    uint32_t key = (uint32_t)next_rand(v->b);
    memcpy(h, &key, 4);
    const unsigned char *mask = h;
    h += 4;
    for (size_t i = 0; i < len; i++)
        h[i] = ((const unsigned char *)payload)[i] ^ mask[i & 3];
    size_t n = (size_t)(h - p) + len;
    return lws_write(v->wsi, p, n, LWS_WRITE_RAW) < (int)n ? BBT_EIO : BBT_OK;
}

int wsraw_write_text(viewer *v, const char *text, size_t len)
{
    return write_frame(v, OP_TEXT, text, len);
}

/* ---- handshake ------------------------------------------------------------------------------ */

int wsraw_send_upgrade(viewer *v)
{
    bench *b = v->b;
    unsigned char nonce[16];
    uint64_t r1 = next_rand(b), r2 = next_rand(b);
    memcpy(nonce, &r1, 8);
    memcpy(nonce + 8, &r2, 8);
    char key[32];
    lws_b64_encode_string((const char *)nonce, 16, key, sizeof key);
    /* the answer we expect: base64(SHA-1(key + GUID)) */
    char cat[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
    if (!EVP_Digest(cat, (size_t)n, md, &mdlen, EVP_sha1(), NULL))
        return BBT_EIO;
    lws_b64_encode_string((const char *)md, (int)mdlen, v->ws.accept, sizeof v->ws.accept);
    char req[LWS_PRE + 512];
    n = snprintf(req + LWS_PRE, sizeof req - LWS_PRE,
                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Protocol: bbt.v1\r\nOrigin: http://%s\r\n\r\n",
                 b->path, b->host, b->port, key, b->host);
    v->ws.state = WSRAW_HANDSHAKE;
    return lws_write(v->wsi, (unsigned char *)req + LWS_PRE, (size_t)n, LWS_WRITE_RAW) < n
               ? BBT_EIO
               : BBT_OK;
}

/* The value of header `name` in the response (case-insensitive name), or NULL. */
static const char *header(char *resp, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (char *line = strstr(resp, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *val = line + nl + 1;
            while (*val == ' ')
                val++;
            *len = strcspn(val, "\r\n");
            while (*len && val[*len - 1] == ' ')
                (*len)--;
            return val;
        }
    }
    return NULL;
}

static int check_response(viewer *v, char *resp)
{
    size_t n;
    const char *acc, *proto;
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0)
        return BBT_EDENIED;
    if (!(acc = header(resp, "Sec-WebSocket-Accept", &n)) || n != strlen(v->ws.accept) ||
        memcmp(acc, v->ws.accept, n) != 0)
        return BBT_EINVAL;
    if (!(proto = header(resp, "Sec-WebSocket-Protocol", &n)) || n != 6 ||
        memcmp(proto, "bbt.v1", 6) != 0)
        return BBT_EINVAL;
    return BBT_OK;
}

/* Collect the response up to its blank line; returns bytes of `in` consumed, or -1. */
static long handshake_rx(viewer *v, const uint8_t *in, size_t len)
{
    wsraw *w = &v->ws;
    if (!w->hs && !(w->hs = malloc(HS_MAX + 1)))
        return -1;
    size_t take = len < HS_MAX - w->hs_len ? len : HS_MAX - w->hs_len;
    memcpy(w->hs + w->hs_len, in, take);
    size_t old = w->hs_len;
    w->hs_len += take;
    w->hs[w->hs_len] = '\0';
    char *end = strstr(w->hs, "\r\n\r\n");
    if (!end)
        return w->hs_len == HS_MAX ? -1 : (long)take;
    end[2] = '\0';
    int rc = check_response(v, w->hs);
    long used = (long)((size_t)(end + 4 - w->hs) - old);
    free(w->hs);
    w->hs = NULL;
    w->hs_len = 0;
    if (rc != BBT_OK) {
        fprintf(stderr, "bbt-bench: viewer %d: bad upgrade response (%s)\n", v->idx,
                bbt_status_name(rc));
        return -1;
    }
    w->state = WSRAW_OPEN;
    viewer_established(v);
    return used;
}

/* ---- frames ------------------------------------------------------------------------------- */

/* Header bytes needed so far to know the whole header length. */
static size_t header_len(const uint8_t *h, size_t have)
{
    if (have < 2)
        return 2;
    size_t n = 2 + ((h[1] & 0x7f) == 126 ? 2 : (h[1] & 0x7f) == 127 ? 8 : 0);
    return n + ((h[1] & 0x80) ? 4 : 0);
}

static int start_frame(viewer *v)
{
    wsraw *w = &v->ws;
    const uint8_t *h = w->fh;
    if (h[1] & 0x80)
        return -1; /* a server must not mask */
    uint64_t n = h[1] & 0x7f;
    if (n == 126)
        n = (uint64_t)h[2] << 8 | h[3];
    else if (n == 127)
        for (int i = 0; i < 8; i++)
            n = (i ? n << 8 : 0) | h[2 + i];
    w->opcode = h[0] & 0x0f;
    w->fin = (h[0] & 0x80) != 0;
    w->remaining = n;
    if (w->opcode >= OP_CLOSE) {
        if (n > 125 || !w->fin)
            return -1;
        w->ctl_len = 0;
    } else if (w->opcode != OP_CONT) {
        w->msg_op = w->opcode;
        w->msg_first = true;
    }
    return 0;
}

/* A chunk of payload of the current frame (len may be 0 for an empty frame). */
static int payload(viewer *v, const uint8_t *p, size_t len)
{
    wsraw *w = &v->ws;
    w->remaining -= len;
    bool done = w->remaining == 0;
    if (w->opcode >= OP_CLOSE) {
        memcpy(w->ctl + w->ctl_len, p, len);
        w->ctl_len = (uint8_t)(w->ctl_len + len);
        if (!done)
            return 0;
        if (w->opcode == OP_PING)
            return write_frame(v, OP_PONG, w->ctl, w->ctl_len) == BBT_OK ? 0 : -1;
        if (w->opcode == OP_CLOSE) {
            write_frame(v, OP_CLOSE, w->ctl, w->ctl_len < 2 ? w->ctl_len : 2);
            return -1;
        }
        return 0; /* pong */
    }
    if (len == 0 && !done)
        return 0;
    bool first = w->msg_first, final = done && w->fin;
    w->msg_first = false;
    return viewer_rx(v, w->msg_op == OP_BINARY, p, len, first, final);
}

int wsraw_rx(viewer *v, const uint8_t *in, size_t len)
{
    wsraw *w = &v->ws;
    if (w->state == WSRAW_HANDSHAKE) {
        long used = handshake_rx(v, in, len);
        if (used < 0)
            return -1;
        in += used;
        len -= (size_t)used;
    }
    while (len && w->state == WSRAW_OPEN) {
        if (!w->in_payload) {
            size_t need = header_len(w->fh, w->fh_len);
            while (w->fh_len < need && len) {
                w->fh[w->fh_len++] = *in++;
                len--;
                need = header_len(w->fh, w->fh_len);
            }
            if (w->fh_len < need)
                return 0;
            w->fh_len = 0;
            if (start_frame(v) < 0)
                return -1;
            w->in_payload = true;
            if (w->remaining == 0) {
                w->in_payload = false;
                if (payload(v, in, 0) < 0)
                    return -1;
                continue;
            }
        }
        size_t n = w->remaining < len ? (size_t)w->remaining : len;
        if (payload(v, in, n) < 0)
            return -1;
        in += n;
        len -= n;
        if (w->remaining == 0)
            w->in_payload = false;
    }
    return 0;
}

void wsraw_free(viewer *v)
{
    free(v->ws.hs);
    v->ws.hs = NULL;
}
