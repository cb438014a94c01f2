/* noise.c: warnings about a run's trustworthiness, from the machine's state
 * at the start and the spread of each case's repetitions. */
#include "noise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

/* Appends one warning line (silently dropped beyond the capacity). */
static void warn(struct sm_noise *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct sm_noise *n, const char *fmt, ...) {
  if (n->nlines == sizeof n->lines / sizeof n->lines[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(n->lines[n->nlines++], sizeof n->lines[0], fmt, ap);
  va_end(ap);
}

/* Warns about the machine's load, virtualisation and CPU frequency. */
static void machine_warnings(const struct sm_field *fields, size_t nfields,
                             struct sm_noise *out) {
  const char *load = sm_field_get(fields, nfields, "load_1m");
  if (load && strtod(load, NULL) > SM_NOISE_MAX_LOAD)
    warn(out,
         "the 1-minute load average was %s at the start (above %.1f): other "
         "work competed for the CPUs",
         load, SM_NOISE_MAX_LOAD);
  const char *hv = sm_field_get(fields, nfields, "hypervisor");
  if (hv && *hv && strcmp(hv, "none") != 0)
    warn(out,
         "running under a hypervisor (%s): vCPUs share physical cores and "
         "cross-vCPU wake-ups pay for the hypervisor",
         hv);
  const char *others = sm_field_get(fields, nfields, "other_syncmark_pids");
  if (others && strcmp(others, "none") != 0)
    warn(out,
         "another syncmark was running when this run started (pid %s): the "
         "two runs competed for the CPUs",
         others);
  const char *gov = sm_field_get(fields, nfields, "governor");
  if (!gov || strcmp(gov, "unavailable") == 0)
    warn(out, "the CPU frequency governor cannot be read: frequency scaling "
              "may not be fixed");
  else if (strcmp(gov, "performance") != 0)
    warn(out,
         "the CPU frequency governor is '%s', not 'performance': the clock "
         "speed may change during the run",
         gov);
}

void sm_noise_collect(const struct sm_field *fields, size_t nfields,
                      const struct sm_case *cases, size_t ncases,
                      const struct sm_results *results, const bool *dropped,
                      struct sm_noise *out) {
  *out = (struct sm_noise){0};
  machine_warnings(fields, nfields, out);
  double worst_cv = 0;
  size_t worst = 0, measured = 0;
  const char *worst_metric = "";
  for (size_t c = 0; c < ncases; c++) {
    const char *metric = sm_results_headline(results, c, &cases[c]);
    struct sm_summary s;
    if (dropped[c] || !metric ||
        sm_results_summary(results, c, metric, &s) != 0)
      continue;
    measured++;
    if (s.cv > SM_NOISE_MAX_CV)
      out->noisy_cases++;
    if (s.cv > worst_cv) {
      worst_cv = s.cv;
      worst = c;
      worst_metric = metric;
    }
  }
  if (out->noisy_cases > 0) {
    char label[96];
    warn(out,
         "%zu of %zu cases vary by more than %.0f%% (CV) across "
         "repetitions; worst %s %s threads=%u %s: %.1f%%",
         out->noisy_cases, measured, SM_NOISE_MAX_CV * 100,
         sm_case_label(&cases[worst], label, sizeof label), cases[worst].params,
         cases[worst].threads, worst_metric, worst_cv * 100);
  }
}
