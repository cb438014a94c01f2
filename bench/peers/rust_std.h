/* rust_std.h: Rust std's primitives (bench/peers/rust_std.rs, linked into
 * syncmark when rustc is on the build machine) as the families' rust_*
 * variants call them from the runner's worker loops. */
#ifndef SYNCMARK_BENCH_RUST_STD_H
#define SYNCMARK_BENCH_RUST_STD_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "family.h"

/* A case of a rust_* variant where the library was not built: skipped by
 * sm_rust_std_applies before any function below is called. */
#if defined(SYNCMARK_HAVE_RUST_STD)
#define SM_RUST_STD_BUILT 1
#else
#define SM_RUST_STD_BUILT 0
#endif

/* Every rust_* variant's name starts with this. */
#define SM_RUST_VARIANT_PREFIX "rust_"

/* Whether variant v is one of Rust std's (its name starts rust_). */
static inline bool sm_is_rust_variant(const struct sm_variant *v) {
  return strncmp(v->name, SM_RUST_VARIANT_PREFIX,
                 sizeof SM_RUST_VARIANT_PREFIX - 1) == 0;
}

/* An applies check for a family with rust_* variants: returns
 * SM_MEASURE_SKIP with the reason in msg for such a variant when syncmark
 * was built without rustc, 0 otherwise. */
static inline int sm_rust_std_applies(const struct sm_case *c, char *msg,
                                      size_t size) {
  if (SM_RUST_STD_BUILT || !sm_is_rust_variant(c->variant))
    return 0;
  snprintf(msg, size,
           "syncmark was built without rustc: the Rust std variants are not "
           "built (install rustc and rebuild)");
  return SM_MEASURE_SKIP;
}

/* The contention family's read/write sequence (read_pct reads spread over
 * every 100 operations), owned by one worker, advanced by every pass. */
struct sm_rust_mix {
  uint32_t acc;
  uint32_t read_pct;
};

/* Which std guard a contention pass uses. */
enum sm_rust_guard {
  SM_RUST_MUTEX = 0,        /* std::sync::Mutex<u64> */
  SM_RUST_RWLOCK = 1,       /* std::sync::RwLock<u64> */
  SM_RUST_ATOMIC_SEQCST = 2 /* AtomicU64, Ordering::SeqCst */
};

/* One shared counter in each of std's guards. */
struct sm_rust_counter;

/* The channel family's std::sync::mpsc channel, a sender per producer. */
struct sm_rust_chan;

/* The refcount family's Arcs: one shared, one per thread. */
struct sm_rust_arcs;

/* Tasks run by Rust threads: syncmark's sm_task_fn. */
typedef int (*sm_rust_task_fn)(void *arg);

/* The lesson's ThreadPool, as the lesson writes it. */
struct sm_rust_lesson_pool;

/* std::thread::JoinHandle<()>. */
struct sm_rust_join_handle;

/* A hand-off between two sides: thread::park / unpark, and a Condvar per
 * side under one Mutex, on a flag that is the family's atomic_int. */
struct sm_rust_handoff;

#if SM_RUST_STD_BUILT

/* A new counter at 0; never NULL (Rust aborts when memory runs out). */
struct sm_rust_counter *sm_rust_counter_new(void);
/* Frees it (NULL: nothing). */
void sm_rust_counter_free(struct sm_rust_counter *c);
/* The counter's value under `guard`, after the window. */
uint64_t sm_rust_counter_value(const struct sm_rust_counter *c,
                               enum sm_rust_guard guard);
/* Runs `ops` operations on `guard` (a read takes the shared side and reads,
 * a write the exclusive side and increments; cs_iterations of sm_work_spin
 * steps under the lock) and returns the writes. Never fails. */
uint64_t sm_rust_counter_pass(const struct sm_rust_counter *c,
                              enum sm_rust_guard guard, struct sm_rust_mix *mix,
                              uint64_t ops, uint64_t cs_iterations);

/* Whether the Rust channel has a message type of `bytes` bytes (powers of
 * two from 8 to 4096). */
bool sm_rust_chan_supports(size_t bytes);
/* mpsc::channel (capacity < 0) or mpsc::sync_channel(capacity) of
 * messages of `bytes` bytes, one sender per producer; NULL when the size
 * is not supported. */
struct sm_rust_chan *sm_rust_chan_new(size_t bytes, int64_t capacity,
                                      size_t producers);
/* Frees it: the senders left and the receiver (NULL: nothing). */
void sm_rust_chan_free(struct sm_rust_chan *ch);
/* Producer `producer` sends a copy of the message at msg. Returns 0, or
 * -EPIPE when the receiver is gone. */
int sm_rust_chan_send(const struct sm_rust_chan *ch, size_t producer,
                      const unsigned char *msg);
/* The same without waiting (SyncSender::try_send; an unbounded channel is
 * never full). Returns 0, -EAGAIN when full, or -EPIPE. */
int sm_rust_chan_try_send(const struct sm_rust_chan *ch, size_t producer,
                          const unsigned char *msg);
/* The consumer receives into out: 1, or 0 when every sender was dropped
 * and the queue is drained. */
int sm_rust_chan_recv(const struct sm_rust_chan *ch, unsigned char *out);
/* Messages queued now (sent minus received, a snapshot). */
uint64_t sm_rust_chan_len(const struct sm_rust_chan *ch);
/* Producer `producer` drops its sender (the last disconnects). */
void sm_rust_chan_sender_done(const struct sm_rust_chan *ch, size_t producer);

/* Arc::new of one shared object and `threads` private ones; never NULL. */
struct sm_rust_arcs *sm_rust_arcs_new(size_t threads);
/* Frees them (NULL: nothing). */
void sm_rust_arcs_free(struct sm_rust_arcs *a);
/* Runs `ops` Arc::clone + drop pairs on the shared Arc (index < 0) or on
 * thread index's own. Never fails. */
void sm_rust_arcs_pass(const struct sm_rust_arcs *a, ptrdiff_t index,
                       uint64_t ops);
/* How many of the Arcs are not back to one strong reference. */
size_t sm_rust_arcs_not_released(const struct sm_rust_arcs *a);

/* std::thread::Builder::new().stack_size(stack).spawn(task): the handle,
 * or NULL when the OS refuses the thread. */
struct sm_rust_join_handle *sm_rust_spawn(sm_rust_task_fn run, void *arg,
                                          size_t stack);
/* JoinHandle::join, and frees the handle. Returns 0. */
int sm_rust_join(struct sm_rust_join_handle *h);

/* The lesson's ThreadPool::new(size), workers of `stack` bytes, worker i
 * pinned to pins[i] (pins NULL, or an entry below 0: unpinned). NULL when
 * the OS refuses a thread or a pin. */
struct sm_rust_lesson_pool *
sm_rust_lesson_pool_new(size_t size, const int *pins, size_t stack);
/* ThreadPool::execute of the task, boxed. Returns 0, -1 if closed. */
int sm_rust_lesson_pool_execute(struct sm_rust_lesson_pool *p,
                                sm_rust_task_fn run, void *arg);
/* Waits until every executed task finished. Never fails. */
void sm_rust_lesson_pool_wait(struct sm_rust_lesson_pool *p);
/* Drops the sender, joins the workers (queued tasks run first), frees the
 * pool (NULL: nothing). */
void sm_rust_lesson_pool_free(struct sm_rust_lesson_pool *p);

/* A new hand-off, no thread registered; never NULL. */
struct sm_rust_handoff *sm_rust_handoff_new(void);
/* Frees it (NULL: nothing). */
void sm_rust_handoff_free(struct sm_rust_handoff *h);
/* Stores v in *flag (release) and unparks side `to`'s thread. */
void sm_rust_park_send(const struct sm_rust_handoff *h, atomic_int *flag,
                       size_t to, int v);
/* Parks on side `side` until *flag (acquire) leaves prev; returns it. The
 * first call on a side registers the calling thread there. */
int sm_rust_park_recv(const struct sm_rust_handoff *h, atomic_int *flag,
                      size_t side, int prev);
/* Under the Mutex: stores v in *flag and notifies side `to`'s Condvar. */
void sm_rust_condvar_send(const struct sm_rust_handoff *h, atomic_int *flag,
                          size_t to, int v);
/* Under the Mutex: waits on side `side`'s Condvar until *flag leaves prev;
 * returns it. */
int sm_rust_condvar_recv(const struct sm_rust_handoff *h, atomic_int *flag,
                         size_t side, int prev);

#else

/* Without the library every call fails as the OS refusing would, so that
 * code reached despite sm_rust_std_applies fails its self-check loudly. */
static inline struct sm_rust_counter *sm_rust_counter_new(void) {
  return NULL;
}
static inline void sm_rust_counter_free(struct sm_rust_counter *c) {
  (void)c;
}
static inline uint64_t sm_rust_counter_value(const struct sm_rust_counter *c,
                                             enum sm_rust_guard guard) {
  (void)c, (void)guard;
  return UINT64_MAX;
}
static inline uint64_t sm_rust_counter_pass(const struct sm_rust_counter *c,
                                            enum sm_rust_guard guard,
                                            struct sm_rust_mix *mix,
                                            uint64_t ops,
                                            uint64_t cs_iterations) {
  (void)c, (void)guard, (void)mix, (void)ops, (void)cs_iterations;
  return 0;
}
static inline bool sm_rust_chan_supports(size_t bytes) {
  (void)bytes;
  return false;
}
static inline struct sm_rust_chan *
sm_rust_chan_new(size_t bytes, int64_t capacity, size_t producers) {
  (void)bytes, (void)capacity, (void)producers;
  return NULL;
}
static inline void sm_rust_chan_free(struct sm_rust_chan *ch) {
  (void)ch;
}
static inline int sm_rust_chan_send(const struct sm_rust_chan *ch,
                                    size_t producer, const unsigned char *msg) {
  (void)ch, (void)producer, (void)msg;
  return -EPIPE;
}
static inline int sm_rust_chan_try_send(const struct sm_rust_chan *ch,
                                        size_t producer,
                                        const unsigned char *msg) {
  return sm_rust_chan_send(ch, producer, msg);
}
static inline int sm_rust_chan_recv(const struct sm_rust_chan *ch,
                                    unsigned char *out) {
  (void)ch, (void)out;
  return -EPIPE;
}
static inline uint64_t sm_rust_chan_len(const struct sm_rust_chan *ch) {
  (void)ch;
  return 0;
}
static inline void sm_rust_chan_sender_done(const struct sm_rust_chan *ch,
                                            size_t producer) {
  (void)ch, (void)producer;
}
static inline struct sm_rust_arcs *sm_rust_arcs_new(size_t threads) {
  (void)threads;
  return NULL;
}
static inline void sm_rust_arcs_free(struct sm_rust_arcs *a) {
  (void)a;
}
static inline void sm_rust_arcs_pass(const struct sm_rust_arcs *a,
                                     ptrdiff_t index, uint64_t ops) {
  (void)a, (void)index, (void)ops;
}
static inline size_t sm_rust_arcs_not_released(const struct sm_rust_arcs *a) {
  (void)a;
  return SIZE_MAX;
}
static inline struct sm_rust_join_handle *
sm_rust_spawn(sm_rust_task_fn run, void *arg, size_t stack) {
  (void)run, (void)arg, (void)stack;
  return NULL;
}
static inline int sm_rust_join(struct sm_rust_join_handle *h) {
  (void)h;
  return -1;
}
static inline struct sm_rust_lesson_pool *
sm_rust_lesson_pool_new(size_t size, const int *pins, size_t stack) {
  (void)size, (void)pins, (void)stack;
  return NULL;
}
static inline int sm_rust_lesson_pool_execute(struct sm_rust_lesson_pool *p,
                                              sm_rust_task_fn run, void *arg) {
  (void)p, (void)run, (void)arg;
  return -1;
}
static inline void sm_rust_lesson_pool_wait(struct sm_rust_lesson_pool *p) {
  (void)p;
}
static inline void sm_rust_lesson_pool_free(struct sm_rust_lesson_pool *p) {
  (void)p;
}
static inline struct sm_rust_handoff *sm_rust_handoff_new(void) {
  return NULL;
}
static inline void sm_rust_handoff_free(struct sm_rust_handoff *h) {
  (void)h;
}
/* The hand-offs are never reached without the library (their setup fails
 * first); these return at once so that nothing waits forever. */
static inline void sm_rust_park_send(const struct sm_rust_handoff *h,
                                     atomic_int *flag, size_t to, int v) {
  (void)h, (void)flag, (void)to, (void)v;
}
static inline int sm_rust_park_recv(const struct sm_rust_handoff *h,
                                    atomic_int *flag, size_t side, int prev) {
  (void)h, (void)flag, (void)side;
  return prev;
}
static inline void sm_rust_condvar_send(const struct sm_rust_handoff *h,
                                        atomic_int *flag, size_t to, int v) {
  (void)h, (void)flag, (void)to, (void)v;
}
static inline int sm_rust_condvar_recv(const struct sm_rust_handoff *h,
                                       atomic_int *flag, size_t side,
                                       int prev) {
  (void)h, (void)flag, (void)side;
  return prev;
}

#endif

#endif
