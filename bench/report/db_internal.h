/* db_internal.h: what the results database's files (db.c, db_store.c,
 * db_query.c) share: the open handle and the SQLite helpers. */
#ifndef SYNCMARK_BENCH_DB_INTERNAL_H
#define SYNCMARK_BENCH_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

struct sm_db {
  sqlite3 *h;
  char path[4096];
};

/* Writes "<path>: <what>: <SQLite's message>" into msg and returns -EIO. */
int sm__db_fail(struct sm_db *db, const char *what, char *msg, size_t msg_size);

/* Runs SQL without results. Returns 0, or sm__db_fail's -EIO. */
int sm__db_exec(struct sm_db *db, const char *sql, char *msg, size_t msg_size);

/* Copies a text column of a stepped statement into buf ("" for NULL). */
void sm__db_text(sqlite3_stmt *st, int col, char *buf, size_t size);

/* The columns of runs that struct sm_db_run holds, in its order, for
 * "SELECT " SM__DB_RUN_COLUMNS " FROM runs ...". */
#define SM__DB_RUN_COLUMNS                                                     \
  "run_id, source, content_hash, machine_id, git_commit, hostname, "           \
  "started_at, status, path"

/* Reads a row of SM__DB_RUN_COLUMNS starting at column `col` into *out. */
void sm__db_read_run(sqlite3_stmt *st, int col, struct sm_db_run *out);

#endif
