/* deadlock.c: the `deadlock` family: the lesson's two threads and two locks
 * (claim C17), taken in opposite orders (may deadlock), in one global order,
 * or the second by trylock with back-off; run in a child process that a
 * watchdog kills when it stops making progress. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/mutex.h"
#include "syncmark/thread.h"
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
 * shares it. */
enum { BACKOFF_UNIT_NS = 100, BACKOFF_MAX_SHIFT = 3, BACKOFF_SLEEP_NS = 50000 };

/* A stall that is not a deadlock is given this many watchdog times before
 * it is declared an error (a preempted lock holder on a loaded machine). */
enum { STALL_FACTOR = 5 };

/* One thread's published state, alone on its cache line: written by the
 * thread with relaxed stores, read by the parent's watchdog. */
struct progress {
  SM_CACHE_ALIGNED atomic_uint_least64_t ops; /* completed operations */
  atomic_uint_least64_t backoffs; /* trylock failures (trylock only) */
  atomic_int waiting; /* 1 while holding its first lock and blocked on (or
                         about to block on) its second */
};

/* One lock with the value it protects, as Rust's Mutex<u64>. */
struct guarded {
  SM_CACHE_ALIGNED struct sm_mutex lock;
  atomic_uint_least64_t value; /* only changed under `lock` */
};

/* Memory shared by the parent and the child (MAP_SHARED): the locks the
 * child's threads use, their progress, and the parent's stop flag. */
struct shared {
  struct guarded a, b;
  struct progress thread[2];
  SM_CACHE_ALIGNED atomic_int go; /* child: both threads spawned */
  atomic_int stop;                /* parent: leave the loop */
  atomic_uint_least64_t t_go_ns;  /* child: sm_now_ns() at go */
  atomic_int child_error;         /* child: negative errno of a spawn */
};

/* What one of the child's threads needs. */
struct thread_arg {
  struct shared *sh;
  enum mode mode;
  unsigned index;           /* 0 or 1 */
  uint64_t hold_iters;      /* sm_work_spin steps between first and second */
  uint64_t backoff_unit_ns; /* hold_ns + BACKOFF_UNIT_NS */
};

/* Returns the sm_work_spin steps for `hold_ns`, calibrating each distinct
 * length once per process (on the runner thread, never in a window). */
static uint64_t hold_iterations_for(long hold_ns) {
  static long cached_ns[8];
  static uint64_t cached_iterations[8];
  static size_t ncached;
  for (size_t i = 0; i < ncached; i++)
    if (cached_ns[i] == hold_ns)
      return cached_iterations[i];
  uint64_t iterations = sm_work_calibrate((uint64_t)hold_ns);
  if (ncached < 8) {
    cached_ns[ncached] = hold_ns;
    cached_iterations[ncached++] = iterations;
  }
  return iterations;
}

/* The work done under both locks: both protected values gain one (the
 * self-check compares them with the operations counted). */
static inline void both_held_work(struct shared *sh) {
  uint64_t a = atomic_load_explicit(&sh->a.value, memory_order_relaxed);
  uint64_t b = atomic_load_explicit(&sh->b.value, memory_order_relaxed);
  atomic_store_explicit(&sh->a.value, a + 1, memory_order_relaxed);
  atomic_store_explicit(&sh->b.value, b + 1, memory_order_relaxed);
}

/* One operation of the lesson's pattern with blocking locks: take `first`,
 * hold it for the hold work, take `second` (publishing that the thread
 * waits meanwhile), work, release both. Blocks forever in a deadlock. */
static inline void op_blocking(struct shared *sh, struct progress *me,
                               struct sm_mutex *first, struct sm_mutex *second,
                               uint64_t hold_iters) {
  sm_mutex_lock(first);
  atomic_store_explicit(&me->waiting, 1, memory_order_relaxed);
  SM_KEEP(sm_work_spin(hold_iters));
  sm_mutex_lock(second);
  atomic_store_explicit(&me->waiting, 0, memory_order_relaxed);
  both_held_work(sh);
  sm_mutex_unlock(second);
  sm_mutex_unlock(first);
}

/* A small xorshift generator for back-off jitter. */
static inline uint32_t next_random(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/* Backs off after `failures` (>= 1) consecutive failures of an operation
 * whose back-off unit is `unit_ns`, as described at BACKOFF_UNIT_NS:
 * spinning with pause for a short wait, sleeping for a long one. Never
 * fails. */
static void back_off(unsigned failures, uint64_t unit_ns, uint32_t *rng) {
  unsigned shift = failures < BACKOFF_MAX_SHIFT ? failures : BACKOFF_MAX_SHIFT;
  uint64_t wait_ns = next_random(rng) % (unit_ns << shift);
  uint64_t deadline = sm_now_ns() + wait_ns;
  if (wait_ns >= BACKOFF_SLEEP_NS) {
    sm_sleep_until_ns(deadline);
    return;
  }
  while (sm_now_ns() < deadline)
    sm_cpu_relax();
}

/* One operation with back-off: take `first`, hold it, try `second` once;
 * on failure release `first`, back off and start again. Returns the
 * failures (back-offs) it took. */
static inline uint64_t op_trylock(struct shared *sh, struct sm_mutex *first,
                                  struct sm_mutex *second,
                                  const struct thread_arg *arg, uint32_t *rng) {
  unsigned failures = 0;
  for (;;) {
    sm_mutex_lock(first);
    SM_KEEP(sm_work_spin(arg->hold_iters));
    if (sm_mutex_trylock(second))
      break;
    sm_mutex_unlock(first);
    back_off(++failures, arg->backoff_unit_ns, rng);
  }
  both_held_work(sh);
  sm_mutex_unlock(second);
  sm_mutex_unlock(first);
  return failures;
}

/* Body of one of the child's two threads: waits for go, then runs its
 * operation until the parent sets stop, publishing its counts after each.
 * Thread 1 takes the locks in the opposite order (b, then a) except in the
 * ordered variant, where both take a first. */
static void *child_thread(void *p) {
  struct thread_arg *arg = p;
  struct shared *sh = arg->sh;
  struct progress *me = &sh->thread[arg->index];
  int reverse = arg->index == 1 && arg->mode != MODE_ORDERED;
  struct sm_mutex *first = reverse ? &sh->b.lock : &sh->a.lock;
  struct sm_mutex *second = reverse ? &sh->a.lock : &sh->b.lock;
  uint32_t rng = 0x9e3779b9u * (arg->index + 1);
  uint64_t ops = 0, backoffs = 0;
  while (!atomic_load_explicit(&sh->go, memory_order_acquire))
    sched_yield();
  while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
    if (arg->mode == MODE_TRYLOCK) {
      backoffs += op_trylock(sh, first, second, arg, &rng);
      atomic_store_explicit(&me->backoffs, backoffs, memory_order_relaxed);
    } else {
      op_blocking(sh, me, first, second, arg->hold_iters);
    }
    atomic_store_explicit(&me->ops, ++ops, memory_order_relaxed);
  }
  return NULL;
}

/* The child process: starts the two threads (pinned to the case's PUs),
 * opens the go flag and waits for them; exits 0, or 1 after a spawn error
 * (recorded in child_error). Dies with the parent. Never returns. */
static _Noreturn void child_main(struct shared *sh, const struct sm_case *c,
                                 enum mode mode, uint64_t hold_iters,
                                 pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(1);
  struct thread_arg args[2];
  struct sm_join_handle *handles[2];
  unsigned started = 0;
  int rc = 0;
  while (started < 2 && rc == 0) {
    args[started] = (struct thread_arg){
        .sh = sh,
        .mode = mode,
        .index = started,
        .hold_iters = hold_iters,
        .backoff_unit_ns = (uint64_t)c->param[AXIS_HOLD_NS] + BACKOFF_UNIT_NS};
    struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
    opts.name = started == 0 ? "deadlock-0" : "deadlock-1";
    opts.pin_pu = c->os_pus[started];
    rc =
        sm_thread_spawn(&opts, child_thread, &args[started], &handles[started]);
    if (rc == 0)
      started++;
  }
  if (rc != 0) {
    atomic_store_explicit(&sh->child_error, rc, memory_order_relaxed);
    atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
  }
  atomic_store_explicit(&sh->t_go_ns, sm_now_ns(), memory_order_relaxed);
  atomic_store_explicit(&sh->go, 1, memory_order_release);
  for (unsigned i = 0; i < started; i++)
    sm_join(handles[i], NULL);
  _exit(rc == 0 ? 0 : 1);
}

/* How a repetition ended. */
enum outcome {
  ENDED,      /* the window ran and the child exited after stop */
  DEADLOCKED, /* no progress for the watchdog time, both threads waiting */
  STALLED,    /* no progress, but not the two-lock cycle */
  DIED        /* the child exited before stop, or not with status 0 */
};

/* What the parent observed of one repetition. */
struct watch {
  uint64_t watchdog_ns, poll_ns;
  uint64_t t_go, t0, t1; /* go, window start and end (sm_now_ns) */
  uint64_t ops0, ops1;   /* total ops at t0 and t1 */
  uint64_t backoffs0, backoffs1;
  uint64_t last_change; /* when the total last moved (poll time) */
  uint64_t ops_last;    /* the total then */
  int waiting[2];       /* waiting flags when the watchdog fired */
  int status;           /* the child's wait status */
  enum outcome outcome;
};

/* Returns the operations (or back-offs, when `backoffs`) both threads
 * published. */
static uint64_t total_of(struct shared *sh, int backoffs) {
  uint64_t sum = 0;
  for (int i = 0; i < 2; i++)
    sum += atomic_load_explicit(backoffs ? &sh->thread[i].backoffs
                                         : &sh->thread[i].ops,
                                memory_order_relaxed);
  return sum;
}

/* Phases of the parent's watch. */
enum phase { WAIT_GO, WARMUP, MEASURE, STOPPED };

/* Advances the window at time `now`: starts it warmup_ns after go, ends
 * it duration_ns later by setting stop. Returns the new phase. */
static enum phase advance(const struct sm_measure_config *cfg,
                          struct shared *sh, struct watch *w, enum phase ph,
                          uint64_t now) {
  if (ph == WAIT_GO && atomic_load_explicit(&sh->go, memory_order_acquire)) {
    w->t_go = atomic_load_explicit(&sh->t_go_ns, memory_order_relaxed);
    w->last_change = now;
    return WARMUP;
  }
  if (ph == WARMUP && now >= w->t_go + cfg->warmup_ns) {
    w->t0 = now;
    w->ops0 = total_of(sh, 0);
    w->backoffs0 = total_of(sh, 1);
    return MEASURE;
  }
  if (ph == MEASURE && now >= w->t0 + cfg->duration_ns) {
    w->t1 = now;
    w->ops1 = total_of(sh, 0);
    w->backoffs1 = total_of(sh, 1);
    atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
    return STOPPED;
  }
  return ph;
}

/* Kills the child and reaps it; records its status. Never fails. */
static void kill_child(pid_t pid, struct watch *w) {
  kill(pid, SIGKILL);
  while (waitpid(pid, &w->status, 0) < 0 && errno == EINTR)
    ;
}

/* Returns the verdict on a child that has made no progress for `idle_ns`:
 * DEADLOCKED once the watchdog time has passed with both threads holding
 * their first lock and waiting for their second (the cycle cannot undo
 * itself); STALLED after STALL_FACTOR watchdog times of any other stall (a
 * lock holder preempted that long, a livelock); else ENDED (keep going).
 * Records the waiting flags it read. */
static enum outcome stall_verdict(struct shared *sh, struct watch *w,
                                  uint64_t idle_ns) {
  if (idle_ns < w->watchdog_ns)
    return ENDED;
  for (int i = 0; i < 2; i++)
    w->waiting[i] =
        atomic_load_explicit(&sh->thread[i].waiting, memory_order_relaxed);
  if (w->waiting[0] && w->waiting[1])
    return DEADLOCKED;
  return idle_ns >= STALL_FACTOR * w->watchdog_ns ? STALLED : ENDED;
}

/* Watches the child until it exits or stalls (see stall_verdict), driving
 * the window meanwhile; a stalled child is killed. The child is reaped on
 * every path; w->outcome says how it ended. */
static void watch_child(const struct sm_measure_config *cfg, struct shared *sh,
                        pid_t pid, struct watch *w) {
  enum phase ph = WAIT_GO;
  w->last_change = sm_now_ns();
  for (;;) {
    sm_sleep_until_ns(sm_now_ns() + w->poll_ns);
    uint64_t now = sm_now_ns(), total = total_of(sh, 0);
    if (total != w->ops_last) {
      w->ops_last = total;
      w->last_change = now;
    }
    if (waitpid(pid, &w->status, WNOHANG) == pid) {
      int clean = WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0;
      w->outcome = ph == STOPPED && clean ? ENDED : DIED;
      return;
    }
    ph = advance(cfg, sh, w, ph, now);
    w->outcome = stall_verdict(sh, w, now - w->last_change);
    if (w->outcome != ENDED)
      break;
  }
  kill_child(pid, w);
}

/* The watchdog time: max(4 x duration, 100 ms); hold_ns is at most 1 ms,
 * so an operation always takes far less. A repetition therefore lasts at
 * most warmup + duration + STALL_FACTOR x this (plus one poll). */
static uint64_t watchdog_ns_for(const struct sm_measure_config *cfg) {
  uint64_t t = 4 * cfg->duration_ns;
  return t > 100000000u ? t : 100000000u;
}

/* The poll period of the watch: duration / 50, within 100 us .. 1 ms. */
static uint64_t poll_ns_for(const struct sm_measure_config *cfg) {
  uint64_t p = cfg->duration_ns / 50;
  return p < 100000u ? 100000u : (p > 1000000u ? 1000000u : p);
}

/* Self-check: both protected values equal the operations the threads
 * published (a killed child's values count its completed operations too).
 * A run may complete no operation at all: on a loaded machine a preempted
 * thread can miss a whole short window, and 0 ops/s is then what happened;
 * a child that never progresses is caught by the watchdog instead. Returns
 * 0 or -EPROTO with msg. */
static int check_values(struct shared *sh, char *msg, size_t msg_size) {
  uint64_t a = atomic_load_explicit(&sh->a.value, memory_order_relaxed);
  uint64_t b = atomic_load_explicit(&sh->b.value, memory_order_relaxed);
  uint64_t ops = total_of(sh, 0);
  if (a != ops || b != ops) {
    snprintf(msg, msg_size,
             "values protected by the locks are %llu and %llu but the "
             "threads counted %llu operations",
             (unsigned long long)a, (unsigned long long)b,
             (unsigned long long)ops);
    return -EPROTO;
  }
  return 0;
}

/* Turns an outcome other than ENDED or a DEADLOCKED unordered run into the
 * error it is. Returns 0 when the outcome is a result. */
static int outcome_error(enum mode mode, struct shared *sh,
                         const struct watch *w, char *msg, size_t msg_size) {
  double ms = (double)w->watchdog_ns / 1e6;
  int child_error =
      atomic_load_explicit(&sh->child_error, memory_order_relaxed);
  switch (w->outcome) {
  case ENDED:
    return 0;
  case DEADLOCKED:
    if (mode == MODE_UNORDERED)
      return 0;
    snprintf(msg, msg_size,
             "both threads stuck holding one lock for %.0f ms although "
             "this variant cannot deadlock",
             ms);
    return -EPROTO;
  case STALLED:
    snprintf(msg, msg_size,
             "no progress for %.0f ms after %llu operations (waiting flags "
             "%d %d): killed",
             ms * STALL_FACTOR, (unsigned long long)w->ops_last, w->waiting[0],
             w->waiting[1]);
    return -ETIMEDOUT;
  default:
    snprintf(msg, msg_size,
             "the child process ended early or failed (wait status 0x%x)%s%s",
             (unsigned)w->status, child_error ? ": " : "",
             child_error ? strerror(-child_error) : "");
    return child_error ? child_error : -ECHILD;
  }
}

/* Adds the metrics of one repetition: deadlocked (0 or 1) always; then
 * either the time and operations before the deadlock, or the window's
 * throughput (and, for trylock, back-offs per operation when the window
 * saw an operation). */
static int emit(enum mode mode, const struct watch *w, struct sm_sink *sink) {
  int dead = w->outcome == DEADLOCKED;
  int rc = sm_sink_metric(sink, "deadlocked", "0/1", dead);
  if (rc == 0 && dead) {
    uint64_t at = w->last_change > w->t_go ? w->last_change - w->t_go : 0;
    rc = sm_sink_metric(sink, "time_to_deadlock_ms", "ms", (double)at / 1e6);
    if (rc == 0)
      rc = sm_sink_metric(sink, "ops_before_deadlock", "ops",
                          (double)w->ops_last);
    return rc;
  }
  double ops = (double)(w->ops1 - w->ops0);
  if (rc == 0)
    rc = sm_sink_metric(sink, "ops_per_s", "ops/s",
                        ops / ((double)(w->t1 - w->t0) / 1e9));
  if (rc == 0 && mode == MODE_TRYLOCK && ops > 0)
    rc = sm_sink_metric(sink, "backoffs_per_op", "backoffs/op",
                        (double)(w->backoffs1 - w->backoffs0) / ops);
  return rc;
}

/* Creates the zeroed shared memory of one repetition, or returns NULL. */
static struct shared *shared_create(void) {
  void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  struct shared *sh = p; /* zero-filled: every counter and flag is 0 */
  atomic_init(&sh->a.lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&sh->b.lock.state, SM_MUTEX_UNLOCKED);
  return sh;
}

/* Runs one repetition: forks the child with the two threads, watches it,
 * checks and reports. No child outlives the call. */
static int deadlock_measure(const struct sm_measure_config *cfg,
                            const struct sm_case *c, struct sm_sink *sink,
                            char *msg, size_t msg_size) {
  enum mode mode = (enum mode)(c->variant - c->family->variants);
  uint64_t hold_iters = hold_iterations_for(c->param[AXIS_HOLD_NS]);
  struct shared *sh = shared_create();
  if (!sh) {
    snprintf(msg, msg_size, "mmap of the shared state failed: %s",
             strerror(errno));
    return -ENOMEM;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0)
    child_main(sh, c, mode, hold_iters, parent);
  int rc = 0;
  if (pid < 0) {
    rc = -errno;
    snprintf(msg, msg_size, "fork failed: %s", strerror(errno));
  } else {
    struct watch w = {.watchdog_ns = watchdog_ns_for(cfg),
                      .poll_ns = poll_ns_for(cfg)};
    watch_child(cfg, sh, pid, &w);
    rc = outcome_error(mode, sh, &w, msg, msg_size);
    if (rc == 0)
      rc = check_values(sh, msg, msg_size);
    if (rc == 0)
      rc = emit(mode, &w, sink);
  }
  munmap(sh, sizeof *sh);
  return rc;
}

static const struct sm_variant variants[] = {
    [MODE_UNORDERED] =
        SM_VARIANT("unordered",
                   "two threads take two locks in opposite orders "
                   "(may deadlock)",
                   NULL),
    [MODE_ORDERED] =
        SM_VARIANT("ordered", "both threads take the locks in one order", NULL),
    [MODE_TRYLOCK] =
        SM_VARIANT("trylock_backoff",
                   "opposite orders; the second lock by trylock, "
                   "releasing the first and backing off on failure",
                   NULL),
};

static const long hold_values[] = {0, 1000, 100000};
static const long hold_quick[] = {0};

static const struct sm_axis axes[] = {
    [AXIS_HOLD_NS] = {"hold_ns", hold_values, 3, hold_quick, 1, 0, 1000000},
};

const struct sm_family sm_family_deadlock = {
    .name = "deadlock",
    .summary = "two threads, two locks: opposite orders (watchdog), one "
               "order, trylock with back-off",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = deadlock_measure,
    .shape = SM_SHAPE_PAIR,
    .headline_metric = "deadlocked",
};
