/* ab_round.h: reduces one round of `syncmark ab` (a child run's raw.csv
 * rows) to one value per case and metric: the median of the round's
 * repetitions, so the paired test compares rounds, not repetitions. */
#ifndef SYNCMARK_AB_ROUND_H
#define SYNCMARK_AB_ROUND_H

#include "syncmark/csv.h"

/* Replaces the rows of `t` (a raw.csv table with "rep" and "value"
 * columns) by one row per group of rows that agree on every other column,
 * in the order each group first appears: its value the median of the
 * group's numeric values ("nan" when it has none), its rep `round`.
 * Returns 0; -EINVAL when a column is missing (t untouched); -ENOMEM (t
 * untouched). */
int sm_ab_round_medians(struct sm_csv_table *t, unsigned round);

#endif
