/* outcome.h: what became of each case of a run (measured, skipped, failed,
 * hung) and problems.csv, the file that lists every case that did not
 * yield numbers and why. */
#ifndef SYNCMARK_BENCH_OUTCOME_H
#define SYNCMARK_BENCH_OUTCOME_H

#include <stddef.h>

#include "family.h"

enum sm_outcome_kind {
  SM_OUTCOME_OK,        /* measured (perhaps fewer reps, when interrupted) */
  SM_OUTCOME_SKIPPED,   /* cannot run here; an empty reason: not applicable,
                           left out of every output */
  SM_OUTCOME_FAILED,    /* an error or a failed self-check */
  SM_OUTCOME_TIMED_OUT, /* a repetition outlived the watchdog */
  SM_OUTCOME_CRASHED    /* the process running it died (--isolate) */
};

/* The outcome of one case; only OK cases keep rows. */
struct sm_outcome {
  enum sm_outcome_kind kind;
  unsigned rep;     /* the repetition that decided it (1-based; 0 for OK) */
  double elapsed_s; /* how long that repetition ran, when known, else 0 */
  char reason[256];
};

/* The outcome of a family's or the runner's three-way status: 0 is
 * SM_OUTCOME_OK, SM_MEASURE_SKIP SM_OUTCOME_SKIPPED, a negative errno
 * SM_OUTCOME_FAILED (any other value too: a contract broken is a
 * failure). */
enum sm_outcome_kind sm_outcome_of_status(int status);

/* Returns "ok", "skipped", "failed", "timed_out" or "crashed". */
const char *sm_outcome_name(enum sm_outcome_kind kind);

/* Writes problems.csv at `path` (temp file + rename): one row per case whose
 * outcome is not OK and that has a reason:
 * benchmark,variant,params,threads,placement,rep,status,elapsed_s,reason.
 * Returns 0 or a negative errno, leaving nothing at path. */
int sm_outcome_write_problems(const char *path, const struct sm_case *cases,
                              const struct sm_outcome *outcomes, size_t n);

#endif
