/* results.h: the measurements of a run in memory, and their raw.csv and
 * summary.csv files. */
#ifndef SYNCMARK_BENCH_RESULTS_H
#define SYNCMARK_BENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "family.h"
#include "syncmark/stats.h"

/* One repetition's value of one metric of one case. */
struct sm_raw_row {
  size_t case_index; /* into the plan's cases */
  unsigned rep;      /* 1-based */
  const char *metric;
  const char *unit;
  double value;
};

/* One point of a time series of one repetition of one case. */
struct sm_series_point {
  size_t case_index;
  unsigned rep;
  const char *series;
  const char *unit;
  double t_s;
  double value;
};

struct sm_results {
  struct sm_raw_row *rows;
  size_t nrows, cap;
  struct sm_series_point *points;
  size_t npoints, points_cap;
};

/* Where a family's measurement of (case, rep) adds its rows: the sink
 * behind sm_sink_metric and sm_sink_series. */
struct sm_sink {
  struct sm_results *results;
  size_t case_index;
  unsigned rep;
};

/* Appends a row. Returns 0 or -ENOMEM. */
int sm_results_add(struct sm_results *r, size_t case_index, unsigned rep,
                   const char *metric, const char *unit, double value);

/* Appends a time-series point. Returns 0 or -ENOMEM. */
int sm_results_add_point(struct sm_results *r, size_t case_index, unsigned rep,
                         const char *series, const char *unit, double t_s,
                         double value);

/* Collects the values of (case, metric) in repetition order into values
 * (capacity max). Returns how many there are. */
size_t sm_results_values(const struct sm_results *r, size_t case_index,
                         const char *metric, double *values, size_t max);

/* Summarizes (case, metric) into *out. Returns 0, -ENOENT when the case has
 * no such metric, or the error of sm_stats_summarize. */
int sm_results_summary(const struct sm_results *r, size_t case_index,
                       const char *metric, struct sm_summary *out);

/* Returns the metric that stands for case c (index case_index) in tables
 * and noise checks: the family's headline_metric, ops_per_s for window
 * families, else the first metric the case has; NULL when it has none. */
const char *sm_results_headline(const struct sm_results *r, size_t case_index,
                                const struct sm_case *c);

/* Writes raw.csv at `path` (temp file + rename). Returns 0 or a negative
 * errno, leaving nothing at path. */
int sm_results_write_raw(const struct sm_results *r,
                         const struct sm_case *cases, const char *path);

/* Writes summary.csv at `path`: one row per case and metric, metrics in the
 * order they were first added. Returns 0 or a negative errno, leaving
 * nothing at path. */
int sm_results_write_summary(const struct sm_results *r,
                             const struct sm_case *cases, size_t ncases,
                             const char *path);

/* sm_results_write_summary of the cases c for which include[c] is true
 * (all when include is NULL). */
int sm_results_write_summary_of(const struct sm_results *r,
                                const struct sm_case *cases, size_t ncases,
                                const bool *include, const char *path);

/* Writes series.csv at `path` (temp file + rename):
 * benchmark,variant,params,threads,placement,rep,series,t_s,value,unit.
 * Returns 0 or a negative errno, leaving nothing at path. */
int sm_results_write_series(const struct sm_results *r,
                            const struct sm_case *cases, const char *path);

/* Removes every row and point of the cases for which drop[case] is true. */
void sm_results_drop_cases(struct sm_results *r, const bool *drop);

/* Frees the rows. */
void sm_results_free(struct sm_results *r);

#endif
