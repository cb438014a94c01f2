/* c2c.c: the plain reference of the c2c family's store variant: an
 * initiator on the first allowed PU and a responder on the second pass one
 * cache line M round trips (store the ball, spin on loads until it comes
 * back); total time / (2 M) is the one-way latency, median of rounds. */
#include "plain.h"
#include "syncmark/compiler.h"

/* Round trips of one round. */
enum { TRIPS = 500000 };

/* The line's two values, as the family's: the initiator throws BALL, the
 * responder returns HOME. */
enum { HOME = 0, BALL = 1 };

/* What the pair shares: the ping-pong line alone on its cache line. */
struct round {
  SM_CACHE_ALIGNED atomic_int line;
  SM_CACHE_ALIGNED unsigned returned; /* the responder's count */
  int pus[2];
};

/* Spins on acquire loads until the line holds `want`. */
static inline void wait_for(struct round *r, int want) {
  while (atomic_load_explicit(&r->line, memory_order_acquire) != want)
    ;
}

/* Thread 0 throws the ball and waits for it TRIPS times; thread 1 waits
 * for it and returns it TRIPS times, counting. Never fails (a partner that
 * never comes hangs the round). */
static int play(void *arg, unsigned index) {
  struct round *r = arg;
  for (unsigned i = 0; i < TRIPS; i++) {
    if (index == 0) {
      atomic_store_explicit(&r->line, BALL, memory_order_release);
      wait_for(r, HOME);
    } else {
      wait_for(r, BALL);
      atomic_store_explicit(&r->line, HOME, memory_order_release);
      r->returned++;
    }
  }
  return 0;
}

/* One round. Returns the one-way hops (2 per round trip), or 0 when a
 * thread could not run or the responder did not return every ball
 * (message on stderr). */
static double one_round(void *arg) {
  struct round *r = arg;
  atomic_store(&r->line, HOME);
  r->returned = 0;
  if (sm_plain_run_pinned(2, r->pus, play, r) != 0)
    return 0;
  if (r->returned != TRIPS || atomic_load(&r->line) != HOME) {
    fprintf(stderr, "plain: %u of %d balls returned\n", r->returned, TRIPS);
    return 0;
  }
  return 2.0 * TRIPS;
}

/* Sets r->pus to the allowed PUs, which must be exactly two: the case's
 * run arguments select every pair of them, and one pair is one row.
 * Returns 0, or -1 with a message on stderr. */
static int the_pair(struct round *r) {
  struct sm_topology *topo = sm_plain_topology();
  struct sm_pu_info pu[2];
  size_t n = topo ? sm_topology_allowed_pus(topo, pu, 2) : 0;
  sm_topology_free(topo);
  if (n != 2) {
    fprintf(stderr,
            "plain: c2c needs exactly 2 allowed PUs (have %zu): run under "
            "taskset -c A,B\n",
            n);
    return -1;
  }
  r->pus[0] = pu[0].os_index;
  r->pus[1] = pu[1].os_index;
  return 0;
}

int main(void) {
  static struct round r;
  double rate = the_pair(&r) == 0 ? sm_plain_median_rate(one_round, &r) : -1;
  return sm_plain_report("c2c/store --reps 5", "ns_per_op",
                         rate > 0 ? 1e9 / rate : -1);
}
