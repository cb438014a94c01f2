/* claims_messages.c: verdict rules of the claims about message passing:
 * backpressure, scaling of channels against shared state, and select (C8,
 * C12, C14). */
#include <math.h>
#include <stdio.h>

#include "claims_rules.h"

/* A backpressure summary metric of `variant` at one capacity and consumer
 * speed. */
static struct sm_stat pressure(const struct sm_run_view *v, const char *variant,
                               long capacity, long consumer_ns,
                               const char *metric) {
  char params[64];
  snprintf(params, sizeof params, "capacity=%ld;consumer_ns=%ld", capacity,
           consumer_ns);
  return sm_rule_stat(v, "backpressure", variant, params, 0, NULL, metric);
}

/* C8 on the channel `variant` at one consumer speed: 1, -1 or 0 (see the
 * rule). */
static int c8_at(const struct sm_run_view *v, const char *variant,
                 long consumer_ns, struct sm_claim_result *out) {
  long caps[16];
  struct sm_query q = {.benchmark = "backpressure", .variant = variant};
  size_t n = sm_run_view_param_values(v, &q, "capacity", caps, 16);
  double bounded_growth = 0;
  int part = 1;
  bool bounded = false;
  for (size_t i = 0; i < n; i++) {
    if (caps[i] < 0)
      continue;
    struct sm_stat blocked =
        pressure(v, variant, caps[i], consumer_ns, "blocked_share");
    struct sm_stat growth =
        pressure(v, variant, caps[i], consumer_ns, "rss_growth_mib");
    char label[80];
    snprintf(label, sizeof label, "consumer_ns=%ld capacity=%ld: blocked",
             consumer_ns, caps[i]);
    sm_claim_note(out, label, &blocked);
    sm_claim_note(out, "RSS growth", &growth);
    if (!blocked.found || !growth.found)
      continue;
    bounded = true;
    bounded_growth = fmax(bounded_growth, growth.median);
    if (blocked.median < 0.05)
      part = -1; /* no backpressure at all */
    else if (blocked.median <= 0.5 || growth.median >= 1)
      sm_rule_fold(&part, 0);
  }
  struct sm_stat blocked =
      pressure(v, variant, -1, consumer_ns, "blocked_share");
  struct sm_stat growth =
      pressure(v, variant, -1, consumer_ns, "rss_growth_mib");
  struct sm_stat capped = pressure(v, variant, -1, consumer_ns, "capped");
  sm_claim_note(out, "unbounded: blocked", &blocked);
  sm_claim_note(out, "RSS growth", &growth);
  if (!bounded || !blocked.found || !growth.found)
    return 0;
  if (growth.median <= bounded_growth)
    return -1;
  bool grew = growth.median > 10 * bounded_growth ||
              (capped.found && capped.median > 0);
  sm_rule_fold(&part, grew && blocked.median < 0.05 ? 1 : 0);
  return part;
}

/* C8's rule on the channel `variant` at every consumer speed it was
 * measured with. */
static void c8_with(const struct sm_run_view *v, struct sm_claim_result *out,
                    const char *variant) {
  long speeds[16];
  struct sm_query q = {.benchmark = "backpressure", .variant = variant};
  size_t n = sm_run_view_param_values(v, &q, "consumer_ns", speeds, 16);
  int verdict = 1;
  for (size_t i = 0; i < n; i++)
    sm_rule_fold(&verdict, c8_at(v, variant, speeds[i], out));
  out->verdict = sm_rule_verdict(verdict, n > 0);
}

void sm_rule_c8(const struct sm_run_view *v, struct sm_claim_result *out) {
  c8_with(v, out, "syncmark");
}

void sm_rule_c8_rust(const struct sm_run_view *v, struct sm_claim_result *out) {
  c8_with(v, out, "rust_std");
}

/* updates/s of an aggregate variant. */
static struct sm_stat updates(const struct sm_run_view *v, const char *variant,
                              long work, unsigned threads) {
  char params[32];
  snprintf(params, sizeof params, "work_ns=%ld", work);
  return sm_rule_stat(v, "aggregate", variant, params, threads, NULL,
                      "updates_per_s");
}

void sm_rule_c12(const struct sm_run_view *v, struct sm_claim_result *out) {
  unsigned t = sm_rule_contended_threads(v, "aggregate");
  long work = sm_rule_max_param(v, "aggregate", "channel", "work_ns", 0);
  sm_claim_printf(out, "work_ns=%ld, 1 vs %u threads: ", work, t);
  double speedup[2];
  static const char *const pair[] = {"channel", "mutex"};
  bool any = t > 0;
  for (int i = 0; i < 2; i++) {
    struct sm_stat one = updates(v, pair[i], work, 1);
    struct sm_stat many = updates(v, pair[i], work, t);
    any = any && one.found && many.found;
    speedup[i] = many.median / one.median;
    sm_claim_printf(out, "%s%s speeds up %.2fx", i ? "; " : "", pair[i],
                    speedup[i]);
  }
  struct sm_stat piped = updates(v, "pipeline_channel", work, t);
  struct sm_stat locked = updates(v, "pipeline_locked", work, t);
  sm_claim_note(out, "pipeline over channels", &piped);
  sm_claim_note(out, "over one locked queue", &locked);
  int verdict = 1;
  if (any) {
    int scale = speedup[0] >= 1.2 * speedup[1]  ? 1
                : speedup[0] < speedup[1] / 1.2 ? -1
                                                : 0;
    sm_rule_fold(&verdict, scale);
    sm_rule_fold(&verdict, sm_stat_cmp(&piped, &locked));
  }
  out->verdict = sm_rule_verdict(verdict, any && piped.found && locked.found);
}

/* C14 at one channel count and placement: 1, -1 or 0. */
static int c14_at(const struct sm_run_view *v, long k, const char *placement,
                  struct sm_claim_result *out) {
  char params[32], label[80];
  snprintf(params, sizeof params, "channels=%ld", k);
  struct sm_stat sel =
      sm_rule_stat(v, "select", "select", params, 0, placement, "p50_ns");
  struct sm_stat poll = sm_rule_stat(v, "select", "poll_sleep_10ms", params, 0,
                                     placement, "p50_ns");
  struct sm_stat sel_cpu = sm_rule_stat(v, "select", "select", params, 0,
                                        placement, "wait_cpu_share");
  struct sm_stat poll_cpu = sm_rule_stat(v, "select", "poll_sleep_10ms", params,
                                         0, placement, "wait_cpu_share");
  snprintf(label, sizeof label, "K=%ld %s: select p50", k, placement);
  sm_claim_note(out, label, &sel);
  sm_claim_note(out, "polling p50", &poll);
  sm_claim_note(out, "select CPU share", &sel_cpu);
  sm_claim_note(out, "polling CPU share", &poll_cpu);
  if (!sel.found || !poll.found || !sel_cpu.found || !poll_cpu.found)
    return 0;
  int latency = sel.ci_hi < poll.ci_lo / 10   ? 1
                : sel.ci_lo > poll.ci_hi / 10 ? -1
                                              : 0;
  int part = 1;
  sm_rule_fold(&part, latency);
  sm_rule_fold(&part, sm_stat_cmp(&poll_cpu, &sel_cpu));
  return part;
}

void sm_rule_c14(const struct sm_run_view *v, struct sm_claim_result *out) {
  long ks[16];
  const char *places[8];
  struct sm_query q = {.benchmark = "select", .variant = "select"};
  size_t nk = sm_run_view_param_values(v, &q, "channels", ks, 16);
  size_t np = sm_run_view_placements(v, &q, places, 8);
  int verdict = 1;
  for (size_t p = 0; p < np; p++)
    for (size_t i = 0; i < nk; i++)
      sm_rule_fold(&verdict, c14_at(v, ks[i], places[p], out));
  out->verdict = sm_rule_verdict(verdict, nk > 0 && np > 0);
}
