/* deadlock.c: the plain reference of the deadlock family's ordered
 * variant: two unpinned threads each take two futex mutexes (lockops) in
 * one order N times, bumping the two values they protect; lock pairs of both
 * threads over the total time, median of rounds. */
#include <pthread.h>
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/compiler.h"
#include "syncmark/lockops.h"

/* Lock pairs per thread and round. */
enum { PAIRS = 2000000 };

/* The two locks with the values they protect, each lock and its value on
 * a cache line of its own, the values relaxed atomics (as the family has
 * them; the throughput of two threads on one unfair mutex pair swings
 * with such details, by 2x and more). */
struct pair_of_locks {
  SM_CACHE_ALIGNED struct sm_lockops_futex_mutex a;
  atomic_ulong va; /* changed only under a */
  SM_CACHE_ALIGNED struct sm_lockops_futex_mutex b;
  atomic_ulong vb; /* changed only under b */
};

/* Adds one to a value its lock protects. */
static void bump(atomic_ulong *v) {
  atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

/* One thread: PAIRS times a, then b, both values bumped. Returns NULL. */
static void *take_pairs(void *arg) {
  struct pair_of_locks *p = arg;
  for (unsigned i = 0; i < PAIRS; i++) {
    sm_lockops_futex_mutex_lock(&p->a);
    sm_lockops_futex_mutex_lock(&p->b);
    bump(&p->va);
    bump(&p->vb);
    sm_lockops_futex_mutex_unlock(&p->b);
    sm_lockops_futex_mutex_unlock(&p->a);
  }
  return NULL;
}

/* One round: two threads of take_pairs. Returns the lock pairs of both, or
 * 0 when a thread could not be created or a protected value is wrong. */
static double round_of_pairs(void *arg) {
  (void)arg;
  static struct pair_of_locks p;
  sm_lockops_futex_mutex_init(&p.a);
  sm_lockops_futex_mutex_init(&p.b);
  atomic_store(&p.va, 0);
  atomic_store(&p.vb, 0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, take_pairs, &p) != 0) {
      fprintf(stderr, "plain: cannot create thread %d\n", i);
      return 0;
    }
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  unsigned long va = atomic_load(&p.va), vb = atomic_load(&p.vb);
  if (va != 2u * PAIRS || vb != 2u * PAIRS) {
    fprintf(stderr, "plain: values %lu %lu after %d pairs\n", va, vb,
            2 * PAIRS);
    return 0;
  }
  return 2.0 * PAIRS;
}

int main(void) {
  double rate = sm_plain_median_rate(round_of_pairs, NULL);
  printf("placement: none\n");
  return sm_plain_report("deadlock/ordered --param hold_ns=0", "ops_per_s",
                         rate);
}
