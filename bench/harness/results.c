/* results.c: storage of metric rows and the writers of raw.csv and
 * summary.csv. */
#include "results.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/csv.h"

int sm_results_add(struct sm_results *r, size_t case_index, unsigned rep,
                   const char *metric, const char *unit, double value) {
  if (r->nrows == r->cap) {
    size_t grown = r->cap ? r->cap * 2 : 256;
    struct sm_raw_row *rows = realloc(r->rows, grown * sizeof *rows);
    if (!rows)
      return -ENOMEM;
    r->rows = rows;
    r->cap = grown;
  }
  r->rows[r->nrows++] = (struct sm_raw_row){.case_index = case_index,
                                            .rep = rep,
                                            .metric = metric,
                                            .unit = unit,
                                            .value = value};
  return 0;
}

int sm_results_add_point(struct sm_results *r, size_t case_index, unsigned rep,
                         const char *series, const char *unit, double t_s,
                         double value) {
  if (r->npoints == r->points_cap) {
    size_t grown = r->points_cap ? r->points_cap * 2 : 256;
    struct sm_series_point *points = realloc(r->points, grown * sizeof *points);
    if (!points)
      return -ENOMEM;
    r->points = points;
    r->points_cap = grown;
  }
  r->points[r->npoints++] = (struct sm_series_point){.case_index = case_index,
                                                     .rep = rep,
                                                     .series = series,
                                                     .unit = unit,
                                                     .t_s = t_s,
                                                     .value = value};
  return 0;
}

/* Returns true when name is a non-empty [a-z0-9_] identifier. */
static bool valid_name(const char *name) {
  if (!name || !*name)
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  return true;
}

int sm_sink_metric(struct sm_sink *sink, const char *metric, const char *unit,
                   double value) {
  if (!valid_name(metric) || !unit)
    return -EINVAL;
  return sm_results_add(sink->results, sink->case_index, sink->rep, metric,
                        unit, value);
}

int sm_sink_series(struct sm_sink *sink, const char *series, const char *unit,
                   double t_s, double value) {
  if (!valid_name(series) || !unit)
    return -EINVAL;
  return sm_results_add_point(sink->results, sink->case_index, sink->rep,
                              series, unit, t_s, value);
}

size_t sm_results_values(const struct sm_results *r, size_t case_index,
                         const char *metric, double *values, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->nrows; i++) {
    const struct sm_raw_row *row = &r->rows[i];
    if (row->case_index == case_index && strcmp(row->metric, metric) == 0) {
      if (n < max)
        values[n] = row->value;
      n++;
    }
  }
  return n;
}

int sm_results_summary(const struct sm_results *r, size_t case_index,
                       const char *metric, struct sm_summary *out) {
  size_t n = sm_results_values(r, case_index, metric, NULL, 0);
  if (n == 0)
    return -ENOENT;
  double *values = malloc(n * sizeof *values);
  if (!values)
    return -ENOMEM;
  sm_results_values(r, case_index, metric, values, n);
  int rc = sm_stats_summarize(values, n, out);
  free(values);
  return rc;
}

const char *sm_results_headline(const struct sm_results *r, size_t case_index,
                                const struct sm_case *c) {
  if (c->family->headline_metric)
    return c->family->headline_metric;
  if (!c->family->measure && !c->variant->measure)
    return "ops_per_s";
  for (size_t i = 0; i < r->nrows; i++)
    if (r->rows[i].case_index == case_index)
      return r->rows[i].metric;
  return NULL;
}

/* Writes one raw row. Returns 0 or a negative errno. */
static int write_raw_row(struct sm_csv_writer *w, const struct sm_case *c,
                         const struct sm_raw_row *row) {
  char threads[16], rep[16], value[40];
  snprintf(threads, sizeof threads, "%u", c->threads);
  snprintf(rep, sizeof rep, "%u", row->rep);
  sm_csv_format_double(row->value, value, sizeof value);
  const char *fields[] = {c->family->name,
                          c->variant->name,
                          c->params,
                          threads,
                          c->placement_name,
                          c->cpus,
                          rep,
                          row->metric,
                          value,
                          row->unit};
  return sm_csv_write_row(w, fields, sizeof fields / sizeof fields[0]);
}

int sm_results_write_raw(const struct sm_results *r,
                         const struct sm_case *cases, const char *path) {
  struct sm_csv_writer *w;
  int rc = sm_csv_open(path, SM_CSV_RAW_HEADER, &w);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < r->nrows && rc == 0; i++)
    rc = write_raw_row(w, &cases[r->rows[i].case_index], &r->rows[i]);
  if (rc != 0) {
    sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}

/* Writes the summary row of (case c, metric) from its rows. */
static int write_summary_row(struct sm_csv_writer *w, const struct sm_case *c,
                             const char *metric, const char *unit,
                             const struct sm_summary *s) {
  char threads[16], n[24], outliers[24], num[8][40];
  snprintf(threads, sizeof threads, "%u", c->threads);
  snprintf(n, sizeof n, "%zu", s->n);
  snprintf(outliers, sizeof outliers, "%zu", s->outliers);
  const double stats[8] = {s->median, s->mean,  s->stddev, s->cv,
                           s->ci_lo,  s->ci_hi, s->min,    s->max};
  for (int i = 0; i < 8; i++)
    sm_csv_format_double(stats[i], num[i], sizeof num[i]);
  const char *fields[] = {c->family->name,
                          c->variant->name,
                          c->params,
                          threads,
                          c->placement_name,
                          metric,
                          n,
                          num[0],
                          num[1],
                          num[2],
                          num[3],
                          num[4],
                          num[5],
                          num[6],
                          num[7],
                          outliers,
                          unit};
  return sm_csv_write_row(w, fields, sizeof fields / sizeof fields[0]);
}

/* Most distinct metrics one case may have. */
enum { MAX_METRICS_PER_CASE = 64 };

/* Writes the summary rows of one case, in first-seen metric order. A metric
 * that is undefined (NaN) in some repetition has no summary row. */
static int write_case_summary(struct sm_csv_writer *w,
                              const struct sm_results *r,
                              const struct sm_case *c, size_t case_index) {
  const char *seen[MAX_METRICS_PER_CASE];
  size_t nseen = 0;
  for (size_t i = 0; i < r->nrows; i++) {
    const struct sm_raw_row *row = &r->rows[i];
    if (row->case_index != case_index)
      continue;
    size_t k = 0;
    while (k < nseen && strcmp(seen[k], row->metric) != 0)
      k++;
    if (k < nseen || nseen == MAX_METRICS_PER_CASE)
      continue;
    seen[nseen++] = row->metric;
    struct sm_summary s;
    int rc = sm_results_summary(r, case_index, row->metric, &s);
    if (rc == -EINVAL)
      continue;
    if (rc == 0)
      rc = write_summary_row(w, c, row->metric, row->unit, &s);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int sm_results_write_summary(const struct sm_results *r,
                             const struct sm_case *cases, size_t ncases,
                             const char *path) {
  return sm_results_write_summary_of(r, cases, ncases, NULL, path);
}

int sm_results_write_summary_of(const struct sm_results *r,
                                const struct sm_case *cases, size_t ncases,
                                const bool *include, const char *path) {
  struct sm_csv_writer *w;
  int rc = sm_csv_open(path, SM_CSV_SUMMARY_HEADER, &w);
  if (rc != 0)
    return rc;
  for (size_t c = 0; c < ncases && rc == 0; c++)
    if (!include || include[c])
      rc = write_case_summary(w, r, &cases[c], c);
  if (rc != 0) {
    sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}

/* Writes one series.csv row. Returns 0 or a negative errno. */
static int write_point_row(struct sm_csv_writer *w, const struct sm_case *c,
                           const struct sm_series_point *p) {
  char threads[16], rep[16], t[40], value[40];
  snprintf(threads, sizeof threads, "%u", c->threads);
  snprintf(rep, sizeof rep, "%u", p->rep);
  sm_csv_format_double(p->t_s, t, sizeof t);
  sm_csv_format_double(p->value, value, sizeof value);
  const char *fields[] = {c->family->name,
                          c->variant->name,
                          c->params,
                          threads,
                          c->placement_name,
                          rep,
                          p->series,
                          t,
                          value,
                          p->unit};
  return sm_csv_write_row(w, fields, sizeof fields / sizeof fields[0]);
}

int sm_results_write_series(const struct sm_results *r,
                            const struct sm_case *cases, const char *path) {
  struct sm_csv_writer *w;
  int rc = sm_csv_open(path, SM_CSV_SERIES_HEADER, &w);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < r->npoints && rc == 0; i++)
    rc = write_point_row(w, &cases[r->points[i].case_index], &r->points[i]);
  if (rc != 0) {
    sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}

void sm_results_drop_cases(struct sm_results *r, const bool *drop) {
  size_t kept = 0;
  for (size_t i = 0; i < r->nrows; i++)
    if (!drop[r->rows[i].case_index])
      r->rows[kept++] = r->rows[i];
  r->nrows = kept;
  kept = 0;
  for (size_t i = 0; i < r->npoints; i++)
    if (!drop[r->points[i].case_index])
      r->points[kept++] = r->points[i];
  r->npoints = kept;
}

void sm_results_free(struct sm_results *r) {
  free(r->points);
  free(r->rows);
  *r = (struct sm_results){0};
}
