/* oversub.c: the `oversub` family: more CPU-bound threads than PUs (claim
 * C4): the time N threads take for a fixed amount of work against the same
 * work on as many threads as allowed PUs, alternating in one window, and
 * the involuntary switches it costs. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "kit.h"
#include "syncmark/lockops.h"
#include "syncmark/work.h"

/* Length of one chunk of work, the unit the work is counted in. */
enum { CHUNK_NS = 50000 };
/* About how long one half-round's work takes on as many threads as PUs
 * (its size W is fixed per case from it): short enough that a quick window
 * holds rounds of both halves, long enough for the scheduler to slice the
 * N threads. */
enum { HALF_NS = 4000000 };

/* The two configurations, taking turns: the reference (min(N, P) threads,
 * P the allowed PUs) and the N threads. */
enum config { REF, TEAM };

/* Shared state of one window: the turn the coordinators pass between the
 * two configurations, and what each spinner published after its loop. */
struct oversub_state {
  unsigned n, nref;     /* spinners of each configuration */
  uint64_t work;        /* W: chunks of one half-round, all threads */
  uint64_t share[2];    /* chunks per thread in a half: W / nref, W / N */
  uint64_t chunk_iters; /* sm_work_spin iterations of one chunk */
  uint64_t one_chunk;   /* what sm_work_spin(chunk_iters) returns */
  struct sm_lockops_mutex lock; /* guards the fields up to `closing` */
  /* Where each kind of thread waits, so that a change wakes only those it
   * concerns (a reference half must not wake the team-only spinners, which
   * would preempt its threads): the first nref spinners, the rest, the
   * coordinators. */
  pthread_cond_t cond[3];
  enum config turn;  /* whose half comes next */
  uint64_t epoch[2]; /* halves started, per configuration */
  unsigned pending;  /* spinners still working in this half */
  uint64_t stamp;    /* sm_manual_start of this half */
  int closing;       /* a thread left its loop: stop waiting */
  struct spinner_report {
    SM_CACHE_ALIGNED uint64_t chunks, sum;
  } * report; /* one per spinner */
};

/* The state's condition variables. */
enum { WAKE_REF_SPINNERS, WAKE_TEAM_SPINNERS, WAKE_COORDINATORS, NWAKE };

/* Waits on condition variable `which` (the state's lock held). */
static inline void wait_change(struct oversub_state *s, int which) {
  pthread_cond_wait(&s->cond[which], &s->lock.m);
}

/* Wakes the waiters on condition variable `which`. */
static inline void wake(struct oversub_state *s, int which) {
  pthread_cond_broadcast(&s->cond[which]);
}

/* Says a thread left its loop: nobody waits for a half any more, so the
 * others leave theirs too (the stop hand-shake). */
static void close_turns(struct oversub_state *s) {
  sm_lockops_mutex_lock(&s->lock);
  s->closing = 1;
  for (int i = 0; i < NWAKE; i++)
    wake(s, i);
  sm_lockops_mutex_unlock(&s->lock);
}

/* The spinners: a pass waits for a half it takes part in (every team half;
 * a reference half for the first nref threads, which the placements put on
 * distinct PUs), spins its share of the half's work and reports done; the
 * last one wakes the coordinator. A team half's share is the spinner's
 * manual time from the half's start (a non-counting role: its time gives
 * finish_spread only). */
static void spinner_worker(struct sm_worker *w) {
  struct oversub_state *s = w->state;
  struct spinner_report *me = &s->report[w->role_index];
  int in_ref = w->role_index < s->nref;
  int where = in_ref ? WAKE_REF_SPINNERS : WAKE_TEAM_SPINNERS;
  uint64_t count = 0, seen[2] = {0, 0}, sum = 0, chunks = 0;
  SM_MEASURED_LOOP(w, count) {
    sm_lockops_mutex_lock(&s->lock);
    while (!s->closing && s->epoch[TEAM] == seen[TEAM] &&
           !(in_ref && s->epoch[REF] != seen[REF]))
      wait_change(s, where);
    int closing = s->closing;
    enum config cfg = s->epoch[TEAM] != seen[TEAM] ? TEAM : REF;
    uint64_t stamp = s->stamp;
    seen[cfg] = s->epoch[cfg];
    sm_lockops_mutex_unlock(&s->lock);
    if (!closing) {
      for (uint64_t k = 0; k < s->share[cfg]; k++)
        sum += sm_work_spin(s->chunk_iters);
      chunks += s->share[cfg];
      if (cfg == TEAM)
        sm_manual_stop(w, stamp, s->share[TEAM]);
      sm_lockops_mutex_lock(&s->lock);
      if (--s->pending == 0)
        wake(s, WAKE_COORDINATORS);
      sm_lockops_mutex_unlock(&s->lock);
    }
  }
  close_turns(s);
  me->chunks = chunks;
  me->sum = sum;
  w->family_count = chunks;
}

/* Defines <name>_worker: the coordinator of configuration `cfg`. Its
 * passes alternate: one waits for its turn; the next starts a half (its
 * manual time runs from the start until the last of its spinners is done:
 * the half's completion time, W chunks) and hands the turn to the other
 * configuration. Waiting in a pass of its own lets a phase change be seen
 * before a half starts, so only halves begun in the MEASURE phase count. */
#define COORDINATOR(name, cfg, other, spinners)                                \
  static void name##_worker(struct sm_worker *w) {                             \
    struct oversub_state *s = w->state;                                        \
    uint64_t count = 0;                                                        \
    int my_turn = 0;                                                           \
    SM_MEASURED_LOOP(w, count) {                                               \
      sm_lockops_mutex_lock(&s->lock);                                         \
      if (!my_turn) {                                                          \
        while (!s->closing && s->turn != (cfg))                                \
          wait_change(s, WAKE_COORDINATORS);                                   \
        my_turn = !s->closing;                                                 \
        sm_lockops_mutex_unlock(&s->lock);                                     \
      } else {                                                                 \
        uint64_t t = sm_manual_start(w);                                       \
        s->stamp = t;                                                          \
        s->pending = (spinners);                                               \
        s->epoch[cfg]++;                                                       \
        wake(s, WAKE_REF_SPINNERS);                                            \
        if ((cfg) == TEAM)                                                     \
          wake(s, WAKE_TEAM_SPINNERS);                                         \
        while (!s->closing && s->pending > 0)                                  \
          wait_change(s, WAKE_COORDINATORS);                                   \
        int done = s->pending == 0;                                            \
        s->turn = (other);                                                     \
        wake(s, WAKE_COORDINATORS);                                            \
        sm_lockops_mutex_unlock(&s->lock);                                     \
        if (done)                                                              \
          sm_manual_stop(w, t, s->work);                                       \
        my_turn = 0;                                                           \
      }                                                                        \
    }                                                                          \
    close_turns(s);                                                            \
  }
COORDINATOR(team, TEAM, REF, s->n)
COORDINATOR(reference, REF, TEAM, s->nref)
#undef COORDINATOR

/* The N spinners (the case's threads), then the two coordinators (the
 * family's extra threads, blocked but for a moment per half). The team
 * coordinator counts: its operations are chunks of work done by N threads,
 * over its manual time, so ops_per_s is the N threads' throughput. */
enum { ROLE_SPINNER, ROLE_TEAM, ROLE_REF };
static const struct sm_role roles[] = {
    [ROLE_SPINNER] =
        SM_ROLE_SERVING("spinner", spinner_worker, SM_ROLE_CASE_THREADS),
    [ROLE_TEAM] = SM_ROLE_COUNTING("oversubscribed", team_worker, 1),
    [ROLE_REF] = SM_ROLE_SERVING("reference", reference_worker, 1),
};

/* The PUs this process may run on (at least 1). */
static unsigned allowed_pus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? (unsigned)n : 1;
}

/* Frees the state of one window. */
static void oversub_teardown(void *state) {
  struct oversub_state *s = state;
  for (int i = 0; i < NWAKE; i++)
    pthread_cond_destroy(&s->cond[i]);
  sm_lockops_mutex_destroy(&s->lock);
  free(s->report);
  free(s);
}

/* Creates the state of one window: the half-round's work W = N nref k
 * chunks, k sized so a half lasts about HALF_NS on nref PUs, the reference
 * first. Returns 0 and sets *state, -ENOMEM or the error of the condition
 * variable's initialization. */
static int oversub_setup(const struct sm_case *c, void **state) {
  struct oversub_state *s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  s->report = aligned_alloc(SM_CACHE_LINE, sizeof *s->report * c->threads);
  int rc = s->report ? 0 : ENOMEM, made = 0;
  while (rc == 0 && made < NWAKE &&
         (rc = pthread_cond_init(&s->cond[made], NULL)) == 0)
    made++;
  if (rc != 0) {
    while (made > 0)
      pthread_cond_destroy(&s->cond[--made]);
    free(s->report);
    free(s);
    return -rc;
  }
  sm_lockops_mutex_init(&s->lock);
  unsigned p = allowed_pus();
  s->n = c->threads;
  s->nref = p < c->threads ? p : c->threads;
  uint64_t k = (uint64_t)((double)HALF_NS / CHUNK_NS / s->n + 0.5);
  k = k ? k : 1;
  s->work = (uint64_t)s->n * s->nref * k;
  s->share[REF] = s->work / s->nref;
  s->share[TEAM] = s->work / s->n;
  s->chunk_iters = sm_work_iterations_for_ns(CHUNK_NS);
  s->one_chunk = sm_work_spin(s->chunk_iters);
  s->turn = REF;
  *state = s;
  return 0;
}

/* Self-check: every spinner's work sum is its chunk count times one
 * chunk's result (the work really ran, as counted). Returns 0 or -EPROTO
 * with msg. */
static int oversub_check(const struct sm_case *c, void *state,
                         const struct sm_worker *workers SM_UNUSED, char *msg,
                         size_t size) {
  const struct oversub_state *s = state;
  for (unsigned i = 0; i < c->threads; i++) {
    const struct spinner_report *r = &s->report[i];
    if (r->sum != r->chunks * s->one_chunk)
      return sm_kit_check_failed(
          msg, size,
          "thread %u of %u ran %" PRIu64 " chunks with work sum %" PRIu64
          " (expected %" PRIu64 ")",
          i, c->threads, r->chunks, r->sum, r->chunks * s->one_chunk);
  }
  return 0;
}

/* Involuntary switches of worker w between its edges. */
static double ivcsw_of(const struct sm_worker *w) {
  return (double)(w->usage_at_stop.ru_nivcsw - w->usage_at_measure.ru_nivcsw);
}

/* Splits the spinners' involuntary switches between the configurations:
 * threads nref.. run team halves only, so their mean is a team thread's;
 * the first nref threads' switches beyond it are the reference's. With
 * N <= P both halves are the same configuration: split by time. */
static void split_ivcsw(const struct oversub_state *s,
                        const struct sm_worker *spinners, double team_ns,
                        double ref_ns, double out[2]) {
  double first = 0, rest = 0;
  for (unsigned i = 0; i < s->n; i++)
    *(i < s->nref ? &first : &rest) += ivcsw_of(&spinners[i]);
  if (s->n > s->nref) {
    double per_thread = rest / (s->n - s->nref);
    out[TEAM] = per_thread * s->n;
    out[REF] = fmax(0, first - per_thread * s->nref);
  } else {
    out[TEAM] = first * team_ns / (team_ns + ref_ns);
    out[REF] = first - out[TEAM];
  }
}

/* The spread of the team spinners' mean finish times (their manual time
 * per team half), over the mean completion time. */
static double finish_spread(const struct oversub_state *s,
                            const struct sm_worker *spinners,
                            double completion_ns) {
  double lo = INFINITY, hi = 0;
  for (unsigned i = 0; i < s->n; i++) {
    const struct sm_worker *w = &spinners[i];
    if (w->manual_ops == 0)
      continue;
    double e =
        (double)w->manual_ns * (double)s->share[TEAM] / (double)w->manual_ops;
    lo = fmin(lo, e);
    hi = fmax(hi, e);
  }
  return hi >= lo ? (hi - lo) / completion_ns : NAN;
}

/* Adds the metrics of a checked window from the coordinators' manual time
 * (the halves' completion times) and the spinners' switch counts and
 * manual time, as the runner recorded them; nothing when either
 * configuration completed no half inside the MEASURE phase. Returns 0 or
 * the sink's error. */
static int oversub_metrics(const struct sm_case *c, void *state,
                           const struct sm_worker *workers, unsigned n,
                           struct sm_sink *sink, char *msg SM_UNUSED,
                           size_t size SM_UNUSED) {
  const struct oversub_state *s = state;
  if (n < c->threads + 2)
    return 0;
  const struct sm_worker *team = &workers[c->threads];
  const struct sm_worker *ref = &workers[c->threads + 1];
  if (team->manual_ops == 0 || ref->manual_ops == 0)
    return 0;
  double w = (double)s->work;
  double team_ns = (double)team->manual_ns, ref_ns = (double)ref->manual_ns;
  double n_ns = team_ns * w / (double)team->manual_ops;
  double r_ns = ref_ns * w / (double)ref->manual_ops;
  double ivcsw[2];
  split_ivcsw(s, workers, team_ns, ref_ns, ivcsw);
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"slowdown_vs_pus", "ratio", n_ns / r_ns},
      {"completion_ns", "ns", n_ns},
      {"ref_completion_ns", "ns", r_ns},
      /* work per thread per second, N threads over reference threads */
      {"thread_throughput_vs_pus", "ratio",
       (double)s->nref / s->n * r_ns / n_ns},
      {"ivcsw_per_s", "switches/s", ivcsw[TEAM] * 1e9 / team_ns},
      {"ref_ivcsw_per_s", "switches/s", ivcsw[REF] * 1e9 / ref_ns},
      {"finish_spread", "ratio", finish_spread(s, workers, n_ns)},
      {"half_work_chunks", "chunks", w},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < SM_COUNT(rows); i++)
    if (!isnan(rows[i].value))
      rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* Thread counts under --threads auto: 1, 2, 4 and 8 times the allowed
 * PUs. */
static const unsigned pu_multiples[] = {1, 2, 4, 8};

static const struct sm_variant variants[] = {
    SM_KIT_ROLES_VARIANT(
        "spin", "CPU-bound threads, fixed work, vs as many threads as PUs",
        roles),
};

/* The metrics oversub_metrics adds. */
static const struct sm_metric_decl metric_decls[] = {
    {"slowdown_vs_pus", "ratio", SM_NO_DIRECTION,
     "completion on N threads / on as many threads as PUs"},
    {"completion_ns", "ns", SM_LOWER_IS_BETTER,
     "mean completion time of one half's work on N threads"},
    {"ref_completion_ns", "ns", SM_LOWER_IS_BETTER,
     "the same work on min(N, PUs) threads"},
    {"thread_throughput_vs_pus", "ratio", SM_NO_DIRECTION,
     "work per thread per second, N threads over the reference"},
    {"ivcsw_per_s", "switches/s", SM_NO_DIRECTION,
     "involuntary switches per second of the N-thread halves"},
    {"ref_ivcsw_per_s", "switches/s", SM_NO_DIRECTION,
     "involuntary switches per second of the reference halves"},
    {"finish_spread", "ratio", SM_NO_DIRECTION,
     "spread of the threads' finish times / completion time"},
    {"half_work_chunks", "chunks", SM_NO_DIRECTION,
     "50 us chunks of work in one half-round"},
};

SM_FAMILY_DEFINE(oversub, oversub,
                 "oversubscription: N CPU-bound threads vs as many as PUs, "
                 "same total work",
                 SM_FAMILY_METRICS(oversub_metrics, metric_decls),
                 .shape = SM_SHAPE_THREADS, .extra_threads = 2,
                 SM_FAMILY_PU_MULTIPLES(pu_multiples),
                 .headline_metric = "slowdown_vs_pus");
