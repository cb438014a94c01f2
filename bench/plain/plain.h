/* plain.h: what every plain reference program shares: it does a family's
 * headline work the plain way (N operations, total time, no harness),
 * repeats it, and prints the median rate and the syncmark case that must
 * agree with it (read by scripts/plain_check.py). */
#ifndef SYNCMARK_PLAIN_H
#define SYNCMARK_PLAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/clock.h"
#include "syncmark/stats.h"
#include "syncmark/topology.h"

/* Returns the PU of this machine's same-pu pair (where syncmark runs that
 * pair case), or -1 with a message on stderr when it cannot be planned. */
static inline int sm_plain_same_pu(void) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  struct sm_topology *topo;
  int pus[2] = {-1, -1};
  if (sm_topology_load(&opts, &topo) != 0) {
    fprintf(stderr, "plain: cannot read the topology\n");
    return -1;
  }
  if (sm_topology_plan_pair(topo, SM_PAIR_SAME_PU, pus) != 0)
    fprintf(stderr, "plain: cannot plan the same-pu pair\n");
  sm_topology_free(topo);
  return pus[0];
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
