// rust_contention.rs: the plain reference of contention/rust_mutex at read_pct=0, cs_ns=0, one thread: the same Rust code syncmark runs (std::sync::Mutex<u64> in bench/peers/rust_std.rs), N lock / increment / unlock; total time, median of rounds.
#![allow(dead_code)]

#[path = "rust_plain.rs"]
mod rust_plain;
#[path = "../peers/rust_std.rs"]
mod rust_std;

/// Lock / increment / unlock operations of one round.
const OPS: u64 = 20_000_000;

fn main() {
    let counter = rust_std::sm_rust_counter_new();
    let mut mix = rust_std::SmRustMix::writes_only();
    let mut expected = 0;
    let rate = rust_plain::median_rate(|| unsafe {
        let mut writes = 0;
        for _ in 0..OPS / rust_plain::PASS_OPS {
            writes += rust_std::sm_rust_counter_pass(
                counter,
                rust_std::SmRustGuard::Mutex,
                &mut mix,
                rust_plain::PASS_OPS,
                0,
            );
        }
        expected += OPS;
        let value = rust_std::sm_rust_counter_value(counter, rust_std::SmRustGuard::Mutex);
        if writes != OPS || value != expected {
            eprintln!(
                "plain: {} writes, counter {}, expected {}",
                writes, value, expected
            );
            return 0;
        }
        OPS
    });
    unsafe { rust_std::sm_rust_counter_free(counter) };
    let args = "contention/rust_mutex --threads 1 --placement none --param read_pct=0 \
                --param cs_ns=0 --reps 5";
    std::process::exit(rust_plain::report(args, "ops_per_s", rate));
}
