/* runner.h: runs a family's cases as pinned, gated, warmed-up, timed
 * windows and turns each window into metric rows. */
#ifndef SYNCMARK_BENCH_RUNNER_H
#define SYNCMARK_BENCH_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "family.h"
#include "outcome.h"
#include "interference.h"

struct sm_results;

/* Timing of every window of a run. */
struct sm_window_config {
  uint64_t warmup_ns;   /* may be 0 */
  uint64_t duration_ns; /* > 0 */
  const struct sm_topology *topo;
  int quick; /* handed to families that measure on their own */
  /* --inject-delay-ns: the variant whose every loop pass gets
   * inject_iters of extra calibrated work (NULL: none). */
  const struct sm_variant *inject_variant;
  uint64_t inject_iters;
  /* --inject-hang: the variant whose repetitions block forever instead of
   * running (NULL: none), to exercise the watchdog. */
  const struct sm_variant *hang_variant;
  /* --inject-crash: the variant whose repetitions abort the process (NULL:
   * none), to exercise --isolate. */
  const struct sm_variant *crash_variant;
  /* The runner's cost per loop pass (machine.csv's
   * runner_overhead_ns_per_op); a window whose time per operation is not
   * above it, or above the clock's resolution, is marked invalid. 0: not
   * known (only the resolution applies). */
  double overhead_ns;
  /* --counters: the events every worker thread counts (NULL: none). */
  const struct sm_perf_list *counters;
  /* How much longer than duration_ns the window waits for a worker still
   * in a warm-up pass to enter MEASURE, so that its first measured pass
   * exists (0: SM_WINDOW_ENTRY_GRACE_NS; tests of a family's guard for a
   * window without a measured pass set 1). */
  uint64_t entry_grace_ns;
};

/* The default entry grace of a window (see entry_grace_ns): a pass of a
 * manual-time batch, such as spawning 64 threads on a loaded machine, a
 * 100 ms sleep, or 2000 idle threads touching 1 MiB of stack each (seconds),
 * can outlast the warm-up and window. Every worker that began its loop
 * returns to it while the window runs (partners block on each other only
 * until STOP), so the grace ends only such long passes' wait; a worker that
 * truly never returns is the watchdog's. */
#define SM_WINDOW_ENTRY_GRACE_NS 30000000000ull

/* The latency percentiles of one sampling role in one window. */
struct sm_window_samples {
  const char *prefix; /* the name of the role's kind of latency */
  size_t n;           /* samples kept (0: none, the rest undefined) */
  double p50, p99, p999, max;
};

/* What one window measured, before it becomes metric rows. */
struct sm_window {
  uint64_t window_ns; /* time between the MEASURE and STOP edges */
  uint64_t ops;       /* operations all workers did inside it */
  double ops_per_s;
  double ns_per_op;     /* threads x window / ops: a thread's time per op */
  double fairness_jain; /* Jain's index of the per-thread op counts */
  double share_min;     /* least productive thread, as a fraction of the
                           fair share (1 = fair) */
  double share_max;     /* most productive thread, same unit */
  double vcsw_per_op;   /* voluntary context switches per op */
  double ivcsw_per_op;  /* involuntary context switches per op */
  /* 1: ns_per_op is a measurement; 0: it is not above the runner's
   * overhead per operation or the clock's resolution, or the samples cost
   * more than SM_SAMPLE_BUDGET: ops_per_s and ns_per_op are then NAN. */
  int valid;
  /* The largest share of a sampling worker's window that its samples cost
   * (measured cost per sample x samples / window); above SM_SAMPLE_BUDGET
   * the rates are NAN: they would measure the instrument. */
  double sample_share;
  unsigned sample_every; /* passes between samples of the counting roles */
  int manual_time;       /* 1: the rates come from the workers' manual time */
  struct sm_window_samples samples[SM_MAX_ROLES * SM_SAMPLE_KINDS];
  size_t nsamples;
  struct sm_window_counters counters;  /* --counters, per operation */
  struct sm_interference interference; /* what else ran meanwhile */
  /* Threads of an isolated family still running max(4 windows, 100 ms)
   * after the window's end (a deadlock by design), left behind; when > 0
   * the fields above are unset and no window metric is recorded. */
  unsigned left_behind;
};

/* Runs one window of `c`: creates the family state, spawns and pins the
 * threads of every role of the variant (thread i on c->os_pus[i], each
 * binding verified), holds them at one start gate, lets them warm up, times
 * the MEASURE phase, stops them through the gate, joins them, runs the
 * family's self-check and adds the family's own metrics (sm_family.metrics)
 * to `sink` (NULL: not asked for). An isolated family's threads that have
 * not returned max(4 windows, 100 ms) after the window's end are left
 * behind (out->left_behind, their workers' `joined` 0): its check decides
 * whether that is a result (a deadlock it proved) or a failure; without a
 * check it is -ETIMEDOUT. Their state and slots are then never freed: the
 * process must end after the repetition (an isolated family runs each
 * repetition in a child process of its own). Returns 0 and fills *out; or a
 * negative errno with a sentence in `msg`: -EINVAL when the roles need more
 * threads than the plan gave PUs, -EAGAIN when a thread could not be created,
 * -EIO when pinning failed, -EPROTO when the self-check failed, or the family
 * setup's error. */
int sm_runner_window(const struct sm_window_config *cfg,
                     const struct sm_case *c, struct sm_window *out,
                     struct sm_sink *sink, char *msg, size_t msg_size);

/* The metrics every window adds (ops_per_s ... sample_every), declared. */
extern const struct sm_metric_decl sm_runner_window_metrics[];
extern const size_t sm_runner_nwindow_metrics;

/* The suffixes of a sampling role's metrics (p50_ns ... samples), declared:
 * a role sampling kind "start" adds start_p50_ns etc. */
extern const struct sm_metric_decl sm_runner_sample_metrics[];
extern const size_t sm_runner_nsample_metrics;

/* Threads case c runs: the sum over its variant's roles. */
unsigned sm_runner_case_threads(const struct sm_case *c);

/* Runs repetition `rep` of case number `case_index` and adds its metric
 * rows to `results`: a timed window (ops_per_s, ns_per_op, fairness and
 * switch rates) or, for a family with its own measure, whatever that adds.
 * Returns 0, SM_MEASURE_SKIP with the reason in msg (possibly empty), or a
 * negative errno with a sentence in msg. Rows of a failed repetition may
 * remain; the caller drops the case's rows. */
int sm_runner_repetition(const struct sm_window_config *cfg,
                         const struct sm_case *c, size_t case_index,
                         unsigned rep, struct sm_results *results, char *msg,
                         size_t msg_size);

/* sm_runner_repetition with a watchdog: runs the repetition on its own
 * thread (with SIGINT and SIGTERM blocked there, so only the main thread
 * takes them) into a private result buffer, and waits at most timeout_ns.
 * Returns what became of it: SM_OUTCOME_OK (its rows appended to
 * `results`), SM_OUTCOME_SKIPPED (the reason in msg, possibly empty),
 * SM_OUTCOME_FAILED (*err the negative errno, a sentence in msg; a
 * family's own -ETIMEDOUT is a failure) or, past the limit,
 * SM_OUTCOME_TIMED_OUT: the thread is abandoned, it may stay blocked (or
 * spinning) for the rest of the process, and whatever it still writes goes
 * to its own buffer, never to `results`. *err is 0 unless failed;
 * *elapsed_ns is the time waited. When the OS refuses the thread
 * (RLIMIT_NPROC, memory), the repetition runs on the calling thread
 * without a watchdog, so the family meets the limit itself and reports
 * it. */
enum sm_outcome_kind
sm_runner_repetition_bounded(const struct sm_window_config *cfg,
                             const struct sm_case *c, size_t case_index,
                             unsigned rep, struct sm_results *results,
                             uint64_t timeout_ns, uint64_t *elapsed_ns,
                             int *err, char *msg, size_t msg_size);

/* Measures the runner's own cost per operation: one pinned thread running
 * an empty body in SM_MEASURED_LOOP, in five windows sharing `duration_ns`.
 * Returns the lowest ns per iteration among the windows in which the thread
 * ran, or a negative value when no window could run or none got the CPU. */
double sm_runner_overhead_ns(const struct sm_topology *topo,
                             uint64_t duration_ns);

#endif
