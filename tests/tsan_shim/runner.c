/* Criterion-compatible test runner for ThreadSanitizer builds: main(). */
#include "criterion/criterion.h"

#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What a test's child process reports back to the runner, in memory shared
 * between the two (and any process the test forks). */
struct outcome {
  atomic_int failed;
  atomic_int skipped;
};

static struct sm__crit_test *tests;   /* registered tests, any order */
static size_t ntests;                 /* how many are in `tests` */
static struct sm__crit_suite *suites; /* registered TestSuite()s */
static bool short_filename;           /* --short-filename: basename only */

/* Set in a test's child process only. */
static struct outcome *outcome; /* the shared report, NULL in the runner */
static pid_t child_tid;  /* the child's main thread, set before it spawns any */
static jmp_buf test_end; /* where a fatal failure in it jumps */
static bool test_end_armed; /* whether `test_end` may be jumped to */

/* Links `t` into `tests` (contract in criterion.h).  Never fails. */
void sm__crit_register_test(struct sm__crit_test *t) {
  t->next = tests;
  tests = t;
  ntests++;
}

/* Links `s` into `suites` (contract in criterion.h).  Never fails. */
void sm__crit_register_suite(struct sm__crit_suite *s) {
  s->next = suites;
  suites = s;
}

/* Writes the `len` bytes at `buf` to stderr with write(2) calls, so that the
 * lines of concurrent failures are not interleaved by stdio buffering.
 * Gives up silently on a write error. */
static void write_err(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t)n;
  }
}

/* Returns `file`, or its part after the last '/' under --short-filename.
 * Never fails. */
static const char *shown_file(const char *file) {
  const char *slash = strrchr(file, '/');
  return short_filename && slash ? slash + 1 : file;
}

/* Prints each line of `text` to `f` behind Criterion's "[----]   " prefix;
 * prints nothing for an empty `text`.  Never fails. */
static void print_lines(FILE *f, const char *text) {
  while (*text) {
    size_t len = strcspn(text, "\n");
    fprintf(f, "[----]   %.*s\n", (int)len, text);
    text += len + (text[len] == '\n');
  }
}

/* Formats the message of a failure or skip: `fmt` carries one dummy leading
 * character (see criterion.h), which is dropped.  Returns a malloc'd string,
 * or NULL when out of memory. */
__attribute__((format(printf, 1, 0))) static char *
format_message(const char *fmt, va_list ap) {
  char *msg;
  if (vasprintf(&msg, fmt, ap) < 0)
    return NULL;
  memmove(msg, msg + 1, strlen(msg));
  return msg;
}

/* Ends the running test after a fatal failure or a skip: in the child's main
 * thread while a phase runs, jumps to the end of that phase; anywhere else
 * (another thread, a process the test forked, the runner itself) exits that
 * process at once with status `code`, the outcome being recorded already.
 * Never returns. */
__attribute__((noreturn)) static void end_test(int code) {
  /* The thread test first: only the main thread touches test_end_armed. */
  if (gettid() == child_tid && test_end_armed)
    longjmp(test_end, 1);
  _exit(code);
}

/* Prints a failed check at file:line, as Criterion does: the expression
 * `expr` (may be NULL) and the message `fmt` carries (one dummy leading
 * character, see criterion.h), each line behind "[----]   ".  Marks the
 * running test failed, if any.  Prints less when out of memory. */
__attribute__((format(printf, 4, 0))) static void
report_failure(const char *file, int line, const char *expr, const char *fmt,
               va_list ap) {
  char *msg = format_message(fmt, ap);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f) {
    fprintf(f, "[----] %s:%d: Assertion Failed\n", shown_file(file), line);
    if (expr)
      fprintf(f, "[----]   The expression %s is false.\n", expr);
    else if (!msg || !*msg)
      fprintf(f, "[----]   The conditions for this assertion were not met.\n");
    if (msg)
      print_lines(f, msg);
    if (fclose(f) == 0)
      write_err(text, len);
    free(text);
  }
  free(msg);
  if (outcome)
    atomic_store_explicit(&outcome->failed, 1, memory_order_relaxed);
}

/* Contract in criterion.h. */
void sm__crit_expect_failed(const char *file, int line, const char *expr,
                            const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report_failure(file, line, expr, fmt, ap);
  va_end(ap);
}

/* Contract in criterion.h. */
void sm__crit_assert_failed(const char *file, int line, const char *expr,
                            const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report_failure(file, line, expr, fmt, ap);
  va_end(ap);
  end_test(1);
}

/* Contract in criterion.h. */
void sm__crit_skip(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = format_message(fmt, ap);
  va_end(ap);
  char *text = NULL;
  if (asprintf(&text, "[----] %s:%d: Skipped: %s\n", shown_file(file), line,
               msg ? msg : "") >= 0) {
    write_err(text, strlen(text));
    free(text);
  }
  free(msg);
  if (outcome)
    atomic_store_explicit(&outcome->skipped, 1, memory_order_relaxed);
  end_test(0);
}

/* Contract in criterion.h. */
void sm__crit_log(const char *tag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  char *text = NULL;
  if (asprintf(&text, "%s %s\n", tag, msg) >= 0) {
    write_err(text, strlen(text));
    free(text);
  }
  free(msg);
}

/* Returns the TestSuite() registered for `name`, or NULL if none was. */
static const struct sm__crit_suite *find_suite(const char *name) {
  for (const struct sm__crit_suite *s = suites; s; s = s->next)
    if (strcmp(s->suite_name, name) == 0)
      return s;
  return NULL;
}

/* Runs test `t` of suite `s` (may be NULL) in the current, freshly forked
 * process: suite init, test init and the body, then test fini and suite
 * fini; a fatal failure in the first three skips to the finis, one in a fini
 * skips the rest of the finis.  Exits the process with status 0 when it
 * gets to the end (exit(), so that ThreadSanitizer's exit checks run and
 * turn any report into status 66); never returns. */
__attribute__((noreturn)) static void
run_child(const struct sm__crit_test *t, const struct sm__crit_suite *s) {
  child_tid = getpid();
  if (setjmp(test_end) == 0) {
    test_end_armed = true;
    if (s && s->init)
      s->init();
    if (t->init)
      t->init();
    t->body();
  }
  test_end_armed = false;
  if (setjmp(test_end) == 0) {
    test_end_armed = true;
    if (t->fini)
      t->fini();
    if (s && s->fini)
      s->fini();
  }
  test_end_armed = false;
  exit(0);
}

/* Returns the seconds elapsed on the monotonic clock since `t0`. */
static double since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) +
         (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Waits for child `pid`, killing it with SIGKILL once `timeout` seconds
 * (0: none) have passed since `t0`; SIGCHLD must be blocked.  Stores its
 * wait status in *status and whether it was killed for the timeout in
 * *timed_out.  Returns 0, or -1 with errno set if waitpid fails. */
static int wait_child(pid_t pid, double timeout, const struct timespec *t0,
                      int *status, bool *timed_out) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  *timed_out = false;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR)
      return -1;
    double left = timeout > 0 ? timeout - since(t0) : 0.1;
    if (left <= 0) {
      kill(pid, SIGKILL);
      *timed_out = true;
      while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
      return r == pid ? 0 : -1;
    }
    if (left > 0.1) /* poll now and then in case a SIGCHLD went astray */
      left = 0.1;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left * 1e9)};
    sigtimedwait(&chld, NULL, &ts);
  }
}

/* Tallies for the final Synthesis line, counted as Criterion does: a skipped
 * test that did not fail is not "tested"; a crash also counts as failing. */
struct tally {
  size_t tested, passing, failing, crashing;
};

/* Runs test `t` in a forked child, judges how the child ended against the
 * test's .signal and .exit_code, prints the verdict to stderr and adds it to
 * *tally.  A failure to fork or wait is reported as a failing test. */
static void run_test(const struct sm__crit_test *t, struct outcome *shared,
                     struct tally *tally) {
  const struct sm__crit_suite *s = find_suite(t->suite_name);
  double timeout = t->timeout > 0 ? t->timeout : s ? s->timeout : 0;
  atomic_store(&shared->failed, 0);
  atomic_store(&shared->skipped, 0);
  fprintf(stderr, "[RUN ] %s::%s\n", t->suite_name, t->test_name);
  fflush(NULL);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    outcome = shared;
    run_child(t, s);
  }
  int status = 0;
  bool timed_out = false;
  if (pid < 0 || wait_child(pid, timeout, &t0, &status, &timed_out) < 0) {
    fprintf(stderr, "[FAIL] %s::%s: cannot run the test: %s\n", t->suite_name,
            t->test_name, strerror(errno));
    tally->tested++;
    tally->failing++;
    return;
  }
  double secs = since(&t0);
  bool failed = atomic_load(&shared->failed);
  bool skipped = atomic_load(&shared->skipped);
  char why[160] = "";
  bool crashed = false;
  if (timed_out) {
    snprintf(why, sizeof why, "Timed out. ");
    failed = true;
  } else if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig != t->signal) {
      snprintf(why, sizeof why, "CRASH! (signal %d, %s) ", sig, strsignal(sig));
      failed = crashed = true;
    }
  } else if (WEXITSTATUS(status) != t->exit_code) {
    int code = WEXITSTATUS(status);
    snprintf(why, sizeof why, "exited with status %d, expected %d%s ", code,
             t->exit_code,
             code == 66 ? " (66: ThreadSanitizer reported a problem)" : "");
    failed = true;
  } else if (t->signal && !skipped) {
    snprintf(why, sizeof why, "exited with status %d, expected signal %d ",
             WEXITSTATUS(status), t->signal);
    failed = true;
  }
  if (failed) {
    fprintf(stderr, "[FAIL] %s::%s: %s(%.2fs)\n", t->suite_name, t->test_name,
            why, secs);
    tally->tested++;
    tally->failing++;
    tally->crashing += crashed;
  } else if (skipped) {
    fprintf(stderr, "[SKIP] %s::%s: (%.2fs)\n", t->suite_name, t->test_name,
            secs);
  } else {
    fprintf(stderr, "[PASS] %s::%s: (%.2fs)\n", t->suite_name, t->test_name,
            secs);
    tally->tested++;
    tally->passing++;
  }
}

/* Orders tests by suite name, then by test name, for qsort. */
static int compare_tests(const void *a, const void *b) {
  const struct sm__crit_test *x = *(const struct sm__crit_test *const *)a;
  const struct sm__crit_test *y = *(const struct sm__crit_test *const *)b;
  int c = strcmp(x->suite_name, y->suite_name);
  return c ? c : strcmp(x->test_name, y->test_name);
}

/* Parses the command line: --jobs N (-j N, -jN, --jobs=N) is accepted and
 * ignored, as tests always run one at a time; --short-filename prints file
 * names without their folders; --filter PATTERN (--filter=PATTERN) runs
 * only the tests whose "suite/name" matches the fnmatch(3) PATTERN.  Stores
 * the pattern (or NULL) in *filter.  Returns 0, or -1 after printing a usage
 * message for anything else. */
static int parse_args(int argc, char **argv, const char **filter) {
  *filter = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--short-filename") == 0) {
      short_filename = true;
    } else if ((strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) &&
               i + 1 < argc) {
      i++;
    } else if (strncmp(a, "--jobs=", 7) == 0 ||
               (strncmp(a, "-j", 2) == 0 && a[2])) {
      continue;
    } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
      *filter = argv[++i];
    } else if (strncmp(a, "--filter=", 9) == 0) {
      *filter = a + 9;
    } else {
      fprintf(stderr,
              "%s: unknown option '%s'\n"
              "usage: %s [--jobs N] [--short-filename] [--filter PATTERN]\n",
              argv[0], a, argv[0]);
      return -1;
    }
  }
  return 0;
}

/* Runs every registered test, sorted by suite and name, each in its own
 * child process, and prints Criterion's Synthesis line.  Returns 0 if no
 * test failed or crashed, 1 if one did, 2 on a bad command line or when the
 * runner cannot set itself up. */
int main(int argc, char **argv) {
  const char *filter;
  if (parse_args(argc, argv, &filter) < 0)
    return 2;
  const struct sm__crit_test **list = calloc(ntests ? ntests : 1, sizeof *list);
  struct outcome *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!list || shared == MAP_FAILED) {
    fprintf(stderr, "%s: out of memory\n", argv[0]);
    return 2;
  }
  size_t n = 0;
  for (const struct sm__crit_test *t = tests; t; t = t->next) {
    char full[512];
    snprintf(full, sizeof full, "%s/%s", t->suite_name, t->test_name);
    if (!filter || fnmatch(filter, full, 0) == 0)
      list[n++] = t;
  }
  qsort(list, n, sizeof *list, compare_tests);
  /* Children are reaped by wait_child, which sleeps in sigtimedwait. */
  signal(SIGCHLD, SIG_DFL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  struct tally tally = {0};
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || strcmp(list[i]->suite_name, list[i - 1]->suite_name) != 0) {
      size_t k = i;
      while (k < n && strcmp(list[k]->suite_name, list[i]->suite_name) == 0)
        k++;
      fprintf(stderr, "[====] Running %zu tests from %s:\n", k - i,
              list[i]->suite_name);
    }
    run_test(list[i], shared, &tally);
  }
  fprintf(stderr,
          "[====] Synthesis: Tested: %zu | Passing: %zu | Failing: %zu | "
          "Crashing: %zu\n",
          tally.tested, tally.passing, tally.failing, tally.crashing);
  free(list);
  munmap(shared, sizeof *shared);
  return tally.failing ? 1 : 0;
}
