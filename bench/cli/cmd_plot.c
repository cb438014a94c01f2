/* cmd_plot.c: `syncmark plot RUN_DIR`: renders every figure whose family
 * has rows in the run, with the gnuplot scripts in plots/, as PNG and SVG. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "options.h"
#include "rundir.h"
#include "syncmark/csv.h"
#include "text.h"

/* Most split keys a script may declare, and most figures per script. */
enum { MAX_SPLIT_KEYS = 4, MAX_SPLIT_VALUES = 64 };

/* The loaded run: its summary table and the machine fields a figure shows. */
struct plot_run {
  const char *dir;
  char summary_path[4200];
  struct sm_csv_table summary;
  char machine[256]; /* "host, CPU brand, N PUs" */
  int pus;
  int col_benchmark, col_variant, col_params, col_placement;
};

/* Returns the value of `key=` inside a params string ("a=1;b=2") into buf,
 * or "" when absent. */
static void param_value(const char *params, const char *key, char *buf,
                        size_t size) {
  size_t klen = strlen(key);
  buf[0] = '\0';
  for (const char *p = params; p && *p;) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
      snprintf(buf, size, "%.*s", (int)(len - klen - 1), p + klen + 1);
      return;
    }
    p = end ? end + 1 : NULL;
  }
}

/* Returns the value of split key `key` for summary row r into buf. */
static void split_value_of(const struct plot_run *run, size_t r,
                           const char *key, char *buf, size_t size) {
  char **row = run->summary.rows[r];
  if (strcmp(key, "placement") == 0)
    snprintf(buf, size, "%s", row[run->col_placement]);
  else
    param_value(row[run->col_params], key, buf, size);
}

/* Reads the "# split: k1 k2" line of a gnuplot script into keys. Returns the
 * number of keys (0 when the script renders a single figure). */
static int read_split_keys(const char *script, char keys[][32]) {
  FILE *f = fopen(script, "r");
  if (!f)
    return 0;
  char line[256];
  int n = 0;
  while (n == 0 && fgets(line, sizeof line, f)) {
    if (strncmp(line, "# split:", 8) != 0)
      continue;
    char *save = NULL;
    for (char *tok = strtok_r(line + 8, " \t\n", &save);
         tok && n < MAX_SPLIT_KEYS; tok = strtok_r(NULL, " \t\n", &save))
      snprintf(keys[n++], 32, "%s", tok);
  }
  fclose(f);
  return n;
}

/* Renders one figure (PNG and SVG) of `script` named base[-k=v...]. */
static int render_figure(const struct plot_run *run, const char *script,
                         const char *plots_dir, const char *base,
                         const char *variants, char keys[][32],
                         char values[][32], int nkeys) {
  char name[512], joined_keys[160] = "", joined_values[160] = "";
  int rc = sm_format(name, sizeof name, "%s", base);
  for (int k = 0; k < nkeys; k++) {
    rc |= sm_appendf(name, sizeof name, "-%s=%s", keys[k], values[k]);
    rc |= sm_appendf(joined_keys, sizeof joined_keys, "%s%s", k ? " " : "",
                     keys[k]);
    rc |= sm_appendf(joined_values, sizeof joined_values, "%s%s", k ? " " : "",
                     values[k]);
  }
  if (rc != 0) {
    fprintf(stderr, "syncmark: figure name too long for %s\n", script);
    return 2;
  }
  static const char *const formats[] = {"png", "svg"};
  int failures = 0;
  for (int i = 0; i < 2; i++) {
    char out[4300], assignments[5000];
    if (sm_format(out, sizeof out, "%s/%s.%s", run->dir, name, formats[i]) ||
        sm_format(assignments, sizeof assignments,
                  "dir='%s'; summary='%s'; series='%s/series.csv'; "
                  "raw='%s/raw.csv'; fmt='%s'; machine='%s'; pus=%d; "
                  "variants='%s'; split_keys='%s'; split_values='%s'",
                  plots_dir, run->summary_path, run->dir, run->dir, formats[i],
                  run->machine, run->pus, variants, joined_keys,
                  joined_values) ||
        sm_gnuplot_run(script, assignments, out) != 0)
      failures++;
    else if (i == 0)
      printf("%s\n", out);
  }
  return failures;
}

/* Collects the distinct combinations of the split keys among the rows of
 * `family`, in first-seen order. Returns how many. */
static int split_combinations(const struct plot_run *run, const char *family,
                              char keys[][32], int nkeys,
                              char combos[][MAX_SPLIT_KEYS][32]) {
  int n = 0;
  for (size_t r = 0; r < run->summary.nrows; r++) {
    if (strcmp(run->summary.rows[r][run->col_benchmark], family) != 0)
      continue;
    char current[MAX_SPLIT_KEYS][32] = {{0}};
    for (int k = 0; k < nkeys; k++)
      split_value_of(run, r, keys[k], current[k], 32);
    int seen = 0;
    for (int c = 0; c < n && !seen; c++)
      seen = memcmp(combos[c], current, sizeof current) == 0;
    if (!seen && n < MAX_SPLIT_VALUES)
      memcpy(combos[n++], current, sizeof current);
  }
  return n;
}

/* Writes the distinct variants of `family` in the run, in first-seen order
 * and space-separated, into buf. Returns 0 or -ENOSPC. */
static int family_variants(const struct plot_run *run, const char *family,
                           char *buf, size_t size) {
  buf[0] = '\0';
  for (size_t r = 0; r < run->summary.nrows; r++) {
    char **row = run->summary.rows[r];
    if (strcmp(row[run->col_benchmark], family) != 0)
      continue;
    const char *v = row[run->col_variant];
    char padded[160];
    sm_format(padded, sizeof padded, " %s ", v);
    char haystack[1100];
    sm_format(haystack, sizeof haystack, " %s ", buf);
    if (!strstr(haystack, padded) &&
        sm_appendf(buf, size, "%s%s", buf[0] ? " " : "", v) != 0)
      return -ENOSPC;
  }
  return 0;
}

/* Renders every figure of one script whose family has rows in the run.
 * The family is the script's name up to the first '-' or '.'. Returns the
 * number of figures that failed. */
static int render_script(const struct plot_run *run, const char *plots_dir,
                         const char *file) {
  char base[256], family[256], script[4300];
  snprintf(base, sizeof base, "%.*s", (int)(strlen(file) - 3), file);
  snprintf(family, sizeof family, "%.*s", (int)strcspn(base, "-."), base);
  snprintf(script, sizeof script, "%s/%s", plots_dir, file);
  char keys[MAX_SPLIT_KEYS][32];
  static char combos[MAX_SPLIT_VALUES][MAX_SPLIT_KEYS][32];
  memset(combos, 0, sizeof combos);
  int nkeys = read_split_keys(script, keys);
  int ncombos = split_combinations(run, family, keys, nkeys, combos);
  char variants[1024];
  if (family_variants(run, family, variants, sizeof variants) != 0) {
    fprintf(stderr, "syncmark: too many variants of %s to plot\n", family);
    return 1;
  }
  int failures = 0;
  for (int c = 0; c < ncombos; c++)
    failures += render_figure(run, script, plots_dir, base, variants, keys,
                              combos[c], nkeys);
  return failures;
}

/* Replaces characters that would end a gnuplot string in place. */
static void strip_quotes(char *s) {
  for (; *s; s++)
    if (*s == '\'' || *s == '\\')
      *s = ' ';
}

/* Loads summary.csv and the machine label of the run folder; exits with
 * status 2 when the folder is not a readable run. */
static void load_run(struct plot_run *run, const char *dir) {
  run->dir = dir;
  if (strchr(dir, '\''))
    sm_usage_error("plot: '%s' contains a quote character, which gnuplot "
                   "cannot take (rename the folder)",
                   dir);
  if (sm_path_join(run->summary_path, sizeof run->summary_path, dir,
                   SM_RUN_SUMMARY) != 0 ||
      sm_csv_read(run->summary_path, &run->summary) != 0)
    sm_usage_error("plot: '%s' is not a run folder (allowed: a folder "
                   "holding a readable summary.csv written by syncmark run)",
                   dir);
  run->col_benchmark = sm_csv_column(&run->summary, "benchmark");
  run->col_variant = sm_csv_column(&run->summary, "variant");
  run->col_params = sm_csv_column(&run->summary, "params");
  run->col_placement = sm_csv_column(&run->summary, "placement");
  if (run->col_benchmark < 0 || run->col_params < 0 || run->col_placement < 0)
    sm_usage_error("plot: '%s' does not have the summary.csv header "
                   "(benchmark, variant, params, placement columns are needed)",
                   run->summary_path);
  char machine_path[4200];
  struct sm_csv_table m = {0};
  const char *host = "?", *brand = "?", *pus = "0";
  if (sm_path_join(machine_path, sizeof machine_path, dir, SM_RUN_MACHINE) ==
          0 &&
      sm_csv_read(machine_path, &m) == 0 && m.ncols == 2) {
    for (size_t r = 0; r < m.nrows; r++) {
      if (strcmp(m.rows[r][0], "hostname") == 0)
        host = m.rows[r][1];
      else if (strcmp(m.rows[r][0], "cpu_brand") == 0)
        brand = m.rows[r][1];
      else if (strcmp(m.rows[r][0], "allowed_pus") == 0)
        pus = m.rows[r][1];
    }
  }
  run->pus = (int)strtol(pus, NULL, 10);
  snprintf(run->machine, sizeof run->machine, "%s, %s, %d PUs", host, brand,
           run->pus);
  strip_quotes(run->machine);
  sm_csv_table_free(&m);
}

int sm_cmd_plot(const struct sm_options *o) {
  if (o->nargs != 1)
    sm_usage_error("plot: expected one RUN_DIR, got %zu arguments (usage: "
                   "syncmark plot RUN_DIR)",
                   o->nargs);
  struct plot_run run = {0};
  load_run(&run, o->args[0]);
  const char *plots_dir = sm_plots_dir();
  DIR *d = opendir(plots_dir);
  if (!d) {
    fprintf(stderr, "syncmark: cannot open the plots folder '%s': %s\n",
            plots_dir, strerror(errno));
    sm_csv_table_free(&run.summary);
    return 1;
  }
  int failures = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len > 3 && strcmp(e->d_name + len - 3, ".gp") == 0 &&
        strcmp(e->d_name, "common.gp") != 0)
      failures += render_script(&run, plots_dir, e->d_name);
  }
  closedir(d);
  sm_csv_table_free(&run.summary);
  return failures ? 1 : 0;
}
