/* gnuplot.c: running gnuplot on a script with variables, output through a
 * temporary file. */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "text.h"

extern char **environ;

const char *sm_plots_dir(void) {
  const char *dir = getenv("SYNCMARK_PLOTS_DIR");
  return dir && *dir ? dir : SYNCMARK_PLOTS_DIR;
}

/* Copies the file at `path` to stderr (gnuplot's messages of a failed
 * figure). Missing files are ignored. */
static void show_log(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f))
    fputs(line, stderr);
  fclose(f);
}

/* Runs gnuplot on `script` with the given variable assignments, writing
 * `outfile` through a temporary name. gnuplot's own messages go to a
 * temporary log shown only when it fails (a figure without data for some
 * series warns harmlessly). Returns 0 or -1 after saying why. */
int sm_gnuplot_run(const char *script, const char *assignments,
                   const char *outfile) {
  char tmp[4300], log[4300];
  size_t expr_size = strlen(assignments) + sizeof tmp + 32;
  char *expr = malloc(expr_size);
  if (!expr ||
      sm_format(tmp, sizeof tmp, "%s.tmp.%d", outfile, (int)getpid()) ||
      sm_format(log, sizeof log, "%s.log.%d", outfile, (int)getpid()) ||
      sm_format(expr, expr_size, "%s; outfile='%s'", assignments, tmp)) {
    free(expr);
    fprintf(stderr, "syncmark: path too long: %s\n", outfile);
    return -1;
  }
  char *argv[] = {"gnuplot", "-e", expr, (char *)script, NULL};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  int rc = posix_spawnp(&pid, "gnuplot", &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  free(expr);
  if (rc != 0) {
    unlink(log);
    fprintf(stderr,
            "syncmark: cannot run gnuplot: %s (install gnuplot-nox)"
            "\n",
            strerror(rc));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      rename(tmp, outfile) != 0) {
    show_log(log);
    unlink(log);
    unlink(tmp);
    fprintf(stderr, "syncmark: gnuplot failed on %s for %s\n", script, outfile);
    return -1;
  }
  unlink(log);
  return 0;
}
