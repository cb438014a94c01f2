/* test_thread.c: Criterion tests of sm_thread: spawn options (name, stack
 * size, pinning), join and detach, the current thread's handle, park and
 * unpark, and the failure paths. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syncmark/thread.h"

#define NS_PER_MS UINT64_C(1000000)

/* Sleeps for `ms` milliseconds, resuming after signals. */
static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
    ;
}

/* Waits on `s`, resuming after signals; marks the test failed on other
 * errors. Uses cr_expect, not cr_assert: Criterion aborts a test with a
 * longjmp to the test's own thread, so spawned threads must not assert. */
static void sem_wait_ok(sem_t *s) {
  int rc;
  while ((rc = sem_wait(s)) != 0 && errno == EINTR)
    ;
  cr_expect_eq(rc, 0);
}

/* Spawns with `opts` and fails the test unless it succeeds. Returns the
 * join handle. */
static struct sm_join_handle *spawn_ok(const struct sm_thread_opts *opts,
                                       sm_thread_fn fn, void *arg) {
  struct sm_join_handle *h = NULL;
  int rc = sm_thread_spawn(opts, fn, arg, &h);
  cr_assert_eq(rc, 0, "spawn failed: %d (%s)", rc, strerror(-rc));
  cr_assert_not_null(h);
  return h;
}

/* Joins `h` and fails the test unless it succeeds. Returns the result. */
static void *join_ok(struct sm_join_handle *h) {
  void *result = NULL;
  cr_assert_eq(sm_join(h, &result), 0);
  return result;
}

/* Returns the error of spawning `fn` with `opts`; asserts that *out was
 * left alone on failure. */
static int spawn_error(const struct sm_thread_opts *opts, sm_thread_fn fn) {
  struct sm_join_handle *sentinel = (struct sm_join_handle *)&sentinel;
  struct sm_join_handle *h = sentinel;
  int rc = sm_thread_spawn(opts, fn, NULL, &h);
  if (rc == 0)
    sm_join(h, NULL);
  else
    cr_assert_eq(h, sentinel, "*out written on failure");
  return rc;
}

/* Returns arg + 1 as a pointer-sized integer. */
static void *add_one(void *arg) {
  return (void *)((uintptr_t)arg + 1);
}

Test(thread, spawn_join_returns_the_result, .timeout = 10) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  struct sm_join_handle *h = spawn_ok(&opts, add_one, (void *)41);
  cr_assert_eq((uintptr_t)join_ok(h), 42);
}

Test(thread, null_opts_are_the_defaults_and_result_may_be_dropped,
     .timeout = 10) {
  struct sm_join_handle *h = spawn_ok(NULL, add_one, (void *)1);
  cr_assert_null(sm_thread_name(sm_join_handle_thread(h)));
  cr_assert_eq(sm_join(h, NULL), 0);
}

/* What a thread sees of its own name. */
struct name_seen {
  char os[32];     /* pthread_getname_np */
  const char *lib; /* sm_thread_name(sm_thread_current()) */
  char lib_copy[32];
};

/* Records the OS name and the library's name of the calling thread in the
 * struct name_seen at `arg`. Returns NULL. */
static void *record_name(void *arg) {
  struct name_seen *seen = arg;
  cr_expect_eq(pthread_getname_np(pthread_self(), seen->os, sizeof seen->os),
               0);
  seen->lib = sm_thread_name(sm_thread_current());
  if (seen->lib)
    strcpy(seen->lib_copy, seen->lib);
  return NULL;
}

/* Spawns record_name named `name`, checks that the thread's name is set
 * before it runs and visible from outside, and joins it. */
static void check_named(const char *name) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.name = name;
  struct name_seen seen = {{0}, NULL, {0}};
  struct sm_join_handle *h = spawn_ok(&opts, record_name, &seen);
  const char *outside = sm_thread_name(sm_join_handle_thread(h));
  cr_assert_not_null(outside);
  cr_assert_str_eq(outside, name);
  cr_assert_neq(outside, name, "the name must be a copy");
  join_ok(h);
  cr_assert_str_eq(seen.os, name);
  cr_assert_not_null(seen.lib);
  cr_assert_str_eq(seen.lib_copy, name);
}

Test(thread, name_is_set_before_fn_and_visible, .timeout = 10) {
  check_named("worker-1");
}

Test(thread, fifteen_char_name_is_kept_whole, .timeout = 10) {
  check_named("abcdefghijklmno");
}

Test(thread, sixteen_char_name_is_refused) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.name = "abcdefghijklmnop";
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
}

Test(thread, name_is_copied_at_spawn, .timeout = 10) {
  char name[16] = "before";
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.name = name;
  struct sm_join_handle *h = spawn_ok(&opts, add_one, NULL);
  strcpy(name, "after");
  cr_assert_str_eq(sm_thread_name(sm_join_handle_thread(h)), "before");
  join_ok(h);
}

/* Returns the smallest stack size the library must accept. */
static size_t stack_min(void) {
  long min = sysconf(_SC_THREAD_STACK_MIN);
  return min > 0 ? (size_t)min : (size_t)PTHREAD_STACK_MIN;
}

Test(thread, stack_size_out_of_range_is_refused) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = 1;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
  opts.stack_size = stack_min() - 1;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
  opts.stack_size = SM_THREAD_STACK_MAX + 1;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
  opts.stack_size = SIZE_MAX;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
}

/* Returns the calling thread's stack size as pthreads reports it, cast to
 * a pointer; NULL when pthreads cannot tell. */
static void *own_stack_size(void *arg) {
  (void)arg;
  pthread_attr_t attr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0)
    return NULL;
  cr_expect_eq(pthread_attr_getstacksize(&attr, &size), 0);
  pthread_attr_destroy(&attr);
  return (void *)(uintptr_t)size;
}

/* Spawns with a stack of `requested` bytes and checks the thread got at
 * least that, rounded up to whole pages, and not more than 4 pages over. */
static void check_stack(size_t requested) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded = (requested + page - 1) / page * page;
#ifdef __SANITIZE_THREAD__
  /* ThreadSanitizer's pthread_create enlarges small stacks for itself. */
  cr_skip_test("stack sizes are enlarged under ThreadSanitizer");
#endif
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = requested;
  size_t got =
      (size_t)(uintptr_t)join_ok(spawn_ok(&opts, own_stack_size, NULL));
  cr_assert_geq(got, rounded, "asked %zu, got %zu", requested, got);
  cr_assert_lt(got, rounded + 4 * page, "asked %zu, got %zu", requested, got);
}

Test(thread, stack_of_64k_is_that_size, .timeout = 10) {
  check_stack(64 * 1024);
}

Test(thread, stack_size_rounds_up_to_pages, .timeout = 10) {
  check_stack(64 * 1024 + 1);
}

Test(thread, stack_at_the_minimum_works, .timeout = 10) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = stack_min();
  /* add_one needs almost no stack; glibc may still refuse a minimum stack
   * that cannot hold its static TLS, which must surface as an error. */
  struct sm_join_handle *h = NULL;
  int rc = sm_thread_spawn(&opts, add_one, (void *)1, &h);
  if (rc == 0)
    cr_assert_eq((uintptr_t)join_ok(h), 2);
  else
    cr_assert_eq(rc, -EINVAL, "unexpected error %d", rc);
}

/* Returns the CPU the calling thread runs on, plus one, and fails the test
 * (without aborting it) unless its affinity mask holds exactly that CPU. */
static void *where_am_i(void *arg) {
  (void)arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  cr_expect_eq(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
  cr_expect_eq(CPU_COUNT(&set), 1);
  int cpu = sched_getcpu();
  cr_expect(cpu >= 0 && CPU_ISSET(cpu, &set));
  return (void *)(uintptr_t)(cpu + 1);
}

Test(thread, pinning_to_each_allowed_cpu, .timeout = 10) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  cr_assert_eq(sched_getaffinity(getpid(), sizeof allowed, &allowed), 0);
  int tried = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed))
      continue;
    struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
    opts.pin_pu = cpu;
    uintptr_t seen = (uintptr_t)join_ok(spawn_ok(&opts, where_am_i, NULL));
    cr_assert_eq(seen, (uintptr_t)cpu + 1, "pinned to %d, ran on %d", cpu,
                 (int)seen - 1);
    tried++;
  }
  cr_assert_geq(tried, 1);
}

Test(thread, bad_pin_is_refused) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.pin_pu = 100000;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
  opts.pin_pu = -2;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
  opts.pin_pu = INT32_MIN;
  cr_assert_eq(spawn_error(&opts, add_one), -EINVAL);
}

Test(thread, pin_outside_the_process_affinity_is_refused, .timeout = 10) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  cr_assert_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  if (CPU_COUNT(&allowed) < 2)
    cr_skip_test("needs two allowed CPUs");
  int first = 0;
  while (!CPU_ISSET(first, &allowed))
    first++;
  int second = first + 1;
  while (!CPU_ISSET(second, &allowed))
    second++;
  /* In a child process: restrict it to `first`, then ask for `second`. */
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(first, &only);
    if (sched_setaffinity(0, sizeof only, &only) != 0)
      _exit(10);
    struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
    opts.pin_pu = second;
    struct sm_join_handle *h = NULL;
    int rc = sm_thread_spawn(&opts, add_one, NULL, &h);
    if (rc == 0) {
      sm_join(h, NULL);
      _exit(11);
    }
    opts.pin_pu = first; /* still allowed */
    if (sm_thread_spawn(&opts, add_one, NULL, &h) != 0)
      _exit(12);
    sm_join(h, NULL);
    _exit(rc == -EINVAL ? 0 : 13);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "child died");
  cr_assert_eq(WEXITSTATUS(status), 0, "child failed with %d",
               WEXITSTATUS(status));
}

/* Semaphores of the detach test. */
struct detach_case {
  sem_t go;   /* posted by the test after releasing the handle */
  sem_t done; /* posted by the thread when it completes */
};

/* Waits for `go`, then posts `done`. Returns NULL. */
static void *wait_then_signal(void *arg) {
  struct detach_case *c = arg;
  sem_wait_ok(&c->go);
  cr_expect_eq(sem_post(&c->done), 0);
  return NULL;
}

Test(thread, released_handle_detaches_and_thread_completes, .timeout = 10) {
  struct detach_case c;
  cr_assert_eq(sem_init(&c.go, 0, 0), 0);
  cr_assert_eq(sem_init(&c.done, 0, 0), 0);
  sm_join_handle_release(spawn_ok(NULL, wait_then_signal, &c));
  cr_assert_eq(sem_post(&c.go), 0);
  sem_wait_ok(&c.done);
  /* Give the detached thread time to exit before the semaphores go. */
  sleep_ms(20);
}

Test(thread, current_in_main_is_stable_and_unnamed) {
  struct sm_thread *a = sm_thread_current();
  cr_assert_not_null(a);
  cr_assert_eq(sm_thread_current(), a);
  cr_assert_null(sm_thread_name(a));
  cr_assert_neq(sm_thread_id(a), 0);
  cr_assert_eq(sm_thread_id(sm_thread_current()), sm_thread_id(a));
}

/* Returns sm_thread_current() of the spawned thread, with a reference
 * added so that it outlives the thread for the caller to compare. */
static void *current_ref(void *arg) {
  (void)arg;
  return sm_thread_clone(sm_thread_current());
}

Test(thread, current_in_spawned_thread_is_its_handle, .timeout = 10) {
  struct sm_join_handle *h = spawn_ok(NULL, current_ref, NULL);
  struct sm_thread *handle_thread = sm_thread_clone(sm_join_handle_thread(h));
  struct sm_thread *inside = join_ok(h);
  cr_assert_eq(inside, handle_thread);
  cr_assert_neq(inside, sm_thread_current());
  sm_thread_release(inside);
  sm_thread_release(handle_thread);
}

/* Returns the calling thread's id as a pointer. */
static void *own_id(void *arg) {
  (void)arg;
  return (void *)(uintptr_t)sm_thread_id(sm_thread_current());
}

Test(thread, ids_are_unique_and_nonzero, .timeout = 10) {
  enum { N = 8 };
  uint64_t ids[N + 1];
  struct sm_join_handle *hs[N];
  for (int i = 0; i < N; i++) {
    hs[i] = spawn_ok(NULL, own_id, NULL);
    ids[i] = sm_thread_id(sm_join_handle_thread(hs[i]));
  }
  for (int i = 0; i < N; i++)
    cr_assert_eq((uint64_t)(uintptr_t)join_ok(hs[i]), ids[i]);
  ids[N] = sm_thread_id(sm_thread_current());
  for (int i = 0; i <= N; i++) {
    cr_assert_neq(ids[i], 0);
    for (int j = 0; j < i; j++)
      cr_assert_neq(ids[i], ids[j], "ids %d and %d equal", i, j);
  }
}

/* Shared by a thread that parks until `go` and the test that wakes it. */
struct park_case {
  atomic_int parked; /* set before the thread first parks */
  atomic_int go;     /* set by the test before unparking */
  sem_t done;        /* posted by the thread once it saw `go` */
};

/* Parks until `go` is set, re-checking after every (maybe spurious)
 * return, then posts `done`. Returns NULL. */
static void *park_until_go(void *arg) {
  struct park_case *c = arg;
  atomic_store_explicit(&c->parked, 1, memory_order_release);
  while (!atomic_load_explicit(&c->go, memory_order_acquire))
    sm_thread_park();
  cr_expect_eq(sem_post(&c->done), 0);
  return NULL;
}

Test(thread, unpark_through_handle_wakes_the_thread, .timeout = 10) {
  struct park_case c = {0, 0, {{0}}};
  cr_assert_eq(sem_init(&c.done, 0, 0), 0);
  struct sm_join_handle *h = spawn_ok(NULL, park_until_go, &c);
  while (!atomic_load_explicit(&c.parked, memory_order_acquire))
    sleep_ms(1);
  sleep_ms(20);
  atomic_store_explicit(&c.go, 1, memory_order_release);
  sm_thread_unpark(sm_join_handle_thread(h));
  join_ok(h);
  sem_wait_ok(&c.done);
}

Test(thread, unpark_through_clone_after_handle_is_gone, .timeout = 10) {
  struct park_case c = {0, 0, {{0}}};
  cr_assert_eq(sem_init(&c.done, 0, 0), 0);
  struct sm_join_handle *h = spawn_ok(NULL, park_until_go, &c);
  struct sm_thread *t = sm_thread_clone(sm_join_handle_thread(h));
  uint64_t id = sm_thread_id(t);
  sm_join_handle_release(h);
  while (!atomic_load_explicit(&c.parked, memory_order_acquire))
    sleep_ms(1);
  sleep_ms(20);
  cr_assert_eq(sm_thread_id(t), id);
  atomic_store_explicit(&c.go, 1, memory_order_release);
  sm_thread_unpark(t);
  sem_wait_ok(&c.done);
  sm_thread_release(t);
  sleep_ms(20); /* let the detached thread exit before `c` goes */
}

Test(thread, unpark_after_exit_is_harmless, .timeout = 10) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.name = "gone";
  struct sm_join_handle *h = spawn_ok(&opts, add_one, NULL);
  struct sm_thread *t = sm_thread_clone(sm_join_handle_thread(h));
  join_ok(h);
  sm_thread_unpark(t);
  sm_thread_unpark(t);
  cr_assert_str_eq(sm_thread_name(t), "gone");
  cr_assert_neq(sm_thread_id(t), 0);
  sm_thread_release(t);
}

Test(thread, park_timeout_on_the_current_thread, .timeout = 10) {
  cr_assert_eq(sm_thread_park_timeout(NS_PER_MS), -ETIMEDOUT);
  sm_thread_unpark(sm_thread_current());
  cr_assert_eq(sm_thread_park_timeout(10 * 1000 * NS_PER_MS), 0);
  sm_thread_unpark(sm_thread_current());
  sm_thread_park(); /* returns at once: the token is there */
  cr_assert_eq(sm_thread_park_timeout(0), -ETIMEDOUT);
}

/* The self-join case: the thread learns its own handle after spawn. */
struct self_join {
  sem_t ready;              /* posted once `h` is set */
  struct sm_join_handle *h; /* the thread's own join handle */
};

/* Tries to join its own handle and returns the error as a pointer. */
static void *join_self(void *arg) {
  struct self_join *c = arg;
  sem_wait_ok(&c->ready);
  return (void *)(intptr_t)sm_join(c->h, NULL);
}

Test(thread, join_from_itself_is_edeadlk, .timeout = 10) {
  struct self_join c;
  cr_assert_eq(sem_init(&c.ready, 0, 0), 0);
  c.h = spawn_ok(NULL, join_self, &c);
  cr_assert_eq(sem_post(&c.ready), 0); /* orders the write of c.h */
  /* The handle stayed valid: the real join works. */
  cr_assert_eq((intptr_t)join_ok(c.h), -EDEADLK);
}

/* Body of a foreign pthread (not made by sm_thread_spawn): returns 1 when
 * sm_thread_current gives it a stable, unnamed handle distinct from main's
 * (`arg`) that it can park on, 0 otherwise. */
static void *foreign_current(void *arg) {
  struct sm_thread *t = sm_thread_current();
  int ok = t != NULL && t == sm_thread_current() && t != arg &&
           sm_thread_name(t) == NULL && sm_thread_id(t) != 0;
  /* Park and unpark work on a lazily made handle too. */
  sm_thread_unpark(t);
  ok = ok && sm_thread_park_timeout(10 * 1000 * NS_PER_MS) == 0;
  return (void *)(uintptr_t)ok;
}

Test(thread, foreign_pthread_gets_its_own_handle, .timeout = 10) {
  pthread_t tid;
  void *ok = NULL;
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(
        pthread_create(&tid, NULL, foreign_current, sm_thread_current()), 0);
    cr_assert_eq(pthread_join(tid, &ok), 0);
    cr_assert_eq((uintptr_t)ok, 1);
  }
}

/* Ends the thread with pthread_exit(arg) instead of returning. */
static void *exit_early(void *arg) {
  pthread_exit(arg);
}

Test(thread, pthread_exit_result_reaches_join, .timeout = 10) {
  struct sm_join_handle *h = spawn_ok(NULL, exit_early, (void *)7);
  struct sm_thread *t = sm_thread_clone(sm_join_handle_thread(h));
  cr_assert_eq((uintptr_t)join_ok(h), 7);
  sm_thread_unpark(t);
  sm_thread_release(t);
}

/* Returns the virtual memory size of this process in bytes, or 0 when
 * /proc cannot tell. */
static size_t vm_size(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long pages = 0;
  int n = fscanf(f, "%lu", &pages);
  fclose(f);
  return n == 1 ? pages * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* In a forked child: makes thread creation fail (RLIMIT_NPROC of 0 when
 * not root, else an address-space limit far below a 1 GiB stack) and
 * exits 0 when spawn reports -EAGAIN or -ENOMEM and leaves *out alone,
 * 1 to 3 otherwise. */
static void child_spawn_fails(int use_nproc) {
  if (use_nproc) {
    struct rlimit lim = {0, 0};
    if (setrlimit(RLIMIT_NPROC, &lim) != 0)
      _exit(1);
  } else {
    size_t now = vm_size();
    if (now == 0)
      _exit(1);
    struct rlimit lim = {now + (64u << 20), now + (64u << 20)};
    if (setrlimit(RLIMIT_AS, &lim) != 0)
      _exit(1);
  }
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = use_nproc ? 0 : SM_THREAD_STACK_MAX;
  struct sm_join_handle *h = NULL;
  int rc = sm_thread_spawn(&opts, add_one, NULL, &h);
  if (rc == 0) {
    sm_join(h, NULL);
    _exit(2);
  }
  _exit((rc == -EAGAIN || rc == -ENOMEM) && h == NULL ? 0 : 3);
}

/* Runs child_spawn_fails(use_nproc) in a child and asserts it exited 0. */
static void check_spawn_fails(int use_nproc) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0)
    child_spawn_fails(use_nproc);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "child crashed (status %d)", status);
  cr_assert_eq(WEXITSTATUS(status), 0, "child failed with %d",
               WEXITSTATUS(status));
}

Test(thread, os_refusal_is_an_error_not_a_crash, .timeout = 10) {
  /* Root bypasses RLIMIT_NPROC, but not RLIMIT_AS. */
  if (geteuid() != 0)
    check_spawn_fails(1);
  check_spawn_fails(0);
}

Test(thread, null_arguments) {
  struct sm_join_handle *h = NULL;
  cr_assert_eq(sm_thread_spawn(NULL, NULL, NULL, &h), -EINVAL);
  cr_assert_eq(sm_thread_spawn(NULL, add_one, NULL, NULL), -EINVAL);
  cr_assert_null(h);
  cr_assert_eq(sm_join(NULL, NULL), -EINVAL);
  sm_join_handle_release(NULL);
  cr_assert_null(sm_join_handle_thread(NULL));
  cr_assert_null(sm_thread_clone(NULL));
  sm_thread_release(NULL);
  cr_assert_null(sm_thread_name(NULL));
  cr_assert_eq(sm_thread_id(NULL), 0);
  sm_thread_unpark(NULL);
}
