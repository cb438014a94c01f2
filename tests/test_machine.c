/* test_machine.c: machine description fields and the field helpers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "syncmark/machine.h"

#define MAX_FIELDS 1200

/* The fixed keys, in the order machine.h promises. */
static const char *const keys[] = {
    "cpu_vendor",     "cpu_brand",         "cpu_family",     "cpu_model",
    "cpu_stepping",   "cpu_cores",         "cpu_logical",    "cache_l1d_kib",
    "cache_l2_kib",   "cache_l3_kib",      "hypervisor",     "hostname",
    "kernel",         "kernel_version",    "arch",           "clocksource",
    "governor",       "load_1m",           "load_5m",        "load_15m",
    "topo_packages",  "topo_numa_nodes",   "topo_l3_groups", "topo_cores",
    "topo_pus",       "topo_smt_per_core", "allowed_pus",    "allowed_cores",
    "allowed_pu_list"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static struct sm_field fields[MAX_FIELDS];

/* Loads this machine's topology, failing the test when it cannot. */
static struct sm_topology *load_this_machine(void) {
  struct sm_topology *topo = NULL;
  int rc = sm_topology_load(NULL, &topo);
  cr_assert_eq(rc, 0, "loading this machine failed: %d", rc);
  return topo;
}

/* Returns whether `s` is a whole decimal unsigned number. */
static bool is_uint(const char *s) {
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  strtoul(s, &end, 10);
  return *end == '\0';
}

/* Returns whether `s` is a number or "unknown" (for fields libcpuid may not
 * know). */
static bool is_uint_or_unknown(const char *s) {
  return is_uint(s) || strcmp(s, "unknown") == 0;
}

Test(machine, describes_every_key_in_order) {
  struct sm_topology *topo = load_this_machine();
  size_t count = 0;
  int rc = sm_machine_describe(topo, fields, &count, MAX_FIELDS);
  cr_assert_eq(rc, 0, "describe failed: %d", rc);
  struct sm_topology_counts c;
  sm_topology_counts(topo, &c);
  cr_assert_eq(count, NKEYS + c.allowed_pus, "%zu fields, want %zu", count,
               NKEYS + c.allowed_pus);
  for (size_t i = 0; i < NKEYS; i++) {
    cr_expect_str_eq(fields[i].key, keys[i], "field %zu is %s, want %s", i,
                     fields[i].key, keys[i]);
    cr_expect_neq(fields[i].value[0], '\0', "%s is empty", keys[i]);
  }
  sm_topology_free(topo);
}

Test(machine, values_match_the_system) {
  struct sm_topology *topo = load_this_machine();
  size_t count = 0;
  cr_assert_eq(sm_machine_describe(topo, fields, &count, MAX_FIELDS), 0);

  char host[256] = "";
  cr_assert_eq(gethostname(host, sizeof(host)), 0);
  cr_expect_str_eq(sm_field_get(fields, count, "hostname"), host);
  struct utsname uts;
  cr_assert_eq(uname(&uts), 0);
  char kernel[sizeof(uts.sysname) + sizeof(uts.release) + 2];
  snprintf(kernel, sizeof(kernel), "%s %s", uts.sysname, uts.release);
  cr_expect_str_eq(sm_field_get(fields, count, "kernel"), kernel);
  cr_expect_str_eq(sm_field_get(fields, count, "kernel_version"), uts.version);
  cr_expect_str_eq(sm_field_get(fields, count, "arch"), uts.machine);

  static const char *const numeric[] = {
      "cpu_family",  "cpu_model",     "cpu_stepping", "cpu_cores",
      "cpu_logical", "cache_l1d_kib", "cache_l2_kib", "cache_l3_kib"};
  for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
    const char *v = sm_field_get(fields, count, numeric[i]);
    cr_assert_not_null(v);
    cr_expect(is_uint_or_unknown(v), "%s = \"%s\"", numeric[i], v);
  }
  const char *vendor = sm_field_get(fields, count, "cpu_vendor");
  const char *brand = sm_field_get(fields, count, "cpu_brand");
  cr_expect(strcmp(vendor, "unknown") == 0 || strlen(vendor) >= 3);
  cr_expect(brand[strlen(brand) - 1] != ' ', "brand not trimmed: \"%s\"",
            brand);
  /* Compare with what the kernel says about the CPU (x86 only). */
  char cpuinfo_vendor[64] = "";
  bool hv_flag = false;
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
      if (!cpuinfo_vendor[0])
        sscanf(line, "vendor_id : %63s", cpuinfo_vendor);
      if (strncmp(line, "flags", 5) == 0) {
        hv_flag = strstr(line, " hypervisor") != NULL;
        break;
      }
    }
    fclose(f);
  }
  const char *hv = sm_field_get(fields, count, "hypervisor");
  cr_assert_not_null(hv);
  if (cpuinfo_vendor[0] && strcmp(vendor, "unknown") != 0) {
    cr_expect_str_eq(vendor, cpuinfo_vendor);
    if (hv_flag)
      cr_expect_str_neq(hv, "none", "the kernel sees a hypervisor");
    else
      cr_expect_str_eq(hv, "none", "the kernel sees no hypervisor");
  }
  const char *gov = sm_field_get(fields, count, "governor");
  if (access("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", R_OK))
    cr_expect_str_eq(gov, "unavailable");
  else
    cr_expect_str_neq(gov, "unavailable");
  const char *cs = sm_field_get(fields, count, "clocksource");
  cr_expect_null(strchr(cs, '\n'));

  for (int i = 0; i < 3; i++) {
    static const char *const load_keys[] = {"load_1m", "load_5m", "load_15m"};
    const char *v = sm_field_get(fields, count, load_keys[i]);
    cr_assert_not_null(v);
    char *end;
    double load = strtod(v, &end);
    cr_expect(*end == '\0' && end != v, "%s = \"%s\" is not a number",
              load_keys[i], v);
    cr_expect_geq(load, 0.0);
  }
  sm_topology_free(topo);
}

Test(machine, topology_fields_match_topology) {
  struct sm_topology *topo = load_this_machine();
  size_t count = 0;
  cr_assert_eq(sm_machine_describe(topo, fields, &count, MAX_FIELDS), 0);
  struct sm_topology_counts c;
  sm_topology_counts(topo, &c);
  char want[64];
  snprintf(want, sizeof(want), "%u", c.pus);
  cr_expect_str_eq(sm_field_get(fields, count, "topo_pus"), want);
  snprintf(want, sizeof(want), "%u", c.cores);
  cr_expect_str_eq(sm_field_get(fields, count, "topo_cores"), want);
  snprintf(want, sizeof(want), "%u", c.allowed_pus);
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_pus"), want);
  snprintf(want, sizeof(want), "%u", c.allowed_cores);
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_cores"), want);
  char list[256];
  cr_assert_eq(sm_topology_allowed_list(topo, list, sizeof(list)), 0);
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_pu_list"), list);

  /* One pu_<os> field per allowed PU, in logical order, after the fixed
   * keys, each in the documented format. */
  struct sm_pu_info pus[1024];
  size_t n = sm_topology_allowed_pus(topo, pus, 1024);
  cr_assert_eq(n, c.allowed_pus);
  size_t pu_fields = 0;
  for (size_t i = 0; i < count; i++)
    if (strncmp(fields[i].key, "pu_", 3) == 0)
      pu_fields++;
  cr_expect_eq(pu_fields, n);
  for (size_t i = 0; i < n && i < 1024; i++) {
    char key[32], value[128];
    snprintf(key, sizeof(key), "pu_%d", pus[i].os_index);
    snprintf(value, sizeof(value),
             "core=%d l3=%d package=%d numa=%d smt_rank=%d", pus[i].core,
             pus[i].l3, pus[i].package, pus[i].numa, pus[i].smt_rank);
    cr_expect_str_eq(fields[NKEYS + i].key, key);
    cr_expect_str_eq(fields[NKEYS + i].value, value);
  }
  sm_topology_free(topo);
}

Test(machine, synthetic_topology_fields) {
  struct sm_topology_opts opts = SM_TOPOLOGY_OPTS_INIT;
  opts.synthetic = "pack:2 l3:1 core:4 pu:2";
  opts.allowed_pus = "2-5";
  struct sm_topology *topo = NULL;
  cr_assert_eq(sm_topology_load(&opts, &topo), 0);
  size_t count = 0;
  cr_assert_eq(sm_machine_describe(topo, fields, &count, MAX_FIELDS), 0);
  cr_assert_eq(count, NKEYS + 4);
  cr_expect_str_eq(sm_field_get(fields, count, "topo_packages"), "2");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_numa_nodes"), "1");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_l3_groups"), "2");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_cores"), "8");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_pus"), "16");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_smt_per_core"), "2");
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_pus"), "4");
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_cores"), "2");
  cr_expect_str_eq(sm_field_get(fields, count, "allowed_pu_list"), "2-5");
  cr_expect_str_eq(fields[NKEYS].key, "pu_2");
  cr_expect_str_eq(fields[NKEYS].value,
                   "core=1 l3=0 package=0 numa=0 smt_rank=0");
  cr_expect_str_eq(fields[NKEYS + 3].key, "pu_5");
  cr_expect_str_eq(fields[NKEYS + 3].value,
                   "core=2 l3=0 package=0 numa=0 smt_rank=1");
  sm_topology_free(topo);
}

Test(machine, appends_after_existing_fields) {
  size_t count = 0;
  cr_assert_eq(sm_field_add(fields, &count, MAX_FIELDS, "syncmark_version",
                            "%s", "0.1.0"),
               0);
  cr_assert_eq(sm_machine_describe(NULL, fields, &count, MAX_FIELDS), 0);
  cr_expect_eq(count, 1 + NKEYS, "NULL topology: no pu_ fields");
  cr_expect_str_eq(fields[0].key, "syncmark_version");
  cr_expect_str_eq(fields[1].key, "cpu_vendor");
  cr_expect_str_eq(sm_field_get(fields, count, "topo_pus"), "unknown");
}

Test(machine, too_small_gives_enospc) {
  struct sm_topology *topo = load_this_machine();
  size_t count = 0;
  cr_expect_eq(sm_machine_describe(topo, fields, &count, 5), -ENOSPC);
  cr_expect_eq(count, 5u, "the fields that fit stay");
  cr_expect_str_eq(fields[4].key, "cpu_stepping");
  count = 0;
  cr_expect_eq(sm_machine_describe(topo, fields, &count, NKEYS), -ENOSPC,
               "no room for the pu_ fields");
  cr_expect_eq(count, NKEYS);
  count = 0;
  cr_expect_eq(sm_machine_describe(topo, fields, &count, 0), -ENOSPC);
  cr_expect_eq(count, 0u);
  sm_topology_free(topo);
}

Test(fields, add_get_truncate_and_full) {
  struct sm_field small[2];
  size_t count = 0;
  cr_assert_eq(sm_field_add(small, &count, 2, "answer", "%d-%s", 42, "x"), 0);
  cr_expect_eq(count, 1u);
  cr_expect_str_eq(sm_field_get(small, count, "answer"), "42-x");
  cr_expect_null(sm_field_get(small, count, "question"));
  cr_expect_null(sm_field_get(small, 0, "answer"));

  char longval[1000];
  memset(longval, 'v', sizeof(longval) - 1);
  longval[sizeof(longval) - 1] = '\0';
  char longkey[100];
  memset(longkey, 'k', sizeof(longkey) - 1);
  longkey[sizeof(longkey) - 1] = '\0';
  cr_assert_eq(sm_field_add(small, &count, 2, longkey, "%s", longval), 0);
  cr_expect_eq(count, 2u);
  cr_expect_eq(strlen(small[1].key), sizeof(small[1].key) - 1);
  cr_expect_eq(strlen(small[1].value), sizeof(small[1].value) - 1);
  cr_expect_eq(small[1].value[0], 'v');

  cr_expect_eq(sm_field_add(small, &count, 2, "more", "x"), -ENOSPC);
  cr_expect_eq(count, 2u);
  cr_expect_str_eq(small[0].value, "42-x", "a full array is left alone");
}
