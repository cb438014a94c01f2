/* deadlock.c: the plain reference of the deadlock family's ordered
 * variant: two unpinned threads each take two futex mutexes in one order N
 * times, bumping the two values they protect; lock pairs of both threads
 * over the total time, median of rounds. */
#include <pthread.h>
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/lockops.h"

/* Lock pairs per thread and round. */
enum { PAIRS = 2000000 };

/* The two locks with the values they protect. */
struct pair_of_locks {
  struct sm_lockops_futex_mutex a, b;
  uint64_t va, vb; /* protected by a and b */
};

/* One thread: PAIRS times a, then b, both values bumped. Returns NULL. */
static void *take_pairs(void *arg) {
  struct pair_of_locks *p = arg;
  for (unsigned i = 0; i < PAIRS; i++) {
    sm_lockops_futex_mutex_lock(&p->a);
    sm_lockops_futex_mutex_lock(&p->b);
    p->va++;
    p->vb++;
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
  p.va = p.vb = 0;
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, take_pairs, &p) != 0) {
      fprintf(stderr, "plain: cannot create thread %d\n", i);
      return 0;
    }
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  if (p.va != 2u * PAIRS || p.vb != 2u * PAIRS) {
    fprintf(stderr, "plain: values %llu %llu after %d pairs\n",
            (unsigned long long)p.va, (unsigned long long)p.vb, 2 * PAIRS);
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
