// rust_plain.rs: what the Rust plain references share (bench/plain/plain.h's Rust twin): the median rate of rounds and the block scripts/plain_check.py reads.

use std::os::raw::c_int;
use std::time::Instant;

extern "C" {
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> c_int;
}

/// The lowest CPU the process may run on: where syncmark's same-pu pair
/// puts both threads (its first allowed PU). None when the OS says nothing.
pub fn first_allowed_cpu() -> Option<c_int> {
    let mut mask = [0u64; 16]; // cpu_set_t: 1024 CPUs
    if unsafe { sched_getaffinity(0, std::mem::size_of_val(&mask), mask.as_mut_ptr()) } != 0 {
        return None;
    }
    (0..1024).find(|&i| mask[(i / 64) as usize] & (1 << (i % 64)) != 0)
}

/// Rounds of one measurement (plain.h's SM_PLAIN_ROUNDS).
pub const ROUNDS: usize = 5;

/// Operations of one call into rust_std.rs, as the families' rust_*
/// workers make it (their RUST_PASS_OPS).
pub const PASS_OPS: u64 = 64;

/// Runs `round` ROUNDS times, each timed in whole, and returns the median
/// of operations per second; None when a round failed (returned 0
/// operations, having said why on stderr).
pub fn median_rate(mut round: impl FnMut() -> u64) -> Option<f64> {
    let mut rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let ops = round();
        let ns = t0.elapsed().as_nanos() as f64;
        if ops == 0 {
            return None;
        }
        rates.push(ops as f64 * 1e9 / ns);
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Some(rates[ROUNDS / 2])
}

/// Prints the block (case, placement when given, metric, plain) and
/// returns the exit status: 0, or 1 when the measurement failed. The
/// placement line picks one row of a family whose cases are pair
/// placements (plain.h's sm_plain_report_at).
pub fn report_at(syncmark_args: &str, placement: Option<&str>, metric: &str, value: Option<f64>) -> i32 {
    println!("case: {}", syncmark_args);
    if let Some(p) = placement {
        println!("placement: {}", p);
    }
    println!("metric: {}", metric);
    match value {
        Some(v) => {
            println!("plain: {:.6e}", v);
            0
        }
        None => {
            eprintln!("plain: a round failed");
            1
        }
    }
}

/// report_at for a case the arguments select alone.
pub fn report(syncmark_args: &str, metric: &str, rate: Option<f64>) -> i32 {
    report_at(syncmark_args, None, metric, rate)
}
