/* cmd_compare.c: `syncmark compare BASE CURRENT` (or `--baseline NAME
 * CURRENT`, BASE from the results database): the rows of two runs side by
 * side, regressions first, as a table and optionally Markdown. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "db.h"
#include "options.h"
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

/* Describes how the machines of two runs differ into buf ("" when they
 * match or cannot be told apart). */
static void machine_differences(const struct sm_run_rows *a,
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
                           const char *const labels[2],
                           const struct sm_comparison *c,
                           const char *differences) {
  fprintf(out, "### syncmark compare\n\n`%s` → `%s`: ", labels[0], labels[1]);
  print_counts(out, c);
  fprintf(out,
          "\nA row regressed when the Mann-Whitney U test on its "
          "repetitions gives p < %g and it is more than %g%% worse.\n\n",
          o->alpha, o->threshold * 100);
  if (differences[0])
    fprintf(out,
            "> **Warning: the runs come from different machines** "
            "(%s); the comparison says little.\n\n",
            differences);
  fputs("| verdict | change | p | base | current | unit | benchmark | "
        "params | threads | placement | metric |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n",
        out);
  for (size_t i = 0; i < c->nrows; i++)
    if (listed(&c->rows[i], o->all))
      print_markdown_row(out, &c->rows[i]);
}

/* Writes the Markdown file named by --markdown. Returns 0 or exits 2 (bad
 * output path). */
static int save_markdown(const struct sm_options *o,
                         const char *const labels[2],
                         const struct sm_comparison *c,
                         const char *differences) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem)
    return -ENOMEM;
  write_markdown(mem, o, labels, c, differences);
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

/* Loads one of the two runs or exits 2 with the loader's message. */
static void load_or_exit(const char *path, struct sm_run_rows *run) {
  char msg[768];
  if (sm_run_rows_load(path, run, msg, sizeof msg) != 0)
    sm_usage_error("compare: %s", msg);
}

/* Prints the header lines and the table of the comparison. */
static void print_comparison(const struct sm_options *o,
                             const char *const labels[2],
                             const struct sm_comparison *c,
                             const char *differences) {
  printf("syncmark compare: %s -> %s (threshold %g%%, alpha %g, "
         "two-sided Mann-Whitney U)\n",
         labels[0], labels[1], o->threshold * 100, o->alpha);
  if (differences[0])
    printf("WARNING: the runs come from different machines (%s); the "
           "comparison says little\n",
           differences);
  if (most_reps(c) < 4)
    printf("note: with at most %zu repetitions per row no difference can "
           "reach p < %g; run with --reps 5 or more\n",
           most_reps(c), o->alpha);
  printf("%-15s %8s %6s %8s %8s %-11s %-28s %-24s %4s %-12s %s\n", "verdict",
         "change", "p", "base", "current", "unit", "benchmark", "params", "thr",
         "placement", "metric");
  for (size_t i = 0; i < c->nrows; i++)
    if (listed(&c->rows[i], o->all))
      print_row(stdout, &c->rows[i]);
  print_counts(stdout, c);
}

/* Loads baseline `name` from the database into *run (its raw rows and
 * machine fields as stored) and names it in label; exits 2 when the
 * database or the baseline is not there. */
static void load_baseline(const struct sm_options *o, struct sm_run_rows *run,
                          char *label, size_t size) {
  struct sm_db *db;
  char msg[1024];
  const char *path = sm_options_db(o);
  if (sm_db_open(path, SM_DB_READ, &db, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  struct sm_db_run r;
  if (sm_db_get_baseline(db, o->baseline, &r, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  snprintf(label, size, "baseline %s (run %lld, %s, commit %s)", o->baseline,
           r.id, r.source, r.git_commit);
  struct sm_csv_table raw, machine;
  if (sm_db_load_table(db, r.id, SM_DB_RAW, &raw, msg, sizeof msg) != 0 ||
      sm_db_load_table(db, r.id, SM_DB_MACHINE, &machine, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  if (sm_run_rows_from_tables(label, &raw, &machine, run, msg, sizeof msg) != 0)
    sm_usage_error("compare: %s", msg);
  sm_db_close(db);
}

int sm_cmd_compare(const struct sm_options *o) {
  if (o->baseline && o->nargs != 1)
    sm_usage_error("compare: %zu argument(s) given with --baseline (allowed: "
                   "exactly one, CURRENT, a run folder or a raw.csv file)",
                   o->nargs);
  if (!o->baseline && o->db)
    sm_usage_error("compare: --db applies with --baseline NAME only");
  if (!o->baseline && o->nargs != 2)
    sm_usage_error("compare: %zu argument(s) given (allowed: exactly two, "
                   "BASE and CURRENT, each a run folder or a raw.csv file)",
                   o->nargs);
  struct sm_run_rows base, current;
  char base_label[768];
  const char *labels[2] = {base_label, o->args[o->nargs - 1]};
  if (o->baseline)
    load_baseline(o, &base, base_label, sizeof base_label);
  else {
    load_or_exit(o->args[0], &base);
    snprintf(base_label, sizeof base_label, "%s", o->args[0]);
  }
  load_or_exit(o->args[o->nargs - 1], &current);
  struct sm_compare_opts opts = {.threshold = o->threshold, .alpha = o->alpha};
  struct sm_comparison c;
  if (sm_compare_groups(base.groups, base.ngroups, current.groups,
                        current.ngroups, &opts, &c) != 0) {
    fputs("syncmark: compare: out of memory\n", stderr);
    return 1;
  }
  if (c.count[SM_ONLY_BASE] + c.count[SM_ONLY_CURRENT] == c.nrows)
    sm_usage_error("compare: %s and %s have no rows in common (rows match "
                   "by benchmark, variant, params, threads, placement and "
                   "metric)",
                   base.raw_path, current.raw_path);
  char differences[1024];
  machine_differences(&base, &current, differences, sizeof differences);
  print_comparison(o, labels, &c, differences);
  if (o->markdown)
    save_markdown(o, labels, &c, differences);
  int status = c.count[SM_REGRESSED] > 0 ? 1 : 0;
  sm_comparison_free(&c);
  sm_run_rows_free(&base);
  sm_run_rows_free(&current);
  return status;
}
