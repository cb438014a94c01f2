/* channel.c: the plain reference of the channel family: one unpinned
 * producer sends N 8-byte messages through syncmark's channel, bounded
 * (1024) and unbounded, then drops its sender; the main thread drains
 * until disconnected; total time, median of rounds. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "plain.h"
#include "syncmark/channel.h"

/* Messages per round. */
enum { MESSAGES = 2000000 };

/* The producer: sends 0 .. MESSAGES - 1, then drops its sender. */
static void *produce(void *arg) {
  struct sm_sender *tx = arg;
  for (uint64_t i = 0; i < MESSAGES; i++)
    if (sm_send(tx, &i) != 0)
      break;
  sm_sender_release(tx);
  return NULL;
}

/* One round through a new channel of `capacity` (a size_t behind arg):
 * returns MESSAGES, or 0 when the channel or thread cannot be made or a
 * message is missing or out of order. */
static double round_on(void *arg) {
  size_t capacity = *(const size_t *)arg;
  struct sm_sender *tx;
  struct sm_receiver *rx;
  if (sm_channel(sizeof(uint64_t), capacity, &tx, &rx) != 0)
    return 0;
  pthread_t producer;
  if (pthread_create(&producer, NULL, produce, tx) != 0) {
    sm_sender_release(tx);
    sm_receiver_release(rx);
    return 0;
  }
  uint64_t got = 0, v;
  int rc;
  while ((rc = sm_recv(rx, &v)) == 0 && v == got)
    got++;
  pthread_join(producer, NULL);
  sm_receiver_release(rx);
  if (rc != -EPIPE || got != MESSAGES) {
    fprintf(stderr, "plain: %llu of %d messages in order\n",
            (unsigned long long)got, MESSAGES);
    return 0;
  }
  return MESSAGES;
}

/* Measures one capacity and prints its block; `param` is the capacity as
 * syncmark's axis spells it. Returns sm_plain_report's status. */
static int measure(size_t capacity, const char *param) {
  double rate = sm_plain_median_rate(round_on, &capacity);
  char args[160];
  snprintf(args, sizeof args,
           "channel/syncmark --threads 1 --placement none --param "
           "capacity=%s --param msg_bytes=8",
           param);
  return sm_plain_report(args, "msgs_per_s", rate);
}

int main(void) {
  int rc = measure(1024, "1024");
  return measure(SM_CHANNEL_UNBOUNDED, "-1") | rc;
}
