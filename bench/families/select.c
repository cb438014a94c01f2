/* select.c: the `select` family: a consumer waiting on K channels, one of
 * which receives, notices the message by a blocking select or by the
 * lesson's try_recv polling loop with sleeps: latency to notice and CPU
 * burnt while waiting (claim C14); timed by the runner's window. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "family.h"
#include "kit.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_CHANNELS };

/* How the consumer waits, in the order of variants[]. */
enum method { SELECT, POLL_10MS, POLL_1MS, POLL_SPIN };

/* The sleep between polling sweeps of each method (0: none). */
#define POLL_10MS_NS 10000000u
#define POLL_1MS_NS  1000000u
static const uint64_t poll_sleep_ns[] = {[SELECT] = 0,
                                         [POLL_10MS] = POLL_10MS_NS,
                                         [POLL_1MS] = POLL_1MS_NS,
                                         [POLL_SPIN] = 0};

/* The sender's pause before each message of the MEASURE phase: random in
 * [GAP_MIN_NS, GAP_MIN_NS + span), span GAP_SPAN_NS or the method's poll
 * sleep if longer, so the consumer is waiting when a message comes and a
 * polling loop is met at a uniformly random point of its period. */
enum { GAP_MIN_NS = 100000, GAP_SPAN_NS = 200000 };
/* In the warm-up the sender sends nothing and sleeps this long per pass:
 * the warm-up is the consumer's quiet wait, whose CPU share the family
 * reports. */
enum { QUIET_NAP_NS = 1000000 };

/* What the receiving channels carry. */
struct select_msg {
  uint64_t seq;     /* 0, 1, 2 ... in sending order */
  uint64_t sent_ns; /* sm_sample_clock() just before the send; 0: the
                       sender's pass was not sampled */
  uint32_t channel; /* the index it was sent on */
};

/* Shared state of one window. Each thread writes only its own part. */
struct select_state {
  size_t nchannels;
  uint64_t seed; /* the sender's random stream, never 0 */
  uint64_t gap_span_ns;
  struct sm_sender **tx;
  struct sm_receiver **rx;
  struct sm_sender *ack_tx; /* the consumer's: one ack per message */
  struct sm_receiver *ack_rx;
  /* sender's part */
  SM_CACHE_ALIGNED uint64_t sent;
  int send_rc;
  /* consumer's part */
  SM_CACHE_ALIGNED uint64_t received;
  int wait_rc;             /* a failed wait (not the disconnect), else 0 */
  struct select_msg bad;   /* the first message out of place */
  int bad_index, bad_seen; /* the channel it was received on */
};

/* Returns the next value of a xorshift64 generator (state never 0). */
static uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* The sender: in the warm-up it only sleeps (the consumer's quiet wait);
 * in the MEASURE phase a pass is a random gap, one message on a random
 * channel, stamped on sampled passes, and the wait for its acknowledgment.
 * After its loop it disconnects every channel, which releases a waiting
 * consumer; a consumer that left first released the acknowledgments. */
static void sender_worker(struct sm_worker *w) {
  struct select_state *s = w->state;
  uint64_t rng = s->seed, count = 0, seq = 0, ack;
  SM_MEASURED_LOOP(w, count) {
    if (!w->saw_measure) {
      sm_sleep_for_ns(QUIET_NAP_NS);
    } else {
      sm_sleep_for_ns(GAP_MIN_NS + next_random(&rng) % s->gap_span_ns);
      struct select_msg m = {
          .seq = seq, .channel = (uint32_t)(next_random(&rng) % s->nchannels)};
      m.sent_ns = sm_sample_due(w, count) ? sm_sample_clock() : 0;
      if (s->send_rc == 0 &&
          (s->send_rc = sm_send(s->tx[m.channel], &m)) == 0) {
        seq++;
        (void)sm_recv(s->ack_rx, &ack); /* -EPIPE: the consumer left */
      }
    }
  }
  s->sent = seq;
  for (size_t i = 0; i < s->nchannels; i++) {
    sm_sender_release(s->tx[i]);
    s->tx[i] = NULL;
  }
}

/* Waits by blocking select until a channel is ready and receives from it.
 * Returns its index, or -EPIPE once the channels are disconnected. */
static inline int wait_select(struct select_state *s, struct select_msg *out) {
  for (;;) {
    size_t ready = 0;
    int rc =
        sm_select((struct sm_receiver *const *)s->rx, s->nchannels, -1, &ready);
    if (rc != 0)
      return rc;
    rc = sm_try_recv(s->rx[ready], out);
    if (rc == 0)
      return (int)ready;
    if (rc == -EPIPE)
      return rc;
  }
}

/* Waits the lesson's way: try_recv on every channel in turn, then sleep
 * `sleep_ns` (spin with a pause when 0), until one has a message. Returns
 * as wait_select does. */
static inline int wait_poll(struct select_state *s, uint64_t sleep_ns,
                            struct select_msg *out) {
  for (;;) {
    for (size_t i = 0; i < s->nchannels; i++) {
      int rc = sm_try_recv(s->rx[i], out);
      if (rc == 0)
        return (int)i;
      if (rc == -EPIPE)
        return rc;
    }
    if (sleep_ns)
      sm_sleep_for_ns(sleep_ns);
    else
      sm_cpu_relax();
  }
}

/* Accepts one noticed message: on the channel it was sent on and the next
 * in sequence (the first one out of place is kept for the self-check);
 * acknowledges it. */
static inline void accept_msg(struct select_state *s, int index,
                              const struct select_msg *m) {
  if ((m->channel != (uint32_t)index || m->seq != s->received) &&
      !s->bad_seen) {
    s->bad = *m;
    s->bad_index = index;
    s->bad_seen = 1;
  }
  s->received++;
  (void)sm_send(s->ack_tx, &s->received);
}

/* Defines <name>_worker: the consumer, a pass per message noticed by
 * `wait` (an expression filling `m` and giving the channel's index); the
 * latency from a stamped send to the notice is its sample. It leaves at
 * the disconnect, then releases the acknowledgments. */
#define CONSUMER(name, wait)                                                   \
  static void name##_worker(struct sm_worker *w) {                             \
    struct select_state *s = w->state;                                         \
    uint64_t count = 0;                                                        \
    int open = 1;                                                              \
    SM_MEASURED_LOOP(w, count) {                                               \
      struct select_msg m = {0, 0, 0};                                         \
      int index = open ? (wait) : -EPIPE;                                      \
      if (index >= 0) {                                                        \
        if (m.sent_ns)                                                         \
          sm_worker_sample(w, (double)(sm_sample_clock() - m.sent_ns));        \
        accept_msg(s, index, &m);                                              \
      } else {                                                                 \
        if (index != -EPIPE && s->wait_rc == 0)                                \
          s->wait_rc = index;                                                  \
        open = 0;                                                              \
      }                                                                        \
    }                                                                          \
    sm_sender_release(s->ack_tx);                                              \
    s->ack_tx = NULL;                                                          \
  }
CONSUMER(select, wait_select(s, &m))
CONSUMER(poll_10ms, wait_poll(s, POLL_10MS_NS, &m))
CONSUMER(poll_1ms, wait_poll(s, POLL_1MS_NS, &m))
CONSUMER(poll_spin, wait_poll(s, 0, &m))
#undef CONSUMER

/* The pair's roles: the sender on the pair's first PU, the consumer (its
 * notices are the operations, its latencies the samples: p50_ns ...) on
 * the second. */
#define PAIR_ROLES(consumer)                                                   \
  {                                                                            \
    SM_ROLE_SERVING("sender", sender_worker, 1),                               \
        SM_ROLE_COUNTING_SAMPLED("consumer", (consumer), 1, "")                \
  }
static const struct sm_role select_roles[] = PAIR_ROLES(select_worker);
static const struct sm_role poll_10ms_roles[] = PAIR_ROLES(poll_10ms_worker);
static const struct sm_role poll_1ms_roles[] = PAIR_ROLES(poll_1ms_worker);
static const struct sm_role poll_spin_roles[] = PAIR_ROLES(poll_spin_worker);
#undef PAIR_ROLES

/* Frees the state and its channels (those not released yet). */
static void select_teardown(void *state) {
  struct select_state *s = state;
  for (size_t i = 0; s->tx && i < s->nchannels; i++)
    sm_sender_release(s->tx[i]);
  for (size_t i = 0; s->rx && i < s->nchannels; i++)
    sm_receiver_release(s->rx[i]);
  sm_sender_release(s->ack_tx);
  sm_receiver_release(s->ack_rx);
  free(s->tx);
  free(s->rx);
  free(s);
}

/* Creates the state of one window with its K unbounded channels and the
 * acknowledgment channel. Returns 0 and sets *state, -ENOMEM or a
 * channel's error. */
static int select_setup(const struct sm_case *c, void **state) {
  struct select_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  uint64_t period = poll_sleep_ns[c->variant - c->family->variants];
  s->nchannels = (size_t)c->param[AXIS_CHANNELS];
  s->gap_span_ns = period > GAP_SPAN_NS ? period : GAP_SPAN_NS;
  if (getrandom(&s->seed, sizeof s->seed, 0) != sizeof s->seed)
    s->seed = (uint64_t)(uintptr_t)s; /* an address: differs run to run */
  s->seed = (s->seed | 1) * 0x9e3779b97f4a7c15u;
  s->tx = calloc(s->nchannels, sizeof *s->tx);
  s->rx = calloc(s->nchannels, sizeof *s->rx);
  int rc = s->tx && s->rx ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < s->nchannels; i++)
    rc = sm_channel(sizeof(struct select_msg), SM_CHANNEL_UNBOUNDED, &s->tx[i],
                    &s->rx[i]);
  if (rc == 0)
    rc = sm_channel(sizeof(uint64_t), SM_CHANNEL_UNBOUNDED, &s->ack_tx,
                    &s->ack_rx);
  if (rc != 0) {
    select_teardown(s);
    return rc;
  }
  *state = s;
  return 0;
}

/* Self-check of a joined window: no send or wait failed, every message
 * noticed was the next one on the channel it was sent on, and every
 * message sent was noticed, or is still in its channel (one the consumer
 * left behind at the stop) as the next in sequence. Returns 0 or -EPROTO
 * with msg. */
static int select_check(const struct sm_case *c SM_UNUSED, void *state,
                        const struct sm_worker *workers SM_UNUSED, char *msg,
                        size_t size) {
  struct select_state *s = state;
  if (s->send_rc != 0 || s->wait_rc != 0)
    return sm_kit_check_failed(
        msg, size, "%s failed: %s", s->send_rc ? "a send" : "a wait",
        strerror(-(s->send_rc ? s->send_rc : s->wait_rc)));
  uint64_t seen = s->received;
  struct select_msg m;
  for (size_t i = 0; i < s->nchannels && !s->bad_seen; i++)
    while (sm_try_recv(s->rx[i], &m) == 0)
      if (m.channel != i || m.seq != seen++) {
        s->bad = m;
        s->bad_index = (int)i;
        s->bad_seen = 1;
      }
  if (s->bad_seen)
    return sm_kit_check_failed(
        msg, size,
        "message %llu sent on channel %u was received on channel %d "
        "out of sequence",
        (unsigned long long)s->bad.seq, s->bad.channel, s->bad_index);
  if (seen != s->sent)
    return sm_kit_check_failed(
        msg, size, "%llu messages sent, %llu noticed or left queued",
        (unsigned long long)s->sent, (unsigned long long)seen);
  return 0;
}

/* Adds wait_cpu_share: the consumer's CPU time over wall time from the
 * start of its loop to its first notice after the warm-up, a wait in which
 * nothing was sent (absent without a warm-up). From the clock and rusage
 * readings the runner took at those edges. Returns 0 or the sink's
 * error. */
static int select_metrics(const struct sm_case *c SM_UNUSED,
                          void *state SM_UNUSED,
                          const struct sm_worker *workers, unsigned n,
                          struct sm_sink *sink, char *msg SM_UNUSED,
                          size_t size SM_UNUSED) {
  const struct sm_worker *w = n > 1 ? &workers[1] : NULL;
  if (!w || !w->saw_measure || w->ns_at_measure <= w->ns_at_begin)
    return 0;
  uint64_t cpu = sm_kit_usage_cpu_ns(&w->usage_at_measure);
  double busy =
      cpu > w->cpu_ns_at_begin ? (double)(cpu - w->cpu_ns_at_begin) : 0.0;
  return sm_sink_metric(sink, "wait_cpu_share", "ratio",
                        busy / (double)(w->ns_at_measure - w->ns_at_begin));
}

static const struct sm_variant variants[] = {
    [SELECT] = SM_KIT_ROLES_VARIANT(
        "select", "blocking select over the K receivers", select_roles),
    [POLL_10MS] = SM_KIT_ROLES_VARIANT(
        "poll_sleep_10ms",
        "try_recv on each channel, then sleep 10 ms (the lesson)",
        poll_10ms_roles),
    [POLL_1MS] = SM_KIT_ROLES_VARIANT(
        "poll_sleep_1ms", "try_recv on each channel, then sleep 1 ms",
        poll_1ms_roles),
    [POLL_SPIN] = SM_KIT_ROLES_VARIANT(
        "poll_spin", "try_recv on each channel, no sleep (busy reference)",
        poll_spin_roles),
};

static const long channel_counts[] = {1, 2, 4, 8, 16, 32, 64};
static const long channel_quick[] = {2, 8, 64};

static const struct sm_axis axes[] = {
    /* max: the most receivers sm_select takes. */
    [AXIS_CHANNELS] =
        SM_AXIS("channels", channel_counts, channel_quick, 1, 1024),
};

/* The metric select_metrics adds (the latencies are the runner's). */
static const struct sm_metric_decl metric_decls[] = {
    {"wait_cpu_share", "ratio", SM_NO_DIRECTION,
     "the consumer's CPU share while nothing was sent"},
};

SM_FAMILY_DEFINE(select, select,
                 "notice a message on 1 of K channels: blocking select vs "
                 "try_recv polling with sleeps",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(select_metrics, metric_decls),
                 .shape = SM_SHAPE_PAIR, .headline_metric = "p50_ns");
