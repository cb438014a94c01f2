/* spinlock.h: test-and-test-and-set spinlock and FIFO ticket lock. */
#ifndef SYNCMARK_SPINLOCK_H
#define SYNCMARK_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "syncmark/compiler.h"

/* A TTAS spinlock: waiters spin on a plain load (the line stays shared in
 * their caches) and only try the atomic exchange when the lock looks free.
 * No fairness: the waiter whose exchange lands first wins. */
struct sm_spinlock {
  atomic_uint locked;
};
#define SM_SPINLOCK_INIT                                                       \
  { 0 }

/* Tries once to take the lock. Returns true when taken. */
static inline bool sm_spinlock_trylock(struct sm_spinlock *l) {
  return atomic_load_explicit(&l->locked, memory_order_relaxed) == 0 &&
         atomic_exchange_explicit(&l->locked, 1, memory_order_acquire) == 0;
}

/* Takes the lock, spinning with a pause hint while it is held. Never fails;
 * spins forever if the holder never releases. */
static inline void sm_spinlock_lock(struct sm_spinlock *l) {
  while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire) != 0) {
    while (atomic_load_explicit(&l->locked, memory_order_relaxed) != 0)
      sm_cpu_relax();
  }
}

/* Releases a lock held by the caller. */
static inline void sm_spinlock_unlock(struct sm_spinlock *l) {
  atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/* A ticket lock: each waiter draws a ticket and waits until it is served,
 * so the lock is granted in arrival order (FIFO). A preempted waiter delays
 * everyone behind it. */
struct sm_ticketlock {
  atomic_uint next;    /* next ticket to hand out */
  atomic_uint serving; /* ticket now allowed in */
};
#define SM_TICKETLOCK_INIT                                                     \
  { 0, 0 }

/* Takes the lock only when nobody holds or waits for it. Returns true when
 * taken. The load of `serving` is the acquire that pairs with the previous
 * holder's release in unlock: the CAS on `next` alone would not order this
 * critical section after that one. */
static inline bool sm_ticketlock_trylock(struct sm_ticketlock *l) {
  unsigned serving = atomic_load_explicit(&l->serving, memory_order_acquire);
  unsigned expected = serving;
  return atomic_compare_exchange_strong_explicit(
      &l->next, &expected, serving + 1, memory_order_acquire,
      memory_order_relaxed);
}

/* Takes the lock in FIFO order, spinning with a pause hint. Never fails. */
static inline void sm_ticketlock_lock(struct sm_ticketlock *l) {
  unsigned ticket =
      atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed);
  while (atomic_load_explicit(&l->serving, memory_order_acquire) != ticket)
    sm_cpu_relax();
}

/* Releases a lock held by the caller, serving the next ticket. */
static inline void sm_ticketlock_unlock(struct sm_ticketlock *l) {
  unsigned serving = atomic_load_explicit(&l->serving, memory_order_relaxed);
  atomic_store_explicit(&l->serving, serving + 1, memory_order_release);
}

#endif
