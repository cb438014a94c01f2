/* backpressure.c: the `backpressure` family (claim C8): a producer faster
 * than its consumer, through a bounded channel (the producer blocks) and
 * an unbounded one (the queue, and the process's memory, grow): blocked
 * share, queue depth and RSS sampled over time. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/thread.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param, and the capacity value of "unbounded". */
enum { AXIS_CAPACITY, AXIS_CONSUMER_NS };
#define CAPACITY_UNBOUNDED (-1L)

enum {
  MSG_BYTES = 64,   /* one message: sequence number and payload */
  SAMPLES = 100,    /* points per series and repetition */
  CAP_EVERY = 1024, /* sends between two looks at the stop flag */
};
/* Queued bytes beyond which the producer of an unbounded channel is
 * stopped before its time (the `capped` metric says so). */
#define MAX_QUEUED_BYTES ((uint64_t)256 << 20)
/* Longest a repetition waits past its duration for the first message. */
#define GRACE_NS UINT64_C(1000000000)
/* Shortest interval between two samples. */
#define MIN_SAMPLE_NS UINT64_C(100000)

/* One repetition. Counters the sampler reads each have their own line. */
struct bp_run {
  SM_CACHE_ALIGNED atomic_bool stop;
  atomic_bool draining; /* the consumer stops its per-message work */
  SM_CACHE_ALIGNED atomic_uint_least64_t sent;
  atomic_uint_least64_t blocked_ns; /* producer time inside blocking sends */
  SM_CACHE_ALIGNED atomic_uint_least64_t received;
  SM_CACHE_ALIGNED struct sm_sender *tx;
  struct sm_receiver *rx;
  uint64_t work_iterations; /* sm_work_spin steps per message consumed */
  uint64_t active_ns;       /* the producer's time from its start to its stop */
  int send_error, recv_error;
  uint64_t bad_seq, bad_at; /* first out-of-order message, if any */
};

/* Returns the sm_work_spin steps for `ns`, calibrating each distinct
 * length once per process (never inside a repetition's timing). */
static uint64_t iterations_for(long ns) {
  static long cached_ns[8];
  static uint64_t cached_iterations[8];
  static size_t ncached;
  for (size_t i = 0; i < ncached; i++)
    if (cached_ns[i] == ns)
      return cached_iterations[i];
  uint64_t iterations = sm_work_calibrate((uint64_t)ns);
  if (ncached < 8) {
    cached_ns[ncached] = ns;
    cached_iterations[ncached++] = iterations;
  }
  return iterations;
}

/* Sends one message, timing the send when the channel is full (the
 * producer is then blocked by backpressure). Returns 0 or -EPIPE. */
static int send_timed(struct bp_run *r, const unsigned char *msg) {
  int rc = sm_try_send(r->tx, msg);
  if (rc != -EAGAIN)
    return rc;
  uint64_t t0 = sm_now_ns();
  rc = sm_send(r->tx, msg);
  atomic_fetch_add_explicit(&r->blocked_ns, sm_now_ns() - t0,
                            memory_order_relaxed);
  return rc;
}

/* The producer: sends numbered messages as fast as the channel takes them
 * until the stop flag, then releases its sender. */
static void *produce(void *arg) {
  struct bp_run *r = arg;
  unsigned char msg[MSG_BYTES];
  memset(msg, 0xa5, sizeof msg);
  uint64_t seq = 0, begin = sm_now_ns();
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    memcpy(msg, &seq, sizeof seq);
    int rc = send_timed(r, msg);
    if (rc != 0) {
      r->send_error = rc;
      break;
    }
    if (++seq % CAP_EVERY == 0)
      atomic_store_explicit(&r->sent, seq, memory_order_relaxed);
  }
  atomic_store_explicit(&r->sent, seq, memory_order_relaxed);
  r->active_ns = sm_now_ns() - begin;
  sm_sender_release(r->tx);
  return NULL;
}

/* The consumer: receives until disconnection, checking the sequence, and
 * spends work_iterations per message until the drain begins. */
static void *consume(void *arg) {
  struct bp_run *r = arg;
  unsigned char msg[MSG_BYTES];
  uint64_t expected = 0;
  int rc;
  while ((rc = sm_recv(r->rx, msg)) == 0) {
    uint64_t seq;
    memcpy(&seq, msg, sizeof seq);
    if (seq != expected && r->bad_at == 0) {
      r->bad_seq = seq;
      r->bad_at = expected + 1;
    }
    expected++;
    atomic_store_explicit(&r->received, expected, memory_order_relaxed);
    if (!atomic_load_explicit(&r->draining, memory_order_relaxed))
      SM_KEEP(sm_work_spin(r->work_iterations));
  }
  if (rc != -EPIPE)
    r->recv_error = rc;
  return NULL;
}

/* Returns the process's resident set size in KiB, or -1 when
 * /proc/self/statm cannot be read. */
static double rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size, resident;
  /* NOLINTNEXTLINE(cert-err34-c): the kernel writes page counts that fit */
  int n = f ? fscanf(f, "%lu %lu", &size, &resident) : 0;
  if (f)
    fclose(f);
  return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) / 1024.0
                : -1;
}

/* What the sampler keeps for the summary. */
struct bp_summary {
  double rss0_kib, rss_max_kib;
  size_t max_depth;
  bool capped;
};

/* Adds one sample of every series at t_s. Returns 0 or a negative errno. */
static int add_sample(struct sm_sink *sink, double t_s, double depth,
                      double rss, double blocked_share) {
  int rc = sm_sink_series(sink, "depth", "messages", t_s, depth);
  if (rc == 0)
    rc = sm_sink_series(sink, "rss_mib", "MiB", t_s, rss / 1024.0);
  if (rc == 0)
    rc = sm_sink_series(sink, "blocked_share", "fraction", t_s, blocked_share);
  return rc;
}

/* Samples depth, RSS and the producer's blocked share SAMPLES times over
 * duration_ns, stopping the producer at the end or when the queue holds
 * MAX_QUEUED_BYTES. Returns 0 or a negative errno of the sink (the
 * producer is stopped either way). */
static int sample(struct bp_run *r, uint64_t duration_ns, struct sm_sink *sink,
                  struct bp_summary *s) {
  uint64_t start = sm_now_ns(), period = duration_ns / SAMPLES;
  if (period < MIN_SAMPLE_NS)
    period = MIN_SAMPLE_NS;
  uint64_t last_t = start, last_blocked = 0, max_queued = MAX_QUEUED_BYTES;
  int rc = 0;
  for (uint64_t next = start + period; rc == 0; next += period) {
    sm_sleep_until_ns(next);
    uint64_t now = sm_now_ns();
    uint64_t blocked =
        atomic_load_explicit(&r->blocked_ns, memory_order_relaxed);
    size_t depth = sm_receiver_len(r->rx);
    double rss = rss_kib();
    s->max_depth = depth > s->max_depth ? depth : s->max_depth;
    s->rss_max_kib = rss > s->rss_max_kib ? rss : s->rss_max_kib;
    double share = (double)(blocked - last_blocked) / (double)(now - last_t);
    rc = add_sample(sink, (double)(now - start) / 1e9, (double)depth, rss,
                    share > 1 ? 1 : share);
    last_t = now, last_blocked = blocked;
    s->capped = (uint64_t)depth * MSG_BYTES > max_queued;
    bool some = atomic_load_explicit(&r->received, memory_order_relaxed) > 0;
    if (s->capped || (now - start >= duration_ns &&
                      (some || now - start >= duration_ns + GRACE_NS)))
      break; /* a starved machine gets a grace for the first message */
  }
  atomic_store_explicit(&r->stop, true, memory_order_relaxed);
  return rc;
}

/* Self-check: no failed send or receive, every message consumed once and
 * in order, and a bounded queue never above its capacity. Returns 0 or
 * -EPROTO with the numbers in msg. */
static int verify(const struct bp_run *r, long capacity,
                  const struct bp_summary *s, char *msg, size_t size) {
  uint64_t sent = atomic_load_explicit(&r->sent, memory_order_relaxed);
  uint64_t got = atomic_load_explicit(&r->received, memory_order_relaxed);
  if (r->send_error || r->recv_error)
    snprintf(msg, size, "send/receive failed: %s",
             strerror(-(r->send_error ? r->send_error : r->recv_error)));
  else if (r->bad_at)
    snprintf(msg, size, "message %llu carried sequence %llu",
             (unsigned long long)r->bad_at - 1, (unsigned long long)r->bad_seq);
  else if (sent != got || sent == 0 || r->active_ns == 0)
    snprintf(msg, size, "%llu messages produced, %llu consumed",
             (unsigned long long)sent, (unsigned long long)got);
  else if (capacity >= 0 && s->max_depth > (size_t)capacity)
    snprintf(msg, size, "queue depth %zu above the capacity %ld", s->max_depth,
             capacity);
  return msg[0] ? -EPROTO : 0;
}

/* Adds the summary metrics of a checked repetition (blocked share and
 * rate over the producer's own running time). */
static int add_metrics(const struct bp_run *r, const struct bp_summary *s,
                       struct sm_sink *sink) {
  double secs = (double)r->active_ns / 1e9;
  double blocked =
      (double)atomic_load_explicit(&r->blocked_ns, memory_order_relaxed);
  double sent = (double)atomic_load_explicit(&r->sent, memory_order_relaxed);
  int rc =
      sm_sink_metric(sink, "blocked_share", "fraction", blocked / 1e9 / secs);
  if (rc == 0)
    rc = sm_sink_metric(sink, "max_depth", "messages", (double)s->max_depth);
  if (rc == 0)
    rc = sm_sink_metric(sink, "rss_growth_mib", "MiB",
                        (s->rss_max_kib - s->rss0_kib) / 1024.0);
  if (rc == 0)
    rc = sm_sink_metric(sink, "produced_per_s", "msgs/s", sent / secs);
  if (rc == 0)
    rc = sm_sink_metric(sink, "capped", "bool", s->capped);
  return rc;
}

/* Spawns the consumer and producer, samples, stops the producer, lets the
 * consumer drain without its work, and joins both. Returns 0 or a
 * negative errno (spawn, sink); every started thread has been joined. */
static int run_threads(struct bp_run *r, const struct sm_measure_config *cfg,
                       struct sm_sink *sink, struct bp_summary *s) {
  struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
  struct sm_join_handle *consumer, *producer;
  o.name = "sm-bp-rx";
  int rc = sm_thread_spawn(&o, consume, r, &consumer);
  if (rc != 0) {
    sm_sender_release(r->tx);
    return rc;
  }
  o.name = "sm-bp-tx";
  rc = sm_thread_spawn(&o, produce, r, &producer);
  if (rc == 0) {
    rc = sample(r, cfg->duration_ns, sink, s);
    sm_join(producer, NULL);
  } else {
    sm_sender_release(r->tx);
  }
  atomic_store_explicit(&r->draining, true, memory_order_relaxed);
  sm_join(consumer, NULL);
  return rc;
}

/* The family's measure: one repetition of case c (threads unpinned: the
 * claim is about memory and blocking, not placement). */
static int backpressure_measure(const struct sm_measure_config *cfg,
                                const struct sm_case *c, struct sm_sink *sink,
                                char *msg, size_t size) {
  long capacity = c->param[AXIS_CAPACITY];
  struct bp_run *r = aligned_alloc(SM_CACHE_LINE, sizeof *r);
  if (!r)
    return -ENOMEM;
  memset(r, 0, sizeof *r);
  r->work_iterations = iterations_for(c->param[AXIS_CONSUMER_NS]);
  malloc_trim(0); /* start from the heap the last repetition gave back */
  struct bp_summary s = {.rss0_kib = rss_kib()};
  s.rss_max_kib = s.rss0_kib;
  int rc = sm_channel(MSG_BYTES,
                      capacity < 0 ? SM_CHANNEL_UNBOUNDED : (size_t)capacity,
                      &r->tx, &r->rx);
  if (rc == 0 && s.rss0_kib < 0) {
    snprintf(msg, size, "/proc/self/statm cannot be read: no RSS");
    sm_sender_release(r->tx);
    rc = SM_MEASURE_SKIP;
  } else if (rc == 0) {
    rc = run_threads(r, cfg, sink, &s);
  }
  if (rc < 0 && !msg[0])
    snprintf(msg, size, "cannot run: %s", strerror(-rc));
  if (rc == 0)
    rc = verify(r, capacity, &s, msg, size);
  if (rc == 0)
    rc = add_metrics(r, &s, sink);
  sm_receiver_release(r->rx);
  free(r);
  malloc_trim(0);
  return rc;
}

static const long capacities[] = {16, 1024, CAPACITY_UNBOUNDED};
static const long consumer_ns[] = {1000, 10000};
static const long quick_consumer_ns[] = {2000};

static const struct sm_axis axes[] = {
    {"capacity", capacities, 3, capacities, 3, -1, 1 << 20},
    {"consumer_ns", consumer_ns, 2, quick_consumer_ns, 1, 0, 10000000},
};

static const struct sm_variant variants[] = {
    SM_VARIANT("syncmark",
               "syncmark's channel, a producer faster than its consumer", NULL),
};

const struct sm_family sm_family_backpressure = {
    .name = "backpressure",
    .summary = "a fast producer, a slow consumer: blocked share, queue depth "
               "and RSS over time, bounded vs unbounded (-1)",
    .variants = variants,
    .nvariants = 1,
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = backpressure_measure,
    .shape = SM_SHAPE_SINGLE,
    .headline_metric = "blocked_share",
};
