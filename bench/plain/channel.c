/* channel.c: the plain reference of the channel family's fixed-batch
 * protocol: one producer sends N 8-byte messages through syncmark's
 * channel, bounded (1024) and unbounded, then drops its sender; one
 * consumer drains until disconnected; the two pinned where syncmark's
 * compact placement puts the case's producer and consumer; total time
 * (the two threads' start included), median of rounds. */
#include <errno.h>
#include <stdint.h>

#include "plain.h"
#include "syncmark/channel.h"

/* Messages per round: the family's largest batch. */
enum { MESSAGES = 262144 };

/* One round's channel and what its consumer saw. */
struct round {
  size_t capacity;
  int pus[2]; /* producer, consumer */
  struct sm_sender *tx;
  struct sm_receiver *rx;
  uint64_t got; /* messages received in order */
  int rc;       /* the receive that ended the drain */
};

/* Thread 0 sends 0 .. MESSAGES - 1 and drops its sender; thread 1 drains
 * until disconnected, counting the messages that came in order. Never
 * fails (the round checks the count). */
static int play(void *arg, unsigned index) {
  struct round *r = arg;
  if (index == 0) {
    for (uint64_t i = 0; i < MESSAGES; i++)
      if (sm_send(r->tx, &i) != 0)
        break;
    sm_sender_release(r->tx);
    return 0;
  }
  uint64_t v;
  while ((r->rc = sm_recv(r->rx, &v)) == 0 && v == r->got)
    r->got++;
  return 0;
}

/* One round through a new channel of r->capacity: returns MESSAGES, or 0
 * when the channel or a thread cannot be made or a message is missing or
 * out of order. */
static double round_on(void *arg) {
  struct round *r = arg;
  r->got = 0;
  if (sm_channel(sizeof(uint64_t), r->capacity, &r->tx, &r->rx) != 0)
    return 0;
  int ran = sm_plain_run_pinned(2, r->pus, play, r);
  sm_receiver_release(r->rx);
  if (ran != 0)
    return 0;
  if (r->rc != -EPIPE || r->got != MESSAGES) {
    fprintf(stderr, "plain: %llu of %d messages in order\n",
            (unsigned long long)r->got, MESSAGES);
    return 0;
  }
  return MESSAGES;
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
