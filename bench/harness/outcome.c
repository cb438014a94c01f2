/* outcome.c: case outcomes and the problems.csv writer. */
#include "outcome.h"

#include <stdio.h>

#include "syncmark/csv.h"

enum sm_outcome_kind sm_outcome_of_status(int status) {
  if (status == 0)
    return SM_OUTCOME_OK;
  return status == SM_MEASURE_SKIP ? SM_OUTCOME_SKIPPED : SM_OUTCOME_FAILED;
}

const char *sm_outcome_name(enum sm_outcome_kind kind) {
  static const char *const names[] = {"ok", "skipped", "failed", "timed_out",
                                      "crashed"};
  return kind <= SM_OUTCOME_CRASHED ? names[kind] : "?";
}

int sm_outcome_write_problems(const char *path, const struct sm_case *cases,
                              const struct sm_outcome *outcomes, size_t n) {
  struct sm_csv_writer *w = NULL;
  int rc = sm_csv_open(path, SM_CSV_PROBLEMS_HEADER, &w);
  for (size_t c = 0; c < n && rc == 0; c++) {
    const struct sm_outcome *o = &outcomes[c];
    if (o->kind == SM_OUTCOME_OK || !o->reason[0])
      continue;
    char threads[16], rep[16], elapsed[40];
    snprintf(threads, sizeof threads, "%u", cases[c].threads);
    snprintf(rep, sizeof rep, "%u", o->rep);
    sm_csv_format_double(o->elapsed_s, elapsed, sizeof elapsed);
    const char *fields[] = {cases[c].family->name,
                            cases[c].variant->name,
                            cases[c].params,
                            threads,
                            cases[c].placement_name,
                            rep,
                            sm_outcome_name(o->kind),
                            elapsed,
                            o->reason};
    rc = sm_csv_write_row(w, fields, sizeof fields / sizeof fields[0]);
  }
  if (rc != 0) {
    if (w)
      sm_csv_abort(w);
    return rc;
  }
  return sm_csv_commit(w);
}
