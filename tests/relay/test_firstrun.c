/* tests/relay/test_firstrun.c — relay/firstrun.c: the county CA and server certificate made
 * when no TLS is configured (a chain OpenSSL verifies, the names in subjectAltName, private keys
 * 0600, kept on the next start, nothing written by --check, nothing at all when TLS is
 * configured or in lab mode), and the first operator token (signed with the relay's secret,
 * role operator, 0600, written once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/relay_config.h"
#include "proto/status.h"
#include "proto/token.h"
#include "relay/auth.h"
#include "relay/firstrun.h"

struct fx {
    char dir[64];
    bbt_relay_config cfg;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/bbt-firstrun-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256], set[128];
    assert_int_equal(bbt_relay_config_load(NULL, &f->cfg, err, sizeof err), BBT_OK);
    snprintf(set, sizeof set, "relay.state_dir=%s/state", f->dir);
    assert_int_equal(bbt_config_set_arg(bbt_relay_directives, bbt_relay_directives_count, &f->cfg,
                                        set, err, sizeof err),
                     BBT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    bbt_relay_config_free(&f->cfg);
    free(f);
    return 0;
}

static X509 *read_cert(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

static int mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 0777);
}

static void path_in(const struct fx *f, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/state/%s", f->dir, name);
}

/* The server certificate chains to the CA, is for serverAuth and names localhost/127.0.0.1. */
static void check_chain(const struct fx *f)
{
    char ca_path[256], cert_path[256];
    path_in(f, "tls/ca.pem", ca_path, sizeof ca_path);
    path_in(f, "tls/server.pem", cert_path, sizeof cert_path);
    X509 *ca = read_cert(ca_path), *cert = read_cert(cert_path);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert, NULL);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    assert_int_equal(X509_verify_cert(ctx), 1);
    assert_int_equal(X509_check_host(cert, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
    assert_int_not_equal(X509_check_host(cert, "evil.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_check_ca(cert), 0);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(cert);
}

/* As configured: no tls_cert, no tls_key (firstrun fills them in). */
static void no_tls(struct fx *f)
{
    free(f->cfg.relay.tls_cert);
    free(f->cfg.relay.tls_key);
    f->cfg.relay.tls_cert = strdup("");
    f->cfg.relay.tls_key = strdup("");
}

static void test_tls_created_and_kept(void **state)
{
    struct fx *f = *state;
    char err[256], path[256];
    /* --check: the paths, but nothing on disk */
    assert_int_equal(bbt_firstrun_tls(&f->cfg, false, err, sizeof err), BBT_OK);
    assert_non_null(strstr(f->cfg.relay.tls_cert, "/state/tls/server.pem"));
    path_in(f, "tls", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(bbt_relay_config_check(&f->cfg, err, sizeof err), BBT_OK);
    /* the start: created */
    no_tls(f);
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK);
    check_chain(f);
    path_in(f, "tls/server.key", path, sizeof path);
    assert_int_equal(mode_of(path), 0600);
    path_in(f, "tls/ca.key", path, sizeof path);
    assert_int_equal(mode_of(path), 0600);
    path_in(f, "tls", path, sizeof path);
    assert_int_equal(mode_of(path), 0700);
    /* the next start keeps the same certificate */
    char cert_path[256];
    path_in(f, "tls/server.pem", cert_path, sizeof cert_path);
    X509 *before = read_cert(cert_path);
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK); /* configured now */
    no_tls(f);
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK);
    X509 *after = read_cert(cert_path);
    assert_int_equal(X509_cmp(before, after), 0);
    X509_free(before);
    X509_free(after);
    /* a deleted server certificate is made again by the same CA */
    unlink(cert_path);
    path_in(f, "tls/server.key", path, sizeof path);
    unlink(path);
    no_tls(f);
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK);
    assert_int_equal(access(cert_path, F_OK), 0);
    check_chain(f);
}

static void test_tls_left_alone(void **state)
{
    struct fx *f = *state;
    char err[256], path[256];
    f->cfg.relay.allow_insecure = true; /* lab mode: plain ws, no certificate made */
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK);
    assert_string_equal(f->cfg.relay.tls_cert, "");
    f->cfg.relay.allow_insecure = false;
    free(f->cfg.relay.tls_cert);
    free(f->cfg.relay.tls_key);
    f->cfg.relay.tls_cert = strdup("/etc/ssl/county.pem"); /* configured: used as it is */
    f->cfg.relay.tls_key = strdup("/etc/ssl/county.key");
    assert_int_equal(bbt_firstrun_tls(&f->cfg, true, err, sizeof err), BBT_OK);
    assert_string_equal(f->cfg.relay.tls_cert, "/etc/ssl/county.pem");
    path_in(f, "tls", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
}

static char *slurp_line(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, BBT_TOKEN_MAX + 2);
    assert_non_null(fgets(buf, BBT_TOKEN_MAX + 2, fp));
    fclose(fp);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void test_operator_token_once(void **state)
{
    struct fx *f = *state;
    char err[256], tok_path[256], sec_path[256];
    bool created = false;
    assert_int_equal(bbt_firstrun_operator(&f->cfg, "", &created, err, sizeof err), BBT_OK);
    assert_true(created);
    path_in(f, BBT_FIRSTRUN_TOKEN_FILE, tok_path, sizeof tok_path);
    path_in(f, "secret", sec_path, sizeof sec_path);
    assert_int_equal(mode_of(tok_path), 0600);
    assert_int_equal(mode_of(sec_path), 0600);
    char *token = slurp_line(tok_path);
    uint8_t secret[BBT_AUTH_SECRET_BYTES];
    assert_int_equal(bbt_auth_secret_load(sec_path, false, secret, err, sizeof err), BBT_OK);
    bbt_token_claims c;
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(bbt_token_verify(token, strlen(token), secret, sizeof secret, now, 0, &c, err,
                                      sizeof err),
                     BBT_OK);
    assert_string_equal(c.role, "operator");
    assert_string_equal(c.sub, "admin");
    assert_true(c.exp > now + 300LL * 86400 && c.exp <= now + 366LL * 86400);
    /* a second start: nothing new, the same token */
    assert_int_equal(bbt_firstrun_operator(&f->cfg, "", &created, err, sizeof err), BBT_OK);
    assert_false(created);
    char *again = slurp_line(tok_path);
    assert_string_equal(token, again);
    free(token);
    free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_created_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_token_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
