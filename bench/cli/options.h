/* options.h: the parsed command line of the syncmark binary. */
#ifndef SYNCMARK_BENCH_OPTIONS_H
#define SYNCMARK_BENCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "family.h"
#include "syncmark/topology.h"

/* Most thread counts and placements one run may list. */
#define SM_MAX_THREAD_COUNTS 32
#define SM_MAX_THREADS       4096

struct sm_options {
  const char *command; /* "run", "info", "list", "plot", ... */
  char **args;         /* positional arguments after the command */
  size_t nargs;
  bool quick;
  bool thorough;        /* run: the thorough profile */
  double precision_pct; /* run: --precision, 0: the profile's */
  double budget_s;      /* run: --budget, 0: the profile's */
  bool threads_auto;    /* --threads auto (the default) */
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
  double watchdog_s;         /* run: --watchdog, 0: the default */
  const char *inject_hang;   /* run: variant made to hang, or NULL */
  const char *inject_crash;  /* run: variant made to abort, or NULL */
  bool isolate;              /* run: one child process per family */
  bool gbench_json;          /* run: also write gbench.json */
  uint64_t inject_delay_ns;  /* run: --inject-delay-ns, 0: none */
  const char *inject_into;   /* run: "family/variant" it applies to */
  double threshold;          /* compare: relative change that counts */
  double alpha;              /* compare: significance level */
  const char *markdown;      /* compare: Markdown output file, or NULL */
  bool all;                  /* compare, history: list every row */
  const char *db;            /* --db: results database, NULL: the default */
  const char *machine;       /* history: --machine, or NULL for all */
  const char *baseline;      /* compare: --baseline NAME in place of BASE */
  const char *save_baseline; /* run: --save-baseline NAME, or NULL */
  const char *across;        /* report: --across DB, or NULL */
  const char *counters;      /* run: --counters LIST, or NULL */
  double c2c_budget_s;       /* run: --c2c-budget, 0: no limit */
  bool out_given;            /* --out was given */
  int argc;                  /* the whole command line, for the machine */
  char **argv;               /* file */
};

/* Subcommands an option applies to, as a bit mask. */
enum {
  CMD_RUN = 1,
  CMD_INFO = 2,
  CMD_LIST = 4,
  CMD_PLOT = 8,
  CMD_COMPARE = 16,
  CMD_REPORT = 32,
  CMD_COLLECT = 64,
  CMD_HISTORY = 128,
  CMD_AB = 256
};

/* What sm_options_parse returns when it met --help (nothing else is
 * parsed; the caller prints the help). */
#define SM_OPTIONS_HELP 1

/* Sets the defaults of every option and records the command line. */
void sm_options_init(struct sm_options *o, int argc, char **argv);

/* Parses the options after the command (argv[0] is the command) for the
 * command whose bit is `command_bit`; positional arguments are kept in
 * order in o->args. Returns 0, or SM_OPTIONS_HELP. An unknown option, a
 * missing or bad value, or an option the command does not take ends in
 * sm_usage_error. */
int sm_options_parse(struct sm_options *o, unsigned command_bit, int argc,
                     char **argv);

/* Prints the options of one command ("options of run:" and one line each)
 * to `out`; nothing when it has none. */
void sm_options_print(FILE *out, unsigned command_bit, const char *command);

/* Makes sm_usage_error call `hook` (which must not return: e.g. a longjmp)
 * instead of exit(2), for the option fuzzer; NULL restores exit(2). */
void sm_usage_set_exit_hook(void (*hook)(void));

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
int sm_cmd_collect(const struct sm_options *o);
int sm_cmd_history(const struct sm_options *o);
int sm_cmd_ab(const struct sm_options *o);

/* Collects the run folders dirs[0..n) into the database of o (--db), one
 * transaction per folder, printing a line per folder, and sets *last to the
 * run of the last one (for run --save-baseline). Bad input exits 2 before
 * anything is stored: every folder is read and checked, and every conflict
 * with the database found, first. Returns 0, or 1 when SQLite failed while
 * storing. */
struct sm_db_run;
int sm_cmd_collect_folders(const struct sm_options *o, char **dirs, size_t n,
                           struct sm_db_run *last);

/* Collects the finished run folder `dir` into the database of o (--db) and
 * names it baseline o->save_baseline. Returns 0, or 1 after saying why. */
int sm_cmd_save_baseline(const struct sm_options *o, char *dir);

/* Before a run with --save-baseline: exits 2 when the database exists but
 * is not a results database of this version, or when --db is given
 * without --save-baseline. */
void sm_cmd_check_baseline_db(const struct sm_options *o);

/* Returns the results database path of the command: --db or the default
 * (results/syncmark.db). */
const char *sm_options_db(const struct sm_options *o);

#endif
