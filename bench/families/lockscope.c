/* lockscope.c: the `lockscope` family: a mutex held across a slow
 * operation (a sleep, or busy work) against the same operation done
 * outside the lock with only the update inside, over threads (claim C10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "family.h"
#include "kit.h"
#include "syncmark/mutex.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SLOW_US, AXIS_BLOCKING };

/* Shared state of one window: the futex mutex (Rust std's algorithm, the
 * lesson's Mutex) with the counter it protects, and how to be slow. */
struct lockscope_state {
  SM_CACHE_ALIGNED struct sm_mutex lock;
  uint64_t value;                            /* protected by `lock` */
  SM_CACHE_ALIGNED uint64_t spin_iterations; /* busy: sm_work_spin steps */
  struct timespec sleep_for;                 /* blocking: nanosleep time */
  int blocking;                              /* 1: sleep, 0: busy work */
};

/* The simulated slow operation: a sleep of slow_us (an I/O wait) or as
 * long a busy loop. The branch goes the same way every time. */
static inline void slow_operation(const struct lockscope_state *s) {
  if (s->blocking)
    (void)nanosleep(&s->sleep_for, NULL);
  else
    SM_KEEP(sm_work_spin(s->spin_iterations));
}

/* The lesson's bad example: lock, slow operation, update, unlock. */
static void held_across_worker(struct sm_worker *w) {
  struct lockscope_state *s = w->state;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    sm_mutex_lock(&s->lock);
    slow_operation(s);
    s->value++;
    sm_mutex_unlock(&s->lock);
  }
}

/* The lesson's good example: slow operation, then lock, update, unlock. */
static void update_only_worker(struct sm_worker *w) {
  struct lockscope_state *s = w->state;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    slow_operation(s);
    sm_mutex_lock(&s->lock);
    s->value++;
    sm_mutex_unlock(&s->lock);
  }
}

/* Creates the state of one window: the mutex free, the counter at 0, the
 * slow operation sized. Returns 0 or -ENOMEM. */
static int lockscope_setup(const struct sm_case *c, void **state) {
  struct lockscope_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  atomic_init(&s->lock.state, SM_MUTEX_UNLOCKED);
  uint64_t slow_ns = (uint64_t)c->param[AXIS_SLOW_US] * 1000u;
  s->blocking = c->param[AXIS_BLOCKING] != 0;
  if (s->blocking)
    s->sleep_for = (struct timespec){(time_t)(slow_ns / 1000000000u),
                                     (long)(slow_ns % 1000000000u)};
  else
    s->spin_iterations = sm_work_iterations_for_ns((uint64_t)slow_ns);
  *state = s;
  return 0;
}

/* Self-check: the protected counter equals the operations all threads
 * counted (every pass of every loop, warmup included, did one update). A
 * window in which no operation finished passes: it did what it counted. */
static int lockscope_check(const struct sm_case *c, void *state,
                           const struct sm_worker *workers, char *msg,
                           size_t msg_size) {
  const struct lockscope_state *s = state;
  uint64_t ops = 0;
  for (unsigned i = 0; i < c->threads; i++)
    ops += workers[i].ops_at_stop;
  if (s->value == ops)
    return 0;
  return sm_kit_check_failed(
      msg, msg_size, "counter is %llu but the threads counted %llu operations",
      (unsigned long long)s->value, (unsigned long long)ops);
}

/* Frees the state of one window. */
static void lockscope_teardown(void *state) {
  free(state);
}

static const struct sm_variant variants[] = {
    SM_VARIANT("held_across",
               "futex mutex held across the slow operation and update",
               held_across_worker),
    SM_VARIANT("update_only",
               "slow operation outside; futex mutex only around update",
               update_only_worker),
};

static const long slow_values[] = {10, 100, 1000};
static const long slow_quick[] = {10, 1000};
/* Busy first: the test suite runs the first cases with 5 ms windows, and a
 * busy loop needs only CPU, not timely wake-ups, to finish an operation. */
static const long blocking_values[] = {0, 1};

static const struct sm_axis axes[] = {
    [AXIS_SLOW_US] = SM_AXIS("slow_us", slow_values, slow_quick, 1, 10000),
    [AXIS_BLOCKING] =
        SM_AXIS("blocking", blocking_values, blocking_values, 0, 1),
};

SM_FAMILY_DEFINE(lockscope, lockscope,
                 "a mutex held across slow work vs only around the update",
                 SM_FAMILY_AXES(axes));
