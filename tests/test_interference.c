/* test_interference.c: reading what else ran during a window from /proc
 * sample texts (a kernel without scheduler statistics included: no row,
 * never a 0), judging a window disturbed, and the rows it records. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "interference.h"
#include "results.h"

Test(interference, parses_proc_samples) {
  uint64_t delay = 0, migrations = 0;
  cr_assert_eq(sm_interference_parse_schedstat("239024 1500 2\n", &delay), 0);
  cr_assert_eq(delay, 1500);
  cr_assert_eq(sm_interference_parse_schedstat("239024\n", &delay), -EINVAL);
  const char *sched = "sleeper (42, #threads: 1)\n"
                      "se.exec_start          :      1.0\n"
                      "se.nr_migrations       :                    7\n";
  cr_assert_eq(sm_interference_parse_migrations(sched, &migrations), 0);
  cr_assert_eq(migrations, 7);
  cr_assert_eq(
      sm_interference_parse_migrations("se.exec_start : 1\n", &migrations),
      -ENOENT, "a kernel without scheduler debug statistics");
  struct sm_cpu_times t;
  cr_assert_eq(sm_interference_parse_cpu("cpu  100 5 20 900 3 1 2 40 0 0\n"
                                         "cpu0 50 2 10 450 1 0 1 20 0 0\n",
                                         &t),
               0);
  cr_assert(t.ok && t.busy == 100 + 5 + 20 + 1 + 2 && t.steal == 40);
  cr_assert_eq(sm_interference_parse_cpu("intr 1 2 3\n", &t), -EINVAL);
  cr_assert_eq(sm_interference_parse_cpu("cpu  1 2 3\n", &t), -EINVAL);
}

/* One worker whose window is 1 s, with the given run delay at its edges
 * (have: whether the schedstat was readable). */
static void worker_with_delay(struct sm_worker *w, uint64_t delay_ns,
                              int have) {
  memset(w, 0, sizeof *w);
  w->ns_at_measure = 1000000000u;
  w->ns_at_stop = 2000000000u;
  w->sched_at_measure =
      (struct sm_thread_sched){.run_delay_ns = 5,
                               .read_from_ns = w->ns_at_measure,
                               .have_delay = have,
                               .have_migrations = have};
  w->sched_at_stop = (struct sm_thread_sched){.run_delay_ns = 5 + delay_ns,
                                              .read_to_ns = w->ns_at_stop,
                                              .migrations = 2,
                                              .have_delay = have,
                                              .have_migrations = have};
}

Test(interference, window_shares_and_disturbance) {
  struct sm_worker w;
  struct sm_cpu_times a = {.busy = 1000, .steal = 10, .ok = 1};
  struct sm_cpu_times b = {.busy = 1100, .steal = 12, .ok = 1};
  struct sm_interference out;
  /* 1 s window, 2 CPUs, 10 ms ticks: 100 busy ticks = 1 s of CPU, of
   * which this process used 0.9 s; 2 steal ticks of 2 s of CPU = 1 %. */
  worker_with_delay(&w, 10000000, 1); /* 1 % of its window */
  sm_interference_window(&w, 1, &a, &b, 1000000000u, 9e8, 2, 1e7, &out);
  cr_assert_float_eq(out.run_delay_share, 0.01, 1e-12);
  cr_assert_eq(out.migrations, 2);
  cr_assert_float_eq(out.steal_share, 0.01, 1e-12);
  cr_assert_float_eq(out.other_cpus, 0.1, 1e-12);
  cr_assert_eq(out.disturbed, 0);
  worker_with_delay(&w, 60000000, 1); /* 6 %: over the limit */
  sm_interference_window(&w, 1, &a, &b, 1000000000u, 9e8, 2, 1e7, &out);
  cr_assert_eq(out.disturbed, 1);
  /* Other processes: 0.3 CPUs over a 1 s window. */
  worker_with_delay(&w, 0, 1);
  sm_interference_window(&w, 1, &a, &b, 1000000000u, 7e8, 2, 1e7, &out);
  cr_assert_float_eq(out.other_cpus, 0.3, 1e-12);
  cr_assert_eq(out.disturbed, 1);
}

Test(interference, unavailable_is_no_row_never_zero) {
  struct sm_worker w;
  worker_with_delay(&w, 0, 0); /* no schedstat, no sched */
  struct sm_cpu_times none = {0};
  struct sm_interference out;
  sm_interference_window(&w, 1, &none, &none, 1000000000u, 0, 2, 1e7, &out);
  cr_assert(isnan(out.run_delay_share) && isnan(out.migrations));
  cr_assert(isnan(out.steal_share) && isnan(out.other_cpus));
  cr_assert_eq(out.disturbed, 0);
  /* A window of under 20 ticks: the machine's shares are unavailable. */
  struct sm_cpu_times a = {.busy = 1000, .ok = 1}, b = {.busy = 1001, .ok = 1};
  worker_with_delay(&w, 0, 1);
  sm_interference_window(&w, 1, &a, &b, 20000000u, 0, 2, 1e7, &out);
  cr_assert(isnan(out.steal_share) && isnan(out.other_cpus));
  cr_assert_eq(out.run_delay_share, 0);
  struct sm_results r = {0};
  cr_assert_eq(sm_interference_record(&r, 0, 1, &out), 0);
  for (size_t i = 0; i < r.nrows; i++)
    cr_assert(strcmp(r.rows[i].metric, "steal_share") != 0 &&
                  strcmp(r.rows[i].metric, "other_cpus") != 0,
              "an unavailable share has no row");
  cr_assert_eq(r.nrows, 3, "run_delay_share, migrations, disturbed");
  sm_results_free(&r);
}
