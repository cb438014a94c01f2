/* runview.h: a finished run read back from its folder (summary.csv and
 * machine.csv), with the lookups that claim rules and the report need. */
#ifndef SYNCMARK_BENCH_RUNVIEW_H
#define SYNCMARK_BENCH_RUNVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "syncmark/csv.h"

struct sm_query;

/* A run folder's summary and machine files. */
struct sm_run_view {
  const char *dir;
  /* Optional: told of every lookup (the query, and the params key asked
   * for by sm_run_view_param_values, else NULL), so a test can check that
   * everything the claim rules name exists. NULL normally. */
  void (*observe)(void *ctx, const struct sm_query *q, const char *key);
  /* Optional: told of every summary row a lookup returns (its index in
   * summary.rows), so that claim-driven sampling knows which cases a rule
   * read. NULL normally. */
  void (*read_row)(void *ctx, const struct sm_run_view *view, size_t row);
  void *observe_ctx;
  struct sm_csv_table summary, machine;
  struct sm_csv_table problems; /* ncols == 0 when the run had none */
  int col[8]; /* benchmark, variant, params, threads, placement, metric,
                 median, ci_lo (ci_hi follows via col_ci_hi) */
  int col_ci_hi, col_n, col_cv, col_unit, col_mean;
};

/* One summary row that a lookup found. */
struct sm_stat {
  double median, ci_lo, ci_hi, cv, mean;
  unsigned n;
  const char *unit;
  bool found;
};

/* What a lookup asks for. NULL or 0 fields match anything; `params` is a
 * list of "key=value" items separated by ';' that must all be among the
 * row's params. */
struct sm_query {
  const char *benchmark, *variant, *params;
  unsigned threads;
  const char *placement, *metric;
};

/* Loads dir/summary.csv (required), dir/machine.csv and dir/problems.csv
 * (optional). Returns 0, or a negative errno with a sentence naming the
 * file in msg: a folder without summary.csv, a malformed file (with its
 * line), a header that is not this version's summary.csv header. */
int sm_run_view_load(const char *dir, struct sm_run_view *view, char *msg,
                     size_t msg_size);

/* Builds a view from tables already in memory (a run read from the results
 * database): `summary` in the summary.csv layout, `machine` (key,value) and
 * `problems` (problems.csv layout), either of the last two NULL or ncols 0
 * when absent. Takes the tables (they are zeroed; freed on failure); `label`
 * (kept, not copied) is the view's dir and names it in messages. Returns 0,
 * or -EINVAL with a sentence in msg when the summary header is not this
 * version's. */
int sm_run_view_from_tables(const char *label, struct sm_csv_table *summary,
                            struct sm_csv_table *machine,
                            struct sm_csv_table *problems,
                            struct sm_run_view *view, char *msg,
                            size_t msg_size);

/* Frees a loaded view. */
void sm_run_view_free(struct sm_run_view *view);

/* Returns the first summary row matching q (found false when none). */
struct sm_stat sm_run_view_find(const struct sm_run_view *view,
                                const struct sm_query *q);

/* Collects every summary row matching q into out (capacity max) and
 * returns how many matched (possibly more than max). */
size_t sm_run_view_find_all(const struct sm_run_view *view,
                            const struct sm_query *q, struct sm_stat *out,
                            size_t max);

/* Returns true when the run has rows of `benchmark`. */
bool sm_run_view_has(const struct sm_run_view *view, const char *benchmark);

/* Collects the distinct thread counts of rows matching q (q->threads is
 * ignored), ascending, into out (capacity max). Returns how many. */
size_t sm_run_view_threads(const struct sm_run_view *view,
                           const struct sm_query *q, unsigned *out, size_t max);

/* Collects the distinct values of params key `key` among rows matching q,
 * ascending, into out (capacity max). Returns how many. */
size_t sm_run_view_param_values(const struct sm_run_view *view,
                                const struct sm_query *q, const char *key,
                                long *out, size_t max);

/* Collects the distinct placements of rows matching q, in first-seen
 * order, into out (capacity max; pointers into the view). Returns how
 * many. */
size_t sm_run_view_placements(const struct sm_run_view *view,
                              const struct sm_query *q, const char **out,
                              size_t max);

/* Returns how many problems.csv rows name benchmark/variant with `status`
 * ("failed", "timed_out", "skipped"); 0 when the run has no such file. */
size_t sm_run_view_problems(const struct sm_run_view *view,
                            const char *benchmark, const char *variant,
                            const char *status);

/* Returns a machine.csv value, or NULL. */
const char *sm_run_view_machine(const struct sm_run_view *view,
                                const char *key);

/* Compares two measured values by their 95% CIs: 1 when a is above b with
 * the intervals apart, -1 when below, 0 when they overlap or one is
 * missing. */
int sm_stat_cmp(const struct sm_stat *a, const struct sm_stat *b);

#endif
