/* stats.h: robust summary statistics of repeated measurements. */
#ifndef SYNCMARK_STATS_H
#define SYNCMARK_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The summary of one set of repetitions, as written to summary.csv. */
struct sm_summary {
  size_t n;      /* number of values */
  double median; /* median (mean of the two middle values for even n) */
  double mean;   /* arithmetic mean */
  double stddev; /* sample standard deviation (n - 1); 0 when n < 2 */
  double cv;     /* stddev / mean; 0 when the mean is 0 */
  double ci_lo;  /* bootstrap 95% confidence interval of the median */
  double ci_hi;
  double min;
  double max;
  size_t outliers; /* values outside Tukey's fences (1.5 IQR) */
};

/* Number of bootstrap resamples sm_stats_summarize uses. */
#define SM_STATS_BOOTSTRAP_RESAMPLES 2000

/* Fills `out` with the summary of `values[0..n)`. The input is not modified.
 * The bootstrap uses a fixed seed, so equal input gives equal output.
 * Returns 0, -EINVAL when n is 0 or a value is NaN, -ENOMEM when scratch
 * memory cannot be allocated. */
int sm_stats_summarize(const double *values, size_t n, struct sm_summary *out);

/* Returns the p-th percentile (0 <= p <= 100) of `sorted[0..n)`, ascending,
 * by linear interpolation between closest ranks (type 7 of Hyndman and Fan,
 * the default of R and numpy). Returns NaN when n is 0 or p is out of range. */
double sm_stats_percentile_sorted(const double *sorted, size_t n, double p);

/* Sorts `values[0..n)` ascending in place. Never fails. */
void sm_stats_sort(double *values, size_t n);

/* Computes a percentile bootstrap confidence interval of the median at
 * `level` (e.g. 0.95) from `resamples` resamples drawn with a PRNG seeded by
 * `seed`. For n == 1 the interval is the value itself. Returns 0, -EINVAL for
 * n == 0, a NaN value, level outside (0,1) or resamples == 0, -ENOMEM on
 * allocation failure. */
int sm_stats_bootstrap_median_ci(const double *values, size_t n, double level,
                                 unsigned resamples, uint64_t seed, double *lo,
                                 double *hi);

/* The distribution-free confidence interval of the median of
 * `sorted[0..n)`, ascending, at `level` (e.g. 0.95): [x_(k), x_(n+1-k)]
 * with the largest k whose binomial tail 2 P(Bin(n, 1/2) < k) stays at or
 * below 1 - level, so the interval covers the median with at least that
 * probability whatever the distribution. Returns 0; -ERANGE when n is too
 * small for any such interval (n < 6 at 0.95); -EINVAL for level outside
 * (0,1). */
int sm_stats_median_ci_exact(const double *sorted, size_t n, double level,
                             double *lo, double *hi);

/* Counts values outside Tukey's fences [Q1 - 1.5 IQR, Q3 + 1.5 IQR] of
 * `sorted[0..n)`, ascending, quartiles by sm_stats_percentile_sorted. Returns
 * 0 for n < 4 (too few values to call any an outlier). */
size_t sm_stats_tukey_outliers_sorted(const double *sorted, size_t n);

/* Jain's fairness index (sum x)^2 / (n * sum x^2) of `x[0..n)`: 1 when all
 * are equal, 1/n when one value has everything. Returns 1 when every value
 * is 0 and NaN when n is 0. */
double sm_stats_jain(const double *x, size_t n);

/* Result of a two-sided Mann-Whitney U test. */
struct sm_mann_whitney {
  double u;       /* U statistic of the first sample */
  double z;       /* normal approximation with tie and continuity correction */
  double p_value; /* two-sided p-value */
};

/* Runs a two-sided Mann-Whitney U test of `a[0..na)` against `b[0..nb)`,
 * with average ranks for ties and the normal approximation (tie-corrected,
 * continuity-corrected). When all values are tied the p-value is 1. Returns
 * 0, -EINVAL when either sample is empty or holds a NaN, -ENOMEM on
 * allocation failure. */
int sm_stats_mann_whitney(const double *a, size_t na, const double *b,
                          size_t nb, struct sm_mann_whitney *out);

/* The result of a Wilcoxon signed-rank test. */
struct sm_wilcoxon {
  double w_plus;  /* sum of the ranks of the positive differences */
  size_t n;       /* non-zero differences ranked */
  double p_value; /* two-sided, exact */
};

/* Runs a two-sided Wilcoxon signed-rank test of the paired differences
 * d[0..n) against a median of 0: zero differences are dropped, ties get
 * average ranks, and the p-value is exact (the distribution of W+ over all
 * 2^n sign patterns of the ranks, by dynamic programming). With no
 * non-zero difference the p-value is 1. Returns 0, -EINVAL for n == 0,
 * n > 1000 or a NaN, -ENOMEM on allocation failure. */
int sm_stats_wilcoxon(const double *d, size_t n, struct sm_wilcoxon *out);

#endif
