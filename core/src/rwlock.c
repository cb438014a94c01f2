/* rwlock.c: contended paths and wake-ups of the futex rwlock (sm_rwlock). */
#include "syncmark/rwlock.h"

#include <limits.h>
#include <stdlib.h>

#include "syncmark/futex.h"
#include "syncmark/compiler.h"

/* Plain loads before going to sleep, as in Rust's std. */
enum { SPIN_LIMIT = 100 };

#define WAITING_BITS (SM_RWLOCK_READERS_WAITING | SM_RWLOCK_WRITERS_WAITING)

/* Returns `w` as the futex word the wrapper takes. The kernel compares the
 * 32 bits as they are, so the signedness does not matter; the wrapper never
 * reads the word itself. Never fails. */
static atomic_int *futex_word(atomic_uint *w) {
  return (atomic_int *)(void *)w;
}

/* Returns true when nobody holds the lock in `state`. */
static bool is_unlocked(unsigned state) {
  return (state & SM_RWLOCK_MASK) == 0;
}

/* Returns true when a writer holds the lock in `state`. */
static bool is_write_locked(unsigned state) {
  return (state & SM_RWLOCK_MASK) == SM_RWLOCK_WRITE_LOCKED;
}

/* Spins with a pause hint, reading the state only, until it is one in
 * which a writer should stop spinning (unlocked, or writers already wait,
 * so that a spinner does not overtake them), at most SPIN_LIMIT times.
 * Returns the last state read. Never fails. */
static unsigned spin_write(struct sm_rwlock *l) {
  for (int n = SPIN_LIMIT;; n--) {
    unsigned state = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (is_unlocked(state) || (state & SM_RWLOCK_WRITERS_WAITING) != 0 ||
        n == 0)
      return state;
    sm_cpu_relax();
  }
}

/* Spins like spin_write, stopping when the state is one a reader should act
 * on: not write locked, or anyone waiting. Returns the last state read.
 * Never fails. */
static unsigned spin_read(struct sm_rwlock *l) {
  for (int n = SPIN_LIMIT;; n--) {
    unsigned state = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (!is_write_locked(state) || (state & WAITING_BITS) != 0 || n == 0)
      return state;
    sm_cpu_relax();
  }
}

void sm__rwlock_read_contended(struct sm_rwlock *l) {
  unsigned state = spin_read(l);
  for (;;) {
    if (sm__rwlock_read_lockable(state)) {
      if (atomic_compare_exchange_weak_explicit(
              &l->state, &state, state + SM_RWLOCK_READ_LOCKED,
              memory_order_acquire, memory_order_relaxed))
        return;
      continue; /* `state` now holds the value that beat us */
    }
    if ((state & SM_RWLOCK_MASK) == SM_RWLOCK_MAX_READERS)
      abort(); /* 2^30 - 2 concurrent readers: a leak of read locks */
    /* Flag that readers sleep before sleeping, so an unlock wakes us. */
    if ((state & SM_RWLOCK_READERS_WAITING) == 0 &&
        !atomic_compare_exchange_strong_explicit(
            &l->state, &state, state | SM_RWLOCK_READERS_WAITING,
            memory_order_relaxed, memory_order_relaxed))
      continue;
    /* Sleeps unless the state changed since; any return means re-check. */
    sm_futex_wait(futex_word(&l->state),
                  (int)(state | SM_RWLOCK_READERS_WAITING), NULL);
    state = spin_read(l);
  }
}

void sm__rwlock_write_contended(struct sm_rwlock *l) {
  unsigned state = spin_write(l);
  /* Once we have slept, other writers may sleep too: keep their bit set
   * when we take the lock, so that our unlock wakes one of them. */
  unsigned other_writers_waiting = 0;
  for (;;) {
    if (is_unlocked(state)) {
      if (atomic_compare_exchange_weak_explicit(
              &l->state, &state,
              state | SM_RWLOCK_WRITE_LOCKED | other_writers_waiting,
              memory_order_acquire, memory_order_relaxed))
        return;
      continue;
    }
    if ((state & SM_RWLOCK_WRITERS_WAITING) == 0 &&
        !atomic_compare_exchange_strong_explicit(
            &l->state, &state, state | SM_RWLOCK_WRITERS_WAITING,
            memory_order_relaxed, memory_order_relaxed))
      continue;
    other_writers_waiting = SM_RWLOCK_WRITERS_WAITING;
    /* Read the notification counter before re-reading the state: a wake-up
     * after this load bumps the counter, so the wait below cannot miss it.
     * Acquire pairs with the release increment in wake_writer. */
    unsigned seq =
        atomic_load_explicit(&l->writer_notify, memory_order_acquire);
    state = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (is_unlocked(state) || (state & SM_RWLOCK_WRITERS_WAITING) == 0)
      continue;
    sm_futex_wait(futex_word(&l->writer_notify), (int)seq, NULL);
    state = spin_write(l);
  }
}

/* Bumps writer_notify and wakes one writer asleep on it. Returns true when
 * the kernel woke a sleeping writer; false when none slept, although a
 * writer about to sleep may still have seen the bump and will not sleep.
 * Never fails. */
static bool wake_writer(struct sm_rwlock *l) {
  atomic_fetch_add_explicit(&l->writer_notify, 1, memory_order_release);
  return sm_futex_wake(futex_word(&l->writer_notify), 1) > 0;
}

void sm__rwlock_wake_writer_or_readers(struct sm_rwlock *l, unsigned state) {
  /* The lock is free now. Readers may set their bit at any moment, and any
   * thread may lock it; whoever locks it then wakes the waiters at its own
   * unlock, so a failed CAS below leaves the job to that thread. */
  if (state == SM_RWLOCK_WRITERS_WAITING) {
    if (atomic_compare_exchange_strong_explicit(
            &l->state, &state, 0, memory_order_relaxed, memory_order_relaxed)) {
      wake_writer(l);
      return;
    }
    /* `state` is the new value: perhaps readers now wait too. */
  }
  if (state == (SM_RWLOCK_READERS_WAITING | SM_RWLOCK_WRITERS_WAITING)) {
    /* Writers first: clear their bit, leave the readers asleep. */
    if (!atomic_compare_exchange_strong_explicit(
            &l->state, &state, SM_RWLOCK_READERS_WAITING, memory_order_relaxed,
            memory_order_relaxed))
      return;
    if (wake_writer(l))
      return;
    /* No writer was asleep; we cannot tell whether one saw the bump, so
     * wake the readers as well rather than risk leaving them asleep. */
    state = SM_RWLOCK_READERS_WAITING;
  }
  if (state == SM_RWLOCK_READERS_WAITING &&
      atomic_compare_exchange_strong_explicit(
          &l->state, &state, 0, memory_order_relaxed, memory_order_relaxed))
    sm_futex_wake(futex_word(&l->state), INT_MAX);
}
