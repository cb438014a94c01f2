/* sleep.c: the `sleep` family: how late a sleeping thread wakes (claim
 * C16): requested vs actual duration of nanosleep over the requested
 * length, with the thread's timer slack as it is and set to 1 ns. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SLEEP_US };

/* Fewest sleeps per repetition (even when one sleep outlasts the window),
 * and most. */
enum { MIN_SAMPLES = 5, MAX_SAMPLES = 1 << 16 };

/* Timer slack of the slack_1ns variant: the smallest the kernel accepts (0
 * would mean "back to the default"). */
enum { SLACK_TIGHT_NS = 1 };

/* Sleeps `ns` nanoseconds with nanosleep, as Rust's thread::sleep does,
 * and returns the time that really passed in *actual. Returns 0, or
 * -EINTR when a signal cut the sleep short (the sample is then unusable). */
static int timed_sleep(uint64_t ns, uint64_t *actual) {
  struct timespec req = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  uint64_t start = sm_now_ns();
  int rc = nanosleep(&req, NULL) == 0 ? 0 : -errno;
  *actual = sm_now_ns() - start;
  return rc;
}

/* Sleeps `ns` again and again for warmup_ns (results dropped), then for
 * duration_ns (at least MIN_SAMPLES, at most MAX_SAMPLES times), storing
 * each overshoot (actual - requested) in over[]. Returns the number of
 * samples, or a negative errno: -EPROTO with msg set when a sleep ended
 * early, as nanosleep promises never to. Interrupted sleeps are skipped. */
static long sample_sleeps(const struct sm_measure_config *cfg, uint64_t ns,
                          double *over, char *msg, size_t msg_size) {
  uint64_t now = sm_now_ns(), warm_end = now + cfg->warmup_ns;
  uint64_t end = warm_end + cfg->duration_ns;
  long n = 0;
  while (n < MAX_SAMPLES && (now < end || n < MIN_SAMPLES)) {
    uint64_t actual;
    int rc = timed_sleep(ns, &actual);
    if (rc == 0 && actual < ns) {
      snprintf(msg, msg_size,
               "a sleep of %" PRIu64 " ns returned after %" PRIu64 " ns", ns,
               actual);
      return -EPROTO;
    }
    if (rc == 0 && now >= warm_end)
      over[n++] = (double)(actual - ns);
    now = sm_now_ns();
  }
  return n;
}

/* Sets the calling thread's timer slack for the variant (slack_1ns: 1 ns;
 * slack_default: left as it is) and stores the previous value in *saved
 * and the one in force in *slack. Returns 0 or the negative errno of
 * prctl with msg set. */
static int apply_slack(const struct sm_case *c, long *saved, long *slack,
                       char *msg, size_t msg_size) {
  int got = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (got < 0) {
    int err = errno;
    snprintf(msg, msg_size, "prctl(PR_GET_TIMERSLACK): %s", strerror(err));
    return -err;
  }
  *saved = *slack = got;
  if (strcmp(c->variant->name, "slack_1ns") != 0)
    return 0;
  if (prctl(PR_SET_TIMERSLACK, (unsigned long)SLACK_TIGHT_NS, 0, 0, 0) != 0) {
    int err = errno;
    snprintf(msg, msg_size, "prctl(PR_SET_TIMERSLACK, 1): %s", strerror(err));
    return -err;
  }
  *slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  return 0;
}

/* Adds the metrics of n overshoots (sorted here) of sleeps of `ns`. */
static int add_sleep_metrics(struct sm_sink *sink, double *over, size_t n,
                             uint64_t ns, long slack) {
  sm_stats_sort(over, n);
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += over[i];
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"overshoot_p50_ns", "ns", sm_stats_percentile_sorted(over, n, 50)},
      {"overshoot_p99_ns", "ns", sm_stats_percentile_sorted(over, n, 99)},
      {"overshoot_max_ns", "ns", over[n - 1]},
      {"actual_over_requested", "ratio", 1.0 + sum / (double)n / (double)ns},
      {"timer_slack_ns", "ns", (double)slack},
      {"samples", "sleeps", (double)n},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof rows / sizeof rows[0]; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* One repetition: sleeps of sleep_us on the calling thread under the
 * variant's timer slack, restored before returning on every path. Returns
 * 0 or a negative errno with msg set. */
static int sleep_measure(const struct sm_measure_config *cfg,
                         const struct sm_case *c, struct sm_sink *sink,
                         char *msg, size_t msg_size) {
  uint64_t ns = (uint64_t)c->param[AXIS_SLEEP_US] * 1000u;
  double *over = malloc(MAX_SAMPLES * sizeof *over);
  if (!over)
    return -ENOMEM;
  long saved = 0, slack = 0;
  int rc = apply_slack(c, &saved, &slack, msg, msg_size);
  if (rc == 0) {
    long n = sample_sleeps(cfg, ns, over, msg, msg_size);
    /* Cannot fail: saved is a value the kernel handed out. */
    (void)prctl(PR_SET_TIMERSLACK, (unsigned long)saved, 0, 0, 0);
    rc = n < 0 ? (int)n : add_sleep_metrics(sink, over, (size_t)n, ns, slack);
  }
  free(over);
  return rc;
}

static const long sleep_values[] = {10,  20,   50,   100,  200,
                                    500, 1000, 2000, 5000, 10000};
static const long sleep_quick[] = {10, 100, 1000, 10000};

/* 1 us to 100 ms: a repetition takes at least MIN_SAMPLES sleeps. */
static const struct sm_axis axes[] = {
    {"sleep_us", sleep_values, sizeof sleep_values / sizeof sleep_values[0],
     sleep_quick, sizeof sleep_quick / sizeof sleep_quick[0], 1, 100000},
};

static const struct sm_variant variants[] = {
    SM_VARIANT("slack_default",
               "nanosleep with the thread's timer slack as it is", NULL),
    SM_VARIANT("slack_1ns", "nanosleep with the timer slack set to 1 ns", NULL),
};

const struct sm_family sm_family_sleep = {
    .name = "sleep",
    .summary = "how late nanosleep wakes: overshoot over the requested "
               "length, default timer slack vs 1 ns",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = sleep_measure,
    .shape = SM_SHAPE_SINGLE,
};
