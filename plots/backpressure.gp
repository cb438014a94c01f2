# backpressure.gp: a producer faster than its consumer, over the measured
# window (C8): process RSS, queue depth and the producer's blocked share, one
# line per capacity (first repetition), from the points the consumer took;
# syncmark's channel in red and blues, Rust std's mpsc in orange, green
# and magenta. Bounded stays flat and
# blocks; unbounded grows.
# split: consumer_ns
load dir."/common.gp"

caps = "16 1024 -1"
variants = "syncmark rust_std"
cap_name(v, c) = ((c eq "-1") ? "unbounded" : "bounded ".c).((v eq "rust_std") ? " (Rust std)" : "")
style_of(v, c) = (v eq "rust_std") ? ((c eq "-1") ? 8 : (c eq "16") ? 6 : 9) : \
  ((c eq "-1") ? 7 : (c eq "16") ? 2 : 3)
sel(v, c, s, col) = (strcol("benchmark") eq "backpressure" && strcol("variant") eq v && \
  strcol("series") eq s && params_has("capacity=".c) && column("rep") == 1 && split_ok(0)) ? column(col) : NaN

set multiplot layout 3,1 title "backpressure: a fast producer, a slow consumer (first repetition)".split_title."\n".machine font ",14" noenhanced
set xlabel "time since the measured window began (s)"
set key outside right top box title "channel" spacing 1.2
set title "process RSS: unbounded grows with the queue, bounded stays flat"
set ylabel "RSS (MiB)"
plot for [v in variants] for [c in caps] series using (sel(v, c, "rss_mib", "t_s")):(sel(v, c, "rss_mib", "value")) \
  with linespoints lt style_of(v, c) ps 0.5 title cap_name(v, c)
set title "queue depth"
set logscale y 10
set ylabel "messages queued"
set yrange [1:*]
plot for [v in variants] for [c in caps] series using (sel(v, c, "depth", "t_s")):(sel(v, c, "depth", "value") < 1 ? 1 : sel(v, c, "depth", "value")) \
  with linespoints lt style_of(v, c) ps 0.5 title cap_name(v, c)
unset logscale y
set yrange [-0.05:1.05]
set title "share of time the producer is blocked in a refused send (consumer's polls since the previous point)"
set ylabel "blocked share"
plot for [v in variants] for [c in caps] series using (sel(v, c, "blocked_share", "t_s")):(sel(v, c, "blocked_share", "value")) \
  with linespoints lt style_of(v, c) ps 0.5 title cap_name(v, c)
unset multiplot
