/* select.c: the plain reference of the select family: a sender thread
 * sends one timestamped message at a time, after a random pause of 100 to
 * 300 us, on one of K channels; the consumer waits by a blocking select,
 * receives and acknowledges it. The median time from send to noticed over
 * a round, median of rounds (a latency in ns, not a rate). */
#include <pthread.h>

#include "plain.h"
#include "syncmark/channel.h"

/* Channels waited on, and messages per round. */
enum { CHANNELS = 8, MESSAGES = 400 };

/* The pair's channels and one round's latencies. */
struct pair {
  struct sm_sender *tx[CHANNELS], *ack_tx;
  struct sm_receiver *rx[CHANNELS], *ack_rx;
  double latency[MESSAGES];
};

/* The consumer: notices MESSAGES messages by select, records each one's
 * latency, acknowledges it. */
static void *consumer(void *arg) {
  struct pair *p = arg;
  for (int i = 0; i < MESSAGES; i++) {
    uint64_t sent;
    for (;;) {
      size_t ready;
      if (sm_select(p->rx, CHANNELS, -1, &ready) == 0 &&
          sm_try_recv(p->rx[ready], &sent) == 0)
        break;
    }
    p->latency[i] = (double)(sm_now_ns() - sent);
    sm_send(p->ack_tx, &sent);
  }
  return NULL;
}

/* One round: returns the median latency in ns, or -1 on a failure. */
static double one_round(struct pair *p, uint64_t *rng) {
  pthread_t t;
  if (pthread_create(&t, NULL, consumer, p) != 0)
    return -1;
  for (int i = 0; i < MESSAGES; i++) {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    sm_sleep_until_ns(sm_now_ns() + 100000 + *rng % 200000);
    uint64_t now = sm_now_ns(), ack;
    if (sm_send(p->tx[*rng % CHANNELS], &now) != 0 ||
        sm_recv(p->ack_rx, &ack) != 0)
      return -1;
  }
  pthread_join(t, NULL);
  sm_stats_sort(p->latency, MESSAGES);
  return p->latency[MESSAGES / 2];
}

int main(void) {
  static struct pair p;
  for (int i = 0; i < CHANNELS; i++)
    if (sm_channel(sizeof(uint64_t), SM_CHANNEL_UNBOUNDED, &p.tx[i],
                   &p.rx[i]) != 0)
      return 1;
  if (sm_channel(sizeof(uint64_t), SM_CHANNEL_UNBOUNDED, &p.ack_tx,
                 &p.ack_rx) != 0)
    return 1;
  uint64_t rng = (sm_now_ns() | 1) * 0x9e3779b97f4a7c15u;
  double p50[SM_PLAIN_ROUNDS];
  for (int r = 0; r < SM_PLAIN_ROUNDS; r++)
    if ((p50[r] = one_round(&p, &rng)) < 0)
      return sm_plain_report("", "p50_ns", -1);
  sm_stats_sort(p50, SM_PLAIN_ROUNDS);
  /* plain_check.py picks the unpinned pair's row ("placement:"). */
  printf("placement: none\n");
  return sm_plain_report("select/select --param channels=8", "p50_ns",
                         p50[SM_PLAIN_ROUNDS / 2]);
}
