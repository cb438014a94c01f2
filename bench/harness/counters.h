/* counters.h: the runner's event counters (--counters): each worker thread
 * opens its group before the start gate and reads it at its MEASURE and
 * STOP edges; a window turns the counts into <event>_per_op metrics. */
#ifndef SYNCMARK_BENCH_COUNTERS_H
#define SYNCMARK_BENCH_COUNTERS_H

#include <stdio.h>

#include "family.h"
#include "syncmark/machine.h"
#include "syncmark/perfcount.h"

struct sm_results;

/* What the counters of one window came to. */
struct sm_window_counters {
  const struct sm_perf_list *list; /* NULL: the window counted nothing */
  /* Per event: the count over every thread of the case divided by the
   * case's operations; NAN where a thread could not count it. */
  double per_op[SM_PERF_MAX_EVENTS];
  int counted[SM_PERF_MAX_EVENTS]; /* 1: some thread opened the event */
  double running_share; /* least running / enabled time of any counted
                           event in any thread (1: none was multiplexed) */
};

/* Gives each of the n workers counter state for `list` (NULL: none; the
 * workers' counters stay NULL). Returns 0 or -ENOMEM. */
int sm_counters_alloc(struct sm_worker *workers, unsigned n,
                      const struct sm_perf_list *list);

/* Opens worker w's counters on the calling thread (its own): called by the
 * worker thread before the start gate, so opening is never timed. Does
 * nothing when w has none; an event that does not open is left out. */
void sm_counters_open(struct sm_worker *w);

/* Reads w's counters at its MEASURE edge (edge 0) or STOP edge (edge 1). */
void sm_counters_mark(struct sm_worker *w, unsigned edge);

/* Sums the counts of all n workers over their measured phase and divides
 * by `ops` (the counting roles' operations) into *out. */
void sm_counters_window(const struct sm_worker *workers, unsigned n, double ops,
                        struct sm_window_counters *out);

/* Adds the rows of one window's counters: <event>_per_op for every event
 * some thread counted (none for an event no thread could open: it is not
 * measured, and machine.csv says why), and counter_running_share. Returns
 * 0 or a negative errno. */
int sm_counters_record(struct sm_results *results, size_t case_index,
                       unsigned rep, const struct sm_window_counters *c);

/* Closes and frees the workers' counters. */
void sm_counters_free(struct sm_worker *workers, unsigned n);

/* The declaration of a counter metric (a built-in event's <name>_per_op,
 * pmu_<name>_per_op of a libpfm4 event, counter_running_share), or NULL. */
const struct sm_metric_decl *sm_counter_decl(const char *metric);

/* Opens `list` on the calling thread once to learn what this machine
 * counts, adds machine.csv's counters, counters_opened,
 * counters_multiplexed, counters_unavailable (each event that did not
 * open, once, with its reason) and perf_event_paranoid to fields, and
 * says on `note` which events are unavailable or multiplexed. list NULL
 * or empty: "none". Returns 0 or the error of sm_field_add. */
int sm_counters_describe(const struct sm_perf_list *list,
                         struct sm_field *fields, size_t *n, size_t max,
                         FILE *note);

#endif
