/* cmd_ab.c: `syncmark ab BASE_SYNCMARK CURRENT_SYNCMARK [FILTER...]`: the
 * same cases run by two builds in alternating rounds (A B B A A B ...), so a
 * drift of the machine hits both alike, each row judged on its paired
 * rounds; output and exit codes as `compare`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ab_round.h"
#include "compare.h"
#include "compare_output.h"
#include "rundir.h"
#include "syncmark/csv.h"
#include "text.h"

extern char **environ;

/* Rounds when --reps is not given (each round runs every case with each
 * build): enough pairs for the signed-rank test to reach p < 0.05 (6 pairs
 * at least). A round runs each case AB_REPS_PER_ROUND times in one child
 * run and gives the median: one repetition of a case moves 10-20% from one
 * to the next on a 2-vCPU guest, and the paired test is only as sharp as
 * a round's value. */
enum {
  AB_ROUNDS = 10,
  AB_ROUNDS_QUICK = 6,
  AB_MIN_PAIRS = 6,
  AB_REPS_PER_ROUND = 3
};

/* Most arguments a child `run` gets. */
enum { AB_MAX_ARGS = 160 };

/* The child's argument list, built once: [binary, "run", filters...,
 * forwarded options..., "--reps", AB_REPS_PER_ROUND, "--out", <dir>]. */
struct child_args {
  char *argv[AB_MAX_ARGS];
  size_t n;
  char storage[8192]; /* the formatted option values */
  size_t used;
};

/* Appends one argument (copied into storage). Exits 2 when there are too
 * many. */
static void push(struct child_args *a, const char *arg) {
  size_t len = strlen(arg) + 1;
  if (a->n + 1 >= AB_MAX_ARGS || a->used + len > sizeof a->storage)
    sm_usage_error("ab: too many arguments for the runs (at most %d)",
                   AB_MAX_ARGS - 8);
  a->argv[a->n++] = memcpy(a->storage + a->used, arg, len);
  a->used += len;
}

/* Appends "--name" and the formatted value. */
static void push_option(struct child_args *a, const char *name,
                        const char *value) {
  push(a, name);
  push(a, value);
}

/* Builds the run arguments shared by both builds from the parsed options:
 * the filters and the measurement options ab forwards (--quick, --threads,
 * --placement, --duration, --warmup, --param), then --reps
 * AB_REPS_PER_ROUND. */
static void build_args(const struct sm_options *o, struct child_args *a) {
  push(a, "(binary)");
  push(a, "run");
  for (size_t i = 2; i < o->nargs; i++)
    push(a, o->args[i]);
  if (o->quick)
    push(a, "--quick");
  char buf[512];
  if (!o->threads_auto) {
    buf[0] = '\0';
    for (size_t i = 0; i < o->nthreads; i++)
      sm_appendf(buf, sizeof buf, "%s%u", i ? "," : "", o->threads[i]);
    push_option(a, "--threads", buf);
  }
  if (o->placement_explicit) {
    buf[0] = '\0';
    for (size_t i = 0; i < o->nplacements; i++)
      sm_appendf(buf, sizeof buf, "%s%s", i ? "," : "",
                 sm_placement_name(o->placements[i]));
    push_option(a, "--placement", buf);
  }
  if (o->duration_s >= 0) {
    snprintf(buf, sizeof buf, "%.17g", o->duration_s);
    push_option(a, "--duration", buf);
  }
  if (o->warmup_s >= 0) {
    snprintf(buf, sizeof buf, "%.17g", o->warmup_s);
    push_option(a, "--warmup", buf);
  }
  for (size_t i = 0; i < o->nparams; i++) {
    snprintf(buf, sizeof buf, "%s=", o->params[i].key);
    for (size_t k = 0; k < o->params[i].nvalues; k++)
      sm_appendf(buf, sizeof buf, "%s%ld", k ? "," : "",
                 o->params[i].values[k]);
    push_option(a, "--param", buf);
  }
  snprintf(buf, sizeof buf, "%d", AB_REPS_PER_ROUND);
  push_option(a, "--reps", buf);
}

/* Runs `binary` with the shared arguments and --out `out`, its output
 * discarded but its errors shown. Returns its exit status, or -1 when it
 * could not be started or died from a signal. */
static int run_build(struct child_args *a, const char *binary,
                     const char *out) {
  a->argv[0] = (char *)binary;
  a->argv[a->n] = (char *)"--out";
  a->argv[a->n + 1] = (char *)out;
  a->argv[a->n + 2] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawn(&pid, binary, &fa, NULL, a->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  int status;
  if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

/* Finds the one run folder below `out` (out/<host>/<stamp>) into buf.
 * Returns 0 or -ENOENT. */
static int find_run(const char *out, char *buf, size_t size) {
  DIR *hosts = opendir(out);
  if (!hosts)
    return -ENOENT;
  int rc = -ENOENT;
  for (struct dirent *h; rc != 0 && (h = readdir(hosts));) {
    if (h->d_name[0] == '.')
      continue;
    char host[4200];
    if (sm_path_join(host, sizeof host, out, h->d_name) != 0)
      continue;
    DIR *stamps = opendir(host);
    for (struct dirent *s; stamps && rc != 0 && (s = readdir(stamps));)
      if (s->d_name[0] != '.' && sm_path_join(buf, size, host, s->d_name) == 0)
        rc = 0;
    if (stamps)
      closedir(stamps);
  }
  closedir(hosts);
  return rc;
}

/* Appends the rows of round `round`'s raw.csv (in folder `dir`) to *all,
 * reduced to one row per case and metric, the median of the round's
 * repetitions, with the round as its rep (sm_ab_round_medians). Returns 0
 * or a negative errno. */
static int append_round(struct sm_csv_table *all, const char *dir,
                        unsigned round) {
  char path[4300];
  struct sm_csv_table t;
  int rc = sm_path_join(path, sizeof path, dir, SM_RUN_RAW);
  if (rc == 0)
    rc = sm_csv_read(path, &t);
  if (rc != 0)
    return rc;
  char ***rows = all->rows;
  rc = sm_ab_round_medians(&t, round);
  size_t total = all->nrows + t.nrows;
  if (rc == 0 && total > 0 &&
      !(rows = realloc(all->rows, total * sizeof *rows)))
    rc = -ENOMEM;
  if (rc != 0) {
    sm_csv_table_free(&t);
    return rc;
  }
  all->rows = rows;
  for (size_t r = 0; r < t.nrows; r++)
    all->rows[all->nrows++] = t.rows[r];
  if (!all->header) {
    all->header = t.header;
    all->ncols = t.ncols;
    t.header = NULL;
  }
  free(t.rows);
  t.rows = NULL;
  t.nrows = 0;
  sm_csv_table_free(&t);
  return 0;
}

/* The two builds' runs: their labels, the rounds' rows, the machine of
 * their first round. */
struct side {
  const char *binary;
  struct sm_csv_table raw, machine;
};

/* Runs one round of one build into <tmp>/<side>-<round> and adds its rows.
 * Exits 2 (bad input as the child reported it) or returns 1 when the build
 * did not produce a run. */
static int one_round(struct child_args *a, struct side *s, const char *tmp,
                     const char *name, unsigned round) {
  char out[4200], dir[4300];
  snprintf(out, sizeof out, "%s/%s-%u", tmp, name, round);
  int status = run_build(a, s->binary, out);
  if (status == 2)
    sm_usage_error("ab: %s refused the run's arguments (its message is "
                   "above)",
                   s->binary);
  if ((status != 0 && status != 1) || find_run(out, dir, sizeof dir) != 0) {
    fprintf(stderr, "syncmark: ab: %s did not finish round %u (status %d)\n",
            s->binary, round, status);
    return 1;
  }
  if (append_round(&s->raw, dir, round) != 0) {
    fprintf(stderr, "syncmark: ab: cannot read the rows of %s\n", dir);
    return 1;
  }
  if (round == 1) {
    char path[4400];
    if (sm_path_join(path, sizeof path, dir, SM_RUN_MACHINE) != 0 ||
        sm_csv_read(path, &s->machine) != 0)
      s->machine = (struct sm_csv_table){0};
  }
  return 0;
}

/* nftw callback removing one entry of a post-order walk; errors are
 * ignored (a leftover temporary folder is reported by the caller). */
static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Checks that `path` is an executable file. Exits 2 otherwise. */
static void check_binary(const char *what, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0)
    sm_usage_error("ab: %s '%s' is not an executable file (a syncmark "
                   "binary, e.g. build/bench/syncmark)",
                   what, path);
}

/* Progress on a terminal: which round is running. */
static void progress(unsigned round, unsigned rounds) {
  if (isatty(2))
    fprintf(stderr, "\rab: round %u of %u", round, rounds);
}

int sm_cmd_ab(const struct sm_options *o) {
  if (o->nargs < 2)
    sm_usage_error("ab: %zu argument(s) given (allowed: BASE_SYNCMARK "
                   "CURRENT_SYNCMARK [FILTER...])",
                   o->nargs);
  check_binary("BASE_SYNCMARK", o->args[0]);
  check_binary("CURRENT_SYNCMARK", o->args[1]);
  unsigned rounds = o->reps    ? (unsigned)o->reps
                    : o->quick ? AB_ROUNDS_QUICK
                               : AB_ROUNDS;
  static struct child_args args;
  build_args(o, &args);
  char tmp[] = "/tmp/syncmark-ab.XXXXXX";
  if (!mkdtemp(tmp)) {
    fprintf(stderr, "syncmark: ab: cannot create a temporary folder: %s\n",
            strerror(errno));
    return 1;
  }
  struct side sides[2] = {{.binary = o->args[0]}, {.binary = o->args[1]}};
  int failed = 0;
  for (unsigned r = 1; r <= rounds && !failed; r++) {
    progress(r, rounds);
    /* A B, then B A: a linear drift within a pair of rounds cancels. */
    int first = (r % 2 == 1) ? 0 : 1;
    failed = one_round(&args, &sides[first], tmp, first ? "b" : "a", r) ||
             one_round(&args, &sides[!first], tmp, first ? "a" : "b", r);
  }
  if (isatty(2))
    fputc('\n', stderr);
  if (nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fprintf(stderr, "syncmark: ab: could not remove %s\n", tmp);
  if (failed) {
    for (int i = 0; i < 2; i++) {
      sm_csv_table_free(&sides[i].raw);
      sm_csv_table_free(&sides[i].machine);
    }
    return 1;
  }
  struct sm_run_rows base, current;
  char msg[768];
  if (sm_run_rows_from_tables(o->args[0], &sides[0].raw, &sides[0].machine,
                              &base, msg, sizeof msg) != 0 ||
      sm_run_rows_from_tables(o->args[1], &sides[1].raw, &sides[1].machine,
                              &current, msg, sizeof msg) != 0)
    sm_usage_error("ab: %s", msg);
  struct sm_compare_opts opts = {
      .threshold = o->threshold, .alpha = o->alpha, .paired = true};
  struct sm_comparison c;
  if (sm_compare_groups(base.groups, base.ngroups, current.groups,
                        current.ngroups, &opts, &c) != 0) {
    fputs("syncmark: ab: out of memory\n", stderr);
    return 1;
  }
  char differences[1024], test[128];
  sm_machine_differences(&base, &current, differences, sizeof differences);
  snprintf(test, sizeof test,
           "Wilcoxon signed-rank test on %u paired rounds (A B B A ...), "
           "each the median of %d repetitions",
           rounds, AB_REPS_PER_ROUND);
  struct sm_compare_report rep = {.command = "ab",
                                  .labels = {o->args[0], o->args[1]},
                                  .test = test,
                                  .reps_name = "paired rounds",
                                  .min_reps = AB_MIN_PAIRS,
                                  .differences = differences};
  return sm_compare_finish(o, &rep, &c, &base, &current);
}
