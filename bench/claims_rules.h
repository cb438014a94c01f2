/* claims_rules.h: the verdict rule of each claim (see claims_table.c for
 * the rules in words). Each reads the run's summary and fills the result;
 * it is only called when the claim's family has rows. */
#ifndef SYNCMARK_BENCH_CLAIMS_RULES_H
#define SYNCMARK_BENCH_CLAIMS_RULES_H

#include "claims.h"

void sm_rule_c5(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c13(const struct sm_run_view *v, struct sm_claim_result *out);

/* The largest thread count from 2 up to the run's allowed PUs among rows of
 * `benchmark` (contended but not oversubscribed), or 0 when there is none. */
unsigned sm_rule_contended_threads(const struct sm_run_view *v,
                                   const char *benchmark);

/* Three-way comparison of a measured value against a bound: 1 when its CI
 * is entirely below `bound`, -1 when entirely above, 0 otherwise or when
 * not found. */
int sm_rule_below(const struct sm_stat *s, double bound);

#endif
