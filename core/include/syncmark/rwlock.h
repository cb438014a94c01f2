/* rwlock.h: futex reader-writer lock with the algorithm of Rust's std. */
#ifndef SYNCMARK_RWLOCK_H
#define SYNCMARK_RWLOCK_H

#include <stdatomic.h>
#include <stdbool.h>

/* Layout of sm_rwlock.state (library/std/src/sys/sync/rwlock/futex.rs).
 * Bits 0..29 count the readers: 0 is unlocked, 1..SM_RWLOCK_MAX_READERS
 * that many readers, SM_RWLOCK_WRITE_LOCKED a writer. Bit 30 says readers
 * sleep on `state`, bit 31 that writers sleep on `writer_notify`. */
#define SM_RWLOCK_READ_LOCKED     1u
#define SM_RWLOCK_MASK            ((1u << 30) - 1)
#define SM_RWLOCK_WRITE_LOCKED    SM_RWLOCK_MASK
#define SM_RWLOCK_MAX_READERS     (SM_RWLOCK_MASK - 1)
#define SM_RWLOCK_READERS_WAITING (1u << 30)
#define SM_RWLOCK_WRITERS_WAITING (1u << 31)

/* A reader-writer lock on two 32-bit futex words. Uncontended read, write
 * and unlocks are one atomic each. Writers are preferred: no reader takes
 * the lock while a writer waits, so a stream of readers cannot starve a
 * writer (but writers can starve readers). Contended threads spin briefly
 * on plain loads, then sleep: readers on `state`, writers on
 * `writer_notify`, a counter bumped before each writer wake-up. Not
 * recursive: a thread that holds a read lock and asks for another can
 * deadlock behind a waiting writer. */
struct sm_rwlock {
  atomic_uint state;
  atomic_uint writer_notify;
};
#define SM_RWLOCK_INIT                                                         \
  { 0, 0 }

/* Slow path of sm_rwlock_read: spins, then sleeps until it takes a read
 * lock. Aborts if the reader count would pass SM_RWLOCK_MAX_READERS
 * (where Rust panics); otherwise never fails. */
void sm__rwlock_read_contended(struct sm_rwlock *l);

/* Slow path of sm_rwlock_write: spins, then sleeps until it takes the write
 * lock. Never fails. */
void sm__rwlock_write_contended(struct sm_rwlock *l);

/* Called by an unlock that left the lock free with waiters flagged in
 * `state` (the value it left): wakes one writer if one waits, else all
 * readers. Never fails. */
void sm__rwlock_wake_writer_or_readers(struct sm_rwlock *l, unsigned state);

/* Returns true when a reader may take the lock in `state`: neither write
 * locked nor at the reader limit, and nobody waiting (waiting writers have
 * priority; waiting readers with no holder mean an unlock is waking
 * them). */
static inline bool sm__rwlock_read_lockable(unsigned state) {
  return (state & SM_RWLOCK_MASK) < SM_RWLOCK_MAX_READERS &&
         (state & (SM_RWLOCK_READERS_WAITING | SM_RWLOCK_WRITERS_WAITING)) == 0;
}

/* Tries once to take a read lock, failing when sm__rwlock_read_lockable
 * says no (write locked, a writer waiting, or at the reader limit). Retries
 * only when another thread changed the state meanwhile. Returns true when
 * taken. */
static inline bool sm_rwlock_try_read(struct sm_rwlock *l) {
  unsigned state = atomic_load_explicit(&l->state, memory_order_relaxed);
  while (sm__rwlock_read_lockable(state)) {
    if (atomic_compare_exchange_weak_explicit(
            &l->state, &state, state + SM_RWLOCK_READ_LOCKED,
            memory_order_acquire, memory_order_relaxed))
      return true;
  }
  return false;
}

/* Takes a read lock, sleeping while a writer holds or waits for the lock.
 * Aborts past SM_RWLOCK_MAX_READERS readers; otherwise never fails. */
static inline void sm_rwlock_read(struct sm_rwlock *l) {
  unsigned state = atomic_load_explicit(&l->state, memory_order_relaxed);
  if (!sm__rwlock_read_lockable(state) ||
      !atomic_compare_exchange_weak_explicit(
          &l->state, &state, state + SM_RWLOCK_READ_LOCKED,
          memory_order_acquire, memory_order_relaxed))
    sm__rwlock_read_contended(l);
}

/* Releases a read lock held by the caller; the last reader out wakes a
 * waiting writer. Never fails. */
static inline void sm_rwlock_read_unlock(struct sm_rwlock *l) {
  unsigned state = atomic_fetch_sub_explicit(&l->state, SM_RWLOCK_READ_LOCKED,
                                             memory_order_release) -
                   SM_RWLOCK_READ_LOCKED;
  /* Readers sleep on a read-locked lock only behind a waiting writer, so
   * the writers-waiting bit covers both. */
  if ((state & SM_RWLOCK_MASK) == 0 && (state & SM_RWLOCK_WRITERS_WAITING) != 0)
    sm__rwlock_wake_writer_or_readers(l, state);
}

/* Tries once to take the write lock, failing when any thread holds it.
 * Waiting bits do not stop it. Retries only when another thread changed
 * the state meanwhile. Returns true when taken. */
static inline bool sm_rwlock_try_write(struct sm_rwlock *l) {
  unsigned state = atomic_load_explicit(&l->state, memory_order_relaxed);
  while ((state & SM_RWLOCK_MASK) == 0) {
    if (atomic_compare_exchange_weak_explicit(
            &l->state, &state, state + SM_RWLOCK_WRITE_LOCKED,
            memory_order_acquire, memory_order_relaxed))
      return true;
  }
  return false;
}

/* Takes the write lock, sleeping while readers or a writer hold it. Never
 * fails; blocks forever if the holders never release. */
static inline void sm_rwlock_write(struct sm_rwlock *l) {
  unsigned expected = 0;
  if (!atomic_compare_exchange_weak_explicit(
          &l->state, &expected, SM_RWLOCK_WRITE_LOCKED, memory_order_acquire,
          memory_order_relaxed))
    sm__rwlock_write_contended(l);
}

/* Releases the write lock held by the caller, waking one waiting writer or
 * else every waiting reader. Never fails. */
static inline void sm_rwlock_write_unlock(struct sm_rwlock *l) {
  unsigned state = atomic_fetch_sub_explicit(&l->state, SM_RWLOCK_WRITE_LOCKED,
                                             memory_order_release) -
                   SM_RWLOCK_WRITE_LOCKED;
  if ((state & (SM_RWLOCK_READERS_WAITING | SM_RWLOCK_WRITERS_WAITING)) != 0)
    sm__rwlock_wake_writer_or_readers(l, state);
}

#endif
