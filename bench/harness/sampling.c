/* sampling.c: latency reservoirs, the measured cost of one sample, the
 * sampling interval, and interned metric names. */
#include "sampling.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/compiler.h"

void sm_reservoir_init(struct sm_reservoir *r, uint64_t seed) {
  r->n = 0;
  r->seen = 0;
  r->random = seed * 0x9E3779B97F4A7C15ull | 1u;
}

/* Advances the reservoir's xorshift64 stream and returns the next value. */
static uint64_t next_random(struct sm_reservoir *r) {
  uint64_t x = r->random;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return r->random = x;
}

void sm_reservoir_offer(struct sm_reservoir *r, double value) {
  r->seen++;
  if (r->n < SM_RESERVOIR_CAP) {
    r->values[r->n++] = value;
    return;
  }
  uint64_t j = next_random(r) % r->seen;
  if (j < SM_RESERVOIR_CAP)
    r->values[j] = value;
}

/* Passes of each calibration loop, and how many times each is repeated
 * (the fastest repetition of each is kept: the floor, without preemption). */
enum { CALIBRATION_PASSES = 4096, CALIBRATION_ROUNDS = 7 };

static double sample_cost;
static pthread_once_t sample_cost_once = PTHREAD_ONCE_INIT;

/* Times CALIBRATION_PASSES passes of a loop whose body is kept opaque,
 * with a sample around each pass when `sampled`. Returns ns. */
static uint64_t calibration_loop(struct sm_reservoir *r, int sampled) {
  uint64_t t0 = sm_now_ns();
  for (uint64_t i = 0; i < CALIBRATION_PASSES; i++) {
    if (sampled) {
      uint64_t s = sm_now_ns();
      SM_KEEP(i);
      sm_reservoir_offer(r, (double)(sm_now_ns() - s));
    } else {
      SM_KEEP(i);
    }
  }
  return sm_now_ns() - t0;
}

/* Measures sample_cost (see sm_sample_cost_ns). */
static void calibrate(void) {
  struct sm_reservoir *r = malloc(sizeof *r);
  if (!r) {
    sample_cost = 1000.0; /* unmeasured: assume dear, sample rarely */
    return;
  }
  sm_reservoir_init(r, 1);
  uint64_t with = UINT64_MAX, without = UINT64_MAX;
  for (int i = 0; i < CALIBRATION_ROUNDS; i++) {
    uint64_t a = calibration_loop(r, 0), b = calibration_loop(r, 1);
    without = a < without ? a : without;
    with = b < with ? b : with;
  }
  free(r);
  double cost = ((double)with - (double)without) / CALIBRATION_PASSES;
  sample_cost = cost < 1.0 ? 1.0 : cost;
}

double sm_sample_cost_ns(void) {
  pthread_once(&sample_cost_once, calibrate);
  return sample_cost;
}

uint64_t sm_sample_mask_for(double pass_ns) {
  if (!(pass_ns > 0))
    return SM_SAMPLE_DEFAULT_EVERY - 1;
  double every = sm_sample_cost_ns() / (SM_SAMPLE_TARGET * pass_ns);
  uint64_t k = 1;
  while ((double)k < every && k < (1ull << 40))
    k <<= 1;
  return k - 1;
}

/* Interned strings: a growing array, guarded by one mutex (called only
 * outside measured loops). */
static pthread_mutex_t intern_mutex = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static size_t ninterned, interned_cap;

const char *sm_intern(const char *s) {
  const char *found = NULL;
  pthread_mutex_lock(&intern_mutex);
  for (size_t i = 0; i < ninterned && !found; i++)
    if (strcmp(interned[i], s) == 0)
      found = interned[i];
  if (!found && ninterned == interned_cap) {
    size_t cap = interned_cap ? interned_cap * 2 : 32;
    char **grown = realloc(interned, cap * sizeof *grown);
    if (grown) {
      interned = grown;
      interned_cap = cap;
    }
  }
  if (!found && ninterned < interned_cap) {
    char *copy = strdup(s);
    if (copy)
      found = interned[ninterned++] = copy;
  }
  pthread_mutex_unlock(&intern_mutex);
  return found;
}

uint64_t sm_sample_start(const struct sm_worker *w) {
  (void)w;
  return sm_now_ns();
}

void sm_sample_stop(struct sm_worker *w, uint64_t start) {
  uint64_t end = sm_now_ns();
  sm_worker_sample(w, (double)(end - start));
}

void sm_worker_sample_kind(struct sm_worker *w, unsigned kind,
                           double value_ns) {
  if (kind >= SM_SAMPLE_KINDS || !w->in_measure || !w->reservoir[kind] ||
      !(value_ns >= 0))
    return;
  w->samples_taken++;
  sm_reservoir_offer(w->reservoir[kind], value_ns);
}

void sm_worker_sample(struct sm_worker *w, double value_ns) {
  sm_worker_sample_kind(w, 0, value_ns);
}

uint64_t sm_sample_clock(void) {
  return sm_now_ns();
}

uint64_t sm_manual_start(const struct sm_worker *w) {
  (void)w;
  return sm_now_ns();
}

void sm_manual_stop(struct sm_worker *w, uint64_t start, uint64_t ops) {
  uint64_t end = sm_now_ns();
  if (!w->in_measure)
    return;
  w->manual_ns += end - start;
  w->manual_ops += ops;
}
