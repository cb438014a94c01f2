/* table.c: the human table printed at the end of a run. */
#include "table.h"

#include <math.h>
#include <string.h>

char *sm_format_si(double value, char *buf, size_t size) {
  static const char prefixes[] = " kMGT";
  if (!isfinite(value)) {
    snprintf(buf, size, "-");
    return buf;
  }
  int i = 0;
  double v = value;
  while (fabs(v) >= 1000.0 && i < 4) {
    v /= 1000.0;
    i++;
  }
  if (i == 0)
    snprintf(buf, size, "%.3g", v);
  else
    snprintf(buf, size, "%.3g%c", v, prefixes[i]);
  return buf;
}

/* Returns the median of (case, metric), or NaN when it has none. */
static double median_of(const struct sm_results *r, size_t c,
                        const char *metric, struct sm_summary *s) {
  return sm_results_summary(r, c, metric, s) == 0 ? s->median : NAN;
}

/* Prints the extra columns of a window family's row. */
static void print_window_columns(FILE *out, const struct sm_results *r,
                                 size_t c) {
  struct sm_summary s;
  char nsop[16];
  fprintf(out, " %8s %6.3f %8.3g",
          sm_format_si(median_of(r, c, "ns_per_op", &s), nsop, sizeof nsop),
          median_of(r, c, "fairness_jain", &s),
          median_of(r, c, "vcsw_per_op", &s));
}

/* Ends the row of a case without a headline summary: why, when the runner
 * marked repetitions invalid (too fast to time, or the samples cost too
 * much), else "-". */
static void print_missing(FILE *out, const struct sm_results *r, size_t c) {
  double valid[1024];
  size_t n = sm_results_values(r, c, "valid", valid, 1024), bad = 0;
  for (size_t i = 0; i < n && i < 1024; i++)
    bad += valid[i] == 0;
  if (bad == 0)
    fputs("-\n", out);
  else
    fprintf(out,
            "invalid in %zu of %zu reps: not above the runner's overhead "
            "or the clock's resolution per op (or sampling too dear)\n",
            bad, n);
}

void sm_table_print(FILE *out, const struct sm_case *cases, size_t ncases,
                    const struct sm_results *r,
                    const struct sm_outcome *outcomes) {
  fprintf(out, "%-28s %-22s %4s %-13s %-14s %8s %19s %6s %8s %6s %8s\n",
          "benchmark", "params", "thr", "placement", "metric", "median",
          "95% CI of median", "cv", "ns/op", "jain", "vcsw/op");
  for (size_t c = 0; c < ncases; c++) {
    const struct sm_case *k = &cases[c];
    const struct sm_outcome *o = &outcomes[c];
    if (o->kind == SM_OUTCOME_SKIPPED && !o->reason[0])
      continue;
    char label[96];
    snprintf(label, sizeof label, "%s/%s", k->family->name, k->variant->name);
    fprintf(out, "%-28s %-22s %4u %-13s ", label, k->params, k->threads,
            k->placement_name);
    if (o->kind != SM_OUTCOME_OK) {
      fprintf(out, "%s: %s\n",
              o->kind == SM_OUTCOME_SKIPPED     ? "SKIPPED"
              : o->kind == SM_OUTCOME_FAILED    ? "FAILED"
              : o->kind == SM_OUTCOME_TIMED_OUT ? "TIMED_OUT"
                                                : "CRASHED",
              o->reason);
      continue;
    }
    const char *metric = sm_results_headline(r, c, k);
    struct sm_summary s;
    if (!metric || sm_results_summary(r, c, metric, &s) != 0) {
      print_missing(out, r, c);
      continue;
    }
    char m[16], lo[16], hi[16], ci[40];
    snprintf(ci, sizeof ci, "[%s, %s]", sm_format_si(s.ci_lo, lo, 16),
             sm_format_si(s.ci_hi, hi, 16));
    fprintf(out, "%-14.14s %8s %19s %5.1f%%", metric,
            sm_format_si(s.median, m, 16), ci, s.cv * 100.0);
    if (!k->family->measure && !k->variant->measure)
      print_window_columns(out, r, c);
    fputc('\n', out);
  }
}
