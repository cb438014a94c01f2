/* rundir.c: creation of a run's result folder, and whole-or-nothing file
 * writes into it. */
#include "rundir.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sm_path_join(char *buf, size_t size, const char *dir, const char *name) {
  return sm_format(buf, size, "%s/%s", dir, name) ? -ENAMETOOLONG : 0;
}

/* mkdir that accepts an existing folder. Returns 0 or a negative errno. */
static int ensure_dir(const char *path) {
  if (mkdir(path, 0755) == 0)
    return 0;
  struct stat st;
  if (errno == EEXIST && stat(path, &st) == 0)
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
  return -errno;
}

/* Creates every folder along `path` (like mkdir -p). */
static int ensure_parents(const char *path) {
  char tmp[4096];
  if (strlen(path) >= sizeof tmp)
    return -ENAMETOOLONG;
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = ensure_dir(tmp);
    *p = '/';
    if (rc != 0)
      return rc;
  }
  return ensure_dir(tmp);
}

/* Writes the host name with unsafe characters replaced into buf. */
static void safe_hostname(char *buf, size_t size) {
  if (gethostname(buf, size) != 0 || !buf[0])
    snprintf(buf, size, "unknown-host");
  buf[size - 1] = '\0';
  for (char *p = buf; *p; p++) {
    char ch = *p;
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
             (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok)
      *p = '_';
  }
}

int sm_rundir_create(const char *out_dir, char *buf, size_t size) {
  char host[64], parent[4096], stamp[32];
  safe_hostname(host, sizeof host);
  int rc = sm_path_join(parent, sizeof parent, out_dir, host);
  if (rc == 0)
    rc = ensure_parents(parent);
  if (rc != 0)
    return rc;
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  for (int attempt = 1; attempt < 1000; attempt++) {
    rc = attempt == 1
             ? sm_format(buf, size, "%s/%s", parent, stamp)
             : sm_format(buf, size, "%s/%s-%d", parent, stamp, attempt);
    if (rc != 0)
      return -ENAMETOOLONG;
    if (mkdir(buf, 0755) == 0)
      return 0;
    if (errno != EEXIST)
      return -errno;
  }
  return -EEXIST;
}

int sm_file_write_atomic(const char *path, const char *data, size_t len) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
      (int)sizeof tmp)
    return -ENAMETOOLONG;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  int rc = 0;
  for (size_t done = 0; done < len && rc == 0;) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno != EINTR)
      rc = -errno;
    else if (n > 0)
      done += (size_t)n;
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = -errno;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}
