/* relay/auth.h — the relay's credentials: the signing secret, hello token verification,
 * revocation, and the per-address back-off after failed authentications.
 *
 * Secret file: 32 random bytes written as 64 lowercase hex characters and a newline, mode 0600,
 * owned by the relay's user. bbt_auth_secret_load() creates it when missing (create = true) and
 * refuses a file that is malformed or readable/writable by group or others (BBT_EINVAL with a
 * bilingual message in err). bbtctl's offline `token issue --secret-file` reads the same file.
 *
 * Verification (bbt_auth_verify): proto/token.h's strict HS256 check with the configured
 * leeway, then the role must be one of source/receiver/operator/relay and the jti must not be
 * revoked. The reason text written to `reason` never contains the token or the secret.
 *
 * Revocation: an in-memory set of jtis (loaded from the store at start, added to by
 * token_revoke); bounded only by memory (a county revokes a handful of tokens a year).
 *
 * Back-off: each failed authentication from an address counts in a one-minute window; at
 * fail_limit failures the address is blocked for `backoff_ms` (connections from it are refused
 * at the handshake). The table holds at most BBT_AUTH_MAX_ADDRS addresses; when full, the entry
 * whose window is oldest is reused (an attacker cycling addresses loses nothing but the counts
 * of other cycling addresses).
 *
 * No global state; one thread (the relay's event loop). Times are caller-given (tests drive
 * them): now_s wall-clock seconds for tokens, now_us monotonic µs for the back-off.
 */
#ifndef BBT_RELAY_AUTH_H
#define BBT_RELAY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/token.h"

#define BBT_AUTH_SECRET_BYTES 32
#define BBT_AUTH_MAX_ADDRS 4096
#define BBT_AUTH_WINDOW_US 60000000LL /* the failure-counting window: one minute */

typedef struct bbt_auth bbt_auth;

typedef struct bbt_auth_opts {
    const char *secret_file; /* path of the secret (created if missing) */
    int64_t leeway_s;        /* clock skew allowed on exp */
    int fail_limit;          /* failures per address per minute before the back-off */
    int64_t backoff_ms;      /* how long a blocked address stays blocked */
} bbt_auth_opts;

/* Read (or, with create, make) the secret file. BBT_OK and out filled; BBT_EINVAL (bad
 * permissions, bad content), BBT_EIO (cannot read/create) with a bilingual err. */
int bbt_auth_secret_load(const char *path, bool create, uint8_t out[BBT_AUTH_SECRET_BYTES],
                         char *err, size_t errlen);

/* A new verifier with its secret loaded/created. NULL with *status and err on failure. */
bbt_auth *bbt_auth_new(const bbt_auth_opts *o, int *status, char *err, size_t errlen);
void bbt_auth_free(bbt_auth *a);

/* Verify a hello token at wall time now_s. BBT_OK with *out; BBT_ETOKEN (malformed or empty,
 * unknown role), BBT_ETOKEN_SIG, BBT_ETOKEN_EXPIRED, BBT_ETOKEN_REVOKED. reason: safe to log. */
int bbt_auth_verify(const bbt_auth *a, const char *token, size_t len, int64_t now_s,
                    bbt_token_claims *out, char *reason, size_t reasonlen);

/* Sign claims with the relay's secret (token_issue): as bbt_token_issue(). */
char *bbt_auth_issue(const bbt_auth *a, const bbt_token_claims *c, int *err);

/* Revocation set. bbt_auth_revoke: BBT_OK (also when already revoked), BBT_ENOMEM. */
int bbt_auth_revoke(bbt_auth *a, const char *jti);
bool bbt_auth_is_revoked(const bbt_auth *a, const char *jti);

/* Back-off. bbt_auth_blocked: is addr refused now? bbt_auth_failed: count one failure;
 * returns true when this failure starts a block. */
bool bbt_auth_blocked(const bbt_auth *a, const char *addr, int64_t now_us);
bool bbt_auth_failed(bbt_auth *a, const char *addr, int64_t now_us);

#endif
