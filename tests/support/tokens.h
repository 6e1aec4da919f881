/* tests/support/tokens.h — real credentials for integration tests: a secret file as the relay
 * reads it ([auth] secret_file), tokens signed with it by proto/token.c, and hello with a token.
 * Test-only; no global state. */
#ifndef BBT_TEST_TOKENS_H
#define BBT_TEST_TOKENS_H

#include <stdint.h>

#include "support/wsclient.h"

#define TEST_SECRET_BYTES 32

/* Write `path` (64 hex characters + newline, mode 0600) from a secret derived from `seed`;
 * fills secret. 0 on success. */
int test_secret_write(const char *path, unsigned seed, uint8_t secret[TEST_SECRET_BYTES]);

/* A token for sub/role signed with secret, expiring exp_in_s seconds from now (negative:
 * already expired), with jti (NULL: random). malloc'd; NULL on failure. */
char *test_token(const uint8_t *secret, const char *sub, const char *role, long exp_in_s,
                 const char *jti);

/* hello with `token` (may be NULL: none sent) and `role` (and classroom when not NULL):
 * 0 when welcome arrives; otherwise the close code the relay sent (e.g. 4081), or -1. */
int tc_hello_token(tc_conn *c, const char *token, const char *role, const char *classroom);

#endif
