/* db.c: opening the results database: creating its schema, and refusing a
 * file that is not SQLite, not syncmark's, of another version or corrupt. */
#include "db_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The schema of version SM_DB_SCHEMA_VERSION (results/README.md). */
static const char SCHEMA[] =
    "CREATE TABLE machines (\n"
    "  machine_id TEXT PRIMARY KEY,\n"
    "  cpu_vendor TEXT, cpu_brand TEXT, cpu_family INTEGER,\n"
    "  cpu_model INTEGER, topo_packages INTEGER, topo_numa_nodes INTEGER,\n"
    "  topo_l3_groups INTEGER, topo_cores INTEGER, topo_pus INTEGER,\n"
    "  topo_smt_per_core REAL, allowed_pus INTEGER, allowed_cores INTEGER,\n"
    "  allowed_pu_list TEXT, kernel TEXT, arch TEXT, hypervisor TEXT);\n"
    "CREATE TABLE runs (\n"
    "  run_id INTEGER PRIMARY KEY,\n"
    "  source TEXT NOT NULL,\n"
    "  content_hash TEXT NOT NULL UNIQUE,\n"
    "  machine_id TEXT NOT NULL REFERENCES machines,\n"
    "  git_commit TEXT NOT NULL,\n"
    "  syncmark_version TEXT NOT NULL,\n"
    "  hostname TEXT NOT NULL,\n"
    "  started_at TEXT NOT NULL,\n"
    "  started_unix INTEGER,\n"
    "  status TEXT,\n"
    "  command TEXT,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  collected_at TEXT NOT NULL);\n"
    "CREATE INDEX runs_by_machine ON runs (machine_id, git_commit);\n"
    "CREATE TABLE machine_fields (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs, key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL, PRIMARY KEY (run_id, key));\n"
    "CREATE TABLE raw (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs, benchmark TEXT NOT NULL,\n"
    "  variant TEXT NOT NULL, params TEXT NOT NULL, threads INTEGER NOT NULL,\n"
    "  placement TEXT NOT NULL, cpus TEXT NOT NULL, rep INTEGER NOT NULL,\n"
    "  metric TEXT NOT NULL, value REAL, unit TEXT NOT NULL);\n"
    "CREATE INDEX raw_by_run ON raw (run_id);\n"
    "CREATE TABLE summary (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs, benchmark TEXT NOT NULL,\n"
    "  variant TEXT NOT NULL, params TEXT NOT NULL, threads INTEGER NOT NULL,\n"
    "  placement TEXT NOT NULL, metric TEXT NOT NULL, n INTEGER NOT NULL,\n"
    "  median REAL, mean REAL, stddev REAL, cv REAL, ci_lo REAL, ci_hi REAL,\n"
    "  min REAL, max REAL, outliers INTEGER NOT NULL, unit TEXT NOT NULL);\n"
    "CREATE INDEX summary_by_run ON summary (run_id);\n"
    "CREATE TABLE problems (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs, benchmark TEXT NOT NULL,\n"
    "  variant TEXT NOT NULL, params TEXT NOT NULL, threads INTEGER NOT NULL,\n"
    "  placement TEXT NOT NULL, rep INTEGER NOT NULL, status TEXT NOT NULL,\n"
    "  elapsed_s REAL, reason TEXT NOT NULL);\n"
    "CREATE TABLE baselines (\n"
    "  name TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  saved_at TEXT NOT NULL);\n";

int sm__db_fail(struct sm_db *db, const char *what, char *msg,
                size_t msg_size) {
  snprintf(msg, msg_size, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
  return -EIO;
}

int sm__db_exec(struct sm_db *db, const char *sql, char *msg, size_t msg_size) {
  if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sm__db_fail(db, "SQLite failed", msg, msg_size);
  return 0;
}

void sm__db_text(sqlite3_stmt *st, int col, char *buf, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, col);
  snprintf(buf, size, "%s", t ? (const char *)t : "");
}

void sm__db_read_run(sqlite3_stmt *st, int col, struct sm_db_run *out) {
  out->id = sqlite3_column_int64(st, col);
  sm__db_text(st, col + 1, out->source, sizeof out->source);
  sm__db_text(st, col + 2, out->content_hash, sizeof out->content_hash);
  sm__db_text(st, col + 3, out->machine_id, sizeof out->machine_id);
  sm__db_text(st, col + 4, out->git_commit, sizeof out->git_commit);
  sm__db_text(st, col + 5, out->hostname, sizeof out->hostname);
  sm__db_text(st, col + 6, out->started_at, sizeof out->started_at);
  sm__db_text(st, col + 7, out->status, sizeof out->status);
  sm__db_text(st, col + 8, out->path, sizeof out->path);
}

/* Runs a PRAGMA or query that returns one integer into *out. Returns 0,
 * or -EINVAL with "corrupt" in msg when SQLite cannot read the file. */
static int query_int(struct sm_db *db, const char *sql, long long *out,
                     char *msg, size_t msg_size) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_OK)
    return 0;
  snprintf(msg, msg_size,
           "%s: the database is corrupt (SQLite: %s); it is left as it is "
           "(collect the run folders into a new file with --db)",
           db->path, sqlite3_errmsg(db->h));
  return -EINVAL;
}

/* Runs PRAGMA quick_check. Returns 0 when it says "ok", else -EINVAL with
 * its first finding in msg. */
static int quick_check(struct sm_db *db, char *msg, size_t msg_size) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db->h, "PRAGMA quick_check(1)", -1, &st, NULL);
  char finding[256] = "";
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    sm__db_text(st, 0, finding, sizeof finding);
    rc = strcmp(finding, "ok") == 0 ? SQLITE_OK : SQLITE_CORRUPT;
  } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  } else {
    snprintf(finding, sizeof finding, "%s", sqlite3_errmsg(db->h));
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_OK)
    return 0;
  for (char *p = finding; *p; p++)
    if (*p == '\n')
      *p = ' '; /* one line: "*** in database main *** Page 15: ..." */
  snprintf(msg, msg_size,
           "%s: the database is corrupt (SQLite's quick_check: %s); it is "
           "left as it is (collect the run folders into a new file with "
           "--db)",
           db->path, finding);
  return -EINVAL;
}

/* Creates the schema, the application id and the version in one
 * transaction. */
static int create_schema(struct sm_db *db, char *msg, size_t msg_size) {
  char pragmas[128];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA application_id = %d; PRAGMA user_version = %d;",
           SM_DB_APPLICATION_ID, SM_DB_SCHEMA_VERSION);
  int rc = sm__db_exec(db, "BEGIN IMMEDIATE", msg, msg_size);
  if (rc == 0)
    rc = sm__db_exec(db, SCHEMA, msg, msg_size);
  if (rc == 0)
    rc = sm__db_exec(db, pragmas, msg, msg_size);
  if (rc == 0)
    rc = sm__db_exec(db, "COMMIT", msg, msg_size);
  if (rc != 0)
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* Checks the first 16 bytes of an existing, non-empty file. Returns 0 when
 * they are SQLite's magic string, else -EINVAL (or the read's errno). */
static int check_magic(const char *path, char *msg, size_t msg_size) {
  static const char MAGIC[16] = "SQLite format 3";
  char head[16] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int rc = -errno;
    snprintf(msg, msg_size, "%s: cannot open: %s", path, strerror(errno));
    return rc;
  }
  ssize_t n = read(fd, head, sizeof head);
  close(fd);
  if (n == (ssize_t)sizeof head && memcmp(head, MAGIC, sizeof MAGIC) == 0)
    return 0;
  snprintf(msg, msg_size,
           "%s: not an SQLite database (allowed: a results database "
           "written by syncmark collect, or a new file name)",
           path);
  return -EINVAL;
}

/* Checks that an open, non-empty database is syncmark's, of this version
 * and sound; creates the schema in an empty SQLite database when `mode`
 * allows. */
static int check_ours(struct sm_db *db, enum sm_db_mode mode, char *msg,
                      size_t msg_size) {
  long long app = 0, version = 0, tables = 0;
  int rc = query_int(db, "PRAGMA application_id", &app, msg, msg_size);
  if (rc == 0)
    rc = query_int(db, "PRAGMA user_version", &version, msg, msg_size);
  if (rc == 0)
    rc = query_int(db, "SELECT count(*) FROM sqlite_schema", &tables, msg,
                   msg_size);
  if (rc != 0)
    return rc;
  if (app == 0 && version == 0 && tables == 0) {
    if (mode == SM_DB_WRITE)
      return create_schema(db, msg, msg_size);
    snprintf(msg, msg_size,
             "%s: the database is empty (nothing collected yet: syncmark "
             "collect RUN_DIR --db %s)",
             db->path, db->path);
    return -EINVAL;
  }
  if (app != SM_DB_APPLICATION_ID) {
    snprintf(msg, msg_size,
             "%s: an SQLite database of another application "
             "(application_id 0x%llx; syncmark's is 0x%x); it is left as it "
             "is (allowed: a results database written by syncmark collect)",
             db->path, (unsigned long long)app, SM_DB_APPLICATION_ID);
    return -EINVAL;
  }
  if (version != SM_DB_SCHEMA_VERSION) {
    snprintf(msg, msg_size,
             "%s: a results database of schema version %lld; this syncmark "
             "reads version %d only (collect the run folders into a new "
             "file with --db)",
             db->path, version, SM_DB_SCHEMA_VERSION);
    return -EINVAL;
  }
  return quick_check(db, msg, msg_size);
}

int sm_db_open(const char *path, enum sm_db_mode mode, struct sm_db **out,
               char *msg, size_t msg_size) {
  *out = NULL;
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (!exists && (errno != ENOENT || mode == SM_DB_READ)) {
    int rc = -errno;
    snprintf(msg, msg_size,
             "%s: %s (a results database is needed: "
             "syncmark collect RUN_DIR --db %s creates one)",
             path, strerror(errno), path);
    return rc;
  }
  if (exists && !S_ISREG(st.st_mode)) {
    snprintf(msg, msg_size,
             "%s: not a file (allowed: a results database "
             "file, or a new file name)",
             path);
    return -EINVAL;
  }
  if (exists && st.st_size == 0 && mode == SM_DB_READ) {
    snprintf(msg, msg_size,
             "%s: the database is empty (nothing collected "
             "yet: syncmark collect RUN_DIR --db %s)",
             path, path);
    return -EINVAL;
  }
  int rc = 0;
  if (exists && st.st_size > 0 && (rc = check_magic(path, msg, msg_size)))
    return rc;
  struct sm_db *db = calloc(1, sizeof *db);
  if (!db) {
    snprintf(msg, msg_size, "%s: out of memory", path);
    return -ENOMEM;
  }
  snprintf(db->path, sizeof db->path, "%s", path);
  int flags = mode == SM_DB_READ ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
    rc = sm__db_fail(db, "cannot open", msg, msg_size);
    sm_db_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db->h, 10000);
  if (!exists || st.st_size == 0)
    rc = create_schema(db, msg, msg_size);
  else
    rc = check_ours(db, mode, msg, msg_size);
  if (rc == 0)
    rc = sm__db_exec(db, "PRAGMA foreign_keys = ON", msg, msg_size);
  if (rc != 0) {
    sm_db_close(db);
    if (!exists)
      unlink(path); /* a file this call created and could not fill */
    return rc;
  }
  *out = db;
  return 0;
}

void sm_db_close(struct sm_db *db) {
  if (!db)
    return;
  sqlite3_close(db->h);
  free(db);
}

const char *sm_db_path(const struct sm_db *db) {
  return db->path;
}
