/* db_store.c: storing a run folder's files in the results database, typed,
 * in one transaction, and reading them back in the files' own layout. */
#include "db_internal.h"
#include "rundir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How a column is stored: text, integer or real (NULL for undefined). */
enum col_type { T, I, R };

struct column {
  const char *name;
  enum col_type type;
};

/* One run file's table: its SQL table, file name and columns (in the
 * file's header order). */
struct file_table {
  const char *table, *file, *header;
  const struct column *cols;
  size_t ncols;
};

static const struct column RAW[] = {
    {"benchmark", T}, {"variant", T}, {"params", T}, {"threads", I},
    {"placement", T}, {"cpus", T},    {"rep", I},    {"metric", T},
    {"value", R},     {"unit", T}};
static const struct column SUMMARY[] = {
    {"benchmark", T}, {"variant", T}, {"params", T}, {"threads", I},
    {"placement", T}, {"metric", T},  {"n", I},      {"median", R},
    {"mean", R},      {"stddev", R},  {"cv", R},     {"ci_lo", R},
    {"ci_hi", R},     {"min", R},     {"max", R},    {"outliers", I},
    {"unit", T}};
static const struct column MACHINE[] = {{"key", T}, {"value", T}};
static const struct column PROBLEMS[] = {
    {"benchmark", T}, {"variant", T},   {"params", T},
    {"threads", I},   {"placement", T}, {"rep", I},
    {"status", T},    {"elapsed_s", R}, {"reason", T}};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct file_table FILES[] = {
    [SM_DB_RAW] = {"raw", SM_RUN_RAW, SM_CSV_RAW_HEADER, RAW, N(RAW)},
    [SM_DB_SUMMARY] = {"summary", SM_RUN_SUMMARY, SM_CSV_SUMMARY_HEADER,
                       SUMMARY, N(SUMMARY)},
    [SM_DB_MACHINE] = {"machine_fields", SM_RUN_MACHINE, SM_CSV_MACHINE_HEADER,
                       MACHINE, N(MACHINE)},
    [SM_DB_PROBLEMS] = {"problems", SM_RUN_PROBLEMS, SM_CSV_PROBLEMS_HEADER,
                        PROBLEMS, N(PROBLEMS)},
};

/* Parses an integer field. Returns 0 or -EINVAL. */
static int parse_int(const char *s, long long *out) {
  char *end;
  errno = 0;
  *out = strtoll(s, &end, 10);
  return (!*s || *end || errno) ? -EINVAL : 0;
}

/* Parses a real field: "" and "nan" are undefined (NaN). Returns 0 or
 * -EINVAL. */
static int parse_real(const char *s, double *out) {
  if (!*s || strcmp(s, "nan") == 0) {
    *out = NAN;
    return 0;
  }
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return (*end || errno == ERANGE) ? -EINVAL : 0;
}

int sm_db_check_table(enum sm_db_file which, const struct sm_csv_table *t,
                      const char *where, char *msg, size_t msg_size) {
  const struct file_table *f = &FILES[which];
  bool same = t->ncols == f->ncols;
  for (size_t c = 0; same && c < f->ncols; c++)
    same = strcmp(t->header[c], f->cols[c].name) == 0;
  if (!same) {
    snprintf(msg, msg_size,
             "%s line 1: the header is not the %s header of this syncmark "
             "(expected '%s')",
             where, f->file, f->header);
    return -EINVAL;
  }
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < f->ncols; c++) {
      long long i;
      double d;
      const char *v = t->rows[r][c];
      if ((f->cols[c].type == I && parse_int(v, &i) != 0) ||
          (f->cols[c].type == R && parse_real(v, &d) != 0)) {
        snprintf(msg, msg_size, "%s line %zu: %s '%.40s' is not %s", where,
                 r + 2, f->cols[c].name, v,
                 f->cols[c].type == I ? "an integer" : "a number");
        return -EINVAL;
      }
    }
  return 0;
}

/* Binds field `v` of column c (type-converted) to parameter `param`. */
static int bind_field(sqlite3_stmt *st, int param, const struct column *c,
                      const char *v) {
  long long i;
  double d;
  if (c->type == I && parse_int(v, &i) == 0)
    return sqlite3_bind_int64(st, param, i);
  if (c->type == R && parse_real(v, &d) == 0)
    return isnan(d) ? sqlite3_bind_null(st, param)
                    : sqlite3_bind_double(st, param, d);
  return sqlite3_bind_text(st, param, v, -1, SQLITE_STATIC);
}

/* Inserts every row of one file's table for run `run_id`. */
static int insert_table(struct sm_db *db, long long run_id,
                        enum sm_db_file which, const struct sm_csv_table *t,
                        char *msg, size_t msg_size) {
  const struct file_table *f = &FILES[which];
  if (t->ncols == 0)
    return 0;
  char sql[1024], values[256] = "?1";
  int len = snprintf(sql, sizeof sql, "INSERT INTO %s (run_id", f->table);
  for (size_t c = 0; c < f->ncols; c++) {
    len +=
        snprintf(sql + len, sizeof sql - (size_t)len, ", %s", f->cols[c].name);
    snprintf(values + strlen(values), sizeof values - strlen(values), ", ?%zu",
             c + 2);
  }
  snprintf(sql + len, sizeof sql - (size_t)len, ") VALUES (%s)", values);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot store a run", msg, msg_size);
  int rc = SQLITE_OK;
  for (size_t r = 0; r < t->nrows && rc == SQLITE_OK; r++) {
    sqlite3_reset(st);
    rc = sqlite3_bind_int64(st, 1, run_id);
    for (size_t c = 0; c < f->ncols && rc == SQLITE_OK; c++)
      rc = bind_field(st, (int)c + 2, &f->cols[c], t->rows[r][c]);
    if (rc == SQLITE_OK)
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  int out = rc == SQLITE_OK
                ? 0
                : sm__db_fail(db, "cannot store a run", msg, msg_size);
  sqlite3_finalize(st);
  return out;
}

/* Inserts the machine's fingerprint fields unless the machine is known. */
static int insert_machine(struct sm_db *db, const struct sm_db_run_files *f,
                          char *msg, size_t msg_size) {
  char sql[1024], values[256] = "?1";
  int len = snprintf(sql, sizeof sql,
                     "INSERT OR IGNORE INTO machines "
                     "(machine_id");
  for (size_t k = 0; k < sm_nfingerprint_keys; k++) {
    len += snprintf(sql + len, sizeof sql - (size_t)len, ", %s",
                    sm_fingerprint_keys[k]);
    snprintf(values + strlen(values), sizeof values - strlen(values), ", ?%zu",
             k + 2);
  }
  snprintf(sql + len, sizeof sql - (size_t)len, ") VALUES (%s)", values);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot store a machine", msg, msg_size);
  sqlite3_bind_text(st, 1, f->machine_id, -1, SQLITE_STATIC);
  const struct sm_csv_table *m = &f->tables[SM_DB_MACHINE];
  for (size_t k = 0; k < sm_nfingerprint_keys; k++) {
    const char *v = sm_machine_value(m, sm_fingerprint_keys[k]);
    sqlite3_bind_text(st, (int)k + 2, v ? v : "unknown", -1, SQLITE_STATIC);
  }
  int rc = sqlite3_step(st) == SQLITE_DONE
               ? 0
               : sm__db_fail(db, "cannot store a machine", msg, msg_size);
  sqlite3_finalize(st);
  return rc;
}

/* Returns the Unix time of an ISO 8601 stamp with offset
 * ("2026-12-03T12:55:54+0000"), or 0 when it does not parse. */
static long long unix_time(const char *iso) {
  struct tm tm = {0};
  const char *end = strptime(iso, "%Y-%m-%dT%H:%M:%S%z", &tm);
  if (!end || *end)
    return 0;
  long offset = tm.tm_gmtoff;
  return (long long)timegm(&tm) - offset;
}

/* Inserts the runs row and sets out->id. */
static int insert_run_row(struct sm_db *db, const struct sm_db_run_files *f,
                          long long *id, char *msg, size_t msg_size) {
  static const char SQL[] =
      "INSERT INTO runs (source, content_hash, machine_id, git_commit, "
      "syncmark_version, hostname, started_at, started_unix, status, "
      "command, path, collected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, ?10, ?11, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))";
  const struct sm_csv_table *m = &f->tables[SM_DB_MACHINE];
  const char *keys[] = {
      "git_commit", "syncmark_version", "hostname", "started_at",
      NULL,         "status",           "command"};
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, SQL, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot store a run", msg, msg_size);
  sqlite3_bind_text(st, 1, f->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, f->content_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, f->machine_id, -1, SQLITE_STATIC);
  for (int k = 0; k < 7; k++) {
    const char *v = keys[k] ? sm_machine_value(m, keys[k]) : NULL;
    if (keys[k] && v)
      sqlite3_bind_text(st, k + 4, v, -1, SQLITE_STATIC);
    else if (keys[k])
      sqlite3_bind_text(st, k + 4, "unknown", -1, SQLITE_STATIC);
  }
  const char *started = sm_machine_value(m, "started_at");
  long long t = started ? unix_time(started) : 0;
  if (t)
    sqlite3_bind_int64(st, 8, t);
  sqlite3_bind_text(st, 11, f->path, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st) == SQLITE_DONE
               ? 0
               : sm__db_fail(db, "cannot store a run", msg, msg_size);
  sqlite3_finalize(st);
  *id = sqlite3_last_insert_rowid(db->h);
  return rc;
}

int sm_db_insert_run(struct sm_db *db, const struct sm_db_run_files *f,
                     struct sm_db_run *out, char *msg, size_t msg_size) {
  int rc = sm__db_exec(db, "BEGIN IMMEDIATE", msg, msg_size);
  if (rc != 0)
    return rc;
  struct sm_db_run by_hash, by_source;
  rc = sm_db_find_run(db, f->content_hash, f->path, &by_hash, &by_source, msg,
                      msg_size);
  if (rc == 0 && by_hash.id) {
    *out = by_hash;
    rc = 1;
  } else if (rc == 0 && by_source.id) {
    *out = by_source;
    snprintf(msg, msg_size,
             "%s: this folder was collected already, as run %lld, with "
             "other content (raw.csv or machine.csv changed since: hash %s, "
             "stored %s); %s is left as it is",
             f->dir, by_source.id, f->content_hash, by_source.content_hash,
             db->path);
    rc = -EEXIST;
  }
  long long id = 0;
  if (rc == 0)
    rc = insert_machine(db, f, msg, msg_size);
  if (rc == 0)
    rc = insert_run_row(db, f, &id, msg, msg_size);
  for (int w = SM_DB_RAW; rc == 0 && w <= SM_DB_PROBLEMS; w++)
    rc = insert_table(db, id, (enum sm_db_file)w, &f->tables[w], msg, msg_size);
  if (rc == 0)
    rc = sm__db_exec(db, "COMMIT", msg, msg_size);
  if (rc != 0) {
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
  }
  return sm_db_get_run(db, id, out, msg, msg_size);
}

/* Appends a malloc'd copy of s to a row under construction. */
static int dup_field(char **row, size_t c, const char *s) {
  row[c] = strdup(s);
  return row[c] ? 0 : -ENOMEM;
}

/* Formats column c of a stepped statement as the file wrote it. */
static int field_text(sqlite3_stmt *st, int c, enum col_type type, char **row,
                      size_t i) {
  if (type == R) {
    char buf[40];
    double d = sqlite3_column_type(st, c) == SQLITE_NULL
                   ? NAN
                   : sqlite3_column_double(st, c);
    return dup_field(row, i, sm_csv_format_double(d, buf, sizeof buf));
  }
  const unsigned char *t = sqlite3_column_text(st, c);
  return dup_field(row, i, t ? (const char *)t : "");
}

/* Fills the header of an empty table from a file's columns. */
static int make_header(struct sm_csv_table *out, const struct file_table *f) {
  out->header = calloc(f->ncols + 1, sizeof *out->header);
  if (!out->header)
    return -ENOMEM;
  out->ncols = f->ncols;
  for (size_t c = 0; c < f->ncols; c++)
    if (dup_field(out->header, c, f->cols[c].name) != 0)
      return -ENOMEM;
  return 0;
}

/* Appends the current row of st as a new row of out. */
static int append_row(struct sm_csv_table *out, sqlite3_stmt *st,
                      const struct file_table *f, size_t *cap) {
  if (out->nrows == *cap) {
    size_t ncap = *cap ? 2 * *cap : 64;
    char ***rows = realloc(out->rows, ncap * sizeof *rows);
    if (!rows)
      return -ENOMEM;
    out->rows = rows;
    *cap = ncap;
  }
  char **row = calloc(f->ncols + 1, sizeof *row);
  if (!row)
    return -ENOMEM;
  out->rows[out->nrows++] = row;
  for (size_t c = 0; c < f->ncols; c++)
    if (field_text(st, (int)c, f->cols[c].type, row, c) != 0)
      return -ENOMEM;
  return 0;
}

int sm_db_load_table(struct sm_db *db, long long run_id, enum sm_db_file which,
                     struct sm_csv_table *out, char *msg, size_t msg_size) {
  const struct file_table *f = &FILES[which];
  *out = (struct sm_csv_table){0};
  char sql[512];
  int len = snprintf(sql, sizeof sql, "SELECT ");
  for (size_t c = 0; c < f->ncols; c++)
    len += snprintf(sql + len, sizeof sql - (size_t)len, "%s%s", c ? ", " : "",
                    f->cols[c].name);
  snprintf(sql + len, sizeof sql - (size_t)len,
           " FROM %s WHERE run_id = ?1 ORDER BY rowid", f->table);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot read a run", msg, msg_size);
  sqlite3_bind_int64(st, 1, run_id);
  int rc = make_header(out, f), step;
  size_t cap = 0;
  while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
    rc = append_row(out, st, f, &cap);
  if (rc == 0 && step != SQLITE_DONE)
    rc = sm__db_fail(db, "cannot read a run", msg, msg_size);
  else if (rc == -ENOMEM)
    snprintf(msg, msg_size, "%s: out of memory", db->path);
  sqlite3_finalize(st);
  if (rc != 0)
    sm_csv_table_free(out);
  return rc;
}
