/* work.c: calibration of sm_work_spin() against the monotonic clock. */
#include "syncmark/work.h"

#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/stats.h"

enum { CALIBRATION_TRIALS = 7, PROBE_ITERATIONS = 200000 };

uint64_t sm_work_calibrate(uint64_t target_ns) {
  if (target_ns == 0)
    return 0;
  double ns_per_iteration[CALIBRATION_TRIALS];
  for (int t = 0; t < CALIBRATION_TRIALS; t++) {
    uint64_t start = sm_now_ns();
    SM_KEEP(sm_work_spin(PROBE_ITERATIONS));
    uint64_t elapsed = sm_now_ns() - start;
    ns_per_iteration[t] = (double)elapsed / PROBE_ITERATIONS;
  }
  sm_stats_sort(ns_per_iteration, CALIBRATION_TRIALS);
  double per = ns_per_iteration[CALIBRATION_TRIALS / 2];
  if (!(per > 0.0))
    return 1;
  double iterations = (double)target_ns / per;
  if (iterations >= 1.8e19)
    return UINT64_MAX;
  return iterations < 1.0 ? 1 : (uint64_t)(iterations + 0.5);
}
