/* report.c: the Markdown report of a run. */
#include "report.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"

/* Returns a machine value or "unknown". */
static const char *mv(const struct sm_run_view *v, const char *key) {
  const char *value = sm_run_view_machine(v, key);
  return value && *value ? value : "unknown";
}

/* Writes the title and the run's identity. */
static void write_header(FILE *out, const struct sm_run_view *v) {
  fprintf(out, "# syncmark report: %s\n\n", mv(v, "hostname"));
  fprintf(out,
          "Run folder `%s`, started %s, finished %s, status **%s** (%s "
          "cases, %s failed, %s timed out, %s skipped).\n\n",
          v->dir, mv(v, "started_at"), mv(v, "finished_at"), mv(v, "status"),
          mv(v, "cases"), mv(v, "failed_cases"), mv(v, "timed_out_cases"),
          mv(v, "skipped_cases"));
  if (strcmp(mv(v, "failed_cases"), "0") != 0 ||
      strcmp(mv(v, "timed_out_cases"), "0") != 0 ||
      strcmp(mv(v, "skipped_cases"), "0") != 0)
    fputs("Cases without numbers, and why, are listed in "
          "[problems.csv](problems.csv).\n\n",
          out);
  fprintf(out,
          "Command: `%s`; %s repetitions of %s s windows after %s s "
          "warmup; syncmark %s (commit %s).\n\n",
          mv(v, "command"), mv(v, "reps"), mv(v, "duration_s"),
          mv(v, "warmup_s"), mv(v, "syncmark_version"), mv(v, "git_commit"));
  const char *injected = sm_run_view_machine(v, "injected_delay");
  if (injected && strcmp(injected, "none") != 0)
    fprintf(out,
            "> **This run was slowed down on purpose**: %s ns of busy "
            "work in every operation of %s.\n\n",
            mv(v, "injected_delay_ns"), injected);
}

/* Writes the machine table and the noise warnings. */
static void write_machine(FILE *out, const struct sm_run_view *v) {
  fputs("## Machine\n\n| | |\n|---|---|\n", out);
  fprintf(out, "| CPU | %s (%s, family %s, model %s) |\n", mv(v, "cpu_brand"),
          mv(v, "cpu_vendor"), mv(v, "cpu_family"), mv(v, "cpu_model"));
  fprintf(out, "| Hypervisor | %s |\n", mv(v, "hypervisor"));
  fprintf(out,
          "| Topology | %s package(s), %s NUMA node(s), %s L3 group(s), %s "
          "cores, %s PUs, %s PU(s) per core |\n",
          mv(v, "topo_packages"), mv(v, "topo_numa_nodes"),
          mv(v, "topo_l3_groups"), mv(v, "topo_cores"), mv(v, "topo_pus"),
          mv(v, "topo_smt_per_core"));
  fprintf(out, "| PUs this run could use | %s (%s cores) |\n",
          mv(v, "allowed_pu_list"), mv(v, "allowed_cores"));
  fprintf(out, "| Caches | L1d %s KiB, L2 %s KiB, L3 %s KiB |\n",
          mv(v, "cache_l1d_kib"), mv(v, "cache_l2_kib"), mv(v, "cache_l3_kib"));
  fprintf(out, "| Kernel | %s (%s) |\n", mv(v, "kernel"), mv(v, "arch"));
  fprintf(out, "| Clock | %s, %s ns per read, clocksource %s |\n",
          mv(v, "clock"), mv(v, "clock_overhead_ns"), mv(v, "clocksource"));
  fprintf(out, "| Frequency governor | %s |\n", mv(v, "governor"));
  fprintf(out, "| Load average at start | %s / %s / %s |\n", mv(v, "load_1m"),
          mv(v, "load_5m"), mv(v, "load_15m"));
  fprintf(out, "| Runner overhead | %s ns per loop pass |\n",
          mv(v, "runner_overhead_ns_per_op"));
  fprintf(out,
          "| Precision | %s profile, target +-%s %% of each headline median; "
          "%s of %s cases missed it |\n",
          mv(v, "profile"), mv(v, "precision_target_pct"),
          mv(v, "precision_cases_missed"), mv(v, "precision_cases"));
  fprintf(out,
          "| Interference | %s repetitions disturbed (%s retaken); worst run "
          "delay share %s, steal share %s, other load %s CPUs |\n",
          mv(v, "disturbed_reps"), mv(v, "retaken_reps"),
          mv(v, "run_delay_share_max"), mv(v, "steal_share_max"),
          mv(v, "other_cpus_max"));
  fprintf(out,
          "| Drift probe | %s ns median per repetition, p10 to p90 %s %% of "
          "it |\n",
          mv(v, "drift_probe_ns_median"), mv(v, "drift_probe_spread_pct"));
  fprintf(out,
          "| Pair probe | a cache line between two of a case's PUs: %s ns "
          "one way at the median, p10 %s, p90 %s (n/a: no case on two "
          "PUs) |\n\n",
          mv(v, "pair_probe_ns_median"), mv(v, "pair_probe_ns_p10"),
          mv(v, "pair_probe_ns_p90"));
  const char *noise = mv(v, "noise_warnings");
  if (strcmp(noise, "none") == 0) {
    fputs("No noise warnings.\n\n", out);
    return;
  }
  fputs("Noise warnings (the numbers below may move between runs):\n\n", out);
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", noise);
  char *save = NULL;
  for (char *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
    fprintf(out, "- %s\n", w + (*w == ' '));
  fputc('\n', out);
}

/* Writes, for a claim that was inconclusive after the run's precision
 * rounds (machine.csv's claim_extra_reps_<id>), how many more repetitions
 * claim-driven sampling gave the cases its rule reads. */
static void write_claim_sampling(FILE *out, const struct sm_run_view *v,
                                 const char *id) {
  char key[64];
  snprintf(key, sizeof key, "claim_extra_reps_%s", id);
  const char *extra = sm_run_view_machine(v, key);
  if (!extra || !*extra)
    return;
  fprintf(out,
          "- Sampling: inconclusive after the precision rounds; "
          "claim-driven sampling gave the cases this rule reads %s more "
          "repetitions.\n",
          extra);
}

/* Writes a claim's Rust std verdict lines (nothing for a claim without a
 * Rust twin): the verdict, how it relates to the C verdict, its numbers. */
static void write_rust_verdict(FILE *out, const struct sm_claim *c,
                               const struct sm_claim_result *c_result,
                               const struct sm_claim_result *rust) {
  if (!c->judge_rust)
    return;
  char agreement[96];
  sm_claim_agreement(c_result, rust, agreement, sizeof agreement);
  fprintf(out,
          "- **Rust std verdict: %s**%s%s (the same rule on `%s`)\n"
          "- Rust std numbers: %s\n",
          sm_claim_verdict_name(rust->verdict), agreement[0] ? ", " : "",
          agreement, c->rust_variants, rust->numbers);
}

/* Writes the verdict table (the C rebuilds' verdict and, where the claim
 * has Rust variants, Rust std's) and one section per claim. */
static void write_claims(FILE *out, const struct sm_run_view *v) {
  struct sm_claim_result *results = calloc(2 * sm_nclaims, sizeof *results);
  if (!results)
    return;
  struct sm_claim_result *rust = results + sm_nclaims;
  for (size_t i = 0; i < sm_nclaims; i++) {
    sm_claim_judge(&sm_claims[i], v, &results[i]);
    sm_claim_judge_rust(&sm_claims[i], v, &rust[i]);
  }
  fputs("## The lesson's claims\n\nEach verdict follows a rule written "
        "before any data was seen (stated under each claim). \"Beats\" "
        "means the 95% confidence intervals of the two medians do not "
        "overlap. The verdict is syncmark's C rebuilds' of the lesson's "
        "primitives; where the lesson's Rust primitives ran too (the "
        "`rust_*` variants), the same rule on them is Rust std's verdict.\n\n"
        "| claim | the lesson says | verdict | Rust std |\n|---|---|---|---|\n",
        out);
  for (size_t i = 0; i < sm_nclaims; i++)
    fprintf(out, "| [%s](#%s) | %s | **%s** | %s |\n", sm_claims[i].id,
            sm_claims[i].id, sm_claims[i].claim,
            sm_claim_verdict_name(results[i].verdict),
            sm_claims[i].judge_rust ? sm_claim_verdict_name(rust[i].verdict)
                                    : "-");
  fputc('\n', out);
  for (size_t i = 0; i < sm_nclaims; i++) {
    const struct sm_claim *c = &sm_claims[i];
    fprintf(out,
            "<a id=\"%s\"></a>\n### %s: %s\n\n- **Verdict: %s**\n- Test: %s "
            "(family `%s`).\n- Rule: %s\n- Numbers: %s\n",
            c->id, c->id, c->claim, sm_claim_verdict_name(results[i].verdict),
            c->test, c->family, c->rule, results[i].numbers);
    write_rust_verdict(out, c, &results[i], &rust[i]);
    write_claim_sampling(out, v, c->id);
    fputc('\n', out);
  }
  free(results);
}

/* qsort comparator of strings. */
static int string_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes one section per PNG figure of the run folder, in name order. */
static void write_figures(FILE *out, const struct sm_run_view *v) {
  fputs("## Figures\n\n", out);
  DIR *d = opendir(v->dir);
  char *names[256];
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d)) && n < 256;) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".png") == 0)
      names[n++] = strdup(e->d_name);
  }
  if (d)
    closedir(d);
  qsort(names, n, sizeof *names, string_cmp);
  if (n == 0)
    fprintf(out, "No figures yet: `syncmark plot %s` renders them.\n", v->dir);
  for (size_t i = 0; i < n; i++) {
    if (!names[i])
      continue;
    fprintf(out, "### %.*s\n\n![%.*s](%s)\n\n", (int)strlen(names[i]) - 4,
            names[i], (int)strlen(names[i]) - 4, names[i], names[i]);
    free(names[i]);
  }
}

void sm_report_write(FILE *out, const struct sm_run_view *view) {
  write_header(out, view);
  write_claims(out, view);
  write_machine(out, view);
  write_figures(out, view);
}
