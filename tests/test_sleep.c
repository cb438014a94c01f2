/* test_sleep.c: the sleep family under the runner: both timer slacks pass
 * their self-check with ordered overshoot percentiles and the slack they
 * asked for, and a sleep longer than the window is skipped with the
 * reason. */
#include <criterion/criterion.h>
#include <string.h>

#include "registry.h"
#include "test_support.h"

TestSuite(sleep, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Builds the plan of both variants at sleep_us=`us`. */
static void plan_of(long us, struct sm_plan *plan) {
  struct sm_axis_override o = {.key = "sleep_us", .values = {us}, .nvalues = 1};
  plan_quick("sleep", &o, plan);
  cr_assert_eq(plan->ncases, 2);
}

Test(sleep, both_slacks_check_out_with_ordered_overshoots) {
  struct sm_plan plan;
  plan_of(20, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 1000000, .duration_ns = 10000000, .topo = topo};
  struct sm_results r = {0};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 1, &r, msg, sizeof msg);
    cr_assert_eq(rc, 0, "%s: %s", c->variant->name, msg);
    double p50 = metric_of(&r, i, "overshoot_p50_ns");
    double p99 = metric_of(&r, i, "overshoot_p99_ns");
    double max = metric_of(&r, i, "overshoot_max_ns");
    cr_expect(p50 >= 0 && p50 <= p99 && p99 <= max, "%s: %g %g %g",
              c->variant->name, p50, p99, max);
    cr_expect_geq(metric_of(&r, i, "actual_over_requested"), 1.0);
    cr_expect_geq(metric_of(&r, i, "samples"), 1);
    double slack = metric_of(&r, i, "timer_slack_ns");
    if (strcmp(c->variant->name, "slack_1ns") == 0)
      cr_expect_eq(slack, 1);
    else
      cr_expect_geq(slack, 1);
  }
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* Without the runner's entry grace, a sleep longer than the warm-up and the
 * window together ends after STOP: no sleep inside the window, and the case
 * is skipped, saying why. */
Test(sleep, a_window_shorter_than_a_sleep_is_skipped) {
  struct sm_plan plan;
  plan_of(50000, &plan);
  struct sm_window_config cfg = {.warmup_ns = 5000000,
                                 .duration_ns = 1000000,
                                 .topo = topo,
                                 .entry_grace_ns = 1};
  struct sm_results r = {0};
  char msg[256] = "";
  int rc =
      sm_runner_repetition(&cfg, &plan.cases[0], 0, 1, &r, msg, sizeof msg);
  cr_expect_eq(rc, SM_MEASURE_SKIP, "%d: %s", rc, msg);
  cr_expect(strstr(msg, "--duration"), "%s", msg);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* With the runner's entry grace, the same window lasts until the sleeper
 * entered it: one 50 ms sleep is measured, not skipped. */
Test(sleep, the_entry_grace_measures_a_sleep_longer_than_the_window) {
  struct sm_plan plan;
  plan_of(50000, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 5000000, .duration_ns = 1000000, .topo = topo};
  struct sm_results r = {0};
  char msg[256] = "";
  int rc =
      sm_runner_repetition(&cfg, &plan.cases[0], 0, 1, &r, msg, sizeof msg);
  cr_expect_eq(rc, 0, "%d: %s", rc, msg);
  cr_expect_geq(metric_of(&r, 0, "actual_over_requested"), 1.0);
  cr_expect_geq(metric_of(&r, 0, "samples"), 1);
  sm_results_free(&r);
  sm_plan_free(&plan);
}
