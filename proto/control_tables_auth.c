/* proto/control_tables_auth.c — the parameter tables of the credential messages
 * (docs/PROTOCOL.md §3.20: token_issue → token, token_list → tokens, token_revoke →
 * token_revoked; operators only). control_tables.c lists them in its spec array. To add a
 * field: a row here, a line in the spec, a rejection row in tests/proto/test_control_rules.c. */
#include "control_internal.h"

#include <stddef.h>

#define P_STR(n, fl, lo, hi) { (n), BBT_PT_STRING, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_IDENT(n, fl) { (n), BBT_PT_STRING, (fl) | BBT_P_IDENT, 1, BBT_IDENT_MAX, NULL, NULL, 0 }
#define P_ENUM(n, fl, ch) { (n), BBT_PT_STRING, (fl), 0, 0, NULL, (ch), BBT_PT_STRING }
#define P_INT(n, fl, lo, hi) { (n), BBT_PT_INT, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_BOOL(n, fl) { (n), BBT_PT_BOOL, (fl), 0, 0, NULL, NULL, BBT_PT_STRING }
#define P_ARR(n, fl, lo, hi, f) { (n), BBT_PT_ARRAY, (fl), (lo), (hi), (f), NULL, BBT_PT_OBJECT }
#define P_END { NULL, BBT_PT_STRING, 0, 0, 0, NULL, NULL, BBT_PT_STRING }

#define REQ BBT_P_REQUIRED
#define OPT 0u
#define BIG BBT_JSON_INT_MAX
#define TOKENS_MAX 10000

static const char *const roles[] = {"source", "receiver", "operator", "relay", NULL};

const bbt_param bbt_token_issue_params[] = {
    P_IDENT("subject", REQ),
    P_ENUM("role", REQ, roles),
    P_INT("days", OPT, 1, 3650),
    P_STR("note", OPT, 0, 128),
    P_END,
};

const bbt_param bbt_token_params[] = {
    P_STR("token", REQ, 1, 4096),
    P_IDENT("jti", REQ),
    P_IDENT("subject", REQ),
    P_ENUM("role", REQ, roles),
    P_INT("expires", REQ, 0, BIG),
    P_END,
};

const bbt_param bbt_token_list_params[] = {P_END};

static const bbt_param token_row[] = {
    P_IDENT("jti", REQ),
    P_IDENT("subject", REQ),
    P_ENUM("role", REQ, roles),
    P_INT("issued_at", REQ, 0, BIG),
    P_INT("expires", REQ, 0, BIG),
    P_BOOL("revoked", REQ),
    P_STR("note", OPT, 0, 128),
    P_END,
};

const bbt_param bbt_tokens_params[] = {P_ARR("tokens", REQ, 0, TOKENS_MAX, token_row), P_END};

const bbt_param bbt_token_revoke_params[] = {P_IDENT("jti", REQ), P_END};

const bbt_param bbt_token_revoked_params[] = {
    P_IDENT("jti", REQ),
    P_INT("closed", REQ, 0, BIG),
    P_END,
};
