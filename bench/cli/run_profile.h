/* run_profile.h: what a run's profile (--quick, the default, --thorough)
 * and the options that override it (--duration, --warmup, --reps,
 * --precision, --budget) resolve to: its windows and its repetition rule. */
#ifndef SYNCMARK_BENCH_RUN_PROFILE_H
#define SYNCMARK_BENCH_RUN_PROFILE_H

#include <stddef.h>

#include "options.h"
#include "precision.h"

/* A run's windows and repetition rule. */
struct sm_run_profile {
  const char *name; /* "quick", "default", "thorough" */
  double duration_s, warmup_s;
  struct sm_precision_rule rule;
};

/* Resolves the options into *out: the profile's settings, each replaced
 * by its option where given (--reps N: exactly N repetitions, no target,
 * no budget unless --budget). Exits 2 (sm_usage_error) on options that
 * contradict each other: --quick with --thorough, --reps with
 * --precision. */
void sm_run_profile_resolve(const struct sm_options *o,
                            struct sm_run_profile *out);

/* Exits 2 when the profile's budget cannot hold one repetition of each of
 * `ncases` cases (warm-up plus window each), saying what it would need.
 * Returns when there is no budget or it suffices. */
void sm_run_profile_check_budget(const struct sm_run_profile *p, size_t ncases);

#endif
