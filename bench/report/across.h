/* across.h: the lesson's claims judged on several machines side by side,
 * each from the rows of its latest run in the results database. */
#ifndef SYNCMARK_BENCH_ACROSS_H
#define SYNCMARK_BENCH_ACROSS_H

#include <stdio.h>

#include "claims.h"
#include "db.h"
#include "runview.h"

/* One machine: its latest run, read back from the database as a run view,
 * and the claims' verdicts on it. */
struct sm_across_machine {
  char label[24];        /* "M1", "M2", ... */
  char view_label[640];  /* the view's name: "<db> run N (<host>/<stamp>)" */
  char description[640]; /* sm_machine_describe_line */
  char injected[160];    /* "FAMILY/VARIANT, N ns" or "" */
  struct sm_db_run run;
  struct sm_run_view view;
  struct sm_claim_result *results; /* sm_nclaims */
};

/* Every machine of a database. */
struct sm_across {
  struct sm_across_machine *machines;
  size_t n;
};

/* Judges every claim on the latest run of every machine of the database,
 * from the summary, machine and problems rows stored for that run (the
 * rules of `syncmark report`). Returns 0 (n may be 0), or -EIO, -ENOMEM,
 * -EINVAL (a stored summary of another layout) with msg. */
int sm_across_load(struct sm_db *db, struct sm_across *out, char *msg,
                   size_t msg_size);

/* Frees what sm_across_load built. */
void sm_across_free(struct sm_across *a);

/* Prints the verdict table (one row per claim, one column per machine)
 * and the machines' descriptions as plain text. Never fails. */
void sm_across_print(FILE *out, const struct sm_across *a, const char *db_path);

/* Writes the same as GitHub-renderable Markdown. Never fails. */
void sm_across_markdown(FILE *out, const struct sm_across *a,
                        const char *db_path);

#endif
