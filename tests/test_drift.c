/* test_drift.c: the probes timed before every repetition: which PUs a
 * case's pair probe uses, a pair probe's value or its refusal, and the
 * rows they add. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <string.h>

#include "drift.h"
#include "syncmark/topology.h"

static const struct sm_variant variant = {.name = "v", .summary = "test"};
static const struct sm_family family = {.name = "probe_test",
                                        .summary = "test",
                                        .variants = &variant,
                                        .nvariants = 1};

/* A case of `threads` threads on os_pus (NULL: none recorded). */
static struct sm_case case_on(int *os_pus, unsigned threads) {
  return (struct sm_case){.family = &family,
                          .variant = &variant,
                          .threads = threads,
                          .placement_name = "test",
                          .os_pus = os_pus};
}

/* The pair is the case's first two distinct pinned PUs; a case on one PU
 * or of one thread has none; an unpinned case takes the machine's first
 * two allowed PUs (a synthetic machine of four). */
Test(drift, pair_pus_follow_the_case) {
  struct sm_topology *topo;
  struct sm_topology_opts opts = {.synthetic = "pack:1 core:4 pu:1"};
  cr_assert_eq(sm_topology_load(&opts, &topo), 0);
  int pair[2];
  int spread[3] = {2, 2, 3};
  struct sm_case c = case_on(spread, 3);
  cr_assert_eq(sm_drift_pair_pus(topo, &c, pair), 0);
  cr_assert_eq(pair[0], 2);
  cr_assert_eq(pair[1], 3);
  int same[2] = {1, 1};
  c = case_on(same, 2);
  cr_assert_eq(sm_drift_pair_pus(topo, &c, pair), -1, "one PU: no pair");
  int alone[1] = {-1};
  c = case_on(alone, 1);
  cr_assert_eq(sm_drift_pair_pus(topo, &c, pair), -1, "one thread");
  int unpinned[2] = {-1, -1};
  c = case_on(unpinned, 2);
  cr_assert_eq(sm_drift_pair_pus(topo, &c, pair), 0);
  cr_assert_eq(pair[0], 0);
  cr_assert_eq(pair[1], 1);
  c = case_on(NULL, 2);
  cr_assert_eq(sm_drift_pair_pus(topo, &c, pair), 0, "no PUs recorded");
  sm_topology_free(topo);
}

/* On this machine's first two allowed PUs the probe gives a one-way time
 * above 0 (a busy or slow machine may leave one unanswered within its
 * 50 ms: 10 tries); on a PU that does not exist it gives NAN, not a
 * number. Skips on a one-PU machine. */
Test(drift, pair_probe_measures_or_refuses) {
  struct sm_topology *topo;
  struct sm_topology_opts opts = {0};
  cr_assert_eq(sm_topology_load(&opts, &topo), 0);
  struct sm_pu_info pu[2];
  if (sm_topology_allowed_pus(topo, pu, 2) < 2) {
    sm_topology_free(topo);
    cr_skip_test("one allowed PU: no pair to probe");
  }
  int pair[2] = {pu[0].os_index, pu[1].os_index};
  double ns = NAN;
  for (int i = 0; i < 10 && isnan(ns); i++)
    ns = sm_drift_pair_probe_ns(topo, pair);
  cr_assert(ns > 0, "one-way %g ns", ns);
  cr_log_info("pair probe: %.1f ns one way between PUs %d and %d", ns, pair[0],
              pair[1]);
  int absent[2] = {pu[0].os_index, 100000};
  cr_assert(isnan(sm_drift_pair_probe_ns(topo, absent)),
            "a PU that does not exist gives no value");
  sm_topology_free(topo);
}

/* The record adds drift_probe_ns, and pair_probe_ns only when it is a
 * number. */
Test(drift, record_rows) {
  struct sm_results r = {0};
  cr_assert_eq(sm_drift_record(&r, 0, 1, 1000.0, NAN), 0);
  cr_assert_eq(r.nrows, 1);
  cr_assert_str_eq(r.rows[0].metric, "drift_probe_ns");
  cr_assert_eq(sm_drift_record(&r, 0, 2, 1000.0, 42.0), 0);
  cr_assert_eq(r.nrows, 3);
  cr_assert_str_eq(r.rows[2].metric, "pair_probe_ns");
  cr_assert_float_eq(r.rows[2].value, 42.0, 1e-9);
  sm_results_free(&r);
}
