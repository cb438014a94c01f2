/* run_profile.c: the run profiles and how the options override them. */
#include "run_profile.h"

/* The profiles. The quick one is sized for about two minutes of the whole
 * suite on two vCPUs, the default for about fifteen, the thorough one for
 * an hour; each stops earlier when every case is precise. */
static const struct sm_run_profile QUICK = {
    .name = "quick",
    .duration_s = 0.02,
    .warmup_s = 0.01,
    .rule = {.target = 0.05, .min_reps = 6, .max_reps = 15, .budget_s = 150}};
static const struct sm_run_profile DEFAULT = {
    .name = "default",
    .duration_s = 0.25,
    .warmup_s = 0.05,
    .rule = {.target = 0.03, .min_reps = 6, .max_reps = 30, .budget_s = 900}};
static const struct sm_run_profile THOROUGH = {
    .name = "thorough",
    .duration_s = 0.5,
    .warmup_s = 0.1,
    .rule = {
        .target = 0.01, .min_reps = 10, .max_reps = 100, .budget_s = 3600}};

void sm_run_profile_resolve(const struct sm_options *o,
                            struct sm_run_profile *out) {
  if (o->quick && o->thorough)
    sm_usage_error("--quick and --thorough: give one profile (allowed: "
                   "--quick, --thorough or neither for the default)");
  if (o->reps > 0 && o->precision_pct > 0)
    sm_usage_error("--reps %ld and --precision %g: --reps fixes the number "
                   "of repetitions, --precision chooses it (give one)",
                   o->reps, o->precision_pct);
  *out = o->quick ? QUICK : o->thorough ? THOROUGH : DEFAULT;
  if (o->duration_s >= 0)
    out->duration_s = o->duration_s;
  if (o->warmup_s >= 0)
    out->warmup_s = o->warmup_s;
  if (o->reps > 0)
    out->rule = (struct sm_precision_rule){.target = 0,
                                           .min_reps = (unsigned)o->reps,
                                           .max_reps = (unsigned)o->reps};
  if (o->precision_pct > 0)
    out->rule.target = o->precision_pct / 100;
  if (o->budget_s > 0)
    out->rule.budget_s = o->budget_s;
}

void sm_run_profile_check_budget(const struct sm_run_profile *p,
                                 size_t ncases) {
  double need = (double)ncases * (p->warmup_s + p->duration_s);
  if (p->rule.budget_s > 0 && need > p->rule.budget_s)
    sm_usage_error("--budget %g: too short for one repetition of each of "
                   "the %zu cases (their warm-ups and windows alone take "
                   "%.0f s; allowed: at least that, or fewer cases)",
                   p->rule.budget_s, ncases, need);
}
