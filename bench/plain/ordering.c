/* ordering.c: the plain reference of the ordering family's
 * fetch_add_relaxed variant: N threads pinned as syncmark's compact
 * placement pins them each do M relaxed fetch_adds of 1, on a word of
 * their own line (shared=0) or on one word for all (shared=1); total time
 * x threads / operations (a thread's ns per operation), median of
 * rounds. */
#include "plain.h"
#include "syncmark/compiler.h"

/* fetch_adds per thread of one round. */
enum { OPS_PRIVATE = 60000000, OPS_SHARED = 15000000 };

/* One atomic word alone on its cache line. */
struct slot {
  SM_CACHE_ALIGNED atomic_uint_least64_t value;
};

/* What a round's threads share. */
struct round {
  struct slot shared;
  struct slot own[SM_PLAIN_MAX_THREADS];
  int use_shared;
  unsigned threads;
  unsigned ops; /* per thread */
  int pus[SM_PLAIN_MAX_THREADS];
};

/* One thread's work: `ops` relaxed fetch_adds of 1 on its word. Never
 * fails. */
static int fetch_adds(void *arg, unsigned index) {
  struct round *r = arg;
  atomic_uint_least64_t *p =
      r->use_shared ? &r->shared.value : &r->own[index].value;
  for (unsigned i = 0; i < r->ops; i++)
    atomic_fetch_add_explicit(p, 1, memory_order_relaxed);
  return 0;
}

/* Returns 1 when word `p` holds `want`, else 0 with a message. */
static int holds(atomic_uint_least64_t *p, uint64_t want) {
  uint64_t v = atomic_load(p);
  if (v != want)
    fprintf(stderr, "plain: word holds %llu, expected %llu\n",
            (unsigned long long)v, (unsigned long long)want);
  return v == want;
}

/* One round. Returns the fetch_adds done, or 0 when a thread could not run
 * or a word does not hold the increments made on it (message on
 * stderr). */
static double one_round(void *arg) {
  struct round *r = arg;
  atomic_store(&r->shared.value, 0);
  for (unsigned i = 0; i < r->threads; i++)
    atomic_store(&r->own[i].value, 0);
  if (sm_plain_run_pinned(r->threads, r->pus, fetch_adds, r) != 0)
    return 0;
  int ok = r->use_shared
               ? holds(&r->shared.value, (uint64_t)r->threads * r->ops)
               : 1;
  for (unsigned i = 0; !r->use_shared && i < r->threads; i++)
    ok &= holds(&r->own[i].value, r->ops);
  return ok ? (double)r->threads * r->ops : 0;
}

/* Measures `threads` threads on shared or private words and prints the
 * block (ns per operation per thread, as the runner's ns_per_op). Returns
 * the report's status (1 when the plan or a round failed). */
static int measure(struct round *r, int shared, unsigned threads,
                   unsigned ops) {
  r->use_shared = shared;
  r->threads = threads;
  r->ops = ops;
  double rate = sm_plain_compact_rate(threads, r->pus, one_round, r);
  char args[160];
  snprintf(args, sizeof args,
           "ordering/fetch_add_relaxed --threads %u --placement compact "
           "--param shared=%d --reps 5",
           threads, shared);
  return sm_plain_report(args, "ns_per_op",
                         rate > 0 ? threads * 1e9 / rate : -1);
}

int main(void) {
  static struct round r;
  int rc = measure(&r, 0, 1, OPS_PRIVATE);
  return measure(&r, 1, 2, OPS_SHARED) | rc;
}
