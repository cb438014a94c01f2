/* wake.c: the plain reference of the wake family: a waker and a parked
 * sleeper pinned to one PU (the same-pu pair); WAKES times the waker waits
 * for the sleeper's acknowledgement, spins a random delay in [200, 400) us,
 * reads the clock and unparks it, and the sleeper reads the clock as soon
 * as it runs; the median latency of a round, median of rounds. */
#include <stdatomic.h>

#include "plain.h"
#include "syncmark/futex.h"
#include "syncmark/park.h"
#include "syncmark/thread.h"

/* Wake-ups per round, and the waker's least delay before each (ns). */
enum { WAKES = 300, DELAY_NS = 200000 };

/* What a round's two threads share. */
struct pair {
  atomic_int flag; /* the last signal */
  atomic_int ack;  /* the last signal handled */
  _Atomic uint64_t stamp;
  struct sm_parker parker;
  double latency[WAKES];
  int pu;
};

/* The sleeper: parks until each signal, notes its latency, acknowledges. */
static void *sleeper(void *arg) {
  struct pair *p = arg;
  for (int i = 1; i <= WAKES; i++) {
    while (atomic_load(&p->flag) != i)
      sm_parker_park(&p->parker);
    p->latency[i - 1] = (double)(sm_now_ns() - atomic_load(&p->stamp));
    atomic_store(&p->ack, i);
    (void)sm_futex_wake(&p->ack, 1);
  }
  return NULL;
}

/* The waker: for each signal, the acknowledgement of the last, a random
 * delay spun on the clock, the stamp, the unpark. */
static void *waker(void *arg) {
  struct pair *p = arg;
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int i = 1; i <= WAKES; i++) {
    int a;
    while ((a = atomic_load(&p->ack)) != i - 1)
      (void)sm_futex_wait(&p->ack, a, NULL);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t end = sm_now_ns() + DELAY_NS + x % DELAY_NS;
    while (sm_now_ns() < end)
      ;
    atomic_store(&p->stamp, sm_now_ns());
    atomic_store(&p->flag, i);
    sm_parker_unpark(&p->parker);
  }
  return NULL;
}

/* One round on p->pu: returns its median latency, or -1 when a thread
 * could not start. */
static double one_round(struct pair *p) {
  atomic_store(&p->flag, 0);
  atomic_store(&p->ack, 0);
  struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
  o.pin_pu = p->pu;
  struct sm_join_handle *h[2];
  if (sm_thread_spawn(&o, sleeper, p, &h[0]) != 0)
    return -1;
  if (sm_thread_spawn(&o, waker, p, &h[1]) != 0) {
    fprintf(stderr, "plain: cannot start the waker\n");
    exit(1); /* the sleeper waits for it forever */
  }
  sm_join(h[1], NULL);
  sm_join(h[0], NULL);
  sm_stats_sort(p->latency, WAKES);
  return sm_stats_percentile_sorted(p->latency, WAKES, 50);
}

int main(void) {
  static struct pair p;
  if ((p.pu = sm_plain_same_pu()) < 0)
    return 1;
  double p50[SM_PLAIN_ROUNDS];
  for (int r = 0; r < SM_PLAIN_ROUNDS; r++)
    if ((p50[r] = one_round(&p)) < 0)
      return sm_plain_report_at("wake/park", "same-pu", "p50_ns", -1);
  sm_stats_sort(p50, SM_PLAIN_ROUNDS);
  return sm_plain_report_at("wake/park --param delay_us=200 --reps 5",
                            "same-pu", "p50_ns", p50[SM_PLAIN_ROUNDS / 2]);
}
