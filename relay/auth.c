/* relay/auth.c — the relay's credentials: secret file, token verification, revocation,
 * per-address back-off (contract in auth.h). */
#include "relay/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "proto/status.h"

struct addr_entry {
    char addr[64];
    int64_t window_start_us;  /* the minute the failures are counted in */
    int failures;
    int64_t blocked_until_us; /* 0: not blocked */
};

struct bbt_auth {
    uint8_t secret[BBT_AUTH_SECRET_BYTES];
    int64_t leeway_s;
    int fail_limit;
    int64_t backoff_us;
    char (*revoked)[BBT_TOKEN_JTI_MAX + 1];
    size_t nrevoked, caprevoked;
    struct addr_entry *addrs;
    size_t naddrs;
};

static int fail(char *err, size_t errlen, int status, const char *fmt, const char *path,
                const char *detail)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, path, detail ? detail : "");
    return status;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int create_secret(const char *path, uint8_t out[BBT_AUTH_SECRET_BYTES], char *err,
                         size_t errlen)
{
    if (RAND_bytes(out, BBT_AUTH_SECRET_BYTES) != 1)
        return fail(err, errlen, BBT_EIO, "%s: 无法生成随机密钥 / cannot generate random bytes%s",
                    path, NULL);
    char text[2 * BBT_AUTH_SECRET_BYTES + 2];
    for (size_t i = 0; i < BBT_AUTH_SECRET_BYTES; i++)
        snprintf(text + 2 * i, 3, "%02x", out[i]);
    text[2 * BBT_AUTH_SECRET_BYTES] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail(err, errlen, BBT_EIO, "%s: 无法创建密钥文件 / cannot create the secret file: %s",
                    path, strerror(errno));
    ssize_t n = write(fd, text, sizeof text - 1);
    int ok = n == (ssize_t)(sizeof text - 1) && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(text, sizeof text);
    if (!ok) {
        unlink(path);
        return fail(err, errlen, BBT_EIO, "%s: 无法写入密钥文件 / cannot write the secret file%s",
                    path, NULL);
    }
    return BBT_OK;
}

static int parse_secret(const char *path, const char *text, size_t n,
                        uint8_t out[BBT_AUTH_SECRET_BYTES], char *err, size_t errlen)
{
    if (n == 2 * BBT_AUTH_SECRET_BYTES + 1 && text[n - 1] == '\n')
        n--;
    if (n != 2 * BBT_AUTH_SECRET_BYTES)
        return fail(err, errlen, BBT_EINVAL,
                    "%s: 密钥文件格式错误，应为 64 个十六进制字符 / malformed secret file: expected "
                    "64 hexadecimal characters and a newline%s", path, NULL);
    for (size_t i = 0; i < BBT_AUTH_SECRET_BYTES; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(err, errlen, BBT_EINVAL,
                        "%s: 密钥文件格式错误，应为 64 个十六进制字符 / malformed secret file: "
                        "expected 64 hexadecimal characters and a newline%s", path, NULL);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return BBT_OK;
}

int bbt_auth_secret_load(const char *path, bool create, uint8_t out[BBT_AUTH_SECRET_BYTES],
                         char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !path[0] || !out)
        return BBT_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create)
        return create_secret(path, out, err, errlen);
    if (fd < 0)
        return fail(err, errlen, BBT_EIO, "%s: 无法读取密钥文件 / cannot read the secret file: %s",
                    path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, BBT_EINVAL, "%s: 密钥文件不是普通文件 / the secret file is not a "
                    "regular file%s", path, NULL);
    }
    if (st.st_mode & 077) {
        close(fd);
        return fail(err, errlen, BBT_EINVAL,
                    "%s: 密钥文件权限过宽，组或其他用户可以访问；请执行 chmod 600 / the secret file "
                    "is accessible by group or others: chmod 600 it%s", path, NULL);
    }
    char text[2 * BBT_AUTH_SECRET_BYTES + 4];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0)
        return fail(err, errlen, BBT_EIO, "%s: 无法读取密钥文件 / cannot read the secret file: %s",
                    path, strerror(errno));
    int rc = parse_secret(path, text, (size_t)n, out, err, errlen);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

bbt_auth *bbt_auth_new(const bbt_auth_opts *o, int *status, char *err, size_t errlen)
{
    bbt_auth *a = calloc(1, sizeof *a);
    if (!a) {
        *status = BBT_ENOMEM;
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *status = bbt_auth_secret_load(o->secret_file, true, a->secret, err, errlen);
    if (*status != BBT_OK) {
        bbt_auth_free(a);
        return NULL;
    }
    a->leeway_s = o->leeway_s;
    a->fail_limit = o->fail_limit > 0 ? o->fail_limit : 1;
    a->backoff_us = o->backoff_ms * 1000;
    return a;
}

void bbt_auth_free(bbt_auth *a)
{
    if (!a)
        return;
    free(a->revoked);
    free(a->addrs);
    OPENSSL_cleanse(a->secret, sizeof a->secret);
    free(a);
}

static bool role_known(const char *role)
{
    return strcmp(role, "source") == 0 || strcmp(role, "receiver") == 0 ||
           strcmp(role, "operator") == 0 || strcmp(role, "relay") == 0;
}

int bbt_auth_verify(const bbt_auth *a, const char *token, size_t len, int64_t now_s,
                    bbt_token_claims *out, char *reason, size_t reasonlen)
{
    if (!token || !len) {
        if (reason && reasonlen)
            snprintf(reason, reasonlen, "no token");
        return BBT_ETOKEN;
    }
    int rc = bbt_token_verify(token, len, a->secret, sizeof a->secret, now_s, a->leeway_s, out,
                              reason, reasonlen);
    if (rc != BBT_OK)
        return rc;
    if (!role_known(out->role)) {
        if (reason && reasonlen)
            snprintf(reason, reasonlen, "unknown role in token");
        return BBT_ETOKEN;
    }
    if (bbt_auth_is_revoked(a, out->jti)) {
        if (reason && reasonlen)
            snprintf(reason, reasonlen, "token revoked");
        return BBT_ETOKEN_REVOKED;
    }
    return BBT_OK;
}

char *bbt_auth_issue(const bbt_auth *a, const bbt_token_claims *c, int *err)
{
    return bbt_token_issue(c, a->secret, sizeof a->secret, err);
}

bool bbt_auth_is_revoked(const bbt_auth *a, const char *jti)
{
    if (!jti || !jti[0])
        return false;
    for (size_t i = 0; i < a->nrevoked; i++)
        if (strcmp(a->revoked[i], jti) == 0)
            return true;
    return false;
}

int bbt_auth_revoke(bbt_auth *a, const char *jti)
{
    if (!jti || !jti[0] || strlen(jti) > BBT_TOKEN_JTI_MAX)
        return BBT_EINVAL;
    if (bbt_auth_is_revoked(a, jti))
        return BBT_OK;
    if (a->nrevoked == a->caprevoked) {
        size_t cap = a->caprevoked ? a->caprevoked * 2 : 16;
        void *p = realloc(a->revoked, cap * sizeof *a->revoked);
        if (!p)
            return BBT_ENOMEM;
        a->revoked = p;
        a->caprevoked = cap;
    }
    snprintf(a->revoked[a->nrevoked++], sizeof a->revoked[0], "%s", jti);
    return BBT_OK;
}

static struct addr_entry *addr_find(const bbt_auth *a, const char *addr)
{
    for (size_t i = 0; i < a->naddrs; i++)
        if (strcmp(a->addrs[i].addr, addr) == 0)
            return &a->addrs[i];
    return NULL;
}

bool bbt_auth_blocked(const bbt_auth *a, const char *addr, int64_t now_us)
{
    const struct addr_entry *e = addr_find(a, addr);
    return e && e->blocked_until_us && now_us < e->blocked_until_us;
}

/* An entry for addr: found, new, or the stalest one reused. NULL only when out of memory. */
static struct addr_entry *addr_slot(bbt_auth *a, const char *addr, int64_t now_us)
{
    struct addr_entry *e = addr_find(a, addr);
    if (e)
        return e;
    if (!a->addrs) {
        a->addrs = calloc(BBT_AUTH_MAX_ADDRS, sizeof *a->addrs);
        if (!a->addrs)
            return NULL;
    }
    if (a->naddrs < BBT_AUTH_MAX_ADDRS) {
        e = &a->addrs[a->naddrs++];
    } else {
        e = &a->addrs[0];
        for (size_t i = 1; i < a->naddrs; i++) { /* an unblocked entry with the oldest window */
            const struct addr_entry *x = &a->addrs[i];
            bool x_free = x->blocked_until_us <= now_us, e_free = e->blocked_until_us <= now_us;
            if ((x_free && !e_free) || (x_free == e_free && x->window_start_us < e->window_start_us))
                e = &a->addrs[i];
        }
    }
    memset(e, 0, sizeof *e);
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    e->window_start_us = now_us;
    return e;
}

bool bbt_auth_failed(bbt_auth *a, const char *addr, int64_t now_us)
{
    struct addr_entry *e = addr_slot(a, addr, now_us);
    if (!e)
        return false;
    if (now_us - e->window_start_us >= BBT_AUTH_WINDOW_US) {
        e->window_start_us = now_us;
        e->failures = 0;
    }
    if (++e->failures < a->fail_limit || (e->blocked_until_us && now_us < e->blocked_until_us))
        return false;
    e->blocked_until_us = now_us + a->backoff_us;
    e->failures = 0;
    e->window_start_us = now_us;
    return true;
}
