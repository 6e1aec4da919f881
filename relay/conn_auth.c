/* relay/conn_auth.c — the relay's side of credentials (docs/SECURITY.md): who a connection is.
 *
 * hello: {"type":"hello","token":"<jwt>","role":...,"classroom":...}. With [auth] required
 * (the default) the token decides: subject and role come from its claims; a stated role that
 * differs, or a stated classroom that is not the token's subject, is refused (BBT_EDENIED);
 * a missing/malformed token is BBT_ETOKEN, a bad signature BBT_ETOKEN_SIG, an expired one
 * BBT_ETOKEN_EXPIRED, a revoked one BBT_ETOKEN_REVOKED. Every refusal: a fatal `error`, close
 * code 4000 + |status|, one log line naming the peer, the subject (when the token's signature
 * holds) and the reason — never the token — and one failure counted against the address
 * (relay/auth.h back-off). In lab mode ([auth] required = false, only with allow_insecure) an
 * empty token means the stated role and classroom are trusted; a non-empty one is still
 * verified.
 *
 * While connected: a connection whose token is revoked (token_revoke) or expires is closed
 * (reason token_revoked in /metrics). Event-loop thread only.
 */
#include <stdio.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/auth.h"
#include "relay/relay_internal.h"

static const struct { const char *name; enum conn_role role; } roles[] = {
    {"source", ROLE_SOURCE}, {"receiver", ROLE_RECEIVER}, {"operator", ROLE_OPERATOR},
    {"relay", ROLE_RELAY}};

static enum conn_role role_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(name, roles[i].name) == 0)
            return roles[i].role;
    return ROLE_NONE;
}

const char *bbt_conn_role_name(enum conn_role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role)
            return roles[i].name;
    return "none";
}

int bbt_conn_auth_start(bbt_relay *r)
{
    char path[4200], err[512];
    const char *file = r->cfg.auth.secret_file;
    if (!file || !file[0]) {
        snprintf(path, sizeof path, "%s/secret", r->cfg.relay.state_dir);
        file = path;
    }
    bbt_auth_opts o = {.secret_file = file, .leeway_s = r->cfg.auth.leeway_ms / 1000,
                       .fail_limit = (int)r->cfg.auth.fail_limit,
                       .backoff_ms = r->cfg.auth.backoff_ms};
    int status;
    r->auth = bbt_auth_new(&o, &status, err, sizeof err);
    if (!r->auth) {
        BBT_ERROR("%s", err);
        return status;
    }
    if (!r->cfg.auth.required)
        BBT_WARN("[auth] required = false: lab mode, hello without a token is trusted "
                 "(实验室模式：不验证令牌)");
    return BBT_OK;
}

void bbt_conn_auth_stop(bbt_relay *r)
{
    bbt_auth_free(r->auth);
    r->auth = NULL;
}

bool bbt_conn_auth_refused(bbt_relay *r, const char *addr)
{
    if (!r->auth || !bbt_auth_blocked(r->auth, addr, bbt_mono_us()))
        return false;
    r->metrics.refused[BBT_REFUSE_AUTH_BACKOFF]++;
    BBT_WARN("refused peer=%s reason=auth_backoff", addr);
    return true;
}

static int refuse(struct bbt_conn *c, int rc, const char *subject, const char *why)
{
    bbt_relay *r = c->relay;
    r->metrics.refused[BBT_REFUSE_AUTH]++;
    BBT_WARN("auth refused peer=%s subject=%s code=%d reason=\"%s\"", c->peer,
             subject && subject[0] ? subject : "-", -rc, why);
    if (bbt_auth_failed(r->auth, c->peer, bbt_mono_us()))
        BBT_WARN("auth back-off peer=%s failures=%lld within a minute, refused for %lld ms",
                 c->peer, (long long)r->cfg.auth.fail_limit, (long long)r->cfg.auth.backoff_ms);
    bbt_conn_fail(c, rc, 4000 - rc, why);
    return rc;
}

/* Lab mode: the stated role and classroom, as before tokens. */
static int trust_stated(struct bbt_conn *c, const char *role, const char *classroom)
{
    c->role = role_from_name(role);
    snprintf(c->subject, sizeof c->subject, "%s", classroom ? classroom : "anonymous");
    c->jti[0] = '\0';
    c->token_exp = 0;
    return BBT_OK;
}

int bbt_conn_authenticate(struct bbt_conn *c, json_t *m)
{
    bbt_relay *r = c->relay;
    const char *token = json_string_value(json_object_get(m, "token"));
    const char *role = json_string_value(json_object_get(m, "role"));
    const char *classroom = json_string_value(json_object_get(m, "classroom"));
    if (!r->cfg.auth.required && (!token || !token[0]))
        return trust_stated(c, role, classroom);
    bbt_token_claims cl;
    memset(&cl, 0, sizeof cl);
    char why[128] = "";
    int rc = bbt_auth_verify(r->auth, token ? token : "", token ? strlen(token) : 0,
                             bbt_wall_us() / 1000000, &cl, why, sizeof why);
    if (rc == BBT_EIO || rc == BBT_EINVAL)
        rc = BBT_ETOKEN;
    const char *subject = rc == BBT_OK || rc == BBT_ETOKEN_EXPIRED || rc == BBT_ETOKEN_REVOKED
                              ? cl.sub : NULL;
    if (rc != BBT_OK)
        return refuse(c, rc, subject, why);
    if (!role || strcmp(role, cl.role) != 0)
        return refuse(c, BBT_EDENIED, cl.sub, "the stated role is not the token's role");
    bool classroom_role = strcmp(cl.role, "source") == 0 || strcmp(cl.role, "receiver") == 0;
    if (classroom && classroom_role && strcmp(classroom, cl.sub) != 0)
        return refuse(c, BBT_EDENIED, cl.sub, "the stated classroom is not the token's subject");
    c->role = role_from_name(cl.role);
    snprintf(c->subject, sizeof c->subject, "%s", cl.sub);
    snprintf(c->jti, sizeof c->jti, "%s", cl.jti);
    c->token_exp = cl.exp;
    return BBT_OK;
}

size_t bbt_conn_auth_revoked(bbt_relay *r, const char *jti)
{
    size_t n = 0;
    for (struct bbt_conn *c = r->conns; c; c = c->next)
        if (c->state != CONN_CLOSING && c->jti[0] && strcmp(c->jti, jti) == 0) {
            r->metrics.refused[BBT_REFUSE_REVOKED]++;
            BBT_WARN("token revoked: closing peer=%s subject=%s", c->peer, c->subject);
            bbt_conn_fail(c, BBT_ETOKEN_REVOKED, 4000 - BBT_ETOKEN_REVOKED, "token revoked");
            n++;
        }
    return n;
}

void bbt_conn_auth_tick(struct bbt_conn *c)
{
    bbt_relay *r = c->relay;
    if (c->state != CONN_READY || !c->token_exp)
        return;
    if (bbt_wall_us() / 1000000 <= c->token_exp + r->cfg.auth.leeway_ms / 1000)
        return;
    r->metrics.refused[BBT_REFUSE_REVOKED]++;
    BBT_WARN("token expired while connected: closing peer=%s subject=%s", c->peer, c->subject);
    bbt_conn_fail(c, BBT_ETOKEN_EXPIRED, 4000 - BBT_ETOKEN_EXPIRED, "token expired");
}
