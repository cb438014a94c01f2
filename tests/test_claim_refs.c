/* test_claim_refs.c: every family, variant, parameter, placement and metric
 * that a claim rule looks up exists in the registry: the rules run over a
 * run synthesized from the registry's own cases and declarations, and
 * every lookup they make is checked. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "metrics.h"
#include "plan.h"
#include "registry.h"
#include "run_claims.h"
#include "runner.h"
#include "runview.h"
#include "syncmark/csv.h"
#include "test_support.h"

/* A machine with every placement a rule may ask for: 2 packages, 2 L3s
 * each, 2 cores of 2 PUs per L3 (16 PUs). */
#define SYNTHETIC     "pack:2 l3:2 core:2 pu:2"
#define SYNTHETIC_PUS 16

static char dir[64];

/* The family named `name`, or NULL. */
static const struct sm_family *family_named(const char *name) {
  for (size_t i = 0; i < sm_nfamilies; i++)
    if (strcmp(sm_families[i]->name, name) == 0)
      return sm_families[i];
  return NULL;
}

/* Writes one summary row of case c for metric `metric` in `unit`, every
 * statistic 1 (the rules only need rows to exist). */
static void write_row(struct sm_csv_writer *w, const struct sm_case *c,
                      const char *metric, const char *unit) {
  char threads[16];
  snprintf(threads, sizeof threads, "%u", c->threads);
  const char *f[] = {c->family->name,
                     c->variant->name,
                     c->params,
                     threads,
                     c->placement_name,
                     metric,
                     "3",
                     "1",
                     "1",
                     "0",
                     "0",
                     "1",
                     "1",
                     "1",
                     "1",
                     "0",
                     unit};
  cr_assert_eq(sm_csv_write_row(w, f, 17), 0);
}

/* Writes the rows case c would have: the family's declared metrics, and
 * for a case the runner measures, its window metrics and the sampled
 * metrics of the variant's roles. A family that still measures itself
 * declares nothing yet and gets no rows. */
static void write_case(struct sm_csv_writer *w, const struct sm_case *c) {
  const struct sm_family *f = c->family;
  if (f->measure)
    return;
  for (size_t i = 0; i < f->nmetric_decls; i++)
    write_row(w, c, f->metric_decls[i].name, f->metric_decls[i].unit);
  if (c->variant->measure)
    return;
  for (size_t i = 0; i < sm_runner_nwindow_metrics; i++)
    write_row(w, c, sm_runner_window_metrics[i].name,
              sm_runner_window_metrics[i].unit);
  for (size_t r = 0; r < c->variant->nroles; r++)
    for (unsigned k = 0; k < SM_SAMPLE_KINDS; k++) {
      const char *prefix = c->variant->roles[r].samples[k];
      for (size_t i = 0; prefix && i < sm_runner_nsample_metrics; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "_" : "",
                 sm_runner_sample_metrics[i].name);
        write_row(w, c, name, sm_runner_sample_metrics[i].unit);
      }
    }
}

/* Writes dir/summary.csv and dir/machine.csv of a full run of every family
 * on the synthetic machine; its plan goes to *plan (the caller frees it). */
static void synthesize_run(struct sm_plan *plan) {
  struct sm_topology *t;
  struct sm_topology_opts opts = {.synthetic = SYNTHETIC};
  cr_assert_eq(sm_topology_load(&opts, &t), 0);
  const unsigned threads[] = {1, 2, 4, 8, 16};
  const enum sm_placement places[] = {SM_PLACE_COMPACT, SM_PLACE_SCATTER,
                                      SM_PLACE_SMT_FIRST, SM_PLACE_NONE};
  struct sm_plan_request req = {.threads = threads,
                                .nthreads = 5,
                                .threads_auto = true,
                                .allowed_pus = SYNTHETIC_PUS,
                                .placements = places,
                                .nplacements = 4};
  cr_assert_eq(sm_plan_build(&req, t, plan), 0);
  char path[128];
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  struct sm_csv_writer *w;
  cr_assert_eq(sm_csv_open(path, SM_CSV_SUMMARY_HEADER, &w), 0);
  for (size_t i = 0; i < plan->ncases; i++)
    write_case(w, &plan->cases[i]);
  cr_assert_eq(sm_csv_commit(w), 0);
  sm_topology_free(t);
  snprintf(path, sizeof path, "%s/machine.csv", dir);
  cr_assert_eq(sm_csv_open(path, "key,value", &w), 0);
  const char *pus[] = {"allowed_pus", "16"};
  cr_assert_eq(sm_csv_write_row(w, pus, 2), 0);
  cr_assert_eq(sm_csv_commit(w), 0);
}

/* What the lookups named that does not exist, and how many were made. */
struct findings {
  char first[512];
  size_t bad, lookups, unchecked_metrics;
};

/* Records a bad name (the first one in full). */
static void bad(struct findings *fs, const char *what, const char *name,
                const struct sm_query *q) {
  if (fs->bad++ == 0)
    snprintf(fs->first, sizeof fs->first, "%s '%s' (benchmark %s, variant %s)",
             what, name, q->benchmark ? q->benchmark : "*",
             q->variant ? q->variant : "*");
}

/* Returns the axis `key` of f, or NULL. */
static const struct sm_axis *axis_of(const struct sm_family *f, const char *key,
                                     size_t len) {
  for (size_t i = 0; i < f->naxes; i++)
    if (strlen(f->axes[i].key) == len && strncmp(f->axes[i].key, key, len) == 0)
      return &f->axes[i];
  return NULL;
}

/* Checks a ';'-separated "key=value" list against f's axes. */
static void check_params(struct findings *fs, const struct sm_family *f,
                         const struct sm_query *q) {
  for (const char *p = q->params; p && *p;) {
    const char *eq = strchr(p, '='), *end = strchr(p, ';');
    size_t len = eq ? (size_t)(eq - p) : strlen(p);
    const struct sm_axis *a = axis_of(f, p, len);
    if (!a || !eq) {
      bad(fs, "parameter", p, q);
    } else {
      long v = strtol(eq + 1, NULL, 10);
      if (v < a->min || v > a->max)
        bad(fs, "parameter value out of the axis's range", p, q);
    }
    p = end ? end + 1 : NULL;
  }
}

/* True when `name` is a thread or pair placement name, or "none". */
static bool placement_known(const char *name) {
  static const char *const pairs[] = {"same-pu",  "smt-sibling",   "same-l3",
                                      "cross-l3", "cross-package", "none"};
  enum sm_placement p;
  if (sm_placement_parse(name, &p) == 0)
    return true;
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
    if (strcmp(name, pairs[i]) == 0)
      return true;
  return false;
}

/* The view's observer: checks every name a lookup uses. */
static void check_lookup(void *ctx, const struct sm_query *q, const char *key) {
  struct findings *fs = ctx;
  fs->lookups++;
  const struct sm_family *f = q->benchmark ? family_named(q->benchmark) : NULL;
  if (q->benchmark && !f) {
    bad(fs, "family", q->benchmark, q);
    return;
  }
  if (!f)
    return; /* a lookup across families names no family's parts */
  if (q->variant) {
    bool found = false;
    for (size_t i = 0; i < f->nvariants && !found; i++)
      found = strcmp(f->variants[i].name, q->variant) == 0;
    if (!found)
      bad(fs, "variant", q->variant, q);
  }
  check_params(fs, f, q);
  if (key && !axis_of(f, key, strlen(key)))
    bad(fs, "parameter", key, q);
  if (q->placement && !placement_known(q->placement))
    bad(fs, "placement", q->placement, q);
  if (q->metric && f->measure)
    fs->unchecked_metrics++; /* declares nothing until it is on the runner */
  else if (q->metric && !sm_metric_declared(f->name, q->metric))
    bad(fs, "metric", q->metric, q);
}

Test(claims, every_name_a_rule_looks_up_exists) {
  snprintf(dir, sizeof dir, "/tmp/sm_claim_refs.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  struct sm_plan plan;
  synthesize_run(&plan);
  sm_plan_free(&plan);
  struct sm_run_view view;
  char msg[256];
  cr_assert_eq(sm_run_view_load(dir, &view, msg, sizeof msg), 0, "%s", msg);
  struct findings fs = {.bad = 0};
  view.observe = check_lookup;
  view.observe_ctx = &fs;
  for (size_t i = 0; i < sm_nclaims; i++) {
    cr_assert_not_null(family_named(sm_claims[i].family), "%s names family %s",
                       sm_claims[i].id, sm_claims[i].family);
    struct sm_claim_result out;
    sm_claim_judge(&sm_claims[i], &view, &out);
    sm_claim_judge_rust(&sm_claims[i], &view, &out);
    if (sm_claims[i].judge_rust)
      cr_expect_neq(out.verdict, SM_CLAIM_NOT_MEASURED,
                    "%s's Rust rule found none of %s in a run of every case: "
                    "%s",
                    sm_claims[i].id, sm_claims[i].rust_variants, out.numbers);
  }
  sm_run_view_free(&view);
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  cr_assert_gt(fs.lookups, sm_nclaims, "the rules made %zu lookups",
               fs.lookups);
  cr_assert_eq(fs.bad, 0, "%zu lookups name what does not exist; first: %s",
               fs.bad, fs.first);
  cr_assert_eq(fs.unchecked_metrics, 0,
               "%zu metric lookups name a family that still measures itself",
               fs.unchecked_metrics);
}

/* Claim-driven sampling maps the rows a rule reads back to the plan's cases:
 * every rule reads some case, C13's are refcount cases among which is the
 * uncontended arc_private one, and the view's hook is left unset. */
Test(claims, sampling_finds_the_cases_each_rule_reads) {
  snprintf(dir, sizeof dir, "/tmp/sm_claim_cases.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  struct sm_plan plan;
  synthesize_run(&plan);
  struct sm_run_view view;
  char msg[256];
  cr_assert_eq(sm_run_view_load(dir, &view, msg, sizeof msg), 0, "%s", msg);
  bool *cases = calloc(plan.ncases, sizeof *cases);
  cr_assert_not_null(cases);
  for (size_t i = 0; i < sm_nclaims; i++) {
    struct sm_claim_result out;
    sm_claim_cases_read(&sm_claims[i], &view, &plan, cases, &out);
    size_t read = 0, refcount = 0, arc_private_1 = 0;
    for (size_t c = 0; c < plan.ncases; c++) {
      const struct sm_case *k = &plan.cases[c];
      read += cases[c];
      refcount += cases[c] && strcmp(k->family->name, "refcount") == 0;
      arc_private_1 += cases[c] &&
                       strcmp(k->variant->name, "arc_private") == 0 &&
                       k->threads == 1;
    }
    cr_expect_gt(read, 0, "%s's rule read no case", sm_claims[i].id);
    if (strcmp(sm_claims[i].id, "C13") == 0) {
      cr_expect_eq(refcount, read, "C13 read %zu cases, %zu of refcount", read,
                   refcount);
      cr_expect_eq(arc_private_1, 1);
    }
  }
  cr_expect_null(view.read_row, "the hook is left unset");
  free(cases);
  sm_run_view_free(&view);
  sm_plan_free(&plan);
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The report's agreement line: nothing when either side was not measured,
 * "agree" on equal verdicts, both verdicts named when they differ. */
Test(claims, agreement_names_both_verdicts_when_they_differ) {
  struct sm_claim_result c = {.verdict = SM_CLAIM_HOLDS},
                         rust = {.verdict = SM_CLAIM_DOES_NOT_HOLD};
  char buf[96];
  sm_claim_agreement(&c, &rust, buf, sizeof buf);
  cr_assert_str_eq(buf, "disagree: C holds, Rust std does not hold");
  rust.verdict = SM_CLAIM_HOLDS;
  sm_claim_agreement(&c, &rust, buf, sizeof buf);
  cr_assert_str_eq(buf, "agree");
  rust.verdict = SM_CLAIM_NOT_MEASURED;
  sm_claim_agreement(&c, &rust, buf, sizeof buf);
  cr_assert_str_eq(buf, "");
}
