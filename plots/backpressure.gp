# backpressure.gp: a producer faster than its consumer, over the measured
# window (C8): process RSS, queue depth and the producer's blocked share, one
# line per capacity (first repetition), from the points the consumer took.
# Bounded stays flat and blocks; unbounded grows.
# split: consumer_ns
load dir."/common.gp"

caps = "16 1024 -1"
cap_name(c) = (c eq "-1") ? "unbounded" : "bounded ".c
style_of(c) = (c eq "-1") ? 7 : (c eq "16") ? 2 : 3
sel(c, s, col) = (strcol("benchmark") eq "backpressure" && strcol("series") eq s && \
  params_has("capacity=".c) && column("rep") == 1 && split_ok(0)) ? column(col) : NaN

set multiplot layout 3,1 title "backpressure: a fast producer, a slow consumer (first repetition)".split_title."\n".machine font ",14" noenhanced
set xlabel "time since the measured window began (s)"
set key outside right top box title "channel" spacing 1.2
set title "process RSS: unbounded grows with the queue, bounded stays flat"
set ylabel "RSS (MiB)"
plot for [c in caps] series using (sel(c, "rss_mib", "t_s")):(sel(c, "rss_mib", "value")) \
  with linespoints lt style_of(c) ps 0.5 title cap_name(c)
set title "queue depth"
set logscale y 10
set ylabel "messages queued"
set yrange [1:*]
plot for [c in caps] series using (sel(c, "depth", "t_s")):(sel(c, "depth", "value") < 1 ? 1 : sel(c, "depth", "value")) \
  with linespoints lt style_of(c) ps 0.5 title cap_name(c)
unset logscale y
set yrange [-0.05:1.05]
set title "share of time the producer is blocked in a refused send (consumer's polls since the previous point)"
set ylabel "blocked share"
plot for [c in caps] series using (sel(c, "blocked_share", "t_s")):(sel(c, "blocked_share", "value")) \
  with linespoints lt style_of(c) ps 0.5 title cap_name(c)
unset multiplot
