/* relay/conn_tokens.c — the operator messages of docs/PROTOCOL.md §3.20: token_issue → token,
 * token_list → tokens, token_revoke → token_revoked (conn.c's handler table lets only the
 * operator role reach them: BBT_TOKEN_HANDLER_ROWS).
 *
 * Issued tokens (never their text) and revoked ids go to the schedule database
 * (relay/schedule/store_tokens.h) when the relay has a timetable; the revocation set in memory
 * (relay/auth.h) is what hello checks, filled from the database at start
 * (bbt_conn_tokens_load). A revocation closes every live connection of that jti at once.
 * Log lines name the operator, the subject and the jti, never a token. Event-loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/auth.h"
#include "relay/relay_internal.h"
#include "relay/schedule/store_tokens.h"

#define DEFAULT_DAYS 30
#define LIST_MAX 10000

static void reply(struct bbt_conn *c, json_t *msg, const json_t *req)
{
    if (msg)
        bbt_msg_echo_id(msg, req);
    bbt_conn_send_json(c, msg);
}

static void reply_err(struct bbt_conn *c, int status, const char *text, const char *type,
                      const json_t *req)
{
    reply(c, bbt_msg_error(status, text, type), req);
}

static int add_revoked(const char *jti, void *ud)
{
    return bbt_auth_revoke(ud, jti);
}

int bbt_conn_tokens_load(bbt_relay *r)
{
    bbt_store *st = bbt_sched_store(r->sched);
    if (!st || !r->auth)
        return BBT_OK;
    char err[256] = "";
    int rc = bbt_store_revoked_each(st, add_revoked, r->auth, err, sizeof err);
    if (rc != BBT_OK)
        BBT_ERROR("cannot read the revoked tokens: %s", err);
    return rc;
}

static void on_token_issue(struct bbt_conn *c, json_t *m)
{
    bbt_relay *r = c->relay;
    json_t *days_v = json_object_get(m, "days");
    int64_t days = json_is_integer(days_v) ? json_integer_value(days_v) : DEFAULT_DAYS;
    const char *note = json_string_value(json_object_get(m, "note"));
    bbt_token_claims cl;
    memset(&cl, 0, sizeof cl);
    snprintf(cl.sub, sizeof cl.sub, "%s", json_string_value(json_object_get(m, "subject")));
    snprintf(cl.role, sizeof cl.role, "%s", json_string_value(json_object_get(m, "role")));
    cl.iat = bbt_wall_us() / 1000000;
    cl.exp = cl.iat + days * 86400;
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        reply_err(c, BBT_EIO, "no random bytes", "token_issue", m);
        return;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(cl.jti + 2 * i, 3, "%02x", rnd[i]);
    bbt_store *st = bbt_sched_store(r->sched);
    if (st) {
        bbt_token_row row = {.expires = cl.exp, .issued_at = cl.iat};
        snprintf(row.jti, sizeof row.jti, "%s", cl.jti);
        snprintf(row.subject, sizeof row.subject, "%s", cl.sub);
        snprintf(row.role, sizeof row.role, "%s", cl.role);
        snprintf(row.note, sizeof row.note, "%s", note ? note : "");
        char err[256];
        if (bbt_store_token_put(st, &row, err, sizeof err) != BBT_OK) {
            BBT_ERROR("token_issue: %s", err);
            reply_err(c, BBT_EIO, "cannot record the token", "token_issue", m);
            return;
        }
    }
    int rc;
    char *token = bbt_auth_issue(r->auth, &cl, &rc);
    if (!token) {
        reply_err(c, rc, NULL, "token_issue", m);
        return;
    }
    reply(c, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "token", "token", token, "jti",
                       cl.jti, "subject", cl.sub, "role", cl.role, "expires", (json_int_t)cl.exp),
          m);
    free(token);
    BBT_INFO("token issued by=%s subject=%s role=%s jti=%s days=%lld", c->subject, cl.sub,
             cl.role, cl.jti, (long long)days);
}

static json_t *row_json(const bbt_token_row *t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "jti", t->jti, "subject", t->subject,
                          "role", t->role, "issued_at", (json_int_t)t->issued_at, "expires",
                          (json_int_t)t->expires, "revoked", t->revoked);
    if (o && t->note[0])
        json_object_set_new(o, "note", json_string(t->note));
    return o;
}

static void on_token_list(struct bbt_conn *c, json_t *m)
{
    bbt_store *st = bbt_sched_store(c->relay->sched);
    if (!st) {
        reply_err(c, BBT_ENOTFOUND, "this relay keeps no token list ([schedule] enabled = false)",
                  "token_list", m);
        return;
    }
    bbt_token_row *rows;
    size_t n;
    char err[256];
    int rc = bbt_store_token_list(st, &rows, &n, err, sizeof err);
    if (rc != BBT_OK) {
        reply_err(c, rc, rc == BBT_EIO ? err : NULL, "token_list", m);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n && i < LIST_MAX; i++)
        if (json_array_append_new(arr, row_json(&rows[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    free(rows);
    if (!arr) {
        reply_err(c, BBT_ENOMEM, NULL, "token_list", m);
        return;
    }
    reply(c, json_pack("{s:s, s:o}", "type", "tokens", "tokens", arr), m);
}

static void on_token_revoke(struct bbt_conn *c, json_t *m)
{
    bbt_relay *r = c->relay;
    const char *jti = json_string_value(json_object_get(m, "jti"));
    int rc = bbt_auth_revoke(r->auth, jti);
    bbt_store *st = bbt_sched_store(r->sched);
    char err[256];
    if (rc == BBT_OK && st &&
        bbt_store_token_revoke(st, jti, bbt_wall_us() / 1000000, err, sizeof err) != BBT_OK) {
        BBT_ERROR("token_revoke: %s", err);
        rc = BBT_EIO; /* revoked in memory until a restart; the operator is told */
    }
    if (rc != BBT_OK) {
        reply_err(c, rc, rc == BBT_EIO ? "revoked until the relay restarts: cannot record it"
                                       : NULL, "token_revoke", m);
        if (rc != BBT_EIO)
            return;
    }
    size_t closed = bbt_conn_auth_revoked(r, jti);
    BBT_INFO("token revoked by=%s jti=%s closed=%zu", c->subject, jti, closed);
    if (rc == BBT_OK)
        reply(c, json_pack("{s:s, s:s, s:I}", "type", "token_revoked", "jti", jti, "closed",
                           (json_int_t)closed), m);
}

void bbt_conn_token_request(struct bbt_conn *c, json_t *m)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    if (strcmp(type, "token_issue") == 0)
        on_token_issue(c, m);
    else if (strcmp(type, "token_list") == 0)
        on_token_list(c, m);
    else if (strcmp(type, "token_revoke") == 0)
        on_token_revoke(c, m);
}
