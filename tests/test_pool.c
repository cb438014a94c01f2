/* test_pool.c: Criterion tests of sm_pool, every behavioural test run once
 * per design: each task runs exactly once, failures, wait, shutdown,
 * -ESHUTDOWN and -EDEADLK, tasks submitting tasks, names, pinning, stack
 * size, lanes beyond their caches and limits, and invalid options. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "syncmark/pool.h"

/* Defines `name` as a test body taking the design, and one Criterion test
 * per design that runs it: suite pool_shared_queue and suite pool_fast.
 * Use as DESIGN_TEST(name, timeout) { ... body using `design` ... }. */
#define DESIGN_TEST(name, timeout_s)                                           \
  static void name(enum sm_pool_design design);                                \
  Test(pool_shared_queue, name, .timeout = (timeout_s)) {                      \
    name(SM_POOL_SHARED_QUEUE);                                                \
  }                                                                            \
  Test(pool_fast, name, .timeout = (timeout_s)) {                              \
    name(SM_POOL_FAST);                                                        \
  }                                                                            \
  static void name(enum sm_pool_design design)

/* Sleeps for `us` microseconds, resuming after signals. */
static void sleep_us(unsigned us) {
  struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000L};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
    ;
}

/* Creates a pool of `workers` workers of `design` with the other options
 * at their defaults, failing the test unless it succeeds. */
static struct sm_pool *pool_ok(enum sm_pool_design design, unsigned workers) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.workers = workers;
  opts.design = design;
  struct sm_pool *pool = NULL;
  int rc = sm_pool_create(&opts, &pool);
  cr_assert_eq(rc, 0, "create: %d (%s)", rc, strerror(-rc));
  cr_assert_not_null(pool);
  return pool;
}

/* Submits fn(arg), failing the test unless it is accepted. */
static void submit_ok(struct sm_pool *pool, sm_task_fn fn, void *arg) {
  int rc = sm_pool_submit(pool, fn, arg);
  cr_assert_eq(rc, 0, "submit: %d (%s)", rc, strerror(-rc));
}

/* Checks the pool's counters against the expected values. */
static void expect_stats(struct sm_pool *pool, uint64_t submitted,
                         uint64_t completed, uint64_t failed) {
  struct sm_pool_stats st = {0, 0, 0};
  sm_pool_stats(pool, &st);
  cr_assert_eq(st.submitted, submitted, "submitted %llu, expected %llu",
               (unsigned long long)st.submitted, (unsigned long long)submitted);
  cr_assert_eq(st.completed, completed, "completed %llu, expected %llu",
               (unsigned long long)st.completed, (unsigned long long)completed);
  cr_assert_eq(st.failed, failed, "failed %llu, expected %llu",
               (unsigned long long)st.failed, (unsigned long long)failed);
}

/* Task: adds one to the atomic_uint at `arg`. Returns 0. */
static int count_task(void *arg) {
  atomic_fetch_add_explicit((atomic_uint *)arg, 1, memory_order_relaxed);
  return 0;
}

/* ---- Every task runs exactly once ---- */

enum { ONCE_TASKS = 100000 };

/* One submitting thread's share of the flags: tasks [first, first+count). */
struct submit_share {
  struct sm_pool *pool;
  atomic_uint *flags;
  unsigned first, count;
  atomic_int errors; /* submits that failed */
};

/* Thread body: submits count_task on each flag of its share. Counts
 * failed submits instead of asserting (only the test's thread may).
 * Returns NULL. */
static void *submit_share(void *arg) {
  struct submit_share *s = arg;
  for (unsigned i = s->first; i < s->first + s->count; i++)
    if (sm_pool_submit(s->pool, count_task, &s->flags[i]) != 0)
      atomic_fetch_add(&s->errors, 1);
  return NULL;
}

/* Runs ONCE_TASKS tasks that each increment their own flag, submitted by
 * `submitters` threads to a pool of `workers` workers, then waits and
 * checks that every flag is exactly 1 and the counters agree. */
static void check_once(enum sm_pool_design design, unsigned workers,
                       unsigned submitters) {
  atomic_uint *flags = calloc(ONCE_TASKS, sizeof *flags);
  cr_assert_not_null(flags);
  struct sm_pool *pool = pool_ok(design, workers);
  struct submit_share shares[3];
  pthread_t threads[3];
  cr_assert_leq(submitters, 3);
  for (unsigned t = 0; t < submitters; t++) {
    unsigned first = ONCE_TASKS / submitters * t;
    unsigned last =
        t + 1 == submitters ? ONCE_TASKS : ONCE_TASKS / submitters * (t + 1);
    shares[t].pool = pool;
    shares[t].flags = flags;
    shares[t].first = first;
    shares[t].count = last - first;
    atomic_init(&shares[t].errors, 0);
    cr_assert_eq(pthread_create(&threads[t], NULL, submit_share, &shares[t]),
                 0);
  }
  for (unsigned t = 0; t < submitters; t++) {
    cr_assert_eq(pthread_join(threads[t], NULL), 0);
    cr_assert_eq(atomic_load(&shares[t].errors), 0);
  }
  cr_assert_eq(sm_pool_wait(pool), 0);
  for (unsigned i = 0; i < ONCE_TASKS; i++)
    cr_assert_eq(atomic_load(&flags[i]), 1,
                 "task %u ran %u times (%u workers, %u submitters)", i,
                 atomic_load(&flags[i]), workers, submitters);
  expect_stats(pool, ONCE_TASKS, ONCE_TASKS, 0);
  cr_assert_eq(sm_pool_shutdown(pool), 0);
  free(flags);
}

DESIGN_TEST(each_task_runs_once_from_one_submitter, 60) {
  static const unsigned workers[] = {1, 2, 4};
  for (unsigned i = 0; i < 3; i++)
    check_once(design, workers[i], 1);
}

DESIGN_TEST(each_task_runs_once_from_three_submitters, 60) {
  static const unsigned workers[] = {1, 2, 4};
  for (unsigned i = 0; i < 3; i++)
    check_once(design, workers[i], 3);
}

/* ---- Failures ---- */

/* Task: fails (returns 1) without doing anything. */
static int failing_task(void *arg) {
  (void)arg;
  return 1;
}

/* Task: waits at the pthread barrier at `arg`. Returns 0, or 1 when the
 * barrier fails. */
static int barrier_task(void *arg) {
  int rc = pthread_barrier_wait(arg);
  return rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : 1;
}

DESIGN_TEST(failing_tasks_are_counted_and_workers_go_on, 30) {
  enum { PAIRS = 5000 };
  atomic_uint ran = 0;
  struct sm_pool *pool = pool_ok(design, 2);
  for (unsigned i = 0; i < PAIRS; i++) {
    submit_ok(pool, failing_task, NULL);
    submit_ok(pool, count_task, &ran);
  }
  cr_assert_eq(sm_pool_wait(pool), 0);
  cr_assert_eq(atomic_load(&ran), PAIRS);
  expect_stats(pool, 2 * PAIRS, 2 * PAIRS, PAIRS);
  /* Both workers are still there: two tasks that wait for each other
   * finish only if they run at the same time. */
  pthread_barrier_t both;
  cr_assert_eq(pthread_barrier_init(&both, NULL, 2), 0);
  submit_ok(pool, barrier_task, &both);
  submit_ok(pool, barrier_task, &both);
  cr_assert_eq(sm_pool_wait(pool), 0);
  pthread_barrier_destroy(&both);
  expect_stats(pool, 2 * PAIRS + 2, 2 * PAIRS + 2, PAIRS);
  cr_assert_eq(sm_pool_shutdown(pool), 0);
}

/* ---- Wait ---- */

/* Task: sleeps 20 ms, then adds one to the atomic_uint at `arg`. */
static int slow_count_task(void *arg) {
  sleep_us(20000);
  atomic_fetch_add_explicit((atomic_uint *)arg, 1, memory_order_release);
  return 0;
}

DESIGN_TEST(wait_returns_only_when_all_are_done, 30) {
  atomic_uint done = 0;
  struct sm_pool *pool = pool_ok(design, 4);
  cr_assert_eq(sm_pool_wait(pool), 0, "an idle pool waits for nothing");
  for (unsigned round = 1; round <= 3; round++) {
    for (unsigned i = 0; i < 10; i++)
      submit_ok(pool, slow_count_task, &done);
    cr_assert_eq(sm_pool_wait(pool), 0);
    cr_assert_eq(atomic_load_explicit(&done, memory_order_acquire), 10 * round);
    expect_stats(pool, 10 * round, 10 * round, 0);
  }
  cr_assert_eq(sm_pool_shutdown(pool), 0);
}

/* State of the concurrent-waiters test. */
struct waiters_state {
  struct sm_pool *pool;
  atomic_uint done;
  atomic_uint seen_short; /* waiters that returned before all were done */
};

/* Thread body: waits on the pool and records whether all 10 tasks had
 * completed when the wait returned. Returns NULL. */
static void *wait_and_check(void *arg) {
  struct waiters_state *s = arg;
  if (sm_pool_wait(s->pool) != 0 ||
      atomic_load_explicit(&s->done, memory_order_acquire) != 10)
    atomic_fetch_add(&s->seen_short, 1);
  return NULL;
}

DESIGN_TEST(several_threads_wait_at_once, 30) {
  struct waiters_state s;
  s.pool = pool_ok(design, 2);
  atomic_init(&s.done, 0);
  atomic_init(&s.seen_short, 0);
  for (unsigned i = 0; i < 10; i++)
    submit_ok(s.pool, slow_count_task, &s.done);
  pthread_t threads[3];
  for (unsigned t = 0; t < 3; t++)
    cr_assert_eq(pthread_create(&threads[t], NULL, wait_and_check, &s), 0);
  for (unsigned t = 0; t < 3; t++)
    cr_assert_eq(pthread_join(threads[t], NULL), 0);
  cr_assert_eq(atomic_load(&s.seen_short), 0);
  cr_assert_eq(sm_pool_shutdown(s.pool), 0);
}

/* ---- Shutdown ---- */

/* Task: spins for a few microseconds, then adds one to the atomic_uint at
 * `arg`. Returns 0. */
static int spin_count_task(void *arg) {
  volatile unsigned sink = 0;
  for (unsigned i = 0; i < 2000; i++)
    sink += i;
  atomic_fetch_add_explicit((atomic_uint *)arg, 1, memory_order_relaxed);
  return 0;
}

DESIGN_TEST(shutdown_runs_every_queued_task, 30) {
  enum { TASKS = 10000 };
  static const unsigned workers[] = {1, 3};
  for (unsigned w = 0; w < 2; w++) {
    atomic_uint ran = 0;
    struct sm_pool *pool = pool_ok(design, workers[w]);
    for (unsigned i = 0; i < TASKS; i++)
      submit_ok(pool, spin_count_task, &ran);
    cr_assert_eq(sm_pool_shutdown(pool), 0);
    cr_assert_eq(atomic_load(&ran), TASKS, "%u workers", workers[w]);
  }
}

DESIGN_TEST(shutdown_of_an_idle_pool_returns, 30) {
  struct sm_pool *pool = pool_ok(design, 3);
  sleep_us(5000); /* let the workers reach their sleep */
  cr_assert_eq(sm_pool_shutdown(pool), 0);
  pool = pool_ok(design, 3); /* and right after creation */
  cr_assert_eq(sm_pool_shutdown(pool), 0);
}

/* State of the submit-during-shutdown test. */
struct closing_state {
  struct sm_pool *pool;
  atomic_bool gate;       /* the blocking task may finish */
  atomic_uint ran;        /* tasks queued while shutdown had not begun */
  atomic_int inner_rc;    /* what the blocking task's own submit returned */
  atomic_int shutdown_rc; /* what sm_pool_shutdown returned */
};

/* Task: waits for the gate, then submits a task from inside the pool and
 * records the result (shutdown has begun by then). Returns 0. */
static int gated_task(void *arg) {
  struct closing_state *s = arg;
  while (!atomic_load(&s->gate))
    sleep_us(100);
  atomic_store(&s->inner_rc, sm_pool_submit(s->pool, count_task, &s->ran));
  return 0;
}

/* Thread body: shuts the pool down and records the result. */
static void *shutdown_thread(void *arg) {
  struct closing_state *s = arg;
  atomic_store(&s->shutdown_rc, sm_pool_shutdown(s->pool));
  return NULL;
}

DESIGN_TEST(submit_during_shutdown_is_refused, 30) {
  struct closing_state s;
  s.pool = pool_ok(design, 2);
  atomic_init(&s.gate, false);
  atomic_init(&s.ran, 0);
  atomic_init(&s.inner_rc, 1);
  atomic_init(&s.shutdown_rc, 1);
  submit_ok(s.pool, gated_task, &s);
  pthread_t closer;
  cr_assert_eq(pthread_create(&closer, NULL, shutdown_thread, &s), 0);
  /* The shutdown cannot finish while the gated task runs, so the pool
   * stays valid; submit until it reports that shutdown has begun. */
  unsigned accepted = 0;
  int rc;
  while ((rc = sm_pool_submit(s.pool, count_task, &s.ran)) == 0) {
    accepted++;
    sleep_us(200);
  }
  cr_assert_eq(rc, -ESHUTDOWN);
  cr_assert_eq(sm_pool_submit(s.pool, count_task, &s.ran), -ESHUTDOWN);
  atomic_store(&s.gate, true);
  cr_assert_eq(pthread_join(closer, NULL), 0);
  cr_assert_eq(atomic_load(&s.shutdown_rc), 0);
  cr_assert_eq(atomic_load(&s.inner_rc), -ESHUTDOWN);
  cr_assert_eq(atomic_load(&s.ran), accepted,
               "every task accepted before shutdown ran");
}

/* ---- Calls from inside a task ---- */

/* What a task saw when it called wait and shutdown on its own pool. */
struct deadlock_state {
  struct sm_pool *pool;
  struct sm_pool *other; /* another pool, idle */
  atomic_int wait_rc, shutdown_rc, other_wait_rc;
};

/* Task: calls wait and shutdown on its own pool and wait on another one,
 * recording the results. Returns 0. */
static int self_call_task(void *arg) {
  struct deadlock_state *s = arg;
  atomic_store(&s->wait_rc, sm_pool_wait(s->pool));
  atomic_store(&s->shutdown_rc, sm_pool_shutdown(s->pool));
  atomic_store(&s->other_wait_rc, sm_pool_wait(s->other));
  return 0;
}

DESIGN_TEST(wait_and_shutdown_from_a_task_fail_with_edeadlk, 30) {
  struct deadlock_state s;
  s.pool = pool_ok(design, 2);
  s.other = pool_ok(design, 1);
  atomic_init(&s.wait_rc, 1);
  atomic_init(&s.shutdown_rc, 1);
  atomic_init(&s.other_wait_rc, 1);
  submit_ok(s.pool, self_call_task, &s);
  cr_assert_eq(sm_pool_wait(s.pool), 0);
  cr_assert_eq(atomic_load(&s.wait_rc), -EDEADLK);
  cr_assert_eq(atomic_load(&s.shutdown_rc), -EDEADLK);
  cr_assert_eq(atomic_load(&s.other_wait_rc), 0,
               "waiting on another pool is allowed");
  /* The pool was left untouched and still works. */
  atomic_uint ran = 0;
  submit_ok(s.pool, count_task, &ran);
  cr_assert_eq(sm_pool_wait(s.pool), 0);
  cr_assert_eq(atomic_load(&ran), 1);
  cr_assert_eq(sm_pool_shutdown(s.pool), 0);
  cr_assert_eq(sm_pool_shutdown(s.other), 0);
}

/* Shared state of the task-tree test. */
struct tree {
  struct sm_pool *pool;
  atomic_uint ran;
  atomic_uint errors;
};

/* The argument of one node of the tree: the tree and the node's depth. */
struct tree_arg {
  struct tree *tree;
  unsigned depth;
};

enum { TREE_DEPTH = 10, TREE_NODES = (1 << (TREE_DEPTH + 1)) - 1 };

/* Argument blocks of every node, indexed like a binary heap. */
static struct tree_arg tree_args[TREE_NODES];

/* Task: counts itself and submits its two children (heap indexes 2i+1,
 * 2i+2) while its depth is above 0. Returns 0. */
static int tree_task(void *arg) {
  struct tree_arg *a = arg;
  size_t i = (size_t)(a - tree_args);
  atomic_fetch_add(&a->tree->ran, 1);
  if (a->depth > 0)
    for (size_t c = 2 * i + 1; c <= 2 * i + 2; c++) {
      tree_args[c] = (struct tree_arg){a->tree, a->depth - 1};
      if (sm_pool_submit(a->tree->pool, tree_task, &tree_args[c]) != 0)
        atomic_fetch_add(&a->tree->errors, 1);
    }
  return 0;
}

DESIGN_TEST(tasks_submitting_tasks_are_all_waited_for, 30) {
  static const unsigned workers[] = {1, 3};
  for (unsigned w = 0; w < 2; w++) {
    struct tree t;
    t.pool = pool_ok(design, workers[w]);
    atomic_init(&t.ran, 0);
    atomic_init(&t.errors, 0);
    tree_args[0] = (struct tree_arg){&t, TREE_DEPTH};
    submit_ok(t.pool, tree_task, &tree_args[0]);
    cr_assert_eq(sm_pool_wait(t.pool), 0);
    cr_assert_eq(atomic_load(&t.errors), 0);
    cr_assert_eq(atomic_load(&t.ran), TREE_NODES);
    expect_stats(t.pool, TREE_NODES, TREE_NODES, 0);
    cr_assert_eq(sm_pool_shutdown(t.pool), 0);
  }
}

/* ---- Names, pinning and stacks: one task per worker at once ---- */

enum { MAX_SEEN = 16 };

/* What tasks that run on every worker at once record. */
struct rendezvous {
  pthread_barrier_t all_running; /* one task per worker */
  atomic_uint next;
  char names[MAX_SEEN][32];
  int cpus[MAX_SEEN];
  size_t stacks[MAX_SEEN];
  atomic_int errors;
};

/* Task: waits until one task runs on every worker, then records the
 * thread's name, CPU and stack size. Since the tasks block each other,
 * each runs on a different worker. Returns 0. */
static int rendezvous_task(void *arg) {
  struct rendezvous *r = arg;
  int b = pthread_barrier_wait(&r->all_running);
  if (b != 0 && b != PTHREAD_BARRIER_SERIAL_THREAD)
    atomic_fetch_add(&r->errors, 1);
  unsigned i = atomic_fetch_add(&r->next, 1);
  if (i >= MAX_SEEN) {
    atomic_fetch_add(&r->errors, 1);
    return 0;
  }
  if (pthread_getname_np(pthread_self(), r->names[i], sizeof r->names[i]))
    atomic_fetch_add(&r->errors, 1);
  r->cpus[i] = sched_getcpu();
  pthread_attr_t attr;
  r->stacks[i] = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    (void)pthread_attr_getstacksize(&attr, &r->stacks[i]);
    pthread_attr_destroy(&attr);
  }
  return 0;
}

/* Creates a pool with `opts`, runs one rendezvous task per worker and
 * fills *r. Fails the test if the pool cannot be made or a task failed. */
static void run_rendezvous(const struct sm_pool_opts *opts,
                           struct rendezvous *r) {
  cr_assert_leq(opts->workers, MAX_SEEN);
  memset(r, 0, sizeof *r);
  cr_assert_eq(pthread_barrier_init(&r->all_running, NULL, opts->workers), 0);
  struct sm_pool *pool = NULL;
  int rc = sm_pool_create(opts, &pool);
  cr_assert_eq(rc, 0, "create: %d (%s)", rc, strerror(-rc));
  for (unsigned i = 0; i < opts->workers; i++)
    submit_ok(pool, rendezvous_task, r);
  cr_assert_eq(sm_pool_wait(pool), 0);
  cr_assert_eq(sm_pool_shutdown(pool), 0);
  pthread_barrier_destroy(&r->all_running);
  cr_assert_eq(atomic_load(&r->errors), 0);
  cr_assert_eq(atomic_load(&r->next), opts->workers);
}

/* Returns the worker index i of a name "<prefix>-<i>", or -1 when the name
 * has another form. */
static int worker_index(const char *name, const char *prefix) {
  size_t len = strlen(prefix);
  if (strncmp(name, prefix, len) != 0 || name[len] != '-')
    return -1;
  char *end;
  long i = strtol(name + len + 1, &end, 10);
  return *end == '\0' && name[len + 1] != '\0' ? (int)i : -1;
}

/* Checks that the recorded names are "<prefix>-0" .. "<prefix>-(n-1)",
 * each once. */
static void expect_names(const struct rendezvous *r, unsigned n,
                         const char *prefix) {
  bool seen[MAX_SEEN] = {false};
  for (unsigned i = 0; i < n; i++) {
    int w = worker_index(r->names[i], prefix);
    cr_assert(w >= 0 && w < (int)n, "unexpected name \"%s\"", r->names[i]);
    cr_assert(!seen[w], "two tasks on worker %d", w);
    seen[w] = true;
  }
}

DESIGN_TEST(workers_are_named_prefix_dash_index, 30) {
  struct rendezvous r;
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.design = design;
  opts.workers = 3;
  opts.name = "tp";
  run_rendezvous(&opts, &r);
  expect_names(&r, 3, "tp");
  opts.name = "abcdefghij"; /* SM_POOL_NAME_MAX bytes */
  opts.workers = 12;        /* two-digit indexes: 13 bytes */
  run_rendezvous(&opts, &r);
  expect_names(&r, 12, "abcdefghij");
  opts.name = NULL;
  opts.workers = 2;
  run_rendezvous(&opts, &r);
  expect_names(&r, 2, "pool");
}

DESIGN_TEST(workers_are_pinned_to_their_cpu, 30) {
  cpu_set_t allowed;
  cr_assert_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int cpus[MAX_SEEN];
  unsigned n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < MAX_SEEN; c++)
    if (CPU_ISSET(c, &allowed))
      cpus[n++] = c;
  cr_assert_gt(n, 0);
  /* Each allowed CPU, once with a worker of its own and once with every
   * worker on it; then an unpinned worker beside a pinned one. */
  for (unsigned k = 0; k < n; k++) {
    int pins[MAX_SEEN];
    unsigned workers = n < 2 ? 2 : n;
    for (unsigned i = 0; i < workers; i++)
      pins[i] = cpus[(k + i) % n];
    struct rendezvous r;
    struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
    opts.design = design;
    opts.workers = workers;
    opts.name = "pin";
    opts.pin_pus = pins;
    run_rendezvous(&opts, &r);
    for (unsigned i = 0; i < workers; i++) {
      int w = worker_index(r.names[i], "pin");
      cr_assert(w >= 0 && w < (int)workers, "name \"%s\"", r.names[i]);
      cr_assert_eq(r.cpus[i], pins[w], "worker %d ran on CPU %d, pinned to %d",
                   w, r.cpus[i], pins[w]);
    }
    for (unsigned i = 0; i < 2; i++)
      pins[i] = cpus[k];
    opts.workers = 2;
    run_rendezvous(&opts, &r);
    cr_assert_eq(r.cpus[0], cpus[k]);
    cr_assert_eq(r.cpus[1], cpus[k]);
  }
  int mixed[2] = {-1, cpus[n - 1]};
  struct rendezvous r;
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.design = design;
  opts.workers = 2;
  opts.name = "mix";
  opts.pin_pus = mixed;
  run_rendezvous(&opts, &r);
  for (unsigned i = 0; i < 2; i++)
    if (worker_index(r.names[i], "mix") == 1)
      cr_assert_eq(r.cpus[i], cpus[n - 1]);
}

DESIGN_TEST(workers_get_the_stack_size_asked_for, 30) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t asked = 256 * 1024 + 1;
  size_t rounded = (asked + page - 1) / page * page;
  struct rendezvous r;
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.design = design;
  opts.workers = 2;
  opts.stack_size = asked;
  run_rendezvous(&opts, &r);
  for (unsigned i = 0; i < 2; i++) {
    cr_assert_geq(r.stacks[i], rounded, "got %zu", r.stacks[i]);
#ifndef __SANITIZE_THREAD__ /* TSan's pthread_create enlarges stacks */
    cr_assert_lt(r.stacks[i], rounded + 4 * page, "got %zu", r.stacks[i]);
#endif
  }
}

DESIGN_TEST(tasks_that_wait_for_each_other_behind_tiny_ones, 30) {
  /* The waiting tasks arrive behind a stream of tiny ones, so that a
   * worker taking jobs in batches may hold several of them at once: the
   * others must still get them while it blocks. */
  static const unsigned workers[] = {2, 4};
  for (unsigned w = 0; w < 2; w++) {
    atomic_uint ran = 0;
    pthread_barrier_t all;
    cr_assert_eq(pthread_barrier_init(&all, NULL, workers[w]), 0);
    struct sm_pool *pool = pool_ok(design, workers[w]);
    for (unsigned round = 0; round < 3; round++) {
      for (unsigned i = 0; i < 5000; i++)
        submit_ok(pool, count_task, &ran);
      for (unsigned i = 0; i < workers[w]; i++)
        submit_ok(pool, barrier_task, &all);
    }
    cr_assert_eq(sm_pool_wait(pool), 0);
    cr_assert_eq(atomic_load(&ran), 15000);
    unsigned total = 3 * (5000 + workers[w]);
    expect_stats(pool, total, total, 0);
    cr_assert_eq(sm_pool_shutdown(pool), 0);
    pthread_barrier_destroy(&all);
  }
}

/* ---- Many pools, many submitting threads ---- */

DESIGN_TEST(one_thread_feeds_many_pools, 30) {
  enum { POOLS = 7, ROUNDS = 300 };
  struct sm_pool *pools[POOLS];
  atomic_uint ran[POOLS];
  for (unsigned i = 0; i < POOLS; i++) {
    pools[i] = pool_ok(design, 1 + i % 2);
    atomic_init(&ran[i], 0);
  }
  for (unsigned round = 0; round < ROUNDS; round++)
    for (unsigned i = 0; i < POOLS; i++)
      submit_ok(pools[i], count_task, &ran[i]);
  /* A pool made where a shut-down one was must not be confused with it. */
  cr_assert_eq(sm_pool_shutdown(pools[0]), 0);
  cr_assert_eq(atomic_load(&ran[0]), ROUNDS);
  atomic_store(&ran[0], 0);
  pools[0] = pool_ok(design, 2);
  for (unsigned round = 0; round < ROUNDS; round++)
    for (unsigned i = 0; i < POOLS; i++)
      submit_ok(pools[i], count_task, &ran[i]);
  for (unsigned i = 0; i < POOLS; i++) {
    cr_assert_eq(sm_pool_wait(pools[i]), 0);
    unsigned expected = i == 0 ? ROUNDS : 2 * ROUNDS;
    cr_assert_eq(atomic_load(&ran[i]), expected, "pool %u", i);
    expect_stats(pools[i], expected, expected, 0);
    cr_assert_eq(sm_pool_shutdown(pools[i]), 0);
  }
}

/* Shared state of the many-submitters test. */
struct crowd {
  struct sm_pool *pool;
  atomic_uint ran;
  atomic_uint errors;
};

enum { CROWD_TASKS_EACH = 200 };

/* Thread body: submits CROWD_TASKS_EACH counting tasks. Returns NULL. */
static void *crowd_member(void *arg) {
  struct crowd *c = arg;
  for (unsigned i = 0; i < CROWD_TASKS_EACH; i++)
    if (sm_pool_submit(c->pool, count_task, &c->ran) != 0)
      atomic_fetch_add(&c->errors, 1);
  return NULL;
}

DESIGN_TEST(many_submitting_threads_at_once_and_in_turn, 60) {
  enum { AT_ONCE = 100, IN_TURN = 100 };
  struct crowd c;
  c.pool = pool_ok(design, 2);
  atomic_init(&c.ran, 0);
  atomic_init(&c.errors, 0);
  pthread_t threads[AT_ONCE];
  for (unsigned t = 0; t < AT_ONCE; t++)
    cr_assert_eq(pthread_create(&threads[t], NULL, crowd_member, &c), 0);
  for (unsigned t = 0; t < AT_ONCE; t++)
    cr_assert_eq(pthread_join(threads[t], NULL), 0);
  /* Threads one after another, which may reuse a finished one's memory. */
  for (unsigned t = 0; t < IN_TURN; t++) {
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, crowd_member, &c), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
  }
  cr_assert_eq(sm_pool_wait(c.pool), 0);
  cr_assert_eq(atomic_load(&c.errors), 0);
  unsigned total = (AT_ONCE + IN_TURN) * CROWD_TASKS_EACH;
  cr_assert_eq(atomic_load(&c.ran), total);
  expect_stats(c.pool, total, total, 0);
  cr_assert_eq(sm_pool_shutdown(c.pool), 0);
}

DESIGN_TEST(most_workers_allowed, 60) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.design = design;
  opts.workers = SM_POOL_MAX_WORKERS;
  opts.stack_size = 256 * 1024;
  struct sm_pool *pool = NULL;
  cr_assert_eq(sm_pool_create(&opts, &pool), 0);
  atomic_uint ran = 0;
  for (unsigned i = 0; i < 2 * SM_POOL_MAX_WORKERS; i++)
    submit_ok(pool, count_task, &ran);
  cr_assert_eq(sm_pool_wait(pool), 0);
  cr_assert_eq(atomic_load(&ran), 2 * SM_POOL_MAX_WORKERS);
  cr_assert_eq(sm_pool_shutdown(pool), 0);
}

/* ---- Invalid arguments ---- */

/* Returns what sm_pool_create says to `opts`, checking that *out is left
 * alone on failure (and shutting the pool down on success). */
static int create_error(const struct sm_pool_opts *opts) {
  struct sm_pool *sentinel = (struct sm_pool *)&sentinel;
  struct sm_pool *pool = sentinel;
  int rc = sm_pool_create(opts, &pool);
  if (rc == 0)
    cr_assert_eq(sm_pool_shutdown(pool), 0);
  else
    cr_assert_eq(pool, sentinel, "*out written on failure");
  return rc;
}

DESIGN_TEST(invalid_options_are_refused, 30) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.design = design;
  struct sm_pool *pool;
  cr_assert_eq(sm_pool_create(NULL, &pool), -EINVAL);
  opts.workers = 1;
  cr_assert_eq(sm_pool_create(&opts, NULL), -EINVAL);
  opts.workers = 0;
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.workers = SM_POOL_MAX_WORKERS + 1;
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.workers = 2;
  opts.name = "abcdefghijk"; /* SM_POOL_NAME_MAX + 1 bytes */
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.name = NULL;
  opts.stack_size = 1;
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.stack_size = 0;
  int below[2] = {-1, -2};
  opts.pin_pus = below;
  cr_assert_eq(create_error(&opts), -EINVAL);
  /* The second worker's pin is refused after the first one started: the
   * first must be stopped and joined (no leak, no hang). */
  int beyond[2] = {-1, 1 << 20};
  opts.pin_pus = beyond;
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.pin_pus = NULL;
  cr_assert_eq(create_error(&opts), 0, "the options are valid again");
}

Test(pool, invalid_design_is_refused, .timeout = 30) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.workers = 1;
  opts.design = SM_POOL_DESIGN_COUNT;
  cr_assert_eq(create_error(&opts), -EINVAL);
  opts.design = (enum sm_pool_design) - 1;
  cr_assert_eq(create_error(&opts), -EINVAL);
}

DESIGN_TEST(null_arguments_are_refused, 30) {
  struct sm_pool *pool = pool_ok(design, 1);
  atomic_uint ran = 0;
  cr_assert_eq(sm_pool_submit(NULL, count_task, &ran), -EINVAL);
  cr_assert_eq(sm_pool_submit(pool, NULL, &ran), -EINVAL);
  cr_assert_eq(sm_pool_wait(NULL), -EINVAL);
  cr_assert_eq(sm_pool_shutdown(NULL), -EINVAL);
  struct sm_pool_stats st = {7, 7, 7};
  sm_pool_stats(NULL, &st);
  cr_assert_eq(st.submitted, 7, "NULL pool: *out untouched");
  sm_pool_stats(pool, NULL);
  submit_ok(pool, count_task, &ran);
  cr_assert_eq(sm_pool_wait(pool), 0);
  expect_stats(pool, 1, 1, 0);
  cr_assert_eq(sm_pool_shutdown(pool), 0);
}

Test(pool, design_names) {
  cr_assert_str_eq(sm_pool_design_name(SM_POOL_SHARED_QUEUE), "shared_queue");
  cr_assert_str_eq(sm_pool_design_name(SM_POOL_FAST), "fast");
  cr_assert_null(sm_pool_design_name(SM_POOL_DESIGN_COUNT));
  cr_assert_null(sm_pool_design_name((enum sm_pool_design) - 1));
}
