/* test_select.c: the select family at the limits of its channels axis, its
 * metrics' consistency, and the range the planner enforces for it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(select, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Builds the select plan for channels=<values> with quick axis values. */
static void plan_select(const long *values, size_t n, struct sm_plan *plan) {
  const char *filter = "select";
  struct sm_axis_override o = {.key = "channels", .nvalues = n};
  memcpy(o.values, values, n * sizeof *values);
  const unsigned threads[] = {2};
  const enum sm_placement none = SM_PLACE_NONE;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 1,
                                .placements = &none,
                                .nplacements = 1,
                                .quick = true,
                                .overrides = &o,
                                .noverrides = 1};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
}

Test(select, one_and_the_most_channels_pass_with_ordered_percentiles) {
  const long limits[] = {1, 1024};
  struct sm_plan plan;
  plan_select(limits, 2, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 20000000, .duration_ns = 60000000, .topo = topo, .quick = 1};
  struct sm_results r = {0};
  size_t ran = 0;
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    if (strcmp(c->placement_name, "none") != 0)
      continue;
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 0, &r, msg, sizeof msg);
    cr_assert_eq(rc, 0, "%s %s: %s", c->variant->name, c->params, msg);
    double p50 = metric_of(&r, i, "p50_ns"), p99 = metric_of(&r, i, "p99_ns");
    double max = metric_of(&r, i, "max_ns");
    double share = metric_of(&r, i, "wait_cpu_share");
    cr_expect(p50 > 0 && p50 <= p99 && p99 <= max, "%s %s: %g %g %g",
              c->variant->name, c->params, p50, p99, max);
    cr_expect(share >= 0 && share <= 1.5, "%s %s: CPU share %g",
              c->variant->name, c->params, share);
    /* 60 ms hold several 10 ms poll periods: some messages were noticed. */
    cr_expect_geq(metric_of(&r, i, "samples"), 1);
    ran++;
  }
  cr_assert_eq(ran, 2 * sm_family_select.nvariants);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

Test(select, channels_outside_what_select_takes_are_rejected) {
  const char *filter = "select";
  const long bad[] = {-1, 0, 1025};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sm_axis_override o = {
        .key = "channels", .values = {bad[i]}, .nvalues = 1};
    struct sm_plan_request req = {
        .filters = &filter, .nfilters = 1, .overrides = &o, .noverrides = 1};
    char msg[256] = "";
    cr_expect_eq(sm_plan_check_overrides(&req, msg, sizeof msg), -EINVAL,
                 "channels=%ld accepted", bad[i]);
    cr_expect(strstr(msg, "channels") != NULL, "message: %s", msg);
  }
}
