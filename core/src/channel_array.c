/* channel_array.c: the bounded channel: a ring of stamped slots (Vyukov's
 * bounded queue, as crossbeam's array flavor) with one receiver, and the
 * queue of senders blocked on a full ring. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "channel_impl.h"
#include "syncmark/clock.h"

/* Returns the stamp of slot `index`. */
static inline atomic_size_t *slot_stamp(const struct sm_channel *ch,
                                        size_t index) {
  return (atomic_size_t *)(void *)(ch->u.array.slots + index * ch->slot_size);
}

/* Returns the message bytes of slot `index`. */
static inline unsigned char *slot_message(const struct sm_channel *ch,
                                          size_t index) {
  return ch->u.array.slots + index * ch->slot_size + 8;
}

/* Returns the position after `pos` (lap | index) in a ring of a->cap. */
static inline size_t next_position(const struct array_flavor *a, size_t pos) {
  size_t index = pos & (a->mark_bit - 1);
  size_t lap = pos & ~(a->one_lap - 1);
  return index + 1 < a->cap ? pos + 1 : lap + a->one_lap;
}

int sm__array_init(struct sm_channel *ch, size_t capacity) {
  struct array_flavor *a = &ch->u.array;
  size_t mark = 1;
  while (mark < capacity + 1)
    mark <<= 1;
  a->cap = capacity;
  a->mark_bit = mark;
  a->one_lap = mark << 1;
  a->slots = aligned_alloc(SM_CACHE_LINE,
                           (capacity * ch->slot_size + SM_CACHE_LINE - 1) /
                               SM_CACHE_LINE * SM_CACHE_LINE);
  if (!a->slots)
    return -ENOMEM;
  for (size_t i = 0; i < capacity; i++)
    atomic_init(slot_stamp(ch, i), i);
  atomic_init(&a->tail, 0);
  atomic_init(&a->head, 0);
  atomic_init(&a->senders_waiting, 0);
  a->waiters = NULL;
  if (pthread_mutex_init(&a->waiters_lock, NULL) != 0) {
    free(a->slots);
    return -ENOMEM;
  }
  return 0;
}

int sm__array_try_send(struct sm_channel *ch, const void *msg) {
  struct array_flavor *a = &ch->u.array;
  size_t tail = atomic_load_explicit(&a->tail, memory_order_relaxed);
  for (;;) {
    if (tail & a->mark_bit)
      return -EPIPE;
    size_t index = tail & (a->mark_bit - 1);
    size_t stamp =
        atomic_load_explicit(slot_stamp(ch, index), memory_order_acquire);
    if (stamp == tail) {
      if (atomic_compare_exchange_weak_explicit(
              &a->tail, &tail, next_position(a, tail), memory_order_seq_cst,
              memory_order_relaxed)) {
        sm__channel_copy(slot_message(ch, index), msg, ch->message_size);
        atomic_store_explicit(slot_stamp(ch, index), tail + 1,
                              memory_order_release);
        sm__channel_notify_receiver(ch);
        return 0;
      }
    } else if (stamp + a->one_lap == tail + 1) { /* slot holds last lap's */
      atomic_thread_fence(memory_order_seq_cst);
      size_t head = atomic_load_explicit(&a->head, memory_order_relaxed);
      if (head + a->one_lap == tail)
        return -EAGAIN;
      tail = atomic_load_explicit(&a->tail, memory_order_relaxed);
    } else { /* another sender is mid-claim */
      sm_cpu_relax();
      tail = atomic_load_explicit(&a->tail, memory_order_relaxed);
    }
  }
}

/* Removes waiter w from the list if it is still there. Returns true when it
 * was (nobody woke it). Caller holds waiters_lock. */
static bool unlink_waiter(struct array_flavor *a, struct tx_waiter *w) {
  for (struct tx_waiter **p = &a->waiters; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      return true;
    }
  return false;
}

/* Appends w to the blocked senders and counts it (seq_cst, so a receiver
 * freeing a slot afterwards sees the count). */
static void enqueue_waiter(struct array_flavor *a, struct tx_waiter *w) {
  pthread_mutex_lock(&a->waiters_lock);
  struct tx_waiter **p = &a->waiters;
  while (*p)
    p = &(*p)->next;
  *p = w;
  atomic_fetch_add_explicit(&a->senders_waiting, 1, memory_order_seq_cst);
  pthread_mutex_unlock(&a->waiters_lock);
}

/* Takes w off the list if nobody woke it, and drops its count. Returns
 * true when a receiver had already woken it (and so spent a wake-up on it). */
static bool dequeue_waiter(struct array_flavor *a, struct tx_waiter *w) {
  pthread_mutex_lock(&a->waiters_lock);
  bool linked = unlink_waiter(a, w);
  if (linked) {
    atomic_fetch_sub_explicit(&a->senders_waiting, 1, memory_order_relaxed);
    sm_thread_release(w->thread);
  }
  pthread_mutex_unlock(&a->waiters_lock);
  return !linked;
}

/* Wakes the first blocked sender, or all of them when `all`. */
static void wake_senders(struct array_flavor *a, bool all) {
  pthread_mutex_lock(&a->waiters_lock);
  do {
    struct tx_waiter *w = a->waiters;
    if (!w)
      break;
    a->waiters = w->next;
    atomic_fetch_sub_explicit(&a->senders_waiting, 1, memory_order_relaxed);
    sm_thread_unpark(w->thread);
    sm_thread_release(w->thread);
  } while (all);
  pthread_mutex_unlock(&a->waiters_lock);
}

int sm__array_send(struct sm_channel *ch, const void *msg, uint64_t deadline) {
  struct array_flavor *a = &ch->u.array;
  for (;;) {
    int rc = sm__array_try_send(ch, msg);
    for (unsigned step = 0; rc == -EAGAIN && sm__backoff_yield(&step);)
      rc = sm__array_try_send(ch, msg);
    if (rc != -EAGAIN)
      return rc;
    if (deadline != SM_CHANNEL_FOREVER && sm_now_ns() >= deadline)
      return -ETIMEDOUT;
    struct sm_thread *self = sm_thread_current();
    if (!self)
      return -ENOMEM;
    struct tx_waiter w = {.thread = sm_thread_clone(self)};
    enqueue_waiter(a, &w);
    rc = sm__array_try_send(ch, msg);
    if (rc == -EAGAIN)
      rc =
          sm__channel_park_until(deadline) == -ETIMEDOUT ? -ETIMEDOUT : -EAGAIN;
    bool woken = dequeue_waiter(a, &w);
    if (rc == -ETIMEDOUT) /* a last try: the slot may have just freed */
      rc = sm__array_try_send(ch, msg) == 0 ? 0 : -ETIMEDOUT;
    if (rc != -EAGAIN) {
      /* A wake-up spent on a sender that leaves without waiting for it
       * (it succeeded, timed out or saw -EPIPE) is passed on, or a sender
       * queued behind it could sleep next to a free slot. */
      if (woken)
        wake_senders(a, false);
      return rc;
    }
  }
}

int sm__array_try_recv(struct sm_channel *ch, void *out) {
  struct array_flavor *a = &ch->u.array;
  size_t head = atomic_load_explicit(&a->head, memory_order_relaxed);
  size_t index = head & (a->mark_bit - 1);
  atomic_size_t *stamp = slot_stamp(ch, index);
  for (unsigned spins = 0;; spins++) {
    size_t s = atomic_load_explicit(stamp, memory_order_acquire);
    if (s == head + 1)
      break;
    size_t tail = atomic_load_explicit(&a->tail, memory_order_seq_cst);
    if ((tail & ~a->mark_bit) == head)
      return (tail & a->mark_bit) ? -EPIPE : -EAGAIN;
    if (spins < 64) /* a sender claimed the slot and is writing it */
      sm_cpu_relax();
    else
      sched_yield();
  }
  if (out)
    sm__channel_copy(out, slot_message(ch, index), ch->message_size);
  atomic_store_explicit(stamp, head + a->one_lap, memory_order_release);
  /* seq_cst: a sender that counted itself waiting before this store sees
   * the freed slot, or this load sees its count. */
  atomic_store_explicit(&a->head, next_position(a, head), memory_order_seq_cst);
  if (atomic_load_explicit(&a->senders_waiting, memory_order_seq_cst))
    wake_senders(a, false);
  return 0;
}

bool sm__array_ready(struct sm_channel *ch) {
  struct array_flavor *a = &ch->u.array;
  size_t head = atomic_load_explicit(&a->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&a->tail, memory_order_seq_cst);
  return (tail & ~a->mark_bit) != head || (tail & a->mark_bit);
}

void sm__array_disconnect(struct sm_channel *ch) {
  struct array_flavor *a = &ch->u.array;
  atomic_fetch_or_explicit(&a->tail, a->mark_bit, memory_order_seq_cst);
  wake_senders(a, true);
}

size_t sm__array_len(const struct sm_channel *ch) {
  const struct array_flavor *a = &ch->u.array;
  size_t tail, head;
  do { /* a consistent pair: tail unchanged while head was read */
    tail = atomic_load_explicit(&a->tail, memory_order_seq_cst);
    head = atomic_load_explicit(&a->head, memory_order_seq_cst);
  } while (atomic_load_explicit(&a->tail, memory_order_seq_cst) != tail);
  tail &= ~a->mark_bit;
  size_t hix = head & (a->mark_bit - 1), tix = tail & (a->mark_bit - 1);
  if (hix < tix)
    return tix - hix;
  if (hix > tix)
    return a->cap - hix + tix;
  return tail == head ? 0 : a->cap;
}

void sm__array_destroy(struct sm_channel *ch) {
  pthread_mutex_destroy(&ch->u.array.waiters_lock);
  free(ch->u.array.slots);
}
