/* run_claims.c: claim-driven sampling: more repetitions for the cases an
 * undecided claim's rule reads, until it decides or the budget ends. */
#include "run_claims.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claims.h"
#include "environment.h"
#include "rundir.h"
#include "runview.h"
#include "syncmark/clock.h"

bool sm_run_claim_sampling_applies(const struct sm_run *r) {
  return r->cfg->rule.target > 0 && !r->cfg->o->isolate;
}

/* What the view's read_row hook fills: the cases behind the rows read. */
struct rows_read {
  const struct sm_plan *plan;
  bool *cases; /* per plan case */
};

/* read_row hook: marks the plan case whose identity (benchmark, variant,
 * params, threads, placement) summary row `row` carries. */
static void note_row(void *ctx, const struct sm_run_view *v, size_t row) {
  struct rows_read *reads = ctx;
  char **f = v->summary.rows[row];
  unsigned threads = (unsigned)strtoul(f[v->col[3]], NULL, 10);
  for (size_t c = 0; c < reads->plan->ncases; c++) {
    const struct sm_case *k = &reads->plan->cases[c];
    if (k->threads == threads && strcmp(k->family->name, f[v->col[0]]) == 0 &&
        strcmp(k->variant->name, f[v->col[1]]) == 0 &&
        strcmp(k->params, f[v->col[2]]) == 0 &&
        strcmp(k->placement_name, f[v->col[4]]) == 0) {
      reads->cases[c] = true;
      return;
    }
  }
}

void sm_claim_cases_read(const struct sm_claim *c, struct sm_run_view *view,
                         const struct sm_plan *plan, bool *cases,
                         struct sm_claim_result *out) {
  struct rows_read reads = {.plan = plan, .cases = cases};
  memset(cases, 0, plan->ncases * sizeof *cases);
  view->read_row = note_row;
  view->observe_ctx = &reads;
  sm_claim_judge(c, view, out);
  view->read_row = NULL;
  view->observe_ctx = NULL;
}

/* What one sampling did, and its state while it runs. */
struct sm_claim_sampling {
  struct sm_run *r;
  const struct sm_field *fields; /* machine.csv's so far (rules read it) */
  size_t nfields;
  char dir[4096];    /* the temporary folder of the interim summary */
  bool *read;        /* per claim x case: its rule read the case */
  bool *wanted;      /* per case: some undecided claim read it */
  unsigned *done;    /* per case: repetitions before the round */
  int *first, *last; /* per claim: verdict after the precision rounds,
                        and when the sampling ended */
  unsigned *extra;   /* per claim: repetitions its cases got */
  bool *missing;     /* per claim: its rule lacks a deciding row */
  bool *judging;     /* per claim: judged in this round (all at first, then
                        those sampled) */
  bool *include;     /* per case: in the interim summary (the families the
                        judged claims' rules read) */
  unsigned rounds;
  double judge_s, total_s; /* time spent judging, and in all */
  bool budget_ended;       /* the budget denied a repetition it wanted */
  char off[512];           /* why it did not run or stopped, or empty */
};

/* Writes the run's summary so far (of the cases s->include marks; all on
 * the first call) and machine fields into s->dir and judges the claims
 * s->judging marks on it, recording which cases each rule read (s->read),
 * whether it lacked a row (s->missing) and the verdicts in s->last (and
 * s->first on the first call). Returns 0, or a negative errno with a
 * sentence in msg. */
static int judge_claims(struct sm_claim_sampling *s, char *msg,
                        size_t msg_size) {
  struct sm_run *r = s->r;
  char path[4200];
  int rc = sm_path_join(path, sizeof path, s->dir, SM_RUN_SUMMARY);
  rc = rc ? rc
          : sm_results_write_summary_of(&r->results, r->plan.cases,
                                        r->plan.ncases,
                                        s->rounds ? s->include : NULL, path);
  if (rc == 0 && s->rounds == 0) {
    rc = sm_path_join(path, sizeof path, s->dir, SM_RUN_MACHINE);
    rc = rc ? rc : sm_env_write(path, s->fields, s->nfields);
  }
  if (rc != 0) {
    snprintf(msg, msg_size, "cannot write %.300s: %s", path, strerror(-rc));
    return rc;
  }
  struct sm_run_view view;
  rc = sm_run_view_load(s->dir, &view, msg, msg_size);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < sm_nclaims; i++) {
    if (s->rounds > 0 && !s->judging[i])
      continue;
    struct sm_claim_result result;
    sm_claim_cases_read(&sm_claims[i], &view, &r->plan,
                        s->read + i * r->plan.ncases, &result);
    s->last[i] = (int)result.verdict;
    s->missing[i] = result.missing_rows > 0;
    if (s->rounds == 0)
      s->first[i] = (int)result.verdict;
  }
  sm_run_view_free(&view);
  return 0;
}

/* judge_claims, timed into s->judge_s. */
static int judge_all(struct sm_claim_sampling *s, char *msg, size_t msg_size) {
  uint64_t t0 = sm_now_ns();
  int rc = judge_claims(s, msg, msg_size);
  s->judge_s += (double)(sm_now_ns() - t0) / 1e9;
  return rc;
}

/* True when claim i is to be sampled: inconclusive, with every deciding
 * row present (more repetitions of the rows a rule has cannot supply the
 * one it lacks). */
static bool samplable(const struct sm_claim_sampling *s, size_t i) {
  return s->last[i] == SM_CLAIM_INCONCLUSIVE && !s->missing[i];
}

/* Chooses the next round: the claims to sample (s->judging), the cases
 * their rules read (s->wanted) and every case of the families those cases
 * belong to (s->include: what their rules look at). Returns how many cases
 * it wants. */
static size_t plan_round(struct sm_claim_sampling *s) {
  const struct sm_plan *plan = &s->r->plan;
  size_t ncases = plan->ncases, marked = 0;
  memset(s->wanted, 0, ncases * sizeof *s->wanted);
  memset(s->include, 0, ncases * sizeof *s->include);
  for (size_t i = 0; i < sm_nclaims; i++) {
    s->judging[i] = samplable(s, i);
    for (size_t c = 0; s->judging[i] && c < ncases; c++)
      if (s->read[i * ncases + c] && !s->wanted[c]) {
        s->wanted[c] = true;
        marked++;
      }
  }
  for (size_t c = 0; c < ncases; c++)
    for (size_t k = 0; s->wanted[c] && k < ncases; k++)
      s->include[k] |= plan->cases[k].family == plan->cases[c].family;
  return marked;
}

/* Credits the repetitions the last round gave each case to every claim
 * sampled in it whose rule read it (call before judging again). */
static void credit_round(struct sm_claim_sampling *s) {
  const struct sm_run *r = s->r;
  size_t ncases = r->plan.ncases;
  for (size_t i = 0; i < sm_nclaims; i++) {
    if (!s->judging[i])
      continue;
    for (size_t c = 0; c < ncases; c++)
      if (s->read[i * ncases + c])
        s->extra[i] += r->case_reps[c] + r->case_retakes[c] - s->done[c];
  }
}

/* Snapshots every case's repetitions so far into s->done. */
static void snapshot(struct sm_claim_sampling *s) {
  for (size_t c = 0; c < s->r->plan.ncases; c++)
    s->done[c] = s->r->case_reps[c] + s->r->case_retakes[c];
}

/* The most repetitions claim-driven sampling gives one case: twice what
 * the precision rounds may give, within SM_MAX_REPS. */
static unsigned claim_max_reps(const struct sm_run *r) {
  unsigned twice = 2 * r->cfg->rule.max_reps;
  return twice < SM_MAX_REPS ? twice : SM_MAX_REPS;
}

/* Repetitions a sampling round gives each wanted case before the claims
 * are judged again (judging summarizes every row of their families, which
 * costs about as much as a repetition of each of those cases). */
#define SM_CLAIM_REPS_PER_ROUND 3

/* Runs the rounds (see sm_run_claim_sampling). Returns 0, or a negative
 * errno with a sentence in msg when an interim summary failed. */
static int sample(struct sm_claim_sampling *s, char *msg, size_t msg_size) {
  bool spent_before = s->r->budget_spent;
  s->r->budget_spent = false;
  int rc = judge_all(s, msg, msg_size);
  while (rc == 0 && !s->r->stopped_by && plan_round(s) > 0) {
    snapshot(s);
    size_t ran = 0;
    for (unsigned k = 0; k < SM_CLAIM_REPS_PER_ROUND && !s->r->stopped_by; k++)
      ran += sm_run_execute_round(s->r, s->wanted, claim_max_reps(s->r));
    if (ran == 0)
      break;
    s->rounds++;
    credit_round(s);
    rc = judge_all(s, msg, msg_size);
  }
  s->budget_ended = s->r->budget_spent;
  s->r->budget_spent |= spent_before;
  return rc;
}

/* Prints what the sampling did and appends its machine.csv fields. */
static int report_sampling(const struct sm_claim_sampling *s, FILE *out,
                           struct sm_field *fields, size_t *n, size_t max) {
  size_t undecided = 0;
  for (size_t i = 0; i < sm_nclaims; i++)
    undecided += s->first[i] == SM_CLAIM_INCONCLUSIVE;
  fprintf(out,
          "claims: %zu inconclusive after the precision rounds; claim-driven "
          "sampling ran %u round(s) in %.1f s (%.1f s of it judging)%s\n",
          undecided, s->rounds, s->total_s, s->judge_s,
          s->budget_ended ? "; the budget ended it" : "");
  int rc = sm_field_add(fields, n, max, "claim_sampling", "on");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "claim_sampling_rounds", "%u",
                         s->rounds);
  rc =
      rc ? rc
         : sm_field_add(fields, n, max, "claim_sampling_s", "%.1f", s->total_s);
  for (size_t i = 0; rc == 0 && i < sm_nclaims; i++) {
    if (s->first[i] != SM_CLAIM_INCONCLUSIVE)
      continue;
    const char *id = sm_claims[i].id;
    const char *now = sm_claim_verdict_name((enum sm_claim_verdict)s->last[i]);
    if (s->extra[i] == 0 && s->missing[i]) {
      fprintf(out,
              "  %s: inconclusive, not sampled: a row its rule needs is "
              "missing\n",
              id);
      continue;
    }
    fprintf(out,
            "  %s: %s after %u more repetitions of the cases its rule "
            "reads\n",
            id, now, s->extra[i]);
    char key[64];
    snprintf(key, sizeof key, "claim_extra_reps_%s", id);
    rc = sm_field_add(fields, n, max, key, "%u", s->extra[i]);
    snprintf(key, sizeof key, "claim_sampled_verdict_%s", id);
    rc = rc ? rc : sm_field_add(fields, n, max, key, "%s", now);
  }
  return rc;
}

/* Removes s's temporary folder and its files, if it made one. */
static void remove_files(struct sm_claim_sampling *s) {
  char path[4200];
  static const char *const files[] = {SM_RUN_SUMMARY, SM_RUN_MACHINE};
  for (size_t i = 0; s->dir[0] && i < 2; i++)
    if (sm_path_join(path, sizeof path, s->dir, files[i]) == 0)
      (void)unlink(path);
  if (s->dir[0])
    (void)rmdir(s->dir);
  s->dir[0] = '\0';
}

struct sm_claim_sampling *sm_run_claim_sampling(struct sm_run *r,
                                                const struct sm_field *fields,
                                                size_t nfields) {
  struct sm_claim_sampling *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  *s = (struct sm_claim_sampling){.r = r, .fields = fields, .nfields = nfields};
  if (!sm_run_claim_sampling_applies(r)) {
    snprintf(s->off, sizeof s->off, "%s",
             r->cfg->rule.target > 0 ? "--isolate"
                                     : "a fixed number of repetitions");
    return s;
  }
  if (r->stopped_by) {
    snprintf(s->off, sizeof s->off, "the run was interrupted");
    return s;
  }
  size_t ncases = r->plan.ncases;
  const char *tmp = getenv("TMPDIR");
  snprintf(s->dir, sizeof s->dir, "%s/syncmark-claims.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  s->read = calloc(sm_nclaims * ncases, sizeof *s->read);
  s->wanted = calloc(ncases, sizeof *s->wanted);
  s->done = calloc(ncases, sizeof *s->done);
  s->first = calloc(sm_nclaims, sizeof *s->first);
  s->last = calloc(sm_nclaims, sizeof *s->last);
  s->extra = calloc(sm_nclaims, sizeof *s->extra);
  s->missing = calloc(sm_nclaims, sizeof *s->missing);
  s->judging = calloc(sm_nclaims, sizeof *s->judging);
  s->include = calloc(ncases, sizeof *s->include);
  char msg[512] = "";
  int failed = 0;
  if (!s->read || !s->wanted || !s->done || !s->first || !s->last ||
      !s->extra || !s->missing || !s->judging || !s->include) {
    snprintf(msg, sizeof msg, "out of memory");
    failed = -ENOMEM;
  } else if (!mkdtemp(s->dir)) {
    failed = -errno;
    snprintf(msg, sizeof msg, "cannot create %.300s: %s", s->dir,
             strerror(-failed));
    s->dir[0] = '\0';
  } else {
    uint64_t t0 = sm_now_ns();
    failed = sample(s, msg, sizeof msg);
    s->total_s = (double)(sm_now_ns() - t0) / 1e9;
  }
  if (failed) {
    fprintf(stderr, "syncmark: claim-driven sampling stopped: %s\n", msg);
    snprintf(s->off, sizeof s->off, "%s", msg);
  }
  remove_files(s);
  return s;
}

int sm_claim_sampling_report(const struct sm_claim_sampling *s, FILE *out,
                             struct sm_field *fields, size_t *n, size_t max) {
  if (!s)
    return sm_field_add(fields, n, max, "claim_sampling", "off: out of memory");
  if (s->off[0])
    return sm_field_add(fields, n, max, "claim_sampling", "off: %s", s->off);
  return report_sampling(s, out, fields, n, max);
}

void sm_claim_sampling_free(struct sm_claim_sampling *s) {
  if (!s)
    return;
  free(s->read);
  free(s->wanted);
  free(s->done);
  free(s->first);
  free(s->last);
  free(s->extra);
  free(s->missing);
  free(s->judging);
  free(s->include);
  free(s);
}
