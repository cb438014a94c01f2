/* options.c: the one option table of the syncmark binary, its parsers and
 * the bad-input exit every command shares. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "syncmark/perfcount.h"

/* Parses an option's argument into *o. Exits with status 2 on bad input. */
typedef void (*option_parser)(struct sm_options *o, const char *arg);

static void parse_quick(struct sm_options *o, const char *arg);
static void parse_thorough(struct sm_options *o, const char *arg);
static void parse_precision(struct sm_options *o, const char *arg);
static void parse_budget(struct sm_options *o, const char *arg);
static void parse_threads(struct sm_options *o, const char *arg);
static void parse_placement(struct sm_options *o, const char *arg);
static void parse_duration(struct sm_options *o, const char *arg);
static void parse_warmup(struct sm_options *o, const char *arg);
static void parse_reps(struct sm_options *o, const char *arg);
static void parse_out(struct sm_options *o, const char *arg);
static void parse_param(struct sm_options *o, const char *arg);
static void parse_threshold(struct sm_options *o, const char *arg);
static void parse_alpha(struct sm_options *o, const char *arg);
static void parse_markdown(struct sm_options *o, const char *arg);
static void parse_all(struct sm_options *o, const char *arg);
static void parse_inject_delay(struct sm_options *o, const char *arg);
static void parse_format(struct sm_options *o, const char *arg);
static void parse_watchdog(struct sm_options *o, const char *arg);
static void parse_inject_hang(struct sm_options *o, const char *arg);
static void parse_inject_crash(struct sm_options *o, const char *arg);
static void parse_isolate(struct sm_options *o, const char *arg);
static void parse_inject_into(struct sm_options *o, const char *arg);
static void parse_db(struct sm_options *o, const char *arg);
static void parse_machine(struct sm_options *o, const char *arg);
static void parse_baseline(struct sm_options *o, const char *arg);
static void parse_save_baseline(struct sm_options *o, const char *arg);
static void parse_across(struct sm_options *o, const char *arg);
static void parse_counters(struct sm_options *o, const char *arg);
static void parse_c2c_budget(struct sm_options *o, const char *arg);

/* The one option table: --help is generated from it. */
static const struct option_spec {
  const char *name;
  const char *arg; /* NULL: takes no argument */
  unsigned commands;
  option_parser parse;
  const char *help;
} OPTIONS[] = {
    {"quick", NULL, CMD_RUN | CMD_AB, parse_quick,
     "short run: 0.02 s windows, fewer parameter values, 6 to 15 reps to "
     "+-5 % within 150 s (ab: 6 rounds)"},
    {"thorough", NULL, CMD_RUN, parse_thorough,
     "long run: 0.5 s windows, 10 to 100 reps to +-1 % within 1 hour "
     "(default profile: 0.25 s windows, 6 to 30 reps to +-3 % within 15 "
     "minutes)"},
    {"precision", "PCT", CMD_RUN, parse_precision,
     "repeat each case until its headline metric's median is known to "
     "+-PCT % (half-width of the 95 % CI), within the budget"},
    {"budget", "S", CMD_RUN, parse_budget,
     "seconds the whole run may take; cases not yet precise get no more "
     "repetitions after it"},
    {"threads", "LIST|auto", CMD_RUN | CMD_AB, parse_threads,
     "thread counts, e.g. 1,2,4 (auto: 1, cores, PUs, 2x PUs)"},
    {"placement", "P[,P..]", CMD_RUN | CMD_AB, parse_placement,
     "compact|scatter|smt-first|none (default compact)"},
    {"duration", "S", CMD_RUN | CMD_AB, parse_duration,
     "seconds per timed window (default 0.25; quick 0.02)"},
    {"warmup", "S", CMD_RUN | CMD_AB, parse_warmup,
     "seconds of warmup before each window (default 0.05; quick 0.01)"},
    {"reps", "N", CMD_RUN | CMD_AB, parse_reps,
     "exactly N repetitions of every case, in place of a precision target; "
     "ab: paired rounds (default 10; quick 6)"},
    {"param", "KEY=V[,V..]", CMD_RUN | CMD_AB, parse_param,
     "replace a parameter's values, e.g. capacity=0,16 (repeatable; keys "
     "and ranges: syncmark list)"},
    {"counters", "LIST", CMD_RUN, parse_counters,
     "count events per operation in every worker thread, named as perf "
     "list does (cycles, instructions, cache-misses, dTLB-load-misses, "
     "context-switches, page-faults, task-clock, ...) or a profile "
     "(software, cache, default, all)"},
    {"c2c-budget", "S", CMD_RUN, parse_c2c_budget,
     "seconds the c2c matrix may take in all (every PU pair x reps x "
     "(warmup + window)); fewer PUs are sampled to fit (default: no limit "
     "but 64 PUs)"},
    {"watchdog", "S", CMD_RUN, parse_watchdog,
     "seconds a repetition may run before it is declared hung (default "
     "120)"},
    {"format", "csv|gbench-json", CMD_RUN, parse_format,
     "also write the run as Google Benchmark JSON (gbench.json); CSV is "
     "always written"},
    {"inject-delay-ns", "N", CMD_RUN, parse_inject_delay,
     "add N ns of busy work to every operation of --inject-into (to test "
     "regression checks; recorded in machine.csv)"},
    {"inject-into", "FAMILY/VARIANT", CMD_RUN, parse_inject_into,
     "the strategy --inject-delay-ns slows down (a window family's variant)"},
    {"inject-hang", "FAMILY/VARIANT", CMD_RUN, parse_inject_hang,
     "make every repetition of that strategy hang (to test --watchdog)"},
    {"inject-crash", "FAMILY/VARIANT", CMD_RUN, parse_inject_crash,
     "make every repetition of that strategy abort (to test --isolate)"},
    {"isolate", NULL, CMD_RUN, parse_isolate,
     "run each family in a child process: a crash loses one repetition, "
     "not the run (no interleaving across families)"},
    {"save-baseline", "NAME", CMD_RUN, parse_save_baseline,
     "after a clean run, collect it into the database (--db) as baseline "
     "NAME (letters, digits, . _ -)"},
    {"baseline", "NAME", CMD_COMPARE, parse_baseline,
     "compare: the base is baseline NAME from the database (--db); then "
     "only CURRENT is given"},
    {"threshold", "PCT", CMD_COMPARE | CMD_HISTORY | CMD_AB, parse_threshold,
     "compare, ab, history: change that counts as a regression, in % (default "
     "5)"},
    {"alpha", "P", CMD_COMPARE | CMD_HISTORY | CMD_AB, parse_alpha,
     "compare, history: significance level of the Mann-Whitney U test; ab: "
     "of the Wilcoxon signed-rank test (default 0.05)"},
    {"markdown", "FILE", CMD_COMPARE | CMD_AB | CMD_REPORT, parse_markdown,
     "compare, ab, report --across: also write the result as Markdown"},
    {"all", NULL, CMD_COMPARE | CMD_AB | CMD_HISTORY, parse_all,
     "compare: list unchanged and informational rows too; history: "
     "metrics without a direction too"},
    {"machine", "M", CMD_HISTORY, parse_machine,
     "history: one machine only (a machine id, a prefix of one, or a host "
     "name)"},
    {"across", "DB", CMD_REPORT, parse_across,
     "report: the claims' verdicts of every machine in database DB side by "
     "side (latest run per machine), in place of RUN_DIR"},
    {"db", "FILE", CMD_RUN | CMD_COMPARE | CMD_COLLECT | CMD_HISTORY, parse_db,
     "results database (default results/syncmark.db)"},
    {"out", "DIR", CMD_RUN | CMD_HISTORY, parse_out,
     "run: the run goes to DIR/<host>/<stamp>/ (default results); history: "
     "history.csv and figures go to DIR (default results/history)"},
};
enum { NOPTIONS = sizeof OPTIONS / sizeof OPTIONS[0] };

/* getopt_long's value for OPTIONS[i] is OPTION_VAL_BASE + i, clear of the
 * characters it returns for errors. */
enum { OPTION_VAL_BASE = 256 };

/* Where sm_usage_error goes after printing; NULL: exit(2). */
static void (*usage_exit_hook)(void);

void sm_usage_set_exit_hook(void (*hook)(void)) {
  usage_exit_hook = hook;
}

_Noreturn void sm_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("syncmark: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (usage_exit_hook)
    usage_exit_hook();
  exit(2);
}

void sm_options_print(FILE *out, unsigned command_bit, const char *command) {
  bool header = false;
  for (int i = 0; i < NOPTIONS; i++) {
    if (!(OPTIONS[i].commands & command_bit))
      continue;
    if (!header)
      fprintf(out, "\noptions of %s:\n", command);
    header = true;
    char left[48];
    snprintf(left, sizeof left, "--%s%s%s", OPTIONS[i].name,
             OPTIONS[i].arg ? " " : "", OPTIONS[i].arg ? OPTIONS[i].arg : "");
    fprintf(out, "  %-29s %s\n", left, OPTIONS[i].help);
  }
}

void sm_options_init(struct sm_options *o, int argc, char **argv) {
  *o = (struct sm_options){.duration_s = -1,
                           .warmup_s = -1,
                           .threads_auto = true,
                           .out_dir = "results",
                           .threshold = 0.05,
                           .alpha = 0.05,
                           .argc = argc,
                           .argv = argv};
}

/* Parses a number of seconds in [min, 3600] for option `name`. */
static double parse_seconds(const char *name, const char *arg, double min) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || end == arg || *end || !isfinite(v) || v < min || v > 3600)
    sm_usage_error("--%s: '%s' is not allowed (a number of seconds from %g "
                   "to 3600)",
                   name, arg, min);
  return v;
}

static void parse_quick(struct sm_options *o, const char *arg) {
  (void)arg;
  o->quick = true;
}

static void parse_thorough(struct sm_options *o, const char *arg) {
  (void)arg;
  o->thorough = true;
}

static void parse_precision(struct sm_options *o, const char *arg) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || end == arg || *end || !(v > 0 && v < 100))
    sm_usage_error("--precision: '%s' is not allowed (a percentage above 0 "
                   "and below 100, e.g. 3)",
                   arg);
  o->precision_pct = v;
}

static void parse_budget(struct sm_options *o, const char *arg) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || end == arg || *end || !isfinite(v) || v < 1 || v > 604800)
    sm_usage_error("--budget: '%s' is not allowed (a number of seconds from "
                   "1 to 604800)",
                   arg);
  o->budget_s = v;
}

static void parse_duration(struct sm_options *o, const char *arg) {
  o->duration_s = parse_seconds("duration", arg, 1e-3);
}

static void parse_warmup(struct sm_options *o, const char *arg) {
  o->warmup_s = parse_seconds("warmup", arg, 0);
}

static void parse_reps(struct sm_options *o, const char *arg) {
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno || end == arg || *end || v < 1 || v > 1000)
    sm_usage_error("--reps: '%s' is not allowed (an integer from 1 to 1000)",
                   arg);
  o->reps = v;
}

static void parse_out(struct sm_options *o, const char *arg) {
  if (!*arg)
    sm_usage_error("--out: the folder name is empty (a writable folder)");
  o->out_dir = arg;
  o->out_given = true;
}

/* Checks that a file-name option's value is not empty. */
static const char *nonempty(const char *name, const char *arg,
                            const char *what) {
  if (!*arg)
    sm_usage_error("--%s: the value is empty (%s)", name, what);
  return arg;
}

static void parse_db(struct sm_options *o, const char *arg) {
  o->db = nonempty("db", arg, "a results database file");
}

static void parse_across(struct sm_options *o, const char *arg) {
  o->across = nonempty("across", arg, "a results database file");
}

static void parse_machine(struct sm_options *o, const char *arg) {
  o->machine = nonempty("machine", arg, "a machine id or a host name");
}

/* Checks a baseline name for option `name`. */
static const char *baseline_name(const char *name, const char *arg) {
  size_t n = strlen(arg);
  if (n == 0 || n > 64 ||
      strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-") != n)
    sm_usage_error("--%s: '%s' is not allowed (1 to 64 letters, digits, "
                   "'.', '_' or '-')",
                   name, arg);
  return arg;
}

static void parse_baseline(struct sm_options *o, const char *arg) {
  o->baseline = baseline_name("baseline", arg);
}

static void parse_save_baseline(struct sm_options *o, const char *arg) {
  o->save_baseline = baseline_name("save-baseline", arg);
}

const char *sm_options_db(const struct sm_options *o) {
  return o->db ? o->db : "results/syncmark.db";
}

/* Parses --param KEY=V[,V..]: the key's form and the integers; whether a
 * selected family has the key and the values' range is checked when the
 * run is planned. */
static void parse_param(struct sm_options *o, const char *arg) {
  const char *eq = strchr(arg, '=');
  size_t klen = eq ? (size_t)(eq - arg) : 0;
  if (!eq || klen == 0 || klen >= sizeof o->params[0].key ||
      strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_") != klen)
    sm_usage_error("--param: '%s' is not allowed (KEY=V[,V..] with a "
                   "lower-case key, e.g. capacity=0,16)",
                   arg);
  if (o->nparams == sizeof o->params / sizeof o->params[0])
    sm_usage_error("--param: '%s' is one too many (at most %zu)", arg,
                   sizeof o->params / sizeof o->params[0]);
  struct sm_axis_override *p = &o->params[o->nparams++];
  memcpy(p->key, arg, klen);
  p->key[klen] = '\0';
  p->nvalues = 0;
  for (const char *v = eq + 1;;) {
    char *end;
    errno = 0;
    long value = strtol(v, &end, 10);
    if (errno || end == v || (*end && *end != ',') ||
        p->nvalues == SM_MAX_OVERRIDE_VALUES)
      sm_usage_error("--param: '%s' is not allowed (up to %d integers after "
                     "'%s=', separated by commas)",
                     arg, SM_MAX_OVERRIDE_VALUES, p->key);
    p->values[p->nvalues++] = value;
    if (!*end)
      break;
    v = end + 1;
  }
}

/* Parses a number in [lo, hi] for option `name`; exits 2 otherwise. */
static double parse_number(const char *name, const char *arg, double lo,
                           double hi, const char *what) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || end == arg || *end || !(v >= lo && v <= hi))
    sm_usage_error("--%s: '%s' is not allowed (%s)", name, arg, what);
  return v;
}

static void parse_threshold(struct sm_options *o, const char *arg) {
  o->threshold =
      parse_number("threshold", arg, 0, 1000, "a percentage from 0 to 1000") /
      100.0;
}

static void parse_alpha(struct sm_options *o, const char *arg) {
  o->alpha = parse_number("alpha", arg, 1e-9, 0.5,
                          "a probability above 0 and at most 0.5");
}

static void parse_markdown(struct sm_options *o, const char *arg) {
  if (!*arg)
    sm_usage_error("--markdown: the file name is empty (a file to write)");
  o->markdown = arg;
}

static void parse_inject_delay(struct sm_options *o, const char *arg) {
  o->inject_delay_ns = (uint64_t)parse_number("inject-delay-ns", arg, 1, 1e7,
                                              "an integer from 1 to 10000000");
  if ((double)o->inject_delay_ns != strtod(arg, NULL))
    sm_usage_error("--inject-delay-ns: '%s' is not allowed (an integer from "
                   "1 to 10000000)",
                   arg);
}

static void parse_watchdog(struct sm_options *o, const char *arg) {
  o->watchdog_s = parse_seconds("watchdog", arg, 0.1);
}

static void parse_inject_hang(struct sm_options *o, const char *arg) {
  o->inject_hang = arg;
}

static void parse_inject_crash(struct sm_options *o, const char *arg) {
  o->inject_crash = arg;
}

static void parse_isolate(struct sm_options *o, const char *arg) {
  (void)arg;
  o->isolate = true;
}

static void parse_counters(struct sm_options *o, const char *arg) {
  struct sm_perf_list list;
  char why[768];
  if (sm_perf_parse(arg, &list, why, sizeof why) != 0)
    sm_usage_error("--counters: %s", why);
  o->counters = arg;
}

static void parse_c2c_budget(struct sm_options *o, const char *arg) {
  o->c2c_budget_s = parse_number("c2c-budget", arg, 1e-3, 1e6,
                                 "a number of seconds from 0.001 to 1000000");
}

static void parse_format(struct sm_options *o, const char *arg) {
  if (strcmp(arg, "gbench-json") == 0)
    o->gbench_json = true;
  else if (strcmp(arg, "csv") != 0)
    sm_usage_error("--format: '%s' is not a format (allowed: csv, "
                   "gbench-json)",
                   arg);
}

static void parse_inject_into(struct sm_options *o, const char *arg) {
  o->inject_into = arg;
}

static void parse_all(struct sm_options *o, const char *arg) {
  (void)arg;
  o->all = true;
}

static void parse_threads(struct sm_options *o, const char *arg) {
  o->nthreads = 0;
  o->threads_auto = strcmp(arg, "auto") == 0;
  if (o->threads_auto)
    return;
  const char *p = arg;
  for (;;) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || (*end && *end != ',') || v < 1 ||
        v > SM_MAX_THREADS || o->nthreads == SM_MAX_THREAD_COUNTS)
      sm_usage_error("--threads: '%s' is not allowed ('auto' or a comma-"
                     "separated list of at most %d integers from 1 to %d)",
                     arg, SM_MAX_THREAD_COUNTS, SM_MAX_THREADS);
    o->threads[o->nthreads++] = (unsigned)v;
    if (!*end)
      return;
    p = end + 1;
  }
}

static void parse_placement(struct sm_options *o, const char *arg) {
  char copy[128];
  if (strlen(arg) >= sizeof copy)
    sm_usage_error("--placement: '%.40s...' is too long", arg);
  snprintf(copy, sizeof copy, "%s", arg);
  o->nplacements = 0;
  o->placement_explicit = true;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    enum sm_placement p;
    if (sm_placement_parse(tok, &p) != 0)
      sm_usage_error("--placement: '%s' is not a placement (allowed: "
                     "compact, scatter, smt-first, none)",
                     tok);
    bool dup = false;
    for (size_t i = 0; i < o->nplacements; i++)
      dup = dup || o->placements[i] == p;
    if (!dup)
      o->placements[o->nplacements++] = p;
  }
  if (o->nplacements == 0)
    sm_usage_error("--placement: '%s' names no placement (allowed: compact, "
                   "scatter, smt-first, none)",
                   arg);
}

int sm_options_parse(struct sm_options *o, unsigned command_bit, int argc,
                     char **argv) {
  struct option longopts[NOPTIONS + 2];
  for (int i = 0; i < NOPTIONS; i++)
    longopts[i] = (struct option){
        OPTIONS[i].name, OPTIONS[i].arg ? required_argument : no_argument, NULL,
        OPTION_VAL_BASE + i};
  longopts[NOPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[NOPTIONS + 1] = (struct option){0};
  opterr = 0;
  optind = 0; /* 0, not 1: glibc then forgets any earlier parse entirely */
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if (c == 'h')
      return SM_OPTIONS_HELP;
    if (c == ':')
      sm_usage_error("option '%s' needs a value (see syncmark --help)",
                     argv[optind - 1]);
    if (c < OPTION_VAL_BASE)
      sm_usage_error("unknown option '%s' (see syncmark --help)",
                     argv[optind - 1]);
    const struct option_spec *spec = &OPTIONS[c - OPTION_VAL_BASE];
    if (!(spec->commands & command_bit))
      sm_usage_error("option '--%s' does not apply to '%s' (see syncmark "
                     "--help)",
                     spec->name, o->command);
    spec->parse(o, optarg);
  }
  o->args = argv + optind;
  o->nargs = (size_t)(argc - optind);
  return 0;
}
