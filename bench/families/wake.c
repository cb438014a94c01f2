/* wake.c: the `wake` family: the latency from a waker's signal to the
 * sleeper running, and the sleeper's CPU time while it waits, for
 * park/unpark, condvar, futex, spin-then-park and sleep-polling a flag
 * every 10 ms, 1 ms and 100 us (claim C7). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/park.h"
#include "syncmark/stats.h"
#include "syncmark/thread.h"

/* How the sleeper waits. */
enum how { W_PARK, W_CONDVAR, W_FUTEX, W_SPIN_PARK, W_POLL };

/* Fewest and most measured wake-ups of one repetition. */
enum { MIN_SAMPLES = 8, MAX_SAMPLES = 200000 };
/* How long spin_park spins before it parks. */
#define SPIN_NS 50000u
/* Spare time every wait and every acknowledgement may take beyond the
 * longest delay and poll period before it counts as lost. */
#define GRACE_NS 1000000000u
/* Time one wake-up costs beyond its delay and latency (ack, clocks). */
#define SAMPLE_OVERHEAD_NS 30000u

/* One waker and one sleeper; each line is written by one side. */
struct wake_state {
  SM_CACHE_ALIGNED atomic_int flag;  /* signal number (futex word) */
  _Atomic uint64_t stamp;            /* the waker's clock at signal */
  SM_CACHE_ALIGNED atomic_int ack;   /* last signal handled (futex) */
  SM_CACHE_ALIGNED atomic_int abort; /* set by a side that gave up */
  struct sm_parker parker;           /* the sleeper's */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  enum how how;
  uint64_t poll_ns;  /* W_POLL: sleep between looks at the flag */
  uint64_t delay_ns; /* the waker's delay before each signal, at least */
  uint64_t limit_ns; /* longest wait before a wake-up counts as lost */
  int nwarm, n;      /* unrecorded and recorded wake-ups */
  /* the waker's */
  SM_CACHE_ALIGNED int sent;
  int waker_rc;
  /* the sleeper's */
  SM_CACHE_ALIGNED double *lat_ns; /* n wake latencies */
  int observed, bad, lost_at;
  uint64_t cpu_ns, wait_ns; /* sums over the recorded waits */
  int sleeper_rc;
};

/* Returns the calling thread's CPU time in nanoseconds. */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    __builtin_trap();
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps on *addr while it holds `expected`, for at most `ns`. Any return
 * means "look again". */
static void futex_wait_for(atomic_int *addr, int expected, uint64_t ns) {
  struct timespec rel = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  (void)syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, &rel,
                NULL, 0);
}

/* Wakes every waiter of *addr. */
static void futex_wake_all(atomic_int *addr) {
  (void)syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
                NULL, 0);
}

/* Sleeps for `ns` nanoseconds (a relative sleep, as a polling loop's
 * thread::sleep is). */
static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Next value of a xorshift64 generator. */
static uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* The waker's delay before one signal: uniform in [delay, 2 delay) for the
 * blocking waits, in [delay, delay + period) for polling (so the signal
 * falls anywhere in the sleeper's poll period). */
static uint64_t random_delay(const struct wake_state *s, uint64_t *rng) {
  uint64_t span = s->how == W_POLL ? s->poll_ns : s->delay_ns;
  return s->delay_ns + (span ? next_random(rng) % span : 0);
}

/* Publishes signal i, stamped with the clock just before it is sent. */
static void signal_sleeper(struct wake_state *s, int i) {
  atomic_store_explicit(&s->stamp, sm_now_ns(), memory_order_relaxed);
  switch (s->how) {
  case W_CONDVAR:
    pthread_mutex_lock(&s->mu);
    atomic_store_explicit(&s->flag, i, memory_order_release);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    break;
  case W_FUTEX:
    atomic_store_explicit(&s->flag, i, memory_order_release);
    (void)syscall(SYS_futex, (void *)&s->flag, FUTEX_WAKE_PRIVATE, 1, NULL,
                  NULL, 0);
    break;
  case W_PARK:
  case W_SPIN_PARK:
    atomic_store_explicit(&s->flag, i, memory_order_release);
    sm_parker_unpark(&s->parker);
    break;
  case W_POLL:
    atomic_store_explicit(&s->flag, i, memory_order_release);
    break;
  }
}

/* Whether the flag still holds `prev` and no side has given up. */
static int still(struct wake_state *s, int prev) {
  return atomic_load_explicit(&s->flag, memory_order_acquire) == prev &&
         !atomic_load_explicit(&s->abort, memory_order_relaxed);
}

/* Spins until the flag leaves `prev` or SPIN_NS pass. */
static void spin_a_while(struct wake_state *s, int prev) {
  uint64_t end = sm_now_ns() + SPIN_NS;
  for (unsigned i = 1; still(s, prev); i++) {
    sm_cpu_relax();
    if (i % 32 == 0 && sm_now_ns() >= end)
      return;
  }
}

/* The condvar wait: until the flag leaves `prev` or the clock passes
 * `deadline`. */
static void condvar_wait(struct wake_state *s, int prev, uint64_t deadline) {
  struct timespec abs = {(time_t)(deadline / 1000000000u),
                         (long)(deadline % 1000000000u)};
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  while (rc != ETIMEDOUT && still(s, prev))
    rc = pthread_cond_timedwait(&s->cond, &s->mu, &abs);
  pthread_mutex_unlock(&s->mu);
}

/* The sleeper's wait for the flag to leave `prev`, for at most
 * s->limit_ns. Returns 0, -ETIMEDOUT (a lost wake-up) or -ECANCELED (the
 * waker gave up). */
static int wait_signal(struct wake_state *s, int prev) {
  uint64_t deadline = sm_now_ns() + s->limit_ns;
  if (s->how == W_SPIN_PARK)
    spin_a_while(s, prev);
  while (still(s, prev)) {
    uint64_t now = sm_now_ns();
    if (now >= deadline)
      return -ETIMEDOUT;
    if (s->how == W_FUTEX)
      futex_wait_for(&s->flag, prev, deadline - now);
    else if (s->how == W_POLL)
      sleep_ns(s->poll_ns);
    else if (s->how == W_CONDVAR)
      condvar_wait(s, prev, deadline);
    else
      (void)sm_parker_park_timeout(&s->parker, deadline - now);
  }
  return atomic_load_explicit(&s->abort, memory_order_relaxed) ? -ECANCELED : 0;
}

/* Marks the pair as given up and wakes the other side wherever it waits. */
static void give_up(struct wake_state *s) {
  atomic_store_explicit(&s->abort, 1, memory_order_relaxed);
  futex_wake_all(&s->ack);
  pthread_mutex_lock(&s->mu);
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
  futex_wake_all(&s->flag);
  sm_parker_unpark(&s->parker);
}

/* Waits until the sleeper has handled signal i (ack == i), for at most
 * s->limit_ns. Returns 0, -ETIMEDOUT or -ECANCELED. */
static int wait_ack(struct wake_state *s, int i) {
  uint64_t deadline = sm_now_ns() + s->limit_ns;
  int seen;
  while ((seen = atomic_load_explicit(&s->ack, memory_order_acquire)) != i) {
    if (atomic_load_explicit(&s->abort, memory_order_relaxed))
      return -ECANCELED;
    uint64_t now = sm_now_ns();
    if (now >= deadline)
      return -ETIMEDOUT;
    futex_wait_for(&s->ack, seen, deadline - now);
  }
  return 0;
}

/* Waits `ns` nanoseconds by spinning on the clock. A timed sleep would
 * not do: timers fire on a coarse grid on some machines (about 100 us on
 * a VM), so the waker's timer would often fire in the same interrupt as a
 * polling sleeper's and wake both at once, hiding the poll latency. */
static void delay(uint64_t ns) {
  uint64_t end = sm_now_ns() + ns;
  while (sm_now_ns() < end)
    sm_cpu_relax();
}

/* The waker: for each signal, waits until the sleeper handled the last
 * one, spins a random delay (the sleeper is asleep by then), stamps the
 * clock and signals. */
static void *waker(void *arg) {
  struct wake_state *s = arg;
  uint64_t rng = sm_now_ns() | 1;
  int total = s->nwarm + s->n, rc = 0;
  for (int i = 1; rc == 0 && i <= total; i++) {
    rc = wait_ack(s, i - 1);
    if (rc == 0) {
      delay(random_delay(s, &rng));
      signal_sleeper(s, i);
      s->sent = i;
    }
  }
  if (rc == 0)
    rc = wait_ack(s, total);
  if (rc != 0)
    give_up(s);
  s->waker_rc = rc;
  return NULL;
}

/* Records one recorded wake-up: latency from the waker's stamp to t1, and
 * the CPU and wall time of the wait. */
static void record(struct wake_state *s, int k, uint64_t t1, uint64_t w0,
                   uint64_t cpu) {
  uint64_t t0 = atomic_load_explicit(&s->stamp, memory_order_relaxed);
  s->lat_ns[k] = (double)(int64_t)(t1 - t0);
  s->cpu_ns += cpu;
  s->wait_ns += t1 - w0;
}

/* The sleeper: waits for each signal in turn, reads the clock as soon as
 * it runs, and acknowledges. */
static void *sleeper(void *arg) {
  struct wake_state *s = arg;
  int total = s->nwarm + s->n, rc = 0;
  for (int i = 1; rc == 0 && i <= total; i++) {
    uint64_t cpu0 = thread_cpu_ns(), w0 = sm_now_ns();
    rc = wait_signal(s, i - 1);
    uint64_t t1 = sm_now_ns(), cpu1 = thread_cpu_ns();
    if (rc != 0) {
      s->lost_at = i;
      break;
    }
    int v = atomic_load_explicit(&s->flag, memory_order_acquire);
    if (i > s->nwarm)
      record(s, i - s->nwarm - 1, t1, w0, cpu1 - cpu0);
    s->observed++;
    s->bad += v != i;
    atomic_store_explicit(&s->ack, i, memory_order_release);
    futex_wake_all(&s->ack);
  }
  if (rc != 0)
    give_up(s);
  s->sleeper_rc = rc;
  return NULL;
}

/* How each variant waits. */
struct variant_kind {
  enum how how;
  uint64_t poll_ns;
};

static const struct variant_kind kinds[] = {
    {W_PARK, 0},       {W_CONDVAR, 0},      {W_FUTEX, 0},
    {W_SPIN_PARK, 0},  {W_POLL, 10000000u}, {W_POLL, 1000000u},
    {W_POLL, 100000u},
};

static const struct sm_variant variants[] = {
    SM_VARIANT("park", "park / unpark (Rust's futex parker)", NULL),
    SM_VARIANT("condvar", "pthread condition variable + mutex", NULL),
    SM_VARIANT("futex", "FUTEX_WAIT / store + FUTEX_WAKE on the flag", NULL),
    SM_VARIANT("spin_park", "spin 50 us on the flag, then park", NULL),
    SM_VARIANT("poll_10ms", "sleep 10 ms between looks at the flag", NULL),
    SM_VARIANT("poll_1ms", "sleep 1 ms between looks at the flag", NULL),
    SM_VARIANT("poll_100us", "sleep 100 us between looks at the flag", NULL),
};
_Static_assert(sizeof kinds / sizeof kinds[0] ==
                   sizeof variants / sizeof variants[0],
               "one kind per variant");

/* Frees a state made by state_new; NULL is accepted. */
static void state_free(struct wake_state *s) {
  if (!s)
    return;
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mu);
  free(s->lat_ns);
  free(s);
}

/* Sizes the repetition: as many wake-ups as fit in the duration (and the
 * warm-up), at least MIN_SAMPLES recorded. */
static void size_samples(struct wake_state *s,
                         const struct sm_measure_config *cfg) {
  uint64_t mean_delay = s->how == W_POLL ? s->delay_ns + s->poll_ns / 2
                                         : s->delay_ns + s->delay_ns / 2;
  uint64_t per = mean_delay + s->poll_ns / 2 + SAMPLE_OVERHEAD_NS;
  uint64_t n = cfg->duration_ns / per, warm = cfg->warmup_ns / per;
  s->n = n < MIN_SAMPLES ? MIN_SAMPLES : n > MAX_SAMPLES ? MAX_SAMPLES : (int)n;
  s->nwarm = warm > (uint64_t)s->n ? s->n : (int)warm;
}

/* Makes the state of one repetition of case c. Returns 0 and sets *out,
 * or -ENOMEM. */
static int state_new(const struct sm_measure_config *cfg,
                     const struct sm_case *c, struct wake_state **out) {
  const struct variant_kind *k = &kinds[c->variant - variants];
  struct wake_state *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  if (!s)
    return -ENOMEM;
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cond, &ca);
  pthread_condattr_destroy(&ca);
  s->how = k->how;
  s->poll_ns = k->poll_ns;
  s->delay_ns = (uint64_t)c->param[0] * 1000u;
  s->limit_ns = 2 * s->delay_ns + s->poll_ns + GRACE_NS;
  size_samples(s, cfg);
  s->lat_ns = calloc((size_t)s->n, sizeof *s->lat_ns);
  if (!s->lat_ns) {
    state_free(s);
    return -ENOMEM;
  }
  *out = s;
  return 0;
}

/* Starts the waker on the case's first PU and the sleeper on its second,
 * and joins them (every wait of both is bounded). Returns 0 or the error
 * of a spawn (the other side then gives up). */
static int run_threads(struct wake_state *s, const struct sm_case *c) {
  sm_thread_fn fns[2] = {waker, sleeper};
  const char *names[2] = {"sm-waker", "sm-sleeper"};
  struct sm_join_handle *h[2];
  int started = 0, rc = 0;
  while (started < 2 && rc == 0) {
    struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
    o.name = names[started];
    o.pin_pu = c->os_pus[started];
    rc = sm_thread_spawn(&o, fns[started], s, &h[started]);
    started += rc == 0;
  }
  if (rc != 0)
    give_up(s);
  for (int i = 0; i < started; i++)
    sm_join(h[i], NULL);
  return rc;
}

/* The self-check: both sides finished, every signal was observed once and
 * in order, and no wake-up came before its stamp. Returns 0 or -EPROTO
 * with the numbers in msg. */
static int check(const struct wake_state *s, char *msg, size_t size) {
  int total = s->nwarm + s->n;
  if (s->sleeper_rc == -ETIMEDOUT || s->waker_rc == -ETIMEDOUT) {
    snprintf(msg, size,
             "lost wake-up: the %s waited over %.3f s (signal %d of %d, "
             "%d observed)",
             s->sleeper_rc == -ETIMEDOUT ? "sleeper" : "waker",
             (double)s->limit_ns / 1e9, s->lost_at ? s->lost_at : s->sent + 1,
             total, s->observed);
    return -EPROTO;
  }
  int early = 0;
  for (int k = 0; k < s->n; k++)
    early += s->lat_ns[k] < 0;
  if (s->sent != total || s->observed != total || s->bad || early) {
    snprintf(msg, size,
             "%d signals sent, %d observed, %d out of order, %d observed "
             "before their stamp (of %d)",
             s->sent, s->observed, s->bad, early, total);
    return -EPROTO;
  }
  return 0;
}

/* The CPU time two back-to-back reads of the thread CPU clock show: the
 * floor under cpu_ns_per_wait (the median of 15 tries). */
static double cpu_probe_ns(void) {
  double v[15];
  for (int i = 0; i < 15; i++) {
    uint64_t a = thread_cpu_ns();
    v[i] = (double)(thread_cpu_ns() - a);
  }
  sm_stats_sort(v, 15);
  return v[7];
}

/* Adds the metrics of a checked repetition. Returns 0 or the sink's
 * error. */
static int emit(struct wake_state *s, struct sm_sink *sink) {
  sm_stats_sort(s->lat_ns, (size_t)s->n);
  size_t n = (size_t)s->n;
  struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"p50_ns", "ns", sm_stats_percentile_sorted(s->lat_ns, n, 50)},
      {"p99_ns", "ns", sm_stats_percentile_sorted(s->lat_ns, n, 99)},
      {"p999_ns", "ns", sm_stats_percentile_sorted(s->lat_ns, n, 99.9)},
      {"max_ns", "ns", s->lat_ns[n - 1]},
      {"cpu_ns_per_wait", "ns", (double)s->cpu_ns / (double)n},
      {"cpu_pct", "%", 100.0 * (double)s->cpu_ns / (double)s->wait_ns},
      {"wait_ns", "ns", (double)s->wait_ns / (double)n},
      {"samples", "count", (double)n},
      {"cpu_probe_ns", "ns", cpu_probe_ns()},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof rows / sizeof rows[0]; i++)
    rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* measure of the family: one repetition of waker/sleeper wake-ups. */
static int wake_measure(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t size) {
  struct wake_state *s;
  int rc = state_new(cfg, c, &s);
  if (rc != 0) {
    snprintf(msg, size, "cannot set up the wake-ups: %s", strerror(-rc));
    return rc;
  }
  rc = run_threads(s, c);
  if (rc != 0)
    snprintf(msg, size, "cannot start the waker and sleeper: %s",
             strerror(-rc));
  else if ((rc = check(s, msg, size)) == 0)
    rc = emit(s, sink);
  state_free(s);
  return rc;
}

static const long delay_values[] = {20, 1000};
static const long delay_quick[] = {200};

static const struct sm_axis axes[] = {
    {"delay_us", delay_values, sizeof delay_values / sizeof delay_values[0],
     delay_quick, sizeof delay_quick / sizeof delay_quick[0], 1, 100000},
};

const struct sm_family sm_family_wake = {
    .name = "wake",
    .summary = "wake-up latency and CPU while waiting: park, condvar, futex, "
               "spin-then-park, sleep-polling at 10 ms / 1 ms / 100 us",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = wake_measure,
    .shape = SM_SHAPE_PAIR,
    .headline_metric = "p50_ns",
};
