# common.gp: terminal, CSV and style settings every syncmark figure loads.
# Variables set by `syncmark plot`: summary (summary.csv path), raw
# (raw.csv), series (series.csv, present when a family wrote time series),
# outfile,
# fmt ("png" or "svg"), dir (this folder), machine, pus, and for split
# figures split_keys / split_values (space-separated, matching words).
if (fmt eq "svg") {
  set terminal svg size 1500,900 dynamic enhanced font "sans,12" background "white"
} else {
  set terminal pngcairo size 1500,900 enhanced font "sans,11" background "white"
}
set output outfile
set datafile separator comma
set datafile columnheaders
set datafile missing NaN
set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1
set border lc rgb "#555555"
set key noenhanced

# Ten line styles that stay distinct in colour, point shape and dash, so
# series that coincide (e.g. two memory orders compiling to one instruction)
# remain visible as overlapping markers. The last (grey) is also the style
# of a name missing from a figure's list.
set linetype 1 lc rgb "#7b2cbf" lw 2 pt 7  ps 0.9 dt 1
set linetype 2 lc rgb "#2a9d8f" lw 2 pt 5  ps 0.9 dt 1
set linetype 3 lc rgb "#4ea8de" lw 2 pt 9  ps 1.0 dt 1
set linetype 4 lc rgb "#e76f51" lw 2 pt 11 ps 1.0 dt 1
set linetype 5 lc rgb "#264653" lw 2 pt 13 ps 1.0 dt 2
set linetype 6 lc rgb "#6a994e" lw 2 pt 6  ps 1.2 dt 1
set linetype 7 lc rgb "#d62828" lw 2 pt 4  ps 1.1 dt 1
set linetype 8 lc rgb "#f4a261" lw 2 pt 12 ps 1.2 dt 4
set linetype 9 lc rgb "#b5179e" lw 2 pt 10 ps 1.1 dt 5
set linetype 10 lc rgb "#111111" lw 2 pt 15 ps 1.0 dt 1
set linetype 11 lc rgb "#9e9e9e" lw 1 pt 8  ps 0.8 dt 3
# Rust std twins (the rust_* variants): the colour of their C twin's style,
# an open marker and a dashed line, so a C line and its Rust twin pair up.
set linetype 12 lc rgb "#6a994e" lw 2 pt 1  ps 1.2 dt 2
set linetype 13 lc rgb "#d62828" lw 2 pt 2  ps 1.1 dt 2
set linetype 14 lc rgb "#f4a261" lw 2 pt 3  ps 1.2 dt 2
set linetype 15 lc rgb "#2a9d8f" lw 2 pt 1  ps 0.9 dt 2
set linetype 16 lc rgb "#7b2cbf" lw 2 pt 2  ps 0.9 dt 2

# word_index(list, w, 1): position of word w in the space-separated list
# (1-based), or 11 (the grey style) when absent.
word_index(list, w, i) = (i > words(list)) ? 11 : \
  (word(list, i) eq w ? i : word_index(list, w, i + 1))

# machine (host, CPU, PUs) and pus (allowed PUs) come from machine.csv.
if (!exists("machine")) { machine = "" }
if (!exists("pus")) { pus = 0 }
# mark_pus: a dashed vertical line where threads exceed the allowed PUs.
mark_pus = "if (pus > 0) { set arrow 1 from pus, graph 0 to pus, graph 1 nohead dt 3 lc rgb '#888888'; set label 1 'PUs' at pus, graph 0.96 offset 0.5,0 tc rgb '#888888' font ',9' } else { unset arrow 1; unset label 1 }"

# params_has(p): 1 when the params column of the current row holds p
# ("read_pct=90"), matched as a whole key=value item.
params_has(p) = strstrt(";".strcol("params").";", ";".p.";") > 0
# split_ok(x): 1 when the current row belongs to this figure: for each word
# of split_keys, the row's placement column (key "placement") or params item
# equals the matching word of split_values. Without split_keys, always 1.
if (!exists("split_keys")) { split_keys = ""; split_values = "" }
key_ok(k, v) = (k eq "placement") ? (strcol("placement") eq v) : params_has(k."=".v)
split_from(i) = (i > words(split_keys)) ? 1 : \
  (key_ok(word(split_keys, i), word(split_values, i)) ? split_from(i + 1) : 0)
split_ok(x) = split_from(1)
# split_title: " (cs_ns = 0, placement = compact)" for the figure title.
split_title = ""
do for [i = 1:words(split_keys)] {
  split_title = split_title.(i == 1 ? "  (" : ", ").word(split_keys, i)." = ".word(split_values, i).(i == words(split_keys) ? ")" : "")
}
