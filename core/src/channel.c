/* channel.c: the channel API: creation and lifetime of the two ends,
 * dispatch to the flavors, blocking receive and select. */
#include <errno.h>
#include <stdlib.h>

#include "channel_impl.h"
#include "syncmark/clock.h"

/* The handles are the channel itself, seen from one side. */
static inline struct sm_channel *of_tx(struct sm_sender *tx) {
  return (struct sm_channel *)(void *)tx;
}
static inline struct sm_channel *of_rx(const struct sm_receiver *rx) {
  return (struct sm_channel *)(void *)rx;
}

/* Frees the channel once neither side holds it. */
static void drop_handle(struct sm_channel *ch) {
  if (atomic_fetch_sub_explicit(&ch->handles, 1, memory_order_acq_rel) != 1)
    return;
  switch (ch->flavor) {
  case FLAVOR_LIST:
    sm__list_destroy(ch);
    break;
  case FLAVOR_ARRAY:
    sm__array_destroy(ch);
    break;
  case FLAVOR_ZERO:
    sm__zero_destroy(ch);
    break;
  }
  free(ch);
}

int sm_channel(size_t message_size, size_t capacity, struct sm_sender **tx,
               struct sm_receiver **rx) {
  if (!tx || !rx || message_size == 0 ||
      message_size > SM_CHANNEL_MAX_MESSAGE ||
      (capacity > SM_CHANNEL_MAX_CAPACITY && capacity != SM_CHANNEL_UNBOUNDED))
    return -EINVAL;
  struct sm_channel *ch = aligned_alloc(SM_CACHE_LINE, sizeof *ch);
  if (!ch)
    return -ENOMEM;
  memset(ch, 0, sizeof *ch);
  ch->message_size = message_size;
  ch->slot_size = 8 + (message_size + 7) / 8 * 8;
  atomic_init(&ch->senders, 1);
  atomic_init(&ch->handles, 2);
  atomic_init(&ch->receiver_gone, false);
  atomic_init(&ch->rx_waiter, NULL);
  int rc;
  if (capacity == SM_CHANNEL_UNBOUNDED) {
    ch->flavor = FLAVOR_LIST;
    rc = sm__list_init(ch);
  } else if (capacity > 0) {
    ch->flavor = FLAVOR_ARRAY;
    rc = sm__array_init(ch, capacity);
  } else {
    ch->flavor = FLAVOR_ZERO;
    rc = sm__zero_init(ch);
  }
  if (rc != 0) {
    free(ch);
    return rc;
  }
  *tx = (struct sm_sender *)(void *)ch;
  *rx = (struct sm_receiver *)(void *)ch;
  return 0;
}

struct sm_sender *sm_sender_clone(struct sm_sender *tx) {
  if (!tx)
    return NULL;
  struct sm_channel *ch = of_tx(tx);
  atomic_fetch_add_explicit(&ch->senders, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&ch->handles, 1, memory_order_relaxed);
  return tx;
}

/* Marks the channel closed in the flavor's own state and wakes waiters. */
static void disconnect(struct sm_channel *ch) {
  switch (ch->flavor) {
  case FLAVOR_LIST:
    sm__list_disconnect(ch);
    break;
  case FLAVOR_ARRAY:
    sm__array_disconnect(ch);
    break;
  case FLAVOR_ZERO:
    sm__zero_disconnect(ch);
    break;
  }
}

void sm_sender_release(struct sm_sender *tx) {
  if (!tx)
    return;
  struct sm_channel *ch = of_tx(tx);
  if (atomic_fetch_sub_explicit(&ch->senders, 1, memory_order_acq_rel) == 1) {
    disconnect(ch);
    sm__channel_notify_receiver(ch);
  }
  drop_handle(ch);
}

void sm_receiver_release(struct sm_receiver *rx) {
  if (!rx)
    return;
  struct sm_channel *ch = of_rx(rx);
  atomic_store_explicit(&ch->receiver_gone, true, memory_order_release);
  disconnect(ch);
  if (ch->flavor == FLAVOR_LIST)
    sm__list_discard(ch);
  else if (ch->flavor == FLAVOR_ARRAY)
    while (sm__array_try_recv(ch, NULL) == 0) {
    }
  drop_handle(ch);
}

/* Sends with an absolute deadline (SM_CHANNEL_FOREVER: none); try_only
 * never blocks. */
static int send_until(struct sm_sender *tx, const void *msg, uint64_t deadline,
                      bool try_only) {
  if (!tx || !msg)
    return -EINVAL;
  struct sm_channel *ch = of_tx(tx);
  switch (ch->flavor) {
  case FLAVOR_LIST:
    return sm__list_try_send(ch, msg);
  case FLAVOR_ARRAY:
    return try_only ? sm__array_try_send(ch, msg)
                    : sm__array_send(ch, msg, deadline);
  case FLAVOR_ZERO:
    return sm__zero_send(ch, msg, deadline, try_only);
  }
  return -EINVAL;
}

int sm_send(struct sm_sender *tx, const void *msg) {
  return send_until(tx, msg, SM_CHANNEL_FOREVER, false);
}

int sm_try_send(struct sm_sender *tx, const void *msg) {
  return send_until(tx, msg, SM_CHANNEL_FOREVER, true);
}

/* Converts a relative timeout to a deadline on the sm_now_ns time line. */
static uint64_t deadline_after(uint64_t timeout_ns) {
  uint64_t now = sm_now_ns();
  return timeout_ns >= SM_CHANNEL_FOREVER - now ? SM_CHANNEL_FOREVER - 1
                                                : now + timeout_ns;
}

int sm_send_timeout(struct sm_sender *tx, const void *msg,
                    uint64_t timeout_ns) {
  return send_until(tx, msg, deadline_after(timeout_ns), false);
}

/* One non-blocking receive from any flavor. */
static int try_recv(struct sm_channel *ch, void *out) {
  switch (ch->flavor) {
  case FLAVOR_LIST:
    return sm__list_try_recv(ch, out);
  case FLAVOR_ARRAY:
    return sm__array_try_recv(ch, out);
  case FLAVOR_ZERO:
    return sm__zero_try_recv(ch, out);
  }
  return -EINVAL;
}

/* Whether a receive from ch would not block. */
static bool ready(struct sm_channel *ch) {
  switch (ch->flavor) {
  case FLAVOR_LIST:
    return sm__list_ready(ch);
  case FLAVOR_ARRAY:
    return sm__array_ready(ch);
  case FLAVOR_ZERO:
    return sm__zero_ready(ch);
  }
  return true;
}

/* Registers the calling thread as ch's blocked receiver (seq_cst, so a
 * sender publishing afterwards sees it). */
static void register_receiver(struct sm_channel *ch, struct sm_thread *self) {
  struct sm_thread *old = atomic_exchange_explicit(
      &ch->rx_waiter, sm_thread_clone(self), memory_order_seq_cst);
  sm_thread_release(old);
}

/* Removes the registration, if no sender has taken it to wake us. */
static void unregister_receiver(struct sm_channel *ch) {
  sm_thread_release(
      atomic_exchange_explicit(&ch->rx_waiter, NULL, memory_order_acq_rel));
}

/* Blocks until one of chs[0..n) is ready or the deadline passes. Returns
 * 0 with the lowest ready index in *index, or -ETIMEDOUT, -ENOMEM. */
static int wait_ready(struct sm_channel *const *chs, size_t n,
                      uint64_t deadline, size_t *index) {
  struct sm_thread *self = sm_thread_current();
  if (!self)
    return -ENOMEM;
  for (;;) {
    for (size_t i = 0; i < n; i++)
      register_receiver(chs[i], self);
    int rc = -EAGAIN;
    for (size_t i = 0; i < n && rc == -EAGAIN; i++)
      if (ready(chs[i])) {
        *index = i;
        rc = 0;
      }
    if (rc == -EAGAIN)
      rc =
          sm__channel_park_until(deadline) == -ETIMEDOUT ? -ETIMEDOUT : -EAGAIN;
    for (size_t i = 0; i < n; i++)
      unregister_receiver(chs[i]);
    if (rc == 0)
      return 0;
    for (size_t i = 0; i < n; i++)
      if (ready(chs[i])) {
        *index = i;
        return 0;
      }
    if (rc == -ETIMEDOUT)
      return rc;
  }
}

/* Receives with an absolute deadline (SM_CHANNEL_FOREVER: none): tries,
 * backs off briefly while the channel stays empty (spinning for the
 * unbounded channel, yielding for the bounded one: see channel_impl.h),
 * then blocks. */
static int recv_until(struct sm_receiver *rx, void *out, uint64_t deadline) {
  if (!rx || !out)
    return -EINVAL;
  struct sm_channel *ch = of_rx(rx);
  if (ch->flavor == FLAVOR_ZERO)
    return sm__zero_recv(ch, out, deadline);
  for (;;) {
    int rc = try_recv(ch, out);
    bool (*backoff)(unsigned *) =
        ch->flavor == FLAVOR_ARRAY ? sm__backoff_yield : sm__backoff_snooze;
    unsigned first = ch->flavor == FLAVOR_LIST ? SM_BACKOFF_LIST_RECV_STEP : 0;
    for (unsigned step = first; rc == -EAGAIN && backoff(&step);)
      rc = try_recv(ch, out);
    if (rc != -EAGAIN)
      return rc;
    if (deadline != SM_CHANNEL_FOREVER && sm_now_ns() >= deadline)
      return -ETIMEDOUT;
    size_t index;
    rc = wait_ready(&ch, 1, deadline, &index);
    if (rc != 0)
      return rc;
  }
}

int sm_recv(struct sm_receiver *rx, void *out) {
  return recv_until(rx, out, SM_CHANNEL_FOREVER);
}

int sm_try_recv(struct sm_receiver *rx, void *out) {
  if (!rx || !out)
    return -EINVAL;
  return try_recv(of_rx(rx), out);
}

int sm_recv_timeout(struct sm_receiver *rx, void *out, uint64_t timeout_ns) {
  return recv_until(rx, out, deadline_after(timeout_ns));
}

/* Most receivers one select may wait on. */
enum { MAX_SELECT = 1024 };

int sm_select(struct sm_receiver *const *rxs, size_t n, int64_t timeout_ns,
              size_t *ready_index) {
  if (!rxs || !ready_index || n == 0 || n > MAX_SELECT)
    return -EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!rxs[i])
      return -EINVAL;
  uint64_t deadline = timeout_ns < 0 ? SM_CHANNEL_FOREVER
                                     : deadline_after((uint64_t)timeout_ns);
  return wait_ready((struct sm_channel *const *)(const void *)rxs, n, deadline,
                    ready_index);
}

size_t sm_receiver_len(const struct sm_receiver *rx) {
  if (!rx)
    return 0;
  const struct sm_channel *ch = of_rx(rx);
  switch (ch->flavor) {
  case FLAVOR_LIST:
    return sm__list_len(ch);
  case FLAVOR_ARRAY:
    return sm__array_len(ch);
  case FLAVOR_ZERO:
    return 0;
  }
  return 0;
}
