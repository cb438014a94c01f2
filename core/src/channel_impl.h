/* channel_impl.h: the shared layout of a channel and the interface between
 * channel.c (API, waiting, lifetime) and its three flavors. Internal. */
#ifndef SYNCMARK_CHANNEL_IMPL_H
#define SYNCMARK_CHANNEL_IMPL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "syncmark/channel.h"
#include "syncmark/clock.h"
#include "syncmark/compiler.h"
#include "syncmark/mutex.h"
#include "syncmark/thread.h"

/* Unbounded: a linked list of blocks of LIST_CAP slots. Positions count
 * LIST_LAP per block (the last position of each lap is never a slot: it
 * marks "next block being installed"), shifted left by LIST_SHIFT to leave
 * room for LIST_MARK, the "disconnected" bit of the tail. */
enum { LIST_LAP = 64, LIST_CAP = LIST_LAP - 1, LIST_SHIFT = 1, LIST_MARK = 1 };

struct list_block {
  _Atomic(struct list_block *) next;
  /* LIST_CAP slots follow, each an atomic_uint ready flag padded to 8
   * bytes and then the message. */
  _Alignas(8) unsigned char slots[];
};

struct list_flavor {
  SM_CACHE_ALIGNED atomic_size_t tail; /* position << LIST_SHIFT | mark */
  _Atomic(struct list_block *) tail_block;
  _Atomic(struct list_block *) spare;  /* one recycled block, or NULL */
  SM_CACHE_ALIGNED atomic_size_t head; /* receiver's position (same encoding;
                                          written by the receiver only) */
  struct list_block *head_block;       /* receiver-private */
};

/* Bounded: Vyukov's array queue with per-slot stamps, as crossbeam's array
 * flavor, specialised to one receiver. head and tail hold lap | index; the
 * tail's mark_bit means disconnected. */
struct array_flavor {
  size_t cap, one_lap, mark_bit;
  SM_CACHE_ALIGNED atomic_size_t tail;
  SM_CACHE_ALIGNED atomic_size_t head; /* written by the receiver only */
  /* Senders blocked on a full channel, woken one per freed slot. */
  SM_CACHE_ALIGNED atomic_size_t senders_waiting;
  pthread_mutex_t waiters_lock;
  struct tx_waiter *waiters; /* FIFO list of blocked senders */
  unsigned char *slots;      /* cap slots: atomic_size_t stamp, message */
};

/* A sender blocked on a full bounded channel; lives on its stack. */
struct tx_waiter {
  struct sm_thread *thread; /* a reference, handed to whoever wakes it */
  struct tx_waiter *next;
};

/* A thread blocked on a rendezvous, on its own stack: a receiver with the
 * buffer to fill, or a sender with the message to give. Whoever pairs with
 * it copies the message, then stores DONE (or CLOSED) with release and
 * wakes it through the thread reference it hands over. */
struct zero_waiter {
  struct sm_thread *thread; /* a reference, released by whoever wakes it */
  void *buf;                /* receiver: destination; sender: message */
  atomic_int state;         /* ZERO_WAITING, ZERO_DONE or ZERO_CLOSED */
  struct zero_waiter *next; /* the next queued sender */
};

/* Rendezvous, as crossbeam's zero flavor: under one futex mutex, a FIFO of
 * blocked senders and at most one blocked receiver, paired one to one, so
 * each message costs one wake-up of exactly the thread that waits. */
struct zero_flavor {
  struct sm_mutex lock;
  struct zero_waiter *senders, *senders_last; /* FIFO of blocked senders */
  struct zero_waiter *receiver;               /* blocked in recv, or NULL */
};

enum channel_flavor { FLAVOR_LIST, FLAVOR_ARRAY, FLAVOR_ZERO };

struct sm_channel {
  enum channel_flavor flavor;
  size_t message_size;
  size_t slot_size; /* 8-byte slot header + message rounded up to 8 */
  atomic_size_t senders;
  atomic_uint handles; /* senders + 1 while the receiver lives */
  atomic_bool receiver_gone;
  /* The receiving thread while it is blocked (a reference), or NULL. */
  SM_CACHE_ALIGNED _Atomic(struct sm_thread *) rx_waiter;
  union {
    struct list_flavor list;
    struct array_flavor array;
    struct zero_flavor zero;
  } u;
};

/* Copies one message of `size` bytes; fixed sizes compile to moves. */
static inline void sm__channel_copy(void *dst, const void *src, size_t size) {
  switch (size) {
  case 8:
    memcpy(dst, src, 8);
    break;
  case 16:
    memcpy(dst, src, 16);
    break;
  case 64:
    memcpy(dst, src, 64);
    break;
  default:
    memcpy(dst, src, size);
  }
}

/* Wakes the receiver if it is blocked (cheap when it is not). Callers
 * publish their message with a seq_cst read-modify-write before this, so
 * a receiver that registered after our publication sees the message. */
static inline void sm__channel_notify_receiver(struct sm_channel *ch) {
  if (atomic_load_explicit(&ch->rx_waiter, memory_order_seq_cst) == NULL)
    return;
  struct sm_thread *t =
      atomic_exchange_explicit(&ch->rx_waiter, NULL, memory_order_acq_rel);
  if (t) {
    sm_thread_unpark(t);
    sm_thread_release(t);
  }
}

/* Flavor operations. Each returns 0 or a negative errno as the public
 * function of the same name documents (a receive with out == NULL drops the
 * message); *_ready tells whether a receive would not block; *_disconnect
 * marks the channel closed and wakes every blocked sender; *_discard drops
 * every queued message after the receiver is gone; *_destroy frees what the
 * flavor allocated. */
int sm__list_init(struct sm_channel *ch);
int sm__list_try_send(struct sm_channel *ch, const void *msg);
int sm__list_try_recv(struct sm_channel *ch, void *out);
bool sm__list_ready(struct sm_channel *ch);
void sm__list_disconnect(struct sm_channel *ch);
void sm__list_discard(struct sm_channel *ch);
size_t sm__list_len(const struct sm_channel *ch);
void sm__list_destroy(struct sm_channel *ch);

int sm__array_init(struct sm_channel *ch, size_t capacity);
int sm__array_try_send(struct sm_channel *ch, const void *msg);
int sm__array_send(struct sm_channel *ch, const void *msg, uint64_t deadline);
int sm__array_try_recv(struct sm_channel *ch, void *out);
bool sm__array_ready(struct sm_channel *ch);
void sm__array_disconnect(struct sm_channel *ch);
size_t sm__array_len(const struct sm_channel *ch);
void sm__array_destroy(struct sm_channel *ch);

int sm__zero_init(struct sm_channel *ch);
int sm__zero_send(struct sm_channel *ch, const void *msg, uint64_t deadline,
                  bool try_only);
int sm__zero_try_recv(struct sm_channel *ch, void *out);
int sm__zero_recv(struct sm_channel *ch, void *out, uint64_t deadline);
bool sm__zero_ready(struct sm_channel *ch);
void sm__zero_disconnect(struct sm_channel *ch);
void sm__zero_destroy(struct sm_channel *ch);

/* Spin-then-yield backoff before blocking, as crossbeam's Backoff: steps
 * 0..SPIN_STEPS spin 2^step pause hints, the next ones yield the CPU. A
 * side that waits for the other briefly this way avoids the cost of a
 * futex sleep and wake (tens of microseconds across vCPUs). */
enum { SM_BACKOFF_SPIN_STEPS = 6, SM_BACKOFF_YIELD_STEPS = 4 };

/* The step an unbounded channel's receiver starts its backoff at when it
 * finds the queue empty: one wait of 2^SM_BACKOFF_SPIN_STEPS pause hints
 * (about 1 us) before it looks again, then yields. Looking sooner (step 0:
 * after 1, 2, 4, ... pauses) keeps a receiver that has caught up in
 * lockstep with its sender: every look pulls the slot and tail lines the
 * sender writes next, and each send then waits for them (a 1-producer
 * batch through the unbounded channel: 7.4M msgs/s from step 0, 17M from
 * this step, on a 2-vCPU KVM guest). */
enum { SM_BACKOFF_LIST_RECV_STEP = SM_BACKOFF_SPIN_STEPS };

/* Waits one backoff step. Returns false when the steps are used up and the
 * caller should block instead. */
static inline bool sm__backoff_snooze(unsigned *step) {
  if (*step > SM_BACKOFF_SPIN_STEPS + SM_BACKOFF_YIELD_STEPS)
    return false;
  if (*step <= SM_BACKOFF_SPIN_STEPS)
    for (unsigned i = 0; i < (1u << *step); i++)
      sm_cpu_relax();
  else
    sched_yield();
  (*step)++;
  return true;
}

/* Yield-only backoff, for the bounded channel: its two sides write the
 * same slot and head lines on every message, so spinning on them while the
 * other side works only moves those lines back and forth; yielding lets a
 * side that shares the CPU run, and re-checks a few times before parking.
 * Returns false when the steps are used up. */
static inline bool sm__backoff_yield(unsigned *step) {
  if (*step >= SM_BACKOFF_YIELD_STEPS)
    return false;
  sched_yield();
  (*step)++;
  return true;
}

/* Deadline meaning "wait forever". */
#define SM_CHANNEL_FOREVER UINT64_MAX

/* Parks the calling thread until unparked or `deadline` (sm_now_ns time,
 * SM_CHANNEL_FOREVER for none). Returns 0, or -ETIMEDOUT when the deadline
 * has passed. Here, not in channel.c, so that the flavors' files do not
 * call back into the file that dispatches to them. */
static inline int sm__channel_park_until(uint64_t deadline) {
  if (deadline == SM_CHANNEL_FOREVER) {
    sm_thread_park();
    return 0;
  }
  uint64_t now = sm_now_ns();
  if (now >= deadline)
    return -ETIMEDOUT;
  sm_thread_park_timeout(deadline - now);
  return sm_now_ns() >= deadline ? -ETIMEDOUT : 0;
}

#endif
