/* test_work.c: Criterion tests of the busy-work calibration and of the
 * monotonic clock helpers. */
#include <criterion/criterion.h>
#include <pthread.h>

#include <math.h>
#include <stdint.h>

#include "syncmark/clock.h"
#include "syncmark/work.h"

/* Nanoseconds per millisecond and per second. */
#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S  UINT64_C(1000000000)

Test(work, spin_is_the_documented_computation) {
  /* x starts at 0x9e3779b97f4a7c15 and each step is x ^= x << 13 (mod 2^64)
   * then x ^= x >> 7, computed by hand (Python) for 0 to 3 steps. */
  cr_assert_eq(sm_work_spin(0), UINT64_C(0x9e3779b97f4a7c15));
  cr_assert_eq(sm_work_spin(1), UINT64_C(0x71e256fc90a94dad));
  cr_assert_eq(sm_work_spin(2), UINT64_C(0x3b4bbf606a6ed476));
  cr_assert_eq(sm_work_spin(3), UINT64_C(0x4c3efd49eb81d45e));
}

Test(work, calibrate_zero_is_zero) {
  cr_assert_eq(sm_work_calibrate(0), 0);
}

Test(work, calibrate_small_targets_give_at_least_one) {
  cr_assert_geq(sm_work_calibrate(1), 1);
  cr_assert_geq(sm_work_calibrate(1000), 1);
}

Test(work, calibrate_scales_with_the_target) {
  /* 100 times the target should give about 100 times the iterations; the
   * two calls measure the clock separately, so allow a factor of 10 of noise
   * either way rather than assert anything about absolute speed. */
  uint64_t small = sm_work_calibrate(1000);
  uint64_t large = sm_work_calibrate(100000);
  cr_assert_geq(small, 1);
  double ratio = (double)large / (double)small;
  cr_assert(ratio >= 10.0 && ratio <= 1000.0,
            "calibrate(100000) = %llu, calibrate(1000) = %llu: ratio %g",
            (unsigned long long)large, (unsigned long long)small, ratio);
}

/* The cache measures a target once and hands out the same count after,
 * also to other threads and past any fixed number of targets. */
static void *cached_count_of_1000(void *arg) {
  *(uint64_t *)arg = sm_work_iterations_for_ns(1000);
  return NULL;
}

Test(work, cached_counts_are_measured_once_per_target) {
  uint64_t first = sm_work_iterations_for_ns(1000);
  cr_assert_geq(first, 1);
  cr_assert_eq(sm_work_iterations_for_ns(1000), first);
  for (uint64_t t = 1; t <= 40; t++) /* more targets than any fixed table */
    cr_assert_geq(sm_work_iterations_for_ns(t * 100), 1);
  uint64_t other = 0;
  pthread_t thread;
  cr_assert_eq(pthread_create(&thread, NULL, cached_count_of_1000, &other), 0);
  cr_assert_eq(pthread_join(thread, NULL), 0);
  cr_assert_eq(other, first);
  cr_assert_eq(sm_work_iterations_for_ns(0), 0);
}

Test(clock, seconds_to_ns_edge_cases) {
  cr_assert_eq(sm_seconds_to_ns(-1.0), 0);
  cr_assert_eq(sm_seconds_to_ns(-0.0), 0);
  cr_assert_eq(sm_seconds_to_ns(-INFINITY), 0);
  cr_assert_eq(sm_seconds_to_ns(NAN), 0);
  cr_assert_eq(sm_seconds_to_ns(0.0), 0);
  cr_assert_eq(sm_seconds_to_ns(1.5), UINT64_C(1500000000));
  cr_assert_eq(sm_seconds_to_ns(3600.0), UINT64_C(3600000000000));
  /* Rounded to the nearest nanosecond. */
  cr_assert_eq(sm_seconds_to_ns(1e-9), 1);
  cr_assert_eq(sm_seconds_to_ns(0.4e-9), 0);
  cr_assert_eq(sm_seconds_to_ns(0.6e-9), 1);
  /* 18446744072 s is exactly representable in ns (a multiple of 2^12 below
   * 2^64), so it is the largest whole-second value that does not saturate. */
  cr_assert_eq(sm_seconds_to_ns(18446744072.0), UINT64_C(18446744072000000000));
  cr_assert_eq(sm_seconds_to_ns(18446744074.0), UINT64_MAX);
  cr_assert_eq(sm_seconds_to_ns(1e30), UINT64_MAX);
  cr_assert_eq(sm_seconds_to_ns(INFINITY), UINT64_MAX);
}

Test(clock, now_is_monotonic) {
  uint64_t prev = sm_now_ns();
  cr_assert_gt(prev, 0);
  for (int i = 0; i < 200000; i++) {
    uint64_t now = sm_now_ns();
    cr_assert_geq(now, prev, "read %d went back from %llu to %llu", i,
                  (unsigned long long)prev, (unsigned long long)now);
    prev = now;
  }
}

Test(clock, sleep_until_past_deadline_returns) {
  cr_assert_eq(sm_sleep_until_ns(0), 0);
  uint64_t now = sm_now_ns();
  cr_assert_eq(sm_sleep_until_ns(now - NS_PER_MS), 0);
  cr_assert_eq(sm_sleep_until_ns(now), 0);
  cr_assert_geq(sm_now_ns(), now);
}

Test(clock, sleep_until_future_deadline_reaches_it) {
  /* Not a timing assertion: a return before the deadline would be a bug. */
  uint64_t deadline = sm_now_ns() + 2 * NS_PER_MS;
  cr_assert_eq(sm_sleep_until_ns(deadline), 0);
  cr_assert_geq(sm_now_ns(), deadline);
}

Test(clock, sleep_for_sleeps_at_least_that_long) {
  uint64_t t0 = sm_now_ns();
  cr_assert_eq(sm_sleep_for_ns(2000000), 0);
  cr_assert_geq(sm_now_ns() - t0, 2000000);
  cr_assert_eq(sm_sleep_for_ns(0), 0);
}

Test(clock, overhead) {
  cr_assert_lt(sm_clock_overhead_ns(0), 0.0);
  double one = sm_clock_overhead_ns(1);
  cr_assert(one > 0.0 && isfinite(one), "overhead(1) = %g", one);
  double some = sm_clock_overhead_ns(16);
  cr_assert(some > 0.0 && isfinite(some), "overhead(16) = %g", some);
  /* More batches than the internal limit are clamped, not overrun. */
  double many = sm_clock_overhead_ns(100000);
  cr_assert(many > 0.0 && isfinite(many), "overhead(100000) = %g", many);
}

Test(clock, resolution_is_positive) {
  int64_t res = sm_clock_resolution_ns();
  cr_assert_gt(res, 0, "resolution %lld", (long long)res);
  cr_assert_leq(res, (int64_t)NS_PER_S);
}
