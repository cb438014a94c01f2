/* cmd_report.c: `syncmark report RUN_DIR`: writes RUN_DIR/REPORT.md and
 * prints the claims' verdicts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "options.h"
#include "report.h"
#include "rundir.h"

int sm_cmd_report(const struct sm_options *o) {
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
    struct sm_claim_result r;
    sm_claim_judge(&sm_claims[i], &view, &r);
    printf("%-4s %-14s %s\n", sm_claims[i].id, sm_claim_verdict_name(r.verdict),
           sm_claims[i].claim);
  }
  printf("report: %s\n", path);
  sm_run_view_free(&view);
  return 0;
}
