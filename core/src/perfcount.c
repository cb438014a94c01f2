/* perfcount.c: per-thread event counters through perf_event_open: the
 * event table, list parsing (libpfm4 for other names where built with it),
 * group opening, reading and multiplex scaling. */
#include "syncmark/perfcount.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYNCMARK_HAVE_LIBPFM
#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#endif

/* HW_CACHE config of a read miss of cache `id`. */
#define CACHE_READ_MISS(id)                                                    \
  ((uint64_t)(id) | ((uint64_t)PERF_COUNT_HW_CACHE_OP_READ << 8) |             \
   ((uint64_t)PERF_COUNT_HW_CACHE_RESULT_MISS << 16))

/* Event kinds of the built-in table. */
enum { HW, SW, SW_KERNEL };

/* One built-in event: perf's name, a short alias, its encoding. */
static const struct builtin {
  const char *name, *alias, *unit;
  int kind, miss;
  uint32_t type;
  uint64_t config;
} BUILTINS[] = {
    {"cycles", "cpu-cycles", "cycles/op", HW, 0, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", NULL, "instructions/op", HW, 0, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-references", NULL, "references/op", HW, 0, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache-misses", NULL, "misses/op", HW, 1, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_CACHE_MISSES},
    {"L1-dcache-load-misses", NULL, "misses/op", HW, 1, PERF_TYPE_HW_CACHE,
     CACHE_READ_MISS(PERF_COUNT_HW_CACHE_L1D)},
    {"LLC-load-misses", NULL, "misses/op", HW, 1, PERF_TYPE_HW_CACHE,
     CACHE_READ_MISS(PERF_COUNT_HW_CACHE_LL)},
    {"dTLB-load-misses", NULL, "misses/op", HW, 1, PERF_TYPE_HW_CACHE,
     CACHE_READ_MISS(PERF_COUNT_HW_CACHE_DTLB)},
    {"branch-misses", NULL, "misses/op", HW, 1, PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_BRANCH_MISSES},
    {"context-switches", "cs", "switches/op", SW_KERNEL, 0, PERF_TYPE_SOFTWARE,
     PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", "migrations", "migrations/op", SW_KERNEL, 0,
     PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"page-faults", "faults", "faults/op", SW, 0, PERF_TYPE_SOFTWARE,
     PERF_COUNT_SW_PAGE_FAULTS},
    {"task-clock", NULL, "ns/op", SW, 0, PERF_TYPE_SOFTWARE,
     PERF_COUNT_SW_TASK_CLOCK},
};
enum { NBUILTINS = sizeof BUILTINS / sizeof BUILTINS[0] };

/* Profiles: names standing for a list. */
static const struct {
  const char *name, *list;
} PROFILES[] = {
    {"software", "context-switches,cpu-migrations,page-faults,task-clock"},
    {"cache", "cache-references,cache-misses,L1-dcache-load-misses,"
              "LLC-load-misses,dTLB-load-misses"},
    {"default", "cycles,instructions,cache-misses,branch-misses,"
                "context-switches,cpu-migrations,page-faults,task-clock"},
    {"all", "cycles,instructions,cache-references,cache-misses,"
            "L1-dcache-load-misses,LLC-load-misses,dTLB-load-misses,"
            "branch-misses,context-switches,cpu-migrations,page-faults,"
            "task-clock"},
};
enum { NPROFILES = sizeof PROFILES / sizeof PROFILES[0] };

const char *sm_perf_names(void) {
  return "cycles, instructions, cache-references, cache-misses, "
         "L1-dcache-load-misses, LLC-load-misses, dTLB-load-misses, "
         "branch-misses, context-switches, cpu-migrations, page-faults, "
         "task-clock";
}

const char *sm_perf_profiles(void) {
  return "software, cache, default, all";
}

int sm_perf_have_libpfm(void) {
#ifdef SYNCMARK_HAVE_LIBPFM
  return 1;
#else
  return 0;
#endif
}

int sm_perf_paranoid(void) {
  FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
  int v = -100;
  if (f) {
    char line[32];
    if (fgets(line, sizeof line, f)) {
      char *end;
      long n = strtol(line, &end, 10);
      if (end != line)
        v = (int)n;
    }
    fclose(f);
  }
  return v;
}

/* Writes name's metric: lower case, every other character '_', then
 * "_per_op", with `prefix` in front. */
static void metric_of(const char *prefix, const char *name, char *buf,
                      size_t size) {
  size_t k = (size_t)snprintf(buf, size, "%s", prefix);
  for (const char *p = name; *p && k + 8 < size; p++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep || (k > 0 && buf[k - 1] != '_'))
      buf[k++] = keep ? c : '_';
  }
  while (k > 0 && buf[k - 1] == '_')
    k--;
  snprintf(buf + k, size - k, "_per_op");
}

/* Fills *e from built-in event b. */
static void from_builtin(const struct builtin *b, struct sm_perf_event *e) {
  *e = (struct sm_perf_event){.unit = b->unit,
                              .miss = b->miss,
                              .software = b->kind != HW,
                              .kernel_only = b->kind == SW_KERNEL,
                              .type = b->type,
                              .config = {b->config, 0, 0}};
  snprintf(e->name, sizeof e->name, "%s", b->name);
  metric_of("", b->name, e->metric, sizeof e->metric);
}

#ifdef SYNCMARK_HAVE_LIBPFM
static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_status = PFM_ERR_NOINIT;

/* Initializes libpfm4 once per process. */
static void pfm_start(void) {
  pfm_status = pfm_initialize();
}
#endif

/* Resolves a name no built-in event has through libpfm4. Returns 0 and
 * fills *e, or -ENOENT (without libpfm4, or a name it does not know; why
 * is in msg). */
static int from_libpfm(const char *name, struct sm_perf_event *e, char *msg,
                       size_t size) {
#ifdef SYNCMARK_HAVE_LIBPFM
  pthread_once(&pfm_once, pfm_start);
  if (pfm_status != PFM_SUCCESS) {
    snprintf(msg, size, "libpfm4 did not start: %s", pfm_strerror(pfm_status));
    return -ENOENT;
  }
  struct perf_event_attr attr = {.size = sizeof attr};
  pfm_perf_encode_arg_t arg = {.attr = &attr, .size = sizeof arg};
  int rc = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
  if (rc != PFM_SUCCESS) {
    snprintf(msg, size, "libpfm4: %s", pfm_strerror(rc));
    return -ENOENT;
  }
  *e = (struct sm_perf_event){
      .unit = "events/op",
      .miss = strstr(name, "MISS") != NULL || strstr(name, "miss") != NULL,
      .software = attr.type == PERF_TYPE_SOFTWARE,
      .type = attr.type,
      .config = {attr.config, attr.config1, attr.config2}};
  snprintf(e->name, sizeof e->name, "%s", name);
  metric_of("pmu_", name, e->metric, sizeof e->metric);
  return 0;
#else
  (void)name;
  (void)e;
  snprintf(msg, size, "other names need libpfm4, which this build lacks");
  return -ENOENT;
#endif
}

/* Appends the event named `name` (a built-in, an alias or a libpfm4 name)
 * to out unless it is there already. Returns 0 or -EINVAL (msg set). */
static int add_name(const char *name, struct sm_perf_list *out, char *msg,
                    size_t size) {
  struct sm_perf_event e;
  int found = 0;
  for (size_t i = 0; i < NBUILTINS && !found; i++)
    if (strcmp(BUILTINS[i].name, name) == 0 ||
        (BUILTINS[i].alias && strcmp(BUILTINS[i].alias, name) == 0)) {
      from_builtin(&BUILTINS[i], &e);
      found = 1;
    }
  char why[160] = "";
  if (!found && from_libpfm(name, &e, why, sizeof why) != 0) {
    snprintf(msg, size,
             "'%s' is not a counter (allowed: %s; a profile: %s; %s)", name,
             sm_perf_names(), sm_perf_profiles(), why);
    return -EINVAL;
  }
  for (size_t i = 0; i < out->n; i++)
    if (strcmp(out->events[i].metric, e.metric) == 0)
      return 0;
  if (out->n == SM_PERF_MAX_EVENTS) {
    snprintf(msg, size, "'%s' is one counter too many (at most %d)", name,
             SM_PERF_MAX_EVENTS);
    return -EINVAL;
  }
  out->events[out->n++] = e;
  return 0;
}

int sm_perf_parse(const char *spec, struct sm_perf_list *out, char *msg,
                  size_t size) {
  out->n = 0;
  msg[0] = '\0';
  char copy[1024];
  if (!spec || strlen(spec) >= sizeof copy) {
    snprintf(msg, size, "the counter list is %s (a comma-separated list)",
             spec ? "too long" : "missing");
    return -EINVAL;
  }
  snprintf(copy, sizeof copy, "%s", spec);
  for (char *p = copy;;) {
    char *end = strchr(p, ',');
    if (end)
      *end = '\0';
    if (!*p) {
      snprintf(msg, size,
               "'%s' has an empty item (allowed: names separated by commas: "
               "%s; a profile: %s)",
               spec, sm_perf_names(), sm_perf_profiles());
      return -EINVAL;
    }
    const char *expansion = NULL;
    for (size_t i = 0; i < NPROFILES; i++)
      if (strcmp(PROFILES[i].name, p) == 0)
        expansion = PROFILES[i].list;
    if (expansion) {
      char names[512];
      snprintf(names, sizeof names, "%s", expansion);
      char *save = NULL;
      for (char *n = strtok_r(names, ",", &save); n;
           n = strtok_r(NULL, ",", &save))
        if (add_name(n, out, msg, size) != 0)
          return -EINVAL;
    } else if (add_name(p, out, msg, size) != 0) {
      return -EINVAL;
    }
    if (!end)
      return 0;
    p = end + 1;
  }
}

/* perf_event_open(2) for the calling thread on any CPU. Returns the fd or
 * a negative errno. */
static int open_event(const struct sm_perf_event *e, int user_only,
                      int group_fd) {
  struct perf_event_attr attr = {.size = sizeof attr,
                                 .type = e->type,
                                 .config = e->config[0],
                                 .config1 = e->config[1],
                                 .config2 = e->config[2],
                                 .read_format = PERF_FORMAT_GROUP |
                                                PERF_FORMAT_TOTAL_TIME_ENABLED |
                                                PERF_FORMAT_TOTAL_TIME_RUNNING,
                                 .exclude_kernel = user_only ? 1 : 0,
                                 .exclude_hv = 1};
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, group_fd,
                    PERF_FLAG_FD_CLOEXEC);
  return fd >= 0 ? (int)fd : -errno;
}

/* Opens event i of t into the group led by event *leader (-1: none yet,
 * then i leads). A hardware event that the group cannot hold on the PMU
 * (EINVAL or ENOSPC from its validation) gets a group of its own. */
static void open_into(struct sm_perf_thread *t, size_t i, int *leader,
                      int *members) {
  const struct sm_perf_event *e = &t->list->events[i];
  if (e->kernel_only && t->user_only) {
    t->error[i] = -EACCES;
    return;
  }
  int fd = open_event(e, t->user_only, *leader >= 0 ? t->fd[*leader] : -1);
  if (fd < 0 && *leader >= 0 && (fd == -EINVAL || fd == -ENOSPC)) {
    fd = open_event(e, t->user_only, -1);
    if (fd >= 0) {
      t->fd[i] = fd;
      t->leader[i] = (int)i;
      t->slot[i] = 0;
      t->alone[i] = 1;
      return;
    }
  }
  if (fd < 0) {
    t->error[i] = fd;
    return;
  }
  if (*leader < 0) {
    *leader = (int)i;
    *members = 0;
  }
  t->fd[i] = fd;
  t->leader[i] = *leader;
  t->slot[i] = (*members)++;
}

/* Returns 1 when the kernel refuses kernel-side counting to this process
 * (it then counts user space only). */
static int kernel_refused(void) {
  static const struct sm_perf_event probe = {
      .type = PERF_TYPE_SOFTWARE, .config = {PERF_COUNT_SW_TASK_CLOCK}};
  int fd = open_event(&probe, 0, -1);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return fd == -EACCES || fd == -EPERM;
}

int sm_perf_open(const struct sm_perf_list *list, struct sm_perf_thread *t) {
  *t = (struct sm_perf_thread){.list = list};
  for (size_t i = 0; i < SM_PERF_MAX_EVENTS; i++)
    t->fd[i] = t->leader[i] = -1;
  t->user_only = kernel_refused();
  int sw_leader = -1, hw_leader = -1, sw_members = 0, hw_members = 0, n = 0;
  for (size_t i = 0; i < list->n; i++) {
    if (list->events[i].software)
      open_into(t, i, &sw_leader, &sw_members);
    else
      open_into(t, i, &hw_leader, &hw_members);
    n += t->fd[i] >= 0;
  }
  return n;
}

int sm_perf_read(struct sm_perf_thread *t, unsigned which) {
  struct sm_perf_reading *r = &t->at[which & 1];
  r->ok = 0;
  if (!t->list)
    return -EBADF;
  uint64_t buf[3 + SM_PERF_MAX_EVENTS];
  for (size_t i = 0; i < t->list->n; i++) {
    if (t->fd[i] < 0 || t->leader[i] != (int)i)
      continue;
    ssize_t got = read(t->fd[i], buf, sizeof buf);
    if (got < (ssize_t)(3 * sizeof *buf))
      return got < 0 ? -errno : -EIO;
    size_t nr = (size_t)buf[0];
    for (size_t k = 0; k < t->list->n; k++) {
      if (t->fd[k] < 0 || t->leader[k] != (int)i || (size_t)t->slot[k] >= nr)
        continue;
      r->value[k] = buf[3 + t->slot[k]];
      r->enabled[k] = buf[1];
      r->running[k] = buf[2];
    }
  }
  r->ok = 1;
  return 0;
}

double sm_perf_scale(uint64_t value, uint64_t enabled, uint64_t running) {
  if (running == 0)
    return NAN;
  if (running >= enabled)
    return (double)value;
  return (double)value * (double)enabled / (double)running;
}

double sm_perf_delta(const struct sm_perf_thread *t, size_t i,
                     double *running_share) {
  if (running_share)
    *running_share = NAN;
  if (!t->list || i >= t->list->n || t->fd[i] < 0 || !t->at[0].ok ||
      !t->at[1].ok)
    return NAN;
  const struct sm_perf_reading *a = &t->at[0], *b = &t->at[1];
  uint64_t enabled = b->enabled[i] - a->enabled[i];
  uint64_t running = b->running[i] - a->running[i];
  if (running_share && enabled > 0)
    *running_share = (double)running / (double)enabled;
  return sm_perf_scale(b->value[i] - a->value[i], enabled, running);
}

void sm_perf_explain(const struct sm_perf_thread *t, size_t i, char *buf,
                     size_t size) {
  buf[0] = '\0';
  if (!t->list || i >= t->list->n || t->fd[i] >= 0)
    return;
  const struct sm_perf_event *e = &t->list->events[i];
  int err = -t->error[i], paranoid = sm_perf_paranoid();
  if (e->kernel_only && t->user_only)
    snprintf(buf, size,
             "counted only in the kernel, and perf_event_paranoid=%d lets "
             "this user count user space only (run as root or set it to 1 "
             "or lower)",
             paranoid);
  else if (err == EACCES || err == EPERM)
    snprintf(buf, size, "%s: perf_event_paranoid=%d does not allow it",
             strerror(err), paranoid);
  else if (!e->software &&
           (err == ENOENT || err == EOPNOTSUPP || err == ENODEV))
    snprintf(buf, size,
             "%s: no PMU here counts it (no hardware PMU, as in a VM "
             "without a virtual one, or this CPU lacks the event)",
             strerror(err));
  else if (err == EINVAL)
    snprintf(buf, size, "%s: the kernel or the PMU does not take this event",
             strerror(err));
  else if (err == EMFILE || err == ENFILE)
    snprintf(buf, size, "%s: out of file descriptors", strerror(err));
  else
    snprintf(buf, size, "%s", err ? strerror(err) : "not opened");
}

void sm_perf_close(struct sm_perf_thread *t) {
  if (!t->list)
    return; /* never opened: its fds are not ours */
  for (size_t i = 0; i < SM_PERF_MAX_EVENTS; i++) {
    if (t->fd[i] >= 0)
      close(t->fd[i]);
    t->fd[i] = -1;
  }
}
