/* cmd_report.c: `syncmark report RUN_DIR`: writes RUN_DIR/REPORT.md and
 * prints the claims' verdicts; `syncmark report --across DB`: the verdicts
 * of every machine in a results database side by side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "across.h"
#include "claims.h"
#include "db.h"
#include "options.h"
#include "report.h"
#include "rundir.h"

/* Writes the --across table as Markdown to --markdown's file. Returns 0,
 * or 1 when out of memory; exits 2 when the file cannot be written. */
static int save_markdown(const struct sm_options *o, const struct sm_across *a,
                         const char *db_path) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) {
    fputs("syncmark: report: out of memory\n", stderr);
    return 1;
  }
  sm_across_markdown(mem, a, db_path);
  fclose(mem);
  int rc = sm_file_write_atomic(o->markdown, text, len);
  free(text);
  if (rc != 0)
    sm_usage_error("--markdown: cannot write '%s': %s (a writable file "
                   "path)",
                   o->markdown, strerror(-rc));
  return 0;
}

/* `report --across DB`: the table of verdicts per machine. */
static int report_across(const struct sm_options *o) {
  if (o->nargs != 0)
    sm_usage_error("report: --across takes no RUN_DIR (%zu given); the runs "
                   "come from the database",
                   o->nargs);
  struct sm_db *db;
  char msg[1024];
  if (sm_db_open(o->across, SM_DB_READ, &db, msg, sizeof msg) != 0)
    sm_usage_error("report: %s", msg);
  struct sm_across a;
  if (sm_across_load(db, &a, msg, sizeof msg) != 0) {
    fprintf(stderr, "syncmark: report: %s\n", msg);
    sm_db_close(db);
    return 1;
  }
  if (a.n == 0)
    sm_usage_error("report: %s holds no run (syncmark collect RUN_DIR --db "
                   "%s adds one)",
                   o->across, o->across);
  int status = o->markdown ? save_markdown(o, &a, o->across) : 0;
  sm_across_print(stdout, &a, o->across);
  if (o->markdown)
    printf("markdown: %s\n", o->markdown);
  sm_across_free(&a);
  sm_db_close(db);
  return status;
}

int sm_cmd_report(const struct sm_options *o) {
  if (o->across)
    return report_across(o);
  if (o->markdown)
    sm_usage_error("report: --markdown applies to report --across DB only "
                   "(report RUN_DIR writes RUN_DIR/REPORT.md)");
  if (o->nargs != 1)
    sm_usage_error("report: %zu argument(s) given (allowed: exactly one run "
                   "folder)",
                   o->nargs);
  struct sm_run_view view;
  char msg[768], path[4200];
  if (sm_run_view_load(o->args[0], &view, msg, sizeof msg) != 0)
    sm_usage_error("report: %s", msg);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) {
    fputs("syncmark: report: out of memory\n", stderr);
    return 1;
  }
  sm_report_write(mem, &view);
  fclose(mem);
  int rc = sm_path_join(path, sizeof path, o->args[0], SM_RUN_REPORT);
  if (rc == 0)
    rc = sm_file_write_atomic(path, text, len);
  free(text);
  if (rc != 0) {
    fprintf(stderr, "syncmark: cannot write %s/REPORT.md: %s\n", o->args[0],
            strerror(-rc));
    sm_run_view_free(&view);
    return 1;
  }
  for (size_t i = 0; i < sm_nclaims; i++) {
    struct sm_claim_result r, rust;
    sm_claim_judge(&sm_claims[i], &view, &r);
    printf("%-4s %-14s %s\n", sm_claims[i].id, sm_claim_verdict_name(r.verdict),
           sm_claims[i].claim);
    if (!sm_claims[i].judge_rust)
      continue;
    sm_claim_judge_rust(&sm_claims[i], &view, &rust);
    char agreement[96];
    sm_claim_agreement(&r, &rust, agreement, sizeof agreement);
    printf("     %-14s Rust std (%s)%s%s\n",
           sm_claim_verdict_name(rust.verdict), sm_claims[i].rust_variants,
           agreement[0] ? ": " : "", agreement);
  }
  printf("report: %s\n", path);
  sm_run_view_free(&view);
  return 0;
}
