/* run_claims.h: claim-driven sampling: after the precision rounds, the
 * cases behind the rows that an undecided claim's rule reads get more
 * repetitions, round by round, until the rule decides or the budget ends. */
#ifndef SYNCMARK_BENCH_RUN_CLAIMS_H
#define SYNCMARK_BENCH_RUN_CLAIMS_H

#include <stddef.h>
#include <stdio.h>

#include "claims.h"
#include "run.h"
#include "runview.h"
#include "syncmark/machine.h"

/* The share of a run's budget the precision rounds leave to claim-driven
 * sampling (the precision rounds stop at the rest). */
#define SM_CLAIM_BUDGET_SHARE 0.2

/* True when run r samples for its claims: a precision target (not a fixed
 * --reps), not --isolate (whose families run in child processes). */
bool sm_run_claim_sampling_applies(const struct sm_run *r);

/* Judges claim c on view into *out and sets cases[k] (one per case of
 * plan, the rest cleared) for each plan case whose summary row the rule
 * read. Never fails; the view's read_row hook is left unset. */
void sm_claim_cases_read(const struct sm_claim *c, struct sm_run_view *view,
                         const struct sm_plan *plan, bool *cases,
                         struct sm_claim_result *out);

/* What one claim-driven sampling did (opaque). */
struct sm_claim_sampling;

/* Judges every claim on r's results so far (the rules as the report applies
 * them, on the summary the run would write and the machine fields so far,
 * fields[0..nfields)), and while some claim is inconclusive, runs one more
 * repetition of each case behind the rows its rule read
 * (sm_run_execute_round), up to twice the rule's maximum repetitions per
 * case, within the budget, until every claim decides or nothing more can
 * run. Does nothing when sm_run_claim_sampling_applies is false or the run
 * was interrupted. A temporary summary that cannot be written ends the
 * sampling with a warning on stderr, never the run. Returns what it did
 * (for sm_claim_sampling_report), NULL only when out of memory. */
struct sm_claim_sampling *sm_run_claim_sampling(struct sm_run *r,
                                                const struct sm_field *fields,
                                                size_t nfields);

/* Prints one line about the sampling to `out` (and one per claim it
 * sampled) and appends the machine.csv fields claim_sampling ("on", or
 * "off: why"), claim_sampling_rounds, claim_sampling_s (its wall time)
 * and, per claim that was inconclusive
 * after the precision rounds, claim_extra_reps_<id> (the repetitions its
 * cases got) and claim_sampled_verdict_<id> (its verdict when the sampling
 * ended). s may be NULL (out of memory: "off"). Returns 0 or the error of
 * sm_field_add. */
int sm_claim_sampling_report(const struct sm_claim_sampling *s, FILE *out,
                             struct sm_field *fields, size_t *n, size_t max);

/* Frees s (NULL is allowed). */
void sm_claim_sampling_free(struct sm_claim_sampling *s);

#endif
