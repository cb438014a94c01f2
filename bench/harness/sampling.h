/* sampling.h: the runner's latency reservoirs, the measured cost of one
 * sample, and the choice of how often a worker samples. */
#ifndef SYNCMARK_BENCH_SAMPLING_H
#define SYNCMARK_BENCH_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

/* Most latencies one worker keeps per window; past it, reservoir sampling
 * (Vitter's algorithm R) keeps a uniform subset of all offered. */
#define SM_RESERVOIR_CAP 8192u

/* A bounded uniform sample of one worker's latencies. */
struct sm_reservoir {
  double values[SM_RESERVOIR_CAP];
  size_t n;        /* values held, <= SM_RESERVOIR_CAP */
  uint64_t seen;   /* values offered */
  uint64_t random; /* xorshift64 state, never 0 */
};

/* Empties r and seeds its random stream with `seed` (any value). */
void sm_reservoir_init(struct sm_reservoir *r, uint64_t seed);

/* Offers one value: kept while there is room, afterwards in place of a
 * random held one with probability CAP / seen. Never fails. */
void sm_reservoir_offer(struct sm_reservoir *r, double value);

/* The cost of one sample (a clock read before and after the operation and
 * the reservoir store), measured once per process as the difference
 * between a loop that samples every pass and the same loop without the
 * hook, in ns; at least 1. */
double sm_sample_cost_ns(void);

/* The share of a pass that the sampling interval aims at: half the budget,
 * so that a sample dearer in the loop than in the calibration (a colder
 * cache), or a pace misjudged by the warm-up, still stays within it. */
#define SM_SAMPLE_TARGET (SM_SAMPLE_BUDGET / 2)

/* The sampling mask for a worker whose passes took pass_ns each during the
 * warm-up (<= 0: unknown): the smallest power of two k - 1 such that
 * sm_sample_cost_ns() / k <= SM_SAMPLE_TARGET * pass_ns. An unknown pace
 * gives SM_SAMPLE_DEFAULT_EVERY - 1. */
uint64_t sm_sample_mask_for(double pass_ns);

/* Sampling interval used when a window has no warm-up to take the pace
 * from (--warmup 0). */
#define SM_SAMPLE_DEFAULT_EVERY 1024u

/* Returns a copy of `s` that lives until the process exits, the same
 * pointer for equal strings (metric names built at run time). NULL when
 * memory runs out. */
const char *sm_intern(const char *s);

#endif
