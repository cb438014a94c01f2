/* test_ctxswitch.c: the ctxswitch family under the runner: every variant at
 * every pair placement this machine offers passes its self-check with
 * consistent metrics, one-thread variants skip the placements they ignore,
 * and the stop hand-shake never leaves a side waiting. */
#include <criterion/criterion.h>
#include <string.h>

#include "registry.h"
#include "test_support.h"

TestSuite(ctxswitch, .init = load_machine, .fini = free_machine,
          .timeout = 120);

/* Whether case c is a one-thread variant pinned elsewhere than same-pu
 * (the cases the family skips). */
static int skipped_alone(const struct sm_case *c) {
  return strstr(c->variant->name, "_1thread") && c->os_pus[0] >= 0 &&
         strcmp(c->placement_name, "same-pu") != 0;
}

Test(ctxswitch, every_case_checks_out_with_consistent_metrics) {
  struct sm_plan plan;
  plan_quick("ctxswitch", NULL, &plan);
  struct sm_window_config cfg = {
      .warmup_ns = 2000000, .duration_ns = 10000000, .topo = topo, .quick = 1};
  struct sm_results r = {0};
  size_t measured = 0;
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 1, &r, msg, sizeof msg);
    if (skipped_alone(c)) {
      cr_expect_eq(rc, SM_MEASURE_SKIP, "%s %s", c->variant->name,
                   c->placement_name);
      cr_expect_str_empty(msg, "a silent skip: %s", msg);
      continue;
    }
    if (strcmp(c->variant->name, "perf_pipe") == 0 && rc == SM_MEASURE_SKIP)
      continue; /* perf or taskset missing, or perf cannot run here */
    if (rust_variant_absent(rc, c))
      continue;
    cr_assert_eq(rc, 0, "%s %s: %s", c->variant->name, c->placement_name, msg);
    double v[2];
    if (sm_results_values(&r, i, "rtt_ns", v, 2) == 0)
      continue; /* a loaded machine gave a thread no CPU in the window */
    double rtt = metric_of(&r, i, "rtt_ns");
    cr_expect_gt(rtt, 0, "%s %s", c->variant->name, c->placement_name);
    cr_expect_geq(metric_of(&r, i, "vcsw_per_rtt"), 0);
    cr_expect_geq(metric_of(&r, i, "ivcsw_per_rtt"), 0);
    if (strcmp(c->variant->name, "perf_pipe") == 0) {
      cr_expect_gt(metric_of(&r, i, "pipe_rtt_ns"), 0);
      measured++;
      continue;
    }
    double p50 = metric_of(&r, i, "rtt_p50_ns");
    double p99 = metric_of(&r, i, "rtt_p99_ns");
    double max = metric_of(&r, i, "rtt_max_ns");
    cr_expect(p50 > 0 && p50 <= p99 && p99 <= max, "%s %s: %g %g %g",
              c->variant->name, c->placement_name, p50, p99, max);
    /* The round trip is the initiator's: the runner's time per operation. */
    cr_expect_float_eq(rtt, metric_of(&r, i, "ns_per_op"), 1e-9 * rtt);
    if (!strstr(c->variant->name, "_1thread"))
      cr_expect_float_eq(metric_of(&r, i, "oneway_ns"), rtt / 2, 1e-9 * rtt);
    measured++;
  }
  cr_expect_gt(measured, 0);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* Windows so short (no warm-up, 200 us) that the runner's STOP often
 * comes while a token is in flight, or before the responder started: every
 * one must end, with every token answered. */
Test(ctxswitch, the_stop_hand_shake_never_hangs) {
  struct sm_plan plan;
  plan_quick("ctxswitch/*", NULL, &plan);
  struct sm_window_config cfg = {.duration_ns = 200000, .topo = topo};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    if (c->variant->nroles != 2 || strcmp(c->placement_name, "none") != 0)
      continue;
    repeat_windows(c, &cfg, 20);
  }
  sm_plan_free(&plan);
}
