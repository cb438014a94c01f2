# oversub.gp: N CPU-bound threads doing a fixed total amount of work
# against as many threads as PUs doing the same work (C4): completion-time
# ratio, throughput per thread, and involuntary switches, over N.
# split: placement
load dir."/common.gp"

row_ok(m) = strcol("benchmark") eq "oversub" && strcol("metric") eq m && split_ok(0)
sel(m, col) = row_ok(m) ? column(col) : NaN

set multiplot layout 1,3 title "oversub: N CPU-bound threads vs as many as PUs, same total work".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set xlabel "threads N (log scale)"
set key bottom right box opaque spacing 1.2 font ",10"
set offsets graph 0.04, graph 0.04, 0, 0

set title "completion time of N threads / of PUs threads"
set ylabel "slowdown (median, 95% CI); 1 = no cost"
unset logscale y
set yrange [0:*]
eval mark_pus
plot 1 with lines lc rgb "#888888" dt 3 title "no cost", \
  summary using (sel("slowdown_vs_pus", "threads")):(sel("slowdown_vs_pus", "median")):\
    (sel("slowdown_vs_pus", "ci_lo")):(sel("slowdown_vs_pus", "ci_hi")) \
    with yerrorlines lt 1 title "slowdown_vs_pus"

set title "throughput of one thread: N threads vs PUs threads"
set ylabel "ratio (median, log scale); fair share = PUs / N"
set key bottom left
set logscale y 2
set yrange [*:*]
plot (pus > 0 ? (x > pus ? pus / x : 1) : NaN) with lines lc rgb "#888888" dt 3 title "fair share", \
  summary using (sel("thread_throughput_vs_pus", "threads")):(sel("thread_throughput_vs_pus", "median")):\
    (sel("thread_throughput_vs_pus", "ci_lo")):(sel("thread_throughput_vs_pus", "ci_hi")) \
    with yerrorlines lt 2 title "thread_throughput_vs_pus"

set title "involuntary context switches"
set ylabel "switches per second, all threads (median, log scale)"
set logscale y 10
set key bottom right
plot summary using (sel("ivcsw_per_s", "threads")):(sel("ivcsw_per_s", "median")):\
    (sel("ivcsw_per_s", "ci_lo")):(sel("ivcsw_per_s", "ci_hi")) \
    with yerrorlines lt 4 title "N threads", \
  summary using (sel("ref_ivcsw_per_s", "threads")):(sel("ref_ivcsw_per_s", "median")) \
    with linespoints lt 3 dt 2 title "as many threads as PUs (same repetition)"
unset multiplot
