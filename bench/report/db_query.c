/* db_query.c: the results database's lookups: runs by identity, baselines,
 * the latest run per machine, machines by name and history's rows. */
#include "db_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds at most one run with `where` (one text parameter) into *out
 * (id 0 when none). */
static int find_one(struct sm_db *db, const char *where, const char *value,
                    struct sm_db_run *out, char *msg, size_t msg_size) {
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT " SM__DB_RUN_COLUMNS " FROM runs WHERE %s",
           where);
  *out = (struct sm_db_run){0};
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot read runs", msg, msg_size);
  sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    sm__db_read_run(st, 0, out);
  int out_rc = rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? 0
                   : sm__db_fail(db, "cannot read runs", msg, msg_size);
  sqlite3_finalize(st);
  return out_rc;
}

int sm_db_find_run(struct sm_db *db, const char *content_hash, const char *path,
                   struct sm_db_run *by_hash, struct sm_db_run *by_path,
                   char *msg, size_t msg_size) {
  int rc =
      find_one(db, "content_hash = ?1", content_hash, by_hash, msg, msg_size);
  return rc ? rc : find_one(db, "path = ?1", path, by_path, msg, msg_size);
}

int sm_db_get_run(struct sm_db *db, long long id, struct sm_db_run *out,
                  char *msg, size_t msg_size) {
  char text[32];
  snprintf(text, sizeof text, "%lld", id);
  int rc =
      find_one(db, "run_id = CAST(?1 AS INTEGER)", text, out, msg, msg_size);
  if (rc == 0 && out->id == 0) {
    snprintf(msg, msg_size, "%s: no run %lld", db->path, id);
    return -ENOENT;
  }
  return rc;
}

int sm_db_set_baseline(struct sm_db *db, const char *name, long long run_id,
                       char *msg, size_t msg_size) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h,
                         "INSERT OR REPLACE INTO baselines (name, run_id, "
                         "saved_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:"
                         "%SZ', 'now'))",
                         -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot save the baseline", msg, msg_size);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, run_id);
  int rc = sqlite3_step(st) == SQLITE_DONE
               ? 0
               : sm__db_fail(db, "cannot save the baseline", msg, msg_size);
  sqlite3_finalize(st);
  return rc;
}

/* Writes the ", "-separated values of a one-column query into buf ("none"
 * when there are none). */
static void list_of(struct sm_db *db, const char *sql, char *buf, size_t size) {
  buf[0] = '\0';
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW) {
      size_t len = strlen(buf);
      snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
               (const char *)sqlite3_column_text(st, 0));
    }
  sqlite3_finalize(st);
  if (!buf[0])
    snprintf(buf, size, "none");
}

int sm_db_get_baseline(struct sm_db *db, const char *name,
                       struct sm_db_run *out, char *msg, size_t msg_size) {
  int rc =
      find_one(db, "run_id = (SELECT run_id FROM baselines WHERE name = ?1)",
               name, out, msg, msg_size);
  if (rc == 0 && out->id == 0) {
    char names[512];
    list_of(db, "SELECT name FROM baselines ORDER BY name", names,
            sizeof names);
    snprintf(msg, msg_size,
             "no baseline '%s' in %s (allowed: %s; syncmark run "
             "--save-baseline NAME saves one)",
             name, db->path, names);
    return -ENOENT;
  }
  return rc;
}

int sm_db_latest_runs(struct sm_db *db, struct sm_db_run **out, size_t *n,
                      char *msg, size_t msg_size) {
  static const char SQL[] =
      "SELECT " SM__DB_RUN_COLUMNS " FROM runs AS r WHERE run_id = "
      "(SELECT run_id FROM runs AS l WHERE l.machine_id = r.machine_id "
      "ORDER BY started_unix DESC, run_id DESC LIMIT 1) "
      "ORDER BY (SELECT min(run_id) FROM runs AS f WHERE f.machine_id = "
      "r.machine_id)";
  *out = NULL;
  *n = 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, SQL, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot read runs", msg, msg_size);
  size_t cap = 0;
  int rc, status = 0;
  while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      struct sm_db_run *grown = realloc(*out, cap * sizeof *grown);
      if (!grown) {
        snprintf(msg, msg_size, "%s: out of memory", db->path);
        status = -ENOMEM;
        break;
      }
      *out = grown;
    }
    sm__db_read_run(st, 0, &(*out)[(*n)++]);
  }
  if (status == 0 && rc != SQLITE_DONE)
    status = sm__db_fail(db, "cannot read runs", msg, msg_size);
  sqlite3_finalize(st);
  if (status != 0) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return status;
}

int sm_db_resolve_machine(struct sm_db *db, const char *text, char *id,
                          char *msg, size_t msg_size) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h,
                         "SELECT DISTINCT machine_id FROM runs WHERE "
                         "machine_id = ?1 OR substr(machine_id, 1, "
                         "length(?1)) = ?1 OR hostname = ?1",
                         -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot read runs", msg, msg_size);
  sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
  int found = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (found++ == 0)
      sm__db_text(st, 0, id, SM_MACHINE_ID_LEN + 1);
    if (strcmp((const char *)sqlite3_column_text(st, 0), text) == 0) {
      sm__db_text(st, 0, id, SM_MACHINE_ID_LEN + 1);
      found = 1; /* an exact id wins over prefixes */
      break;
    }
  }
  sqlite3_finalize(st);
  if (found == 1 && *text)
    return 0;
  char machines[1024];
  list_of(db,
          "SELECT machine_id || ' (' || group_concat(DISTINCT hostname) || "
          "')' FROM runs GROUP BY machine_id ORDER BY min(run_id)",
          machines, sizeof machines);
  snprintf(msg, msg_size,
           "--machine: '%s' %s in %s (allowed: a machine id, a prefix of "
           "one, or a host name: %s)",
           text, found ? "names more than one machine" : "names no machine",
           db->path, machines);
  return found ? -EINVAL : -ENOENT;
}

int sm_db_each_history_row(struct sm_db *db, const char *machine_id,
                           int (*cb)(const struct sm_db_history_row *row,
                                     void *ctx),
                           void *ctx, char *msg, size_t msg_size) {
  static const char SQL[] =
      "WITH c AS (SELECT machine_id, git_commit, min(started_at) AS first_at, "
      "min(coalesce(started_unix, 0)) AS first_unix, min(run_id) AS first_id "
      "FROM runs GROUP BY machine_id, git_commit) "
      "SELECT r.machine_id, r.git_commit, c.first_at, w.benchmark, "
      "w.variant, w.params, w.threads, w.placement, w.metric, w.unit, "
      "w.value, c.first_unix, c.first_id FROM raw AS w JOIN runs AS r ON "
      "r.run_id = "
      "w.run_id "
      "JOIN c ON c.machine_id = r.machine_id AND c.git_commit = r.git_commit "
      "WHERE ?1 IS NULL OR r.machine_id = ?1 "
      "ORDER BY r.machine_id, w.benchmark, w.variant, w.params, w.threads, "
      "w.placement, w.metric, c.first_unix, c.first_id, w.run_id, w.rep";
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, SQL, -1, &st, NULL) != SQLITE_OK)
    return sm__db_fail(db, "cannot read history", msg, msg_size);
  if (machine_id)
    sqlite3_bind_text(st, 1, machine_id, -1, SQLITE_STATIC);
  int rc, status = 0;
  while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t[10] = {0};
    for (int c = 0; c < 10; c++) {
      if (c == 6)
        continue; /* threads: an integer */
      const unsigned char *s = sqlite3_column_text(st, c);
      t[c] = s ? (const char *)s : "";
    }
    struct sm_db_history_row row = {
        .machine_id = t[0],
        .git_commit = t[1],
        .first_at = t[2],
        .benchmark = t[3],
        .variant = t[4],
        .params = t[5],
        .threads = sqlite3_column_int64(st, 6),
        .placement = t[7],
        .metric = t[8],
        .unit = t[9],
        .value = sqlite3_column_type(st, 10) == SQLITE_NULL
                     ? NAN
                     : sqlite3_column_double(st, 10),
        .first_unix = sqlite3_column_int64(st, 11),
        .first_id = sqlite3_column_int64(st, 12)};
    status = cb(&row, ctx);
  }
  if (status == 0 && rc != SQLITE_DONE)
    status = sm__db_fail(db, "cannot read history", msg, msg_size);
  sqlite3_finalize(st);
  return status;
}
