/* cmd_run.c: `syncmark run`: validate, plan, run repetitions interleaved
 * over cases, write raw.csv, summary.csv and machine.csv. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "environment.h"
#include "gbench.h"
#include "interrupt.h"
#include "isolate.h"
#include "noise.h"
#include "outcome.h"
#include "syncmark/csv.h"
#include "options.h"
#include "plan.h"
#include "registry.h"
#include "results.h"
#include "rundir.h"
#include "runner.h"
#include "syncmark/clock.h"
#include "syncmark/work.h"
#include "table.h"
#include "text.h"

/* Defaults of a full run and of --quick. */
#define DEFAULT_DURATION_S 0.25
#define DEFAULT_WARMUP_S   0.05
#define DEFAULT_REPS       10
#define QUICK_DURATION_S   0.02
#define QUICK_WARMUP_S     0.01
#define QUICK_REPS         3
/* A repetition that gives no result for this long is declared hung. */
#define DEFAULT_WATCHDOG_S 120.0

/* Everything one run needs, resolved from the options. */
struct run {
  const struct sm_options *o;
  struct sm_topology *topo;
  struct sm_topology_counts counts;
  unsigned threads[SM_MAX_THREAD_COUNTS];
  size_t nthreads;
  enum sm_placement placements[SM_PLACE_COUNT];
  size_t nplacements;
  double duration_s, warmup_s;
  unsigned reps;
  struct sm_plan plan;
  struct sm_results results;
  struct sm_outcome *outcomes; /* per case */
  bool *dropped;               /* per case: outcome not OK, no rows kept */
  size_t nfailed, nskipped, nhung, ncrashed;
  int report_fd; /* in an isolated child: the pipe to the parent, else -1 */
  unsigned reps_done;           /* repetitions every live case completed */
  size_t runs_done, runs_total; /* repetitions of single cases */
  int stopped_by;               /* the signal that stopped the run, or 0 */
  double watchdog_s;            /* longest a repetition may take */
  char dir[4096];
  char started_at[32];
  uint64_t started_ns; /* sm_now_ns() when the first repetition began */
  const struct sm_variant *inject_variant; /* --inject-into, or NULL */
  uint64_t inject_iters;                   /* its calibrated delay */
  const struct sm_variant *hang_variant;   /* --inject-hang, or NULL */
  const struct sm_variant *crash_variant;  /* --inject-crash, or NULL */
  struct sm_noise noise;
};

/* Appends n to the list unless it is there already. */
static void add_unique(unsigned *list, size_t *n, unsigned value) {
  for (size_t i = 0; i < *n; i++)
    if (list[i] == value)
      return;
  list[(*n)++] = value;
}

/* Resolves thread counts: the user's list, or auto = 1, physical cores,
 * allowed PUs, 2x allowed PUs. */
static void resolve_threads(struct run *r) {
  if (!r->o->threads_auto) {
    memcpy(r->threads, r->o->threads, sizeof r->threads);
    r->nthreads = r->o->nthreads;
    return;
  }
  r->nthreads = 0;
  add_unique(r->threads, &r->nthreads, 1);
  add_unique(r->threads, &r->nthreads, r->counts.allowed_cores);
  add_unique(r->threads, &r->nthreads, r->counts.allowed_pus);
  add_unique(r->threads, &r->nthreads, 2 * r->counts.allowed_pus);
}

/* Says why this machine cannot provide placement p, for an error line. */
static void explain_placement(const struct run *r, enum sm_placement p,
                              char *buf, size_t size) {
  if (p == SM_PLACE_SMT_FIRST)
    snprintf(buf, size,
             "placement 'smt-first' needs a core with two allowed PUs; this "
             "machine gives %u PU(s) per core (%u cores, %u PUs allowed)",
             r->counts.max_allowed_pus_per_core, r->counts.allowed_cores,
             r->counts.allowed_pus);
  else
    snprintf(buf, size, "placement '%s' cannot be provided here",
             sm_placement_name(p));
}

/* Resolves placements; exits with status 2 when none of the named ones is
 * possible, and warns about those skipped. The impossible ones stay in the
 * list, so the planner records them in skipped_placements. */
static void resolve_placements(struct run *r) {
  const struct sm_options *o = r->o;
  if (o->nplacements == 0) {
    r->placements[0] = SM_PLACE_COMPACT;
    r->nplacements = 1;
    return;
  }
  r->nplacements = 0;
  size_t possible = 0;
  char why[256] = "";
  for (size_t i = 0; i < o->nplacements; i++) {
    int pu;
    r->placements[r->nplacements++] = o->placements[i];
    if (sm_topology_plan_threads(r->topo, o->placements[i], 1, &pu) == 0) {
      possible++;
      continue;
    }
    explain_placement(r, o->placements[i], why, sizeof why);
    if (o->nplacements > 1)
      fprintf(stderr, "syncmark: skipped: %s\n", why);
  }
  if (possible == 0)
    sm_usage_error("%s (allowed here: compact, scatter, none)", why);
}

/* Returns the variant named "family/variant", or NULL. */
static const struct sm_variant *find_variant(const char *name) {
  for (size_t fi = 0; fi < sm_nfamilies; fi++)
    for (size_t vi = 0; vi < sm_families[fi]->nvariants; vi++) {
      char label[128];
      snprintf(label, sizeof label, "%s/%s", sm_families[fi]->name,
               sm_families[fi]->variants[vi].name);
      if (strcmp(label, name) == 0)
        return &sm_families[fi]->variants[vi];
    }
  return NULL;
}

/* Returns the variant an --inject-hang or --inject-crash names (NULL when
 * the option is absent); exits with status 2 for an unknown variant. */
static const struct sm_variant *fault_variant(const char *option,
                                              const char *name) {
  if (!name)
    return NULL;
  const struct sm_variant *v = find_variant(name);
  if (!v)
    sm_usage_error("--%s: '%s' is not a benchmark variant (allowed: "
                   "family/variant as shown by syncmark list)",
                   option, name);
  return v;
}

/* Resolves --inject-hang and --inject-crash. */
static void resolve_hang(struct run *r) {
  r->hang_variant = fault_variant("inject-hang", r->o->inject_hang);
  r->crash_variant = fault_variant("inject-crash", r->o->inject_crash);
}

/* Finds the variant named by --inject-into and calibrates the injected
 * delay; exits with status 2 when the two options do not come together or
 * the name is not a window family's variant. */
static void resolve_injection(struct run *r) {
  const struct sm_options *o = r->o;
  if (!o->inject_delay_ns && !o->inject_into)
    return;
  if (!o->inject_delay_ns || !o->inject_into)
    sm_usage_error("--inject-delay-ns and --inject-into go together (given: "
                   "only %s)",
                   o->inject_into ? "--inject-into" : "--inject-delay-ns");
  char names[1024] = "";
  for (size_t fi = 0; fi < sm_nfamilies; fi++) {
    const struct sm_family *f = sm_families[fi];
    for (size_t vi = 0; vi < f->nvariants && !f->measure; vi++) {
      char label[128];
      snprintf(label, sizeof label, "%s/%s", f->name, f->variants[vi].name);
      if (strcmp(label, o->inject_into) == 0)
        r->inject_variant = &f->variants[vi];
      sm_appendf(names, sizeof names, "%s%s", names[0] ? ", " : "", label);
    }
  }
  if (!r->inject_variant)
    sm_usage_error("--inject-into: '%s' is not a variant of a window family "
                   "(allowed: %s)",
                   o->inject_into, names);
  r->inject_iters = sm_work_calibrate(o->inject_delay_ns);
}

/* Validates and resolves the options, the filters and the plan; exits with
 * status 2 on bad input before anything is written. */
static void prepare(struct run *r) {
  const struct sm_options *o = r->o;
  r->topo = sm_env_topology_or_exit();
  sm_topology_counts(r->topo, &r->counts);
  resolve_threads(r);
  resolve_placements(r);
  resolve_injection(r);
  resolve_hang(r);
  r->duration_s = o->duration_s >= 0 ? o->duration_s
                  : o->quick         ? QUICK_DURATION_S
                                     : DEFAULT_DURATION_S;
  r->warmup_s = o->warmup_s >= 0 ? o->warmup_s
                : o->quick       ? QUICK_WARMUP_S
                                 : DEFAULT_WARMUP_S;
  r->watchdog_s = o->watchdog_s > 0 ? o->watchdog_s : DEFAULT_WATCHDOG_S;
  r->reps = o->reps > 0 ? (unsigned)o->reps
            : o->quick  ? QUICK_REPS
                        : DEFAULT_REPS;
  struct sm_plan_request req = {.filters = (const char *const *)o->args,
                                .nfilters = o->nargs,
                                .threads = r->threads,
                                .nthreads = r->nthreads,
                                .placements = r->placements,
                                .nplacements = r->nplacements,
                                .quick = o->quick,
                                .threads_auto = o->threads_auto,
                                .allowed_pus = r->counts.allowed_pus,
                                .overrides = o->params,
                                .noverrides = o->nparams};
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
  int rc = sm_plan_build(&req, r->topo, &r->plan);
  if (rc != 0) {
    fprintf(stderr, "syncmark: cannot plan the run: %s\n", strerror(-rc));
    exit(1);
  }
  r->outcomes = calloc(r->plan.ncases, sizeof *r->outcomes);
  r->dropped = calloc(r->plan.ncases, sizeof *r->dropped);
  if (!r->outcomes || !r->dropped) {
    fputs("syncmark: out of memory\n", stderr);
    exit(1);
  }
}

/* Shows a progress line on stderr when it is a terminal: the repetition,
 * the case, elapsed time and the remaining time estimated from the pace so
 * far. `done` counts repetitions of cases finished in this run. */
static void progress(const struct run *r, unsigned rep, size_t c, size_t done,
                     size_t total) {
  static int tty = -1;
  if (tty < 0)
    tty = isatty(STDERR_FILENO);
  if (!tty)
    return;
  double elapsed = (double)(sm_now_ns() - r->started_ns) / 1e9;
  char label[96], eta[32] = "?";
  if (done > 0)
    snprintf(eta, sizeof eta, "%.0f s",
             elapsed * (double)(total - done) / (double)done);
  fprintf(stderr,
          "\r\033[K%s %s threads=%u  rep %u/%u  case %zu/%zu  %.0f s elapsed, "
          "about %s left",
          sm_case_label(&r->plan.cases[c], label, sizeof label),
          r->plan.cases[c].params, r->plan.cases[c].threads, rep, r->reps,
          c + 1, r->plan.ncases, elapsed, eta);
}

/* Clears the progress line, if one was shown. */
static void progress_done(void) {
  if (isatty(STDERR_FILENO))
    fputs("\r\033[K", stderr);
}

/* Records that case c yields no numbers: its outcome and why (an empty
 * reason: a silent skip, the case does not apply). Returns true when the
 * outcome is worth a line to the user. */
static bool record_outcome(struct run *r, size_t c, enum sm_outcome_kind kind,
                           unsigned rep, uint64_t elapsed_ns,
                           const char *reason) {
  struct sm_outcome *o = &r->outcomes[c];
  r->dropped[c] = true;
  *o = (struct sm_outcome){
      .kind = kind, .rep = rep, .elapsed_s = (double)elapsed_ns / 1e9};
  snprintf(o->reason, sizeof o->reason, "%s", reason);
  if (!o->reason[0])
    return false;
  r->nskipped += kind == SM_OUTCOME_SKIPPED;
  r->nfailed += kind == SM_OUTCOME_FAILED;
  r->nhung += kind == SM_OUTCOME_TIMED_OUT;
  r->ncrashed += kind == SM_OUTCOME_CRASHED;
  return true;
}

/* Records a case that yields no numbers (see record_outcome) and says so
 * on stderr. */
static void drop_case(struct run *r, size_t c, enum sm_outcome_kind kind,
                      unsigned rep, uint64_t elapsed_ns, int rc,
                      const char *msg) {
  if (!record_outcome(r, c, kind, rep, elapsed_ns,
                      msg[0] || kind == SM_OUTCOME_SKIPPED ? msg
                                                           : strerror(-rc)))
    return;
  const struct sm_outcome *o = &r->outcomes[c];
  char label[96];
  const struct sm_case *k = &r->plan.cases[c];
  fprintf(stderr, "%ssyncmark: %s %s threads=%u placement=%s rep %u %s: %s\n",
          isatty(STDERR_FILENO) ? "\r\033[K" : "",
          sm_case_label(k, label, sizeof label), k->params, k->threads,
          k->placement_name, rep, sm_outcome_name(kind), o->reason);
}

/* In an isolated child, sends one record to the parent; a parent gone
 * (a broken pipe) ends the child. Does nothing in the parent. */
static void report(const struct run *r, const struct sm_record *rec) {
  if (r->report_fd >= 0 && sm_record_send(r->report_fd, rec) != 0)
    _exit(1);
}

/* In an isolated child, sends what the repetition of case c added (rows
 * from index `rows`, points from `points`) and its outcome if it has one. */
static void report_repetition(const struct run *r, size_t c, size_t rows,
                              size_t points) {
  if (r->report_fd < 0)
    return;
  for (size_t i = rows; i < r->results.nrows; i++) {
    const struct sm_raw_row *row = &r->results.rows[i];
    report(r, &(struct sm_record){.kind = SM_RECORD_ROW,
                                  .case_index = row->case_index,
                                  .rep = row->rep,
                                  .metric = row->metric,
                                  .unit = row->unit,
                                  .value = row->value});
  }
  for (size_t i = points; i < r->results.npoints; i++) {
    const struct sm_series_point *p = &r->results.points[i];
    report(r, &(struct sm_record){.kind = SM_RECORD_POINT,
                                  .case_index = p->case_index,
                                  .rep = p->rep,
                                  .metric = p->series,
                                  .unit = p->unit,
                                  .value = p->value,
                                  .t_s = p->t_s});
  }
  if (!r->dropped[c])
    return;
  const struct sm_outcome *o = &r->outcomes[c];
  struct sm_record rec = {.kind = SM_RECORD_OUTCOME,
                          .case_index = c,
                          .rep = o->rep,
                          .outcome = (int)o->kind,
                          .elapsed_ns = (uint64_t)(o->elapsed_s * 1e9)};
  snprintf(rec.reason, sizeof rec.reason, "%s", o->reason);
  report(r, &rec);
}

/* Runs one repetition of case c under the watchdog and records what became
 * of it. */
static void run_repetition(struct run *r, const struct sm_window_config *cfg,
                           size_t c, unsigned rep) {
  char msg[256];
  uint64_t elapsed = 0;
  size_t rows = r->results.nrows, points = r->results.npoints;
  report(r, &(struct sm_record){
                .kind = SM_RECORD_BEGIN, .case_index = c, .rep = rep});
  int rc = sm_runner_repetition_bounded(
      cfg, &r->plan.cases[c], c, rep, &r->results,
      sm_seconds_to_ns(r->watchdog_s), &elapsed, msg, sizeof msg);
  if (rc == SM_MEASURE_SKIP)
    drop_case(r, c, SM_OUTCOME_SKIPPED, rep, elapsed, rc, msg);
  else if (rc == SM_REPETITION_HUNG)
    drop_case(r, c, SM_OUTCOME_TIMED_OUT, rep, elapsed, rc, msg);
  else if (rc != 0)
    drop_case(r, c, SM_OUTCOME_FAILED, rep, elapsed, rc, msg);
  report_repetition(r, c, rows, points);
}

/* Runs every repetition of cases [lo, hi), interleaving them so that drift
 * of the machine hits every case alike, until done or stopped by a signal.
 * A case that is skipped, fails or hangs is dropped. */
static void execute_batch(struct run *r, const struct sm_window_config *cfg,
                          size_t lo, size_t hi) {
  size_t done = 0, total = (hi - lo) * r->reps;
  for (unsigned rep = 1; rep <= r->reps && !r->stopped_by; rep++) {
    for (size_t c = lo; c < hi; c++, done++) {
      if ((r->stopped_by = sm_interrupt_signal()) != 0)
        break;
      if (r->dropped[c]) {
        total--;
        done--;
        continue;
      }
      progress(r, rep, c, done, total);
      run_repetition(r, cfg, c, rep);
      r->runs_done++;
    }
    if (!r->stopped_by)
      r->reps_done = rep;
  }
  r->runs_total += total;
}

/* Applies one record of an isolated child to the run; *running tracks the
 * repetition in progress (case index, or SIZE_MAX). */
static void apply_record(struct run *r, const struct sm_record *rec,
                         size_t *running, unsigned *running_rep) {
  switch (rec->kind) {
  case SM_RECORD_BEGIN:
    *running = rec->case_index;
    *running_rep = rec->rep;
    break;
  case SM_RECORD_ROW:
    sm_results_add(&r->results, rec->case_index, rec->rep, rec->metric,
                   rec->unit, rec->value);
    break;
  case SM_RECORD_POINT:
    sm_results_add_point(&r->results, rec->case_index, rec->rep, rec->metric,
                         rec->unit, rec->t_s, rec->value);
    break;
  case SM_RECORD_OUTCOME:
    record_outcome(r, rec->case_index, (enum sm_outcome_kind)rec->outcome,
                   rec->rep, rec->elapsed_ns, rec->reason);
    break;
  case SM_RECORD_STATE:
    *running = SIZE_MAX;
    r->reps_done = rec->reps_done;
    r->runs_done += rec->runs_done;
    r->stopped_by = rec->stopped_by;
    break;
  }
}

/* Runs cases [lo, hi) in a child process (--isolate) and takes its
 * results; a child that dies marks the case it was running as crashed. */
static void execute_isolated(struct run *r, const struct sm_window_config *cfg,
                             size_t lo, size_t hi) {
  int fds[2];
  fflush(NULL);
  pid_t pid = pipe(fds) == 0 ? fork() : -1;
  if (pid == 0) {
    close(fds[0]);
    r->report_fd = fds[1];
    r->runs_done = 0;
    execute_batch(r, cfg, lo, hi);
    report(r, &(struct sm_record){.kind = SM_RECORD_STATE,
                                  .reps_done = r->reps_done,
                                  .runs_done = r->runs_done,
                                  .stopped_by = r->stopped_by});
    _exit(0);
  }
  if (pid < 0) {
    fprintf(stderr,
            "syncmark: cannot start an isolated process (%s); "
            "running in this one\n",
            strerror(errno));
    execute_batch(r, cfg, lo, hi);
    return;
  }
  close(fds[1]);
  r->runs_total += (hi - lo) * r->reps;
  struct sm_record rec;
  size_t running = SIZE_MAX;
  unsigned running_rep = 0;
  while (sm_record_receive(fds[0], &rec) == 1)
    apply_record(r, &rec, &running, &running_rep);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (running == SIZE_MAX)
    return;
  char why[160];
  if (WIFSIGNALED(status))
    snprintf(why, sizeof why, "the isolated process died of signal %d (%s)",
             WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(why, sizeof why, "the isolated process exited with status %d",
             WEXITSTATUS(status));
  drop_case(r, running, SM_OUTCOME_CRASHED, running_rep, 0, 0, why);
}

/* Runs the plan: all cases interleaved in this process, or (--isolate) one
 * child process per family. Rows of dropped cases are removed. */
static void execute(struct run *r) {
  struct sm_window_config cfg = {.warmup_ns = sm_seconds_to_ns(r->warmup_s),
                                 .duration_ns = sm_seconds_to_ns(r->duration_s),
                                 .topo = r->topo,
                                 .quick = r->o->quick,
                                 .inject_variant = r->inject_variant,
                                 .inject_iters = r->inject_iters,
                                 .hang_variant = r->hang_variant,
                                 .crash_variant = r->crash_variant};
  r->report_fd = -1;
  if (!r->o->isolate) {
    execute_batch(r, &cfg, 0, r->plan.ncases);
  } else {
    for (size_t lo = 0; lo < r->plan.ncases && !r->stopped_by;) {
      size_t hi = lo + 1;
      while (hi < r->plan.ncases &&
             r->plan.cases[hi].family == r->plan.cases[lo].family)
        hi++;
      execute_isolated(r, &cfg, lo, hi);
      if (!r->stopped_by)
        r->stopped_by = sm_interrupt_signal();
      lo = hi;
    }
  }
  progress_done();
  sm_results_drop_cases(&r->results, r->dropped);
}

/* Writes the current local time in ISO 8601 form into buf. */
static void now_iso(char *buf, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* The run's status word for machine.csv. */
static const char *run_status(const struct run *r) {
  if (r->stopped_by)
    return r->stopped_by == SIGINT ? "interrupted (SIGINT)"
                                   : "interrupted (SIGTERM)";
  if (r->nhung)
    return "timed out";
  return r->nfailed || r->ncrashed ? "failed" : "complete";
}

/* Appends the run's own fields (command, settings, status) to fields. */
static int describe_run(const struct run *r, struct sm_field *fields, size_t *n,
                        size_t max) {
  char command[448] = "syncmark", finished[32], list[160] = "";
  for (int i = 1; i < r->o->argc; i++)
    sm_appendf(command, sizeof command, " %s", r->o->argv[i]);
  for (size_t i = 0; i < r->nthreads; i++)
    sm_appendf(list, sizeof list, "%s%u", i ? " " : "", r->threads[i]);
  now_iso(finished, sizeof finished);
  int rc = sm_field_add(fields, n, max, "command", "%s", command);
  rc =
      rc ? rc : sm_field_add(fields, n, max, "started_at", "%s", r->started_at);
  rc = rc ? rc : sm_field_add(fields, n, max, "finished_at", "%s", finished);
  rc = rc ? rc : sm_field_add(fields, n, max, "quick", "%d", r->o->quick);
  rc = rc ? rc : sm_field_add(fields, n, max, "reps", "%u", r->reps);
  rc =
      rc ? rc : sm_field_add(fields, n, max, "duration_s", "%g", r->duration_s);
  rc = rc ? rc : sm_field_add(fields, n, max, "warmup_s", "%g", r->warmup_s);
  rc = rc ? rc : sm_field_add(fields, n, max, "threads", "%s", list);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "skipped_placements", "%s",
                         r->plan.skipped[0] ? r->plan.skipped : "none");
  rc = rc ? rc : sm_field_add(fields, n, max, "cases", "%zu", r->plan.ncases);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "skipped_cases", "%zu", r->nskipped);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "injected_delay", "%s",
                         r->inject_variant ? r->o->inject_into : "none");
  rc = rc ? rc
          : sm_field_add(fields, n, max, "injected_delay_ns", "%llu",
                         (unsigned long long)r->o->inject_delay_ns);
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
  rc = rc ? rc : sm_field_add(fields, n, max, "isolated", "%d", r->o->isolate);
  rc =
      rc ? rc : sm_field_add(fields, n, max, "watchdog_s", "%g", r->watchdog_s);
  rc = rc ? rc
          : sm_field_add(fields, n, max, "reps_completed", "%u", r->reps_done);
  rc = rc ? rc : sm_field_add(fields, n, max, "status", "%s", run_status(r));
  return rc;
}

/* Writes problems.csv: the cases that yielded no numbers, and why. */
static int write_problems(const struct run *r, const char *path) {
  return sm_outcome_write_problems(path, r->plan.cases, r->outcomes,
                                   r->plan.ncases);
}

/* Writes one result file of the run folder with `writer`, naming the file
 * in the error message on failure. */
static int write_one(const struct run *r, const char *name,
                     int (*writer)(const struct run *, const char *)) {
  char path[4200];
  int rc = sm_path_join(path, sizeof path, r->dir, name);
  if (rc == 0)
    rc = writer(r, path);
  if (rc != 0)
    fprintf(stderr, "syncmark: cannot write %s/%s: %s\n", r->dir, name,
            strerror(-rc));
  return rc;
}

static int write_raw(const struct run *r, const char *path) {
  return sm_results_write_raw(&r->results, r->plan.cases, path);
}

static int write_summary(const struct run *r, const char *path) {
  return sm_results_write_summary(&r->results, r->plan.cases, r->plan.ncases,
                                  path);
}

static int write_series(const struct run *r, const char *path) {
  return sm_results_write_series(&r->results, r->plan.cases, path);
}

/* Removes what a run whose files could not all be written left in its
 * folder, and the folder: a run folder is either whole or absent. */
static void discard_run_dir(const struct run *r) {
  static const char *const names[] = {"raw.csv",     "summary.csv",
                                      "series.csv",  "problems.csv",
                                      "gbench.json", "machine.csv"};
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
static int write_files(struct run *r, struct sm_field *fields, size_t n,
                       size_t max) {
  int rc = describe_run(r, fields, &n, max);
  if (rc == 0)
    rc = write_one(r, "raw.csv", write_raw);
  if (rc == 0)
    rc = write_one(r, "summary.csv", write_summary);
  if (rc == 0 && r->results.npoints > 0)
    rc = write_one(r, "series.csv", write_series);
  if (rc == 0 && r->nskipped + r->nfailed + r->nhung + r->ncrashed > 0)
    rc = write_one(r, "problems.csv", write_problems);
  char path[4200];
  if (rc == 0 && r->o->gbench_json) {
    rc = sm_path_join(path, sizeof path, r->dir, "gbench.json");
    if (rc == 0)
      rc = sm_gbench_write(path, r->plan.cases, r->plan.ncases, r->dropped,
                           &r->results, fields, n);
    if (rc != 0)
      fprintf(stderr, "syncmark: cannot write %s/gbench.json: %s\n", r->dir,
              strerror(-rc));
  }
  if (rc == 0 &&
      (rc = sm_path_join(path, sizeof path, r->dir, "machine.csv")) == 0 &&
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
static int finish(const struct run *r, int write_rc) {
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
            "syncmark: interrupted by %s after %zu of %zu repetitions "
            "(%u of %u of every case)%s\n",
            r->stopped_by == SIGINT ? "SIGINT" : "SIGTERM", r->runs_done,
            r->runs_total, r->reps_done, r->reps,
            write_rc == 0 ? "; the completed ones are written" : "");
    return 128 + r->stopped_by;
  }
  return write_rc != 0 || r->nfailed || r->nhung || r->ncrashed ? 1 : 0;
}

int sm_cmd_run(const struct sm_options *o) {
  struct run r = {.o = o};
  prepare(&r);
  int rc = sm_rundir_create(o->out_dir, r.dir, sizeof r.dir);
  if (rc != 0)
    sm_usage_error("--out: cannot create a run folder under '%s': %s (a "
                   "writable folder is needed)",
                   o->out_dir, strerror(-rc));
  now_iso(r.started_at, sizeof r.started_at);
  size_t max = SM_ENV_MAX_FIELDS(r.counts.allowed_pus) + 24, n = 0;
  struct sm_field *fields = calloc(max, sizeof *fields);
  if (!fields || sm_env_describe(r.topo, fields, &n, max) != 0) {
    fputs("syncmark: cannot describe this machine\n", stderr);
    return 1;
  }
  printf("syncmark run: %zu cases x %u reps, %g s windows after %g s warmup"
         "\nrunner overhead %s ns/op; clock overhead %s ns\n",
         r.plan.ncases, r.reps, r.duration_s, r.warmup_s,
         sm_field_get(fields, n, "runner_overhead_ns_per_op"),
         sm_field_get(fields, n, "clock_overhead_ns"));
  if (r.inject_variant)
    printf("injected: %llu ns of busy work in every operation of %s (this "
           "run is slowed down on purpose)\n",
           (unsigned long long)o->inject_delay_ns, o->inject_into);
  fflush(stdout);
  sm_interrupt_set_run_dir(r.dir);
  sm_interrupt_install();
  r.started_ns = sm_now_ns();
  execute(&r);
  sm_interrupt_hold();
  sm_table_print(stdout, r.plan.cases, r.plan.ncases, &r.results, r.outcomes);
  sm_noise_collect(fields, n, r.plan.cases, r.plan.ncases, &r.results,
                   r.dropped, &r.noise);
  for (size_t i = 0; i < r.noise.nlines; i++)
    printf("warning: %s\n", r.noise.lines[i]);
  rc = write_files(&r, fields, n, max);
  if (rc == 0)
    printf("results: %s\n", r.dir);
  fflush(stdout);
  int status = finish(&r, rc);
  sm_interrupt_release();
  if (!r.stopped_by && sm_interrupt_signal())
    status = 128 + sm_interrupt_signal(); /* arrived while files were
                                             written: they are whole */
  free(fields);
  free(r.dropped);
  free(r.outcomes);
  sm_results_free(&r.results);
  if (r.nhung == 0) /* an abandoned repetition may still read its case */
    sm_plan_free(&r.plan);
  sm_topology_free(r.topo);
  return status;
}
