/* across.c: the claims' verdicts per machine from the results database, as
 * one table with the machines described. */
#include "across.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

/* Builds the run view of one stored run and judges every claim on it. */
static int judge_machine(struct sm_db *db, struct sm_across_machine *m,
                         char *msg, size_t msg_size) {
  struct sm_csv_table summary, machine = {0}, problems = {0};
  int rc =
      sm_db_load_table(db, m->run.id, SM_DB_SUMMARY, &summary, msg, msg_size);
  if (rc == 0)
    rc =
        sm_db_load_table(db, m->run.id, SM_DB_MACHINE, &machine, msg, msg_size);
  if (rc == 0)
    rc = sm_db_load_table(db, m->run.id, SM_DB_PROBLEMS, &problems, msg,
                          msg_size);
  if (rc != 0) {
    sm_csv_table_free(&summary);
    sm_csv_table_free(&machine);
    sm_csv_table_free(&problems);
    return rc;
  }
  snprintf(m->view_label, sizeof m->view_label, "%s run %lld (%s)",
           sm_db_path(db), m->run.id, m->run.source);
  sm_machine_describe_line(&machine, m->description, sizeof m->description);
  const char *inj = sm_machine_value(&machine, "injected_delay");
  const char *ns = sm_machine_value(&machine, "injected_delay_ns");
  if (inj && strcmp(inj, "none") != 0)
    snprintf(m->injected, sizeof m->injected, "%s, %s ns", inj, ns ? ns : "?");
  rc = sm_run_view_from_tables(m->view_label, &summary, &machine, &problems,
                               &m->view, msg, msg_size);
  if (rc != 0)
    return rc;
  m->results = calloc(sm_nclaims, sizeof *m->results);
  if (!m->results) {
    snprintf(msg, msg_size, "out of memory");
    return -ENOMEM;
  }
  for (size_t c = 0; c < sm_nclaims; c++)
    sm_claim_judge(&sm_claims[c], &m->view, &m->results[c]);
  return 0;
}

int sm_across_load(struct sm_db *db, struct sm_across *out, char *msg,
                   size_t msg_size) {
  *out = (struct sm_across){0};
  struct sm_db_run *runs;
  size_t n;
  int rc = sm_db_latest_runs(db, &runs, &n, msg, msg_size);
  if (rc != 0)
    return rc;
  out->machines = calloc(n ? n : 1, sizeof *out->machines);
  if (!out->machines) {
    free(runs);
    snprintf(msg, msg_size, "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct sm_across_machine *m = &out->machines[i];
    out->n++;
    m->run = runs[i];
    snprintf(m->label, sizeof m->label, "M%zu", i + 1);
    rc = judge_machine(db, m, msg, msg_size);
  }
  free(runs);
  if (rc != 0)
    sm_across_free(out);
  return rc;
}

void sm_across_free(struct sm_across *a) {
  for (size_t i = 0; i < a->n; i++) {
    sm_run_view_free(&a->machines[i].view);
    free(a->machines[i].results);
  }
  free(a->machines);
  *a = (struct sm_across){0};
}

/* Prints the machines, one line each. */
static void print_machines(FILE *out, const struct sm_across *a,
                           const char *item, const char *code) {
  for (size_t i = 0; i < a->n; i++) {
    const struct sm_across_machine *m = &a->machines[i];
    fprintf(out,
            "%s%s = machine %s%s%s: %s; run %lld %s%s%s (host %s, started "
            "%s, commit %s, status %s)%s%s%s\n",
            item, m->label, code, m->run.machine_id, code, m->description,
            m->run.id, code, m->run.source, code, m->run.hostname,
            m->run.started_at, m->run.git_commit, m->run.status,
            m->injected[0] ? "; SLOWED DOWN ON PURPOSE (" : "", m->injected,
            m->injected[0] ? ")" : "");
  }
}

void sm_across_print(FILE *out, const struct sm_across *a,
                     const char *db_path) {
  fprintf(out,
          "syncmark report --across %s: the lesson's claims on %zu "
          "machine(s), each judged on its latest run\n\n",
          db_path, a->n);
  fprintf(out, "%-5s", "claim");
  for (size_t i = 0; i < a->n; i++)
    fprintf(out, " %-14s", a->machines[i].label);
  fputs(" the lesson says\n", out);
  for (size_t c = 0; c < sm_nclaims; c++) {
    fprintf(out, "%-5s", sm_claims[c].id);
    for (size_t i = 0; i < a->n; i++)
      fprintf(out, " %-14s",
              sm_claim_verdict_name(a->machines[i].results[c].verdict));
    fprintf(out, " %s\n", sm_claims[c].claim);
  }
  fputc('\n', out);
  print_machines(out, a, "", "");
  fputs("\nThe rules and the numbers behind each verdict: syncmark report "
        "RUN_DIR on a run folder (REPORT.md).\n",
        out);
}

void sm_across_markdown(FILE *out, const struct sm_across *a,
                        const char *db_path) {
  fprintf(out,
          "# syncmark: the lesson's claims across machines\n\n"
          "From `%s`: each machine judged on its latest run, with the rules "
          "of `syncmark report` (\"beats\" means the 95%% confidence "
          "intervals of the two medians do not overlap).\n\n"
          "| claim | the lesson says |",
          db_path);
  for (size_t i = 0; i < a->n; i++)
    fprintf(out, " %s |", a->machines[i].label);
  fputs("\n|---|---|", out);
  for (size_t i = 0; i < a->n; i++)
    fputs("---|", out);
  fputc('\n', out);
  for (size_t c = 0; c < sm_nclaims; c++) {
    fprintf(out, "| %s | %s |", sm_claims[c].id, sm_claims[c].claim);
    for (size_t i = 0; i < a->n; i++)
      fprintf(out, " **%s** |",
              sm_claim_verdict_name(a->machines[i].results[c].verdict));
    fputc('\n', out);
  }
  fputs("\n## Machines\n\n", out);
  print_machines(out, a, "- ", "`");
}
