/* test_perfcount.c: event counters: parsing names and profiles, multiplex
 * scaling, the "unavailable" branch of hardware events on a machine
 * without a PMU, and software counts through the runner (a same-PU futex
 * ping-pong shows about two context switches per round trip). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counters.h"
#include "metrics.h"
#include "results.h"
#include "runner.h"
#include "syncmark/perfcount.h"
#include "test_support.h"

TestSuite(perfcount, .init = load_machine, .fini = free_machine, .timeout = 60);

/* Names as perf spells them, aliases, profiles and duplicates. */
Test(perfcount, parses_names_aliases_and_profiles) {
  struct sm_perf_list l;
  char msg[512];
  cr_assert_eq(
      sm_perf_parse("cycles,cs,dTLB-load-misses,cycles", &l, msg, sizeof msg),
      0, "%s", msg);
  cr_assert_eq(l.n, 3);
  cr_assert_str_eq(l.events[0].metric, "cycles_per_op");
  cr_assert_str_eq(l.events[1].name, "context-switches");
  cr_assert_str_eq(l.events[1].metric, "context_switches_per_op");
  cr_assert(l.events[1].software && l.events[1].kernel_only);
  cr_assert_str_eq(l.events[2].metric, "dtlb_load_misses_per_op");
  cr_assert(l.events[2].miss && !l.events[2].software);
  cr_assert_eq(sm_perf_parse("software", &l, msg, sizeof msg), 0);
  cr_assert_eq(l.n, 4);
  cr_assert_str_eq(l.events[3].metric, "task_clock_per_op");
  cr_assert_eq(sm_perf_parse("all,default", &l, msg, sizeof msg), 0);
  cr_assert_eq(l.n, 12);
  cr_assert_str_eq(l.events[4].metric, "l1_dcache_load_misses_per_op");
  for (size_t i = 0; i < l.n; i++)
    cr_assert_not_null(sm_counter_decl(l.events[i].metric), "%s",
                       l.events[i].metric);
  cr_assert_eq(sm_counter_decl("cache_misses_per_op")->direction,
               SM_LOWER_IS_BETTER);
  cr_assert_eq(sm_counter_decl("cycles_per_op")->direction, SM_NO_DIRECTION);
}

/* An unknown name, an empty item: -EINVAL naming the value and the
 * allowed names. */
Test(perfcount, refuses_unknown_names) {
  struct sm_perf_list l;
  char msg[768];
  cr_assert_eq(sm_perf_parse("cycles,no-such-event", &l, msg, sizeof msg),
               -EINVAL);
  cr_assert(strstr(msg, "'no-such-event'"), "%s", msg);
  cr_assert(strstr(msg, "cache-misses") && strstr(msg, "software"), "%s", msg);
  cr_assert_eq(sm_perf_parse("cycles,,instructions", &l, msg, sizeof msg),
               -EINVAL);
  cr_assert(strstr(msg, "empty"), "%s", msg);
  cr_assert_eq(sm_perf_parse("", &l, msg, sizeof msg), -EINVAL);
}

/* A multiplexed count is scaled by enabled / running; one that never ran
 * is NAN, never 0. */
Test(perfcount, scales_multiplexed_counts) {
  cr_assert_float_eq(sm_perf_scale(100, 1000, 1000), 100.0, 1e-9);
  cr_assert_float_eq(sm_perf_scale(100, 1000, 250), 400.0, 1e-9);
  cr_assert(isnan(sm_perf_scale(0, 1000, 0)));
  struct sm_perf_list l;
  char msg[256];
  cr_assert_eq(sm_perf_parse("cycles", &l, msg, sizeof msg), 0);
  struct sm_perf_thread t = {.list = &l};
  t.fd[0] = 99; /* pretend open: only the readings are used */
  t.at[0] = (struct sm_perf_reading){
      .value = {10}, .enabled = {100}, .running = {50}, .ok = 1};
  t.at[1] = (struct sm_perf_reading){
      .value = {110}, .enabled = {300}, .running = {150}, .ok = 1};
  double share;
  cr_assert_float_eq(sm_perf_delta(&t, 0, &share), 200.0, 1e-9);
  cr_assert_float_eq(share, 0.5, 1e-12);
  t.at[1].running[0] = 50;
  cr_assert(isnan(sm_perf_delta(&t, 0, NULL)), "never ran: not a zero");
  t.at[1].ok = 0;
  cr_assert(isnan(sm_perf_delta(&t, 0, NULL)));
}

/* Hardware events: where there is no PMU (these guests) each one is
 * refused with a reason and reads NAN; where there is one, cycles count. */
Test(perfcount, hardware_counts_or_says_why_not) {
  struct sm_perf_list l;
  char msg[256];
  cr_assert_eq(
      sm_perf_parse("cycles,instructions,LLC-load-misses", &l, msg, sizeof msg),
      0);
  struct sm_perf_thread t;
  int opened = sm_perf_open(&l, &t);
  cr_assert_eq(sm_perf_read(&t, 0), 0);
  volatile unsigned sink = 0;
  for (unsigned i = 0; i < 1000000; i++)
    sink += i;
  cr_assert_eq(sm_perf_read(&t, 1), 0);
  for (size_t i = 0; i < l.n; i++) {
    char why[256];
    sm_perf_explain(&t, i, why, sizeof why);
    double d = sm_perf_delta(&t, i, NULL);
    if (t.fd[i] < 0) {
      cr_assert_neq(t.error[i], 0);
      cr_assert_gt(strlen(why), 10, "a reason for %s", l.events[i].name);
      cr_assert(isnan(d), "%s unavailable must not read a number",
                l.events[i].name);
    } else {
      cr_assert_str_eq(why, "");
      cr_assert(isnan(d) || d >= 0);
    }
  }
  if (t.fd[0] >= 0)
    cr_assert_gt(sm_perf_delta(&t, 0, NULL), 100000.0, "cycles counted");
  sm_perf_close(&t);
  sm_perf_close(&t); /* twice is harmless */
  cr_log_info("%d of %zu hardware events opened here", opened, l.n);
}

/* A futex ping-pong under the runner: the initiator's pass is one round
 * trip, the responder answers. Both sides end by handing the word the
 * value GONE, so neither waits for a partner that has left. */
enum { IDLE = 0, BALL = 1, GONE = 2 };

struct pingpong {
  SM_CACHE_ALIGNED atomic_int word;
};

static void futex_wait(atomic_int *w, int expected) {
  syscall(SYS_futex, (void *)w, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_int *w) {
  syscall(SYS_futex, (void *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Leaves the ping-pong: the partner stops waiting. */
static void leave(struct pingpong *p) {
  atomic_store_explicit(&p->word, GONE, memory_order_release);
  futex_wake(&p->word);
}

static void initiator(struct sm_worker *w) {
  struct pingpong *p = w->state;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    int idle = IDLE;
    if (atomic_compare_exchange_strong(&p->word, &idle, BALL)) {
      futex_wake(&p->word);
      while (atomic_load_explicit(&p->word, memory_order_acquire) == BALL)
        futex_wait(&p->word, BALL);
    }
  }
  leave(p);
}

static void responder(struct sm_worker *w) {
  struct pingpong *p = w->state;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    int v;
    while ((v = atomic_load_explicit(&p->word, memory_order_acquire)) == IDLE)
      futex_wait(&p->word, IDLE);
    if (v == BALL) {
      atomic_store_explicit(&p->word, IDLE, memory_order_release);
      futex_wake(&p->word);
    }
  }
  leave(p);
}

static int pp_setup(const struct sm_case *c, void **state) {
  (void)c;
  struct pingpong *p = aligned_alloc(SM_CACHE_LINE, sizeof *p);
  if (!p)
    return -ENOMEM;
  atomic_init(&p->word, IDLE);
  *state = p;
  return 0;
}

static void pp_teardown(void *state) {
  free(state);
}

static const struct sm_role pp_roles[] = {
    {.name = "initiator", .worker = initiator, .count = 1, .counts_ops = 1},
    {.name = "responder", .worker = responder, .count = 1},
};
static const struct sm_variant pp_variant = {
    .name = "futex", .summary = "test", .roles = pp_roles, .nroles = 2};
static const struct sm_family pp_family = {.name = "pingpong",
                                           .variants = &pp_variant,
                                           .nvariants = 1,
                                           .setup = pp_setup,
                                           .teardown = pp_teardown,
                                           .shape = SM_SHAPE_PAIR};

/* Both threads on one PU: every hand-off is a switch of each thread, so N
 * round trips show about 2N context switches; the count agrees with
 * getrusage's. The rows are declared, and an event that did not open has
 * no row. */
Test(perfcount, same_pu_ping_pong_counts_two_switches_per_round_trip) {
  struct sm_perf_list l;
  char msg[256];
  cr_assert_eq(
      sm_perf_parse("context-switches,task-clock,cycles", &l, msg, sizeof msg),
      0);
  struct sm_perf_thread probe;
  sm_perf_open(&l, &probe);
  char why[256];
  sm_perf_explain(&probe, 0, why, sizeof why);
  int cs_open = probe.fd[0] >= 0, cycles_open = probe.fd[2] >= 0;
  sm_perf_close(&probe);
  if (!cs_open)
    cr_skip_test("context-switches cannot be counted here: %s", why);
  int pus[2];
  cr_assert_eq(sm_topology_plan_pair(topo, SM_PAIR_SAME_PU, pus), 0);
  struct sm_case c = {.family = &pp_family,
                      .variant = &pp_variant,
                      .threads = 2,
                      .placement = SM_PLACE_NONE,
                      .placement_name = "same-pu",
                      .os_pus = pus,
                      .cpus = "0 0"};
  struct sm_window_config cfg = {.warmup_ns = 5000000,
                                 .duration_ns = 50000000,
                                 .topo = topo,
                                 .counters = &l};
  struct sm_results r = {0};
  cr_assert_eq(sm_runner_repetition(&cfg, &c, 0, 1, &r, msg, sizeof msg), 0,
               "%s", msg);
  double ops_per_s = metric_of(&r, 0, "ops_per_s");
  double cs = metric_of(&r, 0, "context_switches_per_op");
  double rusage =
      metric_of(&r, 0, "vcsw_per_op") + metric_of(&r, 0, "ivcsw_per_op");
  cr_log_info("%.0f round trips/s, %.3f context switches per round trip "
              "(getrusage %.3f)",
              ops_per_s, cs, rusage);
  cr_assert_gt(cs, 1.8, "about 2 switches per round trip, got %g", cs);
  cr_assert_lt(cs, 2.5 + rusage, "%g", cs);
  cr_assert_lt(fabs(cs - rusage), 0.2 * rusage + 0.05,
               "perf %g against getrusage %g", cs, rusage);
  cr_assert_gt(metric_of(&r, 0, "task_clock_per_op"), 0);
  double none[1];
  cr_assert_eq(sm_results_values(&r, 0, "cycles_per_op", none, 1),
               (size_t)cycles_open, "a row for cycles only where it opened");
  for (size_t i = 0; i < r.nrows; i++) {
    const struct sm_metric_decl *d = sm_counter_decl(r.rows[i].metric);
    if (d)
      cr_assert_str_eq(d->unit, r.rows[i].unit, "%s", r.rows[i].metric);
  }
  sm_results_free(&r);
}
