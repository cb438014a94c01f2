# channel.gp: messages per second vs producers into one consumer, one
# panel per channel capacity, one line per implementation; one figure per
# protocol (batch_msgs 0: the sustained window; N: fixed batches of N).
# split: msg_bytes batch_msgs placement
load dir."/common.gp"

# Every implementation, in a fixed order that fixes its colour; `variants`
# (set by syncmark plot) names those present in the run.
all_variants = "syncmark rust_std pipe mutex_condvar ck_ring"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = word_index(all_variants, v, 1)
all_capacities = "0 1 16 1024 -1"
# The capacities this figure's rows hold (a quick run measures 0, 1024 and
# -1): one panel each, none empty.
capacities = ""
do for [c in all_capacities] {
  stats summary using ((strcol("benchmark") eq "channel" && strcol("metric") eq "msgs_per_s" && \
    params_has("capacity=".c) && split_ok(0)) ? 1 : 0) nooutput
  if (STATS_sum > 0) { capacities = capacities.(capacities eq "" ? "" : " ").c }
}
ncap = words(capacities)
# This figure's protocol: the batch size its split names (0: the window).
batch_fig = 0
do for [i = 1:words(split_keys)] {
  if (word(split_keys, i) eq "batch_msgs") { batch_fig = word(split_values, i) + 0 }
}
# A rendezvous batch is at most 1024 messages (channel.c RENDEZVOUS_MAX_BATCH).
cap_title(c) = (c eq "0") ? (batch_fig > 0 ? \
    sprintf("capacity 0 (rendezvous; batches of %d)", batch_fig < 1024 ? batch_fig : 1024) : \
    "capacity 0 (rendezvous)") : \
  (c eq "-1") ? (batch_fig > 0 ? "unbounded" : "unbounded (received; a backlog grows)") : \
  "bounded, capacity ".c
row_ok(v, c) = strcol("benchmark") eq "channel" && strcol("variant") eq v && \
  strcol("metric") eq "msgs_per_s" && params_has("capacity=".c)
sel(v, c, col) = (row_ok(v, c) && split_ok(0)) ? column(col) : NaN

# One x and y range for every panel (panels compare at a glance): the
# extremes of this figure's rows.
any_ok(col) = (strcol("benchmark") eq "channel" && strcol("metric") eq "msgs_per_s" && \
  split_ok(0) && column(col) > 0) ? column(col) : NaN
stats summary using (any_ok("threads")):(any_ok("ci_lo")) nooutput
x_lo = STATS_min_x; x_hi = STATS_max_x; y_lo = STATS_min_y
stats summary using (any_ok("threads")):(any_ok("ci_hi")) nooutput
y_hi = STATS_max_y
set xrange [x_lo / 1.3 : x_hi * 1.3]
set yrange [y_lo / 2 : y_hi * 2]

rows = (ncap + 1 > 3) ? 2 : 1
set multiplot layout rows,int(ceil((ncap + 1.0) / rows)) title (batch_fig > 0 ? \
  "channel: fixed batches (send N, drain until disconnected), messages per second vs producers" : \
  "channel: messages per second received by one consumer in a timed window vs producers").split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set format y "10^{%T}"
set xlabel "producers"
set ylabel "messages per second (median, 95% CI)"
set key off
do for [c in capacities] {
  set title cap_title(c)
  eval mark_pus
  plot for [i=1:words(variants)] summary \
    using (sel(word(variants,i), c, "threads")):(sel(word(variants,i), c, "median")):\
          (sel(word(variants,i), c, "ci_lo")):(sel(word(variants,i), c, "ci_hi")) \
    with yerrorlines lt style_of(word(variants,i)) title word(variants,i)
}
# The sixth cell holds the legend only.
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset arrow; unset label
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "implementation" font ",12" spacing 1.3
plot for [i=1:words(variants)] NaN with linespoints lt style_of(word(variants,i)) title word(variants,i)
unset multiplot
