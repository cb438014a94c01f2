/* sleep.c: the plain reference of the sleep family: SLEEPS nanosleeps of
 * 100 us, each timed with the clock, with the thread's timer slack as it
 * is and then set to 1 ns; the median overshoot (actual - requested) of a
 * round, median of rounds. */
#include <sys/prctl.h>
#include <time.h>

#include "plain.h"

/* Sleeps per round, and their requested length (ns). */
enum { SLEEPS = 500, SLEEP_NS = 100000 };

/* One round: returns the median overshoot, or -1 when a sleep was cut
 * short or ended early. */
static double one_round(void) {
  static double over[SLEEPS];
  struct timespec req = {0, SLEEP_NS};
  for (int i = 0; i < SLEEPS; i++) {
    uint64_t t0 = sm_now_ns();
    int rc = nanosleep(&req, NULL);
    uint64_t took = sm_now_ns() - t0;
    if (rc != 0 || took < SLEEP_NS)
      return -1;
    over[i] = (double)(took - SLEEP_NS);
  }
  sm_stats_sort(over, SLEEPS);
  return sm_stats_percentile_sorted(over, SLEEPS, 50);
}

/* Measures the rounds under the current slack and prints the block of
 * `variant`. */
static int measure(const char *variant) {
  double p50[SM_PLAIN_ROUNDS];
  for (int r = 0; r < SM_PLAIN_ROUNDS; r++)
    if ((p50[r] = one_round()) < 0)
      return sm_plain_report(variant, "overshoot_p50_ns", -1);
  sm_stats_sort(p50, SM_PLAIN_ROUNDS);
  char args[96];
  snprintf(args, sizeof args, "sleep/%s --param sleep_us=%d --reps 5", variant,
           SLEEP_NS / 1000);
  return sm_plain_report(args, "overshoot_p50_ns", p50[SM_PLAIN_ROUNDS / 2]);
}

int main(void) {
  int rc = measure("slack_default");
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) != 0) {
    perror("plain: prctl(PR_SET_TIMERSLACK, 1)");
    return 1;
  }
  return measure("slack_1ns") | rc;
}
