/* procstat.c: reading kB lines of /proc files (the process's memory) and
 * a thread's page-fault count. */
#include "syncmark/procstat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Parses `line` as "key: <number> ..." into *value. Returns 1 when the line
 * is key's, else 0. */
static int parse_line(const char *line, const char *key, uint64_t *value) {
  size_t klen = strlen(key);
  return strncmp(line, key, klen) == 0 && line[klen] == ':' &&
         /* NOLINTNEXTLINE(cert-err34-c): kernel-written kB counts fit */
         sscanf(line + klen + 1, "%" SCNu64, value) == 1;
}

int sm_procstat_kib(const char *path, const char *key, uint64_t *kib) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -errno;
  char line[256];
  int rc = -ENOENT;
  uint64_t value;
  while (rc != 0 && fgets(line, sizeof line, f))
    if (parse_line(line, key, &value)) {
      *kib = value;
      rc = 0;
    }
  fclose(f);
  return rc;
}

int sm_procstat_memory(struct sm_proc_memory *m) {
  static const char *const keys[] = {"VmRSS", "VmSize", "VmPTE", "VmHWM"};
  uint64_t *fields[] = {&m->rss, &m->vm, &m->pte, &m->hwm};
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -errno;
  char line[256];
  unsigned found = 0;
  while (fgets(line, sizeof line, f))
    for (unsigned i = 0; i < 4; i++)
      if (parse_line(line, keys[i], fields[i]))
        found |= 1u << i;
  fclose(f);
  return found == 0xf ? 0 : -ENOENT;
}

uint64_t sm_procstat_thread_minflt(void) {
  struct rusage ru;
  return getrusage(RUSAGE_THREAD, &ru) == 0 ? (uint64_t)ru.ru_minflt : 0;
}
