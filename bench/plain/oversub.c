/* oversub.c: the plain reference of the oversub family: a fixed amount of
 * CPU-bound work (50 us chunks) split over N = 2 P unpinned threads, and
 * the same work over P threads (P: the allowed PUs); the ratio of the two
 * total times (spawn to last join), median of rounds. */
#include <pthread.h>
#include <sched.h>

#include "plain.h"
#include "syncmark/work.h"

/* Chunk length, and the chunks of the whole work per allowed PU. */
enum { CHUNK_NS = 50000, CHUNKS_PER_PU = 2000 };

/* Most threads a round starts. */
enum { MAX_THREADS = 1024 };

/* What each thread of a round runs: `chunks` chunks. */
struct share {
  uint64_t chunks, iters, sum;
};

/* Thread body: runs its chunks. */
static void *spin(void *arg) {
  struct share *s = arg;
  for (uint64_t i = 0; i < s->chunks; i++)
    s->sum += sm_work_spin(s->iters);
  return NULL;
}

/* Runs `total` chunks split over n threads; returns the wall time in ns,
 * 0 when a thread could not be created. */
static uint64_t run_split(unsigned n, uint64_t total, uint64_t iters) {
  static pthread_t t[MAX_THREADS];
  static struct share s[MAX_THREADS];
  uint64_t t0 = sm_now_ns();
  for (unsigned i = 0; i < n; i++) {
    s[i] = (struct share){.chunks = total / n, .iters = iters};
    if (pthread_create(&t[i], NULL, spin, &s[i]) != 0)
      return 0;
  }
  for (unsigned i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  return sm_now_ns() - t0;
}

int main(void) {
  cpu_set_t set;
  unsigned p = 1;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    p = (unsigned)CPU_COUNT(&set);
  unsigned n = 2 * p <= MAX_THREADS ? 2 * p : MAX_THREADS;
  uint64_t iters = sm_work_iterations_for_ns(CHUNK_NS);
  uint64_t total = (uint64_t)CHUNKS_PER_PU * n; /* a multiple of n and p */
  double ratios[SM_PLAIN_ROUNDS];
  for (int r = 0; r < SM_PLAIN_ROUNDS; r++) {
    uint64_t ref = run_split(p, total, iters),
             over = run_split(n, total, iters);
    if (ref == 0 || over == 0)
      return sm_plain_report("", "slowdown_vs_pus", -1);
    ratios[r] = (double)over / (double)ref;
  }
  sm_stats_sort(ratios, SM_PLAIN_ROUNDS);
  char args[96];
  snprintf(args, sizeof args, "oversub/spin --threads %u --placement none", n);
  return sm_plain_report(args, "slowdown_vs_pus", ratios[SM_PLAIN_ROUNDS / 2]);
}
