/* test_support.h: fixtures the Criterion test files share: this machine's
 * topology (loaded once per suite), the one value of a metric that a
 * repetition added, a quick plan of some families' cases, repeated short
 * windows, the skip of a Rust std variant in a build without Rust, and
 * removal of a temporary tree. Included by test files
 * only (static definitions). */
#ifndef SYNCMARK_TEST_SUPPORT_H
#define SYNCMARK_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "results.h"
#include "runner.h"
#include "rust_std.h"
#include "syncmark/topology.h"

/* This machine, for the suite's tests. */
static struct sm_topology *topo;

/* Suite init: loads this machine's topology; fails the suite if hwloc
 * cannot. */
static inline void load_machine(void) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  cr_assert_eq(sm_topology_load(&opts, &topo), 0);
}

/* Suite fini: frees the topology. */
static inline void free_machine(void) {
  sm_topology_free(topo);
}

/* Returns the one value of `metric` that case i's repetition added; fails
 * the test when there is none or more than one. */
static inline double metric_of(const struct sm_results *r, size_t i,
                               const char *metric) {
  double v[2];
  cr_assert_eq(sm_results_values(r, i, metric, v, 2), 1, "no %s", metric);
  return v[0];
}

/* Builds the quick plan of the variants matching `filter` (2 threads,
 * unpinned, for a threads-shape family; a pair family gets its pair
 * placements), with the axis override `o` when not NULL; fails the test
 * when the plan cannot be built. */
static inline void plan_quick(const char *filter,
                              const struct sm_axis_override *o,
                              struct sm_plan *plan) {
  static const unsigned threads[] = {2};
  static const enum sm_placement none = SM_PLACE_NONE;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .threads = threads,
                                .nthreads = 1,
                                .placements = &none,
                                .nplacements = 1,
                                .quick = true,
                                .overrides = o,
                                .noverrides = o ? 1 : 0};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
}

/* Whether rc, a window's outcome for case c, is the skip of a Rust std
 * variant in a build without Rust (rustc absent, or ThreadSanitizer): the
 * one skip a test of every variant accepts. With Rust built, a Rust
 * variant must run like any other. */
static inline bool rust_variant_absent(int rc, const struct sm_case *c) {
  return rc == SM_MEASURE_SKIP && !SM_RUST_STD_BUILT &&
         sm_is_rust_variant(c->variant);
}

/* Runs `times` repetitions of case c under cfg, each of which must
 * return 0 (a stop hand-shake that hangs fails the test by its timeout);
 * a Rust std variant in a build without Rust is skipped after one. */
static inline void repeat_windows(const struct sm_case *c,
                                  const struct sm_window_config *cfg,
                                  int times) {
  for (int k = 0; k < times; k++) {
    struct sm_results r = {0};
    char msg[256] = "";
    int rc = sm_runner_repetition(cfg, c, 0, 1, &r, msg, sizeof msg);
    sm_results_free(&r);
    if (rust_variant_absent(rc, c))
      return;
    cr_assert_eq(rc, 0, "%s %s: %s", c->variant->name, c->placement_name, msg);
  }
}

/* nftw callback that removes one entry of a post-order (FTW_DEPTH) walk,
 * for teardowns; errors are ignored since the test's outcome is decided. */
static inline int remove_entry(const char *path, const struct stat *st,
                               int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

#endif
