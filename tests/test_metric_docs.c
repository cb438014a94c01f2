/* test_metric_docs.c: results/README.md's metric tables agree with the
 * declarations compare judges by: every metric a family declares has a row
 * in its family's section, and every declared metric a row names has the
 * row's unit and compare direction. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "interference.h"
#include "metrics.h"
#include "registry.h"
#include "runner.h"

/* The heading of the runner's section in results/README.md. */
#define RUNNER_SECTION "The runner's window metrics"

/* Most metric names one table row lists. */
#define MAX_ROW_NAMES 16

/* One metric table row of results/README.md. */
struct doc_row {
  char section[128]; /* the ### heading above it */
  int line;
  char names[MAX_ROW_NAMES][64]; /* the backticked names of its first cell */
  size_t nnames;
  char unit[96];    /* its second cell */
  char compare[16]; /* its last cell: higher, lower or info */
};

static struct doc_row *rows;
static size_t nrows;

/* Copies the text of cell `which` (0 = first) of the table line `line`,
 * trimmed, into out; returns 0, or -1 when the line has fewer cells. */
static int cell(const char *line, int which, char *out, size_t size) {
  const char *p = line;
  for (int i = 0; i <= which; i++) {
    p = strchr(p, '|');
    if (!p)
      return -1;
    p++;
  }
  const char *end = strchr(p, '|');
  if (!end)
    return -1;
  while (p < end && *p == ' ')
    p++;
  while (end > p && end[-1] == ' ')
    end--;
  snprintf(out, size, "%.*s", (int)(end - p), p);
  return 0;
}

/* The index of the last cell of table line `line`. */
static int last_cell(const char *line) {
  int bars = 0;
  for (const char *p = line; *p; p++)
    bars += *p == '|';
  return bars - 2;
}

/* Adds the row of table line `line` (number `lineno`, under `section`) when
 * its first cell names metrics (backticked, starting with a letter or
 * "<m>_", which is dropped; a pattern such as `pmu_<name>_per_op` is not a
 * name). */
static void add_row(const char *section, int lineno, const char *line) {
  char first[512];
  if (cell(line, 0, first, sizeof first) != 0 || first[0] != '`')
    return;
  struct doc_row *r = &rows[nrows];
  memset(r, 0, sizeof *r);
  snprintf(r->section, sizeof r->section, "%s", section);
  r->line = lineno;
  for (const char *p = strchr(first, '`'); p && r->nnames < MAX_ROW_NAMES;) {
    const char *end = strchr(p + 1, '`');
    if (!end)
      break;
    const char *name = p + 1;
    if (strncmp(name, "<m>_", 4) == 0)
      name += 4;
    if (name < end && name[0] >= 'a' && name[0] <= 'z' &&
        !memchr(name, '<', (size_t)(end - name)))
      snprintf(r->names[r->nnames++], sizeof r->names[0], "%.*s",
               (int)(end - name), name);
    p = strchr(end + 1, '`');
  }
  cell(line, 1, r->unit, sizeof r->unit);
  cell(line, last_cell(line), r->compare, sizeof r->compare);
  if (r->nnames > 0)
    nrows++;
}

/* Reads the metric tables of results/README.md (the part after its
 * "## Metrics" heading) into rows. */
static void load_docs(void) {
  FILE *f = fopen(SYNCMARK_SOURCE_DIR "/results/README.md", "r");
  cr_assert_not_null(f, "cannot open results/README.md");
  rows = calloc(512, sizeof *rows);
  cr_assert_not_null(rows);
  char line[4096], section[128] = "";
  int lineno = 0, in_metrics = 0;
  while (fgets(line, sizeof line, f) && nrows < 512) {
    lineno++;
    if (strncmp(line, "## ", 3) == 0)
      in_metrics = strncmp(line, "## Metrics", 10) == 0;
    else if (in_metrics && strncmp(line, "### ", 4) == 0)
      snprintf(section, sizeof section, "%.*s", (int)strcspn(line + 4, "\n"),
               line + 4);
    else if (in_metrics && line[0] == '|')
      add_row(section, lineno, line);
  }
  fclose(f);
  cr_assert_gt(nrows, 0, "results/README.md has no metric tables");
}

static void free_docs(void) {
  free(rows);
  rows = NULL;
  nrows = 0;
}

TestSuite(metric_docs, .init = load_docs, .fini = free_docs);

/* 1 when the heading `section` names family `name` (a heading may name
 * several, separated by ", "). */
static int section_names(const char *section, const char *name) {
  size_t len = strlen(name);
  for (const char *p = section; (p = strstr(p, name)) != NULL; p += len)
    if ((p == section || p[-1] == ' ') && (p[len] == '\0' || p[len] == ','))
      return 1;
  return 0;
}

/* 1 when `unit` is one of the comma-separated units of the cell `units`. */
static int unit_listed(const char *units, const char *unit) {
  size_t len = strlen(unit);
  for (const char *p = units; (p = strstr(p, unit)) != NULL; p += len)
    if ((p == units || p[-1] == ' ') && (p[len] == '\0' || p[len] == ','))
      return 1;
  return 0;
}

/* The word results/README.md's compare column uses for direction d. */
static const char *compare_word(enum sm_direction d) {
  return d == SM_HIGHER_IS_BETTER  ? "higher"
         : d == SM_LOWER_IS_BETTER ? "lower"
                                   : "info";
}

/* The runner's declaration of `name` (window, sampled or counter metric),
 * or NULL. */
static const struct sm_metric_decl *runner_decl(const char *name) {
  for (size_t i = 0; i < sm_runner_nwindow_metrics; i++)
    if (strcmp(sm_runner_window_metrics[i].name, name) == 0)
      return &sm_runner_window_metrics[i];
  for (size_t i = 0; i < sm_runner_nsample_metrics; i++)
    if (strcmp(sm_runner_sample_metrics[i].name, name) == 0)
      return &sm_runner_sample_metrics[i];
  const struct sm_metric_decl *d = sm_counter_decl(name);
  return d ? d : sm_interference_decl(name);
}

/* Checks the declared metric `name` of row r against its declaration d;
 * returns 1 when they disagree (with the reason on stderr). */
static int disagrees(const struct doc_row *r, const char *name,
                     const struct sm_metric_decl *d) {
  int bad = 0;
  if (!unit_listed(r->unit, d->unit)) {
    fprintf(stderr,
            "results/README.md:%d: `%s` is in %s, the declaration says %s\n",
            r->line, name, r->unit, d->unit);
    bad = 1;
  }
  if (strcmp(r->compare, compare_word(d->direction)) != 0) {
    fprintf(stderr,
            "results/README.md:%d: `%s` is compared %s, the declaration "
            "says %s\n",
            r->line, name, r->compare, compare_word(d->direction));
    bad = 1;
  }
  return bad;
}

Test(metric_docs, every_documented_metric_matches_its_declaration) {
  int bad = 0, checked = 0;
  for (size_t i = 0; i < nrows; i++) {
    const struct doc_row *r = &rows[i];
    for (size_t k = 0; k < r->nnames; k++) {
      const struct sm_metric_decl *d = NULL;
      if (strcmp(r->section, RUNNER_SECTION) == 0)
        d = runner_decl(r->names[k]);
      for (size_t f = 0; !d && f < sm_nfamilies; f++)
        if (section_names(r->section, sm_families[f]->name))
          d = sm_metric_declared(sm_families[f]->name, r->names[k]);
      if (d) {
        bad += disagrees(r, r->names[k], d);
        checked++;
      }
    }
  }
  cr_assert_gt(checked, 0, "no documented metric is declared");
  cr_assert_eq(bad, 0,
               "%d documented metrics disagree with their "
               "declarations (listed above)",
               bad);
}

/* 1 when a row of a section naming `family` (or of the runner's section
 * when family is NULL) names `metric`. */
static int documented(const char *family, const char *metric) {
  for (size_t i = 0; i < nrows; i++) {
    const struct doc_row *r = &rows[i];
    if (family ? !section_names(r->section, family)
               : strcmp(r->section, RUNNER_SECTION) != 0)
      continue;
    for (size_t k = 0; k < r->nnames; k++)
      if (strcmp(r->names[k], metric) == 0)
        return 1;
  }
  return 0;
}

Test(metric_docs, every_declared_metric_is_documented) {
  int missing = 0;
  for (size_t i = 0; i < sm_runner_nwindow_metrics; i++)
    if (!documented(NULL, sm_runner_window_metrics[i].name)) {
      fprintf(stderr, "results/README.md: no row for the runner's `%s`\n",
              sm_runner_window_metrics[i].name);
      missing++;
    }
  for (size_t i = 0; i < sm_ninterference_metrics; i++)
    if (!documented(NULL, sm_interference_metrics[i].name)) {
      fprintf(stderr, "results/README.md: no row for the runner's `%s`\n",
              sm_interference_metrics[i].name);
      missing++;
    }
  for (size_t f = 0; f < sm_nfamilies; f++) {
    const struct sm_family *fam = sm_families[f];
    for (size_t i = 0; i < fam->nmetric_decls; i++) {
      const struct sm_metric_decl *d = &fam->metric_decls[i];
      cr_expect(d->meaning && d->meaning[0], "%s declares %s without meaning",
                fam->name, d->name);
      if (!documented(fam->name, d->name)) {
        fprintf(stderr, "results/README.md: no row for %s's `%s`\n", fam->name,
                d->name);
        missing++;
      }
    }
  }
  cr_assert_eq(missing, 0, "%d declared metrics are not documented", missing);
}
