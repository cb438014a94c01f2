/* lockscope.c: the plain reference of the lockscope family's held_across
 * variant at slow_us=10, blocking=0: two threads pinned as syncmark's
 * compact placement pins them each M times take the futex mutex, spin
 * 10 us of calibrated work, increment the counter and unlock; total time,
 * median of rounds. */
#include "plain.h"
#include "syncmark/compiler.h"
#include "syncmark/mutex.h"
#include "syncmark/work.h"

/* Threads, operations per thread of one round, and the slow operation. */
enum { THREADS = 2, OPS = 10000, SLOW_US = 10 };

/* What a round's threads share: the mutex and the value it protects on one
 * line, the slow operation's size on another, as the family lays them
 * out. */
struct round {
  SM_CACHE_ALIGNED struct sm_mutex lock;
  uint64_t value;                            /* protected by `lock` */
  SM_CACHE_ALIGNED uint64_t spin_iterations; /* the slow operation */
  int pus[THREADS];
};

/* One thread's work: OPS times lock, slow operation, increment, unlock.
 * Never fails. */
static int held_across(void *arg, unsigned index) {
  struct round *r = arg;
  (void)index;
  for (unsigned i = 0; i < OPS; i++) {
    sm_mutex_lock(&r->lock);
    SM_KEEP(sm_work_spin(r->spin_iterations));
    r->value++;
    sm_mutex_unlock(&r->lock);
  }
  return 0;
}

/* One round. Returns the operations done, or 0 when a thread could not run
 * or the counter is not THREADS x OPS (message on stderr). */
static double one_round(void *arg) {
  struct round *r = arg;
  r->value = 0;
  if (sm_plain_run_pinned(THREADS, r->pus, held_across, r) != 0)
    return 0;
  if (r->value != (uint64_t)THREADS * OPS) {
    fprintf(stderr, "plain: counter %llu, expected %d\n",
            (unsigned long long)r->value, THREADS * OPS);
    return 0;
  }
  return (double)THREADS * OPS;
}

int main(void) {
  static struct round r = {.lock = SM_MUTEX_INIT};
  r.spin_iterations = sm_work_iterations_for_ns(SLOW_US * 1000u);
  double rate = sm_plain_compact_pus(THREADS, r.pus) == 0
                    ? sm_plain_median_rate(one_round, &r)
                    : -1;
  char args[160];
  snprintf(args, sizeof args,
           "lockscope/held_across --threads %d --placement compact --param "
           "slow_us=%d --param blocking=0 --reps 5",
           THREADS, SLOW_US);
  return sm_plain_report(args, "ops_per_s", rate);
}
