# aggregate.gp: the same job, N threads x M updates to one total, done by
# each strategy (C6, C12): updates per second (left) and CPU time per update
# of all its threads (right) vs threads; one figure per per-update work.
# split: work_ns placement
load dir."/common.gp"

all_variants = "atomic mutex rwlock channel merge rust_atomic_seqcst rust_mutex rust_rwlock"
style_of(v) = word_index(all_variants, v, 1)
# shown: the strategies of this figure that the run has (`variants`, set by
# syncmark plot, lists every variant of the family present).
if (!exists("variants") || variants eq "") { variants = all_variants }
shown = ""
do for [v in all_variants] {
  if (strstrt(" ".variants." ", " ".v." ") > 0) { shown = shown." ".v }
}
sel(v, m, col) = (strcol("benchmark") eq "aggregate" && strcol("variant") eq v && \
  strcol("metric") eq m && split_ok(0)) ? column(col) : NaN

set multiplot layout 1,2 title "aggregate: N threads each add M updates to one total".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set offsets graph 0.04, graph 0.04, graph 0.2, 0
set logscale y 10
set format y "10^{%T}"
set xlabel "threads (updaters; channel adds 1 aggregating thread)"
set key top left box opaque horizontal maxcols 2 title "strategy" spacing 1.1 font ",9"
eval mark_pus

set title "throughput: updates into the total per second (higher is better)"
set ylabel "updates per second (median, 95% CI)"
plot for [v in shown] summary \
  using (sel(v, "updates_per_s", "threads")):(sel(v, "updates_per_s", "median")):\
        (sel(v, "updates_per_s", "ci_lo")):(sel(v, "updates_per_s", "ci_hi")) \
  with yerrorlines lt style_of(v) title v

set title "CPU time of all the job's threads per update (lower is better)"
set ylabel "CPU ns per update (median, 95% CI)"
set key off
set offsets graph 0.04, graph 0.04, 0, 0
plot for [v in shown] summary \
  using (sel(v, "cpu_ns_per_update", "threads")):(sel(v, "cpu_ns_per_update", "median")):\
        (sel(v, "cpu_ns_per_update", "ci_lo")):(sel(v, "cpu_ns_per_update", "ci_hi")) \
  with yerrorlines lt style_of(v) title v
unset multiplot
