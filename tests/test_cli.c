/* test_cli.c: Criterion tests of the syncmark command line, run as a child. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syncmark/csv.h"
#include "test_support.h"

/* How long one child may run before it is killed and the test fails. */
#define CHILD_TIMEOUT_S 20

/* The test's temporary folder and, inside it, the child's working folder
 * (a stray default "results" folder would land there) and the --out folder
 * (not created: a run must create it). */
static char tmp[128];
static char cwd_dir[192];
static char out_dir[192];

/* The outcome of one child: exit status (-1 when it was killed by a signal
 * or the timeout) and the paths of its captured stdout and stderr. */
struct child {
  pid_t pid;
  int status;
  char out_path[256];
  char err_path[256];
};

/* Creates the temporary folder and the child's working folder; fails the
 * test when it cannot. */
static void setup(void) {
  snprintf(tmp, sizeof tmp, "/tmp/sm_cli_test.XXXXXX");
  cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
  snprintf(cwd_dir, sizeof cwd_dir, "%s/cwd", tmp);
  snprintf(out_dir, sizeof out_dir, "%s/out", tmp);
  cr_assert_eq(mkdir(cwd_dir, 0755), 0, "mkdir %s: %s", cwd_dir,
               strerror(errno));
}

/* Buffers returned by slurp, freed by teardown. */
static char *slurped[64];
static size_t nslurped;

/* Removes the temporary folder and everything below it, and frees the
 * buffers slurp returned. */
static void teardown(void) {
  nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  for (size_t i = 0; i < nslurped; i++)
    free(slurped[i]);
  nslurped = 0;
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Starts the syncmark binary with `args` (NULL-terminated, argv[0] not
 * included) in the working folder, its stdout and stderr going to
 * <tmp>/<tag>.out and <tmp>/<tag>.err. Fails the test when fork fails; a
 * child that cannot exec exits with status 127. */
/* Resource limits the next spawned child gets (resource < 0: none), for
 * the fault-injection tests; spawn_cli clears them after use. */
struct child_limit {
  int resource;
  rlim_t value;
};
static struct child_limit child_limits[2] = {{-1, 0}, {-1, 0}};

static void spawn_cli(struct child *c, const char *tag,
                      const char *const *args) {
  const char *argv[64];
  size_t n = 0;
  argv[n++] = SYNCMARK_BIN;
  for (; args[n - 1] && n < 63; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  snprintf(c->out_path, sizeof c->out_path, "%s/%s.out", tmp, tag);
  snprintf(c->err_path, sizeof c->err_path, "%s/%s.err", tmp, tag);
  c->status = -1;
  fflush(NULL);
  c->pid = fork();
  cr_assert_geq(c->pid, 0, "fork: %s", strerror(errno));
  if (c->pid == 0) {
    int out = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(err, 2) < 0 || chdir(cwd_dir) != 0)
      _exit(126);
    for (size_t i = 0; i < 2; i++) {
      if (child_limits[i].resource < 0)
        continue;
      struct rlimit lim = {child_limits[i].value, child_limits[i].value};
      signal(SIGXFSZ, SIG_IGN); /* a write past RLIMIT_FSIZE fails, EFBIG */
      /* LeakSanitizer cannot start its thread under a lowered limit. */
      setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
      if (setrlimit(child_limits[i].resource, &lim) != 0)
        _exit(125);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  child_limits[0].resource = child_limits[1].resource = -1;
}

/* Waits for the child started by spawn_cli, killing it after
 * CHILD_TIMEOUT_S seconds. Sets c->status to the exit status, or fails the
 * test when the child was killed or died from a signal. */
static void wait_cli(struct child *c) {
  struct timespec start, now, nap = {0, 2000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status;
  for (;;) {
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid)
      break;
    cr_assert(r == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > CHILD_TIMEOUT_S) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, &status, 0);
      cr_assert_fail("%s did not finish within %d s", c->out_path,
                     CHILD_TIMEOUT_S);
    }
    nanosleep(&nap, NULL);
  }
  cr_assert(WIFEXITED(status), "syncmark died from signal %d (%s)",
            WIFSIGNALED(status) ? WTERMSIG(status) : 0,
            WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "?");
  c->status = WEXITSTATUS(status);
}

/* Runs the binary with `args` to completion (see spawn_cli and wait_cli). */
static void run_cli(struct child *c, const char *tag, const char *const *args) {
  spawn_cli(c, tag, args);
  wait_cli(c);
}

/* Returns the whole content of `path`, NUL-terminated, in a malloc'd buffer
 * that teardown frees. Fails the test when the file cannot be read or more
 * than 64 files were read in one test. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  cr_assert_not_null(buf);
  for (;;) {
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0)
      break;
    if (cap - len - 1 == 0) {
      cap *= 2;
      buf = realloc(buf, cap);
      cr_assert_not_null(buf);
    }
  }
  cr_assert_not(ferror(f), "read %s failed", path);
  fclose(f);
  buf[len] = '\0';
  cr_assert_lt(nslurped, sizeof slurped / sizeof slurped[0]);
  slurped[nslurped++] = buf;
  return buf;
}

/* Returns the number of entries of folder `path` ("." and ".." aside), or
 * -1 when it does not exist. Fails the test on any other error. */
static int count_entries(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    cr_assert_eq(errno, ENOENT, "opendir %s: %s", path, strerror(errno));
    return -1;
  }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* Writes the name of the only entry of folder `dir` into buf; fails the
 * test when it holds no entry or more than one. */
static void only_entry(const char *dir, char *buf, size_t size) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(buf, size, "%s", e->d_name);
    n++;
  }
  closedir(d);
  cr_assert_eq(n, 1, "%s should hold exactly one entry, holds %d", dir, n);
}

/* Returns true when `path` exists as a regular file of more than 0 bytes. */
static bool nonempty_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Checks that a finished child failed on bad input: exit status 2, exactly
 * one stderr line starting "syncmark: " that contains `what` and `value`
 * (either may be NULL), nothing on stdout, no run folder under the --out
 * folder and nothing left in the working folder. */
static void check_usage_error(const struct child *c, const char *what,
                              const char *value) {
  char *err = slurp(c->err_path), *out = slurp(c->out_path);
  cr_assert_eq(c->status, 2, "exit status %d, expected 2; stderr: %s",
               c->status, err);
  cr_assert(strncmp(err, "syncmark: ", 10) == 0,
            "stderr should start with 'syncmark: ': %s", err);
  char *nl = strchr(err, '\n');
  cr_assert(nl && nl[1] == '\0',
            "stderr should be exactly one line ending in a newline: %s", err);
  if (what)
    cr_assert(strstr(err, what), "stderr should name '%s': %s", what, err);
  if (value)
    cr_assert(strstr(err, value), "stderr should name '%s': %s", value, err);
  cr_assert_str_empty(out, "stdout should be empty on bad input: %s", out);
  int n = count_entries(out_dir);
  cr_assert(n <= 0, "--out folder %s should be empty or absent, holds %d",
            out_dir, n);
  cr_assert_eq(count_entries(cwd_dir), 0,
               "the working folder should stay empty");
}

/* Runs the binary with the given arguments and checks a usage error naming
 * `what` and `value` (see check_usage_error). */
#define EXPECT_USAGE_ERROR(what, value, ...)                                   \
  do {                                                                         \
    struct child c_;                                                           \
    run_cli(&c_, "bad", (const char *const[]){__VA_ARGS__, NULL});             \
    check_usage_error(&c_, what, value);                                       \
  } while (0)

Test(cli, unknown_benchmark) {
  EXPECT_USAGE_ERROR("benchmark", "'nosuchbench'", "run", "nosuchbench",
                     "--out", out_dir);
}

Test(cli, threads_empty_item) {
  EXPECT_USAGE_ERROR("--threads", "'1,,2'", "run", "--threads", "1,,2", "--out",
                     out_dir);
}

Test(cli, threads_not_a_number) {
  EXPECT_USAGE_ERROR("--threads", "'abc'", "run", "--threads", "abc", "--out",
                     out_dir);
}

Test(cli, threads_zero) {
  EXPECT_USAGE_ERROR("--threads", "'0'", "run", "--threads", "0", "--out",
                     out_dir);
}

Test(cli, threads_too_many) {
  EXPECT_USAGE_ERROR("--threads", "'5000'", "run", "--threads", "5000", "--out",
                     out_dir);
}

Test(cli, threads_negative) {
  EXPECT_USAGE_ERROR("--threads", "'-1'", "run", "--threads", "-1", "--out",
                     out_dir);
}

Test(cli, param_malformed) {
  EXPECT_USAGE_ERROR("--param", "'read_pct'", "run", "--param", "read_pct",
                     "--out", out_dir);
}

Test(cli, param_not_a_number) {
  EXPECT_USAGE_ERROR("--param", "'read_pct=1,x'", "run", "--param",
                     "read_pct=1,x", "--out", out_dir);
}

Test(cli, param_unknown_key) {
  EXPECT_USAGE_ERROR("--param nosuch", "read_pct", "run", "contention",
                     "--param", "nosuch=1", "--out", out_dir);
}

Test(cli, param_out_of_range) {
  EXPECT_USAGE_ERROR("read_pct=101", "0 to 100", "run", "contention", "--param",
                     "read_pct=50,101", "--out", out_dir);
}

Test(cli, compare_needs_two_runs) {
  EXPECT_USAGE_ERROR("compare", "1 argument", "compare", tmp);
}

Test(cli, compare_empty_folder) {
  EXPECT_USAGE_ERROR("no raw.csv", cwd_dir, "compare", cwd_dir, cwd_dir);
}

Test(cli, compare_bad_threshold) {
  EXPECT_USAGE_ERROR("--threshold", "'-3'", "compare", "--threshold", "-3",
                     cwd_dir, cwd_dir);
}

Test(cli, inject_without_target) {
  EXPECT_USAGE_ERROR("--inject-into", NULL, "run", "--inject-delay-ns", "100",
                     "--out", out_dir);
}

Test(cli, inject_into_unknown_variant) {
  EXPECT_USAGE_ERROR("--inject-into", "'contention/nosuch'", "run",
                     "--inject-delay-ns", "100", "--inject-into",
                     "contention/nosuch", "--out", out_dir);
}

Test(cli, placement_unknown) {
  EXPECT_USAGE_ERROR("--placement", "'diagonal'", "run", "--placement",
                     "diagonal", "--out", out_dir);
}

/* Returns true when cpu0 has an SMT sibling, by its sysfs sibling list
 * ("0" alone means none). */
static bool machine_has_smt(void) {
  FILE *f =
      fopen("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "r");
  if (!f)
    return false;
  char line[128] = "";
  if (!fgets(line, sizeof line, f))
    line[0] = '\0';
  fclose(f);
  return strpbrk(line, ",-") != NULL;
}

Test(cli, placement_impossible) {
  if (machine_has_smt())
    cr_skip_test("this machine has SMT, so smt-first can be provided");
  EXPECT_USAGE_ERROR(NULL, "smt-first", "run", "--placement", "smt-first",
                     "--out", out_dir);
}

Test(cli, duration_negative) {
  EXPECT_USAGE_ERROR("--duration", "'-1'", "run", "--duration", "-1", "--out",
                     out_dir);
}

Test(cli, duration_zero) {
  EXPECT_USAGE_ERROR("--duration", "'0'", "run", "--duration", "0", "--out",
                     out_dir);
}

Test(cli, duration_garbage) {
  EXPECT_USAGE_ERROR("--duration", "'1s'", "run", "--duration", "1s", "--out",
                     out_dir);
}

Test(cli, reps_zero) {
  EXPECT_USAGE_ERROR("--reps", "'0'", "run", "--reps", "0", "--out", out_dir);
}

Test(cli, warmup_negative) {
  EXPECT_USAGE_ERROR("--warmup", "'-0.5'", "run", "--warmup", "-0.5", "--out",
                     out_dir);
}

Test(cli, out_not_writable) {
  char file[256], bad_out[300];
  snprintf(file, sizeof file, "%s/file", tmp);
  snprintf(bad_out, sizeof bad_out, "%s/sub", file);
  FILE *f = fopen(file, "w");
  cr_assert_not_null(f);
  fclose(f);
  /* Tiny settings, so a binary that wrongly got past the folder check
   * would still finish quickly. */
  EXPECT_USAGE_ERROR("--out", bad_out, "run", "contention/mutex", "--quick",
                     "--threads", "1", "--reps", "1", "--duration", "0.001",
                     "--warmup", "0", "--out", bad_out);
  struct stat st;
  cr_assert_eq(stat(file, &st), 0);
  cr_assert(S_ISREG(st.st_mode), "%s should still be a regular file", file);
  cr_assert_eq(st.st_size, 0, "%s should still be empty", file);
}

Test(cli, unknown_option) {
  EXPECT_USAGE_ERROR(NULL, "--frobnicate", "run", "--out", out_dir,
                     "--frobnicate");
}

Test(cli, option_missing_value) {
  EXPECT_USAGE_ERROR(NULL, "--threads", "run", "--out", out_dir, "--threads");
}

Test(cli, option_not_for_command) {
  EXPECT_USAGE_ERROR("info", "--quick", "info", "--quick");
}

Test(cli, unknown_command) {
  EXPECT_USAGE_ERROR(NULL, "'frobnicate'", "frobnicate");
}

Test(cli, plot_without_argument) {
  EXPECT_USAGE_ERROR("plot", "RUN_DIR", "plot");
}

Test(cli, plot_not_a_run_folder) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s/notarun", tmp);
  cr_assert_eq(mkdir(dir, 0755), 0);
  EXPECT_USAGE_ERROR("plot", dir, "plot", dir);
  cr_assert_eq(count_entries(dir), 0, "plot should write nothing into %s", dir);
}

/* Finds the line of `text` whose first whitespace-separated word is `key`
 * (leading blanks of the line ignored) and copies the rest of it, leading
 * blanks skipped and newline dropped, into value. Fails the test when there
 * is no such line or its value is empty. */
static void field_of(const char *text, const char *key, char *value,
                     size_t size) {
  size_t klen = strlen(key);
  for (const char *p = text; *p;) {
    const char *end = strchr(p, '\n');
    const char *eol = end ? end : p + strlen(p);
    const char *w = p;
    while (w < eol && (*w == ' ' || *w == '\t'))
      w++;
    if ((size_t)(eol - w) > klen && strncmp(w, key, klen) == 0 &&
        (w[klen] == ' ' || w[klen] == '\t')) {
      const char *v = w + klen;
      while (*v == ' ' || *v == '\t')
        v++;
      snprintf(value, size, "%.*s", (int)(eol - v), v);
      cr_assert(value[0], "'%s' has an empty value", key);
      return;
    }
    p = end ? end + 1 : eol;
  }
  cr_assert_fail("no line for '%s' in:\n%s", key, text);
}

Test(cli, list) {
  struct child c;
  run_cli(&c, "list", (const char *const[]){"list", NULL});
  char *out = slurp(c.out_path), *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "exit status %d; stderr: %s", c.status, err);
  cr_assert_str_empty(err);
  cr_assert(strncmp(out, "contention:", 11) == 0 ||
                strstr(out, "\ncontention:"),
            "list should show the contention family:\n%s", out);
  char value[256];
  field_of(out, "contention/mutex", value, sizeof value);
  field_of(out, "contention/sharded", value, sizeof value);
}

/* list FAMILY adds the family's metric declarations, each with its unit,
 * direction and meaning; an unknown family is bad input. */
Test(cli, list_family_metrics) {
  struct child c;
  run_cli(&c, "list", (const char *const[]){"list", "channel", NULL});
  char *out = slurp(c.out_path), *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "exit status %d; stderr: %s", c.status, err);
  cr_assert(strncmp(out, "channel:", 8) == 0, "list channel:\n%s", out);
  cr_assert_null(strstr(out, "\ncontention:"), "only channel:\n%s", out);
  const char *row = strstr(out, "\n    msgs_per_s ");
  cr_assert_not_null(row, "list channel should declare msgs_per_s:\n%s", out);
  cr_assert(strstr(row, "msgs/s") && strstr(row, "higher"),
            "msgs_per_s row: %.120s", row + 1);
  cr_assert_not_null(strstr(out, "\n    ops_per_s "),
                     "the runner's metrics too:\n%s", out);
  run_cli(&c, "list-unknown", (const char *const[]){"list", "nope", NULL});
  check_usage_error(&c, "family", "nope");
}

Test(cli, info) {
  struct child c;
  run_cli(&c, "info", (const char *const[]){"info", NULL});
  char *out = slurp(c.out_path), *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "exit status %d; stderr: %s", c.status, err);
  cr_assert_str_empty(err);
  char v[256], *end;
  field_of(out, "cpu_vendor", v, sizeof v);
  field_of(out, "topo_cores", v, sizeof v);
  long cores = strtol(v, &end, 10);
  cr_assert(*end == '\0' && cores >= 1, "topo_cores '%s'", v);
  field_of(out, "allowed_pu_list", v, sizeof v);
  cr_assert(strspn(v, "0123456789,-") == strlen(v), "allowed_pu_list '%s'", v);
  field_of(out, "clock_overhead_ns", v, sizeof v);
  double d = strtod(v, &end);
  cr_assert(*end == '\0' && isfinite(d) && d >= 0, "clock_overhead_ns '%s'", v);
  field_of(out, "runner_overhead_ns_per_op", v, sizeof v);
  d = strtod(v, &end);
  cr_assert(*end == '\0' && isfinite(d) && d >= 0,
            "runner_overhead_ns_per_op '%s'", v);
}

/* Writes this machine's host name as sm_rundir_create names its folder
 * (characters other than [A-Za-z0-9._-] replaced by '_') into buf. */
static void safe_hostname(char *buf, size_t size) {
  if (gethostname(buf, size) != 0 || !buf[0])
    snprintf(buf, size, "unknown-host");
  buf[size - 1] = '\0';
  for (char *p = buf; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789._-",
                *p))
      *p = '_';
}

/* Returns true when `name` is a run stamp, YYYYmmdd-HHMMSS. */
static bool is_stamp(const char *name) {
  if (strlen(name) != 15 || name[8] != '-')
    return false;
  for (int i = 0; i < 15; i++)
    if (i != 8 && (name[i] < '0' || name[i] > '9'))
      return false;
  return true;
}

/* Counts entries named like a temporary file (".tmp.") during a walk. */
static int tmp_files;

/* nftw callback of count_tmp_files: counts one entry when its name holds
 * ".tmp.". Never fails. */
static int note_tmp(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  if (strstr(path + ftw->base, ".tmp."))
    tmp_files++;
  return 0;
}

/* Returns the number of files under `dir` whose name holds ".tmp.". */
static int count_tmp_files(const char *dir) {
  tmp_files = 0;
  cr_assert_eq(nftw(dir, note_tmp, 16, FTW_PHYS), 0, "walk %s failed", dir);
  return tmp_files;
}

/* Joins the header columns of `t` with commas into buf. */
static const char *joined_header(const struct sm_csv_table *t, char *buf,
                                 size_t size) {
  buf[0] = '\0';
  for (size_t i = 0; i < t->ncols; i++) {
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", i ? "," : "", t->header[i]);
  }
  return buf;
}

/* Reads `dir`/`name` with sm_csv_read into t and checks its header is
 * exactly `header`; fails the test otherwise. */
static void read_csv(const char *dir, const char *name, const char *header,
                     struct sm_csv_table *t) {
  char path[512], buf[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int rc = sm_csv_read(path, t);
  cr_assert_eq(rc, 0, "sm_csv_read %s: %s", path, strerror(-rc));
  cr_assert_str_eq(joined_header(t, buf, sizeof buf), header, "%s header",
                   name);
}

/* Returns the column index of `name` in t; fails the test when absent. */
static size_t column(const struct sm_csv_table *t, const char *name) {
  int c = sm_csv_column(t, name);
  cr_assert_geq(c, 0, "no column '%s'", name);
  return (size_t)c;
}

/* The arguments of the tiny real run of the success tests. */
#define TINY_RUN                                                               \
  "run", "contention/mutex", "contention/sharded", "--threads", "1,2",         \
      "--reps", "2", "--duration", "0.01", "--warmup", "0", "--quick"

/* Runs the tiny real run into out_dir and checks the folder layout: exit
 * status 0, exactly one folder <out>/<host>/<stamp>/ holding raw.csv,
 * summary.csv and machine.csv only, no leftover temporary file, and stdout
 * naming the folder. Writes the run folder's path into rundir. */
static void tiny_run(char *rundir, size_t size) {
  struct child c;
  run_cli(&c, "run", (const char *const[]){TINY_RUN, "--out", out_dir, NULL});
  char *out = slurp(c.out_path), *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "exit status %d; stderr: %s", c.status, err);
  cr_assert_null(strstr(err, "failed"), "stderr: %s", err);

  char host[64], entry[256], hostdir[512];
  safe_hostname(host, sizeof host);
  only_entry(out_dir, entry, sizeof entry);
  cr_assert_str_eq(entry, host, "the run should go to <out>/<host>/");
  cr_assert_lt(snprintf(hostdir, sizeof hostdir, "%s/%s", out_dir, host),
               (int)sizeof hostdir);
  only_entry(hostdir, entry, sizeof entry);
  cr_assert(is_stamp(entry), "run folder '%s' is not YYYYmmdd-HHMMSS", entry);
  cr_assert_lt(snprintf(rundir, size, "%s/%s", hostdir, entry), (int)size);

  cr_assert_eq(count_entries(rundir), 3, "%s should hold exactly 3 files",
               rundir);
  static const char *const files[] = {"raw.csv", "summary.csv", "machine.csv"};
  for (int i = 0; i < 3; i++) {
    char path[600];
    cr_assert_lt(snprintf(path, sizeof path, "%s/%s", rundir, files[i]),
                 (int)sizeof path);
    cr_assert(nonempty_file(path), "%s missing or empty", path);
  }
  cr_assert_eq(count_tmp_files(out_dir), 0, "leftover *.tmp.* files");
  cr_assert_eq(count_entries(cwd_dir), 0, "working folder should stay empty");
  char line[700];
  snprintf(line, sizeof line, "results: %s\n", rundir);
  cr_assert(strstr(out, line), "stdout should say '%s':\n%s", line, out);
}

/* Returns true when `s` is a number above 0 and finite, written whole. */
static bool positive_finite(const char *s) {
  char *end;
  double v = strtod(s, &end);
  return end != s && *end == '\0' && isfinite(v) && v > 0;
}

/* --format gbench-json adds gbench.json with Google Benchmark's fields,
 * checked by tests/check_gbench.py. */
Test(cli, run_writes_gbench_json) {
  if (system("python3 -c '' 2>/dev/null") != 0)
    cr_skip_test("python3 is needed to parse the JSON");
  struct child c;
  /* arc_private: an operation well above the runner's floor, so its
   * repetitions are valid even when a loaded machine inflates the floor. */
  run_cli(&c, "gbench",
          (const char *const[]){"run", "refcount/arc_private", "--quick",
                                "--threads", "1", "--format", "gbench-json",
                                "--out", out_dir, NULL});
  cr_assert_eq(c.status, 0, "stderr: %s", slurp(c.err_path));
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "python3 %s/tests/check_gbench.py %s/*/*/gbench.json >%s/gb.txt "
           "2>&1",
           SYNCMARK_SOURCE_DIR, out_dir, tmp);
  int status = system(cmd);
  char path[256];
  snprintf(path, sizeof path, "%s/gb.txt", tmp);
  cr_assert_eq(status, 0, "check_gbench.py: %s", slurp(path));
}

/* report writes REPORT.md into the run folder: every claim listed, the
 * ones whose family did not run as not measured. */
Test(cli, report_writes_claims) {
  char rundir[600], path[700];
  tiny_run(rundir, sizeof rundir);
  struct child c;
  run_cli(&c, "report", (const char *const[]){"report", rundir, NULL});
  cr_assert_eq(c.status, 0, "stderr: %s", slurp(c.err_path));
  snprintf(path, sizeof path, "%s/REPORT.md", rundir);
  const char *md = slurp(path);
  cr_assert(strstr(md, "## The lesson's claims"), "%s", md);
  cr_assert(strstr(md, "| [C5](#C5) |"), "C5 listed");
  cr_assert(strstr(md, "### C13: Cloning an Arc"), "C13 listed");
  cr_assert(strstr(md, "the refcount family did not run"), "%s", md);
  cr_assert(strstr(md, "## Machine"));
  cr_assert_eq(count_tmp_files(out_dir), 0, "leftover temporary files");
}

Test(cli, report_on_a_folder_without_summary) {
  EXPECT_USAGE_ERROR("summary.csv", cwd_dir, "report", cwd_dir);
}

/* Finds the only run folder under --out into buf. */
static void only_run_dir(char *buf, size_t size) {
  char host[64], entry[128], hostdir[320];
  safe_hostname(host, sizeof host);
  snprintf(hostdir, sizeof hostdir, "%s/%s", out_dir, host);
  only_entry(hostdir, entry, sizeof entry);
  cr_assert_lt(snprintf(buf, size, "%s/%s", hostdir, entry), (int)size);
}

/* Stops a long run with `signo` once it has completed repetitions, and
 * checks the exit status 128 + signo, the parseable files of what was
 * completed and the interrupted status. */
static void check_interrupt(int signo, const char *tag) {
  struct child c;
  spawn_cli(&c, tag,
            (const char *const[]){"run", "refcount", "--reps", "1000",
                                  "--duration", "0.01", "--warmup", "0",
                                  "--out", out_dir, NULL});
  struct timespec nap = {1, 500000000};
  nanosleep(&nap, NULL);
  cr_assert_eq(kill(c.pid, signo), 0);
  wait_cli(&c);
  cr_assert_eq(c.status, 128 + signo, "status %d; stderr: %s", c.status,
               slurp(c.err_path));
  cr_assert(strstr(slurp(c.err_path), "interrupted by"), "stderr: %s",
            slurp(c.err_path));
  char rundir[600], path[700];
  only_run_dir(rundir, sizeof rundir);
  struct sm_csv_table raw;
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &raw);
  cr_assert_gt(raw.nrows, 0, "completed repetitions must be kept");
  sm_csv_table_free(&raw);
  snprintf(path, sizeof path, "%s/machine.csv", rundir);
  cr_assert(strstr(slurp(path), "status,interrupted ("), "%s", slurp(path));
  cr_assert(strstr(slurp(path), "claim_sampling,off: a fixed number of "
                                "repetitions"),
            "%s", slurp(path));
  cr_assert_eq(count_tmp_files(out_dir), 0, "leftover temporary files");
}

Test(cli, sigint_keeps_completed_repetitions) {
  check_interrupt(SIGINT, "sigint");
}

Test(cli, sigterm_keeps_completed_repetitions) {
  check_interrupt(SIGTERM, "sigterm");
}

/* A second SIGINT ends the run at once: exit 130, nothing written, the
 * empty run folder removed. */
Test(cli, second_sigint_exits_at_once) {
  struct child c;
  /* 3 s windows: both signals land inside the first repetition. */
  spawn_cli(&c, "sigint2",
            (const char *const[]){"run", "refcount", "--reps", "2",
                                  "--duration", "3", "--warmup", "0", "--out",
                                  out_dir, NULL});
  struct timespec settle = {1, 0}, gap = {0, 50000000};
  nanosleep(&settle, NULL);
  cr_assert_eq(kill(c.pid, SIGINT), 0);
  nanosleep(&gap, NULL);
  cr_assert_eq(kill(c.pid, SIGINT), 0);
  wait_cli(&c);
  cr_assert_eq(c.status, 130, "status %d; stderr: %s", c.status,
               slurp(c.err_path));
  cr_assert(strstr(slurp(c.err_path), "stopped at once"), "%s",
            slurp(c.err_path));
  char host[64], hostdir[320];
  safe_hostname(host, sizeof host);
  snprintf(hostdir, sizeof hostdir, "%s/%s", out_dir, host);
  cr_assert_leq(count_entries(hostdir), 0, "the run folder must be gone");
  cr_assert_eq(count_tmp_files(out_dir), 0, "leftover temporary files");
}

/* The most address space the memory test allows syncmark: far more than
 * the process needs to start and run a case with small stacks. */
#define MEMORY_TEST_AS_MAX (1024ul << 20)

/* The memory test's case, run by the refusal and by its control. */
static const char *const memory_test_args[] = {
    "run",     "contention/mutex", "--threads", "2",
    "--param", "read_pct=0",       "--quick",   "--duration",
    "0.01",    "--reps",           "1",         NULL};

/* Starts the memory test's case with RLIMIT_AS = as and RLIMIT_STACK =
 * stack, writing to out_dir. */
static void run_memory_case(struct child *c, const char *tag, rlim_t as,
                            rlim_t stack) {
  const char *args[32];
  size_t n = 0;
  for (; memory_test_args[n]; n++)
    args[n] = memory_test_args[n];
  args[n++] = "--out";
  args[n++] = out_dir;
  args[n] = NULL;
  child_limits[0] = (struct child_limit){RLIMIT_AS, as};
  child_limits[1] = (struct child_limit){RLIMIT_STACK, stack};
  run_cli(c, tag, args);
}

/* Memory refused: every thread stack is as large as the whole address space
 * allowed (RLIMIT_STACK, glibc's default thread stack size, equal to
 * RLIMIT_AS), so no thread can be created whatever the machine's headroom;
 * the cases fail with a message naming the limit, nothing crashes. The
 * limit is 1 GiB, or the hard RLIMIT_STACK when that is lower (an
 * unprivileged process cannot raise it). A control run under the same
 * RLIMIT_AS with 1 MiB stacks must succeed, so the failure is the stacks'
 * and not the limit being too small for syncmark itself on this machine;
 * where it does not, the test skips and says so. */
Test(cli, memory_refused_is_reported) {
#ifdef SYNCMARK_SANITIZED
  cr_skip_test("a sanitizer's shadow memory does not fit under RLIMIT_AS");
#endif
  struct rlimit stack_now;
  cr_assert_eq(getrlimit(RLIMIT_STACK, &stack_now), 0);
  rlim_t limit = MEMORY_TEST_AS_MAX;
  if (stack_now.rlim_max != RLIM_INFINITY && stack_now.rlim_max < limit)
    limit = stack_now.rlim_max;
  struct child c;
  run_memory_case(&c, "memok", limit, 1ul << 20);
  if (c.status != 0)
    cr_skip_test("syncmark does not run under RLIMIT_AS %lu MiB even with "
                 "1 MiB stacks (status %d; the hard RLIMIT_STACK caps the "
                 "limit): %s",
                 (unsigned long)(limit >> 20), c.status, slurp(c.err_path));
  char okdir[600];
  only_run_dir(okdir, sizeof okdir);
  nftw(okdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  run_memory_case(&c, "nomem", limit, limit);
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 1, "status %d; stderr: %s", c.status, err);
  cr_assert(strstr(err, "could not create thread") && strstr(err, "RLIMIT_AS"),
            "stderr should name the refused resource: %s", err);
  char rundir[600], path[700];
  only_run_dir(rundir, sizeof rundir);
  snprintf(path, sizeof path, "%s/machine.csv", rundir);
  cr_assert(strstr(slurp(path), "status,failed"), "%s", slurp(path));
  struct sm_csv_table t;
  read_csv(rundir, "problems.csv", SM_CSV_PROBLEMS_HEADER, &t);
  cr_assert_eq(t.nrows, 1);
  sm_csv_table_free(&t);
}

/* A result file that cannot be written (RLIMIT_FSIZE stands in for a full
 * disk): the file is named, the run folder removed, exit 1. */
Test(cli, unwritable_results_remove_the_run_folder) {
  child_limits[0] = (struct child_limit){RLIMIT_FSIZE, 1024};
  struct child c;
  run_cli(&c, "full",
          (const char *const[]){"run", "contention/mutex", "--threads", "1",
                                "--param", "read_pct=0", "--quick", "--out",
                                out_dir, NULL});
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 1, "status %d; stderr: %s", c.status, err);
  cr_assert(strstr(err, "raw.csv: File too large"), "%s", err);
  cr_assert(strstr(err, "removed"), "%s", err);
  char host[64], hostdir[320];
  safe_hostname(host, sizeof host);
  snprintf(hostdir, sizeof hostdir, "%s/%s", out_dir, host);
  cr_assert_leq(count_entries(hostdir), 0, "no run folder may remain");
  cr_assert_eq(count_tmp_files(out_dir), 0, "leftover temporary files");
}

/* A repetition that hangs becomes a timed-out row; the others are kept and
 * the run exits 1 naming the hung case. */
Test(cli, watchdog_turns_a_hang_into_a_timed_out_row) {
  struct child c;
  run_cli(&c, "hang",
          (const char *const[]){"run", "contention/mutex", "contention/sharded",
                                "--threads", "1", "--param", "read_pct=0",
                                "--quick", "--inject-hang", "contention/mutex",
                                "--watchdog", "0.3", "--out", out_dir, NULL});
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 1, "status %d; stderr: %s", c.status, err);
  cr_assert(strstr(err, "contention/mutex read_pct=0;cs_ns=0 threads=1 hung"),
            "%s", err);
  char rundir[600], path[700];
  only_run_dir(rundir, sizeof rundir);
  struct sm_csv_table t;
  read_csv(rundir, "problems.csv", SM_CSV_PROBLEMS_HEADER, &t);
  cr_assert_eq(t.nrows, 1);
  cr_assert_str_eq(t.rows[0][column(&t, "status")], "timed_out");
  cr_assert_str_eq(t.rows[0][column(&t, "variant")], "mutex");
  sm_csv_table_free(&t);
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &t);
  for (size_t r = 0; r < t.nrows; r++)
    cr_assert_str_eq(t.rows[r][column(&t, "variant")], "sharded");
  cr_assert_gt(t.nrows, 0);
  sm_csv_table_free(&t);
  snprintf(path, sizeof path, "%s/machine.csv", rundir);
  cr_assert(strstr(slurp(path), "status,timed out"), "%s", slurp(path));
}

/* --isolate: a family that crashes loses the repetition it crashed in; the
 * other family's rows are written and the run exits 1. */
Test(cli, isolate_survives_a_crashing_family) {
  struct child c;
  run_cli(&c, "crash",
          (const char *const[]){
              "run", "contention/mutex", "refcount/rc_private", "--threads",
              "1", "--param", "read_pct=0", "--quick", "--isolate",
              "--inject-crash", "contention/mutex", "--out", out_dir, NULL});
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 1, "status %d; stderr: %s", c.status, err);
  cr_assert(strstr(err, "crashed: the isolated process died of signal"), "%s",
            err);
  char rundir[600];
  only_run_dir(rundir, sizeof rundir);
  struct sm_csv_table t;
  read_csv(rundir, "problems.csv", SM_CSV_PROBLEMS_HEADER, &t);
  cr_assert_eq(t.nrows, 1);
  cr_assert_str_eq(t.rows[0][column(&t, "status")], "crashed");
  sm_csv_table_free(&t);
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &t);
  cr_assert_gt(t.nrows, 0, "the surviving family's rows are kept");
  for (size_t r = 0; r < t.nrows; r++)
    cr_assert_str_eq(t.rows[r][column(&t, "benchmark")], "refcount");
  sm_csv_table_free(&t);
}

/* Metric names built at run time (a sampling role's <kind>_p50_ns) cross
 * from an --isolate child to the parent by value, whole. */
Test(cli, isolate_keeps_sampled_metric_names) {
  struct child c;
  run_cli(&c, "names",
          (const char *const[]){"run", "stack/spawn_join", "--param",
                                "stack_kib=256", "--param", "touch_kib=0",
                                "--quick", "--reps", "1", "--isolate", "--out",
                                out_dir, NULL});
  cr_assert_eq(c.status, 0, "status %d; stderr: %s", c.status,
               slurp(c.err_path));
  char rundir[600];
  only_run_dir(rundir, sizeof rundir);
  struct sm_csv_table t;
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &t);
  int p50 = 0;
  for (size_t r = 0; r < t.nrows; r++)
    p50 += strcmp(t.rows[r][column(&t, "metric")], "spawn_join_p50_ns") == 0;
  cr_assert_eq(p50, 1, "spawn_join_p50_ns rows: %d", p50);
  sm_csv_table_free(&t);
}

/* An isolated family (deadlock) runs each repetition in a child process of
 * its own, without --isolate: a crash loses only its repetition, and a
 * repetition whose threads deadlock (left behind by the runner, ended with
 * their child) yields its deadlocked row while the next repetitions still
 * run. With a 1 ms hold the unordered variant deadlocks on the first
 * overlap, every repetition. */
Test(cli, isolated_family_runs_each_repetition_in_its_own_process) {
  struct child c;
  run_cli(&c, "deadlock",
          (const char *const[]){"run", "deadlock/unordered", "deadlock/ordered",
                                "--param", "hold_ns=1000000", "--quick",
                                "--reps", "3", "--inject-crash",
                                "deadlock/ordered", "--out", out_dir, NULL});
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 1, "status %d; stderr: %s", c.status, err);
  char rundir[600];
  only_run_dir(rundir, sizeof rundir);
  struct sm_csv_table t;
  read_csv(rundir, "problems.csv", SM_CSV_PROBLEMS_HEADER, &t);
  size_t crashed = t.nrows;
  cr_assert_gt(crashed, 0);
  for (size_t r = 0; r < t.nrows; r++) {
    cr_assert_str_eq(t.rows[r][column(&t, "status")], "crashed");
    cr_assert_str_eq(t.rows[r][column(&t, "variant")], "ordered");
  }
  sm_csv_table_free(&t);
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &t);
  size_t deadlocked = 0;
  for (size_t r = 0; r < t.nrows; r++) {
    const char *metric = t.rows[r][column(&t, "metric")];
    cr_assert_str_eq(t.rows[r][column(&t, "variant")], "unordered");
    cr_assert_str_neq(metric, "ops_per_s",
                      "a deadlocked repetition has a rate");
    if (strcmp(metric, "deadlocked") == 0) {
      cr_assert_str_eq(t.rows[r][column(&t, "value")], "1");
      deadlocked++;
    }
  }
  /* Every repetition of every placement, each after one that deadlocked
   * (one placement per crashed ordered case). */
  cr_assert_eq(deadlocked, 3 * crashed, "%zu deadlocked rows, %zu placements",
               deadlocked, crashed);
  sm_csv_table_free(&t);
}

Test(cli, run_writes_result_files) {
  char rundir[600];
  tiny_run(rundir, sizeof rundir);

  struct sm_csv_table raw;
  read_csv(rundir, "raw.csv", SM_CSV_RAW_HEADER, &raw);
  size_t cb = column(&raw, "benchmark"), cv = column(&raw, "variant"),
         cp = column(&raw, "params"), ct = column(&raw, "threads"),
         cr = column(&raw, "rep"), cm = column(&raw, "metric"),
         cval = column(&raw, "value");
  static const char *const variants[] = {"mutex", "sharded"};
  static const char *const metrics[] = {"ops_per_s", "ns_per_op",
                                        "fairness_jain", "vcsw_per_op"};
  /* seen[variant][threads-1][rep-1][metric] */
  bool seen[2][2][2][4] = {{{{false}}}};
  bool nan_rate[2][2][2] = {{{false}}}, invalid[2][2][2] = {{{false}}};
  for (size_t r = 0; r < raw.nrows; r++) {
    char **row = raw.rows[r];
    cr_assert_str_eq(row[cb], "contention");
    cr_assert(strstr(row[cp], "cs_ns=0"), "--quick params '%s'", row[cp]);
    int v = strcmp(row[cv], "mutex") == 0     ? 0
            : strcmp(row[cv], "sharded") == 0 ? 1
                                              : -1;
    cr_assert_geq(v, 0, "unexpected variant '%s'", row[cv]);
    int t = strcmp(row[ct], "1") == 0 ? 0 : strcmp(row[ct], "2") == 0 ? 1 : -1;
    cr_assert_geq(t, 0, "unexpected threads '%s'", row[ct]);
    int rep = strcmp(row[cr], "1") == 0   ? 0
              : strcmp(row[cr], "2") == 0 ? 1
                                          : -1;
    cr_assert_geq(rep, 0, "unexpected rep '%s'", row[cr]);
    for (int m = 0; m < 4; m++)
      if (strcmp(row[cm], metrics[m]) == 0)
        seen[v][t][rep][m] = true;
    /* nan only where the runner marked the repetition invalid (too fast
     * to time on a loaded machine, valid 0), checked below. */
    if (strcmp(row[cm], "ops_per_s") == 0 && strcmp(row[cval], "nan") == 0)
      nan_rate[v][t][rep] = true;
    else if (strcmp(row[cm], "ops_per_s") == 0)
      cr_assert(positive_finite(row[cval]), "ops_per_s '%s' of %s threads=%s",
                row[cval], row[cv], row[ct]);
    if (strcmp(row[cm], "valid") == 0 && strcmp(row[cval], "0") == 0)
      invalid[v][t][rep] = true;
  }
  for (int v = 0; v < 2; v++)
    for (int t = 0; t < 2; t++)
      for (int rep = 0; rep < 2; rep++)
        cr_assert(!nan_rate[v][t][rep] || invalid[v][t][rep],
                  "ops_per_s nan of %s threads=%d rep=%d without valid 0",
                  variants[v], t + 1, rep + 1);
  for (int v = 0; v < 2; v++)
    for (int t = 0; t < 2; t++)
      for (int rep = 0; rep < 2; rep++)
        for (int m = 0; m < 4; m++)
          cr_assert(seen[v][t][rep][m],
                    "raw.csv lacks %s of %s threads=%d rep=%d", metrics[m],
                    variants[v], t + 1, rep + 1);
  sm_csv_table_free(&raw);

  struct sm_csv_table sum;
  read_csv(rundir, "summary.csv", SM_CSV_SUMMARY_HEADER, &sum);
  size_t sv = column(&sum, "variant"), st = column(&sum, "threads"),
         sm = column(&sum, "metric"), sn = column(&sum, "n");
  bool sum_seen[2][2] = {{false}};
  for (size_t r = 0; r < sum.nrows; r++) {
    char **row = sum.rows[r];
    if (strcmp(row[sm], "ops_per_s") != 0)
      continue;
    cr_assert_str_eq(row[sn], "2", "summary n of %s threads=%s", row[sv],
                     row[st]);
    int v = strcmp(row[sv], "mutex") == 0 ? 0 : 1;
    int t = strcmp(row[st], "1") == 0 ? 0 : 1;
    sum_seen[v][t] = true;
  }
  for (int v = 0; v < 2; v++)
    for (int t = 0; t < 2; t++)
      cr_assert(sum_seen[v][t], "summary.csv lacks ops_per_s of %s threads=%d",
                variants[v], t + 1);
  sm_csv_table_free(&sum);

  struct sm_csv_table mach;
  read_csv(rundir, "machine.csv", SM_CSV_MACHINE_HEADER, &mach);
  const char *status = NULL;
  for (size_t r = 0; r < mach.nrows; r++)
    if (strcmp(mach.rows[r][0], "status") == 0)
      status = mach.rows[r][1];
  cr_assert_not_null(status, "machine.csv has no status");
  cr_assert_str_eq(status, "complete");
  sm_csv_table_free(&mach);
}

/* Returns true when an executable named `name` is in a folder of $PATH. */
static bool on_path(const char *name) {
  const char *path = getenv("PATH");
  if (!path)
    return false;
  char copy[4096], full[4200];
  snprintf(copy, sizeof copy, "%s", path);
  char *save = NULL;
  for (char *d = strtok_r(copy, ":", &save); d;
       d = strtok_r(NULL, ":", &save)) {
    snprintf(full, sizeof full, "%s/%s", *d ? d : ".", name);
    if (access(full, X_OK) == 0)
      return true;
  }
  return false;
}

/* Returns true when file `path` starts with the `len` bytes at `magic`. */
static bool starts_with_bytes(const char *path, const char *magic, size_t len) {
  char buf[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  size_t got = fread(buf, 1, len, f);
  fclose(f);
  return got == len && memcmp(buf, magic, len) == 0;
}

Test(cli, plot_renders_figures) {
  if (!on_path("gnuplot"))
    cr_skip_test("gnuplot is not on PATH");
  char rundir[600];
  tiny_run(rundir, sizeof rundir);
  setenv("SYNCMARK_PLOTS_DIR", SYNCMARK_SOURCE_DIR "/plots", 1);
  struct child c;
  run_cli(&c, "plot", (const char *const[]){"plot", rundir, NULL});
  char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "exit status %d; stderr: %s", c.status, err);

  int png = 0, svg = 0;
  DIR *d = opendir(rundir);
  cr_assert_not_null(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    char path[900];
    snprintf(path, sizeof path, "%s/%s", rundir, e->d_name);
    bool contention = strncmp(e->d_name, "contention", 10) == 0;
    if (len > 4 && strcmp(e->d_name + len - 4, ".png") == 0) {
      cr_assert(contention, "unexpected figure %s", e->d_name);
      cr_assert(nonempty_file(path), "%s is empty", path);
      cr_assert(starts_with_bytes(path, "\x89PNG", 4), "%s is no PNG", path);
      png++;
    } else if (len > 4 && strcmp(e->d_name + len - 4, ".svg") == 0) {
      cr_assert(contention, "unexpected figure %s", e->d_name);
      cr_assert(nonempty_file(path), "%s is empty", path);
      cr_assert(strstr(slurp(path), "<svg"), "%s is no SVG", path);
      svg++;
    }
  }
  closedir(d);
  cr_assert_geq(png, 1, "plot made no contention*.png");
  cr_assert_eq(png, svg, "%d PNG but %d SVG figures", png, svg);
  cr_assert_eq(count_tmp_files(rundir), 0, "leftover *.tmp.* files");
}

/* Sleeps until 20 ms past the start of the next wall-clock second, so that
 * runs started next get their stamp in one second. */
static void align_to_second(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long ns = 1000000000L - now.tv_nsec + 20000000L;
  struct timespec nap = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
  }
}

/* The arguments of each of the two concurrent runs. */
#define CONCURRENT_RUN                                                         \
  "run", "contention/mutex", "--quick", "--threads", "1", "--reps", "1",       \
      "--duration", "0.005", "--warmup", "0"

Test(cli, concurrent_runs_get_distinct_folders) {
  char host[64], hostdir[256];
  safe_hostname(host, sizeof host);
  cr_assert_lt(snprintf(hostdir, sizeof hostdir, "%s/%s", out_dir, host),
               (int)sizeof hostdir);
  /* Two runs straddling a second boundary get distinct stamps and prove
   * nothing about the suffix: try again in a fresh --out (rarely needed,
   * since the start is aligned to the beginning of a second). */
  for (int attempt = 1; attempt <= 3; attempt++) {
    struct child a, b;
    const char *args[] = {CONCURRENT_RUN, "--out", out_dir, NULL};
    align_to_second();
    spawn_cli(&a, "run_a", args);
    spawn_cli(&b, "run_b", args);
    wait_cli(&a);
    wait_cli(&b);
    cr_assert_eq(a.status, 0, "first run: status %d; stderr: %s", a.status,
                 slurp(a.err_path));
    cr_assert_eq(b.status, 0, "second run: status %d; stderr: %s", b.status,
                 slurp(b.err_path));

    DIR *d = opendir(hostdir);
    cr_assert_not_null(d, "opendir %s: %s", hostdir, strerror(errno));
    char names[2][64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      cr_assert_lt(n, 2, "more than two run folders in %s", hostdir);
      snprintf(names[n++], sizeof names[0], "%.63s", e->d_name);
    }
    closedir(d);
    cr_assert_eq(n, 2, "two runs should make two folders, made %d", n);
    cr_assert_eq(count_tmp_files(out_dir), 0, "leftover *.tmp.* files");
    for (int i = 0; i < 2; i++) {
      char path[400];
      snprintf(path, sizeof path, "%s/%s/machine.csv", hostdir, names[i]);
      cr_assert(nonempty_file(path), "%s missing", path);
      snprintf(path, sizeof path, "%s/%s/raw.csv", hostdir, names[i]);
      cr_assert(nonempty_file(path), "%s missing", path);
    }
    const char *first =
        strlen(names[0]) <= strlen(names[1]) ? names[0] : names[1];
    const char *second = first == names[0] ? names[1] : names[0];
    cr_assert(is_stamp(first), "run folder '%s' is not a stamp", first);
    if (is_stamp(second) && strcmp(first, second) != 0 && attempt < 3) {
      nftw(out_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
      continue;
    }
    char expect[80];
    snprintf(expect, sizeof expect, "%s-2", first);
    cr_assert_str_eq(second, expect,
                     "the second run of second %s should get '-2'", first);
    /* Each run names its own folder on stdout. */
    char *out_a = slurp(a.out_path), *out_b = slurp(b.out_path);
    char line_first[400], line_second[400];
    snprintf(line_first, sizeof line_first, "results: %s/%s\n", hostdir, first);
    snprintf(line_second, sizeof line_second, "results: %s/%s\n", hostdir,
             second);
    cr_assert((strstr(out_a, line_first) && strstr(out_b, line_second)) ||
                  (strstr(out_a, line_second) && strstr(out_b, line_first)),
              "stdouts should name the two folders:\n%s\n%s", out_a, out_b);
    /* Each machine file names the other run, started at the same time. */
    for (int i = 0; i < 2; i++) {
      char path[400];
      snprintf(path, sizeof path, "%s/%s/machine.csv", hostdir, names[i]);
      const char *machine = slurp(path);
      cr_assert(strstr(machine, "other_syncmark_pids,") &&
                    !strstr(machine, "other_syncmark_pids,none"),
                "%s should record the other run", path);
    }
    return;
  }
}

/* The arguments of the ab tests' runs after the two binaries: one cheap
 * case of each of two variants, 10 paired rounds of short windows (one
 * round disturbed by the machine still leaves p < 0.05). */
#define AB_CASES                                                               \
  "contention/mutex", "refcount/arc_private", "--threads", "1", "--param",     \
      "read_pct=0", "--quick", "--duration", "0.01", "--reps", "10"

/* Writes <tmp>/slow.sh, a "build" that is syncmark with 500 ns of busy work
 * added to every contention/mutex operation, into path. */
static void write_slow_build(char *path, size_t size) {
  snprintf(path, size, "%s/slow.sh", tmp);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f,
          "#!/bin/sh\nexec %s \"$@\" --inject-delay-ns 500 --inject-into "
          "contention/mutex\n",
          SYNCMARK_BIN);
  cr_assert_eq(fclose(f), 0);
  cr_assert_eq(chmod(path, 0755), 0);
}

/* The same build against itself in alternating rounds: nothing regresses
 * by more than 50% at p < 0.01 (a busy machine moves single rounds by tens
 * of percent; ten rounds agreeing on a 50% change do not happen by chance). */
Test(cli, ab_same_build_is_clean) {
  struct child c;
  run_cli(
      &c, "ab",
      (const char *const[]){"ab", SYNCMARK_BIN, SYNCMARK_BIN, AB_CASES, NULL});
  const char *out = slurp(c.out_path);
  cr_assert_eq(c.status, 0, "status %d: %s %s", c.status, out,
               slurp(c.err_path));
  cr_assert(strstr(out, "Wilcoxon signed-rank test on 10 paired rounds"), "%s",
            out);
  cr_assert(strstr(out, "0 regressed"), "%s", out);
}

/* A build that is 500 ns slower per mutex operation is caught in every
 * paired round (exit 1), the other variant is not flagged, and the Markdown
 * file is written. */
Test(cli, ab_slower_build_is_flagged) {
  char slow[300], md[300];
  write_slow_build(slow, sizeof slow);
  snprintf(md, sizeof md, "%s/ab.md", tmp);
  struct child c;
  run_cli(&c, "ab",
          (const char *const[]){"ab", SYNCMARK_BIN, slow, AB_CASES,
                                "--threshold", "50", "--alpha", "0.01",
                                "--markdown", md, NULL});
  const char *out = slurp(c.out_path);
  cr_assert_eq(c.status, 1, "status %d: %s %s", c.status, out,
               slurp(c.err_path));
  cr_assert(strstr(out, "REGRESSED") && strstr(out, "contention/mutex"), "%s",
            out);
  for (const char *line = out; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    cr_assert(strncmp(line, "REGRESSED", 9) != 0 ||
                  !memmem(line, len, "refcount", 8),
              "the unchanged variant was flagged: %.*s", (int)len, line);
    line = end ? end + 1 : NULL;
  }
  cr_assert(strstr(slurp(md), "### syncmark ab"), "%s", slurp(md));
}

/* A binary that does not exist is bad input: exit 2, named. */
Test(cli, ab_needs_two_executables) {
  EXPECT_USAGE_ERROR("BASE_SYNCMARK", "'/nonexistent/syncmark'", "ab",
                     "/nonexistent/syncmark", SYNCMARK_BIN);
}

/* Copies the value of machine.csv field `key` of run folder `rundir` into
 * value; fails the test when the field is absent. */
static void machine_field(const char *rundir, const char *key, char *value,
                          size_t size) {
  struct sm_csv_table t;
  read_csv(rundir, "machine.csv", SM_CSV_MACHINE_HEADER, &t);
  const char *found = NULL;
  for (size_t r = 0; r < t.nrows && !found; r++)
    if (strcmp(t.rows[r][0], key) == 0)
      found = t.rows[r][1];
  cr_assert_not_null(found, "machine.csv has no %s", key);
  snprintf(value, size, "%s", found);
  sm_csv_table_free(&t);
}

/* The repetition rule's bad inputs: a precision outside (0, 100), a
 * budget below one repetition of every case (naming what it needs), and
 * options that contradict each other. */
Test(cli, precision_and_budget_bad_input) {
  EXPECT_USAGE_ERROR("--precision", "'0'", "run", "contention", "--precision",
                     "0", "--out", out_dir);
  EXPECT_USAGE_ERROR("--precision", "'100'", "run", "contention", "--precision",
                     "100", "--out", out_dir);
  EXPECT_USAGE_ERROR("--budget", "'0.5'", "run", "contention", "--budget",
                     "0.5", "--out", out_dir);
  /* contention, full: 585 cases (13 variants) of 0.3 s, far more than 2 s. */
  EXPECT_USAGE_ERROR("--budget 2", "585 cases", "run", "contention",
                     "--threads", "1,2,3", "--budget", "2", "--out", out_dir);
  EXPECT_USAGE_ERROR("--reps", "--precision", "run", "contention", "--reps",
                     "5", "--precision", "3", "--out", out_dir);
  EXPECT_USAGE_ERROR("--quick", "--thorough", "run", "contention", "--quick",
                     "--thorough", "--out", out_dir);
}

/* A run under a precision target records the rule and what it reached in
 * machine.csv, and gives a precise case no more than it needed. */
Test(cli, precision_target_is_recorded) {
  struct child c;
  run_cli(&c, "precision",
          (const char *const[]){"run", "refcount/arc_private", "--threads", "1",
                                "--quick", "--precision", "50", "--out",
                                out_dir, NULL});
  const char *err = slurp(c.err_path);
  cr_assert_eq(c.status, 0, "status %d; stderr: %s", c.status, err);
  cr_assert_not_null(strstr(slurp(c.out_path), "precision: "),
                     "the run says what precision it reached");
  char rundir[600];
  only_run_dir(rundir, sizeof rundir);
  char value[256];
  machine_field(rundir, "precision_target_pct", value, sizeof value);
  cr_assert_str_eq(value, "50");
  machine_field(rundir, "profile", value, sizeof value);
  cr_assert_str_eq(value, "quick");
  machine_field(rundir, "min_reps", value, sizeof value);
  cr_assert_str_eq(value, "6");
  /* C13 needs a contended arc_shared row this run lacks: claim-driven
   * sampling runs but never samples it (its rows keep at most the rule's 15
   * repetitions, checked below). Where C13 came out inconclusive (on a fast
   * machine; a slow one, a sanitizer build, decides "does not hold" from
   * the uncontended row alone), the run says why it was not sampled. */
  machine_field(rundir, "claim_sampling", value, sizeof value);
  cr_assert_str_eq(value, "on");
  const char *out = slurp(c.out_path);
  cr_assert_null(strstr(out, "C13: inconclusive after"), "%s", out);
  if (strstr(out, "claims: 1 inconclusive"))
    cr_assert_not_null(strstr(out, "C13: inconclusive, not sampled: a row "
                                   "its rule needs is missing"),
                       "%s", out);
  struct sm_csv_table t;
  read_csv(rundir, "summary.csv", SM_CSV_SUMMARY_HEADER, &t);
  for (size_t r = 0; r < t.nrows; r++)
    if (strcmp(t.rows[r][column(&t, "metric")], "ops_per_s") == 0) {
      long n = atol(t.rows[r][column(&t, "n")]);
      cr_assert(n >= 6 && n <= 15, "n %ld outside the rule's 6 to 15", n);
    }
  sm_csv_table_free(&t);
}
