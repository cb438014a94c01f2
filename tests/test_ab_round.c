/* test_ab_round.c: one round of `syncmark ab` reduced to one median row
 * per case and metric (bench/cli/ab_round.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ab_round.h"

/* Reads `text` as a CSV table into *t (through a temporary file). */
static void table_of(const char *text, struct sm_csv_table *t) {
  char path[] = "/tmp/syncmark-test-ab-round.XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  cr_assert_eq(sm_csv_read(path, t), 0);
  unlink(path);
}

/* The row of `t` whose metric column (2) is `metric`, or NULL. */
static char **row_of(const struct sm_csv_table *t, const char *metric) {
  for (size_t r = 0; r < t->nrows; r++)
    if (strcmp(t->rows[r][2], metric) == 0)
      return t->rows[r];
  return NULL;
}

Test(ab_round, each_case_and_metric_becomes_its_median) {
  struct sm_csv_table t;
  table_of("benchmark,rep,metric,value\n"
           "c,1,ops,10\n"
           "c,1,ns,5\n"
           "c,2,ops,30\n"
           "c,2,ns,nan\n"
           "c,3,ops,20\n"
           "c,3,ns,7\n"
           "c,1,flag,\n",
           &t);
  cr_assert_eq(sm_ab_round_medians(&t, 4), 0);
  cr_assert_eq(t.nrows, 3);
  char **ops = row_of(&t, "ops"), **ns = row_of(&t, "ns"),
       **flag = row_of(&t, "flag");
  cr_assert(ops && ns && flag);
  cr_assert_float_eq(strtod(ops[3], NULL), 20, 1e-12, "median of 10 30 20");
  /* nan left out: the median of 5 and 7 */
  cr_assert_float_eq(strtod(ns[3], NULL), 6, 1e-12);
  cr_assert_str_eq(flag[3], "nan", "no number: nan, never 0");
  cr_assert_str_eq(ops[1], "4");
  cr_assert_str_eq(flag[1], "4");
  sm_csv_table_free(&t);
}

Test(ab_round, cases_that_differ_in_any_column_stay_apart) {
  struct sm_csv_table t;
  table_of("benchmark,rep,metric,value\n"
           "a,1,ops,1\n"
           "b,1,ops,2\n"
           "a,2,ops,3\n",
           &t);
  cr_assert_eq(sm_ab_round_medians(&t, 1), 0);
  cr_assert_eq(t.nrows, 2);
  double a = 0, b = 0;
  for (size_t r = 0; r < t.nrows; r++)
    *(strcmp(t.rows[r][0], "a") == 0 ? &a : &b) = strtod(t.rows[r][3], NULL);
  cr_assert_float_eq(a, 2, 1e-12);
  cr_assert_float_eq(b, 2, 1e-12);
  sm_csv_table_free(&t);
}

Test(ab_round, a_table_without_rep_or_value_is_refused_untouched) {
  struct sm_csv_table t;
  table_of("benchmark,metric,value\n"
           "a,ops,1\n"
           "a,ops,3\n",
           &t);
  cr_assert_eq(sm_ab_round_medians(&t, 1), -EINVAL);
  cr_assert_eq(t.nrows, 2);
  cr_assert_str_eq(t.rows[1][2], "3");
  sm_csv_table_free(&t);
}
