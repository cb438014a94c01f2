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
 * every iteration costs a cache hit. `begun` and `entered` (on another line,
 * each worker adds 1 once) count the workers that started SM_MEASURED_LOOP
 * and those that saw MEASURE: the runner does not stop a window before every
 * begun worker entered it, so a pass longer than the warm-up still gets
 * measured. */
struct sm_gate {
  SM_CACHE_ALIGNED atomic_uint phase;
  SM_CACHE_ALIGNED atomic_uint begun;
  atomic_uint entered;
};

/* After a parameter a hook's signature requires but its body does not
 * read. */
#define SM_UNUSED __attribute__((unused))

/* Which way a metric gets better, as its family declares it. */
enum sm_direction {
  SM_HIGHER_IS_BETTER, /* throughput: ops/s, msgs/s, tasks/s */
  SM_LOWER_IS_BETTER,  /* time and memory: ns, us, ms, s, KiB */
  SM_NO_DIRECTION      /* diagnostics and settings (switch counts, shares,
                          ratios, counts, a wait the case sets): reported,
                          never a regression */
};

/* One metric a family adds (through its metrics hook or its variants'
 * measure), declared next to its variants: compare judges it by its
 * direction, the tests check every metric a family writes is declared. */
struct sm_metric_decl {
  const char *name; /* [a-z0-9_]+ */
  const char *unit;
  enum sm_direction direction;
  const char *meaning; /* one line for `syncmark list FAMILY`; the table in
                          results/README.md says more (a test checks the two
                          agree on unit and direction) */
};

/* The number of elements of the array `a` (not a pointer). */
#define SM_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* In an sm_family initializer: its metric declarations from the array
 * `decls`, counted. */
#define SM_METRIC_DECLS(decls)                                                 \
  .metric_decls = (decls), .nmetric_decls = SM_COUNT(decls)

/* In an sm_family initializer: its variants from the array `v`, counted,
 * and the window hooks prefix_setup, prefix_check and prefix_teardown
 * (applies, which not every family has, is named on its own). */
#define SM_FAMILY_OPERATIONS(v, prefix)                                        \
  .variants = (v), .nvariants = SM_COUNT(v), .setup = prefix##_setup,          \
  .check = prefix##_check, .teardown = prefix##_teardown

/* In an sm_family initializer: the metrics hook `fn` and the declarations
 * of the metrics it adds, from the array `decls`, counted. */
#define SM_FAMILY_METRICS(fn, decls) .metrics = (fn), SM_METRIC_DECLS(decls)

/* In an sm_family initializer: its axes from the array `a`, counted. */
#define SM_FAMILY_AXES(a) .axes = (a), .naxes = SM_COUNT(a)

/* In an sm_family initializer: the multiples of the allowed PUs from the
 * array `m` that its thread axis takes by default, counted. */
#define SM_FAMILY_PU_MULTIPLES(m)                                              \
  .auto_pu_multiples = (m), .nauto_pu_multiples = SM_COUNT(m)

/* Defines the family `sm_family_<name_>` that registry.c lists: its name
 * is the identifier spelled as a string (so the symbol and the name a user
 * types cannot drift apart), `summary_` the line `syncmark list` prints,
 * its operations the array `variants` and the hooks prefix_setup,
 * prefix_check and prefix_teardown (SM_FAMILY_OPERATIONS); the remaining
 * arguments are further designated initializers (SM_FAMILY_AXES,
 * SM_FAMILY_METRICS, .applies, .shape, .headline_metric, ...). */
#define SM_FAMILY_DEFINE(name_, prefix, summary_, ...)                         \
  const struct sm_family sm_family_##name_ = {                                 \
      .name = #name_,                                                          \
      .summary = summary_,                                                     \
      SM_FAMILY_OPERATIONS(variants, prefix),                                  \
      __VA_ARGS__}

/* The scheduler's counts of one thread at one edge (read by the runner,
 * harness/interference.h). */
struct sm_thread_sched {
  uint64_t run_delay_ns; /* runnable but not running, since it started */
  uint64_t migrations;   /* moves to another CPU, since it started */
  uint64_t read_from_ns; /* sm_now_ns just before the files were read */
  uint64_t read_to_ns;   /* ... and just after: the run delay between two
                            reads fits in the later one's read_to_ns minus
                            the earlier one's read_from_ns */
  int have_delay;        /* 1 when /proc/thread-self/schedstat was read */
  int have_migrations;   /* 1 when /proc/thread-self/sched was read */
};

/* Most roles a variant has. */
#define SM_MAX_ROLES 4

/* Most kinds of latency one role samples (a task's start and its end). */
#define SM_SAMPLE_KINDS 2

/* Most family-specific parameters a case carries (axes of a family). */
#define SM_MAX_AXES 4

struct sm_variant;
struct sm_family;

/* How the planner gives a family's cases their threads and placement. */
enum sm_shape {
  /* One case per thread count and placement of the run (--threads,
   * --placement); the threads run SM_MEASURED_LOOP or the family's own
   * measurement. The default. */
  SM_SHAPE_THREADS = 0,
  /* Two threads, one case per pair placement this machine offers (same-pu,
   * smt-sibling, same-l3, cross-l3, cross-package) and one unpinned case
   * ("none"); the run's --threads and --placement do not apply. */
  SM_SHAPE_PAIR,
  /* One case per axis combination: the family starts whatever threads its
   * axes call for. threads is 1, placement "none", os_pus[0] is -1. */
  SM_SHAPE_SINGLE,
  /* Two threads, one case per unordered pair of allowed PUs (thread 0 on
   * the pair's first PU in topology order, thread 1 on its second), pairs
   * in topology order (first PU, then second); params "from=<os>;to=<os>",
   * placement the pair's class (smt-sibling, same-l3, cross-l3,
   * same-package when the machine reports no L3, cross-package). Beyond
   * SM_PU_PAIRS_MAX_PUS allowed PUs, or what the run's pair budget allows,
   * a sample of whole cores at an even stride (see plan.h). */
  SM_SHAPE_PU_PAIRS
};

/* Most PUs a SM_SHAPE_PU_PAIRS family pairs up (2016 pairs). */
#define SM_PU_PAIRS_MAX_PUS 64

/* One point of a family's parameter space, run for several repetitions. */
struct sm_case {
  const struct sm_family *family;
  const struct sm_variant *variant;
  long param[SM_MAX_AXES]; /* value of each of family->axes, in order */
  char params[128];        /* "key=value;key=value", the CSV column */
  unsigned threads;
  enum sm_placement placement; /* SM_SHAPE_THREADS only */
  const char *placement_name;  /* the CSV column: a thread placement, a pair
                                  placement or "none" */
  int *os_pus; /* threads + family->extra_threads entries; -1 when not
                  pinned */
  char *cpus;  /* the CSV column: OS PUs used, space-separated */
  int quick;   /* 1 under --quick: a family sizes its own work per pass
                  small (as its axes take their quick values) */
};

struct sm_role;
struct sm_reservoir;
struct sm_perf_thread;

/* Per-thread state of one window. Each worker owns its slot; the runner
 * reads it only after joining the thread. */
struct sm_worker {
  SM_CACHE_ALIGNED const struct sm_gate *gate;
  const struct sm_case *bench_case;
  void *state;                /* the family's shared state for this window */
  unsigned index;             /* 0 .. all threads of the case - 1 */
  const struct sm_role *role; /* the role this thread plays */
  unsigned role_index;        /* 0 .. threads of its role - 1 */
  uint64_t ops_per_pass;      /* operations one pass of the loop does (a batch
                                 of tasks); set by the worker before its loop,
                                 1 by default */
  uint64_t ops_at_measure;    /* loop count when MEASURE was seen */
  uint64_t ops_at_stop;       /* loop count when STOP was seen (all phases) */
  uint64_t family_count;      /* a second count a family may publish (e.g.
                                 writes), used by its self-check */
  uint64_t ns_at_begin;       /* when the loop began (WARMUP or later) */
  uint64_t cpu_ns_at_begin;   /* the thread CPU time then */
  uint64_t ns_at_measure;     /* when this thread saw MEASURE */
  uint64_t ns_at_stop;        /* when this thread saw STOP */
  struct rusage usage_at_measure; /* this thread's, at its edges */
  struct rusage usage_at_stop;
  struct rusage process_at_measure; /* the whole process's (threads the
                                       family's primitives own, e.g. a
                                       pool's workers), at the same edges */
  struct rusage process_at_stop;
  struct sm_thread_sched sched_at_measure; /* the scheduler's counts of this
                                              thread at its edges */
  struct sm_thread_sched sched_at_stop;
  int joined;            /* 1 once the runner joined the thread; 0 for a
                            thread of an isolated family left behind still
                            running after the window (see isolated) */
  int saw_measure;       /* 1 once the MEASURE phase was observed */
  int in_measure;        /* 1 between this thread's MEASURE and STOP edges */
  uint64_t inject_iters; /* sm_work_spin iterations added to every pass
                            (--inject-delay-ns); 0 normally */
  /* Manual time (sm_manual_stop): time and operations the worker timed
   * itself inside the MEASURE phase. */
  uint64_t manual_ns, manual_ops;
  /* Sampling (sm_sample_due): a pass is sampled when (count & sample_mask)
   * is 0; the runner sets the mask at the MEASURE edge from the warm-up's
   * pace so that sampling costs under SM_SAMPLE_BUDGET of an operation. */
  uint64_t sample_mask;
  uint64_t samples_taken; /* samples offered in the MEASURE phase */
  /* One per kind of latency its role samples (sm_role.samples); NULL for
   * a kind the role does not have. */
  struct sm_reservoir *reservoir[SM_SAMPLE_KINDS];
  /* The runner's event counters of this thread (--counters), opened by the
   * thread before the start gate and read at its MEASURE and STOP edges;
   * NULL when the run counts nothing. Not for families. */
  struct sm_perf_thread *counters;
};

/* Starts the loop: returns the phase the worker finds. */
unsigned sm__worker_begin(struct sm_worker *w);

/* Called when the loop sees the phase leave `old_phase` after `count`
 * iterations: records counts and resource usage at the MEASURE and STOP
 * edges and returns the phase to run next (SM_PHASE_STOP ends the loop). */
unsigned sm__worker_advance(struct sm_worker *w, unsigned old_phase,
                            uint64_t count);

/* Burns `iterations` of calibrated work: the delay --inject-delay-ns adds
 * to every loop pass of one named variant. */
void sm__inject_delay(uint64_t iterations);

/* SM_MEASURED_LOOP(w, count) { body } runs `body` until the runner stops the
 * window, adding 1 to the caller's local `count` (uint64_t, starting at 0)
 * after each pass. The only per-iteration overhead is one relaxed load of
 * the gate, the increment and a test of a register-held local that is 0
 * unless the run injects a delay into this variant (a branch that is always
 * predicted); phase edges are handled outside the inner loop. `body` must
 * not `break` (use the runner's stop, not its own). */
#ifdef __CPPCHECK__
/* The same loop spelled so cppcheck's parser (which does not take a struct
 * declared in a for statement) can analyse the bodies; never compiled. */
#define SM_MEASURED_LOOP(w, count)                                             \
  for (unsigned sm_phase_ = sm__worker_begin(w); sm_phase_ != SM_PHASE_STOP;   \
       sm_phase_ = sm__worker_advance((w), sm_phase_, (count)))                \
    for (; atomic_load_explicit(&(w)->gate->phase, memory_order_relaxed) ==    \
           sm_phase_;                                                          \
         (count)++)
#else
#define SM_MEASURED_LOOP(w, count)                                             \
  for (struct {                                                                \
         unsigned phase;                                                       \
         uint64_t inject;                                                      \
       } sm_loop_ = {sm__worker_begin(w), (w)->inject_iters};                  \
       sm_loop_.phase != SM_PHASE_STOP;                                        \
       sm_loop_.phase = sm__worker_advance((w), sm_loop_.phase, (count)))      \
    for (; atomic_load_explicit(&(w)->gate->phase, memory_order_relaxed) ==    \
           sm_loop_.phase;                                                     \
         (count)++,                                                            \
         sm_loop_.inject ? sm__inject_delay(sm_loop_.inject) : (void)0)
#endif

/* A worker: runs SM_MEASURED_LOOP over its operation and returns when the
 * loop ends. */
typedef void (*sm_worker_fn)(struct sm_worker *w);

/* Threads of a role: SM_ROLE_CASE_THREADS takes the case's thread count
 * (the --threads axis: producers, updaters, pool size), any other value is
 * that many threads whatever the case. */
#define SM_ROLE_CASE_THREADS 0u

/* A variant with one kind of thread: name, summary, worker function. */
#define SM_VARIANT(name_, summary_, worker_)                                   \
  { .name = (name_), .summary = (summary_), .worker = (worker_) }

/* The share of an operation's cost that latency sampling may take: the
 * runner spaces samples so that one sample's measured cost, spread over
 * the passes between two samples, stays below it. */
#define SM_SAMPLE_BUDGET 0.05

/* 1 when operation number `count` of w's loop is to be sampled (the loop's
 * pass count, or for a pass of ops_per_pass operations the index of the
 * operation): one mask test, no call. */
static inline int sm_sample_due(const struct sm_worker *w, uint64_t count) {
  return (count & w->sample_mask) == 0;
}

/* Starts timing a sampled operation; returns the runner's clock. Call only
 * on passes sm_sample_due chose. */
uint64_t sm_sample_start(const struct sm_worker *w);

/* Ends the timing begun at `start` and offers the elapsed nanoseconds to
 * w's reservoir (kept only inside the MEASURE phase, and only when w's role
 * samples). Never fails. */
void sm_sample_stop(struct sm_worker *w, uint64_t start);

/* Offers a latency measured otherwise (e.g. sm_sample_clock() minus a stamp
 * another thread put in a message) to w's reservoir of its role's first
 * kind (samples[0]), under the same rules as sm_sample_stop. A negative
 * value is dropped. */
void sm_worker_sample(struct sm_worker *w, double value_ns);

/* The same for the role's kind number `kind` (< SM_SAMPLE_KINDS); a kind
 * the role does not declare is dropped. */
void sm_worker_sample_kind(struct sm_worker *w, unsigned kind, double value_ns);

/* The runner's clock, for a stamp that a sampled operation carries to
 * another thread (a message's send time). */
uint64_t sm_sample_clock(void);

/* Runs `op` (a statement), timed into w's reservoir when pass `count` is
 * due for a sample: SM_SAMPLED(w, count, op_once(s)). */
#define SM_SAMPLED(w, count, op)                                               \
  do {                                                                         \
    if (sm_sample_due((w), (count))) {                                         \
      uint64_t sm_sample_t0_ = sm_sample_start(w);                             \
      op;                                                                      \
      sm_sample_stop((w), sm_sample_t0_);                                      \
    } else {                                                                   \
      op;                                                                      \
    }                                                                          \
  } while (0)

/* Manual time, as Google Benchmark's SetIterationTime: a pass whose work
 * must be timed apart from its preparation (a batch whose tasks are reset
 * first) brackets the timed part with sm_manual_start and sm_manual_stop.
 * When a counting role's workers report manual time, the case's rate is
 * their operations over their manual time instead of over the window. */
uint64_t sm_manual_start(const struct sm_worker *w);

/* Ends a manually timed part begun at `start` that did `ops` operations;
 * counted only inside the MEASURE phase. Never fails. */
void sm_manual_stop(struct sm_worker *w, uint64_t start, uint64_t ops);

/* One kind of thread of a case (producer, consumer, initiator, responder,
 * submitter, waker, sleeper). The runner starts every role's threads under
 * one start gate and one phase word, pinned in role order to c->os_pus. */
struct sm_role {
  const char *name; /* [a-z_]+, unique within the variant */
  sm_worker_fn worker;
  unsigned count; /* SM_ROLE_CASE_THREADS or a fixed number of threads */
  /* 1: this role's passes are the case's operations (ops_per_s,
   * ns_per_op, fairness); a role that only serves (a consumer whose
   * receives mirror the sends) is 0. At least one role of a variant
   * counts. */
  int counts_ops;
  /* The kinds of latency the role samples, by name (NULL: none): for each,
   * sm_sample_start/stop or sm_worker_sample_kind offer values and the
   * runner adds <name>_p50_ns, _p99_ns, _p999_ns, _max_ns and _samples (""
   * gives p50_ns ...). */
  const char *samples[SM_SAMPLE_KINDS];
};

/* In a role table: `count_` threads (SM_ROLE_CASE_THREADS or a number) of
 * `worker_` under the role `name_`, which serves: its passes are not the
 * case's operations. */
#define SM_ROLE_SERVING(name_, worker_, count_)                                \
  { .name = (name_), .worker = (worker_), .count = (count_) }

/* The same for a role whose passes are the case's operations. */
#define SM_ROLE_COUNTING(name_, worker_, count_)                               \
  { .name = (name_), .worker = (worker_), .count = (count_), .counts_ops = 1 }

/* A counting role that also samples the kinds of latency named after
 * count_ (at most SM_SAMPLE_KINDS; "" gives p50_ns ...). */
#define SM_ROLE_COUNTING_SAMPLED(name_, worker_, count_, ...)                  \
  {                                                                            \
    .name = (name_), .worker = (worker_), .count = (count_), .counts_ops = 1,  \
    .samples = {                                                               \
      __VA_ARGS__                                                              \
    }                                                                          \
  }

/* Timing and machine of one repetition, as the runner hands them to a
 * family that measures on its own (sm_family.measure). */
struct sm_measure_config {
  uint64_t warmup_ns;   /* may be 0 */
  uint64_t duration_ns; /* > 0: the time a repetition should measure */
  const struct sm_topology *topo;
  int quick; /* 1 under --quick: keep sample counts small */
};

/* Where one repetition puts its measurements (see results.c). */
struct sm_sink;

/* Adds one value of `metric` (e.g. "p99_ns") in `unit` to the repetition.
 * metric and unit must be string literals or otherwise outlive the run.
 * Returns 0, -EINVAL for a NULL name or a metric name outside [a-z0-9_],
 * or -ENOMEM. */
int sm_sink_metric(struct sm_sink *sink, const char *metric, const char *unit,
                   double value);

/* Adds one point of a time series (written to series.csv): `series` sampled
 * at t_s seconds after the repetition started. Same lifetime and name rules
 * and return values as sm_sink_metric. */
int sm_sink_series(struct sm_sink *sink, const char *series, const char *unit,
                   double t_s, double value);

/* What a family's measure returns for a case that cannot run here (a peer
 * program not installed, a placement the OS refuses): the case is reported
 * as skipped with the reason in msg, never as failed. An empty msg skips the
 * case silently (it does not apply, e.g. a variant that ignores an axis). */
#define SM_MEASURE_SKIP 1

/* A measurement a family makes itself, instead of the runner's timed window:
 * runs one repetition of `c` (its threads pinned to c->os_pus, where they
 * are >= 0) and adds its metrics to `sink`. Returns 0; SM_MEASURE_SKIP; or a
 * negative errno with a sentence in msg (the case is then failed, and none
 * of its rows are kept). A self-check belongs inside: work that did not
 * happen as counted is -EPROTO with the numbers in msg. */
typedef int (*sm_measure_fn)(const struct sm_measure_config *cfg,
                             const struct sm_case *c, struct sm_sink *sink,
                             char *msg, size_t msg_size);

/* One strategy of a family. */
struct sm_variant {
  const char *name;    /* [a-z0-9_]+, unique within the family */
  const char *summary; /* one line for `syncmark list` */
  /* The one role of a variant with a single kind of thread (c->threads of
   * it, counting operations); ignored when roles is set. */
  sm_worker_fn worker;
  const struct sm_role *roles; /* NULL: the single role above */
  size_t nroles;
  /* Only for a variant that cannot be a worker loop (an out-of-process peer
   * program: perf, the Rust peer): it measures its repetitions itself, as
   * sm_family.measure does for a whole family. NULL: the runner's window. */
  sm_measure_fn measure;
};

/* An sm_axis: its key, the arrays of its full and quick values (counted
 * here), and the range --param may set. */
#define SM_AXIS(key_, values_, quick_, min_, max_)                             \
  {                                                                            \
    .key = (key_), .values = (values_), .nvalues = SM_COUNT(values_),          \
    .quick_values = (quick_), .nquick = SM_COUNT(quick_), .min = (min_),       \
    .max = (max_)                                                              \
  }

/* One family-specific parameter axis. */
struct sm_axis {
  const char *key;    /* the name in the params column */
  const long *values; /* full run */
  size_t nvalues;
  const long *quick_values; /* --quick */
  size_t nquick;
  long min, max; /* what --param KEY=... may set; the family's measurement
                    must cope with every value in between */
};

/* Most values one --param may list. */
#define SM_MAX_OVERRIDE_VALUES 32

/* Values the user gave for an axis (--param KEY=V,V,...): they replace the
 * axis's values, full or quick, in every selected family that has KEY. */
struct sm_axis_override {
  char key[32];
  long values[SM_MAX_OVERRIDE_VALUES];
  size_t nvalues;
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
   * *state; SM_MEASURE_SKIP when the case does not apply (e.g. a variant
   * that ignores the placement), which skips it silently; or a negative
   * errno. Runs on the runner thread, never timed. */
  int (*setup)(const struct sm_case *c, void **state);
  /* Self-check after the window's workers were joined: returns 0 when the
   * work really happened (e.g. the protected counter equals the writes),
   * otherwise -EPROTO with a sentence in msg; SM_MEASURE_SKIP with the
   * reason in msg when the case turned out not to run here (the OS
   * refused the threads its operation starts). */
  int (*check)(const struct sm_case *c, void *state,
               const struct sm_worker *workers, char *msg, size_t msg_size);
  /* Optional: adds the family's own metrics of a checked window to `sink`
   * (sm_sink_metric), from what its n workers published (family_count,
   * counts in the state), never from timings of its own. Returns 0 or a
   * negative errno with a sentence in msg. Not called for a window the
   * runner marked invalid (valid = 0: its sampling cost more than the
   * budget, or its time per pass is below the runner's floor). */
  int (*metrics)(const struct sm_case *c, void *state,
                 const struct sm_worker *workers, unsigned n,
                 struct sm_sink *sink, char *msg, size_t msg_size);
  /* Frees the state; called after check, also after a failed window. */
  void (*teardown)(void *state);
  /* Optional: says, before each repetition of `c` (window or measure),
   * whether the case can run here. Returns 0, or SM_MEASURE_SKIP with the
   * reason in msg (an empty msg: the case does not apply to its variant
   * and is left out silently), as a measure function would. */
  int (*applies)(const struct sm_case *c, char *msg, size_t msg_size);
  /* When set, every repetition calls it instead of running a timed window
   * (setup, check, teardown and the variants' workers are then unused; a
   * family may dispatch on c->variant inside). */
  sm_measure_fn measure;
  enum sm_shape shape;
  /* 1: every repetition runs in a child process of its own (a variant
   * that may deadlock or crash by design); a hang there is ended by the one
   * watchdog, a crash recorded. Workers that have not returned max(4
   * windows, 100 ms) after the window's end are left behind (joined 0) and
   * the check decides what that means; the child then ends with them. */
  int isolated;
  /* Threads a case needs beyond c->threads (e.g. the one consumer of N
   * producers): they get the next PUs of the same placement plan. */
  unsigned extra_threads;
  /* Thread counts used when the run's --threads is auto, as multiples of
   * the allowed PUs (e.g. 1, 2, 4, 8 for oversubscription); none: the run's
   * automatic list. SM_SHAPE_THREADS only. */
  const unsigned *auto_pu_multiples;
  size_t nauto_pu_multiples;
  /* The metric the end-of-run table shows for this family; NULL: ops_per_s
   * (window families) or the first metric a measurement added. */
  const char *headline_metric;
  /* The metrics the family itself adds (SM_METRIC_DECLS); the runner's
   * window metrics and its sampled latencies are declared by the runner. */
  const struct sm_metric_decl *metric_decls;
  size_t nmetric_decls;
};

#endif
