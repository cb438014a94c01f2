/* family.h: what a benchmark family provides to the runner, and the measured
 * loop its workers run. */
#ifndef SYNCMARK_BENCH_FAMILY_H
#define SYNCMARK_BENCH_FAMILY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "syncmark/compiler.h"
#include "syncmark/topology.h"

/* Phases of one timed window, published by the runner in sm_gate.phase. */
enum sm_phase {
  SM_PHASE_WARMUP = 1,  /* running, counts discarded */
  SM_PHASE_MEASURE = 2, /* running, counts kept */
  SM_PHASE_STOP = 3     /* leave the loop */
};

/* The one flag the runner uses to steer all workers of a window. It sits on
 * its own cache line and is only written at phase changes, so reading it in
 * every iteration costs a cache hit. */
struct sm_gate {
  SM_CACHE_ALIGNED atomic_uint phase;
};

/* Most family-specific parameters a case carries (axes of a family). */
#define SM_MAX_AXES 4

struct sm_variant;
struct sm_family;

/* One point of a family's parameter space, run for several repetitions. */
struct sm_case {
  const struct sm_family *family;
  const struct sm_variant *variant;
  long param[SM_MAX_AXES]; /* value of each of family->axes, in order */
  char params[128];        /* "key=value;key=value", the CSV column */
  unsigned threads;
  enum sm_placement placement;
  int *os_pus; /* threads entries; -1 when not pinned */
  char *cpus;  /* the CSV column: OS PUs used, space-separated */
};

/* Per-thread state of one window. Each worker owns its slot; the runner
 * reads it only after joining the thread. */
struct sm_worker {
  SM_CACHE_ALIGNED const struct sm_gate *gate;
  const struct sm_case *bench_case;
  void *state;             /* the family's shared state for this window */
  unsigned index;          /* 0 .. threads - 1 */
  uint64_t ops_at_measure; /* loop count when MEASURE was seen */
  uint64_t ops_at_stop;    /* loop count when STOP was seen (all phases) */
  uint64_t family_count;   /* a second count a family may publish (e.g.
                              writes), used by its self-check */
  struct rusage usage_at_measure;
  struct rusage usage_at_stop;
  int saw_measure; /* 1 once the MEASURE phase was observed */
};

/* Starts the loop: returns the phase the worker finds. */
unsigned sm__worker_begin(struct sm_worker *w);

/* Called when the loop sees the phase leave `old_phase` after `count`
 * iterations: records counts and resource usage at the MEASURE and STOP
 * edges and returns the phase to run next (SM_PHASE_STOP ends the loop). */
unsigned sm__worker_advance(struct sm_worker *w, unsigned old_phase,
                            uint64_t count);

/* SM_MEASURED_LOOP(w, count) { body } runs `body` until the runner stops the
 * window, adding 1 to the caller's local `count` (uint64_t, starting at 0)
 * after each pass. The only per-iteration overhead is one relaxed load of
 * the gate and the increment; phase edges are handled outside the inner
 * loop. `body` must not `break` (use the runner's stop, not its own). */
#define SM_MEASURED_LOOP(w, count)                                             \
  for (unsigned sm_phase_ = sm__worker_begin(w); sm_phase_ != SM_PHASE_STOP;   \
       sm_phase_ = sm__worker_advance((w), sm_phase_, (count)))                \
    for (; atomic_load_explicit(&(w)->gate->phase, memory_order_relaxed) ==    \
           sm_phase_;                                                          \
         (count)++)

/* A worker: runs SM_MEASURED_LOOP over its operation and returns when the
 * loop ends. */
typedef void (*sm_worker_fn)(struct sm_worker *w);

/* One strategy of a family. */
struct sm_variant {
  const char *name;    /* [a-z0-9_]+, unique within the family */
  const char *summary; /* one line for `syncmark list` */
  sm_worker_fn worker;
};

/* One family-specific parameter axis. */
struct sm_axis {
  const char *key;    /* the name in the params column */
  const long *values; /* full run */
  size_t nvalues;
  const long *quick_values; /* --quick */
  size_t nquick;
};

/* A benchmark family: variants x axes x threads x placements. Every case is
 * run as repeated timed windows; each window gets a fresh shared state. */
struct sm_family {
  const char *name;
  const char *summary;
  const struct sm_variant *variants;
  size_t nvariants;
  const struct sm_axis *axes;
  size_t naxes;
  /* Creates the shared state of one window for `c`. Returns 0 and sets
   * *state, or a negative errno. Runs on the runner thread, never timed. */
  int (*setup)(const struct sm_case *c, void **state);
  /* Self-check after the window's workers were joined: returns 0 when the
   * work really happened (e.g. the protected counter equals the writes),
   * otherwise -EPROTO with a sentence in msg. */
  int (*check)(const struct sm_case *c, void *state,
               const struct sm_worker *workers, char *msg, size_t msg_size);
  /* Frees the state; called after check, also after a failed window. */
  void (*teardown)(void *state);
};

#endif
