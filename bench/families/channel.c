/* channel.c: the `channel` family: messages per second and per-message
 * latency of P producers into one consumer, over capacity and message size,
 * for syncmark's channel, Rust's std::sync::mpsc, a pipe, a mutex+condvar
 * queue and Concurrency Kit's ck_ring (one producer). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/channel.h"
#include "syncmark/lockops.h"
#include "syncmark/thread.h"

#if defined(SYNCMARK_HAVE_CK)
#include <ck_ring.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

/* Axis indexes into sm_case.param, and the capacity value of "unbounded". */
enum { AXIS_CAPACITY, AXIS_MSG_BYTES, AXIS_BATCH_MSGS };
#define CAPACITY_UNBOUNDED (-1L)

/* The in-process message: word 0 is producer id (ID_BITS) << SEQ_BITS |
 * sequence number modulo 2^SEQ_BITS; a message the producer's sampling
 * chose (sm_sample_due) carries in its top 32 bits the low 32 bits of its
 * send time (sm_sample_clock) with the lowest bit set, so that a stamp is
 * never 0 and a latency is the difference modulo 2^32 (right below 4.29 s,
 * 1 ns coarse). The last 8 bytes of a message of 16 bytes or more hold
 * ~word 0; the bytes in between a fixed pattern (checked on stamped
 * messages). */
enum { SEQ_BITS = 22, ID_BITS = 10 };
#define SEQ_MASK      ((UINT64_C(1) << SEQ_BITS) - 1)
#define MAX_PRODUCERS ((1u << ID_BITS) - 1)
enum {
  PIPE_READ = 1 << 16, /* bytes the pipe consumer asks read() for */
  SPINS_BEFORE_YIELD = 128
};
/* Bytes that may be queued at once: beyond them the producers of an
 * unbounded channel stop sending (the `capped` metric says so). */
#define MAX_IN_FLIGHT_BYTES ((uint64_t)256 << 20)
/* Bytes a fixed batch may queue at once (its messages are fewer when they
 * are large), and the epoch that tells batch producers the run is over. */
#define BATCH_MAX_BYTES ((uint64_t)32 << 20)
#define BATCH_STOP      UINT_MAX
/* Longest rendezvous batch: one hand-off per message takes 1-60 us on a
 * VM, so a larger batch would outlast a repetition's budget. */
#define RENDEZVOUS_MAX_BATCH 1024
/* How long a capped producer sleeps per pass until the window stops. */
static const struct timespec capped_park = {.tv_nsec = 1000000};

/* The implementations; the order of the variants table. */
enum kind { KIND_SYNCMARK, KIND_RUST, KIND_PIPE, KIND_MUTEX, KIND_CK };

/* The lesson's Mutex<VecDeque> + Condvar queue: a ring of copies behind one
 * mutex (lockops' pthread mutex, which the condition variables wait on),
 * grown (doubled) when unbounded. Capacity 0 is a rendezvous: a sender
 * waits until its message has been taken. */
struct mqueue {
  struct sm_lockops_mutex lock;
  pthread_cond_t not_empty, not_full;
  unsigned char *ring;
  size_t slots, head, count, limit; /* limit: SIZE_MAX when unbounded */
  uint64_t pushed, taken;
  unsigned senders;
  bool rendezvous;
};

#if defined(SYNCMARK_HAVE_CK)
/* ck_ring (single producer, single consumer) of message copies; the ring
 * holds a power of two minus one, the producer keeps it to `capacity`. */
struct ckq {
  struct ck_ring ring;
  void *buffer;
  unsigned capacity;
  atomic_bool done; /* the producer has sent its last message */
};
#endif

/* One producer's slot: its message buffer, its sender and what it
 * published after its loop. */
struct producer {
  SM_CACHE_ALIGNED unsigned char *msg; /* pattern filled */
  struct sm_sender *tx; /* its clone (syncmark); NULL once released */
  int wfd;              /* its write end (pipe); -1 once closed */
  uint64_t sent;        /* messages sent */
  int error;            /* the first failed send, negative errno */
};

/* The consumer's slot and what it saw. */
struct consumer {
  SM_CACHE_ALIGNED unsigned char *msg;
  unsigned char *pipe_buf; /* PIPE_READ + msg_bytes bytes (pipe only) */
  size_t pipe_have, pipe_off;
  uint64_t *next; /* messages received per producer */
  uint64_t received;
  uint64_t next_sample; /* first pass that may offer the next latency */
  int error;            /* negative errno of a failed receive or check */
  char why[192];
};

/* The shared state of one window. */
struct chan_state {
  SM_CACHE_ALIGNED atomic_bool capped; /* a producer saw the in-flight cap */
  enum kind kind;
  unsigned producers;
  size_t msg_bytes;
  long capacity;
  uint64_t max_in_flight; /* messages (unbounded capacities only) */
  struct sm_receiver *rx;
  struct sm_rust_chan *rust; /* Rust's mpsc channel */
  int rfd;                   /* the pipe's read end */
  /* Write ends handed to producers (the consumer's count) and those they
   * closed: end of file comes through the kernel, which orders nothing
   * for the memory model, so the next batch's pipe_open waits for the
   * closes here before it reuses the producers' slots. */
  uint64_t pipe_ends_handed;
  atomic_uint_fast64_t pipe_ends_closed;
  struct mqueue mq;
#if defined(SYNCMARK_HAVE_CK)
  struct ckq ck;
#endif
  struct producer *prod; /* producers entries */
  struct consumer cons;
  /* The fixed-batch protocol (0: the sustained window): messages per
   * batch, and the batch the consumer opened last (BATCH_STOP: none
   * will follow). */
  uint64_t batch;
  SM_CACHE_ALIGNED atomic_uint epoch;
};

/* Returns the 8 bytes at p. */
static inline uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Stores v in the 8 bytes at p. */
static inline void put64(unsigned char *p, uint64_t v) {
  memcpy(p, &v, sizeof v);
}

/* The pattern byte at offset i of every message. */
static inline unsigned char pattern_byte(size_t i) {
  return (unsigned char)(i * 131u + 7u);
}

/* Last byte (exclusive) of a message's pattern: the trailer's offset, or
 * the end when the message has no trailer. */
static inline size_t pattern_end(size_t bytes) {
  return bytes >= 16 ? bytes - 8 : bytes;
}

/* Fills the pattern of a message buffer. Never fails. */
static void fill_pattern(unsigned char *m, size_t bytes) {
  for (size_t i = 8; i < pattern_end(bytes); i++)
    m[i] = pattern_byte(i);
}

/* Returns true when the pattern of message m is intact. */
static bool pattern_ok(const unsigned char *m, size_t bytes) {
  for (size_t i = 8; i < pattern_end(bytes); i++)
    if (m[i] != pattern_byte(i))
      return false;
  return true;
}

/* ---- the mutex+condvar queue ---- */

/* Creates the queue for `capacity` (CAPACITY_UNBOUNDED, 0 rendezvous, or a
 * bound) and `senders` producers. Returns 0 or -ENOMEM. */
static int mq_init(struct mqueue *q, long capacity, size_t bytes,
                   unsigned senders) {
  q->limit = capacity == CAPACITY_UNBOUNDED ? SIZE_MAX
             : capacity == 0                ? 1
                                            : (size_t)capacity;
  q->rendezvous = capacity == 0;
  q->slots = q->limit == SIZE_MAX ? 1024 : q->limit;
  q->senders = senders;
  q->ring = malloc(q->slots * bytes);
  if (!q->ring)
    return -ENOMEM;
  sm_lockops_mutex_init(&q->lock);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->not_full, NULL);
  return 0;
}

/* Frees the queue (nothing when it was never created). */
static void mq_destroy(struct mqueue *q) {
  if (!q->ring)
    return;
  sm_lockops_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->not_empty);
  pthread_cond_destroy(&q->not_full);
  free(q->ring);
  q->ring = NULL;
}

/* Doubles a full ring of an unbounded queue, unwrapping it. Called with
 * the lock held. Returns 0 or -ENOMEM (the queue is then unchanged). */
static int mq_grow(struct mqueue *q, size_t bytes) {
  unsigned char *ring = malloc(2 * q->slots * bytes);
  if (!ring)
    return -ENOMEM;
  size_t first = q->slots - q->head;
  memcpy(ring, q->ring + q->head * bytes, first * bytes);
  memcpy(ring + first * bytes, q->ring, q->head * bytes);
  free(q->ring);
  q->ring = ring;
  q->head = 0;
  q->slots *= 2;
  return 0;
}

/* Sends a copy of msg: waits while the queue is full and, for a
 * rendezvous, until the message is taken. Returns 0 or -ENOMEM. */
static int mq_send(struct mqueue *q, const unsigned char *msg, size_t bytes) {
  sm_lockops_mutex_lock(&q->lock);
  while (q->count >= q->limit)
    pthread_cond_wait(&q->not_full, &q->lock.m);
  int rc = q->count == q->slots ? mq_grow(q, bytes) : 0;
  if (rc == 0) {
    size_t tail = (q->head + q->count) % q->slots;
    memcpy(q->ring + tail * bytes, msg, bytes);
    q->count++;
    uint64_t ticket = q->pushed++;
    pthread_cond_signal(&q->not_empty);
    while (q->rendezvous && q->taken <= ticket)
      pthread_cond_wait(&q->not_full, &q->lock.m);
  }
  sm_lockops_mutex_unlock(&q->lock);
  return rc;
}

/* Receives the oldest message into out, waiting while the queue is empty
 * and senders remain. Returns 1, or 0 when every sender is done and the
 * queue is drained. */
static int mq_recv(struct mqueue *q, unsigned char *out, size_t bytes) {
  sm_lockops_mutex_lock(&q->lock);
  while (q->count == 0 && q->senders > 0)
    pthread_cond_wait(&q->not_empty, &q->lock.m);
  int got = q->count > 0;
  if (got) {
    memcpy(out, q->ring + q->head * bytes, bytes);
    q->head = (q->head + 1) % q->slots;
    q->count--;
    q->taken++;
    if (q->rendezvous) /* room and "taken" share one condition */
      pthread_cond_broadcast(&q->not_full);
    else
      pthread_cond_signal(&q->not_full);
  }
  sm_lockops_mutex_unlock(&q->lock);
  return got;
}

/* Messages queued now. */
static size_t mq_len(struct mqueue *q) {
  sm_lockops_mutex_lock(&q->lock);
  size_t n = q->count;
  sm_lockops_mutex_unlock(&q->lock);
  return n;
}

/* One sender is done; the last wakes the receiver. */
static void mq_sender_done(struct mqueue *q) {
  sm_lockops_mutex_lock(&q->lock);
  q->senders--;
  pthread_cond_broadcast(&q->not_empty);
  sm_lockops_mutex_unlock(&q->lock);
}

/* ---- the pipe ---- */

/* Writes one message (at most PIPE_BUF bytes, so writes of several
 * producers never interleave). Returns 0 or a negative errno. */
static int pipe_write_msg(int fd, const unsigned char *msg, size_t bytes) {
  for (;;) {
    ssize_t n = write(fd, msg, bytes);
    if (n == (ssize_t)bytes)
      return 0;
    if (n >= 0)
      return -EIO; /* a short write would tear the stream */
    if (errno != EINTR)
      return -errno;
  }
}

/* Returns the next message of the pipe into out, reading a large batch
 * when the buffer runs dry. Returns 1, 0 at end of file between messages
 * (every producer closed its write end), -EPROTO at end of file inside a
 * message, or a negative errno. */
static int pipe_read_msg(struct consumer *cs, int fd, unsigned char *out,
                         size_t bytes) {
  while (cs->pipe_have - cs->pipe_off < bytes) {
    size_t left = cs->pipe_have - cs->pipe_off;
    memmove(cs->pipe_buf, cs->pipe_buf + cs->pipe_off, left);
    cs->pipe_have = left;
    cs->pipe_off = 0;
    ssize_t n = read(fd, cs->pipe_buf + left, PIPE_READ);
    if (n == 0)
      return left ? -EPROTO : 0;
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n > 0)
      cs->pipe_have += (size_t)n;
  }
  memcpy(out, cs->pipe_buf + cs->pipe_off, bytes);
  cs->pipe_off += bytes;
  return 1;
}

/* ---- ck_ring ---- */

#if defined(SYNCMARK_HAVE_CK)
/* Spins a little, then yields: the wait of the ck_ring ends. `spins`
 * counts the caller's failed attempts. */
static inline void backoff(unsigned *spins) {
  if (++*spins < SPINS_BEFORE_YIELD)
    sm_cpu_relax();
  else
    sched_yield();
}

/* Sends a copy of msg, spinning (then yielding) while `capacity` messages
 * are queued. Never fails. */
static inline int ck_push(struct ckq *q, const unsigned char *msg,
                          size_t bytes) {
  unsigned spins = 0;
  while (ck_ring_size(&q->ring) >= q->capacity ||
         !_ck_ring_enqueue_sp(&q->ring, q->buffer, msg, (unsigned)bytes, NULL))
    backoff(&spins);
  return 0;
}

/* Receives into out, spinning (then yielding) while empty. Returns 1, or
 * 0 when the producer is done and the ring drained. */
static inline int ck_pop(struct ckq *q, unsigned char *out, size_t bytes) {
  unsigned spins = 0;
  for (;;) {
    if (_ck_ring_dequeue_sc(&q->ring, q->buffer, out, (unsigned)bytes))
      return 1;
    if (atomic_load_explicit(&q->done, memory_order_acquire))
      return _ck_ring_dequeue_sc(&q->ring, q->buffer, out, (unsigned)bytes);
    backoff(&spins);
  }
}
#endif

/* ---- the adapter: per kind K, K_send (0 or a negative errno), K_recv (1,
 * 0 when every producer is done and the queue drained, or a negative
 * errno), K_len (messages queued; used on unbounded capacities only) and
 * K_done (producer p sent its last message). The workers below call them
 * directly. ---- */

static inline int syncmark_send(struct chan_state *s SM_UNUSED,
                                struct producer *p) {
  return sm_send(p->tx, p->msg);
}
static inline int syncmark_recv(struct chan_state *s) {
  int rc = sm_recv(s->rx, s->cons.msg);
  return rc == 0 ? 1 : rc == -EPIPE ? 0 : rc;
}
static inline size_t syncmark_len(struct chan_state *s) {
  return sm_receiver_len(s->rx);
}
/* (The slot is cleared before the release: once the last sender is gone
 * the consumer may open a batch's queue into the same slot.) */
static inline void syncmark_done(struct chan_state *s SM_UNUSED,
                                 struct producer *p) {
  struct sm_sender *tx = p->tx;
  p->tx = NULL;
  sm_sender_release(tx);
}

static inline int pipe_send(struct chan_state *s, struct producer *p) {
  return pipe_write_msg(p->wfd, p->msg, s->msg_bytes);
}
static inline int pipe_recv(struct chan_state *s) {
  return pipe_read_msg(&s->cons, s->rfd, s->cons.msg, s->msg_bytes);
}
static inline size_t pipe_len(struct chan_state *s) {
  (void)s; /* never unbounded */
  return 0;
}
static inline void pipe_done(struct chan_state *s, struct producer *p) {
  int fd = p->wfd; /* cleared first, as in syncmark_done */
  p->wfd = -1;
  close(fd); /* the last one closed gives the consumer end of file */
  atomic_fetch_add_explicit(&s->pipe_ends_closed, 1, memory_order_release);
}

static inline int mutex_send(struct chan_state *s, struct producer *p) {
  return mq_send(&s->mq, p->msg, s->msg_bytes);
}
static inline int mutex_recv(struct chan_state *s) {
  return mq_recv(&s->mq, s->cons.msg, s->msg_bytes);
}
static inline size_t mutex_len(struct chan_state *s) {
  return mq_len(&s->mq);
}
static inline void mutex_done(struct chan_state *s,
                              struct producer *p SM_UNUSED) {
  mq_sender_done(&s->mq);
}

static inline int rust_send(struct chan_state *s, struct producer *p) {
  return sm_rust_chan_send(s->rust, (size_t)(p - s->prod), p->msg);
}
static inline int rust_recv(struct chan_state *s) {
  return sm_rust_chan_recv(s->rust, s->cons.msg);
}
static inline size_t rust_len(struct chan_state *s) {
  return (size_t)sm_rust_chan_len(s->rust);
}
static inline void rust_done(struct chan_state *s, const struct producer *p) {
  sm_rust_chan_sender_done(s->rust, (size_t)(p - s->prod));
}

#if defined(SYNCMARK_HAVE_CK)
static inline int ck_send(struct chan_state *s, struct producer *p) {
  return ck_push(&s->ck, p->msg, s->msg_bytes);
}
static inline int ck_recv(struct chan_state *s) {
  return ck_pop(&s->ck, s->cons.msg, s->msg_bytes);
}
static inline size_t ck_len(struct chan_state *s) {
  (void)s; /* never unbounded */
  return 0;
}
static inline void ck_done(struct chan_state *s, struct producer *p SM_UNUSED) {
  atomic_store_explicit(&s->ck.done, true, memory_order_release);
}
#endif

/* ---- the workers ---- */

/* Writes header w0 into producer p's message and, when the message has one
 * (trailer: its offset, 0 for none), its complement into the trailer. */
static inline void label(struct producer *p, uint64_t w0, size_t trailer) {
  put64(p->msg, w0);
  if (trailer)
    put64(p->msg + trailer, ~w0);
}

/* Notes the first bad message the consumer saw. */
static void note_bad(struct chan_state *s, uint64_t w0, unsigned id,
                     const char *what) {
  struct consumer *cs = &s->cons;
  if (cs->error)
    return;
  cs->error = -EPROTO;
  snprintf(cs->why, sizeof cs->why,
           "message %llu: %s (header %#llx: producer %u, expected sequence "
           "%llu)",
           (unsigned long long)cs->received, what, (unsigned long long)w0, id,
           id < s->producers ? (unsigned long long)cs->next[id] : 0ull);
}

/* A stamped message, received on the consumer's pass `count`: checks its
 * pattern and offers its latency (the runner keeps it inside the MEASURE
 * phase) unless the consumer offered one fewer than its own sampling
 * interval ago: the producers space their stamps by their own pace, and
 * P producers' stamps must not cost the consumer more than its budget. */
static __attribute__((noinline)) void stamped(struct sm_worker *w,
                                              struct chan_state *s, uint64_t w0,
                                              uint64_t count) {
  if (count >= s->cons.next_sample) {
    uint32_t now = (uint32_t)sm_sample_clock();
    sm_worker_sample(w, (double)(uint32_t)(now - (uint32_t)(w0 >> 32)));
    s->cons.next_sample = count + w->sample_mask + 1;
  }
  if (!pattern_ok(s->cons.msg, s->msg_bytes))
    note_bad(s, w0, (unsigned)(w0 >> SEQ_BITS) & MAX_PRODUCERS,
             "payload pattern corrupted");
}

/* Checks one message received on pass `count`: its producer's next
 * sequence number and its trailer; stamped ones go on to stamped(). */
static inline void take(struct sm_worker *w, struct chan_state *s,
                        uint64_t count) {
  struct consumer *cs = &s->cons;
  uint64_t w0 = get64(cs->msg);
  unsigned id = (unsigned)(w0 >> SEQ_BITS) & MAX_PRODUCERS;
  cs->received++;
  if (id >= s->producers || (w0 & SEQ_MASK) != (cs->next[id] & SEQ_MASK)) {
    note_bad(s, w0, id, "out of order, lost or duplicated");
    return;
  }
  if (s->msg_bytes >= 16 && get64(cs->msg + s->msg_bytes - 8) != ~w0) {
    note_bad(s, w0, id, "trailer does not match the header");
    return;
  }
  cs->next[id]++;
  if (w0 >> 32)
    stamped(w, s, w0, count);
}

/* Records a failed receive of the consumer (the first only). */
static void recv_failed(struct chan_state *s, int rc) {
  struct consumer *cs = &s->cons;
  if (cs->error)
    return;
  cs->error = rc;
  snprintf(cs->why, sizeof cs->why, "receive failed after %llu messages: %s",
           (unsigned long long)cs->received, strerror(-rc));
}

/* Defines K_producer and K_consumer over the adapter of kind K.
 *
 * A producer pass sends one numbered message; a pass sm_sample_due chose
 * stamps it and, on an unbounded capacity, looks at the queue: beyond the
 * in-flight cap every producer stops sending and parks through its
 * remaining passes. After its loop the producer drops its side (K_done):
 * the last one disconnects the consumer.
 *
 * A consumer pass receives one message (the case's operation: the
 * consumer is the counting role); at STOP it leaves its loop and drains
 * what is queued, without which a producer blocked on a full queue would
 * never see STOP, until every producer has dropped its side.
 *
 * A case of the fixed-batch protocol runs K_batch_producer and
 * K_batch_consumer instead (chosen once, before the loop). */
#define CHANNEL_WORKERS(K)                                                     \
  static void K##_producer(struct sm_worker *w) {                              \
    struct chan_state *s = w->state;                                           \
    if (s->batch) {                                                            \
      K##_batch_producer(w);                                                   \
      return;                                                                  \
    }                                                                          \
    struct producer *p = &s->prod[w->role_index];                              \
    uint64_t id = (uint64_t)w->role_index << SEQ_BITS, count = 0, seq = 0;     \
    size_t trailer = s->msg_bytes >= 16 ? s->msg_bytes - 8 : 0;                \
    bool unbounded = s->capacity < 0, capped = false;                          \
    int error = 0;                                                             \
    SM_MEASURED_LOOP(w, count) {                                               \
      uint64_t w0 = id | (seq & SEQ_MASK);                                     \
      if (sm_sample_due(w, count)) {                                           \
        w0 |= (uint64_t)((uint32_t)sm_sample_clock() | 1u) << 32;              \
        if (unbounded && !capped && K##_len(s) > s->max_in_flight) {           \
          capped = true;                                                       \
          atomic_store_explicit(&s->capped, true, memory_order_relaxed);       \
        }                                                                      \
        capped =                                                               \
            capped || atomic_load_explicit(&s->capped, memory_order_relaxed);  \
      }                                                                        \
      if (capped) {                                                            \
        nanosleep(&capped_park, NULL);                                         \
      } else {                                                                 \
        label(p, w0, trailer);                                                 \
        int rc = K##_send(s, p);                                               \
        seq += rc == 0;                                                        \
        error = error ? error : rc;                                            \
      }                                                                        \
    }                                                                          \
    p->sent = seq;                                                             \
    p->error = error;                                                          \
    K##_done(s, p);                                                            \
  }                                                                            \
  static void K##_consumer(struct sm_worker *w) {                              \
    struct chan_state *s = w->state;                                           \
    if (s->batch) {                                                            \
      K##_batch_consumer(w);                                                   \
      return;                                                                  \
    }                                                                          \
    uint64_t count = 0;                                                        \
    int rc;                                                                    \
    SM_MEASURED_LOOP(w, count) {                                               \
      rc = K##_recv(s);                                                        \
      if (rc == 1)                                                             \
        take(w, s, count);                                                     \
      else if (rc < 0)                                                         \
        recv_failed(s, rc);                                                    \
    }                                                                          \
    while ((rc = K##_recv(s)) == 1)                                            \
      take(w, s, count);                                                       \
    if (rc < 0)                                                                \
      recv_failed(s, rc);                                                      \
  }

static int queue_open(struct chan_state *s);
static void queue_close(struct chan_state *s, bool producers_done);

/* A batch producer waits for an epoch other than `seen` (the consumer's
 * next batch, or BATCH_STOP), spinning, then yielding: a futex wake-up
 * would put a cross-PU wake (tens of us on a VM) into every batch's time.
 * Returns the epoch. */
static unsigned next_epoch(struct chan_state *s, unsigned seen) {
  unsigned e, spins = 0;
  while ((e = atomic_load_explicit(&s->epoch, memory_order_acquire)) == seen)
    if (++spins < SPINS_BEFORE_YIELD)
      sm_cpu_relax();
    else
      sched_yield();
  return e;
}

/* Producer `index`'s share of a batch: an even split, the first producers
 * taking one more of the remainder. */
static uint64_t batch_share(const struct chan_state *s, unsigned index) {
  return s->batch / s->producers + (index < s->batch % s->producers);
}

/* Opens the queue of the next batch and hands it to the producers. Returns
 * 0 or the error of queue_open (the producers are not told). */
static int batch_open(struct chan_state *s) {
  int rc = queue_open(s);
  if (rc == 0)
    atomic_fetch_add_explicit(&s->epoch, 1, memory_order_release);
  return rc;
}

/* After a batch drained: checks that it held s->batch messages (the
 * first shortfall is the consumer's error) and closes its queue. */
static void batch_close(struct chan_state *s, uint64_t got) {
  struct consumer *cs = &s->cons;
  if (got != s->batch && !cs->error) {
    cs->error = -EPROTO;
    snprintf(cs->why, sizeof cs->why, "a batch of %llu messages delivered %llu",
             (unsigned long long)s->batch, (unsigned long long)got);
  }
  queue_close(s, true);
}

/* Releases the batch producers after the consumer's last batch. */
static void batch_stop(struct chan_state *s) {
  atomic_store_explicit(&s->epoch, BATCH_STOP, memory_order_release);
}

/* Defines K_batch_producer and K_batch_consumer, the fixed-batch protocol
 * (send N, drain until disconnected) over the adapter of kind K.
 *
 * A consumer pass (the counting role, s->batch operations, manual time)
 * opens a fresh queue, starts its clock, hands the queue to the producers
 * (a new epoch), receives until every producer has dropped its side and
 * the queue is drained, stops its clock and closes the queue. A producer
 * pass waits for a new epoch, sends its share of the batch, numbered as in
 * the window protocol (not stamped: a batch measures throughput only), and
 * drops its side. */
#define CHANNEL_BATCH_WORKERS(K)                                               \
  static void K##_batch_producer(struct sm_worker *w) {                        \
    struct chan_state *s = w->state;                                           \
    struct producer *p = &s->prod[w->role_index];                              \
    uint64_t id = (uint64_t)w->role_index << SEQ_BITS, count = 0, seq = 0;     \
    uint64_t share = batch_share(s, w->role_index);                            \
    size_t trailer = s->msg_bytes >= 16 ? s->msg_bytes - 8 : 0;                \
    unsigned seen = 0;                                                         \
    int error = 0;                                                             \
    SM_MEASURED_LOOP(w, count) {                                               \
      seen = next_epoch(s, seen);                                              \
      if (seen == BATCH_STOP)                                                  \
        continue; /* the loop ends at the STOP the consumer saw */             \
      for (uint64_t i = 0; i < share; i++) {                                   \
        label(p, id | (seq & SEQ_MASK), trailer);                              \
        int rc = K##_send(s, p);                                               \
        seq += rc == 0;                                                        \
        error = error ? error : rc;                                            \
      }                                                                        \
      K##_done(s, p);                                                          \
    }                                                                          \
    p->sent = seq;                                                             \
    p->error = error;                                                          \
  }                                                                            \
  static void K##_batch_consumer(struct sm_worker *w) {                        \
    struct chan_state *s = w->state;                                           \
    uint64_t passes = 0;                                                       \
    w->ops_per_pass = s->batch;                                                \
    SM_MEASURED_LOOP(w, passes) {                                              \
      if (s->cons.error)                                                       \
        continue; /* the check reports it */                                   \
      uint64_t t = sm_manual_start(w), before = s->cons.received;              \
      int rc = batch_open(s);                                                  \
      if (rc == 0)                                                             \
        while ((rc = K##_recv(s)) == 1)                                        \
          take(w, s, passes);                                                  \
      uint64_t got = s->cons.received - before;                                \
      sm_manual_stop(w, t, got);                                               \
      if (rc < 0)                                                              \
        recv_failed(s, rc);                                                    \
      batch_close(s, got);                                                     \
    }                                                                          \
    batch_stop(s);                                                             \
  }
CHANNEL_BATCH_WORKERS(syncmark)
CHANNEL_BATCH_WORKERS(rust)
CHANNEL_BATCH_WORKERS(pipe)
CHANNEL_BATCH_WORKERS(mutex)
#if defined(SYNCMARK_HAVE_CK)
CHANNEL_BATCH_WORKERS(ck)
#endif
#undef CHANNEL_BATCH_WORKERS
CHANNEL_WORKERS(syncmark)
CHANNEL_WORKERS(rust)
CHANNEL_WORKERS(pipe)
CHANNEL_WORKERS(mutex)
#if defined(SYNCMARK_HAVE_CK)
CHANNEL_WORKERS(ck)
#endif
#undef CHANNEL_WORKERS

/* ---- the window: setup, self-check, metrics, teardown ---- */

/* Smallest power of two above n. */
static unsigned pow2_above(unsigned long n) {
  unsigned p = 2;
  while (p <= n)
    p *= 2;
  return p;
}

/* Messages the in-flight cap allows for messages of `bytes`. */
static uint64_t max_in_flight(size_t bytes) {
  return MAX_IN_FLIGHT_BYTES / (bytes + 16);
}

/* Creates the pipe: sized to hold `capacity` messages, a write end per
 * producer. Returns 0 or a negative errno (the OS refused; applies() has
 * already checked that it accepts the size). */
static int pipe_open(struct chan_state *s) {
  while (atomic_load_explicit(&s->pipe_ends_closed, memory_order_acquire) <
         s->pipe_ends_handed)
    sched_yield(); /* a producer between its close and its count */
  int fd[2];
  if (pipe2(fd, O_CLOEXEC) != 0)
    return -errno;
  s->rfd = fd[0];
  int rc = 0;
  if (fcntl(fd[1], F_SETPIPE_SZ, (int)(s->capacity * (long)s->msg_bytes)) < 0)
    rc = -errno;
  for (unsigned i = 0; i < s->producers && rc == 0; i++) {
    s->prod[i].wfd = fcntl(fd[1], F_DUPFD_CLOEXEC, 0);
    if (s->prod[i].wfd < 0)
      rc = -errno;
    else
      s->pipe_ends_handed++;
  }
  close(fd[1]); /* the producers hold the write ends now */
  return rc;
}

/* Creates the queue of s->kind. Returns 0 or a negative errno. */
static int queue_open(struct chan_state *s) {
  switch (s->kind) {
  case KIND_SYNCMARK: {
    struct sm_sender *tx;
    int rc =
        sm_channel(s->msg_bytes,
                   s->capacity < 0 ? SM_CHANNEL_UNBOUNDED : (size_t)s->capacity,
                   &tx, &s->rx);
    if (rc != 0)
      return rc;
    for (unsigned i = 0; i < s->producers; i++)
      s->prod[i].tx = sm_sender_clone(tx);
    sm_sender_release(tx); /* the producers hold the channel now */
    return 0;
  }
  case KIND_RUST:
    s->rust = sm_rust_chan_new(s->msg_bytes, s->capacity, s->producers);
    return s->rust ? 0 : -ENOSYS; /* applies() checked the size */
  case KIND_PIPE:
    return pipe_open(s);
  case KIND_MUTEX:
    return mq_init(&s->mq, s->capacity, s->msg_bytes, s->producers);
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK: {
    unsigned slots = pow2_above((unsigned long)s->capacity);
    s->ck.capacity = (unsigned)s->capacity;
    s->ck.buffer = aligned_alloc(SM_CACHE_LINE, slots * s->msg_bytes);
    if (!s->ck.buffer)
      return -ENOMEM;
    ck_ring_init(&s->ck.ring, slots);
    atomic_init(&s->ck.done, false);
    return 0;
  }
#endif
  default:
    return -ENOSYS;
  }
}

/* Closes the queue of s->kind: the receiving side and, unless every
 * producer already dropped its side (producers_done: a drained batch),
 * the senders and write ends they still hold. Never fails. */
static void queue_close(struct chan_state *s, bool producers_done) {
  for (unsigned i = 0; !producers_done && s->prod && i < s->producers; i++) {
    sm_sender_release(s->prod[i].tx);
    s->prod[i].tx = NULL;
    if (s->prod[i].wfd >= 0) {
      close(s->prod[i].wfd);
      atomic_fetch_add_explicit(&s->pipe_ends_closed, 1, memory_order_relaxed);
    }
    s->prod[i].wfd = -1;
  }
  sm_receiver_release(s->rx);
  s->rx = NULL;
  sm_rust_chan_free(s->rust);
  s->rust = NULL;
  if (s->rfd >= 0)
    close(s->rfd);
  s->rfd = -1;
  mq_destroy(&s->mq);
  memset(&s->mq, 0, sizeof s->mq);
#if defined(SYNCMARK_HAVE_CK)
  free(s->ck.buffer);
  s->ck.buffer = NULL;
#endif
}

/* Frees the state: the queue, the senders and write ends a producer that
 * never ran still holds, and the buffers. */
static void channel_teardown(void *state) {
  struct chan_state *s = state;
  queue_close(s, false);
  for (unsigned i = 0; s->prod && i < s->producers; i++)
    free(s->prod[i].msg);
  free(s->prod);
  free(s->cons.msg);
  free(s->cons.next);
  free(s->cons.pipe_buf);
  free(s);
}

/* Messages per batch of case c: its batch_msgs, fewer when they would
 * queue more than BATCH_MAX_BYTES or, for a rendezvous, beyond
 * RENDEZVOUS_MAX_BATCH (the batch_msgs metric says how many); 0 for the
 * sustained window. */
static uint64_t batch_messages(const struct sm_case *c) {
  uint64_t n = (uint64_t)c->param[AXIS_BATCH_MSGS];
  uint64_t fit =
      c->param[AXIS_CAPACITY] == 0
          ? RENDEZVOUS_MAX_BATCH
          : BATCH_MAX_BYTES / ((uint64_t)c->param[AXIS_MSG_BYTES] + 16);
  return n < fit ? n : fit;
}

/* Creates the state of one window of case c: the buffers and the queue.
 * Returns 0 or a negative errno. */
static int channel_setup(const struct sm_case *c, void **state) {
  struct chan_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  atomic_init(&s->capped, false);
  s->kind = (enum kind)(c->variant - c->family->variants);
  s->producers = c->threads;
  s->msg_bytes = (size_t)c->param[AXIS_MSG_BYTES];
  s->capacity = c->param[AXIS_CAPACITY];
  s->max_in_flight = max_in_flight(s->msg_bytes);
  s->batch = batch_messages(c);
  atomic_init(&s->epoch, 0);
  atomic_init(&s->pipe_ends_closed, 0);
  s->rfd = -1;
  s->prod = aligned_alloc(SM_CACHE_LINE, sizeof *s->prod * s->producers);
  /* The buffers each thread writes per message on lines of their own: as
   * neighbouring small allocations, the producer's message and the
   * consumer's copy and counts shared a cache line, and every message paid
   * for moving it (the 8-byte channel ran at half its plain reference's
   * rate). */
  s->cons.msg = sm_kit_state_alloc(s->msg_bytes);
  s->cons.next = sm_kit_state_alloc(sizeof *s->cons.next * s->producers);
  s->cons.pipe_buf =
      s->kind == KIND_PIPE ? malloc(PIPE_READ + s->msg_bytes) : NULL;
  bool ok = s->prod && s->cons.msg && s->cons.next &&
            (s->kind != KIND_PIPE || s->cons.pipe_buf);
  for (unsigned i = 0; s->prod && i < s->producers; i++) {
    s->prod[i] =
        (struct producer){.msg = sm_kit_state_alloc(s->msg_bytes), .wfd = -1};
    ok = ok && s->prod[i].msg;
    if (s->prod[i].msg)
      fill_pattern(s->prod[i].msg, s->msg_bytes);
  }
  /* A batch consumer opens a queue per batch. */
  int rc = !ok ? -ENOMEM : s->batch ? 0 : queue_open(s);
  if (rc != 0) {
    channel_teardown(s);
    return rc;
  }
  *state = s;
  return 0;
}

/* The self-check: no send or receive failed, no bad message, and every
 * producer's messages all arrived, in order. Returns 0 or -EPROTO with the
 * numbers in msg. */
static int channel_check(const struct sm_case *c SM_UNUSED, void *state,
                         const struct sm_worker *workers SM_UNUSED, char *msg,
                         size_t size) {
  const struct chan_state *s = state;
  if (s->cons.error)
    return sm_kit_check_failed(msg, size, "%s", s->cons.why);
  uint64_t sent = 0;
  for (unsigned i = 0; i < s->producers; i++) {
    const struct producer *p = &s->prod[i];
    if (p->error)
      return sm_kit_check_failed(msg, size, "producer %u: send %llu failed: %s",
                                 i, (unsigned long long)p->sent,
                                 strerror(-p->error));
    if (p->sent != s->cons.next[i])
      return sm_kit_check_failed(
          msg, size, "producer %u sent %llu messages, %llu arrived", i,
          (unsigned long long)p->sent, (unsigned long long)s->cons.next[i]);
    sent += p->sent;
  }
  if (sent != s->cons.received)
    return sm_kit_check_failed(msg, size, "%llu messages sent, %llu received",
                               (unsigned long long)sent,
                               (unsigned long long)s->cons.received);
  return 0;
}

/* User + system CPU time in a struct rusage, in ns. */
static double usage_ns(const struct rusage *u) {
  return (double)(u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1e9 +
         (double)(u->ru_utime.tv_usec + u->ru_stime.tv_usec) * 1e3;
}

/* The family's metrics, from the joined workers. The sustained window:
 * the consumer (the last worker) gives the rate over the span between the
 * phase changes it saw, and with the producers' sends the backlog left at
 * STOP. A fixed batch: the rate is the batches' messages over their time
 * (the consumer's manual time). Both: the process's CPU time between the
 * consumer's phase edges per message received in them. Returns 0 or a
 * negative errno of the sink. */
static int channel_metrics(const struct sm_case *c SM_UNUSED, void *state,
                           const struct sm_worker *workers, unsigned n,
                           struct sm_sink *sink, char *msg SM_UNUSED,
                           size_t size SM_UNUSED) {
  const struct chan_state *s = state;
  const struct sm_worker *cw = &workers[n - 1];
  double got =
      (double)(cw->ops_at_stop - cw->ops_at_measure) * (double)cw->ops_per_pass;
  double ns = (double)(cw->ns_at_stop - cw->ns_at_measure);
  double cpu =
      usage_ns(&cw->process_at_stop) - usage_ns(&cw->process_at_measure);
  double rate = s->batch ? (cw->manual_ns ? (double)cw->manual_ops * 1e9 /
                                                (double)cw->manual_ns
                                          : NAN)
                         : (ns > 0 ? got * 1e9 / ns : 0);
  int rc = sm_sink_metric(sink, "msgs_per_s", "msgs/s", rate);
  if (rc == 0)
    rc =
        sm_sink_metric(sink, "cpu_ns_per_msg", "ns", got > 0 ? cpu / got : NAN);
  if (rc == 0 && s->batch)
    rc = sm_sink_metric(sink, "batch_msgs", "messages", (double)s->batch);
  if (s->batch)
    return rc;
  double sent = 0;
  for (unsigned i = 0; i < s->producers; i++)
    sent += (double)s->prod[i].sent;
  double backlog = sent - (double)cw->ops_at_stop;
  if (rc == 0)
    rc = sm_sink_metric(
        sink, "capped", "bool",
        atomic_load_explicit(&s->capped, memory_order_relaxed) ? 1 : 0);
  if (rc == 0)
    rc = sm_sink_metric(sink, "backlog_msgs", "messages",
                        backlog > 0 ? backlog : 0);
  return rc;
}

/* Says whether the OS gives a pipe of `bytes` bytes (F_SETPIPE_SZ).
 * Returns 0, or SM_MEASURE_SKIP with the reason in msg. */
static int pipe_size_allowed(long bytes, char *msg, size_t size) {
  int fd[2];
  if (bytes > INT_MAX) {
    snprintf(msg, size, "the OS refused a pipe of %ld bytes: too large", bytes);
    return SM_MEASURE_SKIP;
  }
  if (pipe2(fd, O_CLOEXEC) != 0) {
    snprintf(msg, size, "no pipe: %s", strerror(errno));
    return SM_MEASURE_SKIP;
  }
  int rc = fcntl(fd[1], F_SETPIPE_SZ, (int)bytes) < 0 ? -errno : 0;
  close(fd[0]);
  close(fd[1]);
  if (rc == 0)
    return 0;
  snprintf(msg, size, "the OS refused a pipe of %ld bytes: %s", bytes,
           strerror(-rc));
  return SM_MEASURE_SKIP;
}

/* The family's applies: whether implementation of c's variant runs case
 * c. Returns 0 when it runs; SM_MEASURE_SKIP with an empty msg when the
 * case does not apply to it (a pipe is never unbounded, ck_ring has one
 * producer), or with a reason when something is missing here. */
static int channel_applies(const struct sm_case *c, char *msg, size_t size) {
  enum kind kind = (enum kind)(c->variant - c->family->variants);
  long capacity = c->param[AXIS_CAPACITY];
  long bytes = c->param[AXIS_MSG_BYTES];
  long page = sysconf(_SC_PAGESIZE);
  if (c->threads > MAX_PRODUCERS) {
    snprintf(msg, size, "at most %u producers fit the message header",
             MAX_PRODUCERS);
    return SM_MEASURE_SKIP;
  }
  int rc = sm_rust_std_applies(c, msg, size);
  if (rc != 0)
    return rc;
  if (kind == KIND_RUST && !sm_rust_chan_supports((size_t)bytes)) {
    snprintf(msg, size,
             "Rust's channels carry a type: rust_std has message types of "
             "8, 16, 32, ... 4096 bytes (powers of two), not %ld",
             bytes);
    return SM_MEASURE_SKIP;
  }
  if (kind == KIND_PIPE && capacity <= 0)
    return SM_MEASURE_SKIP;
  if (kind == KIND_PIPE && capacity * bytes < page) {
    snprintf(msg, size,
             "a pipe holds at least one page (%ld bytes), more than %ld "
             "messages of %ld bytes",
             page, capacity, bytes);
    return SM_MEASURE_SKIP;
  }
  if (kind == KIND_PIPE)
    return pipe_size_allowed(capacity * bytes, msg, size);
  if (kind == KIND_CK && (c->threads != 1 || capacity <= 0))
    return SM_MEASURE_SKIP;
#if !defined(SYNCMARK_HAVE_CK)
  if (kind == KIND_CK)
    snprintf(msg, size,
             "Concurrency Kit (libck-dev, pkg-config ck) was not "
             "found at build time");
#elif defined(UNDER_TSAN)
  if (kind == KIND_CK)
    snprintf(msg, size, "ck_ring's fences are invisible to ThreadSanitizer");
#endif
  return msg[0] ? SM_MEASURE_SKIP : 0;
}

static const long capacities[] = {0, 1, 16, 1024, CAPACITY_UNBOUNDED};
static const long quick_capacities[] = {0, 1024, CAPACITY_UNBOUNDED};
static const long sizes[] = {8, 64, 1024};
static const long quick_sizes[] = {8};
/* 0: the sustained window; N: fixed batches of N messages. */
static const long batches[] = {0, 16384, 262144};
static const long quick_batches[] = {0, 16384};

static const struct sm_axis axes[] = {
    [AXIS_CAPACITY] =
        SM_AXIS("capacity", capacities, quick_capacities, -1, 1 << 20),
    [AXIS_MSG_BYTES] = SM_AXIS("msg_bytes", sizes, quick_sizes, 8, 4096),
    [AXIS_BATCH_MSGS] =
        SM_AXIS("batch_msgs", batches, quick_batches, 0, 1 << 24),
};

/* The roles of kind K: c->threads producers, then the one consumer (the
 * family's extra thread, on the next PU of the plan), which counts the
 * case's operations (messages received) and samples their latency. */
#define CHANNEL_ROLES(K)                                                       \
  static const struct sm_role K##_roles[] = {                                  \
      SM_ROLE_SERVING("producer", K##_producer, SM_ROLE_CASE_THREADS),         \
      SM_ROLE_COUNTING_SAMPLED("consumer", K##_consumer, 1, ""),               \
  };
CHANNEL_ROLES(syncmark)
CHANNEL_ROLES(rust)
CHANNEL_ROLES(pipe)
CHANNEL_ROLES(mutex)
#if defined(SYNCMARK_HAVE_CK)
CHANNEL_ROLES(ck)
#define CK_ROLES  ck_roles
#define CK_NROLES 2
#else
#define CK_ROLES  NULL /* applies() skips the variant */
#define CK_NROLES 0
#endif
#undef CHANNEL_ROLES

/* In enum kind order. */
static const struct sm_variant variants[] = {
    SM_KIT_ROLES_VARIANT("syncmark", "syncmark's channel (core channel.h)",
                         syncmark_roles),
    SM_KIT_ROLES_VARIANT("rust_std",
                         "Rust's std::sync::mpsc: channel, or sync_channel(n) "
                         "for a bound",
                         rust_roles),
    SM_KIT_ROLES_VARIANT("pipe",
                         "a pipe (bounded capacities; sized with F_SETPIPE_SZ)",
                         pipe_roles),
    SM_KIT_ROLES_VARIANT("mutex_condvar",
                         "the lesson's Mutex<VecDeque> + Condvar queue",
                         mutex_roles),
    {.name = "ck_ring",
     .summary = "Concurrency Kit's SPSC ck_ring, spinning (1 producer)",
     .roles = CK_ROLES,
     .nroles = CK_NROLES},
};

/* The metrics the family adds (the latencies are the runner's). */
static const struct sm_metric_decl metric_decls[] = {
    {"msgs_per_s", "msgs/s", SM_HIGHER_IS_BETTER,
     "messages the consumer received per second of its window"},
    {"cpu_ns_per_msg", "ns", SM_LOWER_IS_BETTER,
     "CPU time of the whole process per message received"},
    {"capped", "bool", SM_NO_DIRECTION,
     "1 when an unbounded queue reached its memory cap"},
    {"backlog_msgs", "messages", SM_NO_DIRECTION,
     "messages sent but not received when the window stopped"},
    {"batch_msgs", "messages", SM_NO_DIRECTION,
     "messages per batch of the fixed-batch protocol"},
    {"p50_ns", "ns", SM_LOWER_IS_BETTER,
     "median send-to-receive latency of sampled messages"},
    {"p99_ns", "ns", SM_LOWER_IS_BETTER,
     "99th percentile send-to-receive latency"},
    {"p999_ns", "ns", SM_LOWER_IS_BETTER,
     "99.9th percentile send-to-receive latency"},
};

SM_FAMILY_DEFINE(channel, channel,
                 "P producers into one consumer: msgs/s and latency per "
                 "capacity (-1 = unbounded) and message size",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(channel_metrics, metric_decls),
                 .applies = channel_applies, .extra_threads = 1,
                 .headline_metric = "msgs_per_s");
