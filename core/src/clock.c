/* clock.c: overhead and resolution of the monotonic clock, and absolute
 * sleeps on its time line. */
#include "syncmark/clock.h"

#include <errno.h>
#include <stdlib.h>

#include "syncmark/stats.h"

enum { READS_PER_BATCH = 1000, MAX_BATCHES = 1024 };

double sm_clock_overhead_ns(unsigned batches) {
  if (batches == 0)
    return -1.0;
  if (batches > MAX_BATCHES)
    batches = MAX_BATCHES;
  double per_read[MAX_BATCHES];
  for (unsigned b = 0; b < batches; b++) {
    uint64_t start = sm_now_ns();
    uint64_t last = start;
    for (unsigned i = 0; i < READS_PER_BATCH; i++)
      last = sm_now_ns();
    per_read[b] = (double)(last - start) / READS_PER_BATCH;
  }
  sm_stats_sort(per_read, batches);
  return sm_stats_percentile_sorted(per_read, batches, 50.0);
}

int64_t sm_clock_resolution_ns(void) {
  struct timespec ts;
  if (clock_getres(CLOCK_MONOTONIC, &ts) != 0)
    return -errno;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sm_sleep_until_ns(uint64_t deadline_ns) {
  struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                        .tv_nsec = (long)(deadline_ns % 1000000000u)};
  for (;;) {
    int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    if (rc == 0)
      return 0;
    if (rc != EINTR)
      return -rc;
  }
}

int sm_sleep_for_ns(uint64_t ns) {
  return sm_sleep_until_ns(sm_now_ns() + ns);
}

uint64_t sm_seconds_to_ns(double seconds) {
  if (!(seconds > 0.0))
    return 0;
  if (seconds >= 18446744073.0)
    return UINT64_MAX;
  return (uint64_t)(seconds * 1e9 + 0.5);
}
