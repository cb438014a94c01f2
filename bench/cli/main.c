/* main.c: the syncmark binary's only main(): the subcommands and --help;
 * the options are parsed in options.c. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "syncmark_git_commit.h"

static const struct {
  const char *name;
  unsigned bit;
  int (*run)(const struct sm_options *o);
  const char *usage;
} COMMANDS[] = {
    {"run", CMD_RUN, sm_cmd_run,
     "run [FILTER...] [options]   run benchmarks, write results"},
    {"info", CMD_INFO, sm_cmd_info,
     "info                         describe this machine"},
    {"list", CMD_LIST, sm_cmd_list,
     "list [FAMILY]                list benchmark families and variants; "
     "with FAMILY its metrics"},
    {"plot", CMD_PLOT, sm_cmd_plot,
     "plot RUN_DIR                 render the figures of a run"},
    {"compare", CMD_COMPARE, sm_cmd_compare,
     "compare BASE CURRENT         flag regressions between two runs (exit "
     "1)\n"
     "  syncmark compare --baseline NAME CURRENT  the same against a saved "
     "baseline"},
    {"ab", CMD_AB, sm_cmd_ab,
     "ab BASE_BIN CURRENT_BIN [FILTER...]  two builds in alternating rounds, "
     "paired verdicts (exit 1 on a regression)"},
    {"report", CMD_REPORT, sm_cmd_report,
     "report RUN_DIR               write RUN_DIR/REPORT.md: claims, machine, "
     "figures\n"
     "  syncmark report --across DB           the claims' verdicts per "
     "machine, side by side"},
    {"collect", CMD_COLLECT, sm_cmd_collect,
     "collect RUN_DIR...           load run folders into the results "
     "database"},
    {"history", CMD_HISTORY, sm_cmd_history,
     "history [FILTER...]          medians over commits per machine, trend "
     "figures"},
};
enum { NCOMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

/* Prints --help to stdout. */
static void print_help(void) {
  puts("usage: syncmark COMMAND [options]\n\ncommands:");
  for (int i = 0; i < NCOMMANDS; i++)
    printf("  syncmark %s\n", COMMANDS[i].usage);
  for (int c = 0; c < NCOMMANDS; c++)
    sm_options_print(stdout, COMMANDS[c].bit, COMMANDS[c].name);
  puts("\nFILTER is a glob on a family or family/variant (syncmark list).\n"
       "Exit status: 0 success; 1 a case failed or hung (run) or a row "
       "regressed (compare, ab);\n2 bad input; 130/143 run stopped by "
       "SIGINT/SIGTERM.");
}

int main(int argc, char **argv) {
  struct sm_options o;
  sm_options_init(&o, argc, argv);
  if (argc < 2) {
    print_help();
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_help();
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("syncmark %s (%s)\n", SYNCMARK_VERSION, SYNCMARK_GIT_COMMIT);
    return 0;
  }
  for (int i = 0; i < NCOMMANDS; i++) {
    if (strcmp(argv[1], COMMANDS[i].name) != 0)
      continue;
    o.command = COMMANDS[i].name;
    if (sm_options_parse(&o, COMMANDS[i].bit, argc - 1, argv + 1) ==
        SM_OPTIONS_HELP) {
      print_help();
      return 0;
    }
    return COMMANDS[i].run(&o);
  }
  char names[128] = "";
  for (int i = 0; i < NCOMMANDS; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
             i ? ", " : "", COMMANDS[i].name);
  sm_usage_error("unknown command '%s' (allowed: %s)", argv[1], names);
}
