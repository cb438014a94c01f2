/* lockops.h: one small adapter per lock kind, so a benchmark loop written
 * once per kind (by macro) calls each lock directly, with no indirection. */
#ifndef SYNCMARK_LOCKOPS_H
#define SYNCMARK_LOCKOPS_H

#include <pthread.h>
#include <stdlib.h>

#include "syncmark/spinlock.h"

/* Every kind K provides:
 *   struct sm_lockops_K               the lock;
 *   sm_lockops_K_init / _destroy      set up and tear down (init aborts if
 *                                     the OS refuses, which glibc never does
 *                                     for default attributes);
 *   sm_lockops_K_lock / _unlock       exclusive (writer) access;
 *   sm_lockops_K_rdlock / _rdunlock   shared (reader) access, which for a
 *                                     kind without readers is exclusive.
 * SM_LOCKOPS_KINDS(X) lists every kind as X(K). */
#define SM_LOCKOPS_KINDS(X) X(mutex) X(rwlock) X(spin_ttas) X(ticket)

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
#define sm_lockops_ticket_rdlock(l)   sm_ticketlock_lock(&(l)->t)
#define sm_lockops_ticket_rdunlock(l) sm_ticketlock_unlock(&(l)->t)

#endif
