/* claims_sharing.c: verdict rules of the claims about shared state: locks,
 * atomics, memory orders, reference counts, lock scope and lock order (C5,
 * C6, C10, C11, C13, C17). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims_rules.h"

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

/* C5's rule on the mutex variant `mutex` and the rwlock variant `rwlock`
 * (syncmark's rebuilds of Rust std's, or Rust std's own). */
static void c5_with(const struct sm_run_view *v, struct sm_claim_result *out,
                    const char *mutex, const char *rwlock) {
  unsigned t = sm_rule_contended_threads(v, "contention");
  long cs[16], reads[16];
  struct sm_query q = {.benchmark = "contention", .variant = rwlock};
  size_t ncs = sm_run_view_param_values(v, &q, "cs_ns", cs, 16);
  size_t nreads = sm_run_view_param_values(v, &q, "read_pct", reads, 16);
  if (t == 0 || ncs == 0 || nreads < 2) {
    out->verdict = SM_CLAIM_INCONCLUSIVE;
    sm_claim_printf(out,
                    "needs %s and %s rows at 2 or more threads (up to the "
                    "PUs) and two read shares",
                    mutex, rwlock);
    return;
  }
  long longest = cs[ncs - 1], top = reads[nreads - 1];
  sm_claim_printf(out, "%u threads, cs_ns=%ld: ", t, longest);
  struct sm_stat m0 = contention_ops(v, mutex, 0, longest, t);
  struct sm_stat r0 = contention_ops(v, rwlock, 0, longest, t);
  struct sm_stat m50 = contention_ops(v, mutex, 50, longest, t);
  struct sm_stat r50 = contention_ops(v, rwlock, 50, longest, t);
  struct sm_stat mt = contention_ops(v, mutex, top, longest, t);
  struct sm_stat rt = contention_ops(v, rwlock, top, longest, t);
  char label[64];
  sm_claim_note(out, "0% reads: mutex", &m0);
  sm_claim_note(out, "rwlock", &r0);
  sm_claim_note(out, "50% reads: mutex", &m50);
  sm_claim_note(out, "rwlock", &r50);
  snprintf(label, sizeof label, "%ld%% reads: mutex", top);
  sm_claim_note(out, label, &mt);
  sm_claim_note(out, "rwlock", &rt);
  int counted = 0;
  for (int i = 0; i < 4; i++) {
    const char *const lock[2] = {mutex, rwlock};
    char params[64], what[48];
    long share = i < 2 ? 0 : top;
    snprintf(params, sizeof params, "read_pct=%ld;cs_ns=%ld", share, longest);
    /* "futex_mutex" and "rust_mutex" are both the mutex */
    snprintf(what, sizeof what, "%s %ld%%", strchr(lock[i % 2], '_') + 1,
             share);
    struct sm_query k = {.benchmark = "contention",
                         .variant = lock[i % 2],
                         .params = params,
                         .threads = t};
    counted |= sm_rule_counters(v, out, what, &k, 1);
  }
  sm_rule_counters_missing(v, out, "contention", counted);
  int parts[3] = {sm_stat_cmp(&m0, &r0), sm_stat_cmp(&rt, &mt),
                  -sm_stat_cmp(&r50, &m50)};
  /* "does not beat at 50%" is satisfied by a tie as well as a loss. */
  if (parts[2] == 0 && m50.found && r50.found)
    parts[2] = 1;
  out->verdict = sm_claim_all(parts, 3);
}

void sm_rule_c5(const struct sm_run_view *v, struct sm_claim_result *out) {
  c5_with(v, out, "futex_mutex", "futex_rwlock");
}

void sm_rule_c5_rust(const struct sm_run_view *v, struct sm_claim_result *out) {
  c5_with(v, out, "rust_mutex", "rust_rwlock");
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

/* C13's rule on the Arc variants `private` and `shared` (syncmark's or
 * Rust std's), with syncmark's rc_private as the non-atomic floor. */
static void c13_with(const struct sm_run_view *v, struct sm_claim_result *out,
                     const char *private, const char *shared_arc) {
  unsigned t = sm_rule_contended_threads(v, "refcount");
  struct sm_stat alone = refcount_ns(v, private, 1);
  struct sm_stat shared = refcount_ns(v, shared_arc, t);
  struct sm_stat rc = refcount_ns(v, "rc_private", 1);
  char label[64];
  snprintf(label, sizeof label, "%s 1 thread", private);
  sm_claim_note(out, label, &alone);
  snprintf(label, sizeof label, "%s %u threads", shared_arc, t);
  sm_claim_note(out, label, &shared);
  sm_claim_note(out, "rc_private 1 thread", &rc);
  struct sm_query k = {
      .benchmark = "refcount", .variant = private, .threads = 1};
  int counted = sm_rule_counters(v, out, private, &k, 0);
  k.variant = shared_arc;
  k.threads = t;
  counted |= t ? sm_rule_counters(v, out, shared_arc, &k, 0) : 0;
  sm_rule_counters_missing(v, out, "refcount", counted);
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

void sm_rule_c13(const struct sm_run_view *v, struct sm_claim_result *out) {
  c13_with(v, out, "arc_private", "arc_shared");
}

void sm_rule_c13_rust(const struct sm_run_view *v,
                      struct sm_claim_result *out) {
  c13_with(v, out, "rust_arc_private", "rust_arc_shared");
}

/* ns per update of an aggregate strategy. */
static struct sm_stat aggregate_ns(const struct sm_run_view *v,
                                   const char *variant, long work,
                                   unsigned threads) {
  char params[32];
  snprintf(params, sizeof params, "work_ns=%ld", work);
  return sm_rule_stat(v, "aggregate", variant, params, threads, NULL,
                      "ns_per_update");
}

void sm_rule_c6(const struct sm_run_view *v, struct sm_claim_result *out) {
  unsigned t = sm_rule_contended_threads(v, "aggregate");
  static const char *const order[] = {"atomic", "channel", "rwlock", "mutex"};
  struct sm_stat s[4];
  sm_claim_printf(out, "work_ns=0, %u threads, ns per update: ", t);
  for (int i = 0; i < 4; i++) {
    s[i] = aggregate_ns(v, order[i], 0, t);
    sm_claim_note(out, order[i], &s[i]);
  }
  int counted = 0;
  for (int i = 0; i < 4 && t; i++) {
    struct sm_query k = {.benchmark = "aggregate",
                         .variant = order[i],
                         .params = "work_ns=0",
                         .threads = t};
    counted |= sm_rule_counters(v, out, order[i], &k, 0);
  }
  sm_rule_counters_missing(v, out, "aggregate", counted);
  int parts[3];
  for (int i = 0; i < 3; i++)
    parts[i] = sm_stat_cmp(&s[i + 1], &s[i]); /* the next one costs more */
  out->verdict = t ? sm_claim_all(parts, 3) : SM_CLAIM_INCONCLUSIVE;
}

/* ops/s of a lockscope variant. */
static struct sm_stat lockscope_ops(const struct sm_run_view *v,
                                    const char *variant, long slow_us,
                                    unsigned threads) {
  char params[48];
  snprintf(params, sizeof params, "slow_us=%ld;blocking=1", slow_us);
  return sm_rule_stat(v, "lockscope", variant, params, threads, NULL,
                      "ops_per_s");
}

void sm_rule_c10(const struct sm_run_view *v, struct sm_claim_result *out) {
  unsigned threads[64];
  struct sm_query q = {.benchmark = "lockscope"};
  size_t nt = sm_run_view_threads(v, &q, threads, 64);
  long slows[16];
  size_t ns = sm_run_view_param_values(v, &q, "slow_us", slows, 16);
  unsigned t = nt ? threads[nt - 1] : 0;
  int verdict = 1;
  bool any = false;
  for (size_t i = 0; t >= 2 && i < ns; i++) {
    struct sm_stat held = lockscope_ops(v, "held_across", slows[i], t);
    struct sm_stat upd = lockscope_ops(v, "update_only", slows[i], t);
    char label[64];
    snprintf(label, sizeof label, "slow_us=%ld, %u threads: held_across",
             slows[i], t);
    sm_claim_note(out, label, &held);
    sm_claim_note(out, "update_only", &upd);
    if (!held.found || !upd.found)
      continue;
    any = true;
    int part = sm_stat_cmp(&upd, &held);
    if (part > 0 && upd.median < 2 * held.median)
      part = 0; /* better, but not the ruin the claim describes */
    sm_rule_fold(&verdict, part);
  }
  out->verdict = sm_rule_verdict(verdict, any);
}

/* One operation's verdict under C11: 1 when seq_cst is slower than the
 * acquire/release order and relaxed is not more than 10% slower than it,
 * -1 when seq_cst costs the same (medians within 10%) or less, 0
 * otherwise. */
static int order_part(const struct sm_stat *relaxed, const struct sm_stat *acq,
                      const struct sm_stat *seq) {
  if (!relaxed->found || !acq->found || !seq->found)
    return 0;
  if (seq->median <= 1.1 * acq->median)
    return -1;
  return sm_stat_cmp(seq, acq) > 0 && relaxed->median <= 1.1 * acq->median ? 1
                                                                           : 0;
}

void sm_rule_c11(const struct sm_run_view *v, struct sm_claim_result *out) {
  static const char *const ops[][3] = {
      {"store_relaxed", "store_release", "store_seq_cst"},
      {"load_relaxed", "load_acquire", "load_seq_cst"},
      {"fetch_add_relaxed", "fetch_add_acq_rel", "fetch_add_seq_cst"},
      {"cas_relaxed", "cas_acq_rel", "cas_seq_cst"}};
  int verdict = 1;
  bool any = false;
  sm_claim_printf(out, "1 thread, own cache line, ns per op: ");
  for (int i = 0; i < 4; i++) {
    struct sm_stat s[3];
    for (int k = 0; k < 3; k++) {
      s[k] = sm_rule_stat(v, "ordering", ops[i][k], "shared=0", 1, NULL,
                          "ns_per_op");
      sm_claim_note(out, ops[i][k], &s[k]);
    }
    int part = order_part(&s[0], &s[1], &s[2]);
    any = any || (s[0].found && s[1].found && s[2].found);
    sm_claim_printf(out, " (%s)",
                    part > 0   ? "holds"
                    : part < 0 ? "does not hold"
                               : "inconclusive");
    sm_rule_fold(&verdict, part);
  }
  out->verdict = sm_rule_verdict(verdict, any);
}

void sm_rule_c17(const struct sm_run_view *v, struct sm_claim_result *out) {
  static const char *const variants[] = {"unordered", "ordered",
                                         "trylock_backoff"};
  unsigned deadlocks[3] = {0}, reps[3] = {0};
  for (int i = 0; i < 3; i++) {
    struct sm_query q = {.benchmark = "deadlock",
                         .variant = variants[i],
                         .metric = "deadlocked"};
    struct sm_stat rows[256];
    size_t n = sm_run_view_find_all(v, &q, rows, 256);
    for (size_t r = 0; r < n && r < 256; r++) {
      deadlocks[i] += (unsigned)(rows[r].mean * rows[r].n + 0.5);
      reps[i] += rows[r].n;
    }
    sm_claim_printf(out, "%s%s deadlocked in %u of %u repetitions",
                    i ? "; " : "", variants[i], deadlocks[i], reps[i]);
  }
  size_t failed =
      sm_run_view_problems(v, "deadlock", "ordered", "failed") +
      sm_run_view_problems(v, "deadlock", "trylock_backoff", "failed");
  if (failed > 0)
    sm_claim_printf(out,
                    "; %zu case(s) of ordered or trylock_backoff "
                    "failed (problems.csv): a deadlock there fails its "
                    "self-check",
                    failed);
  if (reps[1] == 0 || reps[2] == 0 || failed > 0)
    out->verdict = SM_CLAIM_INCONCLUSIVE;
  else if (deadlocks[1] > 0 || deadlocks[2] > 0)
    out->verdict = SM_CLAIM_DOES_NOT_HOLD;
  else
    out->verdict = deadlocks[0] > 0 ? SM_CLAIM_HOLDS : SM_CLAIM_INCONCLUSIVE;
}
