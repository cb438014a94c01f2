/* cmd_plot.c: placeholder until the plot command is written. */
#include "options.h"
int sm_cmd_plot(const struct sm_options *o) {
  (void)o;
  return 1;
}
