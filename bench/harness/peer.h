/* peer.h: runs a peer program (a comparison binary such as perf bench
 * sched pipe) without a shell and collects its output and CPU time. */
#ifndef SYNCMARK_BENCH_PEER_H
#define SYNCMARK_BENCH_PEER_H

#include <stddef.h>
#include <stdint.h>

/* How one peer run ended. */
struct sm_peer_result {
  int exit_status;   /* the exit status, or -1 when killed by a signal */
  double cpu_ns;     /* user + system CPU time of the peer */
  long nvcsw;        /* its voluntary context switches (all its threads) */
  long nivcsw;       /* its involuntary context switches */
  char output[4096]; /* stdout and stderr together, NUL-terminated (cut
                        when longer) */
};

/* Runs argv[0] (a path, not searched in PATH) with argv (NULL-terminated)
 * through posix_spawn, its stdout and stderr into out->output, and waits
 * for it at most timeout_ns; a peer still running then is killed. Returns
 * 0 when the peer ran to its end (whatever its status); -ENOENT or -EACCES
 * when it cannot be started; -ETIMEDOUT when it was killed for the time;
 * another negative errno when a pipe or wait fails. The peer has always
 * ended when this returns. */
int sm_peer_run(char *const argv[], uint64_t timeout_ns,
                struct sm_peer_result *out);

/* Returns the last non-empty line of text (without its newline) into buf,
 * for an error message. Never fails; empty when there is none. */
void sm_peer_last_line(const char *text, char *buf, size_t size);

#endif
