/* tests/relay/test_conn_tokens.c — relay/conn_tokens.c (token_issue, token_list, token_revoke)
 * and bbtctl token (relay/ctl/cmds_token.c) against the real bbt-relay with tokens required:
 * an operator issues a token over the wire and the relay accepts it; a revocation closes the
 * live connection using it at once (4084) and refuses its next hello (4084), also after a
 * restart (the store keeps it); bbtctl signs offline with the secret file, and issues, lists
 * and revokes through the relay with --token-file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/tokens.h"
#include "support/wsclient.h"

static char dir[64], secret_path[128], out[16384], err[16384];
static uint8_t secret[TEST_SECRET_BYTES];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbt-tokens-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
    return test_secret_write(secret_path, 3, secret);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void start(relay_proc *r)
{
    char sf[200], db[200];
    snprintf(sf, sizeof sf, "auth.secret_file=%s", secret_path);
    snprintf(db, sizeof db, "schedule.database=%s/schedule.db", dir); /* survives restarts */
    const char *sets[] = {"auth.required=true", sf, db, NULL};
    assert_int_equal(relay_start(r, 0, sets), 0);
}

static tc_conn *login(tc_ctx *t, int port, const char *token, const char *role)
{
    tc_conn *c = tc_connect(t, port, NULL);
    assert_non_null(c);
    assert_int_equal(tc_hello_token(c, token, role, NULL), 0);
    return c;
}

static json_t *request(tc_conn *c, const char *text, const char *reply_type)
{
    assert_int_equal(tc_send_text(c, text), 0);
    json_t *r = tc_recv_type(c, reply_type, 3000);
    assert_non_null(r);
    return r;
}

static void test_issue_revoke(void **state)
{
    (void)state;
    relay_proc r;
    start(&r);
    tc_ctx *t = tc_new();
    char *op_token = test_token(secret, "zhang", "operator", 3600, NULL);
    tc_conn *op = login(t, r.port, op_token, "operator");
    json_t *tok = request(op, "{\"type\":\"token_issue\",\"id\":1,\"subject\":\"ls-301\","
                              "\"role\":\"receiver\",\"days\":2,\"note\":\"一体机\"}", "token");
    char token[4200], jti[65];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(tok, "token")));
    snprintf(jti, sizeof jti, "%s", json_string_value(json_object_get(tok, "jti")));
    assert_string_equal(json_string_value(json_object_get(tok, "subject")), "ls-301");
    int64_t exp = json_integer_value(json_object_get(tok, "expires"));
    assert_true(exp > time(NULL) + 2 * 86400 - 60 && exp <= time(NULL) + 2 * 86400 + 1);
    json_decref(tok);
    /* the issued token works; the list shows it (never the token text) */
    tc_conn *viewer = login(t, r.port, token, "receiver");
    json_t *list = request(op, "{\"type\":\"token_list\",\"id\":2}", "tokens");
    json_t *row = json_array_get(json_object_get(list, "tokens"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "jti")), jti);
    assert_string_equal(json_string_value(json_object_get(row, "note")), "一体机");
    assert_false(json_is_true(json_object_get(row, "revoked")));
    assert_null(json_object_get(row, "token"));
    json_decref(list);
    /* revoke: the live connection is closed at once, the next hello refused */
    char req[200];
    snprintf(req, sizeof req, "{\"type\":\"token_revoke\",\"id\":3,\"jti\":\"%s\"}", jti);
    json_t *rv = request(op, req, "token_revoked");
    assert_int_equal(json_integer_value(json_object_get(rv, "closed")), 1);
    json_decref(rv);
    assert_int_equal(tc_wait_closed(viewer, 3000), 4084);
    tc_conn *again = tc_connect(t, r.port, NULL);
    assert_int_equal(tc_hello_token(again, token, "receiver", NULL), 4084);
    list = request(op, "{\"type\":\"token_list\",\"id\":4}", "tokens");
    row = json_array_get(json_object_get(list, "tokens"), 0);
    assert_true(json_is_true(json_object_get(row, "revoked")));
    json_decref(list);
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
    /* after a restart the revocation holds (the store), the operator token still works */
    start(&r);
    t = tc_new();
    again = tc_connect(t, r.port, NULL);
    assert_int_equal(tc_hello_token(again, token, "receiver", NULL), 4084);
    op = login(t, r.port, op_token, "operator");
    tc_free(t);
    free(op_token);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

static const char *ctl_bin(void)
{
    const char *b = getenv("BBT_CTL_BIN");
    return b ? b : "build/bin/bbtctl";
}

/* bbtctl with args (NULL-terminated); stdout/stderr into out/err; its exit code. */
static int ctl(const char *first, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = ctl_bin();
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char o[200], e[200];
    snprintf(o, sizeof o, "%s/ctl.out", dir);
    snprintf(e, sizeof e, "%s/ctl.err", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fo, 1);
        dup2(fe, 2);
        unsetenv("BBT_TOKEN");
        setenv("BBT_LANG", "en", 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    FILE *f = fopen(o, "r");
    size_t k = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[k] = '\0';
    if (f)
        fclose(f);
    f = fopen(e, "r");
    k = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[k] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_bbtctl(void **state)
{
    (void)state;
    /* offline: signed with the secret file, no relay */
    assert_int_equal(ctl("token", "issue", "--secret-file", secret_path, "--subject", "admin",
                         "--role", "operator", "--days", "1", NULL), 0);
    char op_file[160];
    snprintf(op_file, sizeof op_file, "%s/op.token", dir);
    FILE *f = fopen(op_file, "w");
    fputs(out, f);
    fclose(f);
    assert_non_null(strstr(err, "valid until"));
    assert_int_equal(ctl("token", "issue", "--secret-file", "/nonexistent/secret", "--subject",
                         "x", "--role", "receiver", NULL), 2);
    assert_int_equal(ctl("token", "issue", "--subject", "x", "--role", "teacher", NULL), 2);
    relay_proc r;
    start(&r);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", r.port);
    assert_int_equal(ctl("--relay", url, "--token-file", op_file, "token", "issue", "--subject",
                         "hz-301", "--role", "source", "--days", "7", NULL), 0);
    char src[4200];
    assert_true(strlen(out) < sizeof src);
    memcpy(src, out, strlen(out) + 1);
    src[strcspn(src, "\n")] = '\0';
    tc_ctx *t = tc_new();
    tc_conn *c = login(t, r.port, src, "source");
    assert_int_equal(ctl("--relay", url, "--token-file", op_file, "token", "list", NULL), 0);
    assert_non_null(strstr(out, "hz-301"));
    assert_non_null(strstr(out, "valid"));
    /* the row of this token: the database also holds the first test's tokens, and rows issued
     * in the same second are in jti order */
    char jti[32] = "";
    const char *row = strstr(out, "hz-301");
    while (row > out && row[-1] != '\n')
        row--;
    assert_int_equal(sscanf(row, "%31s", jti), 1);
    assert_int_equal(ctl("--relay", url, "--token-file", op_file, "token", "revoke", jti, NULL),
                     0);
    assert_non_null(strstr(out, "closed 1 connections"));
    assert_int_equal(tc_wait_closed(c, 3000), 4084);
    /* the revoked token: refused by the relay (exit 1) */
    assert_int_equal(ctl("--relay", url, "--token", src, "token", "list", NULL), 1);
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_revoke),
        cmocka_unit_test(test_bbtctl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
