/* metrics.h: what a metric's value means for a comparison: its declared
 * direction (the family's declarations, the runner's window and sampled
 * metrics), with the unit rule for a family that declares none yet. */
#ifndef SYNCMARK_BENCH_METRICS_H
#define SYNCMARK_BENCH_METRICS_H

#include "family.h"

/* The declaration of `metric` as family `benchmark` writes it: the
 * family's own (sm_family.metric_decls), one of the runner's window
 * metrics, an event counter's (--counters: <event>_per_op), or a sampled
 * latency of one of its roles (<name>_p50_ns ...).
 * NULL when the family is unknown or does not declare it. */
const struct sm_metric_decl *sm_metric_declared(const char *benchmark,
                                                const char *metric);

/* Returns the direction of `metric` (in `unit`) of family `benchmark`: its
 * declaration's; for a family that still measures itself (sm_family.measure)
 * and so declares nothing, the unit rule: higher is better for a rate of
 * work (a unit ending in "/s", switch rates excepted), lower for a time or
 * a size (ns, us, ms, s, KiB, MiB, bytes) except the settings wait_ns,
 * timer_slack_ns, cpu_probe_ns and time_to_deadlock_ms, none otherwise. An
 * undeclared metric of any other family, or of an unknown one, has none. */
enum sm_direction sm_metric_direction(const char *benchmark, const char *metric,
                                      const char *unit);

/* Returns "higher", "lower" or "none". */
const char *sm_direction_name(enum sm_direction d);

#endif
