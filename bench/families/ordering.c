/* ordering.c: the `ordering` family: the cost of one atomic store, load,
 * fetch_add or compare-exchange per memory order (claim C11), each thread on
 * its own cache line (shared=0) or all threads on one line (shared=1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "kit.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_SHARED };

/* One atomic word alone on its cache line. */
struct slot {
  SM_CACHE_ALIGNED atomic_uint_least64_t value;
};

/* The value every slot holds before a window: loads must return it. */
#define SEED_VALUE UINT64_C(0x5eed5eed5eed)

/* A stored value is the storing thread's index + 1 in the top 16 bits and
 * its loop count in the low 48 (2^48 operations would take days). */
#define TAG_SHIFT  48
#define COUNT_MASK ((UINT64_C(1) << TAG_SHIFT) - 1)

/* Shared state of one window: one slot per thread (shared=0) and the one
 * slot every thread uses (shared=1). */
struct ordering_state {
  struct slot shared;
  struct slot *own; /* threads entries */
  unsigned threads;
  int use_shared;
};

/* Returns the word worker `w` operates on. */
static inline atomic_uint_least64_t *target(const struct sm_worker *w) {
  struct ordering_state *s = w->state;
  return s->use_shared ? &s->shared.value : &s->own[w->index].value;
}

/* Defines store_<name>_worker: one atomic store per pass of a value that
 * names the thread and the pass. */
#define STORE_WORKER(name, order)                                              \
  static void store_##name##_worker(struct sm_worker *w) {                     \
    atomic_uint_least64_t *p = target(w);                                      \
    const uint64_t tag = (uint64_t)(w->index + 1) << TAG_SHIFT;                \
    uint64_t count = 0;                                                        \
    SM_MEASURED_LOOP(w, count) {                                               \
      atomic_store_explicit(p, tag | count, order);                            \
    }                                                                          \
  }

/* Defines load_<name>_worker: one atomic load per pass; the values are
 * summed (one add, no branch) and published for the self-check. */
#define LOAD_WORKER(name, order)                                               \
  static void load_##name##_worker(struct sm_worker *w) {                      \
    atomic_uint_least64_t *p = target(w);                                      \
    uint64_t count = 0, sum = 0;                                               \
    SM_MEASURED_LOOP(w, count) {                                               \
      sum += atomic_load_explicit(p, order);                                   \
    }                                                                          \
    w->family_count = sum;                                                     \
  }

/* Defines fetch_add_<name>_worker: one fetch_add of 1 per pass. */
#define FETCH_ADD_WORKER(name, order)                                          \
  static void fetch_add_##name##_worker(struct sm_worker *w) {                 \
    atomic_uint_least64_t *p = target(w);                                      \
    uint64_t count = 0;                                                        \
    SM_MEASURED_LOOP(w, count) {                                               \
      atomic_fetch_add_explicit(p, 1, order);                                  \
    }                                                                          \
  }

/* Defines cas_<name>_worker: one compare-exchange attempt per pass, from
 * the value last seen to that value + 1; a failure reloads the value seen
 * (no branch: the success flag is added). Publishes its successes. */
#define CAS_WORKER(name, order, fail_order)                                    \
  static void cas_##name##_worker(struct sm_worker *w) {                       \
    atomic_uint_least64_t *p = target(w);                                      \
    uint64_t count = 0, successes = 0;                                         \
    uint_least64_t seen = atomic_load_explicit(p, memory_order_relaxed);       \
    SM_MEASURED_LOOP(w, count) {                                               \
      uint64_t ok = atomic_compare_exchange_strong_explicit(                   \
          p, &seen, seen + 1, order, fail_order);                              \
      seen += ok;                                                              \
      successes += ok;                                                         \
    }                                                                          \
    w->family_count = successes;                                               \
  }

STORE_WORKER(relaxed, memory_order_relaxed)
STORE_WORKER(release, memory_order_release)
STORE_WORKER(seq_cst, memory_order_seq_cst)
LOAD_WORKER(relaxed, memory_order_relaxed)
LOAD_WORKER(acquire, memory_order_acquire)
LOAD_WORKER(seq_cst, memory_order_seq_cst)
FETCH_ADD_WORKER(relaxed, memory_order_relaxed)
FETCH_ADD_WORKER(acq_rel, memory_order_acq_rel)
FETCH_ADD_WORKER(seq_cst, memory_order_seq_cst)
CAS_WORKER(relaxed, memory_order_relaxed, memory_order_relaxed)
CAS_WORKER(acq_rel, memory_order_acq_rel, memory_order_acquire)
CAS_WORKER(seq_cst, memory_order_seq_cst, memory_order_seq_cst)

/* The operation a variant performs; its name is the variant name's prefix. */
enum op_kind { OP_STORE, OP_LOAD, OP_FETCH_ADD, OP_CAS };

/* Returns the operation of the case's variant. */
static enum op_kind op_of(const struct sm_case *c) {
  const char *n = c->variant->name;
  if (strncmp(n, "store_", 6) == 0)
    return OP_STORE;
  if (strncmp(n, "load_", 5) == 0)
    return OP_LOAD;
  return strncmp(n, "cas_", 4) == 0 ? OP_CAS : OP_FETCH_ADD;
}

/* Creates the state of one window: every slot holds SEED_VALUE for load
 * variants and 0 otherwise. Returns 0 or -ENOMEM. */
static int ordering_setup(const struct sm_case *c, void **state) {
  struct ordering_state *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  struct slot *own = aligned_alloc(SM_CACHE_LINE, sizeof *own * c->threads);
  if (!s || !own) {
    free(s);
    free(own);
    return -ENOMEM;
  }
  uint64_t initial = op_of(c) == OP_LOAD ? SEED_VALUE : 0;
  atomic_init(&s->shared.value, initial);
  for (unsigned i = 0; i < c->threads; i++)
    atomic_init(&own[i].value, initial);
  s->own = own;
  s->threads = c->threads;
  s->use_shared = c->param[AXIS_SHARED] != 0;
  *state = s;
  return 0;
}

/* Checks the last value stored in one word: it must carry the tag of a
 * thread allowed to write there (`only` >= 0: that thread alone) and a
 * count that thread reached; a private word must hold the owner's very
 * last store. Returns 0 or -EPROTO with msg. */
static int check_stored(const char *what, uint64_t v, int only,
                        const struct sm_worker *workers, unsigned threads,
                        char *msg, size_t msg_size) {
  uint64_t tag = v >> TAG_SHIFT, n = v & COUNT_MASK;
  int tag_ok = only >= 0 ? tag == (uint64_t)only + 1
                         : tag >= 1 && tag <= (uint64_t)threads;
  uint64_t ops = tag_ok ? workers[tag - 1].ops_at_stop : 0;
  int count_ok = tag_ok && (only >= 0 ? n + 1 == ops : n < ops);
  if (!count_ok)
    return sm_kit_check_failed(
        msg, msg_size,
        "%s holds 0x%llx: tag %llu count %llu is not a store of its "
        "thread(s) (%u threads)",
        what, (unsigned long long)v, (unsigned long long)tag,
        (unsigned long long)n, threads);
  return 0;
}

/* Self-check of stores: every word used holds a store its thread made; the
 * word of a thread that did nothing holds 0. */
static int check_stores(const struct ordering_state *s,
                        const struct sm_worker *workers, char *msg,
                        size_t msg_size) {
  if (s->use_shared)
    return check_stored(
        "the shared word",
        atomic_load_explicit(&s->shared.value, memory_order_relaxed), -1,
        workers, s->threads, msg, msg_size);
  for (unsigned i = 0; i < s->threads; i++) {
    char what[32];
    uint64_t v = atomic_load_explicit(&s->own[i].value, memory_order_relaxed);
    if (v == 0 && workers[i].ops_at_stop == 0)
      continue; /* an idle thread's untouched word */
    snprintf(what, sizeof what, "word of thread %u", i);
    int rc = check_stored(what, v, (int)i, workers, s->threads, msg, msg_size);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Self-check of loads: every load returned the seed (the sum of a thread's
 * loads is seed x its passes, modulo 2^64). */
static int check_loads(const struct ordering_state *s,
                       const struct sm_worker *workers, char *msg,
                       size_t msg_size) {
  for (unsigned i = 0; i < s->threads; i++) {
    uint64_t expect = SEED_VALUE * workers[i].ops_at_stop;
    if (workers[i].family_count != expect)
      return sm_kit_check_failed(
          msg, msg_size, "thread %u: %llu loads summed to %llu, expected %llu",
          i, (unsigned long long)workers[i].ops_at_stop,
          (unsigned long long)workers[i].family_count,
          (unsigned long long)expect);
  }
  return 0;
}

/* Returns the increments thread i made: every pass of fetch_add, the
 * successful attempts of CAS. */
static uint64_t increments(enum op_kind op, const struct sm_worker *w) {
  return op == OP_CAS ? w->family_count : w->ops_at_stop;
}

/* Self-check of fetch_add and CAS: each word equals the increments the
 * threads using it counted, and no thread succeeded more than it tried. */
static int check_increments(enum op_kind op, const struct ordering_state *s,
                            const struct sm_worker *workers, char *msg,
                            size_t msg_size) {
  uint64_t total = 0;
  for (unsigned i = 0; i < s->threads; i++) {
    uint64_t mine = increments(op, &workers[i]);
    uint64_t word =
        atomic_load_explicit(&s->own[i].value, memory_order_relaxed);
    if (mine > workers[i].ops_at_stop || (!s->use_shared && word != mine))
      return sm_kit_check_failed(
          msg, msg_size, "thread %u: word %llu, %llu increments in %llu passes",
          i, (unsigned long long)word, (unsigned long long)mine,
          (unsigned long long)workers[i].ops_at_stop);
    total += mine;
  }
  uint64_t shared =
      atomic_load_explicit(&s->shared.value, memory_order_relaxed);
  if (s->use_shared && shared != total)
    return sm_kit_check_failed(
        msg, msg_size,
        "shared word is %llu but the threads counted %llu increments",
        (unsigned long long)shared, (unsigned long long)total);
  return 0;
}

/* Self-check: the threads did some operations, and the words hold what
 * the operations counted (see the check_* helpers). One thread may have
 * done none: oversubscribed on a loaded machine, a thread can miss a short
 * window entirely; its word must then be untouched. Returns 0 or -EPROTO
 * with msg. */
static int ordering_check(const struct sm_case *c, void *state,
                          const struct sm_worker *workers, char *msg,
                          size_t msg_size) {
  const struct ordering_state *s = state;
  uint64_t ops = 0;
  for (unsigned i = 0; i < c->threads; i++)
    ops += workers[i].ops_at_stop;
  if (ops == 0)
    return sm_kit_check_failed(
        msg, msg_size, "none of the %u threads did an operation", c->threads);
  switch (op_of(c)) {
  case OP_STORE:
    return check_stores(s, workers, msg, msg_size);
  case OP_LOAD:
    return check_loads(s, workers, msg, msg_size);
  default:
    return check_increments(op_of(c), s, workers, msg, msg_size);
  }
}

/* Frees the state of one window. */
static void ordering_teardown(void *state) {
  struct ordering_state *s = state;
  free(s->own);
  free(s);
}

static const struct sm_variant variants[] = {
    SM_VARIANT("store_relaxed", "atomic store, relaxed", store_relaxed_worker),
    SM_VARIANT("store_release", "atomic store, release", store_release_worker),
    SM_VARIANT("store_seq_cst", "atomic store, seq_cst", store_seq_cst_worker),
    SM_VARIANT("load_relaxed", "atomic load, relaxed", load_relaxed_worker),
    SM_VARIANT("load_acquire", "atomic load, acquire", load_acquire_worker),
    SM_VARIANT("load_seq_cst", "atomic load, seq_cst", load_seq_cst_worker),
    SM_VARIANT("fetch_add_relaxed", "atomic fetch_add, relaxed",
               fetch_add_relaxed_worker),
    SM_VARIANT("fetch_add_acq_rel", "atomic fetch_add, acq_rel",
               fetch_add_acq_rel_worker),
    SM_VARIANT("fetch_add_seq_cst", "atomic fetch_add, seq_cst",
               fetch_add_seq_cst_worker),
    SM_VARIANT("cas_relaxed", "one compare-exchange attempt (+1), relaxed",
               cas_relaxed_worker),
    SM_VARIANT("cas_acq_rel", "one compare-exchange attempt (+1), acq_rel",
               cas_acq_rel_worker),
    SM_VARIANT("cas_seq_cst", "one compare-exchange attempt (+1), seq_cst",
               cas_seq_cst_worker),
};

static const long shared_values[] = {0, 1};

static const struct sm_axis axes[] = {
    [AXIS_SHARED] = SM_AXIS("shared", shared_values, shared_values, 0, 1),
};

SM_FAMILY_DEFINE(ordering, ordering,
                 "atomic store/load/fetch_add/CAS per memory order, private "
                 "or shared cache line",
                 SM_FAMILY_AXES(axes), .headline_metric = "ns_per_op");
