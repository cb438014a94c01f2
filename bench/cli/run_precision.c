/* run_precision.c: the precision a run reached, per case and in all, and
 * the interference its repetitions saw. */
#include "run_precision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interference.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"
#include "text.h"

/* Most missed cases listed on the terminal. */
#define SHOWN_MISSES 10

int sm_run_precision_report(const struct sm_run *r, FILE *out,
                            struct sm_field *fields, size_t *n, size_t max) {
  const struct sm_precision_rule *rule = &r->cfg->rule;
  size_t cases = 0, missed = 0;
  char list[sizeof fields->value] = "";
  for (size_t c = 0; c < r->plan.ncases; c++) {
    double values[SM_MAX_REPS];
    size_t k = sm_run_headline_values(r, c, values, SM_MAX_REPS);
    if (r->dropped[c] || k == 0)
      continue;
    cases++;
    double reached = sm_precision_reached(values, k);
    if (rule->target <= 0 || reached <= rule->target)
      continue;
    missed++;
    char label[96], item[192], pct[32] = "no interval";
    const struct sm_case *kc = &r->plan.cases[c];
    if (isfinite(reached))
      snprintf(pct, sizeof pct, "+-%.1f %%", 100 * reached);
    snprintf(item, sizeof item, "%s %s threads=%u %s: %s after %zu reps",
             sm_case_label(kc, label, sizeof label), kc->params, kc->threads,
             kc->placement_name, pct, k);
    if (missed <= SHOWN_MISSES)
      fprintf(out, "  imprecise: %s\n", item);
    if (strlen(list) + strlen(item) + 3 < sizeof list)
      sm_appendf(list, sizeof list, "%s%s", list[0] ? "; " : "", item);
  }
  if (rule->target <= 0)
    fprintf(out, "repetitions: %u of every case (fixed by --reps)\n",
            rule->max_reps);
  else {
    char budget[96] = "";
    if (rule->budget_s > 0)
      snprintf(budget, sizeof budget, ", budget %g s%s", rule->budget_s,
               r->budget_spent ? " (spent: some cases got no more)" : "");
    fprintf(out,
            "precision: %zu of %zu cases reached +-%g %% (%s profile: %u "
            "to %u reps%s)%s\n",
            cases - missed, cases, 100 * rule->target, r->cfg->profile,
            rule->min_reps, rule->max_reps, budget,
            missed > SHOWN_MISSES ? "; machine.csv lists the others" : "");
  }
  int rc = sm_field_add(fields, n, max, "profile", "%s", r->cfg->profile);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "precision_target_pct", "%g",
                         100 * rule->target);
  rc = rc ? rc : sm_field_add(fields, n, max, "budget_s", "%g", rule->budget_s);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "budget_spent", "%d", r->budget_spent);
  rc = rc ? rc : sm_field_add(fields, n, max, "min_reps", "%u", rule->min_reps);
  rc = rc ? rc : sm_field_add(fields, n, max, "max_reps", "%u", rule->max_reps);
  rc = rc ? rc : sm_field_add(fields, n, max, "precision_cases", "%zu", cases);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "precision_cases_missed", "%zu",
                         missed);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "precision_missed", "%s",
                         list[0] ? list : "none");
  return rc;
}

/* The largest value of interference metric `metric` over the run's rows
 * (NAN when none has it), and in *count how many rows have it. */
static double largest(const struct sm_run *r, const char *metric,
                      size_t *count) {
  double top = NAN;
  *count = 0;
  for (size_t i = 0; i < r->results.nrows; i++) {
    const struct sm_raw_row *row = &r->results.rows[i];
    if (strcmp(row->metric, metric) != 0 || isnan(row->value))
      continue;
    (*count)++;
    top = isnan(top) ? row->value : fmax(top, row->value);
  }
  return top;
}

/* The 10th, 50th and 90th percentiles of the run's `metric` rows (a
 * probe's per-repetition values) into q[0..3) and how many rows there
 * were; q is NAN when there are none. */
static size_t probe_quantiles(const struct sm_run *r, const char *metric,
                              double q[3]) {
  size_t k = 0, j = 0;
  for (size_t i = 0; i < r->results.nrows; i++)
    k += strcmp(r->results.rows[i].metric, metric) == 0;
  double *v = k ? malloc(sizeof *v * k) : NULL;
  q[0] = q[1] = q[2] = NAN;
  if (!v)
    return 0;
  for (size_t i = 0; i < r->results.nrows; i++)
    if (strcmp(r->results.rows[i].metric, metric) == 0)
      v[j++] = r->results.rows[i].value;
  sm_stats_sort(v, k);
  q[0] = sm_stats_percentile_sorted(v, k, 10);
  q[1] = sm_stats_percentile_sorted(v, k, 50);
  q[2] = sm_stats_percentile_sorted(v, k, 90);
  free(v);
  return k;
}

/* Prints the pair probe's line and adds its machine.csv fields ("n/a"
 * without a case on two PUs). Returns 0 or sm_field_add's error. */
static int pair_probe_report(const struct sm_run *r, FILE *out,
                             struct sm_field *fields, size_t *n, size_t max) {
  double q[3];
  size_t k = probe_quantiles(r, "pair_probe_ns", q);
  if (k > 0)
    fprintf(out,
            "pair probe: a cache line between two of a case's PUs took %.0f "
            "ns one way (median of %zu repetitions), p10 %.0f, p90 %.0f%s\n",
            q[1], k, q[0], q[2],
            (q[2] - q[0]) / q[1] > SM_PAIR_PROBE_SPREAD
                ? ": the host moved the vCPUs during the run, and the "
                  "figures of cases on two PUs moved with it"
                : "");
  static const char *const keys[] = {
      "pair_probe_ns_p10", "pair_probe_ns_median", "pair_probe_ns_p90"};
  int rc = 0;
  for (int i = 0; rc == 0 && i < 3; i++)
    rc = k ? sm_field_add(fields, n, max, keys[i], "%.1f", q[i])
           : sm_field_add(fields, n, max, keys[i], "n/a");
  return rc;
}

/* The host's steal time from the run's first repetition until now as a
 * share of all CPUs' time ("0.0123"), into buf; "n/a" when /proc/stat could
 * not be read or the run was shorter than SM_INTERFERENCE_MIN_TICKS. Per
 * repetition the shares need windows of that many ticks, which the quick
 * profile's are not; over the run they are known. */
static void steal_over_run(const struct sm_run *r, char *buf, size_t size) {
  struct sm_cpu_times now;
  sm_interference_read_cpu(&now);
  double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  double span = (double)(sm_now_ns() - r->started_ns);
  snprintf(buf, size, "n/a");
  if (r->cpu_at_start.ok && now.ok && cpus > 0 && tick_ns > 0 &&
      span >= SM_INTERFERENCE_MIN_TICKS * tick_ns)
    snprintf(buf, size, "%.3g",
             (double)(now.steal - r->cpu_at_start.steal) * tick_ns /
                 (span * (double)cpus));
}

int sm_run_interference_report(const struct sm_run *r, FILE *out,
                               struct sm_field *fields, size_t *n, size_t max) {
  size_t reps = 0, disturbed = 0, k;
  for (size_t i = 0; i < r->results.nrows; i++)
    if (strcmp(r->results.rows[i].metric, "disturbed") == 0) {
      reps++;
      disturbed += r->results.rows[i].value > 0;
    }
  static const char *const names[] = {"run_delay_share", "steal_share",
                                      "other_cpus"};
  double top[3];
  char shown[3][32];
  for (int m = 0; m < 3; m++) {
    top[m] = largest(r, names[m], &k);
    if (k == 0)
      snprintf(shown[m], sizeof shown[m], "n/a");
    else
      snprintf(shown[m], sizeof shown[m], "%.3g", top[m]);
  }
  char run_steal[32];
  steal_over_run(r, run_steal, sizeof run_steal);
  if (reps > 0)
    fprintf(out,
            "interference: %zu of %zu repetitions disturbed (run delay over "
            "%g, steal over %g or other load over %g CPUs), %zu retaken; "
            "worst run delay %s, steal %s, other load %s CPUs; steal over "
            "the whole run %s\n",
            disturbed, reps, SM_DISTURBED_RUN_DELAY, SM_DISTURBED_STEAL,
            SM_DISTURBED_OTHER_CPUS, r->retakes, shown[0], shown[1], shown[2],
            run_steal);
  double q[3];
  size_t probes = probe_quantiles(r, "drift_probe_ns", q);
  double median = q[1], spread = (q[2] - q[0]) / q[1];
  if (!isnan(median))
    fprintf(out,
            "drift: the probe took %.0f ns (median of %zu repetitions), "
            "p10 to p90 %.1f %% of it%s\n",
            median, probes, 100 * spread,
            spread > SM_DRIFT_SPREAD ? ": the host's speed changed during "
                                       "the run"
                                     : "");
  int rc = pair_probe_report(r, out, fields, n, max);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "disturbed_reps", "%zu", disturbed);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "drift_probe_ns_median", "%.1f",
                         median);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "drift_probe_spread_pct", "%.2f",
                         100 * spread);
  rc =
      rc ? rc : sm_field_add(fields, n, max, "retaken_reps", "%zu", r->retakes);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "steal_share_run", "%s", run_steal);
  for (int m = 0; rc == 0 && m < 3; m++) {
    char key[48];
    snprintf(key, sizeof key, "%s_max", names[m]);
    rc = sm_field_add(fields, n, max, key, "%s", shown[m]);
  }
  return rc;
}
