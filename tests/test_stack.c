/* test_stack.c: Criterion tests of the stack, sleep and oversub families'
 * limits through the syncmark command line: axis ranges, and a thread count
 * the OS refuses (RLIMIT_NPROC, as user nobody). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
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
#define CHILD_TIMEOUT_S 60
/* The unprivileged user and group the RLIMIT_NPROC tests run as. */
#define NOBODY 65534

/* The test's temporary folder (world-writable, so nobody can write its
 * run folder there) and the child's output files. */
static char tmp[128];
static char out_path[192], err_path[192];

/* Creates the temporary folder, open to every user. */
static void setup(void) {
  snprintf(tmp, sizeof tmp, "/tmp/sm_stack_test.XXXXXX");
  cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
  cr_assert_eq(chmod(tmp, 0777), 0, "chmod %s: %s", tmp, strerror(errno));
  snprintf(out_path, sizeof out_path, "%s/child.out", tmp);
  snprintf(err_path, sizeof err_path, "%s/child.err", tmp);
}

/* Removes the temporary folder and everything below it. */
static void teardown(void) {
  nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(stack, .init = setup, .fini = teardown);

/* In the child: sends stdout and stderr to the test's files and stdin to
 * /dev/null, and moves into the temporary folder. Exits 126 on failure. */
static void redirect_child(void) {
  int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  int in = open("/dev/null", O_RDONLY);
  if (out < 0 || err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
      dup2(err, 2) < 0 || chdir(tmp) != 0)
    _exit(126);
}

/* In the child: becomes user and group nobody (root ignores RLIMIT_NPROC)
 * and limits the user to `nproc` processes and threads. Exits 125 on
 * failure. */
static void become_limited_nobody(rlim_t nproc) {
  struct rlimit lim = {nproc, nproc};
  if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0 ||
      setrlimit(RLIMIT_NPROC, &lim) != 0)
    _exit(125);
}

/* Runs the syncmark binary with `args` (NULL-terminated, argv[0] not
 * included), as nobody limited to `nproc` threads when nproc > 0, and
 * returns its exit status. Fails the test when it dies from a signal or
 * outlives CHILD_TIMEOUT_S (it is then killed). */
static int run_syncmark(const char *const *args, rlim_t nproc) {
  const char *argv[32] = {SYNCMARK_BIN};
  size_t n = 1;
  for (; args[n - 1] && n < 31; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    redirect_child();
    /* LeakSanitizer needs a thread of its own at exit, which the lowered
     * RLIMIT_NPROC refuses (sanitizer builds only; ignored otherwise). */
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    if (nproc > 0)
      become_limited_nobody(nproc);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  struct timespec start, now, nap = {0, 5000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > CHILD_TIMEOUT_S) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("syncmark did not finish within %d s", CHILD_TIMEOUT_S);
    }
    nanosleep(&nap, NULL);
  }
  cr_assert(WIFEXITED(status), "syncmark died from signal %d",
            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return WEXITSTATUS(status);
}

/* Returns the content of `path` (at most 64 KiB) in a static buffer,
 * NUL-terminated; "" when it cannot be read. */
static const char *slurp(const char *path) {
  static char buf[65536];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Runs syncmark with `args` and checks a usage error: exit status 2 and a
 * stderr line naming `what` and `allowed`. */
static void expect_range_error(const char *const *args, const char *what,
                               const char *allowed) {
  int status = run_syncmark(args, 0);
  const char *err = slurp(err_path);
  cr_assert_eq(status, 2, "exit status %d, expected 2; stderr: %s", status,
               err);
  cr_assert(strstr(err, what), "stderr should name '%s': %s", what, err);
  cr_assert(strstr(err, allowed), "stderr should name '%s': %s", allowed, err);
}

Test(stack, stack_below_system_minimum_is_rejected) {
  expect_range_error((const char *const[]){"run", "stack", "--param",
                                           "stack_kib=8", "--out", tmp, NULL},
                     "stack_kib=8", "16 to 1048576");
}

Test(stack, stack_over_the_spawn_limit_is_rejected) {
  expect_range_error((const char *const[]){"run", "stack/idle", "--param",
                                           "stack_kib=2097152", "--out", tmp,
                                           NULL},
                     "stack_kib=2097152", "16 to 1048576");
}

Test(stack, touch_depth_over_its_range_is_rejected) {
  expect_range_error((const char *const[]){"run", "stack", "--param",
                                           "touch_kib=-1", "--out", tmp, NULL},
                     "touch_kib=-1", "0 to 65536");
}

Test(stack, sleep_of_zero_is_rejected) {
  expect_range_error((const char *const[]){"run", "sleep", "--param",
                                           "sleep_us=0", "--out", tmp, NULL},
                     "sleep_us=0", "1 to 100000");
}

/* Writes into path the only entry of folder `dir` ("." and ".." aside),
 * joined to dir; fails the test when there is not exactly one. */
static void only_entry(const char *dir, char *path, size_t size) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      snprintf(path, size, "%s/%s", dir, e->d_name);
      n++;
    }
  closedir(d);
  cr_assert_eq(n, 1, "%s should hold exactly one entry, holds %d", dir, n);
}

/* Finds the run folder <tmp>/out/<host>/<stamp> into dir. */
static void find_run_dir(char *dir, size_t size) {
  char out[256], host[512];
  snprintf(out, sizeof out, "%s/out", tmp);
  only_entry(out, host, sizeof host);
  only_entry(host, dir, size);
}

/* Checks that no file of the run folder is a leftover temporary one. */
static void check_no_partial_files(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)))
    cr_assert_null(strstr(e->d_name, ".tmp."), "%s holds temporary file %s",
                   dir, e->d_name);
  closedir(d);
}

/* Returns the median of `metric` of the stack/idle rows of summary.csv in
 * dir, or -1 when there is no such row. */
static double idle_median(const char *dir, const char *metric) {
  char path[600];
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  struct sm_csv_table t = {0};
  cr_assert_eq(sm_csv_read(path, &t), 0, "cannot read %s", path);
  int variant = sm_csv_column(&t, "variant"), m = sm_csv_column(&t, "metric");
  int median = sm_csv_column(&t, "median");
  cr_assert(variant >= 0 && m >= 0 && median >= 0);
  double value = -1;
  for (size_t r = 0; r < t.nrows; r++)
    if (strcmp(t.rows[r][variant], "idle") == 0 &&
        strcmp(t.rows[r][m], metric) == 0)
      value = atof(t.rows[r][median]);
  sm_csv_table_free(&t);
  return value;
}

/* Threads syncmark runs an idle case with before its idle threads: main,
 * the watchdog's repetition thread, and the case's spawner and joiner. */
#define RUNNER_THREADS 4

/* The idle case both RLIMIT_NPROC tests run: 64 threads (quick). */
#define IDLE_ARGS                                                              \
  "run", "stack/idle", "--quick", "--param", "stack_kib=64", "--param",        \
      "touch_kib=0", "--reps", "1", "--out"

Test(stack, refused_first_thread_is_skipped_with_its_reason) {
  if (geteuid() != 0)
    cr_skip_test("needs root to run syncmark as user nobody");
#ifdef SYNCMARK_SANITIZED
  cr_skip_test("a sanitizer's own threads count against RLIMIT_NPROC, so the "
               "runner's threads no longer fit exactly");
#endif
  char out[256];
  snprintf(out, sizeof out, "%s/out", tmp);
  /* The runner's own threads fit (main, the watchdog's repetition thread,
   * the case's spawner and joiner); the first idle thread does not. */
  int status =
      run_syncmark((const char *const[]){IDLE_ARGS, out, NULL}, RUNNER_THREADS);
  const char *err = slurp(err_path);
  /* RLIMIT_NPROC counts every task of the user on the machine: where
   * another process of user nobody runs, even the runner's own threads do
   * not fit, and the test cannot tell anything. */
  if (status == 1 && strstr(err, "could not create thread 0 of"))
    cr_skip_test("other tasks of user nobody count against RLIMIT_NPROC: "
                 "the runner's own threads did not fit");
  cr_assert_eq(status, 0, "exit status %d; stderr: %s", status, err);
  cr_assert(strstr(err, "refused to create the first of 64 idle threads"),
            "stderr should say the OS refused the first thread: %s", err);
  cr_assert(strstr(err, "RLIMIT_NPROC"), "stderr should name the limit: %s",
            err);
  char dir[512];
  find_run_dir(dir, sizeof dir);
  check_no_partial_files(dir);
  cr_assert_eq(idle_median(dir, "threads_reached"), -1,
               "a skipped case must not leave rows");
}

Test(stack, thread_limit_reports_threads_reached) {
  if (geteuid() != 0)
    cr_skip_test("needs root to run syncmark as user nobody");
#ifdef SYNCMARK_SANITIZED
  cr_skip_test("a sanitizer's own threads count against RLIMIT_NPROC and "
               "its thread creation may not fit a pass in a quick window");
#endif
  char out[256];
  snprintf(out, sizeof out, "%s/out", tmp);
  int status = run_syncmark((const char *const[]){IDLE_ARGS, out, NULL}, 24);
  const char *err = slurp(err_path);
  cr_assert_eq(status, 0, "exit status %d; stderr: %s", status, err);
  char dir[512];
  find_run_dir(dir, sizeof dir);
  check_no_partial_files(dir);
  double reached = idle_median(dir, "threads_reached");
  cr_assert(reached >= 1 && reached < 24,
            "threads_reached %g should be between 1 and the limit of 24",
            reached);
  cr_assert_eq(idle_median(dir, "threads_planned"), 64);
  cr_assert_eq(idle_median(dir, "spawn_errno"), EAGAIN,
               "spawning should have stopped at EAGAIN");
}
