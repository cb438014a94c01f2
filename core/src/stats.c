/* stats.c: robust summary statistics of repeated measurements. */
#include "syncmark/stats.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* Seed of the bootstrap in sm_stats_summarize, fixed so that equal input
 * gives equal output. */
#define SUMMARY_SEED UINT64_C(0x5eed5eed5eed5eed)

/* Confidence level of the interval in sm_stats_summarize. */
#define SUMMARY_LEVEL 0.95

/* State of a xoshiro256** generator (Blackman and Vigna). */
struct rng {
  uint64_t s[4];
};

/* Advances the splitmix64 state `*x` and returns its next output. Used only
 * to expand a 64-bit seed into a xoshiro state. Never fails. */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Seeds `r` from `seed` through splitmix64, which never yields the all-zero
 * state xoshiro must avoid. Never fails. */
static void rng_seed(struct rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

/* Returns `x` rotated left by `k` bits, 0 < k < 64. Never fails. */
static uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* Returns the next 64-bit output of the xoshiro256** generator `r`. Never
 * fails. */
static uint64_t rng_next(struct rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Returns an integer drawn uniformly from [0, bound), bound > 0, without
 * modulo bias (outputs below 2^64 mod bound are rejected). Never fails. */
static uint64_t rng_below(struct rng *r, uint64_t bound) {
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t x = rng_next(r);
    if (x >= threshold)
      return x % bound;
  }
}

/* Returns whether `a` orders strictly before `b`: ascending, with NaN after
 * every number, so that the order is total and sorting always terminates.
 * Never fails. */
static bool before(double a, double b) {
  if (isnan(a))
    return false;
  if (isnan(b))
    return true;
  return a < b;
}

/* Restores the max-heap property of `v[0..n)` below index `i`, assuming both
 * subtrees of `i` are heaps already. Never fails. */
static void sift_down(double *v, size_t n, size_t i) {
  double x = v[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n && before(v[child], v[child + 1]))
      child++;
    if (!before(x, v[child]))
      break;
    v[i] = v[child];
    i = child;
  }
  v[i] = x;
}

/* Sorts `values[0..n)` ascending in place by heapsort: O(n log n) in the
 * worst case, no allocation. NaNs, if any, end up last. Never fails. */
void sm_stats_sort(double *values, size_t n) {
  if (n < 2)
    return;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(values, n, i);
  for (size_t end = n - 1; end > 0; end--) {
    double top = values[0];
    values[0] = values[end];
    values[end] = top;
    sift_down(values, end, 0);
  }
}

/* Returns the p-th percentile of `sorted[0..n)` by type-7 interpolation, or
 * NaN when n is 0 or p is not within [0, 100] (NaN included). */
double sm_stats_percentile_sorted(const double *sorted, size_t n, double p) {
  if (n == 0 || !(p >= 0.0 && p <= 100.0))
    return NAN;
  double h = (double)(n - 1) * (p / 100.0);
  size_t lo = (size_t)floor(h);
  if (lo >= n - 1)
    return sorted[n - 1];
  double frac = h - (double)lo;
  double a = sorted[lo], b = sorted[lo + 1];
  /* Equal neighbours (infinities included) need no arithmetic. */
  if (frac == 0.0 || a == b)
    return a;
  return a + frac * (b - a);
}

/* Returns the median of `sorted[0..n)`, n > 0: the middle value, or the mean
 * of the two middle values for even n, halved before adding so that it
 * cannot overflow. Never fails. */
static double median_sorted(const double *sorted, size_t n) {
  if (n % 2 == 1)
    return sorted[n / 2];
  return 0.5 * sorted[n / 2 - 1] + 0.5 * sorted[n / 2];
}

/* Returns whether any of `values[0..n)` is NaN. Never fails. */
static bool any_nan(const double *values, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (isnan(values[i]))
      return true;
  return false;
}

/* Returns the value of rank `k` (0-based) in the resample described by
 * `counts`: counts[i] copies of sorted[i]. k must be below the resample's
 * size. Never fails. */
static double rank_in_counts(const double *sorted, const uint32_t *counts,
                             size_t n, size_t k) {
  size_t seen = 0;
  for (size_t i = 0; i < n; i++) {
    seen += counts[i];
    if (seen > k)
      return sorted[i];
  }
  return sorted[n - 1];
}

/* Computes the bootstrap interval of the median of `sorted[0..n)` (ascending,
 * no NaN, n > 1) into *lo and *hi. Each resample draws n indices into
 * `sorted` and keeps only how often each was drawn, so its median is found by
 * one scan of the counts, O(n) per resample without sorting. Arguments are
 * checked by the caller. Returns 0 or -ENOMEM. */
static int bootstrap_sorted(const double *sorted, size_t n, double level,
                            unsigned resamples, uint64_t seed, double *lo,
                            double *hi) {
  if (n > UINT32_MAX)
    return -ENOMEM;
  uint32_t *counts = malloc(n * sizeof *counts);
  double *medians = malloc((size_t)resamples * sizeof *medians);
  if (counts == NULL || medians == NULL) {
    free(counts);
    free(medians);
    return -ENOMEM;
  }
  struct rng r;
  rng_seed(&r, seed);
  for (unsigned k = 0; k < resamples; k++) {
    for (size_t i = 0; i < n; i++)
      counts[i] = 0;
    for (size_t i = 0; i < n; i++)
      counts[rng_below(&r, n)]++;
    if (n % 2 == 1) {
      medians[k] = rank_in_counts(sorted, counts, n, n / 2);
    } else {
      double a = rank_in_counts(sorted, counts, n, n / 2 - 1);
      double b = rank_in_counts(sorted, counts, n, n / 2);
      medians[k] = 0.5 * a + 0.5 * b;
    }
  }
  sm_stats_sort(medians, resamples);
  double alpha = 1.0 - level;
  *lo = sm_stats_percentile_sorted(medians, resamples, 50.0 * alpha);
  *hi = sm_stats_percentile_sorted(medians, resamples, 100.0 - 50.0 * alpha);
  free(counts);
  free(medians);
  return 0;
}

/* Sorts a copy of `values[0..n)` into a new array stored in *out, which the
 * caller frees. Returns 0 or -ENOMEM. */
static int sorted_copy(const double *values, size_t n, double **out) {
  double *copy = malloc(n * sizeof *copy);
  if (copy == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    copy[i] = values[i];
  sm_stats_sort(copy, n);
  *out = copy;
  return 0;
}

/* Computes the percentile bootstrap interval of the median of `values[0..n)`
 * into *lo and *hi. Returns 0, -EINVAL for n == 0, a NaN value, level not in
 * (0, 1) or no resamples, -ENOMEM when scratch memory cannot be allocated;
 * *lo and *hi are left alone on error. */
int sm_stats_bootstrap_median_ci(const double *values, size_t n, double level,
                                 unsigned resamples, uint64_t seed, double *lo,
                                 double *hi) {
  if (n == 0 || !(level > 0.0 && level < 1.0) || resamples == 0 ||
      any_nan(values, n))
    return -EINVAL;
  if (n == 1) {
    *lo = *hi = values[0];
    return 0;
  }
  double *sorted;
  int err = sorted_copy(values, n, &sorted);
  if (err != 0)
    return err;
  err = bootstrap_sorted(sorted, n, level, resamples, seed, lo, hi);
  free(sorted);
  return err;
}

/* Counts the values of `sorted[0..n)` outside Tukey's fences. Returns 0 for
 * n < 4. Never fails. */
size_t sm_stats_tukey_outliers_sorted(const double *sorted, size_t n) {
  if (n < 4)
    return 0;
  double q1 = sm_stats_percentile_sorted(sorted, n, 25.0);
  double q3 = sm_stats_percentile_sorted(sorted, n, 75.0);
  double iqr = q3 - q1;
  double lo = q1 - 1.5 * iqr, hi = q3 + 1.5 * iqr;
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (sorted[i] < lo || sorted[i] > hi)
      count++;
  return count;
}

/* Fills *out with the summary of `values[0..n)`. The mean is a plain sum over
 * n and the variance the corrected two-pass formula. Returns 0, -EINVAL when
 * n is 0 or a value is NaN, -ENOMEM when scratch memory cannot be allocated;
 * *out is left alone on error. */
/* P(Bin(n, 1/2) = i), from log-gamma so that large n does not underflow
 * term by term. */
static double binomial_half_pmf(size_t n, size_t i) {
  return exp(lgamma((double)n + 1) - lgamma((double)i + 1) -
             lgamma((double)(n - i) + 1) - (double)n * log(2.0));
}

int sm_stats_median_ci_exact(const double *sorted, size_t n, double level,
                             double *lo, double *hi) {
  if (!(level > 0.0 && level < 1.0))
    return -EINVAL;
  double tail = 0; /* P(Bin(n, 1/2) < k) for the k being tried */
  size_t k = 0;
  while (k < n / 2) {
    double next = tail + binomial_half_pmf(n, k);
    if (2 * next > 1 - level)
      break;
    tail = next;
    k++;
  }
  if (k == 0)
    return -ERANGE;
  *lo = sorted[k - 1];
  *hi = sorted[n - k];
  return 0;
}

int sm_stats_summarize(const double *values, size_t n, struct sm_summary *out) {
  if (n == 0 || any_nan(values, n))
    return -EINVAL;
  double *sorted;
  int err = sorted_copy(values, n, &sorted);
  if (err != 0)
    return err;
  struct sm_summary s = {.n = n};
  if (n == 1) {
    s.ci_lo = s.ci_hi = sorted[0];
  } else {
    err =
        bootstrap_sorted(sorted, n, SUMMARY_LEVEL, SM_STATS_BOOTSTRAP_RESAMPLES,
                         SUMMARY_SEED, &s.ci_lo, &s.ci_hi);
    if (err != 0) {
      free(sorted);
      return err;
    }
  }
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += sorted[i];
  s.mean = sum / (double)n;
  if (n >= 2) {
    double ss = 0.0, comp = 0.0;
    for (size_t i = 0; i < n; i++) {
      double d = sorted[i] - s.mean;
      ss += d * d;
      comp += d;
    }
    double var = (ss - comp * comp / (double)n) / (double)(n - 1);
    s.stddev = var > 0.0 ? sqrt(var) : 0.0;
  }
  s.cv = s.mean != 0.0 ? s.stddev / s.mean : 0.0;
  s.median = median_sorted(sorted, n);
  s.min = sorted[0];
  s.max = sorted[n - 1];
  s.outliers = sm_stats_tukey_outliers_sorted(sorted, n);
  free(sorted);
  *out = s;
  return 0;
}

/* Returns Jain's fairness index of `x[0..n)`, computed on x scaled by its
 * largest magnitude so that the squares cannot overflow. Returns 1 when
 * every value is 0 and NaN when n is 0. */
double sm_stats_jain(const double *x, size_t n) {
  if (n == 0)
    return NAN;
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    if (fabs(x[i]) > m)
      m = fabs(x[i]);
  if (m == 0.0)
    return 1.0;
  double sum = 0.0, sumsq = 0.0;
  for (size_t i = 0; i < n; i++) {
    double y = x[i] / m;
    sum += y;
    sumsq += y * y;
  }
  return sum * sum / ((double)n * sumsq);
}

/* Runs the two-sided Mann-Whitney U test of `a[0..na)` against `b[0..nb)`.
 * Both samples are sorted and merged; each run of equal values gets the
 * average of the ranks it spans and adds t^3 - t to the tie term. z is
 * (U - na nb / 2) moved 0.5 toward zero (0 when within 0.5), over the
 * tie-corrected standard deviation, positive when `a` tends to be larger;
 * the p-value is erfc(|z| / sqrt 2), the same as scipy's
 * mannwhitneyu(use_continuity=True, method='asymptotic'). Returns 0, -EINVAL
 * when either sample is empty or holds a NaN, -ENOMEM when scratch memory
 * cannot be allocated; *out is left alone on error. */
int sm_stats_mann_whitney(const double *a, size_t na, const double *b,
                          size_t nb, struct sm_mann_whitney *out) {
  if (na == 0 || nb == 0 || any_nan(a, na) || any_nan(b, nb))
    return -EINVAL;
  double *sa = malloc((na + nb) * sizeof *sa);
  if (sa == NULL)
    return -ENOMEM;
  double *sb = sa + na;
  for (size_t i = 0; i < na; i++)
    sa[i] = a[i];
  for (size_t i = 0; i < nb; i++)
    sb[i] = b[i];
  sm_stats_sort(sa, na);
  sm_stats_sort(sb, nb);

  double rank_sum = 0.0, ties = 0.0;
  size_t i = 0, j = 0, pos = 0;
  while (i < na || j < nb) {
    double v;
    if (j == nb || (i < na && sa[i] <= sb[j]))
      v = sa[i];
    else
      v = sb[j];
    size_t ka = 0, kb = 0;
    while (i < na && sa[i] == v) {
      i++;
      ka++;
    }
    while (j < nb && sb[j] == v) {
      j++;
      kb++;
    }
    double t = (double)(ka + kb);
    /* The run holds ranks pos + 1 .. pos + t; their average: */
    rank_sum += (double)ka * ((double)pos + (t + 1.0) / 2.0);
    ties += (t - 1.0) * t * (t + 1.0);
    pos += ka + kb;
  }
  bool all_tied = sa[0] == sa[na - 1] && sb[0] == sb[nb - 1] && sa[0] == sb[0];
  free(sa);

  double n1 = (double)na, n2 = (double)nb, n = n1 + n2;
  struct sm_mann_whitney r;
  r.u = rank_sum - n1 * (n1 + 1.0) / 2.0;
  double var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
  double d = r.u - n1 * n2 / 2.0;
  if (all_tied || !(var > 0.0) || fabs(d) <= 0.5) {
    r.z = 0.0;
    r.p_value = 1.0;
  } else {
    r.z = (d > 0.0 ? d - 0.5 : d + 0.5) / sqrt(var);
    r.p_value = erfc(fabs(r.z) / sqrt(2.0));
    if (r.p_value > 1.0)
      r.p_value = 1.0;
  }
  *out = r;
  return 0;
}

/* Compares two doubles by absolute value, for qsort. */
static int abs_cmp(const void *a, const void *b) {
  double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
  return x < y ? -1 : x > y;
}

int sm_stats_wilcoxon(const double *d, size_t n, struct sm_wilcoxon *out) {
  if (n == 0 || n > 1000 || any_nan(d, n))
    return -EINVAL;
  double *v = malloc(n * sizeof *v);
  if (!v)
    return -ENOMEM;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (d[i] != 0.0)
      v[m++] = d[i];
  qsort(v, m, sizeof *v, abs_cmp);
  /* Twice the average rank of each difference, an integer even with ties;
   * the total of all of them is m (m + 1). */
  unsigned *rank2 = malloc((m ? m : 1) * sizeof *rank2);
  size_t total = m * (m + 1);
  double *dist = calloc(total + 1, sizeof *dist);
  if (!rank2 || !dist) {
    free(v);
    free(rank2);
    free(dist);
    return -ENOMEM;
  }
  size_t w2 = 0; /* twice W+ */
  for (size_t i = 0; i < m;) {
    size_t j = i;
    while (j < m && fabs(v[j]) == fabs(v[i]))
      j++;
    unsigned r2 = (unsigned)(i + 1 + j); /* 2 x the mean of ranks i+1..j */
    for (size_t k = i; k < j; k++) {
      rank2[k] = r2;
      if (v[k] > 0)
        w2 += r2;
    }
    i = j;
  }
  /* dist[s]: the number of sign patterns whose positive ranks sum to s/2,
   * as a probability (each pattern 2^-m). */
  dist[0] = 1.0;
  size_t reach = 0;
  for (size_t k = 0; k < m; k++) {
    for (size_t s = reach + 1; s-- > 0;)
      if (dist[s] != 0.0)
        dist[s + rank2[k]] += dist[s];
    reach += rank2[k];
    for (size_t s = 0; s <= reach; s++)
      dist[s] *= 0.5;
  }
  double below = 0.0, above = 0.0;
  for (size_t s = 0; s <= total; s++) {
    if (s <= w2)
      below += dist[s];
    if (s >= w2)
      above += dist[s];
  }
  double p = m == 0 ? 1.0 : 2.0 * (below < above ? below : above);
  *out = (struct sm_wilcoxon){
      .w_plus = (double)w2 / 2.0, .n = m, .p_value = p > 1.0 ? 1.0 : p};
  free(v);
  free(rank2);
  free(dist);
  return 0;
}
