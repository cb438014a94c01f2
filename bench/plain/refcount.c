/* refcount.c: the plain reference of the refcount family: N threads pinned
 * as syncmark's compact placement pins them each clone and release an Arc
 * M times, one Arc per thread (arc_private) or one for all (arc_shared);
 * total time, median of rounds. */
#include "plain.h"
#include "syncmark/arc.h"
#include "syncmark/compiler.h"

/* Clone+release pairs per thread of one round. */
enum { OPS_PRIVATE = 20000000, OPS_SHARED = 5000000 };

/* Destructor runs: a clone+release must never run one. */
static atomic_uint destroyed;

/* Destructor of every object; counts its runs. */
static void count_destroy(void *payload) {
  (void)payload;
  atomic_fetch_add_explicit(&destroyed, 1, memory_order_relaxed);
}

/* What a round's threads share: the Arc of each thread (all the same one
 * when shared). */
struct round {
  struct sm_arc *arcs[SM_PLAIN_MAX_THREADS];
  unsigned threads;
  unsigned ops; /* per thread */
  int pus[SM_PLAIN_MAX_THREADS];
};

/* One thread's work: `ops` clone+release pairs of its Arc, the family's
 * operation. Never fails. */
static int clone_release(void *arg, unsigned index) {
  struct round *r = arg;
  struct sm_arc *a = r->arcs[index];
  for (unsigned i = 0; i < r->ops; i++)
    sm_arc_release(sm_arc_clone(a));
  return 0;
}

/* One round. Returns the pairs done, or 0 when a thread could not run, an
 * Arc is not back to one reference or a destructor ran (message on
 * stderr). */
static double one_round(void *arg) {
  struct round *r = arg;
  if (sm_plain_run_pinned(r->threads, r->pus, clone_release, r) != 0)
    return 0;
  for (unsigned i = 0; i < r->threads; i++)
    if (sm_arc_strong_count(r->arcs[i]) != 1) {
      fprintf(stderr, "plain: Arc of thread %u has %zu references\n", i,
              sm_arc_strong_count(r->arcs[i]));
      return 0;
    }
  if (atomic_load(&destroyed) != 0) {
    fprintf(stderr, "plain: a destructor ran\n");
    return 0;
  }
  return (double)r->threads * r->ops;
}

/* Measures one variant at `threads` threads and prints its block. Returns
 * the report's status (1 when an object, the plan or a round failed). */
static int measure(const char *variant, unsigned threads, unsigned ops) {
  struct round r = {.threads = threads, .ops = ops};
  int shared = strcmp(variant, "arc_shared") == 0, ok = 1;
  for (unsigned i = 0; ok && i < threads; i++) {
    if (shared && i > 0)
      r.arcs[i] = r.arcs[0]; /* the same object, no reference of its own */
    else
      ok = sm_arc_new_aligned(SM_CACHE_LINE, SM_CACHE_LINE, count_destroy,
                              &r.arcs[i]) == 0;
  }
  double rate = ok && sm_plain_compact_pus(threads, r.pus) == 0
                    ? sm_plain_median_rate(one_round, &r)
                    : -1;
  for (unsigned i = 0; i < (shared ? 1 : threads); i++)
    sm_arc_release(r.arcs[i]); /* NULL after a failed creation: a no-op */
  atomic_store(&destroyed, 0);
  char args[128];
  snprintf(args, sizeof args,
           "refcount/%s --threads %u --placement compact --reps 5", variant,
           threads);
  return sm_plain_report(args, "ops_per_s", rate);
}

int main(void) {
  int rc = measure("arc_private", 1, OPS_PRIVATE);
  rc |= measure("arc_private", 2, OPS_PRIVATE);
  return measure("arc_shared", 2, OPS_SHARED) | rc;
}
