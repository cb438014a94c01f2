/* work.c: calibration of sm_work_spin() against the monotonic clock, and
 * the process-wide cache of calibrated counts. */
#include "syncmark/work.h"

#include <pthread.h>
#include <stdlib.h>

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

/* The calibrated counts, one entry per distinct target, guarded by one
 * mutex. */
struct calibrated {
  uint64_t target_ns, iterations;
};
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct calibrated *cache;
static size_t ncached, cache_cap;

uint64_t sm_work_iterations_for_ns(uint64_t target_ns) {
  pthread_mutex_lock(&cache_mutex);
  for (size_t i = 0; i < ncached; i++) {
    if (cache[i].target_ns == target_ns) {
      uint64_t iterations = cache[i].iterations;
      pthread_mutex_unlock(&cache_mutex);
      return iterations;
    }
  }
  /* Measured under the lock, so two threads never calibrate at once and
   * disturb each other. */
  uint64_t iterations = sm_work_calibrate(target_ns);
  if (ncached == cache_cap) {
    size_t cap = cache_cap ? cache_cap * 2 : 16;
    struct calibrated *grown = realloc(cache, cap * sizeof *grown);
    if (grown) {
      cache = grown;
      cache_cap = cap;
    }
  }
  if (ncached < cache_cap)
    cache[ncached++] = (struct calibrated){target_ns, iterations};
  pthread_mutex_unlock(&cache_mutex);
  return iterations;
}
