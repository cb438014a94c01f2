/* machine.c: describes this machine (libcpuid, uname, /sys, load, topology)
 * as ordered key/value fields. */
#include "syncmark/machine.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libcpuid/libcpuid.h>

#define CLOCKSOURCE_PATH                                                       \
  "/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define GOVERNOR_PATH "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"

/* What libcpuid told us, already formatted; "unknown" where it could not. */
struct cpu_desc {
  char vendor[64];
  char brand[128];
  char hypervisor[32];
  int family, model, stepping; /* -1: unknown */
  int cores, logical;          /* <= 0: unknown */
  int l1d_kib, l2_kib, l3_kib; /* < 0: unknown */
};

/* Appends one field as described in machine.h: the key and the formatted
 * value are cut to fit their arrays. Returns 0, or -ENOSPC when
 * *count >= max. */
int sm_field_add(struct sm_field *fields, size_t *count, size_t max,
                 const char *key, const char *fmt, ...) {
  if (*count >= max)
    return -ENOSPC;
  struct sm_field *f = &fields[*count];
  snprintf(f->key, sizeof(f->key), "%s", key);
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(f->value, sizeof(f->value), fmt, ap);
  va_end(ap);
  if (len < 0)
    snprintf(f->value, sizeof(f->value), "unknown");
  (*count)++;
  return 0;
}

/* Returns the value of the first field named `key`, or NULL when none is.
 * Never fails. */
const char *sm_field_get(const struct sm_field *fields, size_t count,
                         const char *key) {
  for (size_t i = 0; i < count; i++)
    if (strcmp(fields[i].key, key) == 0)
      return fields[i].value;
  return NULL;
}

/* Drops trailing blanks (and a newline) from s and returns a pointer past
 * its leading blanks. Never fails. */
static char *trim(char *s) {
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1]))
    s[--len] = '\0';
  while (isspace((unsigned char)*s))
    s++;
  return s;
}

/* Silences libcpuid warnings, which would otherwise go to stderr: core code
 * never prints. Never fails. */
static void quiet_warning(const char *msg) {
  (void)msg;
}

/* Returns a readable name for a libcpuid hypervisor id: "none" when no
 * hypervisor is seen, "unknown" when detection failed. Never fails. */
static const char *hypervisor_name(hypervisor_vendor_t hv) {
  switch (hv) {
  case HYPERVISOR_NONE:
    return "none";
  case HYPERVISOR_BHYVE:
    return "bhyve";
  case HYPERVISOR_HYPERV:
    return "hyper-v";
  case HYPERVISOR_KVM:
    return "kvm";
  case HYPERVISOR_PARALLELS:
    return "parallels";
  case HYPERVISOR_QEMU:
    return "qemu";
  case HYPERVISOR_VIRTUALBOX:
    return "virtualbox";
  case HYPERVISOR_VMWARE:
    return "vmware";
  case HYPERVISOR_XEN:
    return "xen";
  default:
    return "unknown";
  }
}

/* Names the hypervisor from the signature in CPUID leaf 0x40000000 into out,
 * for when libcpuid cannot (0.6.2 expects "bhyve bhyve\0" where bhyve says
 * "bhyve bhyve "). Known signatures get a short name; another printable
 * signature is reported as it is; anything else gives "unknown". Never
 * fails. */
static void hypervisor_from_signature(char *out, size_t size) {
  static const struct {
    const char *sig;
    const char *name;
  } known[] = {{"bhyve bhyve", "bhyve"},       {"Microsoft Hv", "hyper-v"},
               {"KVMKVMKVM", "kvm"},           {"Linux KVM Hv", "kvm"},
               {"prl hyperv", "parallels"},    {"TCGTCGTCGTCG", "qemu"},
               {"VBoxVBoxVBox", "virtualbox"}, {"VMwareVMware", "vmware"},
               {"XenVMMXenVMM", "xen"},        {"ACRNACRNACRN", "acrn"}};
  uint32_t regs[4] = {0, 0, 0, 0};
  char sig[13];
  cpu_exec_cpuid(0x40000000u, regs);
  memcpy(sig, &regs[1], 4);
  memcpy(sig + 4, &regs[2], 4);
  memcpy(sig + 8, &regs[3], 4);
  sig[12] = '\0';
  char *s = trim(sig);
  snprintf(out, size, "unknown");
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strcmp(s, known[i].sig) == 0) {
      snprintf(out, size, "%s", known[i].name);
      return;
    }
  if (*s == '\0')
    return;
  for (const char *c = s; *c; c++)
    if (!isprint((unsigned char)*c))
      return;
  snprintf(out, size, "%s", s);
}

/* Fills *cpu from libcpuid. On any libcpuid failure (no CPUID instruction,
 * as on non-x86, or an unrecognised CPU) every field stays "unknown"; this
 * is not an error. cpu_cores is CPUID's core count of one processor;
 * cpu_logical is libcpuid's count of all logical CPUs, because CPUID's
 * per-processor logical count is meaningless under many hypervisors. */
static void read_cpu(struct cpu_desc *cpu) {
  *cpu = (struct cpu_desc){.family = -1,
                           .model = -1,
                           .stepping = -1,
                           .cores = -1,
                           .logical = -1,
                           .l1d_kib = -1,
                           .l2_kib = -1,
                           .l3_kib = -1};
  snprintf(cpu->vendor, sizeof(cpu->vendor), "unknown");
  snprintf(cpu->brand, sizeof(cpu->brand), "unknown");
  snprintf(cpu->hypervisor, sizeof(cpu->hypervisor), "unknown");
  if (!cpuid_present())
    return;
  libcpuid_warn_fn_t old_warn = cpuid_set_warn_function(quiet_warning);
  struct cpu_raw_data_t raw;
  struct cpu_id_t id;
  memset(&raw, 0, sizeof(raw));
  memset(&id, 0, sizeof(id));
  if (cpuid_get_raw_data(&raw) == 0 && cpu_identify(&raw, &id) == 0) {
    char *s = trim(id.vendor_str);
    if (*s)
      snprintf(cpu->vendor, sizeof(cpu->vendor), "%s", s);
    s = trim(id.brand_str);
    if (*s)
      snprintf(cpu->brand, sizeof(cpu->brand), "%s", s);
    cpu->family = id.ext_family;
    cpu->model = id.ext_model;
    cpu->stepping = id.stepping;
    cpu->cores = id.num_cores;
    cpu->logical = id.total_logical_cpus;
    cpu->l1d_kib = id.l1_data_cache;
    cpu->l2_kib = id.l2_cache;
    cpu->l3_kib = id.l3_cache;
    /* Both arguments are given: 0.6.2 crashes when data is NULL. */
    hypervisor_vendor_t hv = cpuid_get_hypervisor(&raw, &id);
    if (hv == HYPERVISOR_UNKNOWN && id.flags[CPU_FEATURE_HYPERVISOR])
      hypervisor_from_signature(cpu->hypervisor, sizeof(cpu->hypervisor));
    else
      snprintf(cpu->hypervisor, sizeof(cpu->hypervisor), "%s",
               hypervisor_name(hv));
  }
  cpuid_set_warn_function(old_warn);
}

/* Appends `key` with the decimal `value`, or "unknown" when value is below
 * `min`. Returns 0 or -ENOSPC. */
static int add_int(struct sm_field *fields, size_t *count, size_t max,
                   const char *key, long value, long min) {
  if (value < min)
    return sm_field_add(fields, count, max, key, "unknown");
  return sm_field_add(fields, count, max, key, "%ld", value);
}

/* Reads the first line of the file at `path` into buf without its newline.
 * Returns true, or false when the file cannot be opened or is empty (buf
 * then holds ""). */
static bool read_line(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  bool ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  if (!ok) {
    buf[0] = '\0';
    return false;
  }
  char *s = trim(buf);
  memmove(buf, s, strlen(s) + 1);
  return buf[0] != '\0';
}

/* Appends the libcpuid fields. Returns 0 or -ENOSPC. */
static int add_cpu_fields(struct sm_field *fields, size_t *count, size_t max) {
  struct cpu_desc cpu;
  read_cpu(&cpu);
  int rc;
  if ((rc = sm_field_add(fields, count, max, "cpu_vendor", "%s", cpu.vendor)) ||
      (rc = sm_field_add(fields, count, max, "cpu_brand", "%s", cpu.brand)) ||
      (rc = add_int(fields, count, max, "cpu_family", cpu.family, 0)) ||
      (rc = add_int(fields, count, max, "cpu_model", cpu.model, 0)) ||
      (rc = add_int(fields, count, max, "cpu_stepping", cpu.stepping, 0)) ||
      (rc = add_int(fields, count, max, "cpu_cores", cpu.cores, 1)) ||
      (rc = add_int(fields, count, max, "cpu_logical", cpu.logical, 1)) ||
      (rc = add_int(fields, count, max, "cache_l1d_kib", cpu.l1d_kib, 0)) ||
      (rc = add_int(fields, count, max, "cache_l2_kib", cpu.l2_kib, 0)) ||
      (rc = add_int(fields, count, max, "cache_l3_kib", cpu.l3_kib, 0)) ||
      (rc = sm_field_add(fields, count, max, "hypervisor", "%s",
                         cpu.hypervisor)))
    return rc;
  return 0;
}

/* Appends hostname, kernel, kernel_version, arch, clocksource, governor and
 * the three load averages. Returns 0 or -ENOSPC. */
static int add_os_fields(struct sm_field *fields, size_t *count, size_t max) {
  char host[256];
  if (gethostname(host, sizeof(host)) != 0)
    snprintf(host, sizeof(host), "unknown");
  host[sizeof(host) - 1] = '\0';
  struct utsname uts;
  bool have_uts = uname(&uts) == 0;
  char clocksource[128], governor[128];
  if (!read_line(CLOCKSOURCE_PATH, clocksource, sizeof(clocksource)))
    snprintf(clocksource, sizeof(clocksource), "unknown");
  if (!read_line(GOVERNOR_PATH, governor, sizeof(governor)))
    snprintf(governor, sizeof(governor), "unavailable");
  double load[3];
  bool have_load = getloadavg(load, 3) == 3;

  int rc;
  if ((rc = sm_field_add(fields, count, max, "hostname", "%s", host)))
    return rc;
  if (have_uts)
    rc = sm_field_add(fields, count, max, "kernel", "%s %s", uts.sysname,
                      uts.release);
  else
    rc = sm_field_add(fields, count, max, "kernel", "unknown");
  if (rc ||
      (rc = sm_field_add(fields, count, max, "kernel_version", "%s",
                         have_uts ? uts.version : "unknown")) ||
      (rc = sm_field_add(fields, count, max, "arch", "%s",
                         have_uts ? uts.machine : "unknown")) ||
      (rc = sm_field_add(fields, count, max, "clocksource", "%s",
                         clocksource)) ||
      (rc = sm_field_add(fields, count, max, "governor", "%s", governor)))
    return rc;
  static const char *const load_keys[3] = {"load_1m", "load_5m", "load_15m"};
  for (int i = 0; i < 3; i++) {
    if (have_load)
      rc = sm_field_add(fields, count, max, load_keys[i], "%.2f", load[i]);
    else
      rc = sm_field_add(fields, count, max, load_keys[i], "unknown");
    if (rc)
      return rc;
  }
  return 0;
}

/* Appends the topology fields and one pu_<os> field per allowed PU. A NULL
 * topology gives "unknown" counts and no PU fields. Returns 0, -ENOSPC, or
 * -ENOMEM when the PU list cannot be allocated. */
static int add_topology_fields(const struct sm_topology *topo,
                               struct sm_field *fields, size_t *count,
                               size_t max) {
  static const char *const keys[] = {
      "topo_packages", "topo_numa_nodes", "topo_l3_groups",
      "topo_cores",    "topo_pus",        "topo_smt_per_core",
      "allowed_pus",   "allowed_cores",   "allowed_pu_list"};
  int rc;
  if (!topo) {
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
      if ((rc = sm_field_add(fields, count, max, keys[i], "unknown")))
        return rc;
    return 0;
  }
  struct sm_topology_counts c;
  sm_topology_counts(topo, &c);
  char smt[32];
  if (c.cores == 0)
    snprintf(smt, sizeof(smt), "unknown");
  else if (c.pus % c.cores == 0)
    snprintf(smt, sizeof(smt), "%u", c.pus / c.cores);
  else /* hybrid machines: an average */
    snprintf(smt, sizeof(smt), "%.2f", (double)c.pus / c.cores);
  char list[sizeof(fields[0].value)];
  if (sm_topology_allowed_list(topo, list, sizeof(list)) != 0)
    snprintf(list, sizeof(list), "unknown");
  if ((rc = sm_field_add(fields, count, max, keys[0], "%u", c.packages)) ||
      (rc = sm_field_add(fields, count, max, keys[1], "%u", c.numa_nodes)) ||
      (rc = sm_field_add(fields, count, max, keys[2], "%u", c.l3_groups)) ||
      (rc = sm_field_add(fields, count, max, keys[3], "%u", c.cores)) ||
      (rc = sm_field_add(fields, count, max, keys[4], "%u", c.pus)) ||
      (rc = sm_field_add(fields, count, max, keys[5], "%s", smt)) ||
      (rc = sm_field_add(fields, count, max, keys[6], "%u", c.allowed_pus)) ||
      (rc = sm_field_add(fields, count, max, keys[7], "%u", c.allowed_cores)) ||
      (rc = sm_field_add(fields, count, max, keys[8], "%s", list)))
    return rc;

  size_t n = sm_topology_allowed_pus(topo, NULL, 0);
  struct sm_pu_info *pus = calloc(n, sizeof(*pus));
  if (!pus)
    return -ENOMEM;
  sm_topology_allowed_pus(topo, pus, n);
  rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    char key[32];
    snprintf(key, sizeof(key), "pu_%d", pus[i].os_index);
    rc = sm_field_add(
        fields, count, max, key, "core=%d l3=%d package=%d numa=%d smt_rank=%d",
        pus[i].core, pus[i].l3, pus[i].package, pus[i].numa, pus[i].smt_rank);
  }
  free(pus);
  return rc;
}

/* Appends the description of this machine in the key order machine.h lists.
 * `topo` may be NULL (topology fields are then "unknown"). Returns 0,
 * -ENOSPC when `max` is too small (the fields written so far stay), or
 * -ENOMEM. */
int sm_machine_describe(const struct sm_topology *topo, struct sm_field *fields,
                        size_t *count, size_t max) {
  int rc;
  if ((rc = add_cpu_fields(fields, count, max)) ||
      (rc = add_os_fields(fields, count, max)) ||
      (rc = add_topology_fields(topo, fields, count, max)))
    return rc;
  return 0;
}
