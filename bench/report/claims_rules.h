/* claims_rules.h: the verdict rule of each claim (see claims_table.c for
 * the rules in words). Each reads the run's summary and fills the result;
 * it is only called when the claim's family has rows. */
#ifndef SYNCMARK_BENCH_CLAIMS_RULES_H
#define SYNCMARK_BENCH_CLAIMS_RULES_H

#include <stdbool.h>

#include "claims.h"

void sm_rule_c1(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c2(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c3(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c4(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c5(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c5_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c6(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c7(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c7_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c8(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c8_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c9(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c9_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c10(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c11(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c12(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c13(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c13_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c14(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c15(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c15_rust(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c16(const struct sm_run_view *v, struct sm_claim_result *out);
void sm_rule_c17(const struct sm_run_view *v, struct sm_claim_result *out);

/* The summary row of (benchmark, variant, params, threads, placement,
 * metric); NULL/0 match anything (the first such row is taken). */
struct sm_stat sm_rule_stat(const struct sm_run_view *v, const char *benchmark,
                            const char *variant, const char *params,
                            unsigned threads, const char *placement,
                            const char *metric);

/* The largest value of params key `key` among rows of benchmark/variant,
 * or `fallback` when there is none. */
long sm_rule_max_param(const struct sm_run_view *v, const char *benchmark,
                       const char *variant, const char *key, long fallback);

/* Folds one more part into a running verdict: a part that fails makes the
 * whole fail; an inconclusive part keeps a holding whole inconclusive. */
void sm_rule_fold(int *verdict, int part);

/* Turns a folded part (1 holds, -1 fails, 0 inconclusive; start at 1) into
 * a claim verdict; `any` false (nothing was compared) is inconclusive. */
enum sm_claim_verdict sm_rule_verdict(int folded, bool any);

/* The largest thread count from 2 up to the run's allowed PUs among rows of
 * `benchmark` (contended but not oversubscribed), or 0 when there is none. */
unsigned sm_rule_contended_threads(const struct sm_run_view *v,
                                   const char *benchmark);

/* Three-way comparison of a measured value against a bound: 1 when its CI
 * is entirely below `bound`, -1 when entirely above, 0 otherwise or when
 * not found. */
int sm_rule_below(const struct sm_stat *s, double bound);

/* Where the run counted events (--counters): appends " (label:
 * cache-misses X/op, LLC misses Y/op ...)" for the row the query names, with
 * context switches per op too when `switches` is set; the counters
 * inform, they never decide a verdict. Returns what it printed: bit 1 some
 * miss count, bit 2 the switches; 0 (printing nothing) when the row has
 * none. */
int sm_rule_counters(const struct sm_run_view *v, struct sm_claim_result *out,
                     const char *label, const struct sm_query *q, int switches);

/* Appends "; misses per operation: not available (why)" unless `shown`
 * (sm_rule_counters' results or-ed) has a miss count: the run counting
 * nothing, `benchmark` measuring itself, the PMU's reason from
 * machine.csv, or no miss event asked for. */
void sm_rule_counters_missing(const struct sm_run_view *v,
                              struct sm_claim_result *out,
                              const char *benchmark, int shown);

#endif
