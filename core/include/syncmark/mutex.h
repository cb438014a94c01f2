/* mutex.h: futex mutex with the algorithm of Rust's std on Linux. */
#ifndef SYNCMARK_MUTEX_H
#define SYNCMARK_MUTEX_H

#include <stdatomic.h>
#include <stdbool.h>

/* States of sm_mutex.state. */
enum {
  SM_MUTEX_UNLOCKED = 0,
  SM_MUTEX_LOCKED = 1,    /* locked, nobody asleep on it */
  SM_MUTEX_CONTENDED = 2, /* locked, and threads may be asleep on it */
};

/* A mutex on one 32-bit futex word (library/std/src/sys/sync/mutex/
 * futex.rs): the uncontended lock and unlock are one atomic each; a
 * contended lock spins briefly on a plain load, then sleeps in the kernel;
 * unlock enters the kernel only when the state says someone may sleep. Not
 * fair: a running thread can take the lock ahead of a woken one. Not
 * recursive: locking it twice from one thread deadlocks. */
struct sm_mutex {
  atomic_int state;
};
#define SM_MUTEX_INIT                                                          \
  { SM_MUTEX_UNLOCKED }

/* Slow path of sm_mutex_lock, called after the first CAS failed: spins,
 * then marks the mutex contended and sleeps until it takes it. Never
 * fails. */
void sm__mutex_lock_contended(struct sm_mutex *m);

/* Wakes one thread asleep on `m`, if any. Never fails. */
void sm__mutex_wake(struct sm_mutex *m);

/* Tries once to take the mutex. Returns true when taken. */
static inline bool sm_mutex_trylock(struct sm_mutex *m) {
  int expected = SM_MUTEX_UNLOCKED;
  return atomic_compare_exchange_strong_explicit(
      &m->state, &expected, SM_MUTEX_LOCKED, memory_order_acquire,
      memory_order_relaxed);
}

/* Takes the mutex, sleeping while another thread holds it. Never fails;
 * blocks forever if the holder never releases. */
static inline void sm_mutex_lock(struct sm_mutex *m) {
  if (!sm_mutex_trylock(m))
    sm__mutex_lock_contended(m);
}

/* Releases a mutex held by the caller and wakes one sleeper when the state
 * says there may be one. Never fails. */
static inline void sm_mutex_unlock(struct sm_mutex *m) {
  if (atomic_exchange_explicit(&m->state, SM_MUTEX_UNLOCKED,
                               memory_order_release) == SM_MUTEX_CONTENDED)
    sm__mutex_wake(m);
}

#endif
