/* cmd_compare.c: `syncmark compare BASE CURRENT` (or `--baseline NAME
 * CURRENT`, BASE from the results database): the rows of two runs side by
 * side, regressions first, as a table and optionally Markdown. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "compare_output.h"
#include "db.h"
#include "options.h"
#include "rundir.h"
#include "table.h"

/* Loads one of the two runs or exits 2 with the loader's message. */
static void load_or_exit(const char *path, struct sm_run_rows *run) {
  char msg[768];
  if (sm_run_rows_load(path, run, msg, sizeof msg) != 0)
    sm_usage_error("compare: %s", msg);
}

/* Loads baseline `name` from the database into *run (its raw rows and
 * machine fields as stored) and names it in label; exits 2 when the
 * database or the baseline is not there. */
static void load_baseline(const struct sm_options *o, struct sm_run_rows *run,
                          char *label, size_t size) {
  struct sm_db *db;
  char msg[1024];
  const char *path = sm_options_db(o);
  if (sm_db_open(path, SM_DB_READ, &db, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  struct sm_db_run r;
  if (sm_db_get_baseline(db, o->baseline, &r, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  snprintf(label, size, "baseline %s (run %lld, %s, commit %s)", o->baseline,
           r.id, r.source, r.git_commit);
  struct sm_csv_table raw, machine;
  if (sm_db_load_table(db, r.id, SM_DB_RAW, &raw, msg, sizeof msg) != 0 ||
      sm_db_load_table(db, r.id, SM_DB_MACHINE, &machine, msg, sizeof msg) != 0)
    sm_usage_error("compare: --baseline: %s", msg);
  if (sm_run_rows_from_tables(label, &raw, &machine, run, msg, sizeof msg) != 0)
    sm_usage_error("compare: %s", msg);
  sm_db_close(db);
}

int sm_cmd_compare(const struct sm_options *o) {
  if (o->baseline && o->nargs != 1)
    sm_usage_error("compare: %zu argument(s) given with --baseline (allowed: "
                   "exactly one, CURRENT, a run folder or a raw.csv file)",
                   o->nargs);
  if (!o->baseline && o->db)
    sm_usage_error("compare: --db applies with --baseline NAME only");
  if (!o->baseline && o->nargs != 2)
    sm_usage_error("compare: %zu argument(s) given (allowed: exactly two, "
                   "BASE and CURRENT, each a run folder or a raw.csv file)",
                   o->nargs);
  struct sm_run_rows base, current;
  char base_label[768];
  const char *labels[2] = {base_label, o->args[o->nargs - 1]};
  if (o->baseline)
    load_baseline(o, &base, base_label, sizeof base_label);
  else {
    load_or_exit(o->args[0], &base);
    snprintf(base_label, sizeof base_label, "%s", o->args[0]);
  }
  load_or_exit(o->args[o->nargs - 1], &current);
  struct sm_compare_opts opts = {.threshold = o->threshold, .alpha = o->alpha};
  struct sm_comparison c;
  if (sm_compare_groups(base.groups, base.ngroups, current.groups,
                        current.ngroups, &opts, &c) != 0) {
    fputs("syncmark: compare: out of memory\n", stderr);
    return 1;
  }
  if (c.count[SM_ONLY_BASE] + c.count[SM_ONLY_CURRENT] == c.nrows)
    sm_usage_error("compare: %s and %s have no rows in common (rows match "
                   "by benchmark, variant, params, threads, placement and "
                   "metric)",
                   base.raw_path, current.raw_path);
  char differences[1024];
  sm_machine_differences(&base, &current, differences, sizeof differences);
  struct sm_compare_report rep = {
      .command = "compare",
      .labels = {labels[0], labels[1]},
      .test = "two-sided Mann-Whitney U test on its repetitions",
      .reps_name = "repetitions",
      .min_reps = 4,
      .differences = differences};
  return sm_compare_finish(o, &rep, &c, &base, &current);
}
