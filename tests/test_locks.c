/* test_locks.c: mutual exclusion, reader and trylock tests of the TTAS
 * spinlock, the ticket lock, the MCS lock, the futex mutex and rwlock, and
 * every lock adapter of lockops.h. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/lockops.h"
#include "syncmark/mcslock.h"
#include "syncmark/mutex.h"
#include "syncmark/rwlock.h"
#include "syncmark/spinlock.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Pause hints inside each critical section: they widen the window between
 * the read and the write of the protected data, so that a lock that lets two
 * threads in at once loses updates or tears the pair almost surely. */
enum { RACE_RELAX = 8 };

/* Most threads one test starts. */
enum { MAX_THREADS = 8 };

/* Increments per thread in the counter tests, per kind. Spin and ticket
 * locks are slow when 4 threads share 2 CPUs (a preempted holder or, for the
 * FIFO ticket and MCS locks, a preempted next waiter stalls everyone for a
 * time slice), so they get fewer. MCS gets fewest: once its queue falls into
 * step with the scheduler (each hand-off waiting for the next waiter's time
 * slice, and each unlock also for a preempted successor to link itself),
 * every acquisition costs milliseconds, as seen on a loaded 2-CPU machine. */
#define ITERS_mutex        100000
#define ITERS_rwlock       100000
#define ITERS_spin_ttas    50000
#define ITERS_ticket       2000
#define ITERS_mcs          500
#define ITERS_futex_mutex  100000
#define ITERS_futex_rwlock 100000

/* Writes (per writer) and reads (per reader) in the reader tests. */
#define PAIR_ITERS_mutex        50000
#define PAIR_ITERS_rwlock       50000
#define PAIR_ITERS_spin_ttas    20000
#define PAIR_ITERS_ticket       1000
#define PAIR_ITERS_mcs          250
#define PAIR_ITERS_futex_mutex  50000
#define PAIR_ITERS_futex_rwlock 50000

/* Seconds a test waits for another thread to reach a state before it fails
 * instead of hanging. */
#define WAIT_LIMIT_NS (10 * UINT64_C(1000000000))

/* State shared by the workers of one stress test. The protected fields are
 * plain on purpose: only the lock under test keeps them consistent. */
struct stress {
  pthread_barrier_t start; /* all workers are created before any starts */
  unsigned threads;        /* workers in this run */
  atomic_uint arrived;     /* workers past the barrier */
  void *lock;              /* the lock under test, of the worker's kind */
  uint64_t iters;          /* operations per worker */
  SM_CACHE_ALIGNED uint64_t counter; /* incremented under the lock */
  SM_CACHE_ALIGNED uint64_t a;       /* a == b outside writers' sections */
  uint64_t b;
  SM_CACHE_ALIGNED atomic_ulong violations; /* reads that saw a != b */
  atomic_ulong reads;                       /* read sections completed */
};

/* Stalls for RACE_RELAX pause hints and keeps the compiler from moving
 * memory accesses across the stall. Never fails. */
static void race_window(void) {
  for (int k = 0; k < RACE_RELAX; k++) {
    sm_cpu_relax();
    atomic_signal_fence(memory_order_seq_cst);
  }
}

/* Adds one to `*counter` by a read, a stall and a write back, so that two
 * threads doing it at once lose an update. The fences make the compiler do
 * the read and the write here, even inlined into a loop around a broken lock
 * that is no compiler barrier. The caller must hold the lock. Never fails. */
static void racy_increment(uint64_t *counter) {
  atomic_signal_fence(memory_order_seq_cst);
  uint64_t v = *counter;
  race_window();
  *counter = v + 1;
  atomic_signal_fence(memory_order_seq_cst);
}

/* Advances the pair s->a, s->b to the next value, writing a first and b
 * after a stall, so that a reader let in meanwhile sees a != b. The caller
 * must hold the lock exclusively. Never fails. */
static void write_pair(struct stress *s) {
  atomic_signal_fence(memory_order_seq_cst);
  uint64_t v = s->a + 1;
  s->a = v;
  race_window();
  s->b = v;
  atomic_signal_fence(memory_order_seq_cst);
}

/* Reads the pair s->a, s->b with a stall in between and counts a violation
 * when they differ. The caller must hold at least the read lock. Never
 * fails. */
static void read_pair(struct stress *s) {
  atomic_signal_fence(memory_order_seq_cst);
  uint64_t a = s->a;
  race_window();
  uint64_t b = s->b;
  atomic_signal_fence(memory_order_seq_cst);
  if (a != b)
    atomic_fetch_add_explicit(&s->violations, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
}

/* Waits until every worker of `s` is running: first at the barrier, then
 * spinning until all have left it, so that the workers on the CPUs start
 * their loops at the same moment rather than one futex wake-up apart. Fails
 * the test if the barrier does. */
static void await_start(struct stress *s) {
  int rc = pthread_barrier_wait(&s->start);
  cr_assert(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD,
            "pthread_barrier_wait: %d", rc);
  atomic_fetch_add_explicit(&s->arrived, 1, memory_order_acq_rel);
  while (atomic_load_explicit(&s->arrived, memory_order_acquire) < s->threads)
    sm_cpu_relax();
}

/* Starts one thread per entry of `fns` (at most MAX_THREADS), all on `s`,
 * releases them together through the start barrier and joins them. Fails
 * the test if a thread cannot be created or joined. */
static void run_workers(struct stress *s, void *(*const *fns)(void *),
                        size_t n) {
  cr_assert(n > 0 && n <= MAX_THREADS);
  pthread_t tid[MAX_THREADS];
  s->threads = (unsigned)n;
  atomic_init(&s->arrived, 0);
  cr_assert_eq(pthread_barrier_init(&s->start, NULL, (unsigned)n), 0);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(pthread_create(&tid[i], NULL, fns[i], s), 0,
                 "cannot create thread %zu", i);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(pthread_join(tid[i], NULL), 0);
  pthread_barrier_destroy(&s->start);
}

/* Defines, for lock kind K, the worker functions and the tests:
 * K_counter_{2,4}_threads increments a plain counter under lock() from 2 or
 * 4 threads and checks that no update was lost; K_readers_see_whole_pairs
 * runs 2 writers (lock()) against 2 readers (rdlock()) and checks that no
 * reader saw a half-written pair. */
#define DEFINE_KIND_TESTS(K)                                                   \
  /* Runs s->iters racy increments, each under lock(). Never fails. */         \
  static void *K##_counter_worker(void *arg) {                                 \
    struct stress *s = arg;                                                    \
    struct sm_lockops_##K *l = s->lock;                                        \
    await_start(s);                                                            \
    for (uint64_t i = 0; i < s->iters; i++) {                                  \
      sm_lockops_##K##_lock(l);                                                \
      racy_increment(&s->counter);                                             \
      sm_lockops_##K##_unlock(l);                                              \
    }                                                                          \
    return NULL;                                                               \
  }                                                                            \
  /* Runs s->iters pair writes, each under lock(). Never fails. */             \
  static void *K##_pair_writer(void *arg) {                                    \
    struct stress *s = arg;                                                    \
    struct sm_lockops_##K *l = s->lock;                                        \
    await_start(s);                                                            \
    for (uint64_t i = 0; i < s->iters; i++) {                                  \
      sm_lockops_##K##_lock(l);                                                \
      write_pair(s);                                                           \
      sm_lockops_##K##_unlock(l);                                              \
    }                                                                          \
    return NULL;                                                               \
  }                                                                            \
  /* Runs s->iters pair reads, each under rdlock(). Never fails. */            \
  static void *K##_pair_reader(void *arg) {                                    \
    struct stress *s = arg;                                                    \
    struct sm_lockops_##K *l = s->lock;                                        \
    await_start(s);                                                            \
    for (uint64_t i = 0; i < s->iters; i++) {                                  \
      sm_lockops_##K##_rdlock(l);                                              \
      read_pair(s);                                                            \
      sm_lockops_##K##_rdunlock(l);                                            \
    }                                                                          \
    return NULL;                                                               \
  }                                                                            \
  /* Runs the counter test with `n` threads and fails on a lost update. */     \
  static void K##_counter_test(size_t n) {                                     \
    struct sm_lockops_##K lock;                                                \
    static struct stress s;                                                    \
    sm_lockops_##K##_init(&lock);                                              \
    s.lock = &lock;                                                            \
    s.iters = ITERS_##K;                                                       \
    s.counter = 0;                                                             \
    void *(*fns[MAX_THREADS])(void *);                                         \
    for (size_t i = 0; i < n; i++)                                             \
      fns[i] = K##_counter_worker;                                             \
    run_workers(&s, fns, n);                                                   \
    sm_lockops_##K##_destroy(&lock);                                           \
    cr_assert_eq(s.counter, (uint64_t)n *ITERS_##K,                            \
                 #K ": %zu threads x %d increments gave %llu", n, ITERS_##K,   \
                 (unsigned long long)s.counter);                               \
  }                                                                            \
  Test(lockops_##K, counter_2_threads, .timeout = 120) {                       \
    K##_counter_test(2);                                                       \
  }                                                                            \
  Test(lockops_##K, counter_4_threads, .timeout = 120) {                       \
    K##_counter_test(4);                                                       \
  }                                                                            \
  Test(lockops_##K, readers_see_whole_pairs, .timeout = 120) {                 \
    struct sm_lockops_##K lock;                                                \
    static struct stress s;                                                    \
    sm_lockops_##K##_init(&lock);                                              \
    s.lock = &lock;                                                            \
    s.iters = PAIR_ITERS_##K;                                                  \
    s.a = s.b = 0;                                                             \
    atomic_init(&s.violations, 0);                                             \
    atomic_init(&s.reads, 0);                                                  \
    void *(*const fns[])(void *) = {K##_pair_writer, K##_pair_reader,          \
                                    K##_pair_writer, K##_pair_reader};         \
    run_workers(&s, fns, COUNT(fns));                                          \
    sm_lockops_##K##_destroy(&lock);                                           \
    cr_assert_eq(atomic_load(&s.violations), 0,                                \
                 #K ": %lu of %lu reads saw a torn pair",                      \
                 atomic_load(&s.violations), atomic_load(&s.reads));           \
    cr_assert_eq(atomic_load(&s.reads), 2 * PAIR_ITERS_##K);                   \
    cr_assert_eq(s.a, 2 * PAIR_ITERS_##K);                                     \
    cr_assert_eq(s.b, 2 * PAIR_ITERS_##K);                                     \
  }                                                                            \
  /* Tries the lock once from this thread; releases it when taken. Returns     \
   * (void *)1 when it was taken. */                                           \
  static void *K##_try_once(void *arg) {                                       \
    struct sm_lockops_##K *l = arg;                                            \
    if (!sm_lockops_##K##_trylock(l))                                          \
      return NULL;                                                             \
    sm_lockops_##K##_unlock(l);                                                \
    return (void *)1;                                                          \
  }                                                                            \
  /* trylock from another thread fails while the lock is held and takes it     \
   * once it is free. */                                                       \
  Test(lockops_##K, trylock_only_takes_a_free_lock, .timeout = 30) {           \
    static struct sm_lockops_##K lock;                                         \
    sm_lockops_##K##_init(&lock);                                              \
    void *taken;                                                               \
    pthread_t tid;                                                             \
    sm_lockops_##K##_lock(&lock);                                              \
    cr_assert_eq(pthread_create(&tid, NULL, K##_try_once, &lock), 0);          \
    cr_assert_eq(pthread_join(tid, &taken), 0);                                \
    cr_assert_null(taken, #K ": trylock took a held lock");                    \
    sm_lockops_##K##_unlock(&lock);                                            \
    cr_assert_eq(pthread_create(&tid, NULL, K##_try_once, &lock), 0);          \
    cr_assert_eq(pthread_join(tid, &taken), 0);                                \
    cr_assert_not_null(taken, #K ": trylock refused a free lock");             \
    sm_lockops_##K##_destroy(&lock);                                           \
  }

SM_LOCKOPS_KINDS(DEFINE_KIND_TESTS)

/* Waits until `*flag` is nonzero, yielding the CPU meanwhile. Returns false
 * if it stays zero for WAIT_LIMIT_NS. */
static bool wait_flag(atomic_int *flag) {
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  while (atomic_load_explicit(flag, memory_order_acquire) == 0) {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

/* Shared state of the rwlock readers-share test. */
struct share {
  struct sm_lockops_rwlock lock;
  atomic_int entered; /* set by the second reader inside its section */
};

/* Takes the read lock, reports being inside, and releases it. Never fails,
 * but blocks for as long as readers exclude each other. */
static void *second_reader(void *arg) {
  struct share *sh = arg;
  sm_lockops_rwlock_rdlock(&sh->lock);
  atomic_store_explicit(&sh->entered, 1, memory_order_release);
  sm_lockops_rwlock_rdunlock(&sh->lock);
  return NULL;
}

Test(lockops_rwlock, readers_share_the_lock, .timeout = 30) {
  static struct share sh;
  sm_lockops_rwlock_init(&sh.lock);
  atomic_init(&sh.entered, 0);
  sm_lockops_rwlock_rdlock(&sh.lock);
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, second_reader, &sh), 0);
  bool entered = wait_flag(&sh.entered);
  /* Fail before joining: a reader that cannot enter would never return. */
  cr_assert(entered, "a second reader could not enter while one held it");
  sm_lockops_rwlock_rdunlock(&sh.lock);
  cr_assert_eq(pthread_join(tid, NULL), 0);
  sm_lockops_rwlock_destroy(&sh.lock);
}

/* Tries `lock` once on a new thread and releases it there when taken.
 * Returns whether the try succeeded; fails the test if the thread cannot
 * be created or joined. */
static bool try_on_other_thread(void *(*fn)(void *), void *lock) {
  pthread_t tid;
  void *taken = NULL;
  cr_assert_eq(pthread_create(&tid, NULL, fn, lock), 0);
  cr_assert_eq(pthread_join(tid, &taken), 0);
  return taken != NULL;
}

/* Thread body: tries the sm_spinlock at `arg` once and releases it when
 * taken. Returns non-NULL when the try succeeded. Never fails. */
static void *spin_try_release(void *arg) {
  struct sm_spinlock *l = arg;
  if (!sm_spinlock_trylock(l))
    return NULL;
  sm_spinlock_unlock(l);
  return arg;
}

/* Thread body: tries the sm_ticketlock at `arg` once and releases it when
 * taken. Returns non-NULL when the try succeeded. Never fails. */
static void *ticket_try_release(void *arg) {
  struct sm_ticketlock *l = arg;
  if (!sm_ticketlock_trylock(l))
    return NULL;
  sm_ticketlock_unlock(l);
  return arg;
}

Test(spinlock, trylock_semantics) {
  static struct sm_spinlock l = SM_SPINLOCK_INIT;
  cr_assert(sm_spinlock_trylock(&l), "trylock of a free lock failed");
  cr_assert_not(sm_spinlock_trylock(&l), "trylock of a held lock succeeded");
  cr_assert_not(try_on_other_thread(spin_try_release, &l),
                "trylock from another thread of a held lock succeeded");
  sm_spinlock_unlock(&l);
  cr_assert(try_on_other_thread(spin_try_release, &l),
            "trylock from another thread of a released lock failed");
  cr_assert(sm_spinlock_trylock(&l), "trylock after unlock failed");
  sm_spinlock_unlock(&l);
  sm_spinlock_lock(&l);
  cr_assert_not(sm_spinlock_trylock(&l), "trylock after lock succeeded");
  cr_assert_not(try_on_other_thread(spin_try_release, &l));
  sm_spinlock_unlock(&l);
  cr_assert_eq(atomic_load(&l.locked), 0);
}

/* Asserts the ticket counters of `l`. Fails the test when they differ. */
static void assert_tickets(struct sm_ticketlock *l, unsigned next,
                           unsigned serving) {
  cr_assert_eq(atomic_load(&l->next), next, "next %u, want %u",
               atomic_load(&l->next), next);
  cr_assert_eq(atomic_load(&l->serving), serving, "serving %u, want %u",
               atomic_load(&l->serving), serving);
}

Test(ticketlock, trylock_semantics) {
  static struct sm_ticketlock l = SM_TICKETLOCK_INIT;
  cr_assert(sm_ticketlock_trylock(&l), "trylock of a free lock failed");
  assert_tickets(&l, 1, 0);
  /* A failed try must not draw a ticket, or the lock would never be free
   * again. */
  cr_assert_not(sm_ticketlock_trylock(&l), "trylock of a held lock worked");
  cr_assert_not(try_on_other_thread(ticket_try_release, &l),
                "trylock from another thread of a held lock succeeded");
  assert_tickets(&l, 1, 0);
  sm_ticketlock_unlock(&l);
  assert_tickets(&l, 1, 1);
  cr_assert(try_on_other_thread(ticket_try_release, &l),
            "trylock from another thread of a released lock failed");
  assert_tickets(&l, 2, 2);
  cr_assert(sm_ticketlock_trylock(&l), "trylock after unlock failed");
  sm_ticketlock_unlock(&l);
  sm_ticketlock_lock(&l);
  cr_assert_not(sm_ticketlock_trylock(&l), "trylock after lock succeeded");
  cr_assert_not(try_on_other_thread(ticket_try_release, &l));
  sm_ticketlock_unlock(&l);
  assert_tickets(&l, 4, 4);
}

Test(ticketlock, tickets_wrap_around) {
  struct sm_ticketlock l;
  atomic_init(&l.next, UINT_MAX - 1);
  atomic_init(&l.serving, UINT_MAX - 1);
  sm_ticketlock_lock(&l);
  sm_ticketlock_unlock(&l);
  assert_tickets(&l, UINT_MAX, UINT_MAX);
  /* The try at serving == UINT_MAX draws the ticket that wraps to 0. */
  cr_assert(sm_ticketlock_trylock(&l), "trylock at UINT_MAX failed");
  assert_tickets(&l, 0, UINT_MAX);
  cr_assert_not(sm_ticketlock_trylock(&l), "trylock across the wrap worked");
  sm_ticketlock_unlock(&l);
  assert_tickets(&l, 0, 0);
  sm_ticketlock_lock(&l);
  sm_ticketlock_unlock(&l);
  cr_assert(sm_ticketlock_trylock(&l), "trylock after the wrap failed");
  sm_ticketlock_unlock(&l);
  assert_tickets(&l, 2, 2);
}

/* Shared state of the ticket FIFO test. */
struct fifo {
  struct sm_ticketlock lock;
  int order[2]; /* waiter ids in the order they got the lock */
  int taken;    /* entries of order[] used; protected by lock */
};

/* Argument of one FIFO waiter. */
struct fifo_waiter {
  struct fifo *f;
  int id;
};

/* Takes the ticket lock, records its id as the next holder and releases.
 * Never fails. */
static void *fifo_waiter(void *arg) {
  struct fifo_waiter *w = arg;
  sm_ticketlock_lock(&w->f->lock);
  w->f->order[w->f->taken++] = w->id;
  sm_ticketlock_unlock(&w->f->lock);
  return NULL;
}

/* Waits until the ticket lock has handed out `tickets` tickets, yielding
 * meanwhile. Returns false if that takes over WAIT_LIMIT_NS. */
static bool wait_tickets(struct sm_ticketlock *l, unsigned tickets) {
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  while (atomic_load_explicit(&l->next, memory_order_relaxed) != tickets) {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

Test(ticketlock, grants_in_arrival_order, .timeout = 30) {
  static struct fifo f = {.lock = SM_TICKETLOCK_INIT};
  struct fifo_waiter w[2] = {{&f, 1}, {&f, 2}};
  pthread_t tid[2];
  sm_ticketlock_lock(&f.lock);
  /* Waiter 1 draws ticket 1 before waiter 2 is even started. */
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(pthread_create(&tid[i], NULL, fifo_waiter, &w[i]), 0);
    cr_assert(wait_tickets(&f.lock, (unsigned)i + 2),
              "waiter %d never drew its ticket", i + 1);
  }
  sm_ticketlock_unlock(&f.lock);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(pthread_join(tid[i], NULL), 0);
  cr_assert_eq(f.taken, 2);
  cr_assert_eq(f.order[0], 1, "waiter %d was served first", f.order[0]);
  cr_assert_eq(f.order[1], 2);
  assert_tickets(&f.lock, 3, 3);
}

/* Defines, for the lock type T with functions P_lock, P_trylock and
 * P_unlock, a stress test in which even threads take the lock with lock()
 * and odd threads by spinning on trylock(), each doing ITERS racy
 * increments: a trylock that lets a thread in beside a holder, or that does
 * not order its critical section after the previous holder's, loses
 * updates (the second shows under ThreadSanitizer). */
#define DEFINE_TRYLOCK_STRESS(SUITE, T, P, INIT, ITERS)                        \
  /* Runs s->iters increments, taking the lock by lock() or, when `use_try`,   \
   * by spinning on trylock(). Never fails. */                                 \
  static void P##_mixed_run(struct stress *s, bool use_try) {                  \
    T *l = s->lock;                                                            \
    await_start(s);                                                            \
    for (uint64_t i = 0; i < s->iters; i++) {                                  \
      if (use_try) {                                                           \
        while (!P##_trylock(l))                                                \
          sm_cpu_relax();                                                      \
      } else {                                                                 \
        P##_lock(l);                                                           \
      }                                                                        \
      racy_increment(&s->counter);                                             \
      P##_unlock(l);                                                           \
    }                                                                          \
  }                                                                            \
  /* Thread body taking the lock by lock(). Never fails. */                    \
  static void *P##_locker(void *arg) {                                         \
    P##_mixed_run(arg, false);                                                 \
    return NULL;                                                               \
  }                                                                            \
  /* Thread body taking the lock by trylock(). Never fails. */                 \
  static void *P##_trier(void *arg) {                                          \
    P##_mixed_run(arg, true);                                                  \
    return NULL;                                                               \
  }                                                                            \
  Test(SUITE, trylock_and_lock_exclude_each_other, .timeout = 120) {           \
    static T lock = INIT;                                                      \
    static struct stress s;                                                    \
    s.lock = &lock;                                                            \
    s.iters = ITERS;                                                           \
    s.counter = 0;                                                             \
    void *(*const fns[])(void *) = {P##_locker, P##_trier, P##_locker,         \
                                    P##_trier};                                \
    run_workers(&s, fns, COUNT(fns));                                          \
    cr_assert_eq(s.counter, (uint64_t)COUNT(fns) * ITERS,                      \
                 "%zu threads x %d increments gave %llu", COUNT(fns), ITERS,   \
                 (unsigned long long)s.counter);                               \
  }

DEFINE_TRYLOCK_STRESS(spinlock, struct sm_spinlock, sm_spinlock,
                      SM_SPINLOCK_INIT, ITERS_spin_ttas)
DEFINE_TRYLOCK_STRESS(ticketlock, struct sm_ticketlock, sm_ticketlock,
                      SM_TICKETLOCK_INIT, ITERS_ticket)

/* ---- MCS queue lock ---- */

/* Thread body: tries the sm_mcslock at `arg` once with a node of its own
 * and releases it when taken. Returns non-NULL when the try succeeded.
 * Never fails. */
static void *mcs_try_release(void *arg) {
  struct sm_mcslock *l = arg;
  struct sm_mcs_node node;
  if (!sm_mcslock_trylock(l, &node))
    return NULL;
  sm_mcslock_unlock(l, &node);
  return arg;
}

Test(mcslock, trylock_semantics) {
  static struct sm_mcslock l = SM_MCSLOCK_INIT;
  static struct sm_mcs_node a, b;
  cr_assert(sm_mcslock_trylock(&l, &a), "trylock of a free lock failed");
  cr_assert_eq(atomic_load(&l.tail), &a, "the holder's node is not the tail");
  cr_assert_not(sm_mcslock_trylock(&l, &b), "trylock of a held lock worked");
  cr_assert_eq(atomic_load(&l.tail), &a, "a failed try changed the tail");
  cr_assert_not(try_on_other_thread(mcs_try_release, &l),
                "trylock from another thread of a held lock succeeded");
  sm_mcslock_unlock(&l, &a);
  cr_assert_null(atomic_load(&l.tail), "unlock left the queue non-empty");
  cr_assert(try_on_other_thread(mcs_try_release, &l),
            "trylock from another thread of a released lock failed");
  cr_assert_null(atomic_load(&l.tail));
  sm_mcslock_lock(&l, &b);
  cr_assert_eq(atomic_load(&l.tail), &b);
  cr_assert_not(sm_mcslock_trylock(&l, &a), "trylock after lock succeeded");
  cr_assert_not(try_on_other_thread(mcs_try_release, &l));
  sm_mcslock_unlock(&l, &b);
  cr_assert_null(atomic_load(&l.tail));
}

/* Shared state of the MCS FIFO test. */
struct mcs_fifo {
  struct sm_mcslock lock;
  struct sm_mcs_node nodes[2]; /* waiter i queues with nodes[i] */
  int order[2];                /* waiter ids in the order they got in */
  int taken;                   /* entries of order[] used; under lock */
};

/* Argument of one MCS FIFO waiter. */
struct mcs_fifo_waiter {
  struct mcs_fifo *f;
  int id; /* 1 or 2; queues with nodes[id - 1] */
};

/* Takes the MCS lock with its own node, records its id as the next holder
 * and releases. Never fails. */
static void *mcs_fifo_waiter(void *arg) {
  struct mcs_fifo_waiter *w = arg;
  struct sm_mcs_node *node = &w->f->nodes[w->id - 1];
  sm_mcslock_lock(&w->f->lock, node);
  w->f->order[w->f->taken++] = w->id;
  sm_mcslock_unlock(&w->f->lock, node);
  return NULL;
}

/* Waits until `node` is the tail of the MCS queue, yielding meanwhile.
 * Returns false if that takes over WAIT_LIMIT_NS. */
static bool wait_mcs_tail(struct sm_mcslock *l, struct sm_mcs_node *node) {
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  while (atomic_load_explicit(&l->tail, memory_order_relaxed) != node) {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

Test(mcslock, grants_in_arrival_order, .timeout = 30) {
  static struct mcs_fifo f = {.lock = SM_MCSLOCK_INIT};
  static struct sm_mcs_node holder;
  struct mcs_fifo_waiter w[2] = {{&f, 1}, {&f, 2}};
  pthread_t tid[2];
  sm_mcslock_lock(&f.lock, &holder);
  /* Waiter 1 is queued (its node is the tail) before waiter 2 starts. */
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(pthread_create(&tid[i], NULL, mcs_fifo_waiter, &w[i]), 0);
    cr_assert(wait_mcs_tail(&f.lock, &f.nodes[i]), "waiter %d never queued",
              i + 1);
  }
  sm_mcslock_unlock(&f.lock, &holder);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(pthread_join(tid[i], NULL), 0);
  cr_assert_eq(f.taken, 2);
  cr_assert_eq(f.order[0], 1, "waiter %d was served first", f.order[0]);
  cr_assert_eq(f.order[1], 2);
  cr_assert_null(atomic_load(&f.lock.tail));
}

/* The calling thread's node for the MCS trylock stress test. */
static _Thread_local struct sm_mcs_node mcs_tl_node;

/* sm_mcslock_trylock with the calling thread's node. Returns true when
 * taken. */
static bool mcs_tl_trylock(struct sm_mcslock *l) {
  return sm_mcslock_trylock(l, &mcs_tl_node);
}

/* sm_mcslock_lock with the calling thread's node. Never fails. */
static void mcs_tl_lock(struct sm_mcslock *l) {
  sm_mcslock_lock(l, &mcs_tl_node);
}

/* sm_mcslock_unlock with the calling thread's node. Never fails. */
static void mcs_tl_unlock(struct sm_mcslock *l) {
  sm_mcslock_unlock(l, &mcs_tl_node);
}

DEFINE_TRYLOCK_STRESS(mcslock, struct sm_mcslock, mcs_tl, SM_MCSLOCK_INIT,
                      ITERS_mcs)

/* ---- futex mutex ---- */

/* Seconds the futex tests wait for another thread to reach a state before
 * failing: below their Criterion timeout of 10 s, so that a blocked lock
 * fails with a message rather than by the timeout. */
#define SHORT_LIMIT_NS (5 * UINT64_C(1000000000))

/* Waits until `*word` equals `want`, yielding meanwhile. Returns false if
 * it does not within SHORT_LIMIT_NS. */
static bool wait_int(atomic_int *word, int want) {
  uint64_t deadline = sm_now_ns() + SHORT_LIMIT_NS;
  while (atomic_load_explicit(word, memory_order_acquire) != want) {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

/* Returns the scheduler state letter ('R', 'S', ...) of thread `tid` of
 * this process from /proc, or '?' when it cannot be read. Never fails. */
static char thread_state(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return '?';
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* "tid (comm) S ...": the state follows the last ')'. */
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits until `*tid` holds a thread id (a thread publishes its own) and
 * that thread sleeps ('S'), yielding meanwhile. Returns false if that takes
 * over SHORT_LIMIT_NS. */
static bool wait_asleep(atomic_int *tid) {
  uint64_t deadline = sm_now_ns() + SHORT_LIMIT_NS;
  while (atomic_load(tid) == 0 ||
         thread_state((pid_t)atomic_load(tid)) != 'S') {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

/* Thread body: tries the sm_mutex at `arg` once and releases it when
 * taken. Returns non-NULL when the try succeeded. Never fails. */
static void *mutex_try_release(void *arg) {
  struct sm_mutex *m = arg;
  if (!sm_mutex_trylock(m))
    return NULL;
  sm_mutex_unlock(m);
  return arg;
}

Test(mutex, trylock_semantics) {
  static struct sm_mutex m = SM_MUTEX_INIT;
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_UNLOCKED);
  cr_assert(sm_mutex_trylock(&m), "trylock of a free mutex failed");
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_LOCKED);
  cr_assert_not(sm_mutex_trylock(&m), "trylock of a held mutex worked");
  cr_assert_not(try_on_other_thread(mutex_try_release, &m),
                "trylock from another thread of a held mutex succeeded");
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_LOCKED,
               "a failed try changed the state");
  sm_mutex_unlock(&m);
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_UNLOCKED);
  cr_assert(try_on_other_thread(mutex_try_release, &m),
            "trylock from another thread of a released mutex failed");
  sm_mutex_lock(&m);
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_LOCKED,
               "an uncontended lock marked the mutex contended");
  cr_assert_not(sm_mutex_trylock(&m), "trylock after lock succeeded");
  cr_assert_not(try_on_other_thread(mutex_try_release, &m));
  sm_mutex_unlock(&m);
  cr_assert_eq(atomic_load(&m.state), SM_MUTEX_UNLOCKED);
}

/* Shared state of the mutex sleeper test. */
struct mutex_sleeper {
  struct sm_mutex m;
  atomic_int entered; /* set by the waiter inside its critical section */
  atomic_int tid;     /* the waiter's thread id, for /proc */
};

/* Publishes its thread id, takes the mutex, records being inside, and
 * releases it. Never fails. */
static void *mutex_waiter(void *arg) {
  struct mutex_sleeper *ms = arg;
  atomic_store(&ms->tid, (int)gettid());
  sm_mutex_lock(&ms->m);
  atomic_store_explicit(&ms->entered, 1, memory_order_relaxed);
  sm_mutex_unlock(&ms->m);
  return NULL;
}

Test(mutex, waiter_sleeps_until_unlock, .timeout = 10) {
  static struct mutex_sleeper ms = {.m = SM_MUTEX_INIT};
  sm_mutex_lock(&ms.m);
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, mutex_waiter, &ms), 0);
  /* The waiter marks the mutex contended before it sleeps. */
  cr_assert(wait_int(&ms.m.state, SM_MUTEX_CONTENDED),
            "the waiter never marked the mutex contended (state %d)",
            atomic_load(&ms.m.state));
  cr_assert_eq(atomic_load(&ms.entered), 0, "the waiter got in beside us");
  cr_assert_not(sm_mutex_trylock(&ms.m));
  /* Once it sleeps in the kernel, only the unlock's wake-up lets it in. */
  cr_assert(wait_asleep(&ms.tid), "the waiter never went to sleep");
  sm_mutex_unlock(&ms.m); /* state was CONTENDED: wakes the waiter */
  cr_assert_eq(pthread_join(tid, NULL), 0);
  cr_assert_eq(atomic_load(&ms.entered), 1);
  cr_assert_eq(atomic_load(&ms.m.state), SM_MUTEX_UNLOCKED);
}

DEFINE_TRYLOCK_STRESS(mutex, struct sm_mutex, sm_mutex, SM_MUTEX_INIT,
                      ITERS_futex_mutex)

/* ---- futex rwlock ---- */

/* Waits up to SHORT_LIMIT_NS on `sem`. Returns false when it was not
 * posted in that time (or sem_timedwait failed otherwise). */
static bool sem_wait_limit(sem_t *sem) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)(SHORT_LIMIT_NS / UINT64_C(1000000000));
  for (;;) {
    if (sem_timedwait(sem, &ts) == 0)
      return true;
    if (errno != EINTR)
      return false;
  }
}

/* Waits until every bit of `bits` is set in the rwlock's state, yielding
 * meanwhile. Returns false if that takes over SHORT_LIMIT_NS. */
static bool wait_rw_bits(struct sm_rwlock *l, unsigned bits) {
  uint64_t deadline = sm_now_ns() + SHORT_LIMIT_NS;
  while ((atomic_load_explicit(&l->state, memory_order_relaxed) & bits) !=
         bits) {
    if (sm_now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

/* Thread body: tries a read lock on the sm_rwlock at `arg` once and
 * releases it when taken. Returns non-NULL when the try succeeded. Never
 * fails. */
static void *rw_try_read_release(void *arg) {
  struct sm_rwlock *l = arg;
  if (!sm_rwlock_try_read(l))
    return NULL;
  sm_rwlock_read_unlock(l);
  return arg;
}

/* Thread body: tries the write lock on the sm_rwlock at `arg` once and
 * releases it when taken. Returns non-NULL when the try succeeded. Never
 * fails. */
static void *rw_try_write_release(void *arg) {
  struct sm_rwlock *l = arg;
  if (!sm_rwlock_try_write(l))
    return NULL;
  sm_rwlock_write_unlock(l);
  return arg;
}

/* Asserts the rwlock's state word. Fails the test when it differs. */
static void assert_rw_state(struct sm_rwlock *l, unsigned want) {
  unsigned state = atomic_load(&l->state);
  cr_assert_eq(state, want, "state %#x, want %#x", state, want);
}

Test(rwlock, try_semantics) {
  static struct sm_rwlock l = SM_RWLOCK_INIT;
  cr_assert(sm_rwlock_try_write(&l), "try_write of a free lock failed");
  assert_rw_state(&l, SM_RWLOCK_WRITE_LOCKED);
  cr_assert_not(sm_rwlock_try_read(&l), "try_read while write locked");
  cr_assert_not(sm_rwlock_try_write(&l), "try_write while write locked");
  cr_assert_not(try_on_other_thread(rw_try_read_release, &l),
                "try_read from another thread while write locked");
  cr_assert_not(try_on_other_thread(rw_try_write_release, &l),
                "try_write from another thread while write locked");
  assert_rw_state(&l, SM_RWLOCK_WRITE_LOCKED);
  sm_rwlock_write_unlock(&l);
  assert_rw_state(&l, 0);

  cr_assert(sm_rwlock_try_read(&l), "try_read of a free lock failed");
  cr_assert(sm_rwlock_try_read(&l), "a second try_read failed");
  assert_rw_state(&l, 2);
  cr_assert_not(sm_rwlock_try_write(&l), "try_write while read locked");
  cr_assert_not(try_on_other_thread(rw_try_write_release, &l),
                "try_write from another thread while read locked");
  cr_assert(try_on_other_thread(rw_try_read_release, &l),
            "try_read from another thread while read locked failed");
  assert_rw_state(&l, 2);
  sm_rwlock_read_unlock(&l);
  cr_assert_not(sm_rwlock_try_write(&l), "try_write with one reader left");
  sm_rwlock_read_unlock(&l);
  assert_rw_state(&l, 0);

  sm_rwlock_read(&l);
  assert_rw_state(&l, 1);
  cr_assert_not(sm_rwlock_try_write(&l));
  sm_rwlock_read_unlock(&l);
  sm_rwlock_write(&l);
  assert_rw_state(&l, SM_RWLOCK_WRITE_LOCKED);
  cr_assert_not(sm_rwlock_try_read(&l));
  sm_rwlock_write_unlock(&l);
  assert_rw_state(&l, 0);
  cr_assert(try_on_other_thread(rw_try_write_release, &l),
            "try_write from another thread of a free lock failed");
  assert_rw_state(&l, 0);
}

Test(rwlock, try_read_stops_at_max_readers) {
  struct sm_rwlock l;
  atomic_init(&l.state, SM_RWLOCK_MAX_READERS - 1);
  atomic_init(&l.writer_notify, 0);
  cr_assert(sm_rwlock_try_read(&l), "try_read below the limit failed");
  assert_rw_state(&l, SM_RWLOCK_MAX_READERS);
  /* One more would read as WRITE_LOCKED. */
  cr_assert_not(sm_rwlock_try_read(&l), "try_read past the reader limit");
  assert_rw_state(&l, SM_RWLOCK_MAX_READERS);
}

/* Readers in the sharing test. */
enum { SHARING_READERS = 4 };

/* Shared state of the rwlock tests with helper threads. */
struct rw_fixture {
  struct sm_rwlock lock;
  sem_t inside;            /* posted by a helper holding its lock */
  sem_t go;                /* posted by the test to let a holder release */
  atomic_int sequence;     /* entries into critical sections, numbered */
  atomic_int reader_entry; /* sequence number of the reader's entry, or 0 */
  atomic_int writer_entry; /* sequence number of the writer's entry, or 0 */
  atomic_int writer_tid;   /* the writer thread's id, for /proc */
};

/* Initializes `f` with a free lock and empty semaphores. Fails the test if
 * a semaphore cannot be created. */
static void rw_fixture_init(struct rw_fixture *f) {
  atomic_init(&f->lock.state, 0);
  atomic_init(&f->lock.writer_notify, 0);
  cr_assert_eq(sem_init(&f->inside, 0, 0), 0);
  cr_assert_eq(sem_init(&f->go, 0, 0), 0);
  atomic_init(&f->sequence, 0);
  atomic_init(&f->reader_entry, 0);
  atomic_init(&f->writer_entry, 0);
  atomic_init(&f->writer_tid, 0);
}

/* Takes a read lock, posts `inside`, waits for `go` and releases. Never
 * fails; returns NULL, or non-NULL when `go` never came. */
static void *sharing_reader(void *arg) {
  struct rw_fixture *f = arg;
  sm_rwlock_read(&f->lock);
  sem_post(&f->inside);
  bool released = sem_wait_limit(&f->go);
  sm_rwlock_read_unlock(&f->lock);
  return released ? NULL : arg;
}

Test(rwlock, readers_share, .timeout = 10) {
  static struct rw_fixture f;
  rw_fixture_init(&f);
  pthread_t tid[SHARING_READERS];
  for (int i = 0; i < SHARING_READERS; i++)
    cr_assert_eq(pthread_create(&tid[i], NULL, sharing_reader, &f), 0);
  /* All readers get in while none has released. */
  for (int i = 0; i < SHARING_READERS; i++)
    cr_assert(sem_wait_limit(&f.inside),
              "only %d of %d readers got in together", i, SHARING_READERS);
  assert_rw_state(&f.lock, SHARING_READERS);
  cr_assert_not(sm_rwlock_try_write(&f.lock), "try_write beside readers");
  for (int i = 0; i < SHARING_READERS; i++)
    sem_post(&f.go);
  for (int i = 0; i < SHARING_READERS; i++) {
    void *ret;
    cr_assert_eq(pthread_join(tid[i], &ret), 0);
    cr_assert_null(ret, "reader %d waited for go in vain", i);
  }
  assert_rw_state(&f.lock, 0);
}

/* Takes a read lock, records the entry's sequence number, and releases.
 * Never fails. */
static void *entering_reader(void *arg) {
  struct rw_fixture *f = arg;
  sm_rwlock_read(&f->lock);
  atomic_store(&f->reader_entry, atomic_fetch_add(&f->sequence, 1) + 1);
  sm_rwlock_read_unlock(&f->lock);
  return NULL;
}

/* Publishes its thread id, takes the write lock, records the entry's
 * sequence number, and releases. Never fails. */
static void *entering_writer(void *arg) {
  struct rw_fixture *f = arg;
  atomic_store(&f->writer_tid, (int)gettid());
  sm_rwlock_write(&f->lock);
  atomic_store(&f->writer_entry, atomic_fetch_add(&f->sequence, 1) + 1);
  sm_rwlock_write_unlock(&f->lock);
  return NULL;
}

Test(rwlock, writer_excludes_readers, .timeout = 10) {
  static struct rw_fixture f;
  rw_fixture_init(&f);
  sm_rwlock_write(&f.lock);
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, entering_reader, &f), 0);
  /* The reader flags itself before it sleeps. */
  cr_assert(wait_rw_bits(&f.lock, SM_RWLOCK_READERS_WAITING),
            "the reader never waited (state %#x)", atomic_load(&f.lock.state));
  cr_assert_eq(atomic_load(&f.reader_entry), 0, "a reader got in");
  cr_assert_not(sm_rwlock_try_read(&f.lock));
  cr_assert_not(try_on_other_thread(rw_try_read_release, &f.lock));
  sm_rwlock_write_unlock(&f.lock); /* wakes the reader */
  cr_assert_eq(pthread_join(tid, NULL), 0);
  cr_assert_eq(atomic_load(&f.reader_entry), 1);
  assert_rw_state(&f.lock, 0);
}

Test(rwlock, writer_excludes_writers, .timeout = 10) {
  static struct rw_fixture f;
  rw_fixture_init(&f);
  sm_rwlock_write(&f.lock);
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, entering_writer, &f), 0);
  cr_assert(wait_rw_bits(&f.lock, SM_RWLOCK_WRITERS_WAITING),
            "the writer never waited (state %#x)", atomic_load(&f.lock.state));
  cr_assert_eq(atomic_load(&f.writer_entry), 0, "a second writer got in");
  cr_assert_not(sm_rwlock_try_write(&f.lock));
  sm_rwlock_write_unlock(&f.lock); /* wakes the writer */
  cr_assert_eq(pthread_join(tid, NULL), 0);
  cr_assert_eq(atomic_load(&f.writer_entry), 1);
  assert_rw_state(&f.lock, 0);
}

Test(rwlock, waiting_writer_blocks_new_readers, .timeout = 10) {
  static struct rw_fixture f;
  rw_fixture_init(&f);
  sm_rwlock_read(&f.lock);
  pthread_t writer, reader;
  cr_assert_eq(pthread_create(&writer, NULL, entering_writer, &f), 0);
  cr_assert(wait_rw_bits(&f.lock, SM_RWLOCK_WRITERS_WAITING),
            "the writer never waited (state %#x)", atomic_load(&f.lock.state));
  /* With a writer waiting, a new reader must not get in, although the lock
   * is only read locked. */
  cr_assert_not(try_on_other_thread(rw_try_read_release, &f.lock),
                "try_read got in ahead of a waiting writer");
  cr_assert_eq(pthread_create(&reader, NULL, entering_reader, &f), 0);
  cr_assert(wait_rw_bits(&f.lock, SM_RWLOCK_READERS_WAITING),
            "the reader never waited (state %#x)", atomic_load(&f.lock.state));
  cr_assert_eq(atomic_load(&f.reader_entry), 0,
               "a reader got in ahead of a waiting writer");
  cr_assert_eq(atomic_load(&f.writer_entry), 0, "the writer got in");
  assert_rw_state(&f.lock,
                  1 | SM_RWLOCK_READERS_WAITING | SM_RWLOCK_WRITERS_WAITING);
  /* Once the writer sleeps in the kernel, the last reader's unlock must
   * hand the lock to it, not to the reader that came later. */
  cr_assert(wait_asleep(&f.writer_tid), "the writer never went to sleep");
  sm_rwlock_read_unlock(&f.lock);
  cr_assert_eq(pthread_join(writer, NULL), 0);
  cr_assert_eq(pthread_join(reader, NULL), 0);
  cr_assert_eq(atomic_load(&f.writer_entry), 1, "the writer came %s",
               atomic_load(&f.writer_entry) == 2 ? "second" : "never");
  cr_assert_eq(atomic_load(&f.reader_entry), 2);
  assert_rw_state(&f.lock, 0);
}

/* Operations per thread in the rwlock stress test. */
enum { RW_STRESS_ITERS = 20000 };

/* Runs s->iters pair writes, each under sm_rwlock_write. Never fails. */
static void *rw_writer(void *arg) {
  struct stress *s = arg;
  await_start(s);
  for (uint64_t i = 0; i < s->iters; i++) {
    sm_rwlock_write(s->lock);
    write_pair(s);
    sm_rwlock_write_unlock(s->lock);
  }
  return NULL;
}

/* Runs s->iters pair writes, each under a write lock taken by spinning on
 * sm_rwlock_try_write. Never fails. */
static void *rw_try_writer(void *arg) {
  struct stress *s = arg;
  await_start(s);
  for (uint64_t i = 0; i < s->iters; i++) {
    while (!sm_rwlock_try_write(s->lock))
      sched_yield();
    write_pair(s);
    sm_rwlock_write_unlock(s->lock);
  }
  return NULL;
}

/* Runs s->iters pair reads, each under sm_rwlock_read. Never fails. */
static void *rw_reader(void *arg) {
  struct stress *s = arg;
  await_start(s);
  for (uint64_t i = 0; i < s->iters; i++) {
    sm_rwlock_read(s->lock);
    read_pair(s);
    sm_rwlock_read_unlock(s->lock);
  }
  return NULL;
}

/* Runs s->iters pair reads, each under a read lock taken by spinning on
 * sm_rwlock_try_read. Never fails. */
static void *rw_try_reader(void *arg) {
  struct stress *s = arg;
  await_start(s);
  for (uint64_t i = 0; i < s->iters; i++) {
    while (!sm_rwlock_try_read(s->lock))
      sched_yield();
    read_pair(s);
    sm_rwlock_read_unlock(s->lock);
  }
  return NULL;
}

Test(rwlock, readers_and_writers_keep_pairs_whole, .timeout = 120) {
  static struct sm_rwlock lock = SM_RWLOCK_INIT;
  static struct stress s;
  s.lock = &lock;
  s.iters = RW_STRESS_ITERS;
  s.a = s.b = 0;
  atomic_init(&s.violations, 0);
  atomic_init(&s.reads, 0);
  void *(*const fns[])(void *) = {rw_writer, rw_reader,     rw_try_writer,
                                  rw_reader, rw_try_reader, rw_writer};
  run_workers(&s, fns, COUNT(fns));
  cr_assert_eq(atomic_load(&s.violations), 0,
               "%lu of %lu reads saw a torn pair", atomic_load(&s.violations),
               atomic_load(&s.reads));
  cr_assert_eq(atomic_load(&s.reads), 3 * RW_STRESS_ITERS);
  cr_assert_eq(s.a, 3 * RW_STRESS_ITERS, "writes lost: a = %llu",
               (unsigned long long)s.a);
  cr_assert_eq(s.b, s.a);
  assert_rw_state(&lock, 0);
}

/* sm_rwlock_try_write under the name DEFINE_TRYLOCK_STRESS expects.
 * Returns true when taken. */
static bool rw_write_trylock(struct sm_rwlock *l) {
  return sm_rwlock_try_write(l);
}

/* sm_rwlock_write under that name. Never fails. */
static void rw_write_lock(struct sm_rwlock *l) {
  sm_rwlock_write(l);
}

/* sm_rwlock_write_unlock under that name. Never fails. */
static void rw_write_unlock(struct sm_rwlock *l) {
  sm_rwlock_write_unlock(l);
}

DEFINE_TRYLOCK_STRESS(rwlock, struct sm_rwlock, rw_write, SM_RWLOCK_INIT,
                      ITERS_futex_rwlock)
