/* rundir.h: the folder a run writes, results/<host>/<YYYYmmdd-HHMMSS>/,
 * and the names of the files in it (the only place they are spelled). */
#ifndef SYNCMARK_BENCH_RUNDIR_H
#define SYNCMARK_BENCH_RUNDIR_H

#include <stddef.h>

/* The files of a run folder (results/README.md describes each). */
#define SM_RUN_RAW      "raw.csv"
#define SM_RUN_SUMMARY  "summary.csv"
#define SM_RUN_SERIES   "series.csv"
#define SM_RUN_PROBLEMS "problems.csv"
#define SM_RUN_MACHINE                                                         \
  "machine.csv" /* written last: a run without it did                          \
                   not finish writing */
#define SM_RUN_GBENCH "gbench.json"
#define SM_RUN_REPORT "REPORT.md"

/* Creates `<out_dir>/<host>/<stamp>/` (parents included), where host is the
 * host name with characters other than [A-Za-z0-9._-] replaced by '_' and
 * stamp the local time; when that folder exists already (two runs in one
 * second), "-2", "-3", ... is appended. Writes the path into buf. Returns 0,
 * or a negative errno (-EACCES, -EROFS, -ENOTDIR, -ENAMETOOLONG, ...). */
int sm_rundir_create(const char *out_dir, char *buf, size_t size);

/* Joins folder and file name into buf. Returns 0 or -ENAMETOOLONG. */
int sm_path_join(char *buf, size_t size, const char *dir, const char *name);

/* Writes `len` bytes to `path` through a temporary file in the same folder
 * that is flushed to disk and renamed, so `path` is either absent, its old
 * content or the whole new content. Returns 0 or a negative errno. */
int sm_file_write_atomic(const char *path, const char *data, size_t len);

#endif
