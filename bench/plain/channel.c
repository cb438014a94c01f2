/* channel.c: the plain reference of the channel family's fixed-batch
 * protocol: one producer sends N 8-byte messages through syncmark's
 * channel, bounded (1024) and unbounded, then drops its sender; one
 * consumer drains until disconnected. As in the family, the two threads
 * stay up for a round of BATCHES such batches, each through a fresh
 * channel, the producer waiting (spinning, then yielding) for the next
 * one; pinned where syncmark's compact placement puts the case's producer
 * and consumer; total time of the round (the two threads' start
 * included), median of rounds. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "plain.h"
#include "syncmark/channel.h"
#include "syncmark/compiler.h"

/* Messages per batch: the family's largest batch; batches per round. */
enum { MESSAGES = 262144, BATCHES = 8 };

/* The epoch that tells the producer the round is over. */
#define ROUND_OVER UINT32_MAX

/* One round's channels, shared by its two threads (only written between
 * batches). */
struct round {
  size_t capacity;
  int pus[2];             /* producer, consumer */
  struct sm_sender *tx;   /* the open batch's, published by `epoch` */
  _Atomic uint32_t epoch; /* batches opened so far, or ROUND_OVER */
};

/* The producer: for each batch the consumer opens, sends 0 .. MESSAGES - 1
 * and drops its sender; returns when the round is over. The wait spins,
 * then yields, as the family's producers do (a futex wake-up would put a
 * cross-PU wake into every batch). Never fails (the consumer counts). */
static void produce(struct round *r) {
  uint32_t seen = 0, e;
  for (;;) {
    for (unsigned spins = 0;
         (e = atomic_load_explicit(&r->epoch, memory_order_acquire)) == seen;)
      if (++spins < 128)
        sm_cpu_relax();
      else
        sched_yield();
    if (e == ROUND_OVER)
      return;
    seen = e;
    /* a local copy: r's cache line is written by the consumer */
    struct sm_sender *tx = r->tx;
    for (uint64_t i = 0; i < MESSAGES; i++)
      if (sm_send(tx, &i) != 0)
        break;
    sm_sender_release(tx);
  }
}

/* The consumer: BATCHES times, opens a channel, hands its sender to the
 * producer and drains until disconnected, counting the messages that came
 * in order; then ends the round. Returns 0, or -1 when a channel cannot
 * be made or a batch came short (said on stderr). */
static int consume(struct round *r) {
  int failed = 0;
  for (unsigned b = 0; b < BATCHES && !failed; b++) {
    struct sm_receiver *rx;
    if (sm_channel(sizeof(uint64_t), r->capacity, &r->tx, &rx) != 0) {
      fprintf(stderr, "plain: cannot make a channel of %zu\n", r->capacity);
      failed = 1;
      break;
    }
    atomic_store_explicit(&r->epoch, b + 1, memory_order_release);
    /* counted in locals: the producer reads r->tx, and a store into
     * r per message would pass r's cache line between the two PUs */
    uint64_t v, got = 0;
    int rc;
    while ((rc = sm_recv(rx, &v)) == 0 && v == got)
      got++;
    sm_receiver_release(rx);
    if (rc != -EPIPE || got != MESSAGES) {
      fprintf(stderr, "plain: batch %u: %llu of %d messages in order\n", b,
              (unsigned long long)got, MESSAGES);
      failed = 1;
    }
  }
  atomic_store_explicit(&r->epoch, ROUND_OVER, memory_order_release);
  return failed ? -1 : 0;
}

/* Thread 0 produces, thread 1 consumes. */
static int play(void *arg, unsigned index) {
  struct round *r = arg;
  if (index == 0) {
    produce(r);
    return 0;
  }
  return consume(r);
}

/* One round of BATCHES batches through channels of r->capacity: returns
 * the messages of the round, or 0 when it failed. */
static double round_on(void *arg) {
  struct round *r = arg;
  atomic_store(&r->epoch, 0);
  if (sm_plain_run_pinned(2, r->pus, play, r) != 0)
    return 0;
  return (double)MESSAGES * BATCHES;
}

/* Measures one capacity and prints its block; `param` is the capacity as
 * syncmark's axis spells it. Returns sm_plain_report's status. */
static int measure(size_t capacity, const char *param) {
  struct round r = {.capacity = capacity};
  double rate = sm_plain_compact_rate(2, r.pus, round_on, &r);
  char args[160];
  snprintf(args, sizeof args,
           "channel/syncmark --threads 1 --placement compact --param "
           "capacity=%s --param msg_bytes=8 --param batch_msgs=%d",
           param, MESSAGES);
  return sm_plain_report(args, "msgs_per_s", rate);
}

int main(void) {
  int rc = measure(1024, "1024");
  return measure(SM_CHANNEL_UNBOUNDED, "-1") | rc;
}
