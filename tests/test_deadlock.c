/* test_deadlock.c: the deadlock family: the unordered pattern is proven by
 * the detector and reported (its threads left behind by the runner), the
 * safe variants never deadlock, and hold_ns is limited to what the
 * runner's stop grace covers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "plan.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "test_support.h"

TestSuite(deadlock, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Returns the variant of the deadlock family called `name`. */
static const struct sm_variant *variant(const char *name) {
  for (size_t i = 0; i < sm_family_deadlock.nvariants; i++)
    if (strcmp(sm_family_deadlock.variants[i].name, name) == 0)
      return &sm_family_deadlock.variants[i];
  cr_assert_fail("no variant %s", name);
  return NULL;
}

/* Runs one unpinned repetition of `name` with hold_ns `hold` and a 50 ms
 * window into r, in this process (threads a deadlock leaves behind end
 * with the test's process); returns the repetition's result, msg holds
 * its message. */
static int run_rep(const char *name, long hold, struct sm_results *r, char *msg,
                   size_t size) {
  int pus[3] = {-1, -1, -1};
  struct sm_case c = {.family = &sm_family_deadlock,
                      .variant = variant(name),
                      .param = {hold},
                      .threads = 2,
                      .placement_name = "none",
                      .os_pus = pus};
  struct sm_window_config cfg = {
      .warmup_ns = 1000000, .duration_ns = 50000000, .topo = topo};
  return sm_runner_repetition(&cfg, &c, 0, 1, r, msg, size);
}

/* Returns the value of `metric` in r, or -1 when it is absent. */
static double metric(const struct sm_results *r, const char *metric) {
  for (size_t i = 0; i < r->nrows; i++)
    if (strcmp(r->rows[i].metric, metric) == 0)
      return r->rows[i].value;
  return -1;
}

/* Each thread holds its first lock for 1 ms before taking the second, in
 * opposite orders: the cycle forms on the first overlap, and the detector
 * must prove it and the repetition report it (with what came before it)
 * instead of hanging; the runner records no rate for it. */
Test(deadlock, unordered_with_long_hold_is_reported_as_deadlocked) {
  struct sm_results r = {0};
  char msg[256] = "";
  cr_assert_eq(run_rep("unordered", 1000000, &r, msg, sizeof msg), 0, "%s",
               msg);
  cr_assert_eq(metric(&r, "deadlocked"), 1);
  cr_assert_geq(metric(&r, "time_to_deadlock_ms"), 0);
  cr_assert_geq(metric(&r, "ops_before_deadlock"), 0);
  cr_assert_eq(metric(&r, "ops_per_s"), -1, "a deadlocked rep has a rate");
  sm_results_free(&r);
}

/* The same long hold in one global order, or with trylock and back-off,
 * never deadlocks and reports its throughput. */
Test(deadlock, ordered_and_trylock_never_deadlock) {
  const char *names[] = {"ordered", "trylock_backoff"};
  for (int i = 0; i < 2; i++) {
    struct sm_results r = {0};
    char msg[256] = "";
    cr_assert_eq(run_rep(names[i], 1000000, &r, msg, sizeof msg), 0, "%s: %s",
                 names[i], msg);
    cr_assert_eq(metric(&r, "deadlocked"), 0, "%s", names[i]);
    cr_assert_geq(metric(&r, "ops_per_s"), 0, "%s", names[i]);
    double backoffs = metric(&r, "backoffs_per_op");
    if (i == 0)
      cr_assert_eq(backoffs, -1, "ordered reports back-offs");
    else /* defined when the window saw an operation */
      cr_assert(backoffs >= 0 || metric(&r, "ops_per_s") == 0);
    sm_results_free(&r);
  }
}

/* A hold longer than the stop grace is built for is refused by the
 * planner. */
Test(deadlock, hold_beyond_one_ms_is_rejected) {
  const char *filter = "deadlock";
  struct sm_axis_override o = {
      .key = "hold_ns", .values = {1000001}, .nvalues = 1};
  struct sm_plan_request req = {.filters = &filter,
                                .nfilters = 1,
                                .overrides = &o,
                                .noverrides = 1,
                                .quick = true};
  char msg[256] = "";
  cr_assert_eq(sm_plan_check_overrides(&req, msg, sizeof msg), -EINVAL);
  cr_assert(strstr(msg, "hold_ns") != NULL, "message: %s", msg);
}
