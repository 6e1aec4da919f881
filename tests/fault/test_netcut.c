/* tests/fault/test_netcut.c — the node's network cut for 10 s.
 *
 * Needs root (network namespaces); exits 77 (CTest: skipped) with a message otherwise, or when
 * `ip` cannot make the namespace. The real bbt-node (test sources) runs in its own network
 * namespace, joined to the host by a veth pair (10.213.N.2 in the namespace, 10.213.N.1 on the
 * host); the real bbt-relay listens on the host ([publisher] idle_timeout = 2s); two viewers
 * on the host (loopback). The cut: the host end of the veth is set down for 10 s and up again.
 * No packet passes and neither side sees a FIN or a RST: the TCP connections stay open.
 * Asserted:
 *   - the viewers stay connected throughout (the relay closes neither);
 *   - they are told: a `state` message with state `interrupted` within idle_timeout + 2 s of the
 *     cut (the relay notices the publisher's silence, relay/conn.c publisher_silence);
 *   - no media reaches them from 1 s into the cut until it ends;
 *   - after the link is up again media resumes within 10 s (the node's TCP connection
 *     retransmits, or its uplink reconnects), and they are told `live` again (or the tracks of
 *     a new publication).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fault/fault_util.h"
#include "support/node_proc.h"
#include "support/relay_proc.h"

#define VIEWERS 2
#define CUT_MS 10000
#define IDLE_MS 2000

struct net {
    char ns[32], host_if[16], ns_if[16], host_ip[20], ns_ip[20];
    bool made;
    relay_proc relay;   /* stopped by teardown, also after a failed assertion */
    pid_t node;
    char dir[64];
};

static int net_make(struct net *n)
{
    int id = (int)(getpid() % 200) + 20;
    snprintf(n->ns, sizeof n->ns, "bbtfault%d", (int)getpid());
    snprintf(n->host_if, sizeof n->host_if, "bbtfh%d", (int)(getpid() % 100000));
    snprintf(n->ns_if, sizeof n->ns_if, "bbtfn%d", (int)(getpid() % 100000));
    snprintf(n->host_ip, sizeof n->host_ip, "10.213.%d.1", id);
    snprintf(n->ns_ip, sizeof n->ns_ip, "10.213.%d.2", id);
    if (run_sh("ip netns add %s 2>/dev/null", n->ns) != 0)
        return -1;
    n->made = true;
    return run_sh("ip link add %s type veth peer name %s && ip link set %s netns %s && "
                  "ip addr add %s/24 dev %s && ip link set %s up && "
                  "ip netns exec %s ip addr add %s/24 dev %s && "
                  "ip netns exec %s ip link set %s up && ip netns exec %s ip link set lo up",
                  n->host_if, n->ns_if, n->ns_if, n->ns, n->host_ip, n->host_if, n->host_if,
                  n->ns, n->ns_ip, n->ns_if, n->ns, n->ns_if, n->ns);
}

static void net_remove(struct net *n)
{
    if (!n->made)
        return;
    run_sh("ip link del %s 2>/dev/null", n->host_if); /* removes its peer too */
    run_sh("ip netns del %s 2>/dev/null", n->ns);
    n->made = false;
}

/* bbt-node in the namespace, publishing `session` to the relay on the host. */
static pid_t node_in_ns(const struct net *n, int port, const char *dir)
{
    char ini[300], log[300], relay[128];
    snprintf(ini, sizeof ini, "%s/node.ini", dir);
    snprintf(log, sizeof log, "%s/node.log", dir);
    snprintf(relay, sizeof relay, "ws://%s:%d/ws", n->host_ip, port);
    FILE *f = fopen(ini, "w");
    if (!f)
        return -1;
    fprintf(f, "[node]\nrelay = %s\nclassroom = fault-node\nsession = lesson\nstate_dir = %s\n"
               "log_level = debug\n[capture]\nwidth = 320\nheight = 180\nfps = 15\n"
               "[encode]\nladder = 320x180@15:200\nkeyframe_interval = 1s\n"
               "[uplink]\nreconnect_min = 200ms\nreconnect_max = 1s\n",
            relay, dir);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp("ip", "ip", "netns", "exec", n->ns, node_bin(), "--config", ini, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop_pid(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void run(tc_ctx *t, fu_viewer *v, int ms)
{
    fu_viewer *views[] = {&v[0], &v[1]};
    fu_run(t, NULL, 0, views, VIEWERS, ms);
}

static void node_network_cut(void **state)
{
    struct net *n = *state;
    const char *sets[] = {"relay.listen=0.0.0.0", "publisher.idle_timeout=2s", NULL};
    assert_int_equal(relay_start(&n->relay, 0, sets), 0);
    relay_proc relay = n->relay;
    snprintf(n->dir, sizeof n->dir, "/tmp/bbt-fault-netcut-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    n->node = node_in_ns(n, relay.port, n->dir);
    assert_true(n->node > 0);
    tc_ctx *t = tc_new();
    assert_non_null(t);
    fu_viewer v[VIEWERS];
    memset(v, 0, sizeof v);
    int64_t until = fu_mono_us() + 10000000;
    for (int i = 0; i < VIEWERS; i++)
        assert_int_equal(fu_viewer_start(&v[i], t, relay.port, "lesson"), 0);
    while (fu_mono_us() < until && (v[0].frames < 50 || v[1].frames < 50))
        run(t, v, 50);
    assert_true(v[0].frames >= 50 && v[1].frames >= 50); /* the lesson is on */
    for (int i = 0; i < VIEWERS; i++)
        fu_viewer_reset(&v[i]);

    int64_t cut = fu_mono_us();
    assert_int_equal(run_sh("ip link set %s down", n->host_if), 0);
    double told_ms[VIEWERS] = {-1, -1};
    unsigned frames_at_1s[VIEWERS] = {0, 0};
    bool marked = false;
    while (fu_mono_us() - cut < CUT_MS * 1000LL) {
        run(t, v, 20);
        if (!marked && fu_mono_us() - cut >= 1000000) {
            for (int i = 0; i < VIEWERS; i++)
                frames_at_1s[i] = v[i].frames;
            marked = true;
        }
        for (int i = 0; i < VIEWERS; i++)
            if (told_ms[i] < 0 && v[i].interrupted)
                told_ms[i] = (double)(fu_mono_us() - cut) / 1000.0;
    }
    unsigned during[VIEWERS];
    for (int i = 0; i < VIEWERS; i++)
        during[i] = v[i].frames - frames_at_1s[i];
    assert_int_equal(run_sh("ip link set %s up", n->host_if), 0);
    int64_t up = fu_mono_us();
    unsigned at_up[VIEWERS] = {v[0].frames, v[1].frames};
    double resumed_ms[VIEWERS] = {-1, -1};
    while (fu_mono_us() - up < 15000000LL && (resumed_ms[0] < 0 || resumed_ms[1] < 0)) {
        run(t, v, 20);
        for (int i = 0; i < VIEWERS; i++)
            if (resumed_ms[i] < 0 && v[i].frames > at_up[i] + 5)
                resumed_ms[i] = (double)(v[i].last_frame_us - up) / 1000.0;
    }
    run(t, v, 500);
    printf("# cut %d ms: viewers told interrupted after %.0f / %.0f ms (idle_timeout %d ms), "
           "frames during the cut %u / %u, still connected %d / %d; media again %.0f / %.0f ms "
           "after the link came back, told live %u / %u\n",
           CUT_MS, told_ms[0], told_ms[1], IDLE_MS, during[0], during[1], !v[0].closed,
           !v[1].closed, resumed_ms[0], resumed_ms[1], v[0].live, v[1].live);
    for (int i = 0; i < VIEWERS; i++) {
        assert_false(v[i].closed);
        assert_true(told_ms[i] >= 0 && told_ms[i] <= IDLE_MS + 2000);
        assert_int_equal(during[i], 0);
        assert_true(resumed_ms[i] >= 0 && resumed_ms[i] <= 10000);
    }
    for (int i = 0; i < VIEWERS; i++)
        fu_viewer_free(&v[i]);
    tc_free(t);
}

static int setup(void **state)
{
    static struct net n;
    if (net_make(&n) != 0) {
        net_remove(&n);
        return -1;
    }
    *state = &n;
    return 0;
}

static int teardown(void **state)
{
    struct net *n = *state;
    stop_pid(n->node);
    n->node = 0;
    if (n->relay.pid > 0)
        relay_stop(&n->relay, SIGTERM, 5000);
    if (n->dir[0])
        scratch_remove(n->dir);
    net_remove(n);
    return 0;
}

int main(void)
{
    if (geteuid() != 0 || run_sh("ip netns list >/dev/null 2>&1") != 0) {
        printf("fault/netcut: skipped: needs root and iproute2 (network namespaces)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(node_network_cut, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
