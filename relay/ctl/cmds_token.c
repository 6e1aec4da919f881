/* relay/ctl/cmds_token.c — bbtctl token: issue, list, revoke (docs/SECURITY.md).
 *
 *   bbtctl token issue --subject X --role receiver|source|operator|relay [--days N] [--note T]
 *   bbtctl token issue --secret-file FILE --subject X --role R [--days N]   (offline)
 *   bbtctl token list
 *   bbtctl token revoke JTI
 *
 * `issue` prints the token alone on stdout (so `T=$(bbtctl token issue ...)` works) and its id
 * and expiry on stderr. The offline form signs with the relay's secret file (relay/auth.h: the
 * same 0600 file the relay created) and needs no relay: the first operator token, deploy
 * scripts. A token signed offline is not in `token list`, but `token revoke` works on its jti.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "proto/status.h"
#include "proto/token.h"
#include "relay/auth.h"
#include "relay/ctl/ctl.h"

static bool role_ok(const char *r)
{
    return r && (strcmp(r, "receiver") == 0 || strcmp(r, "source") == 0 ||
                 strcmp(r, "operator") == 0 || strcmp(r, "relay") == 0);
}

static void print_expiry(ctl *c, const char *jti, long long expires)
{
    time_t t = (time_t)expires;
    struct tm tm;
    char when[32] = "?";
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    fprintf(c->err, T(c, "令牌编号 %s，有效期至 %s。令牌只显示这一次，请妥善保存。\n",
                      "Token id %s, valid until %s. The token is shown this once: keep it safe.\n"),
            jti, when);
}

static int issue_offline(ctl *c, const char *file, const char *subject, const char *role,
                         long days)
{
    uint8_t secret[BBT_AUTH_SECRET_BYTES];
    char err[512];
    if (bbt_auth_secret_load(file, false, secret, err, sizeof err) != BBT_OK) {
        fprintf(c->err, "bbtctl: %s\n", err);
        return CTL_USAGE;
    }
    bbt_token_claims cl;
    memset(&cl, 0, sizeof cl);
    snprintf(cl.sub, sizeof cl.sub, "%s", subject);
    snprintf(cl.role, sizeof cl.role, "%s", role);
    cl.iat = (int64_t)time(NULL);
    cl.exp = cl.iat + (int64_t)days * 86400;
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        OPENSSL_cleanse(secret, sizeof secret);
        return CTL_USAGE;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(cl.jti + 2 * i, 3, "%02x", rnd[i]);
    int rc;
    char *token = bbt_token_issue(&cl, secret, sizeof secret, &rc);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!token) {
        fprintf(c->err, "bbtctl: %s\n", bbt_strerror(rc));
        return CTL_USAGE;
    }
    fprintf(c->out, "%s\n", token);
    free(token);
    print_expiry(c, cl.jti, (long long)cl.exp);
    return CTL_OK;
}

static int issue(ctl *c)
{
    const char *subject = ctl_opt(c, "--subject"), *role = ctl_opt(c, "--role");
    const char *days_s = ctl_opt(c, "--days"), *note = ctl_opt(c, "--note");
    const char *file = ctl_opt(c, "--secret-file");
    if (!subject || !role_ok(role))
        return ctl_usage(c, "用法: bbtctl token issue --subject 教室或管理员 --role "
                            "receiver|source|operator|relay [--days 天数] [--secret-file 密钥文件]",
                         "usage: bbtctl token issue --subject CLASSROOM-OR-NAME --role "
                         "receiver|source|operator|relay [--days N] [--secret-file FILE]");
    char *end = NULL;
    long days = days_s ? strtol(days_s, &end, 10) : 30;
    if (days_s && (*end || days < 1 || days > 3650))
        return ctl_usage(c, "--days 应为 1 到 3650 之间的整数", "--days takes 1..3650");
    if (file)
        return issue_offline(c, file, subject, role, days);
    json_t *req = json_pack("{s:s, s:s, s:s, s:I}", "type", "token_issue", "subject", subject,
                            "role", role, "days", (json_int_t)days);
    if (req && note)
        json_object_set_new(req, "note", json_string(note));
    json_t *r;
    int rc = ctl_call(c, req, "token", &r);
    if (rc != CTL_OK)
        return rc;
    fprintf(c->out, "%s\n", json_string_value(json_object_get(r, "token")));
    print_expiry(c, json_string_value(json_object_get(r, "jti")),
                 (long long)json_integer_value(json_object_get(r, "expires")));
    json_decref(r);
    return CTL_OK;
}

static void day_of(long long s, char *buf, size_t n)
{
    time_t t = (time_t)s;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d", &tm))
        snprintf(buf, n, "?");
}

static int list(ctl *c)
{
    json_t *r;
    int rc = ctl_call(c, json_pack("{s:s}", "type", "token_list"), "tokens", &r);
    if (rc != CTL_OK)
        return rc;
    json_t *arr = json_object_get(r, "tokens");
    fprintf(c->out, "%s\n", T(c, "编号              对象                  角色      签发日期    到期日期    状态",
                              "id                subject               role      issued      expires     state"));
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t) {
        char issued[16], expires[16];
        day_of(json_integer_value(json_object_get(t, "issued_at")), issued, sizeof issued);
        day_of(json_integer_value(json_object_get(t, "expires")), expires, sizeof expires);
        bool revoked = json_is_true(json_object_get(t, "revoked"));
        bool expired = json_integer_value(json_object_get(t, "expires")) < (json_int_t)time(NULL);
        ctl_pad(c->out, json_string_value(json_object_get(t, "jti")), 18);
        ctl_pad(c->out, json_string_value(json_object_get(t, "subject")), 22);
        ctl_pad(c->out, ctl_role_text(c, json_string_value(json_object_get(t, "role"))), 10);
        ctl_pad(c->out, issued, 12);
        ctl_pad(c->out, expires, 12);
        fputs(revoked ? T(c, "已吊销", "revoked") : expired ? T(c, "已过期", "expired")
                                                         : T(c, "有效", "valid"), c->out);
        const char *note = json_string_value(json_object_get(t, "note"));
        fprintf(c->out, "%s%s\n", note ? "  " : "", note ? note : "");
    }
    if (json_array_size(arr) == 0)
        fputs(T(c, "（这个中继还没有签发过令牌。）\n", "(This relay has issued no tokens yet.)\n"),
              c->out);
    json_decref(r);
    return CTL_OK;
}

static int revoke(ctl *c)
{
    const char *jti = ctl_arg(c, 0);
    if (!jti)
        return ctl_usage(c, "用法: bbtctl token revoke 令牌编号", "usage: bbtctl token revoke JTI");
    json_t *r;
    int rc = ctl_call(c, json_pack("{s:s, s:s}", "type", "token_revoke", "jti", jti),
                      "token_revoked", &r);
    if (rc != CTL_OK)
        return rc;
    fprintf(c->out, T(c, "已吊销令牌 %s；关闭了 %lld 个正在使用它的连接。\n",
                      "Revoked token %s; closed %lld connections that used it.\n"),
            jti, (long long)json_integer_value(json_object_get(r, "closed")));
    json_decref(r);
    return CTL_OK;
}

int cmd_token(ctl *c, const char *verb)
{
    if (strcmp(verb, "issue") == 0)
        return issue(c);
    if (strcmp(verb, "list") == 0)
        return list(c);
    if (strcmp(verb, "revoke") == 0)
        return revoke(c);
    return ctl_usage(c, "token 后面应是 issue、list 或 revoke", "token takes issue, list or revoke");
}

int ctl_read_token_file(ctl *c, char *buf, size_t size)
{
    if (!c->token_file || c->token_given)
        return CTL_OK;
    FILE *f = fopen(c->token_file, "r");
    if (!f) {
        fprintf(c->err, T(c, "bbtctl: 无法读取令牌文件 %s\n", "bbtctl: cannot read the token file %s\n"),
                c->token_file);
        return CTL_USAGE;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || n > BBT_CTL_TOKEN_MAX) {
        fprintf(c->err, T(c, "bbtctl: 令牌文件 %s 为空或过长\n",
                          "bbtctl: the token file %s is empty or too long\n"), c->token_file);
        return CTL_USAGE;
    }
    c->opts.token = buf;
    return CTL_OK;
}
