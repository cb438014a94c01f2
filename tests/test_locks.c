/* test_locks.c: mutual exclusion, reader and trylock tests of the TTAS
 * spinlock, the ticket lock and every lock adapter of lockops.h. */
#include <criterion/criterion.h>

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/lockops.h"
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
 * ticket lock, a preempted next waiter stalls everyone for a time slice), so
 * they get fewer. */
#define ITERS_mutex     100000
#define ITERS_rwlock    100000
#define ITERS_spin_ttas 50000
#define ITERS_ticket    2000

/* Writes (per writer) and reads (per reader) in the reader tests. */
#define PAIR_ITERS_mutex     50000
#define PAIR_ITERS_rwlock    50000
#define PAIR_ITERS_spin_ttas 20000
#define PAIR_ITERS_ticket    1000

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
  Test(lockops_##K, counter_2_threads) {                                       \
    K##_counter_test(2);                                                       \
  }                                                                            \
  Test(lockops_##K, counter_4_threads) {                                       \
    K##_counter_test(4);                                                       \
  }                                                                            \
  Test(lockops_##K, readers_see_whole_pairs) {                                 \
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

Test(lockops_rwlock, readers_share_the_lock) {
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

Test(ticketlock, grants_in_arrival_order) {
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
  Test(SUITE, trylock_and_lock_exclude_each_other) {                           \
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
