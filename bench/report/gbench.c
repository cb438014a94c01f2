/* gbench.c: the Google Benchmark JSON export of a run. */
#include "gbench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rundir.h"

/* Most distinct metrics one case may have in the export. */
enum { MAX_METRICS = 32 };

/* Writes `s` as a JSON string literal. */
static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

/* Writes a number as JSON (non-finite values become null). */
static void json_number(FILE *out, double v) {
  if (isfinite(v))
    fprintf(out, "%.17g", v);
  else
    fputs("null", out);
}

/* Returns a machine field as a number, or 0 when absent or not numeric. */
static double field_number(const struct sm_field *f, size_t n,
                           const char *key) {
  const char *v = sm_field_get(f, n, key);
  return v ? strtod(v, NULL) : 0;
}

/* Writes the "context" object. */
static void write_context(FILE *out, const struct sm_field *f, size_t n,
                          size_t without_time, size_t invalid) {
  const char *date = sm_field_get(f, n, "started_at");
  const char *host = sm_field_get(f, n, "hostname");
  const char *gov = sm_field_get(f, n, "governor");
  fputs("{\n  \"context\": {\n    \"date\": ", out);
  json_string(out, date ? date : "");
  fputs(",\n    \"host_name\": ", out);
  json_string(out, host ? host : "");
  fprintf(out,
          ",\n    \"executable\": \"syncmark\",\n    \"num_cpus\": %.0f,\n"
          "    \"mhz_per_cpu\": 0,\n    \"cpu_scaling_enabled\": %s,\n"
          "    \"caches\": [",
          field_number(f, n, "allowed_pus"),
          gov && strcmp(gov, "performance") == 0 ? "false" : "true");
  static const struct {
    const char *key, *type;
    int level;
  } caches[] = {{"cache_l1d_kib", "Data", 1},
                {"cache_l2_kib", "Unified", 2},
                {"cache_l3_kib", "Unified", 3}};
  for (size_t i = 0; i < 3; i++)
    fprintf(out,
            "%s\n      {\"type\": \"%s\", \"level\": %d, \"size\": %.0f, "
            "\"num_sharing\": 0}",
            i ? "," : "", caches[i].type, caches[i].level,
            field_number(f, n, caches[i].key) * 1024);
  fprintf(out, "\n    ],\n    \"load_avg\": [%g, %g, %g],\n",
          field_number(f, n, "load_1m"), field_number(f, n, "load_5m"),
          field_number(f, n, "load_15m"));
  fputs("    \"library_build_type\": \"release\",\n    "
        "\"syncmark_version\": ",
        out);
  const char *version = sm_field_get(f, n, "syncmark_version");
  json_string(out, version ? version : "");
  fprintf(out,
          ",\n    \"syncmark_cpu_time\": \"equal to real_time: syncmark "
          "does not measure CPU time per operation\",\n"
          "    \"syncmark_cases_without_time\": %zu,\n"
          "    \"syncmark_invalid_repetitions\": %zu\n  },\n",
          without_time, invalid);
}

/* Returns the case's time metric: ns_per_op, else a median latency (a
 * metric ending in "p50_ns"), else its first metric in ns; NULL when it
 * has none. */
static const char *time_metric(const struct sm_results *r, size_t c) {
  const char *first = NULL, *median = NULL;
  for (size_t i = 0; i < r->nrows; i++) {
    const struct sm_raw_row *row = &r->rows[i];
    if (row->case_index != c || strcmp(row->unit, "ns") != 0)
      continue;
    if (strcmp(row->metric, "ns_per_op") == 0)
      return row->metric;
    size_t len = strlen(row->metric);
    if (!median && len >= 6 && strcmp(row->metric + len - 6, "p50_ns") == 0)
      median = row->metric;
    if (!first)
      first = row->metric;
  }
  return median ? median : first;
}

/* Writes the case's name into buf. */
static void case_name(const struct sm_case *c, char *buf, size_t size) {
  int len = snprintf(buf, size, "%s/%s", c->family->name, c->variant->name);
  for (const char *p = c->params; *p && len < (int)size; p++)
    buf[len++] = *p == ';' ? '/' : *p == '=' ? ':' : *p;
  if (c->params[0] && len < (int)size)
    buf[len++] = '/';
  snprintf(buf + (len < (int)size ? len : (int)size - 1),
           size - (size_t)(len < (int)size ? len : (int)size - 1),
           "%sthreads:%u/placement:%s", c->params[0] ? "" : "/", c->threads,
           c->placement_name);
}

/* The fields every entry of one case shares, and whether the next entry
 * is the document's first (no separating comma). */
struct entry {
  const char *name;
  size_t family_index, instance_index;
  unsigned reps, threads;
  bool *first;
};

/* Writes the start of one benchmark entry, up to and including the time. */
static void write_entry_head(FILE *out, const struct entry *e,
                             const char *run_type, const char *aggregate,
                             int rep_index, double time) {
  fputs(*e->first ? "\n    {\n      \"name\": " : ",\n    {\n      \"name\": ",
        out);
  *e->first = false;
  if (aggregate) {
    char name[600];
    snprintf(name, sizeof name, "%s_%s", e->name, aggregate);
    json_string(out, name);
  } else {
    json_string(out, e->name);
  }
  fprintf(out,
          ",\n      \"family_index\": %zu,\n      "
          "\"per_family_instance_index\": %zu,\n      \"run_name\": ",
          e->family_index, e->instance_index);
  json_string(out, e->name);
  fprintf(out, ",\n      \"run_type\": \"%s\",\n      \"repetitions\": %u,\n",
          run_type, e->reps);
  if (aggregate)
    fprintf(out,
            "      \"threads\": %u,\n      \"aggregate_name\": \"%s\",\n"
            "      \"aggregate_unit\": \"%s\",\n      \"iterations\": %u,\n",
            e->threads, aggregate,
            strcmp(aggregate, "cv") == 0 ? "percentage" : "time", e->reps);
  else
    fprintf(out,
            "      \"repetition_index\": %d,\n      \"threads\": %u,\n"
            "      \"iterations\": 1,\n",
            rep_index, e->threads);
  fputs("      \"real_time\": ", out);
  json_number(out, time);
  fputs(",\n      \"cpu_time\": ", out);
  json_number(out, time);
  fputs(",\n      \"time_unit\": \"ns\"", out);
}

/* Writes the repetitions of case c as iteration entries, with every metric
 * of that repetition as a counter. */
static void write_iterations(FILE *out, const struct entry *e,
                             const struct sm_results *r, size_t c,
                             const char *tmetric) {
  unsigned last = 0; /* e->reps counts only the repetitions with a time */
  for (size_t i = 0; i < r->nrows; i++)
    if (r->rows[i].case_index == c && r->rows[i].rep > last)
      last = r->rows[i].rep;
  for (unsigned rep = 1; rep <= last; rep++) {
    double time = NAN;
    bool any = false;
    for (size_t i = 0; i < r->nrows; i++)
      if (r->rows[i].case_index == c && r->rows[i].rep == rep) {
        any = true;
        if (strcmp(r->rows[i].metric, tmetric) == 0)
          time = r->rows[i].value;
      }
    if (!any)
      continue;
    if (!isfinite(time))
      continue; /* an invalid repetition (runner: valid 0) has no time */
    write_entry_head(out, e, "iteration", NULL, (int)rep - 1, time);
    for (size_t i = 0; i < r->nrows; i++)
      if (r->rows[i].case_index == c && r->rows[i].rep == rep) {
        fprintf(out, ",\n      \"%s\": ", r->rows[i].metric);
        json_number(out, r->rows[i].value);
      }
    fputs("\n    }", out);
  }
}

/* Collects the finite values of (case c, metric) into a new array (NULL
 * when there is none or memory runs out); *n gets their number. */
static double *finite_values(const struct sm_results *r, size_t c,
                             const char *metric, size_t *n) {
  size_t all = sm_results_values(r, c, metric, NULL, 0), k = 0;
  double *v = all ? malloc(all * sizeof *v) : NULL;
  if (v)
    sm_results_values(r, c, metric, v, all);
  for (size_t i = 0; v && i < all; i++)
    if (isfinite(v[i]))
      v[k++] = v[i];
  *n = k;
  if (k == 0) {
    free(v);
    return NULL;
  }
  return v;
}

/* Writes the mean, median, stddev and cv aggregates of case c over its
 * repetitions with a time (an invalid one has none). */
static void write_aggregates(FILE *out, const struct entry *e,
                             const struct sm_results *r, size_t c,
                             const char *tmetric) {
  struct sm_summary t;
  size_t n;
  double *values = finite_values(r, c, tmetric, &n);
  int rc = values ? sm_stats_summarize(values, n, &t) : -ENOENT;
  free(values);
  if (rc != 0)
    return;
  const char *names[] = {"mean", "median", "stddev", "cv"};
  const double times[] = {t.mean, t.median, t.stddev, t.cv};
  for (int a = 0; a < 4; a++) {
    write_entry_head(out, e, "aggregate", names[a], 0, times[a]);
    fputs("\n    }", out);
  }
}

/* Writes the whole document; counts cases left out in *without_time. */
static void write_document(FILE *out, const struct sm_case *cases,
                           size_t ncases, const bool *dropped,
                           const struct sm_results *r, const struct sm_field *f,
                           size_t nf) {
  size_t without_time = 0, skipped = 0;
  for (size_t c = 0; c < ncases; c++) {
    const char *tm = dropped[c] ? NULL : time_metric(r, c);
    without_time += !dropped[c] && !tm;
    size_t finite = 0;
    if (tm)
      free(finite_values(r, c, tm, &finite));
    skipped += tm ? sm_results_values(r, c, tm, NULL, 0) - finite : 0;
  }
  write_context(out, f, nf, without_time, skipped);
  fputs("  \"benchmarks\": [", out);
  bool first = true;
  size_t family_index = 0, instance = 0;
  for (size_t c = 0; c < ncases; c++) {
    if (c > 0 && cases[c].family != cases[c - 1].family) {
      family_index++;
      instance = 0;
    }
    const char *tmetric = time_metric(r, c);
    if (dropped[c] || !tmetric)
      continue;
    char name[512];
    case_name(&cases[c], name, sizeof name);
    size_t reps;
    free(finite_values(r, c, tmetric, &reps));
    if (reps == 0)
      continue;
    struct entry e = {name,           family_index,     instance++,
                      (unsigned)reps, cases[c].threads, &first};
    write_iterations(out, &e, r, c, tmetric);
    write_aggregates(out, &e, r, c, tmetric);
  }
  fputs("\n  ]\n}\n", out);
}

int sm_gbench_write(const char *path, const struct sm_case *cases,
                    size_t ncases, const bool *dropped,
                    const struct sm_results *results,
                    const struct sm_field *fields, size_t nfields) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem)
    return -ENOMEM;
  write_document(mem, cases, ncases, dropped, results, fields, nfields);
  if (fclose(mem) != 0) {
    free(text);
    return -ENOMEM;
  }
  int rc = sm_file_write_atomic(path, text, len);
  free(text);
  return rc;
}
