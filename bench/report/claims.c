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

/* Returns whether the run has a row of any of the claim's Rust variants
 * (rust_variants: names separated by spaces). */
static bool has_rust_rows(const struct sm_run_view *view,
                          const struct sm_claim *c) {
  char names[128];
  snprintf(names, sizeof names, "%s", c->rust_variants);
  char *save = NULL;
  for (char *name = strtok_r(names, " ", &save); name;
       name = strtok_r(NULL, " ", &save)) {
    struct sm_query q = {.benchmark = c->family, .variant = name};
    if (sm_run_view_find(view, &q).found)
      return true;
  }
  return false;
}

void sm_claim_judge_rust(const struct sm_claim *c,
                         const struct sm_run_view *view,
                         struct sm_claim_result *out) {
  out->numbers[0] = '\0';
  out->missing_rows = 0;
  out->verdict = SM_CLAIM_NOT_MEASURED;
  if (!c->judge_rust) {
    snprintf(out->numbers, sizeof out->numbers,
             "no Rust std variant tests this claim");
    return;
  }
  if (!has_rust_rows(view, c)) {
    snprintf(out->numbers, sizeof out->numbers,
             "no rows of %s's %s in this run (syncmark built without "
             "rustc, or a filter left them out)",
             c->family, c->rust_variants);
    return;
  }
  c->judge_rust(view, out);
}

void sm_claim_agreement(const struct sm_claim_result *c_result,
                        const struct sm_claim_result *rust_result, char *buf,
                        size_t size) {
  buf[0] = '\0';
  if (c_result->verdict == SM_CLAIM_NOT_MEASURED ||
      rust_result->verdict == SM_CLAIM_NOT_MEASURED)
    return;
  if (c_result->verdict == rust_result->verdict)
    snprintf(buf, size, "agree");
  else
    snprintf(buf, size, "disagree: C %s, Rust std %s",
             sm_claim_verdict_name(c_result->verdict),
             sm_claim_verdict_name(rust_result->verdict));
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
