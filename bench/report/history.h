/* history.h: every row's median over commits, per machine, read from the
 * results database, with each commit judged against the one before as
 * `compare` judges two runs. */
#ifndef SYNCMARK_BENCH_HISTORY_H
#define SYNCMARK_BENCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "compare.h"
#include "db.h"
#include "metrics.h"

/* One commit of a series: the repetitions of all its runs on the machine. */
struct sm_history_point {
  char commit[64];
  char first_at[40];   /* earliest start of the commit's runs there */
  size_t commit_index; /* 1-based position of the commit on the machine */
  double *values;      /* the repetitions (NaN left out) */
  size_t n;
  double median, ci_lo, ci_hi; /* bootstrap 95% CI of the median */
  double relative;             /* median / median of the series' first point */
  double p_value;          /* against the previous point; NaN for the first */
  double change;           /* median / previous median - 1 (NaN first) */
  enum sm_verdict verdict; /* against the previous point (compare's rule);
                              SM_ONLY_CURRENT for the first point */
};

/* One row (benchmark, variant, params, threads, placement, metric) on one
 * machine, its commits in order. */
struct sm_history_series {
  char machine_id[SM_MACHINE_ID_LEN + 1];
  char *benchmark, *variant, *params, *placement, *metric, *unit;
  long long threads;
  enum sm_direction direction;
  struct sm_history_point *points;
  size_t npoints;
};

/* One commit of a machine. */
struct sm_history_commit {
  char commit[64];
  char first_at[40];
  long long first_unix;
  long long first_id; /* the first run of the commit there, for ties */
};

/* A machine's commits, oldest first (index i is commit_index i + 1). */
struct sm_history_machine {
  char id[SM_MACHINE_ID_LEN + 1];
  struct sm_history_commit *commits;
  size_t ncommits;
};

/* What history shows. */
struct sm_history {
  struct sm_history_series *series;
  size_t nseries;
  struct sm_history_machine *machines;
  size_t nmachines;
  size_t regressions; /* points judged REGRESSED */
};

/* What history reads. */
struct sm_history_opts {
  const char *machine_id; /* one machine, or NULL for all */
  char *const *filters;   /* globs on family or family/variant */
  size_t nfilters;        /* 0: every row */
  bool all;               /* metrics without a direction too */
  struct sm_compare_opts compare;
};

/* Reads the history from the database. Returns 0 (nseries may be 0), or
 * -EIO, -ENOMEM, -EINVAL (bad compare options) with msg. */
int sm_history_load(struct sm_db *db, const struct sm_history_opts *opts,
                    struct sm_history *out, char *msg, size_t msg_size);

/* Frees a history. */
void sm_history_free(struct sm_history *h);

/* Writes the history as CSV (results/README.md, history.csv): one row per
 * series and commit. Returns 0 or a negative errno (nothing left at path). */
int sm_history_write_csv(const struct sm_history *h, const char *path);

/* Returns the metric a family's trend figure shows: the family's headline
 * metric when the history has it with a direction, else the first metric
 * with a direction among the family's series; NULL when none. */
const char *sm_history_figure_metric(const struct sm_history *h,
                                     const char *family);

#endif
