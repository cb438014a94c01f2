/* clock.h: the one monotonic nanosecond clock of syncmark and its overhead. */
#ifndef SYNCMARK_CLOCK_H
#define SYNCMARK_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Returns CLOCK_MONOTONIC in nanoseconds. Aborts if the clock cannot be read,
 * which on Linux means the process is broken beyond measuring anything. */
static inline uint64_t sm_now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    __builtin_trap();
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Measures the cost of one sm_now_ns() call as the median over `batches`
 * batches of back-to-back reads, in nanoseconds (fractional). Returns a
 * negative value only if `batches` is 0. */
double sm_clock_overhead_ns(unsigned batches);

/* Returns the resolution clock_getres() reports for CLOCK_MONOTONIC, in
 * nanoseconds, or a negative errno. */
int64_t sm_clock_resolution_ns(void);

/* Sleeps until `deadline_ns` on the sm_now_ns() time line, resuming after
 * signals. Returns 0, or a negative errno from clock_nanosleep. */
int sm_sleep_until_ns(uint64_t deadline_ns);

/* Sleeps for `ns` nanoseconds from now (a relative sleep, for an operation
 * that sleeps, without the caller reading the clock), resuming after
 * signals. Returns 0, or a negative errno from clock_nanosleep. */
int sm_sleep_for_ns(uint64_t ns);

/* Converts seconds to nanoseconds, saturating at UINT64_MAX; negative or NaN
 * input gives 0. */
uint64_t sm_seconds_to_ns(double seconds);

#endif
