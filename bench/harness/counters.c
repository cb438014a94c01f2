/* counters.c: the runner's event counters per worker thread (open before
 * the start gate, read at the MEASURE and STOP edges), their per-operation
 * metrics and declarations, and machine.csv's account of what opened. */
#include "counters.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "sampling.h"
#include "text.h"

int sm_counters_alloc(struct sm_worker *workers, unsigned n,
                      const struct sm_perf_list *list) {
  for (unsigned i = 0; i < n; i++)
    workers[i].counters = NULL;
  if (!list || list->n == 0)
    return 0;
  for (unsigned i = 0; i < n; i++) {
    struct sm_perf_thread *t = calloc(1, sizeof *t);
    if (!t)
      return -ENOMEM;
    t->list = list;
    for (size_t e = 0; e < SM_PERF_MAX_EVENTS; e++)
      t->fd[e] = -1; /* opened by its own thread */
    workers[i].counters = t;
  }
  return 0;
}

void sm_counters_open(struct sm_worker *w) {
  if (w->counters)
    sm_perf_open(w->counters->list, w->counters);
}

void sm_counters_mark(struct sm_worker *w, unsigned edge) {
  if (w->counters)
    sm_perf_read(w->counters, edge);
}

void sm_counters_window(const struct sm_worker *workers, unsigned n, double ops,
                        struct sm_window_counters *out) {
  *out = (struct sm_window_counters){.list = NULL, .running_share = NAN};
  const struct sm_perf_list *list =
      n && workers[0].counters ? workers[0].counters->list : NULL;
  if (!list)
    return;
  out->list = list;
  double least = 1.0;
  for (size_t e = 0; e < list->n; e++) {
    double sum = 0;
    int missing = 0;
    for (unsigned i = 0; i < n; i++) {
      const struct sm_perf_thread *t = workers[i].counters;
      if (!t || t->fd[e] < 0) {
        missing = 1;
        continue;
      }
      out->counted[e] = 1;
      double share, d = sm_perf_delta(t, e, &share);
      if (isnan(d))
        missing = 1;
      else
        sum += d;
      if (share < least)
        least = share;
    }
    out->per_op[e] = missing || !(ops > 0) ? NAN : sum / ops;
  }
  out->running_share = least;
}

int sm_counters_record(struct sm_results *results, size_t case_index,
                       unsigned rep, const struct sm_window_counters *c) {
  if (!c->list)
    return 0;
  int any = 0;
  for (size_t e = 0; e < c->list->n; e++) {
    if (!c->counted[e])
      continue; /* never opened: not measured, machine.csv says why */
    const char *metric = sm_intern(c->list->events[e].metric);
    if (!metric)
      return -ENOMEM;
    int rc = sm_results_add(results, case_index, rep, metric,
                            c->list->events[e].unit, c->per_op[e]);
    if (rc != 0)
      return rc;
    any = 1;
  }
  return any ? sm_results_add(results, case_index, rep, "counter_running_share",
                              "ratio", c->running_share)
             : 0;
}

void sm_counters_free(struct sm_worker *workers, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (!workers[i].counters)
      continue;
    sm_perf_close(workers[i].counters);
    free(workers[i].counters);
    workers[i].counters = NULL;
  }
}

/* The declarations of every built-in event's metric, filled once. */
static struct sm_metric_decl builtin_decls[SM_PERF_MAX_EVENTS + 1];
static size_t nbuiltin_decls;
static struct sm_perf_list builtin_list;
static pthread_once_t decls_once = PTHREAD_ONCE_INIT;

/* Fills builtin_decls from the "all" profile: misses lower is better,
 * every other count information. */
static void fill_decls(void) {
  char msg[256];
  if (sm_perf_parse("all", &builtin_list, msg, sizeof msg) != 0)
    return;
  for (size_t i = 0; i < builtin_list.n; i++) {
    const struct sm_perf_event *e = &builtin_list.events[i];
    builtin_decls[nbuiltin_decls++] = (struct sm_metric_decl){
        e->metric, e->unit, e->miss ? SM_LOWER_IS_BETTER : SM_NO_DIRECTION,
        "events of all the case's threads per operation"};
  }
  builtin_decls[nbuiltin_decls++] = (struct sm_metric_decl){
      "counter_running_share", "ratio", SM_NO_DIRECTION,
      "least time running / time enabled of any counted event"};
}

const struct sm_metric_decl *sm_counter_decl(const char *metric) {
  static const struct sm_metric_decl pmu_miss = {"pmu_*miss*_per_op",
                                                 "events/op",
                                                 SM_LOWER_IS_BETTER,
                                                 "misses per operation"},
                                     pmu_other = {"pmu_*_per_op", "events/op",
                                                  SM_NO_DIRECTION,
                                                  "events per operation"};
  if (!metric)
    return NULL;
  pthread_once(&decls_once, fill_decls);
  for (size_t i = 0; i < nbuiltin_decls; i++)
    if (strcmp(builtin_decls[i].name, metric) == 0)
      return &builtin_decls[i];
  size_t len = strlen(metric);
  if (strncmp(metric, "pmu_", 4) == 0 && len > 11 &&
      strcmp(metric + len - 7, "_per_op") == 0)
    return strstr(metric, "miss") ? &pmu_miss : &pmu_other;
  return NULL;
}

/* Appends event names to `buf` grouped by reason: "a, b: why | c: why". */
static void group_reasons(const struct sm_perf_thread *t, char *buf,
                          size_t size) {
  int done[SM_PERF_MAX_EVENTS] = {0};
  buf[0] = '\0';
  for (size_t i = 0; i < t->list->n; i++) {
    if (t->fd[i] >= 0 || done[i])
      continue;
    char why[256], other[256];
    sm_perf_explain(t, i, why, sizeof why);
    sm_appendf(buf, size, "%s%s", buf[0] ? " | " : "", t->list->events[i].name);
    for (size_t k = i + 1; k < t->list->n; k++) {
      if (t->fd[k] >= 0 || done[k])
        continue;
      sm_perf_explain(t, k, other, sizeof other);
      if (strcmp(other, why) == 0) {
        done[k] = 1;
        sm_appendf(buf, size, ", %s", t->list->events[k].name);
      }
    }
    sm_appendf(buf, size, ": %s", why);
  }
}

int sm_counters_describe(const struct sm_perf_list *list,
                         struct sm_field *fields, size_t *n, size_t max,
                         FILE *note) {
  char asked[512] = "", opened[512] = "", alone[512] = "", why[464] = "";
  struct sm_perf_thread t = {0};
  if (list && list->n > 0) {
    sm_perf_open(list, &t);
    for (size_t i = 0; i < list->n; i++) {
      const char *name = list->events[i].name;
      sm_appendf(asked, sizeof asked, "%s%s", asked[0] ? " " : "", name);
      if (t.fd[i] >= 0)
        sm_appendf(opened, sizeof opened, "%s%s", opened[0] ? " " : "", name);
      if (t.fd[i] >= 0 && t.alone[i])
        sm_appendf(alone, sizeof alone, "%s%s", alone[0] ? " " : "", name);
    }
    group_reasons(&t, why, sizeof why);
    sm_perf_close(&t);
  }
  if (note && why[0])
    fprintf(note,
            "syncmark: counters not available here (no rows for them): "
            "%s\n",
            why);
  if (note && alone[0])
    fprintf(note,
            "syncmark: counters %s do not fit the PMU beside the others: "
            "each counts in a group of its own, multiplexed, scaled by time "
            "enabled / time running (counter_running_share)\n",
            alone);
  int rc =
      sm_field_add(fields, n, max, "counters", "%s", asked[0] ? asked : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "counters_opened", "%s",
                         opened[0] ? opened : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "counters_multiplexed", "%s",
                         alone[0] ? alone : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "counters_unavailable", "%s",
                         why[0] ? why : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "perf_event_paranoid", "%d",
                         sm_perf_paranoid());
  return rc;
}
