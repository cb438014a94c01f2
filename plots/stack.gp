# stack.gp: what a thread's stack costs (C2, C3). Left: virtual (VmSize)
# vs resident (VmRSS) memory each idle thread adds, over the stack size, per
# touched depth, with mincore over the stacks as the check. Right: the time
# to create a thread: one spawn+join at a time (syncmark's threads and
# Rust std's thread::Builder, where it ran), and each of many at once.
load dir."/common.gp"

# Touched depths a run may hold; those present get a line each, in order.
touch_all = "0 4 16 64 256 1024 4096 16384 65536"
row_ok(v, m, t) = strcol("benchmark") eq "stack" && strcol("variant") eq v && \
  strcol("metric") eq m && params_has("touch_kib=".t)
sel(v, m, t, col) = row_ok(v, m, t) ? column(col) : NaN
# The stack size of a stack row (NaN for rows of other families).
stack_kib(x) = strcol("benchmark") eq "stack" ? \
  real(substr(strcol("params"), 11, strstrt(strcol("params"), ";") - 1)) : NaN
touches = ""
do for [t in touch_all] {
  stats summary using (row_ok("idle", "rss_kib_per_thread", t) || \
    row_ok("spawn_join", "spawn_join_p50_ns", t) ? 1 : 0) nooutput
  if (STATS_sum > 0) { touches = touches." ".t }
}
# One colour per touched depth (the first for 0 KiB).
touch_lt(i) = i + 1

set multiplot layout 1,2 title "stack: what a thread's stack costs, over its size\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set format x "%.0f"
set xlabel "stack size (KiB, log scale)"
set grid xtics ytics mytics
set offsets graph 0.03, graph 0.03, 0, 0
# The lesson's 2 MB and glibc's default (RLIMIT_STACK, usually 8 MiB).
set arrow 1 from 2048, graph 0 to 2048, graph 1 nohead dt 3 lc rgb "#888888"
set arrow 2 from 8192, graph 0 to 8192, graph 1 nohead dt 3 lc rgb "#888888"
set label 1 "lesson: 2 MB" at 2048, graph 0.03 right offset -0.5,0 tc rgb "#666666" font ",9"
set label 2 "glibc default 8 MiB" at 8192, graph 0.03 left offset 0.5,0 tc rgb "#666666" font ",9"

# A run without the idle variant leaves the memory panel empty, said so.
stats summary using (strcol("benchmark") eq "stack" && strcol("variant") eq "idle" ? 1 : 0) nooutput
if (STATS_sum == 0) {
  set xrange [16:65536]; set yrange [1:65536]
  set label 3 "idle not measured in this run" at graph 0.5, graph 0.5 center font ",12" tc rgb "#888888"
}
set title "memory each idle thread adds (median over reps)"
set ylabel "KiB per thread (log scale)"
set format y "%.0f"
set key top left box opaque spacing 1.2 font ",10"
plot x with lines lc rgb "#888888" dt 2 lw 1 title "y = stack size", \
  for [i=1:1] summary using (stack_kib(0)):(sel("idle", "vm_kib_per_thread", word(touches,1), "median")) \
    with linespoints lt 1 lw 3 pt 7 title "virtual (VmSize): reserved", \
  for [i=1:words(touches)] summary using (stack_kib(0)):(sel("idle", "rss_kib_per_thread", word(touches,i), "median")) \
    with linespoints lt touch_lt(i) dt 1 title sprintf("resident (VmRSS), %s KiB touched", word(touches,i)), \
  for [i=1:words(touches)] summary using (stack_kib(0)):(sel("idle", "stack_rss_kib_per_thread", word(touches,i), "median")) \
    with points lt touch_lt(i) pt 6 ps 2 title sprintf("mincore of stacks, %s KiB", word(touches,i))

unset label 3; set autoscale x; set autoscale y
set title "time to create a thread (median over reps)"
# Head room above the data for the legend.
set offsets graph 0.03, graph 0.03, graph 0.45, 0
set ylabel "microseconds per thread (log scale)"
set format y "%.0f"
set key top left box opaque spacing 1.2 font ",10"
plot for [i=1:words(touches)] summary using (stack_kib(0)):(sel("spawn_join", "spawn_join_p50_ns", word(touches,i), "median") / 1000) \
    with linespoints lt touch_lt(i) dt 1 title sprintf("spawn+join one at a time (p50), %s KiB touched", word(touches,i)), \
  for [i=1:words(touches)] summary using (stack_kib(0)):(sel("rust_spawn_join", "spawn_join_p50_ns", word(touches,i), "median") / 1000) \
    with linespoints lt touch_lt(i) dt 3 pt 1 title sprintf("Rust std thread::Builder spawn+join (p50), %s KiB", word(touches,i)), \
  for [i=1:words(touches)] summary using (stack_kib(0)):(sel("idle", "spawn_ns_per_thread", word(touches,i), "median") / 1000) \
    with linespoints lt touch_lt(i) dt 2 pt 4 title sprintf("spawn of many alive at once, per thread, %s KiB", word(touches,i))
unset multiplot
