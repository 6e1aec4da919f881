/* tests/support/node_proc.h — run the real bbt-node binary for an integration test: a scratch
 * directory with a generated node.ini (relay on loopback, classroom, session), extra --set
 * options, its log (stderr) in a file that tests read. */
#ifndef BBT_TEST_NODE_PROC_H
#define BBT_TEST_NODE_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct node_proc {
    pid_t pid;
    char dir[256];
    char log[300];
} node_proc;

/* The node binary: $BBT_NODE_BIN (CTest sets it). */
const char *node_bin(void);

/* Start `bbt-node` (play: `bbt-node play`) against ws://127.0.0.1:relay_port/ws for `session`
 * with `sets` (NULL-terminated "section.key=value", may be NULL; extra_args likewise, e.g.
 * "--stats"). 0 on success (the process was started; it may still fail later). */
int node_start(node_proc *n, bool play, int relay_port, const char *session,
               const char *const *sets, const char *const *extra_args);

/* Send `sig` and wait up to timeout_ms: the exit status (or 128+signal), -1 on timeout (then
 * SIGKILLed). */
int node_stop(node_proc *n, int sig, int timeout_ms);

/* The log so far (malloc'd, NUL-terminated; "" if none). */
char *node_log(const node_proc *n);

/* Remove the scratch directory (after node_stop, once the log has been read). */
void node_cleanup(node_proc *n);
/* Remove a flat scratch directory: its regular files, then itself. */
void scratch_remove(const char *dir);

/* Wait until the log contains `needle`: 0, or -1 after timeout_ms. */
int node_wait_log(const node_proc *n, const char *needle, int timeout_ms);

#endif
