/* test_wake.c: the wake family under the runner: every way of waiting at
 * every pair placement passes its self-check with ordered percentiles and
 * sane CPU shares, a window shorter than one wake-up reports none of its
 * figures, and the stop hand-shake never leaves a side waiting. */
#include <criterion/criterion.h>
#include <string.h>

#include "registry.h"
#include "test_support.h"

TestSuite(wake, .init = load_machine, .fini = free_machine, .timeout = 120);

/* Builds the quick plan of the variants matching `filter` at
 * delay_us=`delay`. */
static void plan_of(const char *filter, long delay, struct sm_plan *plan) {
  struct sm_axis_override o = {
      .key = "delay_us", .values = {delay}, .nvalues = 1};
  plan_quick(filter, &o, plan);
}

Test(wake, every_case_checks_out_with_consistent_metrics) {
  struct sm_plan plan;
  plan_of("wake", 20, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 2000000, .duration_ns = 25000000, .topo = topo, .quick = 1};
  struct sm_results r = {0};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 1, &r, msg, sizeof msg);
    if (rust_variant_absent(rc, c))
      continue;
    cr_assert_eq(rc, 0, "%s %s: %s", c->variant->name, c->placement_name, msg);
    double v[2];
    if (sm_results_values(&r, i, "wait_ns", v, 2) == 0)
      continue; /* a 10 ms poll may complete no wake-up in 25 ms */
    double cpu = metric_of(&r, i, "cpu_pct");
    cr_expect(cpu >= 0 && cpu <= 110, "%s %s: cpu %g %%", c->variant->name,
              c->placement_name, cpu);
    cr_expect_gt(metric_of(&r, i, "wait_ns"), 20000);
    cr_expect_geq(metric_of(&r, i, "cpu_probe_ns"), 0);
    cr_expect_geq(metric_of(&r, i, "cpu_ns_per_wait"), 0);
    if (sm_results_values(&r, i, "p50_ns", v, 2) == 0)
      continue; /* no wake-up sampled inside the window */
    double p50 = metric_of(&r, i, "p50_ns"), p99 = metric_of(&r, i, "p99_ns");
    double max = metric_of(&r, i, "max_ns");
    cr_expect(p50 >= 0 && p50 <= p99 && p99 <= max, "%s %s: %g %g %g",
              c->variant->name, c->placement_name, p50, p99, max);
    cr_expect_geq(metric_of(&r, i, "samples"), 1);
  }
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* Without the runner's entry grace, a wake-up longer than the warm-up and
 * the window together: the one wake-up ends after STOP, none inside the window;
 * the window checks out and reports no latency or CPU figure (nothing was
 * measured). */
Test(wake, a_window_shorter_than_a_wake_up_reports_nothing_of_it) {
  struct sm_plan plan;
  plan_of("wake/park", 100000, &plan);
  struct sm_window_config cfg = {.warmup_ns = 5000000,
                                 .duration_ns = 1000000,
                                 .topo = topo,
                                 .entry_grace_ns = 1};
  struct sm_results r = {0};
  char msg[256] = "";
  const struct sm_case *c = &plan.cases[plan.ncases - 1]; /* none */
  int rc = sm_runner_repetition(&cfg, c, 0, 1, &r, msg, sizeof msg);
  cr_expect_eq(rc, 0, "%d: %s", rc, msg);
  double v[2];
  cr_expect_eq(sm_results_values(&r, 0, "p50_ns", v, 2), 0);
  cr_expect_eq(sm_results_values(&r, 0, "cpu_ns_per_wait", v, 2), 0);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* Short windows without a warm-up: the runner's STOP comes at any point
 * of a wake-up; every window must end and check out. */
Test(wake, the_stop_hand_shake_never_hangs) {
  struct sm_plan plan;
  plan_of("wake/*", 1, &plan);
  struct sm_window_config cfg = {.duration_ns = 300000, .topo = topo};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    if (strncmp(c->variant->name, "poll_", 5) == 0 ||
        strcmp(c->placement_name, "none") != 0)
      continue;
    repeat_windows(c, &cfg, 20);
  }
  sm_plan_free(&plan);
}
