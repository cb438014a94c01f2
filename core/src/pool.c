/* pool.c: worker pools in two designs, the lesson's shared-queue ThreadPool
 * and a fast one with per-submitter lanes, stealable batches and
 * spin-then-park workers.
 *
 * SM_POOL_SHARED_QUEUE, faithful to the lesson's Rust ThreadPool: one
 * unbounded sm_channel of jobs {fn, arg}; its one receiver is shared by all
 * workers behind an sm_mutex (syncmark's port of Rust std's futex mutex).
 * A worker locks the mutex, blocks in sm_recv while holding it, unlocks and
 * runs the job. Shutdown drops the sender: sm_recv returns -EPIPE once the
 * queue is drained, and each worker then leaves its loop.
 *
 * SM_POOL_FAST. With tiny tasks from one thread, the submitter limits the
 * pool, and three things slow it down: a locked instruction (CAS,
 * fetch-add) or fence on its path, which waits until all its earlier
 * stores own their cache lines; workers touching the lines it writes, each
 * touch costing a line transfer (hundreds of nanoseconds on a VM), during
 * which its stores pile up in the store buffer; and so any extra store,
 * stack pushes included. The shared queue's send has a CAS, and every job
 * goes through the receiver's mutex and parker. Here a submit is four
 * plain stores and three loads, and workers come for jobs by the hundred:
 *  - Lanes: every submitting thread gets its own lane in the pool (found
 *    through a small thread-local cache), a single-producer,
 *    multi-consumer queue. The owner raises TAIL_BUSY in the lane's tail
 *    word, writes {fn, arg} into the next slot and publishes it with a
 *    release store of the new tail, which lowers TAIL_BUSY. Workers claim
 *    a run of published slots with one CAS on the lane's head. A lane is a
 *    linked list of blocks of BLOCK_SLOTS slots; the head's last position
 *    in a block is a marker ("moving to the next block", crossbeam's
 *    trick); the worker that copies out a block's last slots gives the
 *    block back to the producer for reuse. Workers visit lanes round
 *    robin. Threads beyond LANE_MAX share one overflow lane behind a
 *    mutex. sm_pool_submit inlines the common case so that it saves no
 *    registers.
 *  - Batches: a worker copies the run it claimed (up to BATCH_MAX jobs)
 *    into its own batch and takes the jobs from there one by one, with a
 *    CAS on a word of its own cache line. Having run its batch, it claims
 *    again only if a lane holds BATCH_MIN jobs; otherwise it searches.
 *    Searching workers steal half of another worker's batch, so a job
 *    claimed behind a long or blocking one still runs as soon as a worker
 *    is free (N workers run N tasks that wait for each other, as the
 *    lesson's pool does). While a worker fills its batch, the batch reads
 *    "filling", so that a worker about to sleep does not mistake jobs in
 *    transit for an empty pool.
 *  - Searching and sleeping: a worker without work searches: it polls the
 *    lanes and the batches for SPIN_NS with growing pauses, then
 *    sched_yield between polls, waiting up to LINGER_NS for a lane to hold
 *    BATCH_MIN jobs (rather than take jobs one by one right behind the
 *    submitter, on the lines it is writing); then it counts itself among
 *    the sleepers, runs the heavy barrier (below), looks once more and
 *    parks (sm_thread_park). A submitter reads `sleepers` (a line written
 *    only on sleeps and wake-ups) and, only when some worker sleeps,
 *    `searchers`; it wakes a sleeper when nobody searches. The last
 *    searcher to find work wakes a sleeper to take its place (tokio's
 *    rule): that covers a job published while it was turning busy.
 *  - The barrier pair is asymmetric (Dekker's pattern with membarrier, as
 *    in liburcu and folly): the submitter's "raise TAIL_BUSY, then load
 *    the counts" has only a compiler barrier in between; the sleeper's
 *    "count myself asleep, then load the tails" has
 *    membarrier(PRIVATE_EXPEDITED) in between, which runs a full barrier
 *    on every running thread of the process. So either the submitter sees
 *    the sleeper counted, or the sleeper sees TAIL_BUSY or the job and
 *    stays awake. Where membarrier is missing, both sides use a seq_cst
 *    fence instead.
 *  - Shutdown uses the same pair: the submitter reads `closing` after
 *    raising TAIL_BUSY; shutdown sets `closing`, runs the heavy barrier and
 *    waits until no lane has TAIL_BUSY. Then no job can arrive any more:
 *    it sets `sealed`, and workers exit once sealed and everything is
 *    drained. A submit that has raised TAIL_BUSY touches the pool only
 *    until the store that lowers it, so a submit made while a shutdown is
 *    in progress (and returning before it, as any call on the pool must)
 *    is refused or run, and never finds the pool freed under it.
 *  - Counting: a lane's tail position is its submit count, so a submit
 *    writes no shared counter; workers add their completions to
 *    `completed` once per batch (at once while someone waits).
 *
 * Both designs: the pending count is submitted - completed; sm_pool_wait
 * sleeps on a futex word that the worker completing the last pending job
 * bumps; a thread-local pointer to the pool whose worker the calling
 * thread is gives -EDEADLK for wait and shutdown from a task. */
#include "syncmark/pool.h"

#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futex.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/mutex.h"
#include "syncmark/thread.h"

/* Sizes and times of the fast design, tuned on a 2-CPU VM where moving a
 * cache line between cores costs several hundred nanoseconds. */
enum {
  BLOCK_SLOTS = 1023,      /* slots per lane block (16 KiB) */
  LAP = BLOCK_SLOTS + 1,   /* positions per block; the last is the marker */
  BATCH_MAX = 256,         /* most jobs in a batch */
  BATCH_MIN = 128,         /* a lane holding this many is worth claiming */
  LANE_MAX = 64,           /* lanes owned by one thread each */
  SPARE_MAX = 64,          /* recycled blocks a lane keeps */
  LANE_CACHE = 4,          /* pools a thread remembers its lane of */
  SPINS_BEFORE_YIELD = 64, /* pause hints before sched_yield */
  SPIN_NS = 10000,         /* how long a worker searches before sleeping */
  LINGER_NS = 5000,        /* longest wait for BATCH_MIN jobs to gather */
  MAX_PAUSES = 32,         /* longest pause between two polls, in hints */
};

/* A job as it travels through the channel or a lane. */
struct job {
  sm_task_fn fn;
  void *arg;
};

/* A block of a lane. `consumed` counts the slots copied out by workers;
 * the one that completes it recycles the block. */
struct block {
  _Atomic(struct block *) next; /* set before the tail passes the block */
  atomic_uint consumed;
  struct job slots[BLOCK_SLOTS];
};

/* A single-producer, multi-consumer queue of jobs. Positions advance by
 * one; position p is slot p % LAP of its block, except p % LAP ==
 * BLOCK_SLOTS, which only the head takes while a worker moves it to the
 * next block. */
struct lane {
  /* Written by the producer (the owner thread, or whoever holds the
   * overflow lock). */
  SM_CACHE_ALIGNED atomic_size_t tail; /* first unpublished position << 1
                                          | TAIL_BUSY */
  struct block *tail_block;            /* producer-private */
  struct block *reuse;                 /* producer-private recycled list */
  /* Written by workers. */
  SM_CACHE_ALIGNED atomic_size_t head; /* first unclaimed position */
  _Atomic(struct block *) head_block;
  /* Written once per block: blocks given back by workers. */
  SM_CACHE_ALIGNED _Atomic(struct block *) retired;
  atomic_uint nretired; /* in `retired` and `reuse` */
  const void *owner;    /* owner's lane_token; NULL: the overflow lane */
  struct lane *next;    /* next in the pool's list; fixed once listed */
};

/* A lane's tail word: the position times TAIL_ONE, plus TAIL_BUSY while
 * its producer is inside lane_push. */
enum { TAIL_BUSY = 1, TAIL_ONE = 2 };

/* A batch's `take` word: generation (bumped by each fill) << 24 | count
 * << 12 | next. Jobs [next, count) are still to run; count FILLING means
 * the owner is filling the batch. */
enum { TAKE_BITS = 12, TAKE_MASK = (1 << TAKE_BITS) - 1, FILLING = TAKE_MASK };
_Static_assert((int)BATCH_MAX < (int)FILLING,
               "a batch count must fit below FILLING");

struct sm_pool;

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
  bool asym;   /* the membarrier pair is available */
  uint64_t id; /* unique in the process, for the lane caches */
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

/* The pool whose worker the calling thread is, or NULL. */
static _Thread_local const struct sm_pool *current_pool;

/* A thread's memory of the lane it owns in one pool; `id` tells a pool
 * from a later one at the same address. */
struct lane_ref {
  const struct sm_pool *pool;
  uint64_t id;
  struct lane *lane;
};
static _Thread_local struct lane_ref lane_cache[LANE_CACHE];
/* Its address names the calling thread among live threads. A thread that
 * reuses a dead one's address adopts its lanes, which nobody else uses. */
static _Thread_local char lane_token;

static atomic_uint_fast64_t next_pool_id = 1;

/* Whether membarrier(PRIVATE_EXPEDITED) is registered for the process. */
static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;
static bool membarrier_ok;

/* pthread_once routine: registers the process for private expedited
 * membarrier if the kernel offers it; leaves membarrier_ok false when it
 * does not (old kernel, seccomp). The registration survives fork. */
static void membarrier_init(void) {
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
    return;
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
              0) != 0)
    return;
  membarrier_ok = true;
}

/* The light side of the asymmetric barrier, between a store and a later
 * load on a submit path: a compiler barrier when the heavy side is
 * membarrier, else a full fence. Never fails. */
static inline void light_barrier(const struct sm_pool *p) {
  if (SM_LIKELY(p->asym))
    atomic_signal_fence(memory_order_seq_cst);
  else
    atomic_thread_fence(memory_order_seq_cst);
}

/* The heavy side: a full fence here and, with membarrier, on every running
 * thread of the process. Aborts if a registered membarrier fails, which
 * the kernel never does. */
static void heavy_barrier(const struct sm_pool *p) {
  atomic_thread_fence(memory_order_seq_cst);
  if (p->asym &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
    abort();
}

/* ---- Counting and waiting, shared by both designs ---- */

/* Returns how many slots lie before position `pos` of a lane. */
static inline size_t slots_before(size_t pos) {
  return pos - pos / LAP;
}

/* Returns the number of jobs submitted so far (shared queue: the counter;
 * fast: the sum of the lanes' tails). Never fails. */
static uint64_t submitted_now(const struct sm_pool *p) {
  if (p->design == SM_POOL_SHARED_QUEUE)
    return atomic_load_explicit(&p->submitted, memory_order_seq_cst);
  uint64_t n = 0;
  for (struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
       l; l = l->next)
    n += slots_before(atomic_load_explicit(&l->tail, memory_order_seq_cst) /
                      TAIL_ONE);
  return n;
}

/* Wakes every thread in sm_pool_wait so that it looks again. Never
 * fails. */
static void notify_waiters(struct sm_pool *p) {
  atomic_fetch_add_explicit(&p->wait_epoch, 1, memory_order_release);
  (void)sm__futex_wake(&p->wait_epoch, INT_MAX);
}

/* Jobs a worker has run and not yet added to the pool's counters. */
struct tally {
  uint64_t done, failed;
};

/* Adds worker w's tally to the counters and clears it; wakes the waiters
 * when no job is pending any more. The completion is a seq_cst RMW
 * followed by seq_cst loads of `waiters` and of the submit counts; a
 * waiter does the mirror image (adds itself to `waiters`, then loads the
 * counts), so either we see the waiter or it sees our count. Failures are
 * stored first, so a job counted as completed is counted as failed too.
 * Never fails. */
static void tally_flush(struct worker *w, struct tally *t) {
  if (t->done == 0)
    return;
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
    notify_waiters(p);
}

/* Runs one job on worker w and counts it in *t, which it flushes at once
 * when someone waits. Never fails. */
static void run_job(struct worker *w, struct job j, struct tally *t) {
  if (j.fn(j.arg) != 0)
    t->failed++;
  t->done++;
  if (atomic_load_explicit(&w->pool->waiters, memory_order_relaxed) != 0)
    tally_flush(w, t);
}

/* ---- Shared-queue design ---- */

/* Loop of a shared-queue worker, as in the lesson: lock the receiver, block
 * in recv holding the lock, unlock, run. Returns when the channel is
 * disconnected and drained (sm_recv's -EPIPE). */
static void shared_worker_loop(struct worker *w) {
  struct sm_pool *p = w->pool;
  for (;;) {
    struct job j;
    sm_mutex_lock(&p->rx_lock);
    int rc = sm_recv(p->rx, &j);
    sm_mutex_unlock(&p->rx_lock);
    if (rc != 0)
      return;
    struct tally t = {0, 0};
    run_job(w, j, &t);
    tally_flush(w, &t);
  }
}

/* Queues a job on the channel. Returns 0, -ESHUTDOWN once shutdown has
 * begun, or -ENOMEM. The `users` count is a seq_cst RMW before the seq_cst
 * load of `closing`, the mirror image of shared_close, so a submitter
 * either sees the flag or is waited for before the sender goes away. */
__attribute__((noinline)) static int shared_submit(struct sm_pool *p,
                                                   sm_task_fn fn, void *arg) {
  atomic_fetch_add_explicit(&p->users, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&p->closing, memory_order_seq_cst)) {
    atomic_fetch_sub_explicit(&p->users, 1, memory_order_release);
    return -ESHUTDOWN;
  }
  /* Counted before it is sent, so that a job never completes uncounted. */
  atomic_fetch_add_explicit(&p->submitted, 1, memory_order_seq_cst);
  struct job j = {fn, arg};
  int rc = sm_send(p->tx, &j);
  if (rc != 0) {
    atomic_fetch_sub_explicit(&p->submitted, 1, memory_order_seq_cst);
    /* A waiter may have been counting this job: let it look again. */
    if (atomic_load_explicit(&p->waiters, memory_order_seq_cst) != 0)
      notify_waiters(p);
    rc = rc == -EPIPE ? -ESHUTDOWN : rc;
  }
  atomic_fetch_sub_explicit(&p->users, 1, memory_order_release);
  return rc;
}

/* Starts the shared-queue shutdown: refuses new submits, waits for those
 * already inside sm_send (which never blocks on an unbounded channel),
 * then drops the sender so that the workers' sm_recv returns -EPIPE once
 * the queue is drained. Never fails. */
static void shared_close(struct sm_pool *p) {
  atomic_store_explicit(&p->closing, true, memory_order_seq_cst);
  while (atomic_load_explicit(&p->users, memory_order_seq_cst) != 0)
    sched_yield();
  sm_sender_release(p->tx);
  p->tx = NULL;
}

/* ---- Fast design: lanes ---- */

/* Takes the most recently slept worker off the idle list and unparks it;
 * does nothing when the list is empty. Never fails. */
static void wake_one(struct sm_pool *p);

/* Allocates an empty block. Returns NULL when out of memory. */
static struct block *block_new(void) {
  struct block *b = malloc(sizeof *b);
  if (b) {
    atomic_init(&b->next, NULL);
    atomic_init(&b->consumed, 0);
  }
  return b;
}

/* Returns an empty block for the lane's producer: a recycled one if the
 * workers gave some back, else a new allocation. Returns NULL when out of
 * memory. */
static struct block *block_take(struct lane *l) {
  if (!l->reuse)
    l->reuse =
        atomic_exchange_explicit(&l->retired, NULL, memory_order_acquire);
  struct block *b = l->reuse;
  if (!b)
    return block_new();
  l->reuse = atomic_load_explicit(&b->next, memory_order_relaxed);
  atomic_fetch_sub_explicit(&l->nretired, 1, memory_order_relaxed);
  atomic_store_explicit(&b->next, NULL, memory_order_relaxed);
  atomic_store_explicit(&b->consumed, 0, memory_order_relaxed);
  return b;
}

/* Gives block b, whose slots have all been copied out, back to the lane's
 * producer for reuse (a Treiber stack pushed by workers and emptied at
 * once by the producer, so no ABA), or frees it when SPARE_MAX blocks are
 * kept already. Never fails. */
static void block_retire(struct lane *l, struct block *b) {
  if (atomic_load_explicit(&l->nretired, memory_order_relaxed) >= SPARE_MAX) {
    free(b);
    return;
  }
  atomic_fetch_add_explicit(&l->nretired, 1, memory_order_relaxed);
  struct block *top = atomic_load_explicit(&l->retired, memory_order_relaxed);
  do
    atomic_store_explicit(&b->next, top, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(
      &l->retired, &top, b, memory_order_release, memory_order_relaxed));
}

/* Allocates an empty lane owned by the thread whose lane_token is at
 * `owner` (NULL: shared). Returns NULL when out of memory. */
static struct lane *lane_new(const void *owner) {
  struct lane *l = aligned_alloc(SM_CACHE_LINE, sizeof *l);
  struct block *b = l ? block_new() : NULL;
  if (!b) {
    free(l);
    return NULL;
  }
  memset(l, 0, sizeof *l);
  atomic_init(&l->tail, 0);
  l->tail_block = b;
  l->reuse = NULL;
  atomic_init(&l->head, 0);
  atomic_init(&l->head_block, b);
  atomic_init(&l->retired, NULL);
  atomic_init(&l->nretired, 0);
  l->owner = owner;
  l->next = NULL;
  return l;
}

/* Frees a drained lane: its current block (and any linked after it, of
 * which a drained lane has none) and its recycled blocks. */
static void lane_destroy(struct lane *l) {
  struct block *b = atomic_load_explicit(&l->head_block, memory_order_acquire);
  while (b) {
    struct block *next = atomic_load_explicit(&b->next, memory_order_acquire);
    free(b);
    b = next;
  }
  struct block *lists[2] = {
      atomic_load_explicit(&l->retired, memory_order_acquire), l->reuse};
  for (int i = 0; i < 2; i++)
    for (b = lists[i]; b;) {
      struct block *next = atomic_load_explicit(&b->next, memory_order_relaxed);
      free(b);
      b = next;
    }
  free(l);
}

/* Returns the number of jobs published and not yet claimed in lane l: a
 * snapshot, read head first so that it is never negative. */
static size_t lane_pending(struct lane *l) {
  size_t head = atomic_load_explicit(&l->head, memory_order_acquire);
  size_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
  return slots_before(tail / TAIL_ONE) - slots_before(head);
}

/* Returns whether lane l has jobs or its producer is inside lane_push. */
static bool lane_active(struct lane *l) {
  size_t head = atomic_load_explicit(&l->head, memory_order_acquire);
  size_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
  return (tail & TAIL_BUSY) ||
         slots_before(tail / TAIL_ONE) != slots_before(head);
}

/* Second half of lane_push, for a producer that has raised TAIL_BUSY on
 * lane l and passed the light barrier: checks `closing`, wakes a sleeper
 * when some sleep and none searches, writes the job and publishes it. Returns
 * 0, -ESHUTDOWN or -ENOMEM, lowering TAIL_BUSY in every case. */
__attribute__((noinline)) static int
lane_push_marked(struct sm_pool *p, struct lane *l, sm_task_fn fn, void *arg) {
  size_t tail =
      atomic_load_explicit(&l->tail, memory_order_relaxed) & ~(size_t)TAIL_BUSY;
  if (atomic_load_explicit(&p->closing, memory_order_relaxed)) {
    atomic_store_explicit(&l->tail, tail, memory_order_release);
    return -ESHUTDOWN;
  }
  /* The job is as good as published: a worker about to sleep sees
   * TAIL_BUSY and stays awake. */
  if (atomic_load_explicit(&p->sleepers, memory_order_relaxed) != 0 &&
      atomic_load_explicit(&p->searchers, memory_order_relaxed) == 0)
    wake_one(p);
  size_t pos = tail / TAIL_ONE;
  size_t offset = pos % LAP;
  struct block *b = l->tail_block;
  size_t next = pos + 1;
  if (offset + 1 == BLOCK_SLOTS) {
    /* The block's last slot: link the next block first, and step the
     * tail over the marker position. */
    struct block *nb = block_take(l);
    if (!nb) {
      atomic_store_explicit(&l->tail, tail, memory_order_release);
      return -ENOMEM;
    }
    atomic_store_explicit(&b->next, nb, memory_order_relaxed);
    l->tail_block = nb;
    next = pos + 2;
  }
  b->slots[offset].fn = fn;
  b->slots[offset].arg = arg;
  atomic_store_explicit(&l->tail, next * TAIL_ONE, memory_order_release);
  return 0;
}

/* Appends fn(arg) to lane l; the caller is the lane's producer. Returns 0,
 * -ESHUTDOWN when shutdown has begun, -ENOMEM when a new block is needed
 * and none can be had. Four plain stores: the tail word with TAIL_BUSY,
 * the job, the new tail without it. TAIL_BUSY is the submitter's side of
 * both barrier pairs (top of the file): raised before it reads `closing`
 * and the sleep counts, and lowered by the store that publishes the job,
 * after which the submit touches nothing of the pool. sm_pool_submit
 * inlines the common case. */
__attribute__((noinline)) static int
lane_push(struct sm_pool *p, struct lane *l, sm_task_fn fn, void *arg) {
  size_t tail = atomic_load_explicit(&l->tail, memory_order_relaxed);
  atomic_store_explicit(&l->tail, tail | TAIL_BUSY, memory_order_relaxed);
  light_barrier(p);
  return lane_push_marked(p, l, fn, arg);
}

/* Returns the calling thread's lane in pool p, creating it on first use:
 * an owned lane while the pool has fewer than LANE_MAX, else the shared
 * overflow lane. Returns NULL when out of memory. */
static struct lane *lane_lookup(struct sm_pool *p) {
  sm_mutex_lock(&p->lanes_lock);
  struct lane *l = atomic_load_explicit(&p->lanes, memory_order_relaxed);
  while (l && l->owner != &lane_token)
    l = l->next;
  if (!l) {
    bool own = p->nowned < LANE_MAX;
    l = own ? NULL : p->overflow;
    if (!l && (l = lane_new(own ? &lane_token : NULL))) {
      l->next = atomic_load_explicit(&p->lanes, memory_order_relaxed);
      atomic_store_explicit(&p->lanes, l, memory_order_release);
      if (own)
        p->nowned++;
      else
        p->overflow = l;
    }
  }
  sm_mutex_unlock(&p->lanes_lock);
  if (l) {
    /* In front, where sm_pool_submit looks; the last one drops out. */
    memmove(&lane_cache[1], &lane_cache[0],
            (LANE_CACHE - 1) * sizeof lane_cache[0]);
    lane_cache[0] = (struct lane_ref){p, p->id, l};
  }
  return l;
}

/* Queues fn(arg) on the calling thread's lane. Returns 0, -ESHUTDOWN or
 * -ENOMEM. */
__attribute__((noinline)) static int fast_submit(struct sm_pool *p,
                                                 sm_task_fn fn, void *arg) {
  struct lane *l = NULL;
  for (unsigned i = 0; i < LANE_CACHE && !l; i++)
    if (lane_cache[i].pool == p && lane_cache[i].id == p->id) {
      l = lane_cache[i].lane;
      /* Bring it to the front, where sm_pool_submit looks first. */
      struct lane_ref front = lane_cache[i];
      lane_cache[i] = lane_cache[0];
      lane_cache[0] = front;
    }
  if (SM_UNLIKELY(!l) && !(l = lane_lookup(p)))
    return -ENOMEM;
  if (SM_LIKELY(l->owner != NULL))
    return lane_push(p, l, fn, arg);
  sm_mutex_lock(&p->overflow_lock);
  int rc = lane_push(p, l, fn, arg);
  sm_mutex_unlock(&p->overflow_lock);
  return rc;
}

/* ---- Fast design: batches ---- */

/* Packs a take word. */
static inline uint64_t take_word(uint64_t gen, unsigned count, unsigned next) {
  return gen << (2 * TAKE_BITS) | (uint64_t)count << TAKE_BITS | next;
}

/* Returns the count field of a take word. */
static inline unsigned take_count(uint64_t t) {
  return (unsigned)(t >> TAKE_BITS) & TAKE_MASK;
}

/* Returns the next field of a take word. */
static inline unsigned take_next(uint64_t t) {
  return (unsigned)t & TAKE_MASK;
}

/* Returns whether a take word holds jobs to take or a fill in progress. */
static inline bool take_busy(uint64_t t) {
  return take_count(t) == FILLING || take_next(t) < take_count(t);
}

/* Marks w's (empty) batch as being filled, before the CAS that claims its
 * jobs elsewhere: that CAS releases this store, so whoever sees the jobs
 * gone from where they were sees them in transit here. Never fails. */
static void batch_begin(struct worker *w) {
  atomic_store_explicit(&w->take, take_word(w->gen, FILLING, 0),
                        memory_order_relaxed);
}

/* Publishes the n jobs written into w's batch (n may be 0). Never fails. */
static void batch_end(struct worker *w, unsigned n) {
  w->gen++;
  atomic_store_explicit(&w->take, take_word(w->gen, n, 0),
                        memory_order_release);
}

/* Takes the next job of worker v's batch into *out; the caller is v or a
 * thief. The job is read before the CAS that takes it: if the batch was
 * refilled meanwhile, the generation differs and the CAS fails. Returns
 * false when the batch is empty or being filled. */
static bool batch_take(struct worker *v, struct job *out) {
  uint64_t t = atomic_load_explicit(&v->take, memory_order_acquire);
  for (;;) {
    unsigned next = take_next(t), count = take_count(t);
    if (count == FILLING || next >= count)
      return false;
    out->fn = atomic_load_explicit(&v->fns[next], memory_order_relaxed);
    out->arg = atomic_load_explicit(&v->args[next], memory_order_relaxed);
    if (atomic_compare_exchange_weak_explicit(
            &v->take, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
      return true;
  }
}

/* Moves the back half (rounded up) of victim v's batch into thief w's
 * batch, which is empty. Returns the number of jobs moved (0: nothing to
 * steal). */
static unsigned batch_steal(struct worker *w, struct worker *v) {
  uint64_t t = atomic_load_explicit(&v->take, memory_order_acquire);
  if (!take_busy(t) || take_count(t) == FILLING)
    return 0;
  batch_begin(w);
  unsigned n = 0;
  for (;;) {
    unsigned next = take_next(t), count = take_count(t);
    if (count == FILLING || next >= count)
      break;
    unsigned from = count - (count - next + 1) / 2;
    for (unsigned i = from; i < count; i++) {
      atomic_store_explicit(
          &w->fns[i - from],
          atomic_load_explicit(&v->fns[i], memory_order_relaxed),
          memory_order_relaxed);
      atomic_store_explicit(
          &w->args[i - from],
          atomic_load_explicit(&v->args[i], memory_order_relaxed),
          memory_order_relaxed);
    }
    if (atomic_compare_exchange_weak_explicit(
            &v->take, &t, take_word(t >> (2 * TAKE_BITS), from, next),
            memory_order_acq_rel, memory_order_acquire)) {
      n = count - from;
      break;
    }
  }
  batch_end(w, n);
  return n;
}

/* Claims a run of published jobs at the head of lane l into worker w's
 * (empty, filling) batch: all that is queued, up to BATCH_MAX and the
 * block's remaining slots (thieves spread long jobs over the workers).
 * With batch_only, claims nothing unless the lane holds BATCH_MIN jobs.
 * Returns the number claimed (0: none). */
static unsigned lane_claim(struct worker *w, struct lane *l, bool batch_only) {
  size_t head = atomic_load_explicit(&l->head, memory_order_acquire);
  for (unsigned spins = 0;;) {
    size_t offset = head % LAP;
    if (offset == BLOCK_SLOTS) { /* another worker moves to the next block */
      if (++spins < SPINS_BEFORE_YIELD)
        sm_cpu_relax();
      else
        sched_yield();
      head = atomic_load_explicit(&l->head, memory_order_acquire);
      continue;
    }
    /* The block is read after the head: a block move stores the block
     * before the head, and a claim that succeeds proves the head (hence
     * the block) unchanged. Only then is the block touched. */
    struct block *b =
        atomic_load_explicit(&l->head_block, memory_order_acquire);
    size_t want = batch_only ? BATCH_MIN : 1;
    /* The tail is read again only when the one last seen does not show
     * enough, so that a worker following a submitter seldom takes the
     * submitter's cache line. */
    size_t avail =
        w->seen_lane == l && slots_before(w->seen_tail) > slots_before(head)
            ? slots_before(w->seen_tail) - slots_before(head)
            : 0;
    if (avail < want) {
      w->seen_lane = l;
      w->seen_tail =
          atomic_load_explicit(&l->tail, memory_order_acquire) / TAIL_ONE;
      avail = slots_before(w->seen_tail) - slots_before(head);
      if (avail < want)
        return 0;
    }
    size_t n = avail < BATCH_MAX ? avail : BATCH_MAX;
    if (n > BLOCK_SLOTS - offset)
      n = BLOCK_SLOTS - offset;
    size_t new_head = head + n; /* the marker when the block is used up */
    if (!atomic_compare_exchange_weak_explicit(&l->head, &head, new_head,
                                               memory_order_acq_rel,
                                               memory_order_acquire))
      continue;
    if (offset + n == BLOCK_SLOTS) {
      /* Move the head on at once; others wait for it. The tail passed
       * the block's end, so the next block is linked. */
      struct block *nb = atomic_load_explicit(&b->next, memory_order_acquire);
      atomic_store_explicit(&l->head_block, nb, memory_order_release);
      atomic_store_explicit(&l->head, new_head + 1, memory_order_release);
    }
    for (size_t i = 0; i < n; i++) {
      atomic_store_explicit(&w->fns[i], b->slots[offset + i].fn,
                            memory_order_relaxed);
      atomic_store_explicit(&w->args[i], b->slots[offset + i].arg,
                            memory_order_relaxed);
    }
    /* The last of the block's readers recycles it; every read of b above
     * comes before this. */
    if (atomic_fetch_add_explicit(&b->consumed, (unsigned)n,
                                  memory_order_acq_rel) +
            n ==
        BLOCK_SLOTS)
      block_retire(l, b);
    return (unsigned)n;
  }
}

/* Fills w's empty batch from the first lane with jobs (with batch_only,
 * with a whole batch: see lane_claim), starting at w's lane cursor and
 * going round the list, and moves the cursor past that lane so that lanes
 * take turns. Returns the number of jobs now in the batch. */
static unsigned refill(struct worker *w, bool batch_only) {
  struct sm_pool *p = w->pool;
  struct lane *first = atomic_load_explicit(&p->lanes, memory_order_acquire);
  if (!first)
    return 0;
  struct lane *start = w->cursor ? w->cursor : first;
  struct lane *l = start;
  unsigned n = 0;
  batch_begin(w);
  do {
    struct lane *next = l->next ? l->next : first;
    if ((n = lane_claim(w, l, batch_only)) != 0) {
      w->cursor = next;
      break;
    }
    l = next;
  } while (l != start);
  batch_end(w, n);
  return n;
}

/* Steals half of the first other worker's batch that has jobs, starting
 * after the last victim. Returns the number of jobs now in w's batch. */
static unsigned steal(struct worker *w) {
  struct sm_pool *p = w->pool;
  for (unsigned k = 0; k < p->nworkers; k++) {
    w->victim = (w->victim + 1) % p->nworkers;
    struct worker *v = &p->workers[w->victim];
    unsigned n = v == w ? 0 : batch_steal(w, v);
    if (n)
      return n;
  }
  return 0;
}

/* Returns whether no lane has a job. */
static bool lanes_empty(struct sm_pool *p) {
  for (struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
       l; l = l->next)
    if (lane_pending(l) != 0)
      return false;
  return true;
}

/* Returns whether no job is anywhere: no lane has one, and no batch has
 * one or is being filled. */
static bool all_idle(struct sm_pool *p) {
  for (struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
       l; l = l->next)
    if (lane_active(l))
      return false;
  for (unsigned i = 0; i < p->nworkers; i++)
    if (take_busy(
            atomic_load_explicit(&p->workers[i].take, memory_order_acquire)))
      return false;
  return true;
}

/* ---- Fast design: workers ---- */

/* Searches for work for up to SPIN_NS: polls the lanes, and the other
 * workers' batches when the lanes are empty, with pauses that grow
 * between polls (a searcher seldom pulls a lane's tail away from its
 * submitter) and then sched_yield (on a busy machine it hands its CPU to
 * threads with work). Lane work is claimed once a lane holds BATCH_MIN
 * jobs, once LINGER_NS passed since work was seen, or at once after
 * sealing; a search with lane work in sight does not time out. Returns
 * the number of jobs now in w's batch, or 0 when the time ran out with no
 * work in sight or the pool is sealed and drained. */
static unsigned worker_search(struct worker *w) {
  struct sm_pool *p = w->pool;
  uint64_t now = sm_now_ns();
  uint64_t deadline = now + SPIN_NS;
  uint64_t linger_end = 0; /* 0: no lane work seen yet */
  unsigned pauses = 1;
  for (;;) {
    for (unsigned i = 0; i < pauses; i++)
      sm_cpu_relax();
    if (pauses < MAX_PAUSES)
      pauses *= 2;
    else
      sched_yield();
    now = sm_now_ns();
    /* After sealing, what is left is taken at once. */
    bool sealed = atomic_load_explicit(&p->sealed, memory_order_acquire);
    unsigned n;
    if (!lanes_empty(p)) {
      if (linger_end == 0)
        linger_end = now + LINGER_NS;
      n = refill(w, !sealed && now < linger_end);
    } else {
      linger_end = 0;
      n = steal(w);
    }
    if (n)
      return n;
    if (linger_end == 0 && (now >= deadline || (sealed && all_idle(p))))
      return 0;
  }
}

/* Counts a sleeper taken off the idle list as a searcher (first, so that
 * a submitter never sees it as neither), under idle_lock. Never fails. */
static void to_searcher(struct sm_pool *p) {
  atomic_fetch_add_explicit(&p->searchers, 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
}

/* Takes the most recently slept worker off the idle list, counts it as a
 * searcher and unparks it; does nothing when nobody sleeps. Never fails. */
static void wake_one(struct sm_pool *p) {
  struct sm_thread *t = NULL;
  sm_mutex_lock(&p->idle_lock);
  struct worker *w = p->idle;
  if (w) {
    p->idle = w->next_idle;
    w->next_idle = NULL;
    t = w->thread;
    to_searcher(p);
    atomic_store_explicit(&w->listed, false, memory_order_release);
  }
  sm_mutex_unlock(&p->idle_lock);
  sm_thread_unpark(t);
}

/* Takes every worker off the idle list and unparks them all. Never
 * fails. */
static void wake_all(struct sm_pool *p) {
  sm_mutex_lock(&p->idle_lock);
  struct worker *w = p->idle;
  p->idle = NULL;
  while (w) {
    struct worker *next = w->next_idle;
    w->next_idle = NULL;
    to_searcher(p);
    atomic_store_explicit(&w->listed, false, memory_order_release);
    sm_thread_unpark(w->thread);
    w = next;
  }
  sm_mutex_unlock(&p->idle_lock);
}

/* Removes w from the idle list unless a waker already did; either way it
 * counts as searching again. Never fails. */
static void unlist(struct worker *w) {
  struct sm_pool *p = w->pool;
  sm_mutex_lock(&p->idle_lock);
  if (atomic_load_explicit(&w->listed, memory_order_relaxed)) {
    struct worker **link = &p->idle;
    while (*link != w)
      link = &(*link)->next_idle;
    *link = w->next_idle;
    w->next_idle = NULL;
    to_searcher(p);
    atomic_store_explicit(&w->listed, false, memory_order_relaxed);
  }
  sm_mutex_unlock(&p->idle_lock);
}

/* Puts searching worker w to sleep until a submitter, another worker or
 * shutdown takes it off the idle list. It lists itself and turns from
 * searcher into sleeper first (seq_cst RMWs: `sleepers` up, then
 * `searchers` down, so that a submitter never counts it as neither), then
 * runs the heavy barrier and looks for jobs once more: a job whose
 * submitter did not see it asleep is found here, or its TAIL_BUSY (see
 * the top of the file), and so are jobs in another worker's batch or in
 * transit to one. Returns true when the
 * worker must exit (the pool is sealed and drained), false when it should
 * look for work again (as a searcher). */
static bool worker_sleep(struct worker *w) {
  struct sm_pool *p = w->pool;
  sm_mutex_lock(&p->idle_lock);
  w->next_idle = p->idle;
  p->idle = w;
  atomic_store_explicit(&w->listed, true, memory_order_relaxed);
  atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
  atomic_fetch_sub_explicit(&p->searchers, 1, memory_order_seq_cst);
  sm_mutex_unlock(&p->idle_lock);
  heavy_barrier(p);
  /* Sealed is read first: sealed and then idle means drained for good,
   * since no job can be published after sealing. */
  bool sealed = atomic_load_explicit(&p->sealed, memory_order_acquire);
  if (!all_idle(p)) {
    unlist(w);
    return false;
  }
  if (sealed) {
    unlist(w);
    return true;
  }
  /* Taken off the list by whoever wakes us; park may return spuriously. */
  while (atomic_load_explicit(&w->listed, memory_order_acquire))
    sm_thread_park();
  return false;
}

/* Loop of a fast worker: run the jobs of its batch, refill it from the
 * lanes; when there is no work, search, then sleep. A worker counts in
 * `searchers` from the moment it finds no work until it has work again
 * (or sleeps); the last searcher to get work wakes a sleeper (tokio's
 * rule), so that a job published while it was turning busy, or left in
 * its batch behind a long job, finds a free worker. Returns when the pool
 * is sealed and drained. */
static void fast_worker_loop(struct worker *w) {
  struct sm_pool *p = w->pool;
  struct tally t = {0, 0};
  bool searching = true; /* `searchers` starts with every worker in it */
  w->thread = sm_thread_current();
  w->victim = (unsigned)(w - p->workers);
  for (;;) {
    struct job j;
    while (batch_take(w, &j))
      run_job(w, j, &t);
    tally_flush(w, &t);
    if (refill(w, true) == 0) {
      if (!searching) {
        atomic_fetch_add_explicit(&p->searchers, 1, memory_order_seq_cst);
        searching = true;
      }
      if (worker_search(w) == 0) {
        if (worker_sleep(w))
          return;
        continue; /* a searcher again, with an empty batch */
      }
    }
    if (searching) {
      searching = false;
      if (atomic_fetch_sub_explicit(&p->searchers, 1, memory_order_seq_cst) ==
              1 &&
          atomic_load_explicit(&p->sleepers, memory_order_seq_cst) != 0)
        wake_one(p);
    }
  }
}

/* Shuts the fast design's door: sets `closing`, runs the heavy barrier,
 * waits until no submitter is inside lane_push (the lane list read after
 * the barrier holds every lane a submitter that missed `closing` uses),
 * then seals the pool and wakes every sleeper to drain and exit. Never
 * fails. */
static void fast_close(struct sm_pool *p) {
  atomic_store_explicit(&p->closing, true, memory_order_seq_cst);
  heavy_barrier(p);
  for (struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
       l; l = l->next)
    while (atomic_load_explicit(&l->tail, memory_order_acquire) & TAIL_BUSY)
      sched_yield();
  atomic_store_explicit(&p->sealed, true, memory_order_seq_cst);
  /* A worker listing itself after this sees `sealed` (the idle lock orders
   * the two); one listed before is woken here. */
  wake_all(p);
}

/* ---- Pool lifetime ---- */

/* Body of every worker thread: marks the thread as a worker of its pool
 * and runs the design's loop until shutdown. Returns NULL. */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  current_pool = w->pool;
  if (w->pool->design == SM_POOL_SHARED_QUEUE)
    shared_worker_loop(w);
  else
    fast_worker_loop(w);
  current_pool = NULL;
  return NULL;
}

/* Closes the pool to new jobs so that the workers drain it and exit.
 * Never fails. */
static void close_pool(struct sm_pool *p) {
  if (p->design == SM_POOL_SHARED_QUEUE)
    shared_close(p);
  else
    fast_close(p);
}

/* Joins the first `started` workers of a closed pool, then frees
 * everything the pool owns. Never fails. */
static void destroy_pool(struct sm_pool *p, unsigned started) {
  for (unsigned i = 0; i < started; i++)
    (void)sm_join(p->workers[i].handle, NULL);
  if (p->design == SM_POOL_SHARED_QUEUE) {
    sm_receiver_release(p->rx);
  } else {
    struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
    while (l) {
      struct lane *next = l->next;
      lane_destroy(l);
      l = next;
    }
  }
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

/* Allocates the pool (and, for the shared queue, its channel) with no
 * worker started. Returns the pool, or NULL with *rc set to -ENOMEM. */
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
  p->asym = membarrier_ok;
  p->id = atomic_fetch_add_explicit(&next_pool_id, 1, memory_order_relaxed);
  p->workers = ws;
  atomic_init(&p->closing, false);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->searchers, o->workers); /* workers start searching */
  atomic_init(&p->sealed, false);
  atomic_init(&p->completed, 0);
  atomic_init(&p->waiters, 0);
  atomic_init(&p->wait_epoch, 0);
  atomic_init(&p->idle_lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&p->lanes, NULL);
  atomic_init(&p->lanes_lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&p->overflow_lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&p->submitted, 0);
  atomic_init(&p->users, 0);
  atomic_init(&p->rx_lock.state, SM_MUTEX_UNLOCKED);
  for (unsigned i = 0; i < o->workers; i++) {
    atomic_init(&ws[i].take, 0);
    atomic_init(&ws[i].failed, 0);
    ws[i].pool = p;
    atomic_init(&ws[i].listed, false);
  }
  if (p->design == SM_POOL_SHARED_QUEUE &&
      (*rc = sm_channel(sizeof(struct job), SM_CHANNEL_UNBOUNDED, &p->tx,
                        &p->rx)) != 0) {
    free(ws);
    free(p);
    return NULL;
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
  (void)pthread_once(&membarrier_once, membarrier_init);
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
  if (pool->design == SM_POOL_SHARED_QUEUE)
    return shared_submit(pool, fn, arg);
  /* The fast design's common case, lane_push on the thread's own lane
   * cached in front, is written out here without calls, so that the
   * function saves no registers: with the submitter's stores waiting for
   * cache lines that workers took, every store counts, stack pushes
   * included. Anything else goes to the general path. */
  struct lane *l = lane_cache[0].lane;
  if (SM_UNLIKELY(lane_cache[0].pool != pool || lane_cache[0].id != pool->id ||
                  !l->owner))
    return fast_submit(pool, fn, arg);
  size_t tail = atomic_load_explicit(&l->tail, memory_order_relaxed);
  size_t pos = tail / TAIL_ONE;
  if (SM_UNLIKELY(pos % LAP + 1 == BLOCK_SLOTS))
    return lane_push(pool, l, fn, arg);
  atomic_store_explicit(&l->tail, tail | TAIL_BUSY, memory_order_relaxed);
  light_barrier(pool);
  /* Leave the fast path only to refuse the job or to wake a worker. */
  bool closing = atomic_load_explicit(&pool->closing, memory_order_relaxed);
  if (SM_UNLIKELY(
          closing ||
          (atomic_load_explicit(&pool->sleepers, memory_order_relaxed) != 0 &&
           atomic_load_explicit(&pool->searchers, memory_order_relaxed) == 0)))
    return lane_push_marked(pool, l, fn, arg);
  struct job *slot = &l->tail_block->slots[pos % LAP];
  slot->fn = fn;
  slot->arg = arg;
  atomic_store_explicit(&l->tail, (pos + 1) * TAIL_ONE, memory_order_release);
  return 0;
}

int sm_pool_wait(struct sm_pool *pool) {
  if (!pool)
    return -EINVAL;
  if (current_pool == pool)
    return -EDEADLK;
  /* A seq_cst increment, then the loads: the mirror image of tally_flush.
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
    (void)sm__futex_wait(&pool->wait_epoch, epoch, NULL);
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
