/* wake.c: the `wake` family: the latency from a waker's signal to the
 * sleeper running, and the sleeper's CPU time while it waits, for
 * park/unpark, condvar, futex, spin-then-park and sleep-polling a flag
 * every 10 ms, 1 ms and 100 us (claim C7), and Rust std's thread::park /
 * unpark and Condvar. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "sampling.h"
#include "syncmark/clock.h"
#include "syncmark/futex.h"
#include "syncmark/park.h"
#include "syncmark/work.h"

/* The flag's value that ends the sleeper: the waker signals it once after
 * its loop. Signal k (from 0) is signal_of(k), never it. */
enum { SIGNAL_STOP = -1 };
/* The ack's value the sleeper leaves after its loop: the waker stops
 * waiting for acknowledgements. */
enum { ACK_DONE = -2 };
/* Signal numbers wrap here, so they stay positive ints in any window. */
#define SIGNAL_MASK ((1u << 30) - 1u)
/* How long spin_park spins before it parks, and in how many looks at the
 * flag (about 100 ns of calibrated work between two). */
#define SPIN_NS 50000u
enum { SPIN_CHUNKS = 500 };
/* The last part of the waker's delay that is spun rather than slept, and
 * the shortest delay that sleeps at all (see delay()). */
#define SPIN_TAIL_NS  200000u
#define SLEEP_FROM_NS 1000000u

/* Signal number k (the waker's k-th, from 0). */
static inline int signal_of(uint64_t k) {
  return (int)((k & SIGNAL_MASK) + 1u);
}

/* One waker and one sleeper; each line is written by one side. */
struct wake_state {
  SM_CACHE_ALIGNED atomic_int flag; /* last signal (futex word) */
  _Atomic uint64_t stamp; /* 0, or the waker's sample clock at the signal */
  SM_CACHE_ALIGNED atomic_int ack; /* last signal handled (futex word) */
  struct sm_parker parker;         /* the sleeper's */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  struct sm_rust_handoff *rust; /* the rust_* variants' (else NULL) */
  uint64_t poll_ns;             /* poll: sleep between looks at the flag */
  uint64_t delay_ns;            /* the waker's least delay before a signal */
  uint64_t span_ns;             /* the random part added to it: [0, span) */
  uint64_t tail_iters;          /* sm_work_spin iterations of SPIN_TAIL_NS */
  uint64_t seed;                /* of the waker's delays, never 0 */
  uint64_t spin_chunk_iters;    /* spin_park: the work between two looks */
  /* the waker's, published after its loop */
  SM_CACHE_ALIGNED uint64_t sent;
  /* the sleeper's, published after its loop: signals observed, out of
   * order, and stamped after the sleeper saw them */
  SM_CACHE_ALIGNED uint64_t observed, bad, early;
};

/* Adapters: <how>_signal publishes value v to the sleeper and wakes it;
 * <how>_wait returns the flag once it has left `prev`. */

static inline void park_signal(struct wake_state *s, int v) {
  atomic_store_explicit(&s->flag, v, memory_order_release);
  sm_parker_unpark(&s->parker);
}

static inline int park_wait(struct wake_state *s, int prev) {
  int v;
  while ((v = atomic_load_explicit(&s->flag, memory_order_acquire)) == prev)
    sm_parker_park(&s->parker);
  return v;
}

static inline void condvar_signal(struct wake_state *s, int v) {
  pthread_mutex_lock(&s->mu);
  atomic_store_explicit(&s->flag, v, memory_order_release);
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mu);
}

static inline int condvar_wait(struct wake_state *s, int prev) {
  int v;
  pthread_mutex_lock(&s->mu);
  while ((v = atomic_load_explicit(&s->flag, memory_order_acquire)) == prev)
    pthread_cond_wait(&s->cond, &s->mu);
  pthread_mutex_unlock(&s->mu);
  return v;
}

static inline void futex_signal(struct wake_state *s, int v) {
  atomic_store_explicit(&s->flag, v, memory_order_release);
  (void)sm_futex_wake(&s->flag, 1);
}

static inline int futex_wait(struct wake_state *s, int prev) {
  int v;
  while ((v = atomic_load_explicit(&s->flag, memory_order_acquire)) == prev)
    (void)sm_futex_wait(&s->flag, prev, NULL);
  return v;
}

static inline void spin_park_signal(struct wake_state *s, int v) {
  park_signal(s, v);
}

/* Spins about SPIN_NS on the flag (calibrated work, no clock), then
 * parks. */
static inline int spin_park_wait(struct wake_state *s, int prev) {
  for (unsigned i = 0; i < SPIN_CHUNKS; i++) {
    int v = atomic_load_explicit(&s->flag, memory_order_acquire);
    if (v != prev)
      return v;
    SM_KEEP(sm_work_spin(s->spin_chunk_iters));
  }
  return park_wait(s, prev);
}

/* Rust std's park / unpark and Condvar, the sleeper on side 0. */
static inline void rust_park_signal(struct wake_state *s, int v) {
  sm_rust_park_send(s->rust, &s->flag, 0, v);
}

static inline int rust_park_wait(struct wake_state *s, int prev) {
  return sm_rust_park_recv(s->rust, &s->flag, 0, prev);
}

static inline void rust_condvar_signal(struct wake_state *s, int v) {
  sm_rust_condvar_send(s->rust, &s->flag, 0, v);
}

static inline int rust_condvar_wait(struct wake_state *s, int prev) {
  return sm_rust_condvar_recv(s->rust, &s->flag, 0, prev);
}

static inline void poll_signal(struct wake_state *s, int v) {
  atomic_store_explicit(&s->flag, v, memory_order_release);
}

static inline int poll_wait(struct wake_state *s, int prev) {
  int v;
  while ((v = atomic_load_explicit(&s->flag, memory_order_acquire)) == prev)
    (void)sm_sleep_for_ns(s->poll_ns);
  return v;
}

/* Next value of a xorshift64 generator. */
static inline uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* The waker's delay before a signal: a random length in [delay, delay +
 * span), spun as calibrated work; from SLEEP_FROM_NS on, slept but for its
 * last SPIN_TAIL_NS. The sleep keeps a long delay true in wall time on a
 * loaded PU (calibrated work stretches with the waker's share of it, and
 * a 10 ms poll's phase would no longer be uniform); the spun tail keeps the
 * waker's own timer from firing at the signal, where the kernel would also fire
 * a polling sleeper's timer whose slack overlaps it and wake both at once,
 * hiding the poll latency. */
static inline void delay(const struct wake_state *s, uint64_t *rng) {
  uint64_t ns = s->delay_ns + (s->span_ns ? next_random(rng) % s->span_ns : 0);
  if (ns >= SLEEP_FROM_NS) {
    (void)sm_sleep_for_ns(ns - SPIN_TAIL_NS);
    ns = SPIN_TAIL_NS;
  }
  SM_KEEP(sm_work_spin(ns * s->tail_iters / SPIN_TAIL_NS));
}

/* Waits until the sleeper has handled signal `want` (0: none sent yet).
 * Returns 0, or 1 when the sleeper has left its loop (ACK_DONE). */
static inline int wait_ack(struct wake_state *s, int want) {
  int a;
  while ((a = atomic_load_explicit(&s->ack, memory_order_acquire)) != want &&
         a != ACK_DONE)
    (void)sm_futex_wait(&s->ack, a, NULL);
  return a == ACK_DONE;
}

/* Acknowledges value v to the waker. */
static inline void send_ack(struct wake_state *s, int v) {
  atomic_store_explicit(&s->ack, v, memory_order_release);
  (void)sm_futex_wake(&s->ack, 1);
}

/* Whether the waker stamps pass `count`: when it is due for a sample, and
 * on every pass before the waker's MEASURE edge (the sleeper sees its edge
 * apart from the waker: the wake-up of the waker's last warm-up pass may
 * be the sleeper's first measured one). */
static inline int stamp_due(const struct sm_worker *w, uint64_t count) {
  return !w->in_measure || sm_sample_due(w, count);
}

/* What the sleeper has seen so far. */
struct sleeper {
  uint64_t observed, bad, early;
  int prev; /* the last signal observed (0: none) */
};

/* One wake-up of the sleeper: waits for the next signal, offers its
 * latency from the waker's stamp when the waker stamped it, and
 * acknowledges it; SIGNAL_STOP only ends the pass (the loop then sees the
 * runner's STOP: the waker sent it after seeing that). */
#define SLEEPER_PASS(how, w, s, r)                                             \
  do {                                                                         \
    int v_ = how##_wait((s), (r)->prev);                                       \
    uint64_t stamp_ = atomic_load_explicit(&(s)->stamp, memory_order_relaxed); \
    if (v_ != SIGNAL_STOP) {                                                   \
      if (stamp_) {                                                            \
        uint64_t now_ = sm_sample_clock();                                     \
        if (now_ < stamp_)                                                     \
          (r)->early++;                                                        \
        else                                                                   \
          sm_worker_sample((w), (double)(now_ - stamp_));                      \
      }                                                                        \
      (r)->bad += v_ != signal_of((r)->observed);                              \
      (r)->observed++;                                                         \
      (r)->prev = v_;                                                          \
      send_ack((s), v_);                                                       \
    }                                                                          \
  } while (0)

/* Defines, for a way of waiting `how`, the two workers:
 * - how_waker: per pass, waits until the sleeper handled the last signal
 *   (it is waiting again by then), waits a random delay (delay()), stamps
 *   the sample clock when stamp_due says so, and signals; after its loop
 *   it signals SIGNAL_STOP;
 * - how_sleeper: a wake-up per pass; after its loop it leaves ACK_DONE so
 *   that a waker still waiting for an acknowledgement goes on.
 * Either may see the runner's STOP first: neither is left waiting for a
 * partner that stopped. */
#define WAKE_WORKERS(how)                                                      \
  static void how##_waker(struct sm_worker *w) {                               \
    struct wake_state *s = w->state;                                           \
    uint64_t count = 0, sent = 0, rng = s->seed;                               \
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* its delays' sleeps */     \
    SM_MEASURED_LOOP(w, count) {                                               \
      if (wait_ack(s, sent ? signal_of(sent - 1) : 0))                         \
        continue;                                                              \
      delay(s, &rng);                                                          \
      uint64_t stamp = stamp_due(w, count) ? sm_sample_clock() : 0;            \
      atomic_store_explicit(&s->stamp, stamp, memory_order_relaxed);           \
      how##_signal(s, signal_of(sent));                                        \
      sent++;                                                                  \
    }                                                                          \
    how##_signal(s, SIGNAL_STOP);                                              \
    s->sent = sent;                                                            \
  }                                                                            \
  static void how##_sleeper(struct sm_worker *w) {                             \
    uint64_t count = 0;                                                        \
    struct sleeper r = {0};                                                    \
    struct wake_state *s = w->state;                                           \
    SM_MEASURED_LOOP(w, count) {                                               \
      SLEEPER_PASS(how, w, s, &r);                                             \
    }                                                                          \
    send_ack(s, ACK_DONE);                                                     \
    s->observed = r.observed;                                                  \
    s->bad = r.bad;                                                            \
    s->early = r.early;                                                        \
  }                                                                            \
  static const struct sm_role how##_roles[] = {                                \
      SM_ROLE_COUNTING("waker", how##_waker, 1),                               \
      {.name = "sleeper",                                                      \
       .worker = how##_sleeper,                                                \
       .count = 1,                                                             \
       .samples = {""}},                                                       \
  };

WAKE_WORKERS(park)
WAKE_WORKERS(condvar)
WAKE_WORKERS(futex)
WAKE_WORKERS(spin_park)
WAKE_WORKERS(poll)
WAKE_WORKERS(rust_park)
WAKE_WORKERS(rust_condvar)

#define WAKE_VARIANT(name_, how, summary_)                                     \
  { .name = (name_), .summary = (summary_), .roles = how##_roles, .nroles = 2 }

static const struct sm_variant variants[] = {
    WAKE_VARIANT("park", park, "park / unpark (Rust's futex parker)"),
    WAKE_VARIANT("condvar", condvar, "pthread condition variable + mutex"),
    WAKE_VARIANT("futex", futex, "FUTEX_WAIT / store + FUTEX_WAKE on the flag"),
    WAKE_VARIANT("spin_park", spin_park, "spin 50 us on the flag, then park"),
    WAKE_VARIANT("poll_10ms", poll, "sleep 10 ms between looks at the flag"),
    WAKE_VARIANT("poll_1ms", poll, "sleep 1 ms between looks at the flag"),
    WAKE_VARIANT("poll_100us", poll, "sleep 100 us between looks at the flag"),
    WAKE_VARIANT("rust_park", rust_park,
                 "Rust std: thread::park / Thread::unpark"),
    WAKE_VARIANT("rust_condvar", rust_condvar,
                 "Rust std: Condvar::wait / notify_one + Mutex"),
};

/* The poll period of each variant (0: a blocking wait). */
static const uint64_t poll_ns[] = {0,        0,       0, 0, 10000000u,
                                   1000000u, 100000u, 0, 0};
_Static_assert(sizeof poll_ns / sizeof poll_ns[0] ==
                   sizeof variants / sizeof variants[0],
               "one poll period per variant");

/* A seed for the delays of the next window: splitmix64 of a count of
 * windows, so that every repetition draws delays of its own (the same
 * ones in every run) rather than the same few again. Never 0. */
static uint64_t next_seed(void) {
  static atomic_uint_fast64_t windows;
  uint64_t z = (atomic_fetch_add(&windows, 1) + 1) * 0x9e3779b97f4a7c15u;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  return z ? z : 1;
}

/* Frees a state made by wake_setup; NULL is accepted. */
static void wake_teardown(void *state) {
  struct wake_state *s = state;
  if (!s)
    return;
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mu);
  sm_rust_handoff_free(s->rust);
  free(s);
}

/* Creates the state of one window of case c: the waker's delay before
 * each signal is uniform in [delay, 2 delay) for the blocking waits and in
 * [delay, delay + period) for polling (so the signal falls anywhere in the
 * sleeper's poll period). Returns 0 or -ENOMEM. */
static int wake_setup(const struct sm_case *c, void **state) {
  struct wake_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond, NULL);
  if (sm_is_rust_variant(c->variant) && !(s->rust = sm_rust_handoff_new())) {
    wake_teardown(s);
    return -ENOMEM;
  }
  s->poll_ns = poll_ns[c->variant - variants];
  uint64_t delay_ns = (uint64_t)c->param[0] * 1000u;
  s->delay_ns = delay_ns;
  s->span_ns = s->poll_ns ? s->poll_ns : delay_ns;
  s->tail_iters = sm_work_iterations_for_ns(SPIN_TAIL_NS);
  s->seed = next_seed();
  s->spin_chunk_iters = sm_work_iterations_for_ns(SPIN_NS) / SPIN_CHUNKS;
  *state = s;
  return 0;
}

/* Wake-ups the sleeper (worker 1) handled in its MEASURE phase. */
static double measured_waits(const struct sm_worker *workers) {
  return (double)(workers[1].ops_at_stop - workers[1].ops_at_measure);
}

/* The self-check: every signal was observed once and in order (the last
 * one may have found the sleeper gone), none before its stamp. A lost
 * wake-up hangs the pair until the runner's watchdog. Returns 0 or -EPROTO
 * with the numbers in msg. */
static int wake_check(const struct sm_case *c SM_UNUSED, void *state,
                      const struct sm_worker *workers SM_UNUSED, char *msg,
                      size_t size) {
  const struct wake_state *s = state;
  if (s->sent < s->observed || s->sent > s->observed + 1 || s->bad || s->early)
    return sm_kit_check_failed(
        msg, size,
        "%llu signals sent, %llu observed, %llu out of order, %llu "
        "observed before their stamp",
        (unsigned long long)s->sent, (unsigned long long)s->observed,
        (unsigned long long)s->bad, (unsigned long long)s->early);
  return 0;
}

/* User + system CPU time between two rusage snapshots, in ns. */
static double cpu_ns_between(const struct rusage *a, const struct rusage *b) {
  double s = (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) +
             (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec);
  double us = (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) +
              (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec);
  return s * 1e9 + us * 1e3;
}

/* The family's metrics of a checked window, from the sleeper's edges (the
 * times and resource usage the runner recorded there): its CPU time per wake-up
 * and as a share of its time, its time per wake-up, and the CPU its sampling
 * added per wake-up. Returns 0 or the sink's error. */
static int wake_metrics(const struct sm_case *c SM_UNUSED,
                        void *state SM_UNUSED, const struct sm_worker *workers,
                        unsigned n SM_UNUSED, struct sm_sink *sink,
                        char *msg SM_UNUSED, size_t size SM_UNUSED) {
  const struct sm_worker *z = &workers[1];
  double waits = measured_waits(workers);
  if (waits <= 0)
    return 0; /* a wake-up longer than the window: nothing to report */
  double cpu = cpu_ns_between(&z->usage_at_measure, &z->usage_at_stop);
  double wall = (double)(z->ns_at_stop - z->ns_at_measure);
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"cpu_ns_per_wait", "ns", cpu / waits},
      {"cpu_pct", "%", 100.0 * cpu / wall},
      {"wait_ns", "ns", wall / waits},
      {"cpu_probe_ns", "ns",
       sm_sample_cost_ns() * (double)z->samples_taken / waits},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < SM_COUNT(rows); i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

static const long delay_values[] = {20, 1000};
static const long delay_quick[] = {200};

static const struct sm_axis axes[] = {
    SM_AXIS("delay_us", delay_values, delay_quick, 1, 100000),
};

/* The metrics the family adds (the sampled latencies are the runner's);
 * the wait and the probe's cost describe the setting, not the strategy. */
static const struct sm_metric_decl metric_decls[] = {
    {"cpu_ns_per_wait", "ns", SM_LOWER_IS_BETTER,
     "the sleeper's CPU time per wake-up"},
    {"cpu_pct", "%", SM_NO_DIRECTION,
     "the sleeper's CPU time as a share of its window"},
    {"wait_ns", "ns", SM_NO_DIRECTION, "the sleeper's time per wake-up"},
    {"cpu_probe_ns", "ns", SM_NO_DIRECTION,
     "CPU the latency sampling adds per wake-up"},
};

SM_FAMILY_DEFINE(wake, wake,
                 "wake-up latency and CPU while waiting: park, condvar, futex, "
                 "spin-then-park, sleep-polling at 10 ms / 1 ms / 100 us, "
                 "Rust std's park and Condvar",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(wake_metrics, metric_decls),
                 .applies = sm_rust_std_applies, .shape = SM_SHAPE_PAIR,
                 .headline_metric = "p50_ns");
