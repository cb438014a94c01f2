/* pool.h: fixed pools of named, optionally pinned worker threads running
 * submitted tasks, in two designs behind one interface: the lesson's (all
 * workers take jobs from one channel receiver behind a mutex) and a faster
 * one. */
#ifndef SYNCMARK_POOL_H
#define SYNCMARK_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Most workers one pool may have. */
#define SM_POOL_MAX_WORKERS 1024
/* Longest worker name prefix: workers are named "<prefix>-<index>" within
 * the 15 characters Linux keeps. */
#define SM_POOL_NAME_MAX 10

enum sm_pool_design {
  /* The lesson's ThreadPool: one unbounded channel whose receiver sits
   * behind a mutex; a worker locks the mutex, blocks in recv while holding
   * it, unlocks, then runs the job. */
  SM_POOL_SHARED_QUEUE,
  /* The faster design: see pool_fast.c for its structure and why it is
   * faster. */
  SM_POOL_FAST,
  SM_POOL_DESIGN_COUNT
};

/* How to build a pool. */
struct sm_pool_opts {
  unsigned workers; /* 1 .. SM_POOL_MAX_WORKERS */
  enum sm_pool_design design;
  const char *name;   /* worker name prefix, at most
                         SM_POOL_NAME_MAX bytes; NULL: "pool" */
  const int *pin_pus; /* NULL, or `workers` OS CPU indexes (-1: that
                         worker unpinned) */
  size_t stack_size;  /* 0: default; else as sm_thread_opts */
};
#define SM_POOL_OPTS_INIT                                                      \
  { 0, SM_POOL_SHARED_QUEUE, NULL, NULL, 0 }

/* A task. A non-zero return marks it failed; the worker counts it and goes
 * on with the next task (a failing task never takes its worker down). */
typedef int (*sm_task_fn)(void *arg);

struct sm_pool;

/* Counters of a pool, read at one moment. */
struct sm_pool_stats {
  uint64_t submitted;
  uint64_t completed; /* ran to the end, failed ones included */
  uint64_t failed;    /* returned non-zero */
};

/* Creates a pool and starts its workers. Returns 0 and sets *out; -EINVAL
 * for NULL arguments, a worker count or design out of range, a name longer
 * than SM_POOL_NAME_MAX, an invalid pin or stack size (as sm_thread_spawn);
 * -EAGAIN when the OS refuses a thread; -ENOMEM. On failure no thread is
 * left running. */
int sm_pool_create(const struct sm_pool_opts *opts, struct sm_pool **out);

/* Queues fn(arg) to run on some worker. Callable from any thread, workers
 * included. Returns 0; -EINVAL for NULL pool or fn; -ESHUTDOWN once
 * shutdown has begun; -ENOMEM. */
int sm_pool_submit(struct sm_pool *pool, sm_task_fn fn, void *arg);

/* Blocks until every task submitted before the call has completed (tasks
 * submitted meanwhile may also be waited for). Must not be called from a
 * worker of the same pool. Returns 0, -EINVAL for NULL, -EDEADLK when
 * called from one of its workers. */
int sm_pool_wait(struct sm_pool *pool);

/* Fills *out with the pool's counters. NULL arguments are ignored. */
void sm_pool_stats(const struct sm_pool *pool, struct sm_pool_stats *out);

/* Stops accepting tasks, lets the workers finish every queued task, joins
 * them and frees the pool. Returns 0, -EINVAL for NULL, -EDEADLK when
 * called from one of its workers (the pool is then untouched). */
int sm_pool_shutdown(struct sm_pool *pool);

/* Returns "shared_queue" or "fast", or NULL for a value out of range. */
const char *sm_pool_design_name(enum sm_pool_design design);

#endif
