/* interference.h: what else ran while a window was measured: per worker
 * thread its time runnable but not running (the scheduler's run delay)
 * and its migrations, for the machine the host's steal time and the CPU
 * time of other processes; and whether that disturbed the repetition
 * beyond the stated shares. */
#ifndef SYNCMARK_BENCH_INTERFERENCE_H
#define SYNCMARK_BENCH_INTERFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "family.h"
#include "results.h"

/* A repetition is disturbed when any of these is exceeded over its
 * window: a worker's run delay share, the host's steal share of the
 * machine's CPUs, or other processes' CPU time in CPUs' worth. */
#define SM_DISTURBED_RUN_DELAY  0.05
#define SM_DISTURBED_STEAL      0.05
#define SM_DISTURBED_OTHER_CPUS 0.25

/* The shortest window, in /proc/stat ticks, over which the machine's steal
 * and other processes' shares are computed (20: 0.2 s at 100 ticks a
 * second); the rounding to whole ticks is then at most a tenth of them. */
#define SM_INTERFERENCE_MIN_TICKS 20

/* The machine's CPU time at one edge, from /proc/stat (clock ticks). */
struct sm_cpu_times {
  uint64_t busy;  /* user + nice + system + irq + softirq, all CPUs */
  uint64_t steal; /* taken by the hypervisor, all CPUs */
  int ok;         /* 1 when /proc/stat was read */
};

/* What a window saw of interference; NAN where it could not be read. */
struct sm_interference {
  double run_delay_share; /* the largest worker's run delay / its window */
  double migrations;      /* all workers' migrations inside the window */
  double steal_share;     /* steal / (window x online CPUs) */
  double other_cpus;      /* other processes' CPU time / window, in CPUs */
  int disturbed;          /* 1 when a share above is over its limit */
};

/* Parses the run delay (second field, ns) of a schedstat line. Returns 0,
 * or -EINVAL when the text has fewer than three numbers. */
int sm_interference_parse_schedstat(const char *text, uint64_t *run_delay_ns);

/* Parses se.nr_migrations from the text of /proc/<tid>/sched. Returns 0,
 * or -ENOENT when the line is absent (a kernel without scheduler debug
 * statistics). */
int sm_interference_parse_migrations(const char *text, uint64_t *migrations);

/* Parses the first "cpu " line of /proc/stat text into *out (ok set).
 * Returns 0, or -EINVAL when there is none or it has under 8 numbers. */
int sm_interference_parse_cpu(const char *text, struct sm_cpu_times *out);

/* Reads the calling thread's scheduler counts; a file that cannot be read
 * leaves its have_* flag 0. Never fails. */
void sm_interference_read_thread(struct sm_thread_sched *out);

/* Reads the machine's CPU times (out->ok 0 when /proc/stat cannot be
 * read). Never fails. */
void sm_interference_read_cpu(struct sm_cpu_times *out);

/* Computes *out for a window of window_ns between the machine readings a
 * and b, with the workers' readings at their edges (counted only where
 * both edges were read) and the process's CPU time over the window,
 * process_cpu_ns; `cpus` is the number of online CPUs and `tick_ns` the
 * length of a /proc/stat tick (the machine's shares stay NAN for a window
 * under SM_INTERFERENCE_MIN_TICKS of them). Never fails. */
void sm_interference_window(const struct sm_worker *workers, unsigned n,
                            const struct sm_cpu_times *a,
                            const struct sm_cpu_times *b, uint64_t window_ns,
                            double process_cpu_ns, unsigned cpus,
                            double tick_ns, struct sm_interference *out);

/* Adds the interference rows of a repetition (those that are not NAN),
 * declared in sm_interference_metrics. Returns 0 or -ENOMEM. */
int sm_interference_record(struct sm_results *results, size_t case_index,
                           unsigned rep, const struct sm_interference *w);

/* The declarations of the interference metrics, and their number. */
extern const struct sm_metric_decl sm_interference_metrics[];
extern const size_t sm_ninterference_metrics;

/* The declaration of interference metric `metric`, or NULL. */
const struct sm_metric_decl *sm_interference_decl(const char *metric);

#endif
