/* tests/support/relay_proc.h — run the real bbt-relay binary for an integration test: on a free
 * loopback port, with a scratch state/web directory, extra --set options, its log in a file. */
#ifndef BBT_TEST_RELAY_PROC_H
#define BBT_TEST_RELAY_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct relay_proc {
    pid_t pid;
    int port;
    char dir[256];  /* scratch directory: web/, log */
    char log[300];
    bool keep;      /* the caller's: relay_stop leaves dir (then relay_cleanup removes it) */
} relay_proc;

/* The relay binary: $BBT_RELAY_BIN (CTest sets it). */
const char *relay_bin(void);

/* Start with `sets` (NULL-terminated "section.key=value" strings, may be NULL) on top of a lab
 * configuration (loopback, plain ws, web pages from dir/web). port 0 picks a free one. Waits
 * until /healthz answers. 0 on success. */
int relay_start(relay_proc *p, int port, const char *const *sets);

/* Send `sig` and wait up to timeout_ms; returns the exit status (or 128+signal), -1 on timeout
 * (the process is then killed). A relay that exited 0 has its scratch directory removed
 * (relay_cleanup) unless p->keep or $BBT_TEST_KEEP is set; any other end keeps it, with the
 * log, for the diagnosis. */
int relay_stop(relay_proc *p, int sig, int timeout_ms);
/* Remove the scratch directory and everything in it. */
void relay_cleanup(relay_proc *p);
/* The same for any child process: send `sig` to *pid, wait up to timeout_ms, then SIGKILL.
 * Returns the exit status (or 128+signal), -1 on timeout or when *pid <= 0; *pid becomes 0. */
int proc_stop(pid_t *pid, int sig, int timeout_ms);

/* Run a shell command (printf-style, at most 1 KiB): its exit status, -1 if it did not exit. */
int run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* HTTP/1.0 GET on loopback: body (malloc'd, NUL-terminated) or NULL; *status gets the code. */
char *http_get(int port, const char *path, int *status);

/* A free TCP port on 127.0.0.1. */
int free_port(void);

/* The value of a metric line "name{labels} value" (name with labels exactly), or -1. */
double metric_value(const char *text, const char *name_and_labels);

#endif
