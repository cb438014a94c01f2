/* interference.c: reading and judging what else ran during a window. */
#include "interference.h"

#include <syncmark/clock.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct sm_metric_decl sm_interference_metrics[] = {
    {"run_delay_share", "ratio", SM_NO_DIRECTION,
     "largest share of a worker's window it was runnable but not running"},
    {"migrations", "migrations", SM_NO_DIRECTION,
     "the workers' moves to another CPU inside the window"},
    {"steal_share", "ratio", SM_NO_DIRECTION,
     "share of the machine's CPU time the hypervisor took in the window"},
    {"other_cpus", "CPUs", SM_NO_DIRECTION,
     "CPU time of other processes in the window, in CPUs' worth"},
    {"disturbed", "0/1", SM_NO_DIRECTION,
     "1 when one of the four above was over its stated limit"},
    {"drift_probe_ns", "ns", SM_NO_DIRECTION,
     "CPU time of a fixed piece of work before the repetition: the host's "
     "speed"},
    {"pair_probe_ns", "ns", SM_NO_DIRECTION,
     "one-way time of a cache line between two of the case's PUs before the "
     "repetition: how far apart the host put them"},
};
const size_t sm_ninterference_metrics =
    sizeof sm_interference_metrics / sizeof sm_interference_metrics[0];

const struct sm_metric_decl *sm_interference_decl(const char *metric) {
  for (size_t i = 0; metric && i < sm_ninterference_metrics; i++)
    if (strcmp(sm_interference_metrics[i].name, metric) == 0)
      return &sm_interference_metrics[i];
  return NULL;
}

/* Reads up to n unsigned decimal numbers separated by blanks from text
 * into v; returns how many were read (stopping at the first non-number,
 * an overflow or a newline). */
static size_t read_numbers(const char *text, uint64_t *v, size_t n) {
  size_t k = 0;
  const char *p = text;
  while (k < n) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p < '0' || *p > '9')
      break;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(p, &end, 10);
    if (errno || end == p)
      break;
    v[k++] = (uint64_t)x;
    p = end;
  }
  return k;
}

int sm_interference_parse_schedstat(const char *text, uint64_t *run_delay_ns) {
  uint64_t v[3];
  if (read_numbers(text, v, 3) != 3)
    return -EINVAL;
  *run_delay_ns = v[1]; /* on-CPU time, run delay, time slices */
  return 0;
}

int sm_interference_parse_migrations(const char *text, uint64_t *migrations) {
  const char *line = strstr(text, "se.nr_migrations");
  const char *colon = line ? strchr(line, ':') : NULL;
  if (!colon || read_numbers(colon + 1, migrations, 1) != 1)
    return -ENOENT;
  return 0;
}

int sm_interference_parse_cpu(const char *text, struct sm_cpu_times *out) {
  uint64_t v[8];
  if (strncmp(text, "cpu ", 4) != 0 || read_numbers(text + 4, v, 8) != 8)
    return -EINVAL;
  /* user nice system idle iowait irq softirq steal */
  *out = (struct sm_cpu_times){
      .busy = v[0] + v[1] + v[2] + v[5] + v[6], .steal = v[7], .ok = 1};
  return 0;
}

/* Reads up to size - 1 bytes of `path` into buf, NUL-terminated, with one
 * read (the /proc files here are generated whole). Returns 0 or -errno. */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t got = read(fd, buf, size - 1);
  int err = got < 0 ? -errno : 0;
  close(fd);
  buf[got > 0 ? got : 0] = '\0';
  return err;
}

void sm_interference_read_thread(struct sm_thread_sched *out) {
  char buf[4096] = {0};
  *out = (struct sm_thread_sched){.read_from_ns = sm_now_ns()};
  out->have_delay =
      read_small("/proc/thread-self/schedstat", buf, sizeof buf) == 0 &&
      sm_interference_parse_schedstat(buf, &out->run_delay_ns) == 0;
  out->have_migrations =
      read_small("/proc/thread-self/sched", buf, sizeof buf) == 0 &&
      sm_interference_parse_migrations(buf, &out->migrations) == 0;
  out->read_to_ns = sm_now_ns();
}

void sm_interference_read_cpu(struct sm_cpu_times *out) {
  char buf[512] = {0}; /* the first line is all that is parsed */
  *out = (struct sm_cpu_times){0};
  if (read_small("/proc/stat", buf, sizeof buf) != 0 ||
      sm_interference_parse_cpu(buf, out) != 0)
    out->ok = 0;
}

void sm_interference_window(const struct sm_worker *workers, unsigned n,
                            const struct sm_cpu_times *a,
                            const struct sm_cpu_times *b, uint64_t window_ns,
                            double process_cpu_ns, unsigned cpus,
                            double tick_ns, struct sm_interference *out) {
  *out = (struct sm_interference){.run_delay_share = NAN,
                                  .migrations = NAN,
                                  .steal_share = NAN,
                                  .other_cpus = NAN};
  for (unsigned i = 0; i < n; i++) {
    const struct sm_worker *w = &workers[i];
    const struct sm_thread_sched *s = &w->sched_at_measure,
                                 *e = &w->sched_at_stop;
    /* The span of the two reads, not of the window's timestamps: a run
     * delay taken between a read and its timestamp would otherwise make a
     * share above 1 of a short window. */
    double span = e->read_to_ns > s->read_from_ns
                      ? (double)(e->read_to_ns - s->read_from_ns)
                      : 0;
    if (s->have_delay && e->have_delay && span > 0) {
      double share = (double)(e->run_delay_ns - s->run_delay_ns) / span;
      out->run_delay_share = isnan(out->run_delay_share)
                                 ? share
                                 : fmax(out->run_delay_share, share);
    }
    if (s->have_migrations && e->have_migrations)
      out->migrations = (isnan(out->migrations) ? 0 : out->migrations) +
                        (double)(e->migrations - s->migrations);
  }
  /* /proc/stat counts whole ticks: over a window of fewer than
   * SM_INTERFERENCE_MIN_TICKS the rounding alone could exceed the limits,
   * so the machine's shares are left unavailable there. */
  if (a->ok && b->ok && cpus > 0 &&
      (double)window_ns >= SM_INTERFERENCE_MIN_TICKS * tick_ns) {
    double window = (double)window_ns;
    out->steal_share =
        (double)(b->steal - a->steal) * tick_ns / (window * cpus);
    double other = (double)(b->busy - a->busy) * tick_ns - process_cpu_ns;
    out->other_cpus = fmax(other, 0) / window;
  }
  out->disturbed = out->run_delay_share > SM_DISTURBED_RUN_DELAY ||
                   out->steal_share > SM_DISTURBED_STEAL ||
                   out->other_cpus > SM_DISTURBED_OTHER_CPUS;
}

int sm_interference_record(struct sm_results *results, size_t case_index,
                           unsigned rep, const struct sm_interference *w) {
  const double values[] = {w->run_delay_share, w->migrations, w->steal_share,
                           w->other_cpus, w->disturbed};
  /* The last two declarations, drift_probe_ns and pair_probe_ns, are
   * recorded by drift.c. */
  _Static_assert(sizeof values / sizeof values[0] + 2 ==
                     sizeof sm_interference_metrics /
                         sizeof sm_interference_metrics[0],
                 "one value per declared interference metric");
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    const struct sm_metric_decl *d = &sm_interference_metrics[i];
    if (isnan(values[i]))
      continue; /* unavailable here: no row, never a 0 */
    int rc =
        sm_results_add(results, case_index, rep, d->name, d->unit, values[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}
