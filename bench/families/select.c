/* select.c: the `select` family: a consumer waiting on K channels, one of
 * which receives, notices the message by a blocking select or by the
 * lesson's try_recv polling loop with sleeps: latency to notice and CPU
 * burnt while waiting (claim C14). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "family.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"
#include "syncmark/thread.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_CHANNELS };

/* How the consumer waits, in the order of variants[]. */
enum method { SELECT, POLL_10MS, POLL_1MS, POLL_SPIN };

/* The sleep between polling sweeps of each method (0: none). */
static const uint64_t poll_sleep_ns[] = {[SELECT] = 0,
                                         [POLL_10MS] = 10000000,
                                         [POLL_1MS] = 1000000,
                                         [POLL_SPIN] = 0};

/* The sender's pause between an acknowledged message and the next: random
 * in [GAP_MIN_NS, GAP_MIN_NS + span), span GAP_SPAN_NS or the method's poll
 * sleep if longer, so the consumer is waiting when a message comes and a
 * polling loop is met at a uniformly random point of its period. */
enum { GAP_MIN_NS = 100000, GAP_SPAN_NS = 200000 };
/* The quiet wait that gives the CPU share while nothing arrives, the same
 * for every method: at least this many of the longest poll period, and at
 * least a quarter of the duration. */
enum { QUIET_PERIODS = 2 };
/* Fewest measured messages of a repetition, whatever its duration. */
enum { MIN_SAMPLES = 5 };
/* Longest either thread waits for the other before calling the wake-up
 * lost and failing the repetition. */
#define WAIT_LIMIT_NS ((uint64_t)2000000000)

/* What the receiving channel carries. */
struct select_msg {
  uint64_t seq;     /* 0, 1, 2 ... in sending order */
  uint64_t sent_ns; /* sm_now_ns() just before the send */
  uint32_t channel; /* the index it was sent on */
  uint32_t kind;    /* enum kind */
};

/* What a message is for: warmup (not recorded), the one after the quiet
 * wait (latency and idle CPU share), measured (latency). */
enum kind { WARMUP, QUIET, MEASURED };

/* Shared state of one repetition. Each thread writes only its own part
 * until it is joined, except for the atomics. */
struct select_state {
  enum method method;
  size_t nchannels;
  struct sm_sender **tx;
  struct sm_receiver **rx;
  uint64_t warmup_ns;
  uint64_t gap_span_ns, quiet_ns;
  uint64_t measure_ns; /* measured messages are sent for this long */
  size_t max_samples;
  struct sm_thread *sender_thread; /* set before the consumer starts */
  SM_CACHE_ALIGNED atomic_uint ready;
  SM_CACHE_ALIGNED atomic_uint_least64_t acked; /* messages acknowledged */
  SM_CACHE_ALIGNED atomic_int consumer_failed;
  /* sender's part */
  SM_CACHE_ALIGNED uint64_t sent;
  char sender_error[160];
  /* consumer's part */
  SM_CACHE_ALIGNED uint64_t received;
  double *latency_ns; /* max_samples entries */
  size_t nsamples;
  uint64_t quiet_cpu_ns, quiet_wall_ns; /* the wait for the QUIET message */
  char consumer_error[160];
};

/* Returns the calling thread's CPU time in ns. Aborts if the clock cannot
 * be read, which Linux guarantees it can. */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    abort();
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns the next value of a xorshift64 generator (state never 0). */
static uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Counts the caller in and waits (yielding) until both threads are. */
static void arrive(struct select_state *s) {
  atomic_fetch_add_explicit(&s->ready, 1, memory_order_acq_rel);
  while (atomic_load_explicit(&s->ready, memory_order_acquire) < 2)
    sched_yield();
}

/* Waits, parked, until the consumer acknowledged `seq` messages. Returns 0;
 * -ECANCELED when the consumer failed; -ETIMEDOUT after WAIT_LIMIT_NS,
 * with the reason in sender_error. */
static int wait_ack(struct select_state *s, uint64_t seq) {
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  while (atomic_load_explicit(&s->acked, memory_order_acquire) < seq) {
    if (atomic_load_explicit(&s->consumer_failed, memory_order_acquire))
      return -ECANCELED;
    uint64_t now = sm_now_ns();
    if (now >= deadline) {
      snprintf(s->sender_error, sizeof s->sender_error,
               "message %llu was not acknowledged within %.1f s (a lost "
               "wake-up)",
               (unsigned long long)seq - 1, WAIT_LIMIT_NS / 1e9);
      return -ETIMEDOUT;
    }
    sm_thread_park_timeout(deadline - now);
  }
  return 0;
}

/* Returns the kind of the next message: warmup before measure_from, then
 * one quiet message, then measured ones. */
static enum kind next_kind(uint64_t now, uint64_t measure_from,
                           int quiet_sent) {
  return now < measure_from ? WARMUP : quiet_sent ? MEASURED : QUIET;
}

/* Sleeps the gap before a message of `kind`: random, plus the quiet wait
 * before the QUIET message. */
static void sleep_gap(const struct select_state *s, uint64_t *rng, uint64_t now,
                      enum kind kind) {
  uint64_t gap = GAP_MIN_NS + next_random(rng) % s->gap_span_ns;
  sm_sleep_until_ns(now + gap + (kind == QUIET ? s->quiet_ns : 0));
}

/* The sender: after a gap, sends one timestamped message on a random
 * channel and waits for its acknowledgment: warmup messages, then one
 * after a quiet wait, then measured ones for measure_ns (at least
 * MIN_SAMPLES, at most max_samples). Stops early at the first failure;
 * then disconnects every channel. */
static void *sender_main(void *arg) {
  struct select_state *s = arg;
  arrive(s);
  uint64_t rng = (sm_now_ns() | 1) * 0x9e3779b97f4a7c15u; /* never 0 */
  uint64_t measure_from = sm_now_ns() + s->warmup_ns, measure_end = 0;
  uint64_t seq = 0, measured = 0;
  for (;;) {
    uint64_t now = sm_now_ns();
    enum kind kind = next_kind(now, measure_from, measure_end != 0);
    sleep_gap(s, &rng, now, kind);
    if (kind == MEASURED &&
        (measured >= s->max_samples ||
         (measured >= MIN_SAMPLES && sm_now_ns() >= measure_end)))
      break;
    struct select_msg m = {.seq = seq,
                           .channel =
                               (uint32_t)(next_random(&rng) % s->nchannels),
                           .kind = kind};
    m.sent_ns = sm_now_ns();
    int rc = sm_send(s->tx[m.channel], &m);
    if (rc != 0) {
      snprintf(s->sender_error, sizeof s->sender_error,
               "send on channel %u failed: %s", m.channel, strerror(-rc));
      break;
    }
    seq++;
    measured += kind != WARMUP;
    if (wait_ack(s, seq) != 0)
      break;
    if (kind == QUIET)
      measure_end = sm_now_ns() + s->measure_ns;
  }
  s->sent = seq;
  for (size_t i = 0; i < s->nchannels; i++) {
    sm_sender_release(s->tx[i]);
    s->tx[i] = NULL;
  }
  return NULL;
}

/* Waits by blocking select until a channel is ready and receives from it.
 * Returns its index, -EPIPE once the channels are disconnected, or
 * -ETIMEDOUT after WAIT_LIMIT_NS. */
static int wait_select(struct select_state *s, struct select_msg *out) {
  for (;;) {
    size_t ready;
    int rc = sm_select((struct sm_receiver *const *)s->rx, s->nchannels,
                       (int64_t)WAIT_LIMIT_NS, &ready);
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
static int wait_poll(struct select_state *s, uint64_t sleep_ns,
                     struct select_msg *out) {
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  for (;;) {
    for (size_t i = 0; i < s->nchannels; i++) {
      int rc = sm_try_recv(s->rx[i], out);
      if (rc == 0)
        return (int)i;
      if (rc == -EPIPE)
        return rc;
    }
    uint64_t now = sm_now_ns();
    if (now >= deadline)
      return -ETIMEDOUT;
    if (sleep_ns)
      sm_sleep_until_ns(now + sleep_ns);
    else
      sm_cpu_relax();
  }
}

/* Records a consumer failure and wakes the sender so that it stops. */
static void consumer_fail(struct select_state *s) {
  atomic_store_explicit(&s->consumer_failed, 1, memory_order_release);
  sm_thread_unpark(s->sender_thread);
}

/* Checks one noticed message: on the channel it was sent on, the next in
 * sequence. Returns 0, or -EPROTO with the reason in consumer_error. */
static int check_message(struct select_state *s, int index,
                         const struct select_msg *m) {
  /* m was filled: index >= 0 comes only from a receive (the analyzer
   * assumes that sm_select may return above 0, which it never does).
   * NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
  if (m->channel == (uint32_t)index && m->seq == s->received)
    return 0;
  snprintf(s->consumer_error, sizeof s->consumer_error,
           "message %llu sent on channel %u was received on channel %d as "
           "message %llu",
           (unsigned long long)m->seq, m->channel, index,
           (unsigned long long)s->received);
  return -EPROTO;
}

/* The consumer: waits for each message by its method, timestamps the
 * notice, checks it, records its latency (all but warmup messages) and the
 * CPU and wall time of the quiet wait, and acknowledges it; ends at
 * disconnection or at the first failure. */
static void *consumer_main(void *arg) {
  struct select_state *s = arg;
  arrive(s);
  uint64_t sleep_ns = poll_sleep_ns[s->method];
  for (;;) {
    struct select_msg m;
    uint64_t wall0 = sm_now_ns(), cpu0 = thread_cpu_ns();
    int index =
        s->method == SELECT ? wait_select(s, &m) : wait_poll(s, sleep_ns, &m);
    uint64_t noticed = sm_now_ns(), cpu1 = thread_cpu_ns();
    if (index == -EPIPE)
      break;
    if (index < 0)
      snprintf(s->consumer_error, sizeof s->consumer_error,
               "message %llu was not noticed within %.1f s: %s",
               (unsigned long long)s->received, WAIT_LIMIT_NS / 1e9,
               strerror(-index));
    if (index < 0 || check_message(s, index, &m) != 0) {
      consumer_fail(s);
      break;
    }
    s->received++;
    if (m.kind != WARMUP && s->nsamples < s->max_samples)
      s->latency_ns[s->nsamples++] = (double)(noticed - m.sent_ns);
    if (m.kind == QUIET) {
      s->quiet_cpu_ns = cpu1 - cpu0;
      s->quiet_wall_ns = noticed - wall0;
    }
    atomic_store_explicit(&s->acked, s->received, memory_order_release);
    sm_thread_unpark(s->sender_thread);
  }
  return NULL;
}

/* Frees the state, its channels (those not released yet) and samples. */
static void state_free(struct select_state *s) {
  for (size_t i = 0; s->tx && i < s->nchannels; i++)
    sm_sender_release(s->tx[i]);
  for (size_t i = 0; s->rx && i < s->nchannels; i++)
    sm_receiver_release(s->rx[i]);
  free(s->tx);
  free(s->rx);
  free(s->latency_ns);
  free(s);
}

/* Creates the state of one repetition with its K unbounded channels.
 * Returns 0 and sets *out, -ENOMEM or a channel's error. */
static int state_new(const struct sm_measure_config *cfg,
                     const struct sm_case *c, struct select_state **out) {
  struct select_state *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  if (!s)
    return -ENOMEM;
  memset(s, 0, sizeof *s);
  s->method = (enum method)(c->variant - c->family->variants);
  s->nchannels = (size_t)c->param[AXIS_CHANNELS];
  s->warmup_ns = cfg->warmup_ns;
  uint64_t period = poll_sleep_ns[s->method];
  s->gap_span_ns = period > GAP_SPAN_NS ? period : GAP_SPAN_NS;
  uint64_t longest = QUIET_PERIODS * poll_sleep_ns[POLL_10MS];
  s->quiet_ns = longest > cfg->duration_ns / 4 ? longest : cfg->duration_ns / 4;
  s->measure_ns = s->quiet_ns < cfg->duration_ns / 2
                      ? cfg->duration_ns - s->quiet_ns
                      : cfg->duration_ns / 2;
  s->max_samples = cfg->duration_ns / GAP_MIN_NS + MIN_SAMPLES + 1;
  atomic_init(&s->ready, 0);
  atomic_init(&s->acked, 0);
  atomic_init(&s->consumer_failed, 0);
  s->tx = calloc(s->nchannels, sizeof *s->tx);
  s->rx = calloc(s->nchannels, sizeof *s->rx);
  s->latency_ns = malloc(s->max_samples * sizeof *s->latency_ns);
  int rc = s->tx && s->rx && s->latency_ns ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < s->nchannels; i++)
    rc = sm_channel(sizeof(struct select_msg), SM_CHANNEL_UNBOUNDED, &s->tx[i],
                    &s->rx[i]);
  if (rc != 0) {
    state_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Starts the sender on os_pus[0] and the consumer on os_pus[1] and joins
 * both. Returns 0, or the spawn error with a sentence in msg (nothing is
 * left running: a lone sender is stopped through the failure flag). */
static int run_pair(const struct sm_case *c, struct select_state *s, char *msg,
                    size_t size) {
  struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
  struct sm_join_handle *sender, *consumer;
  o.name = "select-send";
  o.pin_pu = c->os_pus[0];
  int rc = sm_thread_spawn(&o, sender_main, s, &sender);
  if (rc != 0) {
    snprintf(msg, size, "cannot start the sender: %s", strerror(-rc));
    return rc;
  }
  s->sender_thread = sm_join_handle_thread(sender);
  o.name = "select-recv";
  o.pin_pu = c->os_pus[1];
  rc = sm_thread_spawn(&o, consumer_main, s, &consumer);
  if (rc != 0) {
    snprintf(msg, size, "cannot start the consumer: %s", strerror(-rc));
    consumer_fail(s);
    atomic_fetch_add_explicit(&s->ready, 1, memory_order_acq_rel);
  } else {
    sm_join(consumer, NULL);
  }
  sm_join(sender, NULL);
  return rc;
}

/* Self-check of a joined repetition: neither thread failed, every message
 * sent was noticed (once, on its channel: check_message), and some were
 * measured. Returns 0 or -EPROTO with msg. */
static int check_run(const struct select_state *s, char *msg, size_t size) {
  if (s->consumer_error[0] || s->sender_error[0]) {
    snprintf(msg, size, "%s%s%s", s->consumer_error,
             s->consumer_error[0] && s->sender_error[0] ? "; " : "",
             s->sender_error);
    return -EPROTO;
  }
  if (s->received != s->sent || s->nsamples == 0 || s->quiet_wall_ns == 0) {
    snprintf(msg, size,
             "%llu messages sent, %llu noticed, %zu measured, quiet wait "
             "%llu ns (expected all noticed, some measured, one quiet wait)",
             (unsigned long long)s->sent, (unsigned long long)s->received,
             s->nsamples, (unsigned long long)s->quiet_wall_ns);
    return -EPROTO;
  }
  return 0;
}

/* Adds the latency percentiles, the consumer's CPU share during the quiet
 * wait and the sample count of a checked repetition. Returns 0 or the
 * sink's error. */
static int report(struct select_state *s, struct sm_sink *sink) {
  sm_stats_sort(s->latency_ns, s->nsamples);
  const double *lat = s->latency_ns;
  size_t n = s->nsamples;
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"p50_ns", "ns", sm_stats_percentile_sorted(lat, n, 50)},
      {"p99_ns", "ns", sm_stats_percentile_sorted(lat, n, 99)},
      {"max_ns", "ns", lat[n - 1]},
      {"wait_cpu_share", "ratio",
       (double)s->quiet_cpu_ns / (double)s->quiet_wall_ns},
      {"samples", "messages", (double)n},
  };
  int rc = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && rc == 0; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* Measures one repetition of a case: a sender and a consumer over K
 * channels for the warmup, then the quiet wait and the measured messages
 * (the duration together, or the quiet wait plus half the duration when
 * the wait is longer than half of it; at least MIN_SAMPLES messages). */
static int select_measure(const struct sm_measure_config *cfg,
                          const struct sm_case *c, struct sm_sink *sink,
                          char *msg, size_t size) {
  struct select_state *s;
  int rc = state_new(cfg, c, &s);
  if (rc != 0) {
    snprintf(msg, size, "cannot create %ld channels: %s",
             c->param[AXIS_CHANNELS], strerror(-rc));
    return rc;
  }
  rc = run_pair(c, s, msg, size);
  if (rc == 0)
    rc = check_run(s, msg, size);
  if (rc == 0)
    rc = report(s, sink);
  state_free(s);
  return rc;
}

static const struct sm_variant variants[] = {
    [SELECT] =
        SM_VARIANT("select", "blocking select over the K receivers", NULL),
    [POLL_10MS] = SM_VARIANT(
        "poll_sleep_10ms",
        "try_recv on each channel, then sleep 10 ms (the lesson)", NULL),
    [POLL_1MS] = SM_VARIANT("poll_sleep_1ms",
                            "try_recv on each channel, then sleep 1 ms", NULL),
    [POLL_SPIN] =
        SM_VARIANT("poll_spin",
                   "try_recv on each channel, no sleep (busy reference)", NULL),
};

static const long channel_counts[] = {1, 2, 4, 8, 16, 32, 64};
static const long channel_quick[] = {2, 8, 64};

static const struct sm_axis axes[] = {
    /* max: the most receivers sm_select takes. */
    [AXIS_CHANNELS] = {"channels", channel_counts, 7, channel_quick, 3, 1,
                       1024},
};

const struct sm_family sm_family_select = {
    .name = "select",
    .summary = "notice a message on 1 of K channels: blocking select vs "
               "try_recv polling with sleeps",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = select_measure,
    .shape = SM_SHAPE_PAIR,
    .headline_metric = "p50_ns",
};
