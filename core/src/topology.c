/* topology.c: hwloc topology loading, placement plans and thread binding. */
#include "syncmark/topology.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

struct sm_topology {
  hwloc_topology_t hw;
  hwloc_bitmap_t allowed; /* exactly the allowed PUs, by OS index */
  bool this_system;       /* loaded from this machine: binding works */
  struct sm_topology_counts counts;
  size_t npus;
  struct sm_pu_info *pus; /* allowed PUs in logical order */
  int *core_slot;         /* per PU: dense index of its core (0..ncores) */
  size_t ncores;          /* allowed cores (core_start has ncores + 1) */
  size_t *core_start;     /* core k owns by_core[core_start[k]..[k+1]) */
  size_t *by_core;        /* PU positions grouped by core, by smt_rank */
  int *plan_compact;      /* OS indexes, npus each */
  int *plan_scatter;
  int *plan_smt_first;
};

static const char *const placement_names[SM_PLACE_COUNT] = {
    "compact", "scatter", "smt-first", "none"};

static const char *const pair_names[SM_PAIR_COUNT] = {
    "same-pu", "smt-sibling", "same-l3", "cross-l3", "cross-package"};

/* Returns the negative errno of the last failed hwloc or libc call, or
 * `fallback` when errno was left at zero. Never fails. */
static int neg_errno(int fallback) {
  return errno > 0 ? -errno : fallback;
}

/* Parses one decimal PU number at *p, advancing *p past it. Returns true and
 * sets *out, or false when *p holds no digit or the number exceeds INT_MAX. */
static bool parse_pu_number(const char **p, long *out) {
  const char *s = *p;
  long v = 0;
  if (!isdigit((unsigned char)*s))
    return false;
  while (isdigit((unsigned char)*s)) {
    v = v * 10 + (*s - '0');
    if (v > INT_MAX)
      return false;
    s++;
  }
  *p = s;
  *out = v;
  return true;
}

/* Checks that `list` is a well-formed hwloc PU list: comma-separated items,
 * each "N" or "N-M" with N <= M, optionally surrounded by blanks. hwloc's own
 * parser accepts reversed or negative ranges as empty sets and lets numbers
 * overflow, so this runs first. Returns true when the list is well formed,
 * false otherwise (an empty list included). */
static bool pu_list_valid(const char *list) {
  const char *p = list;
  while (isspace((unsigned char)*p))
    p++;
  for (;;) {
    long lo, hi;
    if (!parse_pu_number(&p, &lo))
      return false;
    if (*p == '-') {
      p++;
      if (!parse_pu_number(&p, &hi) || hi < lo)
        return false;
    }
    if (*p != ',')
      break;
    p++;
  }
  while (isspace((unsigned char)*p))
    p++;
  return *p == '\0';
}

/* Returns the logical index of the first NUMA node whose cpuset holds `pu`,
 * or -1 when no NUMA node covers it. Never fails. */
static int numa_of(hwloc_topology_t hw, hwloc_obj_t pu) {
  hwloc_obj_t node = NULL;
  while ((node = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, node)))
    if (node->cpuset && hwloc_bitmap_intersects(node->cpuset, pu->cpuset))
      return (int)node->logical_index;
  return -1;
}

/* Returns the logical index of the ancestor of `pu` of `type`, or -1 when
 * there is none. Never fails. */
static int ancestor_index(hwloc_topology_t hw, hwloc_obj_type_t type,
                          hwloc_obj_t pu) {
  hwloc_obj_t obj = hwloc_get_ancestor_obj_by_type(hw, type, pu);
  return obj ? (int)obj->logical_index : -1;
}

/* Returns the number of objects of `type` in the whole topology, 0 when
 * there are none (or hwloc reports them at several depths). Never fails. */
static unsigned count_type(hwloc_topology_t hw, hwloc_obj_type_t type) {
  int n = hwloc_get_nbobjs_by_type(hw, type);
  return n > 0 ? (unsigned)n : 0;
}

/* Computes the cpuset this process may use on this machine into `set`: the
 * allowed cpuset (cgroups) intersected with the process binding, falling back
 * to sched_getaffinity() when hwloc cannot read the binding. Returns 0 or a
 * negative errno. */
static int load_process_cpuset(hwloc_topology_t hw, hwloc_bitmap_t set) {
  hwloc_bitmap_t bind = hwloc_bitmap_alloc();
  if (!bind)
    return -ENOMEM;
  if (hwloc_get_cpubind(hw, bind, HWLOC_CPUBIND_PROCESS) != 0) {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof(mask), &mask) != 0) {
      int err = neg_errno(-EIO);
      hwloc_bitmap_free(bind);
      return err;
    }
    hwloc_bitmap_zero(bind);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
      if (CPU_ISSET(cpu, &mask) && hwloc_bitmap_set(bind, (unsigned)cpu) != 0) {
        hwloc_bitmap_free(bind);
        return -ENOMEM;
      }
  }
  int rc = hwloc_bitmap_and(set, hwloc_topology_get_allowed_cpuset(hw), bind);
  hwloc_bitmap_free(bind);
  return rc == 0 ? 0 : -ENOMEM;
}

/* Fills topo->pus, core_slot, the per-core grouping, topo->allowed and the
 * allowed counts from the PUs of topo->hw that `cand` holds. Returns 0,
 * -ENODEV when no PU is left, or -ENOMEM. */
static int collect_pus(struct sm_topology *topo, hwloc_const_bitmap_t cand) {
  hwloc_topology_t hw = topo->hw;
  unsigned total = count_type(hw, HWLOC_OBJ_PU);
  if (total == 0)
    return -ENODEV;
  topo->pus = calloc(total, sizeof(*topo->pus));
  topo->core_slot = calloc(total, sizeof(*topo->core_slot));
  int *core_key = calloc(total, sizeof(*core_key));
  if (!topo->pus || !topo->core_slot || !core_key) {
    free(core_key);
    return -ENOMEM;
  }
  size_t n = 0, ncores = 0;
  hwloc_obj_t pu = NULL;
  while ((pu = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_PU, pu))) {
    if (n == total || !hwloc_bitmap_isset(cand, pu->os_index))
      continue;
    struct sm_pu_info *info = &topo->pus[n];
    info->os_index = (int)pu->os_index;
    info->core = ancestor_index(hw, HWLOC_OBJ_CORE, pu);
    info->l3 = ancestor_index(hw, HWLOC_OBJ_L3CACHE, pu);
    info->package = ancestor_index(hw, HWLOC_OBJ_PACKAGE, pu);
    info->numa = numa_of(hw, pu);
    /* A PU without a core object is a core of its own: its key is unique. */
    int key = info->core >= 0 ? info->core : -1 - (int)pu->logical_index;
    size_t slot = 0;
    while (slot < ncores && core_key[slot] != key)
      slot++;
    if (slot == ncores)
      core_key[ncores++] = key;
    int rank = 0;
    for (size_t j = 0; j < n; j++)
      if (topo->core_slot[j] == (int)slot)
        rank++;
    info->smt_rank = rank;
    topo->core_slot[n] = (int)slot;
    n++;
  }
  free(core_key);
  if (n == 0)
    return -ENODEV;
  topo->npus = n;
  topo->ncores = ncores;

  topo->core_start = calloc(ncores + 1, sizeof(*topo->core_start));
  topo->by_core = calloc(n, sizeof(*topo->by_core));
  topo->allowed = hwloc_bitmap_alloc();
  if (!topo->core_start || !topo->by_core || !topo->allowed)
    return -ENOMEM;
  unsigned max_per_core = 0;
  size_t pos = 0;
  for (size_t k = 0; k < ncores; k++) {
    topo->core_start[k] = pos;
    for (size_t i = 0; i < n; i++)
      if (topo->core_slot[i] == (int)k)
        topo->by_core[pos++] = i;
    unsigned here = (unsigned)(pos - topo->core_start[k]);
    if (here > max_per_core)
      max_per_core = here;
  }
  topo->core_start[ncores] = pos;
  for (size_t i = 0; i < n; i++)
    if (hwloc_bitmap_set(topo->allowed, (unsigned)topo->pus[i].os_index) != 0)
      return -ENOMEM;
  topo->counts.allowed_pus = (unsigned)n;
  topo->counts.allowed_cores = (unsigned)ncores;
  topo->counts.max_allowed_pus_per_core = max_per_core;
  return 0;
}

/* Builds the compact and smt-first plans: compact takes SMT rank 0 of every
 * core in order, then rank 1, and so on; smt-first takes every PU of core 0,
 * then of core 1. Never fails (the arrays are allocated by the caller). */
static void build_compact_and_smt_first(struct sm_topology *topo) {
  size_t out = 0;
  unsigned max = topo->counts.max_allowed_pus_per_core;
  for (unsigned r = 0; r < max; r++)
    for (size_t k = 0; k < topo->ncores; k++)
      if (topo->core_start[k] + r < topo->core_start[k + 1])
        topo->plan_compact[out++] =
            topo->pus[topo->by_core[topo->core_start[k] + r]].os_index;
  for (size_t i = 0; i < topo->npus; i++)
    topo->plan_smt_first[i] = topo->pus[topo->by_core[i]].os_index;
}

/* Returns the position in keys[0..*nkeys) of `key`, appending it when it is
 * new (keys has room for every core). Never fails. */
static size_t key_slot(int *keys, size_t *nkeys, int key) {
  size_t s = 0;
  while (s < *nkeys && keys[s] != key)
    s++;
  if (s == *nkeys)
    keys[(*nkeys)++] = key;
  return s;
}

/* Builds the scatter plan: for each SMT rank, the cores that have a PU of
 * that rank are ordered round-robin over packages and, within a package,
 * round-robin over L3 groups; each core contributes its PU of that rank.
 * Returns 0 or -ENOMEM. */
static int build_scatter(struct sm_topology *topo) {
  size_t nc = topo->ncores;
  /* pkg_of/l3_of: dense package and (package, L3) group per core;
   * order[]: cores of one rank; per-group cursors for the round robin. */
  int *pkg_keys = calloc(nc, sizeof(int));
  int *l3_keys = calloc(nc, sizeof(int));
  size_t *pkg_of = calloc(nc, sizeof(size_t));
  size_t *grp_of = calloc(nc, sizeof(size_t));
  size_t *grp_pkg = calloc(nc, sizeof(size_t));
  size_t *grp_next = calloc(nc, sizeof(size_t));
  size_t *pkg_next_grp = calloc(nc, sizeof(size_t));
  bool *taken = calloc(nc, sizeof(bool));
  int rc = -ENOMEM;
  if (!pkg_keys || !l3_keys || !pkg_of || !grp_of || !grp_pkg || !grp_next ||
      !pkg_next_grp || !taken)
    goto out;

  size_t npkg = 0, ngrp = 0;
  for (size_t k = 0; k < nc; k++) {
    const struct sm_pu_info *first =
        &topo->pus[topo->by_core[topo->core_start[k]]];
    pkg_of[k] = key_slot(pkg_keys, &npkg, first->package);
    /* An L3 group is an L3 object within a package; keys are unique per
     * (package, l3) pair because an L3 never spans packages here. */
    size_t g = 0;
    while (g < ngrp && !(l3_keys[g] == first->l3 && grp_pkg[g] == pkg_of[k]))
      g++;
    if (g == ngrp) {
      l3_keys[ngrp] = first->l3;
      grp_pkg[ngrp] = pkg_of[k];
      ngrp++;
    }
    grp_of[k] = g;
  }

  size_t out = 0;
  unsigned max = topo->counts.max_allowed_pus_per_core;
  for (unsigned r = 0; r < max; r++) {
    size_t want = 0;
    for (size_t k = 0; k < nc; k++) {
      taken[k] = topo->core_start[k] + r >= topo->core_start[k + 1];
      if (!taken[k])
        want++;
    }
    memset(grp_next, 0, nc * sizeof(size_t));
    memset(pkg_next_grp, 0, nc * sizeof(size_t));
    /* Each pass over the packages takes at most one core per package; within
     * a package the next L3 group (cyclically) that still has a core. */
    while (want > 0) {
      for (size_t p = 0; p < npkg && want > 0; p++) {
        for (size_t step = 0; step < ngrp; step++) {
          size_t g = (pkg_next_grp[p] + step) % ngrp;
          if (grp_pkg[g] != p)
            continue;
          size_t k = grp_next[g];
          while (k < nc && (taken[k] || grp_of[k] != g))
            k++;
          grp_next[g] = k;
          if (k == nc)
            continue;
          taken[k] = true;
          want--;
          topo->plan_scatter[out++] =
              topo->pus[topo->by_core[topo->core_start[k] + r]].os_index;
          pkg_next_grp[p] = (g + 1) % ngrp;
          break;
        }
      }
    }
  }
  rc = 0;
out:
  free(pkg_keys);
  free(l3_keys);
  free(pkg_of);
  free(grp_of);
  free(grp_pkg);
  free(grp_next);
  free(pkg_next_grp);
  free(taken);
  return rc;
}

/* Opens the hwloc topology described by `opts` into topo->hw and loads it.
 * Returns 0, -EINVAL for a malformed synthetic description or for both a
 * synthetic description and an XML path, or a negative errno from hwloc. */
static int open_hwloc(struct sm_topology *topo,
                      const struct sm_topology_opts *opts) {
  if (opts->synthetic && opts->xml_path)
    return -EINVAL;
  if (hwloc_topology_init(&topo->hw) != 0) {
    topo->hw = NULL;
    return neg_errno(-ENOMEM);
  }
  errno = 0;
  if (opts->synthetic &&
      hwloc_topology_set_synthetic(topo->hw, opts->synthetic) != 0)
    return neg_errno(-EINVAL);
  if (opts->xml_path && hwloc_topology_set_xml(topo->hw, opts->xml_path) != 0)
    return neg_errno(-EINVAL);
  errno = 0;
  if (hwloc_topology_load(topo->hw) != 0)
    return neg_errno(-EIO);
  topo->this_system = !opts->synthetic && !opts->xml_path &&
                      hwloc_topology_is_thissystem(topo->hw);
  return 0;
}

/* Loads a topology as described in topology.h. Returns 0 and sets *out, or a
 * negative errno (nothing is allocated then). */
int sm_topology_load(const struct sm_topology_opts *opts,
                     struct sm_topology **out) {
  static const struct sm_topology_opts defaults = SM_TOPOLOGY_OPTS_INIT;
  if (!out)
    return -EINVAL;
  *out = NULL;
  if (!opts)
    opts = &defaults;
  if (opts->allowed_pus && !pu_list_valid(opts->allowed_pus))
    return -EINVAL;
  struct sm_topology *topo = calloc(1, sizeof(*topo));
  if (!topo)
    return -ENOMEM;
  hwloc_bitmap_t cand = NULL, extra = NULL;
  int rc = open_hwloc(topo, opts);
  if (rc != 0)
    goto fail;
  rc = -ENOMEM;
  cand = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo->hw));
  if (!cand)
    goto fail;
  if (topo->this_system && (rc = load_process_cpuset(topo->hw, cand)) != 0)
    goto fail;
  if (opts->allowed_pus) {
    rc = -ENOMEM;
    if (!(extra = hwloc_bitmap_alloc()))
      goto fail;
    rc = -EINVAL;
    if (hwloc_bitmap_list_sscanf(extra, opts->allowed_pus) != 0)
      goto fail;
    rc = -ENOMEM;
    if (hwloc_bitmap_and(cand, cand, extra) != 0)
      goto fail;
  }
  rc = collect_pus(topo, cand);
  if (rc != 0)
    goto fail;

  hwloc_topology_t hw = topo->hw;
  topo->counts.packages = count_type(hw, HWLOC_OBJ_PACKAGE);
  topo->counts.numa_nodes = count_type(hw, HWLOC_OBJ_NUMANODE);
  topo->counts.l3_groups = count_type(hw, HWLOC_OBJ_L3CACHE);
  topo->counts.cores = count_type(hw, HWLOC_OBJ_CORE);
  topo->counts.pus = count_type(hw, HWLOC_OBJ_PU);

  rc = -ENOMEM;
  topo->plan_compact = calloc(topo->npus, sizeof(int));
  topo->plan_scatter = calloc(topo->npus, sizeof(int));
  topo->plan_smt_first = calloc(topo->npus, sizeof(int));
  if (!topo->plan_compact || !topo->plan_scatter || !topo->plan_smt_first)
    goto fail;
  build_compact_and_smt_first(topo);
  if ((rc = build_scatter(topo)) != 0)
    goto fail;

  hwloc_bitmap_free(cand);
  hwloc_bitmap_free(extra);
  *out = topo;
  return 0;
fail:
  hwloc_bitmap_free(cand);
  hwloc_bitmap_free(extra);
  sm_topology_free(topo);
  return rc;
}

/* Frees a topology and everything it owns; NULL is accepted. Never fails. */
void sm_topology_free(struct sm_topology *topo) {
  if (!topo)
    return;
  if (topo->hw)
    hwloc_topology_destroy(topo->hw);
  hwloc_bitmap_free(topo->allowed);
  free(topo->pus);
  free(topo->core_slot);
  free(topo->core_start);
  free(topo->by_core);
  free(topo->plan_compact);
  free(topo->plan_scatter);
  free(topo->plan_smt_first);
  free(topo);
}

/* Copies the counts computed at load time into *out. Never fails. */
void sm_topology_counts(const struct sm_topology *topo,
                        struct sm_topology_counts *out) {
  *out = topo->counts;
}

/* Copies up to `max` allowed PUs into `out` and returns how many there are
 * in all. Never fails. */
size_t sm_topology_allowed_pus(const struct sm_topology *topo,
                               struct sm_pu_info *out, size_t max) {
  size_t n = topo->npus < max ? topo->npus : max;
  if (n > 0)
    memcpy(out, topo->pus, n * sizeof(*out));
  return topo->npus;
}

/* Formats the allowed PU set in hwloc list syntax. Returns 0, or -ENOSPC
 * (leaving "" in a non-empty buf) when it does not fit. */
int sm_topology_allowed_list(const struct sm_topology *topo, char *buf,
                             size_t size) {
  if (size == 0)
    return -ENOSPC;
  int len = hwloc_bitmap_list_snprintf(buf, size, topo->allowed);
  if (len < 0 || (size_t)len >= size) {
    buf[0] = '\0';
    return -ENOSPC;
  }
  return 0;
}

/* Returns the index of `name` in names[0..count), or -EINVAL for NULL or a
 * name that is not there. */
static int name_index(const char *const *names, int count, const char *name) {
  if (!name)
    return -EINVAL;
  for (int i = 0; i < count; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return -EINVAL;
}

/* Returns the name of `placement`, or NULL when it is out of range. */
const char *sm_placement_name(enum sm_placement placement) {
  if ((unsigned)placement >= SM_PLACE_COUNT)
    return NULL;
  return placement_names[placement];
}

/* Parses a placement name into *out. Returns 0, or -EINVAL for NULL or an
 * unknown name. */
int sm_placement_parse(const char *name, enum sm_placement *out) {
  int i = name_index(placement_names, SM_PLACE_COUNT, name);
  if (i < 0)
    return i;
  *out = (enum sm_placement)i;
  return 0;
}

/* Writes the OS PUs for `nthreads` threads under `placement`, wrapping
 * around the precomputed plan. Returns 0, -EINVAL for zero threads, a NULL
 * array or a bad placement, or -ENOTSUP for smt-first without SMT. */
int sm_topology_plan_threads(const struct sm_topology *topo,
                             enum sm_placement placement, unsigned nthreads,
                             int *os_pus) {
  if (nthreads == 0 || !os_pus)
    return -EINVAL;
  const int *plan;
  switch (placement) {
  case SM_PLACE_COMPACT:
    plan = topo->plan_compact;
    break;
  case SM_PLACE_SCATTER:
    plan = topo->plan_scatter;
    break;
  case SM_PLACE_SMT_FIRST:
    if (topo->counts.max_allowed_pus_per_core < 2)
      return -ENOTSUP;
    plan = topo->plan_smt_first;
    break;
  case SM_PLACE_NONE:
    for (unsigned i = 0; i < nthreads; i++)
      os_pus[i] = -1;
    return 0;
  default:
    return -EINVAL;
  }
  for (unsigned i = 0; i < nthreads; i++)
    os_pus[i] = plan[i % topo->npus];
  return 0;
}

/* Returns the name of a pair placement, or NULL when it is out of range. */
const char *sm_pair_placement_name(enum sm_pair_placement placement) {
  if ((unsigned)placement >= SM_PAIR_COUNT)
    return NULL;
  return pair_names[placement];
}

/* Parses a pair placement name into *out. Returns 0, or -EINVAL for NULL or
 * an unknown name. */
int sm_pair_placement_parse(const char *name, enum sm_pair_placement *out) {
  int i = name_index(pair_names, SM_PAIR_COUNT, name);
  if (i < 0)
    return i;
  *out = (enum sm_pair_placement)i;
  return 0;
}

/* Returns whether allowed PUs a and b (positions in topo->pus, on different
 * cores) form a pair of kind `placement` (same-l3, cross-l3 or
 * cross-package). Never fails. */
static bool pair_matches(const struct sm_topology *topo,
                         enum sm_pair_placement placement, size_t a, size_t b) {
  const struct sm_pu_info *x = &topo->pus[a], *y = &topo->pus[b];
  switch (placement) {
  case SM_PAIR_SAME_L3:
    return x->l3 >= 0 && x->l3 == y->l3 && x->package == y->package;
  case SM_PAIR_CROSS_L3:
    return x->l3 >= 0 && y->l3 >= 0 && x->l3 != y->l3 &&
           x->package == y->package;
  case SM_PAIR_CROSS_PACKAGE:
    return x->package >= 0 && y->package >= 0 && x->package != y->package;
  default:
    return false;
  }
}

/* Picks the first pair in logical order that fits `placement`. Returns 0,
 * -EINVAL for a bad placement or NULL array, or -ENOTSUP when none fits. */
int sm_topology_plan_pair(const struct sm_topology *topo,
                          enum sm_pair_placement placement, int os_pus[2]) {
  if (!os_pus || (unsigned)placement >= SM_PAIR_COUNT)
    return -EINVAL;
  if (placement == SM_PAIR_SAME_PU) {
    os_pus[0] = os_pus[1] = topo->pus[0].os_index;
    return 0;
  }
  if (placement == SM_PAIR_SMT_SIBLING) {
    for (size_t k = 0; k < topo->ncores; k++)
      if (topo->core_start[k + 1] - topo->core_start[k] >= 2) {
        os_pus[0] = topo->pus[topo->by_core[topo->core_start[k]]].os_index;
        os_pus[1] = topo->pus[topo->by_core[topo->core_start[k] + 1]].os_index;
        return 0;
      }
    return -ENOTSUP;
  }
  if (placement == SM_PAIR_CROSS_L3 && topo->counts.l3_groups == 0)
    return -ENOTSUP;
  for (size_t a = 0; a < topo->npus; a++)
    for (size_t b = a + 1; b < topo->npus; b++)
      if (topo->core_slot[a] != topo->core_slot[b] &&
          pair_matches(topo, placement, a, b)) {
        os_pus[0] = topo->pus[a].os_index;
        os_pus[1] = topo->pus[b].os_index;
        return 0;
      }
  return -ENOTSUP;
}

/* Binds the calling thread to allowed OS PU `os_pu` and checks the binding
 * through hwloc and sched_getcpu(). Returns 0, -ENOTSUP for a topology that
 * is not this machine, -EINVAL for a PU that is not allowed, -EIO when the
 * check fails, or a negative errno from the OS. */
int sm_topology_bind_thread(const struct sm_topology *topo, int os_pu) {
  if (!topo->this_system)
    return -ENOTSUP;
  if (os_pu < 0 || !hwloc_bitmap_isset(topo->allowed, (unsigned)os_pu))
    return -EINVAL;
  hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo->hw, (unsigned)os_pu);
  if (!pu || !pu->cpuset)
    return -EINVAL;
  errno = 0;
  if (hwloc_set_cpubind(topo->hw, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0)
    return neg_errno(-EIO);
  hwloc_bitmap_t now = hwloc_bitmap_alloc();
  if (!now)
    return -ENOMEM;
  errno = 0;
  int rc = 0;
  if (hwloc_get_cpubind(topo->hw, now, HWLOC_CPUBIND_THREAD) != 0)
    rc = neg_errno(-EIO);
  else if (!hwloc_bitmap_isequal(now, pu->cpuset) || sched_getcpu() != os_pu)
    rc = -EIO;
  hwloc_bitmap_free(now);
  return rc;
}

/* Binds the calling thread to every allowed PU. Returns 0, -ENOTSUP for a
 * topology that is not this machine, or a negative errno from the OS. */
int sm_topology_unbind_thread(const struct sm_topology *topo) {
  if (!topo->this_system)
    return -ENOTSUP;
  errno = 0;
  if (hwloc_set_cpubind(topo->hw, topo->allowed, HWLOC_CPUBIND_THREAD) != 0)
    return neg_errno(-EIO);
  return 0;
}
