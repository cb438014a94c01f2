/* machine.h: what the machine is (libcpuid, uname, /sys, topology), as
 * key/value fields for `syncmark info` and each run's machine file. */
#ifndef SYNCMARK_MACHINE_H
#define SYNCMARK_MACHINE_H

#include <stddef.h>

#include "syncmark/topology.h"

/* One line of a machine description. Keys are lower_snake_case and stable:
 * scripts read them. */
struct sm_field {
  char key[48];
  char value[464];
};

/* Appends the description of this machine to fields[*count..max), advancing
 * *count. Keys, in this order: cpu_vendor, cpu_brand, cpu_family,
 * cpu_model, cpu_stepping, cpu_cores, cpu_logical, cache_l1d_kib,
 * cache_l2_kib, cache_l3_kib, hypervisor, hostname, kernel, kernel_version,
 * arch, clocksource, governor, load_1m, load_5m, load_15m, topo_packages,
 * topo_numa_nodes, topo_l3_groups, topo_cores, topo_pus, topo_smt_per_core,
 * allowed_pus, allowed_cores, allowed_pu_list, then one pu_<os> field per
 * allowed PU ("core=0 l3=0 package=0 numa=0 smt_rank=0"). A value that
 * cannot be read is "unknown" (libcpuid failing, as on non-x86, gives
 * "unknown" CPU fields, not an error). Returns 0, or -ENOSPC when `max` is
 * too small (fields written so far stay). */
int sm_machine_describe(const struct sm_topology *topo, struct sm_field *fields,
                        size_t *count, size_t max);

/* Appends one field; the value is formatted like printf and cut to fit.
 * Returns 0 or -ENOSPC when the array is full. */
int sm_field_add(struct sm_field *fields, size_t *count, size_t max,
                 const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Returns the value of `key` in fields[0..count), or NULL. */
const char *sm_field_get(const struct sm_field *fields, size_t count,
                         const char *key);

#endif
