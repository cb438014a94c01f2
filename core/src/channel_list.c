/* channel_list.c: the unbounded channel: a linked list of blocks, claimed
 * by senders with a CAS on the tail position (as crossbeam's list flavor)
 * and read by the single receiver without any read-modify-write. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "channel_impl.h"

/* Spins before a receiver yields while a claimed slot is being written. */
enum { SPINS_BEFORE_YIELD = 64 };

/* Returns the ready flag of slot `offset` of block b. */
static inline atomic_uint *slot_ready(const struct sm_channel *ch,
                                      struct list_block *b, size_t offset) {
  return (atomic_uint *)(void *)(b->slots + offset * ch->slot_size);
}

/* Returns the message bytes of slot `offset` of block b. */
static inline unsigned char *slot_message(const struct sm_channel *ch,
                                          struct list_block *b, size_t offset) {
  return b->slots + offset * ch->slot_size + 8;
}

/* Size in bytes of one block with its slots. */
static size_t block_size(const struct sm_channel *ch) {
  size_t size = sizeof(struct list_block) + LIST_CAP * ch->slot_size;
  return (size + SM_CACHE_LINE - 1) / SM_CACHE_LINE * SM_CACHE_LINE;
}

/* Clears a block's next pointer and every ready flag. */
static void reset_block(const struct sm_channel *ch, struct list_block *b) {
  atomic_init(&b->next, NULL);
  for (size_t i = 0; i < LIST_CAP; i++)
    atomic_init(slot_ready(ch, b, i), 0);
}

/* Returns an empty block: the recycled spare when there is one, else a new
 * allocation. Returns NULL when memory is exhausted. */
static struct list_block *take_block(struct sm_channel *ch) {
  struct list_flavor *l = &ch->u.list;
  struct list_block *b =
      atomic_exchange_explicit(&l->spare, NULL, memory_order_acquire);
  if (b)
    return b;
  b = aligned_alloc(SM_CACHE_LINE, block_size(ch));
  if (b)
    reset_block(ch, b);
  return b;
}

/* Gives a block no sender can reach any more back as the spare, freeing
 * the previous spare. */
static void recycle_block(struct sm_channel *ch, struct list_block *b) {
  reset_block(ch, b);
  struct list_block *old =
      atomic_exchange_explicit(&ch->u.list.spare, b, memory_order_acq_rel);
  free(old);
}

int sm__list_init(struct sm_channel *ch) {
  struct list_flavor *l = &ch->u.list;
  struct list_block *first = aligned_alloc(SM_CACHE_LINE, block_size(ch));
  if (!first)
    return -ENOMEM;
  reset_block(ch, first);
  atomic_init(&l->tail, 0);
  atomic_init(&l->tail_block, first);
  atomic_init(&l->spare, NULL);
  atomic_init(&l->head, 0);
  l->head_block = first;
  return 0;
}

/* Links `next` after `block` as the new tail block. Called by the one
 * sender that claimed the last slot of `block`, right after its claim and
 * before it publishes that slot, so the receiver always finds the link. */
static void install_next(struct list_flavor *l, struct list_block *block,
                         struct list_block *next) {
  atomic_store_explicit(&l->tail_block, next, memory_order_release);
  atomic_fetch_add_explicit(&l->tail, (size_t)1 << LIST_SHIFT,
                            memory_order_release);
  atomic_store_explicit(&block->next, next, memory_order_release);
}

int sm__list_try_send(struct sm_channel *ch, const void *msg) {
  struct list_flavor *l = &ch->u.list;
  size_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
  struct list_block *block =
      atomic_load_explicit(&l->tail_block, memory_order_acquire);
  struct list_block *next = NULL;
  for (;;) {
    if (tail & LIST_MARK) {
      free(next);
      return -EPIPE;
    }
    size_t offset = (tail >> LIST_SHIFT) % LIST_LAP;
    if (offset == LIST_CAP) { /* another sender is installing a block */
      sm_cpu_relax();
      tail = atomic_load_explicit(&l->tail, memory_order_acquire);
      block = atomic_load_explicit(&l->tail_block, memory_order_acquire);
      continue;
    }
    if (offset + 1 == LIST_CAP && !next && !(next = take_block(ch)))
      return -ENOMEM;
    if (atomic_compare_exchange_weak_explicit(
            &l->tail, &tail, tail + ((size_t)1 << LIST_SHIFT),
            memory_order_seq_cst, memory_order_acquire)) {
      if (offset + 1 == LIST_CAP) {
        install_next(l, block, next);
        next = NULL;
      }
      sm__channel_copy(slot_message(ch, block, offset), msg, ch->message_size);
      atomic_store_explicit(slot_ready(ch, block, offset), 1,
                            memory_order_release);
      if (next) /* prepared for a block boundary another sender took */
        recycle_block(ch, next);
      sm__channel_notify_receiver(ch);
      return 0;
    }
    block = atomic_load_explicit(&l->tail_block, memory_order_acquire);
  }
}

/* Waits until a claimed slot's message is published (its sender is between
 * claim and publish). */
static void wait_ready(atomic_uint *ready) {
  for (unsigned spins = 0; !atomic_load_explicit(ready, memory_order_acquire);
       spins++) {
    if (spins < SPINS_BEFORE_YIELD)
      sm_cpu_relax();
    else
      sched_yield();
  }
}

/* Returns -EAGAIN or -EPIPE when the receiver's position has caught up with
 * the tail, 0 when a sender has claimed the slot at the head. */
static int check_empty(struct list_flavor *l, size_t head) {
  size_t tail = atomic_load_explicit(&l->tail, memory_order_seq_cst);
  if ((tail >> LIST_SHIFT) == (head >> LIST_SHIFT))
    return (tail & LIST_MARK) ? -EPIPE : -EAGAIN;
  return 0;
}

int sm__list_try_recv(struct sm_channel *ch, void *out) {
  struct list_flavor *l = &ch->u.list;
  size_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
  size_t offset = (head >> LIST_SHIFT) % LIST_LAP;
  struct list_block *block = l->head_block;
  atomic_uint *ready = slot_ready(ch, block, offset);
  if (!atomic_load_explicit(ready, memory_order_acquire)) {
    int rc = check_empty(l, head);
    if (rc != 0)
      return rc;
    wait_ready(ready);
  }
  if (out)
    sm__channel_copy(out, slot_message(ch, block, offset), ch->message_size);
  head += (size_t)1 << LIST_SHIFT;
  if (offset + 1 == LIST_CAP) { /* leave the block: skip the lap's end */
    head += (size_t)1 << LIST_SHIFT;
    l->head_block = atomic_load_explicit(&block->next, memory_order_acquire);
    recycle_block(ch, block);
  }
  atomic_store_explicit(&l->head, head, memory_order_relaxed);
  return 0;
}

bool sm__list_ready(struct sm_channel *ch) {
  struct list_flavor *l = &ch->u.list;
  size_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
  size_t offset = (head >> LIST_SHIFT) % LIST_LAP;
  if (atomic_load_explicit(slot_ready(ch, l->head_block, offset),
                           memory_order_acquire))
    return true;
  return check_empty(l, head) != -EAGAIN;
}

void sm__list_disconnect(struct sm_channel *ch) {
  atomic_fetch_or_explicit(&ch->u.list.tail, LIST_MARK, memory_order_seq_cst);
}

void sm__list_discard(struct sm_channel *ch) {
  while (sm__list_try_recv(ch, NULL) == 0) {
  }
}

size_t sm__list_len(const struct sm_channel *ch) {
  const struct list_flavor *l = &ch->u.list;
  size_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
  size_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
  size_t t = tail >> LIST_SHIFT, h = head >> LIST_SHIFT;
  if (t <= h)
    return 0;
  /* Count positions, minus the one unused position per lap crossed. */
  size_t len = t - h;
  size_t laps = t / LIST_LAP - h / LIST_LAP;
  return len - laps;
}

void sm__list_destroy(struct sm_channel *ch) {
  struct list_flavor *l = &ch->u.list;
  struct list_block *b = l->head_block;
  while (b) {
    struct list_block *next =
        atomic_load_explicit(&b->next, memory_order_acquire);
    free(b);
    b = next;
  }
  free(atomic_load_explicit(&l->spare, memory_order_acquire));
}
