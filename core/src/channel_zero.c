/* channel_zero.c: the rendezvous channel (capacity 0). A sender hands its
 * message straight to a receiver blocked in recv; otherwise it offers the
 * message and blocks until a receiver copies it. */
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
  if (rc == 0 && (rc = pthread_cond_init(&z->receiver_cond, &attr)) != 0)
    pthread_cond_destroy(&z->senders_cond);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    return -rc;
  if ((rc = pthread_mutex_init(&z->lock, NULL)) != 0) {
    pthread_cond_destroy(&z->senders_cond);
    pthread_cond_destroy(&z->receiver_cond);
    return -rc;
  }
  z->offer = NULL;
  z->receiver_buf = NULL;
  z->delivered = false;
  z->offered = z->taken = 0;
  return 0;
}

/* Waits on `cond` until `deadline`. Returns 0 or -ETIMEDOUT. Caller holds
 * the lock. */
static int wait_until(struct zero_flavor *z, pthread_cond_t *cond,
                      uint64_t deadline) {
  if (deadline == SM_CHANNEL_FOREVER) {
    pthread_cond_wait(cond, &z->lock);
    return 0;
  }
  struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                        .tv_nsec = (long)(deadline % 1000000000u)};
  return pthread_cond_timedwait(cond, &z->lock, &ts) == ETIMEDOUT ? -ETIMEDOUT
                                                                  : 0;
}

/* Returns true when the receiver is gone. */
static bool closed(struct sm_channel *ch) {
  return atomic_load_explicit(&ch->receiver_gone, memory_order_acquire);
}

/* Hands msg to a receiver blocked in recv, if there is one. Returns true
 * when it did. Caller holds the lock. */
static bool hand_over(struct sm_channel *ch, const void *msg) {
  struct zero_flavor *z = &ch->u.zero;
  if (!z->receiver_buf || z->delivered)
    return false;
  sm__channel_copy(z->receiver_buf, msg, ch->message_size);
  z->delivered = true;
  pthread_cond_signal(&z->receiver_cond);
  return true;
}

/* Offers msg and waits until it is taken. Returns 0, -ETIMEDOUT or -EPIPE
 * (the offer is then withdrawn). Caller holds the lock, which is dropped
 * while the receiver's select waiter is woken. */
static int offer_and_wait(struct sm_channel *ch, const void *msg,
                          uint64_t deadline) {
  struct zero_flavor *z = &ch->u.zero;
  z->offer = msg;
  uint64_t mine = ++z->offered;
  pthread_mutex_unlock(&z->lock);
  sm__channel_notify_receiver(ch); /* a receiver blocked in select */
  pthread_mutex_lock(&z->lock);
  int rc = 0;
  while (rc == 0 && z->taken < mine && !closed(ch))
    rc = wait_until(z, &z->senders_cond, deadline);
  if (z->taken >= mine)
    return 0;
  z->offer = NULL; /* not taken: withdraw it, let the next sender offer */
  pthread_cond_broadcast(&z->senders_cond);
  return closed(ch) ? -EPIPE : -ETIMEDOUT;
}

int sm__zero_send(struct sm_channel *ch, const void *msg, uint64_t deadline,
                  bool try_only) {
  struct zero_flavor *z = &ch->u.zero;
  int rc = 0;
  pthread_mutex_lock(&z->lock);
  for (;;) {
    if (closed(ch)) {
      rc = -EPIPE;
      break;
    }
    if (hand_over(ch, msg))
      break;
    if (try_only) {
      rc = -EAGAIN;
      break;
    }
    if (!z->offer) {
      rc = offer_and_wait(ch, msg, deadline);
      break;
    }
    if ((rc = wait_until(z, &z->senders_cond, deadline)) != 0)
      break; /* another sender's offer is pending */
  }
  pthread_mutex_unlock(&z->lock);
  return rc;
}

/* Takes the pending offer into out (NULL: drop it). Caller holds the lock
 * and has checked there is one. */
static void take_offer(struct sm_channel *ch, void *out) {
  struct zero_flavor *z = &ch->u.zero;
  if (out)
    sm__channel_copy(out, z->offer, ch->message_size);
  z->offer = NULL;
  z->taken = z->offered;
  pthread_cond_broadcast(&z->senders_cond);
}

int sm__zero_try_recv(struct sm_channel *ch, void *out) {
  struct zero_flavor *z = &ch->u.zero;
  pthread_mutex_lock(&z->lock);
  int rc = -EAGAIN;
  if (z->offer) {
    take_offer(ch, out);
    rc = 0;
  } else if (atomic_load_explicit(&ch->senders, memory_order_acquire) == 0) {
    rc = -EPIPE;
  }
  pthread_mutex_unlock(&z->lock);
  return rc;
}

int sm__zero_recv(struct sm_channel *ch, void *out, uint64_t deadline) {
  struct zero_flavor *z = &ch->u.zero;
  int rc = 0;
  pthread_mutex_lock(&z->lock);
  z->receiver_buf = out;
  z->delivered = false;
  pthread_cond_broadcast(&z->senders_cond); /* a sender may hand over now */
  for (;;) {
    if (z->delivered) {
      rc = 0;
      break;
    }
    if (z->offer) {
      take_offer(ch, out);
      rc = 0;
      break;
    }
    if (atomic_load_explicit(&ch->senders, memory_order_acquire) == 0) {
      rc = -EPIPE;
      break;
    }
    if (rc == -ETIMEDOUT)
      break;
    rc = wait_until(z, &z->receiver_cond, deadline);
  }
  z->receiver_buf = NULL;
  z->delivered = false;
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
  pthread_cond_broadcast(&z->receiver_cond);
  pthread_mutex_unlock(&z->lock);
}

void sm__zero_destroy(struct sm_channel *ch) {
  pthread_cond_destroy(&ch->u.zero.senders_cond);
  pthread_cond_destroy(&ch->u.zero.receiver_cond);
  pthread_mutex_destroy(&ch->u.zero.lock);
}
