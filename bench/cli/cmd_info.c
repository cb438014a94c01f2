/* cmd_info.c: `syncmark info` and `syncmark list`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "environment.h"
#include "options.h"
#include "registry.h"
#include "runner.h"

/* Returns the section heading a machine field belongs under. */
static const char *section_of(const char *key) {
  static const struct {
    const char *prefix, *section;
  } sections[] = {{"clocksource", "system"},
                  {"syncmark_", "syncmark"},
                  {"git_", "syncmark"},
                  {"cpu_", "CPU (libcpuid)"},
                  {"cache_", "CPU (libcpuid)"},
                  {"hypervisor", "CPU (libcpuid)"},
                  {"topo_", "topology (hwloc)"},
                  {"allowed_", "PUs this process may use"},
                  {"pu_", "PUs this process may use"},
                  {"clock", "measuring"},
                  {"runner_", "measuring"}};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    if (strncmp(key, sections[i].prefix, strlen(sections[i].prefix)) == 0)
      return sections[i].section;
  return "system";
}

int sm_cmd_info(const struct sm_options *o) {
  if (o->nargs > 0)
    sm_usage_error("info: unexpected argument '%s' (info takes none)",
                   o->args[0]);
  struct sm_topology *topo = sm_env_topology_or_exit();
  struct sm_topology_counts counts;
  sm_topology_counts(topo, &counts);
  size_t max = SM_ENV_MAX_FIELDS(counts.allowed_pus), n = 0;
  struct sm_field *fields = calloc(max, sizeof *fields);
  if (!fields) {
    fputs("syncmark: out of memory\n", stderr);
    sm_topology_free(topo);
    return 1;
  }
  int rc = sm_env_describe(topo, fields, &n, max);
  const char *current = "";
  for (size_t i = 0; i < n; i++) {
    const char *section = section_of(fields[i].key);
    if (strcmp(section, current) != 0)
      printf("%s%s\n", i ? "\n" : "", section);
    current = section;
    printf("  %-26s %s\n", fields[i].key, fields[i].value);
  }
  free(fields);
  sm_topology_free(topo);
  if (rc != 0)
    fputs("syncmark: the description was cut short\n", stderr);
  return rc != 0;
}

/* Prints one family's summary, parameter axes and variants. */
static void list_family(const struct sm_family *f) {
  printf("%s: %s\n", f->name, f->summary);
  for (size_t a = 0; a < f->naxes; a++) {
    printf("  --param %s (%ld to %ld):", f->axes[a].key, f->axes[a].min,
           f->axes[a].max);
    for (size_t i = 0; i < f->axes[a].nvalues; i++)
      printf("%s%ld", i ? "," : " ", f->axes[a].values[i]);
    printf("  (quick:");
    for (size_t i = 0; i < f->axes[a].nquick; i++)
      printf("%s%ld", i ? "," : " ", f->axes[a].quick_values[i]);
    printf(")\n");
  }
  for (size_t vi = 0; vi < f->nvariants; vi++)
    printf("  %s/%-22s %s\n", f->name, f->variants[vi].name,
           f->variants[vi].summary);
}

/* Prints the metric declarations `decls` under `title`: name, unit, how
 * compare judges it, meaning. */
static void list_metrics(const char *title, const struct sm_metric_decl *decls,
                         size_t n) {
  static const char *const judged[] = {[SM_HIGHER_IS_BETTER] = "higher",
                                       [SM_LOWER_IS_BETTER] = "lower",
                                       [SM_NO_DIRECTION] = "info"};
  printf("  %s:\n", title);
  for (size_t i = 0; i < n; i++)
    printf("    %-26s %-16s %-6s %s\n", decls[i].name, decls[i].unit,
           judged[decls[i].direction], decls[i].meaning);
}

int sm_cmd_list(const struct sm_options *o) {
  if (o->nargs > 1)
    sm_usage_error("list: unexpected argument '%s' (list takes at most one "
                   "family name)",
                   o->args[1]);
  if (o->nargs == 0) {
    for (size_t fi = 0; fi < sm_nfamilies; fi++)
      list_family(sm_families[fi]);
    return 0;
  }
  const struct sm_family *f = sm_family_find(o->args[0]);
  if (!f) {
    sm_usage_error("list: unknown family '%s' (syncmark list names them)",
                   o->args[0]);
    return 2; /* not reached: sm_usage_error exits */
  }
  list_family(f);
  printf("  metrics (name, unit, how compare judges it, meaning):\n");
  list_metrics("the runner's, every window", sm_runner_window_metrics,
               sm_runner_nwindow_metrics);
  list_metrics("the runner's, per sampling role as <sample>_<metric>",
               sm_runner_sample_metrics, sm_runner_nsample_metrics);
  if (f->nmetric_decls)
    list_metrics("the family's", f->metric_decls, f->nmetric_decls);
  return 0;
}
