/* test_rust_std.c: Rust std's primitives as syncmark links them
 * (bench/peers/rust_std.rs): the lesson's pool runs every task once and
 * refuses a pin it cannot have, and every Rust variant passes its
 * self-check in every quick case. Skipped, saying why, where syncmark was
 * built without rustc. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "rust_std.h"
#include "test_support.h"

TestSuite(rust_std, .init = load_machine, .fini = free_machine, .timeout = 120);

/* Skips the calling test when the Rust library was not built. */
static void need_rust(void) {
  if (!SM_RUST_STD_BUILT)
    cr_skip_test("syncmark was built without rustc (or under "
                 "ThreadSanitizer): no Rust std variants to test");
}

/* A task for the pool: one increment of the counter `arg`. Returns 0. */
static int bump(void *arg) {
  atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
  return 0;
}

/* Every task executed runs exactly once and the wait returns only after
 * the last; a pool freed with tasks queued runs them first. */
Test(rust_std, lesson_pool_runs_every_task_once) {
  need_rust();
  struct sm_rust_lesson_pool *p = sm_rust_lesson_pool_new(3, NULL, 1 << 20);
  cr_assert_not_null(p, "the lesson's pool of 3 did not start");
  static atomic_ulong count;
  for (int round = 1; round <= 3; round++) {
    for (int i = 0; i < 20000; i++)
      cr_assert_eq(sm_rust_lesson_pool_execute(p, bump, &count), 0);
    sm_rust_lesson_pool_wait(p);
    cr_assert_eq(atomic_load(&count), 20000ul * (unsigned long)round,
                 "%lu tasks ran after round %d's wait", atomic_load(&count),
                 round);
  }
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(sm_rust_lesson_pool_execute(p, bump, &count), 0);
  sm_rust_lesson_pool_free(p);
  cr_assert_eq(atomic_load(&count), 61000ul, "%lu tasks ran before the free",
               atomic_load(&count));
}

/* A pin no machine has (CPU 4000 is beyond cpu_set_t) makes the pool
 * refuse to start, after stopping the workers it started. */
Test(rust_std, lesson_pool_refuses_a_pin_it_cannot_have) {
  need_rust();
  const int pins[] = {-1, 4000};
  cr_assert_null(sm_rust_lesson_pool_new(2, pins, 1 << 20),
                 "a pool pinned to CPU 4000 started");
}

/* Every Rust variant passes its self-check in every quick case (2 threads,
 * compact) it applies to, at least one, with its headline figure above 0. */
Test(rust_std, every_rust_variant_passes_its_self_check) {
  need_rust();
  static const struct {
    const char *filter, *metric;
  } variants[] = {
      {"contention/rust_mutex", "ops_per_s"},
      {"contention/rust_rwlock", "ops_per_s"},
      {"contention/rust_atomic_seqcst", "ops_per_s"},
      {"aggregate/rust_atomic_seqcst", "updates_per_s"},
      {"aggregate/rust_mutex", "updates_per_s"},
      {"aggregate/rust_rwlock", "updates_per_s"},
      {"refcount/rust_arc_shared", "ops_per_s"},
      {"refcount/rust_arc_private", "ops_per_s"},
      {"spawn_vs_pool/rust_thread_per_task", "tasks_per_s"},
      {"spawn_vs_pool/rust_lesson_pool", "tasks_per_s"},
      {"channel/rust_std", "msgs_per_s"},
      {"backpressure/rust_std", "produced_per_s"},
      {"wake/rust_park", "wait_ns"},
      {"wake/rust_condvar", "wait_ns"},
      {"ctxswitch/rust_park", "rtt_ns"},
      {"ctxswitch/rust_condvar", "rtt_ns"},
      {"stack/rust_spawn_join", "spawn_join_p50_ns"},
  };
  const enum sm_placement compact = SM_PLACE_COMPACT;
  const unsigned threads = 2;
  for (size_t f = 0; f < sizeof variants / sizeof variants[0]; f++) {
    const char *filter = variants[f].filter;
    struct sm_plan_request req = {.filters = &filter,
                                  .nfilters = 1,
                                  .threads = &threads,
                                  .nthreads = 1,
                                  .placements = &compact,
                                  .nplacements = 1,
                                  .quick = true};
    struct sm_plan plan;
    cr_assert_eq(sm_plan_build(&req, topo, &plan), 0, "%s", filter);
    cr_assert_gt(plan.ncases, 0, "%s has no case", filter);
    struct sm_window_config cfg = {
        .warmup_ns = 1000000, .duration_ns = 5000000, .topo = topo, .quick = 1};
    size_t ran = 0;
    for (size_t i = 0; i < plan.ncases; i++) {
      struct sm_results r = {0};
      char msg[256] = "";
      int rc =
          sm_runner_repetition(&cfg, &plan.cases[i], i, 1, &r, msg, sizeof msg);
      if (rc == SM_MEASURE_SKIP && !strstr(msg, "rustc")) {
        sm_results_free(&r); /* the case's own geometry: its C twin skips too */
        continue;
      }
      cr_assert_eq(rc, 0, "%s %s: %s", filter, plan.cases[i].params, msg);
      ran++;
      cr_assert_gt(metric_of(&r, i, variants[f].metric), 0, "%s %s: no %s",
                   filter, plan.cases[i].params, variants[f].metric);
      sm_results_free(&r);
    }
    cr_assert_gt(ran, 0, "%s: every quick case skipped", filter);
    sm_plan_free(&plan);
  }
}
