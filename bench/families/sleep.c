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
#include "kit.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SLEEP_US };

/* Timer slack of the slack_1ns variant: the smallest the kernel accepts (0
 * would mean "back to the default"). */
enum { SLACK_TIGHT_NS = 1 };

/* The state of one window: what to sleep, and what the sleeper found. */
struct sleep_state {
  uint64_t ns; /* requested length of every sleep */
  int tight;   /* slack_1ns: set the timer slack to 1 ns first */
  /* the sleeper's, published after its loop */
  SM_CACHE_ALIGNED long slack; /* the timer slack in force */
  int prctl_errno;             /* 0, or why the slack could not be set */
  uint64_t early;              /* sampled sleeps that ended early */
  uint64_t early_ns;           /* the length of the first one */
};

/* Sets the calling thread's timer slack for the window (tight: 1 ns; else
 * left as it is) and records the one in force in s->slack. Returns 0 or
 * the errno of prctl (also in s->prctl_errno). */
static int apply_slack(struct sleep_state *s) {
  if (s->tight &&
      prctl(PR_SET_TIMERSLACK, (unsigned long)SLACK_TIGHT_NS, 0, 0, 0) != 0)
    return s->prctl_errno = errno;
  int got = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (got < 0)
    return s->prctl_errno = errno;
  s->slack = got;
  return 0;
}

/* The sleeper: nanosleep of the requested length per pass, as Rust's
 * thread::sleep does. A sampled pass offers its overshoot (actual -
 * requested; an interrupted sleep is not offered, one that ended early is
 * counted for the self-check). The timer slack is the worker thread's
 * own and dies with it. */
static void sleeper(struct sm_worker *w) {
  struct sleep_state *s = w->state;
  uint64_t count = 0, early = 0, early_ns = 0, ns = s->ns;
  struct timespec req = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  if (apply_slack(s) != 0)
    ns = 0; /* nothing is slept: the self-check reports prctl's error */
  SM_MEASURED_LOOP(w, count) {
    if (ns == 0)
      continue;
    if (sm_sample_due(w, count)) {
      uint64_t t0 = sm_sample_start(w);
      int rc = nanosleep(&req, NULL);
      uint64_t took = sm_sample_clock() - t0;
      if (rc == 0 && took < ns && early++ == 0)
        early_ns = took;
      else if (rc == 0 && took >= ns)
        sm_worker_sample(w, (double)(took - ns));
    } else {
      (void)nanosleep(&req, NULL);
    }
  }
  s->early = early;
  s->early_ns = early_ns;
}

static const struct sm_role sleeper_role[] = {
    SM_ROLE_COUNTING_SAMPLED("sleeper", sleeper, 1, "overshoot"),
};

static const struct sm_variant variants[] = {
    SM_KIT_ROLES_VARIANT("slack_default",
                         "nanosleep with the thread's timer slack as it is",
                         sleeper_role),
    SM_KIT_ROLES_VARIANT("slack_1ns",
                         "nanosleep with the timer slack set to 1 ns",
                         sleeper_role),
};

/* Creates the state of one window of case c. Returns 0 or -ENOMEM. */
static int sleep_setup(const struct sm_case *c, void **state) {
  struct sleep_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  s->ns = (uint64_t)c->param[AXIS_SLEEP_US] * 1000u;
  s->tight = c->variant == &variants[1];
  *state = s;
  return 0;
}

/* The self-check: the slack was set, no sampled sleep ended early (as
 * nanosleep promises never to), and a sleep completed inside the window:
 * when one sleep spanned all of it (the runner's entry grace ran out) the
 * case is skipped; a thread that got no CPU in the window (a loaded
 * machine) only leaves the window without figures.
 * Returns 0, SM_MEASURE_SKIP, or -EPROTO or prctl's negative errno with
 * msg set. */
static int sleep_check(const struct sm_case *c, void *state,
                       const struct sm_worker *workers, char *msg,
                       size_t size) {
  const struct sleep_state *s = state;
  if (s->prctl_errno) {
    snprintf(msg, size, "prctl(PR_%s_TIMERSLACK): %s", s->tight ? "SET" : "GET",
             strerror(s->prctl_errno));
    return -s->prctl_errno;
  }
  if (s->early)
    return sm_kit_check_failed(msg, size,
                               "a sleep of %" PRIu64
                               " ns returned after %" PRIu64 " ns (%" PRIu64
                               " sleeps ended early)",
                               s->ns, s->early_ns, s->early);
  if (workers[0].ops_at_stop > 0 &&
      workers[0].ops_at_stop == workers[0].ops_at_measure) {
    snprintf(msg, size,
             "no sleep of %ld us ended inside the measured window: it needs "
             "a longer --duration",
             c->param[AXIS_SLEEP_US]);
    return SM_MEASURE_SKIP;
  }
  return 0;
}

/* The family's metrics of a checked window: the mean actual length over
 * the requested one (the runner's MEASURE-phase span over the sleeps in
 * it), the timer slack in force and the sleeps measured; none without a
 * sleep in the window. Returns 0 or the sink's error. */
static int sleep_metrics(const struct sm_case *c SM_UNUSED, void *state,
                         const struct sm_worker *workers, unsigned n SM_UNUSED,
                         struct sm_sink *sink, char *msg SM_UNUSED,
                         size_t size SM_UNUSED) {
  const struct sleep_state *s = state;
  double sleeps = (double)(workers[0].ops_at_stop - workers[0].ops_at_measure);
  double span = (double)(workers[0].ns_at_stop - workers[0].ns_at_measure);
  if (sleeps <= 0)
    return 0; /* no sleep in the window: its rates are nan */
  int rc = sm_sink_metric(sink, "actual_over_requested", "ratio",
                          span / sleeps / (double)s->ns);
  if (rc == 0)
    rc = sm_sink_metric(sink, "timer_slack_ns", "ns", (double)s->slack);
  if (rc == 0)
    rc = sm_sink_metric(sink, "samples", "sleeps", sleeps);
  return rc;
}

/* Frees the state of one window. */
static void sleep_teardown(void *state) {
  free(state);
}

static const long sleep_values[] = {10,  20,   50,   100,  200,
                                    500, 1000, 2000, 5000, 10000};
static const long sleep_quick[] = {10, 100, 1000, 10000};

/* 1 us to 100 ms: a sleep longer than the window is measured once (the
 * runner's entry grace lets the sleeper's first measured pass end). */
static const struct sm_axis axes[] = {
    SM_AXIS("sleep_us", sleep_values, sleep_quick, 1, 100000),
};

/* The metrics the family adds (the sampled overshoot is the runner's). */
static const struct sm_metric_decl metric_decls[] = {
    {"actual_over_requested", "ratio", SM_NO_DIRECTION,
     "mean actual sleep length / requested"},
    {"samples", "sleeps", SM_NO_DIRECTION, "sleeps in the measured phase"},
    {"timer_slack_ns", "ns", SM_NO_DIRECTION,
     "the thread's timer slack during the sleeps"},
};

SM_FAMILY_DEFINE(sleep, sleep,
                 "how late nanosleep wakes: overshoot over the requested "
                 "length, default timer slack vs 1 ns",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(sleep_metrics, metric_decls),
                 .shape = SM_SHAPE_SINGLE,
                 .headline_metric = "overshoot_p50_ns");
