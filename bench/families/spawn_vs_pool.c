/* spawn_vs_pool.c: the `spawn_vs_pool` family: batches of tasks run by a
 * thread per task, by the lesson's shared-queue pool and by the fast pool,
 * and by Rust std's thread::spawn and the lesson's own Rust ThreadPool
 * (claims C9 and C15). */

/* One role, the submitter (pinned to the case's first PU), runs under the
 * runner; the pool (c->threads workers pinned to the next PUs) is built by
 * setup. A pass of the submitter is one batch: it submits the batch back to
 * back (a pool submit, or a spawn as the lesson's thread-per-task code
 * does) and waits for all of it (sm_pool_wait, or a join of every thread);
 * the submit and the wait are its manual time. Every task bumps one shared
 * count; a sampled subset of them (spaced by the runner so that stamping
 * costs under its budget) also stamps when it started and ended, and the
 * submitter hands start and done latencies from its submit to the runner.
 *
 * thread_per_task has no pool: its threads are unpinned (as std::thread::
 * spawn makes them) and it runs at every pool size as a reference, so its
 * rows at the different thread counts measure the same thing. The rust_*
 * variants are the same strategies in Rust (bench/peers/rust_std.rs): the
 * tasks, the sampling and the self-check are the C variants'. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "spawn_vs_pool_batch.h"
#include "syncmark/clock.h"
#include "syncmark/pool.h"
#include "syncmark/procstat.h"
#include "syncmark/thread.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SPIN_NS, AXIS_SLEEP_NS };

/* The strategies, in the order of variants[]. */
enum strategy {
  THREAD_PER_TASK,
  SHARED_QUEUE,
  FAST,
  RUST_THREAD_PER_TASK,
  RUST_LESSON_POOL
};

enum {
  /* Most sampled tasks of one batch (the runner's spacing gives far fewer
   * for a large batch of short tasks, all of a small batch of long ones). */
  STAMP_CAP = 2048,
  /* Stack of every thread that runs tasks: Rust's thread::spawn default. */
  TASK_STACK = 2 << 20
};

/* Everything one window uses, shared by the submitter and the tasks. */
struct svp_state {
  enum strategy strategy;
  uint64_t spin_iterations, sleep_ns; /* what every task does */
  size_t batch;
  struct sm_pool *pool; /* the C pools */
  struct sm_rust_lesson_pool *rust_pool;
  struct sm_join_handle **handles; /* thread_per_task: batch entries */
  struct sm_rust_join_handle **rust_handles; /* rust_thread_per_task */
  struct stamped *stamps;                    /* STAMP_CAP sampled tasks */
  SM_CACHE_ALIGNED atomic_ulong done;        /* tasks that ran, all phases */
  SM_CACHE_ALIGNED uint64_t submitted;       /* written by the submitter only */
  long rss_start_kib;                        /* -1: peak RSS not reset */
};

/* A sampled task's record: written by the submitter (submit_ns) before the
 * submit and by the task after it; read by the submitter after the wait. */
struct stamped {
  SM_CACHE_ALIGNED struct svp_state *state;
  uint64_t submit_ns, start_ns, done_ns;
};

/* The work of every task: spin, then sleep, then count. */
static void task_body(struct svp_state *s) {
  SM_KEEP(sm_work_spin(s->spin_iterations));
  if (s->sleep_ns != 0)
    (void)sm_sleep_for_ns(s->sleep_ns);
  atomic_fetch_add_explicit(&s->done, 1, memory_order_relaxed);
}

/* A task (sm_task_fn). Returns 0: it cannot fail. */
static int run_task(void *arg) {
  task_body(arg);
  return 0;
}

/* A sampled task: the same work between two stamps. Returns 0. */
static int run_stamped(void *arg) {
  struct stamped *t = arg;
  t->start_ns = sm_sample_clock();
  task_body(t->state);
  t->done_ns = sm_sample_clock();
  return 0;
}

/* Thread bodies of thread_per_task. Return NULL. */
static void *task_thread(void *arg) {
  (void)run_task(arg);
  return NULL;
}
static void *stamped_thread(void *arg) {
  (void)run_stamped(arg);
  return NULL;
}

/* Starts task i of the batch with its strategy: a submit to the pool or a
 * spawn; with stamp record t when it is sampled (NULL: not). Returns 0 or
 * the refusal's errno. */
static int start_task(struct svp_state *s, size_t i, struct stamped *t) {
  int stamped = t != NULL;
  if (stamped)
    t->submit_ns = sm_sample_clock();
  sm_task_fn fn = stamped ? run_stamped : run_task;
  void *arg = stamped ? (void *)t : (void *)s;
  switch (s->strategy) {
  case THREAD_PER_TASK: {
    struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
    opts.stack_size = TASK_STACK;
    return stamped ? sm_thread_spawn(&opts, stamped_thread, t, &s->handles[i])
                   : sm_thread_spawn(&opts, task_thread, s, &s->handles[i]);
  }
  case RUST_THREAD_PER_TASK:
    s->rust_handles[i] = sm_rust_spawn(fn, arg, TASK_STACK);
    return s->rust_handles[i] ? 0 : -EAGAIN;
  case RUST_LESSON_POOL:
    return sm_rust_lesson_pool_execute(s->rust_pool, fn, arg) == 0 ? 0 : -EPIPE;
  case SHARED_QUEUE:
  case FAST:
    break;
  }
  return sm_pool_submit(s->pool, fn, arg);
}

/* Waits for the `started` tasks of a batch with the strategy's own wait:
 * a join of every thread, or the pool's wait. Never fails. */
static void wait_batch(struct svp_state *s, size_t started) {
  switch (s->strategy) {
  case THREAD_PER_TASK:
    for (size_t i = 0; i < started; i++)
      (void)sm_join(s->handles[i], NULL);
    return;
  case RUST_THREAD_PER_TASK:
    for (size_t i = 0; i < started; i++)
      (void)sm_rust_join(s->rust_handles[i]);
    return;
  case RUST_LESSON_POOL:
    sm_rust_lesson_pool_wait(s->rust_pool);
    return;
  case SHARED_QUEUE:
  case FAST:
    break;
  }
  (void)sm_pool_wait(s->pool);
}

/* Runs one batch: starts every task (with a stamp record when the runner
 * says task `first + i` is due for a sample and a record is left), then
 * waits for all of them. Returns how many were started (fewer than the
 * batch: the OS refused one) and sets *nstamped. */
static size_t run_batch(struct sm_worker *w, struct svp_state *s,
                        uint64_t first, size_t *nstamped) {
  size_t started = 0, k = 0;
  for (; started < s->batch; started++) {
    struct stamped *t = NULL;
    if (sm_sample_due(w, first + started) && k < STAMP_CAP)
      t = &s->stamps[k++];
    if (start_task(s, started, t) != 0)
      break;
  }
  *nstamped = k;
  wait_batch(s, started);
  s->submitted += started;
  return started;
}

/* The submitter: one batch per pass, its submit and wait timed manually,
 * then (untimed) the sampled tasks' latencies handed to the runner. A
 * refused task ends the submitting (the check reports it). */
static void submitter(struct sm_worker *w) {
  struct svp_state *s = w->state;
  uint64_t passes = 0;
  int refused = 0;
  w->ops_per_pass = s->batch;
  SM_MEASURED_LOOP(w, passes) {
    if (refused)
      continue;
    size_t nstamped;
    uint64_t t = sm_manual_start(w);
    size_t started = run_batch(w, s, passes * s->batch, &nstamped);
    sm_manual_stop(w, t, started);
    refused = started < s->batch;
    for (size_t i = 0; i < nstamped; i++) {
      const struct stamped *st = &s->stamps[i];
      sm_worker_sample_kind(w, 0, (double)(st->start_ns - st->submit_ns));
      sm_worker_sample_kind(w, 1, (double)(st->done_ns - st->submit_ns));
    }
  }
  w->family_count = (uint64_t)refused;
}

/* Returns whether strategy `st` starts a thread per task. */
static int spawns_threads(enum strategy st) {
  return st == THREAD_PER_TASK || st == RUST_THREAD_PER_TASK;
}

/* Returns the batch size of a case (spawn_vs_pool_batch.h): its tasks'
 * spin and sleep on c->threads PUs. */
static size_t batch_size(const struct sm_case *c) {
  enum strategy st = (enum strategy)(c->variant - c->family->variants);
  uint64_t cost =
      (uint64_t)c->param[AXIS_SPIN_NS] + (uint64_t)c->param[AXIS_SLEEP_NS];
  return sm_svp_batch_tasks(cost, spawns_threads(st), c->threads);
}

/* Resets the process's peak RSS (VmHWM) to its current RSS by writing "5"
 * to /proc/self/clear_refs. Returns 0, or a negative errno when the kernel
 * does not allow it. */
static int reset_peak_rss(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = write(fd, "5", 1) == 1 ? 0 : -errno;
  close(fd);
  return rc;
}

static void svp_teardown(void *state);

/* Creates the window's state: the batch buffers and, for the pools, the
 * pool of c->threads workers pinned to c->os_pus[1..]. Returns 0, -ENOMEM,
 * -EINVAL for a pool beyond SM_POOL_MAX_WORKERS, or sm_pool_create's
 * error. */
static int svp_setup(const struct sm_case *c, void **state) {
  struct svp_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  s->strategy = (enum strategy)(c->variant - c->family->variants);
  int c_pool = s->strategy == SHARED_QUEUE || s->strategy == FAST;
  if (c_pool && c->threads > SM_POOL_MAX_WORKERS) {
    free(s);
    return -EINVAL;
  }
  s->batch = batch_size(c);
  s->spin_iterations =
      sm_work_iterations_for_ns((uint64_t)c->param[AXIS_SPIN_NS]);
  s->sleep_ns = (uint64_t)c->param[AXIS_SLEEP_NS];
  s->handles = calloc(s->batch, sizeof *s->handles);
  s->rust_handles = calloc(s->batch, sizeof *s->rust_handles);
  s->stamps = aligned_alloc(SM_CACHE_LINE, sizeof *s->stamps * STAMP_CAP);
  if (!s->handles || !s->rust_handles || !s->stamps) {
    svp_teardown(s);
    return -ENOMEM;
  }
  for (size_t i = 0; i < STAMP_CAP; i++)
    s->stamps[i] = (struct stamped){.state = s};
  uint64_t rss;
  s->rss_start_kib = sm_procstat_kib("/proc/self/status", "VmRSS", &rss) == 0 &&
                             reset_peak_rss() == 0
                         ? (long)rss
                         : -1;
  if (s->strategy == RUST_LESSON_POOL) {
    s->rust_pool =
        sm_rust_lesson_pool_new(c->threads, c->os_pus + 1, TASK_STACK);
    if (!s->rust_pool) {
      svp_teardown(s);
      return -EAGAIN;
    }
  }
  if (c_pool) {
    struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
    opts.workers = c->threads;
    opts.design = s->strategy == FAST ? SM_POOL_FAST : SM_POOL_SHARED_QUEUE;
    opts.name = "svp";
    opts.pin_pus = c->os_pus + 1;
    opts.stack_size = TASK_STACK;
    int rc = sm_pool_create(&opts, &s->pool);
    if (rc != 0) {
      svp_teardown(s);
      return rc;
    }
  }
  *state = s;
  return 0;
}

/* Self-check: the OS started every task (a refusal is named), every task
 * started ran exactly once (the shared count equals the submissions), and
 * the pool's own counters agree. Returns 0 or -EPROTO (msg set). */
static int svp_check(const struct sm_case *c SM_UNUSED, void *state,
                     const struct sm_worker *workers, char *msg, size_t size) {
  struct svp_state *s = state;
  unsigned long done = atomic_load_explicit(&s->done, memory_order_acquire);
  if (workers[0].family_count != 0)
    return sm_kit_check_failed(
        msg, size,
        "the OS refused a task's %s after %llu tasks (RLIMIT_NPROC, "
        "threads-max or memory)",
        spawns_threads(s->strategy) ? "thread" : "submit",
        (unsigned long long)s->submitted);
  if (done != s->submitted)
    return sm_kit_check_failed(msg, size, "%lu tasks ran, %llu were submitted",
                               done, (unsigned long long)s->submitted);
  if (!s->pool)
    return 0;
  struct sm_pool_stats st;
  sm_pool_stats(s->pool, &st);
  if (st.submitted == s->submitted && st.completed == s->submitted &&
      st.failed == 0)
    return 0;
  snprintf(msg, size,
           "pool counted %llu submitted, %llu completed, %llu failed; %llu "
           "were submitted",
           (unsigned long long)st.submitted, (unsigned long long)st.completed,
           (unsigned long long)st.failed, (unsigned long long)s->submitted);
  return -EPROTO;
}

/* Context switches of the process between two rusage snapshots: voluntary
 * when `voluntary`, else involuntary. */
static double switches(const struct rusage *a, const struct rusage *b,
                       int voluntary) {
  return voluntary ? (double)(b->ru_nvcsw - a->ru_nvcsw)
                   : (double)(b->ru_nivcsw - a->ru_nivcsw);
}

/* The family's metrics of a checked window: tasks/s (the submitter's
 * manual rate), switches of the whole process per task over the measured
 * phase, the batch size, and the peak RSS since setup. Returns 0 or the
 * sink's error. */
static int svp_metrics(const struct sm_case *c SM_UNUSED, void *state,
                       const struct sm_worker *workers, unsigned n SM_UNUSED,
                       struct sm_sink *sink, char *msg SM_UNUSED,
                       size_t size SM_UNUSED) {
  struct svp_state *s = state;
  const struct sm_worker *w = &workers[0];
  double tasks = (double)w->manual_ops;
  /* No batch completed inside the window (a batch longer than it): the
   * rate is undefined, not 0. */
  int rc =
      sm_sink_metric(sink, "tasks_per_s", "tasks/s",
                     w->manual_ns ? tasks * 1e9 / (double)w->manual_ns : NAN);
  rc = rc ? rc
          : sm_sink_metric(
                sink, "vcsw_per_task", "switches/task",
                switches(&w->process_at_measure, &w->process_at_stop, 1) /
                    tasks);
  rc = rc ? rc
          : sm_sink_metric(
                sink, "ivcsw_per_task", "switches/task",
                switches(&w->process_at_measure, &w->process_at_stop, 0) /
                    tasks);
  rc = rc ? rc : sm_sink_metric(sink, "batch_tasks", "tasks", (double)s->batch);
  uint64_t peak;
  if (rc == 0 && s->rss_start_kib >= 0 &&
      sm_procstat_kib("/proc/self/status", "VmHWM", &peak) == 0) {
    rc = sm_sink_metric(sink, "rss_peak_kib", "KiB", (double)peak);
    rc = rc ? rc
            : sm_sink_metric(sink, "rss_added_kib", "KiB",
                             (double)peak - (double)s->rss_start_kib);
  }
  return rc;
}

/* Shuts the pool down (every task queued completes first) and frees the
 * state. Never fails. */
static void svp_teardown(void *state) {
  struct svp_state *s = state;
  if (s->pool)
    (void)sm_pool_shutdown(s->pool);
  sm_rust_lesson_pool_free(s->rust_pool);
  free(s->handles);
  free(s->rust_handles);
  free(s->stamps);
  free(s);
}

/* The submitter role: one thread, its batches are the case's tasks; it
 * samples each task's start and done latency from its submit. */
static const struct sm_role roles[] = {
    SM_ROLE_COUNTING_SAMPLED("submitter", submitter, 1, "start", "done")};

static const struct sm_variant variants[] = {
    [THREAD_PER_TASK] = SM_KIT_ROLES_VARIANT(
        "thread_per_task",
        "spawn a thread per task, join them all (unpinned; "
        "ignores the pool size)",
        roles),
    [SHARED_QUEUE] = SM_KIT_ROLES_VARIANT(
        "shared_queue",
        "the lesson's pool: one channel receiver behind a mutex", roles),
    [FAST] = SM_KIT_ROLES_VARIANT(
        "fast", "per-submitter lanes, stealable batches, parking", roles),
    [RUST_THREAD_PER_TASK] = SM_KIT_ROLES_VARIANT(
        "rust_thread_per_task",
        "Rust std::thread::Builder::spawn per task, join them all "
        "(unpinned; ignores the pool size)",
        roles),
    [RUST_LESSON_POOL] =
        SM_KIT_ROLES_VARIANT("rust_lesson_pool",
                             "the lesson's Rust ThreadPool as written: "
                             "Arc<Mutex<Receiver<Box<dyn FnOnce>>>>",
                             roles),
};

static const long spin_values[] = {0, 1000, 10000, 100000};
static const long spin_quick[] = {0, 10000, 100000};
static const long sleep_values[] = {0, 1000000};

static const struct sm_axis axes[] = {
    [AXIS_SPIN_NS] = SM_AXIS("spin_ns", spin_values, spin_quick, 0, 10000000),
    [AXIS_SLEEP_NS] =
        SM_AXIS("sleep_ns", sleep_values, sleep_values, 0, 100000000),
};

static const unsigned pu_multiples[] = {1, 2, 4};

/* The metrics svp_metrics adds (the latencies are the runner's). */
static const struct sm_metric_decl metric_decls[] = {
    {"tasks_per_s", "tasks/s", SM_HIGHER_IS_BETTER,
     "tasks completed per second of the submitter's manual time"},
    {"vcsw_per_task", "switches/task", SM_NO_DIRECTION,
     "voluntary switches of the whole process per task"},
    {"ivcsw_per_task", "switches/task", SM_NO_DIRECTION,
     "involuntary switches of the whole process per task"},
    {"batch_tasks", "tasks", SM_NO_DIRECTION,
     "tasks per batch (one pass of the submitter)"},
    {"rss_peak_kib", "KiB", SM_LOWER_IS_BETTER,
     "peak resident memory of the window"},
    {"rss_added_kib", "KiB", SM_LOWER_IS_BETTER,
     "peak resident memory minus that at the start"},
};

SM_FAMILY_DEFINE(spawn_vs_pool, svp,
                 "batches of tasks: thread per task vs the lesson's pool vs "
                 "the fast pool",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(svp_metrics, metric_decls),
                 .applies = sm_rust_std_applies, .extra_threads = 1,
                 SM_FAMILY_PU_MULTIPLES(pu_multiples),
                 .headline_metric = "tasks_per_s");
