/* isolate.h: the records a child process running part of a run (--isolate)
 * sends to its parent over a pipe, so that a crash in one family loses
 * only the repetition it happened in. */
#ifndef SYNCMARK_BENCH_ISOLATE_H
#define SYNCMARK_BENCH_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

/* What a record carries. */
enum sm_record_kind {
  SM_RECORD_BEGIN,   /* a repetition of case_index starts */
  SM_RECORD_ROW,     /* a metric row (metric, unit, value) */
  SM_RECORD_POINT,   /* a series point (metric = series, t_s, value) */
  SM_RECORD_OUTCOME, /* the case yields no numbers (outcome, reason) */
  SM_RECORD_STATE    /* the child's progress: reps_done, runs_done,
                        stopped_by (sent last) */
};

/* One record. Metric and unit names cross by value (a name built at run
 * time, e.g. a sampled role's "<kind>_p50_ns", lives in the child's heap
 * only); the parent interns them. */
struct sm_record {
  enum sm_record_kind kind;
  size_t case_index;
  unsigned rep;
  char metric[96], unit[32];
  double value, t_s;
  int outcome; /* enum sm_outcome_kind */
  uint64_t elapsed_ns;
  unsigned reps_done;
  size_t runs_done;
  size_t retakes; /* repetitions retaken because they were disturbed */
  int stopped_by;
  char reason[256];
};

/* Writes one record to fd whole. Returns 0 or a negative errno. */
int sm_record_send(int fd, const struct sm_record *r);

/* Reads one record from fd, retrying after signals. Returns 1 with *r
 * filled, 0 at the end of the stream, or a negative errno (-EPROTO for a
 * record cut short). */
int sm_record_receive(int fd, struct sm_record *r);

#endif
