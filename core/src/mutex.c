/* mutex.c: contended paths of the futex mutex (sm_mutex). */
#include "syncmark/mutex.h"

#include "syncmark/futex.h"
#include "syncmark/compiler.h"

/* Plain loads before going to sleep, as in Rust's std. */
enum { SPIN_LIMIT = 100 };

/* Spins with a pause hint while the mutex is LOCKED, at most SPIN_LIMIT
 * times, reading only (no exclusive cache-line requests). Returns the last
 * state seen: UNLOCKED or CONTENDED when the spin stopped early, LOCKED
 * when it ran out. Never fails. */
static int spin(struct sm_mutex *m) {
  for (int n = SPIN_LIMIT;; n--) {
    int state = atomic_load_explicit(&m->state, memory_order_relaxed);
    if (state != SM_MUTEX_LOCKED || n == 0)
      return state;
    sm_cpu_relax();
  }
}

void sm__mutex_lock_contended(struct sm_mutex *m) {
  int state = spin(m);
  /* Freed while we spun: try to take it without marking it contended. */
  if (state == SM_MUTEX_UNLOCKED) {
    if (atomic_compare_exchange_strong_explicit(
            &m->state, &state, SM_MUTEX_LOCKED, memory_order_acquire,
            memory_order_relaxed))
      return;
  }
  for (;;) {
    /* Mark it contended (skipping the write when it already is); finding
     * it UNLOCKED means the swap took it. Taken this way, the mutex stays
     * CONTENDED, so our unlock wakes any other sleeper in turn. */
    if (state != SM_MUTEX_CONTENDED &&
        atomic_exchange_explicit(&m->state, SM_MUTEX_CONTENDED,
                                 memory_order_acquire) == SM_MUTEX_UNLOCKED)
      return;
    /* Sleeps unless the state changed from CONTENDED meanwhile; returns on
     * a wake-up, a signal or a spurious wake-up alike. */
    sm_futex_wait(&m->state, SM_MUTEX_CONTENDED, NULL);
    state = spin(m);
  }
}

void sm__mutex_wake(struct sm_mutex *m) {
  sm_futex_wake(&m->state, 1);
}
