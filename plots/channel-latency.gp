# channel-latency.gp: per-message latency (send to receive) vs producers,
# one panel per channel capacity: p50 solid, p99 dashed, per implementation.
# split: msg_bytes placement
load dir."/common.gp"

all_variants = "syncmark rust_std pipe mutex_condvar ck_ring"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = word_index(all_variants, v, 1)
all_capacities = "0 1 16 1024 -1"
# The capacities this figure's rows hold (a quick run measures 0, 1024 and
# -1): one panel each, none empty.
capacities = ""
do for [c in all_capacities] {
  stats summary using ((strcol("benchmark") eq "channel" && strcol("metric") eq "p50_ns" && \
    params_has("capacity=".c) && split_ok(0)) ? 1 : 0) nooutput
  if (STATS_sum > 0) { capacities = capacities.(capacities eq "" ? "" : " ").c }
}
ncap = words(capacities)
cap_title(c) = (c eq "0") ? "capacity 0 (rendezvous)" : \
  (c eq "-1") ? "unbounded (latency = time queued)" : "bounded, capacity ".c
row_ok(v, c, m) = strcol("benchmark") eq "channel" && strcol("variant") eq v && \
  strcol("metric") eq m && params_has("capacity=".c)
sel(v, c, m, col) = (row_ok(v, c, m) && split_ok(0)) ? column(col) : NaN

# One x and y range for every panel (panels compare at a glance): the
# extremes of this figure's rows.
any_ok(col) = (strcol("benchmark") eq "channel" && (strcol("metric") eq "p50_ns" || strcol("metric") eq "p99_ns") && \
  split_ok(0) && column(col) > 0) ? column(col) : NaN
stats summary using (any_ok("threads")):(any_ok("median")) nooutput
x_lo = STATS_min_x; x_hi = STATS_max_x; y_lo = STATS_min_y
stats summary using (any_ok("threads")):(any_ok("median")) nooutput
y_hi = STATS_max_y
set xrange [x_lo / 1.3 : x_hi * 1.3]
set yrange [y_lo / 2 : y_hi * 2]

rows = (ncap + 1 > 3) ? 2 : 1
set multiplot layout rows,int(ceil((ncap + 1.0) / rows)) title "channel: latency of one message, send to receive (p50 solid, p99 dashed)".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set format y "10^{%T}"
set xlabel "producers"
set ylabel "ns (median over repetitions)"
set key off
do for [c in capacities] {
  set title cap_title(c)
  eval mark_pus
  plot for [i=1:words(variants)] summary \
         using (sel(word(variants,i), c, "p50_ns", "threads")):(sel(word(variants,i), c, "p50_ns", "median")) \
         with linespoints lt style_of(word(variants,i)) title word(variants,i), \
       for [i=1:words(variants)] summary \
         using (sel(word(variants,i), c, "p99_ns", "threads")):(sel(word(variants,i), c, "p99_ns", "median")) \
         with linespoints lt style_of(word(variants,i)) dt 2 notitle
}
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset arrow; unset label
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "implementation" font ",12" spacing 1.3
plot for [i=1:words(variants)] NaN with linespoints lt style_of(word(variants,i)) title word(variants,i), \
     NaN with lines lc rgb "#555555" dt 1 title "p50", \
     NaN with lines lc rgb "#555555" dt 2 title "p99"
unset multiplot
