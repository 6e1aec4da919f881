/* proto/token.c — HS256 JSON Web Tokens: issue and strict verification (see token.h). */
#include "token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"
#include "proto/status.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/* The header we write, and the only algorithm we accept. */
static const char header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

size_t bbt_b64url_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = b64[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = 0;
    return o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

long bbt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t outcap)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == outcap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1; /* non-canonical: leftover bits must be zero */
    return (long)o;
}

static int hmac256(const uint8_t *key, size_t klen, const char *msg, size_t mlen, uint8_t out[32])
{
    unsigned int olen = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &olen) ||
        olen != 32)
        return BBT_EIO;
    return BBT_OK;
}

static const char *const roles[] = {"source", "receiver", "operator", "relay", NULL};

static const bbt_param claims_table[] = {
    {"sub", BBT_PT_STRING, BBT_P_REQUIRED | BBT_P_IDENT, 1, 64, NULL, NULL, 0},
    {"role", BBT_PT_STRING, BBT_P_REQUIRED, 1, 16, NULL, roles, 0},
    {"exp", BBT_PT_INT, BBT_P_REQUIRED, 1, BBT_JSON_INT_MAX, NULL, NULL, 0},
    {"iat", BBT_PT_INT, 0, 0, BBT_JSON_INT_MAX, NULL, NULL, 0},
    {"jti", BBT_PT_STRING, BBT_P_REQUIRED, 1, BBT_TOKEN_JTI_MAX, NULL, NULL, 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static const bbt_param header_table[] = {
    {"alg", BBT_PT_STRING, BBT_P_REQUIRED, 1, 16, NULL, NULL, 0},
    {"typ", BBT_PT_STRING, 0, 0, 16, NULL, NULL, 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int jti_ok(const char *j)
{
    for (; *j; j++)
        if (b64_value(*j) < 0)
            return 0;
    return 1;
}

/* The claims as validated JSON, or NULL (*err set). */
static json_t *claims_json(const bbt_token_claims *c, const char *jti, int *err)
{
    *err = BBT_EINVAL;
    if (!jti_ok(jti))
        return NULL;
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s}", "sub", c->sub, "role", c->role, "exp",
                          (json_int_t)c->exp, "iat", (json_int_t)c->iat, "jti", jti);
    if (!j) {
        *err = BBT_ENOMEM;
        return NULL;
    }
    if (bbt_params_validate(claims_table, j, "claims", NULL, 0) != BBT_OK) {
        json_decref(j);
        return NULL;
    }
    return j;
}

char *bbt_token_issue(const bbt_token_claims *c, const uint8_t *secret, size_t secret_len,
                      int *err)
{
    *err = BBT_EINVAL;
    if (!c || !secret || secret_len < BBT_TOKEN_SECRET_MIN)
        return NULL;
    char jti[BBT_TOKEN_JTI_MAX + 1];
    snprintf(jti, sizeof jti, "%s", c->jti);
    if (!jti[0]) {
        uint8_t r[8];
        if (RAND_bytes(r, sizeof r) != 1) {
            *err = BBT_EIO;
            return NULL;
        }
        for (int i = 0; i < 8; i++)
            snprintf(jti + 2 * i, 3, "%02x", r[i]);
    }
    json_t *j = claims_json(c, jti, err);
    char *payload = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!payload) {
        if (j)
            *err = BBT_ENOMEM;
        return NULL;
    }
    size_t hl = strlen(header_json), pl = strlen(payload);
    char *tok = malloc((hl + pl) * 4 / 3 + 64);
    if (!tok) {
        free(payload);
        *err = BBT_ENOMEM;
        return NULL;
    }
    size_t n = bbt_b64url_encode((const uint8_t *)header_json, hl, tok);
    tok[n++] = '.';
    n += bbt_b64url_encode((const uint8_t *)payload, pl, tok + n);
    free(payload);
    uint8_t mac[32];
    if ((*err = hmac256(secret, secret_len, tok, n, mac)) != BBT_OK) {
        free(tok);
        return NULL;
    }
    tok[n++] = '.';
    bbt_b64url_encode(mac, sizeof mac, tok + n);
    *err = BBT_OK;
    return tok;
}

static int fail(char *err, size_t errlen, int status, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return status;
}

/* Decode one base64url part into a JSON object validated by `table`. */
static json_t *part_json(const char *p, size_t n, const bbt_param *table)
{
    uint8_t buf[BBT_TOKEN_MAX];
    long len = bbt_b64url_decode(p, n, buf, sizeof buf);
    if (len <= 0)
        return NULL;
    json_t *j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    if (j && (!json_is_object(j) || bbt_params_validate(table, j, "token", NULL, 0) != BBT_OK)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int check_header(const char *p, size_t n)
{
    json_t *h = part_json(p, n, header_table);
    if (!h)
        return 0;
    const char *typ = json_string_value(json_object_get(h, "typ"));
    int ok = strcmp(json_string_value(json_object_get(h, "alg")), "HS256") == 0 &&
             (!typ || strcmp(typ, "JWT") == 0) && json_object_size(h) <= 2;
    json_decref(h);
    return ok;
}

static int fill_claims(json_t *j, bbt_token_claims *out)
{
    const char *jti = json_string_value(json_object_get(j, "jti"));
    if (!jti_ok(jti))
        return 0;
    memset(out, 0, sizeof *out);
    snprintf(out->sub, sizeof out->sub, "%s", json_string_value(json_object_get(j, "sub")));
    snprintf(out->role, sizeof out->role, "%s", json_string_value(json_object_get(j, "role")));
    snprintf(out->jti, sizeof out->jti, "%s", jti);
    out->exp = json_integer_value(json_object_get(j, "exp"));
    out->iat = json_integer_value(json_object_get(j, "iat"));
    return 1;
}

int bbt_token_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                     int64_t now_s, int64_t leeway_s, bbt_token_claims *out, char *err,
                     size_t errlen)
{
    if (!token || !out || !secret || secret_len < BBT_TOKEN_SECRET_MIN)
        return fail(err, errlen, BBT_EINVAL, "no secret configured");
    if (len == 0 || len > BBT_TOKEN_MAX)
        return fail(err, errlen, BBT_ETOKEN, "token empty or too long");
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return fail(err, errlen, BBT_ETOKEN, "token is not three dot-separated parts");
    if (!check_header(token, (size_t)(d1 - token)))
        return fail(err, errlen, BBT_ETOKEN, "token header is not HS256 JWT");
    uint8_t sig[64], mac[32];
    long sl = bbt_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), sig, sizeof sig);
    if (sl != 32)
        return fail(err, errlen, BBT_ETOKEN, "token signature malformed");
    if (hmac256(secret, secret_len, token, (size_t)(d2 - token), mac) != BBT_OK)
        return fail(err, errlen, BBT_EIO, "HMAC failed");
    if (CRYPTO_memcmp(mac, sig, sizeof mac) != 0)
        return fail(err, errlen, BBT_ETOKEN_SIG, "token signature does not match");
    json_t *claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1), claims_table);
    bbt_token_claims c;
    int ok = claims && fill_claims(claims, &c);
    json_decref(claims);
    if (!ok)
        return fail(err, errlen, BBT_ETOKEN, "token claims invalid");
    *out = c; /* signed claims: also on EXPIRED, so the caller can name the subject */
    if (now_s > c.exp + leeway_s)
        return fail(err, errlen, BBT_ETOKEN_EXPIRED, "token expired");
    return BBT_OK;
}
