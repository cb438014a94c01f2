/* oversub.c: the `oversub` family: more CPU-bound threads than PUs (claim
 * C4): the time N threads take for a fixed total amount of work, against
 * the same work on exactly as many threads as allowed PUs, measured side
 * by side in each repetition, and the involuntary switches it costs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/thread.h"
#include "syncmark/work.h"

/* Length of one chunk of work, the unit the total is counted in. */
enum { CHUNK_NS = 50000 };

/* Values of spin_team.go. */
enum { TEAM_WAIT = 0, TEAM_RUN = 1, TEAM_ABORT = 2 };

/* sm_work_spin iterations of one chunk, calibrated once per process (0:
 * not yet). */
static atomic_uint_fast64_t chunk_iterations;

/* One team of spinning threads: they wait parked until `go`, then each
 * runs its chunks. */
struct spin_team {
  SM_CACHE_ALIGNED atomic_uint ready; /* threads waiting at the gate */
  SM_CACHE_ALIGNED atomic_int go;     /* TEAM_* */
  uint64_t chunk_iters;
};

/* One spinning thread's assignment and report (written before it
 * returns, read after join). */
struct spinner {
  struct spin_team *team;
  uint64_t chunks; /* assigned */
  uint64_t done;   /* chunks run */
  uint64_t sum;    /* of sm_work_spin's results: the self-check */
  uint64_t end_ns; /* when its last chunk ended */
  uint64_t ivcsw;  /* involuntary switches while it worked */
  int aborted;     /* 1: released with TEAM_ABORT, ran nothing */
};

/* Thread body: counts itself ready, parks until the team goes, then runs
 * its chunks and reports. Never fails. */
static void *spinner_main(void *arg) {
  struct spinner *w = arg;
  struct spin_team *t = w->team;
  atomic_fetch_add_explicit(&t->ready, 1, memory_order_release);
  int go;
  while ((go = atomic_load_explicit(&t->go, memory_order_acquire)) == TEAM_WAIT)
    sm_thread_park();
  w->aborted = go == TEAM_ABORT;
  if (w->aborted)
    return NULL;
  struct rusage before, after;
  getrusage(RUSAGE_THREAD, &before);
  uint64_t sum = 0;
  for (w->done = 0; w->done < w->chunks; w->done++)
    sum += sm_work_spin(t->chunk_iters);
  w->end_ns = sm_now_ns();
  getrusage(RUSAGE_THREAD, &after);
  w->sum = sum;
  w->ivcsw = (uint64_t)(after.ru_nivcsw - before.ru_nivcsw);
  return NULL;
}

/* What one team run measured. */
struct team_result {
  uint64_t completion_ns; /* start to the last thread's end */
  uint64_t ivcsw;         /* sum over threads */
  double spread;          /* (last end - first end) / completion */
};

/* Sets `go` of the team to `how` and unparks its n threads. */
static void release_team(struct spin_team *t, struct sm_join_handle **h,
                         unsigned n, int how) {
  atomic_store_explicit(&t->go, how, memory_order_release);
  for (unsigned i = 0; i < n; i++)
    sm_thread_unpark(sm_join_handle_thread(h[i]));
}

/* Joins n threads; returns 0 or the first negative errno of sm_join. */
static int join_all(struct sm_join_handle **h, unsigned n) {
  int rc = 0;
  for (unsigned i = 0; i < n; i++) {
    int r = sm_join(h[i], NULL);
    rc = rc ? rc : r;
  }
  return rc;
}

/* Spawns n spinners of team t, thread i pinned to pus[i] (-1: not pinned).
 * Returns how many were created; *rc gets 0 or the first spawn error. */
static unsigned spawn_team(struct spin_team *t, struct spinner *w,
                           struct sm_join_handle **h, unsigned n,
                           const int *pus, int *rc) {
  unsigned made = 0;
  for (*rc = 0; made < n; made++) {
    struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
    opts.name = "sm-oversub";
    opts.pin_pu = pus[made];
    w[made].team = t;
    *rc = sm_thread_spawn(&opts, spinner_main, &w[made], &h[made]);
    if (*rc != 0)
      break;
  }
  return made;
}

/* Checks every spinner's work (all chunks run, the sum of their results
 * right) and fills *r. Returns 0 or -EPROTO with msg set. */
static int check_team(const struct spinner *w, unsigned n, uint64_t start,
                      uint64_t one_chunk, struct team_result *r, char *msg,
                      size_t msg_size) {
  uint64_t first = UINT64_MAX, last = 0;
  for (unsigned i = 0; i < n; i++) {
    if (w[i].done != w[i].chunks || w[i].sum != w[i].chunks * one_chunk) {
      snprintf(msg, msg_size,
               "thread %u of %u ran %" PRIu64 " of %" PRIu64
               " chunks (work sum %" PRIu64 ", expected %" PRIu64 ")",
               i, n, w[i].done, w[i].chunks, w[i].sum, w[i].chunks * one_chunk);
      return -EPROTO;
    }
    first = w[i].end_ns < first ? w[i].end_ns : first;
    last = w[i].end_ns > last ? w[i].end_ns : last;
    r->ivcsw += w[i].ivcsw;
  }
  r->completion_ns = last - start;
  r->spread = (double)(last - first) / (double)r->completion_ns;
  return 0;
}

/* Runs one team: n threads pinned per pus, each running `chunks` chunks
 * of chunk_iters iterations, started together; fills *r. Every thread is
 * joined before it returns, on every path (an incomplete team is released
 * with TEAM_ABORT and runs nothing). Returns 0, the negative errno of
 * spawn or join with msg set, or -EPROTO with msg set. */
static int run_team(unsigned n, const int *pus, uint64_t chunks,
                    uint64_t chunk_iters, uint64_t one_chunk,
                    struct team_result *r, char *msg, size_t msg_size) {
  struct spin_team t = {.chunk_iters = chunk_iters};
  atomic_init(&t.ready, 0);
  atomic_init(&t.go, TEAM_WAIT);
  struct spinner *w = calloc(n, sizeof *w);
  struct sm_join_handle **h = calloc(n, sizeof *h);
  if (!w || !h) {
    free(w);
    free(h);
    return -ENOMEM;
  }
  for (unsigned i = 0; i < n; i++)
    w[i].chunks = chunks;
  int rc;
  unsigned made = spawn_team(&t, w, h, n, pus, &rc);
  while (rc == 0 && atomic_load_explicit(&t.ready, memory_order_acquire) < n)
    sm_sleep_until_ns(sm_now_ns() + 50000);
  uint64_t start = sm_now_ns();
  release_team(&t, h, made, rc == 0 ? TEAM_RUN : TEAM_ABORT);
  int join_rc = join_all(h, made);
  if (rc != 0)
    snprintf(msg, msg_size, "could create only %u of %u threads: %s", made, n,
             strerror(-rc));
  else if ((rc = join_rc) != 0)
    snprintf(msg, msg_size, "join failed: %s", strerror(-rc));
  else
    rc = check_team(w, n, start, one_chunk, r, msg, msg_size);
  free(w);
  free(h);
  return rc;
}

/* Returns the sm_work_spin iterations of one chunk, calibrating on the
 * first call. Never fails (at least 1). */
static uint64_t chunk_iters(void) {
  uint64_t it = atomic_load_explicit(&chunk_iterations, memory_order_relaxed);
  if (it == 0) {
    it = sm_work_calibrate(CHUNK_NS);
    atomic_store_explicit(&chunk_iterations, it, memory_order_relaxed);
  }
  return it;
}

/* Adds the metrics of one repetition: the N-thread team against the two
 * halves of the reference team, which did the same total work on p
 * threads. */
static int add_oversub_metrics(struct sm_sink *sink, unsigned n, unsigned p,
                               const struct team_result *n_team,
                               const struct team_result ref[2]) {
  double ref_ns = (double)(ref[0].completion_ns + ref[1].completion_ns);
  double n_ns = (double)n_team->completion_ns;
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"slowdown_vs_pus", "ratio", n_ns / ref_ns},
      {"completion_ns", "ns", n_ns},
      {"ref_completion_ns", "ns", ref_ns},
      /* work per thread per second, N threads over reference threads */
      {"thread_throughput_vs_pus", "ratio", (double)p / n * ref_ns / n_ns},
      {"ivcsw_per_s", "switches/s", (double)n_team->ivcsw * 1e9 / n_ns},
      {"ref_ivcsw_per_s", "switches/s",
       (double)(ref[0].ivcsw + ref[1].ivcsw) * 1e9 / ref_ns},
      {"finish_spread", "ratio", n_team->spread},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof rows / sizeof rows[0]; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* One repetition: the total work, T = 2 N P k chunks (P: allowed PUs; k
 * sized so the N-thread run lasts about duration_ns / 2 on P PUs), runs
 * once on N threads (2 P k chunks each) and, in two halves before and
 * after it, on P threads (N k chunks each, per half) with the same
 * placement. Returns 0 or a negative errno with msg set. */
static int oversub_measure(const struct sm_measure_config *cfg,
                           const struct sm_case *c, struct sm_sink *sink,
                           char *msg, size_t msg_size) {
  struct sm_topology_counts counts;
  sm_topology_counts(cfg->topo, &counts);
  unsigned n = c->threads, p = counts.allowed_pus ? counts.allowed_pus : 1;
  int *ref_pus = malloc(p * sizeof *ref_pus);
  if (!ref_pus)
    return -ENOMEM;
  int rc = sm_topology_plan_threads(cfg->topo, c->placement, p, ref_pus);
  if (rc != 0)
    snprintf(msg, msg_size, "cannot plan %u reference threads: %s", p,
             strerror(-rc));
  uint64_t iters = chunk_iters(), one = sm_work_spin(iters);
  double target = (double)cfg->duration_ns / 2 * p / CHUNK_NS;
  uint64_t k = (uint64_t)(target / (2.0 * n * p) + 0.5);
  k = k ? k : 1;
  struct team_result ref[2] = {{0}, {0}}, n_team = {0};
  if (rc == 0)
    rc = run_team(p, ref_pus, n * k, iters, one, &ref[0], msg, msg_size);
  if (rc == 0)
    rc = run_team(n, c->os_pus, 2 * k * p, iters, one, &n_team, msg, msg_size);
  if (rc == 0)
    rc = run_team(p, ref_pus, n * k, iters, one, &ref[1], msg, msg_size);
  free(ref_pus);
  return rc == 0 ? add_oversub_metrics(sink, n, p, &n_team, ref) : rc;
}

/* Thread counts under --threads auto: 1, 2, 4 and 8 times the allowed
 * PUs. */
static const unsigned pu_multiples[] = {1, 2, 4, 8};

static const struct sm_variant variants[] = {
    SM_VARIANT("spin",
               "CPU-bound threads, fixed total work, vs as many threads as PUs",
               NULL),
};

const struct sm_family sm_family_oversub = {
    .name = "oversub",
    .summary = "oversubscription: N CPU-bound threads vs as many as PUs, "
               "same total work",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .measure = oversub_measure,
    .shape = SM_SHAPE_THREADS,
    .auto_pu_multiples = pu_multiples,
    .nauto_pu_multiples = sizeof pu_multiples / sizeof pu_multiples[0],
    .headline_metric = "slowdown_vs_pus",
};
