/* test_arc.c: counts, destructor, upgrade, freeing, alignment and stress
 * tests of the Arc/Weak references and of the non-atomic Rc. */
#include <criterion/criterion.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "syncmark/arc.h"
#include "syncmark/clock.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Both sanitizers replace malloc and count live bytes the same way. */
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
/* The ASan allocator's count of bytes handed out and not yet freed. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Payload size of the blocks whose freeing the tests watch: far above the
 * mmap threshold set below, so glibc maps and unmaps each one by itself. */
#define BIG ((size_t)4 << 20)

/* Threads and iterations of the stress test. */
enum { STRESS_THREADS = 4, STRESS_ITERS = 200000, TAIL_ITERS = 200000 };

/* Upgrades tried after the first failed one, each of which must fail. */
enum { AFTER_GONE_TRIES = 1000 };

/* Seconds the stress test waits for the workers' progress before failing
 * instead of hanging. */
#define WAIT_LIMIT_NS (20 * UINT64_C(1000000000))

/* A value written into payloads and checked by every user. */
#define MAGIC 0x5eed1234u

/* Destructor calls in this test process (Criterion runs each test in a
 * process of its own, so every test starts at 0). */
static atomic_uint destroyed;
/* The payload the last destructor call was given. */
static void *destroyed_payload;

/* Counts a destructor call and remembers its payload. Never fails. */
static void count_destroy(void *payload) {
  atomic_fetch_add_explicit(&destroyed, 1, memory_order_relaxed);
  destroyed_payload = payload;
}

/* Returns the bytes the allocator holds for the program in blocks of the
 * size the tests watch: glibc's mmapped bytes (which set_mmap_threshold
 * makes hold every BIG block), or ASan's allocated bytes under ASan. With
 * `before` read just ahead of a BIG block's creation, the block is held
 * while heap_bytes() >= before + BIG and freed once it is below: the small
 * allocations made meanwhile (thread start-up, Criterion) come nowhere
 * near BIG. Never fails. */
static size_t heap_bytes(void) {
#ifdef HAVE_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().hblkhd;
#endif
}

/* Fixes glibc's mmap threshold at 128 KiB, so every BIG block is mapped by
 * itself and unmapped by its free (glibc otherwise raises the threshold
 * after a free). A no-op under ASan, whose allocator has its own count.
 * Fails the test when glibc refuses. */
static void set_mmap_threshold(void) {
#ifndef HAVE_ASAN
  cr_assert_eq(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
#endif
}

Test(arc, new_rejects_bad_arguments) {
  struct sm_arc *sentinel = (struct sm_arc *)&destroyed;
  struct sm_arc *a = sentinel;
  cr_assert_eq(sm_arc_new(0, NULL, &a), -EINVAL);
  cr_assert_eq(sm_arc_new(8, NULL, NULL), -EINVAL);
  cr_assert_eq(sm_arc_new_aligned(8, 64, NULL, NULL), -EINVAL);
  size_t bad_aligns[] = {0, 3, 48, 65, 100, SIZE_MAX};
  for (size_t i = 0; i < sizeof(bad_aligns) / sizeof(bad_aligns[0]); i++)
    cr_assert_eq(sm_arc_new_aligned(8, bad_aligns[i], NULL, &a), -EINVAL,
                 "align %zu", bad_aligns[i]);
  cr_assert_eq(sm_arc_new_aligned(0, 64, NULL, &a), -EINVAL);
  /* Sizes whose block size overflows: refused before any allocation. */
  cr_assert_eq(sm_arc_new(SIZE_MAX, NULL, &a), -ENOMEM);
  cr_assert_eq(sm_arc_new(SIZE_MAX - 8, NULL, &a), -ENOMEM);
  cr_assert_eq(sm_arc_new_aligned(SIZE_MAX - 40, 64, NULL, &a), -ENOMEM);
  cr_assert_eq(sm_arc_new_aligned(8, (size_t)1 << 63, NULL, &a), -ENOMEM);
  cr_assert_eq(a, sentinel, "*out changed on failure");
}

Test(arc, new_zero_fills_with_one_strong_no_weak) {
  struct sm_arc *a = NULL;
  cr_assert_eq(sm_arc_new(100, NULL, &a), 0);
  cr_assert_not_null(a);
  unsigned char *p = sm_arc_data(a);
  cr_assert_not_null(p);
  cr_assert_neq((void *)p, (void *)a, "payload overlaps the header");
  for (int i = 0; i < 100; i++)
    cr_assert_eq(p[i], 0, "byte %d not zero", i);
  memset(p, 0xab, 100); /* the whole payload is writable */
  cr_assert_eq(sm_arc_strong_count(a), 1);
  cr_assert_eq(sm_arc_weak_count(a), 0);
  sm_arc_release(a);
}

Test(arc, null_is_accepted_everywhere) {
  cr_assert_null(sm_arc_clone(NULL));
  cr_assert_null(sm_arc_data(NULL));
  cr_assert_null(sm_arc_downgrade(NULL));
  cr_assert_null(sm_weak_upgrade(NULL));
  cr_assert_null(sm_weak_clone(NULL));
  sm_arc_release(NULL);
  sm_weak_release(NULL);
  cr_assert_eq(sm_arc_strong_count(NULL), 0);
  cr_assert_eq(sm_arc_weak_count(NULL), 0);
  cr_assert_eq(sm_weak_strong_count(NULL), 0);
  cr_assert_eq(sm_weak_weak_count(NULL), 0);
}

/* The payload of the destructor tests. */
struct point {
  int x, y;
};

/* The x and y the destructor found in the payload. */
static int seen_x, seen_y;

/* Counts the call and records the point it is given. Never fails. */
static void point_destroy(void *payload) {
  struct point *pt = payload;
  seen_x = pt->x;
  seen_y = pt->y;
  count_destroy(payload);
}

Test(arc, destructor_runs_once_at_last_strong_release) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(sizeof(struct point), point_destroy, &a), 0);
  struct point *pt = sm_arc_data(a);
  pt->x = 3;
  pt->y = -7;
  struct sm_arc *b = sm_arc_clone(a);
  struct sm_arc *c = sm_arc_clone(b);
  cr_assert_eq(b, a);
  cr_assert_eq(c, a);
  cr_assert_eq(sm_arc_strong_count(a), 3);
  sm_arc_release(b);
  cr_assert_eq(atomic_load(&destroyed), 0, "destroyed with 2 references");
  sm_arc_release(a);
  cr_assert_eq(atomic_load(&destroyed), 0, "destroyed with 1 reference");
  cr_assert_eq(sm_arc_strong_count(c), 1);
  cr_assert_eq(pt->x, 3);
  void *payload = sm_arc_data(c);
  sm_arc_release(c);
  cr_assert_eq(atomic_load(&destroyed), 1);
  cr_assert_eq(destroyed_payload, payload);
  cr_assert_eq(seen_x, 3);
  cr_assert_eq(seen_y, -7);
}

Test(arc, null_destructor_is_allowed) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(16, NULL, &a), 0);
  struct sm_weak *w = sm_arc_downgrade(a);
  sm_arc_release(sm_arc_clone(a));
  sm_arc_release(a);
  cr_assert_null(sm_weak_upgrade(w));
  sm_weak_release(w);
}

Test(arc, weak_upgrades_while_alive_and_fails_after) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(sizeof(int), count_destroy, &a), 0);
  *(int *)sm_arc_data(a) = 42;
  struct sm_weak *w = sm_arc_downgrade(a);
  cr_assert_not_null(w);
  struct sm_arc *u = sm_weak_upgrade(w);
  cr_assert_eq(u, a);
  cr_assert_eq(*(int *)sm_arc_data(u), 42);
  cr_assert_eq(sm_arc_strong_count(a), 2);
  sm_arc_release(a);
  /* The upgraded reference alone keeps the value. */
  cr_assert_eq(atomic_load(&destroyed), 0);
  struct sm_arc *again = sm_weak_upgrade(w);
  cr_assert_eq(again, u);
  sm_arc_release(again);
  sm_arc_release(u);
  cr_assert_eq(atomic_load(&destroyed), 1);
  for (int i = 0; i < 3; i++)
    cr_assert_null(sm_weak_upgrade(w), "upgrade %d brought it back", i);
  cr_assert_eq(sm_weak_strong_count(w), 0);
  cr_assert_eq(atomic_load(&destroyed), 1);
  sm_weak_release(w);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

/* The weak reference the resurrecting destructor tries to upgrade, and what
 * it got (a non-NULL start value, so a destructor that never ran fails). */
static struct sm_weak *self_weak;
static struct sm_arc *upgrade_in_destroy = (struct sm_arc *)&destroyed;
/* The strong count a destructor found; SIZE_MAX until one ran. */
static size_t strong_in_destroy = SIZE_MAX;

/* Tries to get the value back from inside its own destructor. Never
 * fails. */
static void resurrect_destroy(void *payload) {
  count_destroy(payload);
  strong_in_destroy = sm_weak_strong_count(self_weak);
  upgrade_in_destroy = sm_weak_upgrade(self_weak);
}

Test(arc, destructor_cannot_resurrect) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(8, resurrect_destroy, &a), 0);
  self_weak = sm_arc_downgrade(a);
  sm_arc_release(a);
  cr_assert_eq(atomic_load(&destroyed), 1);
  cr_assert_eq(strong_in_destroy, 0);
  cr_assert_null(upgrade_in_destroy);
  sm_weak_release(self_weak);
}

Test(arc, memory_freed_only_after_last_weak) {
  set_mmap_threshold();
  size_t before = heap_bytes();
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(BIG, count_destroy, &a), 0);
  size_t held = heap_bytes();
  struct sm_weak *w1 = sm_arc_downgrade(a);
  struct sm_weak *w2 = sm_weak_clone(w1);
  cr_assert_eq(w2, w1);
  sm_arc_release(a);
  size_t after_strong = heap_bytes();
  cr_assert_eq(atomic_load(&destroyed), 1);
  /* Under ASan these reads through the weak references would be reported
   * as uses after free if the last strong release had freed the block. */
  cr_assert_eq(sm_weak_strong_count(w1), 0);
  cr_assert_null(sm_weak_upgrade(w2));
  sm_weak_release(w1);
  size_t after_w1 = heap_bytes();
  cr_assert_eq(sm_weak_strong_count(w2), 0);
  sm_weak_release(w2);
  size_t after_w2 = heap_bytes();
  cr_assert_eq(atomic_load(&destroyed), 1);
  cr_assert_geq(held, before + BIG, "block not counted: %zu -> %zu", before,
                held);
  cr_assert_geq(after_strong, before + BIG, "freed at last strong release");
  cr_assert_geq(after_w1, before + BIG, "freed with a weak reference left");
  cr_assert_lt(after_w2, before + BIG, "not freed at last weak release");
}

Test(arc, memory_freed_at_last_strong_without_weak) {
  set_mmap_threshold();
  size_t before = heap_bytes();
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(BIG, count_destroy, &a), 0);
  struct sm_arc *b = sm_arc_clone(a);
  size_t held = heap_bytes();
  sm_arc_release(a);
  size_t after_a = heap_bytes();
  sm_arc_release(b);
  size_t after_b = heap_bytes();
  cr_assert_eq(atomic_load(&destroyed), 1);
  cr_assert_geq(held, before + BIG);
  cr_assert_geq(after_a, before + BIG, "freed with a strong reference left");
  cr_assert_lt(after_b, before + BIG, "not freed at last release");
}

Test(arc, counts_through_clone_downgrade_release) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(32, count_destroy, &a), 0);
  cr_assert_eq(sm_arc_strong_count(a), 1);
  cr_assert_eq(sm_arc_weak_count(a), 0);

  struct sm_arc *b = sm_arc_clone(a);
  cr_assert_eq(sm_arc_strong_count(a), 2);
  cr_assert_eq(sm_arc_weak_count(a), 0);

  struct sm_weak *w1 = sm_arc_downgrade(b);
  cr_assert_eq(sm_arc_strong_count(a), 2);
  cr_assert_eq(sm_arc_weak_count(a), 1);
  cr_assert_eq(sm_weak_strong_count(w1), 2);
  cr_assert_eq(sm_weak_weak_count(w1), 1);

  struct sm_weak *w2 = sm_weak_clone(w1);
  struct sm_weak *w3 = sm_arc_downgrade(a);
  cr_assert_eq(sm_arc_weak_count(a), 3);
  cr_assert_eq(sm_weak_weak_count(w3), 3);

  struct sm_arc *c = sm_weak_upgrade(w2);
  cr_assert_eq(c, a);
  cr_assert_eq(sm_arc_strong_count(a), 3);
  cr_assert_eq(sm_arc_weak_count(a), 3);

  sm_weak_release(w3);
  cr_assert_eq(sm_arc_weak_count(a), 2);
  sm_arc_release(a);
  cr_assert_eq(sm_arc_strong_count(b), 2);
  sm_arc_release(c);
  cr_assert_eq(sm_arc_strong_count(b), 1);
  cr_assert_eq(sm_arc_weak_count(b), 2);
  cr_assert_eq(atomic_load(&destroyed), 0);

  sm_arc_release(b);
  cr_assert_eq(atomic_load(&destroyed), 1);
  /* Rust's Weak counts: both 0 once the value is gone, with 2 weak
   * references still holding the block. */
  cr_assert_eq(sm_weak_strong_count(w1), 0);
  cr_assert_eq(sm_weak_weak_count(w1), 0);
  cr_assert_eq(sm_weak_weak_count(w2), 0);
  sm_weak_release(w1);
  cr_assert_eq(sm_weak_strong_count(w2), 0);
  sm_weak_release(w2);
  cr_assert_eq(atomic_load(&destroyed), 1);
}

/* A type that needs a 64-byte alignment. */
struct line64 {
  alignas(64) unsigned char bytes[64];
};

Test(arc, payload_alignment) {
  struct sm_arc *a[8];
  for (int i = 0; i < 8; i++) {
    cr_assert_eq(sm_arc_new(1 + (size_t)i * 13, NULL, &a[i]), 0);
    cr_assert_eq((uintptr_t)sm_arc_data(a[i]) % alignof(max_align_t), 0);
  }
  for (int i = 0; i < 8; i++)
    sm_arc_release(a[i]);

  struct sm_arc *l[8];
  for (int i = 0; i < 8; i++) {
    cr_assert_eq(sm_arc_new_aligned(sizeof(struct line64),
                                    alignof(struct line64), NULL, &l[i]),
                 0);
    struct line64 *p = sm_arc_data(l[i]);
    cr_assert_eq((uintptr_t)p % 64, 0, "payload %p not 64-aligned", (void *)p);
    memset(p->bytes, 0x5a, sizeof(p->bytes));
  }
  for (int i = 0; i < 8; i++)
    sm_arc_release(l[i]);

  size_t aligns[] = {1, 2, 4, 8, 16, 32, 128, 256, 4096, 65536};
  for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
    struct sm_arc *x;
    cr_assert_eq(sm_arc_new_aligned(24, aligns[i], NULL, &x), 0, "align %zu",
                 aligns[i]);
    uintptr_t p = (uintptr_t)sm_arc_data(x);
    cr_assert_eq(p % aligns[i], 0, "align %zu", aligns[i]);
    cr_assert_eq(p % alignof(max_align_t), 0, "align %zu", aligns[i]);
    memset(sm_arc_data(x), 1, 24);
    sm_arc_release(x);
  }
}

Test(arc, clone_past_max_refcount_aborts, .signal = SIGABRT, .timeout = 10) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(8, NULL, &a), 0);
  atomic_store(&a->strong, SM_ARC_MAX_REFCOUNT); /* as after that many */
  sm_arc_clone(a); /* reaches MAX + 1: allowed, as in Rust */
  cr_assert_eq(sm_arc_strong_count(a), SM_ARC_MAX_REFCOUNT + 1);
  sm_arc_clone(a); /* aborts */
  cr_assert_fail("clone past SM_ARC_MAX_REFCOUNT returned");
}

Test(arc, upgrade_past_max_refcount_aborts, .signal = SIGABRT, .timeout = 10) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(8, NULL, &a), 0);
  struct sm_weak *w = sm_arc_downgrade(a);
  atomic_store(&a->strong, SM_ARC_MAX_REFCOUNT + 1);
  sm_weak_upgrade(w);
  cr_assert_fail("upgrade past SM_ARC_MAX_REFCOUNT returned");
}

Test(arc, weak_clone_past_max_refcount_aborts, .signal = SIGABRT,
     .timeout = 10) {
  struct sm_arc *a;
  cr_assert_eq(sm_arc_new(8, NULL, &a), 0);
  struct sm_weak *w = sm_arc_downgrade(a);
  atomic_store(&a->weak, SM_ARC_MAX_REFCOUNT + 1);
  sm_weak_clone(w);
  cr_assert_fail("weak clone past SM_ARC_MAX_REFCOUNT returned");
}

/* The head of the stress test's payload; the rest of its BIG bytes is
 * padding that makes the block's freeing visible in heap_bytes(). */
struct stress_value {
  atomic_uint magic;     /* MAGIC while alive, 0 once destroyed */
  atomic_uint destroyed; /* set by the destructor */
};

/* State shared by the stress test's threads. */
struct stress {
  pthread_barrier_t start;              /* workers and main start together */
  struct sm_arc *arc;                   /* the shared Arc (main's view) */
  struct sm_arc *mine[STRESS_THREADS];  /* each worker's strong reference */
  struct sm_weak *weak[STRESS_THREADS]; /* each worker's weak reference */
  atomic_ulong progress;                /* loop iterations done, summed */
  atomic_bool main_released;            /* main has dropped its reference */
  atomic_ulong bad_clone;   /* clones that returned another pointer */
  atomic_ulong bad_upgrade; /* upgrades that failed while a strong was held */
  atomic_ulong bad_value;   /* uses that found the value destroyed */
  atomic_ulong resurrected; /* upgrades that succeeded after one failed */
};

static struct stress stress;

/* What one stress worker is told: its index into the shared arrays. */
struct stress_arg {
  unsigned index;
};

/* Records the destructor's call and the strong count it finds (which must
 * be 0), and poisons the value. Never fails. */
static void stress_destroy(void *payload) {
  struct stress_value *v = payload;
  strong_in_destroy = sm_arc_strong_count(stress.arc);
  atomic_store_explicit(&v->magic, 0, memory_order_relaxed);
  atomic_store_explicit(&v->destroyed, 1, memory_order_relaxed);
  count_destroy(payload);
}

/* Counts one more error in *counter when `bad` holds. Never fails. */
static void check(bool bad, atomic_ulong *counter) {
  if (bad)
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* Returns true when the value behind a held reference looks destroyed. */
static bool value_gone(struct sm_arc *a) {
  struct stress_value *v = sm_arc_data(a);
  return atomic_load_explicit(&v->magic, memory_order_relaxed) != MAGIC ||
         atomic_load_explicit(&v->destroyed, memory_order_relaxed) != 0;
}

/* One stress worker: clones and releases its strong reference, downgrades,
 * upgrades and releases, then releases its strong reference, waits for the
 * main thread to have released its own, and upgrades its weak one (racing
 * the other workers' last releases) until that fails, after which every
 * upgrade must fail. Finally releases its weak reference. Counts every
 * misbehavior in the shared state. */
static void *stress_worker(void *arg) {
  unsigned me = ((struct stress_arg *)arg)->index;
  struct sm_arc *mine = stress.mine[me];
  struct sm_weak *weak = stress.weak[me];
  pthread_barrier_wait(&stress.start);
  for (unsigned i = 0; i < STRESS_ITERS; i++) {
    struct sm_arc *c = sm_arc_clone(mine);
    check(c != mine, &stress.bad_clone);
    check(value_gone(c), &stress.bad_value);
    sm_arc_release(c);

    struct sm_weak *w = sm_arc_downgrade(mine);
    struct sm_arc *u = sm_weak_upgrade(w);
    check(u != mine, &stress.bad_upgrade);
    if (u != NULL) {
      check(value_gone(u), &stress.bad_value);
      sm_arc_release(u);
    }
    sm_weak_release(w);
    if ((i + 1) % 1024 == 0)
      atomic_fetch_add_explicit(&stress.progress, 1024, memory_order_relaxed);
  }
  sm_arc_release(mine);
  while (!atomic_load_explicit(&stress.main_released, memory_order_relaxed))
    sched_yield();

  bool gone = false;
  for (unsigned i = 0; i < TAIL_ITERS; i++) {
    struct sm_arc *u = sm_weak_upgrade(weak);
    if (u == NULL) {
      gone = true;
      break;
    }
    check(value_gone(u), &stress.bad_value);
    sm_arc_release(u);
  }
  if (gone) {
    for (unsigned i = 0; i < AFTER_GONE_TRIES; i++) {
      struct sm_arc *u = sm_weak_upgrade(weak);
      check(u != NULL, &stress.resurrected);
      sm_arc_release(u);
    }
  }
  sm_weak_release(weak);
  return NULL;
}

Test(arc, stress_clone_upgrade_release, .timeout = 30) {
  set_mmap_threshold();
  size_t before = heap_bytes();
  cr_assert_eq(sm_arc_new(BIG, stress_destroy, &stress.arc), 0);
  size_t held = heap_bytes();
  struct stress_value *v = sm_arc_data(stress.arc);
  atomic_store(&v->magic, MAGIC);
  for (unsigned t = 0; t < STRESS_THREADS; t++) {
    stress.mine[t] = sm_arc_clone(stress.arc);
    stress.weak[t] = sm_arc_downgrade(stress.arc);
  }
  cr_assert_eq(sm_arc_strong_count(stress.arc), 1 + STRESS_THREADS);
  cr_assert_eq(sm_arc_weak_count(stress.arc), STRESS_THREADS);
  cr_assert_eq(pthread_barrier_init(&stress.start, NULL, STRESS_THREADS + 1),
               0);
  pthread_t threads[STRESS_THREADS];
  struct stress_arg args[STRESS_THREADS];
  for (unsigned t = 0; t < STRESS_THREADS; t++) {
    args[t].index = t;
    cr_assert_eq(pthread_create(&threads[t], NULL, stress_worker, &args[t]), 0);
  }
  pthread_barrier_wait(&stress.start);

  /* Main lets go of its reference once the workers are halfway through. */
  uint64_t deadline = sm_now_ns() + WAIT_LIMIT_NS;
  unsigned long half = (unsigned long)STRESS_THREADS * STRESS_ITERS / 2;
  while (atomic_load_explicit(&stress.progress, memory_order_relaxed) < half &&
         sm_now_ns() < deadline)
    sched_yield();
  bool timely =
      atomic_load_explicit(&stress.progress, memory_order_relaxed) >= half;
  cr_assert_eq(atomic_load(&destroyed), 0, "destroyed while in use");
  sm_arc_release(stress.arc);
  atomic_store_explicit(&stress.main_released, true, memory_order_relaxed);

  for (unsigned t = 0; t < STRESS_THREADS; t++)
    cr_assert_eq(pthread_join(threads[t], NULL), 0);
  size_t after = heap_bytes();
  pthread_barrier_destroy(&stress.start);

  cr_assert(timely, "workers made no progress in %llu s",
            (unsigned long long)(WAIT_LIMIT_NS / 1000000000));
  cr_assert_eq(atomic_load(&stress.bad_clone), 0);
  cr_assert_eq(atomic_load(&stress.bad_upgrade), 0);
  cr_assert_eq(atomic_load(&stress.bad_value), 0);
  cr_assert_eq(atomic_load(&stress.resurrected), 0);
  cr_assert_eq(atomic_load(&destroyed), 1, "destructor ran %u times",
               atomic_load(&destroyed));
  cr_assert_eq(strong_in_destroy, 0, "destroyed with %zu strong references",
               strong_in_destroy);
  cr_assert_geq(held, before + BIG);
  cr_assert_lt(after, before + BIG, "not freed after the last weak: %zu -> %zu",
               before, after);
}

/* Rc tests. */

Test(rc, new_rejects_bad_arguments) {
  struct sm_rc *sentinel = (struct sm_rc *)&destroyed;
  struct sm_rc *r = sentinel;
  cr_assert_eq(sm_rc_new(0, NULL, &r), -EINVAL);
  cr_assert_eq(sm_rc_new(8, NULL, NULL), -EINVAL);
  cr_assert_eq(sm_rc_new_aligned(8, 0, NULL, &r), -EINVAL);
  cr_assert_eq(sm_rc_new_aligned(8, 24, NULL, &r), -EINVAL);
  cr_assert_eq(sm_rc_new(SIZE_MAX, NULL, &r), -ENOMEM);
  cr_assert_eq(r, sentinel, "*out changed on failure");
}

Test(rc, null_is_accepted) {
  cr_assert_null(sm_rc_clone(NULL));
  cr_assert_null(sm_rc_data(NULL));
  cr_assert_eq(sm_rc_strong_count(NULL), 0);
  sm_rc_release(NULL);
}

Test(rc, counts_and_destructor_once) {
  struct sm_rc *r;
  cr_assert_eq(sm_rc_new(sizeof(struct point), point_destroy, &r), 0);
  struct point *pt = sm_rc_data(r);
  cr_assert_eq(pt->x, 0);
  cr_assert_eq(pt->y, 0);
  pt->x = 11;
  pt->y = 12;
  cr_assert_eq(sm_rc_strong_count(r), 1);
  struct sm_rc *refs[10];
  for (int i = 0; i < 10; i++) {
    refs[i] = sm_rc_clone(r);
    cr_assert_eq(refs[i], r);
    cr_assert_eq(sm_rc_strong_count(r), (size_t)i + 2);
  }
  sm_rc_release(r);
  for (int i = 0; i < 9; i++) {
    sm_rc_release(refs[i]);
    cr_assert_eq(sm_rc_strong_count(refs[9]), (size_t)(9 - i));
    cr_assert_eq(atomic_load(&destroyed), 0);
  }
  sm_rc_release(refs[9]);
  cr_assert_eq(atomic_load(&destroyed), 1);
  cr_assert_eq(destroyed_payload, (void *)pt);
  cr_assert_eq(seen_x, 11);
  cr_assert_eq(seen_y, 12);
}

Test(rc, freed_at_last_release) {
  set_mmap_threshold();
  size_t before = heap_bytes();
  struct sm_rc *r;
  cr_assert_eq(sm_rc_new(BIG, NULL, &r), 0);
  struct sm_rc *s = sm_rc_clone(r);
  size_t held = heap_bytes();
  sm_rc_release(r);
  size_t after_r = heap_bytes();
  sm_rc_release(s);
  size_t after_s = heap_bytes();
  cr_assert_geq(held, before + BIG);
  cr_assert_geq(after_r, before + BIG, "freed with a reference left");
  cr_assert_lt(after_s, before + BIG, "not freed at last release");
}

Test(rc, payload_alignment) {
  struct sm_rc *r;
  cr_assert_eq(sm_rc_new(5, NULL, &r), 0);
  cr_assert_eq((uintptr_t)sm_rc_data(r) % alignof(max_align_t), 0);
  sm_rc_release(r);
  size_t aligns[] = {1, 16, 64, 256, 4096};
  for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
    cr_assert_eq(sm_rc_new_aligned(sizeof(struct line64), aligns[i], NULL, &r),
                 0);
    cr_assert_eq((uintptr_t)sm_rc_data(r) % aligns[i], 0, "align %zu",
                 aligns[i]);
    memset(sm_rc_data(r), 7, sizeof(struct line64));
    sm_rc_release(r);
  }
}

Test(rc, clone_wrapping_to_zero_aborts, .signal = SIGABRT, .timeout = 10) {
  struct sm_rc *r;
  cr_assert_eq(sm_rc_new(8, NULL, &r), 0);
  r->strong = SIZE_MAX;
  sm_rc_clone(r);
  cr_assert_fail("Rc clone wrapping to 0 returned");
}
