/* claims_sharing.c: verdict rules of the claims about shared state and
 * message passing (C5, C6, C8, C10 to C14, C17). */
#include <stdio.h>
#include <stdlib.h>

#include "claims_rules.h"

unsigned sm_rule_contended_threads(const struct sm_run_view *v,
                                   const char *benchmark) {
  const char *pus = sm_run_view_machine(v, "allowed_pus");
  unsigned max = pus ? (unsigned)strtoul(pus, NULL, 10) : 0, list[64];
  struct sm_query q = {.benchmark = benchmark};
  size_t n = sm_run_view_threads(v, &q, list, 64);
  unsigned best = 0;
  for (size_t i = 0; i < n; i++)
    if (list[i] >= 2 && list[i] <= max)
      best = list[i];
  return best;
}

int sm_rule_below(const struct sm_stat *s, double bound) {
  if (!s->found)
    return 0;
  return s->ci_hi < bound ? 1 : s->ci_lo > bound ? -1 : 0;
}

/* ops/s of a contention variant at a read share. */
static struct sm_stat contention_ops(const struct sm_run_view *v,
                                     const char *variant, long read_pct,
                                     long cs_ns, unsigned threads) {
  char params[64];
  snprintf(params, sizeof params, "read_pct=%ld;cs_ns=%ld", read_pct, cs_ns);
  struct sm_query q = {.benchmark = "contention",
                       .variant = variant,
                       .params = params,
                       .threads = threads,
                       .metric = "ops_per_s"};
  return sm_run_view_find(v, &q);
}

void sm_rule_c5(const struct sm_run_view *v, struct sm_claim_result *out) {
  unsigned t = sm_rule_contended_threads(v, "contention");
  long cs[16], reads[16];
  struct sm_query q = {.benchmark = "contention", .variant = "futex_rwlock"};
  size_t ncs = sm_run_view_param_values(v, &q, "cs_ns", cs, 16);
  size_t nreads = sm_run_view_param_values(v, &q, "read_pct", reads, 16);
  if (t == 0 || ncs == 0 || nreads < 2) {
    out->verdict = SM_CLAIM_INCONCLUSIVE;
    sm_claim_printf(out, "needs futex_mutex and futex_rwlock rows at 2 or "
                         "more threads (up to the PUs) and two read shares");
    return;
  }
  long longest = cs[ncs - 1], top = reads[nreads - 1];
  sm_claim_printf(out, "%u threads, cs_ns=%ld: ", t, longest);
  struct sm_stat m0 = contention_ops(v, "futex_mutex", 0, longest, t);
  struct sm_stat r0 = contention_ops(v, "futex_rwlock", 0, longest, t);
  struct sm_stat m50 = contention_ops(v, "futex_mutex", 50, longest, t);
  struct sm_stat r50 = contention_ops(v, "futex_rwlock", 50, longest, t);
  struct sm_stat mt = contention_ops(v, "futex_mutex", top, longest, t);
  struct sm_stat rt = contention_ops(v, "futex_rwlock", top, longest, t);
  char label[64];
  sm_claim_note(out, "0% reads: mutex", &m0);
  sm_claim_note(out, "rwlock", &r0);
  sm_claim_note(out, "50% reads: mutex", &m50);
  sm_claim_note(out, "rwlock", &r50);
  snprintf(label, sizeof label, "%ld%% reads: mutex", top);
  sm_claim_note(out, label, &mt);
  sm_claim_note(out, "rwlock", &rt);
  int parts[3] = {sm_stat_cmp(&m0, &r0), sm_stat_cmp(&rt, &mt),
                  -sm_stat_cmp(&r50, &m50)};
  /* "does not beat at 50%" is satisfied by a tie as well as a loss. */
  if (parts[2] == 0 && m50.found && r50.found)
    parts[2] = 1;
  out->verdict = sm_claim_all(parts, 3);
}

/* ns per clone+release of a refcount variant. */
static struct sm_stat refcount_ns(const struct sm_run_view *v,
                                  const char *variant, unsigned threads) {
  struct sm_query q = {.benchmark = "refcount",
                       .variant = variant,
                       .threads = threads,
                       .metric = "ns_per_op"};
  return sm_run_view_find(v, &q);
}

void sm_rule_c13(const struct sm_run_view *v, struct sm_claim_result *out) {
  unsigned t = sm_rule_contended_threads(v, "refcount");
  struct sm_stat alone = refcount_ns(v, "arc_private", 1);
  struct sm_stat shared = refcount_ns(v, "arc_shared", t);
  struct sm_stat rc = refcount_ns(v, "rc_private", 1);
  sm_claim_note(out, "arc_private 1 thread", &alone);
  char label[64];
  snprintf(label, sizeof label, "arc_shared %u threads", t);
  sm_claim_note(out, label, &shared);
  sm_claim_note(out, "rc_private 1 thread", &rc);
  int parts[2] = {sm_rule_below(&alone, 25.0), 0};
  if (alone.found && shared.found && t > 0)
    parts[1] = shared.ci_hi <= 4 * alone.ci_lo  ? 1
               : shared.ci_lo > 4 * alone.ci_hi ? -1
                                                : 0;
  if (parts[1] != 0)
    sm_claim_printf(out, "; shared/uncontended = %.1fx",
                    shared.median / alone.median);
  out->verdict = sm_claim_all(parts, 2);
}
