/* report.h: REPORT.md of a run folder: machine, noise, the lesson's claims
 * with verdicts, and the figures. */
#ifndef SYNCMARK_BENCH_REPORT_H
#define SYNCMARK_BENCH_REPORT_H

#include <stdio.h>

#include "runview.h"

/* Writes the report of the run in `view` as GitHub-renderable Markdown to
 * `out`; figures are the run folder's PNG files, linked by relative path.
 * Never fails: a value the run lacks is written as "unknown". */
void sm_report_write(FILE *out, const struct sm_run_view *view);

#endif
