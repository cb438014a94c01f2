/* spawn_vs_pool.c: the `spawn_vs_pool` family: one batch of tasks run by a
 * thread per task, by the lesson's shared-queue pool and by the fast pool
 * (claims C9 and C15). */

/* A repetition builds the strategy (a pool of c->threads workers pinned as
 * the case says, or nothing for thread_per_task), warms up, then runs
 * rounds until duration_ns has passed: in a round the measuring thread
 * submits the batch back to back (a pool submit, or a spawn as the lesson's
 * thread-per-task code does) and waits for all of it (sm_pool_wait, or a
 * join of every thread). Every task stamps when it started and finished;
 * latencies are from the moment just before its submit or spawn. The batch
 * size depends on the task and the machine only, never on the strategy or
 * pool size, so every strategy runs the same bursts.
 *
 * thread_per_task has no pool: its threads are unpinned (as std::thread::
 * spawn makes them) and it runs at every pool size as a reference, so
 * its rows at the different thread counts measure the same thing. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/pool.h"
#include "syncmark/stats.h"
#include "syncmark/thread.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SPIN_NS, AXIS_SLEEP_NS };

/* The strategies, in the order of variants[]. */
enum strategy { THREAD_PER_TASK, SHARED_QUEUE, FAST };

enum {
  /* The cost a task is assumed to have at least when sizing the batch: a
   * generous thread spawn and join on a busy VM (measured 300 us at load
   * 4 on 2 vCPUs), so a thread-per-task round of tiny tasks lasts at most
   * about as long as the repetition. */
  TASK_COST_FLOOR_NS = 500000,
  BATCH_MIN = 32,
  BATCH_MAX = 16384,
  /* Most latency samples one repetition keeps; rounds stop before more. */
  SAMPLE_CAP = 1 << 18,
  /* Stack of every thread that runs tasks: Rust's thread::spawn default. */
  TASK_STACK = 2 << 20
};

/* What every task of a case does: spin, then sleep. */
struct task_work {
  uint64_t spin_iterations;
  uint64_t sleep_ns;
};

/* One task of the batch, alone on its cache line(s). submit_ns is written
 * by the measuring thread before the submit; start_ns and done_ns by the
 * task, published by its release increment of runs. */
struct task {
  SM_CACHE_ALIGNED uint64_t submit_ns;
  uint64_t start_ns, done_ns;
  const struct task_work *work;
  atomic_uint runs;
};

/* Everything one repetition uses. */
struct rep {
  enum strategy strategy;
  struct task *tasks; /* batch entries */
  size_t batch;
  struct sm_join_handle **handles; /* thread_per_task: batch entries */
  struct sm_pool *pool;            /* the pools: the pool */
  double *start_lat, *done_lat;    /* SAMPLE_CAP entries each */
  size_t nsamples;
  uint64_t submitted; /* tasks submitted, warmup included */
  uint64_t busy_ns;   /* length of the measured rounds */
  uint64_t measured;  /* tasks of the measured rounds */
};

/* The task: spins, sleeps, stamps its start and end and counts its run.
 * Returns 0 (it cannot fail). */
static int run_task(void *arg) {
  struct task *t = arg;
  t->start_ns = sm_now_ns();
  SM_KEEP(sm_work_spin(t->work->spin_iterations));
  if (t->work->sleep_ns != 0)
    (void)sm_sleep_until_ns(sm_now_ns() + t->work->sleep_ns);
  t->done_ns = sm_now_ns();
  atomic_fetch_add_explicit(&t->runs, 1, memory_order_release);
  return 0;
}

/* Thread body of thread_per_task: runs one task. Returns NULL. */
static void *task_thread(void *arg) {
  (void)run_task(arg);
  return NULL;
}

/* Returns the sm_work_spin steps for `spin_ns`, calibrating each distinct
 * length once per process (on the measuring thread, outside any round). */
static uint64_t spin_iterations_for(long spin_ns) {
  static long cached_ns[8];
  static uint64_t cached_iterations[8];
  static size_t ncached;
  for (size_t i = 0; i < ncached; i++)
    if (cached_ns[i] == spin_ns)
      return cached_iterations[i];
  uint64_t iterations = sm_work_calibrate((uint64_t)spin_ns);
  if (ncached < 8) {
    cached_ns[ncached] = spin_ns;
    cached_iterations[ncached++] = iterations;
  }
  return iterations;
}

/* Returns the batch size for a case: the tasks `pus` PUs would finish in
 * duration_ns if each cost its spin and sleep (at least
 * TASK_COST_FLOOR_NS), within BATCH_MIN .. BATCH_MAX. */
static size_t batch_size(const struct sm_measure_config *cfg,
                         const struct sm_case *c) {
  struct sm_topology_counts counts;
  sm_topology_counts(cfg->topo, &counts);
  uint64_t cost =
      (uint64_t)c->param[AXIS_SPIN_NS] + (uint64_t)c->param[AXIS_SLEEP_NS];
  if (cost < TASK_COST_FLOOR_NS)
    cost = TASK_COST_FLOOR_NS;
  uint64_t pus = counts.allowed_pus ? counts.allowed_pus : 1;
  uint64_t n = cfg->duration_ns / cost * pus;
  if (n < BATCH_MIN)
    return BATCH_MIN;
  return n > BATCH_MAX ? BATCH_MAX : (size_t)n;
}

/* Reads the "<key>: N kB" line of /proc/self/status into *kib. Returns 0,
 * or -ENOENT when the file or the line is missing. */
static int read_status_kib(const char *key, long *kib) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -ENOENT;
  char line[256];
  size_t len = strlen(key);
  int rc = -ENOENT;
  while (rc != 0 && fgets(line, sizeof line, f))
    if (strncmp(line, key, len) == 0 && line[len] == ':' &&
        /* NOLINTNEXTLINE(cert-err34-c): kernel-written kB counts fit */
        sscanf(line + len + 1, "%ld", kib) == 1)
      rc = 0;
  fclose(f);
  return rc;
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

/* Submits the batch to the pool and waits for it. Returns 0, or the
 * error of a refused submit (the submitted tasks are waited for). */
static int pool_round(struct rep *r, char *msg, size_t size) {
  int rc = 0;
  for (size_t i = 0; i < r->batch && rc == 0; i++) {
    r->tasks[i].submit_ns = sm_now_ns();
    rc = sm_pool_submit(r->pool, run_task, &r->tasks[i]);
    if (rc == 0)
      r->submitted++;
    else
      snprintf(msg, size, "submit of task %zu refused: %s", i, strerror(-rc));
  }
  int wait_rc = sm_pool_wait(r->pool);
  return rc ? rc : wait_rc;
}

/* Spawns one thread per task of the batch, then joins them all (the
 * lesson's thread-per-task code). Returns 0, or SM_MEASURE_SKIP when the
 * OS refuses a thread (those spawned are joined). */
static int spawn_round(struct rep *r, char *msg, size_t size) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = TASK_STACK;
  size_t spawned = 0;
  int rc = 0;
  for (; spawned < r->batch; spawned++) {
    struct task *t = &r->tasks[spawned];
    t->submit_ns = sm_now_ns();
    rc = sm_thread_spawn(&opts, task_thread, t, &r->handles[spawned]);
    if (rc != 0)
      break;
    r->submitted++;
  }
  for (size_t i = 0; i < spawned; i++)
    (void)sm_join(r->handles[i], NULL);
  if (rc == 0)
    return 0;
  snprintf(msg, size, "the OS refused thread %zu of %zu: %s", spawned + 1,
           r->batch, strerror(-rc));
  return rc == -EAGAIN ? SM_MEASURE_SKIP : rc;
}

/* Self-check of one round: every task ran exactly once and started after
 * its submit and ended after its start. Returns 0 or -EPROTO with the
 * first bad task in msg. */
static int check_round(const struct rep *r, char *msg, size_t size) {
  for (size_t i = 0; i < r->batch; i++) {
    const struct task *t = &r->tasks[i];
    unsigned runs = atomic_load_explicit(&t->runs, memory_order_acquire);
    if (runs != 1 || t->start_ns < t->submit_ns || t->done_ns < t->start_ns) {
      snprintf(msg, size,
               "task %zu of %zu ran %u times (submit %llu, start %llu, "
               "done %llu ns)",
               i, r->batch, runs, (unsigned long long)t->submit_ns,
               (unsigned long long)t->start_ns, (unsigned long long)t->done_ns);
      return -EPROTO;
    }
  }
  return 0;
}

/* Runs one round of the batch with the repetition's strategy and checks
 * it; when `keep` is set, adds its length and latencies to the
 * repetition. Returns 0, SM_MEASURE_SKIP or a negative errno (msg set). */
static int round_of(struct rep *r, int keep, char *msg, size_t size) {
  for (size_t i = 0; i < r->batch; i++)
    atomic_store_explicit(&r->tasks[i].runs, 0, memory_order_relaxed);
  uint64_t t0 = sm_now_ns();
  int rc = r->strategy == THREAD_PER_TASK ? spawn_round(r, msg, size)
                                          : pool_round(r, msg, size);
  uint64_t t1 = sm_now_ns();
  if (rc == 0)
    rc = check_round(r, msg, size);
  if (rc != 0 || !keep)
    return rc;
  r->busy_ns += t1 - t0;
  r->measured += r->batch;
  for (size_t i = 0; i < r->batch; i++, r->nsamples++) {
    const struct task *t = &r->tasks[i];
    r->start_lat[r->nsamples] = (double)(t->start_ns - t->submit_ns);
    r->done_lat[r->nsamples] = (double)(t->done_ns - t->submit_ns);
  }
  return 0;
}

/* Runs rounds until `ns` has passed (at least one when ns > 0) and, when
 * `keep`, until the samples would overflow. Returns as round_of. */
static int rounds_for(struct rep *r, uint64_t ns, int keep, char *msg,
                      size_t size) {
  uint64_t end = sm_now_ns() + ns;
  int rc = 0;
  if (ns == 0)
    return 0;
  do {
    rc = round_of(r, keep, msg, size);
  } while (rc == 0 && sm_now_ns() < end &&
           (!keep || r->nsamples + r->batch <= SAMPLE_CAP));
  return rc;
}

/* Allocates the repetition's buffers and touches them, so that they are
 * part of the RSS before the peak is reset. Returns 0 or -ENOMEM. */
static int rep_alloc(struct rep *r) {
  r->tasks = aligned_alloc(SM_CACHE_LINE, sizeof *r->tasks * r->batch);
  r->handles = calloc(r->batch, sizeof *r->handles);
  r->start_lat = malloc(sizeof(double) * SAMPLE_CAP);
  r->done_lat = malloc(sizeof(double) * SAMPLE_CAP);
  if (!r->tasks || !r->handles || !r->start_lat || !r->done_lat)
    return -ENOMEM;
  memset(r->tasks, 0, sizeof *r->tasks * r->batch);
  memset(r->start_lat, 0, sizeof(double) * SAMPLE_CAP);
  memset(r->done_lat, 0, sizeof(double) * SAMPLE_CAP);
  return 0;
}

/* Frees what rep_alloc allocated. Never fails. */
static void rep_free(struct rep *r) {
  free(r->tasks);
  free(r->handles);
  free(r->start_lat);
  free(r->done_lat);
}

/* Creates the pool of the case: c->threads workers of the variant's
 * design, pinned to c->os_pus. Returns 0 or the error of sm_pool_create
 * (msg set). */
static int make_pool(struct rep *r, const struct sm_case *c, char *msg,
                     size_t size) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.workers = c->threads;
  opts.design = r->strategy == FAST ? SM_POOL_FAST : SM_POOL_SHARED_QUEUE;
  opts.name = "svp";
  opts.pin_pus = c->os_pus;
  opts.stack_size = TASK_STACK;
  int rc = sm_pool_create(&opts, &r->pool);
  if (rc != 0)
    snprintf(msg, size, "could not create a pool of %u workers: %s", c->threads,
             strerror(-rc));
  return rc;
}

/* Shuts the pool down and checks its counters: every task submitted
 * completed, none failed. Returns 0 or -EPROTO (msg set). */
static int end_pool(struct rep *r, char *msg, size_t size) {
  struct sm_pool_stats st;
  sm_pool_stats(r->pool, &st);
  (void)sm_pool_shutdown(r->pool);
  r->pool = NULL;
  if (st.submitted == r->submitted && st.completed == r->submitted &&
      st.failed == 0)
    return 0;
  snprintf(msg, size,
           "pool counted %llu submitted, %llu completed, %llu failed; %llu "
           "were submitted",
           (unsigned long long)st.submitted, (unsigned long long)st.completed,
           (unsigned long long)st.failed, (unsigned long long)r->submitted);
  return -EPROTO;
}

/* Returns the context switches of the process between two rusage
 * snapshots: voluntary when `voluntary`, else involuntary. */
static double switches(const struct rusage *a, const struct rusage *b,
                       int voluntary) {
  return voluntary ? (double)(b->ru_nvcsw - a->ru_nvcsw)
                   : (double)(b->ru_nivcsw - a->ru_nivcsw);
}

/* Adds the p50, p99 and p99.9 of `lat` (sorted here) as <prefix>_p50_ns
 * etc. The names are literals, chosen by `done`. Returns 0 or the sink's
 * error. */
static int add_percentiles(struct sm_sink *sink, double *lat, size_t n,
                           int done) {
  static const char *const names[2][3] = {
      {"start_p50_ns", "start_p99_ns", "start_p999_ns"},
      {"done_p50_ns", "done_p99_ns", "done_p999_ns"}};
  static const double pct[3] = {50.0, 99.0, 99.9};
  sm_stats_sort(lat, n);
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = sm_sink_metric(sink, names[done][i], "ns",
                        sm_stats_percentile_sorted(lat, n, pct[i]));
  return rc;
}

/* Adds every metric of a measured repetition. rss_start < 0 means the peak
 * RSS could not be reset: the RSS metrics are then left out. Returns 0 or
 * the sink's error. */
static int add_metrics(struct sm_sink *sink, struct rep *r,
                       const struct rusage *u0, const struct rusage *u1,
                       long rss_start) {
  double tasks = (double)r->measured;
  int rc = sm_sink_metric(sink, "tasks_per_s", "tasks/s",
                          tasks * 1e9 / (double)r->busy_ns);
  rc = rc ? rc : add_percentiles(sink, r->start_lat, r->nsamples, 0);
  rc = rc ? rc : add_percentiles(sink, r->done_lat, r->nsamples, 1);
  rc = rc ? rc
          : sm_sink_metric(sink, "vcsw_per_task", "switches/task",
                           switches(u0, u1, 1) / tasks);
  rc = rc ? rc
          : sm_sink_metric(sink, "ivcsw_per_task", "switches/task",
                           switches(u0, u1, 0) / tasks);
  rc = rc ? rc : sm_sink_metric(sink, "batch_tasks", "tasks", (double)r->batch);
  long peak;
  if (rc == 0 && rss_start >= 0 && read_status_kib("VmHWM", &peak) == 0) {
    rc = sm_sink_metric(sink, "rss_peak_kib", "KiB", (double)peak);
    rc = rc ? rc
            : sm_sink_metric(sink, "rss_added_kib", "KiB",
                             (double)(peak - rss_start));
  }
  return rc;
}

/* Runs the repetition on allocated buffers: resets the peak RSS, builds
 * the pool, warms up, measures, checks and records. Returns 0,
 * SM_MEASURE_SKIP or a negative errno (msg set); the pool is gone on
 * return. */
static int run_rep(const struct sm_measure_config *cfg, const struct sm_case *c,
                   struct rep *r, struct sm_sink *sink, char *msg,
                   size_t size) {
  long rss_start = -1;
  if (read_status_kib("VmRSS", &rss_start) != 0 || reset_peak_rss() != 0)
    rss_start = -1;
  int rc = r->strategy == THREAD_PER_TASK ? 0 : make_pool(r, c, msg, size);
  if (rc != 0)
    return rc == -EAGAIN ? SM_MEASURE_SKIP : rc;
  struct rusage u0, u1;
  rc = rounds_for(r, cfg->warmup_ns, 0, msg, size);
  getrusage(RUSAGE_SELF, &u0);
  rc = rc ? rc : rounds_for(r, cfg->duration_ns, 1, msg, size);
  getrusage(RUSAGE_SELF, &u1);
  if (r->pool) {
    int end_rc = end_pool(r, msg, size);
    rc = rc ? rc : end_rc;
  }
  return rc ? rc : add_metrics(sink, r, &u0, &u1, rss_start);
}

/* Measures one repetition of a case (sm_measure_fn). Returns 0,
 * SM_MEASURE_SKIP when the OS refuses a thread or the pool size is beyond
 * SM_POOL_MAX_WORKERS, -ENOMEM, or -EPROTO when a task did not run exactly
 * once or the pool's counters disagree. */
static int spawn_vs_pool_measure(const struct sm_measure_config *cfg,
                                 const struct sm_case *c, struct sm_sink *sink,
                                 char *msg, size_t size) {
  struct rep r = {.strategy = (enum strategy)(c->variant - c->family->variants),
                  .batch = batch_size(cfg, c)};
  if (r.strategy != THREAD_PER_TASK && c->threads > SM_POOL_MAX_WORKERS) {
    snprintf(msg, size, "a pool has at most %d workers, not %u",
             SM_POOL_MAX_WORKERS, c->threads);
    return SM_MEASURE_SKIP;
  }
  struct task_work work = {spin_iterations_for(c->param[AXIS_SPIN_NS]),
                           (uint64_t)c->param[AXIS_SLEEP_NS]};
  int rc = rep_alloc(&r);
  if (rc != 0) {
    snprintf(msg, size, "out of memory for a batch of %zu tasks", r.batch);
  } else {
    for (size_t i = 0; i < r.batch; i++)
      r.tasks[i].work = &work;
    rc = run_rep(cfg, c, &r, sink, msg, size);
  }
  rep_free(&r);
  return rc;
}

static const struct sm_variant variants[] = {
    [THREAD_PER_TASK] =
        SM_VARIANT("thread_per_task",
                   "spawn a thread per task, join them all (unpinned; "
                   "ignores the pool size)",
                   NULL),
    [SHARED_QUEUE] = SM_VARIANT(
        "shared_queue",
        "the lesson's pool: one channel receiver behind a mutex", NULL),
    [FAST] = SM_VARIANT(
        "fast", "per-submitter lanes, stealable batches, parking", NULL),
};

static const long spin_values[] = {0, 1000, 10000, 100000};
static const long spin_quick[] = {0, 10000, 100000};
static const long sleep_values[] = {0, 1000000};

static const struct sm_axis axes[] = {
    [AXIS_SPIN_NS] = {"spin_ns", spin_values, 4, spin_quick, 3, 0, 10000000},
    [AXIS_SLEEP_NS] = {"sleep_ns", sleep_values, 2, sleep_values, 2, 0,
                       100000000},
};

static const unsigned pu_multiples[] = {1, 2, 4};

const struct sm_family sm_family_spawn_vs_pool = {
    .name = "spawn_vs_pool",
    .summary = "a batch of tasks: thread per task vs the lesson's pool vs "
               "the fast pool",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = spawn_vs_pool_measure,
    .auto_pu_multiples = pu_multiples,
    .nauto_pu_multiples = sizeof pu_multiples / sizeof pu_multiples[0],
    .headline_metric = "tasks_per_s",
};
