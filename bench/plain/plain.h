/* plain.h: what every plain reference program shares: it does a family's
 * headline work the plain way (N operations, total time, no harness),
 * repeats it, and prints the median rate and the syncmark case that must
 * agree with it (read by scripts/plain_check.py). */
#ifndef SYNCMARK_PLAIN_H
#define SYNCMARK_PLAIN_H

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/clock.h"
#include "syncmark/futex.h"
#include "syncmark/stats.h"
#include "syncmark/thread.h"
#include "syncmark/topology.h"

/* Returns this machine's topology as syncmark's planner loads it (the PUs
 * this process may use), or NULL with a message on stderr. */
static inline struct sm_topology *sm_plain_topology(void) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  struct sm_topology *topo;
  if (sm_topology_load(&opts, &topo) != 0) {
    fprintf(stderr, "plain: cannot read the topology\n");
    return NULL;
  }
  return topo;
}

/* Returns the PU of this machine's same-pu pair (where syncmark runs that
 * pair case), or -1 with a message on stderr when it cannot be planned. */
static inline int sm_plain_same_pu(void) {
  struct sm_topology *topo = sm_plain_topology();
  int pus[2] = {-1, -1};
  if (topo && sm_topology_plan_pair(topo, SM_PAIR_SAME_PU, pus) != 0)
    fprintf(stderr, "plain: cannot plan the same-pu pair\n");
  sm_topology_free(topo);
  return pus[0];
}

/* Fills pus[0..n) with the PUs syncmark's default placement (compact)
 * pins n threads to. Returns 0, or -1 with a message on stderr when the
 * plan cannot be made. */
static inline int sm_plain_compact_pus(unsigned n, int *pus) {
  struct sm_topology *topo = sm_plain_topology();
  int rc = topo ? sm_topology_plan_threads(topo, SM_PLACE_COMPACT, n, pus) : -1;
  if (topo && rc != 0)
    fprintf(stderr, "plain: cannot plan %u compact threads\n", n);
  sm_topology_free(topo);
  return rc == 0 ? 0 : -1;
}

/* Most threads sm_plain_run_pinned starts. */
#define SM_PLAIN_MAX_THREADS 16

/* The work of thread `index` of a round of sm_plain_run_pinned. Returns 0,
 * or nonzero when its work went wrong (having said why on stderr). */
typedef int (*sm_plain_thread_fn)(void *arg, unsigned index);

/* The start gate of sm_plain_run_pinned: its threads count themselves in
 * `ready`, then wait until `go` is 1 (run) or -1 (a later thread could not
 * start: leave without running). */
struct sm__plain_gate {
  atomic_int ready;
  atomic_int go;
};

/* What one thread of sm_plain_run_pinned is handed. */
struct sm__plain_start {
  struct sm__plain_gate *gate;
  sm_plain_thread_fn fn;
  void *arg;
  unsigned index;
};

/* The body of every sm_plain_run_pinned thread: checks in, waits at the
 * gate, runs fn. Returns NULL, or its start when fn failed. */
static inline void *sm__plain_thread(void *p) {
  struct sm__plain_start *s = p;
  atomic_fetch_add(&s->gate->ready, 1);
  (void)sm_futex_wake(&s->gate->ready, 1);
  int go;
  while ((go = atomic_load(&s->gate->go)) == 0)
    (void)sm_futex_wait(&s->gate->go, 0, NULL);
  if (go < 0)
    return NULL;
  return s->fn(s->arg, s->index) == 0 ? NULL : s;
}

/* Runs fn(arg, i) on n threads (n <= SM_PLAIN_MAX_THREADS), thread i
 * pinned to pus[i] (-1: not pinned), released together once all have
 * started, and joins them all. Returns 0, or -1 with a message on stderr
 * when a thread could not start (the started ones then leave without
 * running fn) or fn failed on some thread. */
static inline int sm_plain_run_pinned(unsigned n, const int *pus,
                                      sm_plain_thread_fn fn, void *arg) {
  struct sm__plain_gate gate = {0, 0};
  struct sm__plain_start start[SM_PLAIN_MAX_THREADS];
  struct sm_join_handle *h[SM_PLAIN_MAX_THREADS];
  unsigned started = 0;
  if (n > SM_PLAIN_MAX_THREADS) {
    fprintf(stderr, "plain: %u threads, at most %d\n", n, SM_PLAIN_MAX_THREADS);
    return -1;
  }
  for (; started < n; started++) {
    struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
    o.pin_pu = pus[started];
    start[started] = (struct sm__plain_start){&gate, fn, arg, started};
    int rc =
        sm_thread_spawn(&o, sm__plain_thread, &start[started], &h[started]);
    if (rc != 0) {
      fprintf(stderr, "plain: cannot start thread %u on PU %d: %s\n", started,
              pus[started], strerror(-rc));
      break;
    }
  }
  int ready;
  while ((ready = atomic_load(&gate.ready)) < (int)started)
    (void)sm_futex_wait(&gate.ready, ready, NULL);
  atomic_store(&gate.go, started == n ? 1 : -1);
  (void)sm_futex_wake(&gate.go, INT_MAX);
  int failed = started != n;
  for (unsigned i = 0; i < started; i++) {
    void *bad;
    sm_join(h[i], &bad);
    failed |= bad != NULL;
  }
  return failed ? -1 : 0;
}

/* Rounds a plain program runs; it reports their median. */
#define SM_PLAIN_ROUNDS 5

/* One plain measurement: does the work once and returns how many
 * operations it did (0: it failed, with a message on stderr). */
typedef double (*sm_plain_round_fn)(void *arg);

/* Runs `round` SM_PLAIN_ROUNDS times, each timed from before its first
 * operation to after its last, and returns the median rate in operations
 * per second, or a negative value when a round failed. */
static inline double sm_plain_median_rate(sm_plain_round_fn round, void *arg) {
  double rates[SM_PLAIN_ROUNDS];
  for (int i = 0; i < SM_PLAIN_ROUNDS; i++) {
    uint64_t t0 = sm_now_ns();
    double ops = round(arg);
    uint64_t t1 = sm_now_ns();
    if (!(ops > 0))
      return -1.0;
    rates[i] = ops * 1e9 / (double)(t1 - t0);
  }
  sm_stats_sort(rates, SM_PLAIN_ROUNDS);
  return rates[SM_PLAIN_ROUNDS / 2];
}

/* Plans n threads on the PUs syncmark's compact placement uses (into
 * pus[0..n)) and returns sm_plain_median_rate of `round`; -1 when the plan
 * or a round failed (said on stderr). */
static inline double sm_plain_compact_rate(unsigned n, int *pus,
                                           sm_plain_round_fn round, void *arg) {
  return sm_plain_compact_pus(n, pus) == 0 ? sm_plain_median_rate(round, arg)
                                           : -1;
}

/* Prints the lines scripts/plain_check.py reads:
 *   case: <syncmark run arguments selecting one case>
 *   placement: <the pair placement of that case's row> (when not NULL: the
 *              arguments select a pair family's cases, one per placement)
 *   metric: <the syncmark metric to compare>
 *   plain: <the plain program's median, in the metric's unit>
 * and returns the program's exit status (0, or 1 when value < 0: a round
 * failed). */
static inline int sm_plain_report_at(const char *syncmark_args,
                                     const char *placement, const char *metric,
                                     double value) {
  printf("case: %s\n", syncmark_args);
  if (placement)
    printf("placement: %s\n", placement);
  printf("metric: %s\n", metric);
  if (value < 0) {
    fprintf(stderr, "plain: a round failed\n");
    return 1;
  }
  printf("plain: %.6g\n", value);
  return 0;
}

/* sm_plain_report_at for a case the arguments select alone. */
static inline int sm_plain_report(const char *syncmark_args, const char *metric,
                                  double rate) {
  return sm_plain_report_at(syncmark_args, NULL, metric, rate);
}

#endif
