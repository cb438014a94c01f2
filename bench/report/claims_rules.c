/* claims_rules.c: helpers the verdict rules share: lookups, thread
 * counts, bounds and the folding of partial verdicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims_rules.h"
#include "table.h"

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

int sm_rule_counters(const struct sm_run_view *v, struct sm_claim_result *out,
                     const char *label, const struct sm_query *q,
                     int switches) {
  static const struct {
    const char *metric, *name;
  } events[] = {{"cache_misses_per_op", "cache-misses"},
                {"l1_dcache_load_misses_per_op", "L1d misses"},
                {"llc_load_misses_per_op", "LLC misses"},
                {"dtlb_load_misses_per_op", "dTLB misses"},
                {"context_switches_per_op", "switches"}};
  int shown = 0;
  size_t n = sizeof events / sizeof events[0] - (switches ? 0 : 1);
  for (size_t i = 0; i < n; i++) {
    struct sm_query k = *q;
    k.metric = events[i].metric;
    struct sm_stat s = sm_run_view_find(v, &k);
    if (!s.found)
      continue;
    char m[16];
    if (!shown)
      sm_claim_printf(out, " (%s: ", label);
    sm_claim_printf(out, "%s%s %s/op", shown ? ", " : "", events[i].name,
                    sm_format_si(s.median, m, sizeof m));
    shown |= i + 1 < sizeof events / sizeof events[0] ? 1 : 2;
  }
  if (shown)
    sm_claim_printf(out, ")");
  return shown;
}

void sm_rule_counters_missing(const struct sm_run_view *v,
                              struct sm_claim_result *out,
                              const char *benchmark, int shown) {
  if (shown & 1)
    return;
  const char *asked = sm_run_view_machine(v, "counters");
  const char *why = sm_run_view_machine(v, "counters_unavailable");
  struct sm_query q = {.benchmark = benchmark,
                       .metric = "counter_running_share"};
  if (!asked || strcmp(asked, "none") == 0)
    sm_claim_printf(out, "; misses per operation: not available (the run "
                         "counted no events: --counters)");
  else if (!sm_run_view_find(v, &q).found)
    sm_claim_printf(out,
                    "; misses per operation: not available (%s "
                    "measures itself: the runner counts no events "
                    "for it)",
                    benchmark);
  else if (why && strcmp(why, "none") != 0)
    sm_claim_printf(out, "; misses per operation: not available (%s)", why);
  else
    sm_claim_printf(out,
                    "; misses per operation: not available (the run "
                    "counted %s, no miss event)",
                    asked);
}
