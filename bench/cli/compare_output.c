/* compare_output.c: the table and Markdown of a comparison, shared by
 * `syncmark compare` and `syncmark ab`. */
#include "compare_output.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rundir.h"
#include "table.h"

/* Machine fields that must match for two runs to be comparable. */
static const char *const SAME_MACHINE_KEYS[] = {
    "hostname", "cpu_brand", "topo_pus", "allowed_pu_list", "kernel"};

/* Returns the value of `key` in a loaded machine.csv, or NULL. */
static const char *machine_value(const struct sm_csv_table *m,
                                 const char *key) {
  for (size_t r = 0; m->ncols == 2 && r < m->nrows; r++)
    if (strcmp(m->rows[r][0], key) == 0)
      return m->rows[r][1];
  return NULL;
}

void sm_machine_differences(const struct sm_run_rows *a,
                            const struct sm_run_rows *b, char *buf,
                            size_t size) {
  buf[0] = '\0';
  size_t len = 0;
  for (size_t i = 0; i < sizeof SAME_MACHINE_KEYS / sizeof *SAME_MACHINE_KEYS;
       i++) {
    const char *x = machine_value(&a->machine, SAME_MACHINE_KEYS[i]);
    const char *y = machine_value(&b->machine, SAME_MACHINE_KEYS[i]);
    if (x && y && strcmp(x, y) != 0 && len < size)
      len += (size_t)snprintf(buf + len, size - len, "%s%s '%s' vs '%s'",
                              len ? "; " : "", SAME_MACHINE_KEYS[i], x, y);
  }
  /* The same machine at another speed: the drift probes of the two runs
   * (a fixed piece of work, CPU time) differ by more than 5 %. */
  const char *x = machine_value(&a->machine, "drift_probe_ns_median");
  const char *y = machine_value(&b->machine, "drift_probe_ns_median");
  double px = x ? strtod(x, NULL) : NAN, py = y ? strtod(y, NULL) : NAN;
  if (px > 0 && py > 0 && fabs(py / px - 1) > 0.05 && len < size)
    len += (size_t)snprintf(
        buf + len, size - len,
        "%sspeed: the drift probe took %.0f vs %.0f ns (%+.0f %%)",
        len ? "; " : "", px, py, 100 * (py / px - 1));
  /* The same machine with its PUs placed otherwise by the host: the pair
   * probes' medians (a cache line between two PUs) differ by more than
   * 25 %, and so may every figure of a case on two PUs. */
  x = machine_value(&a->machine, "pair_probe_ns_median");
  y = machine_value(&b->machine, "pair_probe_ns_median");
  px = x ? strtod(x, NULL) : NAN;
  py = y ? strtod(y, NULL) : NAN;
  if (px > 0 && py > 0 && fabs(py / px - 1) > 0.25 && len < size)
    snprintf(buf + len, size - len,
             "%spair probe: a cache line between two PUs took %.0f vs %.0f "
             "ns (%+.0f %%), so cases on two PUs are not comparable",
             len ? "; " : "", px, py, 100 * (py / px - 1));
}

/* Formats the change of a row ("+12.3%") into buf. */
static const char *change_text(const struct sm_compare_row *r, char *buf,
                               size_t size) {
  if (isnan(r->ratio) || isinf(r->ratio))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%+.1f%%", (r->ratio - 1.0) * 100.0);
  return buf;
}

/* The group a row describes: current, or base when only that one has it. */
static const struct sm_row_group *row_group(const struct sm_compare_row *r) {
  return r->current ? r->current : r->base;
}

/* Returns true when the row is listed without --all. */
static bool listed(const struct sm_compare_row *r, bool all) {
  return all || (r->verdict != SM_UNCHANGED && r->verdict != SM_INFORMATIONAL);
}

/* Prints one row of the human table. */
static void print_row(FILE *out, const struct sm_compare_row *r) {
  const struct sm_row_group *g = row_group(r);
  char change[24], p[16], base[16], cur[16], label[96];
  snprintf(p, sizeof p, isnan(r->p_value) ? "-" : "%.3f", r->p_value);
  snprintf(label, sizeof label, "%s/%s", g->benchmark, g->variant);
  fprintf(out, "%-15s %8s %6s %8s %8s %-11s %-28s %-24s %4s %-12s %s\n",
          sm_verdict_name(r->verdict), change_text(r, change, sizeof change), p,
          sm_format_si(r->base_median, base, sizeof base),
          sm_format_si(r->current_median, cur, sizeof cur), g->unit, label,
          g->params, g->threads, g->placement, g->metric);
}

/* Prints one row as a Markdown table row. */
static void print_markdown_row(FILE *out, const struct sm_compare_row *r) {
  const struct sm_row_group *g = row_group(r);
  char change[24], base[16], cur[16];
  fprintf(out, "| %s | %s | ", sm_verdict_name(r->verdict),
          change_text(r, change, sizeof change));
  if (isnan(r->p_value))
    fputs("- | ", out);
  else
    fprintf(out, "%.3f | ", r->p_value);
  fprintf(out, "%s | %s | %s | %s/%s | `%s` | %s | %s | %s |\n",
          sm_format_si(r->base_median, base, sizeof base),
          sm_format_si(r->current_median, cur, sizeof cur), g->unit,
          g->benchmark, g->variant, g->params, g->threads, g->placement,
          g->metric);
}

/* One line counting the rows per verdict. */
static void print_counts(FILE *out, const struct sm_comparison *c) {
  fprintf(out,
          "%zu regressed, %zu improved, %zu same, %zu informational; %zu "
          "only in base, %zu only in current\n",
          c->count[SM_REGRESSED], c->count[SM_IMPROVED], c->count[SM_UNCHANGED],
          c->count[SM_INFORMATIONAL], c->count[SM_ONLY_BASE],
          c->count[SM_ONLY_CURRENT]);
}

/* Writes the comparison as Markdown to `out`. */
static void write_markdown(FILE *out, const struct sm_options *o,
                           const struct sm_compare_report *rep,
                           const struct sm_comparison *c) {
  const char *differences = rep->differences;
  fprintf(out, "### syncmark %s\n\n`%s` → `%s`: ", rep->command, rep->labels[0],
          rep->labels[1]);
  print_counts(out, c);
  fprintf(out,
          "\nA row regressed when the %s gives p < %g and it is more than "
          "%g%% worse.\n\n",
          rep->test, o->alpha, o->threshold * 100);
  if (differences[0])
    fprintf(out,
            "> **Warning: the runs come from different machines, or one "
            "ran at another speed** (%s); the comparison says little.\n\n",
            differences);
  fputs("| verdict | change | p | base | current | unit | benchmark | "
        "params | threads | placement | metric |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n",
        out);
  for (size_t i = 0; i < c->nrows; i++)
    if (listed(&c->rows[i], o->all))
      print_markdown_row(out, &c->rows[i]);
}

int sm_compare_save_markdown(const struct sm_options *o,
                             const struct sm_compare_report *rep,
                             const struct sm_comparison *c) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem)
    return -ENOMEM;
  write_markdown(mem, o, rep, c);
  if (fclose(mem) != 0) {
    free(text);
    return -ENOMEM;
  }
  int rc = sm_file_write_atomic(o->markdown, text, len);
  free(text);
  if (rc != 0)
    sm_usage_error("--markdown: cannot write '%s': %s (a writable file "
                   "path)",
                   o->markdown, strerror(-rc));
  return 0;
}

/* Returns the largest repetition count of the rows both runs have. */
static size_t most_reps(const struct sm_comparison *c) {
  size_t most = 0;
  for (size_t i = 0; i < c->nrows; i++)
    if (c->rows[i].base && c->rows[i].current) {
      size_t n = c->rows[i].base->n < c->rows[i].current->n
                     ? c->rows[i].base->n
                     : c->rows[i].current->n;
      most = n > most ? n : most;
    }
  return most;
}

void sm_compare_print(const struct sm_options *o,
                      const struct sm_compare_report *rep,
                      const struct sm_comparison *c) {
  const char *differences = rep->differences;
  printf("syncmark %s: %s -> %s (threshold %g%%, alpha %g, %s)\n", rep->command,
         rep->labels[0], rep->labels[1], o->threshold * 100, o->alpha,
         rep->test);
  if (differences[0])
    printf("WARNING: the runs come from different machines or one ran at "
           "another speed (%s); the comparison says little\n",
           differences);
  if (most_reps(c) < rep->min_reps)
    printf("note: with at most %zu %s per row no difference can reach p < "
           "%g; run with --reps %zu or more\n",
           most_reps(c), rep->reps_name, o->alpha, rep->min_reps);
  printf("%-15s %8s %6s %8s %8s %-11s %-28s %-24s %4s %-12s %s\n", "verdict",
         "change", "p", "base", "current", "unit", "benchmark", "params", "thr",
         "placement", "metric");
  for (size_t i = 0; i < c->nrows; i++)
    if (listed(&c->rows[i], o->all))
      print_row(stdout, &c->rows[i]);
  print_counts(stdout, c);
}

int sm_compare_finish(const struct sm_options *o,
                      const struct sm_compare_report *rep,
                      struct sm_comparison *c, struct sm_run_rows *base,
                      struct sm_run_rows *current) {
  sm_compare_print(o, rep, c);
  if (o->markdown)
    sm_compare_save_markdown(o, rep, c);
  int status = c->count[SM_REGRESSED] > 0 ? 1 : 0;
  sm_comparison_free(c);
  sm_run_rows_free(base);
  sm_run_rows_free(current);
  return status;
}
