# wake.gp: wake-up latency percentiles per way of waiting (top, log scale)
# and the sleeper's CPU time while it waits, as a share of the wait
# (bottom, log scale) (C7); one figure per placement and waker delay.
# split: placement delay_us
load dir."/common.gp"

all_variants = "park rust_park condvar rust_condvar futex spin_park poll_100us poll_1ms poll_10ms"
if (!exists("variants") || variants eq "") { variants = all_variants }
# Fixed order on the x axis: blocking waits first (a Rust std variant
# beside its C twin), then polling by period.
order = ""
do for [v in all_variants] {
  if (strstrt(" ".variants." ", " ".v." ") > 0) { order = order.(order eq "" ? "" : " ").v }
}
nv = words(order)
xof(v) = word_index(order, v, 1)
sel(m, col) = (strcol("benchmark") eq "wake" && strcol("metric") eq m && \
  split_ok(0)) ? column(col) : NaN

set xtics () noenhanced font ",11" nomirror
do for [i = 1:nv] { set xtics add (word(order, i) i) }
set xrange [0.4:nv + 0.6]
unset mxtics
set grid noxtics

set multiplot layout 2,1 title "wake: from the waker's signal to the sleeper running".split_title."\n".machine font ",14" noenhanced
set lmargin 12; set rmargin 22

set title "wake-up latency per repetition (median of repetitions; bars: min..max over repetitions)"
set logscale y 10
set format y "10^{%T}"
set ylabel "ns from signal to running"
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.08
set key outside right top box spacing 1.2
plot summary using (xof(strcol("variant")) - 0.15):(sel("p50_ns", "median")):(sel("p50_ns", "min")):(sel("p50_ns", "max")) \
       with yerrorbars lt 1 pt 7 ps 1.4 title "p50", \
     summary using (xof(strcol("variant"))):(sel("p99_ns", "median")):(sel("p99_ns", "min")):(sel("p99_ns", "max")) \
       with yerrorbars lt 4 pt 9 ps 1.4 title "p99", \
     summary using (xof(strcol("variant")) + 0.15):(sel("max_ns", "median")):(sel("max_ns", "min")):(sel("max_ns", "max")) \
       with yerrorbars lt 10 pt 3 ps 1.4 title "max"

set title "the sleeper's CPU time while waiting, % of the wait (median of repetitions; bars: min..max)"
set ylabel "% of the wait on CPU"
set format y "%g"
set ytics (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100)
set key off
plot summary using (xof(strcol("variant"))):(sel("cpu_pct", "median")):(sel("cpu_pct", "min")):(sel("cpu_pct", "max")) \
       with yerrorbars lt 2 pt 5 ps 1.4 notitle
unset multiplot
