/* runview.c: reading a run folder back for the report and claim rules. */
#include "runview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rundir.h"

/* Names of the columns the view uses, in the order of view->col. */
static const char *const COLUMNS[] = {"benchmark", "variant",   "params",
                                      "threads",   "placement", "metric",
                                      "median",    "ci_lo"};

/* Reads one CSV of the run folder; names the file and line on failure. */
static int read_file(const char *dir, const char *name, struct sm_csv_table *t,
                     char *msg, size_t size) {
  char path[4200];
  size_t line = 0;
  if (sm_path_join(path, sizeof path, dir, name) != 0) {
    snprintf(msg, size, "%s: the path is too long", dir);
    return -ENAMETOOLONG;
  }
  int rc = sm_csv_read_at(path, t, &line);
  if (rc == -EINVAL)
    snprintf(msg, size,
             "%s line %zu: malformed CSV (the file may be "
             "truncated)",
             path, line);
  else if (rc != 0)
    snprintf(msg, size,
             "%s: cannot read: %s (a run folder written by "
             "syncmark run is needed)",
             path, strerror(-rc));
  return rc;
}

/* Checks the summary header of a view and finds its columns. Returns 0 or
 * -EINVAL with a sentence naming `where` in msg. */
static int index_columns(struct sm_run_view *view, const char *where, char *msg,
                         size_t msg_size) {
  char header[512] = "";
  for (size_t i = 0; i < view->summary.ncols; i++)
    snprintf(header + strlen(header), sizeof header - strlen(header), "%s%s",
             i ? "," : "", view->summary.header[i]);
  if (strcmp(header, SM_CSV_SUMMARY_HEADER) != 0) {
    snprintf(msg, msg_size,
             "%s line 1: the header is not the summary.csv "
             "header of this syncmark (expected '%s')",
             where, SM_CSV_SUMMARY_HEADER);
    return -EINVAL;
  }
  for (int i = 0; i < 8; i++)
    view->col[i] = sm_csv_column(&view->summary, COLUMNS[i]);
  view->col_ci_hi = sm_csv_column(&view->summary, "ci_hi");
  view->col_n = sm_csv_column(&view->summary, "n");
  view->col_cv = sm_csv_column(&view->summary, "cv");
  view->col_unit = sm_csv_column(&view->summary, "unit");
  view->col_mean = sm_csv_column(&view->summary, "mean");
  return 0;
}

int sm_run_view_load(const char *dir, struct sm_run_view *view, char *msg,
                     size_t msg_size) {
  *view = (struct sm_run_view){.dir = dir};
  int rc = read_file(dir, SM_RUN_SUMMARY, &view->summary, msg, msg_size);
  if (rc != 0)
    return rc;
  char where[4200];
  snprintf(where, sizeof where, "%s/" SM_RUN_SUMMARY, dir);
  if ((rc = index_columns(view, where, msg, msg_size)) != 0) {
    sm_run_view_free(view);
    return rc;
  }
  char ignored[8600]; /* room for any message read_file writes */
  if (read_file(dir, SM_RUN_MACHINE, &view->machine, ignored, sizeof ignored) !=
      0)
    view->machine = (struct sm_csv_table){0};
  /* problems.csv exists only when a case was skipped, failed or hung. */
  if (read_file(dir, SM_RUN_PROBLEMS, &view->problems, ignored,
                sizeof ignored) != 0)
    view->problems = (struct sm_csv_table){0};
  return 0;
}

int sm_run_view_from_tables(const char *label, struct sm_csv_table *summary,
                            struct sm_csv_table *machine,
                            struct sm_csv_table *problems,
                            struct sm_run_view *view, char *msg,
                            size_t msg_size) {
  *view = (struct sm_run_view){.dir = label, .summary = *summary};
  *summary = (struct sm_csv_table){0};
  if (machine) {
    view->machine = *machine;
    *machine = (struct sm_csv_table){0};
  }
  if (problems) {
    view->problems = *problems;
    *problems = (struct sm_csv_table){0};
  }
  int rc = index_columns(view, label, msg, msg_size);
  if (rc != 0)
    sm_run_view_free(view);
  return rc;
}

void sm_run_view_free(struct sm_run_view *view) {
  sm_csv_table_free(&view->summary);
  sm_csv_table_free(&view->machine);
  sm_csv_table_free(&view->problems);
}

/* Returns true when every ';'-separated item of `want` is an item of
 * `have`. */
static bool params_contain(const char *have, const char *want) {
  if (!want || !*want)
    return true;
  char wrapped[512];
  snprintf(wrapped, sizeof wrapped, ";%s;", have);
  for (const char *p = want; *p;) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char item[160];
    snprintf(item, sizeof item, ";%.*s;", (int)len, p);
    if (!strstr(wrapped, item))
      return false;
    p = end ? end + 1 : p + len;
  }
  return true;
}

/* Tells the view's observer, if any, of a lookup. */
static void observe(const struct sm_run_view *v, const struct sm_query *q,
                    const char *key) {
  if (v->observe)
    v->observe(v->observe_ctx, q, key);
}

/* Returns true when summary row r matches q (threads too when check_threads).
 */
static bool row_matches(const struct sm_run_view *v, size_t r,
                        const struct sm_query *q, bool check_threads) {
  char **row = v->summary.rows[r];
  const char *want[] = {q->benchmark, q->variant,   NULL,
                        NULL,         q->placement, q->metric};
  for (int i = 0; i < 6; i++)
    if (want[i] && strcmp(row[v->col[i]], want[i]) != 0)
      return false;
  if (check_threads && q->threads &&
      strtoul(row[v->col[3]], NULL, 10) != q->threads)
    return false;
  return params_contain(row[v->col[2]], q->params);
}

/* The statistics of summary row r (the view's read_row hook is told). */
static struct sm_stat row_stat(const struct sm_run_view *view, size_t r) {
  if (view->read_row)
    view->read_row(view->observe_ctx, view, r);
  char **row = view->summary.rows[r];
  return (struct sm_stat){.median = strtod(row[view->col[6]], NULL),
                          .ci_lo = strtod(row[view->col[7]], NULL),
                          .ci_hi = strtod(row[view->col_ci_hi], NULL),
                          .cv = strtod(row[view->col_cv], NULL),
                          .mean = strtod(row[view->col_mean], NULL),
                          .n = (unsigned)strtoul(row[view->col_n], NULL, 10),
                          .unit = row[view->col_unit],
                          .found = true};
}

struct sm_stat sm_run_view_find(const struct sm_run_view *view,
                                const struct sm_query *q) {
  observe(view, q, NULL);
  for (size_t r = 0; r < view->summary.nrows; r++)
    if (row_matches(view, r, q, true))
      return row_stat(view, r);
  return (struct sm_stat){.found = false};
}

size_t sm_run_view_find_all(const struct sm_run_view *view,
                            const struct sm_query *q, struct sm_stat *out,
                            size_t max) {
  size_t n = 0;
  observe(view, q, NULL);
  for (size_t r = 0; r < view->summary.nrows; r++)
    if (row_matches(view, r, q, true)) {
      if (n < max)
        out[n] = row_stat(view, r);
      n++;
    }
  return n;
}

bool sm_run_view_has(const struct sm_run_view *view, const char *benchmark) {
  struct sm_query q = {.benchmark = benchmark};
  observe(view, &q, NULL);
  for (size_t r = 0; r < view->summary.nrows; r++)
    if (row_matches(view, r, &q, false))
      return true;
  return false;
}

/* Inserts v into the ascending set out[0..*n) (capacity max). */
static void insert_sorted(long *out, size_t *n, size_t max, long v) {
  size_t i = 0;
  while (i < *n && out[i] < v)
    i++;
  if ((i < *n && out[i] == v) || *n == max)
    return;
  memmove(out + i + 1, out + i, (*n - i) * sizeof *out);
  out[i] = v;
  (*n)++;
}

size_t sm_run_view_threads(const struct sm_run_view *view,
                           const struct sm_query *q, unsigned *out,
                           size_t max) {
  long values[64];
  size_t n = 0;
  observe(view, q, NULL);
  for (size_t r = 0; r < view->summary.nrows; r++)
    if (row_matches(view, r, q, false))
      insert_sorted(values, &n, max < 64 ? max : 64,
                    strtol(view->summary.rows[r][view->col[3]], NULL, 10));
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned)values[i];
  return n;
}

size_t sm_run_view_param_values(const struct sm_run_view *view,
                                const struct sm_query *q, const char *key,
                                long *out, size_t max) {
  size_t n = 0, klen = strlen(key);
  observe(view, q, key);
  for (size_t r = 0; r < view->summary.nrows; r++) {
    if (!row_matches(view, r, q, true))
      continue;
    const char *params = view->summary.rows[r][view->col[2]];
    for (const char *p = params; p && *p;) {
      if (strncmp(p, key, klen) == 0 && p[klen] == '=')
        insert_sorted(out, &n, max, strtol(p + klen + 1, NULL, 10));
      p = strchr(p, ';');
      p = p ? p + 1 : NULL;
    }
  }
  return n;
}

size_t sm_run_view_placements(const struct sm_run_view *view,
                              const struct sm_query *q, const char **out,
                              size_t max) {
  size_t n = 0;
  observe(view, q, NULL);
  for (size_t r = 0; r < view->summary.nrows; r++) {
    if (!row_matches(view, r, q, true))
      continue;
    const char *p = view->summary.rows[r][view->col[4]];
    size_t i = 0;
    while (i < n && strcmp(out[i], p) != 0)
      i++;
    if (i == n && n < max)
      out[n++] = p;
  }
  return n;
}

size_t sm_run_view_problems(const struct sm_run_view *view,
                            const char *benchmark, const char *variant,
                            const char *status) {
  struct sm_query q = {.benchmark = benchmark, .variant = variant};
  observe(view, &q, NULL);
  int cb = sm_csv_column(&view->problems, "benchmark");
  int cv = sm_csv_column(&view->problems, "variant");
  int cs = sm_csv_column(&view->problems, "status");
  size_t n = 0;
  for (size_t r = 0; cb >= 0 && cv >= 0 && cs >= 0 && r < view->problems.nrows;
       r++) {
    char **row = view->problems.rows[r];
    n += strcmp(row[cb], benchmark) == 0 && strcmp(row[cv], variant) == 0 &&
         strcmp(row[cs], status) == 0;
  }
  return n;
}

const char *sm_run_view_machine(const struct sm_run_view *view,
                                const char *key) {
  for (size_t r = 0; view->machine.ncols == 2 && r < view->machine.nrows; r++)
    if (strcmp(view->machine.rows[r][0], key) == 0)
      return view->machine.rows[r][1];
  return NULL;
}

int sm_stat_cmp(const struct sm_stat *a, const struct sm_stat *b) {
  if (!a->found || !b->found)
    return 0;
  if (a->ci_lo > b->ci_hi)
    return 1;
  if (a->ci_hi < b->ci_lo)
    return -1;
  return 0;
}
