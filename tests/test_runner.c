/* test_runner.c: the runner's window lifecycle, the planner's expansion of
 * cases and the result writers, driven with small test families. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drift.h"
#include "gbench.h"
#include "metrics.h"
#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "syncmark/csv.h"
#include "test_support.h"

/* A family whose workers bump a shared atomic once per loop pass, so the
 * runner's counts can be compared with work that really happened. */
struct probe_state {
  atomic_uint_fast64_t passes;
  int fail_check;
};

static void probe_worker(struct sm_worker *w) {
  struct probe_state *s = w->state;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    atomic_fetch_add_explicit(&s->passes, 1, memory_order_relaxed);
  }
  w->family_count = count;
}

static struct probe_state last_state;
static int fail_next_check;

static int probe_setup(const struct sm_case *c, void **state) {
  (void)c;
  struct probe_state *s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  s->fail_check = fail_next_check;
  *state = s;
  return 0;
}

/* Checks that every pass of every worker was counted by the loop. */
static int probe_check(const struct sm_case *c, void *state,
                       const struct sm_worker *workers, char *msg,
                       size_t size) {
  struct probe_state *s = state;
  uint64_t total = 0;
  for (unsigned i = 0; i < c->threads; i++)
    total += workers[i].ops_at_stop;
  last_state.passes = atomic_load(&s->passes);
  if (s->fail_check || total != atomic_load(&s->passes)) {
    snprintf(msg, size, "probe counted %llu, state has %llu",
             (unsigned long long)total,
             (unsigned long long)atomic_load(&s->passes));
    return -EPROTO;
  }
  return 0;
}

static void probe_teardown(void *state) {
  free(state);
}

static const struct sm_variant probe_variant =
    SM_VARIANT("probe", "test", probe_worker);
static const long probe_values[] = {1, 2, 3};
static const struct sm_axis probe_axes[] = {
    {"a", probe_values, 3, probe_values, 1, 1, 3},
    {"b", probe_values, 2, probe_values, 2, 1, 3}};
static const struct sm_family probe_family = {.name = "probe",
                                              .variants = &probe_variant,
                                              .nvariants = 1,
                                              .axes = probe_axes,
                                              .naxes = 2,
                                              .setup = probe_setup,
                                              .check = probe_check,
                                              .teardown = probe_teardown};

/* Runs one probe window with `threads` threads pinned by `placement`. */
static int probe_window(unsigned threads, enum sm_placement placement,
                        struct sm_window *w, char *msg, size_t size) {
  int pus[8];
  cr_assert_leq(threads, 8);
  cr_assert_eq(sm_topology_plan_threads(topo, placement, threads, pus), 0);
  struct sm_case c = {.family = &probe_family,
                      .variant = &probe_variant,
                      .threads = threads,
                      .placement = placement,
                      .placement_name = sm_placement_name(placement),
                      .os_pus = pus};
  struct sm_window_config cfg = {
      .warmup_ns = 5000000, .duration_ns = 20000000, .topo = topo};
  return sm_runner_window(&cfg, &c, w, NULL, msg, size);
}

TestSuite(runner, .init = load_machine, .fini = free_machine, .timeout = 60);

Test(runner, window_counts_only_the_measured_phase) {
  struct sm_window w;
  char msg[160];
  /* The rate is the passes over the span from the first MEASURE edge a
   * thread saw to the last STOP edge, which differs from the runner's
   * window only by how late a thread noticed an edge; a thread's time per
   * op follows from it. A thread preempted across an edge (another process
   * on a 2-vCPU machine) notices it tens of ms late: up to three windows,
   * one of which must agree. */
  double plain = 0;
  for (int attempt = 0; attempt < 3; attempt++) {
    cr_assert_eq(probe_window(2, SM_PLACE_COMPACT, &w, msg, sizeof msg), 0,
                 "%s", msg);
    cr_assert_gt(w.ops, 0);
    /* The measured ops are a part of all passes (warmup ones excluded). */
    cr_assert_lt(w.ops, last_state.passes);
    cr_assert_gt(w.window_ns, 0);
    plain = (double)w.ops / (w.window_ns / 1e9);
    if (w.ops_per_s > 0.5 * plain && w.ops_per_s < 1.05 * plain)
      break;
  }
  cr_assert(w.ops_per_s > 0.5 * plain && w.ops_per_s < 1.05 * plain,
            "rate %g against ops over the window %g", w.ops_per_s, plain);
  cr_assert_float_eq(w.ns_per_op, 2.0 * 1e9 / w.ops_per_s, w.ns_per_op * 1e-9);
  cr_assert(w.fairness_jain > 0.5 && w.fairness_jain <= 1.0 + 1e-12);
  cr_assert_leq(w.share_min, 1.0 + 1e-12);
  cr_assert_geq(w.share_max, 1.0 - 1e-12);
}

Test(runner, oversubscribed_and_unpinned_windows_run) {
  struct sm_window w;
  char msg[160];
  cr_assert_eq(probe_window(4, SM_PLACE_COMPACT, &w, msg, sizeof msg), 0, "%s",
               msg);
  cr_assert_gt(w.ops, 0);
  cr_assert_eq(probe_window(3, SM_PLACE_NONE, &w, msg, sizeof msg), 0, "%s",
               msg);
  cr_assert_gt(w.ops, 0);
}

Test(runner, failed_self_check_is_reported) {
  struct sm_window w;
  char msg[160] = "";
  fail_next_check = 1;
  int rc = probe_window(1, SM_PLACE_COMPACT, &w, msg, sizeof msg);
  fail_next_check = 0;
  cr_assert_eq(rc, -EPROTO);
  cr_assert(strstr(msg, "probe counted") != NULL, "message: %s", msg);
}

Test(runner, overhead_probe_is_positive) {
  double ns = sm_runner_overhead_ns(topo, 20000000);
  cr_assert_gt(ns, 0.0);
}

/* Plans on a synthetic 2-package, 2-core, 2-SMT topology: 8 PUs. */
Test(plan, expands_axes_threads_and_placements) {
  struct sm_topology *synthetic;
  struct sm_topology_opts opts = {.synthetic = "pack:2 core:2 pu:2"};
  cr_assert_eq(sm_topology_load(&opts, &synthetic), 0);
  const unsigned threads[] = {1, 4};
  const enum sm_placement placements[] = {SM_PLACE_COMPACT, SM_PLACE_SMT_FIRST};
  const char *filters[] = {"contention/mutex"};
  struct sm_plan_request req = {.filters = filters,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 2,
                                .placements = placements,
                                .nplacements = 2,
                                .quick = true};
  struct sm_plan plan;
  cr_assert_eq(sm_plan_build(&req, synthetic, &plan), 0);
  /* quick contention: 5 read shares x 1 cs length x 2 threads x 2 places */
  cr_assert_eq(plan.ncases, 20);
  cr_assert_str_eq(plan.cases[0].params, "read_pct=0;cs_ns=0");
  cr_assert_str_eq(plan.cases[0].cpus, "0");
  /* 4 threads compact: one per core first (PUs 0,2,4,6); smt-first packs */
  cr_assert_str_eq(plan.cases[2].cpus, "0 2 4 6");
  cr_assert_str_eq(plan.cases[3].cpus, "0 1 2 3");
  cr_assert_str_eq(plan.skipped, "");
  sm_plan_free(&plan);
  sm_topology_free(synthetic);
}

Test(plan, impossible_placement_is_skipped_and_named) {
  struct sm_topology *synthetic;
  struct sm_topology_opts opts = {.synthetic = "pack:1 core:2 pu:1"};
  cr_assert_eq(sm_topology_load(&opts, &synthetic), 0);
  const unsigned threads[] = {2};
  const enum sm_placement both[] = {SM_PLACE_SMT_FIRST, SM_PLACE_SCATTER};
  enum sm_placement possible[2];
  char skipped[64];
  size_t npossible = sm_plan_split_placements(synthetic, both, 2, possible,
                                              skipped, sizeof skipped);
  cr_assert_eq(npossible, 1);
  cr_assert_eq(possible[0], SM_PLACE_SCATTER);
  cr_assert_str_eq(skipped, "smt-first");
  /* A thread-shaped family only: pair-shaped ones add their own skipped
   * pair placements. */
  const char *filter = "contention";
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 1,
                                .placements = possible,
                                .nplacements = npossible,
                                .skipped_placements = skipped,
                                .quick = true};
  struct sm_plan plan;
  cr_assert_eq(sm_plan_build(&req, synthetic, &plan), 0);
  cr_assert_str_eq(plan.skipped, "smt-first");
  for (size_t i = 0; i < plan.ncases; i++) /* pair/single: no placement */
    if (plan.cases[i].family->shape == SM_SHAPE_THREADS)
      cr_assert_eq(plan.cases[i].placement, SM_PLACE_SCATTER);
  sm_plan_free(&plan);
  /* Nothing possible: no plan, and the skipped one still named. */
  npossible = sm_plan_split_placements(synthetic, both, 1, possible, skipped,
                                       sizeof skipped);
  cr_assert_eq(npossible, 0);
  req.nplacements = npossible;
  cr_assert_eq(sm_plan_build(&req, synthetic, &plan), -ENOTSUP);
  cr_assert_str_eq(plan.skipped, "smt-first");
  /* A placement the planner is handed but the machine cannot provide fails
   * the plan instead of being probed again. */
  req.placements = both;
  req.nplacements = 1;
  cr_assert_neq(sm_plan_build(&req, synthetic, &plan), 0);
  sm_plan_free(&plan);
  sm_topology_free(synthetic);
}

Test(plan, filters_match_family_or_variant_globs) {
  const char *good[] = {"contention", "contention/atomic_*", "cont*"};
  const char *bad[] = {"contention", "nosuch"};
  struct sm_plan_request req = {.filters = good, .nfilters = 3};
  cr_assert_eq(sm_plan_unmatched_filter(&req), -1);
  req.filters = bad;
  req.nfilters = 2;
  cr_assert_eq(sm_plan_unmatched_filter(&req), 1);
}

/* Two cases, three reps, one metric with a NaN in one case. */
Test(results, summary_groups_by_case_and_drops_undefined_metrics) {
  char dir[] = "/tmp/syncmark-results-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  struct sm_case cases[2] = {
      {.family = &probe_family, .variant = &probe_variant, .threads = 1},
      {.family = &probe_family, .variant = &probe_variant, .threads = 2}};
  strcpy(cases[0].params, "a=1");
  strcpy(cases[1].params, "a=2");
  cases[0].cpus = "0";
  cases[1].cpus = "0 1";
  cases[0].placement_name = cases[1].placement_name = "compact";
  struct sm_results r = {0};
  for (unsigned rep = 1; rep <= 3; rep++) {
    cr_assert_eq(sm_results_add(&r, 0, rep, "ops_per_s", "ops/s", rep), 0);
    cr_assert_eq(sm_results_add(&r, 1, rep, "ops_per_s", "ops/s", 10 * rep), 0);
    cr_assert_eq(
        sm_results_add(&r, 1, rep, "ns_per_op", "ns", rep == 2 ? NAN : 1), 0);
  }
  char raw[256], summary[256];
  snprintf(raw, sizeof raw, "%s/raw.csv", dir);
  snprintf(summary, sizeof summary, "%s/summary.csv", dir);
  cr_assert_eq(sm_results_write_raw(&r, cases, raw), 0);
  cr_assert_eq(sm_results_write_summary(&r, cases, 2, summary), 0);
  struct sm_csv_table t;
  cr_assert_eq(sm_csv_read(raw, &t), 0);
  cr_assert_eq(t.nrows, 9);
  cr_assert_str_eq(t.rows[1][sm_csv_column(&t, "cpus")], "0 1");
  cr_assert_str_eq(t.rows[1][sm_csv_column(&t, "placement")], "compact");
  sm_csv_table_free(&t);
  cr_assert_eq(sm_csv_read(summary, &t), 0);
  cr_assert_eq(t.nrows, 2, "the NaN metric must have no summary row");
  int median = sm_csv_column(&t, "median"), n = sm_csv_column(&t, "n");
  cr_assert_str_eq(t.rows[0][median], "2");
  cr_assert_str_eq(t.rows[1][median], "20");
  cr_assert_str_eq(t.rows[1][n], "3");
  sm_csv_table_free(&t);
  sm_results_free(&r);
  unlink(raw);
  unlink(summary);
  rmdir(dir);
}

/* Every variant of every registered family runs one short repetition of
 * its first two quick cases on this machine (for window families: 1 and 3
 * threads) and passes its own self-check, or says why it is skipped. */
/* The window of the every-variant self-check of case c: 10 ms; for
 * stack's cases in a sanitizer build ten times that (ThreadSanitizer slows
 * thread creation enough that no pass of stack/idle's 64 threads fits in
 * 10 ms). */
static uint64_t self_check_window_ns(const struct sm_case *c) {
#ifdef SYNCMARK_SANITIZED
  if (strcmp(c->family->name, "stack") == 0)
    return 100000000u;
#endif
  (void)c;
  return 10000000u;
}

Test(runner, every_registered_variant_passes_its_self_check) {
  const unsigned threads[] = {1, 3};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  for (size_t f = 0; f < sm_nfamilies; f++) {
    const char *filter = sm_families[f]->name;
    struct sm_plan_request req = {.filters = &filter,
                                  .nfilters = 1,
                                  .threads = threads,
                                  .nthreads = 2,
                                  .placements = &compact,
                                  .nplacements = 1,
                                  .quick = true};
    struct sm_plan plan;
    cr_assert_eq(sm_plan_build(&req, topo, &plan), 0);
    const struct sm_variant *variant = NULL;
    unsigned ran = 0;
    for (size_t i = 0; i < plan.ncases; i++) {
      const struct sm_case *c = &plan.cases[i];
      if (c->variant != variant) {
        variant = c->variant;
        ran = 0;
      }
      if (ran++ >= 2)
        continue;
      struct sm_window_config cfg = {.warmup_ns = 2000000,
                                     .duration_ns = self_check_window_ns(c),
                                     .topo = topo,
                                     .quick = 1};
      char label[96];
      sm_case_label(c, label, sizeof label);
      /* A window in which the OS gave the threads no CPU (a loaded
       * machine) proves nothing either way: up to three tries. */
      for (int attempt = 1; attempt <= 3; attempt++) {
        struct sm_results r = {0};
        char msg[256] = "";
        int rc = sm_runner_repetition(&cfg, c, 0, 1, &r, msg, sizeof msg);
        cr_assert(rc == 0 || rc == SM_MEASURE_SKIP, "%s %s %s: %s", label,
                  c->params, c->placement_name, msg);
        if (rc == 0)
          cr_assert_gt(r.nrows, 0, "%s %s gave no metric", label, c->params);
        /* A family under the runner declares every metric it writes, in
         * the unit it writes it. */
        for (size_t k = 0; rc == 0 && !c->family->measure && k < r.nrows; k++) {
          const struct sm_metric_decl *d =
              sm_metric_declared(c->family->name, r.rows[k].metric);
          cr_assert_not_null(d, "%s writes %s, which it does not declare",
                             label, r.rows[k].metric);
          cr_assert_str_eq(d->unit, r.rows[k].unit, "%s %s", label,
                           r.rows[k].metric);
        }
        /* A window family's rate (its own metrics come first; a window
         * whose threads were left behind, a deadlock, has none). Idle: no
         * operation at all (0); a window too fast to time (nan, valid 0)
         * did work. */
        double rate = 1;
        bool idle = rc == 0 && !c->family->measure &&
                    sm_results_values(&r, 0, "ops_per_s", &rate, 1) == 1 &&
                    !(rate > 0) && !isnan(rate);
        sm_results_free(&r);
        if (!idle)
          break;
#ifdef SYNCMARK_SANITIZED
        /* Under a sanitizer a batch of the lesson's locked pool may not
         * finish in a short window (measured: spawn_vs_pool/shared_queue
         * under ThreadSanitizer); its threads still ran, which is what
         * this build checks. */
        if (attempt == 3) {
          cr_log_warn("%s %s did no counted work in 3 windows under a "
                      "sanitizer",
                      label, c->params);
          break;
        }
#endif
        cr_assert_lt(attempt, 3, "%s %s did no work in 3 windows", label,
                     c->params);
      }
    }
    sm_plan_free(&plan);
  }
}

/* A measuring family for the planner and sink tests: pair shaped, adds a
 * metric and a series point, and skips its "absent" variant. */
static int sink_measure(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t size) {
  (void)cfg;
  if (strcmp(c->variant->name, "absent") == 0) {
    snprintf(msg, size, "the peer is not installed");
    return SM_MEASURE_SKIP;
  }
  int rc = sm_sink_metric(sink, "p50_ns", "ns", 42);
  if (rc == 0)
    rc = sm_sink_series(sink, "depth", "messages", 0.5, 7);
  return rc;
}

static const struct sm_variant sink_variants[] = {
    SM_VARIANT("present", "test", NULL), SM_VARIANT("absent", "test", NULL)};
static const struct sm_family pair_family = {.name = "pairs",
                                             .variants = sink_variants,
                                             .nvariants = 2,
                                             .measure = sink_measure,
                                             .shape = SM_SHAPE_PAIR};

static const long single_values[] = {16, 64};
static const struct sm_axis single_axes[] = {
    {"kib", single_values, 2, single_values, 1, 16, 64}};
static const struct sm_family single_family = {.name = "single",
                                               .variants = sink_variants,
                                               .nvariants = 1,
                                               .axes = single_axes,
                                               .naxes = 1,
                                               .measure = sink_measure,
                                               .shape = SM_SHAPE_SINGLE};
static const unsigned oversub_multiples[] = {1, 4};
static const struct sm_family multiple_family = {.name = "multiples",
                                                 .variants = &probe_variant,
                                                 .nvariants = 1,
                                                 .extra_threads = 1,
                                                 .auto_pu_multiples =
                                                     oversub_multiples,
                                                 .nauto_pu_multiples = 2};

/* Plans the given family alone on a synthetic topology. */
static void plan_one(const struct sm_family *family, const char *synthetic,
                     bool threads_auto, struct sm_plan *plan) {
  struct sm_topology *t;
  struct sm_topology_opts opts = {.synthetic = synthetic};
  cr_assert_eq(sm_topology_load(&opts, &t), 0);
  const unsigned threads[] = {2};
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.threads = threads,
                                .nthreads = 1,
                                .threads_auto = threads_auto,
                                .allowed_pus = 4,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true,
                                .families = &family,
                                .nfamilies = 1};
  cr_assert_eq(sm_plan_build(&req, t, plan), 0);
  sm_topology_free(t);
}

/* On 1 package, 1 L3, 2 cores of 2 PUs the pair shape gives same-pu,
 * smt-sibling, same-l3 and an unpinned pair per variant, and names the
 * pair placements it skipped. */
Test(plan, pair_shape_covers_the_pair_placements_offered) {
  struct sm_plan plan;
  plan_one(&pair_family, "pack:1 l3:1 core:2 pu:2", false, &plan);
  cr_assert_eq(plan.ncases, 8);
  const char *want[] = {"same-pu", "smt-sibling", "same-l3", "none"};
  const char *cpus[] = {"0 0", "0 1", "0 2", "0-3"};
  for (int i = 0; i < 4; i++) {
    cr_assert_str_eq(plan.cases[i].placement_name, want[i]);
    cr_assert_str_eq(plan.cases[i].cpus, cpus[i]);
    cr_assert_eq(plan.cases[i].threads, 2);
  }
  cr_assert_str_eq(plan.skipped, "pair cross-l3; pair cross-package");
  sm_plan_free(&plan);
}

/* The single shape gives one unpinned case per axis value; PU multiples
 * replace an automatic thread list, and extra threads get their own PUs. */
Test(plan, single_shape_and_pu_multiples) {
  struct sm_plan plan;
  plan_one(&single_family, "pack:1 core:4 pu:1", false, &plan);
  cr_assert_eq(plan.ncases, 1);
  cr_assert_str_eq(plan.cases[0].params, "kib=16");
  cr_assert_eq(plan.cases[0].threads, 1);
  cr_assert_eq(plan.cases[0].os_pus[0], -1);
  cr_assert_str_eq(plan.cases[0].placement_name, "none");
  sm_plan_free(&plan);
  plan_one(&multiple_family, "pack:1 core:4 pu:1", true, &plan);
  cr_assert_eq(plan.ncases, 2);
  cr_assert_eq(plan.cases[0].threads, 4);
  cr_assert_eq(plan.cases[1].threads, 16);
  sm_plan_free(&plan);
  plan_one(&multiple_family, "pack:1 core:4 pu:1", false, &plan);
  cr_assert_eq(plan.ncases, 1);
  cr_assert_str_eq(plan.cases[0].cpus, "0 1 2", "2 threads + 1 extra");
  sm_plan_free(&plan);
}

/* The measure path: rows through the sink, a skip with its reason, and the
 * series writer's file. */
Test(results, measure_sink_rows_skip_and_series_file) {
  int pus[2] = {-1, -1};
  struct sm_case c = {.family = &pair_family,
                      .variant = &sink_variants[0],
                      .threads = 2,
                      .placement_name = "none",
                      .os_pus = pus,
                      .cpus = "0 1"};
  struct sm_window_config cfg = {.duration_ns = 1000, .topo = topo};
  struct sm_results r = {0};
  char msg[128];
  cr_assert_eq(sm_runner_repetition(&cfg, &c, 0, 1, &r, msg, sizeof msg), 0);
  /* The peer's row and the runner's drift probe; and, where this machine
   * has two PUs for the unpinned pair, its pair probe's (unless a busy
   * machine left the probe's partner unanswered). */
  int pair[2];
  bool probed = sm_drift_pair_pus(topo, &c, pair) == 0;
  cr_assert(r.nrows == 2 || (probed && r.nrows == 3), "%zu rows", r.nrows);
  cr_assert_str_eq(r.rows[0].metric, "p50_ns");
  cr_assert_str_eq(r.rows[1].metric, "drift_probe_ns");
  cr_assert_gt(r.rows[1].value, 0);
  if (r.nrows == 3)
    cr_assert_str_eq(r.rows[2].metric, "pair_probe_ns");
  cr_assert_eq(r.npoints, 1);
  struct sm_case absent = c;
  absent.variant = &sink_variants[1];
  cr_assert_eq(sm_runner_repetition(&cfg, &absent, 1, 1, &r, msg, sizeof msg),
               SM_MEASURE_SKIP);
  cr_assert_str_eq(msg, "the peer is not installed");
  struct sm_sink sink = {.results = &r};
  cr_assert_eq(sm_sink_metric(&sink, "Bad Name", "ns", 1), -EINVAL);
  char path[] = "/tmp/syncmark-series-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(sm_results_write_series(&r, &c, path), 0);
  struct sm_csv_table t;
  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.nrows, 1);
  cr_assert_str_eq(t.rows[0][sm_csv_column(&t, "series")], "depth");
  cr_assert_str_eq(t.rows[0][sm_csv_column(&t, "t_s")], "0.5");
  sm_csv_table_free(&t);
  unlink(path);
  bool drop[1] = {true};
  sm_results_drop_cases(&r, drop);
  cr_assert_eq(r.nrows + r.npoints, 0);
  sm_results_free(&r);
}

/* A time per operation that is not above the runner's overhead (here set
 * far above any real one) is marked invalid, never reported as a number;
 * the same window against the real floor is valid. */
Test(runner, ns_per_op_below_the_floor_is_invalid) {
  int pu;
  cr_assert_eq(sm_topology_plan_threads(topo, SM_PLACE_COMPACT, 1, &pu), 0);
  struct sm_case c = {.family = &probe_family,
                      .variant = &probe_variant,
                      .threads = 1,
                      .placement = SM_PLACE_COMPACT,
                      .placement_name = "compact",
                      .os_pus = &pu};
  struct sm_window_config cfg = {.warmup_ns = 2000000,
                                 .duration_ns = 10000000,
                                 .topo = topo,
                                 .overhead_ns = 1e9};
  struct sm_results r = {0};
  char msg[160];
  cr_assert_eq(sm_runner_repetition(&cfg, &c, 0, 1, &r, msg, sizeof msg), 0,
               "%s", msg);
  cr_assert_eq(metric_of(&r, 0, "valid"), 0);
  cr_assert(isnan(metric_of(&r, 0, "ns_per_op")));
  cr_assert(isnan(metric_of(&r, 0, "ops_per_s")));
  struct sm_summary s;
  cr_assert_neq(sm_results_summary(&r, 0, "ns_per_op", &s), 0,
                "no summary of an invalid value");
  sm_results_free(&r);
  cfg.overhead_ns = sm_runner_overhead_ns(topo, 20000000);
  cr_assert_eq(sm_runner_repetition(&cfg, &c, 0, 1, &r, msg, sizeof msg), 0,
               "%s", msg);
  if (metric_of(&r, 0, "ops_per_s") > 0) /* the thread got the CPU */
    cr_assert_eq(metric_of(&r, 0, "valid"), 1, "an atomic add per pass");
  sm_results_free(&r);
}

/* A family of the PU-pairs shape for the planner tests. */
static const struct sm_variant pu_pair_variants[] = {
    SM_VARIANT("one", "test", probe_worker),
    SM_VARIANT("two", "test", probe_worker)};
static const struct sm_family pu_pair_family = {.name = "pupairs",
                                                .variants = pu_pair_variants,
                                                .nvariants = 2,
                                                .shape = SM_SHAPE_PU_PAIRS};

/* Plans pu_pair_family alone on a synthetic topology with a pair budget
 * (0: none), one pair taking a second. Returns sm_plan_build's result. */
static int plan_pu_pairs(const char *synthetic, double budget_s,
                         struct sm_plan *plan) {
  struct sm_topology *t;
  struct sm_topology_opts opts = {.synthetic = synthetic};
  cr_assert_eq(sm_topology_load(&opts, &t), 0);
  const struct sm_family *f = &pu_pair_family;
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.placements = &compact,
                                .nplacements = 1,
                                .families = &f,
                                .nfamilies = 1,
                                .pair_budget_s = budget_s,
                                .pair_case_s = 1.0};
  int rc = sm_plan_build(&req, t, plan);
  sm_topology_free(t);
  return rc;
}

/* The OS PU of case c's side `side` (its params from=..;to=..). */
static int pair_pu(const struct sm_case *c, int side) {
  int from, to;
  cr_assert_eq(sscanf(c->params, "from=%d;to=%d", &from, &to), 2, "%s",
               c->params);
  cr_assert_eq(c->os_pus[side], side ? to : from);
  return side ? to : from;
}

/* 4 PUs (2 cores x 2 SMT, one L3): every unordered pair once per variant,
 * in topology order, each named by its class. */
Test(plan, pu_pairs_cover_every_pair_in_topology_order) {
  struct sm_plan plan;
  cr_assert_eq(plan_pu_pairs("pack:1 l3:1 core:2 pu:2", 0, &plan), 0);
  cr_assert_eq(plan.ncases, 12);
  static const int want[6][2] = {{0, 1}, {0, 2}, {0, 3},
                                 {1, 2}, {1, 3}, {2, 3}};
  static const char *const cls[6] = {"smt-sibling", "same-l3", "same-l3",
                                     "same-l3",     "same-l3", "smt-sibling"};
  for (size_t i = 0; i < 12; i++) {
    const struct sm_case *c = &plan.cases[i];
    cr_assert_eq(c->threads, 2);
    cr_assert_eq(pair_pu(c, 0), want[i % 6][0]);
    cr_assert_eq(pair_pu(c, 1), want[i % 6][1]);
    cr_assert_str_eq(c->placement_name, cls[i % 6], "%s", c->params);
    cr_assert_str_eq(c->variant->name, i < 6 ? "one" : "two");
  }
  cr_assert_str_eq(plan.pu_sample, "pupairs: all 4 PUs");
  sm_plan_free(&plan);
}

/* 2 packages x 64 cores x 2 SMT (two L3 per package): 256 PUs, sampled to
 * 64 as every 4th core, both PUs of each; the pairs stay in topology order
 * and every class is present in the counts that sample implies. */
Test(plan, pu_pairs_sample_whole_cores_beyond_64_pus) {
  struct sm_plan plan;
  cr_assert_eq(plan_pu_pairs("pack:2 l3:2 core:32 pu:2", 0, &plan), 0);
  cr_assert_eq(plan.ncases, 2 * 2016);
  cr_assert_str_eq(plan.pu_sample,
                   "pupairs: 64 of 256 PUs: every 4th of 128 cores, whole "
                   "cores");
  size_t smt = 0, same_l3 = 0, cross_l3 = 0, cross_pkg = 0;
  int last_from = -1, last_to = -1;
  for (size_t i = 0; i < 2016; i++) {
    const struct sm_case *c = &plan.cases[i];
    int from = pair_pu(c, 0), to = pair_pu(c, 1);
    cr_assert_eq(from / 2 % 4, 0, "PU %d is not of every 4th core", from);
    cr_assert_eq(to / 2 % 4, 0, "PU %d is not of every 4th core", to);
    cr_assert_lt(from, to);
    cr_assert(from > last_from || (from == last_from && to > last_to),
              "pairs in topology order");
    last_from = from;
    last_to = to;
    const char *k = c->placement_name;
    smt += strcmp(k, "smt-sibling") == 0;
    same_l3 += strcmp(k, "same-l3") == 0;
    cross_l3 += strcmp(k, "cross-l3") == 0;
    cross_pkg += strcmp(k, "cross-package") == 0;
  }
  cr_assert_eq(smt, 32);
  cr_assert_eq(same_l3, 448);
  cr_assert_eq(cross_l3, 512);
  cr_assert_eq(cross_pkg, 1024);
  sm_plan_free(&plan);
}

/* A budget shrinks the sample to the PUs whose pairs fit (here 10 PUs: 45
 * pairs x 2 variants x 1 s <= 100 s); one too small for a single pair is
 * -ETIME with the numbers. */
Test(plan, pu_pairs_fit_the_budget_or_refuse_it) {
  struct sm_plan plan;
  cr_assert_eq(plan_pu_pairs("pack:2 l3:2 core:32 pu:2", 100, &plan), 0);
  cr_assert_eq(plan.ncases, 2 * 45);
  cr_assert_str_eq(plan.pu_sample,
                   "pupairs: 10 of 256 PUs: every 26th of 128 cores, whole "
                   "cores");
  sm_plan_free(&plan);
  cr_assert_eq(plan_pu_pairs("pack:1 core:2 pu:1", 1.5, &plan), -ETIME);
  cr_assert(strstr(plan.why, "1.5 s cannot hold one pass"), "%s", plan.why);
  cr_assert(strstr(plan.why, "allowed: 2 s or more"), "%s", plan.why);
  cr_assert_eq(plan_pu_pairs("pack:1 core:1 pu:1", 0, &plan), 0);
  cr_assert_eq(plan.ncases, 0, "one PU: no pair");
  cr_assert(strstr(plan.skipped, "pu pairs (one PU)"), "%s", plan.skipped);
  sm_plan_free(&plan);
}

/* gbench.json leaves an invalid repetition (no time) out of the
 * iterations and the aggregates and counts it in the context. */
Test(results, gbench_leaves_invalid_repetitions_out) {
  int pus[1] = {0};
  struct sm_case c = {.family = &probe_family,
                      .variant = &probe_variant,
                      .threads = 1,
                      .placement_name = "compact",
                      .os_pus = pus,
                      .cpus = "0"};
  struct sm_results r = {0};
  const double ns[] = {10, NAN, 12};
  for (unsigned rep = 1; rep <= 3; rep++) {
    cr_assert_eq(sm_results_add(&r, 0, rep, "ns_per_op", "ns", ns[rep - 1]), 0);
    cr_assert_eq(sm_results_add(&r, 0, rep, "valid", "0/1", rep != 2), 0);
  }
  char path[] = "/tmp/syncmark-gbench-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  bool dropped[1] = {false};
  cr_assert_eq(sm_gbench_write(path, &c, 1, dropped, &r, NULL, 0), 0);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  static char text[65536];
  size_t len = fread(text, 1, sizeof text - 1, f);
  text[len] = '\0';
  fclose(f);
  unlink(path);
  cr_assert(strstr(text, "\"syncmark_invalid_repetitions\": 1"), "%s", text);
  cr_assert_null(strstr(text, "null"), "no time is null: %s", text);
  size_t iterations = 0;
  for (const char *p = text; (p = strstr(p, "\"iteration\"")); p++)
    iterations++;
  cr_assert_eq(iterations, 2, "%s", text);
  cr_assert(strstr(text, "\"repetitions\": 2"), "%s", text);
  sm_results_free(&r);
}
