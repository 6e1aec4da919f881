/* tests/support/relay_proc.c — run the real bbt-relay for integration tests (see relay_proc.h). */
#include "relay_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *relay_bin(void)
{
    const char *b = getenv("BBT_RELAY_BIN");
    return b ? b : "build/bin/bbt-relay";
}

int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

char *http_get(int port, const char *path, int *status)
{
    *status = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        if (s >= 0)
            close(s);
        return NULL;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
    if (write(s, req, (size_t)n) != n) {
        close(s);
        return NULL;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(s, buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (cap - len < 1024)
            buf = realloc(buf, cap *= 2);
        buf[len] = 0;
        /* stop at the end of the body when its length is known (keep-alive servers) */
        char *hdr_end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "content-length:");
        if (hdr_end && cl && cl < hdr_end &&
            len >= (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10))
            break;
    }
    close(s);
    buf[len] = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", status) != 1) {
        free(buf);
        return NULL;
    }
    char *body = strstr(buf, "\r\n\r\n");
    char *out = strdup(body ? body + 4 : "");
    free(buf);
    return out;
}

static int wait_healthy(relay_proc *p, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        int st;
        char *b = http_get(p->port, "/healthz", &st);
        free(b);
        if (st == 200)
            return 0;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            return -1; /* exited */
        usleep(20000);
    }
    return -1;
}

static void exec_relay(relay_proc *p, const char *const *sets)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that dies (a failed assert) leaves no process */
    const char *argv[160];
    int n = 0;
    char opt[3][320];
    argv[n++] = relay_bin();
    snprintf(opt[0], sizeof opt[0], "relay.port=%d", p->port);
    snprintf(opt[1], sizeof opt[1], "relay.web_root=%s/web", p->dir);
    snprintf(opt[2], sizeof opt[2], "relay.state_dir=%s", p->dir);
    /* Lab mode (auth.required=false) unless the test's sets say otherwise: tests that are
     * not about credentials say hello without a token (tests/relay/test_auth.c uses tokens). */
    const char *base[] = {"relay.listen=127.0.0.1", "relay.allow_insecure=true",
                          "relay.log_level=debug", "auth.required=false", opt[0], opt[1], opt[2]};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        argv[n++] = "--set";
        argv[n++] = base[i];
    }
    for (int i = 0; sets && sets[i] && n < 156; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int relay_start(relay_proc *p, int port, const char *const *sets)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/bbt-test-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    char web[300];
    snprintf(web, sizeof web, "%s/web", p->dir);
    mkdir(web, 0755);
    snprintf(p->log, sizeof p->log, "%s/relay.log", p->dir);
    p->port = port ? port : free_port();
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0)
        exec_relay(p, sets);
    if (wait_healthy(p, 5000) != 0) {
        fprintf(stderr, "relay did not start; log %s:\n", p->log);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "cat %s >&2", p->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        relay_stop(p, SIGKILL, 1000);
        return -1;
    }
    return 0;
}

int proc_stop(pid_t *pid, int sig, int timeout_ms)
{
    if (*pid <= 0)
        return -1;
    kill(*pid, sig);
    int st = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &st, 0);
    *pid = 0;
    return -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void relay_cleanup(relay_proc *p)
{
    if (p->dir[0] && nftw(p->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s: %s\n", p->dir, strerror(errno));
    p->dir[0] = 0;
}

int run_sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int relay_stop(relay_proc *p, int sig, int timeout_ms)
{
    int st = proc_stop(&p->pid, sig, timeout_ms);
    if (st == 0 && !p->keep && !getenv("BBT_TEST_KEEP"))
        relay_cleanup(p);
    return st;
}

double metric_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, name, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}
