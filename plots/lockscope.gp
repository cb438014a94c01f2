# lockscope.gp: throughput of threads that each do a slow operation and
# one counter update, with the mutex held across the slow operation
# (held_across) or only around the update (update_only), vs threads; one
# panel per slow-operation length; one figure for a blocking slow
# operation (sleep) and one for busy work (C10). Grey dashes: one slow
# operation at a time (the most a lock held across it allows) and as
# many at a time as threads (sleep) or PUs (busy work) allow.
# split: blocking placement
load dir."/common.gp"

all_variants = "held_across update_only"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = v eq "held_across" ? 7 : 2
fam_ok(x) = strcol("benchmark") eq "lockscope" && \
  strcol("metric") eq "ops_per_s" && split_ok(0)
# slow_us of the row (params "slow_us=N;blocking=B").
slow_of(x) = strcol("params")[9:strstrt(strcol("params"), ";") - 1]
sel(v, s, col) = (fam_ok(0) && strcol("variant") eq v && slow_of(0) eq s) ? column(col) : NaN
blocking = (words(split_keys) > 0 && word(split_keys, 1) eq "blocking") ? \
  int(word(split_values, 1)) : 1
if (pus <= 0) { pus = 1 }

# The distinct slow_us values of this figure, in the order of the rows.
slows = ""
add_slow(s) = strstrt(" ".slows." ", " ".s." ") > 0 ? slows : (slows eq "" ? s : slows." ".s)
stats summary using (fam_ok(0) ? (slows = add_slow(slow_of(0)), 0) : NaN) nooutput
stats summary using (fam_ok(0) ? column("threads") : NaN) name "T" nooutput

serial(s) = 1e6 / s
parallel(x, s) = (blocking || x < pus ? x : pus) * 1e6 / s

npanels = words(slows) + 1
set multiplot layout (npanels > 2 ? 2 : 1), (npanels > 4 ? (npanels + 1) / 2 : 2) \
  title "lockscope: operations per second when each does a ".(blocking ? "sleep (simulated I/O wait)" : "busy loop")." and one locked update, vs threads".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set format y "10^{%T}"
set xrange [T_min / 1.3 : T_max * 1.3]
set xlabel "threads"
set ylabel "operations per second (median, 95% CI)"
set key off
set samples 100
do for [s in slows] {
  set title sprintf("slow operation %s us", s)
  # This panel's y range: its data and both reference lines.
  set autoscale y
  stats [*:*] summary using (fam_ok(0) && slow_of(0) eq s ? column("ci_lo") : NaN) name "A" nooutput
  stats [*:*] summary using (fam_ok(0) && slow_of(0) eq s ? column("ci_hi") : NaN) name "B" nooutput
  lo = A_min < serial(real(s)) ? A_min : serial(real(s))
  hi = B_max > parallel(T_max, real(s)) ? B_max : parallel(T_max, real(s))
  set yrange [lo / 2 : hi * 2]
  eval mark_pus
  plot serial(real(s)) with lines lt 11 dt 2 notitle, \
    parallel(x, real(s)) with lines lt 11 dt 3 notitle, \
    for [i=1:words(variants)] summary \
    using (sel(word(variants,i), s, "threads")):(sel(word(variants,i), s, "median")):\
          (sel(word(variants,i), s, "ci_lo")):(sel(word(variants,i), s, "ci_hi")) \
    with yerrorlines lt style_of(word(variants,i)) title word(variants,i)
}
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset arrow; unset label
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "where the lock is held" font ",12" spacing 1.4
plot for [i=1:words(variants)] NaN with linespoints lt style_of(word(variants,i)) title word(variants,i), \
  NaN with lines lt 11 dt 2 title "one slow operation at a time (nominal length)", \
  NaN with lines lt 11 dt 3 title (blocking ? "one per thread at a time (nominal length)" : "one per PU at a time (nominal length)")
unset multiplot
