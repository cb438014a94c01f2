/* c2c.c: the `c2c` family: one cache line passed back and forth between
 * every pair of allowed PUs (compare-and-swap or load/store ping-pong): the
 * one-way latency of the machine's core-to-core map, per pair class. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "family.h"
#include "kit.h"

/* The line's two values: the initiator hands the ball (BALL), the
 * responder hands it back (HOME). */
enum { HOME = 0, BALL = 1 };

/* Spins between two looks at the partner's `gone` flag. */
enum { SPINS_PER_LOOK = 256 };

/* The ping-pong line, alone on its cache line, and the flags by which each
 * side says it has left (so the other never waits for it), on another. */
struct c2c_state {
  SM_CACHE_ALIGNED atomic_int line;
  SM_CACHE_ALIGNED atomic_int gone[2]; /* initiator, responder */
};

/* Waits until the line holds `want` (loads only) or the partner `other`
 * has left. Returns 1 when the line came, 0 when the partner left. */
static inline int wait_for(struct c2c_state *s, int want, int other) {
  for (unsigned i = 1;
       atomic_load_explicit(&s->line, memory_order_acquire) != want; i++)
    if (i % SPINS_PER_LOOK == 0 &&
        atomic_load_explicit(&s->gone[other], memory_order_acquire))
      return 0;
  return 1;
}

/* Moves the line from `from` to `to` by compare-and-swap, retrying until it
 * holds `from`, or until the partner `other` has left. Returns 1 when it
 * swapped, 0 when the partner left. */
static inline int swap_from(struct c2c_state *s, int from, int to, int other) {
  for (unsigned i = 1;; i++) {
    int expected = from;
    if (atomic_compare_exchange_weak_explicit(&s->line, &expected, to,
                                              memory_order_acq_rel,
                                              memory_order_acquire))
      return 1;
    if (i % SPINS_PER_LOOK == 0 &&
        atomic_load_explicit(&s->gone[other], memory_order_acquire))
      return 0;
  }
}

/* Says that side `me` has left the ping-pong. */
static void leave(struct c2c_state *s, int me) {
  atomic_store_explicit(&s->gone[me], 1, memory_order_release);
}

/* One side of the ping-pong, `me` 0 (the initiator: its passes are the
 * case's operations, a round trip each, two one-way hops, so the runner's
 * ns_per_op is the one-way latency) or 1 (the responder). With cas, a pass
 * swaps the partner's value for its own, spinning on the compare-and-swap
 * (each attempt a read-for-ownership); without, the initiator stores the
 * ball and spins on loads until it is home, the responder spins on loads
 * until the ball comes and stores it home. Publishes the hand-offs done.
 * Inlined with constant arguments into each worker. */
static inline void play(struct sm_worker *w, int me, int cas) {
  struct c2c_state *s = w->state;
  int mine = me == 0 ? BALL : HOME, theirs = me == 0 ? HOME : BALL;
  uint64_t count = 0, done = 0;
  if (me == 0)
    w->ops_per_pass = 2;
  SM_MEASURED_LOOP(w, count) {
    if (cas) {
      done += (uint64_t)swap_from(s, theirs, mine, 1 - me);
    } else if (me == 0) {
      atomic_store_explicit(&s->line, mine, memory_order_release);
      done += (uint64_t)wait_for(s, theirs, 1);
    } else if (wait_for(s, theirs, 0)) {
      atomic_store_explicit(&s->line, mine, memory_order_release);
      done++;
    }
  }
  leave(s, me);
  w->family_count = done;
}

static void store_initiator(struct sm_worker *w) {
  play(w, 0, 0);
}

static void store_responder(struct sm_worker *w) {
  play(w, 1, 0);
}

static void cas_initiator(struct sm_worker *w) {
  play(w, 0, 1);
}

static void cas_responder(struct sm_worker *w) {
  play(w, 1, 1);
}

static int c2c_setup(const struct sm_case *c SM_UNUSED, void **state) {
  struct c2c_state *s = aligned_alloc(SM_CACHE_LINE, sizeof *s);
  if (!s)
    return -ENOMEM;
  atomic_init(&s->line, HOME);
  atomic_init(&s->gone[0], 0);
  atomic_init(&s->gone[1], 0);
  *state = s;
  return 0;
}

/* Self-check: the ball really travelled: the balls the initiator threw
 * (store: saw come back) and those the responder returned differ by at
 * most the one in flight when the window ended, and some did. */
static int c2c_check(const struct sm_case *c SM_UNUSED, void *state SM_UNUSED,
                     const struct sm_worker *workers, char *msg,
                     size_t msg_size) {
  uint64_t a = workers[0].family_count, b = workers[1].family_count;
  if (a == 0 || b == 0 || a > b + 1 || b > a + 1)
    return sm_kit_check_failed(
        msg, msg_size,
        "the initiator counted %llu balls, the responder returned %llu",
        (unsigned long long)a, (unsigned long long)b);
  return 0;
}

static void c2c_teardown(void *state) {
  free(state);
}

static const struct sm_role store_roles[] = {
    SM_ROLE_COUNTING("initiator", store_initiator, 1),
    SM_ROLE_SERVING("responder", store_responder, 1),
};
static const struct sm_role cas_roles[] = {
    SM_ROLE_COUNTING("initiator", cas_initiator, 1),
    SM_ROLE_SERVING("responder", cas_responder, 1),
};

static const struct sm_variant variants[] = {
    SM_KIT_ROLES_VARIANT("store",
                         "load/store ping-pong: store the ball, spin on loads "
                         "until it comes back",
                         store_roles),
    SM_KIT_ROLES_VARIANT(
        "cas",
        "compare-and-swap ping-pong: each side swaps the line to its value",
        cas_roles),
};

SM_FAMILY_DEFINE(c2c, c2c,
                 "core-to-core map: a cache line passed between every pair of "
                 "PUs, one-way ns",
                 .shape = SM_SHAPE_PU_PAIRS, .headline_metric = "ns_per_op");
