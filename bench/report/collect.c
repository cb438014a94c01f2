/* collect.c: a run folder read and checked for the results database. */
#include "collect.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rundir.h"

/* machine.csv keys a run needs to be stored. */
static const char *const REQUIRED_KEYS[] = {"git_commit", "syncmark_version",
                                            "hostname", "started_at"};

/* Reads one file of the folder into f->tables[which] and checks it.
 * `required` false: a missing file leaves the table empty. */
static int read_one(struct sm_db_run_files *f, enum sm_db_file which,
                    const char *name, bool required, char *msg,
                    size_t msg_size) {
  char path[4200];
  if (sm_path_join(path, sizeof path, f->dir, name) != 0) {
    snprintf(msg, msg_size, "%s: the path is too long", f->dir);
    return -ENAMETOOLONG;
  }
  struct stat st;
  if (stat(path, &st) != 0 && errno == ENOENT) {
    if (!required)
      return 0;
    snprintf(msg, msg_size,
             "%s: no %s: an incomplete run folder (allowed: a folder "
             "written by syncmark run, with raw.csv, summary.csv and "
             "machine.csv)",
             f->dir, name);
    return -ENOENT;
  }
  size_t line = 0;
  int rc = sm_csv_read_at(path, &f->tables[which], &line);
  if (rc == -EINVAL)
    snprintf(msg, msg_size,
             "%s line %zu: malformed CSV (the file may be truncated)", path,
             line);
  else if (rc != 0)
    snprintf(msg, msg_size, "%s: cannot read: %s", path, strerror(-rc));
  if (rc == 0)
    rc = sm_db_check_table(which, &f->tables[which], path, msg, msg_size);
  return rc;
}

/* Sets f->path and f->source from the folder's real path. */
static int resolve_source(struct sm_db_run_files *f, char *msg,
                          size_t msg_size) {
  char real[PATH_MAX];
  struct stat st;
  if (stat(f->dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
      !realpath(f->dir, real)) {
    snprintf(msg, msg_size,
             "%s: %s (allowed: a run folder written by syncmark run)", f->dir,
             errno ? strerror(errno) : "not a folder");
    return -ENOENT;
  }
  snprintf(f->path, sizeof f->path, "%s", real);
  char *last = strrchr(real, '/');
  const char *source = real;
  if (last && last != real) {
    *last = '\0';
    char *parent = strrchr(real, '/');
    *last = '/';
    source = parent ? parent + 1 : real;
  }
  snprintf(f->source, sizeof f->source, "%.511s", source);
  return 0;
}

int sm_collect_read(const char *dir, struct sm_db_run_files *out, char *msg,
                    size_t msg_size) {
  *out = (struct sm_db_run_files){.dir = dir};
  errno = 0;
  int rc = resolve_source(out, msg, msg_size);
  if (rc == 0)
    rc = read_one(out, SM_DB_MACHINE, SM_RUN_MACHINE, true, msg, msg_size);
  if (rc == 0)
    rc = read_one(out, SM_DB_RAW, SM_RUN_RAW, true, msg, msg_size);
  if (rc == 0)
    rc = read_one(out, SM_DB_SUMMARY, SM_RUN_SUMMARY, true, msg, msg_size);
  if (rc == 0)
    rc = read_one(out, SM_DB_PROBLEMS, SM_RUN_PROBLEMS, false, msg, msg_size);
  for (size_t k = 0;
       rc == 0 && k < sizeof REQUIRED_KEYS / sizeof *REQUIRED_KEYS; k++)
    if (!sm_machine_value(&out->tables[SM_DB_MACHINE], REQUIRED_KEYS[k])) {
      snprintf(msg, msg_size,
               "%s/machine.csv: no %s row (an incomplete machine file; "
               "syncmark run writes it)",
               dir, REQUIRED_KEYS[k]);
      rc = -EINVAL;
    }
  char raw[4200], machine[4200];
  if (rc == 0 && (sm_path_join(raw, sizeof raw, dir, SM_RUN_RAW) ||
                  sm_path_join(machine, sizeof machine, dir, SM_RUN_MACHINE))) {
    snprintf(msg, msg_size, "%s: the path is too long", dir);
    rc = -ENAMETOOLONG;
  }
  if (rc == 0) {
    const char *paths[] = {raw, machine};
    size_t failed = 0;
    rc = sm_content_hash(paths, 2, out->content_hash, &failed);
    if (rc != 0)
      snprintf(msg, msg_size, "%s: cannot read: %s", paths[failed],
               strerror(-rc));
  }
  if (rc == 0)
    sm_machine_fingerprint(&out->tables[SM_DB_MACHINE], out->machine_id);
  if (rc != 0)
    sm_collect_free(out);
  return rc;
}

void sm_collect_free(struct sm_db_run_files *f) {
  for (int w = SM_DB_RAW; w <= SM_DB_PROBLEMS; w++)
    sm_csv_table_free(&f->tables[w]);
}

int sm_collect_db_parent(const char *path) {
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent)
    return 0;
  *slash = '\0';
  for (char *p = parent + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(parent, 0755) != 0 && errno != EEXIST)
      return -errno;
    *p = '/';
  }
  if (mkdir(parent, 0755) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}
