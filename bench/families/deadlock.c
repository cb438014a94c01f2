/* deadlock.c: the `deadlock` family: the lesson's two threads and two locks
 * (claim C17), taken in opposite orders (may deadlock), in one global order,
 * or the second by trylock with back-off; a detector thread proves a
 * deadlock from the lockers' published progress, and the runner's
 * isolation ends the repetition that has one. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "kit.h"
#include "syncmark/clock.h"
#include "syncmark/lockops.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_HOLD_NS };

/* The variants, in the order of the variants table. */
enum mode { MODE_UNORDERED, MODE_ORDERED, MODE_TRYLOCK };

/* Back-off after the n-th consecutive failure: a random wait in
 * [0, unit x 2^min(n, BACKOFF_MAX_SHIFT)), where unit is the hold time plus
 * BACKOFF_UNIT_NS. A wait much shorter than the hold lets both threads take
 * their first lock again together and fail again (a livelock); scaled to
 * the hold, one thread soon waits long enough for the other to finish.
 * Waits from BACKOFF_SLEEP_NS on sleep, giving the PU to a holder that
 * shares it; shorter ones spin calibrated work. */
enum { BACKOFF_UNIT_NS = 100, BACKOFF_MAX_SHIFT = 3, BACKOFF_SLEEP_NS = 50000 };

/* The detector's operation: sleep this long, then look at the lockers. */
enum { LOOK_NS = 500000 };

/* One locker's published state, alone on its cache line: written by the
 * locker, read by the detector. */
struct progress {
  SM_CACHE_ALIGNED atomic_uint_least64_t ops; /* completed lock pairs */
  atomic_int waiting; /* 1 from taking its first lock until it holds its
                         second (blocking variants) */
  atomic_int done;    /* 1 once its loop has ended */
};

/* One lock with the value it protects, as Rust's Mutex<u64>. */
struct guarded {
  SM_CACHE_ALIGNED struct sm_lockops_futex_mutex lock;
  atomic_uint_least64_t value; /* only changed under `lock` */
};

/* What the detector found. Written by the detector only; read by the
 * runner thread after the detector was joined. */
struct findings {
  uint64_t looks;           /* looks taken, in and after the loop */
  uint64_t progress_look;   /* the look that last saw the total move */
  uint64_t ops_at_progress; /* the lockers' total then */
  uint64_t proven_look;     /* the look that proved the deadlock, or 0 */
  int waiting[2];           /* the waiting flags at the last look */
};

/* Shared state of one window. */
struct deadlock_state {
  struct guarded a, b;
  struct progress locker[2];
  SM_CACHE_ALIGNED struct findings found;
  enum mode mode;
  uint64_t hold_iters;       /* sm_work_spin steps between first and second */
  uint64_t backoff_unit_ns;  /* hold_ns + BACKOFF_UNIT_NS */
  uint64_t backoff_unit_its; /* sm_work_spin steps of one back-off unit */
};

/* The work done under both locks: both protected values gain one (the
 * self-check compares them with the operations counted). */
static inline void both_held_work(struct deadlock_state *s) {
  uint64_t a = atomic_load_explicit(&s->a.value, memory_order_relaxed);
  uint64_t b = atomic_load_explicit(&s->b.value, memory_order_relaxed);
  atomic_store_explicit(&s->a.value, a + 1, memory_order_relaxed);
  atomic_store_explicit(&s->b.value, b + 1, memory_order_relaxed);
}

/* One operation of the lesson's pattern with blocking locks: take `first`,
 * publish that the thread waits (release: a detector that sees the flag
 * sees the operations before it), hold it for the hold work, take
 * `second`, work, release both. Blocks forever in a deadlock. */
static inline void op_blocking(struct deadlock_state *s, struct progress *me,
                               struct sm_lockops_futex_mutex *first,
                               struct sm_lockops_futex_mutex *second) {
  sm_lockops_futex_mutex_lock(first);
  atomic_store_explicit(&me->waiting, 1, memory_order_release);
  SM_KEEP(sm_work_spin(s->hold_iters));
  sm_lockops_futex_mutex_lock(second);
  atomic_store_explicit(&me->waiting, 0, memory_order_release);
  both_held_work(s);
  sm_lockops_futex_mutex_unlock(second);
  sm_lockops_futex_mutex_unlock(first);
}

/* A small xorshift generator for back-off jitter. */
static inline uint32_t next_random(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/* Backs off after `failures` (>= 1) consecutive failures, as described at
 * BACKOFF_UNIT_NS: sleeping for a long wait, spinning calibrated work for
 * a short one. Never fails. */
static void back_off(const struct deadlock_state *s, unsigned failures,
                     uint32_t *rng) {
  unsigned shift = failures < BACKOFF_MAX_SHIFT ? failures : BACKOFF_MAX_SHIFT;
  uint64_t wait_ns = next_random(rng) % (s->backoff_unit_ns << shift);
  if (wait_ns >= BACKOFF_SLEEP_NS)
    (void)sm_sleep_for_ns(wait_ns);
  else
    SM_KEEP(sm_work_spin(wait_ns * s->backoff_unit_its / s->backoff_unit_ns));
}

/* One operation with back-off: take `first`, hold it, try `second` once;
 * on failure release `first`, back off and start again. Returns the
 * failures (back-offs) it took. */
static inline uint64_t op_trylock(struct deadlock_state *s,
                                  struct sm_lockops_futex_mutex *first,
                                  struct sm_lockops_futex_mutex *second,
                                  uint32_t *rng) {
  unsigned failures = 0;
  for (;;) {
    sm_lockops_futex_mutex_lock(first);
    SM_KEEP(sm_work_spin(s->hold_iters));
    if (sm_lockops_futex_mutex_trylock(second))
      break;
    sm_lockops_futex_mutex_unlock(first);
    back_off(s, ++failures, rng);
  }
  both_held_work(s);
  sm_lockops_futex_mutex_unlock(second);
  sm_lockops_futex_mutex_unlock(first);
  return failures;
}

/* A locker: one lock pair per pass, its count published after each
 * (release, for the detector). Locker 1 takes the locks in the opposite
 * order (b, then a) except in the ordered variant. Publishes the back-offs
 * of its measured passes in family_count. */
static void locker(struct sm_worker *w) {
  struct deadlock_state *s = w->state;
  struct progress *me = &s->locker[w->role_index];
  int reverse = w->role_index == 1 && s->mode != MODE_ORDERED;
  struct sm_lockops_futex_mutex *first = reverse ? &s->b.lock : &s->a.lock;
  struct sm_lockops_futex_mutex *second = reverse ? &s->a.lock : &s->b.lock;
  uint32_t rng = 0x9e3779b9u * (w->role_index + 1);
  uint64_t count = 0, backoffs = 0;
  SM_MEASURED_LOOP(w, count) {
    if (s->mode == MODE_TRYLOCK) {
      uint64_t failures = op_trylock(s, first, second, &rng);
      backoffs += w->in_measure ? failures : 0;
    } else {
      op_blocking(s, me, first, second);
    }
    atomic_store_explicit(&me->ops, count + 1, memory_order_release);
  }
  w->family_count = backoffs;
  atomic_store_explicit(&me->done, 1, memory_order_release);
}

/* Reads one locker's waiting flag between two reads of its count (all
 * acquire, as its stores are release): *waiting is then the flag of the
 * operation after *ops when both reads of the count agree (an older flag
 * was overwritten before the count was published, a newer one is raised
 * only after the next count). Returns 1 when they agree. */
static int read_locker(struct progress *p, uint64_t *ops, int *waiting) {
  uint64_t before = atomic_load_explicit(&p->ops, memory_order_acquire);
  *waiting = atomic_load_explicit(&p->waiting, memory_order_acquire);
  *ops = atomic_load_explicit(&p->ops, memory_order_acquire);
  return before == *ops;
}

/* One look of the detector, after sleeping LOOK_NS: reads each locker's
 * count and waiting flag (read_locker). The lockers are deadlocked when two
 * looks in a row find, consistently, both flags set and the same counts:
 * each then held its first lock, inside the same operation, from the first
 * look to the second (a blocking locker releases its first lock only after
 * taking its second, lowering its flag, and completing), so both held
 * their first lock at once, and each first lock is the other's second.
 * Records the look in s->found. Returns 1 when the deadlock is proven. */
static int look(struct deadlock_state *s, uint64_t prev[2], int *prev_both) {
  (void)sm_sleep_for_ns(LOOK_NS);
  struct findings *f = &s->found;
  uint64_t ops[2];
  int consistent = 1;
  for (int i = 0; i < 2; i++)
    consistent &= read_locker(&s->locker[i], &ops[i], &f->waiting[i]);
  f->looks++;
  int same = ops[0] == prev[0] && ops[1] == prev[1];
  int both = consistent && f->waiting[0] && f->waiting[1];
  if (!same) {
    f->progress_look = f->looks;
    f->ops_at_progress = ops[0] + ops[1];
  }
  if (both && same && *prev_both && !f->proven_look)
    f->proven_look = f->looks;
  prev[0] = ops[0];
  prev[1] = ops[1];
  *prev_both = both;
  return f->proven_look != 0;
}

/* The detector: a pass is one look (a sleep, then a read of the lockers'
 * progress). After the window it keeps looking until both lockers have
 * left their loops or the deadlock is proven (one may form in the last
 * operations); a stall of any other kind is bounded by the runner, which
 * leaves its threads behind. */
static void detector(struct sm_worker *w) {
  struct deadlock_state *s = w->state;
  uint64_t count = 0, prev[2] = {0, 0};
  int prev_both = 0, proven = 0;
  SM_MEASURED_LOOP(w, count) {
    proven = look(s, prev, &prev_both);
  }
  while (!proven &&
         !(atomic_load_explicit(&s->locker[0].done, memory_order_acquire) &&
           atomic_load_explicit(&s->locker[1].done, memory_order_acquire)))
    proven = look(s, prev, &prev_both);
}

/* Creates the state of one window of c: both locks free, the hold and the
 * back-off unit calibrated (cached per length). Returns 0 or -ENOMEM. */
static int deadlock_setup(const struct sm_case *c, void **state) {
  struct deadlock_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  sm_lockops_futex_mutex_init(&s->a.lock);
  sm_lockops_futex_mutex_init(&s->b.lock);
  s->mode = (enum mode)(c->variant - c->family->variants);
  s->hold_iters = sm_work_iterations_for_ns((uint64_t)c->param[AXIS_HOLD_NS]);
  s->backoff_unit_ns = (uint64_t)c->param[AXIS_HOLD_NS] + BACKOFF_UNIT_NS;
  s->backoff_unit_its = sm_work_iterations_for_ns(s->backoff_unit_ns);
  *state = s;
  return 0;
}

/* Returns the operations both lockers published. */
static uint64_t total_ops(struct deadlock_state *s) {
  return atomic_load_explicit(&s->locker[0].ops, memory_order_acquire) +
         atomic_load_explicit(&s->locker[1].ops, memory_order_acquire);
}

/* Self-check and verdict. Threads left behind (workers[i].joined 0) are a
 * result only as a proven deadlock of the unordered variant; a proven
 * deadlock of ordered or trylock_backoff, or threads left behind without
 * proof, fail the case. Both protected values must equal the operations
 * the lockers published (in a deadlock nobody is inside the critical
 * section, so they are final). A window may complete no operation at all:
 * on a loaded machine a preempted thread can miss a whole short window.
 * Returns 0, -EPROTO or -ETIMEDOUT with msg. */
static int deadlock_check(const struct sm_case *c, void *state,
                          const struct sm_worker *workers, char *msg,
                          size_t msg_size) {
  struct deadlock_state *s = state;
  unsigned left = 0;
  for (unsigned i = 0; i < 3; i++)
    left += !workers[i].joined;
  const struct findings *f = &s->found;
  if (f->proven_look && s->mode != MODE_UNORDERED)
    return sm_kit_check_failed(
        msg, msg_size,
        "both threads stuck holding one lock although %s cannot "
        "deadlock",
        c->variant->name);
  if (!left && f->proven_look)
    return sm_kit_check_failed(
        msg, msg_size,
        "the detector proved a deadlock at look %llu but every thread "
        "returned",
        (unsigned long long)f->proven_look);
  if (left && !f->proven_look) {
    snprintf(msg, msg_size,
             "%u threads did not stop after the window and no deadlock was "
             "proven (%llu operations; waiting flags %d %d)",
             left, (unsigned long long)total_ops(s), f->waiting[0],
             f->waiting[1]);
    return -ETIMEDOUT;
  }
  uint64_t a = atomic_load_explicit(&s->a.value, memory_order_relaxed);
  uint64_t b = atomic_load_explicit(&s->b.value, memory_order_relaxed);
  uint64_t ops = total_ops(s);
  if (a != ops || b != ops)
    return sm_kit_check_failed(
        msg, msg_size,
        "values protected by the locks are %llu and %llu but the "
        "threads counted %llu operations",
        (unsigned long long)a, (unsigned long long)b, (unsigned long long)ops);
  return 0;
}

/* Adds `deadlocked` (0 or 1) and, for a deadlock, when it formed (the look
 * that last saw progress times the detector's mean look period, which the
 * runner timed: its loop's passes over the span from its start to its
 * stop) and the operations before it; otherwise, for trylock, back-offs per
 * measured lock pair (the runner adds ops_per_s). Returns 0 or
 * sm_sink_metric's error. */
static int deadlock_metrics(const struct sm_case *c SM_UNUSED, void *state,
                            const struct sm_worker *workers,
                            unsigned n SM_UNUSED, struct sm_sink *sink,
                            char *msg SM_UNUSED, size_t msg_size SM_UNUSED) {
  struct deadlock_state *s = state;
  const struct findings *f = &s->found;
  int dead = f->proven_look != 0;
  int rc = sm_sink_metric(sink, "deadlocked", "0/1", dead);
  if (rc == 0 && dead) {
    const struct sm_worker *d = &workers[2];
    double period = d->ops_at_stop ? (double)(d->ns_at_stop - d->ns_at_begin) /
                                         (double)d->ops_at_stop
                                   : (double)LOOK_NS;
    rc = sm_sink_metric(sink, "time_to_deadlock_ms", "ms",
                        (double)f->progress_look * period / 1e6);
    if (rc == 0)
      rc = sm_sink_metric(sink, "ops_before_deadlock", "ops",
                          (double)f->ops_at_progress);
    return rc;
  }
  double ops = 0, backoffs = 0;
  for (unsigned i = 0; i < 2; i++) {
    ops += (double)(workers[i].ops_at_stop - workers[i].ops_at_measure);
    backoffs += (double)workers[i].family_count;
  }
  if (rc == 0 && s->mode == MODE_TRYLOCK && ops > 0)
    rc = sm_sink_metric(sink, "backoffs_per_op", "backoffs/op", backoffs / ops);
  return rc;
}

/* Frees the state of one window (never called while threads are left
 * behind: the runner leaves the state to them). */
static void deadlock_teardown(void *state) {
  struct deadlock_state *s = state;
  sm_lockops_futex_mutex_destroy(&s->a.lock);
  sm_lockops_futex_mutex_destroy(&s->b.lock);
  free(s);
}

/* The two lockers (pinned to the pair placement's PUs; their lock pairs
 * are the operations) and the detector (unpinned). */
static const struct sm_role roles[] = {
    SM_ROLE_COUNTING("locker", locker, SM_ROLE_CASE_THREADS),
    SM_ROLE_SERVING("detector", detector, 1),
};

static const struct sm_variant variants[] = {
    [MODE_UNORDERED] = SM_KIT_ROLES_VARIANT(
        "unordered",
        "two threads take two locks in opposite orders (may deadlock)", roles),
    [MODE_ORDERED] = SM_KIT_ROLES_VARIANT(
        "ordered", "both threads take the locks in one order", roles),
    [MODE_TRYLOCK] =
        SM_KIT_ROLES_VARIANT("trylock_backoff",
                             "opposite orders; the second lock by trylock, "
                             "releasing the first and backing off on failure",
                             roles),
};

/* The family's own metrics (the runner adds ops_per_s ... for a window
 * that did not deadlock). */
static const struct sm_metric_decl metric_decls[] = {
    {"deadlocked", "0/1", SM_NO_DIRECTION,
     "1 when the detector proved the repetition deadlocked"},
    {"time_to_deadlock_ms", "ms", SM_NO_DIRECTION,
     "time from the start to the last progress seen"},
    {"ops_before_deadlock", "ops", SM_NO_DIRECTION,
     "lock pairs completed before the deadlock"},
    {"backoffs_per_op", "backoffs/op", SM_NO_DIRECTION,
     "failed trylocks per lock pair"},
};

static const long hold_values[] = {0, 1000, 100000};
static const long hold_quick[] = {0};

static const struct sm_axis axes[] = {
    [AXIS_HOLD_NS] = SM_AXIS("hold_ns", hold_values, hold_quick, 0, 1000000),
};

SM_FAMILY_DEFINE(deadlock, deadlock,
                 "two threads, two locks: opposite orders (a detector proves "
                 "the deadlock), one order, trylock with back-off",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(deadlock_metrics, metric_decls),
                 .shape = SM_SHAPE_PAIR, .isolated = 1, .extra_threads = 1,
                 .headline_metric = "deadlocked");
