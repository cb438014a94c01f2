/* compare.c: loading two runs' raw.csv, matching their rows and judging
 * each with a Mann-Whitney U test and a noise threshold. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rundir.h"
#include "syncmark/stats.h"

/* Columns of raw.csv, in SM_CSV_RAW_HEADER order. */
enum {
  COL_BENCHMARK,
  COL_VARIANT,
  COL_PARAMS,
  COL_THREADS,
  COL_PLACEMENT,
  COL_CPUS,
  COL_REP,
  COL_METRIC,
  COL_VALUE,
  COL_UNIT,
  NCOLS
};

/* Orders two groups by benchmark, variant, params, threads, placement and
 * metric. */
static int key_cmp(const struct sm_row_group *a, const struct sm_row_group *b) {
  const char *ka[] = {a->benchmark, a->variant,   a->params,
                      a->threads,   a->placement, a->metric};
  const char *kb[] = {b->benchmark, b->variant,   b->params,
                      b->threads,   b->placement, b->metric};
  for (int i = 0; i < 6; i++) {
    int c = strcmp(ka[i], kb[i]);
    if (c != 0)
      return c;
  }
  return 0;
}

/* The group key of raw row r (values not set). */
static struct sm_row_group row_key(char **row) {
  return (struct sm_row_group){.benchmark = row[COL_BENCHMARK],
                               .variant = row[COL_VARIANT],
                               .params = row[COL_PARAMS],
                               .threads = row[COL_THREADS],
                               .placement = row[COL_PLACEMENT],
                               .metric = row[COL_METRIC],
                               .unit = row[COL_UNIT]};
}

/* qsort comparator of raw rows (char **) by group key. */
static int row_cmp(const void *a, const void *b) {
  struct sm_row_group ka = row_key(*(char **const *)a);
  struct sm_row_group kb = row_key(*(char **const *)b);
  return key_cmp(&ka, &kb);
}

/* Orders raw rows by key, then by repetition, so a group's values come in
 * repetition order (a paired comparison pairs them by it). */
static int row_rep_cmp(const void *a, const void *b) {
  int k = row_cmp(a, b);
  if (k != 0)
    return k;
  unsigned long ra = strtoul((*(char **const *)a)[COL_REP], NULL, 10);
  unsigned long rb = strtoul((*(char **const *)b)[COL_REP], NULL, 10);
  return (ra > rb) - (ra < rb);
}

/* Parses a value field: a number, or "nan"/"" for an undefined value.
 * Returns 0 or -EINVAL. */
static int parse_value(const char *text, double *out) {
  if (!*text || strcmp(text, "nan") == 0) {
    *out = NAN;
    return 0;
  }
  char *end;
  errno = 0;
  *out = strtod(text, &end);
  return (end == text || *end || errno == ERANGE) ? -EINVAL : 0;
}

/* Checks the header and values of a loaded raw.csv. */
static int check_raw(const struct sm_csv_table *t, const char *path, char *msg,
                     size_t size) {
  char header[512] = "";
  for (size_t i = 0; i < t->ncols; i++)
    snprintf(header + strlen(header), sizeof header - strlen(header), "%s%s",
             i ? "," : "", t->header[i]);
  if (strcmp(header, SM_CSV_RAW_HEADER) != 0) {
    snprintf(msg, size,
             "%s line 1: the header '%.120s' is not the raw.csv header of "
             "this syncmark (expected '%s')",
             path, header, SM_CSV_RAW_HEADER);
    return -EINVAL;
  }
  if (t->nrows == 0) {
    snprintf(msg, size, "%s: the file has a header but no rows", path);
    return -EINVAL;
  }
  for (size_t r = 0; r < t->nrows; r++) {
    double v;
    if (parse_value(t->rows[r][COL_VALUE], &v) != 0) {
      snprintf(msg, size, "%s line %zu: value '%.40s' is not a number", path,
               r + 2, t->rows[r][COL_VALUE]);
      return -EINVAL;
    }
  }
  return 0;
}

/* Groups the rows of run->raw by key; undefined (NaN) values are left out
 * of their group. Returns 0 or -ENOMEM. */
static int group_rows(struct sm_run_rows *run) {
  size_t n = run->raw.nrows;
  char ***sorted = malloc(n * sizeof *sorted);
  run->values = malloc(n * sizeof *run->values);
  run->groups = malloc(n * sizeof *run->groups);
  if (!sorted || !run->values || !run->groups) {
    free(sorted);
    return -ENOMEM;
  }
  memcpy(sorted, run->raw.rows, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, row_rep_cmp);
  size_t nvalues = 0;
  for (size_t r = 0; r < n; r++) {
    if (r == 0 || row_cmp(&sorted[r - 1], &sorted[r]) != 0) {
      run->groups[run->ngroups] = row_key(sorted[r]);
      run->groups[run->ngroups].values = run->values + nvalues;
      run->ngroups++;
    }
    double v;
    parse_value(sorted[r][COL_VALUE], &v);
    if (!isnan(v)) {
      run->values[nvalues++] = v;
      run->groups[run->ngroups - 1].n++;
    }
  }
  free(sorted);
  return 0;
}

/* Resolves `path` into the raw.csv and machine.csv paths of a run. */
static int resolve_paths(const char *path, struct sm_run_rows *out,
                         char *machine, size_t machine_size, char *msg,
                         size_t size) {
  struct stat st;
  if (stat(path, &st) != 0) {
    int rc = -errno;
    snprintf(msg, size, "%s: %s (a run folder or a raw.csv file is needed)",
             path, strerror(errno));
    return rc;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(out->raw_path, sizeof out->raw_path, "%s", path);
    const char *slash = strrchr(path, '/');
    snprintf(machine, machine_size, "%.*smachine.csv",
             slash ? (int)(slash - path + 1) : 0, path);
    return 0;
  }
  if (sm_path_join(out->raw_path, sizeof out->raw_path, path, SM_RUN_RAW) ||
      sm_path_join(machine, machine_size, path, SM_RUN_MACHINE)) {
    snprintf(msg, size, "%s: the path is too long", path);
    return -ENAMETOOLONG;
  }
  if (stat(out->raw_path, &st) != 0) {
    snprintf(msg, size,
             "%s: no raw.csv in this folder (a run folder written by "
             "syncmark run, or a raw.csv file, is needed)",
             path);
    return -ENOENT;
  }
  return 0;
}

int sm_run_rows_load(const char *path, struct sm_run_rows *out, char *msg,
                     size_t msg_size) {
  *out = (struct sm_run_rows){0};
  char machine[4200];
  int rc = resolve_paths(path, out, machine, sizeof machine, msg, msg_size);
  if (rc != 0)
    return rc;
  size_t line = 0;
  rc = sm_csv_read_at(out->raw_path, &out->raw, &line);
  if (rc == -EINVAL)
    snprintf(msg, msg_size,
             "%s line %zu: malformed CSV (a row with a different number of "
             "fields than the header, an unterminated quote, or a stray "
             "character): the file may be truncated",
             out->raw_path, line);
  else if (rc != 0)
    snprintf(msg, msg_size, "%s: cannot read: %s", out->raw_path,
             strerror(-rc));
  if (rc == 0)
    rc = check_raw(&out->raw, out->raw_path, msg, msg_size);
  if (rc == 0 && (rc = group_rows(out)) != 0)
    snprintf(msg, msg_size, "%s: out of memory", out->raw_path);
  if (rc == 0 && sm_csv_read(machine, &out->machine) != 0)
    out->machine = (struct sm_csv_table){0};
  if (rc != 0)
    sm_run_rows_free(out);
  return rc;
}

int sm_run_rows_from_tables(const char *label, struct sm_csv_table *raw,
                            struct sm_csv_table *machine,
                            struct sm_run_rows *out, char *msg,
                            size_t msg_size) {
  *out = (struct sm_run_rows){.raw = *raw};
  *raw = (struct sm_csv_table){0};
  if (machine) {
    out->machine = *machine;
    *machine = (struct sm_csv_table){0};
  }
  snprintf(out->raw_path, sizeof out->raw_path, "%s", label);
  int rc = check_raw(&out->raw, out->raw_path, msg, msg_size);
  if (rc == 0 && (rc = group_rows(out)) != 0)
    snprintf(msg, msg_size, "%s: out of memory", out->raw_path);
  if (rc != 0)
    sm_run_rows_free(out);
  return rc;
}

void sm_run_rows_free(struct sm_run_rows *run) {
  sm_csv_table_free(&run->raw);
  sm_csv_table_free(&run->machine);
  free(run->groups);
  free(run->values);
  *run = (struct sm_run_rows){0};
}

/* qsort comparator of group pointers by key. */
static int group_ptr_cmp(const void *a, const void *b) {
  return key_cmp(*(const struct sm_row_group *const *)a,
                 *(const struct sm_row_group *const *)b);
}

/* Returns pointers to the n groups, sorted by key, or NULL (-ENOMEM). */
static const struct sm_row_group **sorted_groups(const struct sm_row_group *g,
                                                 size_t n) {
  const struct sm_row_group **p = malloc((n ? n : 1) * sizeof *p);
  if (!p)
    return NULL;
  for (size_t i = 0; i < n; i++)
    p[i] = &g[i];
  qsort(p, n, sizeof *p, group_ptr_cmp);
  return p;
}

/* Median of a group's values, NaN for none. */
static double group_median(const struct sm_row_group *g) {
  struct sm_summary s;
  return g && g->n > 0 && sm_stats_summarize(g->values, g->n, &s) == 0
             ? s.median
             : NAN;
}

/* The paired test of a row whose two groups hold one value per round in
 * the same round order: the ratio is the median of the rounds' ratios
 * current / base (rounds whose base is 0 left out), the p-value the
 * Wilcoxon signed-rank test of the rounds' differences current - base (a
 * round whose window did no work, rate 0, still counts). Returns false
 * (row untouched) when the groups are not paired: different counts, as
 * when a round left a value undefined. */
static bool judge_paired(struct sm_compare_row *row) {
  size_t n = row->base->n, k = 0;
  if (n == 0 || n != row->current->n)
    return false;
  double *d = malloc(2 * n * sizeof *d), *ratios = d + n;
  if (!d)
    return false;
  for (size_t i = 0; i < n; i++) {
    double b = row->base->values[i], c = row->current->values[i];
    d[i] = c - b;
    if (b != 0)
      ratios[k++] = c / b;
  }
  struct sm_wilcoxon w;
  struct sm_summary s;
  bool ok = sm_stats_wilcoxon(d, n, &w) == 0;
  if (ok) {
    row->ratio =
        k > 0 && sm_stats_summarize(ratios, k, &s) == 0 ? s.median : NAN;
    row->p_value = w.p_value;
  }
  free(d);
  return ok;
}

/* Fills the statistics and verdict of a matched row. */
static void judge(struct sm_compare_row *row,
                  const struct sm_compare_opts *opts) {
  row->direction = sm_metric_direction(
      row->current->benchmark, row->current->metric, row->current->unit);
  double b = row->base_median, c = row->current_median;
  row->ratio = (b == 0 && c == 0) ? 1.0 : c / b;
  struct sm_mann_whitney mw;
  if (opts->paired ? !judge_paired(row)
                   : sm_stats_mann_whitney(row->base->values, row->base->n,
                                           row->current->values,
                                           row->current->n, &mw) != 0)
    row->p_value = NAN;
  else if (!opts->paired)
    row->p_value = mw.p_value;
  if (row->direction == SM_HIGHER_IS_BETTER)
    row->worse_by = 1.0 - row->ratio;
  else if (row->direction == SM_LOWER_IS_BETTER)
    row->worse_by = row->ratio - 1.0;
  if (row->direction == SM_NO_DIRECTION || isnan(row->ratio)) {
    row->verdict = SM_INFORMATIONAL;
    row->worse_by = 0;
  } else if (row->p_value < opts->alpha && row->worse_by > opts->threshold) {
    row->verdict = SM_REGRESSED;
  } else if (row->p_value < opts->alpha && row->worse_by < -opts->threshold) {
    row->verdict = SM_IMPROVED;
  } else {
    row->verdict = SM_UNCHANGED;
  }
}

/* Orders rows by verdict, then regressions worst first and improvements
 * best first. */
static int compare_row_cmp(const void *a, const void *b) {
  const struct sm_compare_row *x = a, *y = b;
  if (x->verdict != y->verdict)
    return (int)x->verdict - (int)y->verdict;
  double kx = x->verdict == SM_IMPROVED ? x->worse_by : -x->worse_by;
  double ky = y->verdict == SM_IMPROVED ? y->worse_by : -y->worse_by;
  return (kx > ky) - (kx < ky);
}

/* Adds one row to the comparison (capacity is enough by construction). */
static void add_row(struct sm_comparison *out, const struct sm_row_group *b,
                    const struct sm_row_group *c,
                    const struct sm_compare_opts *opts) {
  struct sm_compare_row *row = &out->rows[out->nrows++];
  *row = (struct sm_compare_row){.base = b,
                                 .current = c,
                                 .base_median = group_median(b),
                                 .current_median = group_median(c),
                                 .ratio = NAN,
                                 .p_value = NAN};
  if (b && c)
    judge(row, opts);
  else
    row->verdict = b ? SM_ONLY_BASE : SM_ONLY_CURRENT;
  out->count[row->verdict]++;
}

int sm_compare_groups(const struct sm_row_group *base, size_t nbase,
                      const struct sm_row_group *current, size_t ncurrent,
                      const struct sm_compare_opts *opts,
                      struct sm_comparison *out) {
  *out = (struct sm_comparison){0};
  if (!opts || !(opts->threshold >= 0) || !(opts->alpha > 0) ||
      opts->alpha >= 1)
    return -EINVAL;
  const struct sm_row_group **b = sorted_groups(base, nbase);
  const struct sm_row_group **c = sorted_groups(current, ncurrent);
  out->rows = malloc((nbase + ncurrent + 1) * sizeof *out->rows);
  if (!b || !c || !out->rows) {
    free(b);
    free(c);
    free(out->rows);
    out->rows = NULL;
    return -ENOMEM;
  }
  size_t i = 0, j = 0;
  while (i < nbase || j < ncurrent) {
    int order = i == nbase ? 1 : j == ncurrent ? -1 : key_cmp(b[i], c[j]);
    add_row(out, order <= 0 ? b[i] : NULL, order >= 0 ? c[j] : NULL, opts);
    i += order <= 0;
    j += order >= 0;
  }
  free(b);
  free(c);
  qsort(out->rows, out->nrows, sizeof *out->rows, compare_row_cmp);
  return 0;
}

void sm_comparison_free(struct sm_comparison *c) {
  free(c->rows);
  *c = (struct sm_comparison){0};
}

const char *sm_verdict_name(enum sm_verdict v) {
  static const char *const names[] = {"REGRESSED",    "improved",
                                      "same",         "info",
                                      "only in base", "only in current"};
  return v <= SM_ONLY_CURRENT ? names[v] : "?";
}
