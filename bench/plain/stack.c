/* stack.c: the plain reference of the stack family: spawns and joins N
 * threads of the default stack size one after another with plain
 * pthread_create and pthread_join; total time, median of rounds. */
#include <pthread.h>

#include "plain.h"

/* Threads spawned and joined per round. */
enum { THREADS = 2000 };

/* The thread's body: nothing (the case touches no stack). */
static void *nothing(void *arg) {
  return arg;
}

/* One round: THREADS spawn+joins. Returns THREADS, or 0 when a spawn or
 * join failed (said on stderr). */
static double round_of_spawns(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < THREADS; i++) {
    pthread_t t;
    int rc = pthread_create(&t, NULL, nothing, NULL);
    if (rc == 0)
      rc = pthread_join(t, NULL);
    if (rc != 0) {
      fprintf(stderr, "plain: spawn+join %u failed: %s\n", i, strerror(rc));
      return 0;
    }
  }
  return THREADS;
}

int main(void) {
  pthread_attr_t attr;
  size_t stack = 0;
  if (pthread_getattr_default_np(&attr) != 0 ||
      pthread_attr_getstacksize(&attr, &stack) != 0 || stack < 16384) {
    fprintf(stderr, "plain: cannot read the default thread stack size\n");
    return 1;
  }
  pthread_attr_destroy(&attr);
  double rate = sm_plain_median_rate(round_of_spawns, NULL);
  char args[160];
  snprintf(args, sizeof args,
           "stack/spawn_join --param stack_kib=%zu --param touch_kib=0",
           stack / 1024);
  return sm_plain_report(args, "ops_per_s", rate);
}
