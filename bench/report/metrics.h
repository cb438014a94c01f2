/* metrics.h: what a metric's value means for a comparison: whether higher
 * or lower is better, from its name and unit. */
#ifndef SYNCMARK_BENCH_METRICS_H
#define SYNCMARK_BENCH_METRICS_H

/* Which way a metric gets better. */
enum sm_direction {
  SM_HIGHER_IS_BETTER, /* throughput: ops/s, msgs/s, tasks/s */
  SM_LOWER_IS_BETTER,  /* time and memory: ns, us, ms, s, KiB */
  SM_NO_DIRECTION      /* diagnostics (switch counts, fairness shares,
                          ratios, counts): reported, never a regression */
};

/* Returns the direction of `metric` measured in `unit`: higher is better
 * for a rate of work (a unit ending in "/s", switch rates excepted), lower
 * is better for a time or a size (unit ns, us, ms, s, KiB, MiB or bytes)
 * unless the metric describes the setting rather than the strategy
 * (wait_ns, timer_slack_ns, cpu_probe_ns, time_to_deadlock_ms), and no
 * direction otherwise (counts, ratios, switch rates). */
enum sm_direction sm_metric_direction(const char *metric, const char *unit);

/* Returns "higher", "lower" or "none". */
const char *sm_direction_name(enum sm_direction d);

#endif
