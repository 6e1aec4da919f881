/* tests/bench/rural_net.c — `bbt-bench rural`'s link: commands run without a shell, the
 * network namespace and veth pair, tc tbf for the rate, bbt-linkemu for delay, jitter and loss
 * (see rural.c for the whole, rural_internal.h for what is shared). */
#include "rural_internal.h"

/* ---- commands -------------------------------------------------------------------------------- */

/* Run `cmd` split at spaces (no shell, no quoting: our arguments have no spaces); stdout and
 * stderr into out (truncated). The exit status (0 = success), 127 when it cannot be started. */
int run_cmd(char *out, size_t outlen, const char *fmt, ...)
{
    char line[1024], *argv[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    if (out && outlen)
        out[0] = '\0';
    int pfd[2];
    if (argc == 0 || pipe2(pfd, O_CLOEXEC) != 0)
        return 127;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        if (out && outlen)
            snprintf(out, outlen, "%s: %s", argv[0], strerror(rc));
        return 127;
    }
    size_t len = 0;
    char sink[512];
    for (;;) {
        char *dst = out && len + 1 < outlen ? out + len : sink;
        size_t room = out && len + 1 < outlen ? outlen - len - 1 : sizeof sink;
        ssize_t n = read(pfd[0], dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (dst != sink)
            len += (size_t)n;
    }
    if (out && outlen)
        out[len] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first line of a command's output, for messages. */
const char *first_line(char *s)
{
    s[strcspn(s, "\n")] = '\0';
    return s;
}

/* ---- the network ----------------------------------------------------------------------------- */

static void tbf_args(char *buf, size_t len, int64_t kbit, int64_t buffer_ms)
{
    int64_t burst = kbit * 1000 / 8 / 50; /* 20 ms at the rate, at least two full packets */
    if (burst < 3028)
        burst = 3028;
    snprintf(buf, len, "tbf rate %lldkbit burst %lld latency %lldms", (long long)kbit,
             (long long)burst, (long long)buffer_ms);
}

void net_names(rural_net *n)
{
    unsigned pid = (unsigned)getpid();
    snprintf(n->ns, sizeof n->ns, NS_PREFIX "%u", pid);
    snprintf(n->hif, sizeof n->hif, "bbtr%uh", pid % 10000000u);
    snprintf(n->nif, sizeof n->nif, "bbtr%un", pid % 10000000u);
    unsigned x = (pid >> 6) & 255u, y = (pid & 63u) * 4u;
    snprintf(n->hip, sizeof n->hip, "10.213.%u.%u", x, y + 1);
    snprintf(n->nip, sizeof n->nip, "10.213.%u.%u", x, y + 2);
    n->nsfd = -1;
    n->linkemu = -1;
}

void net_down(rural_net *n)
{
    char out[256];
    if (n->linkemu > 0) {
        kill(n->linkemu, SIGTERM);
        child_wait(n->linkemu, 3000);
        n->linkemu = -1;
    }
    if (n->nsfd >= 0)
        close(n->nsfd);
    n->nsfd = -1;
    if (n->made) {
        if (run_cmd(out, sizeof out, "ip netns del %s", n->ns) != 0)
            say("could not remove namespace %s: %s", n->ns, first_line(out));
        /* the host end goes with its peer; make sure */
        run_cmd(NULL, 0, "ip link del %s", n->hif);
        n->made = false;
    }
}

/* Namespaces left by benches that are gone (killed with SIGKILL). */
void remove_stale(void)
{
    DIR *d = opendir("/var/run/netns");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned pid;
        if (sscanf(e->d_name, NS_PREFIX "%u", &pid) != 1 || pid == (unsigned)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char out[256];
        say("removing namespace %s left by a bench that is gone", e->d_name);
        run_cmd(out, sizeof out, "ip netns del %s", e->d_name);
    }
    closedir(d);
}

/* Set up the namespace, the pair and the shaping. 0, SKIP (the machine cannot) or 2. */
/* bbt-linkemu in the namespace; "ready" on its stdout once the queue is bound. 0, SKIP (it
 * cannot run here, first run only) or 2. */
static int linkemu_start(rural_run *r, bool first)
{
    rural_net *n = &r->net;
    const rural_profile *p = r->prof;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return 2;
    snprintf(n->linkemu_log, sizeof n->linkemu_log, "%s/linkemu.log", r->dir);
    char delay[32], jitter[32], loss[32], seed[32];
    snprintf(delay, sizeof delay, "%lld", (long long)p->rtt_ms);
    snprintf(jitter, sizeof jitter, "%lld", (long long)p->jitter_ms);
    snprintf(loss, sizeof loss, "%g", p->loss_pct);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->o->seed);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int log = open(n->linkemu_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0)
            dup2(log, STDERR_FILENO);
        dup2(pfd[1], STDOUT_FILENO);
        if (setns(n->nsfd, CLONE_NEWNET) != 0) {
            fprintf(stderr, "bbt-bench: setns: %s\n", strerror(errno));
            _exit(3);
        }
        execl(r->o->linkemu_bin, r->o->linkemu_bin, "--queue-num", "0", "--delay", delay,
              "--jitter", jitter, "--loss", loss, "--seed", seed, (char *)NULL);
        fprintf(stderr, "bbt-bench: exec %s: %s\n", r->o->linkemu_bin, strerror(errno));
        _exit(4);
    }
    close(pfd[1]);
    n->linkemu = pid;
    char buf[64] = "";
    struct pollfd pf = {pfd[0], POLLIN, 0};
    ssize_t got = 0;
    if (poll(&pf, 1, 5000) > 0)
        got = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    if (got > 0 && strncmp(buf, "ready", 5) == 0)
        return 0;
    int st = child_wait(pid, 1000);
    n->linkemu = -1;
    char msg[512] = "";
    FILE *f = fopen(n->linkemu_log, "r");
    if (f) {
        size_t k = fread(msg, 1, sizeof msg - 1, f);
        msg[k] = '\0';
        fclose(f);
    }
    bool cannot = WIFEXITED(st) && (WEXITSTATUS(st) == 3 || WEXITSTATUS(st) == 4);
    say("%sbbt-linkemu did not start: %s", cannot && first ? "SKIP: " : "",
        msg[0] ? first_line(msg) : "no message");
    return cannot && first ? SKIP : 2;
}

int net_up(rural_run *r, bool first)
{
    rural_net *n = &r->net;
    const rural_profile *p = r->prof;
    char out[1024], tbf[128];
    int fail = first ? SKIP : 2;
    if (run_cmd(out, sizeof out, "ip netns add %s", n->ns) != 0) {
        say("%s network namespaces: ip netns add: %s", fail == SKIP ? "SKIP: no" : "cannot create",
            first_line(out));
        return fail;
    }
    n->made = true;
    char path[128];
    snprintf(path, sizeof path, "/var/run/netns/%s", n->ns);
    n->nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (n->nsfd < 0) {
        say("cannot open %s: %s", path, strerror(errno));
        return 2;
    }
    if (run_cmd(out, sizeof out, "ip link add %s type veth peer name %s netns %s", n->hif, n->nif,
                n->ns) ||
        run_cmd(out, sizeof out, "ip addr add %s/30 dev %s", n->hip, n->hif) ||
        run_cmd(out, sizeof out, "ip link set %s up", n->hif) ||
        run_cmd(out, sizeof out, "ip -n %s addr add %s/30 dev %s", n->ns, n->nip, n->nif) ||
        run_cmd(out, sizeof out, "ip -n %s link set %s up", n->ns, n->nif) ||
        run_cmd(out, sizeof out, "ip -n %s link set lo up", n->ns)) {
        say("%sveth pair: %s", fail == SKIP ? "SKIP: cannot make a " : "cannot make the ",
            first_line(out));
        return fail;
    }
    tbf_args(tbf, sizeof tbf, p->rate_kbit, p->buffer_ms);
    if (run_cmd(out, sizeof out, "tc qdisc add dev %s root %s", n->hif, tbf) != 0) {
        say("%s: tc qdisc add … tbf: %s", fail == SKIP ? "SKIP: no tbf rate limiting" : "tbf",
            first_line(out));
        return fail;
    }
    if (p->rtt_ms == 0 && p->loss_pct == 0)
        return 0; /* rate only: no NFQUEUE needed */
    if (run_cmd(out, sizeof out,
                "ip netns exec %s iptables -t raw -A PREROUTING -i %s -j NFQUEUE --queue-num 0 "
                "--queue-bypass",
                n->ns, n->nif) != 0) {
        say("%s: iptables … -j NFQUEUE: %s", fail == SKIP ? "SKIP: no NFQUEUE" : "NFQUEUE",
            first_line(out));
        return fail;
    }
    return linkemu_start(r, first);
}

int net_set_rate(rural_run *r, int64_t kbit)
{
    char out[512], tbf[128];
    tbf_args(tbf, sizeof tbf, kbit, r->prof->buffer_ms);
    if (run_cmd(out, sizeof out, "tc qdisc change dev %s root %s", r->net.hif, tbf) != 0) {
        say("tc qdisc change: %s", first_line(out));
        return -1;
    }
    return 0;
}
