/* spawn_vs_pool.c: the plain reference of the spawn_vs_pool family: one
 * submitter hands N empty tasks (each bumps a shared counter) to a pool of
 * two unpinned workers and waits for them; total time, median of rounds. */
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/pool.h"

/* Tasks per round and the pool's size. */
enum { TASKS = 500000, WORKERS = 2 };

/* The task: one relaxed increment of the shared count. Returns 0. */
static int bump(void *arg) {
  atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
  return 0;
}

/* One round on the pool `arg`: submit TASKS, wait for all. Returns TASKS,
 * or 0 when a submit was refused or a task is missing. */
static double round_on(void *arg) {
  struct sm_pool *pool = arg;
  static atomic_ulong count;
  atomic_store(&count, 0);
  for (unsigned i = 0; i < TASKS; i++)
    if (sm_pool_submit(pool, bump, &count) != 0)
      return 0;
  if (sm_pool_wait(pool) != 0 || atomic_load(&count) != TASKS) {
    fprintf(stderr, "plain: %lu of %d tasks ran\n", atomic_load(&count), TASKS);
    return 0;
  }
  return TASKS;
}

/* Measures one pool design and prints its block. Returns the exit status
 * of sm_plain_report, or 1 when the pool cannot be created. */
static int measure(enum sm_pool_design design, const char *variant) {
  struct sm_pool_opts opts = SM_POOL_OPTS_INIT;
  opts.workers = WORKERS;
  opts.design = design;
  struct sm_pool *pool;
  if (sm_pool_create(&opts, &pool) != 0) {
    fprintf(stderr, "plain: cannot create a pool of %d\n", WORKERS);
    return 1;
  }
  double rate = sm_plain_median_rate(round_on, pool);
  (void)sm_pool_shutdown(pool);
  char args[160];
  snprintf(args, sizeof args,
           "spawn_vs_pool/%s --threads %d --placement none --param spin_ns=0 "
           "--param sleep_ns=0",
           variant, WORKERS);
  return sm_plain_report(args, "tasks_per_s", rate);
}

int main(void) {
  int rc = measure(SM_POOL_FAST, "fast");
  return measure(SM_POOL_SHARED_QUEUE, "shared_queue") | rc;
}
