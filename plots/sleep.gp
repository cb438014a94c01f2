# sleep.gp: how late nanosleep wakes (C16): overshoot (actual - requested)
# over the requested length, p50 and p99, with the thread's default timer
# slack and with the slack set to 1 ns.
load dir."/common.gp"

all_variants = "slack_default slack_1ns"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = word_index(all_variants, v, 1)
row_ok(v, m) = strcol("benchmark") eq "sleep" && strcol("variant") eq v && \
  strcol("metric") eq m
sel(v, m, col) = row_ok(v, m) ? column(col) : NaN
# The requested length of a sleep row (NaN for rows of other families).
sleep_us(x) = strcol("benchmark") eq "sleep" ? \
  real(substr(strcol("params"), 10, 20)) : NaN
# The default slack the run recorded, for the title.
stats summary using (row_ok("slack_default", "timer_slack_ns") ? column("median") : 0) nooutput
slack_note = STATS_max > 0 ? sprintf("default timer slack %.0f us", STATS_max / 1000) : "default timer slack not measured"

set title "sleep: how late nanosleep wakes, over the requested length (".slack_note.")\n".machine font ",14" noenhanced
set logscale x 10
set logscale y 10
set xlabel "requested sleep (microseconds, log scale)"
set ylabel "overshoot: actual - requested (microseconds, log scale)"
set format y "%g"
set offsets graph 0.03, graph 0.03, 0, 0
set key outside right top box title "timer slack, percentile" spacing 1.3
plot x * 0.1 with lines lc rgb "#888888" dt 3 lw 1 title "10% of the request", \
  for [i=1:words(variants)] summary using (sleep_us(0)):(sel(word(variants,i), "overshoot_p50_ns", "median") / 1000):\
      (sel(word(variants,i), "overshoot_p50_ns", "ci_lo") / 1000):(sel(word(variants,i), "overshoot_p50_ns", "ci_hi") / 1000) \
    with yerrorlines lt style_of(word(variants,i)) title word(variants,i)." p50", \
  for [i=1:words(variants)] summary using (sleep_us(0)):(sel(word(variants,i), "overshoot_p99_ns", "median") / 1000) \
    with linespoints lt style_of(word(variants,i)) dt 2 pt 4 title word(variants,i)." p99"
