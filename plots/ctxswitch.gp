# ctxswitch.gp: token ping-pong round trip per mechanism, one colour per
# pair placement (top, log scale), and the context switches each round
# trip cost (bottom: filled = voluntary, open = involuntary) (C1).
load dir."/common.gp"

all_variants = "futex pipe perf_pipe eventfd condvar rust_condvar park rust_park spin futex_1thread pipe_1thread eventfd_1thread condvar_1thread park_1thread"
if (!exists("variants") || variants eq "") { variants = all_variants }
all_places = "same-pu smt-sibling same-l3 cross-l3 cross-package none"
# The placements present in the run (a legend entry only for those).
places = ""
do for [p in all_places] {
  stats summary using ((strcol("benchmark") eq "ctxswitch" && strcol("placement") eq p) ? 1 : 0) nooutput
  if (STATS_sum > 0) { places = places.(places eq "" ? "" : " ").p }
}
np = words(places)
# Style of a placement: fixed, so colours match across runs and machines.
style_of(p) = word_index(all_places, p, 1)
# x of variant i in placement j: clustered around i.
xpos(i, j) = i + (j - (np + 1) / 2.0) * 0.7 / (np > 1 ? np - 1 : 1)
sel(v, p, m, col) = (strcol("benchmark") eq "ctxswitch" && strcol("variant") eq v && \
  strcol("placement") eq p && strcol("metric") eq m) ? column(col) : NaN

set xtics () noenhanced rotate by 30 right font ",10" nomirror
do for [i = 1:words(variants)] { set xtics add (word(variants, i) i) }
set xrange [0.4:words(variants) + 0.6]
unset mxtics
set grid noxtics
# Dotted lines between variants; the paired ones are left of *_1thread.
do for [i = 1:words(variants) - 1] {
  set arrow i from i + 0.5, graph 0 to i + 0.5, graph 1 nohead dt 3 lc rgb "#cccccc"
}

set multiplot layout 2,1 title "ctxswitch: passing a token between two threads\n".machine font ",14" noenhanced
set lmargin 12; set rmargin 24

set title "round trip (median of repetitions, 95% CI; *\\_1thread: the same calls in one thread, no partner)"
set logscale y 10
set format y "10^{%T}"
set ylabel "ns per round trip"
set key outside right top box title "placement" spacing 1.2
plot for [j = 1:np] summary \
  using (xpos(word_index(variants, strcol("variant"), 1), j)):\
        (sel(strcol("variant"), word(places, j), "rtt_ns", "median")):\
        (sel(strcol("variant"), word(places, j), "rtt_ns", "ci_lo")):\
        (sel(strcol("variant"), word(places, j), "rtt_ns", "ci_hi")) \
  with yerrorbars lt style_of(word(places, j)) pt 7 ps 1.2 title word(places, j)

set title "context switches per round trip, both threads (filled: voluntary, open: involuntary)"
unset logscale y
set format y "%g"
set yrange [0:*]
set ylabel "switches per round trip"
set key off
plot for [j = 1:np] summary \
  using (xpos(word_index(variants, strcol("variant"), 1), j)):\
        (sel(strcol("variant"), word(places, j), "vcsw_per_rtt", "median")) \
  with points lt style_of(word(places, j)) pt 7 ps 1.3 notitle, \
     for [j = 1:np] summary \
  using (xpos(word_index(variants, strcol("variant"), 1), j)):\
        (sel(strcol("variant"), word(places, j), "ivcsw_per_rtt", "median")) \
  with points lt style_of(word(places, j)) pt 6 ps 1.6 notitle
unset multiplot
