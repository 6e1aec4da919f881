/* proto/control_tables_auth.c — the parameter tables of the credential messages
 * (docs/PROTOCOL.md §3.20: token_issue → token, token_list → tokens, token_revoke →
 * token_revoked; operators only). control_tables.c lists them in its spec array. To add a
 * field: a row here, a line in the spec, a rejection row in tests/proto/test_control_rules.c. */
#include "control_params.h"

#include <stddef.h>

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
