/* channel.c: the `channel` family: messages per second and per-message
 * latency of P producers into one consumer, over capacity and message size,
 * for syncmark's channel, Rust's std::sync::mpsc (a peer process), a pipe,
 * a mutex+condvar queue and Concurrency Kit's ck_ring (one producer). */
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
#include <unistd.h>

#include "family.h"
#include "peer.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"
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
enum { AXIS_CAPACITY, AXIS_MSG_BYTES };
#define CAPACITY_UNBOUNDED (-1L)

/* The message protocol, shared with bench/peers/mpsc.rs. Word 0 of every
 * message: producer id (ID_BITS) << SEQ_BITS | sequence number modulo
 * 2^SEQ_BITS; on every STAMP_EVERY-th message of a producer the top 32 bits
 * hold the low 32 bits of its send time (sm_now_ns), so a latency is the
 * difference modulo 2^32 (right below 4.29 s). The last 8 bytes of a
 * message of 16 bytes or more hold ~word 0; the bytes in between a fixed
 * pattern (checked on stamped messages). */
enum { SEQ_BITS = 22, ID_BITS = 10 };
#define SEQ_MASK      ((UINT64_C(1) << SEQ_BITS) - 1)
#define MAX_PRODUCERS ((1u << ID_BITS) - 1)
enum {
  STAMP_EVERY = 16,   /* messages per latency sample */
  CHECK_EVERY = 1024, /* sends between two checks of the in-flight cap */
  MAX_SAMPLES = 1 << 21,
  MIN_WINDOW_MSGS = 64, /* a window lasts until this many arrived ... */
  PIPE_READ = 1 << 16,  /* bytes the pipe consumer asks read() for */
  SPINS_BEFORE_YIELD = 128
};
/* Bytes that may be queued at once: beyond them the producers of an
 * unbounded channel stop early (the `capped` metric says so). */
#define MAX_IN_FLIGHT_BYTES ((uint64_t)256 << 20)
/* ... or this much longer than its duration */
#define WINDOW_GRACE_NS UINT64_C(1000000000)
/* Time a Rust peer may take beyond its warmup and window. */
#define PEER_SLACK_NS UINT64_C(10000000000)

/* The implementations; the order of the variants table. */
enum kind { KIND_SYNCMARK, KIND_RUST, KIND_PIPE, KIND_MUTEX, KIND_CK };

/* The lesson's Mutex<VecDeque> + Condvar queue: a ring of copies behind one
 * pthread mutex, grown (doubled) when unbounded. Capacity 0 is a
 * rendezvous: a sender waits until its message has been taken. */
struct mqueue {
  pthread_mutex_t lock;
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

/* One repetition. The gate, the stop flag and the two counters of the
 * in-flight cap each have their own cache line. */
struct run {
  SM_CACHE_ALIGNED atomic_uint go;
  atomic_uint ready;
  uint64_t open_ns; /* gate opening; written before go is released */
  SM_CACHE_ALIGNED atomic_bool stop;
  atomic_bool capped;
  SM_CACHE_ALIGNED atomic_uint_least64_t sent_total; /* steps of CHECK_EVERY */
  SM_CACHE_ALIGNED atomic_uint_least64_t received;   /* consumer's count */
  SM_CACHE_ALIGNED enum kind kind;
  unsigned producers;
  size_t msg_bytes;
  uint64_t warmup_ns, duration_ns, max_in_flight;
  /* the consumer's count and the time, sampled by the runner thread at
   * the window's start and end (or when the in-flight cap stopped it) */
  uint64_t count0, t0, count1, t1;
  struct sm_sender *tx;
  struct sm_receiver *rx;
  int pipe_fd[2];
  struct mqueue mq;
#if defined(SYNCMARK_HAVE_CK)
  struct ckq ck;
#endif
};

/* One producer thread. */
struct producer {
  struct run *r;
  struct sm_sender *tx; /* its clone (syncmark channel) */
  struct sm_join_handle *h;
  unsigned char *msg; /* its message buffer, pattern filled */
  unsigned id;
  uint64_t sent;
  int error; /* a failed send, negative errno */
};

/* The consumer thread and what it saw. */
struct consumer {
  struct run *r;
  struct sm_join_handle *h;
  unsigned char *msg;
  unsigned char *pipe_buf; /* PIPE_READ + msg_bytes bytes (pipe only) */
  size_t pipe_have, pipe_off;
  uint64_t *next; /* messages received per producer */
  uint32_t *samples;
  size_t nsamples;
  uint64_t count;
  uint64_t win_start;
  int error; /* negative errno of a failed receive or check */
  char why[192];
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

/* Spins a little, then yields: the wait of the ck_ring ends and of the
 * gate. `spins` counts the caller's failed attempts. */
static inline void backoff(unsigned *spins) {
  if (++*spins < SPINS_BEFORE_YIELD)
    sm_cpu_relax();
  else
    sched_yield();
}

/* Announces the calling thread and waits for the gate to open. */
static void wait_gate(struct run *r) {
  atomic_fetch_add_explicit(&r->ready, 1, memory_order_release);
  unsigned spins = 0;
  while (!atomic_load_explicit(&r->go, memory_order_acquire))
    backoff(&spins);
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
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->not_full, NULL);
  return 0;
}

/* Frees the queue. */
static void mq_destroy(struct mqueue *q) {
  if (!q->ring)
    return;
  pthread_mutex_destroy(&q->lock);
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
  pthread_mutex_lock(&q->lock);
  while (q->count >= q->limit)
    pthread_cond_wait(&q->not_full, &q->lock);
  int rc = q->count == q->slots ? mq_grow(q, bytes) : 0;
  if (rc == 0) {
    size_t tail = (q->head + q->count) % q->slots;
    memcpy(q->ring + tail * bytes, msg, bytes);
    q->count++;
    uint64_t ticket = q->pushed++;
    pthread_cond_signal(&q->not_empty);
    while (q->rendezvous && q->taken <= ticket)
      pthread_cond_wait(&q->not_full, &q->lock);
  }
  pthread_mutex_unlock(&q->lock);
  return rc;
}

/* Receives the oldest message into out, waiting while the queue is empty
 * and senders remain. Returns 1, or 0 when every sender is done and the
 * queue is drained. */
static int mq_recv(struct mqueue *q, unsigned char *out, size_t bytes) {
  pthread_mutex_lock(&q->lock);
  while (q->count == 0 && q->senders > 0)
    pthread_cond_wait(&q->not_empty, &q->lock);
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
  pthread_mutex_unlock(&q->lock);
  return got;
}

/* One sender is done; the last wakes the receiver. */
static void mq_sender_done(struct mqueue *q) {
  pthread_mutex_lock(&q->lock);
  q->senders--;
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
}

/* ---- the pipe ---- */

/* Writes one message (at most PIPE_BUF bytes, so writes of several
 * producers never interleave). Returns 0 or a negative errno. */
static int pipe_send(int fd, const unsigned char *msg, size_t bytes) {
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
 * when the buffer runs dry. Returns 1, 0 at end of file between messages,
 * -EPROTO at end of file inside a message, or a negative errno. */
static int pipe_recv(struct consumer *cs, int fd, unsigned char *out,
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
/* Sends a copy of msg, spinning (then yielding) while `capacity` messages
 * are queued. Never fails. */
static inline int ck_send(struct ckq *q, const unsigned char *msg,
                          size_t bytes) {
  unsigned spins = 0;
  while (ck_ring_size(&q->ring) >= q->capacity ||
         !_ck_ring_enqueue_sp(&q->ring, q->buffer, msg, (unsigned)bytes, NULL))
    backoff(&spins);
  return 0;
}

/* Receives into out, spinning (then yielding) while empty. Returns 1, or
 * 0 when the producer is done and the ring drained. */
static inline int ck_recv(struct ckq *q, unsigned char *out, size_t bytes) {
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

/* ---- one interface over the four in-process implementations ---- */

/* Sends p->msg through the run's queue of `kind` (a constant where
 * inlined, so the switch folds away). Returns 0 or a negative errno. */
static inline int q_send(struct run *r, struct producer *p, enum kind kind) {
  switch (kind) {
  case KIND_SYNCMARK:
    return sm_send(p->tx, p->msg);
  case KIND_PIPE:
    return pipe_send(r->pipe_fd[1], p->msg, r->msg_bytes);
  case KIND_MUTEX:
    return mq_send(&r->mq, p->msg, r->msg_bytes);
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK:
    return ck_send(&r->ck, p->msg, r->msg_bytes);
#endif
  default:
    return -ENOSYS;
  }
}

/* Receives the next message into cs->msg. Returns 1, 0 when every
 * producer is done and the queue drained, or a negative errno. */
static inline int q_recv(struct run *r, struct consumer *cs, enum kind kind) {
  switch (kind) {
  case KIND_SYNCMARK: {
    int rc = sm_recv(r->rx, cs->msg);
    return rc == 0 ? 1 : rc == -EPIPE ? 0 : rc;
  }
  case KIND_PIPE:
    return pipe_recv(cs, r->pipe_fd[0], cs->msg, r->msg_bytes);
  case KIND_MUTEX:
    return mq_recv(&r->mq, cs->msg, r->msg_bytes);
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK:
    return ck_recv(&r->ck, cs->msg, r->msg_bytes);
#endif
  default:
    return -ENOSYS;
  }
}

/* Producer p has sent its last message (or never started): releases its
 * side. The pipe's write end is closed by the runner after the join. */
static void q_sender_done(struct run *r, struct producer *p) {
  switch (r->kind) {
  case KIND_SYNCMARK:
    sm_sender_release(p->tx);
    p->tx = NULL;
    break;
  case KIND_MUTEX:
    mq_sender_done(&r->mq);
    break;
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK:
    atomic_store_explicit(&r->ck.done, true, memory_order_release);
    break;
#endif
  default:
    break;
  }
}

/* Returns true when the producers should stop: the queue holds more than
 * the in-flight cap (then marks the run capped and stops everyone). */
static bool over_cap(struct run *r) {
  uint64_t sent = atomic_fetch_add_explicit(&r->sent_total, CHECK_EVERY,
                                            memory_order_relaxed) +
                  CHECK_EVERY;
  uint64_t got = atomic_load_explicit(&r->received, memory_order_relaxed);
  if (sent <= got || sent - got <= r->max_in_flight)
    return false;
  atomic_store_explicit(&r->capped, true, memory_order_relaxed);
  atomic_store_explicit(&r->stop, true, memory_order_relaxed);
  return true;
}

/* The producer loop: sends numbered (and every STAMP_EVERY-th, stamped)
 * messages until the stop flag or the in-flight cap. */
static inline __attribute__((always_inline)) void produce(struct producer *p,
                                                          enum kind kind) {
  struct run *r = p->r;
  wait_gate(r);
  uint64_t seq = 0, id = (uint64_t)p->id << SEQ_BITS;
  bool trailer = r->msg_bytes >= 16;
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    if (seq % CHECK_EVERY == 0 && seq > 0 && over_cap(r))
      break;
    uint64_t w0 = id | (seq & SEQ_MASK);
    if (seq % STAMP_EVERY == 0)
      w0 |= (uint64_t)(uint32_t)sm_now_ns() << 32;
    put64(p->msg, w0);
    if (trailer)
      put64(p->msg + r->msg_bytes - 8, ~w0);
    int rc = q_send(r, p, kind);
    if (rc != 0) {
      p->error = rc;
      break;
    }
    seq++;
  }
  p->sent = seq;
  q_sender_done(r, p);
}

/* Notes the first bad message the consumer saw. */
static void note_bad(struct consumer *cs, uint64_t w0, unsigned id,
                     const char *what) {
  if (cs->error)
    return;
  cs->error = -EPROTO;
  snprintf(cs->why, sizeof cs->why,
           "message %llu: %s (header %#llx: producer %u, expected sequence "
           "%llu)",
           (unsigned long long)cs->count, what, (unsigned long long)w0, id,
           id < cs->r->producers ? (unsigned long long)cs->next[id] : 0ull);
}

/* A stamped message: checks its pattern and, inside the window, records
 * its latency. */
static __attribute__((noinline)) void stamped(struct consumer *cs,
                                              uint64_t w0) {
  uint64_t now = sm_now_ns();
  if (!pattern_ok(cs->msg, cs->r->msg_bytes))
    note_bad(cs, w0, (unsigned)(w0 >> SEQ_BITS) & MAX_PRODUCERS,
             "payload pattern corrupted");
  if (now >= cs->win_start &&
      !atomic_load_explicit(&cs->r->stop, memory_order_relaxed) &&
      cs->nsamples < MAX_SAMPLES)
    cs->samples[cs->nsamples++] = (uint32_t)now - (uint32_t)(w0 >> 32);
}

/* Checks one received message: its producer's next sequence number and
 * its trailer; stamped ones go on to stamped(). */
static inline void take(struct consumer *cs) {
  struct run *r = cs->r;
  uint64_t w0 = get64(cs->msg);
  unsigned id = (unsigned)(w0 >> SEQ_BITS) & MAX_PRODUCERS;
  atomic_store_explicit(&r->received, ++cs->count, memory_order_relaxed);
  if (id >= r->producers || (w0 & SEQ_MASK) != (cs->next[id] & SEQ_MASK)) {
    note_bad(cs, w0, id, "out of order, lost or duplicated");
    return;
  }
  if (r->msg_bytes >= 16 && get64(cs->msg + r->msg_bytes - 8) != ~w0) {
    note_bad(cs, w0, id, "trailer does not match the header");
    return;
  }
  if (cs->next[id]++ % STAMP_EVERY == 0)
    stamped(cs, w0);
}

/* The consumer loop: receives until every producer is done. */
static inline __attribute__((always_inline)) void consume(struct consumer *cs,
                                                          enum kind kind) {
  struct run *r = cs->r;
  wait_gate(r);
  cs->win_start = r->open_ns + r->warmup_ns;
  int rc;
  while ((rc = q_recv(r, cs, kind)) == 1)
    take(cs);
  if (rc < 0 && !cs->error) {
    cs->error = rc;
    snprintf(cs->why, sizeof cs->why, "receive failed after %llu messages: %s",
             (unsigned long long)cs->count, strerror(-rc));
  }
}

/* Defines the producer and consumer threads of one kind. */
#define KIND_THREADS(name, kind)                                               \
  static void *produce_##name(void *arg) {                                     \
    produce(arg, kind);                                                        \
    return NULL;                                                               \
  }                                                                            \
  static void *consume_##name(void *arg) {                                     \
    consume(arg, kind);                                                        \
    return NULL;                                                               \
  }
KIND_THREADS(syncmark, KIND_SYNCMARK)
KIND_THREADS(pipe, KIND_PIPE)
KIND_THREADS(mutex, KIND_MUTEX)
#if defined(SYNCMARK_HAVE_CK)
KIND_THREADS(ck, KIND_CK)
#endif
#undef KIND_THREADS

/* Sets the thread functions of `kind`. Returns 0 or -ENOSYS. */
static int thread_fns(enum kind kind, sm_thread_fn *producer,
                      sm_thread_fn *consumer) {
  switch (kind) {
  case KIND_SYNCMARK:
    *producer = produce_syncmark, *consumer = consume_syncmark;
    return 0;
  case KIND_PIPE:
    *producer = produce_pipe, *consumer = consume_pipe;
    return 0;
  case KIND_MUTEX:
    *producer = produce_mutex, *consumer = consume_mutex;
    return 0;
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK:
    *producer = produce_ck, *consumer = consume_ck;
    return 0;
#endif
  default:
    return -ENOSYS;
  }
}

/* Smallest power of two above n. */
static unsigned pow2_above(unsigned long n) {
  unsigned p = 2;
  while (p <= n)
    p *= 2;
  return p;
}

/* Creates the queue of r->kind for `capacity`. Returns 0, SM_MEASURE_SKIP
 * with the reason in msg when the OS refuses the pipe size, or a negative
 * errno with msg. */
static int queue_open(struct run *r, long capacity, char *msg, size_t size) {
  int rc = 0;
  switch (r->kind) {
  case KIND_SYNCMARK:
    rc = sm_channel(r->msg_bytes,
                    capacity < 0 ? SM_CHANNEL_UNBOUNDED : (size_t)capacity,
                    &r->tx, &r->rx);
    break;
  case KIND_PIPE: {
    if (pipe2(r->pipe_fd, O_CLOEXEC) != 0) {
      rc = -errno;
      break;
    }
    long want = capacity * (long)r->msg_bytes;
    if (want > INT_MAX || fcntl(r->pipe_fd[1], F_SETPIPE_SZ, (int)want) < 0) {
      snprintf(msg, size, "the OS refused a pipe of %ld bytes: %s", want,
               want > INT_MAX ? "too large" : strerror(errno));
      return SM_MEASURE_SKIP;
    }
    break;
  }
  case KIND_MUTEX:
    rc = mq_init(&r->mq, capacity, r->msg_bytes, r->producers);
    break;
#if defined(SYNCMARK_HAVE_CK)
  case KIND_CK: {
    unsigned slots = pow2_above((unsigned long)capacity);
    r->ck.capacity = (unsigned)capacity;
    r->ck.buffer = aligned_alloc(SM_CACHE_LINE, slots * r->msg_bytes);
    if (!r->ck.buffer)
      return -ENOMEM;
    ck_ring_init(&r->ck.ring, slots);
    atomic_init(&r->ck.done, false);
    break;
  }
#endif
  default:
    return -ENOSYS;
  }
  if (rc != 0)
    snprintf(msg, size, "cannot create the queue: %s", strerror(-rc));
  return rc;
}

/* Frees the queue (every thread has ended). */
static void queue_close(struct run *r) {
  sm_sender_release(r->tx);
  sm_receiver_release(r->rx);
  for (int i = 0; i < 2; i++)
    if (r->pipe_fd[i] >= 0)
      close(r->pipe_fd[i]);
  mq_destroy(&r->mq);
#if defined(SYNCMARK_HAVE_CK)
  free(r->ck.buffer);
#endif
}

/* Spawns one thread pinned to pu (-1: not pinned). Returns 0 or the
 * spawn's negative errno. */
static int spawn(sm_thread_fn fn, void *arg, int pu, const char *name,
                 struct sm_join_handle **h) {
  struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
  o.name = name;
  o.pin_pu = pu;
  return sm_thread_spawn(&o, fn, arg, h);
}

/* Sleeps until `deadline`, or until the producers stopped on the
 * in-flight cap, and past the deadline (up to `limit`) while fewer than
 * `enough` messages have arrived; then samples the consumer's count and
 * the time. */
static void sample_at(struct run *r, uint64_t deadline, uint64_t limit,
                      uint64_t enough, uint64_t *count, uint64_t *t) {
  for (uint64_t now = sm_now_ns();
       !atomic_load_explicit(&r->stop, memory_order_relaxed) &&
       (now < deadline ||
        (now < limit &&
         atomic_load_explicit(&r->received, memory_order_relaxed) < enough));
       now = sm_now_ns()) {
    uint64_t next = now + 1000000;
    sm_sleep_until_ns(next < deadline || now >= deadline ? next : deadline);
  }
  *count = atomic_load_explicit(&r->received, memory_order_relaxed);
  *t = sm_now_ns();
}

/* Samples the consumer's count at the start and end of the window; the
 * window lasts duration_ns and, on a starved machine, up to
 * WINDOW_GRACE_NS longer until MIN_WINDOW_MSGS messages arrived in it. */
static void sample_window(struct run *r) {
  uint64_t start = r->open_ns + r->warmup_ns;
  sample_at(r, start, start, 0, &r->count0, &r->t0);
  uint64_t end = start + r->duration_ns;
  sample_at(r, end, end + WINDOW_GRACE_NS, r->count0 + MIN_WINDOW_MSGS,
            &r->count1, &r->t1);
}

/* Starts the consumer and producers (os_pus: producers, then the
 * consumer), opens the gate, stops them at the window's end and joins
 * them all. Returns 0 or the negative errno of a failed spawn (every
 * started thread has still been joined). */
static int run_threads(struct run *r, const struct sm_case *c,
                       struct consumer *cs, struct producer *ps) {
  sm_thread_fn produce_fn, consume_fn;
  int rc = thread_fns(r->kind, &produce_fn, &consume_fn);
  if (rc == 0)
    rc = spawn(consume_fn, cs, c->os_pus[c->threads], "sm-chan-rx", &cs->h);
  if (rc != 0)
    return rc;
  unsigned started = 0;
  for (unsigned i = 0; i < r->producers; i++) {
    ps[i].tx = r->kind == KIND_SYNCMARK ? sm_sender_clone(r->tx) : NULL;
    if (rc == 0)
      rc = spawn(produce_fn, &ps[i], c->os_pus[i], "sm-chan-tx", &ps[i].h);
    if (rc == 0)
      started++;
    else
      q_sender_done(r, &ps[i]);
  }
  sm_sender_release(r->tx); /* the producers hold the channel now */
  r->tx = NULL;
  if (rc != 0)
    atomic_store_explicit(&r->stop, true, memory_order_relaxed);
  unsigned spins = 0;
  while (atomic_load_explicit(&r->ready, memory_order_acquire) < started + 1)
    backoff(&spins);
  r->open_ns = sm_now_ns();
  atomic_store_explicit(&r->go, 1, memory_order_release);
  if (rc == 0)
    sample_window(r);
  atomic_store_explicit(&r->stop, true, memory_order_relaxed);
  for (unsigned i = 0; i < started; i++)
    sm_join(ps[i].h, NULL);
  if (r->kind == KIND_PIPE) { /* end of file for the consumer */
    close(r->pipe_fd[1]);
    r->pipe_fd[1] = -1;
  }
  sm_join(cs->h, NULL);
  return rc;
}

/* Returns the process's user + system CPU time in nanoseconds. */
static double cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/* The self-check: no send or receive failed, no bad message, every
 * producer's messages all arrived, and the window was not empty. Returns
 * 0 or -EPROTO with the numbers in msg. */
static int verify(const struct run *r, const struct consumer *cs,
                  const struct producer *ps, char *msg, size_t size) {
  if (cs->error) {
    snprintf(msg, size, "%s", cs->why);
    return -EPROTO;
  }
  uint64_t sent = 0;
  for (unsigned i = 0; i < r->producers; i++) {
    if (ps[i].error) {
      snprintf(msg, size, "producer %u: send %llu failed: %s", i,
               (unsigned long long)ps[i].sent, strerror(-ps[i].error));
      return -EPROTO;
    }
    if (ps[i].sent != cs->next[i]) {
      snprintf(msg, size, "producer %u sent %llu messages, %llu arrived", i,
               (unsigned long long)ps[i].sent, (unsigned long long)cs->next[i]);
      return -EPROTO;
    }
    sent += ps[i].sent;
  }
  if (sent != cs->count || r->t1 <= r->t0) {
    snprintf(msg, size,
             "%llu messages sent, %llu received; window of %lld ns (the "
             "in-flight cap stopped the producers before it)",
             (unsigned long long)sent, (unsigned long long)cs->count,
             (long long)(r->t1 - r->t0));
    return -EPROTO;
  }
  return 0;
}

/* Adds the p50/p99/p99.9 latency of samples[0..n) (n > 0) to the sink.
 * Returns 0 or a negative errno. */
static int add_percentiles(struct sm_sink *sink, const uint32_t *samples,
                           size_t n) {
  double *v = malloc(n * sizeof *v);
  if (!v)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    v[i] = samples[i];
  sm_stats_sort(v, n);
  int rc = sm_sink_metric(sink, "p50_ns", "ns",
                          sm_stats_percentile_sorted(v, n, 50));
  if (rc == 0)
    rc = sm_sink_metric(sink, "p99_ns", "ns",
                        sm_stats_percentile_sorted(v, n, 99));
  if (rc == 0)
    rc = sm_sink_metric(sink, "p999_ns", "ns",
                        sm_stats_percentile_sorted(v, n, 99.9));
  free(v);
  return rc;
}

/* Adds the rate and the rest of a repetition's metrics. */
static int add_rate_metrics(struct sm_sink *sink, double msgs_per_s,
                            double cpu_ns_per_msg, bool capped) {
  int rc = sm_sink_metric(sink, "msgs_per_s", "msgs/s", msgs_per_s);
  if (rc == 0)
    rc = sm_sink_metric(sink, "cpu_ns_per_msg", "ns", cpu_ns_per_msg);
  if (rc == 0)
    rc = sm_sink_metric(sink, "capped", "bool", capped ? 1 : 0);
  return rc;
}

/* Messages the in-flight cap allows for messages of `bytes`. */
static uint64_t max_in_flight(size_t bytes) {
  uint64_t n = MAX_IN_FLIGHT_BYTES / (bytes + 16);
  /* cppcheck-suppress knownConditionTrueFalse ; false for messages of
   * 64 KiB and more (cppcheck takes the upper bound on n for a lower). */
  return n > 4 * (uint64_t)CHECK_EVERY ? n : 4 * (uint64_t)CHECK_EVERY;
}

/* Allocates the producers' and consumer's buffers. Returns 0 or -ENOMEM. */
static int alloc_threads(struct run *r, struct consumer *cs,
                         struct producer *ps) {
  cs->r = r;
  cs->msg = calloc(1, r->msg_bytes);
  cs->next = calloc(r->producers, sizeof *cs->next);
  cs->samples = malloc(MAX_SAMPLES * sizeof *cs->samples);
  cs->pipe_buf = r->kind == KIND_PIPE ? malloc(PIPE_READ + r->msg_bytes) : NULL;
  bool ok = cs->msg && cs->next && cs->samples &&
            (r->kind != KIND_PIPE || cs->pipe_buf);
  for (unsigned i = 0; i < r->producers; i++) {
    ps[i] = (struct producer){.r = r, .id = i, .msg = calloc(1, r->msg_bytes)};
    ok = ok && ps[i].msg;
    if (ps[i].msg)
      fill_pattern(ps[i].msg, r->msg_bytes);
  }
  return ok ? 0 : -ENOMEM;
}

/* Frees what alloc_threads allocated. */
static void free_threads(const struct run *r, struct consumer *cs,
                         struct producer *ps) {
  for (unsigned i = 0; ps && i < r->producers; i++)
    free(ps[i].msg);
  free(ps);
  free(cs->msg);
  free(cs->next);
  free(cs->samples);
  free(cs->pipe_buf);
}

/* One repetition of an in-process implementation. */
static int measure_in_process(struct run *r, const struct sm_case *c,
                              struct sm_sink *sink, char *msg, size_t size) {
  struct consumer cs = {0};
  struct producer *ps = calloc(r->producers, sizeof *ps);
  int rc = ps ? alloc_threads(r, &cs, ps) : -ENOMEM;
  if (rc == 0)
    rc = queue_open(r, c->param[AXIS_CAPACITY], msg, size);
  double cpu0 = cpu_ns();
  if (rc == 0) {
    rc = run_threads(r, c, &cs, ps);
    if (rc != 0)
      snprintf(msg, size, "cannot start the threads: %s", strerror(-rc));
  }
  double cpu = cpu_ns() - cpu0;
  if (rc == 0)
    rc = verify(r, &cs, ps, msg, size);
  if (rc == 0)
    rc = add_rate_metrics(
        sink, (double)(r->count1 - r->count0) * 1e9 / (double)(r->t1 - r->t0),
        cpu / (double)cs.count,
        atomic_load_explicit(&r->capped, memory_order_relaxed));
  if (rc == 0 && cs.nsamples > 0) /* none: the consumer starved */
    rc = add_percentiles(sink, cs.samples, cs.nsamples);
  queue_close(r);
  free_threads(r, &cs, ps);
  return rc;
}

/* ---- the Rust peer ---- */

/* The peer's helpers exist only where the peer was built (rustc found). */
#if defined(SYNCMARK_MPSC_RUST)

/* Fills buf with the peer's --pus argument: the case's PUs, producers then
 * consumer, comma-separated, or "none". Returns 0 or -ENOSPC. */
static int peer_pus(const struct sm_case *c, char *buf, size_t size) {
  if (c->os_pus[0] < 0)
    return snprintf(buf, size, "none") < (int)size ? 0 : -ENOSPC;
  size_t used = 0;
  for (unsigned i = 0; i <= c->threads; i++) {
    int n =
        snprintf(buf + used, size - used, "%s%d", i ? "," : "", c->os_pus[i]);
    if (n < 0 || (size_t)n >= size - used)
      return -ENOSPC;
    used += (size_t)n;
  }
  return 0;
}

/* Parses the peer's "result ..." line and adds its metrics. Returns 0, or
 * -EPROTO with msg when the line is missing or malformed. */
static int add_peer_metrics(const struct sm_peer_result *pr,
                            struct sm_sink *sink, char *msg, size_t size) {
  const char *line = strstr(pr->output, "result ");
  double rate, p50, p99, p999;
  unsigned long long received;
  int capped;
  if (!line ||
      /* NOLINTNEXTLINE(cert-err34-c): our own peer prints these numbers */
      sscanf(line,
             "result msgs_per_s=%lf p50_ns=%lf p99_ns=%lf "
             "p999_ns=%lf received=%llu capped=%d",
             &rate, &p50, &p99, &p999, &received, &capped) != 6 ||
      received == 0) {
    char last[160];
    sm_peer_last_line(pr->output, last, sizeof last);
    snprintf(msg, size, "the Rust peer printed no result line (last: '%s')",
             last);
    return -EPROTO;
  }
  int rc =
      add_rate_metrics(sink, rate, pr->cpu_ns / (double)received, capped != 0);
  if (isnan(p50)) /* the consumer received nothing in the window */
    return rc;
  if (rc == 0)
    rc = sm_sink_metric(sink, "p50_ns", "ns", p50);
  if (rc == 0)
    rc = sm_sink_metric(sink, "p99_ns", "ns", p99);
  if (rc == 0)
    rc = sm_sink_metric(sink, "p999_ns", "ns", p999);
  return rc;
}

/* Turns a peer that ran but did not succeed into the measure result:
 * status 3 (cannot run here) is a skip, 1 a failed self-check, others an
 * error; msg gets the peer's last line. */
static int peer_failure(const struct sm_peer_result *pr, char *msg,
                        size_t size) {
  char last[200];
  sm_peer_last_line(pr->output, last, sizeof last);
  snprintf(msg, size, "the Rust peer %s (status %d): %s",
           pr->exit_status == 1 ? "failed its self-check" : "failed",
           pr->exit_status, last);
  return pr->exit_status == 3   ? SM_MEASURE_SKIP
         : pr->exit_status == 1 ? -EPROTO
                                : -EIO;
}

#endif

/* One repetition of Rust's std::sync::mpsc, in the peer process. */
static int measure_rust(const struct run *r, const struct sm_case *c,
                        struct sm_sink *sink, char *msg, size_t size) {
#if defined(SYNCMARK_MPSC_RUST)
  char producers[16], capacity[24], bytes[24], warmup[24], duration[24],
      cap[24], pus[1024];
  long capv = c->param[AXIS_CAPACITY];
  snprintf(producers, sizeof producers, "%u", r->producers);
  if (capv < 0)
    snprintf(capacity, sizeof capacity, "unbounded");
  else
    snprintf(capacity, sizeof capacity, "%ld", capv);
  snprintf(bytes, sizeof bytes, "%zu", r->msg_bytes);
  snprintf(warmup, sizeof warmup, "%llu", (unsigned long long)r->warmup_ns);
  snprintf(duration, sizeof duration, "%llu",
           (unsigned long long)r->duration_ns);
  snprintf(cap, sizeof cap, "%llu", (unsigned long long)r->max_in_flight);
  if (peer_pus(c, pus, sizeof pus) != 0)
    snprintf(pus, sizeof pus, "none");
  char *argv[] = {SYNCMARK_MPSC_RUST,
                  "--producers",
                  producers,
                  "--capacity",
                  capacity,
                  "--bytes",
                  bytes,
                  "--warmup-ns",
                  warmup,
                  "--duration-ns",
                  duration,
                  "--max-in-flight",
                  cap,
                  "--pus",
                  pus,
                  NULL};
  struct sm_peer_result *pr = malloc(sizeof *pr);
  if (!pr)
    return -ENOMEM;
  int rc = sm_peer_run(argv, r->warmup_ns + r->duration_ns + PEER_SLACK_NS, pr);
  if (rc == -ENOENT || rc == -EACCES) {
    snprintf(msg, size,
             "the Rust peer %s is missing: rebuild (target "
             "peer-mpsc-rust)",
             SYNCMARK_MPSC_RUST);
    rc = SM_MEASURE_SKIP;
  } else if (rc != 0) {
    snprintf(msg, size, "the Rust peer did not finish: %s", strerror(-rc));
  } else if (pr->exit_status != 0) {
    rc = peer_failure(pr, msg, size);
  } else {
    rc = add_peer_metrics(pr, sink, msg, size);
  }
  free(pr);
  return rc;
#else
  (void)r, (void)c, (void)sink;
  snprintf(msg, size,
           "rustc was not found at build time: the Rust peer is not built");
  return SM_MEASURE_SKIP;
#endif
}

/* Says whether implementation `kind` applies to case c. Returns 0 when it
 * runs; SM_MEASURE_SKIP with an empty msg when the case does not apply to
 * it (a pipe is never unbounded, ck_ring has one producer), or with a
 * reason when something is missing here. */
static int applicable(enum kind kind, const struct sm_case *c, char *msg,
                      size_t size) {
  long capacity = c->param[AXIS_CAPACITY];
  long bytes = c->param[AXIS_MSG_BYTES];
  long page = sysconf(_SC_PAGESIZE);
  if (c->threads > MAX_PRODUCERS) {
    snprintf(msg, size, "at most %u producers fit the message header",
             MAX_PRODUCERS);
    return SM_MEASURE_SKIP;
  }
  if (kind == KIND_PIPE && capacity > 0 && capacity * bytes < page)
    snprintf(msg, size,
             "a pipe holds at least one page (%ld bytes), more than %ld "
             "messages of %ld bytes",
             page, capacity, bytes);
  if (kind == KIND_PIPE && capacity <= 0)
    return SM_MEASURE_SKIP;
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

/* The family's measure: one repetition of case c. */
static int channel_measure(const struct sm_measure_config *cfg,
                           const struct sm_case *c, struct sm_sink *sink,
                           char *msg, size_t size) {
  enum kind kind = (enum kind)(c->variant - c->family->variants);
  int rc = applicable(kind, c, msg, size);
  if (rc != 0)
    return rc;
  struct run *r = aligned_alloc(SM_CACHE_LINE, sizeof *r);
  if (!r)
    return -ENOMEM;
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->producers = c->threads;
  r->msg_bytes = (size_t)c->param[AXIS_MSG_BYTES];
  r->warmup_ns = cfg->warmup_ns;
  r->duration_ns = cfg->duration_ns;
  r->max_in_flight = max_in_flight(r->msg_bytes);
  r->pipe_fd[0] = r->pipe_fd[1] = -1;
  atomic_init(&r->go, 0);
  atomic_init(&r->ready, 0);
  atomic_init(&r->stop, false);
  atomic_init(&r->capped, false);
  atomic_init(&r->sent_total, 0);
  atomic_init(&r->received, 0);
  rc = kind == KIND_RUST ? measure_rust(r, c, sink, msg, size)
                         : measure_in_process(r, c, sink, msg, size);
  free(r);
  return rc;
}

static const long capacities[] = {0, 1, 16, 1024, CAPACITY_UNBOUNDED};
static const long quick_capacities[] = {0, 1024, CAPACITY_UNBOUNDED};
static const long sizes[] = {8, 64, 1024};
static const long quick_sizes[] = {8};

static const struct sm_axis axes[] = {
    {"capacity", capacities, 5, quick_capacities, 3, -1, 1 << 20},
    {"msg_bytes", sizes, 3, quick_sizes, 1, 8, 4096},
};

/* In enum kind order. */
static const struct sm_variant variants[] = {
    SM_VARIANT("syncmark", "syncmark's channel (core channel.h)", NULL),
    SM_VARIANT("rust_std",
               "Rust's std::sync::mpsc (peer process bench/peers/mpsc.rs)",
               NULL),
    SM_VARIANT("pipe", "a pipe (bounded capacities; sized with F_SETPIPE_SZ)",
               NULL),
    SM_VARIANT("mutex_condvar", "the lesson's Mutex<VecDeque> + Condvar queue",
               NULL),
    SM_VARIANT("ck_ring",
               "Concurrency Kit's SPSC ck_ring, spinning (1 producer)", NULL),
};

const struct sm_family sm_family_channel = {
    .name = "channel",
    .summary = "P producers into one consumer: msgs/s and latency per "
               "capacity (-1 = unbounded) and message size",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = channel_measure,
    .extra_threads = 1,
    .headline_metric = "msgs_per_s",
};
