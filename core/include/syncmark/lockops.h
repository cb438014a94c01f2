/* lockops.h: one small adapter per lock kind, so a benchmark loop written
 * once per kind (by macro) calls each lock directly, with no indirection. */
#ifndef SYNCMARK_LOCKOPS_H
#define SYNCMARK_LOCKOPS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "syncmark/mcslock.h"
#include "syncmark/mutex.h"
#include "syncmark/rwlock.h"
#include "syncmark/spinlock.h"

/* Every kind K provides:
 *   struct sm_lockops_K               the lock;
 *   sm_lockops_K_init / _destroy      set up and tear down (init aborts if
 *                                     the OS refuses, which glibc never does
 *                                     for default attributes);
 *   sm_lockops_K_lock / _unlock       exclusive (writer) access;
 *   sm_lockops_K_trylock              exclusive access if free at once:
 *                                     true when taken (release it with
 *                                     _unlock), false without waiting;
 *   sm_lockops_K_rdlock / _rdunlock   shared (reader) access, which for a
 *                                     kind without readers is exclusive.
 * SM_LOCKOPS_KINDS(X) lists every kind as X(K). */
/* clang-format off */
#define SM_LOCKOPS_KINDS(X)                                                    \
  X(mutex) X(rwlock) X(spin_ttas) X(ticket) X(mcs) X(futex_mutex)              \
  X(futex_rwlock)
/* clang-format on */

/* Aborts when a pthread call that cannot fail with valid arguments does. */
static inline void sm__lockops_check(int rc) {
  if (rc != 0)
    abort();
}

struct sm_lockops_mutex {
  pthread_mutex_t m;
};
static inline void sm_lockops_mutex_init(struct sm_lockops_mutex *l) {
  sm__lockops_check(pthread_mutex_init(&l->m, NULL));
}
static inline void sm_lockops_mutex_destroy(struct sm_lockops_mutex *l) {
  pthread_mutex_destroy(&l->m);
}
static inline void sm_lockops_mutex_lock(struct sm_lockops_mutex *l) {
  sm__lockops_check(pthread_mutex_lock(&l->m));
}
static inline void sm_lockops_mutex_unlock(struct sm_lockops_mutex *l) {
  sm__lockops_check(pthread_mutex_unlock(&l->m));
}
static inline bool sm_lockops_mutex_trylock(struct sm_lockops_mutex *l) {
  return pthread_mutex_trylock(&l->m) == 0;
}
#define sm_lockops_mutex_rdlock   sm_lockops_mutex_lock
#define sm_lockops_mutex_rdunlock sm_lockops_mutex_unlock

struct sm_lockops_rwlock {
  pthread_rwlock_t rw;
};
static inline void sm_lockops_rwlock_init(struct sm_lockops_rwlock *l) {
  sm__lockops_check(pthread_rwlock_init(&l->rw, NULL));
}
static inline void sm_lockops_rwlock_destroy(struct sm_lockops_rwlock *l) {
  pthread_rwlock_destroy(&l->rw);
}
static inline void sm_lockops_rwlock_lock(struct sm_lockops_rwlock *l) {
  sm__lockops_check(pthread_rwlock_wrlock(&l->rw));
}
static inline void sm_lockops_rwlock_unlock(struct sm_lockops_rwlock *l) {
  sm__lockops_check(pthread_rwlock_unlock(&l->rw));
}
static inline bool sm_lockops_rwlock_trylock(struct sm_lockops_rwlock *l) {
  return pthread_rwlock_trywrlock(&l->rw) == 0;
}
static inline void sm_lockops_rwlock_rdlock(struct sm_lockops_rwlock *l) {
  sm__lockops_check(pthread_rwlock_rdlock(&l->rw));
}
#define sm_lockops_rwlock_rdunlock sm_lockops_rwlock_unlock

struct sm_lockops_spin_ttas {
  struct sm_spinlock s;
};
static inline void sm_lockops_spin_ttas_init(struct sm_lockops_spin_ttas *l) {
  atomic_init(&l->s.locked, 0);
}
static inline void
sm_lockops_spin_ttas_destroy(struct sm_lockops_spin_ttas *l) {
  (void)l;
}
#define sm_lockops_spin_ttas_lock(l)     sm_spinlock_lock(&(l)->s)
#define sm_lockops_spin_ttas_unlock(l)   sm_spinlock_unlock(&(l)->s)
#define sm_lockops_spin_ttas_trylock(l)  sm_spinlock_trylock(&(l)->s)
#define sm_lockops_spin_ttas_rdlock(l)   sm_spinlock_lock(&(l)->s)
#define sm_lockops_spin_ttas_rdunlock(l) sm_spinlock_unlock(&(l)->s)

struct sm_lockops_ticket {
  struct sm_ticketlock t;
};
static inline void sm_lockops_ticket_init(struct sm_lockops_ticket *l) {
  atomic_init(&l->t.next, 0);
  atomic_init(&l->t.serving, 0);
}
static inline void sm_lockops_ticket_destroy(struct sm_lockops_ticket *l) {
  (void)l;
}
#define sm_lockops_ticket_lock(l)     sm_ticketlock_lock(&(l)->t)
#define sm_lockops_ticket_unlock(l)   sm_ticketlock_unlock(&(l)->t)
#define sm_lockops_ticket_trylock(l)  sm_ticketlock_trylock(&(l)->t)
#define sm_lockops_ticket_rdlock(l)   sm_ticketlock_lock(&(l)->t)
#define sm_lockops_ticket_rdunlock(l) sm_ticketlock_unlock(&(l)->t)

/* MCS needs a queue node per acquisition, which the adapter's signature
 * has no room for. A benchmark thread holds at most one lock at a time, so
 * one node per thread serves every acquisition: the adapter keeps it in a
 * _Thread_local variable. A thread must therefore not hold two MCS locks
 * (or one twice) at once through this adapter. */
struct sm_lockops_mcs {
  struct sm_mcslock m;
};

/* Returns the calling thread's MCS node (one per thread and per
 * translation unit, which for one lock held at a time is as good as one per
 * thread). Never fails. */
static inline struct sm_mcs_node *sm__lockops_mcs_node(void) {
  static _Thread_local struct sm_mcs_node node;
  return &node;
}
static inline void sm_lockops_mcs_init(struct sm_lockops_mcs *l) {
  atomic_init(&l->m.tail, NULL);
}
static inline void sm_lockops_mcs_destroy(struct sm_lockops_mcs *l) {
  (void)l;
}
#define sm_lockops_mcs_lock(l) sm_mcslock_lock(&(l)->m, sm__lockops_mcs_node())
#define sm_lockops_mcs_unlock(l)                                               \
  sm_mcslock_unlock(&(l)->m, sm__lockops_mcs_node())
#define sm_lockops_mcs_trylock(l)                                              \
  sm_mcslock_trylock(&(l)->m, sm__lockops_mcs_node())
#define sm_lockops_mcs_rdlock(l)   sm_lockops_mcs_lock(l)
#define sm_lockops_mcs_rdunlock(l) sm_lockops_mcs_unlock(l)

struct sm_lockops_futex_mutex {
  struct sm_mutex m;
};
static inline void
sm_lockops_futex_mutex_init(struct sm_lockops_futex_mutex *l) {
  atomic_init(&l->m.state, SM_MUTEX_UNLOCKED);
}
static inline void
sm_lockops_futex_mutex_destroy(struct sm_lockops_futex_mutex *l) {
  (void)l;
}
#define sm_lockops_futex_mutex_lock(l)     sm_mutex_lock(&(l)->m)
#define sm_lockops_futex_mutex_unlock(l)   sm_mutex_unlock(&(l)->m)
#define sm_lockops_futex_mutex_trylock(l)  sm_mutex_trylock(&(l)->m)
#define sm_lockops_futex_mutex_rdlock(l)   sm_mutex_lock(&(l)->m)
#define sm_lockops_futex_mutex_rdunlock(l) sm_mutex_unlock(&(l)->m)

struct sm_lockops_futex_rwlock {
  struct sm_rwlock rw;
};
static inline void
sm_lockops_futex_rwlock_init(struct sm_lockops_futex_rwlock *l) {
  atomic_init(&l->rw.state, 0);
  atomic_init(&l->rw.writer_notify, 0);
}
static inline void
sm_lockops_futex_rwlock_destroy(struct sm_lockops_futex_rwlock *l) {
  (void)l;
}
#define sm_lockops_futex_rwlock_lock(l)     sm_rwlock_write(&(l)->rw)
#define sm_lockops_futex_rwlock_unlock(l)   sm_rwlock_write_unlock(&(l)->rw)
#define sm_lockops_futex_rwlock_trylock(l)  sm_rwlock_try_write(&(l)->rw)
#define sm_lockops_futex_rwlock_rdlock(l)   sm_rwlock_read(&(l)->rw)
#define sm_lockops_futex_rwlock_rdunlock(l) sm_rwlock_read_unlock(&(l)->rw)

#endif
