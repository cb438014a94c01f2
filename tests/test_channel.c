/* test_channel.c: Criterion tests of the mpsc channels (unbounded, bounded,
 * rendezvous): argument checks, FIFO order and message integrity,
 * disconnection, backpressure, timeouts, select, memory release, and
 * multi-producer stress tests in the style of Concurrency Kit's validate
 * programs. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syncmark/channel.h"

#define NS_PER_US UINT64_C(1000)
#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S  UINT64_C(1000000000)

/* How long a thread must stay inside a call before a test concludes that
 * the call blocks. */
#define BLOCK_CHECK_MS 50
/* How long something that must happen "soon" may take before a test calls
 * it stuck: far above any scheduling delay, so never a timing assertion. */
#define LIVENESS_MS 5000
/* A timeout the tests wait out, checked as a lower bound only. */
#define SHORT_TIMEOUT_NS (50 * NS_PER_MS)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

/* Returns CLOCK_MONOTONIC (the channel's clock) in nanoseconds; a clock
 * that cannot be read gives 0, which no test relies on. */
static uint64_t now_ns(void) {
  struct timespec ts = {0, 0};
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Sleeps for `ns` nanoseconds of CLOCK_MONOTONIC, resuming after signals.
 * Never fails. */
static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
    ;
}

/* Sleeps for `ms` milliseconds. Never fails. */
static void sleep_ms(unsigned ms) {
  sleep_ns(ms * NS_PER_MS);
}

/* Returns a printable name for a channel capacity. Never fails. */
static const char *kind_name(size_t cap) {
  switch (cap) {
  case SM_CHANNEL_UNBOUNDED:
    return "unbounded";
  case 0:
    return "rendezvous";
  case 1:
    return "bounded(1)";
  case 16:
    return "bounded(16)";
  case 1024:
    return "bounded(1024)";
  default:
    return "bounded";
  }
}

/* Returns how many messages the channel holds without a receiver taking
 * them: 0 for a rendezvous, the capacity for a bounded channel, `want` for
 * an unbounded one. */
static size_t room(size_t cap, size_t want) {
  if (cap == SM_CHANNEL_UNBOUNDED)
    return want;
  return cap < want ? cap : want;
}

/* Creates a channel, failing the test if that fails. */
static void open_channel(size_t size, size_t cap, struct sm_sender **tx,
                         struct sm_receiver **rx) {
  *tx = NULL;
  *rx = NULL;
  int rc = sm_channel(size, cap, tx, rx);
  cr_assert_eq(rc, 0, "sm_channel(%zu, %s) = %d", size, kind_name(cap), rc);
  cr_assert_not_null(*tx);
  cr_assert_not_null(*rx);
}

/* Fills `n` bytes of message number `i` with a pattern that differs in
 * every byte position and between messages. */
static void fill_pattern(unsigned char *p, size_t n, unsigned i) {
  for (size_t j = 0; j < n; j++)
    p[j] = (unsigned char)(i * 37u + j * 11u + (j >> 8) + 1u);
}

/* Returns the index of the first byte of p that differs from message i's
 * pattern, or n when all match. */
static size_t check_pattern(const unsigned char *p, size_t n, unsigned i) {
  for (size_t j = 0; j < n; j++)
    if (p[j] != (unsigned char)(i * 37u + j * 11u + (j >> 8) + 1u))
      return j;
  return n;
}

/* ---------------------------------------------------------------------- */
/* One channel operation run in a thread of its own                       */
/* ---------------------------------------------------------------------- */

enum op_kind {
  OP_SEND,
  OP_SEND_TIMEOUT,
  OP_TRY_SEND_UNTIL, /* sm_try_send every 100 us until not -EAGAIN */
  OP_RECV,
  OP_RECV_TIMEOUT,
  OP_SELECT, /* waits forever */
  OP_RELEASE_SENDER
};

struct op {
  enum op_kind kind;
  struct sm_sender *tx;
  struct sm_receiver *rx;
  struct sm_receiver *const *rxs;
  size_t n;
  void *buf;           /* message to send, or where to receive */
  uint64_t timeout_ns; /* for the *_TIMEOUT and *_UNTIL kinds */
  unsigned delay_ms;   /* sleep before the operation */
  size_t ready;        /* OP_SELECT's index */
  int rc;
  uint64_t attempts; /* OP_TRY_SEND_UNTIL's tries */
  pthread_t thread;
  atomic_int done;
};

/* Thread body: performs op after its delay, stores the result, then sets
 * op->done. Never fails. */
static void *op_main(void *arg) {
  struct op *op = arg;
  if (op->delay_ms)
    sleep_ms(op->delay_ms);
  int rc = -ENOSYS;
  switch (op->kind) {
  case OP_SEND:
    rc = sm_send(op->tx, op->buf);
    break;
  case OP_SEND_TIMEOUT:
    rc = sm_send_timeout(op->tx, op->buf, op->timeout_ns);
    break;
  case OP_TRY_SEND_UNTIL: {
    uint64_t end = now_ns() + op->timeout_ns;
    for (;;) {
      op->attempts++;
      rc = sm_try_send(op->tx, op->buf);
      if (rc != -EAGAIN || now_ns() > end)
        break;
      sleep_ns(100 * NS_PER_US);
    }
    break;
  }
  case OP_RECV:
    rc = sm_recv(op->rx, op->buf);
    break;
  case OP_RECV_TIMEOUT:
    rc = sm_recv_timeout(op->rx, op->buf, op->timeout_ns);
    break;
  case OP_SELECT:
    rc = sm_select(op->rxs, op->n, -1, &op->ready);
    break;
  case OP_RELEASE_SENDER:
    sm_sender_release(op->tx);
    rc = 0;
    break;
  }
  op->rc = rc;
  atomic_store_explicit(&op->done, 1, memory_order_release);
  return NULL;
}

/* Starts op in a new thread, failing the test if it cannot. */
static void op_start(struct op *op) {
  atomic_init(&op->done, 0);
  op->rc = INT_MIN;
  op->attempts = 0;
  int rc = pthread_create(&op->thread, NULL, op_main, op);
  cr_assert_eq(rc, 0, "pthread_create: %d", rc);
}

/* Returns whether op has finished. */
static bool op_done(struct op *op) {
  return atomic_load_explicit(&op->done, memory_order_acquire) != 0;
}

/* Waits up to LIVENESS_MS for op to finish. Returns whether it did. */
static bool op_wait(struct op *op) {
  uint64_t end = now_ns() + LIVENESS_MS * NS_PER_MS;
  while (!op_done(op)) {
    if (now_ns() > end)
      return false;
    sleep_ns(200 * NS_PER_US);
  }
  return true;
}

/* Joins op's thread and returns its result; fails the test (leaving the
 * thread behind, the process ends with the test) when op does not finish
 * within LIVENESS_MS. */
static int op_join(struct op *op, const char *what) {
  cr_assert(op_wait(op), "%s did not return within %d ms", what, LIVENESS_MS);
  pthread_join(op->thread, NULL);
  return op->rc;
}

/* Fails the test when op finishes within BLOCK_CHECK_MS: it should block. */
static void assert_blocked(struct op *op, const char *what) {
  sleep_ms(BLOCK_CHECK_MS);
  cr_assert(!op_done(op), "%s returned %d instead of blocking", what, op->rc);
}

/* Test generators: one named test per channel kind. */
#define ALL_KINDS(suite, name, fn, secs)                                       \
  BUFFERED_KINDS(suite, name, fn, secs)                                        \
  Test(suite, name##_rendezvous, .timeout = secs) {                            \
    fn(0);                                                                     \
  }
#define BUFFERED_KINDS(suite, name, fn, secs)                                  \
  Test(suite, name##_unbounded, .timeout = secs) {                             \
    fn(SM_CHANNEL_UNBOUNDED);                                                  \
  }                                                                            \
  BOUNDED_KINDS(suite, name, fn, secs)
#define BOUNDED_KINDS(suite, name, fn, secs)                                   \
  Test(suite, name##_bounded1, .timeout = secs) {                              \
    fn(1);                                                                     \
  }                                                                            \
  Test(suite, name##_bounded16, .timeout = secs) {                             \
    fn(16);                                                                    \
  }                                                                            \
  Test(suite, name##_bounded1024, .timeout = secs) {                           \
    fn(1024);                                                                  \
  }

/* ---------------------------------------------------------------------- */
/* Creation and argument checks                                           */
/* ---------------------------------------------------------------------- */

Test(channel_create, invalid_arguments) {
  static const size_t caps[] = {SM_CHANNEL_UNBOUNDED, 1, 16, 1024, 0};
  struct sm_sender *tx = NULL;
  struct sm_receiver *rx = NULL;
  for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
    size_t cap = caps[k];
    cr_expect_eq(sm_channel(8, cap, NULL, &rx), -EINVAL, "%s", kind_name(cap));
    cr_expect_eq(sm_channel(8, cap, &tx, NULL), -EINVAL, "%s", kind_name(cap));
    cr_expect_eq(sm_channel(8, cap, NULL, NULL), -EINVAL, "%s", kind_name(cap));
    cr_expect_eq(sm_channel(0, cap, &tx, &rx), -EINVAL, "%s", kind_name(cap));
    cr_expect_eq(sm_channel(SM_CHANNEL_MAX_MESSAGE + 1, cap, &tx, &rx), -EINVAL,
                 "%s", kind_name(cap));
    cr_expect_eq(sm_channel(SIZE_MAX, cap, &tx, &rx), -EINVAL, "%s",
                 kind_name(cap));
  }
  cr_expect_eq(sm_channel(8, SM_CHANNEL_MAX_CAPACITY + 1, &tx, &rx), -EINVAL);
  cr_expect_eq(sm_channel(1, SM_CHANNEL_MAX_CAPACITY + 1, &tx, &rx), -EINVAL);
  cr_expect_eq(sm_channel(8, SM_CHANNEL_MAX_CAPACITY * 2, &tx, &rx), -EINVAL);
  cr_expect_eq(sm_channel(8, SIZE_MAX - 1, &tx, &rx), -EINVAL);
  cr_expect_null(tx, "a failed sm_channel set *tx");
  cr_expect_null(rx, "a failed sm_channel set *rx");
}

Test(channel_create, every_kind_and_size_limit) {
  static const size_t caps[] = {SM_CHANNEL_UNBOUNDED, 1, 16, 1024, 0};
  static const size_t sizes[] = {1, SM_CHANNEL_MAX_MESSAGE};
  for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
    for (size_t s = 0; s < 2; s++) {
      struct sm_sender *tx;
      struct sm_receiver *rx;
      open_channel(sizes[s], caps[k], &tx, &rx);
      cr_expect_eq(sm_receiver_len(rx), 0);
      sm_sender_release(tx);
      sm_receiver_release(rx);
    }
}

Test(channel_create, null_handles_are_harmless) {
  sm_sender_release(NULL);
  sm_receiver_release(NULL);
  cr_assert_null(sm_sender_clone(NULL));
  cr_assert_eq(sm_receiver_len(NULL), 0);
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 4, &tx, &rx);
  cr_assert_eq(sm_sender_clone(tx), tx, "clone must return the same handle");
  sm_sender_release(tx);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

/* Every operation rejects NULL handles and buffers with -EINVAL, without
 * blocking, and a rejected receive leaves a queued message in place. */
static void null_arguments(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  uint64_t m = 42;
  cr_assert_eq(sm_send(NULL, &m), -EINVAL);
  cr_assert_eq(sm_send(tx, NULL), -EINVAL);
  cr_assert_eq(sm_try_send(NULL, &m), -EINVAL);
  cr_assert_eq(sm_try_send(tx, NULL), -EINVAL);
  cr_assert_eq(sm_send_timeout(NULL, &m, NS_PER_MS), -EINVAL);
  cr_assert_eq(sm_send_timeout(tx, NULL, NS_PER_MS), -EINVAL);
  cr_assert_eq(sm_recv(NULL, &m), -EINVAL);
  cr_assert_eq(sm_recv(rx, NULL), -EINVAL); /* must not block */
  cr_assert_eq(sm_try_recv(NULL, &m), -EINVAL);
  cr_assert_eq(sm_try_recv(rx, NULL), -EINVAL);
  cr_assert_eq(sm_recv_timeout(NULL, &m, NS_PER_MS), -EINVAL);
  cr_assert_eq(sm_recv_timeout(rx, NULL, NS_PER_MS), -EINVAL);
  size_t ready = 77;
  struct sm_receiver *rxs[2] = {rx, NULL};
  cr_assert_eq(sm_select(NULL, 1, 0, &ready), -EINVAL);
  cr_assert_eq(sm_select(rxs, 1, 0, NULL), -EINVAL);
  cr_assert_eq(sm_select(rxs, 2, 0, &ready), -EINVAL);
  cr_assert_eq(ready, 77, "a rejected select wrote *ready");
  if (cap != 0) {
    cr_assert_eq(sm_send(tx, &m), 0);
    cr_assert_eq(sm_recv(rx, NULL), -EINVAL);
    cr_assert_eq(sm_try_recv(rx, NULL), -EINVAL);
    cr_assert_eq(sm_receiver_len(rx), 1, "a rejected receive took it");
    uint64_t got = 0;
    cr_assert_eq(sm_try_recv(rx, &got), 0);
    cr_assert_eq(got, 42);
  }
  uint64_t got = 0;
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN, "%s: nothing was sent",
               kind_name(cap));
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
ALL_KINDS(channel_args, null_arguments, null_arguments, 20)

/* ---------------------------------------------------------------------- */
/* FIFO order and message integrity                                       */
/* ---------------------------------------------------------------------- */

/* Producer thread of the FIFO tests: sends 0 .. count-1 (uint64_t) with
 * sm_send, then releases its sender. */
struct seq_producer {
  struct sm_sender *tx;
  uint64_t count;
  int rc;
};

/* Thread body: see struct seq_producer; records the first failing rc. */
static void *seq_producer_main(void *arg) {
  struct seq_producer *p = arg;
  p->rc = 0;
  for (uint64_t i = 0; i < p->count && p->rc == 0; i++)
    p->rc = sm_send(p->tx, &i);
  sm_sender_release(p->tx);
  return NULL;
}

/* One sender thread's messages arrive in order, then disconnection. */
static void fifo_threaded(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(sizeof(uint64_t), cap, &tx, &rx);
  struct seq_producer p = {.tx = tx, .count = cap == 0 ? 5000 : 20000};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, seq_producer_main, &p), 0);
  uint64_t got = 0, bad = 0, first_bad = 0, i = 0;
  int rc;
  while ((rc = sm_recv(rx, &got)) == 0) {
    if (got != i && bad++ == 0)
      first_bad = i;
    i++;
  }
  pthread_join(t, NULL);
  cr_assert_eq(rc, -EPIPE, "%s: final recv %d", kind_name(cap), rc);
  cr_assert_eq(p.rc, 0, "%s: send failed %d", kind_name(cap), p.rc);
  cr_assert_eq(i, p.count, "%s: got %llu of %llu", kind_name(cap),
               (unsigned long long)i, (unsigned long long)p.count);
  cr_assert_eq(bad, 0, "%s: %llu out of order, first at %llu", kind_name(cap),
               (unsigned long long)bad, (unsigned long long)first_bad);
  sm_receiver_release(rx);
}
ALL_KINDS(channel_fifo, threaded_sender, fifo_threaded, 20)

/* Single-threaded FIFO with partial fills, so the ring wraps at every
 * offset and the list crosses block boundaries at every offset. */
static void fifo_partial_fills(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(sizeof(uint64_t), cap, &tx, &rx);
  uint64_t next_send = 0, next_recv = 0;
  size_t limit = room(cap, 200);
  for (size_t round = 1; round <= 300; round++) {
    size_t k = 1 + round % limit;
    for (size_t i = 0; i < k; i++) {
      int rc = sm_try_send(tx, &next_send);
      cr_assert_eq(rc, 0, "%s round %zu: try_send %zu: %d", kind_name(cap),
                   round, i, rc);
      next_send++;
    }
    cr_assert_eq(sm_receiver_len(rx), k, "%s round %zu", kind_name(cap), round);
    for (size_t i = 0; i < k; i++) {
      uint64_t got = UINT64_MAX;
      cr_assert_eq(sm_try_recv(rx, &got), 0);
      cr_assert_eq(got, next_recv, "%s round %zu: got %llu want %llu",
                   kind_name(cap), round, (unsigned long long)got,
                   (unsigned long long)next_recv);
      next_recv++;
    }
    uint64_t none;
    cr_assert_eq(sm_try_recv(rx, &none), -EAGAIN);
  }
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
BUFFERED_KINDS(channel_fifo, partial_fills, fifo_partial_fills, 20)

/* Producer thread of the size tests: sends `count` pattern-filled
 * messages of `size` bytes, scribbling over its buffer after each send
 * (the channel must have copied it), then releases its sender. */
struct pattern_producer {
  struct sm_sender *tx;
  size_t size;
  unsigned count;
  int rc;
};

/* Thread body: see struct pattern_producer. */
static void *pattern_producer_main(void *arg) {
  struct pattern_producer *p = arg;
  unsigned char *buf = malloc(p->size);
  p->rc = buf ? 0 : -ENOMEM;
  for (unsigned i = 0; i < p->count && p->rc == 0; i++) {
    fill_pattern(buf, p->size, i);
    p->rc = sm_send(p->tx, buf);
    memset(buf, 0xEE, p->size);
  }
  free(buf);
  sm_sender_release(p->tx);
  return NULL;
}

/* Messages of 1 .. SM_CHANNEL_MAX_MESSAGE bytes arrive intact, and a
 * receive writes exactly message_size bytes. */
static void message_sizes(size_t cap) {
  static const size_t sizes[] = {1, 8, 13, 64, 1024, 65536};
  enum { COUNT = 70, GUARD = 64 };
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t size = sizes[s];
    struct sm_sender *tx;
    struct sm_receiver *rx;
    open_channel(size, cap, &tx, &rx);
    struct pattern_producer p = {.tx = tx, .size = size, .count = COUNT};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, pattern_producer_main, &p), 0);
    unsigned char *out = malloc(size + GUARD);
    cr_assert_not_null(out);
    unsigned i = 0;
    int rc;
    for (;;) {
      memset(out, 0xA5, size + GUARD);
      if ((rc = sm_recv(rx, out)) != 0)
        break;
      size_t bad = check_pattern(out, size, i);
      cr_assert_eq(bad, size, "%s size %zu msg %u: byte %zu is %#x",
                   kind_name(cap), size, i, bad, out[bad]);
      for (size_t g = 0; g < GUARD; g++)
        cr_assert_eq(out[size + g], 0xA5,
                     "%s size %zu: recv wrote %zu bytes past the message",
                     kind_name(cap), size, g + 1);
      i++;
    }
    pthread_join(t, NULL);
    cr_assert_eq(rc, -EPIPE);
    cr_assert_eq(p.rc, 0, "%s size %zu: send %d", kind_name(cap), size, p.rc);
    cr_assert_eq(i, COUNT, "%s size %zu: %u messages", kind_name(cap), size, i);
    free(out);
    sm_receiver_release(rx);
  }
}
ALL_KINDS(channel_fifo, message_sizes, message_sizes, 20)

/* ---------------------------------------------------------------------- */
/* Empty and disconnected receivers                                       */
/* ---------------------------------------------------------------------- */

/* An empty channel with a live sender: -EAGAIN, -ETIMEDOUT, length 0. */
static void empty_receiver(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  uint64_t m = 0x1234;
  cr_assert_eq(sm_try_recv(rx, &m), -EAGAIN, "%s", kind_name(cap));
  cr_assert_eq(m, 0x1234, "a failed try_recv wrote the buffer");
  cr_assert_eq(sm_recv_timeout(rx, &m, 0), -ETIMEDOUT, "%s", kind_name(cap));
  uint64_t start = now_ns();
  cr_assert_eq(sm_recv_timeout(rx, &m, SHORT_TIMEOUT_NS), -ETIMEDOUT);
  uint64_t elapsed = now_ns() - start;
  cr_assert_geq(elapsed, SHORT_TIMEOUT_NS, "%s: timed out after %llu ns",
                kind_name(cap), (unsigned long long)elapsed);
  cr_assert_eq(m, 0x1234, "a failed recv_timeout wrote the buffer");
  cr_assert_eq(sm_receiver_len(rx), 0);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
ALL_KINDS(channel_recv, empty_is_eagain_and_times_out, empty_receiver, 20)

/* Queued messages are received before disconnection is reported, and the
 * report is sticky and the same for every receive call. */
static void disconnect_after_drain(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  uint64_t n = room(cap, 150); /* 150: crosses list blocks */
  for (uint64_t i = 0; i < n; i++)
    cr_assert_eq(sm_send(tx, &i), 0);
  sm_sender_release(tx);
  cr_assert_eq(sm_receiver_len(rx), n, "%s", kind_name(cap));
  for (uint64_t i = 0; i < n; i++) {
    uint64_t got = UINT64_MAX;
    int rc = i % 3 == 0   ? sm_try_recv(rx, &got)
             : i % 3 == 1 ? sm_recv(rx, &got)
                          : sm_recv_timeout(rx, &got, NS_PER_S);
    cr_assert_eq(rc, 0, "%s: message %llu of %llu lost after disconnect: %d",
                 kind_name(cap), (unsigned long long)i, (unsigned long long)n,
                 rc);
    cr_assert_eq(got, i);
  }
  uint64_t got;
  cr_assert_eq(sm_try_recv(rx, &got), -EPIPE, "%s", kind_name(cap));
  cr_assert_eq(sm_recv(rx, &got), -EPIPE);
  cr_assert_eq(sm_recv_timeout(rx, &got, NS_PER_S), -EPIPE);
  cr_assert_eq(sm_try_recv(rx, &got), -EPIPE);
  cr_assert_eq(sm_receiver_len(rx), 0);
  sm_receiver_release(rx);
}
ALL_KINDS(channel_recv, disconnect_only_after_drain, disconnect_after_drain, 20)

/* Releasing one of two senders leaves the channel connected: receives
 * still block or report -EAGAIN, and the other sender still delivers. */
static void one_clone_released(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  struct sm_sender *tx2 = sm_sender_clone(tx);
  cr_assert_eq(tx2, tx);
  sm_sender_release(tx);
  uint64_t got = 0;
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN, "%s", kind_name(cap));
  cr_assert_eq(sm_recv_timeout(rx, &got, 20 * NS_PER_MS), -ETIMEDOUT);

  /* A receiver blocked while the other clone goes stays blocked. */
  struct sm_sender *tx3 = sm_sender_clone(tx2);
  struct op r = {.kind = OP_RECV, .rx = rx, .buf = &got};
  op_start(&r);
  assert_blocked(&r, "sm_recv on an empty channel");
  sm_sender_release(tx3);
  assert_blocked(&r, "sm_recv after one of two senders was released");
  uint64_t m = 99;
  cr_assert_eq(sm_send(tx2, &m), 0); /* a rendezvous pairs with r */
  cr_assert_eq(op_join(&r, "sm_recv"), 0, "%s", kind_name(cap));
  cr_assert_eq(got, 99);

  sm_sender_release(tx2);
  cr_assert_eq(sm_try_recv(rx, &got), -EPIPE, "%s", kind_name(cap));
  sm_receiver_release(rx);
}
ALL_KINDS(channel_recv, one_of_two_senders_released, one_clone_released, 20)

/* A receiver blocked in sm_recv (or with a long timeout) wakes on a send
 * from another thread. */
static void blocked_recv_wakes(size_t cap) {
  for (int timed = 0; timed < 2; timed++) {
    struct sm_sender *tx;
    struct sm_receiver *rx;
    open_channel(8, cap, &tx, &rx);
    uint64_t got = 0;
    struct op r = {.kind = timed ? OP_RECV_TIMEOUT : OP_RECV,
                   .rx = rx,
                   .buf = &got,
                   .timeout_ns = 60 * NS_PER_S};
    op_start(&r);
    assert_blocked(&r, timed ? "sm_recv_timeout" : "sm_recv");
    uint64_t m = 0xfeedface;
    cr_assert_eq(sm_send(tx, &m), 0, "%s", kind_name(cap));
    cr_assert_eq(op_join(&r, "blocked receive after a send"), 0, "%s",
                 kind_name(cap));
    cr_assert_eq(got, 0xfeedface);
    sm_sender_release(tx);
    sm_receiver_release(rx);
  }
}
ALL_KINDS(channel_recv, blocked_recv_wakes_on_send, blocked_recv_wakes, 20)

/* A receiver blocked in sm_recv (or with a long timeout) gets -EPIPE when
 * another thread releases the last sender. */
static void blocked_recv_disconnect(size_t cap) {
  for (int timed = 0; timed < 2; timed++) {
    struct sm_sender *tx;
    struct sm_receiver *rx;
    open_channel(8, cap, &tx, &rx);
    uint64_t got = 0;
    struct op r = {.kind = timed ? OP_RECV_TIMEOUT : OP_RECV,
                   .rx = rx,
                   .buf = &got,
                   .timeout_ns = 60 * NS_PER_S};
    op_start(&r);
    assert_blocked(&r, "a receive on an empty channel");
    struct op rel = {.kind = OP_RELEASE_SENDER, .tx = tx};
    op_start(&rel);
    cr_assert_eq(op_join(&rel, "sm_sender_release"), 0);
    cr_assert_eq(op_join(&r, "blocked receive after the last sender left"),
                 -EPIPE, "%s", kind_name(cap));
    sm_receiver_release(rx);
  }
}
ALL_KINDS(channel_recv, blocked_recv_epipe_on_last_release,
          blocked_recv_disconnect, 20)

/* A huge timeout does not overflow into an immediate -ETIMEDOUT. */
static void huge_timeouts(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  uint64_t m = 5, got = 0;
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m, .delay_ms = 30};
  op_start(&s);
  cr_assert_eq(sm_recv_timeout(rx, &got, UINT64_MAX), 0, "%s", kind_name(cap));
  cr_assert_eq(got, 5);
  cr_assert_eq(op_join(&s, "sm_send"), 0);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
ALL_KINDS(channel_recv, recv_timeout_max_waits, huge_timeouts, 20)

/* ---------------------------------------------------------------------- */
/* Sending to a released receiver                                         */
/* ---------------------------------------------------------------------- */

/* Every send variant fails with -EPIPE once the receiver is gone (also on
 * a full bounded channel), and leaves the caller's buffer as it was. */
static void send_after_receiver_release(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(64, cap, &tx, &rx);
  unsigned char msg[64], copy[64];
  fill_pattern(msg, sizeof msg, 3);
  memcpy(copy, msg, sizeof msg);
  size_t prefill = room(cap, 100);
  for (size_t i = 0; i < prefill; i++)
    cr_assert_eq(sm_try_send(tx, msg), 0);
  sm_receiver_release(rx);
  cr_assert_eq(sm_send(tx, msg), -EPIPE, "%s", kind_name(cap));
  cr_assert_eq(sm_try_send(tx, msg), -EPIPE, "%s", kind_name(cap));
  cr_assert_eq(sm_send_timeout(tx, msg, 10 * NS_PER_MS), -EPIPE, "%s",
               kind_name(cap));
  cr_assert_eq(sm_send_timeout(tx, msg, 0), -EPIPE, "%s", kind_name(cap));
  cr_assert_eq(memcmp(msg, copy, sizeof msg), 0, "the buffer was changed");
  struct sm_sender *tx2 = sm_sender_clone(tx);
  sm_sender_release(tx);
  cr_assert_eq(sm_send(tx2, msg), -EPIPE);
  sm_sender_release(tx2);
}
ALL_KINDS(channel_send, epipe_after_receiver_release,
          send_after_receiver_release, 20)

/* ---------------------------------------------------------------------- */
/* Bounded channels: backpressure                                         */
/* ---------------------------------------------------------------------- */

/* Fills a bounded channel with 0 .. cap-1 through sm_try_send. */
static void fill(struct sm_sender *tx, size_t cap) {
  for (uint64_t i = 0; i < cap; i++) {
    int rc = sm_try_send(tx, &i);
    cr_assert_eq(rc, 0, "%s: try_send %llu of %zu: %d", kind_name(cap),
                 (unsigned long long)i, cap, rc);
  }
}

/* Receives 0 .. cap-1 in order, then expects `last` (if not UINT64_MAX)
 * and then an empty channel. */
static void drain(struct sm_receiver *rx, size_t cap, uint64_t first,
                  uint64_t last) {
  uint64_t got;
  for (uint64_t i = first; i < cap; i++) {
    cr_assert_eq(sm_try_recv(rx, &got), 0, "%s: message %llu", kind_name(cap),
                 (unsigned long long)i);
    cr_assert_eq(got, i);
  }
  if (last != UINT64_MAX) {
    cr_assert_eq(sm_try_recv(rx, &got), 0, "%s: last message", kind_name(cap));
    cr_assert_eq(got, last);
  }
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN);
}

/* try_send on a full channel: -EAGAIN until a receive frees a slot. */
static void full_try_send(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  cr_assert_eq(sm_receiver_len(rx), cap);
  uint64_t extra = 1000000;
  cr_assert_eq(sm_try_send(tx, &extra), -EAGAIN, "%s full", kind_name(cap));
  cr_assert_eq(sm_try_send(tx, &extra), -EAGAIN);
  cr_assert_eq(sm_send_timeout(tx, &extra, 0), -ETIMEDOUT);
  cr_assert_eq(sm_receiver_len(rx), cap);
  uint64_t got;
  cr_assert_eq(sm_try_recv(rx, &got), 0);
  cr_assert_eq(got, 0);
  cr_assert_eq(sm_try_send(tx, &extra), 0, "%s: a slot was freed",
               kind_name(cap));
  cr_assert_eq(sm_try_send(tx, &extra), -EAGAIN, "%s full again",
               kind_name(cap));
  drain(rx, cap, 1, extra);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_bounded, try_send_full_is_eagain, full_try_send, 20)

/* A sender blocked on a full channel completes after one receive, and its
 * message comes last. */
static void blocked_send_unblocks(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  uint64_t m = 777777;
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m};
  op_start(&s);
  assert_blocked(&s, "sm_send on a full channel");
  uint64_t got;
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(got, 0);
  cr_assert_eq(op_join(&s, "sm_send after a slot was freed"), 0, "%s",
               kind_name(cap));
  cr_assert_eq(sm_receiver_len(rx), cap);
  drain(rx, cap, 1, m);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_bounded, blocked_send_unblocks_after_recv,
              blocked_send_unblocks, 20)

/* send_timeout on a full channel waits at least the timeout, then fails
 * without sending. */
static void full_send_timeout(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  uint64_t m = 424242;
  uint64_t start = now_ns();
  cr_assert_eq(sm_send_timeout(tx, &m, SHORT_TIMEOUT_NS), -ETIMEDOUT, "%s",
               kind_name(cap));
  uint64_t elapsed = now_ns() - start;
  cr_assert_geq(elapsed, SHORT_TIMEOUT_NS, "gave up after %llu ns",
                (unsigned long long)elapsed);
  cr_assert_eq(sm_receiver_len(rx), cap);
  drain(rx, cap, 0, UINT64_MAX); /* the timed-out message is not there */
  cr_assert_eq(sm_send_timeout(tx, &m, SHORT_TIMEOUT_NS), 0, "%s: room now",
               kind_name(cap));
  drain(rx, 1, 1, m);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_bounded, send_timeout_full, full_send_timeout, 20)

/* A sender blocked with send_timeout succeeds when a slot frees in time,
 * even with a huge timeout. */
static void send_timeout_unblocks(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  uint64_t m = 31337;
  struct op s = {
      .kind = OP_SEND_TIMEOUT, .tx = tx, .buf = &m, .timeout_ns = UINT64_MAX};
  op_start(&s);
  assert_blocked(&s, "sm_send_timeout(UINT64_MAX) on a full channel");
  uint64_t got;
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(op_join(&s, "sm_send_timeout"), 0, "%s", kind_name(cap));
  drain(rx, cap, 1, m);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_bounded, send_timeout_unblocks, send_timeout_unblocks, 20)

/* Senders blocked on a full channel (forever or with a timeout) all get
 * -EPIPE when the receiver is released. */
static void blocked_senders_epipe(size_t cap) {
  enum { N = 3 };
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  uint64_t m[N];
  struct op s[N];
  for (int i = 0; i < N; i++) {
    m[i] = 100 + (uint64_t)i;
    s[i] = (struct op){.kind = i == 2 ? OP_SEND_TIMEOUT : OP_SEND,
                       .tx = sm_sender_clone(tx),
                       .buf = &m[i],
                       .timeout_ns = 60 * NS_PER_S};
    op_start(&s[i]);
  }
  for (int i = 0; i < N; i++)
    assert_blocked(&s[i], "a send on a full channel");
  sm_receiver_release(rx);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(op_join(&s[i], "a blocked send after receiver release"),
                 -EPIPE, "%s sender %d", kind_name(cap), i);
    sm_sender_release(s[i].tx);
  }
  sm_sender_release(tx);
}
BOUNDED_KINDS(channel_bounded, blocked_senders_epipe_on_receiver_release,
              blocked_senders_epipe, 20)

/* Several senders blocked on a full channel all complete as the receiver
 * drains it, each message exactly once. */
static void many_blocked_senders(size_t cap) {
  enum { N = 4 };
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  fill(tx, cap);
  uint64_t m[N];
  struct op s[N];
  for (int i = 0; i < N; i++) {
    m[i] = 1000 + (uint64_t)i;
    s[i] =
        (struct op){.kind = OP_SEND, .tx = sm_sender_clone(tx), .buf = &m[i]};
    op_start(&s[i]);
  }
  for (int i = 0; i < N; i++)
    assert_blocked(&s[i], "sm_send on a full channel");
  sm_sender_release(tx);
  unsigned seen = 0;
  uint64_t got;
  for (uint64_t i = 0; i < cap + N; i++) {
    int rc = sm_recv_timeout(rx, &got, LIVENESS_MS * NS_PER_MS);
    cr_assert_eq(rc, 0,
                 "%s: receive %llu: %d (a blocked sender was not "
                 "woken)",
                 kind_name(cap), (unsigned long long)i, rc);
    if (i < cap)
      cr_assert_eq(got, i);
    else {
      cr_assert(got >= 1000 && got < 1000 + N, "got %llu",
                (unsigned long long)got);
      cr_assert_eq(seen & (1u << (got - 1000)), 0, "duplicate");
      seen |= 1u << (got - 1000);
    }
  }
  for (int i = 0; i < N; i++) {
    cr_assert_eq(op_join(&s[i], "sm_send"), 0);
    sm_sender_release(s[i].tx);
  }
  cr_assert_eq(sm_recv(rx, &got), -EPIPE);
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_bounded, many_blocked_senders_complete,
              many_blocked_senders, 20)

/* ---------------------------------------------------------------------- */
/* Rendezvous channels                                                    */
/* ---------------------------------------------------------------------- */

Test(channel_rendezvous, send_blocks_until_recv, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m = 0xabcdef, got = 0;
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m};
  op_start(&s);
  assert_blocked(&s, "sm_send with no receiver");
  cr_assert_eq(sm_receiver_len(rx), 0, "a rendezvous has no queue");
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(got, 0xabcdef);
  cr_assert_eq(op_join(&s, "sm_send after recv"), 0);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN, "the message came twice");
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

Test(channel_rendezvous, try_send_without_receiver_is_eagain, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m = 1, got = 0;
  cr_assert_eq(sm_try_send(tx, &m), -EAGAIN);
  cr_assert_eq(sm_try_send(tx, &m), -EAGAIN);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN, "a failed try_send left it");
  /* Also while another sender is blocked offering its message. */
  uint64_t m2 = 2;
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m2};
  op_start(&s);
  assert_blocked(&s, "sm_send with no receiver");
  cr_assert_eq(sm_try_send(tx, &m), -EAGAIN);
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(got, 2);
  cr_assert_eq(op_join(&s, "sm_send"), 0);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

/* try_send succeeds while the receiver is blocked in recv (or
 * recv_timeout), retried with short sleeps until the receiver is there. */
static void try_send_to_blocked(bool timed) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t got = 0, m = 0x5151;
  struct op r = {.kind = timed ? OP_RECV_TIMEOUT : OP_RECV,
                 .rx = rx,
                 .buf = &got,
                 .timeout_ns = 60 * NS_PER_S};
  op_start(&r);
  uint64_t end = now_ns() + LIVENESS_MS * NS_PER_MS;
  int rc;
  unsigned tries = 0;
  while ((rc = sm_try_send(tx, &m)) == -EAGAIN && now_ns() < end) {
    tries++;
    sleep_ns(200 * NS_PER_US);
  }
  cr_assert_eq(rc, 0, "try_send never met the blocked receiver (%u tries)",
               tries);
  cr_assert_eq(op_join(&r, "the receive"), 0);
  cr_assert_eq(got, 0x5151);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

Test(channel_rendezvous, try_send_to_blocked_recv, .timeout = 20) {
  try_send_to_blocked(false);
}

Test(channel_rendezvous, try_send_to_blocked_recv_timeout, .timeout = 20) {
  try_send_to_blocked(true);
}

Test(channel_rendezvous, send_timeout_withdraws_offer, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m = 0xdead, got = 0;
  uint64_t start = now_ns();
  cr_assert_eq(sm_send_timeout(tx, &m, SHORT_TIMEOUT_NS), -ETIMEDOUT);
  uint64_t elapsed = now_ns() - start;
  cr_assert_geq(elapsed, SHORT_TIMEOUT_NS, "gave up after %llu ns",
                (unsigned long long)elapsed);
  cr_assert_eq(sm_send_timeout(tx, &m, 0), -ETIMEDOUT);
  /* The offers were withdrawn: nothing to receive. */
  cr_assert_eq(sm_recv_timeout(rx, &got, SHORT_TIMEOUT_NS), -ETIMEDOUT,
               "received a withdrawn message %#llx", (unsigned long long)got);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN);
  /* And the channel still works. */
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m};
  op_start(&s);
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(got, 0xdead);
  cr_assert_eq(op_join(&s, "sm_send"), 0);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

Test(channel_rendezvous, send_timeout_met_by_receiver, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m = 0xbeef, got = 0;
  struct op s = {
      .kind = OP_SEND_TIMEOUT, .tx = tx, .buf = &m, .timeout_ns = UINT64_MAX};
  op_start(&s);
  assert_blocked(&s, "sm_send_timeout(UINT64_MAX) with no receiver");
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(got, 0xbeef);
  cr_assert_eq(op_join(&s, "sm_send_timeout"), 0);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

Test(channel_rendezvous, blocked_senders_epipe_on_receiver_release,
     .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m[3] = {1, 2, 3};
  struct op s[3];
  for (int i = 0; i < 3; i++) {
    s[i] = (struct op){.kind = i == 2 ? OP_SEND_TIMEOUT : OP_SEND,
                       .tx = sm_sender_clone(tx),
                       .buf = &m[i],
                       .timeout_ns = 60 * NS_PER_S};
    op_start(&s[i]);
  }
  for (int i = 0; i < 3; i++)
    assert_blocked(&s[i], "a rendezvous send with no receiver");
  sm_receiver_release(rx);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(op_join(&s[i], "a blocked send after receiver release"),
                 -EPIPE, "sender %d", i);
    sm_sender_release(s[i].tx);
  }
  sm_sender_release(tx);
}

Test(channel_rendezvous, queued_senders_each_delivered_once, .timeout = 20) {
  enum { N = 4 };
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  uint64_t m[N];
  struct op s[N];
  for (int i = 0; i < N; i++) {
    m[i] = (uint64_t)i;
    s[i] =
        (struct op){.kind = OP_SEND, .tx = sm_sender_clone(tx), .buf = &m[i]};
    op_start(&s[i]);
  }
  sm_sender_release(tx);
  unsigned seen = 0;
  for (int i = 0; i < N; i++) {
    uint64_t got = 99;
    cr_assert_eq(sm_recv_timeout(rx, &got, LIVENESS_MS * NS_PER_MS), 0);
    cr_assert(got < N && !(seen & (1u << got)), "got %llu (seen %#x)",
              (unsigned long long)got, seen);
    seen |= 1u << got;
  }
  for (int i = 0; i < N; i++) {
    cr_assert_eq(op_join(&s[i], "sm_send"), 0);
    sm_sender_release(s[i].tx);
  }
  uint64_t got;
  cr_assert_eq(sm_recv(rx, &got), -EPIPE);
  sm_receiver_release(rx);
}

/* State of the try_send-versus-select test below. */
struct offer_loop {
  struct sm_sender *tx;
  atomic_int stop, in_call, done;
  uint64_t calls, successes;
  int bad_rc;
};

/* Thread body: calls sm_try_send in a tight loop until told to stop,
 * recording calls, successes and any unexpected result. */
static void *offer_loop_main(void *arg) {
  struct offer_loop *o = arg;
  uint64_t v = 0x0ffe4;
  while (!atomic_load_explicit(&o->stop, memory_order_acquire)) {
    atomic_store_explicit(&o->in_call, 1, memory_order_seq_cst);
    int rc = sm_try_send(o->tx, &v);
    atomic_store_explicit(&o->in_call, 0, memory_order_seq_cst);
    o->calls++;
    if (rc == 0)
      o->successes++;
    else if (rc != -EAGAIN) {
      o->bad_rc = rc;
      break;
    }
  }
  atomic_store_explicit(&o->done, 1, memory_order_release);
  return NULL;
}

/* sm_try_send "sends without blocking". Here the receiver only ever
 * selects over {L, Z} where L (index 0) always has a message, so select
 * must always report 0 and the receiver never receives from the
 * rendezvous Z. A try_send on Z that finds the selecting receiver
 * registered must therefore either fail with -EAGAIN or be paired with
 * the select (which would then report 1); it must never hand its offer to
 * a receiver that will not take it and then wait for it. */
Test(channel_rendezvous, try_send_never_blocks_beside_select, .timeout = 60) {
  enum { N = 300000 };
  struct sm_sender *ltx, *ztx;
  struct sm_receiver *lrx, *zrx;
  open_channel(8, SM_CHANNEL_UNBOUNDED, &ltx, &lrx);
  open_channel(8, 0, &ztx, &zrx);
  for (uint64_t i = 0; i < N; i++)
    cr_assert_eq(sm_send(ltx, &i), 0);
  struct offer_loop o = {.tx = ztx};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, offer_loop_main, &o), 0);
  struct sm_receiver *rxs[2] = {lrx, zrx};
  uint64_t wrong_index = 0, z_received = 0;
  for (uint64_t i = 0; i < N; i++) {
    size_t idx = 99;
    cr_assert_eq(sm_select(rxs, 2, -1, &idx), 0);
    uint64_t got;
    if (idx == 0) {
      cr_assert_eq(sm_try_recv(lrx, &got), 0);
      cr_assert_eq(got, i);
    } else {
      wrong_index++;
      if (sm_try_recv(zrx, &got) == 0)
        z_received++;
      i--;
    }
  }
  atomic_store_explicit(&o.stop, 1, memory_order_release);
  /* The loop must now notice `stop` on its own. */
  uint64_t end = now_ns() + LIVENESS_MS * NS_PER_MS;
  while (!atomic_load_explicit(&o.done, memory_order_acquire) && now_ns() < end)
    sleep_ms(1);
  bool stuck = !atomic_load_explicit(&o.done, memory_order_acquire);
  uint64_t rescued = 0, got;
  while (!atomic_load_explicit(&o.done, memory_order_acquire)) {
    if (sm_try_recv(zrx, &got) == 0) /* release the stuck try_send */
      rescued++;
    sleep_ms(1);
  }
  pthread_join(t, NULL);
  sm_sender_release(ltx);
  sm_sender_release(ztx);
  sm_receiver_release(lrx);
  sm_receiver_release(zrx);
  cr_expect_eq(o.bad_rc, 0, "try_send returned %d", o.bad_rc);
  cr_expect_eq(wrong_index, 0,
               "select reported the rendezvous %llu times while index 0 "
               "was ready",
               (unsigned long long)wrong_index);
  cr_assert(!stuck,
            "sm_try_send on a rendezvous blocked for over %d ms: it offered "
            "to a receiver registered by sm_select, which returned index 0 "
            "and never received from the rendezvous (call %llu of the "
            "loop)",
            LIVENESS_MS, (unsigned long long)o.calls);
  cr_assert_eq(o.successes, z_received + rescued,
               "try_send reported %llu sends, the receiver took %llu",
               (unsigned long long)o.successes,
               (unsigned long long)(z_received + rescued));
}

/* ---------------------------------------------------------------------- */
/* Lengths                                                                */
/* ---------------------------------------------------------------------- */

Test(channel_len, unbounded_across_blocks, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, SM_CHANNEL_UNBOUNDED, &tx, &rx);
  for (uint64_t i = 0; i < 200; i++) {
    cr_assert_eq(sm_send(tx, &i), 0);
    cr_assert_eq(sm_receiver_len(rx), i + 1, "after %llu sends: %zu",
                 (unsigned long long)(i + 1), sm_receiver_len(rx));
  }
  cr_assert_eq(sm_receiver_len(rx), 200);
  uint64_t got;
  for (uint64_t i = 0; i < 70; i++) {
    cr_assert_eq(sm_recv(rx, &got), 0);
    cr_assert_eq(got, i);
    cr_assert_eq(sm_receiver_len(rx), 199 - i, "after %llu receives: %zu",
                 (unsigned long long)(i + 1), sm_receiver_len(rx));
  }
  cr_assert_eq(sm_receiver_len(rx), 130);
  for (uint64_t i = 0; i < 500; i++) /* refill across recycled blocks */
    cr_assert_eq(sm_send(tx, &i), 0);
  cr_assert_eq(sm_receiver_len(rx), 630);
  for (uint64_t i = 0; i < 630; i++)
    cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(sm_receiver_len(rx), 0);
  sm_sender_release(tx);
  cr_assert_eq(sm_receiver_len(rx), 0, "disconnected and empty");
  sm_receiver_release(rx);
}

/* The bounded length follows sends and receives over several laps. */
static void bounded_len(size_t cap) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, cap, &tx, &rx);
  size_t expect = 0;
  uint64_t v = 0, got;
  for (unsigned step = 0; step < 5 * cap + 50; step++) {
    /* Alternate runs of sends and receives of varying length. */
    size_t run = 1 + (step * 7) % (cap + 1);
    if (step % 2 == 0) {
      for (size_t i = 0; i < run && expect < cap; i++, expect++, v++)
        cr_assert_eq(sm_try_send(tx, &v), 0);
    } else {
      for (size_t i = 0; i < run && expect > 0; i++, expect--)
        cr_assert_eq(sm_try_recv(rx, &got), 0);
    }
    cr_assert_eq(sm_receiver_len(rx), expect, "%s step %u: %zu, want %zu",
                 kind_name(cap), step, sm_receiver_len(rx), expect);
  }
  while (expect < cap) {
    cr_assert_eq(sm_try_send(tx, &v), 0);
    expect++;
  }
  cr_assert_eq(sm_receiver_len(rx), cap, "full");
  sm_sender_release(tx);
  cr_assert_eq(sm_receiver_len(rx), cap, "full and disconnected");
  sm_receiver_release(rx);
}
BOUNDED_KINDS(channel_len, bounded, bounded_len, 20)

Test(channel_len, rendezvous_is_zero, .timeout = 20) {
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, 0, &tx, &rx);
  cr_assert_eq(sm_receiver_len(rx), 0);
  uint64_t m = 3, got;
  struct op s = {.kind = OP_SEND, .tx = tx, .buf = &m};
  op_start(&s);
  assert_blocked(&s, "sm_send");
  cr_assert_eq(sm_receiver_len(rx), 0, "with a sender waiting");
  cr_assert_eq(sm_recv(rx, &got), 0);
  cr_assert_eq(op_join(&s, "sm_send"), 0);
  cr_assert_eq(sm_receiver_len(rx), 0);
  sm_sender_release(tx);
  sm_receiver_release(rx);
}

/* ---------------------------------------------------------------------- */
/* Select                                                                 */
/* ---------------------------------------------------------------------- */

/* The kinds select tests cycle through by index. */
static const size_t SELECT_KINDS[] = {SM_CHANNEL_UNBOUNDED, 1, 16, 1024, 0};
#define N_SELECT_KINDS (sizeof SELECT_KINDS / sizeof SELECT_KINDS[0])

/* Opens k channels of 8-byte messages, kind i % 5 for channel i. */
static void open_mixed(size_t k, struct sm_sender **tx,
                       struct sm_receiver **rx) {
  for (size_t i = 0; i < k; i++)
    open_channel(8, SELECT_KINDS[i % N_SELECT_KINDS], &tx[i], &rx[i]);
}

/* Releases both ends of k channels (sender entries may be NULL). */
static void close_mixed(size_t k, struct sm_sender **tx,
                        struct sm_receiver **rx) {
  for (size_t i = 0; i < k; i++) {
    sm_sender_release(tx[i]);
    sm_receiver_release(rx[i]);
  }
}

/* Asserts that no channel but `except` has anything to receive. */
static void assert_all_empty(size_t k, struct sm_receiver **rx, size_t except) {
  for (size_t i = 0; i < k; i++) {
    uint64_t got;
    if (i != except)
      cr_assert_eq(sm_try_recv(rx[i], &got), -EAGAIN, "channel %zu", i);
  }
}

/* A message sent to channel j after a delay, from another thread, wakes a
 * select over k channels of mixed kinds with *ready == j. */
static void select_wakes(size_t k) {
  struct sm_sender *tx[64];
  struct sm_receiver *rx[64];
  open_mixed(k, tx, rx);
  size_t targets[] = {0, k / 2, k - 1, 4 /* a rendezvous when k > 4 */};
  for (size_t t = 0; t < 4; t++) {
    size_t j = targets[t];
    if (j >= k)
      continue;
    uint64_t m = 1000 + j;
    struct op s = {.kind = OP_SEND, .tx = tx[j], .buf = &m, .delay_ms = 30};
    op_start(&s);
    size_t ready = SIZE_MAX;
    int rc = sm_select(rx, k, -1, &ready);
    cr_assert_eq(rc, 0, "k=%zu j=%zu: %d", k, j, rc);
    cr_assert_eq(ready, j, "k=%zu: ready %zu, sent to %zu (%s)", k, ready, j,
                 kind_name(SELECT_KINDS[j % N_SELECT_KINDS]));
    uint64_t got = 0;
    cr_assert_eq(sm_try_recv(rx[j], &got), 0, "k=%zu j=%zu (%s)", k, j,
                 kind_name(SELECT_KINDS[j % N_SELECT_KINDS]));
    cr_assert_eq(got, m);
    cr_assert_eq(op_join(&s, "sm_send"), 0);
    assert_all_empty(k, rx, SIZE_MAX);
  }
  close_mixed(k, tx, rx);
}

Test(channel_select, wakes_on_send_k2, .timeout = 20) {
  select_wakes(2);
}
Test(channel_select, wakes_on_send_k8, .timeout = 20) {
  select_wakes(8);
}
Test(channel_select, wakes_on_send_k64, .timeout = 20) {
  select_wakes(64);
}

/* Also a select made with a finite timeout wakes on a send. */
Test(channel_select, timed_select_wakes_on_send, .timeout = 20) {
  struct sm_sender *tx[8];
  struct sm_receiver *rx[8];
  open_mixed(8, tx, rx);
  for (size_t j = 0; j < 8; j++) {
    uint64_t m = j;
    struct op s = {.kind = OP_SEND, .tx = tx[j], .buf = &m, .delay_ms = 10};
    op_start(&s);
    size_t ready = SIZE_MAX;
    cr_assert_eq(sm_select(rx, 8, (int64_t)(30 * NS_PER_S), &ready), 0);
    cr_assert_eq(ready, j);
    uint64_t got;
    cr_assert_eq(sm_try_recv(rx[j], &got), 0);
    cr_assert_eq(got, j);
    cr_assert_eq(op_join(&s, "sm_send"), 0);
  }
  close_mixed(8, tx, rx);
}

/* With messages already waiting, select returns the lowest ready index
 * without consuming anything. */
static void select_lowest(size_t k) {
  struct sm_sender *tx[64];
  struct sm_receiver *rx[64];
  open_mixed(k, tx, rx);
  /* Buffered channels only: every index i with i % 5 != 4, from the top. */
  size_t filled[64], nf = 0;
  for (size_t i = k; i-- > 0;)
    if (i % N_SELECT_KINDS != 4) {
      uint64_t m = i;
      cr_assert_eq(sm_send(tx[i], &m), 0);
      filled[nf++] = i;
    }
  /* Lowest first: filled[] is in decreasing order. */
  while (nf > 0) {
    size_t want = filled[nf - 1];
    for (int rep = 0; rep < 2; rep++) {
      size_t ready = SIZE_MAX;
      cr_assert_eq(sm_select(rx, k, rep ? -1 : 0, &ready), 0);
      cr_assert_eq(ready, want, "k=%zu: ready %zu, lowest is %zu", k, ready,
                   want);
    }
    cr_assert_eq(sm_receiver_len(rx[want]), 1, "select consumed it");
    uint64_t got;
    cr_assert_eq(sm_try_recv(rx[want], &got), 0);
    cr_assert_eq(got, want);
    nf--;
  }
  size_t ready;
  cr_assert_eq(sm_select(rx, k, 0, &ready), -ETIMEDOUT);
  close_mixed(k, tx, rx);
}

Test(channel_select, lowest_ready_index_k2, .timeout = 20) {
  select_lowest(2);
}
Test(channel_select, lowest_ready_index_k8, .timeout = 20) {
  select_lowest(8);
}
Test(channel_select, lowest_ready_index_k64, .timeout = 20) {
  select_lowest(64);
}

/* A rendezvous sender blocked in sm_send makes its channel ready. */
Test(channel_select, rendezvous_offer_is_ready, .timeout = 20) {
  struct sm_sender *tx[8];
  struct sm_receiver *rx[8];
  open_mixed(8, tx, rx);
  uint64_t m = 4444;
  struct op s = {.kind = OP_SEND, .tx = tx[4], .buf = &m};
  op_start(&s);
  assert_blocked(&s, "a rendezvous sm_send");
  size_t ready = SIZE_MAX;
  cr_assert_eq(sm_select(rx, 8, 0, &ready), 0);
  cr_assert_eq(ready, 4);
  uint64_t one = 1;
  cr_assert_eq(sm_send(tx[7], &one), 0);
  cr_assert_eq(sm_select(rx, 8, -1, &ready), 0);
  cr_assert_eq(ready, 4, "lowest of {4, 7}");
  uint64_t got;
  cr_assert_eq(sm_try_recv(rx[4], &got), 0);
  cr_assert_eq(got, 4444);
  cr_assert_eq(op_join(&s, "sm_send"), 0);
  cr_assert_eq(sm_select(rx, 8, -1, &ready), 0);
  cr_assert_eq(ready, 7);
  close_mixed(8, tx, rx);
}

/* A disconnected channel counts as ready; try_recv then gives its queued
 * message, if any, and then -EPIPE. Disconnection comes from another
 * thread while select waits, and also before it. */
static void select_disconnected(size_t k) {
  size_t targets[] = {k - 1, 0, k / 2, 4 /* a rendezvous when k > 4 */};
  for (size_t t = 0; t < 4; t++) {
    size_t j = targets[t];
    if (j >= k)
      continue;
    /* Fresh channels each time: a disconnected channel stays ready. */
    struct sm_sender *tx[64];
    struct sm_receiver *rx[64];
    open_mixed(k, tx, rx);
    struct op rel = {.kind = OP_RELEASE_SENDER, .tx = tx[j], .delay_ms = 30};
    op_start(&rel);
    size_t ready = SIZE_MAX;
    cr_assert_eq(sm_select(rx, k, -1, &ready), 0);
    cr_assert_eq(ready, j, "k=%zu: ready %zu, released %zu (%s)", k, ready, j,
                 kind_name(SELECT_KINDS[j % N_SELECT_KINDS]));
    op_join(&rel, "sm_sender_release");
    tx[j] = NULL;
    uint64_t got;
    cr_assert_eq(sm_try_recv(rx[j], &got), -EPIPE);
    /* Still ready on the next select. */
    cr_assert_eq(sm_select(rx, k, 0, &ready), 0);
    cr_assert_eq(ready, j);
    cr_assert_eq(sm_try_recv(rx[j], &got), -EPIPE);
    assert_all_empty(k, rx, j);
    close_mixed(k, tx, rx);
  }
}

Test(channel_select, disconnected_is_ready_k2, .timeout = 20) {
  select_disconnected(2);
}
Test(channel_select, disconnected_is_ready_k8, .timeout = 20) {
  select_disconnected(8);
}
Test(channel_select, disconnected_is_ready_k64, .timeout = 20) {
  select_disconnected(64);
}

Test(channel_select, disconnected_with_queued_message, .timeout = 20) {
  struct sm_sender *tx[4];
  struct sm_receiver *rx[4];
  open_mixed(4, tx, rx);
  uint64_t m = 12;
  cr_assert_eq(sm_send(tx[2], &m), 0);
  sm_sender_release(tx[2]);
  tx[2] = NULL;
  size_t ready = SIZE_MAX;
  cr_assert_eq(sm_select(rx, 4, -1, &ready), 0);
  cr_assert_eq(ready, 2);
  uint64_t got;
  cr_assert_eq(sm_try_recv(rx[2], &got), 0, "queued before disconnect");
  cr_assert_eq(got, 12);
  cr_assert_eq(sm_select(rx, 4, -1, &ready), 0);
  cr_assert_eq(ready, 2);
  cr_assert_eq(sm_try_recv(rx[2], &got), -EPIPE);
  close_mixed(4, tx, rx);
}

/* Select over empty channels times out after at least the timeout. */
static void select_timeout(size_t k) {
  struct sm_sender *tx[64];
  struct sm_receiver *rx[64];
  open_mixed(k, tx, rx);
  size_t ready = 12345;
  cr_assert_eq(sm_select(rx, k, 0, &ready), -ETIMEDOUT);
  uint64_t start = now_ns();
  cr_assert_eq(sm_select(rx, k, (int64_t)SHORT_TIMEOUT_NS, &ready), -ETIMEDOUT,
               "k=%zu", k);
  uint64_t elapsed = now_ns() - start;
  cr_assert_geq(elapsed, SHORT_TIMEOUT_NS, "k=%zu: timed out after %llu ns", k,
                (unsigned long long)elapsed);
  assert_all_empty(k, rx, SIZE_MAX);
  close_mixed(k, tx, rx);
}

Test(channel_select, timeout_k2, .timeout = 20) {
  select_timeout(2);
}
Test(channel_select, timeout_k8, .timeout = 20) {
  select_timeout(8);
}
Test(channel_select, timeout_k64, .timeout = 20) {
  select_timeout(64);
}

Test(channel_select, invalid_counts, .timeout = 20) {
  enum { N = 1025 };
  struct sm_sender **tx = calloc(N, sizeof *tx);
  struct sm_receiver **rx = calloc(N, sizeof *rx);
  cr_assert(tx && rx);
  for (size_t i = 0; i < N; i++)
    open_channel(8, 1, &tx[i], &rx[i]);
  size_t ready = 5;
  cr_assert_eq(sm_select(rx, 0, 0, &ready), -EINVAL);
  cr_assert_eq(sm_select(rx, 0, -1, &ready), -EINVAL);
  cr_assert_eq(sm_select(rx, N, 0, &ready), -EINVAL);
  cr_assert_eq(sm_select(rx, N, -1, &ready), -EINVAL);
  cr_assert_eq(ready, 5);
  /* 1024 is allowed. */
  cr_assert_eq(sm_select(rx, 1024, 0, &ready), -ETIMEDOUT);
  uint64_t m = 1;
  cr_assert_eq(sm_send(tx[1023], &m), 0);
  cr_assert_eq(sm_select(rx, 1024, -1, &ready), 0);
  cr_assert_eq(ready, 1023);
  cr_assert_eq(sm_try_recv(rx[1023], &m), 0);
  for (size_t i = 0; i < N; i++) {
    sm_sender_release(tx[i]);
    sm_receiver_release(rx[i]);
  }
  free(tx);
  free(rx);
}

/* ---------------------------------------------------------------------- */
/* Memory                                                                 */
/* ---------------------------------------------------------------------- */

Test(channel_memory, unbounded_million_messages, .timeout = 60) {
  enum { N = 1000000 };
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(8, SM_CHANNEL_UNBOUNDED, &tx, &rx);
  for (uint64_t i = 0; i < N; i++)
    if (sm_send(tx, &i) != 0)
      cr_assert_fail("send %llu failed", (unsigned long long)i);
  cr_assert_eq(sm_receiver_len(rx), N);
  uint64_t got, bad = 0;
  for (uint64_t i = 0; i < N; i++) {
    if (sm_try_recv(rx, &got) != 0)
      cr_assert_fail("recv %llu failed", (unsigned long long)i);
    bad += got != i;
  }
  cr_assert_eq(bad, 0);
  cr_assert_eq(sm_receiver_len(rx), 0);
  cr_assert_eq(sm_try_recv(rx, &got), -EAGAIN);
  sm_receiver_release(rx);
  sm_sender_release(tx);
}

/* Releasing the receiver with messages queued frees them (the ASan build
 * reports a leak otherwise), whichever end goes last. */
static void release_with_queued(size_t cap) {
  static const size_t sizes[] = {8, 65536};
  for (size_t s = 0; s < 2; s++)
    for (int receiver_first = 0; receiver_first < 2; receiver_first++) {
      struct sm_sender *tx;
      struct sm_receiver *rx;
      open_channel(sizes[s], cap, &tx, &rx);
      unsigned char *m = calloc(1, sizes[s]);
      cr_assert_not_null(m);
      size_t n = room(cap, 200);
      for (size_t i = 0; i < n; i++)
        cr_assert_eq(sm_try_send(tx, m), 0);
      /* Leave a partly consumed block behind too. */
      cr_assert_eq(sm_try_recv(rx, m), 0);
      if (n > 1)
        cr_assert_eq(sm_try_recv(rx, m), 0);
      if (receiver_first) {
        sm_receiver_release(rx);
        cr_assert_eq(sm_send(tx, m), -EPIPE);
        sm_sender_release(tx);
      } else {
        sm_sender_release(tx);
        sm_receiver_release(rx);
      }
      free(m);
    }
}
BUFFERED_KINDS(channel_memory, release_with_queued_messages,
               release_with_queued, 20)

/* State of a sender that sends until the receiver disappears. */
struct flood {
  struct sm_sender *tx;
  uint64_t sent;
  int rc;
};

/* Thread body: sends increasing numbers until a send fails, records how
 * many succeeded and the failure, then releases its sender. */
static void *flood_main(void *arg) {
  struct flood *f = arg;
  int rc;
  while ((rc = sm_send(f->tx, &f->sent)) == 0)
    f->sent++;
  f->rc = rc;
  sm_sender_release(f->tx);
  return NULL;
}

/* The receiver is released while two senders are still sending: both
 * stop with -EPIPE and the queued messages are freed (ASan). */
static void release_receiver_while_sending(size_t cap) {
  for (int round = 0; round < 20; round++) {
    struct sm_sender *tx;
    struct sm_receiver *rx;
    open_channel(16, cap, &tx, &rx);
    struct flood f[2] = {{.tx = tx}, {.tx = sm_sender_clone(tx)}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      cr_assert_eq(pthread_create(&t[i], NULL, flood_main, &f[i]), 0);
    unsigned char buf[16];
    for (int i = 0; i < 100 + round * 50; i++)
      cr_assert_eq(sm_recv(rx, buf), 0);
    sm_receiver_release(rx);
    for (int i = 0; i < 2; i++) {
      pthread_join(t[i], NULL);
      cr_assert_eq(f[i].rc, -EPIPE, "%s: sender %d: %d", kind_name(cap), i,
                   f[i].rc);
    }
  }
}
ALL_KINDS(channel_memory, release_receiver_while_sending,
          release_receiver_while_sending, 30)

/* ---------------------------------------------------------------------- */
/* Stress                                                                 */
/* ---------------------------------------------------------------------- */

enum send_mode { SEND_BLOCKING, SEND_TRY, SEND_TIMEOUT, SEND_MIXED };
enum recv_mode { RECV_BLOCKING, RECV_TIMEOUT, RECV_TRY };

/* The stress message: who sent it, its number, and a check word binding
 * the two so that a torn copy is caught. */
struct stress_msg {
  uint32_t producer;
  uint32_t check;
  uint64_t seq;
};

/* Returns the check word of (producer, seq). */
static uint32_t stress_check(uint32_t producer, uint64_t seq) {
  return (uint32_t)(seq * 2654435761u) ^ (producer * 0x9E3779B9u) ^
         (uint32_t)(seq >> 32) ^ 0x5bd1e995u;
}

struct producer {
  struct sm_sender *tx;
  uint32_t id;
  uint64_t count;
  enum send_mode mode;
  int rc;           /* first failure, or 0 */
  uint64_t sent;    /* successful sends */
  uint64_t retries; /* -EAGAIN / -ETIMEDOUT results retried */
  pthread_t thread;
};

/* Sends one message with the producer's mode (SEND_MIXED rotates through
 * the three others by sequence number), retrying -EAGAIN and -ETIMEDOUT.
 * Returns 0 or the failing rc. */
static int send_one(struct producer *p, const struct stress_msg *m) {
  enum send_mode mode =
      p->mode == SEND_MIXED ? (enum send_mode)(m->seq % 3) : p->mode;
  int rc;
  switch (mode) {
  case SEND_TRY:
    while ((rc = sm_try_send(p->tx, m)) == -EAGAIN) {
      p->retries++;
      sched_yield();
    }
    return rc;
  case SEND_TIMEOUT:
    while ((rc = sm_send_timeout(p->tx, m, 10 * NS_PER_US)) == -ETIMEDOUT)
      p->retries++;
    return rc;
  default:
    return sm_send(p->tx, m);
  }
}

/* Thread body: sends (id, 1 .. count), stopping at the first failure,
 * then releases the producer's sender. */
static void *producer_main(void *arg) {
  struct producer *p = arg;
  for (uint64_t seq = 1; seq <= p->count; seq++) {
    struct stress_msg m = {p->id, stress_check(p->id, seq), seq};
    int rc = send_one(p, &m);
    if (rc != 0) {
      p->rc = rc;
      break;
    }
    p->sent++;
  }
  sm_sender_release(p->tx);
  return NULL;
}

/* What a consumer saw. */
struct tally {
  uint32_t producers;
  uint64_t last[8];
  uint64_t received, errors, timeouts;
  char first_error[200];
};

/* Checks one message: a known producer, an intact check word, and the
 * producer's next sequence number (exactly once, in order). */
static void tally_message(struct tally *t, const struct stress_msg *m) {
  t->received++;
  const char *what = NULL;
  uint64_t want = 0;
  if (m->producer >= t->producers)
    what = "unknown producer";
  else if (m->check != stress_check(m->producer, m->seq))
    what = "corrupted message";
  else if (m->seq != (want = t->last[m->producer] + 1))
    what = m->seq <= t->last[m->producer] ? "duplicate or reordered"
                                          : "lost message(s)";
  if (what) {
    if (t->errors++ == 0)
      snprintf(t->first_error, sizeof t->first_error,
               "%s: producer %u seq %llu check %#x after %llu received "
               "(expected seq %llu)",
               what, m->producer, (unsigned long long)m->seq, m->check,
               (unsigned long long)t->received, (unsigned long long)want);
  }
  if (m->producer < t->producers && m->seq > t->last[m->producer])
    t->last[m->producer] = m->seq;
}

/* Starts producers[0..n) on clones of tx (the first takes tx itself).
 * Every clone is made before any producer runs, so none can disconnect
 * the channel early. */
static void start_producers(struct producer *ps, unsigned n,
                            struct sm_sender *tx, uint64_t count,
                            enum send_mode mode) {
  for (unsigned i = 0; i < n; i++)
    ps[i] = (struct producer){.tx = i == 0 ? tx : sm_sender_clone(tx),
                              .id = i,
                              .count = count,
                              .mode = mode};
  for (unsigned i = 0; i < n; i++)
    cr_assert_eq(pthread_create(&ps[i].thread, NULL, producer_main, &ps[i]), 0);
}

/* Joins the producers and checks that each sent everything and that the
 * consumer saw exactly their messages. */
static void finish_producers(struct producer *ps, unsigned n, struct tally *t,
                             const char *what) {
  uint64_t total = 0;
  for (unsigned i = 0; i < n; i++) {
    pthread_join(ps[i].thread, NULL);
    cr_expect_eq(ps[i].rc, 0, "%s: producer %u failed with %d", what, i,
                 ps[i].rc);
    total += ps[i].count;
  }
  cr_assert_eq(t->errors, 0, "%s: %llu bad messages; first: %s", what,
               (unsigned long long)t->errors, t->first_error);
  for (unsigned i = 0; i < n; i++)
    cr_assert_eq(t->last[i], ps[i].count, "%s: producer %u: last seq %llu",
                 what, i, (unsigned long long)t->last[i]);
  cr_assert_eq(t->received, total, "%s: received %llu of %llu", what,
               (unsigned long long)t->received, (unsigned long long)total);
}

/* P producers send M messages each through one channel of capacity cap;
 * one consumer receives until disconnection and checks every message. */
static void stress(size_t cap, unsigned P, uint64_t M, enum send_mode smode,
                   enum recv_mode rmode) {
  char what[96];
  snprintf(what, sizeof what, "%s, %u producers x %llu, send %d recv %d",
           kind_name(cap), P, (unsigned long long)M, smode, rmode);
  struct sm_sender *tx;
  struct sm_receiver *rx;
  open_channel(sizeof(struct stress_msg), cap, &tx, &rx);
  struct producer ps[8];
  struct tally t = {.producers = P};
  start_producers(ps, P, tx, M, smode);
  struct stress_msg m;
  int rc;
  for (;;) {
    if (rmode == RECV_BLOCKING)
      rc = sm_recv(rx, &m);
    else if (rmode == RECV_TIMEOUT) {
      rc = sm_recv_timeout(rx, &m, 10 * NS_PER_US);
      if (rc == -ETIMEDOUT) {
        t.timeouts++;
        continue;
      }
    } else {
      rc = sm_try_recv(rx, &m);
      if (rc == -EAGAIN) {
        sched_yield();
        continue;
      }
    }
    if (rc != 0)
      break;
    tally_message(&t, &m);
  }
  cr_assert_eq(rc, -EPIPE, "%s: the receive loop ended with %d", what, rc);
  finish_producers(ps, P, &t, what);
  cr_assert_eq(sm_try_recv(rx, &m), -EPIPE);
  cr_assert_eq(sm_receiver_len(rx), 0);
  sm_receiver_release(rx);
}

/* Messages per producer: enough for a few seconds on two CPUs. */
#define M_UNBOUNDED  200000
#define M_BOUNDED    200000
#define M_BOUNDED1   200000
#define M_RENDEZVOUS 20000

#define STRESS(name, cap, P, M)                                                \
  Test(channel_stress, name, .timeout = 60) {                                  \
    stress(cap, P, M, SEND_BLOCKING, RECV_BLOCKING);                           \
  }
STRESS(unbounded_p1, SM_CHANNEL_UNBOUNDED, 1, M_UNBOUNDED)
STRESS(unbounded_p2, SM_CHANNEL_UNBOUNDED, 2, M_UNBOUNDED)
STRESS(unbounded_p4, SM_CHANNEL_UNBOUNDED, 4, M_UNBOUNDED)
STRESS(bounded1_p1, 1, 1, M_BOUNDED1)
STRESS(bounded1_p2, 1, 2, M_BOUNDED1)
STRESS(bounded1_p4, 1, 4, M_BOUNDED1)
STRESS(bounded1024_p1, 1024, 1, M_BOUNDED)
STRESS(bounded1024_p2, 1024, 2, M_BOUNDED)
STRESS(bounded1024_p4, 1024, 4, M_BOUNDED)
STRESS(rendezvous_p1, 0, 1, M_RENDEZVOUS)
STRESS(rendezvous_p2, 0, 2, M_RENDEZVOUS)
STRESS(rendezvous_p4, 0, 4, M_RENDEZVOUS)

/* The consumer polls with a 10 us recv_timeout: every call registers and
 * unregisters as the blocked receiver, racing with the senders' wakeups. */
#define STRESS_TIMEOUT(name, cap, M)                                           \
  Test(channel_stress, name, .timeout = 60) {                                  \
    stress(cap, 2, M, SEND_BLOCKING, RECV_TIMEOUT);                            \
  }
STRESS_TIMEOUT(recv_timeout_unbounded, SM_CHANNEL_UNBOUNDED, M_UNBOUNDED / 2)
STRESS_TIMEOUT(recv_timeout_bounded1, 1, M_BOUNDED1 / 2)
STRESS_TIMEOUT(recv_timeout_bounded1024, 1024, M_BOUNDED / 2)
STRESS_TIMEOUT(recv_timeout_rendezvous, 0, M_RENDEZVOUS / 2)

/* Producers rotate through sm_send, sm_try_send and a 10 us
 * sm_send_timeout (withdrawals and last-moment hand-offs); nothing may be
 * lost or duplicated. */
#define STRESS_MIXED(name, cap, M)                                             \
  Test(channel_stress, name, .timeout = 60) {                                  \
    stress(cap, 3, M, SEND_MIXED, RECV_BLOCKING);                              \
  }
STRESS_MIXED(mixed_senders_bounded1, 1, M_BOUNDED1 / 2)
STRESS_MIXED(mixed_senders_bounded16, 16, M_BOUNDED / 4)
STRESS_MIXED(mixed_senders_rendezvous, 0, M_RENDEZVOUS / 2)

Test(channel_stress, try_recv_consumer_unbounded, .timeout = 60) {
  stress(SM_CHANNEL_UNBOUNDED, 2, M_UNBOUNDED / 2, SEND_BLOCKING, RECV_TRY);
}

/* Four channels of different kinds, each fed by its own producer; the
 * consumer selects (forever, or with a 10 us timeout), then try_recv must
 * succeed, or report -EPIPE, after which the channel leaves the set. */
static void stress_select(int64_t timeout_ns) {
  static const size_t caps[4] = {SM_CHANNEL_UNBOUNDED, 1, 1024, 0};
  static const uint64_t counts[4] = {M_UNBOUNDED / 2, M_BOUNDED1 / 2,
                                     M_BOUNDED / 2, M_RENDEZVOUS / 2};
  struct sm_receiver *active[4];
  uint32_t ids[4];
  struct producer ps[4];
  for (uint32_t c = 0; c < 4; c++) {
    struct sm_sender *tx;
    open_channel(sizeof(struct stress_msg), caps[c], &tx, &active[c]);
    ids[c] = c;
    ps[c] = (struct producer){
        .tx = tx, .id = c, .count = counts[c], .mode = SEND_BLOCKING};
  }
  struct sm_receiver *all[4];
  memcpy(all, active, sizeof all);
  for (int c = 0; c < 4; c++)
    cr_assert_eq(pthread_create(&ps[c].thread, NULL, producer_main, &ps[c]), 0);
  struct tally t = {.producers = 4};
  uint64_t spurious = 0, wrong_channel = 0;
  size_t n = 4;
  while (n > 0) {
    size_t idx = SIZE_MAX;
    int rc = sm_select(active, n, timeout_ns, &idx);
    if (rc == -ETIMEDOUT && timeout_ns >= 0) {
      t.timeouts++;
      continue;
    }
    cr_assert_eq(rc, 0, "select: %d", rc);
    cr_assert_lt(idx, n);
    struct stress_msg m;
    rc = sm_try_recv(active[idx], &m);
    if (rc == 0) {
      wrong_channel += m.producer != ids[idx];
      tally_message(&t, &m);
    } else if (rc == -EPIPE) {
      memmove(&active[idx], &active[idx + 1], (n - idx - 1) * sizeof active[0]);
      memmove(&ids[idx], &ids[idx + 1], (n - idx - 1) * sizeof ids[0]);
      n--;
    } else {
      spurious++;
    }
  }
  finish_producers(ps, 4, &t, "select stress");
  cr_assert_eq(wrong_channel, 0);
  cr_assert_eq(spurious, 0,
               "select reported a channel ready but try_recv found it empty "
               "%llu times",
               (unsigned long long)spurious);
  for (int c = 0; c < 4; c++)
    sm_receiver_release(all[c]);
}

Test(channel_stress, select_four_channels, .timeout = 60) {
  stress_select(-1);
}

Test(channel_stress, select_four_channels_10us_timeout, .timeout = 60) {
  stress_select((int64_t)(10 * NS_PER_US));
}

/* Many short streams: the end of a stream (the last producers' last
 * messages, then disconnection) is where a lost wakeup becomes a hang.
 * Each receive waits at most LIVENESS_MS; a longer wait means a producer
 * was left blocked although the channel had room. */
static void end_of_stream_rounds(size_t cap, unsigned rounds) {
  enum { P = 3, M = 6 };
  for (unsigned r = 0; r < rounds; r++) {
    struct sm_sender *tx;
    struct sm_receiver *rx;
    open_channel(sizeof(struct stress_msg), cap, &tx, &rx);
    struct producer ps[P];
    struct tally t = {.producers = P};
    start_producers(ps, P, tx, M, SEND_BLOCKING);
    struct stress_msg m;
    int rc;
    while ((rc = sm_recv_timeout(rx, &m, LIVENESS_MS * NS_PER_MS)) == 0)
      tally_message(&t, &m);
    if (rc == -ETIMEDOUT) {
      uint64_t received = t.received;
      sm_receiver_release(rx); /* wakes the stuck producers with -EPIPE */
      for (unsigned i = 0; i < P; i++)
        pthread_join(ps[i].thread, NULL);
      cr_assert_fail("%s round %u: receiver starved for %d ms after %llu of "
                     "%d messages while producers were still blocked in "
                     "sm_send (lost wakeup)",
                     kind_name(cap), r, LIVENESS_MS,
                     (unsigned long long)received, P * M);
    }
    cr_assert_eq(rc, -EPIPE);
    finish_producers(ps, P, &t, kind_name(cap));
    sm_receiver_release(rx);
  }
}

Test(channel_stress, end_of_stream_bounded1, .timeout = 60) {
  end_of_stream_rounds(1, 1500);
}

Test(channel_stress, end_of_stream_bounded16, .timeout = 60) {
  end_of_stream_rounds(16, 500);
}

Test(channel_stress, end_of_stream_rendezvous, .timeout = 60) {
  end_of_stream_rounds(0, 1000);
}

Test(channel_stress, end_of_stream_unbounded, .timeout = 60) {
  end_of_stream_rounds(SM_CHANNEL_UNBOUNDED, 500);
}
