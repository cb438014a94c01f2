/* fuzz_options.c: libFuzzer target for the command-line option parser: any
 * argument list must parse or end in the bad-input exit (caught here), never
 * crash, read out of bounds or leave an option outside its documented
 * range. Input: a command selector byte, then arguments separated by NUL or
 * newline bytes. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ARGS = 24, MAX_INPUT = 4096 };

static jmp_buf escape;

/* sm_usage_error's exit, replaced: back to the fuzzer loop. */
static void on_usage_error(void) {
  longjmp(escape, 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sm_usage_set_exit_hook(on_usage_error);
  return 0; /* run with -close_fd_mask=2: the parser's messages are dropped */
}

/* Aborts when a parsed option lies outside what the parsers allow. */
static void check_ranges(const struct sm_options *o) {
  if (o->nthreads > SM_MAX_THREAD_COUNTS || o->nparams > 2 * SM_MAX_AXES ||
      o->nplacements > SM_PLACE_COUNT)
    abort();
  for (size_t i = 0; i < o->nthreads; i++)
    if (o->threads[i] < 1 || o->threads[i] > SM_MAX_THREADS)
      abort();
  for (size_t i = 0; i < o->nparams; i++)
    if (o->params[i].nvalues == 0 ||
        o->params[i].nvalues > SM_MAX_OVERRIDE_VALUES ||
        strlen(o->params[i].key) == 0)
      abort();
  if (o->reps < 0 || o->reps > 1000 || o->threshold < 0 || o->alpha <= 0 ||
      o->alpha > 0.5)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const unsigned bits[] = {CMD_RUN,     CMD_INFO,    CMD_LIST,
                                  CMD_PLOT,    CMD_COMPARE, CMD_REPORT,
                                  CMD_COLLECT, CMD_HISTORY};
  static char text[MAX_INPUT + 1];
  if (size < 1 || size > MAX_INPUT)
    return 0;
  unsigned bit = bits[data[0] % (sizeof bits / sizeof bits[0])];
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  char *argv[MAX_ARGS + 2] = {"cmd"};
  int argc = 1;
  for (char *p = text; argc < MAX_ARGS && p < text + size - 1;) {
    argv[argc++] = p;
    size_t len = strcspn(p, "\n");
    p[len] = '\0';
    p += len + 1;
  }
  argv[argc] = NULL;
  struct sm_options o;
  sm_options_init(&o, argc, argv);
  if (setjmp(escape) == 0 && sm_options_parse(&o, bit, argc, argv) == 0)
    check_ranges(&o);
  return 0;
}
