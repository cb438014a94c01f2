/* test_stats.c: Criterion tests of the stats module against hand-computed
 * values. */
#include "syncmark/stats.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Relative-or-absolute tolerance for hand-computed decimals. */
#define EPS 1e-9

/* Returns whether `got` is within EPS of `want`, relative for large values.
 * Never fails. */
static int near(double got, double want) {
  return fabs(got - want) <= EPS * (fabs(want) > 1.0 ? fabs(want) : 1.0);
}

/* Summarizes `v[0..n)` into *s and asserts that it succeeded. Fails the
 * test on any error. */
static void summarize_ok(const double *v, size_t n, struct sm_summary *s) {
  cr_assert_eq(sm_stats_summarize(v, n, s), 0);
}

/* Returns the next value of a small LCG, for test input only. Never fails. */
static uint64_t lcg(uint64_t *x) {
  *x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *x >> 33;
}

Test(stats, median_odd_and_even) {
  struct sm_summary s;
  double odd[] = {3.0, 1.0, 2.0};
  summarize_ok(odd, COUNT(odd), &s);
  cr_assert_eq(s.median, 2.0);
  double even[] = {4.0, 1.0, 3.0, 2.0};
  summarize_ok(even, COUNT(even), &s);
  cr_assert_eq(s.median, 2.5);
  double one[] = {7.0};
  summarize_ok(one, 1, &s);
  cr_assert_eq(s.median, 7.0);
}

Test(stats, percentile_matches_numpy_odd) {
  /* np.percentile([15, 20, 35, 40, 50], [0, 25, 40, 50, 75, 90, 100])
   * == [15, 20, 29, 35, 40, 46, 50]: h = 4 p / 100, e.g. p = 40 gives
   * h = 1.6 and 20 + 0.6 * (35 - 20) = 29; p = 90 gives h = 3.6 and
   * 40 + 0.6 * 10 = 46. */
  const double v[] = {15, 20, 35, 40, 50};
  const double p[] = {0, 25, 40, 50, 75, 90, 100};
  const double want[] = {15, 20, 29, 35, 40, 46, 50};
  for (size_t i = 0; i < COUNT(p); i++) {
    double got = sm_stats_percentile_sorted(v, COUNT(v), p[i]);
    cr_assert(near(got, want[i]), "p=%g: got %.17g want %g", p[i], got,
              want[i]);
  }
}

Test(stats, percentile_matches_numpy_even) {
  /* np.percentile([1, 2, 3, 4], [10, 25, 50, 75]) == [1.3, 1.75, 2.5, 3.25]:
   * h = 3 p / 100 = 0.3, 0.75, 1.5, 2.25. */
  const double v[] = {1, 2, 3, 4};
  const double p[] = {10, 25, 50, 75};
  const double want[] = {1.3, 1.75, 2.5, 3.25};
  for (size_t i = 0; i < COUNT(p); i++) {
    double got = sm_stats_percentile_sorted(v, COUNT(v), p[i]);
    cr_assert(near(got, want[i]), "p=%g: got %.17g want %g", p[i], got,
              want[i]);
  }
  /* A single value is every percentile of itself. */
  cr_assert_eq(sm_stats_percentile_sorted(v, 1, 63.0), 1.0);
}

Test(stats, percentile_rejects_bad_input) {
  const double v[] = {1, 2, 3};
  cr_assert(isnan(sm_stats_percentile_sorted(v, 0, 50.0)));
  cr_assert(isnan(sm_stats_percentile_sorted(v, 3, -0.5)));
  cr_assert(isnan(sm_stats_percentile_sorted(v, 3, 100.5)));
  cr_assert(isnan(sm_stats_percentile_sorted(v, 3, NAN)));
}

Test(stats, mean_stddev_cv_min_max) {
  /* Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample variance
   * 32/7; stddev sqrt(32/7) = 2.138089935299395; cv = 0.427617987059879.
   * Sorted: 2 4 4 4 5 5 7 9; median (4 + 5) / 2 = 4.5. */
  const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
  struct sm_summary s;
  summarize_ok(v, COUNT(v), &s);
  cr_assert_eq(s.n, 8);
  cr_assert_eq(s.mean, 5.0);
  cr_assert_eq(s.median, 4.5);
  cr_assert(near(s.stddev, 2.138089935299395), "stddev %.17g", s.stddev);
  cr_assert(near(s.cv, 0.427617987059879), "cv %.17g", s.cv);
  cr_assert_eq(s.min, 2.0);
  cr_assert_eq(s.max, 9.0);
  /* Q1 = 4 (h = 1.75), Q3 = 5.5 (h = 5.25), IQR 1.5, fences [1.75, 7.75]:
   * 9 is outside. */
  cr_assert_eq(s.outliers, 1);
}

Test(stats, summary_edge_cases) {
  struct sm_summary s;
  double one[] = {3.5};
  summarize_ok(one, 1, &s);
  cr_assert_eq(s.stddev, 0.0);
  cr_assert_eq(s.cv, 0.0);
  cr_assert_eq(s.ci_lo, 3.5);
  cr_assert_eq(s.ci_hi, 3.5);
  cr_assert_eq(s.outliers, 0);
  /* Mean 0: cv is defined as 0; stddev sqrt(2). */
  double zero_mean[] = {-1.0, 1.0};
  summarize_ok(zero_mean, 2, &s);
  cr_assert_eq(s.mean, 0.0);
  cr_assert(near(s.stddev, sqrt(2.0)));
  cr_assert_eq(s.cv, 0.0);
}

Test(stats, summary_leaves_input_alone) {
  double v[] = {9, 1, 8, 2, 7, 3};
  double copy[COUNT(v)];
  memcpy(copy, v, sizeof v);
  struct sm_summary s;
  summarize_ok(v, COUNT(v), &s);
  cr_assert(memcmp(v, copy, sizeof v) == 0);
}

Test(stats, summary_errors) {
  struct sm_summary s = {.n = 42};
  double v[] = {1.0, NAN, 3.0};
  cr_assert_eq(sm_stats_summarize(v, 0, &s), -EINVAL);
  cr_assert_eq(sm_stats_summarize(v, 3, &s), -EINVAL);
  cr_assert_eq(s.n, 42, "output touched on error");
}

Test(stats, tukey_outliers) {
  /* 1..9, 100: Q1 = 3.25 (h = 2.25), Q3 = 7.75 (h = 6.75), IQR 4.5,
   * fences [-3.5, 14.5]: only 100 is outside. */
  const double one_high[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
  cr_assert_eq(sm_stats_tukey_outliers_sorted(one_high, COUNT(one_high)), 1);
  /* -100, 1..9, 100: Q1 = 2.5, Q3 = 8.5 (h = 2.5, 7.5), IQR 6, fences
   * [-6.5, 17.5]: both ends are outside. */
  const double both[] = {-100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
  cr_assert_eq(sm_stats_tukey_outliers_sorted(both, COUNT(both)), 2);
  const double none[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  cr_assert_eq(sm_stats_tukey_outliers_sorted(none, COUNT(none)), 0);
  /* Fewer than 4 values: never an outlier. */
  const double few[] = {1, 2, 1000};
  cr_assert_eq(sm_stats_tukey_outliers_sorted(few, COUNT(few)), 0);
}

Test(stats, sort_random_and_duplicates) {
  enum { N = 1000 };
  static double v[N];
  uint64_t x = 12345;
  double sum = 0.0;
  for (size_t i = 0; i < N; i++) {
    v[i] = (double)(lcg(&x) % 100); /* many duplicates, exact sums */
    sum += v[i];
  }
  sm_stats_sort(v, N);
  double sum2 = 0.0;
  for (size_t i = 0; i < N; i++) {
    sum2 += v[i];
    if (i > 0)
      cr_assert(v[i - 1] <= v[i], "not ascending at %zu", i);
  }
  cr_assert_eq(sum, sum2);
  double rev[] = {5, 4, 3, 2, 1, 0, -1};
  sm_stats_sort(rev, COUNT(rev));
  for (size_t i = 0; i < COUNT(rev); i++)
    cr_assert_eq(rev[i], (double)i - 1.0);
  sm_stats_sort(rev, 0); /* no-op, must not crash */
}

Test(stats, ci_contains_median_within_range) {
  double v[21];
  for (size_t i = 0; i < COUNT(v); i++)
    v[i] = (double)((i * 8) % 21) + 1.0; /* 1..21 shuffled, median 11 */
  double lo, hi;
  cr_assert_eq(
      sm_stats_bootstrap_median_ci(v, COUNT(v), 0.95, 2000, 7, &lo, &hi), 0);
  cr_assert(lo <= 11.0 && 11.0 <= hi, "[%g, %g]", lo, hi);
  cr_assert(lo >= 1.0 && hi <= 21.0, "[%g, %g]", lo, hi);
  cr_assert(lo < hi, "[%g, %g]", lo, hi);
  /* The median of 21 resampled values stays near the middle: the 95%
   * interval is a few ranks wide, far from the extremes. */
  cr_assert(lo >= 5.0 && hi <= 17.0, "[%g, %g]", lo, hi);
}

Test(stats, ci_is_deterministic) {
  const double v[] = {12.5, 9.0, 11.0, 30.0, 10.5, 10.0, 11.5, 9.5, 13.0};
  double lo1, hi1, lo2, hi2;
  cr_assert_eq(
      sm_stats_bootstrap_median_ci(v, COUNT(v), 0.9, 500, 99, &lo1, &hi1), 0);
  cr_assert_eq(
      sm_stats_bootstrap_median_ci(v, COUNT(v), 0.9, 500, 99, &lo2, &hi2), 0);
  cr_assert_eq(lo1, lo2);
  cr_assert_eq(hi1, hi2);
  struct sm_summary s1, s2;
  summarize_ok(v, COUNT(v), &s1);
  summarize_ok(v, COUNT(v), &s2);
  cr_assert_eq(s1.ci_lo, s2.ci_lo);
  cr_assert_eq(s1.ci_hi, s2.ci_hi);
  /* Median 11 (sorted: 9 9.5 10 10.5 11 11.5 12.5 13 30). */
  cr_assert_eq(s1.median, 11.0);
  cr_assert(s1.ci_lo <= 11.0 && 11.0 <= s1.ci_hi);
  cr_assert(s1.ci_lo >= 9.0 && s1.ci_hi <= 30.0);
}

Test(stats, ci_degenerate) {
  const double same[] = {4.25, 4.25, 4.25, 4.25, 4.25};
  double lo, hi;
  cr_assert_eq(
      sm_stats_bootstrap_median_ci(same, COUNT(same), 0.95, 100, 1, &lo, &hi),
      0);
  cr_assert_eq(lo, 4.25);
  cr_assert_eq(hi, 4.25);
  const double one[] = {-2.0};
  cr_assert_eq(sm_stats_bootstrap_median_ci(one, 1, 0.95, 100, 1, &lo, &hi), 0);
  cr_assert_eq(lo, -2.0);
  cr_assert_eq(hi, -2.0);
}

Test(stats, ci_errors) {
  const double v[] = {1, 2, 3};
  const double bad[] = {1, NAN, 3};
  double lo = 0, hi = 0;
  cr_assert_eq(sm_stats_bootstrap_median_ci(v, 0, 0.95, 10, 1, &lo, &hi),
               -EINVAL);
  cr_assert_eq(sm_stats_bootstrap_median_ci(v, 3, 0.0, 10, 1, &lo, &hi),
               -EINVAL);
  cr_assert_eq(sm_stats_bootstrap_median_ci(v, 3, 1.0, 10, 1, &lo, &hi),
               -EINVAL);
  cr_assert_eq(sm_stats_bootstrap_median_ci(v, 3, NAN, 10, 1, &lo, &hi),
               -EINVAL);
  cr_assert_eq(sm_stats_bootstrap_median_ci(v, 3, 0.95, 0, 1, &lo, &hi),
               -EINVAL);
  cr_assert_eq(sm_stats_bootstrap_median_ci(bad, 3, 0.95, 10, 1, &lo, &hi),
               -EINVAL);
}

Test(stats, jain) {
  const double equal[] = {3, 3, 3, 3};
  cr_assert(near(sm_stats_jain(equal, 4), 1.0));
  const double one_hot[] = {0, 0, 5, 0};
  cr_assert(near(sm_stats_jain(one_hot, 4), 0.25));
  /* (1+2+3+4)^2 / (4 * (1+4+9+16)) = 100 / 120 = 5/6. */
  const double mixed[] = {1, 2, 3, 4};
  cr_assert(near(sm_stats_jain(mixed, 4), 5.0 / 6.0));
  /* (1+3)^2 / (2 * (1+9)) = 16 / 20 = 0.8; huge values must not overflow. */
  const double huge[] = {1e300, 3e300};
  cr_assert(near(sm_stats_jain(huge, 2), 0.8));
  const double zeros[] = {0, 0, 0};
  cr_assert_eq(sm_stats_jain(zeros, 3), 1.0);
  cr_assert(isnan(sm_stats_jain(zeros, 0)));
}

/* The exact p-value by enumerating every sign pattern of the ranks. */
static double wilcoxon_brute(const double *twice_rank, size_t m,
                             double w2_seen) {
  size_t below = 0, above = 0, patterns = (size_t)1 << m;
  for (size_t bits = 0; bits < patterns; bits++) {
    double w2 = 0;
    for (size_t k = 0; k < m; k++)
      if (bits >> k & 1)
        w2 += twice_rank[k];
    below += w2 <= w2_seen;
    above += w2 >= w2_seen;
  }
  double p = 2.0 * (double)(below < above ? below : above) / (double)patterns;
  return p > 1 ? 1 : p;
}

Test(stats, wilcoxon_known_values) {
  struct sm_wilcoxon w;
  const double up8[] = {1, 2, 3, 4, 5, 6, 7, 8};
  cr_assert_eq(sm_stats_wilcoxon(up8, 8, &w), 0);
  cr_assert_float_eq(w.w_plus, 36, 1e-12);
  cr_assert_float_eq(w.p_value, 2.0 / 256, 1e-12);
  const double up5[] = {0.1, 0.2, 0.3, 0.4, 0.5};
  cr_assert_eq(sm_stats_wilcoxon(up5, 5, &w), 0);
  cr_assert_float_eq(w.p_value, 2.0 / 32, 1e-12);
  const double even[] = {1, -1, 2, -2, 3, -3};
  cr_assert_eq(sm_stats_wilcoxon(even, 6, &w), 0);
  cr_assert_float_eq(w.p_value, 1.0, 1e-12);
  const double zeros[] = {0, 0, 0};
  cr_assert_eq(sm_stats_wilcoxon(zeros, 3, &w), 0);
  cr_assert_eq(w.n, 0);
  cr_assert_float_eq(w.p_value, 1.0, 1e-12);
  cr_assert_eq(sm_stats_wilcoxon(up8, 0, &w), -EINVAL);
  const double nan[] = {1, NAN};
  cr_assert_eq(sm_stats_wilcoxon(nan, 2, &w), -EINVAL);
}

/* With ties and zeros, the dynamic programme agrees with enumerating all
 * 2^n sign patterns. */
Test(stats, wilcoxon_matches_enumeration_with_ties) {
  const double d[] = {1, -1, 2, 2, 0, 3, -4, 4, 4, 5, -6, 7};
  /* The non-zero |d|, sorted: 1 1 2 2 3 4 4 4 5 6 7 -> twice the average
   * ranks: */
  const double twice_rank[] = {3, 3, 7, 7, 10, 14, 14, 14, 18, 20, 22};
  double w2 = 3 + 7 + 7 + 10 + 14 + 14 + 18 + 22; /* the positive ones */
  struct sm_wilcoxon w;
  cr_assert_eq(sm_stats_wilcoxon(d, 12, &w), 0);
  cr_assert_eq(w.n, 11);
  cr_assert_float_eq(w.w_plus, w2 / 2, 1e-12);
  cr_assert_float_eq(w.p_value, wilcoxon_brute(twice_rank, 11, w2), 1e-12);
}

Test(stats, mann_whitney_textbook) {
  /* Sorted together: 11b 12b 16a 17b 19a 20b 22a 24a 29a; the ranks of a
   * are 3+5+7+8+9 = 32, U1 = 32 - 5*6/2 = 17 (U2 = 3). mu = 10,
   * sigma = sqrt(20/12 * 10) = 4.08248290463863, z = (17 - 10 - 0.5) /
   * sigma = 1.5921683328090657, p = erfc(z / sqrt 2) = 0.11134688653314048,
   * which is scipy.stats.mannwhitneyu(a, b, use_continuity=True,
   * method='asymptotic').pvalue. */
  const double a[] = {19, 22, 16, 29, 24};
  const double b[] = {20, 11, 17, 12};
  struct sm_mann_whitney r;
  cr_assert_eq(sm_stats_mann_whitney(a, COUNT(a), b, COUNT(b), &r), 0);
  cr_assert_eq(r.u, 17.0);
  cr_assert(near(r.z, 1.5921683328090657), "z %.17g", r.z);
  cr_assert(near(r.p_value, 0.11134688653314048), "p %.17g", r.p_value);
  /* Swapped: U1 = 3, z negative, same p. */
  cr_assert_eq(sm_stats_mann_whitney(b, COUNT(b), a, COUNT(a), &r), 0);
  cr_assert_eq(r.u, 3.0);
  cr_assert(near(r.z, -1.5921683328090657), "z %.17g", r.z);
  cr_assert(near(r.p_value, 0.11134688653314048), "p %.17g", r.p_value);
}

Test(stats, mann_whitney_separated) {
  /* a entirely below b: U1 = 0, mu = 12.5, sigma = sqrt(25/12 * 11) =
   * 4.7871355387816905, z = -(12.5 - 0.5) / sigma = -2.5067182457620487,
   * p = 0.012185780355344818 (scipy asymptotic, continuity). */
  const double a[] = {1, 2, 3, 4, 5};
  const double b[] = {6, 7, 8, 9, 10};
  struct sm_mann_whitney r;
  cr_assert_eq(sm_stats_mann_whitney(a, 5, b, 5, &r), 0);
  cr_assert_eq(r.u, 0.0);
  cr_assert(near(r.z, -2.5067182457620487), "z %.17g", r.z);
  cr_assert(near(r.p_value, 0.012185780355344818), "p %.17g", r.p_value);
}

Test(stats, mann_whitney_ties) {
  /* Sorted together: 1a | 2a 2a 2b (ranks 2-4, avg 3) | 3a 3b (avg 5.5) |
   * 4a (7) | 5a 5b (avg 8.5) | 6b | 7b 7b | 8b. Ranks of a: 1+3+3+5.5+7+8.5
   * = 28, U1 = 28 - 21 = 7. Tie term: (27-3) + 3*(8-2) = 42; n = 13;
   * sigma = sqrt(42/12 * (14 - 42/156)) = 6.93236556362201; mu = 21;
   * z = (7 - 21 + 0.5) / sigma = -1.947387205147119;
   * p = 0.05148833084743264 (scipy asymptotic, continuity). */
  const double a[] = {1, 2, 2, 3, 4, 5};
  const double b[] = {2, 3, 5, 6, 7, 7, 8};
  struct sm_mann_whitney r;
  cr_assert_eq(sm_stats_mann_whitney(a, COUNT(a), b, COUNT(b), &r), 0);
  cr_assert_eq(r.u, 7.0);
  cr_assert(near(r.z, -1.947387205147119), "z %.17g", r.z);
  cr_assert(near(r.p_value, 0.05148833084743264), "p %.17g", r.p_value);
}

Test(stats, mann_whitney_no_difference) {
  /* All tied: the variance is 0 and the p-value is 1; U1 = 3*2/2 = 3. */
  const double a[] = {5, 5, 5};
  const double b[] = {5, 5};
  struct sm_mann_whitney r;
  cr_assert_eq(sm_stats_mann_whitney(a, 3, b, 2, &r), 0);
  cr_assert_eq(r.u, 3.0);
  cr_assert_eq(r.z, 0.0);
  cr_assert_eq(r.p_value, 1.0);
  /* U1 == mu: ranks of a are 1 + 4, U1 = 2 = 2*2/2; p is 1. */
  const double c[] = {1, 4};
  const double d[] = {2, 3};
  cr_assert_eq(sm_stats_mann_whitney(c, 2, d, 2, &r), 0);
  cr_assert_eq(r.u, 2.0);
  cr_assert_eq(r.p_value, 1.0);
}

Test(stats, mann_whitney_errors) {
  const double a[] = {1, 2};
  const double bad[] = {1, NAN};
  struct sm_mann_whitney r = {.u = -7.0};
  cr_assert_eq(sm_stats_mann_whitney(a, 0, a, 2, &r), -EINVAL);
  cr_assert_eq(sm_stats_mann_whitney(a, 2, a, 0, &r), -EINVAL);
  cr_assert_eq(sm_stats_mann_whitney(a, 2, bad, 2, &r), -EINVAL);
  cr_assert_eq(sm_stats_mann_whitney(bad, 2, a, 2, &r), -EINVAL);
  cr_assert_eq(r.u, -7.0, "output touched on error");
}

/* The order-statistic interval of the median: none below 6 values at 95 %,
 * then the ranks the binomial tail gives (n 6: 1..6, n 10: 2..9, n 20:
 * 6..15, n 100: 40..61), and a coverage of at least the level on skewed
 * data whose median is known. */
Test(stats, median_ci_exact_ranks_and_coverage) {
  double sorted[100], lo = -1, hi = -1;
  for (int i = 0; i < 100; i++)
    sorted[i] = i + 1; /* x_(i) = i */
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 5, 0.95, &lo, &hi), -ERANGE);
  cr_assert_eq(lo, -1, "output touched on error");
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 6, 0.95, &lo, &hi), 0);
  cr_assert(lo == 1 && hi == 6, "n 6: %g..%g", lo, hi);
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 10, 0.95, &lo, &hi), 0);
  cr_assert(lo == 2 && hi == 9, "n 10: %g..%g", lo, hi);
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 20, 0.95, &lo, &hi), 0);
  cr_assert(lo == 6 && hi == 15, "n 20: %g..%g", lo, hi);
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 100, 0.95, &lo, &hi), 0);
  cr_assert(lo == 40 && hi == 61, "n 100: %g..%g", lo, hi);
  cr_assert_eq(sm_stats_median_ci_exact(sorted, 10, 1.0, &lo, &hi), -EINVAL);
  /* Exponential samples (median ln 2) of 12 values, 4000 times: the
   * interval must cover the median in at least 95 % of them. */
  uint64_t x = 88172645463325252u;
  int covered = 0, tries = 4000;
  for (int t = 0; t < tries; t++) {
    double v[12];
    for (int i = 0; i < 12; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v[i] = -log(((double)(x >> 11) + 0.5) / 9007199254740992.0);
    }
    sm_stats_sort(v, 12);
    cr_assert_eq(sm_stats_median_ci_exact(v, 12, 0.95, &lo, &hi), 0);
    covered += lo <= log(2.0) && log(2.0) <= hi;
  }
  cr_assert_geq(covered, tries * 95 / 100, "covered %d of %d", covered, tries);
}
