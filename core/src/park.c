/* park.c: the futex parker of Rust's std on Linux (library/std/src/sys/
 * sync/thread_parking/futex.rs): one atomic word, three states. */
#include "syncmark/park.h"

#include <errno.h>
#include <time.h>

#include "syncmark/futex.h"

/* Returns CLOCK_MONOTONIC in nanoseconds. Never fails: that clock always
 * exists on Linux. */
static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* Sleeps on p->state while it is PARKED, for at most `timeout_ns` from now,
 * restarting with the time left when a signal handler interrupts the wait
 * (as Rust's futex_wait does). Returns when woken, when the state was no
 * longer PARKED, or when the time ran out; never fails. */
static void wait_parked(struct sm_parker *p, uint64_t timeout_ns) {
  uint64_t start = monotonic_ns();
  uint64_t left = timeout_ns;
  for (;;) {
    struct timespec rel = sm_futex_timespec(left);
    if (sm_futex_wait(&p->state, SM_PARKER_PARKED, &rel) != -EINTR)
      return;
    uint64_t spent = monotonic_ns() - start;
    if (spent >= timeout_ns)
      return;
    left = timeout_ns - spent;
  }
}

void sm_parker_park(struct sm_parker *p) {
  /* NOTIFIED -> EMPTY consumes the token; EMPTY -> PARKED announces that
   * we are going to sleep. */
  if (atomic_fetch_sub_explicit(&p->state, 1, memory_order_acquire) ==
      SM_PARKER_NOTIFIED)
    return;
  for (;;) {
    /* Returns at once if unpark already changed PARKED to NOTIFIED. */
    (void)sm_futex_wait(&p->state, SM_PARKER_PARKED, NULL);
    int expected = SM_PARKER_NOTIFIED;
    if (atomic_compare_exchange_strong_explicit(
            &p->state, &expected, SM_PARKER_EMPTY, memory_order_acquire,
            memory_order_acquire))
      return;
    /* Still PARKED: a spurious wake-up (signal, stale wake); sleep again. */
  }
}

int sm_parker_park_timeout(struct sm_parker *p, uint64_t timeout_ns) {
  if (atomic_fetch_sub_explicit(&p->state, 1, memory_order_acquire) ==
      SM_PARKER_NOTIFIED)
    return 0;
  wait_parked(p, timeout_ns);
  /* Woken, timed out or spuriously woken: either way the wait is over, so
   * leave EMPTY behind; a token that arrived meanwhile is consumed here.
   * As in Rust, a spurious wake-up before the time ran out ends the wait
   * too, and is reported as -ETIMEDOUT since no token came. */
  if (atomic_exchange_explicit(&p->state, SM_PARKER_EMPTY,
                               memory_order_acquire) == SM_PARKER_NOTIFIED)
    return 0;
  return -ETIMEDOUT;
}

void sm_parker_unpark(struct sm_parker *p) {
  /* Only a PARKED owner can be asleep; EMPTY or NOTIFIED just become (or
   * stay) NOTIFIED, so tokens never pile up. */
  if (atomic_exchange_explicit(&p->state, SM_PARKER_NOTIFIED,
                               memory_order_release) == SM_PARKER_PARKED)
    (void)sm_futex_wake(&p->state, 1);
}
