/* noise.h: the warnings a run gives when its numbers may not be trusted:
 * a loaded or virtual machine, unfixed CPU frequency, noisy cases. */
#ifndef SYNCMARK_BENCH_NOISE_H
#define SYNCMARK_BENCH_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#include "family.h"
#include "results.h"
#include "syncmark/machine.h"

/* A case's coefficient of variation above this is noisy (5%). */
#define SM_NOISE_MAX_CV 0.05
/* A 1-minute load average above this at the start skews a run. */
#define SM_NOISE_MAX_LOAD 0.5

/* The warnings of a run, each one sentence. */
struct sm_noise {
  char lines[8][256];
  size_t nlines;
  size_t noisy_cases; /* cases whose headline metric's CV > SM_NOISE_MAX_CV */
};

/* Collects the warnings about the machine, from the fields described at the
 * start of the run (load_1m, hypervisor, governor), and about the cases: how
 * many have a headline metric with a CV above SM_NOISE_MAX_CV, naming the
 * worst. Cases marked in `dropped` are ignored. Never fails: a field that
 * is missing is itself a warning. */
void sm_noise_collect(const struct sm_field *fields, size_t nfields,
                      const struct sm_case *cases, size_t ncases,
                      const struct sm_results *results, const bool *dropped,
                      struct sm_noise *out);

#endif
