/* cmd_collect.c: `syncmark collect RUN_DIR... [--db FILE]`: loads run
 * folders into the results database, one transaction per folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect.h"
#include "db.h"
#include "options.h"

/* Opens the database for writing, creating the default's folder (results/)
 * when needed; exits 2 when the file is not a results database. */
static struct sm_db *open_for_writing(const struct sm_options *o,
                                      const char *command) {
  const char *path = sm_options_db(o);
  struct stat st;
  if (!o->db && stat(path, &st) != 0 && sm_collect_db_parent(path) != 0)
    sm_usage_error("%s: cannot create the folder of %s: %s (--db FILE names "
                   "another database)",
                   command, path, strerror(errno));
  struct sm_db *db;
  char msg[1024];
  if (sm_db_open(path, SM_DB_WRITE, &db, msg, sizeof msg) != 0)
    sm_usage_error("%s: %s", command, msg);
  return db;
}

/* Says what was stored for one folder. */
static void print_collected(const struct sm_db_run_files *f,
                            const struct sm_db_run *run) {
  char machine[512];
  sm_machine_describe_line(&f->tables[SM_DB_MACHINE], machine, sizeof machine);
  printf("collected %s: run %lld (%s), commit %s, %zu raw rows; machine %s: "
         "%s\n",
         f->dir, run->id, run->source, run->git_commit,
         f->tables[SM_DB_RAW].nrows, run->machine_id, machine);
}

int sm_cmd_collect_folders(const struct sm_options *o, char **dirs, size_t n,
                           struct sm_db_run *last) {
  char msg[1024];
  struct sm_db_run_files *files = calloc(n, sizeof *files);
  if (!files) {
    fputs("syncmark: collect: out of memory\n", stderr);
    return 1;
  }
  for (size_t i = 0; i < n; i++)
    if (sm_collect_read(dirs[i], &files[i], msg, sizeof msg) != 0)
      sm_usage_error("collect: %s", msg);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(files[i].path, files[j].path) == 0 &&
          strcmp(files[i].content_hash, files[j].content_hash) != 0)
        sm_usage_error("collect: %s changed while it was read (raw.csv or "
                       "machine.csv); nothing was collected",
                       dirs[i]);
  struct sm_db *db = open_for_writing(o, "collect");
  for (size_t i = 0; i < n; i++) {
    struct sm_db_run by_hash, by_source;
    if (sm_db_find_run(db, files[i].content_hash, files[i].path, &by_hash,
                       &by_source, msg, sizeof msg) != 0)
      sm_usage_error("collect: %s", msg);
    if (!by_hash.id && by_source.id)
      sm_usage_error("collect: %s: this folder was collected already, as "
                     "run %lld, with other content (raw.csv or machine.csv "
                     "changed since); %s is left as it is",
                     dirs[i], by_source.id, sm_db_path(db));
  }
  int status = 0;
  for (size_t i = 0; i < n && status == 0; i++) {
    int rc = sm_db_insert_run(db, &files[i], last, msg, sizeof msg);
    if (rc == 0)
      print_collected(&files[i], last);
    else if (rc == 1)
      printf("%s: already collected, as run %lld (%s); nothing added\n",
             dirs[i], last->id, last->source);
    else if (rc == -EEXIST)
      sm_usage_error("collect: %s", msg);
    else {
      fprintf(stderr, "syncmark: collect: %s\n", msg);
      status = 1;
    }
  }
  if (status == 0)
    printf("database: %s\n", sm_db_path(db));
  sm_db_close(db);
  for (size_t i = 0; i < n; i++)
    sm_collect_free(&files[i]);
  free(files);
  return status;
}

int sm_cmd_collect(const struct sm_options *o) {
  if (o->nargs == 0)
    sm_usage_error("collect: no run folder given (allowed: one or more run "
                   "folders written by syncmark run)");
  struct sm_db_run last;
  return sm_cmd_collect_folders(o, o->args, o->nargs, &last);
}

int sm_cmd_save_baseline(const struct sm_options *o, char *dir) {
  struct sm_db_run run;
  char *dirs[] = {dir};
  if (sm_cmd_collect_folders(o, dirs, 1, &run) != 0)
    return 1;
  struct sm_db *db = open_for_writing(o, "run --save-baseline");
  char msg[1024];
  int rc = sm_db_set_baseline(db, o->save_baseline, run.id, msg, sizeof msg);
  if (rc == 0)
    printf("baseline %s: run %lld (%s, commit %s) in %s\n", o->save_baseline,
           run.id, run.source, run.git_commit, sm_db_path(db));
  else
    fprintf(stderr, "syncmark: run --save-baseline: %s\n", msg);
  sm_db_close(db);
  return rc == 0 ? 0 : 1;
}

void sm_cmd_check_baseline_db(const struct sm_options *o) {
  if (o->db && !o->save_baseline)
    sm_usage_error("run: --db applies with --save-baseline NAME only");
  if (!o->save_baseline)
    return;
  struct stat st;
  const char *path = sm_options_db(o);
  if (stat(path, &st) != 0)
    return; /* created after the run */
  struct sm_db *db;
  char msg[1024];
  if (sm_db_open(path, SM_DB_READ, &db, msg, sizeof msg) != 0 &&
      !(S_ISREG(st.st_mode) && st.st_size == 0))
    sm_usage_error("run: --save-baseline: %s", msg);
  sm_db_close(db);
}
