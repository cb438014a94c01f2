/* channel_zero.c: the rendezvous channel (capacity 0): blocked senders and
 * the blocked receiver wait on their own stacks and are paired one to one
 * (crossbeam's zero flavor, which Rust's sync_channel(0) uses). */
#include <errno.h>
#include <stdint.h>

#include "channel_impl.h"

enum { ZERO_WAITING = 0, ZERO_DONE = 1, ZERO_CLOSED = 2 };

/* sm__zero_send's internal result "queued, now wait", beside 0 and the
 * negative errnos. */
enum { QUEUED = 1 };

int sm__zero_init(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  z->lock = (struct sm_mutex)SM_MUTEX_INIT;
  z->senders = z->senders_last = NULL;
  z->receiver = NULL;
  return 0;
}

/* Ends w's wait with `state` and wakes it. The thread reference is read
 * before the release store: after it, w's stack frame may be gone. */
static void complete(struct zero_waiter *w, int state) {
  struct sm_thread *t = w->thread;
  atomic_store_explicit(&w->state, state, memory_order_release);
  sm_thread_unpark(t);
  sm_thread_release(t);
}

/* Removes and returns the longest-waiting sender, or NULL. Caller holds
 * the lock. */
static struct zero_waiter *pop_sender(struct zero_flavor *z) {
  struct zero_waiter *w = z->senders;
  if (w) {
    z->senders = w->next;
    if (!z->senders)
      z->senders_last = NULL;
  }
  return w;
}

/* Removes w from the sender queue. Returns true when it was there (nobody
 * has paired with it). Caller holds the lock. */
static bool unlink_sender(struct zero_flavor *z, const struct zero_waiter *w) {
  struct zero_waiter *prev = NULL;
  for (struct zero_waiter *p = z->senders; p; prev = p, p = p->next) {
    if (p != w)
      continue;
    if (prev)
      prev->next = p->next;
    else
      z->senders = p->next;
    if (z->senders_last == p)
      z->senders_last = prev;
    return true;
  }
  return false;
}

/* Withdraws a waiter whose deadline passed. Returns true when it was still
 * queued; false when a partner completed it meanwhile. */
static bool withdraw(struct zero_flavor *z, struct zero_waiter *w,
                     bool is_sender) {
  sm_mutex_lock(&z->lock);
  bool queued = is_sender ? unlink_sender(z, w) : z->receiver == w;
  if (queued && !is_sender)
    z->receiver = NULL;
  sm_mutex_unlock(&z->lock);
  if (queued)
    sm_thread_release(w->thread);
  return queued;
}

/* Waits until w is completed (a few yields, then parking) or the deadline
 * passes. Returns 0 (paired), -EPIPE (closed) or -ETIMEDOUT (withdrawn). */
static int wait_paired(struct zero_flavor *z, struct zero_waiter *w,
                       uint64_t deadline, bool is_sender) {
  for (unsigned step = 0;
       atomic_load_explicit(&w->state, memory_order_acquire) == ZERO_WAITING &&
       sm__backoff_yield(&step);) {
  }
  for (;;) {
    int state = atomic_load_explicit(&w->state, memory_order_acquire);
    if (state != ZERO_WAITING)
      return state == ZERO_DONE ? 0 : -EPIPE;
    if (sm__channel_park_until(deadline) == -ETIMEDOUT &&
        withdraw(z, w, is_sender))
      return -ETIMEDOUT;
  }
}

/* Returns true when the receiver is gone. */
static bool closed(struct sm_channel *ch) {
  return atomic_load_explicit(&ch->receiver_gone, memory_order_acquire);
}

/* Makes w a waiter for the calling thread with buffer buf (the caller
 * queues it). Returns 0 or -ENOMEM. */
static int prepare_waiter(struct zero_waiter *w, void *buf) {
  struct sm_thread *self = sm_thread_current();
  if (!self)
    return -ENOMEM;
  *w = (struct zero_waiter){.thread = sm_thread_clone(self), .buf = buf};
  atomic_init(&w->state, ZERO_WAITING);
  return 0;
}

int sm__zero_send(struct sm_channel *ch, const void *msg, uint64_t deadline,
                  bool try_only) {
  struct zero_flavor *z = &ch->u.zero;
  sm_mutex_lock(&z->lock);
  struct zero_waiter *r = z->receiver;
  int rc = closed(ch) ? -EPIPE : r ? 0 : try_only ? -EAGAIN : QUEUED;
  if (rc == 0) { /* a receiver waits in recv: fill its buffer */
    z->receiver = NULL;
    sm__channel_copy(r->buf, msg, ch->message_size);
  }
  struct zero_waiter w;
  if (rc == QUEUED && (rc = prepare_waiter(&w, (void *)msg)) == 0) {
    if (z->senders_last)
      z->senders_last->next = &w;
    else
      z->senders = &w;
    z->senders_last = &w;
    rc = QUEUED;
  }
  sm_mutex_unlock(&z->lock);
  if (rc == 0 && r)
    complete(r, ZERO_DONE);
  if (rc != QUEUED)
    return rc;
  sm__channel_notify_receiver(ch); /* a receiver blocked in select */
  return wait_paired(z, &w, deadline, true);
}

/* Takes the longest-waiting sender's message into out (NULL: drop it).
 * Returns 0, -EAGAIN (no sender waits) or -EPIPE (none left). */
int sm__zero_try_recv(struct sm_channel *ch, void *out) {
  struct zero_flavor *z = &ch->u.zero;
  sm_mutex_lock(&z->lock);
  struct zero_waiter *s = pop_sender(z);
  if (s && out)
    sm__channel_copy(out, s->buf, ch->message_size);
  int rc = s ? 0
           : atomic_load_explicit(&ch->senders, memory_order_acquire) == 0
               ? -EPIPE
               : -EAGAIN;
  sm_mutex_unlock(&z->lock);
  if (s)
    complete(s, ZERO_DONE);
  return rc;
}

int sm__zero_recv(struct sm_channel *ch, void *out, uint64_t deadline) {
  struct zero_flavor *z = &ch->u.zero;
  int rc = sm__zero_try_recv(ch, out);
  if (rc != -EAGAIN)
    return rc;
  struct zero_waiter w;
  sm_mutex_lock(&z->lock);
  struct zero_waiter *s = pop_sender(z); /* one may have come meanwhile */
  if (s)
    sm__channel_copy(out, s->buf, ch->message_size);
  rc = s ? 0
       : atomic_load_explicit(&ch->senders, memory_order_acquire) == 0
           ? -EPIPE
           : prepare_waiter(&w, out);
  if (rc == 0 && !s)
    z->receiver = &w;
  sm_mutex_unlock(&z->lock);
  if (s) {
    complete(s, ZERO_DONE);
    return 0;
  }
  return rc != 0 ? rc : wait_paired(z, &w, deadline, false);
}

bool sm__zero_ready(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  sm_mutex_lock(&z->lock);
  bool ready = z->senders != NULL ||
               atomic_load_explicit(&ch->senders, memory_order_acquire) == 0;
  sm_mutex_unlock(&z->lock);
  return ready;
}

void sm__zero_disconnect(struct sm_channel *ch) {
  struct zero_flavor *z = &ch->u.zero;
  sm_mutex_lock(&z->lock);
  struct zero_waiter *r = NULL, *list = NULL;
  if (z->receiver &&
      atomic_load_explicit(&ch->senders, memory_order_acquire) == 0) {
    r = z->receiver; /* no sender is left to pair with it */
    z->receiver = NULL;
  }
  if (closed(ch)) { /* no receiver is left for the queued senders */
    list = z->senders;
    z->senders = z->senders_last = NULL;
  }
  sm_mutex_unlock(&z->lock);
  if (r)
    complete(r, ZERO_CLOSED);
  while (list) {
    struct zero_waiter *next = list->next; /* read before completing */
    complete(list, ZERO_CLOSED);
    list = next;
  }
}

void sm__zero_destroy(struct sm_channel *ch) {
  (void)ch; /* nothing allocated: waiters live on their threads' stacks */
}
