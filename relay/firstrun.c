/* relay/firstrun.c — the relay's first start: its own county CA and server certificate when no
 * TLS is configured, and the first operator token. Contract: relay/firstrun.h. */
#include "relay/firstrun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "proto/log.h"
#include "proto/status.h"
#include "proto/token.h"
#include "relay/auth.h"

#define NAMES_MAX 2048

static int fail(char *err, size_t errlen, int status, const char *fmt, const char *a,
                const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
    return status;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int mkdir_mode(const char *path, mode_t mode, char *err, size_t errlen)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return BBT_OK;
    return fail(err, errlen, BBT_EIO, "无法创建目录 / cannot create directory %s: %s", path,
                strerror(errno));
}

/* ---- certificates --------------------------------------------------------------------------- */

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e)
        return -1;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* A certificate for `key`, subject CN=cn (O=banbantong), signed by ca_key (issuer ca, or itself
 * when ca is NULL). names: subjectAltName of a server certificate; NULL for the CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key,
                       const char *names, long days)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    if (!x || RAND_bytes(serial, sizeof serial) != 1)
        goto bad;
    serial[0] &= 0x7f; /* a positive serial */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    if (!serial_ok || !X509_set_version(x, 2))
        goto bad;
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"banbantong", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
    if (!X509_set_pubkey(x, key))
        goto bad;
    X509 *issuer = ca ? ca : x;
    int r = add_ext(x, issuer, NID_subject_key_identifier, "hash");
    r |= add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (!ca) {
        r |= add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        r |= add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        r |= add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        r |= add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
        r |= add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
        r |= add_ext(x, issuer, NID_subject_alt_name, names);
    }
    if (r != 0 || !X509_sign(x, ca_key ? ca_key : key, EVP_sha256()))
        goto bad;
    return x;
bad:
    X509_free(x);
    return NULL;
}

/* Write PEM to path through path.tmp and rename (no half-written key is ever left), mode 0600
 * for keys, 0644 for certificates. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, X509 *chain)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key ? 0600 : 0644);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    bool ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_X509(f, cert) && (!chain || PEM_write_X509(f, chain));
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

struct tls_paths {
    char ca[4096], ca_key[4096], cert[4096], key[4096];
};

static void tls_paths_of(const char *dir, struct tls_paths *p)
{
    snprintf(p->ca, sizeof p->ca, "%s/ca.pem", dir);
    snprintf(p->ca_key, sizeof p->ca_key, "%s/ca.key", dir);
    snprintf(p->cert, sizeof p->cert, "%s/server.pem", dir);
    snprintf(p->key, sizeof p->key, "%s/server.key", dir);
}

/* The county CA: loaded when both files are there, otherwise created. */
static int county_ca(const struct tls_paths *p, const char *cn, X509 **ca, EVP_PKEY **ca_key)
{
    if (exists(p->ca) && exists(p->ca_key)) {
        *ca = load_cert(p->ca);
        *ca_key = load_key(p->ca_key);
        return *ca && *ca_key ? 0 : -1;
    }
    char ca_cn[300];
    snprintf(ca_cn, sizeof ca_cn, "banbantong county CA %s", cn);
    *ca_key = EVP_EC_gen("P-256");
    *ca = *ca_key ? make_cert(*ca_key, ca_cn, NULL, NULL, NULL, 3650) : NULL;
    if (!*ca || write_pem(p->ca_key, *ca_key, NULL, NULL) != 0 ||
        write_pem(p->ca, NULL, *ca, NULL) != 0)
        return -1;
    BBT_INFO("first run: created the county CA %s (install it on classroom PCs)", p->ca);
    return 0;
}

int bbt_firstrun_make_certs(const char *dir, const char *cn, const char *names, char *err,
                            size_t errlen)
{
    struct tls_paths p;
    tls_paths_of(dir, &p);
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    int rc = BBT_EIO;
    if (county_ca(&p, cn, &ca, &ca_key) != 0) {
        fail(err, errlen, BBT_EIO, "无法创建或读取县级 CA / cannot create or read the county CA in %s%s",
             dir, "");
        goto out;
    }
    key = EVP_EC_gen("P-256");
    cert = key ? make_cert(key, cn, ca, ca_key, names, 1825) : NULL;
    if (!cert || write_pem(p.key, key, NULL, NULL) != 0 || write_pem(p.cert, NULL, cert, ca) != 0) {
        fail(err, errlen, BBT_EIO, "无法创建服务器证书 / cannot create the server certificate in %s%s",
             dir, "");
        goto out;
    }
    BBT_INFO("first run: created the server certificate %s for %s", p.cert, names);
    rc = BBT_OK;
out:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

static void add_name(char *names, const char *kind, const char *value)
{
    char item[300];
    snprintf(item, sizeof item, "%s%s:%s", names[0] ? "," : "", kind, value);
    if (strstr(names, item + (names[0] ? 1 : 0)) == NULL && strlen(names) + strlen(item) < NAMES_MAX)
        strcat(names, item);
}

/* subjectAltName: host name, localhost, loopback, the listen address, the host's addresses. */
static void server_names(const bbt_relay_config *cfg, char *host, size_t hostlen, char *names)
{
    names[0] = '\0';
    if (gethostname(host, hostlen) != 0 || !host[0])
        snprintf(host, hostlen, "localhost");
    host[hostlen - 1] = '\0';
    add_name(names, "DNS", host);
    add_name(names, "DNS", "localhost");
    add_name(names, "IP", "127.0.0.1");
    add_name(names, "IP", "::1");
    const char *l = cfg->relay.listen;
    struct in6_addr a6;
    if (l && strcmp(l, "0.0.0.0") != 0 && strcmp(l, "::") != 0)
        add_name(names, inet_pton(AF_INET, l, &a6) == 1 || inet_pton(AF_INET6, l, &a6) == 1 ? "IP"
                                                                                             : "DNS",
                 l);
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        char buf[INET6_ADDRSTRLEN];
        if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, buf, sizeof buf);
            add_name(names, "IP", buf);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            struct in6_addr *a = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(a))
                continue;
            inet_ntop(AF_INET6, a, buf, sizeof buf);
            add_name(names, "IP", buf);
        }
    }
    freeifaddrs(ifs);
}

static int set_str(char **field, const char *value)
{
    char *s = strdup(value);
    if (!s)
        return BBT_ENOMEM;
    free(*field);
    *field = s;
    return BBT_OK;
}

int bbt_firstrun_tls(bbt_relay_config *cfg, bool create, char *err, size_t errlen)
{
    if (cfg->relay.allow_insecure || cfg->relay.tls_cert[0] || cfg->relay.tls_key[0])
        return BBT_OK;
    char dir[4000];
    snprintf(dir, sizeof dir, "%s/tls", cfg->relay.state_dir);
    struct tls_paths p;
    tls_paths_of(dir, &p);
    if (create && !(exists(p.cert) && exists(p.key))) {
        int rc = mkdir_mode(cfg->relay.state_dir, 0750, err, errlen);
        if (rc == BBT_OK)
            rc = mkdir_mode(dir, 0700, err, errlen);
        if (rc != BBT_OK)
            return rc;
        char host[256], names[NAMES_MAX];
        server_names(cfg, host, sizeof host, names);
        rc = bbt_firstrun_make_certs(dir, host, names, err, errlen);
        if (rc != BBT_OK)
            return rc;
    }
    if (set_str(&cfg->relay.tls_cert, p.cert) != BBT_OK ||
        set_str(&cfg->relay.tls_key, p.key) != BBT_OK)
        return fail(err, errlen, BBT_ENOMEM, "out of memory%s%s", NULL, NULL);
    return BBT_OK;
}

/* ---- the operator token --------------------------------------------------------------------- */

static void announce(const char *path, const char *token)
{
    fprintf(stderr,
            "\n"
            "================ 班班通中继首次启动 / banbantong relay: first start ================\n"
            "管理员令牌（仅显示这一次；也已保存在 %s，仅 root 与 banbantong 用户可读）：\n"
            "Operator token (shown this once; also saved in %s, readable by root and the\n"
            "banbantong user only):\n\n%s\n\n"
            "下一步 / next:\n"
            "  sudo cat %s   # 以后再次查看 / to read it again\n"
            "  export BBT_TOKEN=$(sudo cat %s)\n"
            "  bbtctl next   # 按步骤说明：导入课表、为教室签发令牌、设置教室电脑\n"
            "                # step by step: import the timetable, classroom tokens, classroom PCs\n"
            "有效期 %d 天；删除该文件并重启中继可得到新令牌。\n"
            "Valid %d days; delete the file and restart the relay for a new one.\n"
            "=====================================================================================\n\n",
            path, path, token, path, path, BBT_FIRSTRUN_TOKEN_DAYS, BBT_FIRSTRUN_TOKEN_DAYS);
}

static int write_token(const char *path, const char *token, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, BBT_EIO, "无法写入 / cannot write %s: %s", path, strerror(errno));
    size_t n = strlen(token);
    bool ok = write(fd, token, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        return fail(err, errlen, BBT_EIO, "无法写入 / cannot write %s%s", path, "");
    }
    return BBT_OK;
}

int bbt_firstrun_operator(const bbt_relay_config *cfg, const char *secret_file, bool *created,
                          char *err, size_t errlen)
{
    *created = false;
    char path[4200], secret_path[4200];
    snprintf(path, sizeof path, "%s/%s", cfg->relay.state_dir, BBT_FIRSTRUN_TOKEN_FILE);
    if (exists(path))
        return BBT_OK;
    if (secret_file && secret_file[0])
        snprintf(secret_path, sizeof secret_path, "%s", secret_file);
    else
        snprintf(secret_path, sizeof secret_path, "%s/secret", cfg->relay.state_dir);
    int rc = mkdir_mode(cfg->relay.state_dir, 0750, err, errlen);
    uint8_t secret[BBT_AUTH_SECRET_BYTES];
    if (rc == BBT_OK)
        rc = bbt_auth_secret_load(secret_path, true, secret, err, errlen);
    if (rc != BBT_OK)
        return rc;
    time_t now = time(NULL);
    bbt_token_claims c = {.exp = (int64_t)now + BBT_FIRSTRUN_TOKEN_DAYS * 86400LL,
                          .iat = (int64_t)now};
    snprintf(c.sub, sizeof c.sub, "admin");
    snprintf(c.role, sizeof c.role, "operator");
    char *token = bbt_token_issue(&c, secret, sizeof secret, &rc);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!token)
        return fail(err, errlen, rc, "cannot sign the operator token%s%s", NULL, NULL);
    rc = write_token(path, token, err, errlen);
    if (rc == BBT_OK) {
        announce(path, token);
        BBT_INFO("first run: operator token for subject=admin written to %s", path);
        *created = true;
    }
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return rc;
}
