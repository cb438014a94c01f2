# deadlock.gp: the lesson's two threads and two locks (C17): throughput of
# the safe variants, how many repetitions of each variant deadlocked, and
# how soon the unordered one did, per pair placement; one figure per hold.
# split: hold_ns
load dir."/common.gp"

all_variants = "unordered ordered trylock_backoff"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = word("7 2 3", word_index(all_variants, v, 1)) + 0
# The pair placements present in this figure, in a fixed order.
all_places = "same-pu smt-sibling same-l3 cross-l3 cross-package none"
places = ""
do for [i = 1:words(all_places)] {
  p = word(all_places, i)
  stats summary using ((strcol("benchmark") eq "deadlock" && \
    strcol("placement") eq p && split_ok(0)) ? 1 : 0) nooutput
  if (STATS_sum > 0) { places = places.(places eq "" ? "" : " ").p }
}
nplaces = words(places)
# x of variant v at placement p: the placement's slot plus the variant's
# offset within the group.
xpos(v, p) = word_index(places, p, 1) + \
  (word_index(all_variants, v, 1) - 2) * 0.27
row_ok(v, m) = strcol("benchmark") eq "deadlock" && strcol("variant") eq v \
  && strcol("metric") eq m && split_ok(0)
sel(v, m, col) = row_ok(v, m) ? column(col) : NaN
xsel(v, m) = row_ok(v, m) ? xpos(v, strcol("placement")) : NaN
# The deadlocked repetitions k of n: mean of the 0/1 metric times n.
k_of(v) = row_ok(v, "deadlocked") ? floor(column("mean") * column("n") + 0.5) : NaN

set multiplot layout 1,3 title "deadlock: two threads, two locks taken in opposite orders (unordered), one order, or the second by trylock with back-off".split_title."\n".machine font ",14" noenhanced
set style fill solid 0.75 border -1
set boxwidth 0.25
set xrange [0.5:nplaces + 0.5]
set xtics () nomirror
do for [i = 1:nplaces] { set xtics add (word(places, i) i) }
set xlabel "pair placement"
set grid noxtics
set key top left box opaque

set title "throughput (repetitions that did not deadlock)"
set logscale y 10
set format y "10^{%T}"
set ylabel "lock pairs per second, both threads (median, 95% CI)"
plot for [v in variants] summary \
  using (xsel(v, "ops_per_s")):(sel(v, "ops_per_s", "median")):\
        (sel(v, "ops_per_s", "ci_lo")):(sel(v, "ops_per_s", "ci_hi")):(0.25) \
  with boxerrorbars lc style_of(v) title v

set title "repetitions that deadlocked (k of n)\n(detector: both threads hold one lock, unchanged over two looks)"
unset logscale y
set format y "%g"
stats summary using (row_ok("unordered", "deadlocked") ? column("n") : 0) nooutput
if (STATS_max <= 12) { set ytics 1 } else { set ytics autofreq }
set ylabel "deadlocked repetitions"
set yrange [0:*]
set offsets 0, 0, 1, 0
plot for [v in variants] summary \
  using (xsel(v, "deadlocked")):(k_of(v)) with boxes lc style_of(v) title v, \
  for [v in variants] summary \
  using (xsel(v, "deadlocked")):(k_of(v)):\
        (row_ok(v, "deadlocked") ? sprintf("%d/%d", k_of(v), column("n")) : "") \
  with labels offset 0, 0.8 font ",10" notitle
set offsets 0, 0, 0, 0
set ytics autofreq

set title "unordered: time from start to deadlock"
set logscale y 10
set format y "%g"
set yrange [*:*]
set ylabel "ms (median, 95% CI; resolution: the detector's 0.5 ms look)"
plot summary \
  using (xsel("unordered", "time_to_deadlock_ms")):\
        (sel("unordered", "time_to_deadlock_ms", "median")):\
        (sel("unordered", "time_to_deadlock_ms", "ci_lo")):\
        (sel("unordered", "time_to_deadlock_ms", "ci_hi")):(0.25) \
  with boxerrorbars lc style_of("unordered") title "unordered"
unset multiplot
