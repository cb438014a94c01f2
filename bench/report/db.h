/* db.h: the results database: run folders collected into one SQLite file,
 * keyed by machine fingerprint and commit, with named baselines. The schema
 * is documented in results/README.md. */
#ifndef SYNCMARK_BENCH_DB_H
#define SYNCMARK_BENCH_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "fingerprint.h"
#include "syncmark/csv.h"

/* The schema version this syncmark reads and writes (PRAGMA user_version)
 * and the application id that marks a file as syncmark's ("SYNM"). */
#define SM_DB_SCHEMA_VERSION 1
#define SM_DB_APPLICATION_ID 0x53594e4d
/* Where collect, history, baselines and --across look without --db. */
#define SM_DB_DEFAULT_PATH "results/syncmark.db"

/* An open results database. */
struct sm_db;

/* How a database is opened. */
enum sm_db_mode {
  SM_DB_READ,  /* an existing database, read only */
  SM_DB_WRITE, /* an existing one, or a new one created when the path is
                  absent or an empty file */
};

/* The files of a run folder, stored together (db.c stores the tables'
 * fields typed as results/README.md says). */
enum sm_db_file { SM_DB_RAW, SM_DB_SUMMARY, SM_DB_MACHINE, SM_DB_PROBLEMS };

/* A run folder read from disk, ready to be stored. */
struct sm_db_run_files {
  const char *dir;  /* as given */
  char path[4096];  /* absolute: the run's identity */
  char source[512]; /* "<host>/<stamp>", to show */
  char content_hash[SM_CONTENT_HASH_LEN + 1];
  char machine_id[SM_MACHINE_ID_LEN + 1];
  struct sm_csv_table tables[SM_DB_PROBLEMS + 1]; /* problems: ncols 0 when
                                                    absent */
};

/* A stored run, as the runs table describes it. */
struct sm_db_run {
  long long id;
  char source[512];
  char content_hash[SM_CONTENT_HASH_LEN + 1];
  char machine_id[SM_MACHINE_ID_LEN + 1];
  char git_commit[64];
  char hostname[256];
  char started_at[40];
  char status[64];
  char path[4096]; /* the folder it was collected from (absolute) */
};

/* Opens the database at `path`. SM_DB_WRITE creates it (with the schema)
 * when the path is absent or an empty file; the parent folder must exist.
 * Before returning, checks that the file is SQLite, is syncmark's
 * (application_id), has this schema version and passes SQLite's
 * quick_check. Returns 0 and sets *out; or -ENOENT (absent, SM_DB_READ),
 * -EINVAL (not a regular file, not SQLite, another application's, another
 * schema version, corrupt, empty under SM_DB_READ), -EIO (SQLite failed)
 * with one sentence naming the file in msg. Nothing is changed on failure. */
int sm_db_open(const char *path, enum sm_db_mode mode, struct sm_db **out,
               char *msg, size_t msg_size);

/* Closes the database. NULL is accepted. */
void sm_db_close(struct sm_db *db);

/* Returns the path the database was opened with. */
const char *sm_db_path(const struct sm_db *db);

/* Checks that every field of a run file's table that the database stores
 * as a number is one (an integer for INTEGER columns; a number, "nan" or ""
 * for REAL ones) and that its header is the file's. `where` names the file
 * in msg. Returns 0 or -EINVAL. */
int sm_db_check_table(enum sm_db_file which, const struct sm_csv_table *t,
                      const char *where, char *msg, size_t msg_size);

/* Finds the stored run with this content hash (by_hash) and the one
 * collected from the folder at this absolute path (by_path); the id of one
 * not found is 0. Returns 0 or -EIO with msg. */
int sm_db_find_run(struct sm_db *db, const char *content_hash, const char *path,
                   struct sm_db_run *by_hash, struct sm_db_run *by_path,
                   char *msg, size_t msg_size);

/* Stores a run folder in one transaction: its machine (once per
 * fingerprint), the run, and the rows of its files. Returns 0 and sets *out
 * to the new run; 1 when a run with the same content is stored already (*out
 * is that run, nothing changes); -EEXIST when its folder (path) was
 * collected with other content (*out is that run, nothing changes, msg says
 * so); -EIO when SQLite fails (rolled back, msg). */
int sm_db_insert_run(struct sm_db *db, const struct sm_db_run_files *f,
                     struct sm_db_run *out, char *msg, size_t msg_size);

/* Reads the run with this id into *out. Returns 0, -ENOENT or -EIO. */
int sm_db_get_run(struct sm_db *db, long long id, struct sm_db_run *out,
                  char *msg, size_t msg_size);

/* Loads one file of a stored run back as a CSV table in the file's layout
 * (header and text fields as the run folder had them, numbers in their
 * shortest exact form). Returns 0, -EIO or -ENOMEM with msg. */
int sm_db_load_table(struct sm_db *db, long long run_id, enum sm_db_file which,
                     struct sm_csv_table *out, char *msg, size_t msg_size);

/* Names a stored run `name` (replacing an older run of that name). Returns
 * 0 or -EIO with msg. */
int sm_db_set_baseline(struct sm_db *db, const char *name, long long run_id,
                       char *msg, size_t msg_size);

/* Finds the run named `name`. Returns 0; -ENOENT with msg listing the names
 * there are; -EIO. */
int sm_db_get_baseline(struct sm_db *db, const char *name,
                       struct sm_db_run *out, char *msg, size_t msg_size);

/* The latest run (by start time) of every machine, machines in the order
 * they were first collected, into a malloc'd array. Returns 0 (n may be 0),
 * -EIO or -ENOMEM. */
int sm_db_latest_runs(struct sm_db *db, struct sm_db_run **out, size_t *n,
                      char *msg, size_t msg_size);

/* Resolves `text` (a machine id, a unique prefix of one, or a host name
 * that ran on exactly one machine) to a machine id. Returns 0; -ENOENT or
 * -EINVAL (ambiguous) with msg listing the machines; -EIO. */
int sm_db_resolve_machine(struct sm_db *db, const char *text, char *id,
                          char *msg, size_t msg_size);

/* One repetition value as history reads it. */
struct sm_db_history_row {
  const char *machine_id, *git_commit, *first_at; /* first_at: earliest
                                                     start of the commit's
                                                     runs on that machine */
  long long first_unix; /* first_at in Unix time (0 when unknown) */
  long long first_id;   /* the commit's first run_id there (ties) */
  const char *benchmark, *variant, *params, *placement, *metric, *unit;
  long long threads;
  double value; /* NaN when undefined */
};

/* Calls cb for every raw value (of one machine, or all when machine_id is
 * NULL), ordered by machine, benchmark, variant, params, threads,
 * placement, metric, then commit by first_unix and first_id. A non-zero return
 * of cb stops and is returned. Returns 0, cb's value, or -EIO with msg. */
int sm_db_each_history_row(struct sm_db *db, const char *machine_id,
                           int (*cb)(const struct sm_db_history_row *row,
                                     void *ctx),
                           void *ctx, char *msg, size_t msg_size);

#endif
