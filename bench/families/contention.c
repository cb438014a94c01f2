/* contention.c: the `contention` family: one shared counter updated and
 * read under each locking strategy (syncmark's and Rust std's), over
 * threads, read share and critical-section length. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/lockops.h"
#include "syncmark/work.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_READ_PCT, AXIS_CS_NS };

/* One thread's shard of the sharded counter, alone on its cache line. */
struct shard {
  SM_CACHE_ALIGNED atomic_uint_least64_t value;
};

/* Shared state of one window. Each lock sits with the value it protects, as
 * Rust's Mutex<u64> would lay them out; the atomic counter has its own line. */
struct contention_state {
  SM_CACHE_ALIGNED struct {
    union {
#define LOCK_MEMBER(kind) struct sm_lockops_##kind kind;
      SM_LOCKOPS_KINDS(LOCK_MEMBER)
#undef LOCK_MEMBER
    } lock;
    uint64_t value; /* protected by `lock` */
  } guarded;
  SM_CACHE_ALIGNED atomic_uint_least64_t atomic_value;
  struct shard *shards;         /* one per thread */
  struct sm_rust_counter *rust; /* the rust_* variants' counter */
  uint64_t cs_iterations;       /* sm_work_spin steps of the critical section */
  unsigned read_pct;            /* share of operations that read, 0..100 */
};

/* Per-thread choice between read and write: an error-diffusion sequence
 * that spreads read_pct reads evenly over every 100 operations (R,W,R,W for
 * 50 %). A periodic sequence is learned by the branch predictor, so the
 * choice costs the same small amount for every read share instead of a
 * misprediction per random draw. Threads start at different offsets. */
struct op_mix {
  unsigned acc;
  unsigned read_pct;
};

/* Starts the sequence of worker `w` at an offset of its own. */
static inline struct op_mix op_mix_init(const struct sm_worker *w) {
  const struct contention_state *s = w->state;
  return (struct op_mix){.acc = (w->index * 37u) % 100u,
                         .read_pct = s->read_pct};
}

/* Returns true when the next operation is a read: exactly read_pct of every
 * 100 consecutive operations are (all for 100, none for 0). */
static inline int op_is_read(struct op_mix *m) {
  m->acc += m->read_pct;
  if (m->acc >= 100) {
    m->acc -= 100;
    return 1;
  }
  return 0;
}

/* Defines kind##_worker: reads take the shared side of the lock, writes the
 * exclusive side and increment the value; the critical-section work runs
 * while the lock is held. Publishes its write count for the self-check. */
#define LOCK_WORKER(kind)                                                      \
  static void kind##_worker(struct sm_worker *w) {                             \
    struct contention_state *s = w->state;                                     \
    struct op_mix mix = op_mix_init(w);                                        \
    uint64_t count = 0, writes = 0;                                            \
    SM_MEASURED_LOOP(w, count) {                                               \
      if (op_is_read(&mix)) {                                                  \
        sm_lockops_##kind##_rdlock(&s->guarded.lock.kind);                     \
        SM_KEEP(s->guarded.value);                                             \
        SM_KEEP(sm_work_spin(s->cs_iterations));                               \
        sm_lockops_##kind##_rdunlock(&s->guarded.lock.kind);                   \
      } else {                                                                 \
        sm_lockops_##kind##_lock(&s->guarded.lock.kind);                       \
        s->guarded.value++;                                                    \
        SM_KEEP(sm_work_spin(s->cs_iterations));                               \
        sm_lockops_##kind##_unlock(&s->guarded.lock.kind);                     \
        writes++;                                                              \
      }                                                                        \
    }                                                                          \
    w->family_count = writes;                                                  \
  }
SM_LOCKOPS_KINDS(LOCK_WORKER)
#undef LOCK_WORKER

/* Defines atomic_<name>_worker: a read is an atomic load, a write a
 * fetch_add, both with memory order `order`; the same work runs just before
 * (there is no critical section to put it in). */
#define ATOMIC_WORKER(name, order)                                             \
  static void atomic_##name##_worker(struct sm_worker *w) {                    \
    struct contention_state *s = w->state;                                     \
    struct op_mix mix = op_mix_init(w);                                        \
    uint64_t count = 0, writes = 0;                                            \
    SM_MEASURED_LOOP(w, count) {                                               \
      SM_KEEP(sm_work_spin(s->cs_iterations));                                 \
      if (op_is_read(&mix)) {                                                  \
        SM_KEEP(atomic_load_explicit(&s->atomic_value, order));                \
      } else {                                                                 \
        atomic_fetch_add_explicit(&s->atomic_value, 1, order);                 \
        writes++;                                                              \
      }                                                                        \
    }                                                                          \
    w->family_count = writes;                                                  \
  }
ATOMIC_WORKER(seqcst, memory_order_seq_cst)
ATOMIC_WORKER(relaxed, memory_order_relaxed)
#undef ATOMIC_WORKER

/* Operations of one pass of a rust_* worker: one call into Rust runs them,
 * so the call and the runner's gate check are spread over many. */
enum { RUST_PASS_OPS = 64 };

/* Defines rust_<name>_worker: the same reads and writes on Rust std's
 * guard `guard` (bench/peers/rust_std.rs), the sequence of reads and
 * writes continued from pass to pass. */
#define RUST_WORKER(name, guard)                                               \
  static void rust_##name##_worker(struct sm_worker *w) {                      \
    struct contention_state *s = w->state;                                     \
    struct op_mix mix = op_mix_init(w);                                        \
    struct sm_rust_mix rust_mix = {.acc = mix.acc, .read_pct = mix.read_pct};  \
    uint64_t passes = 0, writes = 0;                                           \
    w->ops_per_pass = RUST_PASS_OPS;                                           \
    SM_MEASURED_LOOP(w, passes) {                                              \
      writes += sm_rust_counter_pass(s->rust, guard, &rust_mix, RUST_PASS_OPS, \
                                     s->cs_iterations);                        \
    }                                                                          \
    w->family_count = writes;                                                  \
  }
RUST_WORKER(mutex, SM_RUST_MUTEX)
RUST_WORKER(rwlock, SM_RUST_RWLOCK)
RUST_WORKER(atomic_seqcst, SM_RUST_ATOMIC_SEQCST)
#undef RUST_WORKER

/* The no-sharing limit: each thread updates and reads only its own shard;
 * the total is the sum of shards after the window. */
static void sharded_worker(struct sm_worker *w) {
  struct contention_state *s = w->state;
  atomic_uint_least64_t *mine = &s->shards[w->index].value;
  struct op_mix mix = op_mix_init(w);
  uint64_t count = 0, writes = 0;
  SM_MEASURED_LOOP(w, count) {
    SM_KEEP(sm_work_spin(s->cs_iterations));
    uint64_t v = atomic_load_explicit(mine, memory_order_relaxed);
    if (op_is_read(&mix)) {
      SM_KEEP(v);
    } else {
      atomic_store_explicit(mine, v + 1, memory_order_relaxed);
      writes++;
    }
  }
  w->family_count = writes;
}

/* Destroys every lock of the state (all are initialized, one is used). */
static void destroy_locks(struct contention_state *s) {
#define LOCK_DESTROY(kind) sm_lockops_##kind##_destroy(&s->guarded.lock.kind);
  SM_LOCKOPS_KINDS(LOCK_DESTROY)
#undef LOCK_DESTROY
}

/* Creates the state of one window: all locks initialized, counters at 0. */
static int contention_setup(const struct sm_case *c, void **state) {
  struct contention_state *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  struct shard *shards =
      aligned_alloc(SM_CACHE_LINE, sizeof *shards * (size_t)c->threads);
  if (!s || !shards) {
    free(s);
    free(shards);
    return -ENOMEM;
  }
  memset(s, 0, sizeof *s);
  for (unsigned i = 0; i < c->threads; i++)
    atomic_init(&shards[i].value, 0);
#define LOCK_INIT(kind) sm_lockops_##kind##_init(&s->guarded.lock.kind);
  SM_LOCKOPS_KINDS(LOCK_INIT)
#undef LOCK_INIT
  atomic_init(&s->atomic_value, 0);
  s->shards = shards;
  if (SM_RUST_STD_BUILT)
    s->rust = sm_rust_counter_new();
  s->cs_iterations = sm_work_iterations_for_ns((uint64_t)c->param[AXIS_CS_NS]);
  s->read_pct = (unsigned)c->param[AXIS_READ_PCT];
  *state = s;
  return 0;
}

/* Returns the final value of the shared counter the case's variant used. */
static uint64_t final_value(const struct sm_case *c,
                            const struct contention_state *s) {
  const char *v = c->variant->name;
  if (strcmp(v, "rust_mutex") == 0)
    return sm_rust_counter_value(s->rust, SM_RUST_MUTEX);
  if (strcmp(v, "rust_rwlock") == 0)
    return sm_rust_counter_value(s->rust, SM_RUST_RWLOCK);
  if (strcmp(v, "rust_atomic_seqcst") == 0)
    return sm_rust_counter_value(s->rust, SM_RUST_ATOMIC_SEQCST);
  if (strncmp(c->variant->name, "atomic_", 7) == 0)
    return atomic_load_explicit(&s->atomic_value, memory_order_relaxed);
  if (strcmp(c->variant->name, "sharded") == 0) {
    uint64_t sum = 0;
    for (unsigned i = 0; i < c->threads; i++)
      sum += atomic_load_explicit(&s->shards[i].value, memory_order_relaxed);
    return sum;
  }
  return s->guarded.value;
}

/* Self-check: the counter equals the writes every thread counted, and no
 * thread counted more writes than operations. */
static int contention_check(const struct sm_case *c, void *state,
                            const struct sm_worker *workers, char *msg,
                            size_t msg_size) {
  const struct contention_state *s = state;
  uint64_t writes = 0;
  for (unsigned i = 0; i < c->threads; i++) {
    uint64_t ops = workers[i].ops_at_stop * workers[i].ops_per_pass;
    if (workers[i].family_count > ops)
      return sm_kit_check_failed(
          msg, msg_size, "thread %u counted %llu writes in %llu ops", i,
          (unsigned long long)workers[i].family_count, (unsigned long long)ops);
    writes += workers[i].family_count;
  }
  uint64_t value = final_value(c, s);
  if (value != writes)
    return sm_kit_check_failed(
        msg, msg_size, "counter is %llu but the threads counted %llu writes",
        (unsigned long long)value, (unsigned long long)writes);
  return 0;
}

/* Frees the state of one window. */
static void contention_teardown(void *state) {
  struct contention_state *s = state;
  destroy_locks(s);
  sm_rust_counter_free(s->rust);
  free(s->shards);
  free(s);
}

static const struct sm_variant variants[] = {
    SM_VARIANT("mutex", "pthread mutex around read and write", mutex_worker),
    SM_VARIANT("rwlock",
               "pthread rwlock: read lock to read, write lock to write",
               rwlock_worker),
    SM_VARIANT("spin_ttas", "test-and-test-and-set spinlock with pause",
               spin_ttas_worker),
    SM_VARIANT("ticket", "FIFO ticket spinlock", ticket_worker),
    SM_VARIANT("mcs", "MCS queue lock", mcs_worker),
    SM_VARIANT("futex_mutex", "futex mutex, Rust std's algorithm",
               futex_mutex_worker),
    SM_VARIANT("futex_rwlock",
               "futex rwlock, Rust std's algorithm (writer preference)",
               futex_rwlock_worker),
    SM_VARIANT("atomic_seqcst", "atomic load / fetch_add, seq_cst",
               atomic_seqcst_worker),
    SM_VARIANT("atomic_relaxed", "atomic load / fetch_add, relaxed",
               atomic_relaxed_worker),
    SM_VARIANT("sharded",
               "per-thread counter, merged after the run (no sharing)",
               sharded_worker),
    SM_VARIANT("rust_mutex", "Rust std::sync::Mutex<u64>", rust_mutex_worker),
    SM_VARIANT("rust_rwlock",
               "Rust std::sync::RwLock<u64>: read() to read, write() to write",
               rust_rwlock_worker),
    SM_VARIANT("rust_atomic_seqcst", "Rust AtomicU64 load / fetch_add, SeqCst",
               rust_atomic_seqcst_worker),
};

static const long read_pcts[] = {0, 50, 90, 99, 100};
static const long cs_lengths[] = {0, 100, 1000};
static const long cs_quick[] = {0};

static const struct sm_axis axes[] = {
    [AXIS_READ_PCT] = SM_AXIS("read_pct", read_pcts, read_pcts, 0, 100),
    [AXIS_CS_NS] = SM_AXIS("cs_ns", cs_lengths, cs_quick, 0, 10000000),
};

SM_FAMILY_DEFINE(contention, contention,
                 "one shared counter under locks, rwlocks and atomics",
                 SM_FAMILY_AXES(axes), .applies = sm_rust_std_applies);
