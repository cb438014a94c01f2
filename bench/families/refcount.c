/* refcount.c: the `refcount` family: the cost of cloning and releasing a
 * shared reference (claim C13), atomic (Arc) against non-atomic (Rc), on
 * one object shared by all threads or on one object per thread; syncmark's
 * and Rust std's Arc. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/arc.h"

/* Shared state of one window: one Arc every thread clones, and one private
 * Arc and Rc per thread, each in its own cache-line-aligned allocation. */
struct refcount_state {
  struct sm_arc *shared;
  struct sm_arc **private_arcs; /* threads entries */
  struct sm_rc **private_rcs;   /* threads entries */
  struct sm_rust_arcs *rust;    /* the rust_* variants' Arcs */
  unsigned threads;
};

/* Counts destructor runs: the self-check requires none during a window. */
static atomic_uint destroyed;

/* Destructor of every object of the family; counts its runs. */
static void count_destroy(void *payload SM_UNUSED) {
  atomic_fetch_add_explicit(&destroyed, 1, memory_order_relaxed);
}

/* Payload size and alignment: a whole line, so private objects of
 * different threads never share one. */
enum { OBJECT_SIZE = SM_CACHE_LINE };

/* Clones and releases Arc `a` in the measured loop; inlined into each
 * worker, so the loop calls nothing indirectly. */
static inline void arc_clone_release_loop(struct sm_worker *w,
                                          struct sm_arc *a) {
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    sm_arc_release(sm_arc_clone(a));
  }
}

/* One clone + release of the Arc shared by all threads. */
static void arc_shared_worker(struct sm_worker *w) {
  struct refcount_state *s = w->state;
  arc_clone_release_loop(w, s->shared);
}

/* One clone + release of the thread's own Arc (atomic, uncontended). */
static void arc_private_worker(struct sm_worker *w) {
  struct refcount_state *s = w->state;
  arc_clone_release_loop(w, s->private_arcs[w->index]);
}

/* One clone + release of the thread's own Rc (non-atomic). The compiler
 * barrier keeps the increment and decrement as real memory operations,
 * as they are in a program that uses the clone in between. */
static void rc_private_worker(struct sm_worker *w) {
  struct refcount_state *s = w->state;
  struct sm_rc *r = s->private_rcs[w->index];
  uint64_t count = 0;
  SM_MEASURED_LOOP(w, count) {
    struct sm_rc *clone = sm_rc_clone(r);
    __asm__ __volatile__("" : : "r"(clone) : "memory");
    sm_rc_release(clone);
  }
}

/* Clone + drop pairs of one pass of a rust_* worker: one call into Rust
 * runs them. */
enum { RUST_PASS_OPS = 64 };

/* Clone + drop of Rust's Arc: the one all threads share (shared) or the
 * thread's own, RUST_PASS_OPS per pass. */
static inline void rust_arc_loop(struct sm_worker *w, bool shared) {
  struct refcount_state *s = w->state;
  ptrdiff_t index = shared ? -1 : (ptrdiff_t)w->index;
  uint64_t count = 0;
  w->ops_per_pass = RUST_PASS_OPS;
  SM_MEASURED_LOOP(w, count) {
    sm_rust_arcs_pass(s->rust, index, RUST_PASS_OPS);
  }
}

/* Rust's Arc::clone + drop on the object shared by all threads. */
static void rust_arc_shared_worker(struct sm_worker *w) {
  rust_arc_loop(w, true);
}

/* Rust's Arc::clone + drop on the thread's own object. */
static void rust_arc_private_worker(struct sm_worker *w) {
  rust_arc_loop(w, false);
}

/* Frees the state and every object in it (destructors run here). */
static void refcount_teardown(void *state) {
  struct refcount_state *s = state;
  for (unsigned i = 0; s->private_arcs && i < s->threads; i++)
    sm_arc_release(s->private_arcs[i]);
  for (unsigned i = 0; s->private_rcs && i < s->threads; i++)
    sm_rc_release(s->private_rcs[i]);
  sm_arc_release(s->shared);
  sm_rust_arcs_free(s->rust);
  free(s->private_arcs);
  free(s->private_rcs);
  free(s);
}

/* Creates the shared Arc and one Arc and Rc per thread. Returns 0,
 * -ENOMEM or the error of object creation. */
static int refcount_setup(const struct sm_case *c, void **state) {
  struct refcount_state *s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  s->threads = c->threads;
  s->private_arcs = calloc(c->threads, sizeof *s->private_arcs);
  s->private_rcs = calloc(c->threads, sizeof *s->private_rcs);
  int rc = s->private_arcs && s->private_rcs ? 0 : -ENOMEM;
  if (rc == 0)
    rc = sm_arc_new_aligned(OBJECT_SIZE, SM_CACHE_LINE, count_destroy,
                            &s->shared);
  for (unsigned i = 0; rc == 0 && i < c->threads; i++) {
    rc = sm_arc_new_aligned(OBJECT_SIZE, SM_CACHE_LINE, count_destroy,
                            &s->private_arcs[i]);
    if (rc == 0)
      rc = sm_rc_new_aligned(OBJECT_SIZE, SM_CACHE_LINE, count_destroy,
                             &s->private_rcs[i]);
  }
  if (rc == 0 && SM_RUST_STD_BUILT)
    s->rust = sm_rust_arcs_new(c->threads);
  if (rc != 0) {
    refcount_teardown(s);
    return rc;
  }
  atomic_store_explicit(&destroyed, 0, memory_order_relaxed);
  *state = s;
  return 0;
}

/* Self-check: every clone was released (each object is back to one strong
 * reference), no destructor ran, and the threads did some work. One thread
 * may do none: with more threads than PUs and a short window, a thread can
 * enter the window and be preempted until it ends. */
static int refcount_check(const struct sm_case *c, void *state,
                          const struct sm_worker *workers, char *msg,
                          size_t msg_size) {
  struct refcount_state *s = state;
  size_t bad = sm_arc_strong_count(s->shared) != 1;
  for (unsigned i = 0; i < c->threads; i++)
    bad += (sm_arc_strong_count(s->private_arcs[i]) != 1) +
           (sm_rc_strong_count(s->private_rcs[i]) != 1);
  if (s->rust)
    bad += sm_rust_arcs_not_released(s->rust);
  unsigned ran = atomic_load_explicit(&destroyed, memory_order_relaxed);
  if (bad || ran)
    return sm_kit_check_failed(
        msg, msg_size,
        "%zu object(s) not back to one reference, %u destructor(s) ran", bad,
        ran);
  uint64_t passes = 0;
  for (unsigned i = 0; i < c->threads; i++)
    passes += workers[i].ops_at_stop;
  if (passes == 0)
    return sm_kit_check_failed(msg, msg_size, "no thread did a clone/release");
  return 0;
}

static const struct sm_variant variants[] = {
    SM_VARIANT("arc_shared",
               "Arc clone+release, one object shared by all threads",
               arc_shared_worker),
    SM_VARIANT("arc_private",
               "Arc clone+release, one object per thread (uncontended)",
               arc_private_worker),
    SM_VARIANT("rc_private",
               "Rc (non-atomic) clone+release, one object per thread",
               rc_private_worker),
    SM_VARIANT("rust_arc_shared",
               "Rust std::sync::Arc clone+drop, one object shared by all "
               "threads",
               rust_arc_shared_worker),
    SM_VARIANT("rust_arc_private",
               "Rust std::sync::Arc clone+drop, one object per thread",
               rust_arc_private_worker),
};

SM_FAMILY_DEFINE(refcount, refcount,
                 "clone+release of shared references: Arc shared, Arc "
                 "private, Rc",
                 .applies = sm_rust_std_applies);
