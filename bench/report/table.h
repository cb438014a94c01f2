/* table.h: the short human-readable table a run prints. */
#ifndef SYNCMARK_BENCH_TABLE_H
#define SYNCMARK_BENCH_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "family.h"
#include "outcome.h"
#include "results.h"

/* Prints one line per case: its headline metric (ops/s for window
 * families) with the median, 95% CI and CV, and for window families also
 * ns/op, fairness and switches per op. A case without numbers shows its
 * outcome (SKIPPED, FAILED, TIMED_OUT) and reason; a case skipped without a
 * reason (not applicable) is left out. */
void sm_table_print(FILE *out, const struct sm_case *cases, size_t ncases,
                    const struct sm_results *r,
                    const struct sm_outcome *outcomes);

/* Formats a value with an SI prefix ("52.3M") into buf; returns buf. */
char *sm_format_si(double value, char *buf, size_t size);

#endif
