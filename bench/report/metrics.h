/* metrics.h: what a metric's value means for a comparison: its declared
 * direction (the family's declarations, the runner's window and sampled
 * metrics). */
#ifndef SYNCMARK_BENCH_METRICS_H
#define SYNCMARK_BENCH_METRICS_H

#include "family.h"

/* The declaration of `metric` as family `benchmark` writes it: the
 * family's own (sm_family.metric_decls), one of the runner's window
 * metrics, an event counter's (--counters: <event>_per_op), an
 * interference metric (run_delay_share ...), or a sampled
 * latency of one of its roles (<name>_p50_ns ...).
 * NULL when the family is unknown or does not declare it. */
const struct sm_metric_decl *sm_metric_declared(const char *benchmark,
                                                const char *metric);

/* Returns the direction of `metric` (in `unit`, kept for callers that
 * have it) of family `benchmark`: its declaration's; an undeclared metric,
 * or one of an unknown family, has none (it is listed, never flagged). */
enum sm_direction sm_metric_direction(const char *benchmark, const char *metric,
                                      const char *unit);

/* Returns "higher", "lower" or "none". */
const char *sm_direction_name(enum sm_direction d);

#endif
