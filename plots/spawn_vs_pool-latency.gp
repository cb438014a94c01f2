# spawn_vs_pool-latency.gp: latency of the tasks of a batch, from just
# before the submit (or spawn) to the task's start (p50, p99) and to its
# end (p99), vs CPU work per task; one panel per pool size (1x, 2x, 4x the
# allowed PUs), one colour per strategy (C9, C15). One figure per blocking
# sleep of the task.
# split: sleep_ns placement
load dir."/common.gp"

# The rust_* variants take their C twin's colour, dashed.
all_variants = "thread_per_task shared_queue fast rust_thread_per_task rust_lesson_pool"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = v eq "thread_per_task" ? 7 : v eq "rust_thread_per_task" ? 13 : \
  v eq "rust_lesson_pool" ? 15 : word_index(all_variants, v, 1)
spin_of(x) = strcol("benchmark") eq "spawn_vs_pool" ? \
  real(substr(strcol("params"), 9, strstrt(strcol("params"), ";") - 1)) : NaN
spin_x(x) = spin_of(0) > 0 ? spin_of(0) : 100
metrics = "start_p50_ns start_p99_ns done_p99_ns"
metric_names = "start-p50 start-p99 done-p99"
dash_of(k) = k == 1 ? 1 : (k == 2 ? 2 : 3)
fam_ok(x) = strcol("benchmark") eq "spawn_vs_pool" && split_ok(0) && \
  (strcol("metric") eq "start_p50_ns" || strcol("metric") eq "start_p99_ns" || \
   strcol("metric") eq "done_p99_ns")
row_ok(v, t, m) = fam_ok(0) && strcol("variant") eq v && \
  column("threads") == t && strcol("metric") eq m
sleep_ns = (words(split_keys) > 0 && word(split_keys, 1) eq "sleep_ns") ? \
  real(word(split_values, 1)) : 0

if (pus <= 0) { pus = 1 }
stats summary using (fam_ok(0) ? column("median") : NaN) name "Y" nooutput
set yrange [Y_min * 1e-9 / 2 : Y_max * 1e-9 * 3]

set multiplot layout 2,2 title "spawn_vs_pool: latency of the tasks of a batch, from submit to start and to end".split_title."\n".machine font ",14" noenhanced
set logscale x 10
set logscale y 10
set format y "%.0s %cs"
set xtics ("0" 100, "1 us" 1e3, "10 us" 1e4, "100 us" 1e5, "1 ms" 1e6, "10 ms" 1e7)
set offsets graph 0.05, graph 0.05, 0, 0
set xlabel (sleep_ns > 0 ? sprintf("CPU work per task (busy loop), then a %g ms sleep", sleep_ns / 1e6) : "CPU work per task (busy loop), no sleep")
set ylabel "latency (median of the repetitions' percentiles)"
set key off
do for [m in "1 2 4"] {
  t = pus * m
  set title sprintf("pool of %d workers (%sx the %d PUs)", t, m, pus)
  plot for [i=1:words(variants)] for [k=1:3] summary \
    using (row_ok(word(variants,i), t, word(metrics,k)) ? spin_x(0) : NaN):\
          (row_ok(word(variants,i), t, word(metrics,k)) ? column("median") * 1e-9 : NaN) \
    with linespoints lt style_of(word(variants,i)) dt dash_of(k) \
    title word(variants,i)." ".word(metric_names,k)
}
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "strategy and latency" font ",12" spacing 1.2 maxrows 9
plot for [i=1:words(variants)] for [k=1:3] NaN with linespoints lt style_of(word(variants,i)) dt dash_of(k) \
    title word(variants,i)." ".word(metric_names,k)
unset multiplot
