/* test_spawn_vs_pool.c: behaviour of the spawn_vs_pool and lockscope
 * families that their self-checks do not cover: what a blocking task and
 * a lock held across a sleep must show, whatever the machine's speed. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "families/spawn_vs_pool_batch.h"
#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(families, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Builds the plan of `filter` with one --param override per entry of
 * `overrides`, `threads` threads, compact placement; asserts it has cases. */
static void build(const char *filter, const struct sm_axis_override *overrides,
                  size_t noverrides, unsigned threads, struct sm_plan *plan) {
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = &threads,
                                .nthreads = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true,
                                .overrides = overrides,
                                .noverrides = noverrides};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
  cr_assert_gt(plan->ncases, 0, "%s has no case", filter);
}

/* Runs one repetition of case 0 of the plan with a `duration_ns` window
 * into *r and asserts that it passed its self-check. */
static void run_case(const struct sm_plan *plan, uint64_t duration_ns,
                     struct sm_results *r) {
  struct sm_window_config cfg = {.warmup_ns = 1000000,
                                 .duration_ns = duration_ns,
                                 .topo = topo,
                                 .quick = 1};
  char msg[256] = "";
  int rc =
      sm_runner_repetition(&cfg, &plan->cases[0], 0, 1, r, msg, sizeof msg);
  cr_assert_eq(rc, 0, "%s: %s", plan->cases[0].params, msg);
}

/* A task that sleeps 1 ms cannot finish less than 1 ms after its submit,
 * in any strategy; its thread blocks at least once (a voluntary switch per
 * task, process-wide). */
Test(families, blocking_tasks_take_their_sleep_in_every_strategy) {
  const struct sm_axis_override o[] = {{"spin_ns", {0}, 1},
                                       {"sleep_ns", {1000000}, 1}};
  const char *const filters[] = {"spawn_vs_pool/thread_per_task",
                                 "spawn_vs_pool/shared_queue",
                                 "spawn_vs_pool/fast"};
  for (size_t f = 0; f < 3; f++) {
    struct sm_plan plan;
    build(filters[f], o, 2, 2, &plan);
    struct sm_results r = {0};
    run_case(&plan, 5000000, &r);
    double done_p50 = metric_of(&r, 0, "done_p50_ns");
    cr_assert_geq(done_p50, 1e6, "%s: p50 submit-to-done %.0f ns < 1 ms",
                  filters[f], done_p50);
    double batch = metric_of(&r, 0, "batch_tasks");
    cr_assert_geq(batch, 2, "%s: batch of %.0f tasks", filters[f], batch);
    double vcsw = metric_of(&r, 0, "vcsw_per_task");
    cr_assert_geq(vcsw, 1.0, "%s: %.2f voluntary switches per task", filters[f],
                  vcsw);
    sm_results_free(&r);
    sm_plan_free(&plan);
  }
}

/* With the mutex held across a 1 ms sleep, at most one sleep is in
 * progress at a time, so 3 threads complete at most one operation per
 * millisecond. Each thread sees the window's start and end up to one
 * operation per thread late, so the operations counted span at most the
 * window plus 3 ms, plus the one in progress: 20 + 4 in a 20 ms window,
 * where the lock held only around the update would allow 60. */
Test(families, lock_held_across_a_sleep_serializes_the_threads) {
  const struct sm_axis_override o[] = {{"slow_us", {1000}, 1},
                                       {"blocking", {1}, 1}};
  struct sm_plan plan;
  build("lockscope/held_across", o, 2, 3, &plan);
  struct sm_results r = {0};
  const uint64_t window_ns = 20000000;
  run_case(&plan, window_ns, &r);
  double ops_per_s = metric_of(&r, 0, "ops_per_s");
  double bound = ((double)window_ns / 1e6 + 3 + 1) * 1e9 / (double)window_ns;
  cr_assert_gt(ops_per_s, 0, "no operation completed");
  cr_assert_leq(ops_per_s, bound * 1.01,
                "%.0f ops/s with the lock held across a 1 ms sleep", ops_per_s);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* The batch that the family and its plain reference share: one
 * SM_SVP_BATCH_WORK_NS of work for the PUs, rounded up, at least one task
 * per PU, within the bounds; a task cheaper than its strategy's floor is
 * sized at the floor. */
Test(families, batch_is_a_millisecond_of_work_for_the_pus) {
  cr_assert_eq(sm_svp_batch_tasks(0, 0, 2), SM_SVP_BATCH_MAX,
               "an empty task is sized at the pool floor, capped");
  cr_assert_eq(sm_svp_batch_tasks(100000, 0, 4), 40);
  cr_assert_eq(sm_svp_batch_tasks(1010000, 0, 4), 4,
               "1.01 ms tasks on 4 PUs round up to one per PU");
  cr_assert_eq(sm_svp_batch_tasks(0, 1, 2), 4,
               "an empty spawned task is sized at the spawn floor");
  cr_assert_eq(sm_svp_batch_tasks(10000000, 0, 1), SM_SVP_BATCH_MIN);
  cr_assert_eq(sm_svp_batch_tasks(10000000, 0, 0), SM_SVP_BATCH_MIN,
               "0 PUs counts as one");
}
