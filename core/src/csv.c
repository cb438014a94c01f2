/* csv.c: RFC 4180 writer (temp file, fsync, rename) and reader of results. */
#include "syncmark/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct sm_csv_writer {
  FILE *fp;       /* buffered stream over the temporary file */
  char *path;     /* final path, made to appear by sm_csv_commit */
  char *tmp_path; /* `<path>.tmp.<pid>`, where rows are written */
  int error;      /* 0, or the negative errno of the first failure */
};

/* Returns the negative errno left by a failed C library call, or -EIO when
 * the call failed without setting errno. It cannot fail. */
static int neg_errno(void) {
  return errno > 0 ? -errno : -EIO;
}

/* Returns a freshly allocated copy of `s`, or NULL when out of memory. */
static char *dup_string(const char *s) {
  size_t len = strlen(s);
  char *copy = malloc(len + 1);
  if (copy != NULL)
    memcpy(copy, s, len + 1);
  return copy;
}

/* Frees the writer's strings and the writer itself; the stream must already
 * be closed. NULL is accepted. It cannot fail. */
static void writer_free(struct sm_csv_writer *w) {
  if (w == NULL)
    return;
  free(w->path);
  free(w->tmp_path);
  free(w);
}

/* Writes the `len` bytes at `s` to `fp`. Returns 0, or the negative errno of
 * the failed write. */
static int put_bytes(FILE *fp, const char *s, size_t len) {
  if (len == 0)
    return 0;
  errno = 0;
  if (fwrite(s, 1, len, fp) != len)
    return neg_errno();
  return 0;
}

/* Writes one field to `fp`, quoted (with inner quotes doubled) when it holds
 * a comma, a double quote, a CR or an LF; NULL is written as an empty field,
 * and an empty field that is alone in its row is written as `""` so that the
 * row does not read back as a blank line. Returns 0, or the negative errno of
 * the failed write. */
static int put_field(FILE *fp, const char *field, int alone) {
  const char *s = field != NULL ? field : "";
  int rc;
  if (s[0] == '\0')
    return alone ? put_bytes(fp, "\"\"", 2) : 0;
  if (strpbrk(s, ",\"\r\n") == NULL)
    return put_bytes(fp, s, strlen(s));
  rc = put_bytes(fp, "\"", 1);
  while (rc == 0 && *s != '\0') {
    const char *quote = strchr(s, '"');
    size_t len = quote != NULL ? (size_t)(quote - s) + 1 : strlen(s);
    /* A quote is written once as part of the run, then once more. */
    rc = put_bytes(fp, s, len);
    if (rc == 0 && quote != NULL)
      rc = put_bytes(fp, "\"", 1);
    s += len;
  }
  if (rc == 0)
    rc = put_bytes(fp, "\"", 1);
  return rc;
}

/* Creates the temporary file `<path>.tmp.<pid>` exclusively and writes the
 * header line to it. Returns 0 and sets *out, or a negative errno: -EINVAL for
 * a NULL argument, -ENOMEM, or the errno of creating or writing the file, in
 * which case the temporary file has been removed again. */
int sm_csv_open(const char *path, const char *header,
                struct sm_csv_writer **out) {
  struct sm_csv_writer *w;
  size_t tmp_size;
  int fd;
  int rc;

  if (path == NULL || header == NULL || out == NULL)
    return -EINVAL;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return -ENOMEM;
  w->path = dup_string(path);
  tmp_size = strlen(path) + sizeof(".tmp.") + 3 * sizeof(long);
  w->tmp_path = malloc(tmp_size);
  if (w->path == NULL || w->tmp_path == NULL) {
    writer_free(w);
    return -ENOMEM;
  }
  snprintf(w->tmp_path, tmp_size, "%s.tmp.%ld", path, (long)getpid());

  fd = open(w->tmp_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = neg_errno();
    writer_free(w);
    return rc;
  }
  errno = 0;
  w->fp = fdopen(fd, "w");
  if (w->fp == NULL) {
    rc = neg_errno();
    close(fd);
    unlink(w->tmp_path);
    writer_free(w);
    return rc;
  }
  rc = put_bytes(w->fp, header, strlen(header));
  if (rc == 0)
    rc = put_bytes(w->fp, "\n", 1);
  if (rc != 0) {
    fclose(w->fp);
    unlink(w->tmp_path);
    writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

/* Writes one row of `nfields` fields, each quoted as put_field describes, and
 * an LF. Returns 0, -EINVAL for a NULL writer, NULL fields or no fields, the
 * first failure's errno again when an earlier call failed, or the negative
 * errno of the failed write; after any failure the writer is only good for
 * sm_csv_abort (and sm_csv_commit, which then fails). */
int sm_csv_write_row(struct sm_csv_writer *w, const char *const *fields,
                     size_t nfields) {
  int rc = 0;
  if (w == NULL)
    return -EINVAL;
  if (w->error != 0)
    return w->error;
  if (fields == NULL || nfields == 0) {
    w->error = -EINVAL;
    return w->error;
  }
  for (size_t i = 0; rc == 0 && i < nfields; i++) {
    if (i > 0)
      rc = put_bytes(w->fp, ",", 1);
    if (rc == 0)
      rc = put_field(w->fp, fields[i], nfields == 1);
  }
  if (rc == 0)
    rc = put_bytes(w->fp, "\n", 1);
  if (rc != 0)
    w->error = rc;
  return rc;
}

/* Flushes and fsyncs the temporary file, closes it and renames it to the
 * final path, then frees the writer. Returns 0, -EINVAL for a NULL writer,
 * the error of an earlier failed sm_csv_write_row, or the negative errno of
 * the failed flush, fsync, close or rename (a full disk gives -ENOSPC); after
 * a failure the temporary file is removed and the writer freed all the same,
 * and nothing appears at the final path. */
int sm_csv_commit(struct sm_csv_writer *w) {
  int rc;
  if (w == NULL)
    return -EINVAL;
  rc = w->error;
  errno = 0;
  if (rc == 0 && fflush(w->fp) != 0)
    rc = neg_errno();
  if (rc == 0 && fsync(fileno(w->fp)) != 0)
    rc = neg_errno();
  /* fclose releases the stream even when it fails, so it runs regardless. */
  errno = 0;
  if (fclose(w->fp) != 0 && rc == 0)
    rc = neg_errno();
  w->fp = NULL;
  if (rc == 0 && rename(w->tmp_path, w->path) != 0)
    rc = neg_errno();
  if (rc != 0)
    unlink(w->tmp_path);
  writer_free(w);
  return rc;
}

/* Closes and removes the temporary file and frees the writer, ignoring any
 * error since nothing is kept. NULL is accepted. */
void sm_csv_abort(struct sm_csv_writer *w) {
  if (w == NULL)
    return;
  if (w->fp != NULL)
    fclose(w->fp);
  unlink(w->tmp_path);
  writer_free(w);
}

/* Writes into `buf` (of `size` bytes, at least 32 for every value to fit) the
 * shortest "%.*g" form, with 1 to 17 digits, that strtod reads back as
 * `value`; "nan", "inf" or "-inf" for non-finite values. Returns buf; it
 * cannot fail, though a too small `buf` gets a truncated string. */
char *sm_csv_format_double(double value, char *buf, size_t size) {
  if (buf == NULL || size == 0)
    return buf;
  if (isnan(value)) {
    snprintf(buf, size, "nan");
    return buf;
  }
  if (isinf(value)) {
    snprintf(buf, size, "%s", value < 0 ? "-inf" : "inf");
    return buf;
  }
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, value);
    if (strtod(buf, NULL) == value)
      break;
  }
  /* Same digits in plain decimal notation when the exponent is moderate,
   * so 20 reads "20" rather than "2e+01". */
  int exponent = value == 0.0 ? 0 : (int)floor(log10(fabs(value)));
  if (prec <= 17 && exponent >= -5 && exponent < 16) {
    int decimals = prec - 1 - exponent;
    char fixed[64];
    snprintf(fixed, sizeof fixed, "%.*f", decimals > 0 ? decimals : 0, value);
    if (strtod(fixed, NULL) == value && strlen(fixed) < size)
      memcpy(buf, fixed, strlen(fixed) + 1);
  }
  return buf;
}

/* A growable byte string, used for the field being parsed. */
struct strbuf {
  char *data;
  size_t len;
  size_t cap;
};

/* A growable array of fields, used for the row being parsed. */
struct fieldvec {
  char **items;
  size_t len;
  size_t cap;
};

/* A growable array of rows, used for the table being built. */
struct rowvec {
  char ***items;
  size_t len;
  size_t cap;
};

/* Makes room in the array at *items (of *cap elements of `elem` bytes each)
 * for at least `need` elements, doubling its capacity. Returns 0, or -ENOMEM
 * with the array unchanged. */
static int grow(void **items, size_t *cap, size_t need, size_t elem) {
  size_t ncap = *cap != 0 ? *cap : 16;
  void *nitems;
  if (need <= *cap)
    return 0;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2)
      return -ENOMEM;
    ncap *= 2;
  }
  if (ncap > SIZE_MAX / elem)
    return -ENOMEM;
  nitems = realloc(*items, ncap * elem);
  if (nitems == NULL)
    return -ENOMEM;
  *items = nitems;
  *cap = ncap;
  return 0;
}

/* Appends byte `c` to `sb`. Returns 0 or -ENOMEM. */
static int strbuf_put(struct strbuf *sb, char c) {
  void *data = sb->data;
  int rc = grow(&data, &sb->cap, sb->len + 1, 1);
  sb->data = data;
  if (rc != 0)
    return rc;
  sb->data[sb->len++] = c;
  return 0;
}

/* Frees every field of `fields` and the array `fields` of `n` fields. NULL is
 * accepted. It cannot fail. */
static void free_fields(char **fields, size_t n) {
  if (fields == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(fields[i]);
  free(fields);
}

/* Moves the bytes of `sb` into a new NUL-terminated string appended to `fv`,
 * leaving `sb` empty. Returns 0 or -ENOMEM. */
static int fieldvec_take(struct fieldvec *fv, struct strbuf *sb) {
  void *items = fv->items;
  char *field;
  int rc = grow(&items, &fv->cap, fv->len + 1, sizeof(char *));
  fv->items = items;
  if (rc != 0)
    return rc;
  field = malloc(sb->len + 1);
  if (field == NULL)
    return -ENOMEM;
  if (sb->len > 0)
    memcpy(field, sb->data, sb->len);
  field[sb->len] = '\0';
  sb->len = 0;
  fv->items[fv->len++] = field;
  return 0;
}

/* Parses one field starting at data[*pos] into `sb`, leaving *pos on the
 * byte after it (a comma, a line end, or the end of the data). Returns 0,
 * -EINVAL for an unterminated quote, a quoted field followed by anything but
 * a separator, a quote inside an unquoted field, a CR not followed by LF
 * outside quotes, or a NUL byte, or -ENOMEM. */
static int parse_field(const char *data, size_t len, size_t *pos,
                       struct strbuf *sb) {
  size_t i = *pos;
  int rc = 0;
  if (i < len && data[i] == '"') {
    i++;
    for (;;) {
      if (i >= len)
        return -EINVAL;
      if (data[i] == '"') {
        if (i + 1 < len && data[i + 1] == '"') {
          rc = strbuf_put(sb, '"');
          i += 2;
        } else {
          i++;
          break;
        }
      } else if (data[i] == '\0') {
        return -EINVAL;
      } else {
        rc = strbuf_put(sb, data[i++]);
      }
      if (rc != 0)
        return rc;
    }
  } else {
    while (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
      if (data[i] == '"' || data[i] == '\0')
        return -EINVAL;
      rc = strbuf_put(sb, data[i++]);
      if (rc != 0)
        return rc;
    }
  }
  if (i < len && data[i] != ',' && data[i] != '\n' &&
      !(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
    return -EINVAL;
  *pos = i;
  return 0;
}

/* Parses the record starting at data[*pos] into `fv` (which must be empty),
 * consuming its line end (LF or CRLF) if any, and leaves *pos after it.
 * Returns 0, or -EINVAL or -ENOMEM as parse_field does; on failure `fv` holds
 * the fields parsed so far, for the caller to free. */
static int parse_record(const char *data, size_t len, size_t *pos,
                        struct fieldvec *fv, struct strbuf *sb) {
  for (;;) {
    int rc = parse_field(data, len, pos, sb);
    if (rc == 0)
      rc = fieldvec_take(fv, sb);
    if (rc != 0)
      return rc;
    if (*pos >= len)
      return 0;
    if (data[*pos] == ',') {
      (*pos)++;
      continue;
    }
    /* parse_field guarantees an LF or a CRLF here. */
    *pos += data[*pos] == '\r' ? 2 : 1;
    return 0;
  }
}

/* Parses the `len` bytes at `data` as a CSV file into *out. Returns 0, or
 * -EINVAL for an empty file, a row whose field count differs from the
 * header's or a malformed field (see parse_field), or -ENOMEM, in which cases
 * everything allocated is freed and *out is untouched. */
static int parse_table(const char *data, size_t len, struct sm_csv_table *out,
                       size_t *error_line) {
  struct strbuf sb = {0};
  struct fieldvec fv = {0};
  struct rowvec rows = {0};
  char **header = NULL;
  size_t ncols = 0;
  size_t pos = 0;
  int rc = 0;

  size_t line = 1, counted = 0; /* line of data[counted] */
  if (error_line)
    *error_line = 1;
  if (len == 0)
    return -EINVAL;
  while (rc == 0 && pos < len) {
    for (; counted < pos; counted++)
      line += data[counted] == '\n';
    if (error_line)
      *error_line = line;
    rc = parse_record(data, len, &pos, &fv, &sb);
    if (rc != 0)
      break;
    if (header == NULL) {
      header = fv.items;
      ncols = fv.len;
    } else if (fv.len != ncols) {
      rc = -EINVAL;
      break;
    } else {
      void *items = rows.items;
      rc = grow(&items, &rows.cap, rows.len + 1, sizeof(char **));
      rows.items = items;
      if (rc != 0)
        break;
      rows.items[rows.len++] = fv.items;
    }
    fv = (struct fieldvec){0};
  }
  free(sb.data);
  if (rc == 0 && error_line)
    *error_line = 0;
  if (rc != 0) {
    free_fields(fv.items, fv.len);
    free_fields(header, ncols);
    for (size_t r = 0; r < rows.len; r++)
      free_fields(rows.items[r], ncols);
    free(rows.items);
    return rc;
  }
  out->ncols = ncols;
  out->header = header;
  out->nrows = rows.len;
  out->rows = rows.items;
  return 0;
}

/* Reads the whole file at `path` into a new buffer. Returns 0 and sets *data
 * (for the caller to free; NULL for an empty file) and *len, or the negative
 * errno of opening or reading it, or -ENOMEM, with nothing allocated. */
static int slurp(const char *path, char **data, size_t *len) {
  char *buf = NULL;
  size_t used = 0;
  size_t cap = 0;
  struct stat st;
  int rc = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return neg_errno();
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      (uintmax_t)st.st_size < SIZE_MAX)
    cap = (size_t)st.st_size + 1;
  for (;;) {
    ssize_t n;
    if (used == cap) {
      void *nbuf = buf;
      rc = grow(&nbuf, &cap, used + 4096, 1);
      buf = nbuf;
      if (rc != 0)
        break;
    } else if (buf == NULL) {
      buf = malloc(cap);
      if (buf == NULL) {
        rc = -ENOMEM;
        break;
      }
    }
    n = read(fd, buf + used, cap - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = neg_errno();
      break;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  close(fd);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len = used;
  return 0;
}

int sm_csv_parse(const char *data, size_t len, struct sm_csv_table *out,
                 size_t *error_line) {
  if ((data == NULL && len > 0) || out == NULL)
    return -EINVAL;
  return parse_table(data, len, out, error_line);
}

int sm_csv_read_at(const char *path, struct sm_csv_table *out,
                   size_t *error_line) {
  char *data = NULL;
  size_t len = 0;
  int rc;
  if (error_line)
    *error_line = 0;
  if (path == NULL || out == NULL)
    return -EINVAL;
  rc = slurp(path, &data, &len);
  if (rc != 0)
    return rc;
  rc = parse_table(data, len, out, error_line);
  free(data);
  return rc;
}

int sm_csv_read(const char *path, struct sm_csv_table *out) {
  return sm_csv_read_at(path, out, NULL);
}

/* Returns the index of the first header column named `name`, or -1 when
 * there is none or an argument is NULL. It cannot fail. */
int sm_csv_column(const struct sm_csv_table *table, const char *name) {
  if (table == NULL || name == NULL || table->header == NULL)
    return -1;
  for (size_t i = 0; i < table->ncols && i <= (size_t)INT_MAX; i++)
    if (strcmp(table->header[i], name) == 0)
      return (int)i;
  return -1;
}

/* Frees the header, every row and their fields, and zeroes *table. NULL and a
 * zeroed table are accepted. It cannot fail. */
void sm_csv_table_free(struct sm_csv_table *table) {
  if (table == NULL)
    return;
  for (size_t r = 0; r < table->nrows; r++)
    free_fields(table->rows[r], table->ncols);
  free(table->rows);
  free_fields(table->header, table->ncols);
  *table = (struct sm_csv_table){0};
}
