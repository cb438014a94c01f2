/* interrupt.c: the run's handling of SIGINT and SIGTERM. */
#include "interrupt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The first stop signal received, 0 before any. */
static volatile sig_atomic_t stop_signal;

/* The run folder, removed by a second signal when still empty. */
static char run_dir[4096];

/* First signal: remember it; the run stops after the repetition in
 * progress. Second: exit at once with 128 + signal. Only async-signal-safe
 * calls. */
static void on_stop_signal(int signo) {
  if (stop_signal != 0) {
    static const char msg[] = "\nsyncmark: stopped at once (second signal); "
                              "nothing is written and the empty run folder "
                              "is removed\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    if (run_dir[0])
      rmdir(run_dir); /* async-signal-safe; fails when files exist */
    _exit(128 + signo);
  }
  stop_signal = signo;
  static const char msg[] = "\nsyncmark: stopping after the repetition in "
                            "progress (again to stop at once)\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

int sm_interrupt_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
    return -errno;
  return 0;
}

void sm_interrupt_set_run_dir(const char *dir) {
  size_t n = strlen(dir);
  if (n < sizeof run_dir)
    memcpy(run_dir, dir, n + 1);
}

int sm_interrupt_signal(void) {
  return stop_signal;
}

/* Blocks or unblocks the two stop signals for the calling thread. */
static void mask_stop_signals(int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(how, &set, NULL);
}

void sm_interrupt_hold(void) {
  mask_stop_signals(SIG_BLOCK);
}

void sm_interrupt_release(void) {
  mask_stop_signals(SIG_UNBLOCK);
}
