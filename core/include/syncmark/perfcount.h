/* perfcount.h: event counters of one thread (perf_event_open): hardware
 * and software events by perf's names, opened as groups, read at two
 * instants and scaled by time enabled / time running when multiplexed. */
#ifndef SYNCMARK_PERFCOUNT_H
#define SYNCMARK_PERFCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* Most events one list may hold. */
#define SM_PERF_MAX_EVENTS 16

/* One event to count, resolved from its name. */
struct sm_perf_event {
  char name[64];      /* as perf list spells it: "cache-misses" */
  char metric[96];    /* "<name>_per_op" in [a-z0-9_] ("pmu_" first for a
                         name only libpfm4 knows) */
  const char *unit;   /* of the per-operation metric: "misses/op" ... */
  int miss;           /* 1: a miss count (lower is better) */
  int software;       /* 1: counted by the kernel, no PMU needed */
  int kernel_only;    /* 1: happens only in kernel context (context
                         switches, migrations): not countable from user
                         space alone */
  uint32_t type;      /* perf_event_attr.type */
  uint64_t config[3]; /* perf_event_attr.config, config1, config2 */
};

/* An ordered list of distinct events. */
struct sm_perf_list {
  struct sm_perf_event events[SM_PERF_MAX_EVENTS];
  size_t n;
};

/* Parses a comma-separated list of event names (perf's: cycles,
 * instructions, cache-references, cache-misses, L1-dcache-load-misses,
 * LLC-load-misses, dTLB-load-misses, branch-misses, context-switches,
 * cpu-migrations, page-faults, task-clock, and perf's short aliases) and
 * profile names (software, cache, default, all); where syncmark was built
 * with libpfm4, any other name libpfm4 resolves for this machine. Duplicates
 * are kept once, in first-seen order. Returns 0, or -EINVAL with a sentence
 * naming the bad value and what is allowed in msg (an unknown name, an empty
 * item, more than SM_PERF_MAX_EVENTS events). */
int sm_perf_parse(const char *spec, struct sm_perf_list *out, char *msg,
                  size_t size);

/* The built-in event names and the profile names, for help texts:
 * "cycles, instructions, ..." and "software, cache, default, all". */
const char *sm_perf_names(void);
const char *sm_perf_profiles(void);

/* 1 when syncmark was built with libpfm4 (other event names resolve). */
int sm_perf_have_libpfm(void);

/* /proc/sys/kernel/perf_event_paranoid, or -100 when it cannot be read. */
int sm_perf_paranoid(void);

/* One read of every open group of a thread: per event its raw count and
 * its group's time enabled and running (ns). ok is 0 before any read and
 * when the read failed. */
struct sm_perf_reading {
  uint64_t value[SM_PERF_MAX_EVENTS];
  uint64_t enabled[SM_PERF_MAX_EVENTS];
  uint64_t running[SM_PERF_MAX_EVENTS];
  int ok;
};

/* The counters of one thread: software events in one group, hardware
 * events in a second, and any hardware event that does not fit that group
 * on the PMU in a group of its own (the kernel then multiplexes it). */
struct sm_perf_thread {
  const struct sm_perf_list *list;
  int fd[SM_PERF_MAX_EVENTS];     /* -1: not open */
  int leader[SM_PERF_MAX_EVENTS]; /* index of the event leading its group */
  int slot[SM_PERF_MAX_EVENTS];   /* position in its group's read */
  int error[SM_PERF_MAX_EVENTS];  /* 0, or the negative errno of the open */
  int alone[SM_PERF_MAX_EVENTS];  /* 1: in a group of its own because it did
                                     not fit the hardware group */
  int user_only; /* 1: opened for user space only (perf_event_paranoid) */
  struct sm_perf_reading at[2]; /* the two instants (sm_perf_read) */
};

/* Opens `list`'s events for the calling thread (they count from now on,
 * on any CPU, only this thread). When the kernel refuses kernel-side
 * counting (perf_event_paranoid >= 2 for an unprivileged user), counts
 * user space only, and then refuses the kernel-only events with -EACCES
 * rather than let them read 0. Returns how many events opened (0..n);
 * t->error says why each other one did not. Never fails otherwise. */
int sm_perf_open(const struct sm_perf_list *list, struct sm_perf_thread *t);

/* Reads every open group into t->at[which] (which is 0 or 1). Returns 0,
 * or a negative errno (t->at[which].ok is then 0). */
int sm_perf_read(struct sm_perf_thread *t, unsigned which);

/* The count of event i between t->at[0] and t->at[1], scaled by time
 * enabled / time running where the kernel multiplexed it; *running_share
 * (may be NULL) gets running / enabled (1: never multiplexed). NAN when the
 * event is not open, a reading is missing, or the event never ran in
 * between: an unmeasured count is never 0. */
double sm_perf_delta(const struct sm_perf_thread *t, size_t i,
                     double *running_share);

/* Scales a raw delta: value * enabled / running when running < enabled;
 * NAN when running is 0. */
double sm_perf_scale(uint64_t value, uint64_t enabled, uint64_t running);

/* Writes into buf one sentence saying why event i is not open in t
 * (its errno, what it means here: no PMU, perf_event_paranoid, an event
 * the PMU lacks); "" when it is open. */
void sm_perf_explain(const struct sm_perf_thread *t, size_t i, char *buf,
                     size_t size);

/* Closes every open event of t; safe to call twice. */
void sm_perf_close(struct sm_perf_thread *t);

#endif
