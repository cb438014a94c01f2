/* precision.c: the stopping rule of precision-driven repetitions. */
#include "precision.h"

#include <math.h>
#include <stdlib.h>

#include "syncmark/stats.h"

double sm_precision_reached(const double *v, size_t n) {
  double *defined = malloc(sizeof *defined * (n ? n : 1));
  size_t k = 0;
  for (size_t i = 0; defined && i < n; i++)
    if (!isnan(v[i]))
      defined[k++] = v[i];
  double lo = 0, hi = 0, precision = INFINITY;
  if (defined && k >= SM_PRECISION_MIN_REPS) {
    sm_stats_sort(defined, k);
    double median =
        k % 2 ? defined[k / 2] : (defined[k / 2 - 1] + defined[k / 2]) / 2;
    if (median != 0 &&
        sm_stats_median_ci_exact(defined, k, 0.95, &lo, &hi) == 0)
      precision = (hi - lo) / 2 / fabs(median);
  }
  free(defined);
  return precision;
}

bool sm_precision_wants_more(const struct sm_precision_rule *rule,
                             unsigned reps, const double *v, size_t n) {
  if (reps >= rule->max_reps)
    return false;
  if (reps < rule->min_reps || rule->target <= 0)
    return true; /* fixed repetitions run to max_reps */
  size_t defined = 0;
  for (size_t i = 0; i < n; i++)
    defined += !isnan(v[i]);
  if (defined == 0)
    return false;
  return !(sm_precision_reached(v, n) <= rule->target);
}

bool sm_precision_fits_budget(const struct sm_precision_rule *rule,
                              double elapsed_s, double next_s) {
  return rule->budget_s <= 0 || elapsed_s + next_s <= rule->budget_s;
}
