/* test_park.c: Criterion tests of the futex parker (token semantics,
 * timeouts, a ping-pong stress test, no CPU use while parked) and of the
 * futex wrappers (syncmark/futex.h). */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "syncmark/futex.h"
#include "syncmark/park.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S  UINT64_C(1000000000)

/* Hand-offs of the ping-pong stress test (both directions together). A
 * hand-off between two vCPUs of a KVM guest costs 15 to 30 us (a cross-vCPU
 * wake-up), so 200,000 take 3 to 6 s there and far less on one PU or on
 * bare metal. */
#define PINGPONG_HANDOFFS 200000

/* Returns `clock` in nanoseconds, marking the test failed if it cannot be
 * read (cr_expect: spawned threads call it too, and Criterion's abort
 * jumps to the test's own thread). */
static uint64_t clock_ns(clockid_t clock) {
  struct timespec ts = {0, 0};
  cr_expect_eq(clock_gettime(clock, &ts), 0);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Sleeps for `ms` milliseconds of CLOCK_MONOTONIC, resuming after
 * signals. */
static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
    ;
}

/* Returns the parker's state word. */
static int state_of(struct sm_parker *p) {
  return atomic_load_explicit(&p->state, memory_order_relaxed);
}

Test(park, init_is_empty) {
  struct sm_parker p = SM_PARKER_INIT;
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
}

Test(park, unpark_before_park_returns_at_once, .timeout = 10) {
  struct sm_parker p = SM_PARKER_INIT;
  sm_parker_unpark(&p);
  cr_assert_eq(state_of(&p), SM_PARKER_NOTIFIED);
  sm_parker_park(&p); /* would block forever without the token */
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
  sm_parker_unpark(&p);
  cr_assert_eq(sm_parker_park_timeout(&p, 10 * NS_PER_S), 0);
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
}

Test(park, tokens_do_not_accumulate, .timeout = 10) {
  struct sm_parker p = SM_PARKER_INIT;
  sm_parker_unpark(&p);
  sm_parker_unpark(&p);
  cr_assert_eq(state_of(&p), SM_PARKER_NOTIFIED);
  cr_assert_eq(sm_parker_park_timeout(&p, 10 * NS_PER_S), 0);
  cr_assert_eq(sm_parker_park_timeout(&p, 20 * NS_PER_MS), -ETIMEDOUT);
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
}

Test(park, timeout_without_token_waits_then_times_out, .timeout = 10) {
  struct sm_parker p = SM_PARKER_INIT;
  const uint64_t timeout = 50 * NS_PER_MS;
  uint64_t start = clock_ns(CLOCK_MONOTONIC);
  cr_assert_eq(sm_parker_park_timeout(&p, timeout), -ETIMEDOUT);
  uint64_t elapsed = clock_ns(CLOCK_MONOTONIC) - start;
  /* The kernel sleeps at least the timeout; only a lower bound, with 1 ms
   * for clock granularity. */
  cr_assert_geq(elapsed, timeout - NS_PER_MS, "woke after %llu ns",
                (unsigned long long)elapsed);
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
}

Test(park, zero_timeout_without_token_times_out, .timeout = 10) {
  struct sm_parker p = SM_PARKER_INIT;
  cr_assert_eq(sm_parker_park_timeout(&p, 0), -ETIMEDOUT);
  cr_assert_eq(state_of(&p), SM_PARKER_EMPTY);
  sm_parker_unpark(&p);
  cr_assert_eq(sm_parker_park_timeout(&p, 0), 0);
}

/* Shared by a parked owner and the thread that unparks it. */
struct wake_case {
  struct sm_parker parker;
  atomic_int ready; /* set by the owner just before it parks */
  atomic_int done;  /* set by the unparker just before unparking */
  uint64_t timeout; /* for park_timeout; 0 means plain park */
  int rc;           /* park_timeout's result */
};

/* Owner: announces itself, then parks until `done` is seen (plain park,
 * re-checked in a loop) or parks once with `timeout`. Returns NULL. */
static void *owner(void *arg) {
  struct wake_case *c = arg;
  atomic_store_explicit(&c->ready, 1, memory_order_release);
  if (c->timeout == 0) {
    while (!atomic_load_explicit(&c->done, memory_order_acquire))
      sm_parker_park(&c->parker);
    c->rc = 0;
  } else {
    c->rc = sm_parker_park_timeout(&c->parker, c->timeout);
  }
  return NULL;
}

/* Runs `owner` with `timeout`, unparks it from this thread after it had
 * time to fall asleep, and returns the owner's result. */
static int wake_from_other_thread(uint64_t timeout) {
  struct wake_case c = {SM_PARKER_INIT, 0, 0, timeout, -1};
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, owner, &c), 0);
  while (!atomic_load_explicit(&c.ready, memory_order_acquire))
    sleep_ms(1);
  sleep_ms(50);
  atomic_store_explicit(&c.done, 1, memory_order_release);
  sm_parker_unpark(&c.parker);
  cr_assert_eq(pthread_join(tid, NULL), 0);
  cr_assert_eq(state_of(&c.parker), SM_PARKER_EMPTY);
  return c.rc;
}

Test(park, unpark_wakes_a_parked_thread, .timeout = 10) {
  cr_assert_eq(wake_from_other_thread(0), 0);
}

Test(park, unpark_wakes_a_timed_park, .timeout = 10) {
  cr_assert_eq(wake_from_other_thread(60 * NS_PER_S), 0);
}

Test(park, huge_timeout_saturates_and_still_wakes, .timeout = 10) {
  /* A malformed timespec would make the kernel refuse the wait, and the
   * owner would report -ETIMEDOUT at once instead of the token. */
  cr_assert_eq(wake_from_other_thread(UINT64_MAX), 0);
}

/* Two players hand a turn back and forth, Concurrency Kit validate style:
 * each waits for its turn, parking in a loop, then passes it on. */
struct pingpong {
  atomic_int turn;             /* 0 or 1: who may move */
  struct sm_parker parkers[2]; /* one per player */
  unsigned long moves;         /* only touched by the player holding turn */
  unsigned long per_player[2];
};

/* One player's view of a game. */
struct pingpong_arg {
  struct pingpong *game;
  int me; /* 0 or 1 */
};

/* Player body; `arg` is a struct pingpong_arg. Makes PINGPONG_HANDOFFS / 2
 * moves, each waiting for its turn. Returns NULL. */
static void *player(void *arg) {
  struct pingpong_arg *a = arg;
  struct pingpong *g = a->game;
  int me = a->me;
  for (unsigned long i = 0; i < PINGPONG_HANDOFFS / 2; i++) {
    while (atomic_load_explicit(&g->turn, memory_order_acquire) != me)
      sm_parker_park(&g->parkers[me]);
    g->moves++;
    g->per_player[me]++;
    atomic_store_explicit(&g->turn, 1 - me, memory_order_release);
    sm_parker_unpark(&g->parkers[1 - me]);
  }
  return NULL;
}

/* The limit is only there to turn a lost wake-up (a hang) into a failure:
 * 120 s is 20 times the slowest machine seen, so speed never fails it. */
Test(park, pingpong_stress_loses_no_wakeup, .timeout = 120) {
  struct pingpong g = {0, {SM_PARKER_INIT, SM_PARKER_INIT}, 0, {0, 0}};
  struct pingpong_arg args[2] = {{&g, 0}, {&g, 1}};
  pthread_t tids[2];
  for (int i = 0; i < 2; i++)
    cr_assert_eq(pthread_create(&tids[i], NULL, player, &args[i]), 0);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(pthread_join(tids[i], NULL), 0);
  /* A lost wake-up would hang (and time out); a broken hand-off would
   * lose increments of the unprotected counter. */
  cr_assert_eq(g.moves, PINGPONG_HANDOFFS);
  cr_assert_eq(g.per_player[0], PINGPONG_HANDOFFS / 2);
  cr_assert_eq(g.per_player[1], PINGPONG_HANDOFFS / 2);
  cr_assert_eq(atomic_load(&g.turn), 0);
}

/* A parker owner that measures its own CPU time around a plain park. */
struct cpu_case {
  struct sm_parker parker;
  atomic_int ready;
  atomic_int done;
  uint64_t cpu_ns; /* CPU time spent in the park loop */
};

/* Parks until `done`, recording the thread's CPU time meanwhile. */
static void *cpu_owner(void *arg) {
  struct cpu_case *c = arg;
  uint64_t before = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  atomic_store_explicit(&c->ready, 1, memory_order_release);
  while (!atomic_load_explicit(&c->done, memory_order_acquire))
    sm_parker_park(&c->parker);
  c->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - before;
  return NULL;
}

Test(park, parked_thread_uses_no_cpu, .timeout = 10) {
  struct cpu_case c = {SM_PARKER_INIT, 0, 0, 0};
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, cpu_owner, &c), 0);
  while (!atomic_load_explicit(&c.ready, memory_order_acquire))
    sleep_ms(1);
  sleep_ms(200);
  atomic_store_explicit(&c.done, 1, memory_order_release);
  sm_parker_unpark(&c.parker);
  cr_assert_eq(pthread_join(tid, NULL), 0);
  /* Spinning for 200 ms would cost ~200 ms of CPU; sleeping costs ~0. */
  cr_assert_lt(c.cpu_ns, 20 * NS_PER_MS, "parked thread used %llu ns of CPU",
               (unsigned long long)c.cpu_ns);
}

/* Signal handler that does nothing: its only effect is to interrupt
 * system calls with EINTR. */
static void on_signal(int sig) {
  (void)sig;
}

/* Installs on_signal for SIGUSR1 without SA_RESTART, so a futex wait that
 * the signal interrupts returns EINTR to the parker. */
static void install_interrupting_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
}

/* A parked owner that the test pesters with signals. */
struct signal_case {
  struct sm_parker parker;
  atomic_int ready;    /* set just before parking */
  atomic_int returned; /* set once the park returned */
  uint64_t timeout;    /* 0: plain park, once; else park_timeout */
  int rc;              /* park_timeout's result */
  uint64_t elapsed;    /* time spent in park_timeout */
};

/* Parks once (plain or with a timeout), records the result and the time it
 * took, then sets `returned`. Returns NULL. */
static void *signalled_owner(void *arg) {
  struct signal_case *c = arg;
  atomic_store_explicit(&c->ready, 1, memory_order_release);
  uint64_t start = clock_ns(CLOCK_MONOTONIC);
  if (c->timeout == 0) {
    sm_parker_park(&c->parker);
    c->rc = 0;
  } else {
    c->rc = sm_parker_park_timeout(&c->parker, c->timeout);
  }
  c->elapsed = clock_ns(CLOCK_MONOTONIC) - start;
  atomic_store_explicit(&c->returned, 1, memory_order_release);
  return NULL;
}

/* Sends SIGUSR1 to `tid` every 5 ms for `ms` milliseconds. */
static void pester(pthread_t tid, unsigned ms) {
  for (unsigned t = 0; t < ms; t += 5) {
    cr_assert_eq(pthread_kill(tid, SIGUSR1), 0);
    sleep_ms(5);
  }
}

Test(park, signals_do_not_cut_a_timed_park_short, .timeout = 10) {
  install_interrupting_handler();
  struct signal_case c = {SM_PARKER_INIT, 0, 0, 200 * NS_PER_MS, -1, 0};
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, signalled_owner, &c), 0);
  while (!atomic_load_explicit(&c.ready, memory_order_acquire))
    sleep_ms(1);
  pester(tid, 150);
  cr_assert_eq(pthread_join(tid, NULL), 0);
  /* Each EINTR restarts the wait with the time left, so the park lasts the
   * whole timeout (lower bound only) and reports no token. */
  cr_assert_eq(c.rc, -ETIMEDOUT);
  cr_assert_geq(c.elapsed, c.timeout - NS_PER_MS, "returned after %llu ns",
                (unsigned long long)c.elapsed);
}

Test(park, signals_do_not_end_a_plain_park, .timeout = 10) {
  install_interrupting_handler();
  struct signal_case c = {SM_PARKER_INIT, 0, 0, 0, -1, 0};
  pthread_t tid;
  cr_assert_eq(pthread_create(&tid, NULL, signalled_owner, &c), 0);
  while (!atomic_load_explicit(&c.ready, memory_order_acquire))
    sleep_ms(1);
  pester(tid, 100);
  /* Interrupted waits found no token and slept again. */
  cr_assert_eq(atomic_load_explicit(&c.returned, memory_order_acquire), 0);
  sm_parker_unpark(&c.parker);
  cr_assert_eq(pthread_join(tid, NULL), 0);
  cr_assert_eq(c.rc, 0);
  cr_assert_eq(state_of(&c.parker), SM_PARKER_EMPTY);
}

Test(futex, timespec_splits_and_saturates) {
  struct timespec ts = sm_futex_timespec(0);
  cr_assert_eq(ts.tv_sec, 0);
  cr_assert_eq(ts.tv_nsec, 0);
  ts = sm_futex_timespec(UINT64_C(1500000000));
  cr_assert_eq(ts.tv_sec, 1);
  cr_assert_eq(ts.tv_nsec, 500000000L);
  ts = sm_futex_timespec(UINT64_C(999999999));
  cr_assert_eq(ts.tv_sec, 0);
  cr_assert_eq(ts.tv_nsec, 999999999L);
  /* 2^64 - 1 = 18446744073709551615 ns. */
  ts = sm_futex_timespec(UINT64_MAX);
  cr_assert_eq((uint64_t)ts.tv_sec, UINT64_C(18446744073));
  cr_assert_eq(ts.tv_nsec, 709551615L);
}

Test(futex, wait_results, .timeout = 10) {
  atomic_int word = 5;
  /* The value differs: no sleep at all. */
  cr_assert_eq(sm_futex_wait(&word, 4, NULL), -EAGAIN);
  struct timespec rel = sm_futex_timespec(NS_PER_MS);
  cr_assert_eq(sm_futex_wait(&word, 5, &rel), -ETIMEDOUT);
  struct timespec bad = {0, 1000000000L};
  cr_assert_eq(sm_futex_wait(&word, 5, &bad), -EINVAL);
  cr_assert_eq(sm_futex_wake(&word, 1), 0); /* nobody waits */
}
