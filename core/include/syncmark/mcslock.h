/* mcslock.h: MCS queue lock: FIFO, each waiter spins on its own node. */
#ifndef SYNCMARK_MCSLOCK_H
#define SYNCMARK_MCSLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "syncmark/compiler.h"

/* One acquisition's place in the queue. The caller provides it to lock (or
 * trylock) and passes the same node to unlock; it must stay alive and
 * unused by any other acquisition until unlock returns. A node needs no
 * initialization: lock and trylock set it up. It is cache-line aligned so
 * that each waiter spins on a line nobody else writes until the hand-off. */
struct sm_mcs_node {
  SM_CACHE_ALIGNED _Atomic(struct sm_mcs_node *) next; /* successor, or NULL */
  atomic_uint waiting; /* 1 until the predecessor hands the lock over */
};

/* The lock: the last node of the queue of holder and waiters, NULL when the
 * lock is free. Waiters are granted the lock in arrival order (FIFO); a
 * preempted waiter delays everyone behind it, as with a ticket lock, but
 * each waiter spins on its own node, so a hand-off touches one waiter's
 * cache line instead of all of them. */
struct sm_mcslock {
  _Atomic(struct sm_mcs_node *) tail;
};
#define SM_MCSLOCK_INIT                                                        \
  { NULL }

/* Takes the lock with `node` only when nobody holds or waits for it.
 * Returns true when taken; the caller then releases it with
 * sm_mcslock_unlock(l, node). A failed try leaves the lock untouched. The
 * CAS is acq_rel: acquire orders the critical section after the previous
 * holder's, release publishes the reset of node->next to a successor. */
static inline bool sm_mcslock_trylock(struct sm_mcslock *l,
                                      struct sm_mcs_node *node) {
  atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
  struct sm_mcs_node *expected = NULL;
  return atomic_compare_exchange_strong_explicit(
      &l->tail, &expected, node, memory_order_acq_rel, memory_order_relaxed);
}

/* Takes the lock with `node`, queueing behind the current tail and spinning
 * with a pause hint on node->waiting until the predecessor hands over.
 * Never fails; spins forever if the holder never releases. */
static inline void sm_mcslock_lock(struct sm_mcslock *l,
                                   struct sm_mcs_node *node) {
  atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
  atomic_store_explicit(&node->waiting, 1, memory_order_relaxed);
  /* Release publishes the two stores above to the successor that will
   * read this node from the tail; acquire pairs with the release of the
   * unlock that emptied the queue, when we find it empty. */
  struct sm_mcs_node *prev =
      atomic_exchange_explicit(&l->tail, node, memory_order_acq_rel);
  if (prev == NULL)
    return;
  atomic_store_explicit(&prev->next, node, memory_order_release);
  while (atomic_load_explicit(&node->waiting, memory_order_acquire) != 0)
    sm_cpu_relax();
}

/* Releases the lock the caller took with `node`: empties the queue when
 * no successor has arrived, or else waits (spinning briefly) until the
 * successor has linked itself behind `node` and hands the lock to it.
 * Never fails. */
static inline void sm_mcslock_unlock(struct sm_mcslock *l,
                                     struct sm_mcs_node *node) {
  /* Acquire pairs with the successor's release store of node->next, so its
   * setting of waiting = 1 comes before our clearing of it. */
  struct sm_mcs_node *next =
      atomic_load_explicit(&node->next, memory_order_acquire);
  if (next == NULL) {
    struct sm_mcs_node *expected = node;
    if (atomic_compare_exchange_strong_explicit(&l->tail, &expected, NULL,
                                                memory_order_release,
                                                memory_order_relaxed))
      return;
    /* A successor swapped itself into the tail but has not linked yet. */
    while ((next = atomic_load_explicit(&node->next, memory_order_acquire)) ==
           NULL)
      sm_cpu_relax();
  }
  atomic_store_explicit(&next->waiting, 0, memory_order_release);
}

#endif
