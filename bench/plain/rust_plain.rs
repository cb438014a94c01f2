// rust_plain.rs: what the Rust plain references share (bench/plain/plain.h's Rust twin): the median rate of rounds and the block scripts/plain_check.py reads.

use std::time::Instant;

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

/// Prints the block (case, metric, plain) and returns the exit status: 0,
/// or 1 when the measurement failed.
pub fn report(syncmark_args: &str, metric: &str, rate: Option<f64>) -> i32 {
    println!("case: {}", syncmark_args);
    println!("metric: {}", metric);
    match rate {
        Some(r) => {
            println!("plain: {:.6e}", r);
            0
        }
        None => {
            eprintln!("plain: a round failed");
            1
        }
    }
}
