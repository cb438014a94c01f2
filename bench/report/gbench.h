/* gbench.h: a run written as Google Benchmark JSON, for tools that read
 * that format (its compare.py, CI dashboards). */
#ifndef SYNCMARK_BENCH_GBENCH_H
#define SYNCMARK_BENCH_GBENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "family.h"
#include "results.h"
#include "syncmark/machine.h"

/* Writes the run as Google Benchmark JSON at `path` (temp file + rename):
 * "context" from the machine fields (date, host_name, executable, num_cpus,
 * mhz_per_cpu, cpu_scaling_enabled, caches, load_avg, library_build_type),
 * and in "benchmarks" one "iteration" entry per repetition and "aggregate"
 * entries (mean, median, stddev, cv) per case. A case is named
 * "family/variant/key:value/.../threads:N/placement:P"; real_time and
 * cpu_time are its time metric in ns (ns_per_op, else a median latency
 * *p50_ns, else its first metric in ns), cpu_time equal to real_time since
 * syncmark does not measure CPU time per operation; every metric of the case is
 * a user counter. Cases without a metric in ns, and those marked in `dropped`,
 * are left out and counted in context.syncmark_cases_without_time. Returns 0 or
 * a negative errno with nothing at path. */
int sm_gbench_write(const char *path, const struct sm_case *cases,
                    size_t ncases, const bool *dropped,
                    const struct sm_results *results,
                    const struct sm_field *fields, size_t nfields);

#endif
