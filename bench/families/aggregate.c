/* aggregate.c: the `aggregate` family: one job, N threads each adding M
 * updates to one total through an atomic, a mutex, a rwlock, a channel to an
 * aggregating thread or per-thread partial sums (claims C6, C12), and the
 * lesson's produce -> transform -> consume pipeline over channels, over one
 * locked shared queue and in one thread. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "family.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/mutex.h"
#include "syncmark/rwlock.h"
#include "syncmark/thread.h"
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
  PIPE_SINGLE
};

/* Job sizing: per-thread updates of the first pilot job, the fewest a
 * measured job gives each thread, the most one rescaling multiplies them
 * by, and the most times a too short measured job is rescaled. */
enum { PILOT_UPDATES = 1, MIN_UPDATES = 1, MAX_GROWTH = 1000, MAX_RESIZES = 3 };
/* Most updates of one job, all threads together: bounds the memory of
 * messages queued in a channel (16 bytes each) to 256 MiB. */
#define MAX_JOB_UPDATES ((uint64_t)1 << 24)

/* The two queues of a pipeline: produced items, transformed items. The
 * channel aggregation uses RAW only. */
enum { RAW, DONE };

/* States of job.gate. */
enum { GATE_CLOSED, GATE_GO, GATE_ABORT };

/* One message of the channel aggregation, one item of the pipeline. */
struct item {
  uint32_t producer; /* 0 .. N - 1 */
  uint32_t seq;      /* 0 .. M - 1, in the producer's order */
  uint64_t value;    /* seq + 1; the transform doubles it */
};

/* A growable FIFO of items (capacity a power of two); not thread-safe. */
struct ring {
  struct item *buf;
  size_t cap, head, len;
};

/* The locked pipeline's shared state: both queues behind one mutex, as a
 * Rust Mutex<(VecDeque, VecDeque)> with two Condvars. */
struct locked_queue {
  pthread_mutex_t lock;
  pthread_cond_t nonempty[2];
  struct ring q[2];
  unsigned writers[2]; /* threads still pushing into each queue */
  int initialized;
};

struct job;
struct thread_slot;

/* What one thread of a job does between the gate and its exit. */
typedef void (*role_fn)(struct thread_slot *t);

/* One thread of a job: what it does and what it measured of itself. */
struct thread_slot {
  SM_CACHE_ALIGNED struct job *job;
  role_fn role;
  unsigned index;        /* 0 .. N - 1 producers/updaters, then stages */
  struct sm_sender *out; /* the sender this thread owns and releases */
  uint64_t partial;      /* merge: this thread's sum */
  uint64_t cpu_ns;       /* CPU time from the gate to the end of its role */
  long vcsw;             /* voluntary switches in the same span */
  int rc;                /* a failed send or push, else 0 */
};

/* One job: N threads (plus the stage threads of its strategy) contribute
 * M updates each. Counters the threads touch sit on lines of their own. */
struct job {
  enum strategy strategy;
  unsigned producers; /* N */
  unsigned nthreads;  /* N plus aggregator or stages; 1 for PIPE_SINGLE */
  uint64_t per_thread;
  uint64_t work_iterations;
  SM_CACHE_ALIGNED atomic_uint ready;
  SM_CACHE_ALIGNED atomic_uint gate;
  SM_CACHE_ALIGNED atomic_uint finished;
  SM_CACHE_ALIGNED atomic_uint_least64_t atomic_total;
  SM_CACHE_ALIGNED struct {
    struct sm_mutex lock;
    uint64_t value;
  } mutex_total;
  SM_CACHE_ALIGNED struct {
    struct sm_rwlock lock;
    uint64_t value;
  } rwlock_total;
  /* Written once by the thread that completes the job (the last updater,
   * the aggregator or the consumer), read by the runner after the joins. */
  SM_CACHE_ALIGNED uint64_t end_ns;
  uint64_t total;     /* merged sum, or items received */
  uint64_t sum;       /* sum of received item values */
  uint32_t *next_seq; /* next expected seq per producer */
  char error[160];    /* first item that failed the check */
  uint64_t start_ns;  /* the gate opened */
  struct sm_receiver *rx[2];
  struct locked_queue lq;
  struct thread_slot *slots;
  struct sm_join_handle **handles;
};

/* What the runner keeps of one job. */
struct job_result {
  uint64_t elapsed_ns;
  uint64_t cpu_ns;
  long vcsw;
};

/* Returns the calling thread's CPU time in ns. Aborts if the clock cannot
 * be read, which Linux guarantees it can. */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    abort();
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns the calling thread's voluntary context switches so far. Aborts
 * if getrusage fails, which it cannot for RUSAGE_THREAD. */
static long thread_vcsw(void) {
  struct rusage u;
  if (getrusage(RUSAGE_THREAD, &u) != 0)
    abort();
  return u.ru_nvcsw;
}

/* Appends *it to r, doubling the buffer when full. Returns 0 or
 * -ENOMEM (r unchanged). */
static int ring_push(struct ring *r, const struct item *it) {
  if (r->len == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 1024;
    struct item *buf = malloc(cap * sizeof *buf);
    if (!buf)
      return -ENOMEM;
    for (size_t i = 0; i < r->len; i++)
      buf[i] = r->buf[(r->head + i) & (r->cap - 1)];
    free(r->buf);
    *r = (struct ring){.buf = buf, .cap = cap, .head = 0, .len = r->len};
  }
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
 * DONE. Returns 0 or the negative error of pthread initialization. */
static int lq_init(struct locked_queue *q, unsigned producers) {
  memset(q, 0, sizeof *q);
  int rc = pthread_mutex_init(&q->lock, NULL);
  if (rc != 0)
    return -rc;
  rc = pthread_cond_init(&q->nonempty[RAW], NULL);
  if (rc == 0 && (rc = pthread_cond_init(&q->nonempty[DONE], NULL)) != 0)
    pthread_cond_destroy(&q->nonempty[RAW]);
  if (rc != 0) {
    pthread_mutex_destroy(&q->lock);
    return -rc;
  }
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
  pthread_mutex_destroy(&q->lock);
  free(q->q[RAW].buf);
  free(q->q[DONE].buf);
}

/* Pushes *it into queue `which` under the lock and wakes a waiting taker.
 * Returns 0 or -ENOMEM. */
static int lq_push(struct locked_queue *q, int which, const struct item *it) {
  pthread_mutex_lock(&q->lock);
  int rc = ring_push(&q->q[which], it);
  pthread_cond_signal(&q->nonempty[which]);
  pthread_mutex_unlock(&q->lock);
  return rc;
}

/* Takes the oldest item of queue `which`, waiting while it is empty and
 * writers remain. Returns 0, or -EPIPE when it is empty with no writer
 * left (as a disconnected channel). */
static int lq_pop(struct locked_queue *q, int which, struct item *out) {
  pthread_mutex_lock(&q->lock);
  while (q->q[which].len == 0 && q->writers[which] > 0)
    pthread_cond_wait(&q->nonempty[which], &q->lock);
  int rc = q->q[which].len ? 0 : -EPIPE;
  if (rc == 0)
    ring_pop(&q->q[which], out);
  pthread_mutex_unlock(&q->lock);
  return rc;
}

/* Says one writer of queue `which` is done; the last wakes every taker. */
static void lq_close(struct locked_queue *q, int which) {
  pthread_mutex_lock(&q->lock);
  if (--q->writers[which] == 0)
    pthread_cond_broadcast(&q->nonempty[which]);
  pthread_mutex_unlock(&q->lock);
}

/* Runs the per-update work of the case (nothing for work_ns=0). */
static inline void do_work(const struct job *j) {
  SM_KEEP(sm_work_spin(j->work_iterations));
}

/* Puts *it into the job's queue `which`: the locked queue or the thread's
 * channel sender. Returns 0, -ENOMEM or -EPIPE. */
static int put_item(struct thread_slot *t, int which, const struct item *it) {
  struct job *j = t->job;
  return j->strategy == PIPE_LOCKED ? lq_push(&j->lq, which, it)
                                    : sm_send(t->out, it);
}

/* Takes the next item of queue `which`. Returns 0, or -EPIPE once every
 * writer is done and the queue is drained. */
static int take_item(struct job *j, int which, struct item *out) {
  return j->strategy == PIPE_LOCKED ? lq_pop(&j->lq, which, out)
                                    : sm_recv(j->rx[which], out);
}

/* Says this thread will put nothing more into queue `which` (a channel
 * sender is released when the thread exits). */
static void close_queue(struct thread_slot *t, int which) {
  if (t->job->strategy == PIPE_LOCKED)
    lq_close(&t->job->lq, which);
}

/* Accepts one received item: it must be the next of its producer, with
 * its value times `factor` (2 after the transform). Counts it into total
 * and sum; the first bad item is described in j->error. */
static void accept_item(struct job *j, const struct item *it, uint64_t factor) {
  uint64_t expected = factor * ((uint64_t)it->seq + 1);
  if (it->producer >= j->producers || it->seq != j->next_seq[it->producer] ||
      it->value != expected) {
    if (!j->error[0])
      snprintf(j->error, sizeof j->error,
               "item (producer %u, seq %u, value %llu) is out of order, "
               "repeated or altered (expected value %llu)",
               it->producer, it->seq, (unsigned long long)it->value,
               (unsigned long long)expected);
    return;
  }
  j->next_seq[it->producer]++;
  j->sum += it->value;
  j->total++;
}

/* Ends an updater's role; the last one to finish completes the job: it
 * merges the partial sums (MERGE) and takes the end time. */
static void finish_updater(struct thread_slot *t) {
  struct job *j = t->job;
  if (atomic_fetch_add_explicit(&j->finished, 1, memory_order_acq_rel) + 1 !=
      j->producers)
    return;
  if (j->strategy == MERGE)
    for (unsigned i = 0; i < j->producers; i++)
      j->total += j->slots[i].partial;
  j->end_ns = sm_now_ns();
}

/* Updater: M fetch_adds (seq_cst, as the lesson's counter) on the total. */
static void atomic_role(struct thread_slot *t) {
  struct job *j = t->job;
  for (uint64_t k = 0; k < j->per_thread; k++) {
    do_work(j);
    atomic_fetch_add_explicit(&j->atomic_total, 1, memory_order_seq_cst);
  }
  finish_updater(t);
}

/* Updater: M increments of the total under the futex mutex. */
static void mutex_role(struct thread_slot *t) {
  struct job *j = t->job;
  for (uint64_t k = 0; k < j->per_thread; k++) {
    do_work(j);
    sm_mutex_lock(&j->mutex_total.lock);
    j->mutex_total.value++;
    sm_mutex_unlock(&j->mutex_total.lock);
  }
  finish_updater(t);
}

/* Updater: M increments of the total under the rwlock's write lock. */
static void rwlock_role(struct thread_slot *t) {
  struct job *j = t->job;
  for (uint64_t k = 0; k < j->per_thread; k++) {
    do_work(j);
    sm_rwlock_write(&j->rwlock_total.lock);
    j->rwlock_total.value++;
    sm_rwlock_write_unlock(&j->rwlock_total.lock);
  }
  finish_updater(t);
}

/* Updater: M increments of a private sum (kept a real add per update),
 * published once for the merge. */
static void merge_role(struct thread_slot *t) {
  struct job *j = t->job;
  uint64_t sum = 0;
  for (uint64_t k = 0; k < j->per_thread; k++) {
    do_work(j);
    sum++;
    __asm__ __volatile__("" : "+r"(sum));
  }
  t->partial = sum;
  finish_updater(t);
}

/* Producer (channel aggregation and pipelines): M items into RAW, each
 * after its work. Stops at the first failed put and records it. */
static void produce_role(struct thread_slot *t) {
  struct job *j = t->job;
  for (uint64_t k = 0; k < j->per_thread && t->rc == 0; k++) {
    do_work(j);
    struct item it = {t->index, (uint32_t)k, k + 1};
    t->rc = put_item(t, RAW, &it);
  }
  close_queue(t, RAW);
}

/* Pipeline transform: every RAW item, after its work, doubled into DONE. */
static void transform_role(struct thread_slot *t) {
  struct job *j = t->job;
  struct item it;
  while (take_item(j, RAW, &it) == 0 && t->rc == 0) {
    do_work(j);
    it.value *= 2;
    t->rc = put_item(t, DONE, &it);
  }
  close_queue(t, DONE);
}

/* Aggregator (channel) or pipeline consumer: checks and counts every item
 * until its queue is disconnected and drained, then completes the job. */
static void consume_role(struct thread_slot *t) {
  struct job *j = t->job;
  int pipeline = j->strategy != CHANNEL;
  struct item it;
  while (take_item(j, pipeline ? DONE : RAW, &it) == 0) {
    if (pipeline)
      do_work(j);
    accept_item(j, &it, pipeline ? 2 : 1);
  }
  j->end_ns = sm_now_ns();
}

/* The whole pipeline in one thread: each item produced, transformed and
 * consumed in turn, with the same work per stage and the same check. */
static void single_pipeline_role(struct thread_slot *t) {
  struct job *j = t->job;
  for (uint64_t k = 0; k < j->per_thread; k++)
    for (unsigned p = 0; p < j->producers; p++) {
      do_work(j);
      struct item it = {p, (uint32_t)k, k + 1};
      do_work(j);
      it.value *= 2;
      do_work(j);
      accept_item(j, &it, 2);
    }
  j->end_ns = sm_now_ns();
}

/* Body of every job thread: waits at the gate, runs its role when the gate
 * says go (nothing on abort), measures its own CPU time and voluntary
 * switches, and releases the sender it owns. */
static void *job_thread(void *arg) {
  struct thread_slot *t = arg;
  struct job *j = t->job;
  atomic_fetch_add_explicit(&j->ready, 1, memory_order_release);
  unsigned gate;
  while ((gate = atomic_load_explicit(&j->gate, memory_order_acquire)) ==
         GATE_CLOSED)
    sched_yield();
  if (gate == GATE_GO) {
    uint64_t cpu0 = thread_cpu_ns();
    long vcsw0 = thread_vcsw();
    t->role(t);
    t->cpu_ns = thread_cpu_ns() - cpu0;
    t->vcsw = thread_vcsw() - vcsw0;
  }
  sm_sender_release(t->out);
  t->out = NULL;
  return NULL;
}

/* Returns the role of thread i of a job of strategy s with N producers. */
static role_fn role_of(enum strategy s, unsigned i, unsigned n) {
  static const role_fn updaters[] = {[ATOMIC] = atomic_role,
                                     [MUTEX] = mutex_role,
                                     [RWLOCK] = rwlock_role,
                                     [MERGE] = merge_role};
  switch (s) {
  case ATOMIC:
  case MUTEX:
  case RWLOCK:
  case MERGE:
    return updaters[s];
  case CHANNEL:
    return i < n ? produce_role : consume_role;
  case PIPE_CHANNEL:
  case PIPE_LOCKED:
    return i < n ? produce_role : i == n ? transform_role : consume_role;
  case PIPE_SINGLE:
    break;
  }
  return single_pipeline_role;
}

/* Returns the number of threads a job of strategy s with N producers
 * runs. */
static unsigned threads_of(enum strategy s, unsigned n) {
  switch (s) {
  case CHANNEL:
    return n + 1;
  case PIPE_CHANNEL:
  case PIPE_LOCKED:
    return n + 2;
  case PIPE_SINGLE:
    return 1;
  default:
    return n;
  }
}

/* Creates the channels of a channel strategy and hands each thread the
 * sender it owns: producers share RAW's, the transform owns DONE's.
 * Returns 0 or the channel's error. */
static int job_channels(struct job *j) {
  struct sm_sender *tx[2] = {NULL, NULL};
  int nchannels = j->strategy == PIPE_CHANNEL ? 2 : 1;
  for (int q = 0; q < nchannels; q++) {
    int rc = sm_channel(sizeof(struct item), SM_CHANNEL_UNBOUNDED, &tx[q],
                        &j->rx[q]);
    if (rc != 0) {
      sm_sender_release(tx[RAW]);
      return rc;
    }
  }
  for (unsigned i = 0; i < j->producers; i++)
    j->slots[i].out = i == 0 ? tx[RAW] : sm_sender_clone(tx[RAW]);
  j->slots[j->producers].out = tx[DONE];
  return 0;
}

/* Frees a job: releases senders no thread took over, receivers, queues. */
static void job_destroy(struct job *j) {
  if (!j)
    return;
  for (unsigned i = 0; j->slots && i < j->nthreads; i++)
    sm_sender_release(j->slots[i].out);
  sm_receiver_release(j->rx[RAW]);
  sm_receiver_release(j->rx[DONE]);
  lq_destroy(&j->lq);
  free(j->next_seq);
  free(j->slots);
  free(j->handles);
  free(j);
}

/* Creates a job of strategy s for n producers of m updates each. Returns 0
 * and sets *out, or -ENOMEM or the error of a channel or queue. */
static int job_create(enum strategy s, unsigned n, uint64_t m,
                      uint64_t work_iterations, struct job **out) {
  struct job *j = aligned_alloc(SM_CACHE_LINE, sizeof *j);
  if (!j)
    return -ENOMEM;
  memset(j, 0, sizeof *j);
  *j = (struct job){.strategy = s,
                    .producers = n,
                    .nthreads = threads_of(s, n),
                    .per_thread = m,
                    .work_iterations = work_iterations,
                    .mutex_total = {.lock = SM_MUTEX_INIT},
                    .rwlock_total = {.lock = SM_RWLOCK_INIT}};
  atomic_init(&j->ready, 0);
  atomic_init(&j->gate, GATE_CLOSED);
  atomic_init(&j->finished, 0);
  atomic_init(&j->atomic_total, 0);
  j->slots = aligned_alloc(SM_CACHE_LINE, sizeof *j->slots * j->nthreads);
  j->handles = calloc(j->nthreads, sizeof *j->handles);
  j->next_seq = calloc(n, sizeof *j->next_seq);
  int rc = j->slots && j->handles && j->next_seq ? 0 : -ENOMEM;
  for (unsigned i = 0; rc == 0 && i < j->nthreads; i++)
    j->slots[i] =
        (struct thread_slot){.job = j, .role = role_of(s, i, n), .index = i};
  if (rc == 0 && (s == CHANNEL || s == PIPE_CHANNEL))
    rc = job_channels(j);
  if (rc == 0 && s == PIPE_LOCKED)
    rc = lq_init(&j->lq, n);
  if (rc != 0) {
    job_destroy(j);
    return rc;
  }
  *out = j;
  return 0;
}

/* Spawns the job's threads pinned to the case's PUs, waits until all wait
 * at the gate, takes the start time and opens the gate; when a spawn
 * fails, opens it to abort (spawned threads exit without working). Returns
 * 0 or the spawn error, with the number of threads to join in *spawned. */
static int job_start(const struct sm_case *c, struct job *j,
                     unsigned *spawned) {
  int rc = 0;
  unsigned i;
  for (i = 0; i < j->nthreads && rc == 0; i++) {
    struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
    char name[SM_THREAD_NAME_MAX + 1];
    snprintf(name, sizeof name, "aggregate-%u", i % 10000u);
    o.name = name;
    o.pin_pu = c->os_pus[i];
    rc = sm_thread_spawn(&o, job_thread, &j->slots[i], &j->handles[i]);
  }
  *spawned = rc == 0 ? i : i - 1;
  while (atomic_load_explicit(&j->ready, memory_order_acquire) < *spawned)
    sched_yield();
  j->start_ns = sm_now_ns();
  atomic_store_explicit(&j->gate, rc == 0 ? GATE_GO : GATE_ABORT,
                        memory_order_release);
  return rc;
}

/* Returns the total the job's strategy produced. */
static uint64_t job_total(struct job *j) {
  switch (j->strategy) {
  case ATOMIC:
    return atomic_load_explicit(&j->atomic_total, memory_order_relaxed);
  case MUTEX:
    return j->mutex_total.value;
  case RWLOCK:
    return j->rwlock_total.value;
  default:
    return j->total;
  }
}

/* Self-check of a joined job: no put failed, every item arrived once and in
 * its producer's order (accept_item), the total is N * M and a pipeline's
 * checksum is N * M * (M + 1). Returns 0 or -EPROTO with msg. */
static int job_check(struct job *j, char *msg, size_t size) {
  for (unsigned i = 0; i < j->nthreads; i++)
    if (j->slots[i].rc != 0) {
      snprintf(msg, size, "thread %u could not pass an item on: %s", i,
               strerror(-j->slots[i].rc));
      return -EPROTO;
    }
  if (j->error[0]) {
    snprintf(msg, size, "%s", j->error);
    return -EPROTO;
  }
  uint64_t n = j->producers, m = j->per_thread, total = job_total(j);
  int pipeline = j->strategy >= PIPE_CHANNEL;
  if (total != n * m || (pipeline && j->sum != n * m * (m + 1)) ||
      j->end_ns <= j->start_ns) {
    snprintf(msg, size,
             "total is %llu (expected %llu), checksum %llu (expected %llu), "
             "end %llu ns after the start",
             (unsigned long long)total, (unsigned long long)n * m,
             (unsigned long long)j->sum,
             (unsigned long long)(pipeline ? n * m * (m + 1) : 0),
             (unsigned long long)(j->end_ns - j->start_ns));
    return -EPROTO;
  }
  return 0;
}

/* Runs one job of m updates per producer for case c and checks it.
 * Returns 0 and fills *r, or a negative errno with a sentence in msg. */
static int run_job(const struct sm_case *c, enum strategy s, uint64_t m,
                   uint64_t work_iterations, struct job_result *r, char *msg,
                   size_t size) {
  struct job *j;
  int rc = job_create(s, c->threads, m, work_iterations, &j);
  if (rc != 0) {
    snprintf(msg, size, "cannot set up a job of %u x %llu updates: %s",
             c->threads, (unsigned long long)m, strerror(-rc));
    return rc;
  }
  unsigned spawned;
  rc = job_start(c, j, &spawned);
  for (unsigned i = 0; i < spawned; i++)
    sm_join(j->handles[i], NULL);
  if (rc != 0)
    snprintf(msg, size, "cannot start thread %u of %u: %s", spawned,
             j->nthreads, strerror(-rc));
  else
    rc = job_check(j, msg, size);
  if (rc == 0) {
    *r = (struct job_result){.elapsed_ns = j->end_ns - j->start_ns};
    for (unsigned i = 0; i < j->nthreads; i++) {
      r->cpu_ns += j->slots[i].cpu_ns;
      r->vcsw += j->slots[i].vcsw;
    }
  }
  job_destroy(j);
  return rc;
}

/* Returns the sm_work_spin steps for `work_ns`, calibrating each distinct
 * length once per process (on the runner thread, outside any job). */
static uint64_t work_iterations_for(long work_ns) {
  static long cached_ns[8];
  static uint64_t cached_iterations[8];
  static size_t ncached;
  for (size_t i = 0; i < ncached; i++)
    if (cached_ns[i] == work_ns)
      return cached_iterations[i];
  uint64_t iterations = sm_work_calibrate((uint64_t)work_ns);
  if (ncached < 8) {
    cached_ns[ncached] = work_ns;
    cached_iterations[ncached++] = iterations;
  }
  return iterations;
}

/* Returns the updates per producer that fill `target_ns` at the rate of a
 * job of m per producer that took elapsed_ns, growing at most
 * MAX_GROWTH-fold, within [MIN_UPDATES, cap]. */
static uint64_t scale_job(uint64_t m, uint64_t elapsed_ns, uint64_t target_ns,
                          uint64_t cap) {
  double want = (double)target_ns / (double)elapsed_ns * (double)m;
  if (want > (double)m * MAX_GROWTH)
    want = (double)m * MAX_GROWTH;
  return want < MIN_UPDATES ? MIN_UPDATES : want > cap ? cap : (uint64_t)want;
}

/* Sizes the first measured job: pilot jobs, growing 4x while the next one
 * still fits in the warmup, give the time per update, scaled to
 * duration_ns. Returns 0 and sets *m, or the error of a pilot job. */
static int size_job(const struct sm_measure_config *cfg,
                    const struct sm_case *c, enum strategy s,
                    uint64_t work_iterations, uint64_t *m, char *msg,
                    size_t size) {
  uint64_t cap = MAX_JOB_UPDATES / c->threads;
  uint64_t pilot = PILOT_UPDATES < cap ? PILOT_UPDATES : cap;
  uint64_t deadline = sm_now_ns() + cfg->warmup_ns;
  struct job_result r;
  for (;;) {
    int rc = run_job(c, s, pilot, work_iterations, &r, msg, size);
    if (rc != 0)
      return rc;
    if (pilot >= cap || sm_now_ns() + 4 * r.elapsed_ns > deadline)
      break;
    pilot = pilot * 4 < cap ? pilot * 4 : cap;
  }
  *m = scale_job(pilot, r.elapsed_ns, cfg->duration_ns, cap);
  return 0;
}

/* Runs the measured job; one that ended before half the duration (the
 * pilot met a stall, or the machine sped up) is rescaled and run again, at
 * most MAX_RESIZES times, unless it already holds the most updates a job
 * may. Returns 0 with the last job in *r and its size in *m, or a job's
 * error. */
static int run_sized_job(const struct sm_measure_config *cfg,
                         const struct sm_case *c, enum strategy s,
                         uint64_t work_iterations, uint64_t *m,
                         struct job_result *r, char *msg, size_t size) {
  uint64_t cap = MAX_JOB_UPDATES / c->threads;
  for (unsigned tries = 0;; tries++) {
    int rc = run_job(c, s, *m, work_iterations, r, msg, size);
    if (rc != 0 || *m >= cap || tries == MAX_RESIZES ||
        2 * r->elapsed_ns >= cfg->duration_ns)
      return rc;
    *m = scale_job(*m, r->elapsed_ns, cfg->duration_ns, cap);
  }
}

/* Returns the strategy of a case's variant (its index in variants[]). */
static enum strategy strategy_of(const struct sm_case *c);

/* Measures one repetition: sizes the job, runs it (rescaled when it was
 * too short) and reports its rate, time, CPU time and voluntary switches
 * per update, and its size. */
static int aggregate_measure(const struct sm_measure_config *cfg,
                             const struct sm_case *c, struct sm_sink *sink,
                             char *msg, size_t size) {
  enum strategy s = strategy_of(c);
  uint64_t work_iterations = work_iterations_for(c->param[AXIS_WORK_NS]);
  uint64_t m;
  struct job_result r;
  int rc = size_job(cfg, c, s, work_iterations, &m, msg, size);
  if (rc == 0)
    rc = run_sized_job(cfg, c, s, work_iterations, &m, &r, msg, size);
  if (rc != 0)
    return rc;
  double updates = (double)m * c->threads;
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"updates_per_s", "updates/s", updates * 1e9 / (double)r.elapsed_ns},
      {"ns_per_update", "ns", (double)r.elapsed_ns / updates},
      {"cpu_ns_per_update", "ns", (double)r.cpu_ns / updates},
      {"vcsw_per_update", "switches/update", (double)r.vcsw / updates},
      {"job_updates", "updates", updates},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && rc == 0; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

static const struct sm_variant variants[] = {
    [ATOMIC] =
        SM_VARIANT("atomic", "fetch_add (seq_cst) on one shared total", NULL),
    [MUTEX] = SM_VARIANT(
        "mutex", "total behind the futex mutex (Rust std's algorithm)", NULL),
    [RWLOCK] = SM_VARIANT(
        "rwlock", "total behind the futex rwlock's write lock (Rust std's)",
        NULL),
    [CHANNEL] = SM_VARIANT("channel",
                           "one message per update to an aggregating thread "
                           "(unbounded channel)",
                           NULL),
    [MERGE] =
        SM_VARIANT("merge", "per-thread partial sums, merged at the end", NULL),
    [PIPE_CHANNEL] =
        SM_VARIANT("pipeline_channel",
                   "N producers -> transform -> consumer over unbounded "
                   "channels (the lesson's pipeline)",
                   NULL),
    [PIPE_LOCKED] =
        SM_VARIANT("pipeline_locked",
                   "the same stages through one shared queue pair behind "
                   "a pthread mutex + condvars",
                   NULL),
    [PIPE_SINGLE] =
        SM_VARIANT("pipeline_single",
                   "the same items produced, transformed, consumed by one "
                   "thread",
                   NULL),
};

static enum strategy strategy_of(const struct sm_case *c) {
  return (enum strategy)(c->variant - variants);
}

static const long work_values[] = {0, 1000};

static const struct sm_axis axes[] = {
    [AXIS_WORK_NS] = {"work_ns", work_values, 2, work_values, 2, 0, 1000000},
};

const struct sm_family sm_family_aggregate = {
    .name = "aggregate",
    .summary = "N threads x M updates to one total: atomic, mutex, rwlock, "
               "channel, merge; and a 3-stage pipeline",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = aggregate_measure,
    .extra_threads = 2,
    .headline_metric = "updates_per_s",
};
