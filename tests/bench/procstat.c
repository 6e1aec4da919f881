/* tests/bench/procstat.c — /proc readings (CPU, RSS), CPU pinning and the spawned relay. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "proto/status.h"

/* A TCP connection to ip:port (IPv4 text) with 2 s send and receive timeouts: its fd, or -1. */
static int connect_to(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool port_open_at(const char *ip, int port)
{
    int fd = connect_to(ip, port);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

char *relay_get_metrics(const char *ip, int port)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    int fd = buf ? connect_to(ip, port) : -1;
    if (fd < 0) {
        free(buf);
        return NULL;
    }
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: relay\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        ssize_t n;
        while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
            len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

int64_t bench_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bench_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* utime and stime are fields 14 and 15 of /proc/PID/stat, counted after the ')' that ends the
 * command name (which may itself contain spaces and parentheses). */
static int read_cpu(pid_t pid, double *cpu_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return BBT_EIO;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return BBT_EIO;
    unsigned long long ut = 0, st = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return BBT_EIO;
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    return BBT_OK;
}

static int read_rss(pid_t pid, long *rss_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return BBT_EIO;
    int rc = BBT_EIO;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", rss_kb) == 1) {
            rc = BBT_OK;
            break;
        }
    fclose(f);
    return rc;
}

int proc_sample_read(pid_t pid, proc_sample *out)
{
    if (pid <= 0 || read_cpu(pid, &out->cpu_s) != BBT_OK || read_rss(pid, &out->rss_kb) != BBT_OK)
        return BBT_EIO;
    return BBT_OK;
}

/* One "cpu" or "cpuN" line of /proc/stat: user nice system idle iowait irq softirq steal. */
static int stat_line(const char *line, const char *name, unsigned long long v[8])
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ' ')
        return 0;
    return sscanf(line + n, " %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                  &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
}

int proc_machine_read(machine_sample *out, int core)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return BBT_EIO;
    char line[512], name[32];
    unsigned long long all[8], one[8];
    int have_all = 0, have_one = core < 0;
    snprintf(name, sizeof name, "cpu%d", core);
    while (fgets(line, sizeof line, f)) {
        have_all |= stat_line(line, "cpu", all);
        if (core >= 0 && stat_line(line, name, one)) {
            have_one = 1;
            break;
        }
    }
    fclose(f);
    if (!have_all || !have_one)
        return BBT_EIO;
    double tck = (double)sysconf(_SC_CLK_TCK);
    out->task_s = (double)(all[0] + all[1] + all[2]) / tck;
    out->irq_s = (double)(all[5] + all[6]) / tck;
    out->steal_s = (double)all[7] / tck;
    out->core_busy_s = core < 0 ? 0
                                : (double)(one[0] + one[1] + one[2] + one[5] + one[6] + one[7]) / tck;
    out->core_irq_s = core < 0 ? 0 : (double)(one[5] + one[6]) / tck;
    return BBT_OK;
}

double proc_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int pin_self(int cpu)
{
    if (cpu < 0)
        return BBT_OK;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? BBT_OK : BBT_EIO;
}

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int write_config(const char *dir, int port, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/relay.ini", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return BBT_EIO;
    fprintf(f,
            "# written by bbt-bench for one run\n"
            "[relay]\nlisten = 127.0.0.1\nport = %d\nallow_insecure = true\n"
            "web_root = %s\nstate_dir = %s\nlog_level = info\n"
            "[limits]\nmax_viewers = 1000000\nmax_connections_per_ip = 1000000\n"
            "[auth]\nrequired = false\n",
            port, dir, dir);
    return fclose(f) == 0 ? BBT_OK : BBT_EIO;
}

/* In the child: pinned, dying with the bench, output to the log; then bbt-relay with the
 * temporary configuration, or `cmd` through /bin/sh with PORT in the environment. */
static void exec_relay(const char *bin, const char *cmd, const char *cfg, const char *log,
                       int port, int cpu)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the bench */
    pin_self(cpu);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    setenv("PORT", p, 1);
    if (cmd)
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    else
        execl(bin, bin, "--config", cfg, (char *)NULL);
    fprintf(stderr, "bbt-bench: exec %s: %s\n", cmd ? "/bin/sh" : bin, strerror(errno));
    _exit(127);
}

pid_t relay_spawn(const char *bin, const char *cmd, const char *dir, int port, int cpu)
{
    char cfg[512], log[512];
    if (!cmd && write_config(dir, port, cfg, sizeof cfg) != BBT_OK) {
        fprintf(stderr, "bbt-bench: cannot write %s/relay.ini\n", dir);
        return -1;
    }
    snprintf(log, sizeof log, "%s/relay.log", dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_relay(bin, cmd, cfg, log, port, cpu);
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "bbt-bench: the relay exited at start (status %d), see %s\n", st, log);
            return -1;
        }
        if (port_open_at("127.0.0.1", port))
            return pid;
        usleep(10000);
    }
    fprintf(stderr, "bbt-bench: the relay does not listen on port %d, see %s\n", port, log);
    relay_stop(pid);
    return -1;
}

int child_wait(pid_t pid, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 10; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    int st;
    return waitpid(pid, &st, 0) == pid ? st : -1;
}

int relay_stop(pid_t pid)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    return child_wait(pid, 5000);
}
