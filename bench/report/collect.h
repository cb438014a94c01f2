/* collect.h: reading run folders and storing them in the results database,
 * shared by `syncmark collect` and `syncmark run --save-baseline`. */
#ifndef SYNCMARK_BENCH_COLLECT_H
#define SYNCMARK_BENCH_COLLECT_H

#include <stddef.h>

#include "db.h"

/* Reads the run folder `dir` (kept, not copied): raw.csv, summary.csv and
 * machine.csv (all required), problems.csv (when present), its absolute
 * path and source ("<host>/<stamp>": the folder's last two path
 * components), its content hash (raw.csv and machine.csv) and machine id.
 * Returns 0, or -ENOENT (not a folder, or a required file missing: an
 * incomplete run folder), -EINVAL (malformed CSV with its line, a header of
 * another version, a field that should be a number, machine.csv without
 * git_commit, syncmark_version, hostname or started_at), -ENOMEM, with one
 * sentence naming the file in msg. Nothing is kept on failure. */
int sm_collect_read(const char *dir, struct sm_db_run_files *out, char *msg,
                    size_t msg_size);

/* Frees what sm_collect_read loaded. */
void sm_collect_free(struct sm_db_run_files *f);

/* Creates the parent folders of a database path that does not exist yet
 * (e.g. results/ for the default). Returns 0 or a negative errno. */
int sm_collect_db_parent(const char *path);

#endif
