/* work.h: calibrated busy work used to give an operation a known length. */
#ifndef SYNCMARK_WORK_H
#define SYNCMARK_WORK_H

#include <stdint.h>

/* Runs `iterations` steps of a dependent integer computation that the
 * compiler cannot remove or batch; about one step per few cycles. Never
 * fails. The returned value only exists to keep the work alive. */
static inline uint64_t sm_work_spin(uint64_t iterations) {
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (uint64_t i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    __asm__ __volatile__("" : "+r"(x));
  }
  return x;
}

/* Returns how many sm_work_spin() iterations take `target_ns` nanoseconds on
 * the calling thread, measured with sm_now_ns() (the median of several
 * trials). Returns 0 for a target of 0, and at least 1 otherwise; a target
 * beyond what 64 bits can count saturates at UINT64_MAX. */
uint64_t sm_work_calibrate(uint64_t target_ns);

/* sm_work_calibrate(target_ns), measured once per process for each distinct
 * target and remembered: the cached count of every later call for the same
 * target. Thread-safe; call it outside measured loops (the first call for a
 * target takes about a millisecond). When memory for the cache runs out,
 * the count is measured again instead of remembered. */
uint64_t sm_work_iterations_for_ns(uint64_t target_ns);

#endif
