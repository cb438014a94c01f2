/* plan.c: expansion of a run request into cases. */
#include "plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Returns the axis values a run uses (quick or full) and their count. */
static const long *axis_values(const struct sm_axis *a, bool quick, size_t *n) {
  *n = quick ? a->nquick : a->nvalues;
  return quick ? a->quick_values : a->values;
}

/* Number of axis-value combinations of a family (1 without axes). */
static size_t combinations(const struct sm_family *f, bool quick) {
  size_t total = 1, n;
  for (size_t a = 0; a < f->naxes; a++) {
    axis_values(&f->axes[a], quick, &n);
    total *= n;
  }
  return total;
}

/* Sets c->param and c->params for combination number `k` of the family's
 * axes (the last axis varies fastest). */
static void set_params(struct sm_case *c, size_t k, bool quick) {
  const struct sm_family *f = c->family;
  c->params[0] = '\0';
  for (size_t a = f->naxes; a-- > 0;) {
    size_t n;
    const long *values = axis_values(&f->axes[a], quick, &n);
    c->param[a] = values[k % n];
    k /= n;
  }
  for (size_t a = 0; a < f->naxes; a++)
    sm_appendf(c->params, sizeof c->params, "%s%s=%ld", a ? ";" : "",
               f->axes[a].key, c->param[a]);
}

/* Room for one OS PU index and its separator in the cpus column. */
enum { CPUS_CHARS_PER_THREAD = 12, CPUS_MIN_SIZE = 256 };

/* Sets c->os_pus and c->cpus from the placement plan: the OS PU of each
 * thread in order, or the allowed set for SM_PLACE_NONE. Returns 0,
 * -ENOMEM or the planner's error. */
static int set_cpus(struct sm_case *c, const struct sm_topology *topo) {
  size_t size = (size_t)c->threads * CPUS_CHARS_PER_THREAD + CPUS_MIN_SIZE;
  c->os_pus = malloc(sizeof *c->os_pus * c->threads);
  c->cpus = calloc(size, 1);
  if (!c->os_pus || !c->cpus)
    return -ENOMEM;
  int rc = sm_topology_plan_threads(topo, c->placement, c->threads, c->os_pus);
  if (rc != 0)
    return rc;
  if (c->placement == SM_PLACE_NONE)
    return sm_topology_allowed_list(topo, c->cpus, size);
  for (unsigned i = 0; i < c->threads && rc == 0; i++)
    rc = sm_appendf(c->cpus, size, "%s%d", i ? " " : "", c->os_pus[i]);
  return rc;
}

/* Records why a placement cannot be provided, once per placement. */
static void note_skipped(struct sm_plan *plan, enum sm_placement p) {
  const char *name = sm_placement_name(p);
  if (strstr(plan->skipped, name))
    return;
  sm_appendf(plan->skipped, sizeof plan->skipped, "%s%s",
             plan->skipped[0] ? "; " : "", name);
}

/* Returns true when `topo` can provide placement p (probed with 1 thread). */
static bool placement_possible(const struct sm_topology *topo,
                               enum sm_placement p) {
  int pu;
  return sm_topology_plan_threads(topo, p, 1, &pu) == 0;
}

/* Appends every case of variant v of family f. Returns 0 or -ENOMEM. */
static int add_variant_cases(const struct sm_plan_request *req,
                             const struct sm_topology *topo,
                             const struct sm_family *f,
                             const struct sm_variant *v, struct sm_plan *plan,
                             size_t *cap) {
  size_t ncomb = combinations(f, req->quick);
  for (size_t k = 0; k < ncomb; k++)
    for (size_t t = 0; t < req->nthreads; t++)
      for (size_t p = 0; p < req->nplacements; p++) {
        if (!placement_possible(topo, req->placements[p]))
          continue;
        if (plan->ncases == *cap) {
          size_t grown = *cap ? *cap * 2 : 64;
          struct sm_case *cases = realloc(plan->cases, grown * sizeof *cases);
          if (!cases)
            return -ENOMEM;
          plan->cases = cases;
          *cap = grown;
        }
        struct sm_case *c = &plan->cases[plan->ncases];
        *c = (struct sm_case){.family = f,
                              .variant = v,
                              .threads = req->threads[t],
                              .placement = req->placements[p]};
        set_params(c, k, req->quick);
        plan->ncases++;
        int rc = set_cpus(c, topo);
        if (rc != 0)
          return rc;
      }
  return 0;
}

int sm_plan_build(const struct sm_plan_request *req,
                  const struct sm_topology *topo, struct sm_plan *plan) {
  *plan = (struct sm_plan){0};
  size_t cap = 0, possible = 0;
  for (size_t p = 0; p < req->nplacements; p++) {
    if (placement_possible(topo, req->placements[p]))
      possible++;
    else
      note_skipped(plan, req->placements[p]);
  }
  if (possible == 0)
    return -ENOTSUP;
  for (size_t fi = 0; fi < sm_nfamilies; fi++) {
    const struct sm_family *f = sm_families[fi];
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
