/* precision.h: the stopping rule of precision-driven repetitions: when a
 * case's headline metric is known precisely enough, and when the run's
 * budget leaves room for another repetition. */
#ifndef SYNCMARK_BENCH_PRECISION_H
#define SYNCMARK_BENCH_PRECISION_H

#include <stdbool.h>
#include <stddef.h>

/* Repetitions the rule needs before it can judge precision at all: the
 * fewest with a distribution-free 95 % interval of the median. */
#define SM_PRECISION_MIN_REPS 6

/* Most disturbed repetitions of one case that are retaken (each gives the
 * case one repetition more than the rule would). */
#define SM_RETAKE_LIMIT 3

/* Most repetitions one case may get (--reps allows up to this). */
#define SM_MAX_REPS (1000 + SM_RETAKE_LIMIT)

/* How many repetitions a run gives each case. With target 0 every case
 * gets exactly max_reps (the fixed --reps behaviour). */
struct sm_precision_rule {
  double target;     /* relative half-width of the median's 95 % CI to
                        reach (0.03 = 3 %); 0: fixed repetitions */
  unsigned min_reps; /* every case gets at least these (budget allowing) */
  unsigned max_reps; /* and never more */
  double budget_s;   /* the whole run's wall time; 0: no limit */
};

/* The precision of values v[0..n) (NaN entries are left out): the
 * half-width of the distribution-free 95 % confidence interval of their
 * median over the median's magnitude. INFINITY when fewer than
 * SM_PRECISION_MIN_REPS values are defined or the median is 0; never
 * fails (v is not modified). */
double sm_precision_reached(const double *v, size_t n);

/* True when a case that has had `reps` repetitions, whose headline values
 * are v[0..n), is to get another: below min_reps always; at max_reps
 * never; otherwise while its precision misses the target. A case whose
 * repetitions yielded no defined value at all after min_reps gets no more
 * (more would not help). Never fails. */
bool sm_precision_wants_more(const struct sm_precision_rule *rule,
                             unsigned reps, const double *v, size_t n);

/* True when a repetition expected to take `next_s` seconds, started after
 * `elapsed_s` seconds of the run, ends within the rule's budget (always
 * true without one). Never fails. */
bool sm_precision_fits_budget(const struct sm_precision_rule *rule,
                              double elapsed_s, double next_s);

#endif
