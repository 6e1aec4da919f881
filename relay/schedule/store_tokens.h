/* relay/schedule/store_tokens.h — credentials in the schedule database (migration 3): the
 * tokens this relay issued (token_issue: jti, subject, role, expiry, issue time, note) and the
 * revoked token ids (token_revoke; any jti, also of tokens signed offline by bbtctl). The
 * secret itself is never stored here (relay/auth.h keeps it in its own 0600 file), nor is any
 * token text: a lost token cannot be recovered from the database, only revoked.
 * Each write is one statement (atomic, durable as the store). Event-loop thread only, like the
 * store. Status: proto/status.h, err as the store's. */
#ifndef BBT_SCHED_STORE_TOKENS_H
#define BBT_SCHED_STORE_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/schedule/store.h"

struct bbt_sched;

typedef struct bbt_token_row {
    char jti[65];
    char subject[65];
    char role[16];
    int64_t expires, issued_at; /* seconds since 1970 */
    char note[129];
    bool revoked;
} bbt_token_row;

/* The scheduler's store (the relay's event-loop connection), NULL without a scheduler. */
bbt_store *bbt_sched_store(struct bbt_sched *s);

int bbt_store_token_put(bbt_store *s, const bbt_token_row *t, char *err, size_t errlen);
/* Revoke `jti` at `at_s` (idempotent: the first revocation time is kept). */
int bbt_store_token_revoke(bbt_store *s, const char *jti, int64_t at_s, char *err,
                           size_t errlen);
/* Issued tokens, newest first, with their revoked flag: *rows malloc'd (caller frees). */
int bbt_store_token_list(bbt_store *s, bbt_token_row **rows, size_t *n, char *err,
                         size_t errlen);
/* Call fn for every revoked jti (start-up: fill the relay's revocation set). Stops at the first
 * non-BBT_OK return of fn and returns it. */
int bbt_store_revoked_each(bbt_store *s, int (*fn)(const char *jti, void *ud), void *ud,
                           char *err, size_t errlen);

#endif
