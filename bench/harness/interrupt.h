/* interrupt.h: SIGINT and SIGTERM during a run: the first asks the run to
 * stop after the repetition in progress, a second ends the process at
 * once, but never in the middle of writing a result file. */
#ifndef SYNCMARK_BENCH_INTERRUPT_H
#define SYNCMARK_BENCH_INTERRUPT_H

/* Installs the handlers of SIGINT and SIGTERM. Returns 0 or a negative
 * errno from sigaction. */
int sm_interrupt_install(void);

/* Names the run folder a second signal removes (while it is still empty,
 * before any result file is written). A path too long is ignored. */
void sm_interrupt_set_run_dir(const char *dir);

/* Returns the signal that asked the run to stop, or 0. */
int sm_interrupt_signal(void);

/* Holds SIGINT and SIGTERM back while result files are written (a second
 * signal then ends the process right after), or lets them through again.
 * Never fails. */
void sm_interrupt_hold(void);
void sm_interrupt_release(void);

#endif
