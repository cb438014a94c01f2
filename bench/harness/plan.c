/* plan.c: expansion of a run request into cases. */
#include "plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "registry.h"
#include "text.h"

const char *sm_case_label(const struct sm_case *c, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s", c->family->name, c->variant->name);
  return buf;
}

/* Returns true when `pattern` selects the family as a whole or the variant. */
static bool filter_matches(const char *pattern, const struct sm_family *f,
                           const struct sm_variant *v) {
  char label[128];
  snprintf(label, sizeof label, "%s/%s", f->name, v->name);
  return fnmatch(pattern, f->name, 0) == 0 || fnmatch(pattern, label, 0) == 0;
}

/* Returns true when the request selects variant v of family f. */
static bool selected(const struct sm_plan_request *req,
                     const struct sm_family *f, const struct sm_variant *v) {
  if (req->nfilters == 0)
    return true;
  for (size_t i = 0; i < req->nfilters; i++)
    if (filter_matches(req->filters[i], f, v))
      return true;
  return false;
}

int sm_plan_unmatched_filter(const struct sm_plan_request *req) {
  for (size_t i = 0; i < req->nfilters; i++) {
    bool hit = false;
    for (size_t fi = 0; fi < sm_nfamilies && !hit; fi++)
      for (size_t vi = 0; vi < sm_families[fi]->nvariants && !hit; vi++)
        hit = filter_matches(req->filters[i], sm_families[fi],
                             &sm_families[fi]->variants[vi]);
    if (!hit)
      return (int)i;
  }
  return -1;
}

/* Returns the --param values given for axis `a`, or NULL. */
static const struct sm_axis_override *
override_of(const struct sm_plan_request *req, const struct sm_axis *a) {
  for (size_t i = 0; i < req->noverrides; i++)
    if (strcmp(req->overrides[i].key, a->key) == 0)
      return &req->overrides[i];
  return NULL;
}

/* Returns the axis values a run uses (--param, quick or full) and their
 * count. */
static const long *axis_values(const struct sm_plan_request *req,
                               const struct sm_axis *a, size_t *n) {
  const struct sm_axis_override *o = override_of(req, a);
  if (o) {
    *n = o->nvalues;
    return o->values;
  }
  *n = req->quick ? a->nquick : a->nvalues;
  return req->quick ? a->quick_values : a->values;
}

/* Number of axis-value combinations of a family (1 without axes). */
static size_t combinations(const struct sm_plan_request *req,
                           const struct sm_family *f) {
  size_t total = 1, n;
  for (size_t a = 0; a < f->naxes; a++) {
    axis_values(req, &f->axes[a], &n);
    total *= n;
  }
  return total;
}

/* Sets c->param and c->params for combination number `k` of the family's
 * axes (the last axis varies fastest). */
static void set_params(const struct sm_plan_request *req, struct sm_case *c,
                       size_t k) {
  const struct sm_family *f = c->family;
  c->params[0] = '\0';
  for (size_t a = f->naxes; a-- > 0;) {
    size_t n;
    const long *values = axis_values(req, &f->axes[a], &n);
    c->param[a] = values[k % n];
    k /= n;
  }
  for (size_t a = 0; a < f->naxes; a++)
    sm_appendf(c->params, sizeof c->params, "%s%s=%ld", a ? ";" : "",
               f->axes[a].key, c->param[a]);
}

/* Room for one OS PU index and its separator in the cpus column. */
enum { CPUS_CHARS_PER_THREAD = 12, CPUS_MIN_SIZE = 256 };

/* Allocates c->os_pus for `n` threads (all -1) and an empty c->cpus.
 * Returns 0 or -ENOMEM. */
static int alloc_cpus(struct sm_case *c, unsigned n, size_t *size) {
  *size = (size_t)n * CPUS_CHARS_PER_THREAD + CPUS_MIN_SIZE;
  c->os_pus = malloc(sizeof *c->os_pus * n);
  c->cpus = calloc(*size, 1);
  if (!c->os_pus || !c->cpus)
    return -ENOMEM;
  for (unsigned i = 0; i < n; i++)
    c->os_pus[i] = -1;
  return 0;
}

/* Fills c->cpus: the first n OS PUs of c->os_pus, or the allowed set when
 * they are not pinned. Returns 0 or a negative errno. */
static int list_cpus(struct sm_case *c, unsigned n, size_t size,
                     const struct sm_topology *topo) {
  if (n == 0 || c->os_pus[0] < 0)
    return sm_topology_allowed_list(topo, c->cpus, size);
  int rc = 0;
  for (unsigned i = 0; i < n && rc == 0; i++)
    rc = sm_appendf(c->cpus, size, "%s%d", i ? " " : "", c->os_pus[i]);
  return rc;
}

/* Sets c->os_pus and c->cpus from the placement plan of c->threads plus the
 * family's extra threads. Returns 0, -ENOMEM or the planner's error. */
static int set_thread_cpus(struct sm_case *c, const struct sm_topology *topo) {
  unsigned n = c->threads + c->family->extra_threads;
  size_t size;
  int rc = alloc_cpus(c, n, &size);
  if (rc == 0)
    rc = sm_topology_plan_threads(topo, c->placement, n, c->os_pus);
  return rc == 0 ? list_cpus(c, n, size, topo) : rc;
}

/* Records a placement this machine cannot provide, once. */
static void note_skipped(struct sm_plan *plan, const char *what) {
  if (strstr(plan->skipped, what))
    return;
  sm_appendf(plan->skipped, sizeof plan->skipped, "%s%s",
             plan->skipped[0] ? "; " : "", what);
}

size_t sm_plan_split_placements(const struct sm_topology *topo,
                                const enum sm_placement *asked, size_t n,
                                enum sm_placement *possible, char *skipped,
                                size_t size) {
  size_t npossible = 0;
  skipped[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    int pu;
    if (sm_topology_plan_threads(topo, asked[i], 1, &pu) == 0)
      possible[npossible++] = asked[i];
    else
      sm_appendf(skipped, size, "%s%s", skipped[0] ? "; " : "",
                 sm_placement_name(asked[i]));
  }
  return npossible;
}

/* Appends a zeroed case for (f, v, combination k) and returns it, or NULL
 * when memory runs out. */
static struct sm_case *push_case(const struct sm_plan_request *req,
                                 const struct sm_family *f,
                                 const struct sm_variant *v, size_t k,
                                 struct sm_plan *plan, size_t *cap) {
  if (plan->ncases == *cap) {
    size_t grown = *cap ? *cap * 2 : 64;
    struct sm_case *cases = realloc(plan->cases, grown * sizeof *cases);
    if (!cases)
      return NULL;
    plan->cases = cases;
    *cap = grown;
  }
  struct sm_case *c = &plan->cases[plan->ncases++];
  *c = (struct sm_case){.family = f, .variant = v, .quick = req->quick};
  set_params(req, c, k);
  return c;
}

/* Thread counts of a SM_SHAPE_THREADS family: its PU multiples when the run
 * uses the automatic list and the family has them, else the run's. Returns
 * how many were written to out (capacity SM_MAX_THREAD_COUNTS). */
static size_t family_threads(const struct sm_plan_request *req,
                             const struct sm_family *f, unsigned *out) {
  if (!req->threads_auto || f->nauto_pu_multiples == 0) {
    memcpy(out, req->threads, req->nthreads * sizeof *out);
    return req->nthreads;
  }
  size_t n = 0;
  for (size_t i = 0; i < f->nauto_pu_multiples && n < SM_MAX_THREAD_COUNTS; i++)
    out[n++] = f->auto_pu_multiples[i] * req->allowed_pus;
  return n;
}

/* Appends the thread-count x placement cases of combination k. */
static int add_thread_cases(const struct sm_plan_request *req,
                            const struct sm_topology *topo,
                            const struct sm_family *f,
                            const struct sm_variant *v, size_t k,
                            struct sm_plan *plan, size_t *cap) {
  unsigned threads[SM_MAX_THREAD_COUNTS];
  size_t nthreads = family_threads(req, f, threads);
  for (size_t t = 0; t < nthreads; t++)
    for (size_t p = 0; p < req->nplacements; p++) {
      struct sm_case *c = push_case(req, f, v, k, plan, cap);
      if (!c)
        return -ENOMEM;
      c->threads = threads[t];
      c->placement = req->placements[p];
      c->placement_name = sm_placement_name(c->placement);
      int rc = set_thread_cpus(c, topo);
      if (rc != 0)
        return rc;
    }
  return 0;
}

/* Appends a case of two threads on pus[0] and pus[1] (-1: unpinned) named
 * `name` for combination k, params extended by `extra` (NULL: none); the
 * family's extra threads are not pinned.
 * Returns 0, -ENOMEM or -ENOSPC. */
static int push_pair_case(const struct sm_plan_request *req,
                          const struct sm_topology *topo,
                          const struct sm_family *f, const struct sm_variant *v,
                          size_t k, struct sm_plan *plan, size_t *cap,
                          const char *name, const int pus[2],
                          const char *extra) {
  struct sm_case *c = push_case(req, f, v, k, plan, cap);
  size_t size;
  if (!c || alloc_cpus(c, 2 + f->extra_threads, &size) != 0)
    return -ENOMEM;
  c->threads = 2;
  c->placement = SM_PLACE_NONE;
  c->placement_name = name;
  c->os_pus[0] = pus[0];
  c->os_pus[1] = pus[1];
  int rc = extra ? sm_appendf(c->params, sizeof c->params, "%s%s",
                              c->params[0] ? ";" : "", extra)
                 : 0;
  return rc == 0 ? list_cpus(c, 2, size, topo) : rc;
}

/* Appends the pair cases of combination k: every pair placement this
 * machine offers, then the unpinned pair; the family's extra threads are
 * not pinned. */
static int add_pair_cases(const struct sm_plan_request *req,
                          const struct sm_topology *topo,
                          const struct sm_family *f, const struct sm_variant *v,
                          size_t k, struct sm_plan *plan, size_t *cap) {
  for (int p = 0; p <= SM_PAIR_COUNT; p++) {
    int pus[2] = {-1, -1};
    const char *name = p < SM_PAIR_COUNT
                           ? sm_pair_placement_name((enum sm_pair_placement)p)
                           : "none";
    if (p < SM_PAIR_COUNT &&
        sm_topology_plan_pair(topo, (enum sm_pair_placement)p, pus) != 0) {
      char what[64];
      snprintf(what, sizeof what, "pair %s", name);
      note_skipped(plan, what);
      continue;
    }
    int rc = push_pair_case(req, topo, f, v, k, plan, cap, name, pus, NULL);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Appends the one case of combination k of a SM_SHAPE_SINGLE family: one
 * thread and the family's extra ones (a variant with more than one role),
 * none of them pinned. */
static int add_single_case(const struct sm_plan_request *req,
                           const struct sm_topology *topo,
                           const struct sm_family *f,
                           const struct sm_variant *v, size_t k,
                           struct sm_plan *plan, size_t *cap) {
  struct sm_case *c = push_case(req, f, v, k, plan, cap);
  size_t size;
  /* os_pus holds an unpinned entry for each of the family's own threads
   * too: the runner reads one per thread of the roles it starts. */
  if (!c || alloc_cpus(c, 1 + f->extra_threads, &size) != 0)
    return -ENOMEM;
  c->threads = 1;
  c->placement = SM_PLACE_NONE;
  c->placement_name = "none";
  return list_cpus(c, 1, size, topo);
}

/* The class of the pair of allowed PUs a and b (two different PUs), named
 * as the pair placements are: smt-sibling, same-l3, cross-l3,
 * cross-package; same-package when the machine reports no L3. */
static const char *pair_class(const struct sm_pu_info *a,
                              const struct sm_pu_info *b) {
  if (a->core == b->core)
    return "smt-sibling";
  if (a->package >= 0 && b->package >= 0 && a->package != b->package)
    return "cross-package";
  if (a->l3 >= 0 && b->l3 >= 0)
    return a->l3 == b->l3 ? "same-l3" : "cross-l3";
  return "same-package";
}

/* Variants of f the request selects. */
static size_t selected_variants(const struct sm_plan_request *req,
                                const struct sm_family *f) {
  size_t n = 0;
  for (size_t v = 0; v < f->nvariants; v++)
    n += selected(req, f, &f->variants[v]);
  return n;
}

/* The most PUs whose pairs (every selected variant of f) fit the request's
 * budget, at most SM_PU_PAIRS_MAX_PUS; below 2 when not even one pair
 * fits. */
static size_t pair_pu_limit(const struct sm_plan_request *req,
                            const struct sm_family *f) {
  size_t k = SM_PU_PAIRS_MAX_PUS;
  double per_pair = req->pair_case_s * (double)selected_variants(req, f);
  if (req->pair_budget_s > 0 && per_pair > 0)
    while (k >= 2 &&
           (double)k * (double)(k - 1) / 2.0 * per_pair > req->pair_budget_s)
      k--;
  return k;
}

/* Keeps in pus[0..*n) (topology order) the allowed PUs of every s-th core,
 * the smallest stride s that leaves at most `limit` PUs (the first `limit`
 * PUs when one core alone has more), and describes the sample in `note`. */
static void sample_cores(struct sm_pu_info *pus, size_t *n, size_t limit,
                         char *note, size_t size) {
  size_t cores = 0, per_core = 0, run = 0, all = *n;
  for (size_t i = 0; i < all; i++) {
    bool first = i == 0 || pus[i].core != pus[i - 1].core;
    cores += first;
    run = first ? 1 : run + 1;
    per_core = run > per_core ? run : per_core;
  }
  size_t want = limit / per_core;
  if (want == 0) {
    *n = limit;
    snprintf(note, size, "%zu of %zu PUs: the first %zu", limit, all, limit);
    return;
  }
  size_t stride = (cores + want - 1) / want, kept = 0, core = 0;
  for (size_t i = 0; i < all; i++) {
    if (i > 0 && pus[i].core != pus[i - 1].core)
      core++;
    if (core % stride == 0)
      pus[kept++] = pus[i];
  }
  *n = kept;
  snprintf(note, size, "%zu of %zu PUs: every %zu%s of %zu cores, whole cores",
           kept, all, stride,
           stride == 2   ? "nd"
           : stride == 3 ? "rd"
                         : "th",
           cores);
}

/* Chooses the PUs family f pairs up (see sm_plan_build) into *out
 * (allocated, topology order; *n of them) and notes the sample in the
 * plan. Returns 0, -ENOMEM, or -ETIME when not one pair fits the budget
 * (plan->why set). */
static int pair_pus(const struct sm_plan_request *req,
                    const struct sm_topology *topo, const struct sm_family *f,
                    struct sm_plan *plan, struct sm_pu_info **out, size_t *n) {
  size_t all = sm_topology_allowed_pus(topo, NULL, 0);
  size_t limit = pair_pu_limit(req, f);
  *out = malloc(sizeof **out * (all ? all : 1));
  if (!*out)
    return -ENOMEM;
  *n = sm_topology_allowed_pus(topo, *out, all);
  if (*n >= 2 && limit < 2) {
    double one = req->pair_case_s * (double)selected_variants(req, f);
    snprintf(plan->why, sizeof plan->why,
             "%g s cannot hold one pass of one PU pair of %s, which takes "
             "%g s (repetitions x (warmup + window) x %zu variant(s)); "
             "allowed: %g s or more",
             req->pair_budget_s, f->name, one, selected_variants(req, f), one);
    free(*out);
    *out = NULL;
    return -ETIME;
  }
  char note[160];
  if (*n < 2 || *n <= limit)
    snprintf(note, sizeof note, "all %zu PU%s", *n, *n == 1 ? "" : "s");
  else
    sample_cores(*out, n, limit, note, sizeof note);
  snprintf(plan->pu_sample, sizeof plan->pu_sample, "%s: %s", f->name, note);
  if (*n < 2)
    note_skipped(plan, "pu pairs (one PU)");
  return 0;
}

/* Appends the PU-pair cases of combination k: every unordered pair of the
 * chosen PUs, in topology order. */
static int add_pu_pair_cases(const struct sm_plan_request *req,
                             const struct sm_topology *topo,
                             const struct sm_family *f,
                             const struct sm_variant *v, size_t k,
                             struct sm_plan *plan, size_t *cap) {
  struct sm_pu_info *pus;
  size_t n;
  int rc = pair_pus(req, topo, f, plan, &pus, &n);
  for (size_t a = 0; rc == 0 && a < n; a++)
    for (size_t b = a + 1; rc == 0 && b < n; b++) {
      int os[2] = {pus[a].os_index, pus[b].os_index};
      char extra[48];
      snprintf(extra, sizeof extra, "from=%d;to=%d", os[0], os[1]);
      rc = push_pair_case(req, topo, f, v, k, plan, cap,
                          pair_class(&pus[a], &pus[b]), os, extra);
    }
  free(pus);
  return rc;
}

/* Appends every case of variant v of family f. Returns 0, -ENOMEM or
 * -ETIME (a pair budget too small, plan->why set). */
static int add_variant_cases(const struct sm_plan_request *req,
                             const struct sm_topology *topo,
                             const struct sm_family *f,
                             const struct sm_variant *v, struct sm_plan *plan,
                             size_t *cap) {
  size_t ncomb = combinations(req, f);
  int rc = 0;
  for (size_t k = 0; k < ncomb && rc == 0; k++) {
    if (f->shape == SM_SHAPE_PAIR)
      rc = add_pair_cases(req, topo, f, v, k, plan, cap);
    else if (f->shape == SM_SHAPE_SINGLE)
      rc = add_single_case(req, topo, f, v, k, plan, cap);
    else if (f->shape == SM_SHAPE_PU_PAIRS)
      rc = add_pu_pair_cases(req, topo, f, v, k, plan, cap);
    else
      rc = add_thread_cases(req, topo, f, v, k, plan, cap);
  }
  return rc;
}

/* Families of the request: its own list or the registry. */
static const struct sm_family *const *
request_families(const struct sm_plan_request *req, size_t *n) {
  *n = req->families ? req->nfamilies : sm_nfamilies;
  return req->families ? req->families : sm_families;
}

/* Returns true when any variant of f is selected by the request. */
static bool family_selected(const struct sm_plan_request *req,
                            const struct sm_family *f) {
  for (size_t v = 0; v < f->nvariants; v++)
    if (selected(req, f, &f->variants[v]))
      return true;
  return false;
}

/* Checks one --param against the axes of the selected families. */
static int check_override(const struct sm_plan_request *req,
                          const struct sm_axis_override *o, char *msg,
                          size_t size) {
  size_t nfamilies;
  const struct sm_family *const *families = request_families(req, &nfamilies);
  char keys[512] = "";
  bool found = false;
  for (size_t fi = 0; fi < nfamilies; fi++) {
    const struct sm_family *f = families[fi];
    if (!family_selected(req, f))
      continue;
    for (size_t a = 0; a < f->naxes; a++) {
      const struct sm_axis *axis = &f->axes[a];
      sm_appendf(keys, sizeof keys, "%s%s", keys[0] ? ", " : "", axis->key);
      if (strcmp(axis->key, o->key) != 0)
        continue;
      found = true;
      for (size_t i = 0; i < o->nvalues; i++)
        if (o->values[i] < axis->min || o->values[i] > axis->max) {
          snprintf(msg, size,
                   "--param %s=%ld: out of range for %s (allowed: %ld to "
                   "%ld)",
                   o->key, o->values[i], f->name, axis->min, axis->max);
          return -EINVAL;
        }
    }
  }
  if (!found) {
    snprintf(msg, size,
             "--param %s: no selected benchmark has this parameter "
             "(allowed: %s)",
             o->key,
             keys[0] ? keys
                     : "none; the selected families have no "
                       "parameters");
    return -EINVAL;
  }
  return 0;
}

int sm_plan_check_overrides(const struct sm_plan_request *req, char *msg,
                            size_t size) {
  for (size_t i = 0; i < req->noverrides; i++) {
    int rc = check_override(req, &req->overrides[i], msg, size);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int sm_plan_build(const struct sm_plan_request *req,
                  const struct sm_topology *topo, struct sm_plan *plan) {
  *plan = (struct sm_plan){0};
  size_t cap = 0;
  if (req->skipped_placements)
    snprintf(plan->skipped, sizeof plan->skipped, "%s",
             req->skipped_placements);
  if (req->nplacements == 0)
    return -ENOTSUP;
  size_t nfamilies;
  const struct sm_family *const *families = request_families(req, &nfamilies);
  for (size_t fi = 0; fi < nfamilies; fi++) {
    const struct sm_family *f = families[fi];
    for (size_t vi = 0; vi < f->nvariants; vi++) {
      if (!selected(req, f, &f->variants[vi]))
        continue;
      int rc = add_variant_cases(req, topo, f, &f->variants[vi], plan, &cap);
      if (rc != 0) {
        sm_plan_free(plan);
        return rc;
      }
    }
  }
  return 0;
}

void sm_plan_free(struct sm_plan *plan) {
  for (size_t i = 0; i < plan->ncases; i++) {
    free(plan->cases[i].os_pus);
    free(plan->cases[i].cpus);
  }
  free(plan->cases);
  plan->cases = NULL;
  plan->ncases = 0;
}
