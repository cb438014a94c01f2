/* text.c: bounded string formatting that reports truncation. */
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* vsnprintf into buf, mapping truncation and encoding errors to -ENOSPC. */
static int vformat(char *buf, size_t size, const char *fmt, va_list ap) {
  int n = vsnprintf(buf, size, fmt, ap);
  return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int sm_format(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vformat(buf, size, fmt, ap);
  va_end(ap);
  return rc;
}

int sm_appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t used = strnlen(buf, size);
  if (used >= size)
    return -ENOSPC;
  va_list ap;
  va_start(ap, fmt);
  int rc = vformat(buf + used, size - used, fmt, ap);
  va_end(ap);
  return rc;
}
