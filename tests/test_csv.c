/* test_csv.c: Criterion tests of the CSV writer, reader and number format. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syncmark/csv.h"

static char dir[64];

/* Creates the test's temporary directory under /tmp; fails the test when it
 * cannot. */
static void setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/sm_csv_test.XXXXXX");
  cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Removes every file in the temporary directory, then the directory; errors
 * are ignored since the test's outcome is already decided. */
static void teardown(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[512];
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

TestSuite(csv, .init = setup, .fini = teardown);

/* Writes `dir`/`name` into `buf` (of `size` bytes) and returns buf. */
static char *in_dir(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", dir, name);
  return buf;
}

/* Writes `<path>.tmp.<our pid>` into `buf` (of `size` bytes), returns buf. */
static char *tmp_of(char *buf, size_t size, const char *path) {
  snprintf(buf, size, "%s.tmp.%ld", path, (long)getpid());
  return buf;
}

/* Returns 1 when `path` exists, 0 otherwise. */
static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Returns the number of entries in the temporary directory, . and .. aside. */
static int dir_entries(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  cr_assert_not_null(d);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* Creates `path` holding exactly the `len` bytes at `data`. */
static void write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

/* Returns the whole content of `path` in a static buffer, NUL-terminated. */
static const char *read_file(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "rb");
  size_t n;
  cr_assert_not_null(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

Test(csv, round_trip) {
  char path[256], tmp[300];
  struct sm_csv_writer *w = NULL;
  struct sm_csv_table t;
  const char *rows[][4] = {
      {"plain", "x", "1", "2.5"},
      {"with,comma", "say \"hi\"", "line1\nline2", "cr\r\nlf"},
      {"", NULL, "\"", ",,"},
      {"trailing", "", "", ""},
  };
  const char *expect[][4] = {
      {"plain", "x", "1", "2.5"},
      {"with,comma", "say \"hi\"", "line1\nline2", "cr\r\nlf"},
      {"", "", "\"", ",,"},
      {"trailing", "", "", ""},
  };

  in_dir(path, sizeof(path), "out.csv");
  tmp_of(tmp, sizeof(tmp), path);
  cr_assert_eq(sm_csv_open(path, "a,b,c,d", &w), 0);
  cr_assert_not_null(w);
  cr_assert(exists(tmp), "temporary file should exist while writing");
  for (size_t r = 0; r < 4; r++)
    cr_assert_eq(sm_csv_write_row(w, rows[r], 4), 0);
  cr_assert_not(exists(path), "final file must not exist before commit");
  cr_assert_eq(sm_csv_commit(w), 0);
  cr_assert(exists(path));
  cr_assert_not(exists(tmp), "temporary file must be gone after commit");
  cr_assert_eq(dir_entries(), 1);

  cr_assert_str_eq(read_file(path),
                   "a,b,c,d\n"
                   "plain,x,1,2.5\n"
                   "\"with,comma\",\"say \"\"hi\"\"\",\"line1\nline2\","
                   "\"cr\r\nlf\"\n"
                   ",,\"\"\"\",\",,\"\n"
                   "trailing,,,\n");

  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.ncols, 4);
  cr_assert_eq(t.nrows, 4);
  cr_assert_str_eq(t.header[0], "a");
  cr_assert_str_eq(t.header[3], "d");
  for (size_t r = 0; r < 4; r++)
    for (size_t c = 0; c < 4; c++)
      cr_assert_str_eq(t.rows[r][c], expect[r][c], "row %zu col %zu", r, c);
  sm_csv_table_free(&t);
  cr_assert_eq(t.ncols, 0);
  cr_assert_eq(t.nrows, 0);
  cr_assert_null(t.header);
  cr_assert_null(t.rows);
}

Test(csv, single_column_empty_field) {
  char path[256];
  struct sm_csv_writer *w = NULL;
  struct sm_csv_table t;
  const char *empty[] = {NULL};
  const char *one[] = {"v"};

  in_dir(path, sizeof(path), "one.csv");
  cr_assert_eq(sm_csv_open(path, SM_CSV_MACHINE_HEADER, &w), 0);
  cr_assert_eq(sm_csv_write_row(w, empty, 1), 0);
  cr_assert_eq(sm_csv_write_row(w, one, 1), 0);
  cr_assert_eq(sm_csv_commit(w), 0);
  cr_assert_str_eq(read_file(path), "key,value\n\"\"\nv\n");
  /* The header has two columns, the rows one: the reader refuses it. */
  cr_assert_eq(sm_csv_read(path, &t), -EINVAL);

  unlink(path);
  cr_assert_eq(sm_csv_open(path, "k", &w), 0);
  cr_assert_eq(sm_csv_write_row(w, empty, 1), 0);
  cr_assert_eq(sm_csv_write_row(w, one, 1), 0);
  cr_assert_eq(sm_csv_commit(w), 0);
  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.ncols, 1);
  cr_assert_eq(t.nrows, 2);
  cr_assert_str_eq(t.rows[0][0], "");
  cr_assert_str_eq(t.rows[1][0], "v");
  sm_csv_table_free(&t);
}

Test(csv, abort_leaves_nothing) {
  char path[256], tmp[300];
  struct sm_csv_writer *w = NULL;
  const char *row[] = {"1", "2"};

  in_dir(path, sizeof(path), "aborted.csv");
  tmp_of(tmp, sizeof(tmp), path);
  cr_assert_eq(sm_csv_open(path, "a,b", &w), 0);
  cr_assert_eq(sm_csv_write_row(w, row, 2), 0);
  cr_assert(exists(tmp));
  sm_csv_abort(w);
  cr_assert_not(exists(tmp), "temporary file must be gone after abort");
  cr_assert_not(exists(path));
  cr_assert_eq(dir_entries(), 0);
  sm_csv_abort(NULL);
}

Test(csv, open_in_missing_directory) {
  char path[256];
  struct sm_csv_writer *w = (struct sm_csv_writer *)&w;

  in_dir(path, sizeof(path), "no/such/dir/out.csv");
  cr_assert_eq(sm_csv_open(path, "a", &w), -ENOENT);
  cr_assert_eq(w, (struct sm_csv_writer *)&w, "*out must be untouched");
  cr_assert_eq(dir_entries(), 0);
}

Test(csv, open_refuses_existing_temp_file) {
  char path[256];
  struct sm_csv_writer *w1 = NULL, *w2 = NULL;
  const char *row[] = {"x"};

  in_dir(path, sizeof(path), "twice.csv");
  cr_assert_eq(sm_csv_open(path, "a", &w1), 0);
  cr_assert_eq(sm_csv_open(path, "a", &w2), -EEXIST);
  cr_assert_null(w2);
  cr_assert_eq(sm_csv_write_row(w1, row, 1), 0);
  cr_assert_eq(sm_csv_commit(w1), 0);
  cr_assert_str_eq(read_file(path), "a\nx\n");
}

Test(csv, write_error_surfaces_at_commit) {
  char path[256];
  struct sm_csv_writer *w = NULL;
  struct rlimit lim = {.rlim_cur = 1024, .rlim_max = RLIM_INFINITY};
  const char *row[] = {"0123456789abcdef", "0123456789abcdef"};
  int rc = 0;

  /* A file size limit makes writes past 1 KiB fail with EFBIG, as a full
   * disk makes them fail with ENOSPC; stdio buffers 4 KiB, so the failure
   * shows up only when the buffer is flushed. */
  cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
  lim.rlim_cur = 1024;
  signal(SIGXFSZ, SIG_IGN);
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

  in_dir(path, sizeof(path), "big.csv");
  cr_assert_eq(sm_csv_open(path, "a,b", &w), 0);
  for (int i = 0; i < 200 && rc == 0; i++)
    rc = sm_csv_write_row(w, row, 2);
  if (rc == 0)
    rc = sm_csv_commit(w);
  else
    cr_assert_eq(sm_csv_commit(w), rc, "commit repeats the row's error");
  cr_assert_eq(rc, -EFBIG);
  cr_assert_not(exists(path));
  cr_assert_eq(dir_entries(), 0);
}

Test(csv, write_row_rejects_no_fields) {
  char path[256];
  struct sm_csv_writer *w = NULL;
  const char *row[] = {"x"};

  in_dir(path, sizeof(path), "bad.csv");
  cr_assert_eq(sm_csv_open(path, "a", &w), 0);
  cr_assert_eq(sm_csv_write_row(w, row, 0), -EINVAL);
  cr_assert_eq(sm_csv_write_row(w, row, 1), -EINVAL);
  cr_assert_eq(sm_csv_commit(w), -EINVAL);
  cr_assert_eq(dir_entries(), 0);
}

/* Asserts that reading `len` bytes of `data` as a file gives -EINVAL and
 * leaves the table untouched. */
static void assert_invalid(const char *data, size_t len) {
  char path[256];
  struct sm_csv_table t = {.ncols = 7, .nrows = 9};
  in_dir(path, sizeof(path), "in.csv");
  write_file(path, data, len);
  cr_assert_eq(sm_csv_read(path, &t), -EINVAL, "input: %s", data);
  cr_assert_eq(t.ncols, 7);
  cr_assert_eq(t.nrows, 9);
  cr_assert_null(t.header);
  cr_assert_null(t.rows);
  unlink(path);
}

Test(csv, read_rejects_malformed) {
  /* Too many, then too few fields in a data row. */
  assert_invalid("a,b\n1,2\n1,2,3\n", 14);
  assert_invalid("a,b\n1,2\n1\n", 10);
  /* A blank line in a two-column file is a row of one field. */
  assert_invalid("a,b\n1,2\n\n3,4\n", 13);
  /* Unterminated quotes, at the end and swallowing the rest. */
  assert_invalid("a,b\n1,\"2\n", 9);
  assert_invalid("a,b\n\"1,2\n3,4\n", 13);
  assert_invalid("a\n\"", 3);
  /* Text after a closing quote, a stray quote, a lone CR. */
  assert_invalid("a,b\n\"1\"x,2\n", 11);
  assert_invalid("a,b\n1\"x,2\n", 10);
  assert_invalid("a,b\n1\r2,3\n", 10);
  /* An empty file has no header. */
  assert_invalid("", 0);
}

/* The line of the record where parsing failed, for error messages. */
static size_t error_line_of(const char *text) {
  struct sm_csv_table t = {0};
  size_t line = 99;
  cr_assert_eq(sm_csv_parse(text, strlen(text), &t, &line), -EINVAL);
  return line;
}

Test(csv, parse_reports_the_failing_line) {
  cr_assert_eq(error_line_of("a,b\n1,2\n1,2,3\n"), 3);
  cr_assert_eq(error_line_of("a,b\n1,2\n3,4\n5"), 4);
  cr_assert_eq(error_line_of("a,b\n\"x\ny\",2\n3\n"), 4,
               "a quoted line break counts as a line");
  cr_assert_eq(error_line_of(""), 1);
  struct sm_csv_table t = {0};
  size_t line = 99;
  cr_assert_eq(sm_csv_parse("a\n1\n", 4, &t, &line), 0);
  cr_assert_eq(line, 0);
  cr_assert_eq(t.nrows, 1);
  sm_csv_table_free(&t);
}

Test(csv, read_missing_file) {
  char path[256];
  struct sm_csv_table t = {.ncols = 3};
  in_dir(path, sizeof(path), "absent.csv");
  cr_assert_eq(sm_csv_read(path, &t), -ENOENT);
  cr_assert_eq(t.ncols, 3);
}

Test(csv, read_crlf_and_no_final_newline) {
  char path[256];
  struct sm_csv_table t;
  const char data[] = "x,y\r\n1,\"a\r\nb\"\r\n\"\"\"q\"\"\",\r\n3,4";

  in_dir(path, sizeof(path), "crlf.csv");
  write_file(path, data, sizeof(data) - 1);
  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.ncols, 2);
  cr_assert_eq(t.nrows, 3);
  cr_assert_str_eq(t.header[0], "x");
  cr_assert_str_eq(t.header[1], "y");
  cr_assert_str_eq(t.rows[0][0], "1");
  cr_assert_str_eq(t.rows[0][1], "a\r\nb");
  cr_assert_str_eq(t.rows[1][0], "\"q\"");
  cr_assert_str_eq(t.rows[1][1], "");
  cr_assert_str_eq(t.rows[2][0], "3");
  cr_assert_str_eq(t.rows[2][1], "4");
  sm_csv_table_free(&t);
}

Test(csv, read_header_only) {
  char path[256];
  struct sm_csv_table t;
  in_dir(path, sizeof(path), "hdr.csv");
  write_file(path, "a,b,c\n", 6);
  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.ncols, 3);
  cr_assert_eq(t.nrows, 0);
  cr_assert_str_eq(t.header[2], "c");
  sm_csv_table_free(&t);
}

/* Asserts that `value` formats as `expect` and reads back exactly. */
static void assert_format(double value, const char *expect) {
  char buf[32];
  cr_assert_eq(sm_csv_format_double(value, buf, sizeof(buf)), buf);
  cr_assert_str_eq(buf, expect);
  if (!isnan(value))
    cr_assert(strtod(buf, NULL) == value, "%s does not round-trip", buf);
}

Test(csv, format_double) {
  char buf[32];
  assert_format(0.1, "0.1");
  assert_format(1e-300, "1e-300");
  assert_format(123456789.0, "123456789");
  assert_format(1.0 / 3, "0.3333333333333333");
  assert_format(0.1 + 0.2, "0.30000000000000004");
  assert_format(0.0, "0");
  assert_format(-2.5, "-2.5");
  assert_format(NAN, "nan");
  assert_format(-NAN, "nan");
  assert_format(INFINITY, "inf");
  assert_format(-INFINITY, "-inf");
  /* Extremes round-trip too. */
  sm_csv_format_double(4.9406564584124654e-324, buf, sizeof(buf));
  cr_assert(strtod(buf, NULL) == 4.9406564584124654e-324, "%s", buf);
  sm_csv_format_double(1.7976931348623157e308, buf, sizeof(buf));
  cr_assert_str_eq(buf, "1.7976931348623157e+308");
  cr_assert(isnan(strtod("nan", NULL)));
}

Test(csv, column_lookup) {
  char path[256];
  struct sm_csv_writer *w = NULL;
  struct sm_csv_table t;
  const char *row[] = {"b",   "v", "p",   "2",     "compact",
                       "0-1", "0", "ops", "1e+06", "op/s"};

  in_dir(path, sizeof(path), "raw.csv");
  cr_assert_eq(sm_csv_open(path, SM_CSV_RAW_HEADER, &w), 0);
  cr_assert_eq(sm_csv_write_row(w, row, 10), 0);
  cr_assert_eq(sm_csv_commit(w), 0);
  cr_assert_eq(sm_csv_read(path, &t), 0);
  cr_assert_eq(t.ncols, 10);
  cr_assert_eq(sm_csv_column(&t, "benchmark"), 0);
  cr_assert_eq(sm_csv_column(&t, "threads"), 3);
  cr_assert_eq(sm_csv_column(&t, "value"), 8);
  cr_assert_eq(sm_csv_column(&t, "unit"), 9);
  cr_assert_eq(sm_csv_column(&t, "median"), -1);
  cr_assert_eq(sm_csv_column(&t, ""), -1);
  cr_assert_str_eq(t.rows[0][sm_csv_column(&t, "value")], "1e+06");
  sm_csv_table_free(&t);
  sm_csv_table_free(NULL);
}
