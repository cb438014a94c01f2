/* text.h: bounded string formatting that reports truncation. */
#ifndef SYNCMARK_BENCH_TEXT_H
#define SYNCMARK_BENCH_TEXT_H

#include <stddef.h>

/* Formats into buf like snprintf. Returns 0, or -ENOSPC when the result
 * was cut to fit (buf then holds the cut text). */
int sm_format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends to the string in buf like snprintf at its end. Returns 0, or
 * -ENOSPC when the result was cut to fit. */
int sm_appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
