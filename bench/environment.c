/* environment.c: machine and self description shared by `info` and `run`. */
#include "environment.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "runner.h"
#include "syncmark/clock.h"
#include "syncmark/csv.h"

/* Length of the runner-overhead probe window. */
#define OVERHEAD_PROBE_NS 100000000u

int sm_env_describe(const struct sm_topology *topo, struct sm_field *fields,
                    size_t *count, size_t max) {
  int rc = sm_field_add(fields, count, max, "syncmark_version", "%s",
                        SYNCMARK_VERSION);
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "git_commit", "%s",
                      SYNCMARK_GIT_COMMIT);
  if (rc == 0)
    rc = sm_machine_describe(topo, fields, count, max);
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "clock", "%s", "CLOCK_MONOTONIC");
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "clock_overhead_ns", "%.2f",
                      sm_clock_overhead_ns(64));
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "clock_resolution_ns", "%lld",
                      (long long)sm_clock_resolution_ns());
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "runner_overhead_ns_per_op", "%.3f",
                      sm_runner_overhead_ns(topo, OVERHEAD_PROBE_NS));
  return rc;
}

int sm_env_write(const char *path, const struct sm_field *fields,
                 size_t count) {
  struct sm_csv_writer *w;
  int rc = sm_csv_open(path, SM_CSV_MACHINE_HEADER, &w);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < count && rc == 0; i++) {
    const char *row[] = {fields[i].key, fields[i].value};
    rc = sm_csv_write_row(w, row, 2);
  }
  if (rc != 0) {
    sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}

struct sm_topology *sm_env_topology_or_exit(void) {
  struct sm_topology *topo;
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  int rc = sm_topology_load(&opts, &topo);
  if (rc != 0)
    sm_usage_error("cannot read this machine's topology with hwloc: %s",
                   strerror(-rc));
  return topo;
}
