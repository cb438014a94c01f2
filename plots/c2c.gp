# c2c.gp: the core-to-core map: one heatmap per variant of the one-way
# latency of a cache line between every pair of PUs, PUs in topology order
# with package, L3 and core boundaries drawn, and beside them the latency
# per pair class (median over the pairs, range min to max), set beside
# ctxswitch's spin hand-off per pair placement when the run has it.
load dir."/common.gp"

all_variants = "store cas"
if (!exists("variants") || variants eq "") { variants = all_variants }
classes = "smt-sibling same-l3 same-package cross-l3 cross-package"

# params "from=A;to=B": the two OS PUs of a pair.
after(s, k) = substr(s, strstrt(s, k) + strlen(k), strlen(s))
upto_semi(s) = strstrt(s, ";") > 0 ? substr(s, 1, strstrt(s, ";") - 1) : s
from_of(s) = upto_semi(after(s, "from="))
to_of(s) = upto_semi(after(s, "to="))
is_c2c(m) = strcol("benchmark") eq "c2c" && strcol("metric") eq m

# The PUs in topology order: the planner writes the pairs first PU first,
# in topology order, so the order in which PUs first appear is that order.
order = ""
add_pu(p) = strstrt(" ".order." ", " ".p." ") == 0 ? \
  (order = order.(order eq "" ? "" : " ").p, 1) : 0
stats summary using (is_c2c("valid") ? add_pu(from_of(strcol("params"))) + \
  add_pu(to_of(strcol("params"))) : 0) nooutput
n = words(order)
# rank(p): 0-based position of OS PU p in the order.
rank_in(p, i) = i > n ? -1 : (word(order, i) eq p ? i - 1 : rank_in(p, i + 1))
rank(p) = rank_in(p, 1)
rfrom(x) = rank(from_of(strcol("params")))
rto(x) = rank(to_of(strcol("params")))
cell(v, m) = is_c2c(m) && strcol("variant") eq v
# A boundary after rank r: the pair (r, r + 1) of the given class.
edge(v, c) = cell(v, "valid") && strcol("placement") eq c && rto(0) == rfrom(0) + 1

nv = words(variants)
# Per class: the median, least and largest one-way ns over its pairs, per
# variant, and ctxswitch's spin one-way time at the same placement, into
# the datablock $CLASSES (class, series, median, least, largest; series 0
# is ctxswitch).
nc = words(classes)
in_class(j, c) = cell(word(variants, j), "ns_per_op") && \
  strcol("placement") eq word(classes, c)
is_spin(c) = strcol("benchmark") eq "ctxswitch" && strcol("variant") eq "spin" && \
  strcol("metric") eq "oneway_ns" && strcol("placement") eq word(classes, c)
has_spin = 0
set print $CLASSES
print "class,series,median,least,largest"
do for [c = 1:nc] {
  do for [j = 1:nv] {
    stats summary using (in_class(j, c) ? 1 : 0) nooutput
    if (STATS_sum > 0) {
      stats summary using (in_class(j, c) ? column("median") : NaN) nooutput
      print sprintf("%d,%d,%g,%g,%g", c, j, STATS_median, STATS_min, STATS_max)
    }
  }
  stats summary using (is_spin(c) ? 1 : 0) nooutput
  if (STATS_sum > 0) {
    stats summary using (is_spin(c) ? column("median") : NaN) nooutput
    print sprintf("%d,0,%g,%g,%g", c, STATS_median, STATS_median, STATS_median)
    has_spin = 1
  }
}
unset print

set label 99 "grey: the same PU (not measured); hatched: invalid (not above the clock's resolution or the runner's overhead per operation). Lines: white core, orange L3, black package boundaries" at screen 0.01, 0.03 font ",9" noenhanced
set multiplot title "c2c: one-way latency of a cache line between two PUs (median of repetitions)\n".machine font ",14" noenhanced
set palette defined (0 "#fde725", 1 "#5ec962", 2 "#21918c", 3 "#3b528b", 4 "#440154")
set logscale cb 10
# One colour scale for every variant, from the data; widened when it is a
# single value (gnuplot draws nothing on an empty range).
cmin = 1; cmax = 10
stats summary using (is_c2c("ns_per_op") ? 1 : 0) nooutput
if (STATS_sum > 0) {
  stats summary using (is_c2c("ns_per_op") ? column("median") : NaN) nooutput
  cmin = STATS_min; cmax = STATS_max
}
if (cmax < cmin * 1.5) { cmin = cmin / 1.5; cmax = cmax * 1.5 }
set cbrange [cmin:cmax]
if (cmax < cmin * 10) { unset logscale cb } else {
  do for [e = 0:6] { set cbtics add (2 * 10**e, 5 * 10**e) }
}
set format cb "%g"
set cblabel "one-way ns" offset 1,0
set colorbox user origin 0.6, 0.12 size 0.012, 0.7
unset grid
set size square
set xrange [-0.5:n - 0.5]
set yrange [n - 0.5:-0.5]
set xtics () rotate by 90 right font ",8" nomirror
set ytics () font ",8" nomirror
every = n > 32 ? 4 : n > 16 ? 2 : 1
do for [i = 1:n] {
  if ((i - 1) % every == 0) {
    set xtics add (word(order, i) i - 1)
    set ytics add (word(order, i) i - 1)
  }
}
set xlabel "PU (OS index)"
set ylabel "PU (OS index)"
set style fill solid 1.0 noborder
width = 0.58 / nv
do for [j = 1:nv] {
  v = word(variants, j)
  set origin (j - 1) * width, 0.02
  set size width, 0.88
  set title "c2c/".v.(v eq "cas" ? ": compare-and-swap ping-pong" : v eq "store" ? ": load/store ping-pong" : "") font ",11" noenhanced
  set object 1 rect from graph 0, graph 0 to graph 1, graph 1 behind fc rgb "#dddddd" fs solid 1.0
  plot summary using (cell(v, "ns_per_op") ? rfrom(0) : NaN):(rto(0)):(0.5):(0.5):(column("median")) \
         with boxxyerror fc palette notitle, \
       summary using (cell(v, "ns_per_op") ? rto(0) : NaN):(rfrom(0)):(0.5):(0.5):(column("median")) \
         with boxxyerror fc palette notitle, \
       summary using (cell(v, "valid") && column("median") < 1 ? rfrom(0) : NaN):(rto(0)):(0.5):(0.5) \
         with boxxyerror fs pattern 2 lc rgb "#777777" notitle, \
       summary using (cell(v, "valid") && column("median") < 1 ? rto(0) : NaN):(rfrom(0)):(0.5):(0.5) \
         with boxxyerror fs pattern 2 lc rgb "#777777" notitle, \
       summary using (edge(v, "same-l3") || edge(v, "same-package") ? rfrom(0) + 0.5 : NaN):(-0.5):(0):(n) \
         with vectors nohead lw 0.6 dt solid lc rgb "#ffffff" notitle, \
       summary using (edge(v, "same-l3") || edge(v, "same-package") ? -0.5 : NaN):(rfrom(0) + 0.5):(n):(0) \
         with vectors nohead lw 0.6 dt solid lc rgb "#ffffff" notitle, \
       summary using (edge(v, "cross-l3") ? rfrom(0) + 0.5 : NaN):(-0.5):(0):(n) \
         with vectors nohead lw 2.5 dt solid lc rgb "#e76f51" notitle, \
       summary using (edge(v, "cross-l3") ? -0.5 : NaN):(rfrom(0) + 0.5):(n):(0) \
         with vectors nohead lw 2.5 dt solid lc rgb "#e76f51" notitle, \
       summary using (edge(v, "cross-package") ? rfrom(0) + 0.5 : NaN):(-0.5):(0):(n) \
         with vectors nohead lw 4 dt solid lc rgb "#000000" notitle, \
       summary using (edge(v, "cross-package") ? -0.5 : NaN):(rfrom(0) + 0.5):(n):(0) \
         with vectors nohead lw 4 dt solid lc rgb "#000000" notitle
  unset object 1
  unset colorbox
}

unset logscale cb
set origin 0.66, 0.08
set size 0.33, 0.8
set size nosquare
set style fill empty
set title "per pair class: median over its pairs (bars: least to largest pair)" font ",10"
set xrange [0.5:nc + 0.5]
set yrange [*:*]
set autoscale y
set logscale y 10
set xtics () rotate by 30 right font ",9"
do for [c = 1:nc] { set xtics add (word(classes, c) c) }
set ytics auto font ",9"
set xlabel ""
set ylabel "one-way ns"
set grid ytics lc rgb "#dddddd"
set key top left box font ",9"
off(j) = (j - (nv + 1) / 2.0) * 0.25
series(j, col) = column("series") == j ? column(col) : NaN
plot for [j = 1:nv] $CLASSES using (series(j, "class") + off(j)):(series(j, "median")):\
       (series(j, "least")):(series(j, "largest")) \
       with yerrorbars lt j pt 7 ps 1.3 title "c2c ".word(variants, j), \
     $CLASSES using (series(0, "class") + 0.4):(series(0, "median")) \
       with points lt 4 pt 9 ps 1.6 \
       title (has_spin ? "ctxswitch spin, one-way" : "")
unset multiplot
