/* fuzz_csv.c: libFuzzer target for the CSV reader: any bytes must parse or
 * be rejected with -EINVAL, never crash, leak or read out of bounds, and a
 * parsed table must be whole (every row as wide as the header). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sm_csv_table t = {0};
  size_t line = 0;
  int rc = sm_csv_parse((const char *)data, size, &t, &line);
  if (rc != 0) {
    if (rc != -EINVAL || line == 0 || t.header != NULL)
      abort(); /* only malformed input may fail, with its line */
    return 0;
  }
  if (line != 0 || t.ncols == 0 || t.header == NULL)
    abort();
  for (size_t r = 0; r < t.nrows; r++)
    for (size_t c = 0; c < t.ncols; c++)
      if (t.rows[r][c] == NULL || strlen(t.rows[r][c]) > size)
        abort();
  if (sm_csv_column(&t, t.header[0]) != 0)
    abort();
  sm_csv_table_free(&t);
  return 0;
}
