/* drift.c: the drift probe timed in every repetition. */
#include "drift.h"

#include <math.h>
#include <time.h>

#include "interference.h"
#include "syncmark/compiler.h"
#include "syncmark/work.h"

/* The calling thread's CPU time in ns (0 when the clock cannot be read). */
static double thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double sm_drift_probe_ns(void) {
  double best = INFINITY;
  for (int i = 0; i < 3; i++) {
    double t0 = thread_cpu_ns();
    SM_KEEP(sm_work_spin(SM_DRIFT_PROBE_STEPS));
    double t = thread_cpu_ns() - t0;
    best = t < best ? t : best;
  }
  return best;
}

int sm_drift_record(struct sm_results *results, size_t case_index, unsigned rep,
                    double probe_ns) {
  const struct sm_metric_decl *d = sm_interference_decl("drift_probe_ns");
  return sm_results_add(results, case_index, rep, d->name, d->unit, probe_ns);
}
