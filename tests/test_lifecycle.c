/* test_lifecycle.c: the ctxswitch and wake families: every variant passes
 * its self-check in every pair placement, perf_pipe skips with a reason
 * when perf is missing, and out-of-range parameters are refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(lifecycle, .init = load_machine, .fini = free_machine,
          .timeout = 120);

/* Builds the quick plan of one family. */
static void quick_plan(const char *family, struct sm_plan *plan) {
  const unsigned threads[] = {2};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.filters = &family,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0, "plan of %s", family);
}

/* Runs one 5 ms repetition of case c and returns its status; *r gets the
 * rows. */
static int run_case(const struct sm_case *c, struct sm_results *r, char *msg,
                    size_t size) {
  struct sm_window_config cfg = {
      .warmup_ns = 1000000, .duration_ns = 5000000, .topo = topo, .quick = 1};
  return sm_runner_repetition(&cfg, c, 0, 1, r, msg, size);
}

/* Runs every case of a family's quick plan: each passes or skips. */
static void every_case_passes(const char *family) {
  struct sm_plan plan;
  quick_plan(family, &plan);
  cr_assert_gt(plan.ncases, 0);
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    struct sm_results r = {0};
    char msg[256] = "";
    int rc = run_case(c, &r, msg, sizeof msg);
    cr_assert(rc == 0 || rc == SM_MEASURE_SKIP, "%s/%s %s: %s", family,
              c->variant->name, c->placement_name, msg);
    if (rc == 0)
      cr_assert_gt(r.nrows, 0, "%s/%s gave no metric", family,
                   c->variant->name);
    sm_results_free(&r);
  }
  sm_plan_free(&plan);
}

Test(lifecycle, every_ctxswitch_case_passes_its_self_check) {
  every_case_passes("ctxswitch");
}

Test(lifecycle, every_wake_case_passes_its_self_check) {
  every_case_passes("wake");
}

Test(lifecycle, perf_pipe_skips_when_perf_is_not_installed) {
  struct sm_plan plan;
  quick_plan("ctxswitch", &plan);
  const char *old = getenv("PATH");
  char *saved = old ? strdup(old) : NULL;
  setenv("PATH", "/nonexistent", 1);
  size_t seen = 0;
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    if (strcmp(c->variant->name, "perf_pipe") != 0)
      continue;
    struct sm_results r = {0};
    char msg[256] = "";
    int rc = run_case(c, &r, msg, sizeof msg);
    cr_expect_eq(rc, SM_MEASURE_SKIP, "%s: %d %s", c->placement_name, rc, msg);
    cr_expect_str_eq(msg, "perf is not installed");
    cr_expect_eq(r.nrows, 0);
    sm_results_free(&r);
    seen++;
  }
  if (saved) {
    setenv("PATH", saved, 1);
    free(saved);
  }
  cr_assert_gt(seen, 0);
  sm_plan_free(&plan);
}

Test(lifecycle, a_delay_outside_the_axis_is_refused) {
  const char *family = "wake";
  struct sm_axis_override o = {.key = "delay_us", .values = {0}, .nvalues = 1};
  struct sm_plan_request req = {
      .filters = &family, .nfilters = 1, .overrides = &o, .noverrides = 1};
  char msg[256] = "";
  cr_assert_eq(sm_plan_check_overrides(&req, msg, sizeof msg), -EINVAL);
  cr_assert(strstr(msg, "delay_us") != NULL, "%s", msg);
  o.values[0] = 100000;
  cr_assert_eq(sm_plan_check_overrides(&req, msg, sizeof msg), 0, "%s", msg);
}
