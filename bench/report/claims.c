/* claims.c: the claim table's shared machinery: judging, wording, and the
 * helpers rules use to show their numbers. */
#include "claims.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "table.h"

void sm_claim_judge(const struct sm_claim *c, const struct sm_run_view *view,
                    struct sm_claim_result *out) {
  out->numbers[0] = '\0';
  out->missing_rows = 0;
  if (!sm_run_view_has(view, c->family)) {
    out->verdict = SM_CLAIM_NOT_MEASURED;
    snprintf(out->numbers, sizeof out->numbers, "the %s family did not run",
             c->family);
    return;
  }
  c->judge(view, out);
}

const char *sm_claim_verdict_name(enum sm_claim_verdict v) {
  static const char *const names[] = {"holds", "does not hold", "inconclusive",
                                      "not measured"};
  return v <= SM_CLAIM_NOT_MEASURED ? names[v] : "?";
}

void sm_claim_printf(struct sm_claim_result *out, const char *fmt, ...) {
  size_t len = strlen(out->numbers);
  if (len + 1 >= sizeof out->numbers)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->numbers + len, sizeof out->numbers - len, fmt, ap);
  va_end(ap);
}

void sm_claim_note(struct sm_claim_result *out, const char *label,
                   const struct sm_stat *s) {
  size_t len = strlen(out->numbers);
  const char *sep =
      len == 0 || (len >= 2 && strcmp(out->numbers + len - 2, ": ") == 0)
          ? ""
          : "; ";
  if (!s->found) {
    out->missing_rows++;
    sm_claim_printf(out, "%s%s: no row", sep, label);
    return;
  }
  char m[16], lo[16], hi[16];
  sm_claim_printf(out, "%s%s %s [%s, %s] %s", sep, label,
                  sm_format_si(s->median, m, sizeof m),
                  sm_format_si(s->ci_lo, lo, sizeof lo),
                  sm_format_si(s->ci_hi, hi, sizeof hi), s->unit);
}

enum sm_claim_verdict sm_claim_all(const int *cmp, size_t n) {
  bool all = true;
  for (size_t i = 0; i < n; i++) {
    if (cmp[i] < 0)
      return SM_CLAIM_DOES_NOT_HOLD;
    all = all && cmp[i] > 0;
  }
  return all ? SM_CLAIM_HOLDS : SM_CLAIM_INCONCLUSIVE;
}
