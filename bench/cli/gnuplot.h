/* gnuplot.h: running gnuplot on one of syncmark's scripts, for `plot` and
 * `history`. */
#ifndef SYNCMARK_BENCH_GNUPLOT_H
#define SYNCMARK_BENCH_GNUPLOT_H

/* Returns the folder of the gnuplot scripts: $SYNCMARK_PLOTS_DIR when set
 * and not empty, else the source tree's plots/. */
const char *sm_plots_dir(void);

/* Runs gnuplot on `script` with the variable assignments (gnuplot
 * statements, e.g. "fmt='png'; dir='plots'") and outfile set to a
 * temporary name that is renamed to `outfile` when gnuplot succeeds.
 * gnuplot's own messages go to a temporary log shown on stderr only when it
 * fails. Returns 0, or -1 after saying on stderr why (gnuplot missing or
 * failed, a path too long); nothing is left at outfile then. */
int sm_gnuplot_run(const char *script, const char *assignments,
                   const char *outfile);

#endif
