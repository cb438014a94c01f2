/* backpressure.c: the `backpressure` family (claim C8): a producer faster
 * than its consumer, through a bounded channel (the producer blocks) and
 * an unbounded one (the queue, and the process's memory, grow): blocked
 * share, queue depth and RSS over the window; syncmark's channel and Rust
 * std's mpsc::sync_channel / mpsc::channel. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/channel.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param, and the capacity value of "unbounded". */
enum { AXIS_CAPACITY, AXIS_CONSUMER_NS };
/* The variants, in the order of variants[]. */
enum { VARIANT_SYNCMARK, VARIANT_RUST_STD };
#define CAPACITY_UNBOUNDED (-1L)

enum {
  MSG_BYTES = 64,   /* one message: sequence number and payload */
  MAX_POINTS = 256, /* series points kept; thinned to half when full */
};
/* Queued bytes beyond which the producer of an unbounded channel stops
 * sending (the `capped` metric says so). */
#define MAX_QUEUED_BYTES ((uint64_t)256 << 20)
/* Shortest time between two series points at first; doubled each time the
 * points are thinned, so that a window holds between MAX_POINTS / 2 and
 * MAX_POINTS of them once it is longer than MAX_POINTS times this. */
#define FIRST_POINT_GAP_NS UINT64_C(100000)
/* How long a capped producer sleeps per pass until the window stops. */
static const struct timespec capped_park = {.tv_nsec = 1000000};

/* One point of the series, taken by the consumer on a sampled pass (its
 * passes are evenly spaced in time: each spends consumer_ns of work). */
struct point {
  uint64_t t;       /* sm_sample_clock() */
  uint64_t polls;   /* the consumer's sampled passes so far */
  uint64_t blocked; /* of them, passes that saw the producer blocked */
  uint64_t depth;   /* messages queued */
  double rss_kib;   /* the process's resident set */
};

/* The producer's slot: `waiting` is set while it is inside a send the
 * channel refused (the consumer's sampled passes look at it); the counts
 * are published after its loop. */
struct producer {
  SM_CACHE_ALIGNED atomic_bool waiting;
  struct sm_sender *tx;  /* NULL once released */
  uint64_t total;        /* messages sent, all phases */
  uint64_t measure_sent; /* sends in the MEASURE phase */
  uint64_t measure_full; /* of them, sends the channel refused at first */
  int error;             /* the first failed send, negative errno */
};

/* The consumer's slot and its points. */
struct consumer {
  SM_CACHE_ALIGNED uint64_t received;
  uint64_t bad_seq, bad_at; /* first out-of-order message (bad_at: its
                               position + 1), if any */
  int error;                /* a failed receive, negative errno */
  uint64_t polls, blocked;  /* sampled passes in the MEASURE phase, and those
                              that saw the producer blocked */
  uint64_t capped_at;       /* the clock when the cap stopped the
                               producer; 0: never */
  uint64_t gap_ns;          /* current shortest time between two points */
  size_t npoints;
  struct point points[MAX_POINTS];
};

/* The shared state of one window. */
struct bp_state {
  struct sm_receiver *rx;    /* syncmark's channel (NULL for Rust's) */
  struct sm_rust_chan *rust; /* Rust std's channel (NULL for syncmark's) */
  long capacity;
  uint64_t work_iterations; /* sm_work_spin steps per message consumed */
  int statm_fd;             /* /proc/self/statm, read on points */
  double rss0_kib;          /* resident set when the window was set up */
  SM_CACHE_ALIGNED atomic_bool capped; /* the consumer saw the cap */
  struct producer prod;
  struct consumer cons;
};

/* The channel operations of a window on syncmark's channel or, when
 * s->rust is set, on Rust std's (its one producer is sender 0): a branch
 * on one pointer per call, not an indirect call. They return what
 * sm_try_send, sm_send and sm_recv return (0, -EAGAIN when full, -EPIPE
 * when disconnected). */
static inline int bp_try_send(const struct bp_state *s,
                              const unsigned char *msg) {
  return s->rust ? sm_rust_chan_try_send(s->rust, 0, msg)
                 : sm_try_send(s->prod.tx, msg);
}
static inline int bp_send(const struct bp_state *s, const unsigned char *msg) {
  return s->rust ? sm_rust_chan_send(s->rust, 0, msg)
                 : sm_send(s->prod.tx, msg);
}
static inline int bp_recv(const struct bp_state *s, unsigned char *msg) {
  if (s->rust)
    return sm_rust_chan_recv(s->rust, msg) == 1 ? 0 : -EPIPE;
  return sm_recv(s->rx, msg);
}
/* Messages queued now (a snapshot). */
static inline uint64_t bp_len(const struct bp_state *s) {
  return s->rust ? sm_rust_chan_len(s->rust) : sm_receiver_len(s->rx);
}
/* The producer drops its sender: the consumer sees disconnection once it
 * has drained the queue. */
static void bp_release_sender(struct bp_state *s) {
  if (s->rust) {
    sm_rust_chan_sender_done(s->rust, 0);
    return;
  }
  sm_sender_release(s->prod.tx);
  s->prod.tx = NULL;
}

/* Returns the process's resident set in KiB from the open /proc/self/statm
 * (pread at offset 0 makes the kernel render it anew), or -1 when it
 * cannot be read. No allocation, no clock: safe on a sampled pass. */
static double rss_kib(int fd) {
  char buf[128];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *p = strchr(buf, ' '); /* skip the size, take the resident */
  if (!p)
    return -1;
  unsigned long pages = 0;
  for (p++; *p >= '0' && *p <= '9'; p++)
    pages = pages * 10 + (unsigned long)(*p - '0');
  return (double)pages * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

/* Keeps every other point (the first, third, ...) and doubles the gap:
 * the series of a long window thins evenly. */
static void thin_points(struct consumer *cs) {
  size_t kept = 0;
  for (size_t i = 0; i < cs->npoints; i += 2)
    cs->points[kept++] = cs->points[i];
  cs->npoints = kept;
  cs->gap_ns *= 2;
}

/* A sampled pass of the consumer inside the MEASURE phase, the
 * `polls`-th, `blocked` of which saw the producer blocked: takes a point
 * when the gap since the last one has passed (the counts, the depth, the
 * RSS), and on an unbounded channel beyond MAX_QUEUED_BYTES tells the
 * producer to stop sending. */
static __attribute__((noinline)) void
take_point(struct bp_state *s, uint64_t polls, uint64_t blocked) {
  struct consumer *cs = &s->cons;
  uint64_t now = sm_sample_clock();
  if (cs->npoints > 0 && now - cs->points[cs->npoints - 1].t < cs->gap_ns)
    return;
  if (cs->npoints == MAX_POINTS)
    thin_points(cs);
  struct point *pt = &cs->points[cs->npoints++];
  *pt = (struct point){.t = now,
                       .polls = polls,
                       .blocked = blocked,
                       .depth = bp_len(s),
                       .rss_kib = rss_kib(s->statm_fd)};
  if (s->capacity < 0 && !cs->capped_at &&
      pt->depth * MSG_BYTES > MAX_QUEUED_BYTES) {
    cs->capped_at = now;
    atomic_store_explicit(&s->capped, true, memory_order_relaxed);
  }
}

/* Times a send the channel refused (it was full) until it is accepted and
 * offers the time to the producer's reservoir (blocked_send_*). Returns
 * the send's result. Called on sampled refusals only. */
static __attribute__((noinline)) int timed_send(struct sm_worker *w,
                                                const struct bp_state *s,
                                                const unsigned char *msg) {
  uint64_t t0 = sm_sample_start(w);
  int rc = bp_send(s, msg);
  sm_sample_stop(w, t0);
  return rc;
}

/* The producer: each pass sends one numbered message as soon as the
 * channel takes it. A send the channel refuses (sm_try_send: full) is
 * counted and made blocking with `waiting` set around it; every
 * sm_sample_due-th refusal is timed. After its loop it drops its sender
 * (the consumer then sees disconnection once drained). */
static void producer(struct sm_worker *w) {
  struct bp_state *s = w->state;
  struct producer *p = &s->prod;
  unsigned char msg[MSG_BYTES];
  memset(msg, 0xa5, sizeof msg);
  uint64_t count = 0, seq = 0, sent = 0, full = 0, refusals = 0;
  bool capped = false;
  int error = 0;
  SM_MEASURED_LOOP(w, count) {
    if (capped) {
      nanosleep(&capped_park, NULL);
      continue; /* the loop still counts the pass and watches the phase */
    }
    memcpy(msg, &seq, sizeof seq);
    int rc = bp_try_send(s, msg);
    bool refused = rc == -EAGAIN;
    if (refused) {
      atomic_store_explicit(&p->waiting, true, memory_order_relaxed);
      rc = sm_sample_due(w, refusals++) ? timed_send(w, s, msg)
                                        : bp_send(s, msg);
      atomic_store_explicit(&p->waiting, false, memory_order_relaxed);
    }
    seq += rc == 0;
    error = error ? error : rc;
    if (w->in_measure) {
      sent += rc == 0;
      full += refused;
    }
    if (sm_sample_due(w, count))
      capped = atomic_load_explicit(&s->capped, memory_order_relaxed);
  }
  p->total = seq;
  p->measure_sent = sent;
  p->measure_full = full;
  p->error = error;
  bp_release_sender(s);
}

/* Checks the sequence number of the message in msg. */
static inline void check_seq(struct consumer *cs, const unsigned char *msg) {
  uint64_t seq;
  memcpy(&seq, msg, sizeof seq);
  if (seq != cs->received && cs->bad_at == 0) {
    cs->bad_seq = seq;
    cs->bad_at = cs->received + 1;
  }
  cs->received++;
}

/* The consumer (the counting role: a pass consumes one message): receives,
 * checks the sequence and spends work_iterations per message. Its sampled
 * passes, evenly spaced in time by that work, look whether the producer
 * is blocked (the blocked share is the share of them that saw it so) and
 * take the series' points. At STOP it drains the queue without the work
 * until the producer's sender is gone: a producer blocked on a full
 * channel is released by that drain. */
static void consumer(struct sm_worker *w) {
  struct bp_state *s = w->state;
  struct consumer *cs = &s->cons;
  unsigned char msg[MSG_BYTES];
  uint64_t count = 0, polls = 0, blocked = 0;
  int rc = 0;
  cs->gap_ns = FIRST_POINT_GAP_NS;
  SM_MEASURED_LOOP(w, count) {
    rc = bp_recv(s, msg);
    if (rc == 0) {
      check_seq(cs, msg);
      SM_KEEP(sm_work_spin(s->work_iterations));
    } else if (rc != -EPIPE && !cs->error) {
      cs->error = rc;
    }
    if (sm_sample_due(w, count) && w->in_measure) {
      polls++;
      blocked += atomic_load_explicit(&s->prod.waiting, memory_order_relaxed);
      take_point(s, polls, blocked);
    }
  }
  cs->polls = polls;
  cs->blocked = blocked;
  while ((rc = bp_recv(s, msg)) == 0)
    check_seq(cs, msg);
  if (rc != -EPIPE && !cs->error)
    cs->error = rc;
}

/* Frees the state (the sender too when the producer never ran). */
static void bp_teardown(void *state) {
  struct bp_state *s = state;
  sm_sender_release(s->prod.tx);
  sm_receiver_release(s->rx);
  sm_rust_chan_free(s->rust);
  if (s->statm_fd >= 0)
    close(s->statm_fd);
  free(s);
  malloc_trim(0); /* give back what an unbounded queue grew */
}

/* Creates the channel of case c and opens /proc/self/statm. Returns 0,
 * -ENOMEM, or the errno of a statm that cannot be read (no RSS here). */
static int bp_setup(const struct sm_case *c, void **state) {
  struct bp_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  s->capacity = c->param[AXIS_CAPACITY];
  s->work_iterations =
      sm_work_iterations_for_ns((uint64_t)c->param[AXIS_CONSUMER_NS]);
  malloc_trim(0); /* start from the heap the last window gave back */
  s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  int rc = s->statm_fd < 0 ? -errno : 0;
  s->rss0_kib = rc == 0 ? rss_kib(s->statm_fd) : -1;
  if (rc == 0 && s->rss0_kib < 0)
    rc = -EIO;
  bool rust = c->variant - c->family->variants == VARIANT_RUST_STD;
  if (rc == 0 && rust) {
    s->rust = sm_rust_chan_new(MSG_BYTES, s->capacity, 1);
    rc = s->rust ? 0 : -EINVAL;
  } else if (rc == 0) {
    rc = sm_channel(
        MSG_BYTES, s->capacity < 0 ? SM_CHANNEL_UNBOUNDED : (size_t)s->capacity,
        &s->prod.tx, &s->rx);
  }
  if (rc != 0) {
    bp_teardown(s);
    return rc;
  }
  *state = s;
  return 0;
}

/* The family's applies: a Rust variant needs a build with Rust, and the
 * RSS it reports comes from /proc/self/statm. Returns 0, or
 * SM_MEASURE_SKIP with the reason in msg. */
static int bp_applies(const struct sm_case *c, char *msg, size_t size) {
  int rust = sm_rust_std_applies(c, msg, size);
  if (rust != 0)
    return rust;
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  double rss = fd >= 0 ? rss_kib(fd) : -1;
  if (fd >= 0)
    close(fd);
  if (rss >= 0)
    return 0;
  snprintf(msg, size, "/proc/self/statm cannot be read: no RSS");
  return SM_MEASURE_SKIP;
}

/* Deepest queue among the points. */
static uint64_t max_depth(const struct consumer *cs) {
  uint64_t d = 0;
  for (size_t i = 0; i < cs->npoints; i++)
    d = cs->points[i].depth > d ? cs->points[i].depth : d;
  return d;
}

/* Self-check: no failed send or receive, every message consumed once and
 * in order, and a bounded queue never above its capacity. Returns 0 or
 * -EPROTO with the numbers in msg. */
static int bp_check(const struct sm_case *c SM_UNUSED, void *state,
                    const struct sm_worker *workers SM_UNUSED, char *msg,
                    size_t size) {
  const struct bp_state *s = state;
  const struct producer *p = &s->prod;
  const struct consumer *cs = &s->cons;
  if (p->error || cs->error)
    snprintf(msg, size, "send/receive failed: %s",
             strerror(-(p->error ? p->error : cs->error)));
  else if (cs->bad_at)
    snprintf(msg, size, "message %llu carried sequence %llu",
             (unsigned long long)cs->bad_at - 1,
             (unsigned long long)cs->bad_seq);
  else if (p->total != cs->received || p->total == 0)
    snprintf(msg, size, "%llu messages produced, %llu consumed",
             (unsigned long long)p->total, (unsigned long long)cs->received);
  else if (s->capacity >= 0 && max_depth(cs) > (uint64_t)s->capacity)
    snprintf(msg, size, "queue depth %llu above the capacity %ld",
             (unsigned long long)max_depth(cs), s->capacity);
  return msg[0] ? -EPROTO : 0;
}

/* Share of the sampled passes between two counts that saw the producer
 * blocked; NaN when there were none. */
static double seen_blocked(uint64_t polls0, uint64_t blocked0, uint64_t polls1,
                           uint64_t blocked1) {
  return polls1 > polls0
             ? (double)(blocked1 - blocked0) / (double)(polls1 - polls0)
             : NAN;
}

/* Adds the series: at every point the depth, the RSS and the share of the
 * consumer's sampled passes since the previous point (its MEASURE edge for
 * the first) that saw the producer blocked, and a last blocked share from
 * the last point to its STOP edge: the same counts as the summary's
 * blocked_share, which is their poll-weighted mean. Returns 0 or a
 * negative errno of the sink. */
static int add_series(const struct bp_state *s, const struct sm_worker *cw,
                      struct sm_sink *sink) {
  const struct consumer *cs = &s->cons;
  uint64_t polls = 0, blocked = 0;
  int rc = 0;
  for (size_t i = 0; i < cs->npoints && rc == 0; i++) {
    const struct point *pt = &cs->points[i];
    double t_s = (double)(pt->t - cw->ns_at_measure) / 1e9;
    double share = seen_blocked(polls, blocked, pt->polls, pt->blocked);
    rc = sm_sink_series(sink, "depth", "messages", t_s, (double)pt->depth);
    if (rc == 0)
      rc = sm_sink_series(sink, "rss_mib", "MiB", t_s, pt->rss_kib / 1024.0);
    if (rc == 0 && !isnan(share))
      rc = sm_sink_series(sink, "blocked_share", "fraction", t_s, share);
    polls = pt->polls, blocked = pt->blocked;
  }
  double last = seen_blocked(polls, blocked, cs->polls, cs->blocked);
  if (rc == 0 && !isnan(last))
    rc = sm_sink_series(sink, "blocked_share", "fraction",
                        (double)(cw->ns_at_stop - cw->ns_at_measure) / 1e9,
                        last);
  return rc;
}

/* The family's metrics of a checked window, from the workers' counts, the
 * consumer's points and the runner's edges of the producer's MEASURE
 * phase. Returns 0 or a negative errno of the sink. */
static int bp_metrics(const struct sm_case *c SM_UNUSED, void *state,
                      const struct sm_worker *workers, unsigned n SM_UNUSED,
                      struct sm_sink *sink, char *msg SM_UNUSED,
                      size_t size SM_UNUSED) {
  const struct bp_state *s = state;
  const struct producer *p = &s->prod;
  const struct consumer *cs = &s->cons;
  const struct sm_worker *pw = &workers[0], *cw = &workers[1];
  double rss_max = s->rss0_kib;
  for (size_t i = 0; i < cs->npoints; i++)
    rss_max = fmax(rss_max, cs->points[i].rss_kib);
  double sent = (double)p->measure_sent;
  uint64_t end = cs->capped_at ? cs->capped_at : pw->ns_at_stop;
  double active = (double)(end - pw->ns_at_measure);
  int rc = sm_sink_metric(sink, "blocked_share", "fraction",
                          seen_blocked(0, 0, cs->polls, cs->blocked));
  if (rc == 0)
    rc = sm_sink_metric(sink, "refused_share", "fraction",
                        sent > 0 ? (double)p->measure_full / sent : NAN);
  if (rc == 0)
    rc = sm_sink_metric(sink, "max_depth", "messages", (double)max_depth(cs));
  if (rc == 0)
    rc = sm_sink_metric(sink, "rss_growth_mib", "MiB",
                        (rss_max - s->rss0_kib) / 1024.0);
  if (rc == 0)
    rc = sm_sink_metric(sink, "produced_per_s", "msgs/s",
                        active > 0 ? sent * 1e9 / active : NAN);
  if (rc == 0)
    rc = sm_sink_metric(sink, "capped", "bool", cs->capped_at != 0);
  if (rc == 0)
    rc = add_series(s, cw, sink);
  return rc;
}

static const long capacities[] = {16, 1024, CAPACITY_UNBOUNDED};
static const long consumer_ns[] = {1000, 10000};
static const long quick_consumer_ns[] = {2000};

static const struct sm_axis axes[] = {
    SM_AXIS("capacity", capacities, capacities, -1, 1 << 20),
    SM_AXIS("consumer_ns", consumer_ns, quick_consumer_ns, 0, 10000000),
};

/* The producer first (it samples how long a refused send waits), then the
 * consumer, which counts the operations (messages consumed: the rate the
 * slow side sets, bounded or not). */
static const struct sm_role roles[] = {
    {.name = "producer",
     .worker = producer,
     .count = 1,
     .samples = {"blocked_send"}},
    SM_ROLE_COUNTING("consumer", consumer, 1),
};

static const struct sm_variant variants[] = {
    [VARIANT_SYNCMARK] = SM_KIT_ROLES_VARIANT(
        "syncmark", "syncmark's channel, a producer faster than its consumer",
        roles),
    [VARIANT_RUST_STD] = SM_KIT_ROLES_VARIANT(
        "rust_std",
        "Rust std's mpsc::sync_channel (bounded) / mpsc::channel "
        "(unbounded), the same producer and consumer",
        roles),
};

/* The metrics bp_metrics adds (the sampled lengths of refused sends are
 * the runner's). */
static const struct sm_metric_decl metric_decls[] = {
    {"blocked_share", "fraction", SM_NO_DIRECTION,
     "share of the consumer's polls that found the producer in a refused send"},
    {"refused_share", "fraction", SM_NO_DIRECTION,
     "share of the producer's sends that found the channel full"},
    {"max_depth", "messages", SM_NO_DIRECTION,
     "deepest queue among the series' points"},
    {"rss_growth_mib", "MiB", SM_LOWER_IS_BETTER,
     "peak RSS among the points minus RSS at setup"},
    {"produced_per_s", "msgs/s", SM_HIGHER_IS_BETTER,
     "messages sent per second of the producer's window"},
    {"capped", "bool", SM_NO_DIRECTION,
     "1 when the unbounded queue reached its memory cap"},
};

SM_FAMILY_DEFINE(
    backpressure, bp,
    "a fast producer, a slow consumer: blocked share, queue depth "
    "and RSS over time, bounded vs unbounded (-1)",
    SM_FAMILY_AXES(axes), SM_FAMILY_METRICS(bp_metrics, metric_decls),
    .applies = bp_applies,
    /* one case per axis combination, unpinned: the claim is about memory
     * and blocking, not placement; the consumer is the extra thread */
    .shape = SM_SHAPE_SINGLE, .extra_threads = 1,
    .headline_metric = "blocked_share");
