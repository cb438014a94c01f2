/* test_channel_family.c: the channel and backpressure families under the
 * runner: every case of a quick plan runs to its end (the stop hand-shake
 * releases blocked producers and consumers), passes its self-check or is
 * skipped, and reports metrics that are consistent with each other. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(channel_family, .init = load_machine, .fini = free_machine,
          .timeout = 120);

/* Builds the quick plan of `filter` (threads, unpinned) with the given
 * overrides. */
static void quick_plan(const char *filter, const unsigned *threads,
                       size_t nthreads, const struct sm_axis_override *o,
                       size_t no, struct sm_plan *plan) {
  const enum sm_placement none = SM_PLACE_NONE;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = nthreads,
                                .placements = &none,
                                .nplacements = 1,
                                .quick = true,
                                .overrides = o,
                                .noverrides = no};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
  cr_assert_gt(plan->ncases, 0);
}

static const struct sm_window_config short_window = {
    .warmup_ns = 2000000, .duration_ns = 10000000, .quick = 1};

/* Every variant, capacity, producer count and protocol (the window and
 * the fixed batch) runs and checks; the consumer's rate is the family's
 * msgs_per_s. */
Test(channel_family, every_case_runs_and_checks) {
  const unsigned threads[] = {1, 3};
  struct sm_plan plan;
  quick_plan("channel", threads, 2, NULL, 0, &plan);
  struct sm_window_config cfg = short_window;
  cfg.topo = topo;
  struct sm_results r = {0};
  size_t invalid = 0, measured = 0;
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 1, &r, msg, sizeof msg);
    cr_assert(rc == 0 || rc == SM_MEASURE_SKIP, "%s %s: %d %s",
              c->variant->name, c->params, rc, msg);
    if (rc != 0)
      continue;
    /* A window the runner marked invalid (its samples cost over the budget
     * in so short a window, a pass below the floor, or no pass at all: a
     * 10 ms window may end before a batch of 16384 messages through a
     * pipe does) has no family metrics, or NAN ones when it did no
     * operation; a valid window has them. */
    double v[1];
    int has_rate = sm_results_values(&r, i, "msgs_per_s", v, 1) != 0;
    if (metric_of(&r, i, "valid") == 0) {
      invalid++;
      continue;
    }
    cr_assert(has_rate, "%s %s: a valid window without msgs_per_s",
              c->variant->name, c->params);
    double rate = metric_of(&r, i, "msgs_per_s");
    cr_expect(rate > 0, "%s %s: %g/s", c->variant->name, c->params, rate);
    if (strstr(c->params, "batch_msgs=0")) {
      double backlog = metric_of(&r, i, "backlog_msgs");
      cr_expect(backlog >= 0, "%s %s: backlog %g", c->variant->name, c->params,
                backlog);
    } else {
      /* a batch: every batch delivered its messages (the self-check), and
       * says how many it had */
      double batch = metric_of(&r, i, "batch_msgs");
      cr_expect_gt(batch, 0, "%s %s", c->variant->name, c->params);
      if (strncmp(c->params, "capacity=0;", 11) == 0)
        cr_expect_leq(batch, 1024, "%s %s: a rendezvous batch of %g",
                      c->variant->name, c->params, batch);
    }
    measured++;
  }
  cr_assert_gt(measured, invalid, "%zu of the windows were invalid", invalid);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* A consumer slower than the whole window (one message per 5 ms): the
 * producer is blocked on a full channel when STOP comes and is released
 * by the consumer's drain; the blocked share is a share (or undefined when
 * the consumer finished no pass to poll from). */
Test(channel_family, backpressure_stops_a_blocked_producer) {
  struct sm_axis_override o = {
      .key = "consumer_ns", .values = {0, 5000000}, .nvalues = 2};
  const unsigned one[] = {1};
  struct sm_plan plan;
  quick_plan("backpressure", one, 1, &o, 1, &plan);
  struct sm_window_config cfg = short_window;
  cfg.topo = topo;
  struct sm_results r = {0};
  for (size_t i = 0; i < plan.ncases; i++) {
    const struct sm_case *c = &plan.cases[i];
    char msg[256] = "";
    int rc = sm_runner_repetition(&cfg, c, i, 1, &r, msg, sizeof msg);
    cr_assert(rc == 0 || rc == SM_MEASURE_SKIP, "%s: %d %s", c->params, rc,
              msg);
    if (rc != 0)
      continue;
    double v[2];
    if (sm_results_values(&r, i, "blocked_share", v, 2) == 1)
      cr_expect(isnan(v[0]) || (v[0] >= 0 && v[0] <= 1), "%s: blocked %g",
                c->params, v[0]); /* nan: the consumer polled none */
    double depth = metric_of(&r, i, "max_depth");
    long capacity = c->param[0];
    cr_expect(capacity < 0 || depth <= capacity, "%s: depth %g", c->params,
              depth);
  }
  sm_results_free(&r);
  sm_plan_free(&plan);
}
