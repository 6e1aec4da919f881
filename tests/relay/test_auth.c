/* tests/relay/test_auth.c — relay/auth.c: the secret file (creation, mode, content), token
 * verification with revocation, and the per-address back-off; allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto/status.h"
#include "relay/auth.h"
#include "support/failalloc.h"

static char dir[64];
static char err[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-auth-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* Missing: created, 0600, 64 hex + newline; loading it again gives the same bytes. */
static void test_secret_created(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof p, "secret");
    uint8_t a[BBT_AUTH_SECRET_BYTES], b[BBT_AUTH_SECRET_BYTES];
    assert_int_equal(bbt_auth_secret_load(p, false, a, err, sizeof err), BBT_EIO);
    assert_non_null(strstr(err, "cannot read the secret file"));
    assert_int_equal(bbt_auth_secret_load(p, true, a, err, sizeof err), BBT_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    FILE *f = fopen(p, "r");
    char text[80] = "";
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_int_equal(strspn(text, "0123456789abcdef"), 64);
    assert_int_equal(text[64], '\n');
    assert_int_equal(bbt_auth_secret_load(p, true, b, err, sizeof err), BBT_OK);
    assert_memory_equal(a, b, sizeof a);
    /* Two created secrets differ (random, not a constant). */
    char q[128];
    path_of(q, sizeof q, "secret2");
    assert_int_equal(bbt_auth_secret_load(q, true, b, err, sizeof err), BBT_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

/* Group/other permissions, bad length, bad characters: refused with a bilingual message. */
static void test_secret_refused(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof p, "bad");
    uint8_t s[BBT_AUTH_SECRET_BYTES];
    const char *good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    write_file(p, good, 0640);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_EINVAL);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, "密钥文件权限过宽"));
    write_file(p, good, 0604);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_EINVAL);
    write_file(p, good, 0600);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_OK);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[31], 0x1f);
    write_file(p, "00010203\n", 0600);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_EINVAL);
    assert_non_null(strstr(err, "malformed secret file"));
    write_file(p, "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_EINVAL);
    write_file(p, "", 0600);
    assert_int_equal(bbt_auth_secret_load(p, true, s, err, sizeof err), BBT_EINVAL);
    /* a directory is not a secret */
    assert_int_equal(bbt_auth_secret_load(dir, true, s, err, sizeof err), BBT_EINVAL);
    assert_int_equal(bbt_auth_secret_load("", true, s, err, sizeof err), BBT_EINVAL);
}

static bbt_auth *new_auth(const char *name, int fail_limit)
{
    char p[128];
    path_of(p, sizeof p, name);
    bbt_auth_opts o = {.secret_file = p, .leeway_s = 60, .fail_limit = fail_limit,
                       .backoff_ms = 30000};
    int st;
    bbt_auth *a = bbt_auth_new(&o, &st, err, sizeof err);
    assert_non_null(a);
    assert_int_equal(st, BBT_OK);
    return a;
}

static char *issue(bbt_auth *a, const char *sub, const char *role, int64_t exp, const char *jti)
{
    bbt_token_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.role, sizeof c.role, "%s", role);
    snprintf(c.jti, sizeof c.jti, "%s", jti);
    c.iat = 1000;
    c.exp = exp;
    int e;
    char *t = bbt_auth_issue(a, &c, &e);
    assert_non_null(t);
    return t;
}

static void test_verify(void **state)
{
    (void)state;
    bbt_auth *a = new_auth("secret-v", 10), *other = new_auth("secret-o", 10);
    char *t = issue(a, "room-1", "receiver", 5000, "jti-1");
    bbt_token_claims c;
    char why[128];
    assert_int_equal(bbt_auth_verify(a, t, strlen(t), 4000, &c, why, sizeof why), BBT_OK);
    assert_string_equal(c.sub, "room-1");
    assert_string_equal(c.role, "receiver");
    assert_string_equal(c.jti, "jti-1");
    /* leeway 60 s: at exp + 60 still good, at exp + 61 expired (the subject is still named) */
    assert_int_equal(bbt_auth_verify(a, t, strlen(t), 5060, &c, why, sizeof why), BBT_OK);
    memset(&c, 0, sizeof c);
    assert_int_equal(bbt_auth_verify(a, t, strlen(t), 5061, &c, why, sizeof why),
                     BBT_ETOKEN_EXPIRED);
    assert_string_equal(c.sub, "room-1");
    /* another relay's secret: bad signature */
    assert_int_equal(bbt_auth_verify(other, t, strlen(t), 4000, &c, why, sizeof why),
                     BBT_ETOKEN_SIG);
    assert_null(strstr(why, t)); /* the reason never quotes the token */
    /* empty / garbage */
    assert_int_equal(bbt_auth_verify(a, "", 0, 4000, &c, why, sizeof why), BBT_ETOKEN);
    assert_string_equal(why, "no token");
    assert_int_equal(bbt_auth_verify(a, "a.b", 3, 4000, &c, why, sizeof why), BBT_ETOKEN);
    /* an operator token is verified the same way */
    char *odd = issue(a, "zhang", "operator", 5000, "jti-2");
    assert_int_equal(bbt_auth_verify(a, odd, strlen(odd), 4000, &c, why, sizeof why), BBT_OK);
    assert_string_equal(c.role, "operator");
    /* revocation */
    assert_false(bbt_auth_is_revoked(a, "jti-1"));
    assert_int_equal(bbt_auth_revoke(a, "jti-1"), BBT_OK);
    assert_int_equal(bbt_auth_revoke(a, "jti-1"), BBT_OK); /* idempotent */
    assert_true(bbt_auth_is_revoked(a, "jti-1"));
    assert_int_equal(bbt_auth_verify(a, t, strlen(t), 4000, &c, why, sizeof why),
                     BBT_ETOKEN_REVOKED);
    assert_string_equal(why, "token revoked");
    assert_int_equal(bbt_auth_revoke(a, ""), BBT_EINVAL);
    for (int i = 0; i < 100; i++) { /* the set grows */
        char j[16];
        snprintf(j, sizeof j, "j%d", i);
        assert_int_equal(bbt_auth_revoke(a, j), BBT_OK);
    }
    assert_true(bbt_auth_is_revoked(a, "j99"));
    assert_true(bbt_auth_is_revoked(a, "jti-1"));
    assert_false(bbt_auth_is_revoked(a, "j100"));
    free(t);
    free(odd);
    bbt_auth_free(a);
    bbt_auth_free(other);
}

/* fail_limit failures within a minute block the address for backoff_ms; other addresses are
 * not affected; failures spread over more than a minute never block. */
static void test_backoff(void **state)
{
    (void)state;
    bbt_auth *a = new_auth("secret-b", 3);
    int64_t t0 = 1000000000;
    assert_false(bbt_auth_blocked(a, "10.0.0.1", t0));
    assert_false(bbt_auth_failed(a, "10.0.0.1", t0));
    assert_false(bbt_auth_failed(a, "10.0.0.1", t0 + 1000));
    assert_false(bbt_auth_blocked(a, "10.0.0.1", t0 + 2000));
    assert_true(bbt_auth_failed(a, "10.0.0.1", t0 + 2000));
    assert_true(bbt_auth_blocked(a, "10.0.0.1", t0 + 2000));
    assert_false(bbt_auth_blocked(a, "10.0.0.2", t0 + 2000));
    assert_true(bbt_auth_blocked(a, "10.0.0.1", t0 + 2000 + 29999999));
    assert_false(bbt_auth_blocked(a, "10.0.0.1", t0 + 2000 + 30000000));
    /* slow failures: two per minute never reach three in a window */
    for (int i = 0; i < 10; i++)
        assert_false(bbt_auth_failed(a, "10.0.0.3", t0 + (int64_t)i * 31000000));
    assert_false(bbt_auth_blocked(a, "10.0.0.3", t0 + 400000000));
    /* a full table: new addresses still count, a blocked one stays blocked */
    char addr[32];
    for (int i = 0; i < BBT_AUTH_MAX_ADDRS + 10; i++) {
        snprintf(addr, sizeof addr, "172.16.%d.%d", i / 256, i % 256);
        bbt_auth_failed(a, addr, t0 + 3000);
    }
    assert_false(bbt_auth_blocked(a, "10.0.0.1", t0 + 2000 + 30000000));
    for (int i = 0; i < 3; i++)
        bbt_auth_failed(a, "10.9.9.9", t0 + 4000);
    assert_true(bbt_auth_blocked(a, "10.9.9.9", t0 + 5000));
    bbt_auth_free(a);
}

/* Every allocation failure is reported, never a crash or a leak. */
static void test_alloc_failures(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof p, "secret-f");
    bbt_auth_opts o = {.secret_file = p, .leeway_s = 60, .fail_limit = 2, .backoff_ms = 1000};
    for (long n = 0; n < 50; n++) {
        failalloc_after(n);
        int st;
        bbt_auth *a = bbt_auth_new(&o, &st, err, sizeof err);
        int rc = a ? bbt_auth_revoke(a, "x") : BBT_ENOMEM;
        bool f = a ? bbt_auth_failed(a, "1.2.3.4", 1) : false;
        (void)f;
        failalloc_reset();
        if (!a) {
            assert_int_equal(st, BBT_ENOMEM);
            continue;
        }
        assert_true(rc == BBT_OK || rc == BBT_ENOMEM);
        bbt_auth_free(a);
    }
    failalloc_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_created), cmocka_unit_test(test_secret_refused),
        cmocka_unit_test(test_verify),         cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
