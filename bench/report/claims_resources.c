/* claims_resources.c: verdict rules of the claims about what threads cost
 * the machine: stack memory, creation time, oversubscription and sleep
 * accuracy (C2, C3, C4, C16). */
#include <stdio.h>
#include <stdlib.h>

#include "claims_rules.h"

/* A stack/idle metric with nothing touched, at one stack size. */
static struct sm_stat idle(const struct sm_run_view *v, long kib,
                           const char *metric) {
  char params[64];
  snprintf(params, sizeof params, "stack_kib=%ld;touch_kib=0", kib);
  return sm_rule_stat(v, "stack", "idle", params, 0, NULL, metric);
}

/* C2 at one stack size: 1 when a thread really holds half its stack or
 * more in resident memory, -1 when it reserves the stack (virtual) but
 * holds under a tenth of it, 0 otherwise or when the check is unsound. */
static int c2_at(const struct sm_run_view *v, long kib,
                 struct sm_claim_result *out) {
  struct sm_stat rss = idle(v, kib, "rss_kib_per_thread");
  struct sm_stat vm = idle(v, kib, "vm_kib_per_thread");
  struct sm_stat check = idle(v, kib, "rss_check_ratio");
  struct sm_stat reached = idle(v, kib, "threads_reached");
  struct sm_stat planned = idle(v, kib, "threads_planned");
  char label[64];
  snprintf(label, sizeof label, "stack %ld KiB: resident per thread", kib);
  sm_claim_note(out, label, &rss);
  sm_claim_note(out, "virtual", &vm);
  if (!rss.found || !vm.found)
    return 0;
  sm_claim_printf(out, " (%.0f of %.0f threads; RSS vs mincore %.2f)",
                  reached.median, planned.median, check.median);
  if (reached.median < planned.median || check.median < 0.9 ||
      check.median > 1.1)
    return 0;
  if (rss.median >= 0.5 * (double)kib)
    return 1;
  return rss.median < 0.1 * (double)kib && vm.median >= 0.9 * (double)kib ? -1
                                                                          : 0;
}

void sm_rule_c2(const struct sm_run_view *v, struct sm_claim_result *out) {
  static const long sizes[] = {2048, 8192};
  int verdict = 1;
  bool any = false;
  for (int i = 0; i < 2; i++) {
    if (!idle(v, sizes[i], "rss_kib_per_thread").found)
      continue;
    any = true;
    sm_rule_fold(&verdict, c2_at(v, sizes[i], out));
  }
  out->verdict = sm_rule_verdict(verdict, any);
}

void sm_rule_c3(const struct sm_run_view *v, struct sm_claim_result *out) {
  struct sm_stat small = idle(v, 256, "rss_kib_per_thread");
  struct sm_stat big = idle(v, 8192, "rss_kib_per_thread");
  struct sm_stat small_t = idle(v, 256, "spawn_ns_per_thread");
  struct sm_stat big_t = idle(v, 8192, "spawn_ns_per_thread");
  sm_claim_note(out, "resident per thread, 256 KiB stack", &small);
  sm_claim_note(out, "8192 KiB stack", &big);
  sm_claim_note(out, "creation per thread, 256 KiB", &small_t);
  sm_claim_note(out, "8192 KiB", &big_t);
  if (!small.found || !big.found || !small_t.found || !big_t.found) {
    out->verdict = SM_CLAIM_INCONCLUSIVE;
    return;
  }
  int parts[2] = {small.median < 0.9 * big.median ? 1 : -1,
                  sm_stat_cmp(&big_t, &small_t)};
  out->verdict = sm_claim_all(parts, 2);
}

/* C4 at one placement, for 2x the PUs: 1 when oversubscription is slower
 * and switches more, -1 when it costs nothing, 0 otherwise. */
static int c4_at(const struct sm_run_view *v, unsigned threads,
                 const char *placement, struct sm_claim_result *out) {
  struct sm_stat slow = sm_rule_stat(v, "oversub", "spin", NULL, threads,
                                     placement, "slowdown_vs_pus");
  struct sm_stat sw = sm_rule_stat(v, "oversub", "spin", NULL, threads,
                                   placement, "ivcsw_per_s");
  struct sm_stat ref = sm_rule_stat(v, "oversub", "spin", NULL, threads,
                                    placement, "ref_ivcsw_per_s");
  char label[96];
  snprintf(label, sizeof label, "%u threads %s: slowdown vs PUs threads",
           threads, placement);
  sm_claim_note(out, label, &slow);
  sm_claim_note(out, "involuntary switches", &sw);
  sm_claim_note(out, "with PUs threads", &ref);
  if (!slow.found || !sw.found || !ref.found)
    return 0;
  if (slow.ci_lo > 1.02 && sw.median >= 1.5 * ref.median)
    return 1;
  return slow.median >= 0.95 && slow.median <= 1.05 && slow.ci_hi < 1.10 ? -1
                                                                         : 0;
}

void sm_rule_c4(const struct sm_run_view *v, struct sm_claim_result *out) {
  const char *pus = sm_run_view_machine(v, "allowed_pus");
  unsigned threads = 2 * (pus ? (unsigned)strtoul(pus, NULL, 10) : 0);
  const char *places[8];
  struct sm_query q = {.benchmark = "oversub", .threads = threads};
  size_t n = threads ? sm_run_view_placements(v, &q, places, 8) : 0;
  int verdict = 1;
  for (size_t i = 0; i < n; i++)
    sm_rule_fold(&verdict, c4_at(v, threads, places[i], out));
  out->verdict = sm_rule_verdict(verdict, n > 0);
}

void sm_rule_c16(const struct sm_run_view *v, struct sm_claim_result *out) {
  long lengths[32];
  struct sm_query q = {.benchmark = "sleep", .variant = "slack_default"};
  size_t n = sm_run_view_param_values(v, &q, "sleep_us", lengths, 32);
  int verdict = 1;
  for (size_t i = 0; i < n; i++) {
    char params[32], label[64];
    snprintf(params, sizeof params, "sleep_us=%ld", lengths[i]);
    struct sm_stat p50 = sm_rule_stat(v, "sleep", "slack_default", params, 0,
                                      NULL, "overshoot_p50_ns");
    snprintf(label, sizeof label, "%ld us: median overshoot", lengths[i]);
    sm_claim_note(out, label, &p50);
    double share = p50.median / (1000.0 * (double)lengths[i]);
    sm_claim_printf(out, " (%.0f%% of the request)", 100 * share);
    if (!p50.found)
      sm_rule_fold(&verdict, 0);
    else
      sm_rule_fold(&verdict, share > 1.0                 ? -1
                             : share > 0 && share < 0.10 ? 1
                                                         : 0);
  }
  out->verdict = sm_rule_verdict(verdict, n > 0);
}
