/* environment.c: machine and self description shared by `info` and `run`. */
#include "environment.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "runner.h"
#include "sampling.h"
#include "syncmark/clock.h"
#include "syncmark/csv.h"
#include "text.h"
#include "syncmark_git_commit.h"

/* Length of the runner-overhead probe window. */
#define OVERHEAD_PROBE_NS 100000000u

/* Lists into buf the ids of other processes named "syncmark" (from
 * /proc/<pid>/comm), space-separated, or "none". A process that vanishes
 * while being read is skipped; an unreadable /proc gives "unknown". */
static void other_syncmark_pids(char *buf, size_t size) {
  DIR *proc = opendir("/proc");
  if (!proc) {
    snprintf(buf, size, "unknown");
    return;
  }
  buf[0] = '\0';
  pid_t self = getpid();
  for (struct dirent *e; (e = readdir(proc));) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || pid == self)
      continue;
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    if (!fgets(comm, sizeof comm, f))
      comm[0] = '\0';
    fclose(f);
    if (strcmp(comm, "syncmark\n") == 0)
      sm_appendf(buf, size, "%s%ld", buf[0] ? " " : "", pid);
  }
  closedir(proc);
  if (!buf[0])
    snprintf(buf, size, "none");
}

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
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "sample_cost_ns", "%.2f",
                      sm_sample_cost_ns());
  char others[256];
  other_syncmark_pids(others, sizeof others);
  if (rc == 0)
    rc = sm_field_add(fields, count, max, "other_syncmark_pids", "%s", others);
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
