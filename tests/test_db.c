/* test_db.c: Criterion tests of the results database through the command
 * line: collect (idempotence, the schema, bad folders, bad databases),
 * baselines, history and report --across, on real short runs. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "fingerprint.h"
#include "test_support.h"

/* The slowdown the regression tests inject into every operation: a few
 * hundred times a refcount operation, so that a repetition of the fast run
 * would have to lose more than 99% of its window to the scheduler to look
 * as slow (8 repetitions a side leave room for a few such outliers). */
#define INJECTED_NS "2000"

/* The measured window of the children's runs. 10 ms was once shorter
 * than the time a one-thread case spent descheduled under a parallel
 * ctest on 2 vCPUs: its thread entered the window and did no pass, and
 * the run failed its self-check ("no thread did a clone/release"). */
#define WINDOW_S "0.05"

/* How long one child may run before the test fails. */
#define CHILD_TIMEOUT_S 30

/* The test's temporary folder (also the children's working folder) and
 * the database path inside it. */
static char tmp[128];
static char db_path[192];

/* One finished child: exit status and its whole stdout and stderr. */
struct result {
  int status;
  char out[65536];
  char err[8192];
};

static void setup(void) {
  snprintf(tmp, sizeof tmp, "/tmp/sm_db_test.XXXXXX");
  cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
  snprintf(db_path, sizeof db_path, "%s/results.db", tmp);
  setenv("SYNCMARK_PLOTS_DIR", SYNCMARK_SOURCE_DIR "/plots", 1);
}

static void teardown(void) {
  nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(db, .init = setup, .fini = teardown);

/* Reads a whole file into buf (cut to size - 1). */
static void read_into(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Runs the syncmark binary with args (NULL-terminated) in the temporary
 * folder; one_pu: pinned to the first PU this process may use (as
 * `taskset -c N` would). Fails the test when the child dies or hangs. */
static void run_on(struct result *r, bool one_pu, const char *const *args) {
  const char *argv[48] = {SYNCMARK_BIN};
  size_t n = 1;
  for (; args[n - 1] && n < 47; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  char out[256], err[256];
  snprintf(out, sizeof out, "%s/child.out", tmp);
  snprintf(err, sizeof err, "%s/child.err", tmp);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(tmp))
      _exit(126);
    if (one_pu) {
      cpu_set_t set;
      CPU_ZERO(&set);
      if (sched_getaffinity(0, sizeof set, &set) != 0)
        _exit(125);
      int first = 0;
      while (!CPU_ISSET(first, &set))
        first++;
      CPU_ZERO(&set);
      CPU_SET(first, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0)
        _exit(125);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status;
  time_t start = time(NULL);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (time(NULL) - start > CHILD_TIMEOUT_S) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("%s %s did not finish in %d s", argv[1],
                     argv[2] ? argv[2] : "", CHILD_TIMEOUT_S);
    }
    struct timespec nap = {0, 5000000};
    nanosleep(&nap, NULL);
  }
  cr_assert(WIFEXITED(status), "syncmark died from signal %d",
            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r->status = WEXITSTATUS(status);
  read_into(out, r->out, sizeof r->out);
  read_into(err, r->err, sizeof r->err);
}

#define RUN(r, ...) run_on(r, false, (const char *const[]){__VA_ARGS__, NULL})

/* A short real run of one case into <tmp>/<name>; writes the run folder's
 * path into dir. `extra` arguments (NULL-terminated) are appended. */
static void make_run_with(char *dir, size_t size, const char *name, bool one_pu,
                          const char *const *extra) {
  char out[256];
  snprintf(out, sizeof out, "%s/%s", tmp, name);
  const char *args[32] = {"run",       "refcount/arc_private",
                          "--threads", "1",
                          "--quick",   "--duration",
                          WINDOW_S,    "--reps",
                          "5",         "--out",
                          out};
  size_t n = 11;
  for (size_t i = 0; extra && extra[i] && n < 31; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  static struct result r;
  run_on(&r, one_pu, args);
  cr_assert_eq(r.status, 0, "run exited %d: %s", r.status, r.err);
  DIR *hosts = opendir(out);
  cr_assert_not_null(hosts, "no folder %s", out);
  struct dirent *h;
  dir[0] = '\0';
  while ((h = readdir(hosts)))
    if (h->d_name[0] != '.') {
      char host[600];
      snprintf(host, sizeof host, "%s/%s", out, h->d_name);
      DIR *stamps = opendir(host);
      cr_assert_not_null(stamps);
      struct dirent *s;
      while ((s = readdir(stamps)))
        if (s->d_name[0] != '.')
          snprintf(dir, size, "%s/%s", host, s->d_name);
      closedir(stamps);
    }
  closedir(hosts);
  cr_assert(dir[0], "no run folder under %s", out);
}

static void make_run(char *dir, size_t size, const char *name) {
  make_run_with(dir, size, name, false, NULL);
}

/* The content hash of a file (its bytes, as collect hashes run files). */
static void file_hash(const char *path, char *hash) {
  const char *paths[] = {path};
  cr_assert_eq(sm_content_hash(paths, 1, hash, NULL), 0, "cannot read %s",
               path);
}

/* Counts the lines of text that contain needle. */
static int count_lines(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* Runs one SQL query that returns an integer against the database. */
static long long query_int(const char *sql) {
  sqlite3 *h;
  cr_assert_eq(sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY, NULL),
               SQLITE_OK);
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s",
               sql, sqlite3_errmsg(h));
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s gave no row", sql);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* Checks a refusal: exit 2, one stderr line naming `file` and `what`,
 * nothing on stdout. */
static void check_refused(const struct result *r, const char *file,
                          const char *what) {
  cr_assert_eq(r->status, 2, "exit %d, expected 2; stderr: %s", r->status,
               r->err);
  cr_assert(strncmp(r->err, "syncmark: ", 10) == 0, "stderr: %s", r->err);
  char *nl = strchr(r->err, '\n');
  cr_assert(nl && nl[1] == '\0', "stderr should be one line: %s", r->err);
  cr_assert(strstr(r->err, file), "stderr should name %s: %s", file, r->err);
  cr_assert(strstr(r->err, what), "stderr should say '%s': %s", what, r->err);
  cr_assert_str_empty(r->out, "stdout should be empty: %s", r->out);
}

Test(db, collect_twice_adds_nothing) {
  char a[1100], b[1100], before[32], after[32];
  make_run(a, sizeof a, "a");
  make_run(b, sizeof b, "b");
  static struct result r;
  RUN(&r, "collect", a, b, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  cr_assert_eq(count_lines(r.out, "collected "), 2, "%s", r.out);
  cr_assert_eq(query_int("SELECT count(*) FROM runs"), 2);
  file_hash(db_path, before);
  RUN(&r, "collect", b, a, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  cr_assert_eq(count_lines(r.out, "already collected"), 2, "%s", r.out);
  file_hash(db_path, after);
  cr_assert_str_eq(before, after, "collecting again changed the database");
  cr_assert_eq(query_int("SELECT count(*) FROM runs"), 2);
}

Test(db, schema_and_stored_rows) {
  char a[1100];
  make_run(a, sizeof a, "a");
  static struct result r;
  RUN(&r, "collect", a, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  cr_assert_eq(query_int("PRAGMA user_version"), SM_DB_SCHEMA_VERSION);
  cr_assert_eq(query_int("PRAGMA application_id"), SM_DB_APPLICATION_ID);
  /* The documented columns, as results/README.md lists them. */
  cr_assert_eq(query_int("SELECT count(*) FROM (SELECT machine_id, "
                         "cpu_brand, topo_pus, allowed_pu_list, kernel, "
                         "hypervisor FROM machines)"),
               1);
  cr_assert_eq(query_int("SELECT count(*) FROM (SELECT run_id, source, "
                         "content_hash, machine_id, git_commit, hostname, "
                         "started_at, status, path FROM runs)"),
               1);
  cr_assert_eq(query_int("SELECT count(*) FROM (SELECT name, run_id, "
                         "saved_at FROM baselines)"),
               0);
  cr_assert_gt(query_int("SELECT count(*) FROM summary WHERE metric = "
                         "'ops_per_s' AND median > 0"),
               0);

  /* Every stored file reads back as the file it came from. */
  struct sm_db *db;
  char msg[512];
  cr_assert_eq(sm_db_open(db_path, SM_DB_READ, &db, msg, sizeof msg), 0, "%s",
               msg);
  static const struct {
    enum sm_db_file which;
    const char *name;
  } files[] = {{SM_DB_RAW, "raw.csv"},
               {SM_DB_SUMMARY, "summary.csv"},
               {SM_DB_MACHINE, "machine.csv"}};
  for (size_t f = 0; f < 3; f++) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", a, files[f].name);
    struct sm_csv_table disk, stored;
    cr_assert_eq(sm_csv_read(path, &disk), 0);
    cr_assert_eq(
        sm_db_load_table(db, 1, files[f].which, &stored, msg, sizeof msg), 0,
        "%s", msg);
    cr_assert_eq(stored.ncols, disk.ncols, "%s", files[f].name);
    cr_assert_eq(stored.nrows, disk.nrows, "%s", files[f].name);
    for (size_t c = 0; c < disk.ncols; c++)
      cr_assert_str_eq(stored.header[c], disk.header[c]);
    for (size_t i = 0; i < disk.nrows; i++)
      for (size_t c = 0; c < disk.ncols; c++)
        cr_assert_str_eq(stored.rows[i][c], disk.rows[i][c],
                         "%s line %zu column %s", files[f].name, i + 2,
                         disk.header[c]);
    sm_csv_table_free(&disk);
    sm_csv_table_free(&stored);
  }
  sm_db_close(db);
}

/* Damages the database after its first page. */
static void damage(const char *path) {
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_gt(st.st_size, 8192, "the database is too small to damage");
  FILE *f = fopen(path, "r+b");
  cr_assert_not_null(f);
  fseek(f, 4096, SEEK_SET);
  for (long i = 4096; i < st.st_size; i++)
    fputc((int)(0xa5 ^ (i & 0xff)), f);
  fclose(f);
}

Test(db, corrupt_database_is_refused_and_left_alone) {
  char a[1100], b[1100], before[32], after[32];
  make_run(a, sizeof a, "a");
  make_run(b, sizeof b, "b");
  static struct result r;
  RUN(&r, "collect", a, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  damage(db_path);
  file_hash(db_path, before);
  RUN(&r, "collect", b, "--db", db_path);
  check_refused(&r, db_path, "corrupt");
  RUN(&r, "history", "--db", db_path, "--out", tmp);
  check_refused(&r, db_path, "corrupt");
  RUN(&r, "report", "--across", db_path);
  check_refused(&r, db_path, "corrupt");
  file_hash(db_path, after);
  cr_assert_str_eq(before, after, "a refused command changed the database");
}

/* Creates an SQLite file with one table and the given application id and
 * version. */
static void make_sqlite(const char *path, int app, int version) {
  sqlite3 *h;
  cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
  char sql[160];
  snprintf(sql, sizeof sql,
           "CREATE TABLE t (x); PRAGMA application_id = %d; "
           "PRAGMA user_version = %d;",
           app, version);
  cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);
}

Test(db, foreign_files_are_refused_and_left_alone) {
  char a[1100], before[32], after[32];
  make_run(a, sizeof a, "a");
  static const struct {
    int kind; /* 0 text, 1 another application's SQLite, 2 newer schema */
    const char *says;
  } cases[] = {{0, "not an SQLite database"},
               {1, "another application"},
               {2, "schema version 99"}};
  for (size_t i = 0; i < 3; i++) {
    unlink(db_path);
    if (cases[i].kind == 0) {
      FILE *f = fopen(db_path, "w");
      cr_assert_not_null(f);
      fputs("benchmark,variant\nthis is not a database\n", f);
      fclose(f);
    } else {
      make_sqlite(db_path, cases[i].kind == 1 ? 42 : SM_DB_APPLICATION_ID,
                  cases[i].kind == 1 ? 0 : 99);
    }
    file_hash(db_path, before);
    static struct result r;
    RUN(&r, "collect", a, "--db", db_path);
    check_refused(&r, db_path, cases[i].says);
    RUN(&r, "compare", "--baseline", "x", a, "--db", db_path);
    check_refused(&r, db_path, cases[i].says);
    RUN(&r, "report", "--across", db_path);
    check_refused(&r, db_path, cases[i].says);
    file_hash(db_path, after);
    cr_assert_str_eq(before, after, "case %zu changed the file", i);
  }
}

Test(db, incomplete_or_changed_folders_are_refused) {
  char a[1100], b[1100], path[1200], before[32], after[32];
  make_run(a, sizeof a, "a");
  make_run(b, sizeof b, "b");
  snprintf(path, sizeof path, "%s/machine.csv", b);
  cr_assert_eq(unlink(path), 0);
  static struct result r;
  RUN(&r, "collect", a, b, "--db", db_path);
  check_refused(&r, "machine.csv", "incomplete");
  struct stat st;
  cr_assert_neq(stat(db_path, &st), 0, "a refused collect made a database");

  RUN(&r, "collect", a, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  file_hash(db_path, before);
  /* The folder changes after it was collected: one value of raw.csv. */
  snprintf(path, sizeof path, "%s/raw.csv", a);
  struct sm_csv_table raw;
  cr_assert_eq(sm_csv_read(path, &raw), 0);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "%s\n", SM_CSV_RAW_HEADER);
  for (size_t i = 0; i < raw.nrows; i++)
    for (size_t c = 0; c < raw.ncols; c++)
      fprintf(f, "%s%s", i == 0 && c == 8 ? "12345" : raw.rows[i][c],
              c + 1 < raw.ncols ? "," : "\n");
  fclose(f);
  sm_csv_table_free(&raw);
  RUN(&r, "collect", a, "--db", db_path);
  check_refused(&r, a, "other content");
  file_hash(db_path, after);
  cr_assert_str_eq(before, after, "a refused collect changed the database");
}

Test(db, baseline_is_saved_and_compared) {
  char current[1100], slow[1100];
  static struct result r;
  char out[256];
  snprintf(out, sizeof out, "%s/base", tmp);
  RUN(&r, "run", "refcount/arc_private", "--threads", "1", "--quick",
      "--duration", WINDOW_S, "--reps", "8", "--out", out, "--save-baseline",
      "main", "--db", db_path);
  cr_assert_eq(r.status, 0, "run exited %d: %s", r.status, r.err);
  cr_assert(strstr(r.out, "baseline main: run 1"), "%s", r.out);
  make_run(current, sizeof current, "current");
  RUN(&r, "compare", "--baseline", "main", current, "--db", db_path);
  cr_assert(r.status == 0 || r.status == 1, "compare exited %d: %s", r.status,
            r.err);
  cr_assert(strstr(r.out, "baseline main (run 1"), "%s", r.out);
  const char *inject[] = {"--inject-delay-ns",
                          INJECTED_NS,
                          "--inject-into",
                          "refcount/arc_private",
                          "--reps",
                          "8",
                          NULL};
  make_run_with(slow, sizeof slow, "slow", false, inject);
  RUN(&r, "compare", "--baseline", "main", slow, "--db", db_path);
  cr_assert_eq(r.status, 1, "an injected slowdown should regress: %s", r.out);
  cr_assert(strstr(r.out, "REGRESSED"), "%s", r.out);
  RUN(&r, "compare", "--baseline", "nosuch", slow, "--db", db_path);
  check_refused(&r, "nosuch", "allowed: main");
}

/* Rewrites the git_commit line of a run's machine.csv: the same build
 * standing in for a run of another commit. */
static void set_commit(const char *dir, const char *commit) {
  char path[1200];
  snprintf(path, sizeof path, "%s/machine.csv", dir);
  struct sm_csv_table m;
  cr_assert_eq(sm_csv_read(path, &m), 0);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs("key,value\n", f);
  for (size_t i = 0; i < m.nrows; i++) {
    const char *v =
        strcmp(m.rows[i][0], "git_commit") == 0 ? commit : m.rows[i][1];
    bool quote = strpbrk(v, ",\"\n") != NULL;
    fprintf(f, "%s,%s", m.rows[i][0], quote ? "\"" : "");
    for (const char *p = v; *p; p++)
      fprintf(f, *p == '"' ? "\"\"" : "%c", *p);
    fprintf(f, "%s\n", quote ? "\"" : "");
  }
  fclose(f);
  sm_csv_table_free(&m);
}

Test(db, history_marks_a_regression_and_draws_it) {
  char a[1100], slow[1100], out[256], path[400];
  const char *reps[] = {"--reps", "8", NULL};
  make_run_with(a, sizeof a, "a", false, reps);
  const char *inject[] = {"--inject-delay-ns",
                          INJECTED_NS,
                          "--inject-into",
                          "refcount/arc_private",
                          "--reps",
                          "8",
                          NULL};
  make_run_with(slow, sizeof slow, "slow", false, inject);
  set_commit(slow, "0123456789ab");
  static struct result r;
  RUN(&r, "collect", a, slow, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  snprintf(out, sizeof out, "%s/history", tmp);
  RUN(&r, "history", "refcount", "--db", db_path, "--out", out);
  cr_assert_eq(r.status, 0, "history exited %d: %s", r.status, r.err);
  cr_assert(strstr(r.out, "0123456789ab"), "%s", r.out);
  cr_assert_geq(count_lines(r.out, "REGRESSED"), 2,
                "ns_per_op and ops_per_s should regress: %s", r.out);
  snprintf(path, sizeof path, "%s/history.csv", out);
  struct sm_csv_table t;
  cr_assert_eq(sm_csv_read(path, &t), 0, "no %s", path);
  int verdict = sm_csv_column(&t, "verdict");
  cr_assert_geq(verdict, 0);
  size_t regressed = 0;
  for (size_t i = 0; i < t.nrows; i++)
    regressed += strcmp(t.rows[i][verdict], "REGRESSED") == 0;
  cr_assert_geq(regressed, 2);
  sm_csv_table_free(&t);
  char png[1100];
  const char *nl = strstr(r.out, ".png\n");
  cr_assert_not_null(nl, "no figure printed: %s", r.out);
  const char *start = nl;
  while (start > r.out && start[-1] != '\n')
    start--;
  snprintf(png, sizeof png, "%.*s.png", (int)(nl - start), start);
  struct stat st;
  cr_assert_eq(stat(png, &st), 0, "no %s", png);
  cr_assert_gt(st.st_size, 1000);
  RUN(&r, "history", "nosuchfamily", "--db", db_path, "--out", out);
  check_refused(&r, db_path, "matches");
  RUN(&r, "history", "--machine", "zzzz", "--db", db_path, "--out", out);
  check_refused(&r, "zzzz", "names no machine");
}

/* Returns the verdict `report` printed for claim `id` ("C13 does not hold
 * ...": the words after the id, up to two spaces), into buf. */
static void report_verdict(const char *text, const char *id, char *buf,
                           size_t size) {
  char key[16];
  snprintf(key, sizeof key, "\n%s ", id);
  const char *p = strstr(text, key);
  cr_assert_not_null(p, "no line for %s: %s", id, text);
  p += strlen(key);
  while (*p == ' ')
    p++;
  const char *end = strstr(p, "  ");
  snprintf(buf, size, "%.*s", (int)(end ? end - p : 0), p);
}

Test(db, across_shows_each_machine_with_the_verdicts_of_report) {
  char a[1100], one[1100];
  make_run(a, sizeof a, "a");
  make_run_with(one, sizeof one, "one", true, NULL);
  static struct result r, rep;
  RUN(&r, "collect", a, one, "--db", db_path);
  cr_assert_eq(r.status, 0, "collect exited %d: %s", r.status, r.err);
  cpu_set_t set;
  cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
  int machines = CPU_COUNT(&set) > 1 ? 2 : 1; /* one PU: one fingerprint */
  cr_assert_eq(query_int("SELECT count(*) FROM machines"), machines);

  char md[300];
  snprintf(md, sizeof md, "%s/across.md", tmp);
  RUN(&r, "report", "--across", db_path, "--markdown", md);
  cr_assert_eq(r.status, 0, "report --across exited %d: %s", r.status, r.err);
  cr_assert(strstr(r.out, machines == 2 ? "M2 = machine" : "M1 = machine"),
            "%s", r.out);
  struct stat st;
  cr_assert_eq(stat(md, &st), 0, "no %s", md);
  /* The latest run of the last machine is `one`: its column must say what
   * `report` says on the folder. */
  RUN(&rep, "report", one);
  cr_assert_eq(rep.status, 0, "report exited %d: %s", rep.status, rep.err);
  char header[64];
  snprintf(header, sizeof header, "\nclaim");
  const char *table = strstr(r.out, header);
  cr_assert_not_null(table, "%s", r.out);
  static char lines[sizeof rep.out + 2];
  snprintf(lines, sizeof lines, "\n%s", rep.out);
  static const char *const ids[] = {"C1", "C5", "C13"};
  for (size_t i = 0; i < 3; i++) {
    char key[16], want[64];
    report_verdict(lines, ids[i], want, sizeof want);
    snprintf(key, sizeof key, "\n%-5s ", ids[i]);
    const char *line = strstr(table, key);
    cr_assert_not_null(line, "no row %s: %s", ids[i], r.out);
    const char *cell = line + strlen(key) + (machines == 2 ? 15 : 0);
    cr_assert(strncmp(cell, want, strlen(want)) == 0,
              "%s: across says '%.14s', report says '%s'", ids[i], cell, want);
  }
}
