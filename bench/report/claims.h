/* claims.h: the lesson's claims about cost, each with the experiment that
 * tests it and a verdict rule fixed before any data is seen. */
#ifndef SYNCMARK_BENCH_CLAIMS_H
#define SYNCMARK_BENCH_CLAIMS_H

#include <stddef.h>

#include "runview.h"

/* What a rule concludes about a claim on one run. */
enum sm_claim_verdict {
  SM_CLAIM_HOLDS,
  SM_CLAIM_DOES_NOT_HOLD,
  SM_CLAIM_INCONCLUSIVE, /* the deciding numbers' CIs overlap, or a needed
                            row or placement is missing */
  SM_CLAIM_NOT_MEASURED  /* the claim's family did not run */
};

/* A rule's conclusion and the numbers that decided it (Markdown). */
struct sm_claim_result {
  enum sm_claim_verdict verdict;
  unsigned missing_rows; /* deciding numbers sm_claim_note found no row for */
  char numbers[1536];
};

/* One claim of the lesson (../shared/CLAIMS.md). */
struct sm_claim {
  const char *id;     /* "C5" */
  const char *claim;  /* what the lesson says, in short */
  const char *test;   /* how syncmark tests it */
  const char *family; /* the family whose rows decide it */
  const char *rule;   /* the verdict rule, in words */
  /* Applies the rule to a run that has rows of `family`. */
  void (*judge)(const struct sm_run_view *view, struct sm_claim_result *out);
  /* The same rule on the family's Rust std variants, and their names
   * (separated by spaces); NULL where the claim has no Rust twin. */
  void (*judge_rust)(const struct sm_run_view *view,
                     struct sm_claim_result *out);
  const char *rust_variants;
};

/* Every claim, in id order, and their number. */
extern const struct sm_claim sm_claims[];
extern const size_t sm_nclaims;

/* Applies claim c to the run: not measured when its family has no rows,
 * else its rule. */
void sm_claim_judge(const struct sm_claim *c, const struct sm_run_view *view,
                    struct sm_claim_result *out);

/* Applies claim c's rule to the run's Rust std variants: not measured
 * (saying why) when the claim has no Rust twin or the run has no rust_*
 * rows of its family, else judge_rust. */
void sm_claim_judge_rust(const struct sm_claim *c,
                         const struct sm_run_view *view,
                         struct sm_claim_result *out);

/* Writes into buf (for the report) how the C and the Rust verdicts of a
 * claim relate: "" when either was not measured, "agree" when equal, else
 * "disagree: C <verdict>, Rust std <verdict>". */
void sm_claim_agreement(const struct sm_claim_result *c_result,
                        const struct sm_claim_result *rust_result, char *buf,
                        size_t size);

/* Returns "holds", "does not hold", "inconclusive" or "not measured". */
const char *sm_claim_verdict_name(enum sm_claim_verdict v);

/* Appends "label median [ci_lo, ci_hi] unit" (or "label: no row", counted
 * in missing_rows) to the result's numbers, for rules. */
void sm_claim_note(struct sm_claim_result *out, const char *label,
                   const struct sm_stat *s);

/* Appends free text (printf-like) to the result's numbers. */
void sm_claim_printf(struct sm_claim_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The verdict of a claim that needs every one of `n` comparisons to come
 * out positive (1): holds when all are 1, does not hold when any is -1,
 * inconclusive otherwise. */
enum sm_claim_verdict sm_claim_all(const int *cmp, size_t n);

#endif
