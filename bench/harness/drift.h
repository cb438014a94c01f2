/* drift.h: the drift probe: a fixed piece of CPU work timed in every
 * repetition, so that a change of the host's speed during a run (or
 * between two runs of one build) shows in the results. */
#ifndef SYNCMARK_BENCH_DRIFT_H
#define SYNCMARK_BENCH_DRIFT_H

#include <stddef.h>

#include "results.h"

/* sm_work_spin steps of one probe: a constant, not calibrated, so that the
 * probe's time compares across runs of the same build. */
#define SM_DRIFT_PROBE_STEPS 100000u

/* Runs the probe three times on the calling thread and returns the least
 * thread CPU time one took, in ns (CPU time: preemption does not count, a
 * slower host does). Never fails. */
double sm_drift_probe_ns(void);

/* Adds the drift_probe_ns row of a repetition. Returns 0 or -ENOMEM. */
int sm_drift_record(struct sm_results *results, size_t case_index, unsigned rep,
                    double probe_ns);

#endif
