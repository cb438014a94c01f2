/* cmd_history.c: `syncmark history [FILTER...]`: every row's median over
 * commits per machine from the results database, history.csv, and one
 * trend figure per family and machine with the regressions marked. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect.h"
#include "db.h"
#include "gnuplot.h"
#include "history.h"
#include "options.h"
#include "rundir.h"
#include "table.h"
#include "text.h"

/* Where history writes without --out. */
#define DEFAULT_HISTORY_OUT "results/history"

/* One machine's description, from its latest run's machine.csv. */
struct machine_line {
  char id[SM_MACHINE_ID_LEN + 1];
  char text[640];
};

/* Describes every machine of the database into a malloc'd array. */
static struct machine_line *describe_machines(struct sm_db *db, size_t *n) {
  struct sm_db_run *runs;
  char msg[512];
  *n = 0;
  if (sm_db_latest_runs(db, &runs, n, msg, sizeof msg) != 0)
    return NULL;
  struct machine_line *lines = calloc(*n ? *n : 1, sizeof *lines);
  for (size_t i = 0; lines && i < *n; i++) {
    struct sm_csv_table m;
    snprintf(lines[i].id, sizeof lines[i].id, "%s", runs[i].machine_id);
    if (sm_db_load_table(db, runs[i].id, SM_DB_MACHINE, &m, msg, sizeof msg) ==
        0) {
      sm_machine_describe_line(&m, lines[i].text, sizeof lines[i].text);
      sm_csv_table_free(&m);
    }
  }
  free(runs);
  return lines;
}

/* Returns the description of machine `id`, or "". */
static const char *machine_text(const struct machine_line *lines, size_t n,
                                const char *id) {
  for (size_t i = 0; lines && i < n; i++)
    if (strcmp(lines[i].id, id) == 0)
      return lines[i].text;
  return "";
}

/* Formats a value for the table, "-" when undefined. */
static const char *num(double v, char *buf, size_t size) {
  if (isnan(v))
    return snprintf(buf, size, "-"), buf;
  return sm_format_si(v, buf, size);
}

/* Prints one series: its key, then one line per commit. */
static void print_series(const struct sm_history_series *s) {
  printf("\n%s/%s %s%sthreads=%lld %s  %s [%s, %s is better]  machine %s\n",
         s->benchmark, s->variant, s->params, s->params[0] ? " " : "",
         s->threads, s->placement, s->metric, s->unit,
         sm_direction_name(s->direction), s->machine_id);
  printf("  %-12s %-24s %5s %9s %21s %8s %6s  %s\n", "commit", "first run",
         "reps", "median", "95% CI", "change", "p", "verdict");
  for (size_t i = 0; i < s->npoints; i++) {
    const struct sm_history_point *p = &s->points[i];
    char m[16], lo[16], hi[16], ci[40], change[16], pv[16];
    snprintf(ci, sizeof ci, "[%s, %s]", num(p->ci_lo, lo, sizeof lo),
             num(p->ci_hi, hi, sizeof hi));
    if (isnan(p->change))
      snprintf(change, sizeof change, "-");
    else
      snprintf(change, sizeof change, "%+.1f%%", p->change * 100);
    snprintf(pv, sizeof pv, isnan(p->p_value) ? "-" : "%.3f", p->p_value);
    printf("  %-12.12s %-24s %5zu %9s %21s %8s %6s  %s\n", p->commit,
           p->first_at, p->n, num(p->median, m, sizeof m), ci, change, pv,
           p->verdict == SM_ONLY_CURRENT ? "first"
                                         : sm_verdict_name(p->verdict));
  }
}

/* Replaces characters that would end a gnuplot string. */
static void strip_quotes(char *s) {
  for (; *s; s++)
    if (*s == '\'' || *s == '\\')
      *s = ' ';
}

/* Renders the trend figure of one family's metric on one machine as PNG
 * and SVG; prints the PNG's path. Returns the number of failed files. */
static int render_family(const struct sm_history *h, const char *family,
                         const struct sm_history_machine *m,
                         const char *description, const char *csv,
                         const char *out_dir) {
  const char *metric = sm_history_figure_metric(h, family);
  if (!metric)
    return 0;
  char *vars = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&vars, &len);
  if (!f)
    return 2;
  const char *unit = "", *direction = "none";
  char variants[2048] = "";
  fprintf(f, "series_ids='");
  size_t count = 0;
  for (size_t i = 0; i < h->nseries; i++) {
    const struct sm_history_series *s = &h->series[i];
    if (strcmp(s->benchmark, family) != 0 || strcmp(s->metric, metric) != 0 ||
        strcmp(s->machine_id, m->id) != 0)
      continue;
    fprintf(f, "%s%zu", count++ ? " " : "", i + 1);
    unit = s->unit;
    direction = sm_direction_name(s->direction);
    char padded[160], haystack[2100];
    snprintf(padded, sizeof padded, " %s ", s->variant);
    snprintf(haystack, sizeof haystack, " %s ", variants);
    if (!strstr(haystack, padded))
      sm_appendf(variants, sizeof variants, "%s%s", variants[0] ? " " : "",
                 s->variant);
  }
  fprintf(f, "'; series_variants='");
  count = 0;
  for (size_t i = 0; i < h->nseries; i++) {
    const struct sm_history_series *s = &h->series[i];
    if (strcmp(s->benchmark, family) == 0 && strcmp(s->metric, metric) == 0 &&
        strcmp(s->machine_id, m->id) == 0)
      fprintf(f, "%s%s", count++ ? " " : "", s->variant);
  }
  fprintf(f, "'; commits='");
  for (size_t c = 0; c < m->ncommits; c++)
    fprintf(f, "%s%.12s", c ? " " : "", m->commits[c].commit);
  char machine[700];
  snprintf(machine, sizeof machine, "machine %s: %s", m->id, description);
  strip_quotes(machine);
  fprintf(f,
          "'; dir='%s'; data='%s'; family='%s'; machine_id='%s'; metric='%s'; "
          "unit='%s'; direction='%s'; variants='%s'; machine='%s'",
          sm_plots_dir(), csv, family, m->id, metric, unit, direction, variants,
          machine);
  if (fclose(f) != 0 || count == 0) {
    free(vars);
    return count == 0 ? 0 : 2;
  }
  static const char *const formats[] = {"png", "svg"};
  char script[4300];
  snprintf(script, sizeof script, "%s/history.gp", sm_plots_dir());
  int failures = 0;
  for (int i = 0; i < 2; i++) {
    char outfile[4400];
    size_t n = strlen(vars) + 32;
    char *all = malloc(n);
    if (!all ||
        sm_format(outfile, sizeof outfile, "%s/history-%s-machine=%s.%s",
                  out_dir, family, m->id, formats[i]) ||
        snprintf(all, n, "%s; fmt='%s'", vars, formats[i]) >= (int)n ||
        sm_gnuplot_run(script, all, outfile) != 0)
      failures++;
    else if (i == 0)
      printf("%s\n", outfile);
    free(all);
  }
  free(vars);
  return failures;
}

/* Renders one figure per family and machine. Returns the failures. */
static int render_all(const struct sm_history *h,
                      const struct machine_line *lines, size_t nlines,
                      const char *csv, const char *out_dir) {
  int failures = 0;
  for (size_t m = 0; m < h->nmachines; m++) {
    const char *done[64];
    size_t ndone = 0;
    for (size_t i = 0; i < h->nseries; i++) {
      const struct sm_history_series *s = &h->series[i];
      if (strcmp(s->machine_id, h->machines[m].id) != 0)
        continue;
      bool seen = false;
      for (size_t d = 0; d < ndone && !seen; d++)
        seen = strcmp(done[d], s->benchmark) == 0;
      if (seen || ndone == 64)
        continue;
      done[ndone++] = s->benchmark;
      failures += render_family(h, s->benchmark, &h->machines[m],
                                machine_text(lines, nlines, h->machines[m].id),
                                csv, out_dir);
    }
  }
  return failures;
}

/* Opens the database read-only or exits 2. */
static struct sm_db *open_or_exit(const char *path) {
  struct sm_db *db;
  char msg[1024];
  if (sm_db_open(path, SM_DB_READ, &db, msg, sizeof msg) != 0)
    sm_usage_error("history: %s", msg);
  return db;
}

/* Prints the header lines: the rule and the machines shown. */
static void print_header(const struct sm_options *o, const struct sm_db *db,
                         const struct sm_history *h,
                         const struct machine_line *lines, size_t nlines) {
  size_t commits = 0;
  for (size_t m = 0; m < h->nmachines; m++)
    commits += h->machines[m].ncommits;
  printf("syncmark history: %zu series over %zu commit(s) on %zu machine(s) "
         "in %s; each commit against the one before (threshold %g%%, "
         "alpha %g, two-sided Mann-Whitney U)\n",
         h->nseries, commits, h->nmachines, sm_db_path(db), o->threshold * 100,
         o->alpha);
  for (size_t m = 0; m < h->nmachines; m++)
    printf("machine %s: %s\n", h->machines[m].id,
           machine_text(lines, nlines, h->machines[m].id));
}

int sm_cmd_history(const struct sm_options *o) {
  const char *out_dir = o->out_given ? o->out_dir : DEFAULT_HISTORY_OUT;
  if (strchr(out_dir, '\''))
    sm_usage_error("history: --out '%s' contains a quote character, which "
                   "gnuplot cannot take (another folder name)",
                   out_dir);
  struct sm_db *db = open_or_exit(sm_options_db(o));
  char msg[1024], machine_id[SM_MACHINE_ID_LEN + 1];
  if (o->machine &&
      sm_db_resolve_machine(db, o->machine, machine_id, msg, sizeof msg) != 0)
    sm_usage_error("history: %s", msg);
  struct sm_history_opts opts = {
      .machine_id = o->machine ? machine_id : NULL,
      .filters = o->args,
      .nfilters = o->nargs,
      .all = o->all,
      .compare = {.threshold = o->threshold, .alpha = o->alpha}};
  struct sm_history h;
  if (sm_history_load(db, &opts, &h, msg, sizeof msg) != 0) {
    fprintf(stderr, "syncmark: history: %s\n", msg);
    sm_db_close(db);
    return 1;
  }
  if (h.nseries == 0)
    sm_usage_error("history: no collected row of %s matches %s%s%s (allowed: "
                   "globs on family or family/variant of collected runs)",
                   sm_db_path(db), o->nargs ? "the filter" : "anything",
                   o->machine ? " on machine " : "",
                   o->machine ? o->machine : "");
  size_t nlines;
  struct machine_line *lines = describe_machines(db, &nlines);
  char csv[4200];
  int rc = sm_collect_db_parent(out_dir) == 0 &&
                   (mkdir(out_dir, 0755) == 0 || errno == EEXIST)
               ? sm_path_join(csv, sizeof csv, out_dir, "history.csv")
               : -errno;
  if (rc == 0)
    rc = sm_history_write_csv(&h, csv);
  if (rc != 0)
    sm_usage_error("history: --out: cannot write history.csv under '%s': %s "
                   "(a writable folder)",
                   out_dir, strerror(-rc));
  print_header(o, db, &h, lines, nlines);
  for (size_t i = 0; i < h.nseries; i++)
    print_series(&h.series[i]);
  printf("\n%zu regression(s) between consecutive commits\n", h.regressions);
  int failures = render_all(&h, lines, nlines, csv, out_dir);
  printf("history: %s\n", csv);
  free(lines);
  sm_history_free(&h);
  sm_db_close(db);
  return failures ? 1 : 0;
}
