/* metrics.c: a metric's declaration and direction: the family's own or the
 * runner's (window and sampled metrics). */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "interference.h"
#include "registry.h"
#include "runner.h"

/* The entry of `decls` (n entries) named `metric`, or NULL. */
static const struct sm_metric_decl *
find_decl(const struct sm_metric_decl *decls, size_t n, const char *metric) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(decls[i].name, metric) == 0)
      return &decls[i];
  return NULL;
}

/* The runner's declaration of a sampled metric `metric` when some role of
 * some variant of f samples the kind it names, else NULL. */
static const struct sm_metric_decl *sampled_decl(const struct sm_family *f,
                                                 const char *metric) {
  for (size_t v = 0; v < f->nvariants; v++) {
    const struct sm_variant *var = &f->variants[v];
    for (size_t r = 0; r < var->nroles; r++) {
      for (unsigned k = 0; k < SM_SAMPLE_KINDS; k++) {
        const char *prefix = var->roles[r].samples[k];
        size_t len = prefix ? strlen(prefix) : 0;
        if (!prefix || strncmp(metric, prefix, len) != 0)
          continue;
        const char *rest = metric + len;
        if (len > 0 && *rest++ != '_')
          continue;
        const struct sm_metric_decl *d = find_decl(
            sm_runner_sample_metrics, sm_runner_nsample_metrics, rest);
        if (d)
          return d;
      }
    }
  }
  return NULL;
}

const struct sm_metric_decl *sm_metric_declared(const char *benchmark,
                                                const char *metric) {
  const struct sm_family *f = benchmark ? sm_family_find(benchmark) : NULL;
  if (!f || !metric)
    return NULL;
  const struct sm_metric_decl *d =
      find_decl(f->metric_decls, f->nmetric_decls, metric);
  if (!d)
    d = find_decl(sm_runner_window_metrics, sm_runner_nwindow_metrics, metric);
  if (!d)
    d = sm_counter_decl(metric);
  if (!d)
    d = sm_interference_decl(metric);
  return d ? d : sampled_decl(f, metric);
}

enum sm_direction sm_metric_direction(const char *benchmark, const char *metric,
                                      const char *unit) {
  (void)unit;
  const struct sm_metric_decl *d = sm_metric_declared(benchmark, metric);
  return d ? d->direction : SM_NO_DIRECTION;
}

const char *sm_direction_name(enum sm_direction d) {
  return d == SM_HIGHER_IS_BETTER  ? "higher"
         : d == SM_LOWER_IS_BETTER ? "lower"
                                   : "none";
}
