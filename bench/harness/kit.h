/* kit.h: small helpers families share: a window's zeroed state, a variant
 * of roles, a failed self-check's message, and for their metrics hooks a
 * thread's CPU time from the rusage the runner recorded at its phase edges
 * and the counting roles' rate as the runner computes it. */
#ifndef SYNCMARK_BENCH_KIT_H
#define SYNCMARK_BENCH_KIT_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "family.h"

/* A variant whose threads play the roles of the array `roles_`. */
#define SM_KIT_ROLES_VARIANT(name_, summary_, roles_)                          \
  {                                                                            \
    .name = (name_), .summary = (summary_), .roles = (roles_),                 \
    .nroles = SM_COUNT(roles_)                                                 \
  }

/* A failed self-check: writes the sentence (printf's `fmt` and arguments,
 * the numbers that did not add up) into msg[0..size) and returns -EPROTO,
 * the check hook's failure, so that a check says `return
 * sm_kit_check_failed(msg, size, ...)`. */
__attribute__((format(printf, 3, 4))) static inline int
sm_kit_check_failed(char *msg, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, size, fmt, ap);
  va_end(ap);
  return -EPROTO;
}

/* A zeroed block of at least `size` bytes aligned to a cache line (the size
 * rounded up to whole lines, as aligned_alloc requires), for one window's
 * state; free it with free(). NULL when memory is short. */
static inline void *sm_kit_state_alloc(size_t size) {
  size_t lines = (size + SM_CACHE_LINE - 1) / SM_CACHE_LINE;
  void *p = aligned_alloc(SM_CACHE_LINE, lines * SM_CACHE_LINE);
  if (p)
    memset(p, 0, lines * SM_CACHE_LINE);
  return p;
}

/* CPU time (user + system) recorded in *u, in ns. Never fails. */
static inline uint64_t sm_kit_usage_cpu_ns(const struct rusage *u) {
  return ((uint64_t)u->ru_utime.tv_sec + (uint64_t)u->ru_stime.tv_sec) *
             1000000000u +
         ((uint64_t)u->ru_utime.tv_usec + (uint64_t)u->ru_stime.tv_usec) *
             1000u;
}

/* CPU time worker w spent between its MEASURE and STOP edges, in ns (0 when
 * the clock went backwards in the rusage rounding). Never fails. */
static inline uint64_t sm_kit_window_cpu_ns(const struct sm_worker *w) {
  uint64_t a = sm_kit_usage_cpu_ns(&w->usage_at_measure);
  uint64_t b = sm_kit_usage_cpu_ns(&w->usage_at_stop);
  return b > a ? b - a : 0;
}

/* Operations worker w did between its MEASURE and STOP edges (passes times
 * ops_per_pass). Never fails. */
static inline double sm_kit_window_ops(const struct sm_worker *w) {
  return (double)(w->ops_at_stop - w->ops_at_measure) *
         (double)(w->ops_per_pass ? w->ops_per_pass : 1);
}

/* The rate of the counting roles among n workers as the runner's ops_per_s
 * has it (the sum over counting threads of operations over the span between
 * the edges each saw; window time, not manual time), with their operations
 * in *ops. 0 when none counted. Never fails. */
static inline double sm_kit_counted_rate(const struct sm_worker *workers,
                                         unsigned n, double *ops) {
  double rate = 0, total = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct sm_worker *w = &workers[i];
    if (!w->role->counts_ops)
      continue;
    double k = sm_kit_window_ops(w);
    double ns = (double)(w->ns_at_stop - w->ns_at_measure);
    total += k;
    rate += ns > 0 ? k * 1e9 / ns : 0;
  }
  *ops = total;
  return rate;
}

#endif
