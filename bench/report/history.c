/* history.c: series of medians over commits from the results database,
 * judged commit against commit with compare's rule, and history.csv. */
#include "history.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "syncmark/stats.h"

/* The loader's state while rows arrive in series order. */
struct loader {
  const struct sm_history_opts *opts;
  struct sm_history *h;
  size_t series_cap, point_cap, value_cap, machine_cap, commit_cap;
};

/* Returns true when the row's family or family/variant matches a filter
 * (or there are none). */
static bool selected(const struct sm_history_opts *o, const char *benchmark,
                     const char *variant) {
  if (o->nfilters == 0)
    return true;
  char label[256];
  snprintf(label, sizeof label, "%s/%s", benchmark, variant);
  for (size_t i = 0; i < o->nfilters; i++)
    if (fnmatch(o->filters[i], benchmark, 0) == 0 ||
        fnmatch(o->filters[i], label, 0) == 0)
      return true;
  return false;
}

/* Grows *array (of *cap elements of `size` bytes) to hold need elements. */
static int grow(void *array, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need)
    ncap *= 2;
  void *p = realloc(*(void **)array, ncap * size);
  if (!p)
    return -ENOMEM;
  *(void **)array = p;
  *cap = ncap;
  return 0;
}

/* Returns true when row r belongs to series s. */
static bool same_series(const struct sm_history_series *s,
                        const struct sm_db_history_row *r) {
  return strcmp(s->machine_id, r->machine_id) == 0 &&
         strcmp(s->benchmark, r->benchmark) == 0 &&
         strcmp(s->variant, r->variant) == 0 &&
         strcmp(s->params, r->params) == 0 && s->threads == r->threads &&
         strcmp(s->placement, r->placement) == 0 &&
         strcmp(s->metric, r->metric) == 0;
}

/* Starts a new series for row r. */
static int new_series(struct loader *l, const struct sm_db_history_row *r,
                      enum sm_direction d) {
  struct sm_history *h = l->h;
  if (grow(&h->series, &l->series_cap, h->nseries + 1, sizeof *h->series))
    return -ENOMEM;
  struct sm_history_series *s = &h->series[h->nseries++];
  *s = (struct sm_history_series){.threads = r->threads, .direction = d};
  snprintf(s->machine_id, sizeof s->machine_id, "%s", r->machine_id);
  s->benchmark = strdup(r->benchmark);
  s->variant = strdup(r->variant);
  s->params = strdup(r->params);
  s->placement = strdup(r->placement);
  s->metric = strdup(r->metric);
  s->unit = strdup(r->unit);
  l->point_cap = 0;
  return s->benchmark && s->variant && s->params && s->placement && s->metric &&
                 s->unit
             ? 0
             : -ENOMEM;
}

/* Records commit c of machine m (once). */
static int note_commit(struct loader *l, const struct sm_db_history_row *r) {
  struct sm_history *h = l->h;
  struct sm_history_machine *m = NULL;
  for (size_t i = 0; i < h->nmachines && !m; i++)
    if (strcmp(h->machines[i].id, r->machine_id) == 0)
      m = &h->machines[i];
  if (!m) {
    if (grow(&h->machines, &l->machine_cap, h->nmachines + 1,
             sizeof *h->machines))
      return -ENOMEM;
    m = &h->machines[h->nmachines++];
    *m = (struct sm_history_machine){0};
    snprintf(m->id, sizeof m->id, "%s", r->machine_id);
    l->commit_cap = 0;
  }
  for (size_t i = 0; i < m->ncommits; i++)
    if (strcmp(m->commits[i].commit, r->git_commit) == 0)
      return 0;
  size_t cap = m->ncommits; /* exact growth: machines are few */
  if (grow(&m->commits, &cap, m->ncommits + 1, sizeof *m->commits))
    return -ENOMEM;
  struct sm_history_commit *c = &m->commits[m->ncommits++];
  snprintf(c->commit, sizeof c->commit, "%s", r->git_commit);
  snprintf(c->first_at, sizeof c->first_at, "%s", r->first_at);
  c->first_unix = r->first_unix;
  c->first_id = r->first_id;
  return 0;
}

/* The database callback: adds one repetition value. */
static int on_row(const struct sm_db_history_row *r, void *ctx) {
  struct loader *l = ctx;
  if (!selected(l->opts, r->benchmark, r->variant))
    return 0;
  enum sm_direction d = sm_metric_direction(r->benchmark, r->metric, r->unit);
  if (!l->opts->all && d == SM_NO_DIRECTION)
    return 0;
  struct sm_history *h = l->h;
  if ((h->nseries == 0 || !same_series(&h->series[h->nseries - 1], r)) &&
      new_series(l, r, d) != 0)
    return -ENOMEM;
  struct sm_history_series *s = &h->series[h->nseries - 1];
  if (s->npoints == 0 ||
      strcmp(s->points[s->npoints - 1].commit, r->git_commit) != 0) {
    if (grow(&s->points, &l->point_cap, s->npoints + 1, sizeof *s->points) ||
        note_commit(l, r))
      return -ENOMEM;
    struct sm_history_point *p = &s->points[s->npoints++];
    *p = (struct sm_history_point){.p_value = NAN, .change = NAN};
    snprintf(p->commit, sizeof p->commit, "%s", r->git_commit);
    snprintf(p->first_at, sizeof p->first_at, "%s", r->first_at);
    l->value_cap = 0;
  }
  struct sm_history_point *p = &s->points[s->npoints - 1];
  if (isnan(r->value))
    return 0;
  if (grow(&p->values, &l->value_cap, p->n + 1, sizeof *p->values))
    return -ENOMEM;
  p->values[p->n++] = r->value;
  return 0;
}

/* The group compare matches for point p of series s. */
static struct sm_row_group group_of(const struct sm_history_series *s,
                                    const struct sm_history_point *p) {
  return (struct sm_row_group){.benchmark = s->benchmark,
                               .variant = s->variant,
                               .params = s->params,
                               .threads = "",
                               .placement = s->placement,
                               .metric = s->metric,
                               .unit = s->unit,
                               .values = p->values,
                               .n = p->n};
}

/* Summarizes the points of a series and judges each against the one
 * before with compare's rule. */
static int judge_series(struct sm_history_series *s,
                        const struct sm_compare_opts *opts,
                        size_t *regressions) {
  for (size_t i = 0; i < s->npoints; i++) {
    struct sm_history_point *p = &s->points[i];
    struct sm_summary sum;
    if (p->n > 0 && sm_stats_summarize(p->values, p->n, &sum) == 0) {
      p->median = sum.median;
      p->ci_lo = sum.ci_lo;
      p->ci_hi = sum.ci_hi;
    } else {
      p->median = p->ci_lo = p->ci_hi = NAN;
    }
    p->relative = p->median / s->points[0].median;
    if (s->points[0].median == 0 && p->median == 0)
      p->relative = 1;
    p->verdict = SM_ONLY_CURRENT;
    if (i == 0)
      continue;
    struct sm_row_group a = group_of(s, &s->points[i - 1]);
    struct sm_row_group b = group_of(s, p);
    struct sm_comparison c;
    int rc = sm_compare_groups(&a, 1, &b, 1, opts, &c);
    if (rc != 0)
      return rc;
    p->verdict = c.rows[0].verdict;
    p->p_value = c.rows[0].p_value;
    p->change = c.rows[0].ratio - 1.0;
    *regressions += p->verdict == SM_REGRESSED;
    sm_comparison_free(&c);
  }
  return 0;
}

/* Orders commits as the database query does: by first start, then by
 * first run. */
static int commit_cmp(const void *a, const void *b) {
  const struct sm_history_commit *x = a, *y = b;
  if (x->first_unix != y->first_unix)
    return x->first_unix < y->first_unix ? -1 : 1;
  return (x->first_id > y->first_id) - (x->first_id < y->first_id);
}

/* Sorts every machine's commits and numbers the points by them. */
static void index_commits(struct sm_history *h) {
  for (size_t m = 0; m < h->nmachines; m++)
    qsort(h->machines[m].commits, h->machines[m].ncommits,
          sizeof *h->machines[m].commits, commit_cmp);
  for (size_t i = 0; i < h->nseries; i++) {
    struct sm_history_series *s = &h->series[i];
    const struct sm_history_machine *m = NULL;
    for (size_t k = 0; k < h->nmachines && !m; k++)
      if (strcmp(h->machines[k].id, s->machine_id) == 0)
        m = &h->machines[k];
    for (size_t p = 0; m && p < s->npoints; p++)
      for (size_t c = 0; c < m->ncommits; c++)
        if (strcmp(m->commits[c].commit, s->points[p].commit) == 0)
          s->points[p].commit_index = c + 1;
  }
}

int sm_history_load(struct sm_db *db, const struct sm_history_opts *opts,
                    struct sm_history *out, char *msg, size_t msg_size) {
  *out = (struct sm_history){0};
  struct loader l = {.opts = opts, .h = out};
  int rc =
      sm_db_each_history_row(db, opts->machine_id, on_row, &l, msg, msg_size);
  if (rc == -ENOMEM)
    snprintf(msg, msg_size, "%s: out of memory", sm_db_path(db));
  for (size_t i = 0; rc == 0 && i < out->nseries; i++)
    if ((rc = judge_series(&out->series[i], &opts->compare,
                           &out->regressions)) != 0)
      snprintf(msg, msg_size,
               "history: bad --threshold or --alpha, or out "
               "of memory");
  if (rc == 0)
    index_commits(out);
  if (rc != 0)
    sm_history_free(out);
  return rc;
}

void sm_history_free(struct sm_history *h) {
  for (size_t i = 0; i < h->nseries; i++) {
    struct sm_history_series *s = &h->series[i];
    for (size_t p = 0; p < s->npoints; p++)
      free(s->points[p].values);
    free(s->points);
    free(s->benchmark);
    free(s->variant);
    free(s->params);
    free(s->placement);
    free(s->metric);
    free(s->unit);
  }
  free(h->series);
  for (size_t m = 0; m < h->nmachines; m++)
    free(h->machines[m].commits);
  free(h->machines);
  *h = (struct sm_history){0};
}

/* Column list of history.csv (results/README.md). */
#define HISTORY_HEADER                                                         \
  "series,machine,benchmark,variant,params,threads,placement,metric,unit,"     \
  "direction,commit,commit_index,first_at,n,median,ci_lo,ci_hi,relative,"      \
  "relative_lo,relative_hi,change,p_value,verdict"

/* Writes the row of point p of series number `index` (1-based). */
static int write_point(struct sm_csv_writer *w, size_t index,
                       const struct sm_history_series *s,
                       const struct sm_history_point *p) {
  char series[24], threads[24], ci[24], n[24], num[8][40];
  snprintf(series, sizeof series, "%zu", index);
  snprintf(threads, sizeof threads, "%lld", s->threads);
  snprintf(ci, sizeof ci, "%zu", p->commit_index);
  snprintf(n, sizeof n, "%zu", p->n);
  double first = s->points[0].median;
  double values[8] = {p->median,   p->ci_lo,         p->ci_hi,
                      p->relative, p->ci_lo / first, p->ci_hi / first,
                      p->change,   p->p_value};
  for (int i = 0; i < 8; i++)
    sm_csv_format_double(values[i], num[i], sizeof num[i]);
  const char *fields[] = {
      series,
      s->machine_id,
      s->benchmark,
      s->variant,
      s->params,
      threads,
      s->placement,
      s->metric,
      s->unit,
      sm_direction_name(s->direction),
      p->commit,
      ci,
      p->first_at,
      n,
      num[0],
      num[1],
      num[2],
      num[3],
      num[4],
      num[5],
      num[6],
      num[7],
      p->verdict == SM_ONLY_CURRENT ? "first" : sm_verdict_name(p->verdict)};
  return sm_csv_write_row(w, fields, sizeof fields / sizeof fields[0]);
}

int sm_history_write_csv(const struct sm_history *h, const char *path) {
  struct sm_csv_writer *w;
  int rc = sm_csv_open(path, HISTORY_HEADER, &w);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < h->nseries && rc == 0; i++)
    for (size_t p = 0; p < h->series[i].npoints && rc == 0; p++)
      rc = write_point(w, i + 1, &h->series[i], &h->series[i].points[p]);
  if (rc != 0) {
    sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}

const char *sm_history_figure_metric(const struct sm_history *h,
                                     const char *family) {
  const struct sm_family *fam = sm_family_find(family);
  const char *headline = NULL;
  if (fam)
    headline = fam->headline_metric ? fam->headline_metric
                                    : (fam->measure ? NULL : "ops_per_s");
  const char *first = NULL;
  for (size_t i = 0; i < h->nseries; i++) {
    const struct sm_history_series *s = &h->series[i];
    if (strcmp(s->benchmark, family) != 0 || s->direction == SM_NO_DIRECTION)
      continue;
    if (headline && strcmp(s->metric, headline) == 0)
      return s->metric;
    if (!first)
      first = s->metric;
  }
  return first;
}
