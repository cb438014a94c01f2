/* compare.h: matching the rows of two runs and deciding, per row, whether
 * the second is a regression, an improvement or the same within noise. */
#ifndef SYNCMARK_BENCH_COMPARE_H
#define SYNCMARK_BENCH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "syncmark/csv.h"

/* The repetitions of one (benchmark, variant, params, threads, placement,
 * metric) of one run. Strings point into the run's table. */
struct sm_row_group {
  const char *benchmark, *variant, *params, *threads, *placement, *metric;
  const char *unit;
  double *values; /* n repetition values */
  size_t n;
};

/* One run loaded for comparison: its raw.csv grouped by row key, and its
 * machine.csv when the folder has one. */
struct sm_run_rows {
  char raw_path[4200];
  struct sm_csv_table raw;
  struct sm_csv_table machine; /* ncols == 0 when absent */
  struct sm_row_group *groups;
  size_t ngroups;
  double *values; /* storage behind the groups' values */
};

/* Loads a run folder (its raw.csv, and machine.csv when present) or a
 * raw.csv file. Returns 0; or -ENOENT, -EACCES, -EINVAL, -ENOMEM with one
 * sentence in msg naming the file (and for a malformed file its line): a
 * missing or unreadable file, a folder without raw.csv, a header that is not
 * this version's raw.csv header, malformed CSV, a value that is not a
 * number, a file without data rows. Nothing is kept on failure. */
int sm_run_rows_load(const char *path, struct sm_run_rows *out, char *msg,
                     size_t msg_size);

/* Builds a run from tables already in memory: `raw` in the raw.csv layout
 * and `machine` (key,value; NULL or ncols 0 when unknown), for runs read
 * from the results database. Takes both tables (they are zeroed, and freed
 * on failure); `label` names the run in messages and in raw_path. Returns 0,
 * or -EINVAL (a header that is not raw.csv's, no rows, a value that is not a
 * number) or -ENOMEM with one sentence in msg. */
int sm_run_rows_from_tables(const char *label, struct sm_csv_table *raw,
                            struct sm_csv_table *machine,
                            struct sm_run_rows *out, char *msg,
                            size_t msg_size);

/* Frees a loaded run. */
void sm_run_rows_free(struct sm_run_rows *run);

/* What the comparison says about one row. */
enum sm_verdict {
  SM_REGRESSED,     /* significant and worse than the threshold */
  SM_IMPROVED,      /* significant and better than the threshold */
  SM_UNCHANGED,     /* within the threshold or not significant */
  SM_INFORMATIONAL, /* a metric without a direction: never flagged */
  SM_ONLY_BASE,     /* the row is missing from the current run */
  SM_ONLY_CURRENT   /* the row is new in the current run */
};

/* Settings of a comparison. */
struct sm_compare_opts {
  double threshold; /* relative change that counts, e.g. 0.05 */
  double alpha;     /* significance level of the test */
  /* false: the repetitions of the two runs are independent samples
   * (Mann-Whitney U). true: value i of a row in each run comes from the
   * same round of an A/B alternation (syncmark ab): the ratio is the median
   * of the rounds' ratios and the test Wilcoxon's signed-rank on their
   * differences; a row whose counts differ (a round left its value
   * undefined) is not tested. */
  bool paired;
};

/* One compared row. */
struct sm_compare_row {
  const struct sm_row_group *base, *current; /* one may be NULL */
  double base_median, current_median;
  double ratio;    /* current / base median (1 when both are 0) */
  double worse_by; /* relative change in the bad direction: 0.1 = 10%
                      worse, -0.1 = 10% better; 0 without a direction */
  double p_value;  /* two-sided Mann-Whitney U, or Wilcoxon signed-rank when
                      paired; NaN when not tested */
  enum sm_direction direction;
  enum sm_verdict verdict;
};

/* The result of comparing two runs, rows worst first. */
struct sm_comparison {
  struct sm_compare_row *rows;
  size_t nrows;
  size_t count[SM_ONLY_CURRENT + 1]; /* rows per verdict */
};

/* Compares the groups of two runs (in any order; each key at most once per
 * run): a row is a regression only when its metric has a direction, the
 * Mann-Whitney p-value is below opts->alpha and it is worse by more than
 * opts->threshold. Rows are sorted: regressions (worst first),
 * improvements (best first), unchanged, informational, only in base, only
 * in current. Returns 0, -EINVAL for bad opts, -ENOMEM. */
int sm_compare_groups(const struct sm_row_group *base, size_t nbase,
                      const struct sm_row_group *current, size_t ncurrent,
                      const struct sm_compare_opts *opts,
                      struct sm_comparison *out);

/* Frees a comparison's rows. */
void sm_comparison_free(struct sm_comparison *c);

/* Returns "REGRESSED", "improved", "same", "info", "only in base" or
 * "only in current". */
const char *sm_verdict_name(enum sm_verdict v);

#endif
