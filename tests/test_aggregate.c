/* test_aggregate.c: the aggregate family at the longest per-update work its
 * axis allows (a pass of the one-thread pipeline then lasts milliseconds),
 * the consistency of its metrics, and the range the planner enforces. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(aggregate, .init = load_machine, .fini = free_machine, .timeout = 60);

Test(aggregate, every_variant_passes_with_the_longest_work) {
  const char *filter = "aggregate";
  struct sm_axis_override o = {
      .key = "work_ns", .values = {1000000}, .nvalues = 1};
  const unsigned threads[] = {2};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true,
                                .overrides = &o,
                                .noverrides = 1};
  struct sm_plan plan;
  cr_assert_eq(sm_plan_build(&req, topo, &plan), 0);
  cr_assert_eq(plan.ncases, sm_family_aggregate.nvariants);
  struct sm_window_config cfg = {
      .warmup_ns = 1000000, .duration_ns = 40000000, .topo = topo, .quick = 1};
  struct sm_results r = {0};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 0, &r, msg, sizeof msg);
    if (rust_variant_absent(rc, c))
      continue;
    cr_assert_eq(rc, 0, "%s: %s", c->variant->name, msg);
    /* A 40 ms window holds several 1 ms updates of every thread and
     * several 6 ms passes of the one-thread pipeline (3 stages x 2). */
    double updates = metric_of(&r, i, "job_updates");
    cr_expect(updates >= 1, "%s: %g updates", c->variant->name, updates);
    cr_expect_gt(metric_of(&r, i, "cpu_ns_per_update"), 0, "%s",
                 c->variant->name);
    double rate = metric_of(&r, i, "updates_per_s");
    double ns = metric_of(&r, i, "ns_per_update");
    cr_expect(fabs(rate * ns / 1e9 - 1) < 1e-9, "%s: %g/s but %g ns each",
              c->variant->name, rate, ns);
  }
  sm_results_free(&r);
  sm_plan_free(&plan);
}

Test(aggregate, work_outside_the_axis_range_is_rejected) {
  const char *filter = "aggregate";
  const long bad[] = {-1, 1000001};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sm_axis_override o = {
        .key = "work_ns", .values = {bad[i]}, .nvalues = 1};
    struct sm_plan_request req = {
        .filters = &filter, .nfilters = 1, .overrides = &o, .noverrides = 1};
    char msg[256] = "";
    cr_expect_eq(sm_plan_check_overrides(&req, msg, sizeof msg), -EINVAL,
                 "work_ns=%ld accepted", bad[i]);
  }
}
