/* execute.c: the repetitions of a run: interleaved over cases, under the
 * watchdog, one child process per repetition of an isolated family and
 * optionally one per family (--isolate), with every case's outcome
 * recorded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interrupt.h"
#include "isolate.h"
#include "run.h"
#include "runner.h"
#include "sampling.h"
#include "syncmark/clock.h"

/* Shows a progress line on stderr when it is a terminal: the round, the
 * case, elapsed time and what is left of the budget. */
static void progress(const struct sm_run *r, unsigned rep, size_t c) {
  static int tty = -1;
  if (tty < 0)
    tty = isatty(STDERR_FILENO);
  if (!tty)
    return;
  double elapsed = (double)(sm_now_ns() - r->started_ns) / 1e9;
  char label[96], left[48] = "";
  if (r->budget_s > 0)
    snprintf(left, sizeof left, ", budget %.0f s", r->budget_s);
  fprintf(stderr,
          "\r\033[K%s %s threads=%u  rep %u (%u to %u)  case %zu/%zu  %.0f s "
          "elapsed%s",
          sm_case_label(&r->plan.cases[c], label, sizeof label),
          r->plan.cases[c].params, r->plan.cases[c].threads, rep,
          r->cfg->rule.min_reps, r->cfg->rule.max_reps, c + 1, r->plan.ncases,
          elapsed, left);
}

/* Clears the progress line, if one was shown. */
static void progress_done(void) {
  if (isatty(STDERR_FILENO))
    fputs("\r\033[K", stderr);
}

/* Records that case c yields no numbers: its outcome and why (an empty
 * reason: a silent skip, the case does not apply). Returns true when the
 * outcome is worth a line to the user. */
static bool record_outcome(struct sm_run *r, size_t c,
                           enum sm_outcome_kind kind, unsigned rep,
                           uint64_t elapsed_ns, const char *reason) {
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
static void drop_case(struct sm_run *r, size_t c, enum sm_outcome_kind kind,
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
static void report(const struct sm_run *r, const struct sm_record *rec) {
  if (r->report_fd >= 0 && sm_record_send(r->report_fd, rec) != 0)
    _exit(1);
}

/* Copies a row's metric (or series) and unit names into a record. */
static void name_record(struct sm_record *rec, const char *metric,
                        const char *unit) {
  snprintf(rec->metric, sizeof rec->metric, "%s", metric);
  snprintf(rec->unit, sizeof rec->unit, "%s", unit);
}

/* In an isolated child, sends what the repetition of case c added (rows
 * from index `rows`, points from `points`) and its outcome if it has one. */
static void report_repetition(const struct sm_run *r, size_t c, size_t rows,
                              size_t points) {
  if (r->report_fd < 0)
    return;
  for (size_t i = rows; i < r->results.nrows; i++) {
    const struct sm_raw_row *row = &r->results.rows[i];
    struct sm_record rec = {.kind = SM_RECORD_ROW,
                            .case_index = row->case_index,
                            .rep = row->rep,
                            .value = row->value};
    name_record(&rec, row->metric, row->unit);
    report(r, &rec);
  }
  for (size_t i = points; i < r->results.npoints; i++) {
    const struct sm_series_point *p = &r->results.points[i];
    struct sm_record rec = {.kind = SM_RECORD_POINT,
                            .case_index = p->case_index,
                            .rep = p->rep,
                            .value = p->value,
                            .t_s = p->t_s};
    name_record(&rec, p->series, p->unit);
    report(r, &rec);
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
static void run_repetition(struct sm_run *r, const struct sm_window_config *cfg,
                           size_t c, unsigned rep) {
  char msg[256];
  uint64_t elapsed = 0;
  size_t rows = r->results.nrows, points = r->results.npoints;
  report(r, &(struct sm_record){
                .kind = SM_RECORD_BEGIN, .case_index = c, .rep = rep});
  int err = 0;
  enum sm_outcome_kind kind = sm_runner_repetition_bounded(
      cfg, &r->plan.cases[c], c, rep, &r->results,
      sm_seconds_to_ns(r->cfg->watchdog_s), &elapsed, &err, msg, sizeof msg);
  if (kind != SM_OUTCOME_OK)
    drop_case(r, c, kind, rep, elapsed, err, msg);
  report_repetition(r, c, rows, points);
}

static void run_repetition_isolated(struct sm_run *r,
                                    const struct sm_window_config *cfg,
                                    size_t c, unsigned rep);

/* The metric whose precision decides case c's repetitions: its family's
 * headline (ops_per_s for a window family without one). */
static const char *headline_of(const struct sm_case *c) {
  return c->family->headline_metric ? c->family->headline_metric : "ops_per_s";
}

size_t sm_run_headline_values(const struct sm_run *r, size_t c, double *out,
                              size_t cap) {
  const char *metric = headline_of(&r->plan.cases[c]);
  size_t n = 0;
  for (size_t i = 0; i < r->results.nrows && n < cap; i++) {
    const struct sm_raw_row *row = &r->results.rows[i];
    if (row->case_index == c && strcmp(row->metric, metric) == 0)
      out[n++] = row->value;
  }
  return n;
}

/* True when case c is to get another repetition under the run's rule. */
static bool wants_more(const struct sm_run *r, size_t c) {
  double values[SM_MAX_REPS];
  size_t n = sm_run_headline_values(r, c, values, SM_MAX_REPS);
  return sm_precision_wants_more(&r->cfg->rule, r->case_reps[c], values, n);
}

/* True when one more repetition of case c, expected to take as long as
 * its repetitions so far did on average, ends within what the run may
 * spend now (r->budget_s). */
static bool fits_budget(const struct sm_run *r, size_t c) {
  double elapsed = (double)(sm_now_ns() - r->started_ns) / 1e9;
  double next = r->case_reps[c] ? r->case_s[c] / r->case_reps[c]
                                : r->cfg->warmup_s + r->cfg->duration_s;
  struct sm_precision_rule rule = r->cfg->rule;
  rule.budget_s = r->budget_s;
  return sm_precision_fits_budget(&rule, elapsed, next);
}

/* True when repetition `rep` of case c recorded itself disturbed. */
static bool disturbed(const struct sm_run *r, size_t c, unsigned rep) {
  for (size_t i = r->results.nrows; i-- > 0;) {
    const struct sm_raw_row *row = &r->results.rows[i];
    if (row->case_index == c && row->rep == rep &&
        strcmp(row->metric, "disturbed") == 0)
      return row->value > 0;
    if (row->case_index == c && row->rep < rep)
      return false; /* past this repetition's rows */
  }
  return false;
}

/* Runs repetition `rep` of case c (in a child process of its own when
 * `per_child`) and books it: its wall time, and either one repetition more
 * for the case or, when it recorded itself disturbed and the run has a
 * precision target, one retake (the rows stay; up to SM_RETAKE_LIMIT per
 * case). Never fails: a problem is the case's outcome. */
static void run_and_book(struct sm_run *r, const struct sm_window_config *cfg,
                         size_t c, unsigned rep, int per_child) {
  progress(r, rep, c);
  uint64_t t0 = sm_now_ns();
  if (per_child)
    run_repetition_isolated(r, cfg, c, rep);
  else
    run_repetition(r, cfg, c, rep);
  r->case_s[c] += (double)(sm_now_ns() - t0) / 1e9;
  r->runs_done++;
  if (r->cfg->rule.target > 0 && disturbed(r, c, rep) &&
      r->case_retakes[c] < SM_RETAKE_LIMIT) {
    r->case_retakes[c]++; /* kept, counted, and taken again */
    r->retakes++;
  } else {
    r->case_reps[c]++;
  }
}

/* Runs the repetitions of cases [lo, hi) in rounds, each round one
 * repetition of every case the rule still wants more of (interleaved, so
 * that drift of the machine hits every case alike), until none does, the
 * budget is spent or a signal stops the run; each repetition in a child
 * process of its own when `per_child` (an isolated family). A case's first
 * repetition always runs; a later one only when it fits the budget. A
 * repetition that recorded itself disturbed stays in the results and is
 * retaken (it does not count toward the rule) up to SM_RETAKE_LIMIT times
 * per case, unless the count is fixed (--reps). A case that is skipped, fails,
 * hangs or crashes is dropped. */
static void execute_batch(struct sm_run *r, const struct sm_window_config *cfg,
                          size_t lo, size_t hi, int per_child) {
  unsigned rounds = r->cfg->rule.max_reps + SM_RETAKE_LIMIT;
  for (unsigned rep = 1; rep <= rounds && !r->stopped_by; rep++) {
    size_t ran = 0;
    for (size_t c = lo; c < hi; c++) {
      if ((r->stopped_by = sm_interrupt_signal()) != 0)
        break;
      if (r->dropped[c] || !wants_more(r, c))
        continue;
      if (r->case_reps[c] > 0 && !fits_budget(r, c)) {
        r->budget_spent = true;
        continue;
      }
      run_and_book(r, cfg, c, rep, per_child);
      ran++;
    }
    if (ran == 0)
      break;
    if (!r->stopped_by)
      r->reps_done = rep;
  }
}

/* Applies one record of an isolated child to the run; *running tracks the
 * repetition in progress (case index, or SIZE_MAX). */
static void apply_record(struct sm_run *r, const struct sm_record *rec,
                         size_t *running, unsigned *running_rep) {
  int named = rec->kind == SM_RECORD_ROW || rec->kind == SM_RECORD_POINT;
  const char *metric = named ? sm_intern(rec->metric) : NULL;
  const char *unit = named ? sm_intern(rec->unit) : NULL;
  switch (rec->kind) {
  case SM_RECORD_BEGIN:
    *running = rec->case_index;
    *running_rep = rec->rep;
    break;
  case SM_RECORD_ROW:
    if (metric && unit)
      sm_results_add(&r->results, rec->case_index, rec->rep, metric, unit,
                     rec->value);
    break;
  case SM_RECORD_POINT:
    if (metric && unit)
      sm_results_add_point(&r->results, rec->case_index, rec->rep, metric, unit,
                           rec->t_s, rec->value);
    break;
  case SM_RECORD_OUTCOME:
    record_outcome(r, rec->case_index, (enum sm_outcome_kind)rec->outcome,
                   rec->rep, rec->elapsed_ns, rec->reason);
    break;
  case SM_RECORD_STATE:
    *running = SIZE_MAX;
    r->reps_done = rec->reps_done;
    r->runs_done += rec->runs_done;
    r->retakes += rec->retakes;
    r->stopped_by = rec->stopped_by;
    break;
  }
}

/* Takes the records of the isolated child `pid` from fd until the child
 * closes it, then reaps the child; a child that died during a repetition
 * marks that repetition's case as crashed. */
static void collect_child(struct sm_run *r, pid_t pid, int fd) {
  struct sm_record rec;
  size_t running = SIZE_MAX;
  unsigned running_rep = 0;
  while (sm_record_receive(fd, &rec) == 1)
    apply_record(r, &rec, &running, &running_rep);
  close(fd);
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

/* Forks a child process that reports to the parent through a pipe; in the
 * child (return 0) r->report_fd is the pipe's end. Returns the child's pid
 * to the parent with *fd set, or -1 when no child could be started (said
 * on stderr: the caller runs the work itself). */
static pid_t fork_reporting_child(struct sm_run *r, int *fd) {
  int fds[2];
  fflush(NULL);
  pid_t pid = pipe(fds) == 0 ? fork() : -1;
  if (pid == 0) {
    close(fds[0]);
    r->report_fd = fds[1];
    return 0;
  }
  if (pid < 0) {
    fprintf(stderr,
            "syncmark: cannot start an isolated process (%s); "
            "running in this one\n",
            strerror(errno));
    return -1;
  }
  close(fds[1]);
  *fd = fds[0];
  return pid;
}

/* Runs cases [lo, hi) in a child process (--isolate) and takes its
 * results; a child that dies marks the case it was running as crashed. */
static void execute_isolated(struct sm_run *r,
                             const struct sm_window_config *cfg, size_t lo,
                             size_t hi) {
  int fd;
  pid_t pid = fork_reporting_child(r, &fd);
  if (pid == 0) {
    r->runs_done = 0;
    r->retakes = 0;
    execute_batch(r, cfg, lo, hi, 0);
    report(r, &(struct sm_record){.kind = SM_RECORD_STATE,
                                  .reps_done = r->reps_done,
                                  .runs_done = r->runs_done,
                                  .retakes = r->retakes,
                                  .stopped_by = r->stopped_by});
    _exit(0);
  }
  if (pid < 0) {
    execute_batch(r, cfg, lo, hi, 0);
    return;
  }
  collect_child(r, pid, fd);
}

/* Runs repetition `rep` of case c in a child process of its own (a family
 * that is isolated by design: threads its repetition leaves behind, e.g.
 * deadlocked ones, end with the child) and takes its rows and outcome; a
 * child that dies marks the case as crashed. The run's counters stay the
 * caller's. */
static void run_repetition_isolated(struct sm_run *r,
                                    const struct sm_window_config *cfg,
                                    size_t c, unsigned rep) {
  int fd;
  pid_t pid = fork_reporting_child(r, &fd);
  if (pid == 0) {
    run_repetition(r, cfg, c, rep);
    report(r, &(struct sm_record){.kind = SM_RECORD_STATE,
                                  .reps_done = r->reps_done,
                                  .stopped_by = r->stopped_by});
    _exit(0);
  }
  if (pid < 0)
    run_repetition(r, cfg, c, rep);
  else
    collect_child(r, pid, fd);
}

/* The window configuration every repetition of run r uses. */
static struct sm_window_config window_config(const struct sm_run *r) {
  return (struct sm_window_config){
      .warmup_ns = sm_seconds_to_ns(r->cfg->warmup_s),
      .duration_ns = sm_seconds_to_ns(r->cfg->duration_s),
      .topo = r->cfg->topo,
      .quick = r->cfg->o->quick,
      .inject_variant = r->cfg->inject_variant,
      .inject_iters = r->cfg->inject_iters,
      .hang_variant = r->cfg->hang_variant,
      .crash_variant = r->cfg->crash_variant,
      .overhead_ns = r->overhead_ns,
      .counters = r->cfg->counters.n ? &r->cfg->counters : NULL};
}

void sm_run_execute(struct sm_run *r) {
  struct sm_window_config cfg = window_config(r);
  r->report_fd = -1;
  /* Cases come grouped by family. A family that must be isolated (its
   * variants may deadlock or crash by design) runs each repetition in a
   * child process of its own; under --isolate every other family runs in
   * one child process of its own; the cases between such families run
   * here, their repetitions interleaved. */
  for (size_t lo = 0; lo < r->plan.ncases && !r->stopped_by;) {
    size_t hi = lo + 1;
    const struct sm_family *f = r->plan.cases[lo].family;
    int isolated = r->cfg->o->isolate || f->isolated;
    while (hi < r->plan.ncases &&
           (isolated ? r->plan.cases[hi].family == f
                     : !r->plan.cases[hi].family->isolated))
      hi++;
    if (f->isolated) {
      execute_batch(r, &cfg, lo, hi, 1);
    } else if (isolated) {
      execute_isolated(r, &cfg, lo, hi);
      if (!r->stopped_by)
        r->stopped_by = sm_interrupt_signal();
    } else {
      execute_batch(r, &cfg, lo, hi, 0);
    }
    lo = hi;
  }
  progress_done();
  sm_results_drop_cases(&r->results, r->dropped);
}

size_t sm_run_execute_round(struct sm_run *r, const bool *wanted,
                            unsigned max_reps) {
  struct sm_window_config cfg = window_config(r);
  size_t ran = 0;
  for (size_t c = 0; c < r->plan.ncases && !r->stopped_by; c++) {
    if ((r->stopped_by = sm_interrupt_signal()) != 0)
      break;
    if (!wanted[c] || r->dropped[c] || r->case_reps[c] >= max_reps)
      continue;
    if (!fits_budget(r, c)) {
      r->budget_spent = true;
      continue;
    }
    unsigned rep = r->case_reps[c] + r->case_retakes[c] + 1;
    run_and_book(r, &cfg, c, rep, r->plan.cases[c].family->isolated);
    ran++;
  }
  progress_done();
  sm_results_drop_cases(&r->results, r->dropped);
  return ran;
}
