/* csv.h: the only writer and reader of syncmark's result files (RFC 4180). */
#ifndef SYNCMARK_CSV_H
#define SYNCMARK_CSV_H

#include <stddef.h>
#include <stdio.h>

/* Column lists of the result files; results/README.md documents them. */
#define SM_CSV_RAW_HEADER                                                      \
  "benchmark,variant,params,threads,placement,cpus,rep,metric,value,unit"
#define SM_CSV_SUMMARY_HEADER                                                  \
  "benchmark,variant,params,threads,placement,metric,n,median,mean,stddev,"    \
  "cv,ci_lo,ci_hi,min,max,outliers,unit"
#define SM_CSV_SERIES_HEADER                                                   \
  "benchmark,variant,params,threads,placement,rep,series,t_s,value,unit"
#define SM_CSV_PROBLEMS_HEADER                                                 \
  "benchmark,variant,params,threads,placement,rep,status,elapsed_s,reason"
#define SM_CSV_MACHINE_HEADER "key,value"

/* A CSV file being written. Rows go to a temporary file beside the final
 * path; only sm_csv_commit makes the final path appear, so an interrupted
 * writer never leaves a file that looks whole. */
struct sm_csv_writer;

/* Creates `<path>.tmp.<pid>` and writes `header` (a comma-separated list of
 * column names, written verbatim) as its first line. Returns 0 and sets *out,
 * or a negative errno (-EACCES, -ENOENT, -ENOSPC, ...) with nothing left on
 * disk. */
int sm_csv_open(const char *path, const char *header,
                struct sm_csv_writer **out);

/* Writes one row of `nfields` fields. A field holding a comma, a double
 * quote, a CR or an LF is quoted, with inner quotes doubled; NULL is written
 * as an empty field. Returns 0 or a negative errno; after a failure the
 * writer only accepts sm_csv_abort. */
int sm_csv_write_row(struct sm_csv_writer *w, const char *const *fields,
                     size_t nfields);

/* Flushes, fsyncs and renames the temporary file to the final path, then
 * frees the writer. Returns 0, or a negative errno after which the temporary
 * file is removed and nothing appears at the final path. */
int sm_csv_commit(struct sm_csv_writer *w);

/* Removes the temporary file and frees the writer. NULL is accepted. */
void sm_csv_abort(struct sm_csv_writer *w);

/* Formats a double for a result file: the fewest significant digits that
 * read back to the same double, in plain decimal notation for exponents
 * -5..15 ("20", "0.25", "73486226.767") and "%g" exponent form otherwise;
 * "nan", "inf", "-inf" for non-finite values. `buf` must hold at least 32
 * bytes. Returns buf. */
char *sm_csv_format_double(double value, char *buf, size_t size);

/* A whole CSV file in memory: a header row and data rows of strings. */
struct sm_csv_table {
  size_t ncols;  /* number of header columns */
  char **header; /* ncols names */
  size_t nrows;  /* data rows, header excluded */
  char ***rows;  /* rows[r][c]; every row has exactly ncols fields */
};

/* Reads the CSV file at `path` (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks; LF or CRLF line ends) into *out. Returns 0,
 * -ENOENT/-EACCES from opening, -EINVAL when a row's field count differs from
 * the header's or a quote is unterminated (and *out is untouched), -ENOMEM. */
int sm_csv_read(const char *path, struct sm_csv_table *out);

/* sm_csv_read that also says where a malformed file went wrong: on
 * -EINVAL from parsing, *error_line (when not NULL) is the 1-based line
 * where the offending record starts (1 for an empty file); on success or an
 * I/O error it is 0. */
int sm_csv_read_at(const char *path, struct sm_csv_table *out,
                   size_t *error_line);

/* Parses `len` bytes of CSV at `data` (which need not be NUL-terminated)
 * with the rules and results of sm_csv_read_at. */
int sm_csv_parse(const char *data, size_t len, struct sm_csv_table *out,
                 size_t *error_line);

/* Returns the index of column `name` in `table`, or -1 when absent. */
int sm_csv_column(const struct sm_csv_table *table, const char *name);

/* Frees what sm_csv_read allocated and zeroes *table. */
void sm_csv_table_free(struct sm_csv_table *table);

#endif
