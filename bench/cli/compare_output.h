/* compare_output.h: the table and Markdown of a comparison, shared by
 * `syncmark compare` and `syncmark ab`. */
#ifndef SYNCMARK_BENCH_COMPARE_OUTPUT_H
#define SYNCMARK_BENCH_COMPARE_OUTPUT_H

#include <stddef.h>

#include "compare.h"
#include "options.h"

/* What the output says about how the comparison was made. */
struct sm_compare_report {
  const char *command;     /* "compare" or "ab" */
  const char *labels[2];   /* the base and the current run */
  const char *test;        /* the test in words, e.g. "two-sided Mann-Whitney
                              U on the repetitions" */
  const char *reps_name;   /* what a row's values are: "repetitions" */
  size_t min_reps;         /* fewer values per row cannot reach p < 0.05:
                              a note says so */
  const char *differences; /* how the machines differ, "" when they match */
};

/* Describes how the machines of two runs differ into buf ("" when they
 * match or cannot be told apart): the machine.csv keys that must match,
 * the drift probes' medians (more than 5 % apart) and the pair probes'
 * (more than 25 %). */
void sm_machine_differences(const struct sm_run_rows *a,
                            const struct sm_run_rows *b, char *buf,
                            size_t size);

/* Prints the header lines, the table (regressions first; every row with
 * --all) and the counts of a comparison to stdout. */
void sm_compare_print(const struct sm_options *o,
                      const struct sm_compare_report *rep,
                      const struct sm_comparison *c);

/* Writes the comparison as Markdown to the file of --markdown (whole or
 * not at all). Returns 0 or -ENOMEM; exits 2 when the file cannot be
 * written. */
int sm_compare_save_markdown(const struct sm_options *o,
                             const struct sm_compare_report *rep,
                             const struct sm_comparison *c);

/* Prints the comparison, writes --markdown, frees the comparison and both
 * runs, and returns the exit status: 1 when a row regressed, else 0 (a
 * Markdown file that cannot be written exits 2). */
int sm_compare_finish(const struct sm_options *o,
                      const struct sm_compare_report *rep,
                      struct sm_comparison *c, struct sm_run_rows *base,
                      struct sm_run_rows *current);

#endif
