/* proto/token.h — signed credentials: JSON Web Tokens (RFC 7519) with HS256 only.
 *
 * A token names a subject (a classroom id or an operator name), a role (source, receiver,
 * operator, relay), an expiry and a unique id, and is signed with the relay's secret:
 *     base64url({"alg":"HS256","typ":"JWT"}) . base64url(claims) . base64url(HMAC-SHA256)
 * Claims: {"sub": ident, "role": "...", "exp": seconds since the epoch, "iat": seconds,
 *          "jti": 1..64 characters of [A-Za-z0-9_-]}. Which sessions a subject may watch or
 * publish is the timetable's business, not the token's.
 *
 * Verification is strict: the header must say HS256 (never "none", never another algorithm:
 * there is no algorithm negotiation), the signature is compared in constant time, every claim
 * is validated against a parameter table (proto/control.h) before use, expiry is checked with a
 * caller-given clock and leeway. Revocation (by jti) is the caller's list. No global state; the
 * secret is passed in and never logged — error texts never contain the token or the secret.
 */
#ifndef BBT_TOKEN_H
#define BBT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define BBT_TOKEN_MAX 4096          /* longest token accepted, bytes */
#define BBT_TOKEN_SECRET_MIN 32     /* a secret is at least 32 random bytes */
#define BBT_TOKEN_JTI_MAX 64

typedef struct bbt_token_claims {
    char sub[65];              /* ident */
    char role[16];             /* "source" | "receiver" | "operator" | "relay" */
    int64_t exp;               /* seconds since the epoch */
    int64_t iat;
    char jti[BBT_TOKEN_JTI_MAX + 1];
} bbt_token_claims;

/* Sign `c` with `secret` (≥ BBT_TOKEN_SECRET_MIN bytes). Returns a malloc'd NUL-terminated
 * token the caller frees, or NULL (*err: BBT_EINVAL for bad claims or a short secret,
 * BBT_ENOMEM). An empty jti is filled with 16 random hex characters. */
char *bbt_token_issue(const bbt_token_claims *c, const uint8_t *secret, size_t secret_len,
                      int *err);

/* Verify `token` (len bytes, need not be NUL-terminated) at time now_s (seconds) with
 * `leeway_s` of clock skew allowed. On BBT_OK (and on BBT_ETOKEN_EXPIRED, whose claims are
 * signed) fills *out. Errors: BBT_ETOKEN (malformed: not
 * three base64url parts, bad JSON, wrong header, claims that fail their table),
 * BBT_ETOKEN_SIG (signature does not match), BBT_ETOKEN_EXPIRED, BBT_EINVAL (NULL/short
 * secret). `err` (optional) gets a short reason safe to log. */
int bbt_token_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                     int64_t now_s, int64_t leeway_s, bbt_token_claims *out, char *err,
                     size_t errlen);

/* base64url without padding (RFC 4648 §5), exposed for tests and tools. Encode writes
 * ceil(n*4/3) characters + NUL to out (size ≥ that); returns the length. Decode returns the
 * decoded length, or -1 for a character outside the alphabet or an impossible length. */
size_t bbt_b64url_encode(const uint8_t *in, size_t n, char *out);
long bbt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t outcap);

#endif
