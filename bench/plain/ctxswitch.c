/* ctxswitch.c: the plain reference of the ctxswitch family: two threads
 * pinned to one PU (the same-pu pair) pass a token ROUNDS times through a
 * futex word, then through a pair of pipes; total time / round trips,
 * median of rounds. */
#include <stdatomic.h>
#include <unistd.h>

#include "plain.h"
#include "syncmark/futex.h"
#include "syncmark/thread.h"

/* Round trips per round. */
enum { ROUNDS = 20000 };

/* What a round's two threads share. */
struct pair {
  atomic_int ball; /* the futex token: 2i + 1 there, 2i + 2 back */
  int there[2];    /* pipe: initiator to responder */
  int back[2];     /* pipe: responder to initiator */
  int pu;          /* where both run */
  int use_pipe;    /* 1: the pipes, 0: the futex word */
};

/* The responder's side of every round trip. Returns NULL, or the pair
 * when a pipe call failed. */
static void *respond(void *arg) {
  struct pair *p = arg;
  for (int i = 0; i < ROUNDS; i++) {
    int want = 2 * i + 1, v;
    if (p->use_pipe) {
      if (read(p->there[0], &v, sizeof v) != sizeof v || v != want)
        return p;
      v++;
      if (write(p->back[1], &v, sizeof v) != sizeof v)
        return p;
      continue;
    }
    while ((v = atomic_load(&p->ball)) != want)
      (void)sm_futex_wait(&p->ball, v, NULL);
    atomic_store(&p->ball, want + 1);
    (void)sm_futex_wake(&p->ball, 1);
  }
  return NULL;
}

/* The initiator's side: sends 2i + 1 and waits for 2i + 2. Returns NULL,
 * or the pair when a pipe call failed or an answer was wrong. */
static void *initiate(void *arg) {
  struct pair *p = arg;
  for (int i = 0; i < ROUNDS; i++) {
    int out = 2 * i + 1, v;
    if (p->use_pipe) {
      if (write(p->there[1], &out, sizeof out) != sizeof out ||
          read(p->back[0], &v, sizeof v) != sizeof v || v != out + 1)
        return p;
      continue;
    }
    atomic_store(&p->ball, out);
    (void)sm_futex_wake(&p->ball, 1);
    while ((v = atomic_load(&p->ball)) == out)
      (void)sm_futex_wait(&p->ball, out, NULL);
    if (v != out + 1)
      return p;
  }
  return NULL;
}

/* One round: both threads on p->pu. Returns ROUNDS, or 0 when a thread
 * could not start or a round trip went wrong. */
static double round_trips(void *arg) {
  struct pair *p = arg;
  atomic_store(&p->ball, 0);
  struct sm_thread_opts o = SM_THREAD_OPTS_INIT;
  o.pin_pu = p->pu;
  struct sm_join_handle *h[2];
  if (sm_thread_spawn(&o, respond, p, &h[0]) != 0)
    return 0;
  if (sm_thread_spawn(&o, initiate, p, &h[1]) != 0) {
    fprintf(stderr, "plain: cannot start the initiator\n");
    exit(1); /* the responder waits for it forever */
  }
  void *bad[2];
  sm_join(h[1], &bad[1]);
  sm_join(h[0], &bad[0]);
  if (bad[0] || bad[1])
    fprintf(stderr, "plain: a round trip went wrong\n");
  return bad[0] || bad[1] ? 0 : ROUNDS;
}

/* Measures one mechanism and prints its block (ns per round trip). */
static int measure(struct pair *p, int use_pipe, const char *variant) {
  p->use_pipe = use_pipe;
  double rate = sm_plain_median_rate(round_trips, p);
  char args[96];
  snprintf(args, sizeof args, "ctxswitch/%s --reps 5", variant);
  return sm_plain_report_at(args, "same-pu", "rtt_ns",
                            rate > 0 ? 1e9 / rate : -1);
}

int main(void) {
  struct pair p = {.pu = sm_plain_same_pu()};
  if (p.pu < 0)
    return 1;
  if (pipe(p.there) != 0 || pipe(p.back) != 0) {
    perror("plain: pipe");
    return 1;
  }
  int rc = measure(&p, 0, "futex");
  return measure(&p, 1, "pipe") | rc;
}
