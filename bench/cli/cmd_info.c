/* cmd_info.c: `syncmark info` and `syncmark list`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "environment.h"
#include "options.h"
#include "registry.h"

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

int sm_cmd_list(const struct sm_options *o) {
  if (o->nargs > 0)
    sm_usage_error("list: unexpected argument '%s' (list takes none)",
                   o->args[0]);
  for (size_t fi = 0; fi < sm_nfamilies; fi++) {
    const struct sm_family *f = sm_families[fi];
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
  return 0;
}
