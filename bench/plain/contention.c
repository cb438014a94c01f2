/* contention.c: the plain reference of the contention family's mutex
 * variant at read_pct=0, cs_ns=0: N threads pinned as syncmark's compact
 * placement pins them each do M lock / increment / unlock of one shared
 * counter under a pthread mutex (lockops); total time, median of rounds. */
#include "plain.h"
#include "syncmark/compiler.h"
#include "syncmark/lockops.h"
#include "syncmark/work.h"

/* Operations per thread of one round. */
enum { OPS_1 = 20000000, OPS_2 = 4000000 };

/* The lock with the value it protects, on one line, as the family lays
 * them out. */
struct counter {
  SM_CACHE_ALIGNED struct sm_lockops_mutex lock;
  uint64_t value; /* protected by `lock` */
};

/* What a round's threads share. */
struct round {
  struct counter c;
  uint64_t cs_iterations; /* sm_work_spin steps of the critical section */
  unsigned threads;
  unsigned ops; /* per thread */
  int pus[SM_PLAIN_MAX_THREADS];
};

/* One thread's work: `ops` writes, each the family's write (lock,
 * increment, critical-section work, unlock). Never fails. */
static int writer(void *arg, unsigned index) {
  struct round *r = arg;
  (void)index;
  for (unsigned i = 0; i < r->ops; i++) {
    sm_lockops_mutex_lock(&r->c.lock);
    r->c.value++;
    SM_KEEP(sm_work_spin(r->cs_iterations));
    sm_lockops_mutex_unlock(&r->c.lock);
  }
  return 0;
}

/* One round. Returns the operations done, or 0 when a thread could not
 * run or the counter is not threads x ops (message on stderr). */
static double one_round(void *arg) {
  struct round *r = arg;
  r->c.value = 0;
  if (sm_plain_run_pinned(r->threads, r->pus, writer, r) != 0)
    return 0;
  uint64_t want = (uint64_t)r->threads * r->ops;
  if (r->c.value != want) {
    fprintf(stderr, "plain: counter %llu, expected %llu\n",
            (unsigned long long)r->c.value, (unsigned long long)want);
    return 0;
  }
  return (double)want;
}

/* Measures `threads` writers and prints the block. Returns the report's
 * status (1 when the plan or a round failed). */
static int measure(struct round *r, unsigned threads, unsigned ops) {
  r->threads = threads;
  r->ops = ops;
  double rate = sm_plain_compact_rate(threads, r->pus, one_round, r);
  char args[160];
  snprintf(args, sizeof args,
           "contention/mutex --threads %u --placement compact --param "
           "read_pct=0 --param cs_ns=0 --reps 5",
           threads);
  return sm_plain_report(args, "ops_per_s", rate);
}

int main(void) {
  static struct round r;
  sm_lockops_mutex_init(&r.c.lock);
  r.cs_iterations = sm_work_iterations_for_ns(0);
  int rc = measure(&r, 1, OPS_1);
  rc |= measure(&r, 2, OPS_2);
  sm_lockops_mutex_destroy(&r.c.lock);
  return rc;
}
