/* channel_zero.c: the rendezvous channel (capacity 0): a sender offers its
 * message and blocks until the receiver has copied it. */
#include <errno.h>
#include <time.h>

#include "channel_impl.h"
#include "syncmark/clock.h"

int sm__zero_init(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    return -ENOMEM;
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&z->senders_cond, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    return -rc;
  if ((rc = pthread_mutex_init(&z->lock, NULL)) != 0) {
    pthread_cond_destroy(&z->senders_cond);
    return -rc;
  }
  z->offer = NULL;
  z->offered = z->taken = 0;
  return 0;
}

/* Waits on the senders' condition until `deadline`. Returns 0 or
 * -ETIMEDOUT. Caller holds the lock. */
static int wait_senders(struct zero_flavor *z, uint64_t deadline) {
  if (deadline == SM_CHANNEL_FOREVER) {
    pthread_cond_wait(&z->senders_cond, &z->lock);
    return 0;
  }
  struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                        .tv_nsec = (long)(deadline % 1000000000u)};
  return pthread_cond_timedwait(&z->senders_cond, &z->lock, &ts) ==
                 ETIMEDOUT
             ? -ETIMEDOUT
             : 0;
}

/* Returns true when the receiver is gone. */
static bool closed(struct sm_channel *ch) {
  return atomic_load_explicit(&ch->receiver_gone, memory_order_acquire);
}

int sm__zero_send(struct sm_channel *ch, const void *msg, uint64_t deadline,
                  bool only_if_receiver_waits) {
  struct zero_flavor *z = &ch->u.zero;
  int rc = 0;
  pthread_mutex_lock(&z->lock);
  while (rc == 0 && z->offer && !closed(ch) && !only_if_receiver_waits)
    rc = wait_senders(z, deadline);
  if (rc == 0 && closed(ch))
    rc = -EPIPE;
  else if (rc == 0 && only_if_receiver_waits &&
           (z->offer || !atomic_load_explicit(&ch->rx_waiter,
                                              memory_order_seq_cst)))
    rc = -EAGAIN;
  if (rc != 0) {
    pthread_mutex_unlock(&z->lock);
    return rc;
  }
  z->offer = msg;
  uint64_t mine = ++z->offered;
  pthread_mutex_unlock(&z->lock);
  sm__channel_notify_receiver(ch);
  pthread_mutex_lock(&z->lock);
  while (rc == 0 && z->taken < mine && !closed(ch))
    rc = wait_senders(z, deadline);
  if (z->taken < mine) { /* not taken: withdraw the offer */
    z->offer = NULL;
    pthread_cond_broadcast(&z->senders_cond);
    rc = closed(ch) ? -EPIPE : -ETIMEDOUT;
  } else {
    rc = 0;
  }
  pthread_mutex_unlock(&z->lock);
  return rc;
}

int sm__zero_try_recv(struct sm_channel *ch, void *out) {
  struct zero_flavor *z = &ch->u.zero;
  pthread_mutex_lock(&z->lock);
  int rc = -EAGAIN;
  if (z->offer) {
    if (out)
      sm__channel_copy(out, z->offer, ch->message_size);
    z->offer = NULL;
    z->taken = z->offered;
    pthread_cond_broadcast(&z->senders_cond);
    rc = 0;
  } else if (atomic_load_explicit(&ch->senders, memory_order_acquire) == 0) {
    rc = -EPIPE;
  }
  pthread_mutex_unlock(&z->lock);
  return rc;
}

bool sm__zero_ready(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  pthread_mutex_lock(&z->lock);
  bool ready = z->offer != NULL ||
               atomic_load_explicit(&ch->senders, memory_order_acquire) == 0;
  pthread_mutex_unlock(&z->lock);
  return ready;
}

void sm__zero_disconnect(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  pthread_mutex_lock(&z->lock);
  pthread_cond_broadcast(&z->senders_cond);
  pthread_mutex_unlock(&z->lock);
}

void sm__zero_destroy(struct sm_channel *ch) {
  pthread_cond_destroy(&ch->u.zero.senders_cond);
  pthread_mutex_destroy(&ch->u.zero.lock);
}
