/* test_c2c.c: the c2c family on this machine's matrix (every pair of
 * allowed PUs, both variants, its self-check and its declared metrics), and
 * the bad-input exit of a budget too small for one pass. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "metrics.h"
#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(c2c, .init = load_machine, .fini = free_machine, .timeout = 120);

/* Plans the c2c family alone on this machine. */
static void plan_c2c(struct sm_plan *plan) {
  const char *filter = "c2c";
  const enum sm_placement compact = SM_PLACE_COMPACT;
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .placements = &compact,
                                .nplacements = 1,
                                .quick = true};
  cr_assert_eq(sm_plan_build(&req, topo, plan), 0);
}

/* Every pair of this machine's allowed PUs (up to 64) is a case of each
 * variant: both threads pinned, one per PU of the pair, and the pair's
 * class agrees with where hwloc puts the two PUs. */
Test(c2c, plans_every_pair_of_this_machine) {
  struct sm_topology_counts counts;
  sm_topology_counts(topo, &counts);
  size_t k = counts.allowed_pus < SM_PU_PAIRS_MAX_PUS ? counts.allowed_pus
                                                      : SM_PU_PAIRS_MAX_PUS;
  struct sm_plan plan;
  plan_c2c(&plan);
  cr_assert_eq(plan.ncases, sm_family_c2c.nvariants * k * (k - 1) / 2);
  struct sm_pu_info pus[SM_PU_PAIRS_MAX_PUS];
  size_t n = sm_topology_allowed_pus(topo, pus, SM_PU_PAIRS_MAX_PUS);
  for (size_t i = 0; i < plan.ncases && n <= SM_PU_PAIRS_MAX_PUS; i++) {
    const struct sm_case *c = &plan.cases[i];
    const struct sm_pu_info *a = NULL, *b = NULL;
    for (size_t p = 0; p < n; p++) {
      a = pus[p].os_index == c->os_pus[0] ? &pus[p] : a;
      b = pus[p].os_index == c->os_pus[1] ? &pus[p] : b;
    }
    cr_assert(a && b && a != b, "%s: two allowed PUs", c->cpus);
    const char *want = a->core == b->core ? "smt-sibling"
                       : a->package != b->package
                           ? "cross-package"
                           : (a->l3 == b->l3 ? "same-l3" : "cross-l3");
    if (a->l3 < 0 && a->core != b->core && a->package == b->package)
      want = "same-package";
    cr_assert_str_eq(c->placement_name, want, "%s", c->cpus);
  }
  sm_plan_free(&plan);
}

/* One short repetition of every pair and variant here: the self-check
 * passes (the ball went back and forth), the one-way time is a positive
 * number or marked invalid, never a number below the floor, and every
 * metric is declared in the unit written. */
Test(c2c, this_machines_matrix_measures_and_checks) {
  struct sm_plan plan;
  plan_c2c(&plan);
  double overhead = sm_runner_overhead_ns(topo, 20000000);
  for (size_t i = 0; i < plan.ncases && i < 16; i++) {
    const struct sm_case *c = &plan.cases[i];
    struct sm_window_config cfg = {.warmup_ns = 2000000,
                                   .duration_ns = 20000000,
                                   .topo = topo,
                                   .overhead_ns = overhead};
    struct sm_results r = {0};
    char msg[256];
    cr_assert_eq(sm_runner_repetition(&cfg, c, 0, 1, &r, msg, sizeof msg), 0,
                 "%s %s: %s", c->variant->name, c->params, msg);
    double ns = metric_of(&r, 0, "ns_per_op");
    double valid = metric_of(&r, 0, "valid");
    if (valid == 1)
      cr_assert(ns > overhead && ns > 0, "%s: %g ns", c->params, ns);
    else
      cr_assert(isnan(ns), "an invalid value is not a number");
    cr_log_info("c2c/%s %s (%s): one-way %.1f ns", c->variant->name, c->params,
                c->placement_name, ns);
    for (size_t k = 0; k < r.nrows; k++) {
      const struct sm_metric_decl *d =
          sm_metric_declared("c2c", r.rows[k].metric);
      cr_assert_not_null(d, "%s undeclared", r.rows[k].metric);
      cr_assert_str_eq(d->unit, r.rows[k].unit);
    }
    sm_results_free(&r);
  }
  sm_plan_free(&plan);
}

/* A budget that cannot hold one pass of one pair: one message naming the
 * value and what is allowed, exit 2, no run folder. */
Test(c2c, budget_too_small_for_one_pass_exits_2) {
  struct sm_topology_counts counts;
  sm_topology_counts(topo, &counts);
  if (counts.allowed_pus < 2)
    cr_skip_test("one allowed PU: c2c has no pair, so no budget to refuse");
  char dir[] = "/tmp/sm_c2c_test.XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "cd %s && %s run c2c --quick --c2c-budget 0.01 --out out "
           ">stdout 2>stderr",
           dir, SYNCMARK_BIN);
  int status = system(cmd);
  cr_assert(WIFEXITED(status));
  cr_assert_eq(WEXITSTATUS(status), 2);
  char path[256], err[1024] = "";
  snprintf(path, sizeof path, "%s/stderr", dir);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  size_t len = fread(err, 1, sizeof err - 1, f);
  err[len] = '\0';
  fclose(f);
  cr_assert(strstr(err, "--c2c-budget: 0.01 s cannot hold one pass"), "%s",
            err);
  cr_assert(strstr(err, "allowed:"), "%s", err);
  cr_assert_eq(strchr(err, '\n'), err + len - 1, "one line: %s", err);
  struct stat st;
  snprintf(path, sizeof path, "%s/out", dir);
  cr_assert_neq(stat(path, &st), 0, "nothing written");
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
