/* test_engine.c: the runner's family interface: roles under one gate,
 * passes of several operations, manual time, latency sampling and the
 * reservoir, driven with small test families. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "sampling.h"
#include "syncmark/clock.h"
#include "syncmark/work.h"
#include "test_support.h"

/* What the role family's workers publish: passes of each role. */
struct roles_state {
  atomic_uint_fast64_t passes[2];
  atomic_uint role_seen[2];
};

/* The counting role: a pass does BATCH operations. */
enum { BATCH = 8 };

static void producer(struct sm_worker *w) {
  struct roles_state *s = w->state;
  w->ops_per_pass = BATCH;
  atomic_fetch_or(&s->role_seen[0], 1u << w->role_index);
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    atomic_fetch_add_explicit(&s->passes[0], 1, memory_order_relaxed);
  }
  w->family_count = count;
}

/* The serving role: samples how long one relaxed increment takes. */
static void consumer(struct sm_worker *w) {
  struct roles_state *s = w->state;
  atomic_fetch_or(&s->role_seen[1], 1u << w->role_index);
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    SM_SAMPLED(
        w, count,
        atomic_fetch_add_explicit(&s->passes[1], 1, memory_order_relaxed));
  }
  w->family_count = count;
}

static const struct sm_role two_roles[] = {
    {.name = "producer",
     .worker = producer,
     .count = SM_ROLE_CASE_THREADS,
     .counts_ops = 1},
    {.name = "consumer", .worker = consumer, .count = 1, .samples = {"inc"}},
};

static int roles_setup(const struct sm_case *c, void **state) {
  (void)c;
  *state = calloc(1, sizeof(struct roles_state));
  return *state ? 0 : -ENOMEM;
}

/* Every role ran the threads it declared, and the loop counted every pass:
 * producers' passes are the shared count, the consumer's likewise. */
static int roles_check(const struct sm_case *c, void *state,
                       const struct sm_worker *workers, char *msg,
                       size_t size) {
  struct roles_state *s = state;
  uint64_t sum[2] = {0, 0};
  for (unsigned i = 0; i < c->threads + 1; i++)
    sum[workers[i].role == &two_roles[1]] += workers[i].ops_at_stop;
  unsigned want = (1u << c->threads) - 1;
  if (sum[0] != atomic_load(&s->passes[0]) ||
      sum[1] != atomic_load(&s->passes[1]) ||
      atomic_load(&s->role_seen[0]) != want ||
      atomic_load(&s->role_seen[1]) != 1) {
    snprintf(msg, size, "roles counted %llu/%llu passes",
             (unsigned long long)sum[0], (unsigned long long)sum[1]);
    return -EPROTO;
  }
  return 0;
}

/* The family's own metric: the consumer's passes, published by the
 * workers. */
static int roles_metrics(const struct sm_case *c, void *state,
                         const struct sm_worker *workers, unsigned n,
                         struct sm_sink *sink, char *msg, size_t size) {
  (void)c;
  (void)state;
  (void)msg;
  (void)size;
  cr_assert_eq(n, c->threads + 1);
  double passes = 0;
  for (unsigned i = 0; i < n; i++)
    if (workers[i].role == &two_roles[1])
      passes += (double)(workers[i].ops_at_stop - workers[i].ops_at_measure);
  return sm_sink_metric(sink, "consumer_passes", "passes", passes);
}

static void roles_teardown(void *state) {
  free(state);
}

static const struct sm_variant roles_variant = {
    .name = "roles", .summary = "test", .roles = two_roles, .nroles = 2};
static const struct sm_family roles_family = {.name = "roles",
                                              .variants = &roles_variant,
                                              .nvariants = 1,
                                              .setup = roles_setup,
                                              .check = roles_check,
                                              .metrics = roles_metrics,
                                              .teardown = roles_teardown,
                                              .extra_threads = 1};

static const struct sm_window_config window_cfg = {.warmup_ns = 5000000,
                                                   .duration_ns = 20000000};

/* Runs one repetition of `family`'s first variant with `threads` threads
 * plus its extra ones, unpinned, into *results (case 0). */
static int run_one(const struct sm_family *family, unsigned threads,
                   struct sm_results *results, char *msg, size_t size) {
  int pus[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  struct sm_case c = {.family = family,
                      .variant = family->variants,
                      .threads = threads,
                      .placement_name = "none",
                      .os_pus = pus};
  struct sm_window_config cfg = window_cfg;
  cfg.topo = topo;
  return sm_runner_repetition(&cfg, &c, 0, 1, results, msg, size);
}

TestSuite(engine, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Two roles start under one gate: the counting role's passes of BATCH
 * operations make the rate, the serving role's samples make percentiles,
 * and the family's own metric arrives. */
Test(engine, roles_batches_samples_and_family_metrics) {
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(run_one(&roles_family, 2, &r, msg, sizeof msg), 0, "%s", msg);
  cr_assert_gt(metric_of(&r, 0, "ops_per_s"), 0);
  cr_assert_gt(metric_of(&r, 0, "consumer_passes"), 0);
  double p50 = metric_of(&r, 0, "inc_p50_ns"),
         p99 = metric_of(&r, 0, "inc_p99_ns");
  double max = metric_of(&r, 0, "inc_max_ns");
  cr_assert(p50 >= 0 && p50 <= p99 && p99 <= max, "%g %g %g", p50, p99, max);
  cr_assert_gt(metric_of(&r, 0, "inc_samples"), 0);
  /* Sampling was spaced to cost under the budget of the measured loop. */
  double share = metric_of(&r, 0, "sample_share");
  cr_assert(share >= 0 && share <= SM_SAMPLE_BUDGET, "share %g", share);
  sm_results_free(&r);
}

/* A variant whose roles need more threads than the plan gave is refused,
 * not run on PUs it was not given. */
Test(engine, roles_beyond_the_plan_are_refused) {
  static const struct sm_family short_family = {.name = "roles",
                                                .variants = &roles_variant,
                                                .nvariants = 1,
                                                .setup = roles_setup,
                                                .check = roles_check,
                                                .teardown = roles_teardown};
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(run_one(&short_family, 2, &r, msg, sizeof msg), -EINVAL);
  cr_assert(strstr(msg, "need 3 threads"), "%s", msg);
  sm_results_free(&r);
}

/* Manual time: a pass spends most of its time in untimed preparation; the
 * rate comes from the timed part only. */
enum { MANUAL_OPS = 4 };
static uint64_t prepare_iters;
static void manual_worker(struct sm_worker *w) {
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    SM_KEEP(sm_work_spin(prepare_iters)); /* untimed preparation */
    uint64_t t = sm_manual_start(w);
    SM_KEEP(sm_work_spin(prepare_iters / 8));
    sm_manual_stop(w, t, MANUAL_OPS);
  }
}
static const struct sm_variant manual_variant =
    SM_VARIANT("manual", "test", manual_worker);
static const struct sm_family manual_family = {
    .name = "manual", .variants = &manual_variant, .nvariants = 1};

Test(engine, manual_time_excludes_the_untimed_part) {
  prepare_iters = sm_work_calibrate(80000); /* 80 us untimed, 10 us timed */
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(run_one(&manual_family, 1, &r, msg, sizeof msg), 0, "%s", msg);
  /* Timed: MANUAL_OPS per ~10 us. The window's rate would be MANUAL_OPS
   * per ~90 us; the manual rate must be well above that. */
  double ns_per_op = metric_of(&r, 0, "ns_per_op");
  cr_assert(ns_per_op > 0 && ns_per_op < 90000.0 / MANUAL_OPS / 2,
            "ns per op %g: the untimed part was counted", ns_per_op);
  sm_results_free(&r);
}

/* The reservoir keeps every value while there is room, then a bounded
 * subset of all offered values, never one that was not offered. */
Test(engine, reservoir_is_bounded_and_uniform) {
  struct sm_reservoir *res = malloc(sizeof *res);
  cr_assert_not_null(res);
  sm_reservoir_init(res, 7);
  for (unsigned i = 0; i < SM_RESERVOIR_CAP; i++)
    sm_reservoir_offer(res, i);
  cr_assert_eq(res->n, SM_RESERVOIR_CAP);
  for (unsigned i = 0; i < SM_RESERVOIR_CAP; i++)
    cr_assert_eq(res->values[i], (double)i);
  for (unsigned i = SM_RESERVOIR_CAP; i < 10 * SM_RESERVOIR_CAP; i++)
    sm_reservoir_offer(res, i);
  cr_assert_eq(res->n, SM_RESERVOIR_CAP);
  cr_assert_eq(res->seen, 10u * SM_RESERVOIR_CAP);
  double late = 0; /* values from the last 90 % of the stream */
  for (unsigned i = 0; i < SM_RESERVOIR_CAP; i++) {
    cr_assert_lt(res->values[i], 10.0 * SM_RESERVOIR_CAP);
    late += res->values[i] >= SM_RESERVOIR_CAP;
  }
  /* Uniform: about 90 % of the kept values come from the later 90 %. */
  cr_assert(late > 0.85 * SM_RESERVOIR_CAP && late < 0.95 * SM_RESERVOIR_CAP,
            "%g of %u kept values are late", late, SM_RESERVOIR_CAP);
  free(res);
}

/* The sampling interval keeps one sample's cost within the target share
 * (half the budget) of the passes between two samples. */
Test(engine, sampling_interval_respects_the_budget) {
  double cost = sm_sample_cost_ns();
  cr_assert_geq(cost, 1.0);
  const double paces[] = {0.5, 2.0, 10.0, 100.0, 1e4, 1e6};
  for (size_t i = 0; i < sizeof paces / sizeof paces[0]; i++) {
    uint64_t every = sm_sample_mask_for(paces[i]) + 1;
    cr_assert_eq(every & (every - 1), 0, "a power of two: %llu",
                 (unsigned long long)every);
    cr_assert_leq(cost / (double)every, SM_SAMPLE_TARGET * paces[i] + 1e-9,
                  "pace %g ns: every %llu passes", paces[i],
                  (unsigned long long)every);
    /* and not needlessly rare: half the interval would break the budget */
    if (every > 1)
      cr_assert_gt(cost / (double)(every / 2), SM_SAMPLE_TARGET * paces[i]);
  }
  cr_assert_eq(sm_sample_mask_for(0), SM_SAMPLE_DEFAULT_EVERY - 1);
}

/* A family's applies hook is asked before every repetition: a case it
 * skips is never set up, and its reason comes back with SM_MEASURE_SKIP. */
static int refuse_case(const struct sm_case *c, char *msg, size_t size) {
  (void)c;
  snprintf(msg, size, "not on this machine");
  return SM_MEASURE_SKIP;
}
static int setup_not_called(const struct sm_case *c, void **state) {
  (void)c, (void)state;
  cr_assert_fail("setup of a skipped case");
  return -EINVAL;
}

Test(engine, applies_skips_before_setup) {
  static const struct sm_family skipping = {.name = "roles",
                                            .variants = &roles_variant,
                                            .nvariants = 1,
                                            .setup = setup_not_called,
                                            .applies = refuse_case,
                                            .extra_threads = 1};
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(run_one(&skipping, 1, &r, msg, sizeof msg), SM_MEASURE_SKIP);
  cr_assert_str_eq(msg, "not on this machine");
  cr_assert_eq(r.nrows, 0);
  sm_results_free(&r);
}

/* A single-shape family with threads of its own (roles beyond its one
 * case thread) gets an unpinned PU entry for each, and its roles run. */
Test(engine, single_shape_roles_get_their_pus) {
  static const struct sm_role single_roles[] = {
      {.name = "producer", .worker = producer, .count = 1, .counts_ops = 1},
      {.name = "consumer", .worker = consumer, .count = 1, .samples = {"inc"}},
  };
  static const struct sm_variant single_variant = {
      .name = "roles", .summary = "test", .roles = single_roles, .nroles = 2};
  static const struct sm_family single_family = {.name = "single",
                                                 .variants = &single_variant,
                                                 .nvariants = 1,
                                                 .setup = roles_setup,
                                                 .teardown = roles_teardown,
                                                 .shape = SM_SHAPE_SINGLE,
                                                 .extra_threads = 1};
  const struct sm_family *const families[] = {&single_family};
  const unsigned threads[] = {1};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.threads = threads,
                                .nthreads = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true,
                                .families = families,
                                .nfamilies = 1};
  struct sm_plan plan;
  cr_assert_eq(sm_plan_build(&req, topo, &plan), 0);
  cr_assert_eq(plan.ncases, 1);
  const struct sm_case *c = &plan.cases[0];
  cr_assert_eq(c->threads, 1);
  cr_assert_eq(c->os_pus[0], -1);
  cr_assert_eq(c->os_pus[1], -1);
  struct sm_window_config cfg = window_cfg;
  cfg.topo = topo;
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(sm_runner_repetition(&cfg, c, 0, 1, &r, msg, sizeof msg), 0,
               "%s", msg);
  cr_assert_gt(metric_of(&r, 0, "ops_per_s"), 0);
  sm_results_free(&r);
  sm_plan_free(&plan);
}

/* A worker of an isolated family that never returns (it waits forever on
 * a flag nobody sets, as a deadlocked thread does). */
static atomic_int never;
static void stuck_worker(struct sm_worker *w) {
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    while (!atomic_load_explicit(&never, memory_order_acquire))
      (void)sm_sleep_for_ns(1000000);
  }
}

/* The check accepts threads left behind (the family proved why). */
static int stuck_check(const struct sm_case *c, void *state,
                       const struct sm_worker *workers, char *msg,
                       size_t size) {
  (void)c;
  (void)state;
  (void)msg;
  (void)size;
  cr_assert_eq(workers[0].joined, 0, "the stuck worker was joined");
  return 0;
}

static int stuck_metrics(const struct sm_case *c, void *state,
                         const struct sm_worker *workers, unsigned n,
                         struct sm_sink *sink, char *msg, size_t size) {
  (void)c;
  (void)state;
  (void)workers;
  (void)n;
  (void)msg;
  (void)size;
  return sm_sink_metric(sink, "stuck", "0/1", 1);
}

static const struct sm_variant stuck_variant =
    SM_VARIANT("stuck", "test", stuck_worker);

/* An isolated family's thread still running max(4 windows, 100 ms) after
 * the window is left behind: the repetition returns, with the family's
 * metric and none of the runner's (the counts are not final); without a
 * check that accepts it, the repetition times out. */
Test(engine, isolated_family_threads_left_behind) {
  static const struct sm_family accepted = {.name = "stuck",
                                            .variants = &stuck_variant,
                                            .nvariants = 1,
                                            .check = stuck_check,
                                            .metrics = stuck_metrics,
                                            .isolated = 1};
  static const struct sm_family unchecked = {.name = "stuck",
                                             .variants = &stuck_variant,
                                             .nvariants = 1,
                                             .isolated = 1};
  struct sm_results r = {0};
  char msg[200];
  cr_assert_eq(run_one(&accepted, 1, &r, msg, sizeof msg), 0, "%s", msg);
  cr_assert_eq(metric_of(&r, 0, "stuck"), 1);
  double v;
  cr_assert_eq(sm_results_values(&r, 0, "ops_per_s", &v, 1), 0,
               "a window left behind has a rate");
  sm_results_free(&r);
  r = (struct sm_results){0};
  cr_assert_eq(run_one(&unchecked, 1, &r, msg, sizeof msg), -ETIMEDOUT);
  cr_assert(strstr(msg, "still ran"), "%s", msg);
  sm_results_free(&r);
}
