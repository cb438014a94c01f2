# spawn_vs_pool.gp: tasks per second vs CPU work per task, one panel per
# pool size (1x, 2x, 4x the allowed PUs), one line per strategy: a thread
# per task, the lesson's shared-queue pool, the fast pool (C9, C15); the
# grey dashes are the best a pool of that size could do. One figure per
# blocking sleep of the task.
# split: sleep_ns placement
load dir."/common.gp"

# The rust_* variants take their C twin's colour, dashed.
all_variants = "thread_per_task shared_queue fast rust_thread_per_task rust_lesson_pool"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = v eq "thread_per_task" ? 7 : v eq "rust_thread_per_task" ? 13 : \
  v eq "rust_lesson_pool" ? 15 : word_index(all_variants, v, 1)
# The task's CPU work (params "spin_ns=N;...") on a log axis: 0 ns is
# drawn at 100 ns.
spin_of(x) = strcol("benchmark") eq "spawn_vs_pool" ? \
  real(substr(strcol("params"), 9, strstrt(strcol("params"), ";") - 1)) : NaN
spin_x(x) = spin_of(0) > 0 ? spin_of(0) : 100
fam_ok(x) = strcol("benchmark") eq "spawn_vs_pool" && \
  strcol("metric") eq "tasks_per_s" && split_ok(0)
row_ok(v, t) = fam_ok(0) && strcol("variant") eq v && column("threads") == t
sel(v, t, col) = row_ok(v, t) ? column(col) : NaN
# The task's sleep, from the figure's split value.
sleep_ns = (words(split_keys) > 0 && word(split_keys, 1) eq "sleep_ns") ? \
  real(word(split_values, 1)) : 0
# Best tasks/s of t workers on the PUs: every worker busy with a task,
# and the PUs fully used by its CPU work.
limit(x, t) = x < 1000 ? NaN : \
  (t * 1e9 / (sleep_ns + x) < pus * 1e9 / x ? t * 1e9 / (sleep_ns + x) : pus * 1e9 / x)

if (pus <= 0) { pus = 1 }
# One y range for every panel, from all rows of this figure.
stats summary using (fam_ok(0) ? column("ci_lo") : NaN) name "LO" nooutput
stats summary using (fam_ok(0) ? column("ci_hi") : NaN) name "HI" nooutput
set yrange [LO_min / 2 : HI_max * 3]

set multiplot layout 2,2 title "spawn_vs_pool: tasks per second, batches of tasks submitted back to back, vs CPU work per task".split_title."\n".machine font ",14" noenhanced
set logscale x 10
set logscale y 10
set format y "10^{%T}"
set xtics ("0" 100, "1 us" 1e3, "10 us" 1e4, "100 us" 1e5, "1 ms" 1e6, "10 ms" 1e7)
set offsets graph 0.05, graph 0.05, 0, 0
set xlabel (sleep_ns > 0 ? sprintf("CPU work per task (busy loop), then a %g ms sleep", sleep_ns / 1e6) : "CPU work per task (busy loop), no sleep")
set ylabel "tasks per second (median, 95% CI)"
set key off
set samples 200
do for [m in "1 2 4"] {
  t = pus * m
  set title sprintf("pool of %d workers (%sx the %d PUs)", t, m, pus)
  plot limit(x, t) with lines lt 11 dt 2 notitle, \
    for [i=1:words(variants)] summary \
    using (row_ok(word(variants,i), t) ? spin_x(0) : NaN):(sel(word(variants,i), t, "median")):\
          (sel(word(variants,i), t, "ci_lo")):(sel(word(variants,i), t, "ci_hi")) \
    with yerrorlines lt style_of(word(variants,i)) title word(variants,i)
}
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "strategy" font ",12" spacing 1.4
plot for [i=1:words(variants)] NaN with linespoints lt style_of(word(variants,i)) \
    title word(variants,i) . (word(variants,i) eq "thread_per_task" || word(variants,i) eq "rust_thread_per_task" ? " (no pool: same in every panel)" : ""), \
  NaN with lines lt 11 dt 2 title "best a pool of this size can do"
unset multiplot
