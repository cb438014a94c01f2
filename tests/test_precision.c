/* test_precision.c: the stopping rule of precision-driven repetitions on
 * synthetic headline values: it stops when precise, goes on while not,
 * never passes the maximum, never stops below the minimum, and keeps to
 * the budget. */
#include <criterion/criterion.h>
#include <math.h>

#include "precision.h"

static const struct sm_precision_rule rule = {
    .target = 0.03, .min_reps = 6, .max_reps = 20, .budget_s = 100};

/* Values within 1 % of 100: precise at 6 repetitions. */
Test(precision, stops_when_precise) {
  const double v[] = {99, 100, 101, 100, 99.5, 100.5};
  cr_assert_lt(sm_precision_reached(v, 6), 0.03);
  cr_assert_not(sm_precision_wants_more(&rule, 6, v, 6));
  /* The same values before the minimum: more, whatever the precision. */
  cr_assert(sm_precision_wants_more(&rule, 5, v, 5));
}

/* Values spread by 20 %: not precise, more until the maximum, never past
 * it. */
Test(precision, goes_on_while_imprecise_up_to_the_maximum) {
  double v[40];
  for (int i = 0; i < 40; i++)
    v[i] = i % 2 ? 80 : 120;
  cr_assert_gt(sm_precision_reached(v, 10), 0.03);
  cr_assert(sm_precision_wants_more(&rule, 10, v, 10));
  cr_assert(sm_precision_wants_more(&rule, 19, v, 19));
  cr_assert_not(sm_precision_wants_more(&rule, 20, v, 20));
  cr_assert_not(sm_precision_wants_more(&rule, 30, v, 30));
}

/* Too few values for an interval: infinitely imprecise; NaN values (an
 * invalid window) do not count; a case with no defined value after the
 * minimum gets no more. */
Test(precision, undefined_values_and_small_samples) {
  const double few[] = {100, 100, 100, 100, 100};
  cr_assert(isinf(sm_precision_reached(few, 5)));
  const double some_nan[] = {100, NAN, 100, 100, 100, 100};
  cr_assert(isinf(sm_precision_reached(some_nan, 6)), "5 defined of 6");
  const double six_defined[] = {100, NAN, 100, 100, 100, 100, 100};
  cr_assert_eq(sm_precision_reached(six_defined, 7), 0.0);
  const double none[] = {NAN, NAN, NAN, NAN, NAN, NAN};
  cr_assert_not(sm_precision_wants_more(&rule, 6, none, 6));
  const double zeros[] = {0, 0, 0, 0, 0, 0};
  cr_assert(isinf(sm_precision_reached(zeros, 6)), "median 0");
}

/* Target 0 is the fixed count: every case gets exactly max_reps. */
Test(precision, target_zero_is_a_fixed_count) {
  const struct sm_precision_rule fixed = {.target = 0, .max_reps = 10};
  const double v[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
  cr_assert(sm_precision_wants_more(&fixed, 9, v, 9));
  cr_assert_not(sm_precision_wants_more(&fixed, 10, v, 10));
}

/* A repetition fits while it ends within the budget; no budget: always. */
Test(precision, budget) {
  cr_assert(sm_precision_fits_budget(&rule, 90, 10));
  cr_assert_not(sm_precision_fits_budget(&rule, 90, 10.5));
  const struct sm_precision_rule unlimited = {.target = 0.03, .max_reps = 5};
  cr_assert(sm_precision_fits_budget(&unlimited, 1e9, 1e9));
}
