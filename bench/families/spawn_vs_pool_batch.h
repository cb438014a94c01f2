/* spawn_vs_pool_batch.h: the size of one spawn_vs_pool batch, shared by the
 * family and its plain reference so that both run the same batches. */
#ifndef SYNCMARK_SPAWN_VS_POOL_BATCH_H
#define SYNCMARK_SPAWN_VS_POOL_BATCH_H

#include <stddef.h>
#include <stdint.h>

enum {
  /* What a task is assumed to cost at least when sizing the batch: a
   * thread spawn and join on a busy VM (measured 300 us at load 4 on 2
   * vCPUs) for a thread per task, the hand-off of an empty task for a
   * pool. */
  SM_SVP_SPAWN_COST_FLOOR_NS = 500000,
  SM_SVP_POOL_COST_FLOOR_NS = 20,
  /* A batch is about this much work for the case's PUs, so that a window
   * (20 ms quick, 250 ms by default) holds tens to hundreds of batches and
   * the wait at the end of each is a small part of it. */
  SM_SVP_BATCH_WORK_NS = 1000000,
  SM_SVP_BATCH_MIN = 2,
  SM_SVP_BATCH_MAX = 65536
};

/* Returns the tasks of one batch: what `pus` PUs would finish in
 * SM_SVP_BATCH_WORK_NS if each task cost `task_ns` (at least the floor of
 * its strategy: a spawn when `spawns`, else a pool hand-off), rounded up
 * and at least one per PU, within SM_SVP_BATCH_MIN .. SM_SVP_BATCH_MAX.
 * (Rounded down, a task of 1.01 ms made batches of SM_SVP_BATCH_MIN tasks
 * for pools of 4 and 8: their rate was the batch's, half or a quarter of
 * what the pool runs.) Never fails. */
static inline size_t sm_svp_batch_tasks(uint64_t task_ns, int spawns,
                                        unsigned pus) {
  uint64_t floor =
      spawns ? SM_SVP_SPAWN_COST_FLOOR_NS : SM_SVP_POOL_COST_FLOOR_NS;
  uint64_t cost = task_ns < floor ? floor : task_ns;
  uint64_t per = pus ? pus : 1;
  uint64_t n = (SM_SVP_BATCH_WORK_NS * per + cost - 1) / cost;
  n = n < per ? per : n;
  if (n < SM_SVP_BATCH_MIN)
    return SM_SVP_BATCH_MIN;
  return n > SM_SVP_BATCH_MAX ? SM_SVP_BATCH_MAX : (size_t)n;
}

#endif
