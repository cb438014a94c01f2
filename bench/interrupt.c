/* interrupt.c: the run's handling of SIGINT and SIGTERM. */
#include "interrupt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The first stop signal received, 0 before any. */
static volatile sig_atomic_t stop_signal;

/* First signal: remember it; the run stops after the repetition in
 * progress. Second: exit at once with 128 + signal. Only async-signal-safe
 * calls. */
static void on_stop_signal(int signo) {
  if (stop_signal != 0) {
    static const char msg[] = "\nsyncmark: stopped at once (second signal); "
                              "result files are not written\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
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
