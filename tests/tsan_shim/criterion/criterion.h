/* Criterion-compatible test API for ThreadSanitizer builds (see runner.c). */
#ifndef SYNCMARK_TSAN_SHIM_CRITERION_H
#define SYNCMARK_TSAN_SHIM_CRITERION_H

/*
 * Only the subset of Criterion 2.4 that syncmark's tests use is provided:
 * Test() with .init/.fini/.timeout/.signal/.exit_code, TestSuite() with
 * .init/.fini/.timeout, the cr_assert and cr_expect families, cr_skip_test,
 * cr_log_info and cr_log_warn.
 * Criterion itself cannot start under ThreadSanitizer (Criterion issue #274),
 * so tests/CMakeLists.txt puts this folder before the system include path and
 * links runner.c instead of libcriterion when SYNCMARK_TSAN is ON.  Messages
 * must be string literals, as with Criterion.
 */

/* The same standard headers as Criterion's criterion.h, so that a test that
 * builds against one builds against the other. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* One TestSuite(): the hooks and default timeout of a suite's tests. */
struct sm__crit_suite {
  const char *suite_name;
  void (*init)(void);
  void (*fini)(void);
  double timeout; /* seconds; 0 means none */
  struct sm__crit_suite *next;
};

/* One Test(): its body, hooks and expected way of ending. */
struct sm__crit_test {
  const char *suite_name;
  const char *test_name;
  void (*body)(void);
  void (*init)(void);
  void (*fini)(void);
  double timeout; /* seconds; 0 means the suite's, then none */
  int signal;     /* the test passes only if it dies by this signal */
  int exit_code;  /* the test passes only if it exits with this status */
  struct sm__crit_test *next;
};

/* Adds `t` to the runner's list; called from constructors before main().
 * Never fails; `t` must stay valid for the whole run. */
void sm__crit_register_test(struct sm__crit_test *t);

/* Adds `s` to the runner's list of suites; called from constructors before
 * main().  Never fails; `s` must stay valid for the whole run. */
void sm__crit_register_suite(struct sm__crit_suite *s);

/* Reports a failed cr_expect at file:line: `expr` (may be NULL) is the
 * checked expression, `fmt` the message format prefixed with one dummy
 * character (so that an absent message is "x", not an empty format).  Marks
 * the running test failed and returns. */
void sm__crit_expect_failed(const char *file, int line, const char *expr,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports a failed cr_assert as sm__crit_expect_failed does, then ends the
 * test: in the test's main thread it jumps to the fini hooks, in any other
 * thread (or a process the test forked) it exits that process at once with
 * status 1.  Never returns. */
void sm__crit_assert_failed(const char *file, int line, const char *expr,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

/* Marks the running test skipped with the message `fmt` (prefixed with one
 * dummy character, as for sm__crit_expect_failed) and ends it as
 * sm__crit_assert_failed would, but without marking it failed.  Never returns.
 */
void sm__crit_skip(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Writes the printf-style message `fmt` to stderr as one line prefixed by
 * `tag` ("[----]" or "[WARN]"), as Criterion's cr_log does.  Never fails the
 * test; a message that cannot be formatted is dropped. */
void sm__crit_log(const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define cr_log_info(...) sm__crit_log("[----]", __VA_ARGS__)
#define cr_log_warn(...) sm__crit_log("[WARN]", __VA_ARGS__)

/* Defines test `name` of `suite`; the designated options follow, and the
 * test's body follows the macro. */
#define Test(suite, name, ...)                                                 \
  static void sm__crit_body_##suite##_##name(void);                            \
  static struct sm__crit_test sm__crit_test_##suite##_##name = {               \
      .suite_name = #suite,                                                    \
      .test_name = #name,                                                      \
      .body = sm__crit_body_##suite##_##name,                                  \
      __VA_ARGS__};                                                            \
  __attribute__((constructor)) static void sm__crit_reg_##suite##_##name(      \
      void) {                                                                  \
    sm__crit_register_test(&sm__crit_test_##suite##_##name);                   \
  }                                                                            \
  static void sm__crit_body_##suite##_##name(void)

/* Sets the hooks and default timeout of `suite`; a ';' follows the macro. */
#define TestSuite(suite, ...)                                                  \
  static struct sm__crit_suite sm__crit_suite_##suite;                         \
  __attribute__((constructor)) static void sm__crit_sreg_##suite(void) {       \
    sm__crit_register_suite(&sm__crit_suite_##suite);                          \
  }                                                                            \
  static struct sm__crit_suite sm__crit_suite_##suite = {.suite_name = #suite, \
                                                         __VA_ARGS__}

/* The check behind every assertion: when `cond` is false, reports `expr` and
 * the optional printf-style message through sm__crit_assert_failed (`kind`
 * is assert) or sm__crit_expect_failed (`kind` is expect). */
#define sm__crit_check(kind, cond, expr, ...)                                  \
  do {                                                                         \
    if (!(cond))                                                               \
      sm__crit_##kind##_failed(__FILE__, __LINE__, expr, "x" __VA_ARGS__);     \
  } while (0)

#define cr_assert(cond, ...) sm__crit_check(assert, cond, #cond, __VA_ARGS__)
#define cr_expect(cond, ...) sm__crit_check(expect, cond, #cond, __VA_ARGS__)
#define cr_assert_not(cond, ...)                                               \
  sm__crit_check(assert, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_not(cond, ...)                                               \
  sm__crit_check(expect, !(cond), "!(" #cond ")", __VA_ARGS__)

#define cr_assert_fail(...)                                                    \
  sm__crit_assert_failed(__FILE__, __LINE__, NULL, "x" __VA_ARGS__)
#define cr_expect_fail(...)                                                    \
  sm__crit_expect_failed(__FILE__, __LINE__, NULL, "x" __VA_ARGS__)
#define cr_skip_test(...) sm__crit_skip(__FILE__, __LINE__, "x" __VA_ARGS__)

#define cr_assert_eq(a, b, ...)                                                \
  sm__crit_check(assert, (a) == (b), "(" #a ") == (" #b ")", __VA_ARGS__)
#define cr_assert_neq(a, b, ...)                                               \
  sm__crit_check(assert, (a) != (b), "(" #a ") != (" #b ")", __VA_ARGS__)
#define cr_assert_lt(a, b, ...)                                                \
  sm__crit_check(assert, (a) < (b), "(" #a ") < (" #b ")", __VA_ARGS__)
#define cr_assert_leq(a, b, ...)                                               \
  sm__crit_check(assert, (a) <= (b), "(" #a ") <= (" #b ")", __VA_ARGS__)
#define cr_assert_gt(a, b, ...)                                                \
  sm__crit_check(assert, (a) > (b), "(" #a ") > (" #b ")", __VA_ARGS__)
#define cr_assert_geq(a, b, ...)                                               \
  sm__crit_check(assert, (a) >= (b), "(" #a ") >= (" #b ")", __VA_ARGS__)
#define cr_expect_eq(a, b, ...)                                                \
  sm__crit_check(expect, (a) == (b), "(" #a ") == (" #b ")", __VA_ARGS__)
#define cr_expect_neq(a, b, ...)                                               \
  sm__crit_check(expect, (a) != (b), "(" #a ") != (" #b ")", __VA_ARGS__)
#define cr_expect_lt(a, b, ...)                                                \
  sm__crit_check(expect, (a) < (b), "(" #a ") < (" #b ")", __VA_ARGS__)
#define cr_expect_leq(a, b, ...)                                               \
  sm__crit_check(expect, (a) <= (b), "(" #a ") <= (" #b ")", __VA_ARGS__)
#define cr_expect_gt(a, b, ...)                                                \
  sm__crit_check(expect, (a) > (b), "(" #a ") > (" #b ")", __VA_ARGS__)
#define cr_expect_geq(a, b, ...)                                               \
  sm__crit_check(expect, (a) >= (b), "(" #a ") >= (" #b ")", __VA_ARGS__)

#define cr_assert_null(p, ...)                                                 \
  sm__crit_check(assert, (p) == NULL, "(" #p ") == NULL", __VA_ARGS__)
#define cr_expect_null(p, ...)                                                 \
  sm__crit_check(expect, (p) == NULL, "(" #p ") == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...)                                             \
  sm__crit_check(assert, (p) != NULL, "(" #p ") != NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...)                                             \
  sm__crit_check(expect, (p) != NULL, "(" #p ") != NULL", __VA_ARGS__)

#define cr_assert_str_eq(a, b, ...)                                            \
  sm__crit_check(assert, strcmp((a), (b)) == 0, "strcmp(" #a ", " #b ") == 0", \
                 __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...)                                            \
  sm__crit_check(expect, strcmp((a), (b)) == 0, "strcmp(" #a ", " #b ") == 0", \
                 __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...)                                           \
  sm__crit_check(assert, strcmp((a), (b)) != 0, "strcmp(" #a ", " #b ") != 0", \
                 __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...)                                           \
  sm__crit_check(expect, strcmp((a), (b)) != 0, "strcmp(" #a ", " #b ") != 0", \
                 __VA_ARGS__)
#define cr_assert_str_empty(s, ...)                                            \
  sm__crit_check(assert, (s)[0] == '\0', "(" #s ")[0] == '\\0'", __VA_ARGS__)
#define cr_expect_str_empty(s, ...)                                            \
  sm__crit_check(expect, (s)[0] == '\0', "(" #s ")[0] == '\\0'", __VA_ARGS__)

#define cr_assert_float_eq(a, b, eps, ...)                                     \
  sm__crit_check(assert, (b) - (a) <= (eps) && (a) - (b) <= (eps),             \
                 "|(" #a ") - (" #b ")| <= (" #eps ")", __VA_ARGS__)
#define cr_expect_float_eq(a, b, eps, ...)                                     \
  sm__crit_check(expect, (b) - (a) <= (eps) && (a) - (b) <= (eps),             \
                 "|(" #a ") - (" #b ")| <= (" #eps ")", __VA_ARGS__)

#endif
