/* topology.h: the machine's cores, SMT siblings and caches (hwloc), and
 * placement plans that pin benchmark threads to them. */
#ifndef SYNCMARK_TOPOLOGY_H
#define SYNCMARK_TOPOLOGY_H

#include <stddef.h>

/* A loaded topology restricted to the PUs this process may use. */
struct sm_topology;

/* How to load a topology. All NULL: this machine, restricted to the cpuset
 * the OS allows (cgroups) intersected with the process affinity (taskset). */
struct sm_topology_opts {
  const char *synthetic;   /* hwloc synthetic description, e.g.
                              "pack:2 l3:1 core:4 pu:2" (tests) */
  const char *xml_path;    /* an hwloc XML export instead of this machine */
  const char *allowed_pus; /* restrict further to these OS PU indexes, in
                              hwloc list syntax ("0-3,8"); NULL: no extra
                              restriction */
};
#define SM_TOPOLOGY_OPTS_INIT                                                  \
  { NULL, NULL, NULL }

/* Loads a topology. Returns 0 and sets *out, -EINVAL for a malformed
 * synthetic description or PU list, -ENODEV when no PU is left after the
 * restrictions, -ENOMEM, or another negative errno from hwloc. */
int sm_topology_load(const struct sm_topology_opts *opts,
                     struct sm_topology **out);

/* Frees a topology; NULL is accepted. */
void sm_topology_free(struct sm_topology *topo);

/* Object counts. The allowed_* fields count only what the restrictions
 * leave; the others describe the whole machine. */
struct sm_topology_counts {
  unsigned packages;
  unsigned numa_nodes;
  unsigned l3_groups; /* 0 when hwloc reports no L3 cache */
  unsigned cores;
  unsigned pus;
  unsigned allowed_pus;
  unsigned allowed_cores;            /* cores with at least one allowed PU */
  unsigned max_allowed_pus_per_core; /* 1: no usable SMT sibling */
};

/* Fills *out. Never fails. */
void sm_topology_counts(const struct sm_topology *topo,
                        struct sm_topology_counts *out);

/* Where one allowed PU sits. Logical indexes are hwloc's; -1 means the
 * topology has no such object above the PU (for example no L3 cache). */
struct sm_pu_info {
  int os_index; /* the OS's CPU number, as taskset and /proc use */
  int core;     /* logical index of its core */
  int l3;       /* logical index of its L3 cache, or -1 */
  int package;  /* logical index of its package, or -1 */
  int numa;     /* logical index of its NUMA node, or -1 */
  int smt_rank; /* 0 for the first allowed PU of its core, 1 for the next */
};

/* Writes the allowed PUs, in hwloc's logical order, into out[0..max) and
 * returns how many there are in all (which may exceed max). */
size_t sm_topology_allowed_pus(const struct sm_topology *topo,
                               struct sm_pu_info *out, size_t max);

/* Writes the allowed OS PU indexes in hwloc list syntax ("0-3,8") into buf.
 * Returns 0, or -ENOSPC when buf is too small (buf then holds "" ). */
int sm_topology_allowed_list(const struct sm_topology *topo, char *buf,
                             size_t size);

/* Where a plan puts N benchmark threads. */
enum sm_placement {
  SM_PLACE_COMPACT,   /* one thread per physical core, cores in topology
                         order (close together); SMT siblings only once
                         every allowed core has a thread */
  SM_PLACE_SCATTER,   /* one thread per physical core, round-robin over
                         packages then L3 groups (far apart); SMT siblings
                         last */
  SM_PLACE_SMT_FIRST, /* fill every PU of a core before the next core */
  SM_PLACE_NONE,      /* no pinning: the OS scheduler decides */
  SM_PLACE_COUNT
};

/* Returns the name of a placement ("compact", "scatter", "smt-first",
 * "none"), or NULL for a value out of range. */
const char *sm_placement_name(enum sm_placement placement);

/* Parses a placement name. Returns 0 and sets *out, or -EINVAL. */
int sm_placement_parse(const char *name, enum sm_placement *out);

/* Plans `nthreads` threads: os_pus[i] is the OS PU index for thread i, or -1
 * for SM_PLACE_NONE. More threads than allowed PUs wrap around the plan
 * (oversubscription). Returns 0, -EINVAL for nthreads == 0 or a bad
 * placement, -ENOTSUP when the machine cannot provide the placement
 * (smt-first without any core having two allowed PUs). */
int sm_topology_plan_threads(const struct sm_topology *topo,
                             enum sm_placement placement, unsigned nthreads,
                             int *os_pus);

/* Where a plan puts the two threads of a ping-pong pair. */
enum sm_pair_placement {
  SM_PAIR_SAME_PU,       /* both on one PU: every hand-off is a switch */
  SM_PAIR_SMT_SIBLING,   /* two PUs of one physical core */
  SM_PAIR_SAME_L3,       /* two cores that share an L3 cache */
  SM_PAIR_CROSS_L3,      /* two cores of one package, different L3 caches */
  SM_PAIR_CROSS_PACKAGE, /* two packages */
  SM_PAIR_COUNT
};

/* Returns the name of a pair placement ("same-pu", "smt-sibling",
 * "same-l3", "cross-l3", "cross-package"), or NULL when out of range. */
const char *sm_pair_placement_name(enum sm_pair_placement placement);

/* Parses a pair placement name. Returns 0 and sets *out, or -EINVAL. */
int sm_pair_placement_parse(const char *name, enum sm_pair_placement *out);

/* Picks two allowed OS PU indexes for a pair placement (the first matching
 * pair in logical order). Returns 0, -EINVAL for a bad value, or -ENOTSUP
 * when this topology cannot provide it; a caller reports that as skipped. */
int sm_topology_plan_pair(const struct sm_topology *topo,
                          enum sm_pair_placement placement, int os_pus[2]);

/* Binds the calling thread to OS PU `os_pu` and verifies the binding by
 * reading it back and checking sched_getcpu(). Returns 0, -EINVAL when the
 * PU is not allowed, -ENOTSUP when the topology is not this machine
 * (synthetic or XML), -EIO when the verification fails, or a negative errno
 * from the OS. */
int sm_topology_bind_thread(const struct sm_topology *topo, int os_pu);

/* Lets the calling thread run on every allowed PU again. Returns 0, -ENOTSUP
 * for a topology that is not this machine, or a negative errno. */
int sm_topology_unbind_thread(const struct sm_topology *topo);

#endif
