# contention.gp: contention throughput vs threads, one line per strategy,
# one panel per read percentage; one figure per critical-section length.
# split: cs_ns placement
load dir."/common.gp"

# Every strategy, in a fixed order that fixes its colour; `variants` (set by
# syncmark plot) names those present in the run.
# The rust_* variants take their C twin's colour, dashed (futex_mutex,
# futex_rwlock, atomic_seqcst).
all_variants = "mutex rwlock spin_ttas ticket mcs futex_mutex futex_rwlock atomic_seqcst atomic_relaxed sharded rust_mutex rust_rwlock rust_atomic_seqcst"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = v eq "rust_mutex" ? 12 : v eq "rust_rwlock" ? 13 : \
  v eq "rust_atomic_seqcst" ? 14 : word_index(all_variants, v, 1)
reads = "0 50 90 99 100"
row_ok(v, r) = strcol("benchmark") eq "contention" && \
  strcol("variant") eq v && strcol("metric") eq "ops_per_s" && \
  params_has("read_pct=".r)
sel(v, r, col) = (row_ok(v, r) && split_ok(0)) ? column(col) : NaN

set multiplot layout 2,3 title "contention: throughput of one shared counter vs threads".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set format y "10^{%T}"
set xlabel "threads"
set ylabel "operations per second (median, 95% CI)"
set key off
do for [r in reads] {
  set title sprintf("%s%% reads", r)
  eval mark_pus
  plot for [i=1:words(variants)] summary \
    using (sel(word(variants,i), r, "threads")):(sel(word(variants,i), r, "median")):\
          (sel(word(variants,i), r, "ci_lo")):(sel(word(variants,i), r, "ci_hi")) \
    with yerrorlines lt style_of(word(variants,i)) title word(variants,i)
}
# The sixth cell holds the legend only.
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset arrow; unset label
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "strategy" font ",12" spacing 1.3
plot for [i=1:words(variants)] NaN with linespoints lt style_of(word(variants,i)) title word(variants,i)
unset multiplot
