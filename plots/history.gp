# history.gp: one family's metric over commits on one machine, each series
# (variant, params, threads, placement) relative to its first commit, with
# the commits `compare` would flag against the one before marked.
# Variables set by `syncmark history`: data (history.csv), family,
# machine_id, metric, unit, direction, series_ids (the series numbers of
# this figure), series_variants (their variants, word for word), variants
# (distinct, for colours and the key), commits (labels of commit_index
# 1..n), machine, plus common.gp's fmt, outfile and dir.
summary = data
load dir."/common.gp"

style_of(v) = word_index(variants, v, 1)
in_figure(x) = strcol("machine") eq machine_id && \
  strcol("benchmark") eq family && strcol("metric") eq metric
sel(i, col) = (in_figure(0) && column("series") == i) ? column(col) : NaN
regressed(col) = (in_figure(0) && strcol("verdict") eq "REGRESSED") ? \
  column(col) : NaN

better = direction eq "higher" ? "higher is better" : \
  (direction eq "lower" ? "lower is better" : "no direction")
set title "history: ".family." ".metric." (".unit.", ".better.") over commits\n".machine font ",14" noenhanced
set xlabel "commit (oldest first)"
set ylabel "median relative to the first commit (95% CI; 1 = unchanged)" noenhanced
set xrange [0.5:words(commits) + 0.5]
set xtics () rotate by -30 noenhanced
do for [i = 1:words(commits)] { set xtics add (word(commits, i) i) }
set mxtics 1
set offsets 0, 0, graph 0.08, 0
set yrange [0:*]
set key outside below center horizontal box spacing 1.3 width 2
set bmargin 8
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead dt 3 lc rgb "#888888"

plot for [v in variants] NaN with linespoints lt style_of(v) title v, \
  for [k = 1:words(series_ids)] data \
    using (sel(int(word(series_ids, k)), "commit_index")):\
          (sel(int(word(series_ids, k)), "relative")):\
          (sel(int(word(series_ids, k)), "relative_lo")):\
          (sel(int(word(series_ids, k)), "relative_hi")) \
    with yerrorlines lt style_of(word(series_variants, k)) notitle, \
  data using (regressed("commit_index")):(regressed("relative")) \
    with points pt 6 ps 3.5 lw 3 lc rgb "#d62828" \
    title "REGRESSED vs the commit before (compare's rule)", \
  data using (regressed("commit_index")):(regressed("relative")):\
    (sprintf("%s t=%d %+.0f%%", strcol("variant"), column("threads"), \
             100 * column("change"))) \
    with labels offset 0, 2.2 tc rgb "#d62828" font ",10" noenhanced notitle
