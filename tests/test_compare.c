/* test_compare.c: the regression check on synthetic repetitions (A/A false
 * positives, an injected slowdown, thresholds, directions, unmatched rows)
 * and the loader's messages on bad files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "compare_output.h"

/* Rows per synthetic run and repetitions per row. */
enum { ROWS = 200, REPS = 10 };

/* A deterministic generator (xorshift64*), so a failure reproduces. */
static uint64_t rng_state;
static double uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ull) >> 11) /
         9007199254740992.0;
}

/* Names of the synthetic rows; index i is "v<i>". */
static char names[ROWS][16];

/* Fills `groups` with ROWS rows of REPS values: median `level`, spread
 * +-noise (relative, uniform), times `factor` for the rows in
 * [slow_from, slow_to). */
static void synthesize(struct sm_row_group *groups, double *storage,
                       const char *metric, const char *unit, double noise,
                       double factor, size_t slow_from, size_t slow_to) {
  for (size_t i = 0; i < ROWS; i++) {
    snprintf(names[i], sizeof names[i], "v%zu", i);
    double *v = storage + i * REPS;
    for (size_t r = 0; r < REPS; r++) {
      v[r] = 1000.0 * (1.0 + noise * (2.0 * uniform() - 1.0));
      if (i >= slow_from && i < slow_to)
        v[r] *= factor;
    }
    /* wake is a registered family whose declarations give ops_per_s
     * (higher), p99_ns (lower, sampled) and vcsw_per_op (none). */
    groups[i] = (struct sm_row_group){.benchmark = "wake",
                                      .variant = names[i],
                                      .params = "",
                                      .threads = "1",
                                      .placement = "compact",
                                      .metric = metric,
                                      .unit = unit,
                                      .values = v,
                                      .n = REPS};
  }
}

static struct sm_row_group base[ROWS], current[ROWS];
static double base_values[ROWS * REPS], current_values[ROWS * REPS];
static const struct sm_compare_opts opts = {.threshold = 0.05, .alpha = 0.05};

/* Two runs of the same distribution (8% noise): at most 5% of the rows may
 * be flagged, in either direction. */
Test(compare, a_a_flags_at_most_five_percent) {
  rng_state = 42;
  synthesize(base, base_values, "ops_per_s", "ops/s", 0.08, 1, 0, 0);
  synthesize(current, current_values, "ops_per_s", "ops/s", 0.08, 1, 0, 0);
  struct sm_comparison c;
  cr_assert_eq(sm_compare_groups(base, ROWS, current, ROWS, &opts, &c), 0);
  size_t flagged = c.count[SM_REGRESSED] + c.count[SM_IMPROVED];
  cr_assert_leq(flagged, ROWS / 20, "%zu of %d rows flagged", flagged, ROWS);
  cr_assert_eq(c.count[SM_UNCHANGED] + flagged, ROWS);
  sm_comparison_free(&c);
}

/* A 20% throughput loss in rows 10..19 (3% noise): those ten are flagged as
 * regressions, worst first, and no other row is. */
Test(compare, injected_slowdown_is_flagged_and_nothing_else) {
  rng_state = 7;
  synthesize(base, base_values, "ops_per_s", "ops/s", 0.03, 1, 0, 0);
  synthesize(current, current_values, "ops_per_s", "ops/s", 0.03, 0.8, 10, 20);
  struct sm_comparison c;
  cr_assert_eq(sm_compare_groups(base, ROWS, current, ROWS, &opts, &c), 0);
  cr_assert_eq(c.count[SM_REGRESSED], 10);
  cr_assert_eq(c.count[SM_IMPROVED], 0);
  for (size_t i = 0; i < 10; i++) {
    int index = atoi(c.rows[i].current->variant + 1);
    cr_assert(index >= 10 && index < 20, "row %s flagged", names[index]);
    cr_assert(c.rows[i].worse_by > 0.1);
    if (i > 0)
      cr_assert_geq(c.rows[i - 1].worse_by, c.rows[i].worse_by,
                    "regressions are sorted worst first");
  }
  sm_comparison_free(&c);
}

/* For a time metric, higher is worse; a change inside the threshold is not
 * a regression however significant; a metric without direction never is. */
Test(compare, direction_threshold_and_informational_metrics) {
  rng_state = 3;
  synthesize(base, base_values, "p99_ns", "ns", 0.01, 1, 0, 0);
  synthesize(current, current_values, "p99_ns", "ns", 0.01, 1.3, 0, 1);
  for (size_t r = 0; r < REPS; r++)
    current_values[REPS + r] = base_values[REPS + r] * 1.03 + 10;
  struct sm_comparison c;
  cr_assert_eq(sm_compare_groups(base, 2, current, 2, &opts, &c), 0);
  cr_assert_eq(c.count[SM_REGRESSED], 1);
  cr_assert_str_eq(c.rows[0].current->variant, "v0");
  cr_assert_eq(c.rows[1].verdict, SM_UNCHANGED, "5%% threshold holds");
  cr_assert_lt(c.rows[1].p_value, 0.05, "but the shift is significant");
  sm_comparison_free(&c);
  synthesize(current, current_values, "vcsw_per_op", "switches/op", 0.01, 3, 0,
             ROWS);
  synthesize(base, base_values, "vcsw_per_op", "switches/op", 0.01, 1, 0, 0);
  cr_assert_eq(sm_compare_groups(base, ROWS, current, ROWS, &opts, &c), 0);
  cr_assert_eq(c.count[SM_INFORMATIONAL], ROWS);
  sm_comparison_free(&c);
}

/* Directions come from declarations: the runner's window and sampled
 * metrics, a family's own; a family that declares none yet falls back to
 * the unit rule; an unknown family or an undeclared metric of a declaring
 * family has none. */
Test(compare, metric_directions) {
  cr_assert_eq(sm_metric_direction("contention", "ops_per_s", "ops/s"),
               SM_HIGHER_IS_BETTER);
  cr_assert_eq(sm_metric_direction("contention", "fairness_jain", "ratio"),
               SM_NO_DIRECTION);
  cr_assert_eq(sm_metric_direction("spawn_vs_pool", "tasks_per_s", "tasks/s"),
               SM_HIGHER_IS_BETTER);
  cr_assert_eq(sm_metric_direction("spawn_vs_pool", "start_p99_ns", "ns"),
               SM_LOWER_IS_BETTER);
  cr_assert_eq(sm_metric_direction("spawn_vs_pool", "batch_tasks", "tasks"),
               SM_NO_DIRECTION);
  cr_assert_eq(sm_metric_direction("spawn_vs_pool", "rss_peak_kib", "KiB"),
               SM_LOWER_IS_BETTER);
  cr_assert_eq(sm_metric_direction("spawn_vs_pool", "made_up_ns", "ns"),
               SM_NO_DIRECTION);
  cr_assert_not_null(sm_metric_declared("spawn_vs_pool", "done_max_ns"));
  cr_assert_null(sm_metric_declared("spawn_vs_pool", "made_up_ns"));
  cr_assert_null(sm_metric_declared("no_such_family", "ops_per_s"));
}

/* Rows in only one run are listed, after the matched ones. */
Test(compare, unmatched_rows_are_listed) {
  rng_state = 5;
  synthesize(base, base_values, "ops_per_s", "ops/s", 0.02, 1, 0, 0);
  synthesize(current, current_values, "ops_per_s", "ops/s", 0.02, 1, 0, 0);
  current[0].variant = "renamed";
  struct sm_comparison c;
  cr_assert_eq(sm_compare_groups(base, 3, current, 3, &opts, &c), 0);
  cr_assert_eq(c.nrows, 4);
  cr_assert_eq(c.count[SM_ONLY_BASE], 1);
  cr_assert_eq(c.count[SM_ONLY_CURRENT], 1);
  cr_assert_eq(c.rows[2].verdict, SM_ONLY_BASE);
  cr_assert_str_eq(c.rows[2].base->variant, "v0");
  cr_assert_eq(c.rows[3].verdict, SM_ONLY_CURRENT);
  sm_comparison_free(&c);
  struct sm_compare_opts bad = {.threshold = 0.05, .alpha = 0};
  cr_assert_eq(sm_compare_groups(base, 3, current, 3, &bad, &c), -EINVAL);
}

/* Writes `text` to dir/raw.csv and returns the loader's result and msg. */
static int load_text(const char *text, char *msg, size_t size) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/sm_compare.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/raw.csv", dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  struct sm_run_rows run;
  int rc = sm_run_rows_load(dir, &run, msg, size);
  if (rc == 0)
    sm_run_rows_free(&run);
  unlink(path);
  rmdir(dir);
  return rc;
}

#define RAW_HEADER SM_CSV_RAW_HEADER "\n"
#define RAW_ROW    "contention,mutex,read_pct=0,1,compact,0,1,ops_per_s,5,ops/s\n"

Test(compare, loader_names_file_and_line_of_bad_input) {
  char msg[512];
  cr_assert_eq(load_text(RAW_HEADER RAW_ROW RAW_ROW "contention,mutex\n", msg,
                         sizeof msg),
               -EINVAL);
  cr_assert(strstr(msg, "raw.csv line 4: malformed"), "%s", msg);
  cr_assert_eq(load_text("benchmark,variant,value\nx,y,1\n", msg, sizeof msg),
               -EINVAL);
  cr_assert(strstr(msg, "line 1: the header 'benchmark,variant,value'"), "%s",
            msg);
  cr_assert_eq(load_text(RAW_HEADER, msg, sizeof msg), -EINVAL);
  cr_assert(strstr(msg, "no rows"), "%s", msg);
  cr_assert_eq(load_text(RAW_HEADER RAW_ROW
                         "contention,mutex,a,1,compact,0,2,ops_per_s,fast,"
                         "ops/s\n",
                         msg, sizeof msg),
               -EINVAL);
  cr_assert(strstr(msg, "line 3: value 'fast' is not a number"), "%s", msg);
  cr_assert_eq(load_text(RAW_HEADER RAW_ROW, msg, sizeof msg), 0);
  char empty[] = "/tmp/sm_compare_empty.XXXXXX";
  cr_assert_not_null(mkdtemp(empty));
  struct sm_run_rows run;
  cr_assert_eq(sm_run_rows_load(empty, &run, msg, sizeof msg), -ENOENT);
  cr_assert(strstr(msg, "no raw.csv in this folder"), "%s", msg);
  rmdir(empty);
}

/* A machine.csv of one run held in memory: `n` key/value pairs. */
struct machine_rows {
  char *cells[8][2];
  char **rows[8];
  char *header[2];
  struct sm_run_rows run;
};

/* Points m->run.machine at the pairs kv[0..2n). */
static void machine_of(struct machine_rows *m, char *const *kv, size_t n) {
  *m = (struct machine_rows){.header = {"key", "value"}};
  for (size_t i = 0; i < n; i++) {
    m->cells[i][0] = kv[2 * i];
    m->cells[i][1] = kv[2 * i + 1];
    m->rows[i] = m->cells[i];
  }
  m->run.machine = (struct sm_csv_table){
      .ncols = 2, .header = m->header, .nrows = n, .rows = m->rows};
}

/* Two runs of one machine: nothing to say while the probes agree; a drift
 * probe 10 % slower and a pair probe 5x slower are each named. */
Test(compare, machine_differences_name_the_probes) {
  char *same[] = {
      "hostname", "vm", "drift_probe_ns_median", "1000", "pair_probe_ns_median",
      "50"};
  char *moved[] = {
      "hostname", "vm", "drift_probe_ns_median", "1010", "pair_probe_ns_median",
      "55"};
  char *far[] = {
      "hostname", "vm", "drift_probe_ns_median", "1100", "pair_probe_ns_median",
      "250"};
  struct machine_rows a, b;
  char buf[512];
  machine_of(&a, same, 3);
  machine_of(&b, moved, 3);
  sm_machine_differences(&a.run, &b.run, buf, sizeof buf);
  cr_assert_str_eq(buf, "", "within 5 %% and 25 %%: %s", buf);
  machine_of(&b, far, 3);
  sm_machine_differences(&a.run, &b.run, buf, sizeof buf);
  cr_assert(strstr(buf, "speed: the drift probe took 1000 vs 1100 ns"), "%s",
            buf);
  cr_assert(strstr(buf, "pair probe: a cache line between two PUs took 50 "
                        "vs 250 ns (+400 %)"),
            "%s", buf);
}
