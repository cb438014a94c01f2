/* pool_fast.c: the fast pool design: lanes, stealable batches, parking. */

/* SM_POOL_FAST. With tiny tasks from one thread, the submitter limits the
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
 *    mutex. sm__pool_fast_submit writes out the common case so that it
 *    saves no registers, and sm_pool_submit reaches it with a tail jump.
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
 * Counting and waiting, the pool's common layout and its public entry
 * points live in pool.c and pool_impl.h. */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pool_impl.h"
#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/mutex.h"
#include "syncmark/thread.h"

/* Sizes and times of the fast design, tuned on a 2-CPU VM where moving a
 * cache line between cores costs several hundred nanoseconds. BATCH_MAX, the
 * most jobs in a batch, is in pool_impl.h (a worker holds its batch). */
enum {
  BLOCK_SLOTS = 1023,      /* slots per lane block (16 KiB) */
  LAP = BLOCK_SLOTS + 1,   /* positions per block; the last is the marker */
  BATCH_MIN = 128,         /* a lane holding this many is worth claiming */
  LANE_MAX = 64,           /* lanes owned by one thread each */
  SPARE_MAX = 64,          /* recycled blocks a lane keeps */
  LANE_CACHE = 4,          /* pools a thread remembers its lane of */
  SPINS_BEFORE_YIELD = 64, /* pause hints before sched_yield */
  SPIN_NS = 10000,         /* how long a worker searches before sleeping */
  LINGER_NS = 5000,        /* longest wait for BATCH_MIN jobs to gather */
  MAX_PAUSES = 32,         /* longest pause between two polls, in hints */
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

/* Returns how many slots lie before position `pos` of a lane. */
static inline size_t slots_before(size_t pos) {
  return pos - pos / LAP;
}

/* Returns the number of jobs submitted so far: the sum of the lanes'
 * tails. Never fails. */
uint64_t sm__pool_fast_submitted(const struct sm_pool *p) {
  uint64_t n = 0;
  for (struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
       l; l = l->next)
    n += slots_before(atomic_load_explicit(&l->tail, memory_order_seq_cst) /
                      TAIL_ONE);
  return n;
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
 * after which the submit touches nothing of the pool.
 * sm__pool_fast_submit inlines the common case. */
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
    /* In front, where sm__pool_fast_submit looks; the last one drops
     * out. */
    memmove(&lane_cache[1], &lane_cache[0],
            (LANE_CACHE - 1) * sizeof lane_cache[0]);
    lane_cache[0] = (struct lane_ref){p, p->id, l};
  }
  return l;
}

/* The general path of sm__pool_fast_submit: finds (or creates) the
 * calling thread's lane and queues fn(arg) on it, under the overflow lock
 * when it is the shared lane. Returns 0, -ESHUTDOWN or -ENOMEM. */
__attribute__((noinline)) static int general_submit(struct sm_pool *p,
                                                    sm_task_fn fn, void *arg) {
  struct lane *l = NULL;
  for (unsigned i = 0; i < LANE_CACHE && !l; i++)
    if (lane_cache[i].pool == p && lane_cache[i].id == p->id) {
      l = lane_cache[i].lane;
      /* Bring it to the front, where sm__pool_fast_submit looks first. */
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
    /* cppcheck-suppress knownConditionTrueFalse ; true near the end of a
     * block (cppcheck wrongly takes n, at least `want` here, for 0). */
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
void sm__pool_fast_worker_loop(struct worker *w) {
  struct sm_pool *p = w->pool;
  struct tally t = {0, 0};
  bool searching = true; /* `searchers` starts with every worker in it */
  w->thread = sm_thread_current();
  w->victim = (unsigned)(w - p->workers);
  for (;;) {
    struct job j;
    while (batch_take(w, &j))
      sm__pool_run_job(w, j, &t);
    sm__pool_tally_flush(w, &t);
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
void sm__pool_fast_close(struct sm_pool *p) {
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

/* Sets up the fast-design fields of a zeroed pool whose common fields are
 * set: a fresh id, the membarrier pair (registering the process on first
 * use), every worker counted as searching, the locks and empty batches.
 * Never fails: without membarrier, both barrier sides are fences. */
void sm__pool_fast_init(struct sm_pool *p) {
  (void)pthread_once(&membarrier_once, membarrier_init);
  p->asym = membarrier_ok;
  p->id = atomic_fetch_add_explicit(&next_pool_id, 1, memory_order_relaxed);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->searchers, p->nworkers); /* workers start searching */
  atomic_init(&p->sealed, false);
  atomic_init(&p->idle_lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&p->lanes, NULL);
  atomic_init(&p->lanes_lock.state, SM_MUTEX_UNLOCKED);
  atomic_init(&p->overflow_lock.state, SM_MUTEX_UNLOCKED);
  for (unsigned i = 0; i < p->nworkers; i++) {
    atomic_init(&p->workers[i].take, 0);
    atomic_init(&p->workers[i].listed, false);
  }
}

/* Queues fn(arg) on the calling thread's lane. Returns 0, -ESHUTDOWN once
 * shutdown has begun, or -ENOMEM. The common case, lane_push on the
 * thread's own lane cached in front, is written out here without calls,
 * so that the function saves no registers: with the submitter's stores
 * waiting for cache lines that workers took, every store counts, stack
 * pushes included. Anything else leaves by a tail call to the general
 * path. sm_pool_submit reaches this function by a tail jump, so the
 * property holds for the whole submit. */
int sm__pool_fast_submit(struct sm_pool *pool, sm_task_fn fn, void *arg) {
  struct lane *l = lane_cache[0].lane;
  if (SM_UNLIKELY(lane_cache[0].pool != pool || lane_cache[0].id != pool->id ||
                  !l->owner))
    return general_submit(pool, fn, arg);
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

/* Frees every lane of a closed pool whose workers are joined (they are
 * drained then). Never fails. */
void sm__pool_fast_destroy(struct sm_pool *p) {
  struct lane *l = atomic_load_explicit(&p->lanes, memory_order_acquire);
  while (l) {
    struct lane *next = l->next;
    lane_destroy(l);
    l = next;
  }
}
