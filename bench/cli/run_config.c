/* run_config.c: resolves `syncmark run`'s options into the run's
 * configuration (thread counts, the placements this machine can provide,
 * the profile, injected faults, counters) once, before the plan. */
#include "run_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "environment.h"
#include "registry.h"
#include "run_profile.h"
#include "syncmark/work.h"
#include "text.h"

/* A repetition that gives no result for this long is declared hung. */
#define DEFAULT_WATCHDOG_S 120.0

/* Appends n to the list unless it is there already. */
static void add_unique(unsigned *list, size_t *n, unsigned value) {
  for (size_t i = 0; i < *n; i++)
    if (list[i] == value)
      return;
  list[(*n)++] = value;
}

/* Resolves thread counts: the user's list, or auto = 1, physical cores,
 * allowed PUs, 2x allowed PUs. */
static void resolve_threads(struct sm_run_config *cfg) {
  if (!cfg->o->threads_auto) {
    memcpy(cfg->threads, cfg->o->threads, sizeof cfg->threads);
    cfg->nthreads = cfg->o->nthreads;
    return;
  }
  cfg->nthreads = 0;
  add_unique(cfg->threads, &cfg->nthreads, 1);
  add_unique(cfg->threads, &cfg->nthreads, cfg->counts.allowed_cores);
  add_unique(cfg->threads, &cfg->nthreads, cfg->counts.allowed_pus);
  add_unique(cfg->threads, &cfg->nthreads, 2 * cfg->counts.allowed_pus);
}

/* Says why this machine cannot provide placement p, for an error line. */
static void explain_placement(const struct sm_run_config *cfg,
                              enum sm_placement p, char *buf, size_t size) {
  if (p == SM_PLACE_SMT_FIRST)
    snprintf(buf, size,
             "placement 'smt-first' needs a core with two allowed PUs; this "
             "machine gives %u PU(s) per core (%u cores, %u PUs allowed)",
             cfg->counts.max_allowed_pus_per_core, cfg->counts.allowed_cores,
             cfg->counts.allowed_pus);
  else
    snprintf(buf, size, "placement '%s' cannot be provided here",
             sm_placement_name(p));
}

/* Resolves placements into those this machine can provide (the plan gets
 * only these) and the names of the others; exits with status 2 when none
 * of the named ones is possible, and warns about those skipped. */
static void resolve_placements(struct sm_run_config *cfg) {
  const struct sm_options *o = cfg->o;
  if (o->nplacements == 0) {
    cfg->placements[0] = SM_PLACE_COMPACT;
    cfg->nplacements = 1;
    return;
  }
  cfg->nplacements = sm_plan_split_placements(
      cfg->topo, o->placements, o->nplacements, cfg->placements,
      cfg->skipped_placements, sizeof cfg->skipped_placements);
  char why[256] = "";
  for (size_t i = 0; i < o->nplacements; i++) {
    bool possible = false;
    for (size_t k = 0; k < cfg->nplacements; k++)
      possible |= cfg->placements[k] == o->placements[i];
    if (possible)
      continue;
    explain_placement(cfg, o->placements[i], why, sizeof why);
    if (o->nplacements > 1)
      fprintf(stderr, "syncmark: skipped: %s\n", why);
  }
  if (cfg->nplacements == 0)
    sm_usage_error("%s (allowed here: compact, scatter, none)", why);
}

/* Returns the variant named "family/variant", or NULL. */
static const struct sm_variant *find_variant(const char *name) {
  for (size_t fi = 0; fi < sm_nfamilies; fi++)
    for (size_t vi = 0; vi < sm_families[fi]->nvariants; vi++) {
      char label[128];
      snprintf(label, sizeof label, "%s/%s", sm_families[fi]->name,
               sm_families[fi]->variants[vi].name);
      if (strcmp(label, name) == 0)
        return &sm_families[fi]->variants[vi];
    }
  return NULL;
}

/* Returns the variant an --inject-hang or --inject-crash names (NULL when
 * the option is absent); exits with status 2 for an unknown variant. */
static const struct sm_variant *fault_variant(const char *option,
                                              const char *name) {
  if (!name)
    return NULL;
  const struct sm_variant *v = find_variant(name);
  if (!v)
    sm_usage_error("--%s: '%s' is not a benchmark variant (allowed: "
                   "family/variant as shown by syncmark list)",
                   option, name);
  return v;
}

/* Resolves --inject-hang and --inject-crash. */
static void resolve_hang(struct sm_run_config *cfg) {
  cfg->hang_variant = fault_variant("inject-hang", cfg->o->inject_hang);
  cfg->crash_variant = fault_variant("inject-crash", cfg->o->inject_crash);
}

/* Finds the variant named by --inject-into and calibrates the injected
 * delay; exits with status 2 when the two options do not come together or
 * the name is not a window family's variant. */
static void resolve_injection(struct sm_run_config *cfg) {
  const struct sm_options *o = cfg->o;
  if (!o->inject_delay_ns && !o->inject_into)
    return;
  if (!o->inject_delay_ns || !o->inject_into)
    sm_usage_error("--inject-delay-ns and --inject-into go together (given: "
                   "only %s)",
                   o->inject_into ? "--inject-into" : "--inject-delay-ns");
  char names[1024] = "";
  for (size_t fi = 0; fi < sm_nfamilies; fi++) {
    const struct sm_family *f = sm_families[fi];
    for (size_t vi = 0; vi < f->nvariants && !f->measure; vi++) {
      char label[128];
      snprintf(label, sizeof label, "%s/%s", f->name, f->variants[vi].name);
      if (strcmp(label, o->inject_into) == 0)
        cfg->inject_variant = &f->variants[vi];
      sm_appendf(names, sizeof names, "%s%s", names[0] ? ", " : "", label);
    }
  }
  if (!cfg->inject_variant)
    sm_usage_error("--inject-into: '%s' is not a variant of a window family "
                   "(allowed: %s)",
                   o->inject_into, names);
  cfg->inject_iters = sm_work_calibrate(o->inject_delay_ns);
}

/* Resolves --counters into the event list; exits with status 2 for an
 * unknown name (the option parser has checked it already). */
static void resolve_counters(struct sm_run_config *cfg) {
  char why[768];
  if (cfg->o->counters &&
      sm_perf_parse(cfg->o->counters, &cfg->counters, why, sizeof why) != 0)
    sm_usage_error("--counters: %s", why);
}

void sm_run_config_resolve(const struct sm_options *o,
                           struct sm_run_config *cfg) {
  *cfg = (struct sm_run_config){.o = o};
  cfg->topo = sm_env_topology_or_exit();
  sm_topology_counts(cfg->topo, &cfg->counts);
  resolve_threads(cfg);
  resolve_placements(cfg);
  resolve_injection(cfg);
  resolve_hang(cfg);
  resolve_counters(cfg);
  struct sm_run_profile profile;
  sm_run_profile_resolve(o, &profile);
  cfg->profile = profile.name;
  cfg->duration_s = profile.duration_s;
  cfg->warmup_s = profile.warmup_s;
  cfg->rule = profile.rule;
  cfg->watchdog_s = o->watchdog_s > 0 ? o->watchdog_s : DEFAULT_WATCHDOG_S;
  cfg->reps = cfg->rule.max_reps;
}

void sm_run_config_free(struct sm_run_config *cfg) {
  sm_topology_free(cfg->topo);
  cfg->topo = NULL;
}
