/* plan.h: expands families, filters, thread counts and placements into the
 * list of cases a run executes. */
#ifndef SYNCMARK_BENCH_PLAN_H
#define SYNCMARK_BENCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "family.h"

/* What the user asked to run. */
struct sm_plan_request {
  const char *const *filters; /* glob patterns on "family" or
                                 "family/variant"; none means all */
  size_t nfilters;
  const unsigned *threads; /* thread counts, in order */
  size_t nthreads;
  bool threads_auto;    /* the list is syncmark's automatic one: a family
                           with auto_pu_multiples uses its own instead */
  unsigned allowed_pus; /* for auto_pu_multiples */
  /* Placements this machine can provide (sm_plan_split_placements decides:
   * the planner does not probe them again; one it cannot provide fails the
   * plan), and the names of the others, which start plan.skipped (NULL:
   * none). */
  const enum sm_placement *placements;
  size_t nplacements;
  const char *skipped_placements;
  bool quick;                               /* use each axis's quick values */
  const struct sm_axis_override *overrides; /* --param */
  size_t noverrides;
  const struct sm_family *const *families; /* NULL: the registry's */
  size_t nfamilies;
  /* SM_SHAPE_PU_PAIRS: seconds all pairs of one such family may take (0:
   * no limit but SM_PU_PAIRS_MAX_PUS) and the seconds one pair takes (its
   * repetitions x (warmup + window)). */
  double pair_budget_s;
  double pair_case_s;
};

/* The cases of a run, in execution order, and the placements skipped
 * because this machine cannot provide them. */
struct sm_plan {
  struct sm_case *cases;
  size_t ncases;
  char skipped[512]; /* placements this machine cannot provide:
                        "smt-first; pair cross-l3; ..." */
  /* SM_SHAPE_PU_PAIRS: which PUs the pairs use ("all 2 PUs", "64 of 256
   * PUs: every 4th of 128 cores, whole cores"), "" when no such family was
   * planned; and why planning failed with -ETIME. */
  char pu_sample[256];
  char why[256];
};

/* Returns the index of the first filter that matches no family or variant,
 * or -1 when every filter matches something. */
int sm_plan_unmatched_filter(const struct sm_plan_request *req);

/* Checks every --param of the request: its key must be an axis of a
 * selected family and each value inside that axis's [min, max]. Returns 0,
 * or -EINVAL with a sentence naming the value and what is allowed in msg. */
int sm_plan_check_overrides(const struct sm_plan_request *req, char *msg,
                            size_t size);

/* Splits the n placements `asked` into those `topo` can provide (written
 * to possible[], in order; returns how many) and those it cannot, whose
 * names go "; "-separated into skipped[0..size) ("" when none). Probes
 * each with one thread. Never fails. */
size_t sm_plan_split_placements(const struct sm_topology *topo,
                                const enum sm_placement *asked, size_t n,
                                enum sm_placement *possible, char *skipped,
                                size_t size);

/* Builds the plan: for each family and variant matching a filter, each
 * combination of its axis values, then as the family's shape says: each
 * thread count and each of req->placements, each pair
 * placement it can provide plus an unpinned pair, one case, or every pair
 * of (a sample of) the allowed PUs. The sample for SM_SHAPE_PU_PAIRS: all
 * allowed PUs when they are at most k, the most PUs whose pairs fit the
 * budget (k (k-1) / 2 x pair_case_s <= pair_budget_s) and
 * SM_PU_PAIRS_MAX_PUS; else the allowed PUs of every s-th core in topology
 * order (whole cores, so SMT siblings stay pairs), s the smallest stride
 * that keeps them within k. Returns 0, -ENOMEM, -ENOTSUP when the request
 * has no placement (plan->skipped names those that were skipped), the
 * error of planning a placement the topology cannot provide, or -ETIME
 * when the pair budget cannot hold one pass of one pair (plan->why says so,
 * with the numbers). */
int sm_plan_build(const struct sm_plan_request *req,
                  const struct sm_topology *topo, struct sm_plan *plan);

/* Frees the cases of a plan. */
void sm_plan_free(struct sm_plan *plan);

/* Returns "family/variant" of a case in buf. */
const char *sm_case_label(const struct sm_case *c, char *buf, size_t size);

#endif
