/* arc.c: allocation and the slow paths of the Arc, Weak and Rc references. */
#include "syncmark/arc.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Computes the layout of a block whose header of `header` bytes is followed
 * by a payload of `size` bytes aligned to `align` (raised to
 * _Alignof(max_align_t) when smaller). Stores the block's alignment, the
 * payload offset and the block size (a multiple of the alignment, as
 * aligned_alloc wants) and returns 0; -EINVAL for size 0 or an align that is
 * not a power of two; -ENOMEM when the block size overflows a size_t. */
static int layout(size_t header, size_t size, size_t align, size_t *block_align,
                  size_t *offset, size_t *total) {
  if (size == 0 || align == 0 || (align & (align - 1)) != 0)
    return -EINVAL;
  if (align < alignof(max_align_t))
    align = alignof(max_align_t);
  size_t off = (header + align - 1) & ~(align - 1);
  if (off < header || size > SIZE_MAX - off)
    return -ENOMEM;
  size_t end = off + size;
  size_t rounded = (end + align - 1) & ~(align - 1);
  if (rounded < end)
    return -ENOMEM;
  *block_align = align;
  *offset = off;
  *total = rounded;
  return 0;
}

/* Allocates a zero-filled block for a header of `header` bytes and a payload
 * of `size` bytes aligned to `align`, stores the payload offset in *offset
 * and returns 0 with the block in *out; -EINVAL or -ENOMEM as layout()
 * says, and -ENOMEM when the allocation fails. */
static int alloc_block(size_t header, size_t size, size_t align, size_t *offset,
                       void **out) {
  size_t block_align, total;
  int err = layout(header, size, align, &block_align, offset, &total);
  if (err != 0)
    return err;
  void *block = aligned_alloc(block_align, total);
  if (block == NULL)
    return -ENOMEM;
  memset(block, 0, total);
  *out = block;
  return 0;
}

int sm_arc_new_aligned(size_t size, size_t align,
                       void (*destroy)(void *payload), struct sm_arc **out) {
  if (out == NULL)
    return -EINVAL;
  size_t offset;
  void *block;
  int err = alloc_block(sizeof(struct sm_arc), size, align, &offset, &block);
  if (err != 0)
    return err;
  struct sm_arc *a = block;
  atomic_init(&a->strong, 1);
  atomic_init(&a->weak, 1); /* the implicit one of the strong references */
  a->destroy = destroy;
  a->offset = offset;
  *out = a;
  return 0;
}

int sm_arc_new(size_t size, void (*destroy)(void *payload),
               struct sm_arc **out) {
  return sm_arc_new_aligned(size, alignof(max_align_t), destroy, out);
}

/* The acquire side of a final decrement. ThreadSanitizer does not model
 * atomic_thread_fence, so under it an acquire load of the counter stands in
 * (as Rust's Arc does), with the same ordering. */
#ifdef __SANITIZE_THREAD__
#define ACQUIRE_AFTER_DECREMENT(counter)                                       \
  ((void)atomic_load_explicit(&(counter), memory_order_acquire))
#else
#define ACQUIRE_AFTER_DECREMENT(counter)                                       \
  atomic_thread_fence(memory_order_acquire)
#endif

void sm__arc_drop_slow(struct sm_arc *a) {
  /* Pairs with the release decrements of the other strong references: their
   * uses of the payload happen before the destructor. */
  ACQUIRE_AFTER_DECREMENT(a->strong);
  if (a->destroy != NULL)
    a->destroy(sm_arc_data(a));
  sm_weak_release(sm__arc_as_weak(a));
}

void sm__arc_dealloc(struct sm_arc *a) {
  /* Pairs with the release decrements of the other weak references (and of
   * the implicit one after the destructor): all of them happen before free. */
  ACQUIRE_AFTER_DECREMENT(a->weak);
  free(a);
}

_Noreturn void sm__refcount_overflow(void) {
  abort();
}

int sm_rc_new_aligned(size_t size, size_t align, void (*destroy)(void *payload),
                      struct sm_rc **out) {
  if (out == NULL)
    return -EINVAL;
  size_t offset;
  void *block;
  int err = alloc_block(sizeof(struct sm_rc), size, align, &offset, &block);
  if (err != 0)
    return err;
  struct sm_rc *r = block;
  r->strong = 1;
  r->destroy = destroy;
  r->offset = offset;
  *out = r;
  return 0;
}

int sm_rc_new(size_t size, void (*destroy)(void *payload), struct sm_rc **out) {
  return sm_rc_new_aligned(size, alignof(max_align_t), destroy, out);
}

void sm__rc_drop_slow(struct sm_rc *r) {
  if (r->destroy != NULL)
    r->destroy(sm_rc_data(r));
  free(r);
}
