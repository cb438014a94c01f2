/* futex.h: wrappers around Linux's futex system call (private futexes),
 * shared by the parker, the futex-based locks and the families that hand
 * a word between threads. */
#ifndef SYNCMARK_FUTEX_H
#define SYNCMARK_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The kernel reads the futex word as a plain 32-bit int. */
_Static_assert(sizeof(atomic_int) == sizeof(int) && sizeof(int) == 4,
               "a futex word is a 32-bit int");
/* SYS_futex takes the kernel's native timespec, whose seconds are a long;
 * a 64-bit time_t on a 32-bit target (_TIME_BITS=64) would need
 * SYS_futex_time64 instead. */
_Static_assert(sizeof(time_t) == sizeof(long),
               "struct timespec must match the kernel's for SYS_futex");

/* Sleeps while *addr holds `expected`, for at most the relative time `rel`
 * (NULL: no limit), until a sm_futex_wake on the same address. The check
 * of *addr and the going to sleep are one atomic step in the kernel, so a
 * wake issued after the caller changed *addr is never lost. Only threads of
 * this process can wake it (FUTEX_WAIT_PRIVATE).
 *
 * Returns 0 when woken, -EAGAIN when *addr did not hold `expected`,
 * -ETIMEDOUT when `rel` ran out, -EINTR when a signal handler ran; any
 * other negative errno (-EINVAL for a malformed `rel`, -EFAULT) is a
 * caller's bug. A return of 0 can still be spurious (a wake meant for an
 * earlier use of the word), so callers always re-check their condition
 * and treat every result alike except, where they care, -ETIMEDOUT. A
 * caller that retries after -EINTR must shorten `rel` itself. */
static inline int sm_futex_wait(atomic_int *addr, int expected,
                                const struct timespec *rel) {
  long r = syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, rel,
                   NULL, 0);
  return r == 0 ? 0 : -errno;
}

/* Wakes up to `n` threads asleep in sm_futex_wait on `addr` (1: one,
 * INT_MAX: all). Harmless when nobody waits, and on an address whose
 * memory was reused meanwhile. Returns the number woken (0 or more), or a
 * negative errno (-EFAULT, -EINVAL) on a caller's bug. */
static inline int sm_futex_wake(atomic_int *addr, int n) {
  long r =
      syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
  return r >= 0 ? (int)r : -errno;
}

/* Returns `ns` nanoseconds as a relative timeout for sm_futex_wait. Never
 * fails: values past what time_t holds saturate (2^64 - 1 ns, about 584
 * years, fits a 64-bit time_t; the kernel itself clamps the deadline). */
static inline struct timespec sm_futex_timespec(uint64_t ns) {
  const uint64_t ns_per_s = UINT64_C(1000000000);
  const uint64_t max_s =
      sizeof(time_t) >= 8 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
  struct timespec ts;
  uint64_t s = ns / ns_per_s;
  if (s > max_s) {
    ts.tv_sec = (time_t)max_s;
    ts.tv_nsec = (long)(ns_per_s - 1);
  } else {
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)(ns % ns_per_s);
  }
  return ts;
}

#endif
