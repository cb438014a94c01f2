/* options.h: the parsed command line of the syncmark binary. */
#ifndef SYNCMARK_BENCH_OPTIONS_H
#define SYNCMARK_BENCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "family.h"
#include "syncmark/topology.h"

/* Most thread counts and placements one run may list. */
#define SM_MAX_THREAD_COUNTS 32
#define SM_MAX_THREADS       4096

struct sm_options {
  const char *command; /* "run", "info", "list", "plot" */
  char **args;         /* positional arguments after the command */
  size_t nargs;
  bool quick;
  bool threads_auto; /* --threads auto (the default) */
  unsigned threads[SM_MAX_THREAD_COUNTS];
  size_t nthreads;
  enum sm_placement placements[SM_PLACE_COUNT];
  size_t nplacements;      /* 0: the default (compact) */
  bool placement_explicit; /* the user named the placements */
  double duration_s;       /* < 0: the default */
  double warmup_s;         /* < 0: the default */
  long reps;               /* 0: the default */
  const char *out_dir;     /* parent of <host>/<stamp>/ */
  struct sm_axis_override params[2 * SM_MAX_AXES]; /* --param */
  size_t nparams;
  double watchdog_s;        /* run: --watchdog, 0: the default */
  const char *inject_hang;  /* run: variant made to hang, or NULL */
  bool gbench_json;         /* run: also write gbench.json */
  uint64_t inject_delay_ns; /* run: --inject-delay-ns, 0: none */
  const char *inject_into;  /* run: "family/variant" it applies to */
  double threshold;         /* compare: relative change that counts */
  double alpha;             /* compare: significance level */
  const char *markdown;     /* compare: Markdown output file, or NULL */
  bool all;                 /* compare: list every row */
  int argc;                 /* the whole command line, for the machine */
  char **argv;              /* file */
};

/* Prints the message "syncmark: <fmt>" to stderr and exits with status 2:
 * the one way bad input ends the program. */
_Noreturn void sm_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Runs a subcommand; each returns the process exit status. */
int sm_cmd_run(const struct sm_options *o);
int sm_cmd_info(const struct sm_options *o);
int sm_cmd_list(const struct sm_options *o);
int sm_cmd_plot(const struct sm_options *o);
int sm_cmd_compare(const struct sm_options *o);
int sm_cmd_report(const struct sm_options *o);

#endif
