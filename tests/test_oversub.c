/* test_oversub.c: the oversub family's window: both configurations take
 * turns and complete halves, the metrics are consistent with each other,
 * and a stop that finds threads waiting for a half releases them. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(oversub, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Plans oversub for `threads` threads, compact. */
static void plan_oversub(unsigned threads, struct sm_plan *plan) {
  const char *filter = "oversub";
  const unsigned counts[] = {threads};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = counts,
                                .nthreads = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
  cr_assert_eq(plan->ncases, 1);
}

/* Runs windows of case c until one holds halves of both configurations (a
 * loaded machine may starve one for a whole window), at most `tries`.
 * Returns 1 when one did, with its rows in *r. */
static int window_with_halves(const struct sm_case *c, int tries,
                              struct sm_results *r) {
  struct sm_window_config cfg = {
      .warmup_ns = 10000000, .duration_ns = 100000000, .topo = topo};
  for (int k = 0; k < tries; k++) {
    char msg[256] = "";
    *r = (struct sm_results){0};
    cr_assert_eq(sm_runner_repetition(&cfg, c, 0, 0, r, msg, sizeof msg), 0,
                 "%u threads: %s", c->threads, msg);
    double v;
    if (sm_results_values(r, 0, "slowdown_vs_pus", &v, 1) == 1)
      return 1;
    sm_results_free(r);
  }
  return 0;
}

/* One and three threads (oversubscribed on a machine of 1 or 2 PUs, not on
 * a larger one): a window of 100 ms holds halves of both configurations
 * (about 4 ms each on an idle machine); the metrics agree. */
Test(oversub, both_configurations_complete_halves) {
  const unsigned counts[] = {1, 3};
  for (size_t k = 0; k < 2; k++) {
    struct sm_plan plan;
    plan_oversub(counts[k], &plan);
    struct sm_results r;
    cr_assert(window_with_halves(&plan.cases[0], 8, &r),
              "%u threads: no window of 8 held halves of both", counts[k]);
    double slow = metric_of(&r, 0, "slowdown_vs_pus");
    double n_ns = metric_of(&r, 0, "completion_ns");
    double ref_ns = metric_of(&r, 0, "ref_completion_ns");
    cr_assert(n_ns > 0 && ref_ns > 0, "%u threads: %g %g", counts[k], n_ns,
              ref_ns);
    cr_expect(fabs(slow * ref_ns / n_ns - 1) < 1e-9, "%g", slow);
    cr_expect_geq(metric_of(&r, 0, "ivcsw_per_s"), 0);
    cr_expect_geq(metric_of(&r, 0, "ref_ivcsw_per_s"), 0);
    cr_expect_gt(metric_of(&r, 0, "half_work_chunks"), 0);
    sm_results_free(&r);
    sm_plan_free(&plan);
  }
}

/* A window too short for a half still stops: the threads waiting for
 * their turn are released by the first one that leaves its loop. */
Test(oversub, a_short_window_stops) {
  struct sm_plan plan;
  plan_oversub(4, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 0, .duration_ns = 100000, .topo = topo};
  struct sm_results r = {0};
  char msg[256] = "";
  cr_assert_eq(
      sm_runner_repetition(&cfg, &plan.cases[0], 0, 0, &r, msg, sizeof msg), 0,
      "%s", msg);
  sm_results_free(&r);
  sm_plan_free(&plan);
}
