/* drift.c: the drift probes timed before every repetition: a fixed piece
 * of CPU work, and a cache line passed between two of the case's PUs. */
#include "drift.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "interference.h"
#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/work.h"

/* The calling thread's CPU time in ns (0 when the clock cannot be read). */
static double thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double sm_drift_probe_ns(void) {
  double best = INFINITY;
  for (int i = 0; i < 3; i++) {
    double t0 = thread_cpu_ns();
    SM_KEEP(sm_work_spin(SM_DRIFT_PROBE_STEPS));
    double t = thread_cpu_ns() - t0;
    best = t < best ? t : best;
  }
  return best;
}

int sm_drift_pair_pus(const struct sm_topology *topo, const struct sm_case *c,
                      int pus[2]) {
  unsigned n = c->threads + c->family->extra_threads;
  size_t found = 0;
  for (unsigned i = 0; c->os_pus && i < n && found < 2; i++)
    if (c->os_pus[i] >= 0 && (found == 0 || c->os_pus[i] != pus[0]))
      pus[found++] = c->os_pus[i];
  if (found == 2)
    return 0;
  if (found == 1 || n < 2 || !topo)
    return -1; /* pinned to one PU, or one thread */
  struct sm_pu_info pu[2];
  if (sm_topology_allowed_pus(topo, pu, 2) < 2)
    return -1;
  pus[0] = pu[0].os_index;
  pus[1] = pu[1].os_index;
  return 0;
}

/* Values of the probe's line: the initiator throws BALL, the responder
 * sends it HOME. */
enum { PROBE_HOME = 0, PROBE_BALL = 1 };

/* What the two threads of a pair probe share: the line alone on its cache
 * line, and on another whether either gave up. */
struct pair_probe {
  SM_CACHE_ALIGNED atomic_int line;
  SM_CACHE_ALIGNED atomic_int gave_up;
  const struct sm_topology *topo;
  int pus[2];
  double one_way_ns; /* the initiator's result, NAN when none */
};

/* Spins until the line holds `want`; returns 0, or -1 when the partner
 * gave up or `deadline` passed (then says so, for the partner). The clock
 * is read every 4096 looks, never on the timed path's fast case. */
static int probe_wait(struct pair_probe *p, int want, uint64_t deadline) {
  for (unsigned i = 1;
       atomic_load_explicit(&p->line, memory_order_acquire) != want; i++) {
    if (i % 4096 != 0)
      continue;
    if (atomic_load_explicit(&p->gave_up, memory_order_relaxed) ||
        sm_now_ns() > deadline) {
      atomic_store_explicit(&p->gave_up, 1, memory_order_relaxed);
      return -1;
    }
  }
  return 0;
}

/* The responder: pinned to pus[1], sends every ball home. */
static void *probe_responder(void *arg) {
  struct pair_probe *p = arg;
  uint64_t deadline = sm_now_ns() + SM_PAIR_PROBE_LIMIT_NS;
  if (sm_topology_bind_thread(p->topo, p->pus[1]) != 0) {
    atomic_store_explicit(&p->gave_up, 1, memory_order_relaxed);
    return NULL;
  }
  for (unsigned i = 0; i < SM_PAIR_PROBE_WARMUP + SM_PAIR_PROBE_TRIPS; i++) {
    if (probe_wait(p, PROBE_BALL, deadline) != 0)
      return NULL;
    atomic_store_explicit(&p->line, PROBE_HOME, memory_order_release);
  }
  return NULL;
}

/* The initiator: pinned to pus[0], throws the ball and waits for it; times
 * the trips after the warm-up ones. */
static void *probe_initiator(void *arg) {
  struct pair_probe *p = arg;
  uint64_t deadline = sm_now_ns() + SM_PAIR_PROBE_LIMIT_NS, t0 = 0;
  if (sm_topology_bind_thread(p->topo, p->pus[0]) != 0) {
    atomic_store_explicit(&p->gave_up, 1, memory_order_relaxed);
    return NULL;
  }
  for (unsigned i = 0; i < SM_PAIR_PROBE_WARMUP + SM_PAIR_PROBE_TRIPS; i++) {
    if (i == SM_PAIR_PROBE_WARMUP)
      t0 = sm_now_ns();
    atomic_store_explicit(&p->line, PROBE_BALL, memory_order_release);
    if (probe_wait(p, PROBE_HOME, deadline) != 0)
      return NULL;
  }
  p->one_way_ns = (double)(sm_now_ns() - t0) / (2.0 * SM_PAIR_PROBE_TRIPS);
  return NULL;
}

double sm_drift_pair_probe_ns(const struct sm_topology *topo,
                              const int pus[2]) {
  struct pair_probe *p = aligned_alloc(SM_CACHE_LINE, sizeof *p);
  if (!p)
    return NAN;
  atomic_init(&p->line, PROBE_HOME);
  atomic_init(&p->gave_up, 0);
  p->topo = topo;
  p->pus[0] = pus[0];
  p->pus[1] = pus[1];
  p->one_way_ns = NAN;
  pthread_t threads[2];
  void *(*bodies[2])(void *) = {probe_initiator, probe_responder};
  int started = 0;
  for (; started < 2; started++)
    if (pthread_create(&threads[started], NULL, bodies[started], p) != 0) {
      atomic_store_explicit(&p->gave_up, 1, memory_order_relaxed);
      break;
    }
  for (int i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
  double ns = started == 2 ? p->one_way_ns : NAN;
  free(p);
  return ns;
}

int sm_drift_record(struct sm_results *results, size_t case_index, unsigned rep,
                    double probe_ns, double pair_ns) {
  const struct sm_metric_decl *d = sm_interference_decl("drift_probe_ns");
  int rc = sm_results_add(results, case_index, rep, d->name, d->unit, probe_ns);
  if (rc != 0 || isnan(pair_ns))
    return rc;
  d = sm_interference_decl("pair_probe_ns");
  return sm_results_add(results, case_index, rep, d->name, d->unit, pair_ns);
}
