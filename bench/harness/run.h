/* run.h: one `syncmark run`: its configuration (resolved once from the
 * options) and its state, shared by cmd_run.c (plan, files) and execute.c
 * (the repetitions). */
#ifndef SYNCMARK_BENCH_RUN_H
#define SYNCMARK_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interference.h"
#include "noise.h"
#include "options.h"
#include "outcome.h"
#include "plan.h"
#include "precision.h"
#include "results.h"
#include "syncmark/perfcount.h"
#include "syncmark/topology.h"

/* What one run is asked to do, resolved from the options once, before the
 * plan is built (cli/run_config.c), and never changed after. */
struct sm_run_config {
  const struct sm_options *o;
  struct sm_topology *topo;
  struct sm_topology_counts counts;
  unsigned threads[SM_MAX_THREAD_COUNTS];
  size_t nthreads;
  /* The placements this machine can provide, of those asked for (decided
   * here, once); the others are named in skipped_placements. */
  enum sm_placement placements[SM_PLACE_COUNT];
  size_t nplacements;
  char skipped_placements[128]; /* "smt-first; ..." or "" */
  const char *profile;          /* "quick", "default", "thorough" */
  double duration_s, warmup_s;
  struct sm_precision_rule rule; /* how many repetitions each case gets */
  unsigned reps;                 /* the most any case gets (rule.max_reps) */
  double watchdog_s;             /* longest a repetition may take */
  const struct sm_variant *inject_variant; /* --inject-into, or NULL */
  uint64_t inject_iters;                   /* its calibrated delay */
  const struct sm_variant *hang_variant;   /* --inject-hang, or NULL */
  const struct sm_variant *crash_variant;  /* --inject-crash, or NULL */
  struct sm_perf_list counters;            /* --counters (n 0: none) */
};

/* The state of one run: its plan, results and what became of each case. */
struct sm_run {
  const struct sm_run_config *cfg;
  double budget_s; /* what repetitions may spend now, in seconds from the
                      first (0: no budget): the profile's budget less
                      claim-driven sampling's share, then all of it */
  struct sm_plan plan;
  struct sm_results results;
  struct sm_outcome *outcomes; /* per case */
  bool *dropped;               /* per case: outcome not OK, no rows kept */
  unsigned *case_reps;         /* per case: repetitions run (this process) */
  double *case_s;              /* per case: their wall time, in seconds */
  unsigned *case_retakes;      /* per case: disturbed repetitions retaken */
  size_t retakes;              /* all cases' (also in isolated children) */
  bool budget_spent;           /* a case was denied a repetition by it */
  size_t nfailed, nskipped, nhung, ncrashed;
  int report_fd; /* in an isolated child: the pipe to the parent, else -1 */
  unsigned reps_done; /* repetitions every live case completed */
  size_t runs_done;   /* repetitions of single cases */
  int stopped_by;     /* the signal that stopped the run, or 0 */
  char dir[4096];
  char started_at[32];
  uint64_t started_ns; /* sm_now_ns() when the first repetition began */
  struct sm_cpu_times cpu_at_start; /* /proc/stat then */
  struct sm_noise noise;
  double overhead_ns; /* runner_overhead_ns_per_op, measured */
};

/* Runs the plan's repetitions: all cases interleaved in this process, or
 * (--isolate) one child process per family; records every case's outcome
 * and removes the rows of the cases that yield no numbers. Stops early when
 * SIGINT or SIGTERM arrived (r->stopped_by). Never fails: a problem is a
 * case outcome. */
void sm_run_execute(struct sm_run *r);

/* Runs one more repetition of every case for which wanted[c] is true
 * (indexed like the plan's cases) that is live, has had fewer than max_reps
 * and fits the budget (a case it denies sets budget_spent), in plan order;
 * an isolated family's in a child process of its own (the run must not be
 * --isolate). Its repetition number follows the case's last one. Returns
 * how many repetitions ran; never fails (a problem is a case outcome, and
 * a signal sets stopped_by). */
size_t sm_run_execute_round(struct sm_run *r, const bool *wanted,
                            unsigned max_reps);

/* Copies the values case c's repetitions recorded for its headline metric
 * (the family's headline_metric, else ops_per_s; NaN for an invalid
 * window) into out[0..cap), in the order recorded; returns how many. */
size_t sm_run_headline_values(const struct sm_run *r, size_t c, double *out,
                              size_t cap);

#endif
