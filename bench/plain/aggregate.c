/* aggregate.c: the plain reference of the aggregate family: N unpinned
 * threads each add M updates to one total through a seq_cst fetch_add, or
 * under the futex mutex; total time from the first spawn to the last join,
 * median of rounds. */
#include <pthread.h>
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/mutex.h"

/* Updaters and updates per updater of one round. */
enum { THREADS = 2, UPDATES = 4000000 };

/* The shared totals of the two strategies. */
static atomic_ulong atomic_total;
static struct sm_mutex lock = SM_MUTEX_INIT;
static unsigned long locked_total;

/* Updater: UPDATES fetch_adds. */
static void *atomic_updater(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < UPDATES; i++)
    atomic_fetch_add_explicit(&atomic_total, 1, memory_order_seq_cst);
  return NULL;
}

/* Updater: UPDATES increments under the mutex. */
static void *mutex_updater(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < UPDATES; i++) {
    sm_mutex_lock(&lock);
    locked_total++;
    sm_mutex_unlock(&lock);
  }
  return NULL;
}

/* One round of the updater `arg`: THREADS threads, all joined. Returns the
 * updates, or 0 when a thread could not be created or the total is
 * wrong. */
static double round_of(void *arg) {
  void *(*updater)(void *) = (void *(*)(void *))arg;
  pthread_t t[THREADS];
  atomic_store(&atomic_total, 0);
  locked_total = 0;
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, updater, NULL) != 0) {
      fprintf(stderr, "plain: cannot create thread %d\n", i);
      return 0;
    }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  unsigned long total =
      updater == atomic_updater ? atomic_load(&atomic_total) : locked_total;
  if (total != (unsigned long)THREADS * UPDATES) {
    fprintf(stderr, "plain: total %lu\n", total);
    return 0;
  }
  return (double)THREADS * UPDATES;
}

/* Measures one strategy and prints its block. Returns sm_plain_report's
 * status. */
static int measure(void *(*updater)(void *), const char *variant) {
  double rate = sm_plain_median_rate(round_of, (void *)updater);
  char args[160];
  snprintf(args, sizeof args,
           "aggregate/%s --threads %d --placement none --param work_ns=0",
           variant, THREADS);
  return sm_plain_report(args, "updates_per_s", rate);
}

int main(void) {
  int rc = measure(atomic_updater, "atomic");
  return measure(mutex_updater, "mutex") | rc;
}
