/* isolate.c: the pipe protocol between an isolated child and its parent. */
#include "isolate.h"

#include <errno.h>
#include <unistd.h>

int sm_record_send(int fd, const struct sm_record *r) {
  const char *p = (const char *)r;
  size_t left = sizeof *r;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    p += n;
    left -= (size_t)n;
  }
  return 0;
}

int sm_record_receive(int fd, struct sm_record *r) {
  char *p = (char *)r;
  size_t got = 0;
  while (got < sizeof *r) {
    ssize_t n = read(fd, p + got, sizeof *r - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return got == 0 ? 0 : -EPROTO;
    got += (size_t)n;
  }
  return 1;
}
