/* claims_lifecycle.c: verdict rules of the claims about threads
 * themselves: context switches, wake-ups, pools (C1, C7, C9, C15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims_rules.h"

/* The blocking hand-off mechanisms of the ctxswitch family. */
static const char *const HANDOFFS[] = {"futex", "pipe", "eventfd", "condvar",
                                       "park"};
/* Pair placements that put the two threads on different PUs. */
static const char *const CROSS[] = {"smt-sibling", "same-l3", "cross-l3",
                                    "cross-package"};

/* rtt_ns of a ctxswitch variant at a placement. */
static struct sm_stat rtt(const struct sm_run_view *v, const char *variant,
                          const char *placement) {
  return sm_rule_stat(v, "ctxswitch", variant, NULL, 0, placement, "rtt_ns");
}

/* C1 for one mechanism: a same-PU round trip costs more than the same
 * calls in one thread, with about two switches, and more than the cheapest
 * hand-off to another PU. */
static int c1_mechanism(const struct sm_run_view *v, const char *m,
                        struct sm_claim_result *out, int *counted) {
  char alone[32];
  snprintf(alone, sizeof alone, "%s_1thread", m);
  struct sm_stat same = rtt(v, m, "same-pu"), one = rtt(v, alone, "same-pu");
  struct sm_stat vcsw =
      sm_rule_stat(v, "ctxswitch", m, NULL, 0, "same-pu", "vcsw_per_rtt");
  struct sm_stat ivcsw =
      sm_rule_stat(v, "ctxswitch", m, NULL, 0, "same-pu", "ivcsw_per_rtt");
  struct sm_stat cross = {.found = false};
  const char *where = "";
  for (size_t i = 0; i < sizeof CROSS / sizeof *CROSS; i++) {
    struct sm_stat s = rtt(v, m, CROSS[i]);
    if (s.found && (!cross.found || s.median < cross.median)) {
      cross = s;
      where = CROSS[i];
    }
  }
  char label[64];
  snprintf(label, sizeof label, "%s same-pu", m);
  sm_claim_note(out, label, &same);
  sm_claim_note(out, "one thread", &one);
  struct sm_query q = {
      .benchmark = "ctxswitch", .variant = m, .placement = "same-pu"};
  *counted |= sm_rule_counters(v, out, "same-pu", &q, 1);
  snprintf(label, sizeof label, "%s", where[0] ? where : "other PU");
  sm_claim_note(out, label, &cross);
  if (where[0]) {
    q.placement = where;
    *counted |= sm_rule_counters(v, out, where, &q, 1);
  }
  if (!same.found || !cross.found)
    return 0;
  double switches = vcsw.median + ivcsw.median;
  sm_claim_printf(out, ", %.2f switches per round trip", switches);
  int part = 1;
  sm_rule_fold(&part, sm_stat_cmp(&same, &one)); /* 0 when not measured */
  sm_rule_fold(&part, switches >= 1.8 ? 1 : 0);
  sm_rule_fold(&part, sm_stat_cmp(&same, &cross));
  return part;
}

void sm_rule_c1(const struct sm_run_view *v, struct sm_claim_result *out) {
  int verdict = 1, counted = 0;
  bool any = false;
  for (size_t i = 0; i < sizeof HANDOFFS / sizeof *HANDOFFS; i++) {
    if (!rtt(v, HANDOFFS[i], "same-pu").found)
      continue;
    any = true;
    sm_rule_fold(&verdict, c1_mechanism(v, HANDOFFS[i], out, &counted));
  }
  sm_rule_counters_missing(v, out, "ctxswitch", counted);
  out->verdict = sm_rule_verdict(verdict, any);
}

/* C7 at one placement and delay for the parking variant `park` (C or
 * Rust): its p50 beats 1 ms and 10 ms polling (the same OS sleep in either
 * language) and its CPU per wake-up, less what its latency sampling adds,
 * is under 1% of its time per wake-up. */
static int c7_at(const struct sm_run_view *v, const char *park_variant,
                 const char *params, const char *placement,
                 struct sm_claim_result *out) {
  struct sm_stat park =
      sm_rule_stat(v, "wake", park_variant, params, 0, placement, "p50_ns");
  struct sm_stat cpu = sm_rule_stat(v, "wake", park_variant, params, 0,
                                    placement, "cpu_ns_per_wait");
  struct sm_stat probe = sm_rule_stat(v, "wake", park_variant, params, 0,
                                      placement, "cpu_probe_ns");
  struct sm_stat wait =
      sm_rule_stat(v, "wake", park_variant, params, 0, placement, "wait_ns");
  char label[96];
  snprintf(label, sizeof label, "%s %s: %s p50", placement, params,
           park_variant);
  sm_claim_note(out, label, &park);
  double pct = 100.0 * (cpu.median - probe.median) / wait.median;
  sm_claim_printf(out,
                  "; %s CPU while waiting %.2f%% of the wait (%.0f ns per "
                  "wait minus %.0f ns of sampling)",
                  park_variant, pct, cpu.median, probe.median);
  int part = 1;
  static const char *const polls[] = {"poll_1ms", "poll_10ms"};
  for (int i = 0; i < 2; i++) {
    struct sm_stat p =
        sm_rule_stat(v, "wake", polls[i], params, 0, placement, "p50_ns");
    sm_claim_note(out, polls[i], &p);
    sm_rule_fold(&part, sm_stat_cmp(&p, &park));
  }
  if (!cpu.found || !probe.found || !wait.found)
    sm_rule_fold(&part, 0);
  else
    sm_rule_fold(&part, pct < 1.0 ? 1 : pct > 2.0 ? -1 : 0);
  return part;
}

/* C7's rule on the parking variant `park_variant` at the longest delay it
 * was measured with, at every placement it was measured on. */
static void c7_with(const struct sm_run_view *v, struct sm_claim_result *out,
                    const char *park_variant) {
  long delay = sm_rule_max_param(v, "wake", park_variant, "delay_us", -1);
  const char *places[8];
  struct sm_query q = {.benchmark = "wake", .variant = park_variant};
  size_t np = sm_run_view_placements(v, &q, places, 8);
  char params[32];
  snprintf(params, sizeof params, "delay_us=%ld", delay);
  int verdict = 1;
  for (size_t p = 0; p < np; p++)
    sm_rule_fold(&verdict, c7_at(v, park_variant, params, places[p], out));
  out->verdict = sm_rule_verdict(verdict, np > 0 && delay >= 0);
}

void sm_rule_c7(const struct sm_run_view *v, struct sm_claim_result *out) {
  c7_with(v, out, "park");
}

void sm_rule_c7_rust(const struct sm_run_view *v, struct sm_claim_result *out) {
  c7_with(v, out, "rust_park");
}

/* The pool size the pool rules read: the allowed PUs (1x), else the
 * smallest measured. */
static unsigned pool_threads(const struct sm_run_view *v) {
  const char *pus = sm_run_view_machine(v, "allowed_pus");
  unsigned list[64], want = pus ? (unsigned)strtoul(pus, NULL, 10) : 0;
  struct sm_query q = {.benchmark = "spawn_vs_pool", .variant = "fast"};
  size_t n = sm_run_view_threads(v, &q, list, 64);
  for (size_t i = 0; i < n; i++)
    if (list[i] == want)
      return want;
  return n ? list[0] : 0;
}

/* tasks/s of a spawn_vs_pool strategy for CPU-only tasks. */
static struct sm_stat tasks(const struct sm_run_view *v, const char *variant,
                            long spin, unsigned threads) {
  char params[64];
  snprintf(params, sizeof params, "spin_ns=%ld;sleep_ns=0", spin);
  return sm_rule_stat(v, "spawn_vs_pool", variant, params, threads, NULL,
                      "tasks_per_s");
}

/* The CPU-only task sizes measured, ascending; returns how many. */
static size_t spins(const struct sm_run_view *v, long *out) {
  struct sm_query q = {.benchmark = "spawn_vs_pool", .params = "sleep_ns=0"};
  return sm_run_view_param_values(v, &q, "spin_ns", out, 16);
}

/* C9's rule on the thread-per-task variant `per_task` and the lesson's
 * pool `lesson` (C or Rust), with the fast pool beside them. */
static void c9_with(const struct sm_run_view *v, struct sm_claim_result *out,
                    const char *per_task, const char *lesson) {
  unsigned t = pool_threads(v);
  long sizes[16];
  size_t n = spins(v, sizes);
  int verdict = 1;
  bool any = false;
  for (size_t i = 0; i < n && sizes[i] <= 10000; i++) {
    struct sm_stat per = tasks(v, per_task, sizes[i], t);
    struct sm_stat shared = tasks(v, lesson, sizes[i], t);
    struct sm_stat fast = tasks(v, "fast", sizes[i], t);
    char label[80];
    snprintf(label, sizeof label, "spin_ns=%ld, pool of %u: thread per task",
             sizes[i], t);
    sm_claim_note(out, label, &per);
    sm_claim_note(out, "lesson's pool", &shared);
    sm_claim_note(out, "fast pool", &fast);
    any = any || (per.found && shared.found && fast.found);
    sm_rule_fold(&verdict, sm_stat_cmp(&shared, &per));
    sm_rule_fold(&verdict, sm_stat_cmp(&fast, &per));
  }
  out->verdict = sm_rule_verdict(verdict, any);
}

void sm_rule_c9(const struct sm_run_view *v, struct sm_claim_result *out) {
  c9_with(v, out, "thread_per_task", "shared_queue");
}

void sm_rule_c9_rust(const struct sm_run_view *v, struct sm_claim_result *out) {
  c9_with(v, out, "rust_thread_per_task", "rust_lesson_pool");
}

/* C15's rule on the lesson's pool `lesson` (C or Rust) against the fast
 * pool. */
static void c15_with(const struct sm_run_view *v, struct sm_claim_result *out,
                     const char *lesson) {
  unsigned t = pool_threads(v);
  long sizes[16];
  size_t n = spins(v, sizes);
  int verdict = 1;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    struct sm_stat shared = tasks(v, lesson, sizes[i], t);
    struct sm_stat fast = tasks(v, "fast", sizes[i], t);
    if (!shared.found || !fast.found)
      continue;
    sm_claim_printf(out,
                    "%sspin_ns=%ld, pool of %u: lesson's pool at %.2fx "
                    "the fast pool",
                    out->numbers[0] ? "; " : "", sizes[i], t,
                    shared.median / fast.median);
    if (sizes[i] < 10000)
      continue; /* tiny tasks: reported, not judged */
    any = true;
    int part = shared.ci_lo >= 0.5 * fast.ci_hi  ? 1
               : shared.ci_hi < 0.5 * fast.ci_lo ? -1
                                                 : 0;
    sm_rule_fold(&verdict, part);
  }
  out->verdict = sm_rule_verdict(verdict, any);
}

void sm_rule_c15(const struct sm_run_view *v, struct sm_claim_result *out) {
  c15_with(v, out, "shared_queue");
}

void sm_rule_c15_rust(const struct sm_run_view *v,
                      struct sm_claim_result *out) {
  c15_with(v, out, "rust_lesson_pool");
}
