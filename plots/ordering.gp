# ordering.gp: ns per atomic operation vs threads, one panel per operation
# (store, load, fetch_add, CAS), one line per memory order, each thread on
# its own cache line (solid) or all threads on one line (dashed) (C11).
# split: placement
load dir."/common.gp"

ops = "store load fetch_add cas"
op_titles = "store load fetch\\_add compare-exchange"
# The orders of each operation, weakest first (store: release, load:
# acquire, read-modify-write: acq_rel).
orders_of(op) = op eq "store" ? "relaxed release seq_cst" : \
  (op eq "load" ? "relaxed acquire seq_cst" : "relaxed acq_rel seq_cst")
# Colour per order (relaxed, acquire/release, seq_cst); the marker size
# falls with strength, so orders that compile to one instruction stay
# visible as nested markers.
order_lt(i) = word("2 3 7", i) + 0
order_ps(i) = word("2.0 1.4 0.8", i) + 0
shared_dt(sh) = sh == 0 ? 1 : 2
shared_pt(sh, i) = sh == 0 ? word("7 5 9", i) + 0 : word("6 4 8", i) + 0
row_ok(v, sh) = strcol("benchmark") eq "ordering" && strcol("variant") eq v \
  && strcol("metric") eq "ns_per_op" && params_has("shared=".sh) && split_ok(0)
sel(v, sh, col) = row_ok(v, sh) ? column(col) : NaN

set multiplot layout 2,3 title "ordering: cost of one atomic operation per memory order vs threads".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set xlabel "threads"
set ylabel "ns per operation, per thread (median, 95% CI)"
set key off
do for [k = 1:words(ops)] {
  op = word(ops, k)
  set title word(op_titles, k) enhanced
  eval mark_pus
  plot for [j = 0:5] summary \
    using (sel(op."_".word(orders_of(op), j % 3 + 1), j / 3, "threads")):\
          (sel(op."_".word(orders_of(op), j % 3 + 1), j / 3, "median")):\
          (sel(op."_".word(orders_of(op), j % 3 + 1), j / 3, "ci_lo")):\
          (sel(op."_".word(orders_of(op), j % 3 + 1), j / 3, "ci_hi")) \
    with yerrorlines lt order_lt(j % 3 + 1) dt shared_dt(j / 3) \
    pt shared_pt(j / 3, j % 3 + 1) ps order_ps(j % 3 + 1) notitle
}
# Fifth cell: the legend; sixth: what the instructions are on x86-64.
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid
unset arrow; unset label
unset logscale
set xrange [0:1]; set yrange [0:1]
set key center center box title "order, cache line\n(shared=0: own line; 1: one line)" font ",12" spacing 1.4 width 2
plot for [j = 0:5] NaN with linespoints lt order_lt(j % 3 + 1) \
  dt shared_dt(j / 3) pt shared_pt(j / 3, j % 3 + 1) ps order_ps(j % 3 + 1) \
  title word("relaxed acquire/release seq_cst", j % 3 + 1).\
        (j / 3 == 0 ? ", own line" : ", shared line")
set label 2 "On x86-64 (gcc):\n  relaxed and release stores: mov\n  seq\\_cst store: xchg (a full barrier)\n  loads of every order: mov\n  fetch\\_add, CAS of every order: lock add / lock cmpxchg\nLines of one instruction coincide; only\nseq\\_cst stores and the lock-prefixed\nread-modify-writes pay, and pay more\nwhen threads share the line." at graph 0.02, graph 0.9 left font ",11" enhanced
set key off
plot NaN notitle
unset multiplot
