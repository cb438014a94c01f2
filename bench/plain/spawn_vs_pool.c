/* spawn_vs_pool.c: the plain reference of the spawn_vs_pool family: one
 * submitter hands N empty tasks (each bumps a shared counter) to a pool of
 * two unpinned workers in the family's batches (submit a batch, wait for
 * it); total time, median of rounds. */
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/pool.h"
#include "../families/spawn_vs_pool_batch.h"

/* The pool's size and the batches of one round. The batch is the
 * family's for an empty task on WORKERS PUs (65536): one round of 500,000
 * tasks submitted at once and waited for once ran 14M or 35M tasks/s from
 * one round to the next on a 2-vCPU guest, where the family's batches run
 * 13-15M; the same work is the family's work. */
enum { WORKERS = 2, BATCHES = 8 };

/* The task: one relaxed increment of the shared count. Returns 0. */
static int bump(void *arg) {
  atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
  return 0;
}

/* One round on the pool `arg`: BATCHES times, submit a batch and wait
 * for it. Returns the tasks run, or 0 when a submit was refused or a task
 * is missing. */
static double round_on(void *arg) {
  struct sm_pool *pool = arg;
  static atomic_ulong count;
  const size_t batch = sm_svp_batch_tasks(0, 0, WORKERS);
  const unsigned long tasks = (unsigned long)batch * BATCHES;
  atomic_store(&count, 0);
  for (unsigned b = 0; b < BATCHES; b++) {
    for (size_t i = 0; i < batch; i++)
      if (sm_pool_submit(pool, bump, &count) != 0)
        return 0;
    if (sm_pool_wait(pool) != 0)
      return 0;
  }
  if (atomic_load(&count) != tasks) {
    fprintf(stderr, "plain: %lu of %lu tasks ran\n", atomic_load(&count),
            tasks);
    return 0;
  }
  return (double)tasks;
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
