// rust_refcount.rs: the plain reference of refcount/rust_arc_private, one thread: the same Rust code syncmark runs (Arc::clone + drop in bench/peers/rust_std.rs), N pairs on the thread's own Arc; total time, median of rounds.
#![allow(dead_code)]

#[path = "rust_plain.rs"]
mod rust_plain;
#[path = "../peers/rust_std.rs"]
mod rust_std;

/// Clone + drop pairs of one round.
const OPS: u64 = 20_000_000;

fn main() {
    let arcs = rust_std::sm_rust_arcs_new(1);
    let rate = rust_plain::median_rate(|| unsafe {
        for _ in 0..OPS / rust_plain::PASS_OPS {
            rust_std::sm_rust_arcs_pass(arcs, 0, rust_plain::PASS_OPS);
        }
        if rust_std::sm_rust_arcs_not_released(arcs) != 0 {
            eprintln!("plain: an Arc is not back to one reference");
            return 0;
        }
        OPS
    });
    unsafe { rust_std::sm_rust_arcs_free(arcs) };
    let args = "refcount/rust_arc_private --threads 1 --placement none --reps 5";
    std::process::exit(rust_plain::report(args, "ops_per_s", rate));
}
