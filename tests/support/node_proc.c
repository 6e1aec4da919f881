/* tests/support/node_proc.c — run the real bbt-node for integration tests (see node_proc.h). */
#include "node_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay_proc.h"

const char *node_bin(void)
{
    const char *b = getenv("BBT_NODE_BIN");
    return b ? b : "build/bin/bbt-node";
}

static int write_ini(const node_proc *n, int port, const char *session, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "[node]\nrelay = ws://127.0.0.1:%d/ws\nclassroom = test-node\nsession = %s\n"
               "state_dir = %s\nlog_level = debug\n", port, session, n->dir);
    return fclose(f);
}

static void exec_node(const node_proc *n, bool play, const char *ini, const char *const *sets,
                      const char *const *extra)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that dies (a failed assert) leaves no process */
    const char *argv[160];
    int k = 0;
    argv[k++] = node_bin();
    if (play)
        argv[k++] = "play";
    argv[k++] = "--config";
    argv[k++] = ini;
    for (int i = 0; sets && sets[i] && k < 150; i++) {
        argv[k++] = "--set";
        argv[k++] = sets[i];
    }
    for (int i = 0; extra && extra[i] && k < 158; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    int fd = open(n->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int node_start(node_proc *n, bool play, int relay_port, const char *session,
               const char *const *sets, const char *const *extra_args)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/bbt-node-test-XXXXXX");
    if (!mkdtemp(n->dir))
        return -1;
    char ini[300];
    snprintf(ini, sizeof ini, "%s/node.ini", n->dir);
    snprintf(n->log, sizeof n->log, "%s/node.log", n->dir);
    if (write_ini(n, relay_port, session, ini) != 0)
        return -1;
    n->pid = fork();
    if (n->pid < 0)
        return -1;
    if (n->pid == 0)
        exec_node(n, play, ini, sets, extra_args);
    return 0;
}

int node_stop(node_proc *n, int sig, int timeout_ms)
{
    return proc_stop(&n->pid, sig, timeout_ms); /* relay_proc.c */
}

char *node_log(const node_proc *n)
{
    FILE *f = fopen(n->log, "r");
    if (!f)
        return strdup("");
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}

void scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (ent->d_type == DT_REG)
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void node_cleanup(node_proc *n)
{
    scratch_remove(n->dir);
    n->dir[0] = 0;
}

int node_wait_log(const node_proc *n, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        char *log = node_log(n);
        int found = log && strstr(log, needle) != NULL;
        free(log);
        if (found)
            return 0;
        usleep(50000);
    }
    return -1;
}
