/* mpsc.c: peer of mpsc.rs measuring syncmark's sm_channel throughput (P
 * producers, one consumer) as syncmark raw CSV rows. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/csv.h"

#define USAGE                                                                  \
  "usage: mpsc-c --producers P --capacity N|unbounded --messages M --reps R"

enum { MAX_PRODUCERS = 64 };

/* Prints "mpsc-c: " and the formatted reason on one line of stderr, then
 * exits with status 2. Never returns. */
static _Noreturn void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpsc-c: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

/* Prints why the self-check failed on stderr and exits with status 1.
 * Never returns. */
static _Noreturn void check_failed(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("mpsc-c: self-check failed: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* Parses `arg`, the value of --name, as a decimal integer in lo..hi and
 * returns it; exits 2 naming the value and the allowed range otherwise. */
static uint64_t parse_int(const char *name, const char *arg, uint64_t lo,
                          uint64_t hi) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi)
    usage_error("--%s: '%s' is not allowed (an integer from %" PRIu64
                " to %" PRIu64 ")",
                name, arg, lo, hi);
  return v;
}

/* What every producer of one repetition shares. */
struct shared {
  struct sm_sender *tx; /* the original sender, cloned per producer */
  uint64_t messages;    /* per producer */
  atomic_size_t ready;  /* producers waiting at the gate */
  atomic_bool go;       /* the gate */
};

/* One producer thread's arguments. */
struct producer {
  struct shared *s;
  struct sm_sender *tx; /* its own clone, released when it is done */
  uint64_t id;
  pthread_t thread;
};

/* Producer thread: waits at the gate, sends its messages (id << 32 | seq)
 * and releases its sender. Exits the process with status 1 when a send
 * fails. Returns NULL. */
static void *produce(void *arg) {
  struct producer *p = arg;
  struct shared *s = p->s;
  atomic_fetch_add_explicit(&s->ready, 1, memory_order_release);
  while (!atomic_load_explicit(&s->go, memory_order_acquire))
    sched_yield();
  uint64_t base = p->id << 32;
  for (uint64_t seq = 0; seq < s->messages; seq++) {
    uint64_t v = base | seq;
    int rc = sm_send(p->tx, &v);
    if (rc != 0)
      check_failed("send failed: %s", strerror(-rc));
  }
  sm_sender_release(p->tx);
  return NULL;
}

/* One repetition on a fresh channel of `capacity`: `np` producers each send
 * `m` messages, started together by a gate; the calling thread receives all
 * np * m, checking each producer's order and the exact count (exit 1 on a
 * failure, as on a failure to create the channel or threads). Returns
 * messages per second, timed from the gate's opening to the last receive. */
static double run_rep(size_t capacity, size_t np, uint64_t m) {
  struct shared s = {.messages = m};
  atomic_init(&s.ready, 0);
  atomic_init(&s.go, false);
  struct sm_receiver *rx;
  int rc = sm_channel(sizeof(uint64_t), capacity, &s.tx, &rx);
  if (rc != 0)
    check_failed("sm_channel: %s", strerror(-rc));
  struct producer producers[MAX_PRODUCERS];
  for (size_t id = 0; id < np; id++) {
    producers[id] =
        (struct producer){.s = &s, .tx = sm_sender_clone(s.tx), .id = id};
    if ((rc = pthread_create(&producers[id].thread, NULL, produce,
                             &producers[id])) != 0)
      check_failed("pthread_create: %s", strerror(rc));
  }
  sm_sender_release(s.tx);
  while (atomic_load_explicit(&s.ready, memory_order_acquire) < np)
    sched_yield();
  uint64_t next[MAX_PRODUCERS] = {0};
  uint64_t total = np * m;
  uint64_t start = sm_now_ns(); /* CLOCK_MONOTONIC, as Rust's Instant */
  atomic_store_explicit(&s.go, true, memory_order_release);
  for (uint64_t i = 0; i < total; i++) {
    uint64_t v;
    if ((rc = sm_recv(rx, &v)) != 0)
      check_failed("recv after %" PRIu64 " of %" PRIu64 " messages: %s", i,
                   total, strerror(-rc));
    uint64_t id = v >> 32, seq = v & 0xffffffffu;
    if (id >= np || seq != next[id])
      check_failed("message %" PRIu64 ": producer %" PRIu64 " sequence %" PRIu64
                   " (expected %" PRIu64 ")",
                   i, id, seq, id < np ? next[id] : 0);
    next[id] = seq + 1;
  }
  double secs = (double)(sm_now_ns() - start) / 1e9;
  for (size_t id = 0; id < np; id++)
    pthread_join(producers[id].thread, NULL);
  uint64_t extra;
  rc = sm_try_recv(rx, &extra);
  if (rc == 0)
    check_failed("more than %" PRIu64 " messages", total);
  if (rc != -EPIPE)
    check_failed("not disconnected at the end");
  for (size_t id = 0; id < np; id++)
    if (next[id] != m)
      check_failed("producer %zu: %" PRIu64 " of %" PRIu64 " messages", id,
                   next[id], m);
  sm_receiver_release(rx);
  return (double)total / secs;
}

int main(int argc, char **argv) {
  uint64_t producers = 0, messages = 0, reps = 0;
  size_t capacity = 0;
  bool have_capacity = false;
  for (int i = 1; i < argc; i += 2) {
    const char *name = argv[i], *value = argv[i + 1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
      puts(USAGE);
      return 0;
    }
    if (strcmp(name, "--producers") && strcmp(name, "--capacity") &&
        strcmp(name, "--messages") && strcmp(name, "--reps"))
      usage_error("unknown option '%s' (allowed: --producers, --capacity, "
                  "--messages, --reps)",
                  name);
    if (!value)
      usage_error("'%s' needs a value (%s)", name, USAGE);
    if (!strcmp(name, "--producers")) {
      producers = parse_int("producers", value, 1, MAX_PRODUCERS);
    } else if (!strcmp(name, "--capacity")) {
      capacity = strcmp(value, "unbounded") ? 0 : SM_CHANNEL_UNBOUNDED;
      if (capacity == 0 && strcmp(value, "0")) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v == 0 ||
            v > SM_CHANNEL_MAX_CAPACITY)
          usage_error("--capacity: '%s' is not allowed (unbounded, or an "
                      "integer from 0 to %zu)",
                      value, (size_t)SM_CHANNEL_MAX_CAPACITY);
        capacity = v;
      }
      have_capacity = true;
    } else if (!strcmp(name, "--messages")) {
      messages = parse_int("messages", value, 1, (uint64_t)1 << 32);
    } else {
      reps = parse_int("reps", value, 1, 1000);
    }
  }
  if (!producers)
    usage_error("missing --producers (%s)", USAGE);
  if (!have_capacity)
    usage_error("missing --capacity (%s)", USAGE);
  if (!messages)
    usage_error("missing --messages (%s)", USAGE);
  if (!reps)
    usage_error("missing --reps (%s)", USAGE);
  char cap_text[32], rate_text[32];
  if (capacity == SM_CHANNEL_UNBOUNDED)
    snprintf(cap_text, sizeof cap_text, "unbounded");
  else
    snprintf(cap_text, sizeof cap_text, "%zu", capacity);
  for (uint64_t rep = 1; rep <= reps; rep++) {
    double rate = run_rep(capacity, (size_t)producers, messages);
    sm_csv_format_double(rate, rate_text, sizeof rate_text);
    printf("channel,syncmark,capacity=%s;size=8,%" PRIu64 ",none,,%" PRIu64
           ",msgs_per_s,%s,msgs/s\n",
           cap_text, producers + 1, rep, rate_text);
    fflush(stdout);
  }
  return 0;
}
