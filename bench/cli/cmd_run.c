/* cmd_run.c: `syncmark run`: validate the options, plan the cases, run them
 * (execute.c), and write the run folder's files. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "environment.h"
#include "gbench.h"
#include "interrupt.h"
#include "registry.h"
#include "run.h"
#include "rundir.h"
#include "runner.h"
#include "syncmark/clock.h"
#include "syncmark/csv.h"
#include "syncmark/work.h"
#include "table.h"
#include "run_claims.h"
#include "run_precision.h"
#include "run_config.h"
#include "run_profile.h"
#include "text.h"

/* Validates the filters and --param, builds the plan for the resolved
 * configuration and allocates the per-case state; exits with status 2 on
 * bad input before anything is written. */
static void prepare(struct sm_run *r) {
  const struct sm_run_config *cfg = r->cfg;
  const struct sm_options *o = cfg->o;
  struct sm_plan_request req = {
      .filters = (const char *const *)o->args,
      .nfilters = o->nargs,
      .threads = cfg->threads,
      .nthreads = cfg->nthreads,
      .placements = cfg->placements,
      .nplacements = cfg->nplacements,
      .skipped_placements = cfg->skipped_placements,
      .quick = o->quick,
      .threads_auto = o->threads_auto,
      .allowed_pus = cfg->counts.allowed_pus,
      .overrides = o->params,
      .noverrides = o->nparams,
      .pair_budget_s = o->c2c_budget_s,
      .pair_case_s = cfg->reps * (cfg->warmup_s + cfg->duration_s)};
  int bad = sm_plan_unmatched_filter(&req);
  if (bad >= 0) {
    char names[256] = "";
    for (size_t i = 0; i < sm_nfamilies; i++)
      sm_appendf(names, sizeof names, "%s%s", i ? ", " : "",
                 sm_families[i]->name);
    sm_usage_error("unknown benchmark '%s' (allowed: %s, or family/variant "
                   "as shown by syncmark list)",
                   o->args[bad], names);
  }
  char why[512];
  if (sm_plan_check_overrides(&req, why, sizeof why) != 0)
    sm_usage_error("%s", why);
  int rc = sm_plan_build(&req, cfg->topo, &r->plan);
  if (rc == -ETIME)
    sm_usage_error("--c2c-budget: %s", r->plan.why);
  if (rc != 0) {
    fprintf(stderr, "syncmark: cannot plan the run: %s\n", strerror(-rc));
    exit(1);
  }
  struct sm_run_profile profile = {.name = cfg->profile,
                                   .duration_s = cfg->duration_s,
                                   .warmup_s = cfg->warmup_s,
                                   .rule = cfg->rule};
  sm_run_profile_check_budget(&profile, r->plan.ncases);
  r->outcomes = calloc(r->plan.ncases, sizeof *r->outcomes);
  r->dropped = calloc(r->plan.ncases, sizeof *r->dropped);
  r->case_reps = calloc(r->plan.ncases, sizeof *r->case_reps);
  r->case_s = calloc(r->plan.ncases, sizeof *r->case_s);
  r->case_retakes = calloc(r->plan.ncases, sizeof *r->case_retakes);
  if (!r->outcomes || !r->dropped || !r->case_reps || !r->case_s ||
      !r->case_retakes) {
    fputs("syncmark: out of memory\n", stderr);
    exit(1);
  }
}

/* Writes the current local time in ISO 8601 form into buf. */
static void now_iso(char *buf, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* The run's status word for machine.csv. */
static const char *run_status(const struct sm_run *r) {
  if (r->stopped_by)
    return r->stopped_by == SIGINT ? "interrupted (SIGINT)"
                                   : "interrupted (SIGTERM)";
  if (r->nhung)
    return "timed out";
  return r->nfailed || r->ncrashed ? "failed" : "complete";
}

/* Appends the run's own fields (command, settings, status) to fields. */
static int describe_run(const struct sm_run *r, struct sm_field *fields,
                        size_t *n, size_t max) {
  char command[448] = "syncmark", finished[32], list[160] = "";
  for (int i = 1; i < r->cfg->o->argc; i++)
    sm_appendf(command, sizeof command, " %s", r->cfg->o->argv[i]);
  for (size_t i = 0; i < r->cfg->nthreads; i++)
    sm_appendf(list, sizeof list, "%s%u", i ? " " : "", r->cfg->threads[i]);
  now_iso(finished, sizeof finished);
  int rc = sm_field_add(fields, n, max, "command", "%s", command);
  rc =
      rc ? rc : sm_field_add(fields, n, max, "started_at", "%s", r->started_at);
  rc = rc ? rc : sm_field_add(fields, n, max, "finished_at", "%s", finished);
  rc = rc ? rc : sm_field_add(fields, n, max, "quick", "%d", r->cfg->o->quick);
  rc = rc ? rc : sm_field_add(fields, n, max, "reps", "%u", r->cfg->reps);
  rc =
      rc ? rc
         : sm_field_add(fields, n, max, "duration_s", "%g", r->cfg->duration_s);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "warmup_s", "%g", r->cfg->warmup_s);
  rc = rc ? rc : sm_field_add(fields, n, max, "threads", "%s", list);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "skipped_placements", "%s",
                         r->plan.skipped[0] ? r->plan.skipped : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "pu_pairs_sample", "%s",
                         r->plan.pu_sample[0] ? r->plan.pu_sample : "none");
  rc = rc ? rc : sm_field_add(fields, n, max, "cases", "%zu", r->plan.ncases);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "skipped_cases", "%zu", r->nskipped);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "injected_delay", "%s",
                         r->cfg->inject_variant ? r->cfg->o->inject_into
                                                : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "injected_delay_ns", "%llu",
                         (unsigned long long)r->cfg->o->inject_delay_ns);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "noisy_cases", "%zu",
                         r->noise.noisy_cases);
  char warnings[1024] = "";
  for (size_t i = 0; i < r->noise.nlines; i++)
    sm_appendf(warnings, sizeof warnings, "%s%s", i ? " | " : "",
               r->noise.lines[i]);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "noise_warnings", "%s",
                         warnings[0] ? warnings : "none");
  rc =
      rc ? rc : sm_field_add(fields, n, max, "failed_cases", "%zu", r->nfailed);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "timed_out_cases", "%zu", r->nhung);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "crashed_cases", "%zu", r->ncrashed);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "isolated", "%d", r->cfg->o->isolate);
  rc =
      rc ? rc
         : sm_field_add(fields, n, max, "watchdog_s", "%g", r->cfg->watchdog_s);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "reps_completed", "%u", r->reps_done);
  rc = rc ? rc : sm_field_add(fields, n, max, "status", "%s", run_status(r));
  return rc;
}

/* Writes problems.csv: the cases that yielded no numbers, and why. */
static int write_problems(const struct sm_run *r, const char *path) {
  return sm_outcome_write_problems(path, r->plan.cases, r->outcomes,
                                   r->plan.ncases);
}

/* Writes one result file of the run folder with `writer`, naming the file
 * in the error message on failure. */
static int write_one(const struct sm_run *r, const char *name,
                     int (*writer)(const struct sm_run *, const char *)) {
  char path[4200];
  int rc = sm_path_join(path, sizeof path, r->dir, name);
  if (rc == 0)
    rc = writer(r, path);
  if (rc != 0)
    fprintf(stderr, "syncmark: cannot write %s/%s: %s\n", r->dir, name,
            strerror(-rc));
  return rc;
}

static int write_raw(const struct sm_run *r, const char *path) {
  return sm_results_write_raw(&r->results, r->plan.cases, path);
}

static int write_summary(const struct sm_run *r, const char *path) {
  return sm_results_write_summary(&r->results, r->plan.cases, r->plan.ncases,
                                  path);
}

static int write_series(const struct sm_run *r, const char *path) {
  return sm_results_write_series(&r->results, r->plan.cases, path);
}

/* Removes what a run whose files could not all be written left in its
 * folder, and the folder: a run folder is either whole or absent. */
static void discard_run_dir(const struct sm_run *r) {
  static const char *const names[] = {SM_RUN_RAW,    SM_RUN_SUMMARY,
                                      SM_RUN_SERIES, SM_RUN_PROBLEMS,
                                      SM_RUN_GBENCH, SM_RUN_MACHINE};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[4200];
    if (sm_path_join(path, sizeof path, r->dir, names[i]) == 0)
      unlink(path);
  }
  if (rmdir(r->dir) == 0)
    fprintf(stderr,
            "syncmark: %s removed: a run folder is kept only whole (the "
            "table above has the medians)\n",
            r->dir);
}

/* Writes raw.csv, summary.csv, series.csv and problems.csv (when there is
 * something to put in them) and machine.csv into the run folder. */
static int write_files(struct sm_run *r, struct sm_field *fields, size_t n,
                       size_t max) {
  int rc = describe_run(r, fields, &n, max);
  if (rc == 0)
    rc = write_one(r, SM_RUN_RAW, write_raw);
  if (rc == 0)
    rc = write_one(r, SM_RUN_SUMMARY, write_summary);
  if (rc == 0 && r->results.npoints > 0)
    rc = write_one(r, SM_RUN_SERIES, write_series);
  if (rc == 0 && r->nskipped + r->nfailed + r->nhung + r->ncrashed > 0)
    rc = write_one(r, SM_RUN_PROBLEMS, write_problems);
  char path[4200];
  if (rc == 0 && r->cfg->o->gbench_json) {
    rc = sm_path_join(path, sizeof path, r->dir, SM_RUN_GBENCH);
    if (rc == 0)
      rc = sm_gbench_write(path, r->plan.cases, r->plan.ncases, r->dropped,
                           &r->results, fields, n);
    if (rc != 0)
      fprintf(stderr, "syncmark: cannot write %s/gbench.json: %s\n", r->dir,
              strerror(-rc));
  }
  if (rc == 0 &&
      (rc = sm_path_join(path, sizeof path, r->dir, SM_RUN_MACHINE)) == 0 &&
      (rc = sm_env_write(path, fields, n)) != 0)
    fprintf(stderr, "syncmark: cannot write %s/machine.csv: %s\n", r->dir,
            strerror(-rc));
  if (rc != 0)
    discard_run_dir(r);
  return rc;
}

/* Says how the run ended, on stderr, and returns the exit status: 130 or
 * 143 after SIGINT or SIGTERM, 1 when a case failed or hung or a file could
 * not be written, else 0. */
static int finish(const struct sm_run *r, int write_rc) {
  if (r->nfailed + r->ncrashed)
    fprintf(stderr,
            "syncmark: %zu case(s) failed, %zu crashed; see the messages "
            "above and problems.csv\n",
            r->nfailed, r->ncrashed);
  for (size_t c = 0; c < r->plan.ncases; c++)
    if (r->outcomes[c].kind == SM_OUTCOME_TIMED_OUT) {
      char label[96];
      fprintf(stderr,
              "syncmark: %s %s threads=%u hung in rep %u (no result after "
              "%.1f s; --watchdog)\n",
              sm_case_label(&r->plan.cases[c], label, sizeof label),
              r->plan.cases[c].params, r->plan.cases[c].threads,
              r->outcomes[c].rep, r->outcomes[c].elapsed_s);
    }
  if (r->stopped_by) {
    fprintf(stderr,
            "syncmark: interrupted by %s after %zu repetitions (%u rounds "
            "of the %u to %u each case may get)%s\n",
            r->stopped_by == SIGINT ? "SIGINT" : "SIGTERM", r->runs_done,
            r->reps_done, r->cfg->rule.min_reps, r->cfg->rule.max_reps,
            write_rc == 0 ? "; the completed ones are written" : "");
    return 128 + r->stopped_by;
  }
  return write_rc != 0 || r->nfailed || r->nhung || r->ncrashed ? 1 : 0;
}

int sm_cmd_run(const struct sm_options *o) {
  struct sm_run_config cfg;
  sm_run_config_resolve(o, &cfg);
  struct sm_run r = {.cfg = &cfg, .budget_s = cfg.rule.budget_s};
  prepare(&r);
  sm_cmd_check_baseline_db(o);
  int rc = sm_rundir_create(o->out_dir, r.dir, sizeof r.dir);
  if (rc != 0)
    sm_usage_error("--out: cannot create a run folder under '%s': %s (a "
                   "writable folder is needed)",
                   o->out_dir, strerror(-rc));
  now_iso(r.started_at, sizeof r.started_at);
  size_t max = SM_ENV_MAX_FIELDS(cfg.counts.allowed_pus) + 96, n = 0;
  struct sm_field *fields = calloc(max, sizeof *fields);
  if (!fields || sm_env_describe(cfg.topo, fields, &n, max) != 0 ||
      sm_counters_describe(&cfg.counters, fields, &n, max, stderr) != 0) {
    fputs("syncmark: cannot describe this machine\n", stderr);
    return 1;
  }
  r.overhead_ns =
      strtod(sm_field_get(fields, n, "runner_overhead_ns_per_op"), NULL);
  printf("syncmark run: %zu cases x %u to %u reps, %g s windows after %g s "
         "warmup\nrunner overhead %s ns/op; clock overhead %s ns\n",
         r.plan.ncases, cfg.rule.min_reps, cfg.rule.max_reps, cfg.duration_s,
         cfg.warmup_s, sm_field_get(fields, n, "runner_overhead_ns_per_op"),
         sm_field_get(fields, n, "clock_overhead_ns"));
  if (cfg.inject_variant)
    printf("injected: %llu ns of busy work in every operation of %s (this "
           "run is slowed down on purpose)\n",
           (unsigned long long)o->inject_delay_ns, o->inject_into);
  fflush(stdout);
  sm_interrupt_set_run_dir(r.dir);
  sm_interrupt_install();
  r.started_ns = sm_now_ns();
  sm_interference_read_cpu(&r.cpu_at_start);
  /* The precision rounds leave a share of the budget to claim-driven
   * sampling, which gets the whole budget. */
  if (sm_run_claim_sampling_applies(&r))
    r.budget_s = cfg.rule.budget_s * (1 - SM_CLAIM_BUDGET_SHARE);
  sm_run_execute(&r);
  r.budget_s = cfg.rule.budget_s;
  struct sm_claim_sampling *claims = sm_run_claim_sampling(&r, fields, n);
  sm_interrupt_hold();
  sm_table_print(stdout, r.plan.cases, r.plan.ncases, &r.results, r.outcomes);
  sm_noise_collect(fields, n, r.plan.cases, r.plan.ncases, &r.results,
                   r.dropped, &r.noise);
  for (size_t i = 0; i < r.noise.nlines; i++)
    printf("warning: %s\n", r.noise.lines[i]);
  rc = sm_run_precision_report(&r, stdout, fields, &n, max);
  rc = rc ? rc : sm_claim_sampling_report(claims, stdout, fields, &n, max);
  sm_claim_sampling_free(claims);
  rc = rc ? rc : sm_run_interference_report(&r, stdout, fields, &n, max);
  rc = rc ? rc : write_files(&r, fields, n, max);
  if (rc == 0)
    printf("results: %s\n", r.dir);
  fflush(stdout);
  int status = finish(&r, rc);
  sm_interrupt_release();
  if (!r.stopped_by && sm_interrupt_signal())
    status = 128 + sm_interrupt_signal(); /* arrived while files were
                                             written: they are whole */
  if (o->save_baseline && status == 0)
    status = sm_cmd_save_baseline(o, r.dir);
  else if (o->save_baseline)
    fprintf(stderr,
            "syncmark: baseline %s not saved: the run did not end "
            "cleanly (exit status %d)\n",
            o->save_baseline, status);
  free(fields);
  free(r.dropped);
  free(r.outcomes);
  free(r.case_reps);
  free(r.case_s);
  free(r.case_retakes);
  sm_results_free(&r.results);
  if (r.nhung == 0) /* an abandoned repetition may still read its case */
    sm_plan_free(&r.plan);
  sm_run_config_free(&cfg);
  return status;
}
