/* ctxswitch.c: the `ctxswitch` family: the round trip of a token passed
 * between two threads through futex, pipe, eventfd, condvar, park/unpark
 * or a spinning flag, per pair placement, with the voluntary switches each
 * round trip cost (claim C1); the same calls made by one thread, and perf's
 * own pipe benchmark, are rows of their own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/park.h"
#include "syncmark/stats.h"
#include "syncmark/thread.h"

extern char **environ;

/* How the token travels. */
enum mech { M_FUTEX, M_PIPE, M_EVENTFD, M_CONDVAR, M_PARK, M_SPIN };

/* Token values: the initiator (side 0) sends odd values, the responder
 * (side 1) answers with the next even one. STOP ends the responder. */
enum { TOKEN_STOP = -1 };

/* Batches the measured phase is cut into (their means give the batch
 * percentiles), and the most it may hold. */
enum { TARGET_BATCHES = 64, MAX_BATCHES = 4096 };
/* Round trips are capped so token values stay below INT_MAX. */
#define MAX_ROUNDS (INT_MAX / 4)
/* Shortest warm-up used to size the batches, whatever --warmup says. */
#define MIN_WARMUP_NS 1000000u
/* Pause iterations a spinning waiter tries before each sched_yield: a
 * waiter on its partner's PU would otherwise spin until preempted. */
enum { SPIN_BEFORE_YIELD = 256 };

/* One pair of threads passing a token; fields written by one side only
 * sit on their own cache lines. */
struct pingpong {
  SM_CACHE_ALIGNED atomic_int ball; /* the token (futex word) */
  SM_CACHE_ALIGNED atomic_int abort;
  atomic_int phase; /* SM_PHASE_*, written by side 0 before a send */
  enum mech mech;
  int one_thread; /* one thread plays both sides */
  int fds[2][2];  /* per receiving side: read end, write end (eventfd:
                     the same descriptor twice) */
  struct sm_parker parker[2];
  pthread_mutex_t mu;
  pthread_cond_t cond[2];
  uint64_t warmup_ns, duration_ns;
  /* side 0's results */
  uint64_t rounds;       /* measured round trips */
  uint64_t total_rounds; /* warm-up and measured */
  uint64_t measured_ns;  /* length of the measured phase */
  double *batch_ns;      /* MAX_BATCHES per-round means */
  size_t nbatches;
  /* per side: receives with the expected value, bad ones, measured
   * receives, and resource usage over the measured phase */
  struct side_result {
    SM_CACHE_ALIGNED uint64_t received, bad, measured;
    struct rusage ru_start, ru_end;
    int rc;
  } side[2];
  struct sm_parker done_parker; /* the watchdog waits on it */
  atomic_int done;
};

/* Sleeps on *addr while it holds `expected` (no time limit: the watchdog
 * wakes a lost waiter). Returns 0 or a negative errno; all mean "look
 * again". */
static int futex_wait(atomic_int *addr, int expected) {
  long r = syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, NULL,
                   NULL, 0);
  return r == 0 ? 0 : -errno;
}

/* Wakes one waiter of *addr; a wake with no waiter is harmless. */
static void futex_wake(atomic_int *addr) {
  (void)syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Writes `len` bytes to fd in one call. Returns 0, or a negative errno (a
 * short write is -EIO). */
static int write_all(int fd, const void *buf, size_t len) {
  ssize_t n = write(fd, buf, len);
  return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* Reads `len` bytes from fd in one call, retrying after signals. Returns 0,
 * -EPIPE at end of file, or a negative errno (short reads are -EIO). */
static int read_all(int fd, void *buf, size_t len) {
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : n == 0 ? -EPIPE : n < 0 ? -errno : -EIO;
}

/* Hands value v to side `to`. Returns 0 or a negative errno from the OS. */
static int send_token(struct pingpong *s, int to, int v) {
  switch (s->mech) {
  case M_PIPE:
    return write_all(s->fds[to][1], &v, sizeof v);
  case M_EVENTFD: {
    uint64_t one = 1;
    atomic_store_explicit(&s->ball, v, memory_order_release);
    return write_all(s->fds[to][1], &one, sizeof one);
  }
  case M_FUTEX:
    atomic_store_explicit(&s->ball, v, memory_order_release);
    futex_wake(&s->ball);
    return 0;
  case M_CONDVAR:
    pthread_mutex_lock(&s->mu);
    atomic_store_explicit(&s->ball, v, memory_order_relaxed);
    pthread_cond_signal(&s->cond[to]);
    pthread_mutex_unlock(&s->mu);
    return 0;
  case M_PARK:
    atomic_store_explicit(&s->ball, v, memory_order_release);
    sm_parker_unpark(&s->parker[to]);
    return 0;
  case M_SPIN:
    atomic_store_explicit(&s->ball, v, memory_order_release);
    return 0;
  }
  return -EINVAL;
}

/* Spins until the ball leaves `prev`, yielding the PU after every
 * SPIN_BEFORE_YIELD pauses, and gives up when the watchdog aborts. Returns
 * the new value. */
static int spin_wait(struct pingpong *s, int prev) {
  int v;
  for (unsigned i = 1;
       (v = atomic_load_explicit(&s->ball, memory_order_acquire)) == prev;
       i++) {
    sm_cpu_relax();
    if (i % SPIN_BEFORE_YIELD == 0) {
      if (atomic_load_explicit(&s->abort, memory_order_relaxed))
        return prev;
      sched_yield();
    }
  }
  return v;
}

/* Waits for the token meant for `side`, the ball having held `prev` before
 * the sender wrote it, and stores it in *v. Returns 0, -ECANCELED when the
 * watchdog aborted the pair, or a negative errno from the OS. */
static int recv_token(struct pingpong *s, int side, int prev, int *v) {
  int rc = 0;
  switch (s->mech) {
  case M_PIPE:
    rc = read_all(s->fds[side][0], v, sizeof *v);
    break;
  case M_EVENTFD: {
    uint64_t count;
    rc = read_all(s->fds[side][0], &count, sizeof count);
    *v = atomic_load_explicit(&s->ball, memory_order_acquire);
    if (rc == 0 && count != 1)
      *v = prev; /* counted as a bad token */
    break;
  }
  case M_FUTEX:
    while ((*v = atomic_load_explicit(&s->ball, memory_order_acquire)) ==
               prev &&
           !atomic_load_explicit(&s->abort, memory_order_relaxed))
      (void)futex_wait(&s->ball, prev);
    break;
  case M_CONDVAR:
    pthread_mutex_lock(&s->mu);
    while ((*v = atomic_load_explicit(&s->ball, memory_order_relaxed)) ==
               prev &&
           !atomic_load_explicit(&s->abort, memory_order_relaxed))
      pthread_cond_wait(&s->cond[side], &s->mu);
    pthread_mutex_unlock(&s->mu);
    break;
  case M_PARK:
    while ((*v = atomic_load_explicit(&s->ball, memory_order_acquire)) ==
               prev &&
           !atomic_load_explicit(&s->abort, memory_order_relaxed))
      sm_parker_park(&s->parker[side]);
    break;
  case M_SPIN:
    *v = spin_wait(s, prev);
    break;
  }
  if (rc == 0 && atomic_load_explicit(&s->abort, memory_order_relaxed))
    rc = -ECANCELED;
  return rc;
}

/* One round trip from side 0: sends round k's odd value and waits for the
 * even answer (a lone thread receives what it sent: the ball then only
 * has to differ from a value it never holds); counts the answer as
 * received or bad. Returns 0 or the error of send/receive. */
static int round_trip(struct pingpong *s, uint64_t k) {
  int out = (int)(2 * k + 1), in;
  int want = s->one_thread ? out : out + 1;
  int rc = send_token(s, 1, out);
  if (rc == 0)
    rc = recv_token(s, 0, s->one_thread ? out - 1 : out, &in);
  if (rc == 0) {
    s->side[0].received++;
    s->side[0].bad += in != want;
  }
  return rc;
}

/* Runs round trips for at least MIN_WARMUP_NS (or the run's warm-up) and
 * returns in *batch how many make one batch of the measured phase.
 * Returns 0 or the error of a round trip. */
static int warm_up(struct pingpong *s, uint64_t *batch) {
  uint64_t want = s->warmup_ns > MIN_WARMUP_NS ? s->warmup_ns : MIN_WARMUP_NS;
  uint64_t start = sm_now_ns(), now = start, n = 0;
  int rc = 0;
  while (rc == 0 && now - start < want) {
    rc = round_trip(s, s->total_rounds++);
    n++;
    now = sm_now_ns();
  }
  double per_batch_ns = (double)s->duration_ns / TARGET_BATCHES;
  double b = per_batch_ns * (double)n / (double)(now - start);
  *batch = b < 1 ? 1 : (uint64_t)b;
  return rc;
}

/* Side 0's measured phase: batches of round trips until the duration is
 * spent, MAX_BATCHES are done or MAX_ROUNDS would be passed. Records each
 * batch's mean round trip. Returns 0 or the error of a round trip. */
static int measure_batches(struct pingpong *s, uint64_t batch) {
  atomic_store_explicit(&s->phase, SM_PHASE_MEASURE, memory_order_release);
  getrusage(RUSAGE_THREAD, &s->side[0].ru_start);
  uint64_t start = sm_now_ns(), now = start;
  int rc = 0;
  while (rc == 0 && now - start < s->duration_ns && s->nbatches < MAX_BATCHES &&
         s->total_rounds + batch < (uint64_t)MAX_ROUNDS) {
    uint64_t t0 = now;
    for (uint64_t i = 0; rc == 0 && i < batch; i++)
      rc = round_trip(s, s->total_rounds++);
    now = sm_now_ns();
    s->batch_ns[s->nbatches++] = (double)(now - t0) / (double)batch;
    s->rounds += batch;
  }
  s->measured_ns = now - start;
  getrusage(RUSAGE_THREAD, &s->side[0].ru_end);
  return rc;
}

/* Tells the watchdog this side has finished. */
static void mark_done(struct pingpong *s) {
  atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
  sm_parker_unpark(&s->done_parker);
}

/* Side 0: warm-up, measured batches, then STOP to the responder. */
static void *initiator(void *arg) {
  struct pingpong *s = arg;
  uint64_t batch = 1;
  int rc = warm_up(s, &batch);
  if (rc == 0)
    rc = measure_batches(s, batch);
  atomic_store_explicit(&s->phase, SM_PHASE_STOP, memory_order_release);
  int stop_rc = send_token(s, 1, TOKEN_STOP);
  s->side[0].rc = rc ? rc : stop_rc;
  mark_done(s);
  return NULL;
}

/* Side 1: answers every token with the next value until STOP; snapshots
 * its resource usage when it sees the measured phase begin and end. */
static void *responder(void *arg) {
  struct pingpong *s = arg;
  struct side_result *r = &s->side[1];
  int prev = 0, v, rc, phase = SM_PHASE_WARMUP;
  while ((rc = recv_token(s, 1, prev, &v)) == 0 && v != TOKEN_STOP) {
    int now = atomic_load_explicit(&s->phase, memory_order_acquire);
    if (now != phase && now == SM_PHASE_MEASURE)
      getrusage(RUSAGE_THREAD, &r->ru_start);
    phase = now;
    r->received++;
    r->measured += phase == SM_PHASE_MEASURE;
    r->bad += v != prev + 1;
    prev = v + 1;
    if ((rc = send_token(s, 0, prev)) != 0)
      break;
  }
  getrusage(RUSAGE_THREAD, &r->ru_end);
  r->rc = rc;
  mark_done(s);
  return NULL;
}

/* One thread alone: sends each value to itself and receives it (the calls
 * of a hand-off without a partner, e.g. a pipe write+read, a futex wake
 * with no waiter), in the same warm-up and batches as a pair. Side 1's
 * resource usage is left at zero switches. */
static void *alone(void *arg) {
  struct pingpong *s = arg;
  uint64_t batch = 1;
  int rc = warm_up(s, &batch);
  if (rc == 0)
    rc = measure_batches(s, batch);
  s->side[0].rc = rc;
  s->side[1].ru_start = s->side[1].ru_end = s->side[0].ru_start;
  mark_done(s);
  return NULL;
}

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
static int open_channel(struct pingpong *s, int i) {
  if (s->mech == M_PIPE && pipe2(s->fds[i], O_CLOEXEC) != 0)
    return -errno;
  if (s->mech == M_EVENTFD &&
      (s->fds[i][0] = s->fds[i][1] = eventfd(0, EFD_CLOEXEC)) < 0)
    return -errno;
  return 0;
}

/* Opens the channels of the pair, one per receiving side; a lone thread
 * sends to side 1 and receives as side 0, so both sides share one channel.
 * Returns 0 or a negative errno. */
static int open_fds(struct pingpong *s) {
  int rc = open_channel(s, 1);
  if (rc == 0 && !s->one_thread)
    rc = open_channel(s, 0);
  else if (rc == 0)
    memcpy(s->fds[0], s->fds[1], sizeof s->fds[0]);
  return rc;
}

/* Frees a pair made by pair_new; NULL is accepted. */
static void pair_free(struct pingpong *s) {
  if (!s)
    return;
  close_fds(s);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cond[0]);
  pthread_cond_destroy(&s->cond[1]);
  free(s->batch_ns);
  free(s);
}

/* Makes a pair for mechanism m. Returns 0 and sets *out, -ENOMEM, or the
 * errno of pipe/eventfd. */
static int pair_new(enum mech m, int one_thread,
                    const struct sm_measure_config *cfg,
                    struct pingpong **out) {
  struct pingpong *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  if (!s)
    return -ENOMEM;
  memset(s, 0, sizeof *s);
  memset(s->fds, -1, sizeof s->fds);
  s->mech = m;
  s->one_thread = one_thread;
  s->warmup_ns = cfg->warmup_ns;
  s->duration_ns = cfg->duration_ns;
  atomic_init(&s->phase, SM_PHASE_WARMUP);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond[0], NULL);
  pthread_cond_init(&s->cond[1], NULL);
  s->batch_ns = calloc(MAX_BATCHES, sizeof *s->batch_ns);
  int rc = s->batch_ns ? open_fds(s) : -ENOMEM;
  if (rc != 0) {
    pair_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Wakes every waiter of the pair so that an aborted pair ends: writes to
 * every channel, changes the ball, wakes futex, parkers and condvars. */
static void kick(struct pingpong *s) {
  atomic_store_explicit(&s->abort, 1, memory_order_relaxed);
  pthread_mutex_lock(&s->mu);
  atomic_store_explicit(&s->ball, TOKEN_STOP, memory_order_release);
  pthread_cond_broadcast(&s->cond[0]);
  pthread_cond_broadcast(&s->cond[1]);
  pthread_mutex_unlock(&s->mu);
  (void)syscall(SYS_futex, (void *)&s->ball, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
                NULL, 0);
  for (int i = 0; i < 2; i++) {
    sm_parker_unpark(&s->parker[i]);
    if (s->fds[i][1] >= 0) {
      uint64_t one = 1; /* 8 bytes: an eventfd count, or two pipe ints */
      (void)write_all(s->fds[i][1], &one, sizeof one);
    }
  }
}

/* Waits until `nthreads` sides are done or `limit_ns` passes; then aborts
 * the pair (kick) so they end. Returns 0, or -ETIMEDOUT after a kick. */
static int watchdog(struct pingpong *s, int nthreads, uint64_t limit_ns) {
  uint64_t start = sm_now_ns(), now = start;
  while (atomic_load_explicit(&s->done, memory_order_acquire) < nthreads) {
    if (now - start >= limit_ns) {
      kick(s);
      return -ETIMEDOUT;
    }
    (void)sm_parker_park_timeout(&s->done_parker, limit_ns - (now - start));
    now = sm_now_ns();
  }
  return 0;
}

/* Starts the pair's threads (one when `one_thread`) on their PUs, waits
 * for them under the watchdog and joins them. Returns 0, -ETIMEDOUT when
 * the watchdog had to abort them, or the error of a spawn. */
static int run_pair(struct pingpong *s, const struct sm_case *c,
                    int one_thread) {
  sm_thread_fn fns[2] = {one_thread ? alone : initiator, responder};
  const char *names[2] = {"sm-ping", "sm-pong"};
  struct sm_join_handle *h[2] = {NULL, NULL};
  int n = one_thread ? 1 : 2, started = 0, rc = 0;
  for (; started < n && rc == 0; started++) {
    struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
    o.name = names[started];
    o.pin_pu = c->os_pus[started];
    rc = sm_thread_spawn(&o, fns[started], s, &h[started]);
  }
  if (rc != 0) {
    started--;
    kick(s);
  } else {
    uint64_t limit = 5 * (s->warmup_ns + s->duration_ns) + 2000000000u;
    rc = watchdog(s, n, limit);
  }
  for (int i = 0; i < started; i++)
    sm_join(h[i], NULL);
  return rc;
}

/* Voluntary (`voluntary` = 1) or involuntary context switches of both
 * sides over the measured phase. */
static double switches(const struct pingpong *s, int voluntary) {
  double sum = 0;
  for (int i = 0; i < 2; i++) {
    const struct rusage *a = &s->side[i].ru_start, *b = &s->side[i].ru_end;
    sum += voluntary ? (double)(b->ru_nvcsw - a->ru_nvcsw)
                     : (double)(b->ru_nivcsw - a->ru_nivcsw);
  }
  return sum;
}

/* Whether the case places both threads on one PU. */
static int same_pu(const struct sm_case *c) {
  return strcmp(c->placement_name, "same-pu") == 0;
}

/* The self-check of a finished pair: both sides received every token once
 * with the expected value, and a blocking hand-off between threads on one
 * PU really switched: each round trip needs two switches (at least 1.8
 * allows for the edges of the measured phase), one of them voluntary at
 * least (the woken side may preempt the waker, but then blocks itself).
 * Returns 0 or -EPROTO with the numbers in msg. */
static int check_pair(const struct pingpong *s, const struct sm_case *c,
                      int one_thread, char *msg, size_t size) {
  const struct side_result *a = &s->side[0], *b = &s->side[1];
  if (s->rounds == 0) {
    snprintf(msg, size, "no round trip was measured");
    return -EPROTO;
  }
  if (a->received != s->total_rounds || a->bad || b->bad ||
      (!one_thread &&
       (b->received != s->total_rounds || b->measured != s->rounds))) {
    snprintf(msg, size,
             "token count mismatch: %llu round trips sent, side 0 got %llu "
             "(%llu bad), side 1 got %llu (%llu bad, %llu of %llu measured)",
             (unsigned long long)s->total_rounds,
             (unsigned long long)a->received, (unsigned long long)a->bad,
             (unsigned long long)b->received, (unsigned long long)b->bad,
             (unsigned long long)b->measured, (unsigned long long)s->rounds);
    return -EPROTO;
  }
  double rounds = (double)s->rounds;
  double vcsw = switches(s, 1) / rounds;
  double all = vcsw + switches(s, 0) / rounds;
  if (!one_thread && s->mech != M_SPIN && same_pu(c) &&
      (all < 1.8 || vcsw < 0.5)) {
    snprintf(msg, size,
             "threads on one PU handed the token back %llu times with only "
             "%.2f context switches per round trip, %.2f voluntary (2 and "
             "at least 1 expected)",
             (unsigned long long)s->rounds, all, vcsw);
    return -EPROTO;
  }
  return 0;
}

/* Adds the metrics of a finished pair. Returns 0 or the sink's error. */
static int emit_pair(struct pingpong *s, int one_thread, struct sm_sink *sink) {
  double rounds = (double)s->rounds;
  double rtt = (double)s->measured_ns / rounds;
  double *sorted = s->batch_ns;
  sm_stats_sort(sorted, s->nbatches);
  int rc = sm_sink_metric(sink, "rtt_ns", "ns", rtt);
  if (rc == 0 && !one_thread)
    rc = sm_sink_metric(sink, "oneway_ns", "ns", rtt / 2);
  if (rc == 0)
    rc = sm_sink_metric(sink, "rtt_batch_p50_ns", "ns",
                        sm_stats_percentile_sorted(sorted, s->nbatches, 50));
  if (rc == 0)
    rc = sm_sink_metric(sink, "rtt_batch_p99_ns", "ns",
                        sm_stats_percentile_sorted(sorted, s->nbatches, 99));
  if (rc == 0)
    rc = sm_sink_metric(sink, "vcsw_per_rtt", "switches/rtt",
                        switches(s, 1) / rounds);
  if (rc == 0)
    rc = sm_sink_metric(sink, "ivcsw_per_rtt", "switches/rtt",
                        switches(s, 0) / rounds);
  return rc;
}

/* Runs one repetition of mechanism m between the case's two threads (or
 * in one thread) and, when `rtt_out` is not NULL, stores the round trip
 * there instead of adding metrics. Returns 0, or a negative errno with a
 * sentence in msg. */
static int pingpong_measure(const struct sm_measure_config *cfg,
                            const struct sm_case *c, enum mech m,
                            int one_thread, struct sm_sink *sink,
                            double *rtt_out, char *msg, size_t size) {
  struct pingpong *s;
  int rc = pair_new(m, one_thread, cfg, &s);
  if (rc != 0) {
    snprintf(msg, size, "cannot set up the pair: %s", strerror(-rc));
    return rc;
  }
  rc = run_pair(s, c, one_thread);
  int side_rc = s->side[0].rc ? s->side[0].rc : s->side[1].rc;
  if (rc == -ETIMEDOUT) {
    snprintf(msg, size,
             "a hand-off was lost: aborted after %llu round trips (side 0 "
             "got %llu, side 1 got %llu)",
             (unsigned long long)s->total_rounds,
             (unsigned long long)s->side[0].received,
             (unsigned long long)s->side[1].received);
    rc = -EPROTO;
  } else if (rc != 0 || side_rc != 0) {
    snprintf(msg, size, "ping-pong failed: %s", strerror(-(rc ? rc : side_rc)));
    rc = rc ? rc : side_rc;
  } else if ((rc = check_pair(s, c, one_thread, msg, size)) == 0) {
    if (rtt_out)
      *rtt_out = (double)s->measured_ns / (double)s->rounds;
    else
      rc = emit_pair(s, one_thread, sink);
  }
  pair_free(s);
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

/* What one run of a child program gave. */
struct child_run {
  char out[4096]; /* the start of its stdout and stderr */
  int status;     /* waitpid status; -1 when it had to be killed */
  struct rusage ru;
};

/* Reads the child's output from fd into r->out until end of file or until
 * `deadline_ns`. Returns 0, or -ETIMEDOUT. */
static int collect_output(int fd, uint64_t deadline_ns, struct child_run *r) {
  size_t len = 0;
  for (;;) {
    uint64_t now = sm_now_ns();
    if (now >= deadline_ns)
      return -ETIMEDOUT;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ms = (int)((deadline_ns - now) / 1000000u) + 1;
    if (poll(&p, 1, ms) < 0 && errno != EINTR)
      return -errno;
    char tmp[512];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n == 0)
      return 0;
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return -errno;
    size_t keep = n > 0 ? (size_t)n : 0;
    if (keep > sizeof r->out - 1 - len)
      keep = sizeof r->out - 1 - len;
    memcpy(r->out + len, tmp, keep);
    len += keep;
    r->out[len] = '\0';
  }
}

/* Runs argv (argv[0] a path) with stdout and stderr captured, for at most
 * `limit_ns`, killing it after that. Returns 0 with its status, output and
 * resource usage in *r, -ETIMEDOUT when it was killed, or the errno of
 * pipe/posix_spawn. */
static int run_child(char *const argv[], uint64_t limit_ns,
                     struct child_run *r) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
  pid_t pid;
  int rc = -posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  r->out[0] = '\0';
  if (rc == 0) {
    rc = collect_output(fds[0], sm_now_ns() + limit_ns, r);
    if (rc != 0)
      kill(pid, SIGKILL);
    while (wait4(pid, &r->status, 0, &r->ru) < 0 && errno == EINTR)
      ;
  }
  close(fds[0]);
  return rc;
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
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
    argv[n++] = tail[i];
  argv[n] = NULL;
  return 0;
}

/* Checks and adds the metrics of one perf run of `loops` round trips
 * (perf's op is one round trip: one write and one read on each side).
 * Returns 0, SM_MEASURE_SKIP when perf did not run here, or -EPROTO. */
static int perf_result(const struct child_run *r, long loops, double pipe_rtt,
                       struct sm_sink *sink, char *msg, size_t size) {
  /* run_child returns 0 only after wait4 set the status (the analyzer
   * assumes that a failed pipe2 may leave errno 0).
   * NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
  if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
    snprintf(msg, size, "perf bench sched pipe did not run (status %d): %.120s",
             r->status, r->out);
    return SM_MEASURE_SKIP;
  }
  long executed = 0;
  double usecs;
  if (parse_perf(r->out, &executed, &usecs) != 0 || executed != loops ||
      !(usecs > 0)) {
    snprintf(msg, size,
             "perf bench sched pipe ran %ld of %ld operations, or its output "
             "could not be read: %.120s",
             executed, loops, r->out);
    return -EPROTO;
  }
  double rtt = usecs * 1000;
  double n = (double)loops;
  int rc = sm_sink_metric(sink, "rtt_ns", "ns", rtt);
  if (rc == 0)
    rc = sm_sink_metric(sink, "oneway_ns", "ns", rtt / 2);
  if (rc == 0)
    rc = sm_sink_metric(sink, "vcsw_per_rtt", "switches/rtt",
                        (double)r->ru.ru_nvcsw / n);
  if (rc == 0)
    rc = sm_sink_metric(sink, "ivcsw_per_rtt", "switches/rtt",
                        (double)r->ru.ru_nivcsw / n);
  if (rc == 0)
    rc = sm_sink_metric(sink, "pipe_rtt_ns", "ns", pipe_rtt);
  if (rc == 0)
    rc = sm_sink_metric(sink, "perf_over_pipe", "ratio", rtt / pipe_rtt);
  return rc;
}

/* The perf_pipe variant: syncmark's pipe ping-pong on the case's PUs (also
 * sizing perf's loop count to about one duration), then `perf bench sched
 * pipe -T -l N` pinned the same way. Returns 0, SM_MEASURE_SKIP when perf
 * (or taskset) is missing or perf cannot run, or a negative errno. */
static int perf_measure(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t size) {
  char *argv[12], paths[2][256], buf[2][32];
  int rc = perf_argv(c, 1, argv, paths, buf, msg, size);
  double pipe_rtt;
  if (rc == 0)
    rc = pingpong_measure(cfg, c, M_PIPE, 0, NULL, &pipe_rtt, msg, size);
  if (rc != 0)
    return rc;
  double want = (double)cfg->duration_ns / pipe_rtt;
  long loops = want < 100 ? 100 : want > 1e8 ? 100000000 : (long)want;
  perf_argv(c, loops, argv, paths, buf, msg, size);
  struct child_run r;
  uint64_t limit = 20 * cfg->duration_ns + 10000000000u;
  rc = run_child(argv, limit, &r);
  if (rc == -ETIMEDOUT) {
    snprintf(msg, size, "perf bench sched pipe -l %ld did not finish in %.0f s",
             loops, (double)limit / 1e9);
    return -EPROTO;
  }
  if (rc != 0) {
    snprintf(msg, size, "cannot start perf: %s", strerror(-rc));
    return SM_MEASURE_SKIP;
  }
  return perf_result(&r, loops, pipe_rtt, sink, msg, size);
}

/* How each variant hands the token over. */
struct variant_kind {
  enum mech mech;
  int one_thread; /* the calls of a hand-off in one thread, no partner */
  int perf;       /* perf bench sched pipe */
};

static const struct variant_kind kinds[] = {
    {M_FUTEX, 0, 0},   {M_PIPE, 0, 0},    {M_PIPE, 0, 1},    {M_EVENTFD, 0, 0},
    {M_CONDVAR, 0, 0}, {M_PARK, 0, 0},    {M_SPIN, 0, 0},    {M_FUTEX, 1, 0},
    {M_PIPE, 1, 0},    {M_EVENTFD, 1, 0}, {M_CONDVAR, 1, 0}, {M_PARK, 1, 0},
};

static const struct sm_variant variants[] = {
    SM_VARIANT("futex", "store + FUTEX_WAKE / FUTEX_WAIT on one word", NULL),
    SM_VARIANT("pipe", "one int written to and read from a pipe per direction",
               NULL),
    SM_VARIANT("perf_pipe", "perf bench sched pipe -T, pinned with taskset",
               NULL),
    SM_VARIANT("eventfd", "an eventfd per direction (write 1 / read)", NULL),
    SM_VARIANT("condvar", "pthread mutex + one condition variable per side",
               NULL),
    SM_VARIANT("park", "store + unpark / park (Rust's futex parker)", NULL),
    SM_VARIANT("spin",
               "spinning on a flag (no switch; yields after 256 pauses)", NULL),
    SM_VARIANT("futex_1thread", "one thread: store + FUTEX_WAKE with no waiter",
               NULL),
    SM_VARIANT("pipe_1thread", "one thread: pipe write + read of one int",
               NULL),
    SM_VARIANT("eventfd_1thread", "one thread: eventfd write + read", NULL),
    SM_VARIANT("condvar_1thread",
               "one thread: lock, signal nobody, unlock, lock, check, unlock",
               NULL),
    SM_VARIANT("park_1thread",
               "one thread: store + unpark a parker nobody sleeps on", NULL),
};
_Static_assert(sizeof kinds / sizeof kinds[0] ==
                   sizeof variants / sizeof variants[0],
               "one kind per variant");

/* measure of the family: dispatches on the variant. One-thread variants
 * run on the first PU of the same-pu case and unpinned, and skip the other
 * placements silently (one thread has no placement). */
static int ctxswitch_measure(const struct sm_measure_config *cfg,
                             const struct sm_case *c, struct sm_sink *sink,
                             char *msg, size_t size) {
  const struct variant_kind *k = &kinds[c->variant - variants];
  if (k->perf)
    return perf_measure(cfg, c, sink, msg, size);
  if (k->one_thread && !same_pu(c) && c->os_pus[0] >= 0)
    return SM_MEASURE_SKIP;
  return pingpong_measure(cfg, c, k->mech, k->one_thread, sink, NULL, msg,
                          size);
}

const struct sm_family sm_family_ctxswitch = {
    .name = "ctxswitch",
    .summary = "token ping-pong between two threads: futex, pipe, eventfd, "
               "condvar, park, spin, perf's pipe; per pair placement",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .measure = ctxswitch_measure,
    .shape = SM_SHAPE_PAIR,
    .headline_metric = "rtt_ns",
};
