# select.gp: a consumer waiting on K channels, one of which receives (C14):
# latency to notice a message (left: p50 with CI, p99 dashed) and the CPU
# share it burns while nothing arrives (right), vs K; one figure per
# sender/consumer placement.
# split: placement
load dir."/common.gp"

all_variants = "select poll_sleep_10ms poll_sleep_1ms poll_spin"
style_of(v) = word_index(all_variants, v, 1)
# shown: the strategies of this figure that the run has (`variants`, set by
# syncmark plot, lists every variant of the family present).
if (!exists("variants") || variants eq "") { variants = all_variants }
shown = ""
do for [v in all_variants] {
  if (strstrt(" ".variants." ", " ".v." ") > 0) { shown = shown." ".v }
}
chans(x) = strcol("benchmark") eq "select" ? \
  real(substr(strcol("params"), strstrt(strcol("params"), "channels=") + 9, 99)) : NaN
sel(v, m, col) = (strcol("benchmark") eq "select" && strcol("variant") eq v && \
  strcol("metric") eq m && split_ok(0)) ? column(col) : NaN
selx(v, m) = (strcol("benchmark") eq "select" && strcol("variant") eq v && \
  strcol("metric") eq m && split_ok(0)) ? chans(0) : NaN

set multiplot layout 1,2 title "select: notice a message on 1 of K channels".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set offsets graph 0.04, graph 0.04, graph 0.2, 0
set logscale y 10
set format y "10^{%T}"
set xlabel "channels waited on (K)"
set key top left box opaque horizontal maxcols 2 title "wait (solid: p50, dashed: p99)" spacing 1.2 font ",10"

set title "latency from send to noticed (lower is better)"
set ylabel "ns (median of repetitions, 95% CI)"
plot for [v in shown] summary \
  using (selx(v, "p50_ns")):(sel(v, "p50_ns", "median")):\
        (sel(v, "p50_ns", "ci_lo")):(sel(v, "p50_ns", "ci_hi")) \
  with yerrorlines lt style_of(v) title v, \
  for [v in shown] summary \
  using (selx(v, "p99_ns")):(sel(v, "p99_ns", "median")) \
  with lines lt style_of(v) dt 2 lw 1 notitle

set title "consumer CPU while nothing arrives (1 = a whole core)"
set ylabel "CPU time / wall time of a quiet wait (median, 95% CI)"
set key off
set offsets graph 0.04, graph 0.04, 0, 0
plot for [v in shown] summary \
  using (selx(v, "wait_cpu_share")):(sel(v, "wait_cpu_share", "median")):\
        (sel(v, "wait_cpu_share", "ci_lo")):(sel(v, "wait_cpu_share", "ci_hi")) \
  with yerrorlines lt style_of(v) title v
unset multiplot
