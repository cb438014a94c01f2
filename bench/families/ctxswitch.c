/* ctxswitch.c: the `ctxswitch` family: the round trip of a token passed
 * between two threads through futex, pipe, eventfd, condvar, park/unpark
 * or a spinning flag, per pair placement, with the switches each round
 * trip cost (claim C1); the same calls made by one thread, perf's own
 * pipe benchmark, and Rust std's park / unpark and Condvar are rows of
 * their own. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "family.h"
#include "kit.h"
#include "peer.h"
#include "runner.h"
#include "rust_std.h"
#include "syncmark/futex.h"
#include "syncmark/park.h"

/* How the token travels. */
enum mech {
  M_FUTEX,
  M_PIPE,
  M_EVENTFD,
  M_CONDVAR,
  M_PARK,
  M_SPIN,
  M_RUST_PARK,
  M_RUST_CONDVAR
};

/* The token that ends the responder: the initiator sends it once after
 * its loop. Round trip k carries token_of(k) there and token_of(k) + 1
 * back, which never equal it. */
enum { TOKEN_STOP = -1 };
/* Round numbers wrap here, so tokens stay positive ints in any window. */
#define ROUND_MASK ((1u << 29) - 1u)
/* Pause iterations a spinning waiter tries before each sched_yield: a
 * waiter on its partner's PU would otherwise spin until preempted. */
enum { SPIN_BEFORE_YIELD = 256 };
/* Fewest round trips one rtt_batch sample averages over. */
enum { RTT_BATCH = 64 };

/* The token of round trip k (the initiator's odd value). */
static inline int token_of(uint64_t k) {
  return (int)(2u * (k & ROUND_MASK) + 1u);
}

/* One pair of threads passing a token; fields written by one side only
 * sit on their own cache lines. */
struct pingpong {
  SM_CACHE_ALIGNED atomic_int ball; /* the token (futex word) */
  int fds[2][2]; /* per receiving side: read end, write end (eventfd: the
                    same descriptor twice; one thread: side 0's are side
                    1's) */
  struct sm_parker parker[2];
  pthread_mutex_t mu;
  pthread_cond_t cond[2];
  struct sm_rust_handoff *rust; /* the rust_* variants' (else NULL) */
  int alone;                    /* one thread plays both sides */
  /* per side, published once after its loop: tokens received (the
   * responder's, warm-up included) and those with an unexpected value */
  struct side {
    SM_CACHE_ALIGNED uint64_t received, bad;
  } side[2];
};

/* Adapters: <mech>_send hands value v to side `to`; <mech>_recv waits for
 * the token meant for `side`, the ball having held `prev` before the
 * sender wrote it, and returns it. A write or read on the pair's own pipe
 * or eventfd cannot fail (one token is in flight, both ends stay open);
 * one that does aborts the process, as an OS call that cannot fail does
 * in syncmark. */

static inline void futex_send(struct pingpong *s, int to SM_UNUSED, int v) {
  atomic_store_explicit(&s->ball, v, memory_order_release);
  (void)sm_futex_wake(&s->ball, 1);
}

static inline int futex_recv(struct pingpong *s, int side SM_UNUSED, int prev) {
  int v;
  while ((v = atomic_load_explicit(&s->ball, memory_order_acquire)) == prev)
    (void)sm_futex_wait(&s->ball, prev, NULL);
  return v;
}

/* Writes all of buf (len bytes) to fd in one call, or aborts. */
static inline void write_or_abort(int fd, const void *buf, size_t len) {
  if (write(fd, buf, len) != (ssize_t)len)
    abort();
}

/* Reads len bytes from fd in one call, retrying after signals, or aborts
 * (end of file or a short read cannot happen on the pair's channels). */
static inline void read_or_abort(int fd, void *buf, size_t len) {
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)len)
    abort();
}

static inline void pipe_send(struct pingpong *s, int to, int v) {
  write_or_abort(s->fds[to][1], &v, sizeof v);
}

static inline int pipe_recv(struct pingpong *s, int side, int prev SM_UNUSED) {
  int v;
  read_or_abort(s->fds[side][0], &v, sizeof v);
  return v;
}

static inline void eventfd_send(struct pingpong *s, int to, int v) {
  uint64_t one = 1;
  atomic_store_explicit(&s->ball, v, memory_order_release);
  write_or_abort(s->fds[to][1], &one, sizeof one);
}

/* A count other than 1 (two writes coalesced) returns `prev`, which the
 * receiver counts as a bad token. */
static inline int eventfd_recv(struct pingpong *s, int side, int prev) {
  uint64_t count;
  read_or_abort(s->fds[side][0], &count, sizeof count);
  int v = atomic_load_explicit(&s->ball, memory_order_acquire);
  return count == 1 ? v : prev;
}

static inline void condvar_send(struct pingpong *s, int to, int v) {
  pthread_mutex_lock(&s->mu);
  atomic_store_explicit(&s->ball, v, memory_order_relaxed);
  pthread_cond_signal(&s->cond[to]);
  pthread_mutex_unlock(&s->mu);
}

static inline int condvar_recv(struct pingpong *s, int side, int prev) {
  int v;
  pthread_mutex_lock(&s->mu);
  while ((v = atomic_load_explicit(&s->ball, memory_order_relaxed)) == prev)
    pthread_cond_wait(&s->cond[side], &s->mu);
  pthread_mutex_unlock(&s->mu);
  return v;
}

static inline void park_send(struct pingpong *s, int to, int v) {
  atomic_store_explicit(&s->ball, v, memory_order_release);
  sm_parker_unpark(&s->parker[to]);
}

static inline int park_recv(struct pingpong *s, int side, int prev) {
  int v;
  while ((v = atomic_load_explicit(&s->ball, memory_order_acquire)) == prev)
    sm_parker_park(&s->parker[side]);
  return v;
}

/* Rust std's thread::park / unpark and Condvar (bench/peers/rust_std.rs)
 * on the ball. */
static inline void rust_park_send(struct pingpong *s, int to, int v) {
  sm_rust_park_send(s->rust, &s->ball, (size_t)to, v);
}

static inline int rust_park_recv(struct pingpong *s, int side, int prev) {
  return sm_rust_park_recv(s->rust, &s->ball, (size_t)side, prev);
}

static inline void rust_condvar_send(struct pingpong *s, int to, int v) {
  sm_rust_condvar_send(s->rust, &s->ball, (size_t)to, v);
}

static inline int rust_condvar_recv(struct pingpong *s, int side, int prev) {
  return sm_rust_condvar_recv(s->rust, &s->ball, (size_t)side, prev);
}

static inline void spin_send(struct pingpong *s, int to SM_UNUSED, int v) {
  atomic_store_explicit(&s->ball, v, memory_order_release);
}

/* Spins until the ball leaves `prev`, yielding the PU after every
 * SPIN_BEFORE_YIELD pauses. */
static inline int spin_recv(struct pingpong *s, int side SM_UNUSED, int prev) {
  int v;
  for (unsigned i = 1;
       (v = atomic_load_explicit(&s->ball, memory_order_acquire)) == prev;
       i++) {
    sm_cpu_relax();
    if (i % SPIN_BEFORE_YIELD == 0)
      sched_yield();
  }
  return v;
}

/* Where the initiator's current rtt_batch began: the pass and the clock of
 * a sampled pass. */
struct batch_mark {
  uint64_t from, t0;
  int open;
};

/* On a sampled pass `count` whose clock read `now`: once RTT_BATCH round
 * trips have passed since the batch began, offers their mean (kind 1,
 * rtt_batch) unless the batch began before the MEASURE edge, and begins
 * the next batch here. */
static inline void mark_batch(struct sm_worker *w, struct batch_mark *b,
                              uint64_t count, uint64_t now) {
  if (b->open && count - b->from < RTT_BATCH)
    return;
  if (b->open && w->saw_measure && b->t0 >= w->ns_at_measure)
    sm_worker_sample_kind(w, 1,
                          (double)(now - b->t0) / (double)(count - b->from));
  *b = (struct batch_mark){.from = count, .t0 = now, .open = 1};
}

/* The measured loop of a thread that starts round trips: `round` is an
 * expression of `out` (the round's token) giving 1 for a bad answer.
 * Sampled passes time one round trip (rtt) and mark batches (rtt_batch).
 * Publishes its bad answers as side 0's. */
#define INITIATOR_LOOP(w, s, round)                                            \
  do {                                                                         \
    struct batch_mark batch_ = {0};                                            \
    uint64_t count_ = 0, bad_ = 0;                                             \
    SM_MEASURED_LOOP(w, count_) {                                              \
      int out = token_of(count_);                                              \
      if (sm_sample_due((w), count_)) {                                        \
        uint64_t t0_ = sm_sample_start(w);                                     \
        mark_batch((w), &batch_, count_, t0_);                                 \
        bad_ += (round);                                                       \
        sm_sample_stop((w), t0_);                                              \
      } else {                                                                 \
        bad_ += (round);                                                       \
      }                                                                        \
    }                                                                          \
    (s)->side[0].received = count_;                                            \
    (s)->side[0].bad = bad_;                                                   \
  } while (0)

/* What the responder has seen so far. */
struct responder {
  uint64_t received, bad;
  int prev; /* the ball's value after its last answer */
  int stopped;
};

/* Defines, for mechanism m, the pair's two workers:
 * - m_initiator: round trips (send token_of(k), wait for token_of(k) + 1)
 *   until the runner stops the window, then TOKEN_STOP to the responder;
 * - m_responder: answers every token with the next value. It may see the
 *   runner's STOP before the initiator's last token, so after its loop it
 *   keeps answering until TOKEN_STOP arrives: neither side is left
 *   waiting for a partner that stopped. */
#define PAIR_WORKERS(m)                                                        \
  static inline uint64_t m##_round(struct pingpong *s, int out) {              \
    m##_send(s, 1, out);                                                       \
    return m##_recv(s, 0, out) != out + 1;                                     \
  }                                                                            \
  static void m##_initiator(struct sm_worker *w) {                             \
    struct pingpong *s = w->state;                                             \
    INITIATOR_LOOP(w, s, m##_round(s, out));                                   \
    m##_send(s, 1, TOKEN_STOP);                                                \
  }                                                                            \
  static inline void m##_answer(struct pingpong *s, struct responder *r) {     \
    int v = m##_recv(s, 1, r->prev);                                           \
    if (v == TOKEN_STOP) {                                                     \
      r->stopped = 1;                                                          \
      return;                                                                  \
    }                                                                          \
    r->bad += v != token_of(r->received);                                      \
    r->received++;                                                             \
    r->prev = v + 1;                                                           \
    m##_send(s, 0, r->prev);                                                   \
  }                                                                            \
  static void m##_responder(struct sm_worker *w) {                             \
    struct pingpong *s = w->state;                                             \
    struct responder r = {0};                                                  \
    uint64_t count = 0;                                                        \
    SM_MEASURED_LOOP(w, count) {                                               \
      m##_answer(s, &r);                                                       \
    }                                                                          \
    while (!r.stopped)                                                         \
      m##_answer(s, &r);                                                       \
    s->side[1].received = r.received;                                          \
    s->side[1].bad = r.bad;                                                    \
  }

/* Defines m_alone: one thread sends each token to itself and receives it
 * (the calls of a hand-off without a partner: a pipe write + read, a
 * futex wake nobody waits for); the ball only has to differ from a value
 * it never holds. */
#define ALONE_WORKER(m)                                                        \
  static inline uint64_t m##_self(struct pingpong *s, int out) {               \
    m##_send(s, 1, out);                                                       \
    return m##_recv(s, 0, out - 1) != out;                                     \
  }                                                                            \
  static void m##_alone(struct sm_worker *w) {                                 \
    struct pingpong *s = w->state;                                             \
    INITIATOR_LOOP(w, s, m##_self(s, out));                                    \
  }

#define HANDOFFS(X) X(futex) X(pipe) X(eventfd) X(condvar) X(park)
/* Rust std's hand-offs, pairs only: a Rust parker is the thread's own, so
 * one thread cannot stand for both sides as the C parkers do. */
#define RUST_HANDOFFS(X) X(rust_park) X(rust_condvar)
HANDOFFS(PAIR_WORKERS)
PAIR_WORKERS(spin)
RUST_HANDOFFS(PAIR_WORKERS)
HANDOFFS(ALONE_WORKER)

/* The role of the thread that starts round trips (the case's operations;
 * the first PU of the pair): it samples one round trip (rtt) and the mean
 * of batches of them (rtt_batch). */
#define INITIATOR_ROLE(name_, worker_)                                         \
  SM_ROLE_COUNTING_SAMPLED((name_), (worker_), 1, "rtt", "rtt_batch")

/* Roles: m_pair (initiator on the pair's first PU, responder on its
 * second) and m_one (one thread alone). */
#define PAIR_ROLES(m)                                                          \
  static const struct sm_role m##_pair[] = {                                   \
      INITIATOR_ROLE("initiator", m##_initiator),                              \
      SM_ROLE_SERVING("responder", m##_responder, 1)};
#define ALONE_ROLES(m)                                                         \
  static const struct sm_role m##_one[] = {INITIATOR_ROLE("alone", m##_alone)};
HANDOFFS(PAIR_ROLES)
PAIR_ROLES(spin)
RUST_HANDOFFS(PAIR_ROLES)
HANDOFFS(ALONE_ROLES)

/* Closes every descriptor of the pair once; -1 entries are skipped
 * (side 0's may be side 1's, and an eventfd is both ends). */
static void close_fds(struct pingpong *s) {
  for (int i = 0; i < 2; i++) {
    if (i == 0 && s->fds[0][0] == s->fds[1][0])
      continue;
    if (s->fds[i][0] >= 0)
      close(s->fds[i][0]);
    if (s->fds[i][1] >= 0 && s->fds[i][1] != s->fds[i][0])
      close(s->fds[i][1]);
  }
}

/* Opens the channel side i receives on: a pipe or an eventfd (both ends
 * one descriptor); nothing for the other mechanisms. Returns 0 or a
 * negative errno. */
static int open_channel(struct pingpong *s, enum mech m, int i) {
  if (m == M_PIPE && pipe2(s->fds[i], O_CLOEXEC) != 0)
    return -errno;
  if (m == M_EVENTFD &&
      (s->fds[i][0] = s->fds[i][1] = eventfd(0, EFD_CLOEXEC)) < 0)
    return -errno;
  return 0;
}

/* Frees a pair made by ctxswitch_setup; NULL is accepted. */
static void ctxswitch_teardown(void *state) {
  struct pingpong *s = state;
  if (!s)
    return;
  close_fds(s);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cond[0]);
  pthread_cond_destroy(&s->cond[1]);
  sm_rust_handoff_free(s->rust);
  free(s);
}

/* Whether the case places both threads on one PU. */
static int same_pu(const struct sm_case *c) {
  return strcmp(c->placement_name, "same-pu") == 0;
}

static int perf_measure(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t size);

#define PAIR_VARIANT(m, summary_)                                              \
  { .name = #m, .summary = (summary_), .roles = m##_pair, .nroles = 2 }
#define ALONE_VARIANT(m, summary_)                                             \
  {                                                                            \
    .name = #m "_1thread", .summary = (summary_), .roles = m##_one,            \
    .nroles = 1                                                                \
  }

static const struct sm_variant variants[] = {
    PAIR_VARIANT(futex, "store + FUTEX_WAKE / FUTEX_WAIT on one word"),
    PAIR_VARIANT(pipe, "one int written to and read from a pipe per direction"),
    {.name = "perf_pipe",
     .summary = "perf bench sched pipe -T, pinned with taskset",
     .measure = perf_measure},
    PAIR_VARIANT(eventfd, "an eventfd per direction (write 1 / read)"),
    PAIR_VARIANT(condvar, "pthread mutex + one condition variable per side"),
    PAIR_VARIANT(park, "store + unpark / park (Rust's futex parker)"),
    PAIR_VARIANT(spin,
                 "spinning on a flag (no switch; yields after 256 pauses)"),
    ALONE_VARIANT(futex, "one thread: store + FUTEX_WAKE with no waiter"),
    ALONE_VARIANT(pipe, "one thread: pipe write + read of one int"),
    ALONE_VARIANT(eventfd, "one thread: eventfd write + read"),
    ALONE_VARIANT(condvar,
                  "one thread: lock, signal nobody, unlock, lock, check, "
                  "unlock"),
    ALONE_VARIANT(park, "one thread: store + unpark a parker nobody sleeps on"),
    PAIR_VARIANT(rust_park, "Rust std: store + Thread::unpark / thread::park"),
    PAIR_VARIANT(rust_condvar,
                 "Rust std: Mutex + Condvar::notify_one / wait per side"),
};

/* The mechanism of each variant (perf_pipe's is unused). */
static const enum mech mechs[] = {
    M_FUTEX,   M_PIPE, M_PIPE,      M_EVENTFD,      M_CONDVAR,
    M_PARK,    M_SPIN, M_FUTEX,     M_PIPE,         M_EVENTFD,
    M_CONDVAR, M_PARK, M_RUST_PARK, M_RUST_CONDVAR,
};
_Static_assert(sizeof mechs / sizeof mechs[0] ==
                   sizeof variants / sizeof variants[0],
               "one mechanism per variant");

/* Creates the pair of one window: the channels its mechanism needs (a lone
 * thread sends to side 1 and receives as side 0, so both share one). A
 * one-thread variant runs only on the first PU of the same-pu case and
 * unpinned: other placements return SM_MEASURE_SKIP (one thread has no
 * placement). Returns 0, SM_MEASURE_SKIP, -ENOMEM or the errno of
 * pipe/eventfd. */
static int ctxswitch_setup(const struct sm_case *c, void **state) {
  int alone = c->variant->nroles == 1;
  if (alone && c->os_pus[0] >= 0 && !same_pu(c))
    return SM_MEASURE_SKIP;
  struct pingpong *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  memset(s->fds, -1, sizeof s->fds);
  s->alone = alone;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond[0], NULL);
  pthread_cond_init(&s->cond[1], NULL);
  enum mech m = mechs[c->variant - variants];
  if (sm_is_rust_variant(c->variant) && !(s->rust = sm_rust_handoff_new())) {
    ctxswitch_teardown(s);
    return -ENOMEM;
  }
  int rc = open_channel(s, m, 1);
  if (rc == 0 && !alone)
    rc = open_channel(s, m, 0);
  else if (rc == 0)
    memcpy(s->fds[0], s->fds[1], sizeof s->fds[0]);
  if (rc != 0) {
    ctxswitch_teardown(s);
    return rc;
  }
  *state = s;
  return 0;
}

/* Voluntary (`voluntary` = 1) or involuntary context switches of the n
 * workers between the MEASURE and STOP edges each of them saw. */
static double switches(const struct sm_worker *workers, unsigned n,
                       int voluntary) {
  double sum = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct rusage *a = &workers[i].usage_at_measure,
                        *b = &workers[i].usage_at_stop;
    sum += voluntary ? (double)(b->ru_nvcsw - a->ru_nvcsw)
                     : (double)(b->ru_nivcsw - a->ru_nivcsw);
  }
  return sum;
}

/* Fewest measured round trips the switch check judges: the edges of the
 * phase move the switch count by a few at most. */
enum { MIN_SWITCH_CHECK = 100 };

/* Round trips the initiator (worker 0) made in the MEASURE phase. */
static double measured_rounds(const struct sm_worker *workers) {
  return (double)(workers[0].ops_at_stop - workers[0].ops_at_measure);
}

/* The self-check of a window: both sides received every token once with
 * the expected value, and a blocking hand-off between threads on one PU
 * really switched: each round trip needs two switches (at least 1.8
 * allows for the edges of the measured phase), one of them voluntary at
 * least (the woken side may preempt the waker, but then blocks itself),
 * judged once MIN_SWITCH_CHECK round trips were measured (a window in
 * which a thread got no CPU may have none). Returns 0 or -EPROTO with the
 * numbers in msg. */
static int ctxswitch_check(const struct sm_case *c, void *state,
                           const struct sm_worker *workers, char *msg,
                           size_t size) {
  const struct pingpong *s = state;
  const struct side *a = &s->side[0], *b = &s->side[1];
  uint64_t sent = workers[0].ops_at_stop;
  double rounds = measured_rounds(workers);
  if (a->received != sent || a->bad ||
      (!s->alone && (b->received != sent || b->bad)))
    return sm_kit_check_failed(
        msg, size,
        "token count mismatch: %llu round trips sent, side 0 got %llu "
        "(%llu bad), side 1 got %llu (%llu bad)",
        (unsigned long long)sent, (unsigned long long)a->received,
        (unsigned long long)a->bad, (unsigned long long)b->received,
        (unsigned long long)b->bad);
  unsigned n = s->alone ? 1 : 2;
  double vcsw = switches(workers, n, 1) / rounds;
  double all = vcsw + switches(workers, n, 0) / rounds;
  if (!s->alone && mechs[c->variant - variants] != M_SPIN && same_pu(c) &&
      rounds >= MIN_SWITCH_CHECK && (all < 1.8 || vcsw < 0.5))
    return sm_kit_check_failed(
        msg, size,
        "threads on one PU handed the token back %.0f times with only "
        "%.2f context switches per round trip, %.2f voluntary (2 and "
        "at least 1 expected)",
        rounds, all, vcsw);
  return 0;
}

/* The family's metrics of a checked window: the mean round trip over the
 * initiator's MEASURE phase (the runner's edges), half of it for a pair,
 * and the switches of both threads per round trip; none when no round
 * trip was measured (a thread that got no CPU in the window). Returns 0
 * or the sink's error. */
static int ctxswitch_metrics(const struct sm_case *c SM_UNUSED, void *state,
                             const struct sm_worker *workers, unsigned n,
                             struct sm_sink *sink, char *msg SM_UNUSED,
                             size_t size SM_UNUSED) {
  const struct pingpong *s = state;
  double rounds = measured_rounds(workers);
  if (rounds <= 0)
    return 0; /* no round trip in the window: its rates are nan */
  double rtt =
      (double)(workers[0].ns_at_stop - workers[0].ns_at_measure) / rounds;
  int rc = sm_sink_metric(sink, "rtt_ns", "ns", rtt);
  if (rc == 0 && !s->alone)
    rc = sm_sink_metric(sink, "oneway_ns", "ns", rtt / 2);
  if (rc == 0)
    rc = sm_sink_metric(sink, "vcsw_per_rtt", "switches/rtt",
                        switches(workers, n, 1) / rounds);
  if (rc == 0)
    rc = sm_sink_metric(sink, "ivcsw_per_rtt", "switches/rtt",
                        switches(workers, n, 0) / rounds);
  return rc;
}

/* Looks for an executable `name` in $PATH and writes its path to buf.
 * Returns 1 when found, 0 otherwise. */
static int find_program(const char *name, char *buf, size_t size) {
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t len = strcspn(path, ":");
    if (len > 0 &&
        snprintf(buf, size, "%.*s/%s", (int)len, path, name) < (int)size &&
        access(buf, X_OK) == 0)
      return 1;
    path += len + (path[len] == ':');
  }
  return 0;
}

/* Parses perf's "# Executed N pipe operations" and "X usecs/op" lines.
 * Returns 0, or -EPROTO when either is missing. */
static int parse_perf(const char *out, long *executed, double *usecs) {
  const char *e = strstr(out, "Executed ");
  const char *u = strstr(out, "usecs/op");
  /* NOLINTNEXTLINE(cert-err34-c): checked against the loops asked for */
  if (!e || !u || sscanf(e, "Executed %ld", executed) != 1)
    return -EPROTO;
  while (u > out && u[-1] == ' ')
    u--;
  while (u > out && u[-1] != ' ' && u[-1] != '\n')
    u--;
  /* NOLINTNEXTLINE(cert-err34-c): the caller rejects a usecs not above 0 */
  return sscanf(u, "%lf", usecs) == 1 ? 0 : -EPROTO;
}

/* Builds perf's command line for case c, pinned with taskset to the pair's
 * PUs when it is pinned. Returns 0, or SM_MEASURE_SKIP with the missing
 * program named in msg. argv points into `paths` and `buf`. */
static int perf_argv(const struct sm_case *c, long loops, char *argv[12],
                     char paths[2][256], char buf[2][32], char *msg,
                     size_t size) {
  if (!find_program("perf", paths[0], sizeof paths[0])) {
    snprintf(msg, size, "perf is not installed");
    return SM_MEASURE_SKIP;
  }
  int n = 0;
  if (c->os_pus[0] >= 0) {
    if (!find_program("taskset", paths[1], sizeof paths[1])) {
      snprintf(msg, size, "taskset is not installed (util-linux)");
      return SM_MEASURE_SKIP;
    }
    snprintf(buf[0], sizeof buf[0], "%d,%d", c->os_pus[0], c->os_pus[1]);
    argv[n++] = paths[1];
    argv[n++] = "-c";
    argv[n++] = buf[0];
  }
  snprintf(buf[1], sizeof buf[1], "%ld", loops);
  char *tail[] = {paths[0], "bench", "sched", "pipe", "-T", "-l", buf[1]};
  for (size_t i = 0; i < SM_COUNT(tail); i++)
    argv[n++] = tail[i];
  argv[n] = NULL;
  return 0;
}

/* Checks and adds the metrics of one perf run of `loops` round trips
 * (perf's op is one round trip: one write and one read on each side).
 * Returns 0, SM_MEASURE_SKIP when perf did not run here, or -EPROTO. */
static int perf_result(const struct sm_peer_result *r, long loops,
                       double pipe_rtt, struct sm_sink *sink, char *msg,
                       size_t size) {
  char last[160];
  sm_peer_last_line(r->output, last, sizeof last);
  if (r->exit_status != 0) {
    snprintf(msg, size, "perf bench sched pipe did not run (status %d): %s",
             r->exit_status, last);
    return SM_MEASURE_SKIP;
  }
  long executed = 0;
  double usecs;
  if (parse_perf(r->output, &executed, &usecs) != 0 || executed != loops ||
      !(usecs > 0))
    return sm_kit_check_failed(
        msg, size,
        "perf bench sched pipe ran %ld of %ld operations, or its output "
        "could not be read: %s",
        executed, loops, last);
  double rtt = usecs * 1000;
  double n = (double)loops;
  int rc = sm_sink_metric(sink, "rtt_ns", "ns", rtt);
  if (rc == 0)
    rc = sm_sink_metric(sink, "oneway_ns", "ns", rtt / 2);
  if (rc == 0)
    rc = sm_sink_metric(sink, "vcsw_per_rtt", "switches/rtt",
                        (double)r->nvcsw / n);
  if (rc == 0)
    rc = sm_sink_metric(sink, "ivcsw_per_rtt", "switches/rtt",
                        (double)r->nivcsw / n);
  if (rc == 0)
    rc = sm_sink_metric(sink, "pipe_rtt_ns", "ns", pipe_rtt);
  if (rc == 0)
    rc = sm_sink_metric(sink, "perf_over_pipe", "ratio", rtt / pipe_rtt);
  return rc;
}

/* syncmark's pipe ping-pong on case c's PUs, one window of the runner
 * with the repetition's timing: stores its round trip in *rtt. Returns 0
 * or the window's error (msg set). */
static int pipe_window(const struct sm_measure_config *cfg,
                       const struct sm_case *c, double *rtt, char *msg,
                       size_t size) {
  struct sm_case pipe_case = *c;
  pipe_case.variant = &variants[1];
  struct sm_window_config wc = {.warmup_ns = cfg->warmup_ns,
                                .duration_ns = cfg->duration_ns,
                                .topo = cfg->topo,
                                .quick = cfg->quick};
  struct sm_window w;
  int rc = sm_runner_window(&wc, &pipe_case, &w, NULL, msg, size);
  if (rc == 0)
    *rtt =
        isnan(w.ns_per_op) ? (double)w.window_ns / (double)w.ops : w.ns_per_op;
  return rc;
}

/* The perf_pipe variant (a peer program, not a worker loop): syncmark's
 * pipe ping-pong on the case's PUs in a runner window (also sizing perf's
 * loop count to about one duration), then `perf bench sched pipe -T -l N`
 * pinned the same way. Returns 0, SM_MEASURE_SKIP when perf (or taskset)
 * is missing or perf cannot run, or a negative errno. */
static int perf_measure(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t size) {
  char *argv[12], paths[2][256], buf[2][32];
  int rc = perf_argv(c, 1, argv, paths, buf, msg, size);
  double pipe_rtt = 0;
  if (rc == 0)
    rc = pipe_window(cfg, c, &pipe_rtt, msg, size);
  if (rc != 0)
    return rc;
  double want = (double)cfg->duration_ns / pipe_rtt;
  long loops = want < 100 ? 100 : want > 1e8 ? 100000000 : (long)want;
  perf_argv(c, loops, argv, paths, buf, msg, size);
  struct sm_peer_result r;
  uint64_t limit = 20 * cfg->duration_ns + 10000000000u;
  rc = sm_peer_run(argv, limit, &r);
  if (rc == -ETIMEDOUT)
    return sm_kit_check_failed(
        msg, size, "perf bench sched pipe -l %ld did not finish in %.0f s",
        loops, (double)limit / 1e9);
  if (rc != 0) {
    snprintf(msg, size, "cannot start perf: %s", strerror(-rc));
    return SM_MEASURE_SKIP;
  }
  return perf_result(&r, loops, pipe_rtt, sink, msg, size);
}

/* The metrics the family adds (the sampled round trips are the runner's;
 * perf_pipe, a peer program, reports its own). */
static const struct sm_metric_decl metric_decls[] = {
    {"rtt_ns", "ns", SM_LOWER_IS_BETTER, "mean round trip of the token"},
    {"oneway_ns", "ns", SM_LOWER_IS_BETTER, "half the mean round trip"},
    {"vcsw_per_rtt", "switches/rtt", SM_NO_DIRECTION,
     "voluntary switches of both threads per round trip"},
    {"ivcsw_per_rtt", "switches/rtt", SM_NO_DIRECTION,
     "involuntary switches of both threads per round trip"},
    {"pipe_rtt_ns", "ns", SM_LOWER_IS_BETTER,
     "perf_pipe: the pipe variant's round trip on the same PUs"},
    {"perf_over_pipe", "ratio", SM_NO_DIRECTION,
     "perf_pipe: perf's round trip / syncmark's pipe round trip"},
};

SM_FAMILY_DEFINE(ctxswitch, ctxswitch,
                 "token ping-pong between two threads: futex, pipe, eventfd, "
                 "condvar, park, spin, perf's pipe, Rust std's park and "
                 "Condvar; per pair placement",
                 SM_FAMILY_METRICS(ctxswitch_metrics, metric_decls),
                 .applies = sm_rust_std_applies, .shape = SM_SHAPE_PAIR,
                 .headline_metric = "rtt_ns");
