/* metrics.c: the direction of a metric, decided from its name and unit. */
#include "metrics.h"

#include <string.h>

/* Returns true when s ends with suffix. */
static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Metrics in a time unit that describe the setting or the measurement, not
 * the strategy: a regression check must not judge them. */
static const char *const SETTINGS[] = {"wait_ns", "timer_slack_ns",
                                       "cpu_probe_ns", "time_to_deadlock_ms"};

enum sm_direction sm_metric_direction(const char *metric, const char *unit) {
  static const char *const lower_units[] = {"ns",  "us",  "ms",   "s",
                                            "KiB", "MiB", "bytes"};
  if (!metric || !unit || strncmp(unit, "switches", 8) == 0)
    return SM_NO_DIRECTION;
  for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++)
    if (strcmp(metric, SETTINGS[i]) == 0)
      return SM_NO_DIRECTION;
  if (ends_with(unit, "/s"))
    return SM_HIGHER_IS_BETTER;
  for (size_t i = 0; i < sizeof lower_units / sizeof lower_units[0]; i++)
    if (strcmp(unit, lower_units[i]) == 0)
      return SM_LOWER_IS_BETTER;
  return SM_NO_DIRECTION;
}

const char *sm_direction_name(enum sm_direction d) {
  return d == SM_HIGHER_IS_BETTER  ? "higher"
         : d == SM_LOWER_IS_BETTER ? "lower"
                                   : "none";
}
