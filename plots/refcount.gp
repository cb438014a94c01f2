# refcount.gp: cost of one clone + release of a shared reference vs
# threads: Arc on one shared object, Arc per thread, Rc per thread (C13).
# split: placement
load dir."/common.gp"

# The rust_* variants take their C twin's colour, dashed.
all_variants = "arc_shared arc_private rc_private rust_arc_shared rust_arc_private"
if (!exists("variants") || variants eq "") { variants = all_variants }
style_of(v) = v eq "rust_arc_shared" ? 16 : v eq "rust_arc_private" ? 15 : \
  word_index(all_variants, v, 1)
sel(v, col) = (strcol("benchmark") eq "refcount" && strcol("variant") eq v && \
  strcol("metric") eq "ns_per_op" && split_ok(0)) ? column(col) : NaN

set title "refcount: one clone + release of a shared reference, per thread".split_title."\n".machine font ",14" noenhanced
set logscale x 2
set logscale y 10
set xlabel "threads"
set ylabel "ns per clone + release, per thread (median, 95% CI)"
set key outside right top box title "strategy" spacing 1.3
eval mark_pus
plot for [i=1:words(variants)] summary \
  using (sel(word(variants,i), "threads")):(sel(word(variants,i), "median")):\
        (sel(word(variants,i), "ci_lo")):(sel(word(variants,i), "ci_hi")) \
  with yerrorlines lt style_of(word(variants,i)) title word(variants,i)
