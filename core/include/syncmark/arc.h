/* arc.h: shared references after Rust's Arc<T>/Weak<T> (atomic) and Rc<T>. */
#ifndef SYNCMARK_ARC_H
#define SYNCMARK_ARC_H

/* The algorithm is the one of Rust's library/alloc/src/sync.rs: the strong
 * count starts at 1 and the weak count at 1, that one weak reference being
 * held collectively by all strong references. The last strong release runs
 * the destructor and then drops that implicit weak reference; the last weak
 * release frees the allocation. A weak reference upgrades only while the
 * strong count is not 0, so a value is never brought back to life.
 *
 * Memory orders, as in Rust: cloning is relaxed (the caller already holds a
 * reference, and handing it to another thread synchronizes on its own);
 * releases are release operations, and the release that drops a count to 0
 * is followed by an acquire fence, so every use of the payload through any
 * reference happens before the destructor, and the destructor before free.
 *
 * The Rc variant (Rust's Rc<T>, strong references only) counts with plain
 * arithmetic and is for values that one thread owns; the benchmarks use it
 * as the non-atomic reference for the cost of atomic counting. It lives here
 * with Arc because both share the allocation layout. */

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Largest count a clone, downgrade or upgrade may leave behind, Rust's
 * MAX_REFCOUNT (isize::MAX). Going past it aborts the process: only a leak
 * of references in a loop gets there, and wrapping to 0 would free a value
 * still in use. */
#define SM_ARC_MAX_REFCOUNT (SIZE_MAX / 2)

/* The header of one Arc allocation; the payload follows it in the same
 * block, at `offset` bytes from its start. The fields are visible only so
 * that the hot paths below can be inline: they are private, use the
 * functions. A `struct sm_arc *` is one strong reference. */
struct sm_arc {
  atomic_size_t strong;           /* strong references */
  atomic_size_t weak;             /* weak references, +1 while strong != 0 */
  void (*destroy)(void *payload); /* NULL: nothing to run */
  size_t offset;                  /* payload offset from the header */
};

/* One weak reference to an Arc allocation (Rust's Weak<T>). It keeps the
 * memory, not the value, alive. Never defined: it is the same address as the
 * struct sm_arc, under a type that the strong operations do not accept. */
struct sm_weak;

/* Creates an Arc with a zero-filled payload of `size` bytes aligned to
 * _Alignof(max_align_t), strong count 1 and no weak reference, and stores
 * its one strong reference in *out. `destroy`, which may be NULL, is called
 * once with the payload when the last strong reference is released; it must
 * not free the payload. Returns 0; -EINVAL for size 0 or a NULL out; -ENOMEM
 * when memory runs out or the size overflows. *out is untouched on failure.
 * The caller fills the payload before sharing the reference. */
int sm_arc_new(size_t size, void (*destroy)(void *payload),
               struct sm_arc **out);

/* As sm_arc_new, with the payload aligned to `align` bytes, or to
 * _Alignof(max_align_t) when that is larger. Returns -EINVAL also when
 * align is not a power of two (0 included). */
int sm_arc_new_aligned(size_t size, size_t align,
                       void (*destroy)(void *payload), struct sm_arc **out);

/* Non-inline halves of the operations below; not for direct use.
 * sm__arc_drop_slow runs after the last strong release: it destroys the
 * payload and drops the implicit weak reference. sm__arc_dealloc frees the
 * block after the last weak release. sm__refcount_overflow aborts. */
void sm__arc_drop_slow(struct sm_arc *a);
void sm__arc_dealloc(struct sm_arc *a);
_Noreturn void sm__refcount_overflow(void);

/* Returns the payload of the Arc, valid as long as the caller holds a strong
 * reference, or NULL for NULL. Never fails. */
static inline void *sm_arc_data(struct sm_arc *a) {
  return a == NULL ? NULL : (void *)((char *)a + a->offset);
}

/* Returns a new strong reference to the same value (the same pointer), or
 * NULL for NULL. The caller must hold a strong reference. Aborts the process
 * when the strong count would pass SM_ARC_MAX_REFCOUNT. */
static inline struct sm_arc *sm_arc_clone(struct sm_arc *a) {
  if (a == NULL)
    return NULL;
  size_t old = atomic_fetch_add_explicit(&a->strong, 1, memory_order_relaxed);
  if (old > SM_ARC_MAX_REFCOUNT)
    sm__refcount_overflow();
  return a;
}

/* Gives up one strong reference; the last one runs the destructor, then
 * drops the implicit weak reference, which frees the block when no weak
 * reference is left. NULL is a no-op. Releasing a reference twice is
 * undefined (builds without NDEBUG assert when they notice). Never fails. */
static inline void sm_arc_release(struct sm_arc *a) {
  if (a == NULL)
    return;
  size_t old = atomic_fetch_sub_explicit(&a->strong, 1, memory_order_release);
  assert(old != 0 && "sm_arc_release: strong count was already 0");
  if (old == 1)
    sm__arc_drop_slow(a);
}

/* Returns the weak reference type's view of an Arc block. Never fails. */
static inline struct sm_weak *sm__arc_as_weak(struct sm_arc *a) {
  return (struct sm_weak *)(void *)a;
}

/* Returns the Arc block behind a weak reference. Never fails. */
static inline struct sm_arc *sm__weak_inner(struct sm_weak *w) {
  return (struct sm_arc *)(void *)w;
}

/* Returns a new weak reference to the Arc's value, or NULL for NULL. The
 * caller must hold a strong reference, which it keeps. Aborts the process
 * when the weak count would pass SM_ARC_MAX_REFCOUNT. */
static inline struct sm_weak *sm_arc_downgrade(struct sm_arc *a) {
  if (a == NULL)
    return NULL;
  size_t old = atomic_fetch_add_explicit(&a->weak, 1, memory_order_relaxed);
  if (old > SM_ARC_MAX_REFCOUNT)
    sm__refcount_overflow();
  return sm__arc_as_weak(a);
}

/* Returns a new strong reference to the value while it is alive, or NULL
 * once its last strong reference is gone (then forever), or for NULL. The
 * weak reference stays the caller's. Aborts the process when the strong
 * count would pass SM_ARC_MAX_REFCOUNT. Lock-free: the compare-and-swap is
 * retried only when another thread changed the count meanwhile. */
static inline struct sm_arc *sm_weak_upgrade(struct sm_weak *w) {
  if (w == NULL)
    return NULL;
  struct sm_arc *a = sm__weak_inner(w);
  size_t n = atomic_load_explicit(&a->strong, memory_order_relaxed);
  do {
    if (n == 0)
      return NULL;
    if (n > SM_ARC_MAX_REFCOUNT)
      sm__refcount_overflow();
    /* Acquire on success as in Rust (there it pairs with new_cyclic's
     * late initialization); a failure promises nothing. */
  } while (!atomic_compare_exchange_weak_explicit(
      &a->strong, &n, n + 1, memory_order_acquire, memory_order_relaxed));
  return a;
}

/* Returns a new weak reference to the same allocation (the same pointer), or
 * NULL for NULL. The caller must hold a weak reference. Aborts the process
 * when the weak count would pass SM_ARC_MAX_REFCOUNT. */
static inline struct sm_weak *sm_weak_clone(struct sm_weak *w) {
  if (w == NULL)
    return NULL;
  struct sm_arc *a = sm__weak_inner(w);
  size_t old = atomic_fetch_add_explicit(&a->weak, 1, memory_order_relaxed);
  if (old > SM_ARC_MAX_REFCOUNT)
    sm__refcount_overflow();
  return w;
}

/* Gives up one weak reference; the last one (counting the implicit one of
 * the strong references) frees the block. NULL is a no-op. Releasing a weak
 * reference twice is undefined (builds without NDEBUG assert when they
 * notice). Never fails. */
static inline void sm_weak_release(struct sm_weak *w) {
  if (w == NULL)
    return;
  struct sm_arc *a = sm__weak_inner(w);
  size_t old = atomic_fetch_sub_explicit(&a->weak, 1, memory_order_release);
  assert(old != 0 && "sm_weak_release: weak count was already 0");
  if (old == 1)
    sm__arc_dealloc(a);
}

/* Returns the number of strong references, or 0 for NULL. A snapshot: other
 * threads may change it at once. Never fails. */
static inline size_t sm_arc_strong_count(struct sm_arc *a) {
  return a == NULL ? 0 : atomic_load_explicit(&a->strong, memory_order_relaxed);
}

/* Returns the number of weak references, without the implicit one of the
 * strong references (Rust's Arc::weak_count), or 0 for NULL. The caller must
 * hold a strong reference. A snapshot. Never fails. */
static inline size_t sm_arc_weak_count(struct sm_arc *a) {
  return a == NULL ? 0
                   : atomic_load_explicit(&a->weak, memory_order_relaxed) - 1;
}

/* Returns the number of strong references to the weak reference's value: 0
 * once it is gone, or for NULL (Rust's Weak::strong_count). A snapshot.
 * Never fails. */
static inline size_t sm_weak_strong_count(struct sm_weak *w) {
  return w == NULL ? 0
                   : atomic_load_explicit(&sm__weak_inner(w)->strong,
                                          memory_order_relaxed);
}

/* Returns the number of weak references to the allocation, without the
 * implicit one; 0 once no strong reference is left, or for NULL (Rust's
 * Weak::weak_count). A snapshot. Never fails. */
static inline size_t sm_weak_weak_count(struct sm_weak *w) {
  if (w == NULL)
    return 0;
  struct sm_arc *a = sm__weak_inner(w);
  size_t weak = atomic_load_explicit(&a->weak, memory_order_acquire);
  size_t strong = atomic_load_explicit(&a->strong, memory_order_relaxed);
  return strong == 0 ? 0 : weak - 1;
}

/* The header of one Rc allocation (Rust's Rc<T> without Weak), payload
 * after it as for Arc. Plain counts: every reference to one Rc must stay in
 * one thread, or be handed over with synchronization. Fields are private. */
struct sm_rc {
  size_t strong;                  /* strong references */
  void (*destroy)(void *payload); /* NULL: nothing to run */
  size_t offset;                  /* payload offset from the header */
};

/* Creates an Rc as sm_arc_new does an Arc: zero-filled payload of `size`
 * bytes aligned to _Alignof(max_align_t), count 1, destroy (may be NULL)
 * called once at the last release. Returns 0; -EINVAL for size 0 or a NULL
 * out; -ENOMEM. *out is untouched on failure. */
int sm_rc_new(size_t size, void (*destroy)(void *payload), struct sm_rc **out);

/* As sm_rc_new with the payload aligned to `align` (at least
 * _Alignof(max_align_t)); -EINVAL also when align is not a power of two. */
int sm_rc_new_aligned(size_t size, size_t align, void (*destroy)(void *payload),
                      struct sm_rc **out);

/* Runs the destructor and frees the block after the last Rc release; not
 * for direct use. */
void sm__rc_drop_slow(struct sm_rc *r);

/* Returns the payload of the Rc, valid while the caller holds a reference,
 * or NULL for NULL. Never fails. */
static inline void *sm_rc_data(struct sm_rc *r) {
  return r == NULL ? NULL : (void *)((char *)r + r->offset);
}

/* Returns a new reference to the same value (the same pointer), or NULL for
 * NULL. The caller must hold a reference. Aborts the process when the count
 * would wrap to 0, as Rust's Rc does. */
static inline struct sm_rc *sm_rc_clone(struct sm_rc *r) {
  if (r == NULL)
    return NULL;
  r->strong++;
  if (r->strong == 0)
    sm__refcount_overflow();
  return r;
}

/* Gives up one reference; the last one runs the destructor and frees the
 * block. NULL is a no-op. Releasing twice is undefined (builds without
 * NDEBUG assert when they notice). Never fails. */
static inline void sm_rc_release(struct sm_rc *r) {
  if (r == NULL)
    return;
  assert(r->strong != 0 && "sm_rc_release: count was already 0");
  if (--r->strong == 0)
    sm__rc_drop_slow(r);
}

/* Returns the number of references, or 0 for NULL. Never fails. */
static inline size_t sm_rc_strong_count(struct sm_rc *r) {
  return r == NULL ? 0 : r->strong;
}

#endif
