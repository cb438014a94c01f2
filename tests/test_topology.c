/* test_topology.c: topology loading, placement plans and binding tests. */
#include <criterion/criterion.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "syncmark/topology.h"

/* 2 packages x 2 L3 x 2 cores x 2 PUs; OS indexes follow logical order. */
#define TOPO_2222 "pack:2 l3:2 core:2 pu:2"
/* A small machine like the CI runner: one package, two cores, no SMT. */
#define TOPO_12 "pack:1 core:2 pu:1"
/* One L3 per package: same-l3 and cross-package pairs, but no cross-l3. */
#define TOPO_2142 "pack:2 l3:1 core:4 pu:2"

/* Loads a synthetic topology with an optional PU restriction and fails the
 * test when loading fails. Returns the topology. */
static struct sm_topology *load_synthetic(const char *desc,
                                          const char *allowed) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.synthetic = desc;
  opts.allowed_pus = allowed;
  struct sm_topology *topo = NULL;
  int rc = sm_topology_load(&opts, &topo);
  cr_assert_eq(rc, 0, "loading \"%s\" (allowed %s) failed: %d", desc,
               allowed ? allowed : "all", rc);
  cr_assert_not_null(topo);
  return topo;
}

/* Returns the error of loading `desc` restricted to `allowed`, asserting
 * that no topology came back on failure. */
static int load_error(const char *desc, const char *allowed) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.synthetic = desc;
  opts.allowed_pus = allowed;
  struct sm_topology *topo = (struct sm_topology *)&opts; /* poison */
  int rc = sm_topology_load(&opts, &topo);
  if (rc != 0)
    cr_assert_null(topo, "a failed load must leave *out NULL");
  sm_topology_free(rc == 0 ? topo : NULL);
  return rc;
}

/* Asserts every field of a counts struct. */
static void check_counts(const struct sm_topology *topo, unsigned packages,
                         unsigned numa, unsigned l3, unsigned cores,
                         unsigned pus, unsigned allowed_pus,
                         unsigned allowed_cores, unsigned max_per_core) {
  struct sm_topology_counts c;
  memset(&c, 0xa5, sizeof(c));
  sm_topology_counts(topo, &c);
  cr_expect_eq(c.packages, packages, "packages %u != %u", c.packages, packages);
  cr_expect_eq(c.numa_nodes, numa, "numa %u != %u", c.numa_nodes, numa);
  cr_expect_eq(c.l3_groups, l3, "l3 %u != %u", c.l3_groups, l3);
  cr_expect_eq(c.cores, cores, "cores %u != %u", c.cores, cores);
  cr_expect_eq(c.pus, pus, "pus %u != %u", c.pus, pus);
  cr_expect_eq(c.allowed_pus, allowed_pus, "allowed_pus %u != %u",
               c.allowed_pus, allowed_pus);
  cr_expect_eq(c.allowed_cores, allowed_cores, "allowed_cores %u != %u",
               c.allowed_cores, allowed_cores);
  cr_expect_eq(c.max_allowed_pus_per_core, max_per_core,
               "max_allowed_pus_per_core %u != %u", c.max_allowed_pus_per_core,
               max_per_core);
}

/* Plans `n` threads with `placement` and asserts the plan equals want[]. */
static void check_plan(const struct sm_topology *topo,
                       enum sm_placement placement, unsigned n,
                       const int *want) {
  int got[64];
  cr_assert_leq(n, 64u);
  for (unsigned i = 0; i < 64; i++)
    got[i] = -7;
  int rc = sm_topology_plan_threads(topo, placement, n, got);
  cr_assert_eq(rc, 0, "plan %s x%u failed: %d", sm_placement_name(placement), n,
               rc);
  for (unsigned i = 0; i < n; i++)
    cr_expect_eq(got[i], want[i], "%s x%u: thread %u on PU %d, want %d",
                 sm_placement_name(placement), n, i, got[i], want[i]);
  cr_expect_eq(got[n], -7, "plan wrote past nthreads");
}

/* Plans a pair and asserts the result (rc, and the PUs when rc == 0). */
static void check_pair(const struct sm_topology *topo,
                       enum sm_pair_placement placement, int want_rc, int a,
                       int b) {
  int got[2] = {-7, -7};
  int rc = sm_topology_plan_pair(topo, placement, got);
  cr_expect_eq(rc, want_rc, "pair %s: rc %d, want %d",
               sm_pair_placement_name(placement), rc, want_rc);
  if (rc == 0 && want_rc == 0) {
    cr_expect_eq(got[0], a, "pair %s: first PU %d, want %d",
                 sm_pair_placement_name(placement), got[0], a);
    cr_expect_eq(got[1], b, "pair %s: second PU %d, want %d",
                 sm_pair_placement_name(placement), got[1], b);
  }
}

/* Asserts the allowed PU list string. */
static void check_list(const struct sm_topology *topo, const char *want) {
  char buf[128];
  cr_assert_eq(sm_topology_allowed_list(topo, buf, sizeof(buf)), 0);
  cr_expect_str_eq(buf, want);
}

Test(topology_synthetic, counts_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  check_counts(topo, 2, 1, 4, 8, 16, 16, 8, 2);
  check_list(topo, "0-15");
  sm_topology_free(topo);
}

Test(topology_synthetic, pu_info_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  struct sm_pu_info pus[16];
  cr_assert_eq(sm_topology_allowed_pus(topo, pus, 16), 16u);
  for (int i = 0; i < 16; i++) {
    cr_expect_eq(pus[i].os_index, i, "PU %d os_index %d", i, pus[i].os_index);
    cr_expect_eq(pus[i].core, i / 2, "PU %d core %d", i, pus[i].core);
    cr_expect_eq(pus[i].l3, i / 4, "PU %d l3 %d", i, pus[i].l3);
    cr_expect_eq(pus[i].package, i / 8, "PU %d package %d", i, pus[i].package);
    cr_expect_eq(pus[i].numa, 0, "PU %d numa %d", i, pus[i].numa);
    cr_expect_eq(pus[i].smt_rank, i % 2, "PU %d smt_rank %d", i,
                 pus[i].smt_rank);
  }
  sm_topology_free(topo);
}

Test(topology_synthetic, allowed_pus_truncates_to_max) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  struct sm_pu_info pus[4];
  memset(pus, 0x5a, sizeof(pus));
  cr_assert_eq(sm_topology_allowed_pus(topo, pus, 3), 16u);
  cr_expect_eq(pus[2].os_index, 2);
  cr_expect_eq(pus[2].smt_rank, 0);
  int untouched;
  memset(&untouched, 0x5a, sizeof(untouched));
  cr_expect_eq(pus[3].os_index, untouched, "wrote past max");
  cr_expect_eq(sm_topology_allowed_pus(topo, NULL, 0), 16u);
  sm_topology_free(topo);
}

Test(topology_synthetic, compact_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  static const int c4[] = {0, 2, 4, 6};
  static const int c8[] = {0, 2, 4, 6, 8, 10, 12, 14};
  static const int c16[] = {0, 2, 4, 6, 8, 10, 12, 14,
                            1, 3, 5, 7, 9, 11, 13, 15};
  static const int c20[] = {0, 2, 4, 6,  8,  10, 12, 14, 1, 3,
                            5, 7, 9, 11, 13, 15, 0,  2,  4, 6};
  check_plan(topo, SM_PLACE_COMPACT, 4, c4);
  check_plan(topo, SM_PLACE_COMPACT, 8, c8);
  check_plan(topo, SM_PLACE_COMPACT, 16, c16);
  check_plan(topo, SM_PLACE_COMPACT, 20, c20);
  sm_topology_free(topo);
}

Test(topology_synthetic, scatter_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  /* Cores in scatter order: 0 4 2 6 1 5 3 7 (package, then L3, alternate). */
  static const int s4[] = {0, 8, 4, 12};
  static const int s8[] = {0, 8, 4, 12, 2, 10, 6, 14};
  static const int s16[] = {0, 8, 4, 12, 2, 10, 6, 14,
                            1, 9, 5, 13, 3, 11, 7, 15};
  static const int s20[] = {0, 8,  4, 12, 2, 10, 6, 14, 1, 9,
                            5, 13, 3, 11, 7, 15, 0, 8,  4, 12};
  check_plan(topo, SM_PLACE_SCATTER, 4, s4);
  check_plan(topo, SM_PLACE_SCATTER, 8, s8);
  check_plan(topo, SM_PLACE_SCATTER, 16, s16);
  check_plan(topo, SM_PLACE_SCATTER, 20, s20);
  sm_topology_free(topo);
}

Test(topology_synthetic, smt_first_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  static const int f4[] = {0, 1, 2, 3};
  static const int f8[] = {0, 1, 2, 3, 4, 5, 6, 7};
  static const int f16[] = {0, 1, 2,  3,  4,  5,  6,  7,
                            8, 9, 10, 11, 12, 13, 14, 15};
  static const int f20[] = {0,  1,  2,  3,  4,  5,  6, 7, 8, 9,
                            10, 11, 12, 13, 14, 15, 0, 1, 2, 3};
  check_plan(topo, SM_PLACE_SMT_FIRST, 4, f4);
  check_plan(topo, SM_PLACE_SMT_FIRST, 8, f8);
  check_plan(topo, SM_PLACE_SMT_FIRST, 16, f16);
  check_plan(topo, SM_PLACE_SMT_FIRST, 20, f20);
  sm_topology_free(topo);
}

Test(topology_synthetic, none_and_bad_plans) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  static const int n5[] = {-1, -1, -1, -1, -1};
  check_plan(topo, SM_PLACE_NONE, 5, n5);
  int pus[4];
  cr_expect_eq(sm_topology_plan_threads(topo, SM_PLACE_COMPACT, 0, pus),
               -EINVAL);
  cr_expect_eq(sm_topology_plan_threads(topo, SM_PLACE_COUNT, 4, pus), -EINVAL);
  cr_expect_eq(sm_topology_plan_threads(topo, (enum sm_placement) - 1, 4, pus),
               -EINVAL);
  cr_expect_eq(sm_topology_plan_pair(topo, SM_PAIR_COUNT, pus), -EINVAL);
  sm_topology_free(topo);
}

Test(topology_synthetic, pairs_2x2x2x2) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  check_pair(topo, SM_PAIR_SAME_PU, 0, 0, 0);
  check_pair(topo, SM_PAIR_SMT_SIBLING, 0, 0, 1);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 0, 2);
  check_pair(topo, SM_PAIR_CROSS_L3, 0, 0, 4);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, 0, 0, 8);
  sm_topology_free(topo);
}

Test(topology_synthetic, small_machine_without_smt) {
  struct sm_topology *topo = load_synthetic(TOPO_12, NULL);
  check_counts(topo, 1, 1, 0, 2, 2, 2, 2, 1);
  check_list(topo, "0-1");
  struct sm_pu_info pus[2];
  cr_assert_eq(sm_topology_allowed_pus(topo, pus, 2), 2u);
  for (int i = 0; i < 2; i++) {
    cr_expect_eq(pus[i].os_index, i);
    cr_expect_eq(pus[i].core, i);
    cr_expect_eq(pus[i].l3, -1, "no L3 in this topology");
    cr_expect_eq(pus[i].package, 0);
    cr_expect_eq(pus[i].smt_rank, 0);
  }
  static const int c4[] = {0, 1, 0, 1};
  check_plan(topo, SM_PLACE_COMPACT, 4, c4);
  check_plan(topo, SM_PLACE_SCATTER, 4, c4);
  int out[4] = {-7, -7, -7, -7};
  cr_expect_eq(sm_topology_plan_threads(topo, SM_PLACE_SMT_FIRST, 2, out),
               -ENOTSUP);
  check_pair(topo, SM_PAIR_SAME_PU, 0, 0, 0);
  check_pair(topo, SM_PAIR_SMT_SIBLING, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_SAME_L3, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_CROSS_L3, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, -ENOTSUP, 0, 0);
  sm_topology_free(topo);
}

Test(topology_synthetic, one_l3_per_package) {
  struct sm_topology *topo = load_synthetic(TOPO_2142, NULL);
  check_counts(topo, 2, 1, 2, 8, 16, 16, 8, 2);
  check_pair(topo, SM_PAIR_SAME_PU, 0, 0, 0);
  check_pair(topo, SM_PAIR_SMT_SIBLING, 0, 0, 1);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 0, 2);
  check_pair(topo, SM_PAIR_CROSS_L3, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, 0, 0, 8);
  /* One L3 per package: scatter alternates packages only. */
  static const int s8[] = {0, 8, 2, 10, 4, 12, 6, 14};
  check_plan(topo, SM_PLACE_SCATTER, 8, s8);
  static const int c6[] = {0, 2, 4, 6, 8, 10};
  check_plan(topo, SM_PLACE_COMPACT, 6, c6);
  sm_topology_free(topo);
}

Test(topology_restrict, first_core_pair) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, "0-3");
  check_counts(topo, 2, 1, 4, 8, 16, 4, 2, 2);
  check_list(topo, "0-3");
  static const int c4[] = {0, 2, 1, 3};
  static const int c6[] = {0, 2, 1, 3, 0, 2};
  check_plan(topo, SM_PLACE_COMPACT, 4, c4);
  check_plan(topo, SM_PLACE_COMPACT, 6, c6);
  check_plan(topo, SM_PLACE_SCATTER, 4, c4); /* one package, one L3 */
  static const int f4[] = {0, 1, 2, 3};
  check_plan(topo, SM_PLACE_SMT_FIRST, 4, f4);
  check_pair(topo, SM_PAIR_SMT_SIBLING, 0, 0, 1);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 0, 2);
  check_pair(topo, SM_PAIR_CROSS_L3, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, -ENOTSUP, 0, 0);
  sm_topology_free(topo);
}

Test(topology_restrict, one_pu_per_core) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, "0,2");
  check_counts(topo, 2, 1, 4, 8, 16, 2, 2, 1);
  check_list(topo, "0,2");
  int out[2];
  cr_expect_eq(sm_topology_plan_threads(topo, SM_PLACE_SMT_FIRST, 2, out),
               -ENOTSUP);
  static const int c3[] = {0, 2, 0};
  check_plan(topo, SM_PLACE_COMPACT, 3, c3);
  check_plan(topo, SM_PLACE_SCATTER, 3, c3);
  check_pair(topo, SM_PAIR_SMT_SIBLING, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 0, 2);
  sm_topology_free(topo);
}

Test(topology_restrict, uneven) {
  /* Allowed: core 0 PU 1; core 2 PUs 4,5; core 4 PU 8; cores 6, 7 both. */
  struct sm_topology *topo = load_synthetic(TOPO_2222, "1,4-5,8,12-15");
  check_counts(topo, 2, 1, 4, 8, 16, 8, 5, 2);
  check_list(topo, "1,4-5,8,12-15");
  struct sm_pu_info pus[8];
  cr_assert_eq(sm_topology_allowed_pus(topo, pus, 8), 8u);
  static const int os[] = {1, 4, 5, 8, 12, 13, 14, 15};
  static const int core[] = {0, 2, 2, 4, 6, 6, 7, 7};
  static const int rank[] = {0, 0, 1, 0, 0, 1, 0, 1};
  for (int i = 0; i < 8; i++) {
    cr_expect_eq(pus[i].os_index, os[i]);
    cr_expect_eq(pus[i].core, core[i]);
    cr_expect_eq(pus[i].l3, core[i] / 2);
    cr_expect_eq(pus[i].package, core[i] / 4);
    cr_expect_eq(pus[i].smt_rank, rank[i], "PU %d smt_rank %d", os[i],
                 pus[i].smt_rank);
  }
  static const int c8[] = {1, 4, 8, 12, 14, 5, 13, 15};
  check_plan(topo, SM_PLACE_COMPACT, 8, c8);
  /* Rank 0: package 0 gives cores 0, 2; package 1 gives 4, 6 (other L3),
   * then 7; interleaved 0 4 2 6 7. Rank 1: cores 2, 6, 7. */
  static const int s8[] = {1, 8, 4, 12, 14, 5, 13, 15};
  check_plan(topo, SM_PLACE_SCATTER, 8, s8);
  static const int f9[] = {1, 4, 5, 8, 12, 13, 14, 15, 1};
  check_plan(topo, SM_PLACE_SMT_FIRST, 9, f9);
  check_pair(topo, SM_PAIR_SAME_PU, 0, 1, 1);
  check_pair(topo, SM_PAIR_SMT_SIBLING, 0, 4, 5);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 12, 14);
  check_pair(topo, SM_PAIR_CROSS_L3, 0, 1, 4);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, 0, 1, 8);
  sm_topology_free(topo);
}

Test(topology_restrict, partly_missing_pus) {
  struct sm_topology *topo = load_synthetic(TOPO_12, "1-40");
  check_counts(topo, 1, 1, 0, 2, 2, 1, 1, 1);
  check_list(topo, "1");
  sm_topology_free(topo);
}

Test(topology_errors, malformed_input) {
  cr_expect_eq(load_error("pack:2 bogus:3", NULL), -EINVAL);
  cr_expect_eq(load_error("garbage", NULL), -EINVAL);
  cr_expect_eq(load_error("pack:0 pu:1", NULL), -EINVAL);
  static const char *const bad_lists[] = {
      "", "x", "0-", "3-1", "-1", "1,,2", "0-3,", "99999999999", "0 1", "1;2"};
  for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
    cr_expect_eq(load_error(TOPO_2222, bad_lists[i]), -EINVAL,
                 "PU list \"%s\" should be rejected", bad_lists[i]);
  cr_expect_eq(load_error(TOPO_2222, " 0-3 "), 0, "blanks around a list");
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.synthetic = TOPO_12;
  opts.xml_path = "/nonexistent.xml";
  struct sm_topology *topo = NULL;
  cr_expect_eq(sm_topology_load(&opts, &topo), -EINVAL, "synthetic and XML");
  cr_expect_null(topo);
  cr_expect_eq(sm_topology_load(&opts, NULL), -EINVAL);
}

Test(topology_errors, no_pu_left) {
  cr_expect_eq(load_error(TOPO_2222, "16-31"), -ENODEV);
  cr_expect_eq(load_error(TOPO_12, "5"), -ENODEV);
}

Test(topology_errors, missing_xml) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.xml_path = "/nonexistent/syncmark-topology.xml";
  struct sm_topology *topo = NULL;
  cr_expect_lt(sm_topology_load(&opts, &topo), 0);
  cr_expect_null(topo);
}

Test(topology_errors, list_too_small) {
  struct sm_topology *topo = load_synthetic(TOPO_2222, NULL);
  char buf[4] = "abc";
  cr_expect_eq(sm_topology_allowed_list(topo, buf, sizeof(buf)), -ENOSPC);
  cr_expect_str_eq(buf, "");
  char five[5];
  cr_expect_eq(sm_topology_allowed_list(topo, five, sizeof(five)), 0);
  cr_expect_str_eq(five, "0-15");
  cr_expect_eq(sm_topology_allowed_list(topo, NULL, 0), -ENOSPC);
  sm_topology_free(topo);
}

Test(topology_errors, bind_not_this_machine) {
  struct sm_topology *topo = load_synthetic(TOPO_12, NULL);
  cr_expect_eq(sm_topology_bind_thread(topo, 0), -ENOTSUP);
  cr_expect_eq(sm_topology_unbind_thread(topo), -ENOTSUP);
  sm_topology_free(topo);
  sm_topology_free(NULL);
}

Test(topology_xml, exported_synthetic_loads_but_does_not_bind) {
  hwloc_topology_t hw;
  cr_assert_eq(hwloc_topology_init(&hw), 0);
  cr_assert_eq(hwloc_topology_set_synthetic(hw, TOPO_2142), 0);
  cr_assert_eq(hwloc_topology_load(hw), 0);
  char path[64];
  snprintf(path, sizeof(path), "/tmp/syncmark-topo-%ld.xml", (long)getpid());
  cr_assert_eq(hwloc_topology_export_xml(hw, path, 0), 0);
  hwloc_topology_destroy(hw);

  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.xml_path = path;
  opts.allowed_pus = "8-15";
  struct sm_topology *topo = NULL;
  int rc = sm_topology_load(&opts, &topo);
  unlink(path);
  cr_assert_eq(rc, 0, "XML load failed: %d", rc);
  check_counts(topo, 2, 1, 2, 8, 16, 8, 4, 2);
  check_pair(topo, SM_PAIR_CROSS_PACKAGE, -ENOTSUP, 0, 0);
  check_pair(topo, SM_PAIR_SAME_L3, 0, 8, 10);
  cr_expect_eq(sm_topology_bind_thread(topo, 8), -ENOTSUP);
  sm_topology_free(topo);
}

Test(topology_names, round_trip) {
  static const char *const names[] = {"compact", "scatter", "smt-first",
                                      "none"};
  for (int i = 0; i < SM_PLACE_COUNT; i++) {
    const char *name = sm_placement_name((enum sm_placement)i);
    cr_assert_not_null(name);
    cr_expect_str_eq(name, names[i]);
    enum sm_placement p = SM_PLACE_COUNT;
    cr_expect_eq(sm_placement_parse(name, &p), 0);
    cr_expect_eq((int)p, i);
  }
  static const char *const pair_names[] = {"same-pu", "smt-sibling", "same-l3",
                                           "cross-l3", "cross-package"};
  for (int i = 0; i < SM_PAIR_COUNT; i++) {
    const char *name = sm_pair_placement_name((enum sm_pair_placement)i);
    cr_assert_not_null(name);
    cr_expect_str_eq(name, pair_names[i]);
    enum sm_pair_placement p = SM_PAIR_COUNT;
    cr_expect_eq(sm_pair_placement_parse(name, &p), 0);
    cr_expect_eq((int)p, i);
  }
  cr_expect_null(sm_placement_name(SM_PLACE_COUNT));
  cr_expect_null(sm_placement_name((enum sm_placement) - 1));
  cr_expect_null(sm_pair_placement_name(SM_PAIR_COUNT));
}

Test(topology_names, bad_names) {
  enum sm_placement p = SM_PLACE_SCATTER;
  cr_expect_eq(sm_placement_parse("Compact", &p), -EINVAL);
  cr_expect_eq(sm_placement_parse("", &p), -EINVAL);
  cr_expect_eq(sm_placement_parse("smt_first", &p), -EINVAL);
  cr_expect_eq(sm_placement_parse(NULL, &p), -EINVAL);
  cr_expect_eq(p, SM_PLACE_SCATTER, "a failed parse must not write");
  enum sm_pair_placement q = SM_PAIR_CROSS_L3;
  cr_expect_eq(sm_pair_placement_parse("same_pu", &q), -EINVAL);
  cr_expect_eq(sm_pair_placement_parse("cross-numa", &q), -EINVAL);
  cr_expect_eq(q, SM_PAIR_CROSS_L3);
}

Test(topology_real, load_bind_unbind) {
  cpu_set_t before;
  CPU_ZERO(&before);
  cr_assert_eq(sched_getaffinity(0, sizeof(before), &before), 0);

  struct sm_topology *topo = NULL;
  int rc = sm_topology_load(NULL, &topo);
  cr_assert_eq(rc, 0, "loading this machine failed: %d", rc);
  struct sm_topology_counts c;
  sm_topology_counts(topo, &c);
  cr_assert_geq(c.allowed_pus, 1u);
  cr_expect_leq(c.allowed_pus, c.pus);
  cr_expect_leq(c.allowed_pus, (unsigned)CPU_COUNT(&before));
  cr_expect_geq(c.allowed_cores, 1u);
  cr_expect_leq(c.allowed_cores, c.cores);
  cr_expect_geq(c.max_allowed_pus_per_core, 1u);

  struct sm_pu_info pus[1024];
  size_t n = sm_topology_allowed_pus(topo, pus, 1024);
  cr_assert_eq(n, c.allowed_pus);
  cr_assert_leq(n, 1024u);
  for (size_t i = 0; i < n; i++) {
    cr_expect(CPU_ISSET(pus[i].os_index, &before), "PU %d not in affinity",
              pus[i].os_index);
    rc = sm_topology_bind_thread(topo, pus[i].os_index);
    cr_expect_eq(rc, 0, "binding to PU %d failed: %d", pus[i].os_index, rc);
    cr_expect_eq(sched_getcpu(), pus[i].os_index);
    cpu_set_t now;
    CPU_ZERO(&now);
    cr_assert_eq(sched_getaffinity(0, sizeof(now), &now), 0);
    cr_expect_eq(CPU_COUNT(&now), 1);
    cr_expect(CPU_ISSET(pus[i].os_index, &now));
  }
  cr_expect_eq(sm_topology_bind_thread(topo, -1), -EINVAL);
  cr_expect_eq(sm_topology_bind_thread(topo, 1 << 20), -EINVAL);

  cr_expect_eq(sm_topology_unbind_thread(topo), 0);
  cpu_set_t after;
  CPU_ZERO(&after);
  cr_assert_eq(sched_getaffinity(0, sizeof(after), &after), 0);
  cr_expect_eq(CPU_COUNT(&after), (int)n);
  for (size_t i = 0; i < n; i++)
    cr_expect(CPU_ISSET(pus[i].os_index, &after));

  /* Plans only name allowed PUs. */
  int plan[8];
  cr_assert_eq(sm_topology_plan_threads(topo, SM_PLACE_SCATTER, 8, plan), 0);
  for (int i = 0; i < 8; i++)
    cr_expect(CPU_ISSET(plan[i], &after), "plan names PU %d", plan[i]);
  int pair[2];
  cr_expect_eq(sm_topology_plan_pair(topo, SM_PAIR_SAME_PU, pair), 0);
  cr_expect_eq(pair[0], pus[0].os_index);
  sm_topology_free(topo);
}

Test(topology_real, restricted_to_one_pu) {
  struct sm_topology *all = NULL;
  cr_assert_eq(sm_topology_load(NULL, &all), 0);
  struct sm_pu_info pus[2];
  size_t n = sm_topology_allowed_pus(all, pus, 2);
  sm_topology_free(all);

  char list[16];
  snprintf(list, sizeof(list), "%d", pus[0].os_index);
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.allowed_pus = list;
  struct sm_topology *topo = NULL;
  cr_assert_eq(sm_topology_load(&opts, &topo), 0);
  struct sm_topology_counts c;
  sm_topology_counts(topo, &c);
  cr_expect_eq(c.allowed_pus, 1u);
  check_list(topo, list);
  cr_expect_eq(sm_topology_bind_thread(topo, pus[0].os_index), 0);
  if (n > 1)
    cr_expect_eq(sm_topology_bind_thread(topo, pus[1].os_index), -EINVAL,
                 "a PU outside the restriction must be refused");
  cr_expect_eq(sm_topology_unbind_thread(topo), 0);
  cr_expect_eq(sched_getcpu(), pus[0].os_index);
  sm_topology_free(topo);
}
