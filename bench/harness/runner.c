/* runner.c: the lifecycle of a timed window: spawn + pin, start gate,
 * warmup, measured phase, stop, join, self-check, metrics. */
#include "runner.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drift.h"
#include "kit.h"
#include "results.h"
#include "sampling.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"
#include "syncmark/work.h"

/* CPU time of the calling thread in ns (0 when it cannot be read). */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The worker's gate as the runner sees it: families get it read-only, the
 * runner allocated it writable (window memory) and counts workers in it. */
static struct sm_gate *owned_gate(const struct sm_worker *w) {
  return (struct sm_gate *)w->gate;
}

/* Records the MEASURE edge of a worker at loop count `count` (passes done
 * in the warm-up) and chooses its sampling interval from the warm-up's
 * pace per operation in CPU time (preemption by other threads does not make a
 * pass look longer, so the interval keeps the samples' cost within budget of
 * the pass's own cost): after a warm-up without a whole pass, every pass is
 * sampled (a pass is longer than the warm-up); without a warm-up, the
 * default. */
static void mark_measure(struct sm_worker *w, uint64_t count,
                         int after_warmup) {
  sm_interference_read_thread(&w->sched_at_measure);
  uint64_t cpu = thread_cpu_ns();
  /* The mask applies to operations: a pass of a batch offers one chance
   * per operation (sm_sample_due(w, operation index)). */
  double ops = (double)count * (double)(w->ops_per_pass ? w->ops_per_pass : 1);
  if (after_warmup && count > 0 && cpu > w->cpu_ns_at_begin)
    w->sample_mask =
        sm_sample_mask_for((double)(cpu - w->cpu_ns_at_begin) / ops);
  else if (after_warmup && count == 0)
    w->sample_mask = 0;
  w->ops_at_measure = count;
  w->saw_measure = 1;
  w->in_measure = 1;
  atomic_fetch_add_explicit(&owned_gate(w)->entered, 1, memory_order_release);
  getrusage(RUSAGE_THREAD, &w->usage_at_measure);
  getrusage(RUSAGE_SELF, &w->process_at_measure);
  sm_counters_mark(w, 0);
  w->ns_at_measure = sm_now_ns();
}

/* Records the STOP edge of a worker at loop count `count`. */
static void mark_stop(struct sm_worker *w, uint64_t count) {
  w->ns_at_stop = sm_now_ns();
  sm_counters_mark(w, 1);
  w->in_measure = 0;
  w->ops_at_stop = count;
  getrusage(RUSAGE_THREAD, &w->usage_at_stop);
  getrusage(RUSAGE_SELF, &w->process_at_stop);
  sm_interference_read_thread(&w->sched_at_stop);
}

void sm__inject_delay(uint64_t iterations) {
  SM_KEEP(sm_work_spin(iterations));
}

unsigned sm__worker_begin(struct sm_worker *w) {
  atomic_fetch_add_explicit(&owned_gate(w)->begun, 1, memory_order_relaxed);
  unsigned phase = atomic_load_explicit(&w->gate->phase, memory_order_acquire);
  w->ns_at_begin = sm_now_ns();
  w->cpu_ns_at_begin = thread_cpu_ns();
  if (phase >= SM_PHASE_MEASURE)
    mark_measure(w, 0, 0);
  if (phase == SM_PHASE_STOP)
    mark_stop(w, 0);
  return phase;
}

unsigned sm__worker_advance(struct sm_worker *w, unsigned old_phase,
                            uint64_t count) {
  unsigned phase = atomic_load_explicit(&w->gate->phase, memory_order_acquire);
  if (old_phase == SM_PHASE_WARMUP && phase >= SM_PHASE_MEASURE)
    mark_measure(w, count, 1);
  if (phase == SM_PHASE_STOP)
    mark_stop(w, count);
  return phase;
}

/* Where spawned workers wait until every one of them is pinned and ready. */
struct start_gate {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  unsigned ready;
  int open;
};

/* What a spawned thread needs besides its sm_worker slot. */
struct worker_thread {
  pthread_t thread;
  struct sm_worker *worker;
  struct start_gate *start;
  int os_pu;
  const struct sm_topology *topo;
  int bind_error;      /* 0 or the negative errno of pinning */
  atomic_int returned; /* 1 once its worker returned (release) */
};

/* Thread body: pins itself, waits at the start gate, runs its role's
 * worker. A pinning failure is recorded; the runner then stops the window
 * before any work is counted. */
static void *worker_main(void *arg) {
  struct worker_thread *t = arg;
  if (t->os_pu >= 0)
    t->bind_error = sm_topology_bind_thread(t->topo, t->os_pu);
  sm_counters_open(t->worker); /* before the gate: opening is never timed */
  pthread_mutex_lock(&t->start->mutex);
  t->start->ready++;
  pthread_cond_broadcast(&t->start->cond);
  while (!t->start->open)
    pthread_cond_wait(&t->start->cond, &t->start->mutex);
  pthread_mutex_unlock(&t->start->mutex);
  t->worker->role->worker(t->worker);
  atomic_store_explicit(&t->returned, 1, memory_order_release);
  return NULL;
}

/* Opens the start gate for every waiting worker. */
static void open_start_gate(struct start_gate *start) {
  pthread_mutex_lock(&start->mutex);
  start->open = 1;
  pthread_cond_broadcast(&start->cond);
  pthread_mutex_unlock(&start->mutex);
}

/* Waits until `count` workers have reached the start gate. */
static void wait_ready(struct start_gate *start, unsigned count) {
  pthread_mutex_lock(&start->mutex);
  while (start->ready < count)
    pthread_cond_wait(&start->cond, &start->mutex);
  pthread_mutex_unlock(&start->mutex);
}

/* Names a worker thread "sm-<family>-<index>", cut to the 15 characters
 * Linux allows. Naming is cosmetic: a failure is ignored. */
static void name_worker(pthread_t thread, const struct sm_case *c,
                        unsigned index) {
  char name[32];
  snprintf(name, sizeof name, "sm-%.6s-%u", c->family->name, index);
  name[15] = '\0';
  pthread_setname_np(thread, name);
}

/* The roles of c's variant: its own, or the single counting role of a
 * variant with one worker function (built in *single). */
struct role_list {
  const struct sm_role *roles;
  size_t n;
  struct sm_role single;
};

/* Fills *out with the roles of c's variant. */
static void roles_of(const struct sm_case *c, struct role_list *out) {
  const struct sm_variant *v = c->variant;
  out->single = (struct sm_role){.name = v->name,
                                 .worker = v->worker,
                                 .count = SM_ROLE_CASE_THREADS,
                                 .counts_ops = 1};
  out->roles = v->nroles ? v->roles : &out->single;
  out->n = v->nroles ? v->nroles : 1;
}

/* Threads of role r in case c. */
static unsigned role_threads(const struct sm_role *r, const struct sm_case *c) {
  return r->count == SM_ROLE_CASE_THREADS ? c->threads : r->count;
}

unsigned sm_runner_case_threads(const struct sm_case *c) {
  struct role_list roles;
  roles_of(c, &roles);
  unsigned n = 0;
  for (size_t i = 0; i < roles.n; i++)
    n += role_threads(&roles.roles[i], c);
  return n;
}

/* Difference of a context-switch counter between the two edges. */
static double switches(const struct rusage *a, const struct rusage *b,
                       int voluntary) {
  return voluntary ? (double)(b->ru_nvcsw - a->ru_nvcsw)
                   : (double)(b->ru_nivcsw - a->ru_nivcsw);
}

/* Operations worker w did inside its MEASURE phase, and the time they
 * took: its manual time where it timed itself, else the span between the
 * edges it saw. */
static void worker_ops(const struct sm_worker *w, double *ops, double *ns) {
  if (w->manual_ops > 0) {
    *ops = (double)w->manual_ops;
    *ns = (double)w->manual_ns;
    return;
  }
  *ops = (double)(w->ops_at_stop - w->ops_at_measure) *
         (double)(w->ops_per_pass ? w->ops_per_pass : 1);
  *ns = (double)(w->ns_at_stop - w->ns_at_measure);
}

/* The percentiles of the latencies of kind `kind` that the workers of one
 * role kept, merged into `scratch` (capacity cap). */
static void role_samples(const struct sm_worker *workers, unsigned n,
                         const struct sm_role *role, unsigned kind,
                         double *scratch, size_t cap,
                         struct sm_window_samples *out) {
  size_t k = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct sm_reservoir *r = workers[i].reservoir[kind];
    if (workers[i].role != role || !r)
      continue;
    for (size_t j = 0; j < r->n && k < cap; j++)
      scratch[k++] = r->values[j];
  }
  *out = (struct sm_window_samples){.prefix = role->samples[kind], .n = k};
  if (k == 0)
    return;
  sm_stats_sort(scratch, k);
  out->p50 = sm_stats_percentile_sorted(scratch, k, 50.0);
  out->p99 = sm_stats_percentile_sorted(scratch, k, 99.0);
  out->p999 = sm_stats_percentile_sorted(scratch, k, 99.9);
  out->max = scratch[k - 1];
}

/* The smallest time per loop pass a window can tell from nothing: the
 * runner's own cost per pass (overhead_ns, an empty operation through the
 * measured loop, measured at the run's start; 0 when not known), and where
 * the family timed each pass itself (manual time) also the clock's
 * resolution. A window's own length is many orders of magnitude above the
 * resolution, so a rate over the window is not bounded by it: a pass of
 * 0.5 ns over a 20 ms window is a measurement, one timed alone is not. */
static double floor_ns(double overhead_ns, bool manual_time) {
  double resolution = (double)sm_clock_resolution_ns();
  return manual_time && resolution > overhead_ns ? resolution : overhead_ns;
}

/* Turns the joined workers of one window into its metrics; per_thread is
 * scratch space for n values. The counted workers are those whose role
 * counts operations. The rate is their operations over the span from the
 * first MEASURE edge any of them saw to the last STOP edge (a batch pass
 * that ends after the runner's STOP is inside it; a thread preempted
 * across an edge does not inflate it), or, where they timed themselves,
 * the sum of their manual rates. A time per pass at or below floor_ns
 * (the runner's overhead; with manual time also the clock's resolution) is
 * not a measurement: the rates are NAN and valid 0. */
static void compute_window(const struct sm_worker *workers, unsigned n,
                           uint64_t window_ns, double overhead_ns,
                           double *per_thread, struct sm_window *out) {
  double total = 0, manual_rate = 0, vcsw = 0, ivcsw = 0, lo = INFINITY;
  double hi = 0, cost = sm_sample_cost_ns(), share = 0;
  unsigned counted = 0, every = 0, manual = 0;
  uint64_t first = UINT64_MAX, last = 0, pass_ops = 1;
  for (unsigned i = 0; i < n; i++) {
    const struct sm_worker *w = &workers[i];
    double ns = (double)(w->ns_at_stop - w->ns_at_measure);
    int sampling = w->reservoir[0] || w->reservoir[1];
    if (sampling && ns > 0)
      share = fmax(share, (double)w->samples_taken * cost / ns);
    vcsw += switches(&w->usage_at_measure, &w->usage_at_stop, 1);
    ivcsw += switches(&w->usage_at_measure, &w->usage_at_stop, 0);
    if (!w->role->counts_ops)
      continue;
    double ops;
    worker_ops(w, &ops, &ns);
    per_thread[counted++] = ops;
    total += ops;
    if (w->manual_ops > 0) {
      manual++;
      manual_rate += ns > 0 ? ops * 1e9 / ns : 0;
    }
    first = w->ns_at_measure < first ? w->ns_at_measure : first;
    last = w->ns_at_stop > last ? w->ns_at_stop : last;
    lo = fmin(lo, ops);
    hi = fmax(hi, ops);
    if (w->ops_per_pass > pass_ops)
      pass_ops = w->ops_per_pass;
    if (sampling && (every == 0 || w->sample_mask + 1 < every))
      every = (unsigned)(w->sample_mask + 1);
  }
  double span = last > first ? (double)(last - first) : 0;
  double rate = manual ? manual_rate : span > 0 ? total * 1e9 / span : 0;
  double fair = counted ? total / counted : 0;
  out->window_ns = window_ns;
  out->ops = (uint64_t)total;
  out->ops_per_s = rate;
  out->ns_per_op = rate > 0 ? (double)counted * 1e9 / rate : NAN;
  out->fairness_jain = sm_stats_jain(per_thread, counted);
  out->share_min = fair > 0 ? lo / fair : NAN;
  out->share_max = fair > 0 ? hi / fair : NAN;
  out->vcsw_per_op = total > 0 ? vcsw / total : NAN;
  out->ivcsw_per_op = total > 0 ? ivcsw / total : NAN;
  out->sample_share = share;
  out->sample_every = every;
  out->manual_time = manual > 0;
  /* The floor is per loop pass: a pass of a batch spreads it over its
   * operations. */
  out->valid = share <= SM_SAMPLE_BUDGET && /* else: the instrument */
               out->ns_per_op * (double)pass_ops >
                   floor_ns(overhead_ns, out->manual_time);
  if (!out->valid && total > 0)
    out->ops_per_s = out->ns_per_op = NAN;
}

/* Fills *out with what else ran during the window: the workers' run
 * delays and migrations, and between the machine's readings cpu[0..1] the
 * host's steal and other processes' CPU time (this process's own from the
 * rusage of the workers that saw the first MEASURE and the last STOP
 * edge). */
static void window_interference(const struct sm_worker *workers, unsigned n,
                                const struct sm_cpu_times cpu[2],
                                uint64_t window_ns,
                                struct sm_interference *out) {
  const struct sm_worker *first = &workers[0], *last = &workers[0];
  for (unsigned i = 1; i < n; i++) {
    if (workers[i].ns_at_measure < first->ns_at_measure)
      first = &workers[i];
    if (workers[i].ns_at_stop > last->ns_at_stop)
      last = &workers[i];
  }
  double process_ns = (double)sm_kit_usage_cpu_ns(&last->process_at_stop) -
                      (double)sm_kit_usage_cpu_ns(&first->process_at_measure);
  long ticks_per_s = sysconf(_SC_CLK_TCK), cpus = sysconf(_SC_NPROCESSORS_ONLN);
  sm_interference_window(workers, n, &cpu[0], &cpu[1], window_ns, process_ns,
                         cpus > 0 ? (unsigned)cpus : 0,
                         ticks_per_s > 0 ? 1e9 / (double)ticks_per_s : 1e7,
                         out);
}

/* Spawns the workers of a window, role by role, thread i pinned to
 * c->os_pus[i]. Returns how many threads were created; fewer than n means
 * creation failed and *error holds why. */
static unsigned spawn_workers(const struct sm_window_config *cfg,
                              const struct sm_case *c,
                              const struct role_list *roles, unsigned n,
                              struct worker_thread *threads,
                              struct sm_worker *workers, struct sm_gate *gate,
                              struct start_gate *start, void *state,
                              int *error) {
  unsigned i = 0;
  for (size_t r = 0; r < roles->n; r++) {
    const struct sm_role *role = &roles->roles[r];
    for (unsigned k = 0; k < role_threads(role, c) && i < n; k++, i++) {
      struct sm_reservoir *res[SM_SAMPLE_KINDS];
      struct sm_perf_thread *counters = workers[i].counters;
      memcpy(res, workers[i].reservoir, sizeof res);
      workers[i] = (struct sm_worker){
          .gate = gate,
          .bench_case = c,
          .state = state,
          .index = i,
          .role = role,
          .role_index = k,
          .ops_per_pass = 1,
          .sample_mask = SM_SAMPLE_DEFAULT_EVERY - 1,
          .inject_iters =
              c->variant == cfg->inject_variant ? cfg->inject_iters : 0,
          .counters = counters};
      memcpy(workers[i].reservoir, res, sizeof res);
      threads[i] = (struct worker_thread){.worker = &workers[i],
                                          .start = start,
                                          .os_pu = c->os_pus[i],
                                          .topo = cfg->topo};
      atomic_init(&threads[i].returned, 0);
      int rc =
          pthread_create(&threads[i].thread, NULL, worker_main, &threads[i]);
      if (rc != 0) {
        *error = -rc;
        return i;
      }
      name_worker(threads[i].thread, c, i);
    }
  }
  return i;
}

/* Returns the first pinning error among the spawned threads, or 0, and
 * describes it in msg. */
static int first_bind_error(const struct worker_thread *threads, unsigned n,
                            char *msg, size_t msg_size) {
  for (unsigned i = 0; i < n; i++) {
    if (threads[i].bind_error != 0) {
      snprintf(msg, msg_size, "pinning thread %u to PU %d failed: %s", i,
               threads[i].os_pu, strerror(-threads[i].bind_error));
      return -EIO;
    }
  }
  return 0;
}

/* Waits, in steps of 1 ms, until every worker that began its loop has
 * entered MEASURE or `deadline` passes. Never fails. */
static void wait_entered(const struct sm_gate *gate, uint64_t deadline) {
  while (atomic_load_explicit(&gate->entered, memory_order_acquire) <
             atomic_load_explicit(&gate->begun, memory_order_relaxed) &&
         sm_now_ns() < deadline)
    sm_sleep_until_ns(sm_now_ns() + 1000000);
}

/* Drives the phases of a started window and returns its measured length:
 * the duration, longer when a worker entered MEASURE late (wait_entered, up
 * to cfg->entry_grace_ns; not for an isolated family, whose workers may never
 * return to their loop); the machine's CPU times just before MEASURE and just
 * after STOP go to cpu[0] and cpu[1]. */
static uint64_t drive_phases(const struct sm_window_config *cfg,
                             const struct sm_case *c, struct sm_gate *gate,
                             struct start_gate *start,
                             struct sm_cpu_times cpu[2]) {
  atomic_store_explicit(&gate->phase, SM_PHASE_WARMUP, memory_order_release);
  open_start_gate(start);
  uint64_t t = sm_now_ns();
  if (cfg->warmup_ns > 0)
    sm_sleep_until_ns(t + cfg->warmup_ns);
  sm_interference_read_cpu(&cpu[0]);
  uint64_t t0 = sm_now_ns();
  atomic_store_explicit(&gate->phase, SM_PHASE_MEASURE, memory_order_release);
  sm_sleep_until_ns(t0 + cfg->duration_ns);
  uint64_t grace =
      cfg->entry_grace_ns ? cfg->entry_grace_ns : SM_WINDOW_ENTRY_GRACE_NS;
  if (!c->family->isolated)
    wait_entered(gate, t0 + cfg->duration_ns + grace);
  atomic_store_explicit(&gate->phase, SM_PHASE_STOP, memory_order_release);
  uint64_t t1 = sm_now_ns();
  sm_interference_read_cpu(&cpu[1]);
  return t1 - t0;
}

/* The per-window memory of n workers: their slots, threads, the gate and
 * the scratch for per-thread counts and merged samples. */
struct window_memory {
  struct role_list *roles;    /* the case's roles, where the workers point */
  struct start_gate *start;   /* where they wait to begin */
  struct sm_cpu_times cpu[2]; /* the machine's, at MEASURE and STOP */
  struct sm_worker *workers;
  struct worker_thread *threads;
  struct sm_gate *gate;
  double *scratch;
  size_t scratch_cap;
};

/* Frees what window_alloc allocated (also a partial allocation). */
static void window_free(struct window_memory *m, unsigned n) {
  if (m->workers)
    sm_counters_free(m->workers, n);
  for (unsigned i = 0; m->workers && i < n; i++)
    for (unsigned k = 0; k < SM_SAMPLE_KINDS; k++)
      free(m->workers[i].reservoir[k]);
  free(m->scratch);
  free(m->workers);
  free(m->threads);
  free(m->gate);
  free(m->roles);
  free(m->start);
}

/* Allocates the memory of a window of n workers: a copy of `roles` and the
 * start gate (the workers point into them, so threads an isolated family
 * leaves behind never touch a caller's stack), a reservoir for each kind of
 * latency each thread's role samples and the counters of `counters` (NULL:
 * none) per thread. Returns 0 or -ENOMEM. */
static int window_alloc(struct window_memory *m, const struct sm_case *c,
                        const struct role_list *roles, unsigned n,
                        const struct sm_perf_list *counters) {
  *m = (struct window_memory){0};
  m->roles = malloc(sizeof *m->roles);
  m->start = malloc(sizeof *m->start);
  m->workers = aligned_alloc(SM_CACHE_LINE, sizeof(struct sm_worker) * n);
  m->threads = calloc(n, sizeof *m->threads);
  m->gate = aligned_alloc(SM_CACHE_LINE, sizeof *m->gate);
  if (!m->roles || !m->start || !m->workers || !m->threads || !m->gate)
    return -ENOMEM;
  *m->roles = *roles;
  if (roles->roles == &roles->single)
    m->roles->roles = &m->roles->single;
  roles = m->roles;
  memset(m->workers, 0, sizeof(struct sm_worker) * n);
  if (sm_counters_alloc(m->workers, n, counters) != 0)
    return -ENOMEM;
  unsigned sampled = 0, i = 0;
  for (size_t r = 0; r < roles->n; r++) {
    const struct sm_role *role = &roles->roles[r];
    for (unsigned k = 0; k < role_threads(role, c); k++, i++) {
      for (unsigned kind = 0; kind < SM_SAMPLE_KINDS; kind++) {
        if (!role->samples[kind])
          continue;
        struct sm_reservoir *res = malloc(sizeof *res);
        m->workers[i].reservoir[kind] = res;
        if (!res)
          return -ENOMEM;
        sm_reservoir_init(res, i * SM_SAMPLE_KINDS + kind + 1);
        sampled++;
      }
    }
  }
  m->scratch_cap = (size_t)n + (size_t)sampled * SM_RESERVOIR_CAP;
  m->scratch = malloc(sizeof(double) * m->scratch_cap);
  return m->scratch ? 0 : -ENOMEM;
}

/* Fills out->samples with the percentiles of every sampling role. */
static void window_samples(const struct window_memory *m, unsigned n,
                           const struct role_list *roles,
                           struct sm_window *out) {
  out->nsamples = 0;
  for (size_t r = 0; r < roles->n && r < SM_MAX_ROLES; r++)
    for (unsigned kind = 0; kind < SM_SAMPLE_KINDS; kind++)
      if (roles->roles[r].samples[kind])
        role_samples(m->workers, n, &roles->roles[r], kind, m->scratch,
                     m->scratch_cap, &out->samples[out->nsamples++]);
}

/* How long the workers of an isolated family get to return after the
 * window's end: max(4 windows, 100 ms). */
static uint64_t stop_grace_ns(const struct sm_window_config *cfg) {
  uint64_t t = 4 * cfg->duration_ns;
  return t > 100000000u ? t : 100000000u;
}

/* Joins the `spawned` threads of a window. For an isolated family (whose
 * workers may deadlock by design) waits for them only until stop_grace_ns
 * after the call, polling each thread's `returned` flag every millisecond
 * (the flag's release/acquire and pthread_join make the threads' writes
 * visible; a timed join would not be seen by ThreadSanitizer), and leaves
 * the others behind, still running. Sets each worker's `joined` and
 * returns how many were left behind. */
static unsigned join_threads(const struct sm_window_config *cfg,
                             const struct sm_case *c, struct window_memory *m,
                             unsigned spawned) {
  uint64_t deadline = sm_now_ns() + stop_grace_ns(cfg);
  unsigned left = 0;
  for (unsigned i = 0; i < spawned; i++) {
    struct worker_thread *t = &m->threads[i];
    while (c->family->isolated &&
           !atomic_load_explicit(&t->returned, memory_order_acquire) &&
           sm_now_ns() < deadline)
      sm_sleep_for_ns(1000000);
    int returned = !c->family->isolated ||
                   atomic_load_explicit(&t->returned, memory_order_acquire);
    m->workers[i].joined = returned && pthread_join(t->thread, NULL) == 0;
    left += !m->workers[i].joined;
  }
  return left;
}

/* Starts the window's threads, drives its phases (or stops it at once when
 * a thread could not be created or pinned), joins them (see join_threads:
 * *left_behind counts those an isolated family left running). Returns 0 or
 * the error (msg set); *window_ns is the measured length. */
static int run_threads(const struct sm_window_config *cfg,
                       const struct sm_case *c, const struct role_list *roles,
                       unsigned n, struct window_memory *m, void *state,
                       uint64_t *window_ns, unsigned *left_behind, char *msg,
                       size_t msg_size) {
  atomic_init(&m->gate->phase, SM_PHASE_WARMUP);
  atomic_init(&m->gate->begun, 0);
  atomic_init(&m->gate->entered, 0);
  struct start_gate *start = m->start;
  *start = (struct start_gate){.mutex = PTHREAD_MUTEX_INITIALIZER,
                               .cond = PTHREAD_COND_INITIALIZER};
  int spawn_error = 0, rc;
  unsigned spawned = spawn_workers(cfg, c, roles, n, m->threads, m->workers,
                                   m->gate, start, state, &spawn_error);
  wait_ready(start, spawned);
  if (spawned < n) {
    snprintf(msg, msg_size,
             "could not create thread %u of %u: %s (the OS refused it: "
             "RLIMIT_NPROC, RLIMIT_AS, threads-max or memory)",
             spawned, n, strerror(-spawn_error));
    rc = spawn_error;
  } else {
    rc = first_bind_error(m->threads, spawned, msg, msg_size);
  }
  *window_ns = 0;
  if (rc == 0) {
    *window_ns = drive_phases(cfg, c, m->gate, start, m->cpu);
  } else {
    atomic_store_explicit(&m->gate->phase, SM_PHASE_STOP, memory_order_release);
    open_start_gate(start);
  }
  *left_behind = join_threads(cfg, c, m, spawned);
  return rc;
}

/* Checks that the case's roles fit the PUs the planner gave it (threads
 * plus the family's extra threads). Returns 0 or -EINVAL (msg set). */
static int check_role_threads(const struct sm_case *c, unsigned n, char *msg,
                              size_t msg_size) {
  unsigned planned = c->threads + c->family->extra_threads;
  if (n > 0 && n <= planned)
    return 0;
  snprintf(msg, msg_size,
           "the roles of %s/%s need %u threads, the plan gave %u PUs",
           c->family->name, c->variant->name, n, planned);
  return -EINVAL;
}

int sm_runner_window(const struct sm_window_config *cfg,
                     const struct sm_case *c, struct sm_window *out,
                     struct sm_sink *sink, char *msg, size_t msg_size) {
  const struct sm_family *f = c->family;
  msg[0] = '\0';
  struct role_list roles;
  roles_of(c, &roles);
  unsigned n = sm_runner_case_threads(c);
  int rc = check_role_threads(c, n, msg, msg_size);
  if (rc != 0)
    return rc;
  void *state = NULL;
  rc = f->setup ? f->setup(c, &state) : 0;
  if (rc == SM_MEASURE_SKIP)
    return rc; /* the case does not apply: skipped silently, msg empty */
  if (rc != 0) {
    snprintf(msg, msg_size, "setup failed: %s", strerror(-rc));
    return rc;
  }
  (void)sm_sample_cost_ns(); /* calibrated before any thread starts */
  struct window_memory m;
  rc = window_alloc(&m, c, &roles, n, cfg->counters);
  if (rc != 0) {
    window_free(&m, n);
    if (f->teardown)
      f->teardown(state);
    snprintf(msg, msg_size, "out of memory for %u workers", n);
    return rc;
  }
  uint64_t window_ns;
  unsigned left = 0;
  rc = run_threads(cfg, c, m.roles, n, &m, state, &window_ns, &left, msg,
                   msg_size);
  if (rc == 0 && f->check)
    rc = f->check(c, state, m.workers, msg, msg_size);
  else if (rc == 0 && left > 0)
    rc = -ETIMEDOUT;
  if (rc == -ETIMEDOUT && !msg[0])
    snprintf(msg, msg_size,
             "%u of %u threads still ran %.0f ms after the window ended", left,
             n, (double)stop_grace_ns(cfg) / 1e6);
  *out = (struct sm_window){.left_behind = left};
  if (rc == 0 && left == 0) {
    compute_window(m.workers, n, window_ns, cfg->overhead_ns, m.scratch, out);
    window_samples(&m, n, m.roles, out);
    sm_counters_window(m.workers, n, (double)out->ops, &out->counters);
    window_interference(m.workers, n, m.cpu, window_ns, &out->interference);
  }
  /* A window whose instrumentation cost too much, or whose time per pass
   * is below the floor, yields no rate: the family's own figures come from
   * the same edges, so they are left out with it. */
  bool invalid = left == 0 && out->ops > 0 && !out->valid;
  if (rc == 0 && sink && f->metrics && !invalid)
    rc = f->metrics(c, state, m.workers, n, sink, msg, msg_size);
  if (left > 0) /* the state and slots stay with the threads left behind */
    return rc;  // NOLINT(clang-analyzer-unix.Malloc): they still use them
  if (f->teardown)
    f->teardown(state);
  window_free(&m, n);
  return rc;
}

const struct sm_metric_decl sm_runner_window_metrics[] = {
    {"ops_per_s", "ops/s", SM_HIGHER_IS_BETTER,
     "operations of the counting roles per second of their window"},
    {"ns_per_op", "ns", SM_LOWER_IS_BETTER,
     "a counting thread's wall time per operation"},
    {"fairness_jain", "ratio", SM_NO_DIRECTION,
     "Jain's index of per-thread counts: 1 equal, 1/n one thread did all"},
    {"share_min", "ratio", SM_NO_DIRECTION,
     "least productive thread's count / fair share"},
    {"share_max", "ratio", SM_NO_DIRECTION,
     "most productive thread's count / fair share"},
    {"vcsw_per_op", "switches/op", SM_NO_DIRECTION,
     "voluntary context switches (blocking) per operation"},
    {"ivcsw_per_op", "switches/op", SM_NO_DIRECTION,
     "involuntary context switches (preemption) per operation"},
    {"valid", "0/1", SM_NO_DIRECTION,
     "1: the time per pass was above the floor and sampling in budget"},
    {"sample_share", "ratio", SM_NO_DIRECTION,
     "largest share of a thread's window its latency samples cost"},
    {"sample_every", "passes", SM_NO_DIRECTION,
     "passes between two latency samples"},
};
const size_t sm_runner_nwindow_metrics =
    sizeof sm_runner_window_metrics / sizeof sm_runner_window_metrics[0];

const struct sm_metric_decl sm_runner_sample_metrics[] = {
    {"p50_ns", "ns", SM_LOWER_IS_BETTER, "median sampled latency"},
    {"p99_ns", "ns", SM_LOWER_IS_BETTER,
     "99th percentile of the sampled latency"},
    {"p999_ns", "ns", SM_LOWER_IS_BETTER,
     "99.9th percentile of the sampled latency"},
    {"max_ns", "ns", SM_NO_DIRECTION, "longest sampled latency"},
    {"samples", "samples", SM_NO_DIRECTION, "latency samples kept"},
};
const size_t sm_runner_nsample_metrics =
    sizeof sm_runner_sample_metrics / sizeof sm_runner_sample_metrics[0];

/* Adds the metric rows of one role's latency samples: <prefix>_p50_ns,
 * _p99_ns, _p999_ns, _max_ns and _samples (sm_runner_sample_metrics).
 * Returns 0 or a negative errno. */
static int record_samples(struct sm_results *results, size_t case_index,
                          unsigned rep, const struct sm_window_samples *s) {
  const double value[] = {s->p50, s->p99, s->p999, s->max, (double)s->n};
  if (s->n == 0)
    return 0;
  for (size_t i = 0; i < sm_runner_nsample_metrics; i++) {
    const struct sm_metric_decl *d = &sm_runner_sample_metrics[i];
    char name[96];
    snprintf(name, sizeof name, "%s%s%s", s->prefix, s->prefix[0] ? "_" : "",
             d->name);
    const char *metric = sm_intern(name);
    if (!metric)
      return -ENOMEM;
    int rc =
        sm_results_add(results, case_index, rep, metric, d->unit, value[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Adds the metric rows of one successful window, in the order and units of
 * sm_runner_window_metrics (the sampling rows only when a role sampled);
 * none for a window whose threads were left behind: their counts are not
 * final. */
static int record_window(struct sm_results *results, size_t case_index,
                         unsigned rep, const struct sm_window *w) {
  if (w->left_behind > 0)
    return 0;
  const double values[] = {
      w->ops_per_s,     w->ns_per_op,
      w->fairness_jain, w->share_min,
      w->share_max,     w->vcsw_per_op,
      w->ivcsw_per_op,  w->valid,
      w->sample_share,  w->sample_every ? (double)w->sample_every : NAN};
  _Static_assert(sizeof values / sizeof values[0] ==
                     sizeof sm_runner_window_metrics /
                         sizeof sm_runner_window_metrics[0],
                 "one value per declared window metric");
  size_t n =
      w->nsamples ? sm_runner_nwindow_metrics : sm_runner_nwindow_metrics - 2;
  for (size_t i = 0; i < n; i++) {
    const struct sm_metric_decl *d = &sm_runner_window_metrics[i];
    int rc =
        sm_results_add(results, case_index, rep, d->name, d->unit, values[i]);
    if (rc != 0)
      return rc;
  }
  for (size_t i = 0; i < w->nsamples; i++) {
    int rc = record_samples(results, case_index, rep, &w->samples[i]);
    if (rc != 0)
      return rc;
  }
  int rc = sm_counters_record(results, case_index, rep, &w->counters);
  return rc ? rc
            : sm_interference_record(results, case_index, rep,
                                     &w->interference);
}

int sm_runner_repetition(const struct sm_window_config *cfg,
                         const struct sm_case *c, size_t case_index,
                         unsigned rep, struct sm_results *results, char *msg,
                         size_t msg_size) {
  msg[0] = '\0';
  while (c->variant == cfg->hang_variant)
    pause(); /* a hang on purpose: only the watchdog ends it */
  if (c->variant == cfg->crash_variant)
    abort(); /* a crash on purpose: only --isolate survives it */
  if (c->family->applies) {
    int rc = c->family->applies(c, msg, msg_size);
    if (rc != 0)
      return rc;
  }
  struct sm_sink sink = {
      .results = results, .case_index = case_index, .rep = rep};
  /* The probes run before, never inside, the window. */
  double probe_ns = sm_drift_probe_ns(), pair_ns = NAN;
  int pair[2];
  if (sm_drift_pair_pus(cfg->topo, c, pair) == 0)
    pair_ns = sm_drift_pair_probe_ns(cfg->topo, pair);
  sm_measure_fn measure =
      c->variant->measure ? c->variant->measure : c->family->measure;
  int rc;
  if (measure) {
    struct sm_measure_config mc = {.warmup_ns = cfg->warmup_ns,
                                   .duration_ns = cfg->duration_ns,
                                   .topo = cfg->topo,
                                   .quick = cfg->quick};
    rc = measure(&mc, c, &sink, msg, msg_size);
  } else {
    struct sm_window w;
    rc = sm_runner_window(cfg, c, &w, &sink, msg, msg_size);
    rc = rc == 0 ? record_window(results, case_index, rep, &w) : rc;
  }
  return rc == 0 ? sm_drift_record(results, case_index, rep, probe_ns, pair_ns)
                 : rc;
}

/* One repetition handed to its own thread, shared by that thread and the
 * waiting runner until one of them lets go of it (the last frees it). */
struct repetition_job {
  pthread_mutex_t mutex;
  pthread_cond_t done_cond;
  struct sm_window_config cfg;
  const struct sm_case *c;
  size_t case_index;
  unsigned rep;
  struct sm_results results; /* private: merged only when on time */
  char msg[256];
  int rc;
  int done;      /* the repetition returned */
  int abandoned; /* the runner stopped waiting */
};

/* Frees a job and its private results. */
static void job_free(struct repetition_job *job) {
  sm_results_free(&job->results);
  pthread_cond_destroy(&job->done_cond);
  pthread_mutex_destroy(&job->mutex);
  free(job);
}

/* Thread body: runs the repetition, then reports it or, when the runner
 * has abandoned the job, frees it. */
static void *repetition_main(void *arg) {
  struct repetition_job *job = arg;
  int rc = sm_runner_repetition(&job->cfg, job->c, job->case_index, job->rep,
                                &job->results, job->msg, sizeof job->msg);
  pthread_mutex_lock(&job->mutex);
  job->rc = rc;
  job->done = 1;
  int abandoned = job->abandoned;
  pthread_cond_signal(&job->done_cond);
  pthread_mutex_unlock(&job->mutex);
  if (abandoned)
    job_free(job);
  return NULL;
}

/* Starts the job's thread with the stop signals blocked in it. Returns 0 or
 * a negative errno. */
static int start_job(struct repetition_job *job) {
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, &old);
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, repetition_main, job);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc == 0)
    pthread_detach(thread);
  return -rc;
}

/* Appends the rows and points of `from` to `to`. Returns 0 or -ENOMEM. */
static int merge_results(struct sm_results *to, const struct sm_results *from) {
  int rc = 0;
  for (size_t i = 0; i < from->nrows && rc == 0; i++) {
    const struct sm_raw_row *row = &from->rows[i];
    rc = sm_results_add(to, row->case_index, row->rep, row->metric, row->unit,
                        row->value);
  }
  for (size_t i = 0; i < from->npoints && rc == 0; i++) {
    const struct sm_series_point *p = &from->points[i];
    rc = sm_results_add_point(to, p->case_index, p->rep, p->series, p->unit,
                              p->t_s, p->value);
  }
  return rc;
}

/* The bounded repetition's work with the family's three-way status (0,
 * SM_MEASURE_SKIP or a negative errno); *hung is set when the watchdog
 * fired. */
static int repetition_bounded_status(const struct sm_window_config *cfg,
                                     const struct sm_case *c, size_t case_index,
                                     unsigned rep, struct sm_results *results,
                                     uint64_t timeout_ns, uint64_t *elapsed_ns,
                                     int *hung, char *msg, size_t msg_size) {
  struct repetition_job *job = calloc(1, sizeof *job);
  if (!job) {
    snprintf(msg, msg_size, "out of memory for a repetition");
    return -ENOMEM;
  }
  pthread_mutex_init(&job->mutex, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&job->done_cond, &attr);
  pthread_condattr_destroy(&attr);
  *job = (struct repetition_job){.mutex = job->mutex,
                                 .done_cond = job->done_cond,
                                 .cfg = *cfg,
                                 .c = c,
                                 .case_index = case_index,
                                 .rep = rep};
  uint64_t start = sm_now_ns(), deadline = start + timeout_ns;
  int rc = start_job(job);
  if (rc != 0) {
    /* No thread to spare (RLIMIT_NPROC, memory): run it here, unguarded,
     * so the family itself meets and reports the limit. */
    job_free(job);
    rc = sm_runner_repetition(cfg, c, case_index, rep, results, msg, msg_size);
    *elapsed_ns = sm_now_ns() - start;
    return rc;
  }
  struct timespec until = {.tv_sec = (time_t)(deadline / 1000000000u),
                           .tv_nsec = (long)(deadline % 1000000000u)};
  pthread_mutex_lock(&job->mutex);
  while (!job->done && pthread_cond_timedwait(&job->done_cond, &job->mutex,
                                              &until) != ETIMEDOUT)
    ;
  int done = job->done;
  job->abandoned = !done;
  pthread_mutex_unlock(&job->mutex);
  *elapsed_ns = sm_now_ns() - start;
  if (!done) {
    snprintf(msg, msg_size,
             "no result after %.1f s: the repetition hangs "
             "(its threads are abandoned)",
             (double)*elapsed_ns / 1e9);
    *hung = 1;
    return -ETIMEDOUT;
  }
  rc = job->rc;
  snprintf(msg, msg_size, "%s", job->msg);
  if (rc == 0 || rc == SM_MEASURE_SKIP) {
    int merged = merge_results(results, &job->results);
    rc = merged != 0 ? merged : rc;
  }
  job_free(job);
  return rc;
}

enum sm_outcome_kind
sm_runner_repetition_bounded(const struct sm_window_config *cfg,
                             const struct sm_case *c, size_t case_index,
                             unsigned rep, struct sm_results *results,
                             uint64_t timeout_ns, uint64_t *elapsed_ns,
                             int *err, char *msg, size_t msg_size) {
  int hung = 0;
  int rc =
      repetition_bounded_status(cfg, c, case_index, rep, results, timeout_ns,
                                elapsed_ns, &hung, msg, msg_size);
  *err = rc < 0 && !hung ? rc : 0;
  return hung ? SM_OUTCOME_TIMED_OUT : sm_outcome_of_status(rc);
}

/* The overhead probe keeps the fastest of this many windows: the floor,
 * unaffected by windows in which the thread lost its PU to another task. */
enum { OVERHEAD_PROBE_WINDOWS = 5 };

/* The body of the overhead probe: nothing but the measured loop itself. */
static void empty_worker(struct sm_worker *w) {
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {}
}

double sm_runner_overhead_ns(const struct sm_topology *topo,
                             uint64_t duration_ns) {
  static const struct sm_variant empty = SM_VARIANT("empty", "", empty_worker);
  static const struct sm_family probe = {
      .name = "overhead", .variants = &empty, .nvariants = 1};
  int os_pu = -1;
  if (sm_topology_plan_threads(topo, SM_PLACE_COMPACT, 1, &os_pu) != 0)
    os_pu = -1;
  struct sm_case c = {.family = &probe,
                      .variant = &empty,
                      .threads = 1,
                      .placement = SM_PLACE_COMPACT,
                      .os_pus = &os_pu};
  struct sm_window_config cfg = {.warmup_ns = duration_ns / 20,
                                 .duration_ns = duration_ns / 5,
                                 .topo = topo};
  double best = -1.0;
  for (int i = 0; i < OVERHEAD_PROBE_WINDOWS; i++) {
    struct sm_window w;
    char msg[160];
    if (sm_runner_window(&cfg, &c, &w, NULL, msg, sizeof msg) != 0)
      return -1.0;
    if (w.ops == 0)
      continue; /* the thread got no CPU in this window (a loaded machine) */
    double ns = (double)w.window_ns / (double)w.ops;
    if (best < 0 || ns < best)
      best = ns;
  }
  return best;
}
