/* tests/deploy/test_mkca.c — deploy/mkca.sh: one command makes a county CA and a server
 * certificate (keys 0600, certificates 0644, the names as subjectAltNames); the real bbt-relay
 * serves wss with them; a client verifying against that CA (host name and IP) connects, one
 * verifying against another CA is refused; an existing CA is reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/tokens.h"
#include "support/wsclient.h"

static char base[64], dir[128];

static int mode_of(const char *name)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static int s_client(int port, const char *ca, const char *check)
{
    return run_sh("timeout 10 openssl s_client -connect 127.0.0.1:%d -CAfile %s "
                  "-verify_return_error %s </dev/null >/dev/null 2>&1", port, ca, check);
}

/* Whether something accepts TCP connections on 127.0.0.1:port. */
static bool listening(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/* Start the relay with TLS on a free port and wait until it listens (10 s at most). Its log is
 * base/relay.log. A relay that exits before it listens (a port another test took between
 * free_port() and its bind) is started again on another port, up to three times; otherwise
 * its log is shown. (A sanitizer CI run once spent 300 s here probing a relay that was not
 * there, with openssl s_client, which may hang on a port nobody listens on.) */
static int start_tls_relay(relay_proc *r, const char *cert, const char *key, const char *secret,
                           const char *state)
{
    char log[128], set_port[64];
    snprintf(log, sizeof log, "%s/relay.log", base);
    for (int attempt = 0; attempt < 3; attempt++) {
        *r = (relay_proc){.port = free_port()};
        snprintf(set_port, sizeof set_port, "relay.port=%d", r->port);
        r->pid = fork();
        if (r->pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test killed by its timeout leaves no relay */
            if (!freopen(log, "w", stderr))
                _exit(126);
            execl(relay_bin(), relay_bin(), "--set", "relay.listen=127.0.0.1", "--set", set_port,
                  "--set", cert, "--set", key, "--set", secret, "--set", state, "--set",
                  "relay.web_root=/tmp", "--set", "schedule.enabled=false", (char *)NULL);
            _exit(127);
        }
        for (int ms = 0; ms < 10000; ms += 50) {
            int st;
            if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
                fprintf(stderr, "# relay exited before listening (attempt %d), its log:\n", attempt);
                run_sh("cat %s >&2", log);
                r->pid = -1;
                break;
            }
            if (listening(r->port))
                return 0;
            usleep(50000);
        }
        if (r->pid > 0) {
            fprintf(stderr, "# relay not listening after 10 s, its log:\n");
            run_sh("cat %s >&2", log);
            relay_stop(r, SIGKILL, 1000);
            return -1;
        }
    }
    return -1;
}

static void test_mkca(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/bbt-mkca-XXXXXX");
    assert_non_null(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/tls", base);
    const char *script = BBT_SOURCE_DIR "/deploy/mkca.sh";
    assert_int_equal(run_sh("BBT_TLS_OWNER= %s %s relay.county.example 10.9.8.7 >/dev/null",
                            script, dir), 0);
    assert_int_equal(mode_of("ca.key"), 0600);
    assert_int_equal(mode_of("server.key"), 0600);
    assert_int_equal(mode_of("ca.pem"), 0644);
    assert_int_equal(mode_of("server.pem"), 0644);
    assert_int_equal(run_sh("openssl x509 -in %s/server.pem -noout -ext subjectAltName | "
                            "grep -q 'DNS:relay.county.example, IP Address:10.9.8.7'", dir), 0);
    assert_int_equal(run_sh("%s %s 'not a name' >/dev/null 2>&1", script, dir), 2);
    /* another county's CA, for the refusal */
    assert_int_equal(run_sh("%s %s/other relay.other.example >/dev/null", script, base), 0);
    /* the relay with these files, tokens required */
    uint8_t secret[TEST_SECRET_BYTES];
    char sp[160], set_cert[200], set_key[200], set_secret[200], set_state[200];
    snprintf(sp, sizeof sp, "%s/secret", dir);
    assert_int_equal(test_secret_write(sp, 11, secret), 0);
    snprintf(set_cert, sizeof set_cert, "relay.tls_cert=%s/server.pem", dir);
    snprintf(set_key, sizeof set_key, "relay.tls_key=%s/server.key", dir);
    snprintf(set_secret, sizeof set_secret, "auth.secret_file=%s", sp);
    snprintf(set_state, sizeof set_state, "relay.state_dir=%s", dir);
    relay_proc r;
    assert_int_equal(start_tls_relay(&r, set_cert, set_key, set_secret, set_state), 0);
    char ca[160], other[160];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(other, sizeof other, "%s/other/ca.pem", base);
    assert_int_equal(s_client(r.port, ca, "-verify_hostname localhost"), 0);
    assert_int_equal(s_client(r.port, ca, "-verify_ip 127.0.0.1"), 0);
    assert_int_not_equal(s_client(r.port, ca, "-verify_hostname relay.other.example"), 0);
    assert_int_not_equal(s_client(r.port, other, "-verify_hostname localhost"), 0);
    /* a wss client with a token says hello over it */
    tc_ctx *t = tc_new();
    tc_opts o = {.tls = true};
    tc_conn *c = tc_connect(t, r.port, &o);
    assert_non_null(c);
    char *tok = test_token(secret, "ls-1", "receiver", 600, NULL);
    assert_int_equal(tc_hello_token(c, tok, "receiver", NULL), 0);
    free(tok);
    tc_free(t);
    assert_int_equal(relay_stop(&r, SIGTERM, 5000), 0);
    /* a second run keeps the CA */
    char before[4096] = "", after[4096] = "";
    FILE *f = fopen(ca, "r");
    size_t n = fread(before, 1, sizeof before - 1, f);
    fclose(f);
    before[n] = '\0';
    assert_int_equal(run_sh("%s %s relay.county.example >/dev/null", script, dir), 0);
    f = fopen(ca, "r");
    n = fread(after, 1, sizeof after - 1, f);
    fclose(f);
    after[n] = '\0';
    assert_string_equal(before, after);
    assert_int_equal(run_sh("openssl verify -CAfile %s %s/server.pem >/dev/null", ca, dir), 0);
    assert_int_equal(run_sh("rm -rf %s", base), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mkca)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
