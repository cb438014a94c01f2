# aggregate-pipeline.gp: the lesson's pipeline, N producers -> transform ->
# consumer, over channels, through one locked shared queue pair, and in one
# thread (C12): items through all stages per second (left) and CPU time per
# item (right) vs producers; one figure per per-stage work.
# split: work_ns placement
load dir."/common.gp"

all_variants = "pipeline_channel pipeline_locked pipeline_single"
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

set multiplot layout 1,2 title "aggregate: three-stage pipeline (produce, transform, consume), work per stage".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set offsets graph 0.04, graph 0.04, graph 0.2, 0
set logscale y 10
set format y "10^{%T}"
set xlabel "producer threads (+ transform + consumer; single: 1 thread)"
set key top left box opaque horizontal maxcols 3 title "pipeline" spacing 1.2 font ",10"
eval mark_pus

set title "throughput: items through all three stages per second"
set ylabel "items per second (median, 95% CI)"
plot for [v in shown] summary \
  using (sel(v, "updates_per_s", "threads")):(sel(v, "updates_per_s", "median")):\
        (sel(v, "updates_per_s", "ci_lo")):(sel(v, "updates_per_s", "ci_hi")) \
  with yerrorlines lt style_of(v) title v

set title "CPU time of all the pipeline's threads per item"
set ylabel "CPU ns per item (median, 95% CI)"
set key off
set offsets graph 0.04, graph 0.04, 0, 0
plot for [v in shown] summary \
  using (sel(v, "cpu_ns_per_update", "threads")):(sel(v, "cpu_ns_per_update", "median")):\
        (sel(v, "cpu_ns_per_update", "ci_lo")):(sel(v, "cpu_ns_per_update", "ci_hi")) \
  with yerrorlines lt style_of(v) title v
unset multiplot
