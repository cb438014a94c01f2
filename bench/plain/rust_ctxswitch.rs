// rust_ctxswitch.rs: the plain reference of ctxswitch/rust_park on the same-pu pair: the same Rust code syncmark runs (thread::park / unpark on a flag, bench/peers/rust_std.rs), two threads pinned to the first allowed CPU pass a token N times there and back; total time / round trips (ns), median of rounds.
#![allow(dead_code)]

#[path = "rust_plain.rs"]
mod rust_plain;
#[path = "../peers/rust_std.rs"]
mod rust_std;

use std::os::raw::c_int;
use std::sync::atomic::AtomicI32;

/// Round trips per round.
const ROUND_TRIPS: i32 = 20_000;

/// What a round's two threads share (raw pointers: both outlive the round).
struct Pair {
    handoff: *mut rust_std::SmRustHandoff,
    ball: AtomicI32,
}
unsafe impl Sync for Pair {}

impl Pair {
    /// The hand-off (a method, so that a closure captures the whole pair).
    fn h(&self) -> *mut rust_std::SmRustHandoff {
        self.handoff
    }
}

/// One round on CPU `cpu`: the initiator (side 0) sends 2i + 1 and waits
/// for 2i + 2, the responder (side 1) answers. Returns the round trips, or
/// 0 when a pin was refused or an answer was wrong.
fn round(cpu: c_int) -> u64 {
    let pair = Pair {
        handoff: rust_std::sm_rust_handoff_new(),
        ball: AtomicI32::new(0),
    };
    let bad = std::thread::scope(|s| {
        let responder = s.spawn(|| unsafe {
            // A refused pin or a wrong token is reported after the round:
            // the initiator waits for every answer.
            let mut bad = !rust_std::pin(cpu);
            let mut prev = 0;
            for i in 0..ROUND_TRIPS {
                let v = rust_std::sm_rust_park_recv(pair.h(), &pair.ball, 1, prev);
                bad |= v != 2 * i + 1;
                prev = 2 * i + 2;
                rust_std::sm_rust_park_send(pair.h(), &pair.ball, 0, prev);
            }
            bad
        });
        let mut bad = !rust_std::pin(cpu);
        for i in 0..ROUND_TRIPS {
            let out = 2 * i + 1;
            unsafe {
                rust_std::sm_rust_park_send(pair.h(), &pair.ball, 1, out);
                bad |= rust_std::sm_rust_park_recv(pair.h(), &pair.ball, 0, out) != out + 1;
            }
        }
        bad | responder.join().unwrap()
    });
    unsafe { rust_std::sm_rust_handoff_free(pair.handoff) };
    if bad {
        eprintln!("plain: a round trip went wrong");
        return 0;
    }
    ROUND_TRIPS as u64
}

fn main() {
    let Some(cpu) = rust_plain::first_allowed_cpu() else {
        eprintln!("plain: sched_getaffinity failed");
        std::process::exit(1);
    };
    let rate = rust_plain::median_rate(|| round(cpu));
    let rtt = rate.map(|r| 1e9 / r);
    let args = "ctxswitch/rust_park --reps 5";
    std::process::exit(rust_plain::report_at(args, Some("same-pu"), "rtt_ns", rtt));
}
