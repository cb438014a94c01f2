/* aggregate.c: the `aggregate` family: N threads each adding updates to one
 * total through an atomic, a mutex, a rwlock, a channel to an aggregating
 * thread or per-thread partial sums (claims C6, C12), and the lesson's
 * produce -> transform -> consume pipeline over channels, over one locked
 * shared queue and in one thread; timed by the runner's window. The
 * rust_* variants are the first three with Rust std's AtomicU64, Mutex and
 * RwLock (bench/peers/rust_std.rs). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/lockops.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_WORK_NS };

/* The strategies, in the order of variants[]. */
enum strategy {
  ATOMIC,
  MUTEX,
  RWLOCK,
  CHANNEL,
  MERGE,
  PIPE_CHANNEL,
  PIPE_LOCKED,
  PIPE_SINGLE,
  RUST_ATOMIC,
  RUST_MUTEX,
  RUST_RWLOCK
};

/* The two queues of a pipeline: produced items, transformed items. The
 * channel aggregation uses RAW only. */
enum { RAW, DONE };

/* Backlog control of the queued strategies: a producer looks at the
 * backlog (items put and not yet consumed, all producers together) every
 * BACKLOG_EVERY passes and, above BACKLOG_CAP, sleeps BACKLOG_NAP_NS at a
 * time until the consumer caught up or the window stops. It bounds the
 * memory an unbounded queue holds when producers outrun the consumer (as
 * the old fixed-size job did), and the consumer, which counts, always has
 * work then; small enough that a window reaches the steady state (its CPU
 * per update is that of the items it consumed, not of a growing backlog). */
enum { BACKLOG_EVERY = 64, BACKLOG_NAP_NS = 20000 };
#define BACKLOG_CAP ((uint64_t)1 << 14)

/* One message of the channel aggregation, one item of the pipeline. */
struct item {
  uint32_t producer; /* 0 .. N - 1 */
  uint32_t seq;      /* 0, 1, ... in the producer's order */
  uint64_t value;    /* seq + 1; the transform doubles it */
};

/* A fixed-capacity FIFO of items (capacity a power of two, allocated at
 * setup, never grown in a window); not thread-safe. */
struct ring {
  struct item *buf;
  size_t cap, head, len;
};

/* The locked pipeline's shared state: both queues behind one mutex, as a
 * Rust Mutex<(VecDeque, VecDeque)> with two Condvars. */
struct locked_queue {
  struct sm_lockops_mutex lock;
  pthread_cond_t nonempty[2];
  struct ring q[2];
  unsigned writers[2]; /* threads still pushing into each queue */
  int initialized;
};

/* What one thread of a window owns and publishes after its loop. */
struct slot {
  SM_CACHE_ALIGNED struct sm_sender *tx; /* its sender, released at the end */
  uint64_t partial;                      /* merge: this thread's sum */
  int rc;                                /* a failed put, else 0 */
};

/* Shared state of one window. Counters that different threads write sit
 * on lines of their own. */
struct agg_state {
  enum strategy strategy;
  unsigned producers; /* N */
  uint64_t work_iterations;
  SM_CACHE_ALIGNED atomic_uint_least64_t atomic_total;
  SM_CACHE_ALIGNED struct {
    struct sm_lockops_futex_mutex lock;
    uint64_t value;
  } mutex_total;
  SM_CACHE_ALIGNED struct {
    struct sm_lockops_futex_rwlock lock;
    uint64_t value;
  } rwlock_total;
  SM_CACHE_ALIGNED atomic_uint_least64_t produced; /* claimed by producers,
                                                     BACKLOG_EVERY at a time */
  SM_CACHE_ALIGNED atomic_uint_least64_t consumed; /* published by the
                                                     consumer */
  /* The consumer's part (the aggregator, the pipeline's last stage). */
  SM_CACHE_ALIGNED uint64_t total; /* items accepted */
  uint64_t sum;                    /* of their values */
  uint32_t *next_seq;              /* next expected seq per producer */
  struct item bad;                 /* the first item that failed the check */
  uint64_t bad_expected;
  int bad_seen;
  struct sm_receiver *rx[2];
  struct locked_queue lq;
  struct slot *slots; /* one per thread of the case */
  unsigned nslots;
  struct sm_rust_counter *rust; /* the rust_* variants' total */
};

/* Appends *it to r. Returns 0, or -ENOBUFS when r is full (never in a
 * window whose backlog control works). */
static int ring_push(struct ring *r, const struct item *it) {
  if (r->len == r->cap)
    return -ENOBUFS;
  r->buf[(r->head + r->len++) & (r->cap - 1)] = *it;
  return 0;
}

/* Removes the oldest item of a non-empty ring into *out. */
static void ring_pop(struct ring *r, struct item *out) {
  *out = r->buf[r->head];
  r->head = (r->head + 1) & (r->cap - 1);
  r->len--;
}

/* Initializes the locked queue for `producers` writers of RAW and one of
 * DONE, each ring holding `cap` items. Returns 0, -ENOMEM or the negative
 * error of pthread initialization. */
static int lq_init(struct locked_queue *q, unsigned producers, size_t cap) {
  memset(q, 0, sizeof *q);
  for (int i = 0; i < 2; i++) {
    q->q[i] =
        (struct ring){.buf = malloc(cap * sizeof(struct item)), .cap = cap};
    if (!q->q[i].buf) {
      free(q->q[0].buf);
      return -ENOMEM;
    }
  }
  int rc = pthread_cond_init(&q->nonempty[RAW], NULL);
  if (rc == 0 && (rc = pthread_cond_init(&q->nonempty[DONE], NULL)) != 0)
    pthread_cond_destroy(&q->nonempty[RAW]);
  if (rc != 0) {
    free(q->q[RAW].buf);
    free(q->q[DONE].buf);
    return -rc;
  }
  sm_lockops_mutex_init(&q->lock);
  q->writers[RAW] = producers;
  q->writers[DONE] = 1;
  q->initialized = 1;
  return 0;
}

/* Frees the queue's buffers and synchronization objects (no-op when it
 * was never initialized). */
static void lq_destroy(struct locked_queue *q) {
  if (!q->initialized)
    return;
  pthread_cond_destroy(&q->nonempty[RAW]);
  pthread_cond_destroy(&q->nonempty[DONE]);
  sm_lockops_mutex_destroy(&q->lock);
  free(q->q[RAW].buf);
  free(q->q[DONE].buf);
}

/* Pushes *it into queue `which` under the lock and wakes a waiting taker.
 * Returns 0 or -ENOBUFS. */
static inline int lq_push(struct locked_queue *q, int which,
                          const struct item *it) {
  sm_lockops_mutex_lock(&q->lock);
  int rc = ring_push(&q->q[which], it);
  pthread_cond_signal(&q->nonempty[which]);
  sm_lockops_mutex_unlock(&q->lock);
  return rc;
}

/* Takes the oldest item of queue `which`, waiting while it is empty and
 * writers remain. Returns 0, or -EPIPE when it is empty with no writer
 * left (as a disconnected channel). */
static inline int lq_pop(struct locked_queue *q, int which, struct item *out) {
  sm_lockops_mutex_lock(&q->lock);
  while (q->q[which].len == 0 && q->writers[which] > 0)
    pthread_cond_wait(&q->nonempty[which], &q->lock.m);
  int rc = q->q[which].len ? 0 : -EPIPE;
  if (rc == 0)
    ring_pop(&q->q[which], out);
  sm_lockops_mutex_unlock(&q->lock);
  return rc;
}

/* Says one writer of queue `which` is done; the last wakes every taker. */
static void lq_close(struct locked_queue *q, int which) {
  sm_lockops_mutex_lock(&q->lock);
  if (--q->writers[which] == 0)
    pthread_cond_broadcast(&q->nonempty[which]);
  sm_lockops_mutex_unlock(&q->lock);
}

/* The queue adapters, one pair per kind, so that each stage's worker is
 * written once (by macro) and calls its queue directly: chan_* over the
 * thread's channel sender and the state's receivers, locked_* over the
 * locked queue pair. put returns 0 or a negative errno, take 0 or -EPIPE
 * once every writer closed and the queue is drained; close says the thread
 * puts nothing more. */
static inline int chan_put(struct agg_state *s SM_UNUSED, struct slot *t,
                           int which SM_UNUSED, const struct item *it) {
  return sm_send(t->tx, it);
}
static inline int chan_take(struct agg_state *s, int which, struct item *out) {
  return sm_recv(s->rx[which], out);
}
static void chan_close(struct agg_state *s SM_UNUSED, struct slot *t,
                       int which SM_UNUSED) {
  sm_sender_release(t->tx);
  t->tx = NULL;
}
static inline int locked_put(struct agg_state *s, struct slot *t SM_UNUSED,
                             int which, const struct item *it) {
  return lq_push(&s->lq, which, it);
}
static inline int locked_take(struct agg_state *s, int which,
                              struct item *out) {
  return lq_pop(&s->lq, which, out);
}
static void locked_close(struct agg_state *s, struct slot *t SM_UNUSED,
                         int which) {
  lq_close(&s->lq, which);
}

/* Runs the per-update work of the case (nothing for work_ns=0). */
static inline void do_work(const struct agg_state *s) {
  SM_KEEP(sm_work_spin(s->work_iterations));
}

/* A producer's backlog control (see BACKLOG_CAP): claims the next
 * BACKLOG_EVERY items and waits while the backlog is above the cap, until
 * the consumer caught up or the runner stops the window. */
static void hold_backlog(struct agg_state *s, const struct sm_worker *w) {
  atomic_fetch_add_explicit(&s->produced, BACKLOG_EVERY, memory_order_relaxed);
  while ((int64_t)(atomic_load_explicit(&s->produced, memory_order_relaxed) -
                   atomic_load_explicit(&s->consumed, memory_order_relaxed)) >
             (int64_t)BACKLOG_CAP &&
         atomic_load_explicit(&w->gate->phase, memory_order_relaxed) !=
             SM_PHASE_STOP)
    sm_sleep_for_ns(BACKLOG_NAP_NS);
}

/* Accepts one received item: it must be the next of its producer, with
 * its value times `factor` (2 after the transform). Counts it into total
 * and sum, publishing the count for the producers' backlog control; the
 * first bad item is kept for the self-check. */
static inline void accept_item(struct agg_state *s, const struct item *it,
                               uint64_t factor) {
  uint64_t expected = factor * ((uint64_t)it->seq + 1);
  if (it->producer >= s->producers || it->seq != s->next_seq[it->producer] ||
      it->value != expected) {
    if (!s->bad_seen) {
      s->bad = *it;
      s->bad_expected = expected;
      s->bad_seen = 1;
    }
    return;
  }
  s->next_seq[it->producer]++;
  s->sum += it->value;
  if ((++s->total & (BACKLOG_EVERY - 1)) == 0)
    atomic_store_explicit(&s->consumed, s->total, memory_order_relaxed);
}

/* Defines <name>_worker: an updater whose pass is the work and one update
 * `update` of the shared total, after the declarations `locals`;
 * publishes its updates (its passes). */
#define UPDATER(name, locals, update)                                          \
  static void name##_worker(struct sm_worker *w) {                             \
    struct agg_state *s = w->state;                                            \
    uint64_t count = 0;                                                        \
    locals;                                                                    \
    SM_MEASURED_LOOP(w, count) {                                               \
      do_work(s);                                                              \
      update;                                                                  \
    }                                                                          \
    w->family_count = count;                                                   \
  }
/* fetch_add (seq_cst, as the lesson's counter) on the total. */
UPDATER(atomic, ,
        atomic_fetch_add_explicit(&s->atomic_total, 1, memory_order_seq_cst))
/* The total under the futex mutex. */
UPDATER(mutex, , {
  sm_lockops_futex_mutex_lock(&s->mutex_total.lock);
  s->mutex_total.value++;
  sm_lockops_futex_mutex_unlock(&s->mutex_total.lock);
})
/* The total under the futex rwlock's write lock. */
UPDATER(rwlock, , {
  sm_lockops_futex_rwlock_lock(&s->rwlock_total.lock);
  s->rwlock_total.value++;
  sm_lockops_futex_rwlock_unlock(&s->rwlock_total.lock);
})
/* One write (an increment under the exclusive side) of Rust std's guard:
 * fetch_add (SeqCst), Mutex::lock, RwLock::write. */
#define RUST_UPDATE(guard)                                                     \
  (void)sm_rust_counter_pass(s->rust, guard, &writes, 1, 0)
#define WRITES_ONLY struct sm_rust_mix writes = {.acc = 0, .read_pct = 0}
UPDATER(rust_atomic, WRITES_ONLY, RUST_UPDATE(SM_RUST_ATOMIC_SEQCST))
UPDATER(rust_mutex, WRITES_ONLY, RUST_UPDATE(SM_RUST_MUTEX))
UPDATER(rust_rwlock, WRITES_ONLY, RUST_UPDATE(SM_RUST_RWLOCK))
#undef WRITES_ONLY
#undef RUST_UPDATE
#undef UPDATER

/* Updater: increments of a private sum (kept a real add per update),
 * published once for the merge in the self-check. */
static void merge_worker(struct sm_worker *w) {
  struct agg_state *s = w->state;
  uint64_t count = 0, sum = 0;
  SM_MEASURED_LOOP(w, count) {
    do_work(s);
    sum++;
    __asm__ __volatile__("" : "+r"(sum));
  }
  s->slots[w->index].partial = sum;
  w->family_count = count;
}

/* Defines produce_<q>_worker: a producer (channel aggregation, pipelines)
 * whose pass is the work and one item into RAW; keeps the backlog under
 * the cap; after its loop, closes its side of RAW, which releases the stage
 * after it. Publishes its items (its passes). */
#define PRODUCER(q)                                                            \
  static void produce_##q##_worker(struct sm_worker *w) {                      \
    struct agg_state *s = w->state;                                            \
    struct slot *t = &s->slots[w->index];                                      \
    uint64_t count = 0;                                                        \
    SM_MEASURED_LOOP(w, count) {                                               \
      if ((count & (BACKLOG_EVERY - 1)) == 0)                                  \
        hold_backlog(s, w);                                                    \
      do_work(s);                                                              \
      uint32_t seq = (uint32_t)count;                                          \
      struct item it = {w->role_index, seq, (uint64_t)seq + 1};                \
      if (t->rc == 0)                                                          \
        t->rc = q##_put(s, t, RAW, &it);                                       \
    }                                                                          \
    q##_close(s, t, RAW);                                                      \
    w->family_count = count;                                                   \
  }

/* Passes one RAW item on: work, doubled into DONE. */
#define TRANSFORM_ONE(q, s, t, it)                                             \
  do {                                                                         \
    do_work(s);                                                                \
    (it).value *= 2;                                                           \
    if ((t)->rc == 0)                                                          \
      (t)->rc = q##_put((s), (t), DONE, &(it));                                \
  } while (0)

/* Defines transform_<q>_worker: the pipeline's middle stage, a pass per
 * RAW item; after its loop it drains RAW (the producers have stopped and
 * close it) so that nothing is left between stages, then closes DONE. */
#define TRANSFORM(q)                                                           \
  static void transform_##q##_worker(struct sm_worker *w) {                    \
    struct agg_state *s = w->state;                                            \
    struct slot *t = &s->slots[w->index];                                      \
    uint64_t count = 0;                                                        \
    int open = 1;                                                              \
    struct item it;                                                            \
    SM_MEASURED_LOOP(w, count) {                                               \
      if (open && q##_take(s, RAW, &it) == 0)                                  \
        TRANSFORM_ONE(q, s, t, it);                                            \
      else                                                                     \
        open = 0;                                                              \
    }                                                                          \
    while (open && q##_take(s, RAW, &it) == 0)                                 \
      TRANSFORM_ONE(q, s, t, it);                                              \
    q##_close(s, t, DONE);                                                     \
  }

/* Defines <name>_worker: the consumer of queue `which` (the aggregator, or
 * the pipeline's last stage with its work), a pass per item checked and
 * counted: the case's operations. After its loop it drains its queue until
 * the stage before closed it, so every item put is counted once. */
#define CONSUMER(name, q, which, factor, work)                                 \
  static void name##_worker(struct sm_worker *w) {                             \
    struct agg_state *s = w->state;                                            \
    uint64_t count = 0;                                                        \
    int open = 1;                                                              \
    struct item it;                                                            \
    SM_MEASURED_LOOP(w, count) {                                               \
      if (open && q##_take(s, which, &it) == 0) {                              \
        if (work)                                                              \
          do_work(s);                                                          \
        accept_item(s, &it, factor);                                           \
      } else {                                                                 \
        open = 0;                                                              \
      }                                                                        \
    }                                                                          \
    while (open && q##_take(s, which, &it) == 0) {                             \
      if (work)                                                                \
        do_work(s);                                                            \
      accept_item(s, &it, factor);                                             \
    }                                                                          \
  }

PRODUCER(chan)
PRODUCER(locked)
TRANSFORM(chan)
TRANSFORM(locked)
CONSUMER(aggregate, chan, RAW, 1, 0)
CONSUMER(consume_chan, chan, DONE, 2, 1)
CONSUMER(consume_locked, locked, DONE, 2, 1)
#undef PRODUCER
#undef TRANSFORM
#undef TRANSFORM_ONE
#undef CONSUMER

/* The whole pipeline in one thread: a pass produces, transforms and
 * consumes one item of each of the N producers in turn, with the same work
 * per stage and the same check; N operations per pass. */
static void single_pipeline_worker(struct sm_worker *w) {
  struct agg_state *s = w->state;
  w->ops_per_pass = s->producers;
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    uint32_t seq = (uint32_t)count;
    for (unsigned p = 0; p < s->producers; p++) {
      do_work(s);
      struct item it = {p, seq, (uint64_t)seq + 1};
      do_work(s);
      it.value *= 2;
      do_work(s);
      accept_item(s, &it, 2);
    }
  }
  w->family_count = count;
}

/* Roles of the queued strategies: the producers are the case's threads,
 * the consumer (the only counting role: an update is in the total once it
 * consumed it) and the transform are the family's extra threads, in this
 * order (a consumer exists only when every thread before it was created,
 * so the stop hand-shake, each stage closing its output after its loop,
 * always reaches it). */
static const struct sm_role channel_roles[] = {
    SM_ROLE_SERVING("producer", produce_chan_worker, SM_ROLE_CASE_THREADS),
    SM_ROLE_COUNTING("aggregator", aggregate_worker, 1),
};
static const struct sm_role pipe_channel_roles[] = {
    SM_ROLE_SERVING("producer", produce_chan_worker, SM_ROLE_CASE_THREADS),
    SM_ROLE_SERVING("transform", transform_chan_worker, 1),
    SM_ROLE_COUNTING("consumer", consume_chan_worker, 1),
};
static const struct sm_role pipe_locked_roles[] = {
    SM_ROLE_SERVING("producer", produce_locked_worker, SM_ROLE_CASE_THREADS),
    SM_ROLE_SERVING("transform", transform_locked_worker, 1),
    SM_ROLE_COUNTING("consumer", consume_locked_worker, 1),
};
/* One thread, whatever the case's thread count (N is the producers it
 * stands in for). */
static const struct sm_role pipe_single_roles[] = {
    SM_ROLE_COUNTING("pipeline", single_pipeline_worker, 1),
};

static const struct sm_variant variants[] = {
    [ATOMIC] = SM_VARIANT("atomic", "fetch_add (seq_cst) on one shared total",
                          atomic_worker),
    [MUTEX] = SM_VARIANT("mutex",
                         "total behind the futex mutex (Rust std's algorithm)",
                         mutex_worker),
    [RWLOCK] = SM_VARIANT(
        "rwlock", "total behind the futex rwlock's write lock (Rust std's)",
        rwlock_worker),
    [CHANNEL] = SM_KIT_ROLES_VARIANT("channel",
                                     "one message per update to an aggregating "
                                     "thread (unbounded channel)",
                                     channel_roles),
    [MERGE] = SM_VARIANT("merge", "per-thread partial sums, merged at the end",
                         merge_worker),
    [PIPE_CHANNEL] = SM_KIT_ROLES_VARIANT(
        "pipeline_channel",
        "N producers -> transform -> consumer over unbounded "
        "channels (the lesson's pipeline)",
        pipe_channel_roles),
    [PIPE_LOCKED] = SM_KIT_ROLES_VARIANT(
        "pipeline_locked",
        "the same stages through one shared queue pair behind "
        "a pthread mutex + condvars",
        pipe_locked_roles),
    [PIPE_SINGLE] = SM_KIT_ROLES_VARIANT(
        "pipeline_single",
        "the same items produced, transformed, consumed by one "
        "thread",
        pipe_single_roles),
    [RUST_ATOMIC] =
        SM_VARIANT("rust_atomic_seqcst",
                   "Rust std's AtomicU64::fetch_add (SeqCst) on the total",
                   rust_atomic_worker),
    [RUST_MUTEX] = SM_VARIANT(
        "rust_mutex", "total behind Rust std's Mutex<u64>", rust_mutex_worker),
    [RUST_RWLOCK] =
        SM_VARIANT("rust_rwlock", "total behind Rust std's RwLock<u64> (write)",
                   rust_rwlock_worker),
};

/* Returns the strategy of a case's variant (its index in variants[]). */
static enum strategy strategy_of(const struct sm_case *c) {
  return (enum strategy)(c->variant - variants);
}

/* Frees a state: senders no thread released, receivers, queues. */
static void aggregate_teardown(void *state) {
  struct agg_state *s = state;
  if (!s)
    return;
  for (unsigned i = 0; s->slots && i < s->nslots; i++)
    sm_sender_release(s->slots[i].tx);
  sm_receiver_release(s->rx[RAW]);
  sm_receiver_release(s->rx[DONE]);
  sm_lockops_futex_mutex_destroy(&s->mutex_total.lock);
  sm_lockops_futex_rwlock_destroy(&s->rwlock_total.lock);
  lq_destroy(&s->lq);
  sm_rust_counter_free(s->rust);
  free(s->next_seq);
  free(s->slots);
  free(s);
}

/* Creates the channels of a channel strategy and hands each thread the
 * sender it owns: producers share RAW's, the transform (slot N) owns
 * DONE's. Returns 0 or the channel's error. */
static int make_channels(struct agg_state *s) {
  struct sm_sender *tx[2] = {NULL, NULL};
  int nchannels = s->strategy == PIPE_CHANNEL ? 2 : 1;
  for (int q = 0; q < nchannels; q++) {
    int rc = sm_channel(sizeof(struct item), SM_CHANNEL_UNBOUNDED, &tx[q],
                        &s->rx[q]);
    if (rc != 0) {
      sm_sender_release(tx[RAW]);
      return rc;
    }
  }
  for (unsigned i = 0; i < s->producers; i++)
    s->slots[i].tx = i == 0 ? tx[RAW] : sm_sender_clone(tx[RAW]);
  s->slots[s->producers].tx = tx[DONE];
  return 0;
}

/* Items a locked-queue ring must hold: the backlog cap plus what every
 * producer and the consumer may put or leave uncounted between two looks
 * at the backlog, rounded up to a power of two. */
static size_t ring_capacity(unsigned producers) {
  uint64_t need = BACKLOG_CAP + ((uint64_t)producers + 2) * BACKLOG_EVERY;
  size_t cap = 1;
  while (cap < need)
    cap <<= 1;
  return cap;
}

/* Creates the state of one window for case c: the totals at 0, the locks,
 * the channels or the locked queue pair of its strategy. Returns 0 and
 * sets *state, or -ENOMEM or the error of a channel or queue. */
static int aggregate_setup(const struct sm_case *c, void **state) {
  struct agg_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  s->strategy = strategy_of(c);
  s->producers = c->threads;
  s->work_iterations =
      sm_work_iterations_for_ns((uint64_t)c->param[AXIS_WORK_NS]);
  atomic_init(&s->atomic_total, 0);
  atomic_init(&s->produced, 0);
  atomic_init(&s->consumed, 0);
  sm_lockops_futex_mutex_init(&s->mutex_total.lock);
  sm_lockops_futex_rwlock_init(&s->rwlock_total.lock);
  s->nslots = c->threads + 2;
  s->slots = aligned_alloc(SM_CACHE_LINE, sizeof *s->slots * s->nslots);
  /* On lines of its own: the consumer writes it for every item. */
  s->next_seq = sm_kit_state_alloc(sizeof *s->next_seq * c->threads);
  int rc = s->slots && s->next_seq ? 0 : -ENOMEM;
  if (s->slots)
    memset(s->slots, 0, sizeof *s->slots * s->nslots);
  if (rc == 0 && (s->strategy == CHANNEL || s->strategy == PIPE_CHANNEL))
    rc = make_channels(s);
  if (rc == 0 && s->strategy == PIPE_LOCKED)
    rc = lq_init(&s->lq, c->threads, ring_capacity(c->threads));
  if (rc == 0 && s->strategy >= RUST_ATOMIC) {
    s->rust = sm_rust_counter_new();
    rc = s->rust ? 0 : -ENOMEM;
  }
  if (rc != 0) {
    aggregate_teardown(s);
    return rc;
  }
  *state = s;
  return 0;
}

/* The total the strategy's shared state holds. */
static uint64_t shared_total(const struct agg_state *s) {
  switch (s->strategy) {
  case ATOMIC:
    return atomic_load_explicit(&s->atomic_total, memory_order_relaxed);
  case MUTEX:
    return s->mutex_total.value;
  case RWLOCK:
    return s->rwlock_total.value;
  case RUST_ATOMIC:
    return sm_rust_counter_value(s->rust, SM_RUST_ATOMIC_SEQCST);
  case RUST_MUTEX:
    return sm_rust_counter_value(s->rust, SM_RUST_MUTEX);
  case RUST_RWLOCK:
    return sm_rust_counter_value(s->rust, SM_RUST_RWLOCK);
  case MERGE: {
    uint64_t sum = 0;
    for (unsigned i = 0; i < s->producers; i++)
      sum += s->slots[i].partial;
    return sum;
  }
  default:
    return s->total;
  }
}

/* Self-check of a joined window: no put failed, every item arrived once
 * and in its producer's order (accept_item), the total equals the updates
 * or items the threads counted, and the checksum of the values the
 * consumer summed is right. Returns 0 or -EPROTO with msg. */
static int aggregate_check(const struct sm_case *c, void *state,
                           const struct sm_worker *workers, char *msg,
                           size_t size) {
  struct agg_state *s = state;
  for (unsigned i = 0; i < s->nslots; i++)
    if (s->slots[i].rc != 0)
      return sm_kit_check_failed(msg, size,
                                 "thread %u could not pass an item on: %s", i,
                                 strerror(-s->slots[i].rc));
  if (s->bad_seen)
    return sm_kit_check_failed(
        msg, size,
        "item (producer %u, seq %u, value %llu) is out of order, "
        "repeated or altered (expected value %llu)",
        s->bad.producer, s->bad.seq, (unsigned long long)s->bad.value,
        (unsigned long long)s->bad_expected);
  /* What the first threads (the updaters or producers; the one pipeline
   * thread) counted: updates, or items put per producer. */
  uint64_t expected = 0, checksum = 0;
  int queued = s->strategy == CHANNEL || s->strategy == PIPE_CHANNEL ||
               s->strategy == PIPE_LOCKED;
  uint64_t factor = s->strategy == CHANNEL ? 1 : 2;
  unsigned counted = s->strategy == PIPE_SINGLE ? 1 : c->threads;
  for (unsigned i = 0; i < counted; i++) {
    uint64_t m = workers[i].family_count;
    if (s->strategy == PIPE_SINGLE) {
      expected += m * s->producers;
      checksum += s->producers * m * (m + 1);
    } else {
      expected += m;
      checksum += factor * m * (m + 1) / 2;
    }
  }
  uint64_t total = shared_total(s);
  int summed = queued || s->strategy == PIPE_SINGLE;
  if (total != expected || (summed && s->sum != checksum))
    return sm_kit_check_failed(
        msg, size,
        "total is %llu (expected %llu), checksum %llu (expected %llu)",
        (unsigned long long)total, (unsigned long long)expected,
        (unsigned long long)s->sum,
        (unsigned long long)(summed ? checksum : 0));
  return 0;
}

/* Adds the family's metrics of a checked window from what the runner
 * recorded of each worker: the counting role's updates and rate (as
 * ops_per_s), and the CPU time and voluntary switches of every thread of
 * the case between its edges. Returns 0 or the sink's error. */
static int aggregate_metrics(const struct sm_case *c SM_UNUSED,
                             void *state SM_UNUSED,
                             const struct sm_worker *workers, unsigned n,
                             struct sm_sink *sink, char *msg SM_UNUSED,
                             size_t size SM_UNUSED) {
  double updates;
  double rate = sm_kit_counted_rate(workers, n, &updates);
  double cpu = 0, vcsw = 0;
  for (unsigned i = 0; i < n; i++) {
    cpu += (double)sm_kit_window_cpu_ns(&workers[i]);
    vcsw += (double)(workers[i].usage_at_stop.ru_nvcsw -
                     workers[i].usage_at_measure.ru_nvcsw);
  }
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"updates_per_s", "updates/s", rate},
      {"ns_per_update", "ns", rate > 0 ? 1e9 / rate : NAN},
      {"cpu_ns_per_update", "ns", updates > 0 ? cpu / updates : NAN},
      {"vcsw_per_update", "switches/update",
       updates > 0 ? vcsw / updates : NAN},
      {"job_updates", "updates", updates},
  };
  int rc = 0;
  for (size_t i = 0; i < SM_COUNT(rows) && rc == 0; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

static const long work_values[] = {0, 1000};

static const struct sm_axis axes[] = {
    [AXIS_WORK_NS] = SM_AXIS("work_ns", work_values, work_values, 0, 1000000),
};

/* The metrics aggregate_metrics adds. */
static const struct sm_metric_decl metric_decls[] = {
    {"updates_per_s", "updates/s", SM_HIGHER_IS_BETTER,
     "updates that reached the total per second"},
    {"ns_per_update", "ns", SM_LOWER_IS_BETTER,
     "wall time per update (1 / updates_per_s)"},
    {"cpu_ns_per_update", "ns", SM_LOWER_IS_BETTER,
     "CPU time of all the case's threads per update"},
    {"vcsw_per_update", "switches/update", SM_NO_DIRECTION,
     "voluntary switches of all the case's threads per update"},
    {"job_updates", "updates", SM_NO_DIRECTION,
     "updates in the measured window, all threads"},
};

SM_FAMILY_DEFINE(aggregate, aggregate,
                 "N threads x M updates to one total: atomic, mutex, rwlock, "
                 "channel, merge; and a 3-stage pipeline",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(aggregate_metrics, metric_decls),
                 .applies = sm_rust_std_applies, .extra_threads = 2,
                 .headline_metric = "updates_per_s");
