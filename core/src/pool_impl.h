/* pool_impl.h: a pool's shared layout and its designs' interface. */

/* Internal. pool.c holds the public API: it checks the options, allocates the
 * pool and its workers, starts the threads, dispatches submit, close and
 * destroy to the pool's design, and does the counting and waiting that both
 * designs share. pool_shared.c is the lesson's shared-queue design, pool_fast.c
 * the fast one. */
#ifndef SYNCMARK_POOL_IMPL_H
#define SYNCMARK_POOL_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "syncmark/compiler.h"
#include "syncmark/mutex.h"
#include "syncmark/pool.h"

/* Most jobs in a fast worker's batch (see pool_fast.c). */
enum { BATCH_MAX = 256 };

/* A job as it travels through the channel or a lane. */
struct job {
  sm_task_fn fn;
  void *arg;
};

/* A lane of the fast design: defined in pool_fast.c. */
struct lane;

/* One worker. */
struct worker {
  /* Fast design: the batch. Its owner fills it and takes from its front,
   * thieves take its back half; both with a CAS on `take`. */
  SM_CACHE_ALIGNED _Atomic(uint64_t) take;
  _Atomic(sm_task_fn) fns[BATCH_MAX];
  _Atomic(void *) args[BATCH_MAX];
  uint64_t gen; /* owner-private: generation of the last fill */
  /* Both designs. */
  SM_CACHE_ALIGNED atomic_uint_fast64_t failed; /* written by it only */
  struct sm_pool *pool;
  struct sm_join_handle *handle;
  /* Fast design, owner-private: the lane and batch looked at first, the
   * tail last read and its lane. */
  struct lane *cursor;
  unsigned victim;
  struct lane *seen_lane;
  size_t seen_tail;
  /* Fast design: the worker's thread (set by itself before it can sleep),
   * whether it is in the idle list (guarded by idle_lock; read without it
   * by the worker waiting to be taken off), and the list link. */
  struct sm_thread *thread;
  atomic_bool listed;
  struct worker *next_idle;
};

struct sm_pool {
  /* Fixed after creation. */
  enum sm_pool_design design;
  unsigned nworkers;
  bool asym;   /* fast: the membarrier pair is available */
  uint64_t id; /* fast: unique in the process, for the lane caches */
  struct worker *workers;

  /* Read by every fast submit; written on sleeps, wake-ups, shutdown. */
  SM_CACHE_ALIGNED atomic_bool closing; /* no new jobs (both designs) */
  atomic_uint sleepers;                 /* fast: workers in `idle` */
  atomic_bool sealed;                   /* fast: no job can arrive */

  /* Fast: workers searching for work (awake, without work); written
   * whenever a worker runs out of work or finds some, so read by a submit
   * only when a worker sleeps. */
  SM_CACHE_ALIGNED atomic_uint searchers;

  /* Completions, added by workers only. */
  SM_CACHE_ALIGNED atomic_uint_fast64_t completed;

  /* Threads in sm_pool_wait, and the futex word they sleep on. */
  SM_CACHE_ALIGNED atomic_uint waiters;
  atomic_int wait_epoch;

  /* Fast: sleeping workers (LIFO) and the lanes. */
  SM_CACHE_ALIGNED struct sm_mutex idle_lock;
  struct worker *idle;
  SM_CACHE_ALIGNED _Atomic(struct lane *) lanes; /* prepend-only list */
  struct sm_mutex lanes_lock;                    /* adding lanes */
  unsigned nowned;       /* owned lanes, under lanes_lock */
  struct lane *overflow; /* shared lane, under lanes_lock */
  struct sm_mutex overflow_lock;

  /* Shared queue: submit count, submitters inside sm_send (shutdown drops
   * the sender only after them), the channel. */
  SM_CACHE_ALIGNED atomic_uint_fast64_t submitted;
  atomic_uint users;
  struct sm_sender *tx;
  SM_CACHE_ALIGNED struct sm_mutex rx_lock;
  struct sm_receiver *rx;
};

/* ---- Counting and waiting, shared by both designs (pool.c) ---- */

/* Jobs a worker has run and not yet added to the pool's counters. */
struct tally {
  uint64_t done, failed;
};

/* Wakes every thread in sm_pool_wait so that it looks again. Never
 * fails. */
void sm__pool_notify_waiters(struct sm_pool *p);

/* Adds worker w's tally, which holds at least one job, to the counters and
 * clears it; wakes the waiters when no job is pending any more. Use
 * sm__pool_tally_flush, which skips an empty tally. Never fails. */
void sm__pool_tally_publish(struct worker *w, struct tally *t);

/* Adds worker w's tally to the pool's counters and clears it, waking the
 * waiters when no job is pending any more; does nothing (and makes no
 * call) when the tally is empty, as a worker's loop often finds it. Never
 * fails. */
static inline void sm__pool_tally_flush(struct worker *w, struct tally *t) {
  if (t->done != 0)
    sm__pool_tally_publish(w, t);
}

/* Runs one job on worker w and counts it in *t, which it flushes at once
 * when someone waits. Inline: the workers' loops run it for every job.
 * Never fails. */
static inline void sm__pool_run_job(struct worker *w, struct job j,
                                    struct tally *t) {
  if (j.fn(j.arg) != 0)
    t->failed++;
  t->done++;
  if (atomic_load_explicit(&w->pool->waiters, memory_order_relaxed) != 0)
    sm__pool_tally_flush(w, t);
}

/* ---- What each design provides ---- */

/* The shared-queue design (pool_shared.c). */

/* Sets up the shared-queue fields of pool p, whose common fields pool.c
 * has set and whose memory is zeroed: the counters, the receiver's mutex
 * and the channel. Returns 0, or -ENOMEM when the channel cannot be
 * allocated (p is then left for the caller to free). */
int sm__pool_shared_init(struct sm_pool *p);

/* Runs shared-queue worker w until the pool is closed and its queue
 * drained. Never fails. */
void sm__pool_shared_worker_loop(struct worker *w);

/* Queues fn(arg) (both non-NULL) on the channel. Returns 0, -ESHUTDOWN
 * once shutdown has begun, or -ENOMEM. */
int sm__pool_shared_submit(struct sm_pool *p, sm_task_fn fn, void *arg);

/* Refuses new submits from now on and lets the workers drain the queue
 * and leave their loops. Called once, by pool.c. Never fails. */
void sm__pool_shared_close(struct sm_pool *p);

/* Frees what sm__pool_shared_init allocated, once the workers are joined
 * (or were never started). Never fails. */
void sm__pool_shared_destroy(struct sm_pool *p);

/* The fast design (pool_fast.c). */

/* Sets up the fast-design fields of pool p, whose common fields pool.c has
 * set and whose memory is zeroed: the pool's id, the membarrier pair (the
 * process registers for it on first use), the sleep and search counts,
 * the locks and the workers' batches. Never fails. */
void sm__pool_fast_init(struct sm_pool *p);

/* Runs fast worker w until the pool is sealed and drained. Never fails. */
void sm__pool_fast_worker_loop(struct worker *w);

/* Queues fn(arg) (both non-NULL) on the calling thread's lane. Returns 0,
 * -ESHUTDOWN once shutdown has begun, or -ENOMEM. Its common case is
 * written out without calls and saves no registers; sm_pool_submit
 * reaches it with a tail jump, so the submitter's path stays free of
 * stack stores. */
int sm__pool_fast_submit(struct sm_pool *p, sm_task_fn fn, void *arg);

/* Returns the number of jobs submitted to fast pool p so far (the sum of
 * its lanes' tails). Never fails. */
uint64_t sm__pool_fast_submitted(const struct sm_pool *p);

/* Refuses new submits, waits until no submitter is inside one, seals the
 * pool and wakes every sleeping worker to drain it and exit. Called once,
 * by pool.c. Never fails. */
void sm__pool_fast_close(struct sm_pool *p);

/* Frees the lanes of fast pool p, once the workers are joined (or were
 * never started). Never fails. */
void sm__pool_fast_destroy(struct sm_pool *p);

#endif
