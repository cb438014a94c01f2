/* run_precision.h: what a run's repetition rule achieved (the precision
 * each case's headline metric reached, the cases that missed the target)
 * and what disturbed its repetitions, said to the user and recorded in
 * machine.csv. */
#ifndef SYNCMARK_BENCH_RUN_PRECISION_H
#define SYNCMARK_BENCH_RUN_PRECISION_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"
#include "syncmark/machine.h"

/* Prints one line about the run's precision to `out` (and a line per case
 * that missed the target, up to ten), and appends the machine.csv fields
 * profile, precision_target_pct, budget_s, budget_spent, min_reps,
 * max_reps, precision_cases, precision_cases_missed and precision_missed
 * (the missed cases' labels and their precision, as many as fit). A run
 * with a fixed number of repetitions says so and records target 0.
 * Returns 0 or the error of sm_field_add (no room). */
int sm_run_precision_report(const struct sm_run *r, FILE *out,
                            struct sm_field *fields, size_t *n, size_t max);

/* A run whose drift probe times spread (p10 to p90) by more than this
 * share of their median ran on a host whose speed changed. */
#define SM_DRIFT_SPREAD 0.10

/* A pair probe spread (p10 to p90 over the median) beyond which the run
 * says the host moved the vCPUs during the run. */
#define SM_PAIR_PROBE_SPREAD 0.25

/* Prints a line about the interference the run's repetitions saw, one
 * about the drift probe and, when a case ran on two PUs, one about the
 * pair probe to `out`, and appends the machine.csv fields
 * pair_probe_ns_p10, pair_probe_ns_median, pair_probe_ns_p90,
 * disturbed_reps, drift_probe_ns_median, drift_probe_spread_pct,
 * retaken_reps, run_delay_share_max, steal_share_max and other_cpus_max
 * (each "n/a" where no repetition could measure it) and steal_share_run
 * (the host's steal over the whole run, "n/a" where /proc/stat has none).
 * Returns 0 or the error of sm_field_add. */
int sm_run_interference_report(const struct sm_run *r, FILE *out,
                               struct sm_field *fields, size_t *n, size_t max);

#endif
