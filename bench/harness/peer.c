/* peer.c: runs a peer program without a shell and collects its output. */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syncmark/clock.h"

extern char **environ;

/* Reads the peer's output from fd into out until end of file or the
 * deadline. Returns 0 at end of file, -ETIMEDOUT at the deadline, or a
 * negative errno from poll/read. Output beyond the buffer is read and
 * dropped. */
static int collect(int fd, uint64_t deadline_ns, struct sm_peer_result *out) {
  size_t used = 0;
  for (;;) {
    uint64_t now = sm_now_ns();
    if (now >= deadline_ns)
      return -ETIMEDOUT;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t wait_ms = (deadline_ns - now) / 1000000 + 1;
    int n = poll(&p, 1, wait_ms > 60000 ? 60000 : (int)wait_ms);
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n <= 0)
      continue;
    char scratch[1024];
    size_t room = sizeof out->output - 1 - used;
    char *dst = room ? out->output + used : scratch;
    ssize_t got = read(fd, dst, room ? room : sizeof scratch);
    if (got < 0 && errno != EINTR)
      return -errno;
    if (got == 0)
      return 0;
    if (got > 0 && room)
      used += (size_t)got;
    out->output[used] = '\0';
  }
}

/* Waits for pid and fills exit_status, cpu_ns and the switch counts.
 * Returns 0 or -errno. */
static int reap(pid_t pid, struct sm_peer_result *out) {
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR)
      return -errno;
  out->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out->cpu_ns = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
  out->nvcsw = ru.ru_nvcsw;
  out->nivcsw = ru.ru_nivcsw;
  return 0;
}

int sm_peer_run(char *const argv[], uint64_t timeout_ns,
                struct sm_peer_result *out) {
  out->output[0] = '\0';
  out->exit_status = -1;
  out->cpu_ns = 0;
  out->nvcsw = out->nivcsw = 0;
  if (access(argv[0], X_OK) != 0)
    return -errno;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  posix_spawn_file_actions_t fa;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc == 0) {
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    pid_t pid;
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    fds[1] = -1;
    if (rc == 0) {
      int crc = collect(fds[0], sm_now_ns() + timeout_ns, out);
      if (crc != 0) /* a peer we stop reading from must not linger */
        kill(pid, SIGKILL);
      int wrc = reap(pid, out);
      rc = crc ? -crc : -wrc;
    }
  }
  if (fds[1] >= 0)
    close(fds[1]);
  close(fds[0]);
  return -rc;
}

void sm_peer_last_line(const char *text, char *buf, size_t size) {
  const char *end = text + strlen(text);
  while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
    end--;
  const char *start = end;
  while (start > text && start[-1] != '\n')
    start--;
  size_t n = (size_t)(end - start);
  if (size == 0)
    return;
  if (n >= size)
    n = size - 1;
  memcpy(buf, start, n);
  buf[n] = '\0';
}
