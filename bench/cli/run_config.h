/* run_config.h: `syncmark run`'s configuration, resolved from the options
 * once (struct sm_run_config in run.h). */
#ifndef SYNCMARK_BENCH_RUN_CONFIG_H
#define SYNCMARK_BENCH_RUN_CONFIG_H

#include "options.h"
#include "run.h"

/* Fills *cfg from the options: the machine's topology, thread counts (the
 * user's or auto), the placements it can provide, --inject-*, --counters,
 * the profile's windows and precision rule, the watchdog. Exits with
 * status 2 (one line naming the value and what is allowed) on bad input,
 * before anything is written; free with sm_run_config_free. */
void sm_run_config_resolve(const struct sm_options *o,
                           struct sm_run_config *cfg);

/* Frees what sm_run_config_resolve allocated (the topology). */
void sm_run_config_free(struct sm_run_config *cfg);

#endif
