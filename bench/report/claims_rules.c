/* claims_rules.c: helpers the verdict rules share: lookups, thread
 * counts, bounds and the folding of partial verdicts. */
#include <stdio.h>
#include <stdlib.h>

#include "claims_rules.h"

unsigned sm_rule_contended_threads(const struct sm_run_view *v,
                                   const char *benchmark) {
  const char *pus = sm_run_view_machine(v, "allowed_pus");
  unsigned max = pus ? (unsigned)strtoul(pus, NULL, 10) : 0, list[64];
  struct sm_query q = {.benchmark = benchmark};
  size_t n = sm_run_view_threads(v, &q, list, 64);
  unsigned best = 0;
  for (size_t i = 0; i < n; i++)
    if (list[i] >= 2 && list[i] <= max)
      best = list[i];
  return best;
}

int sm_rule_below(const struct sm_stat *s, double bound) {
  if (!s->found)
    return 0;
  return s->ci_hi < bound ? 1 : s->ci_lo > bound ? -1 : 0;
}

struct sm_stat sm_rule_stat(const struct sm_run_view *v, const char *benchmark,
                            const char *variant, const char *params,
                            unsigned threads, const char *placement,
                            const char *metric) {
  struct sm_query q = {.benchmark = benchmark,
                       .variant = variant,
                       .params = params,
                       .threads = threads,
                       .placement = placement,
                       .metric = metric};
  return sm_run_view_find(v, &q);
}

long sm_rule_max_param(const struct sm_run_view *v, const char *benchmark,
                       const char *variant, const char *key, long fallback) {
  long values[64];
  struct sm_query q = {.benchmark = benchmark, .variant = variant};
  size_t n = sm_run_view_param_values(v, &q, key, values, 64);
  return n ? values[n - 1] : fallback;
}

void sm_rule_fold(int *verdict, int part) {
  if (part < 0 || *verdict < 0)
    *verdict = -1;
  else if (part == 0)
    *verdict = 0;
}

enum sm_claim_verdict sm_rule_verdict(int folded, bool any) {
  if (!any || folded == 0)
    return SM_CLAIM_INCONCLUSIVE;
  return folded > 0 ? SM_CLAIM_HOLDS : SM_CLAIM_DOES_NOT_HOLD;
}
