/* environment.h: the description of this machine and of syncmark itself
 * that `info` prints and every run records in machine.csv. */
#ifndef SYNCMARK_BENCH_ENVIRONMENT_H
#define SYNCMARK_BENCH_ENVIRONMENT_H

#include <stddef.h>

#include "syncmark/machine.h"

/* Room for the fields of a machine with `allowed_pus` PUs plus the run's. */
#define SM_ENV_MAX_FIELDS(allowed_pus) (96 + (size_t)(allowed_pus))

/* Appends syncmark_version, git_commit, the machine description, and the
 * measured clock_overhead_ns, clock_resolution_ns and
 * runner_overhead_ns_per_op (an empty operation through the runner's
 * measured loop, over 0.1 s). Returns 0 or -ENOSPC. */
int sm_env_describe(const struct sm_topology *topo, struct sm_field *fields,
                    size_t *count, size_t max);

/* Writes fields as machine.csv (key,value) at `path`, temp file + rename.
 * Returns 0 or a negative errno, leaving nothing at path. */
int sm_env_write(const char *path, const struct sm_field *fields, size_t count);

/* Loads this machine's topology (restricted to the process affinity) or
 * exits with status 2 naming the hwloc failure. */
struct sm_topology *sm_env_topology_or_exit(void);

#endif
