/* ab_round.c: one round of `syncmark ab`, its repetitions reduced to one
 * median row per case and metric (ab_round.h). */
#include "ab_round.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/stats.h"

/* What the grouping compares: the table's width and the two columns that
 * are not part of a row's group. */
struct group_key {
  size_t ncols;
  int rep, value;
};

/* qsort_r comparator of row pointers (char ***): by every column but rep
 * and value (the order within a group does not matter: its rows differ
 * only there). */
static int row_order(const void *a, const void *b, void *arg) {
  const struct group_key *k = arg;
  char **ra = *(char **const *)a, **rb = *(char **const *)b;
  for (size_t c = 0; c < k->ncols; c++) {
    if ((int)c == k->rep || (int)c == k->value)
      continue;
    int d = strcmp(ra[c], rb[c]);
    if (d != 0)
      return d;
  }
  return 0;
}

/* Whether rows a and b are of one group. */
static int same_group(const struct group_key *k, char **a, char **b) {
  for (size_t c = 0; c < k->ncols; c++)
    if ((int)c != k->rep && (int)c != k->value && strcmp(a[c], b[c]) != 0)
      return 0;
  return 1;
}

/* The median of the numeric `value` fields of rows[0..n), or NAN when none
 * is a number; `scratch` holds n doubles. */
static double median_of(char ***rows, size_t n, int value, double *scratch) {
  size_t k = 0;
  for (size_t r = 0; r < n; r++) {
    char *end;
    double v = strtod(rows[r][value], &end);
    if (end != rows[r][value] && *end == '\0' && !isnan(v))
      scratch[k++] = v;
  }
  if (k == 0)
    return NAN;
  sm_stats_sort(scratch, k);
  return sm_stats_percentile_sorted(scratch, k, 50);
}

/* Frees one row of `ncols` fields. */
static void free_row(char **row, size_t ncols) {
  for (size_t c = 0; c < ncols; c++)
    free(row[c]);
  free(row);
}

int sm_ab_round_medians(struct sm_csv_table *t, unsigned round) {
  struct group_key k = {t->ncols, sm_csv_column(t, "rep"),
                        sm_csv_column(t, "value")};
  if (k.rep < 0 || k.value < 0)
    return -EINVAL;
  size_t n = t->nrows;
  if (n == 0)
    return 0;
  char ***sorted = malloc(n * sizeof *sorted);
  double *scratch = malloc(n * sizeof *scratch);
  char **texts = calloc(2 * n, sizeof *texts); /* per group: value, rep */
  int rc = sorted && scratch && texts ? 0 : -ENOMEM;
  size_t ngroups = 0;
  if (rc == 0) {
    memcpy(sorted, t->rows, n * sizeof *sorted);
    qsort_r(sorted, n, sizeof *sorted, row_order, &k);
  }
  /* The texts of every group first (all that can fail), then the rows. */
  char number[32];
  for (size_t first = 0, end; rc == 0 && first < n; first = end) {
    for (end = first + 1;
         end < n && same_group(&k, sorted[first], sorted[end]);)
      end++;
    double m = median_of(sorted + first, end - first, k.value, scratch);
    snprintf(number, sizeof number, isnan(m) ? "nan" : "%.17g", m);
    texts[2 * ngroups] = strdup(number);
    snprintf(number, sizeof number, "%u", round);
    texts[2 * ngroups + 1] = strdup(number);
    if (!texts[2 * ngroups] || !texts[2 * ngroups + 1])
      rc = -ENOMEM;
    ngroups++;
  }
  if (rc == 0) {
    size_t g = 0;
    for (size_t first = 0, end; first < n; first = end, g++) {
      char **keep = sorted[first];
      for (end = first + 1; end < n && same_group(&k, keep, sorted[end]); end++)
        free_row(sorted[end], t->ncols);
      free(keep[k.value]);
      free(keep[k.rep]);
      keep[k.value] = texts[2 * g];
      keep[k.rep] = texts[2 * g + 1];
      texts[2 * g] = texts[2 * g + 1] = NULL;
      t->rows[g] = keep;
    }
    t->nrows = ngroups;
  }
  for (size_t i = 0; texts && i < 2 * ngroups; i++)
    free(texts[i]);
  free(texts);
  free(scratch);
  free(sorted);
  return rc;
}
