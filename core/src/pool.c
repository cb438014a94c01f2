/* pool.c: the pool API: options, creation, submit dispatch, waiting. */

/* A pool is one of two designs behind pool.h: the lesson's shared queue
 * (pool_shared.c) and a fast one (pool_fast.c); pool_impl.h holds their
 * common layout and interface. This file checks the options, allocates
 * the pool, starts and joins the workers and hands each call to the
 * pool's design. pool.h points here for the fast design's structure and
 * why it is faster: that explanation heads pool_fast.c.
 *
 * Both designs: the pending count is submitted - completed; sm_pool_wait
 * sleeps on a futex word that the worker completing the last pending job
 * bumps; a thread-local pointer to the pool whose worker the calling
 * thread is gives -EDEADLK for wait and shutdown from a task. */
#include "syncmark/pool.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmark/futex.h"
#include "pool_impl.h"
#include "syncmark/compiler.h"
#include "syncmark/thread.h"

/* The pool whose worker the calling thread is, or NULL. */
static _Thread_local const struct sm_pool *current_pool;

/* ---- Counting and waiting, shared by both designs ---- */

/* Returns the number of jobs submitted so far (shared queue: the counter;
 * fast: the sum of the lanes' tails). Never fails. */
static uint64_t submitted_now(const struct sm_pool *p) {
  if (p->design == SM_POOL_SHARED_QUEUE)
    return atomic_load_explicit(&p->submitted, memory_order_seq_cst);
  return sm__pool_fast_submitted(p);
}

/* Wakes every thread in sm_pool_wait so that it looks again. Never
 * fails. */
void sm__pool_notify_waiters(struct sm_pool *p) {
  atomic_fetch_add_explicit(&p->wait_epoch, 1, memory_order_release);
  (void)sm_futex_wake(&p->wait_epoch, INT_MAX);
}

/* Adds worker w's non-empty tally to the counters and clears it; wakes the
 * waiters when no job is pending any more. The completion is a seq_cst RMW
 * followed by seq_cst loads of `waiters` and of the submit counts; a
 * waiter does the mirror image (adds itself to `waiters`, then loads the
 * counts), so either we see the waiter or it sees our count. Failures are
 * stored first, so a job counted as completed is counted as failed too.
 * Never fails. */
void sm__pool_tally_publish(struct worker *w, struct tally *t) {
  struct sm_pool *p = w->pool;
  if (t->failed)
    atomic_store_explicit(
        &w->failed,
        atomic_load_explicit(&w->failed, memory_order_relaxed) + t->failed,
        memory_order_relaxed);
  uint64_t done =
      atomic_fetch_add_explicit(&p->completed, t->done, memory_order_seq_cst) +
      t->done;
  *t = (struct tally){0, 0};
  if (atomic_load_explicit(&p->waiters, memory_order_seq_cst) != 0 &&
      done >= submitted_now(p))
    sm__pool_notify_waiters(p);
}

/* ---- Pool lifetime ---- */

/* Body of every worker thread: marks the thread as a worker of its pool
 * and runs the design's loop until shutdown. Returns NULL. */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  current_pool = w->pool;
  if (w->pool->design == SM_POOL_SHARED_QUEUE)
    sm__pool_shared_worker_loop(w);
  else
    sm__pool_fast_worker_loop(w);
  current_pool = NULL;
  return NULL;
}

/* Closes the pool to new jobs so that the workers drain it and exit.
 * Never fails. */
static void close_pool(struct sm_pool *p) {
  if (p->design == SM_POOL_SHARED_QUEUE)
    sm__pool_shared_close(p);
  else
    sm__pool_fast_close(p);
}

/* Joins the first `started` workers of a closed pool, then frees
 * everything the pool owns. Never fails. */
static void destroy_pool(struct sm_pool *p, unsigned started) {
  for (unsigned i = 0; i < started; i++)
    (void)sm_join(p->workers[i].handle, NULL);
  if (p->design == SM_POOL_SHARED_QUEUE)
    sm__pool_shared_destroy(p);
  else
    sm__pool_fast_destroy(p);
  free(p->workers);
  free(p);
}

/* Checks the options. Returns 0 or -EINVAL. Pins other than -1 are checked
 * by sm_thread_spawn. */
static int check_opts(const struct sm_pool_opts *o) {
  if (o->workers == 0 || o->workers > SM_POOL_MAX_WORKERS)
    return -EINVAL;
  if ((unsigned)o->design >= SM_POOL_DESIGN_COUNT)
    return -EINVAL;
  if (o->name && strnlen(o->name, SM_POOL_NAME_MAX + 1) > SM_POOL_NAME_MAX)
    return -EINVAL;
  if (o->pin_pus)
    for (unsigned i = 0; i < o->workers; i++)
      if (o->pin_pus[i] < -1)
        return -EINVAL;
  return 0;
}

/* Returns a zeroed allocation of `size` bytes aligned to a cache line, or
 * NULL when out of memory. */
static void *alloc_aligned(size_t size) {
  size = (size + SM_CACHE_LINE - 1) / SM_CACHE_LINE * SM_CACHE_LINE;
  void *m = aligned_alloc(SM_CACHE_LINE, size);
  if (m)
    memset(m, 0, size);
  return m;
}

/* Allocates the pool and its workers and sets up the common fields and
 * the design's (for the shared queue, its channel), with no worker
 * started. Returns the pool, or NULL with *rc set to -ENOMEM. */
static struct sm_pool *pool_new(const struct sm_pool_opts *o, int *rc) {
  struct sm_pool *p = alloc_aligned(sizeof *p);
  struct worker *ws = alloc_aligned(o->workers * sizeof *ws);
  *rc = -ENOMEM;
  if (!p || !ws) {
    free(p);
    free(ws);
    return NULL;
  }
  p->design = o->design;
  p->nworkers = o->workers;
  p->workers = ws;
  atomic_init(&p->closing, false);
  atomic_init(&p->completed, 0);
  atomic_init(&p->waiters, 0);
  atomic_init(&p->wait_epoch, 0);
  for (unsigned i = 0; i < o->workers; i++) {
    atomic_init(&ws[i].failed, 0);
    ws[i].pool = p;
  }
  if (p->design == SM_POOL_SHARED_QUEUE) {
    if ((*rc = sm__pool_shared_init(p)) != 0) {
      free(ws);
      free(p);
      return NULL;
    }
  } else {
    sm__pool_fast_init(p);
  }
  *rc = 0;
  return p;
}

int sm_pool_create(const struct sm_pool_opts *opts, struct sm_pool **out) {
  if (!opts || !out)
    return -EINVAL;
  int rc = check_opts(opts);
  if (rc != 0)
    return rc;
  struct sm_pool *p = pool_new(opts, &rc);
  if (!p)
    return rc;
  const char *prefix = opts->name ? opts->name : "pool";
  unsigned started = 0;
  for (; started < opts->workers; started++) {
    char name[SM_THREAD_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s-%u", prefix, started);
    struct sm_thread_opts t = SM_THREAD_OPTS_INIT;
    t.name = name;
    t.stack_size = opts->stack_size;
    t.pin_pu = opts->pin_pus ? opts->pin_pus[started] : -1;
    rc = sm_thread_spawn(&t, worker_main, &p->workers[started],
                         &p->workers[started].handle);
    if (rc != 0)
      break;
  }
  if (rc != 0) {
    close_pool(p);
    destroy_pool(p, started);
    return rc;
  }
  *out = p;
  return 0;
}

int sm_pool_submit(struct sm_pool *pool, sm_task_fn fn, void *arg) {
  if (SM_UNLIKELY(!pool || !fn))
    return -EINVAL;
  /* Both calls are tail calls, compiled to jumps: this function saves no
   * registers, and the fast design's common case, written out without
   * calls in sm__pool_fast_submit, runs as if inlined here. */
  if (pool->design == SM_POOL_SHARED_QUEUE)
    return sm__pool_shared_submit(pool, fn, arg);
  return sm__pool_fast_submit(pool, fn, arg);
}

int sm_pool_wait(struct sm_pool *pool) {
  if (!pool)
    return -EINVAL;
  if (current_pool == pool)
    return -EDEADLK;
  /* A seq_cst increment, then the loads: the mirror image of
   * sm__pool_tally_publish.
   * Completions are read before submissions, so completed >= submitted
   * means that every job submitted by the second read had completed by
   * the first. */
  atomic_fetch_add_explicit(&pool->waiters, 1, memory_order_seq_cst);
  for (;;) {
    int epoch = atomic_load_explicit(&pool->wait_epoch, memory_order_seq_cst);
    uint64_t done =
        atomic_load_explicit(&pool->completed, memory_order_seq_cst);
    if (done >= submitted_now(pool))
      break;
    /* Returns at once if the epoch moved since we read it. */
    (void)sm_futex_wait(&pool->wait_epoch, epoch, NULL);
  }
  atomic_fetch_sub_explicit(&pool->waiters, 1, memory_order_seq_cst);
  return 0;
}

void sm_pool_stats(const struct sm_pool *pool, struct sm_pool_stats *out) {
  if (!pool || !out)
    return;
  /* Failures, then completions, then submissions: each job counted in one
   * is already counted in the next. */
  uint64_t failed = 0;
  for (unsigned i = 0; i < pool->nworkers; i++)
    failed +=
        atomic_load_explicit(&pool->workers[i].failed, memory_order_acquire);
  uint64_t completed =
      atomic_load_explicit(&pool->completed, memory_order_seq_cst);
  out->submitted = submitted_now(pool);
  out->completed = completed;
  out->failed = failed;
}

int sm_pool_shutdown(struct sm_pool *pool) {
  if (!pool)
    return -EINVAL;
  if (current_pool == pool)
    return -EDEADLK;
  close_pool(pool);
  destroy_pool(pool, pool->nworkers);
  return 0;
}

const char *sm_pool_design_name(enum sm_pool_design design) {
  switch (design) {
  case SM_POOL_SHARED_QUEUE:
    return "shared_queue";
  case SM_POOL_FAST:
    return "fast";
  default:
    return NULL;
  }
}
