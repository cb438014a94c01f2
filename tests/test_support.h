/* test_support.h: fixtures the Criterion test files share: this machine's
 * topology (loaded once per suite), the one value of a metric that a
 * repetition added, and removal of a temporary tree. Included by test files
 * only (static definitions). */
#ifndef SYNCMARK_TEST_SUPPORT_H
#define SYNCMARK_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
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
