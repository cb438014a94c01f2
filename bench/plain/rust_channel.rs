// rust_channel.rs: the plain reference of channel/rust_std's fixed batch: the same Rust code syncmark runs (std::sync::mpsc in bench/peers/rust_std.rs), one producer thread sends N 8-byte messages, bounded (sync_channel(1024)) and unbounded (channel()), then drops its sender; the consumer drains until disconnected; total time (the producer's start included), median of rounds.
#![allow(dead_code)]

#[path = "rust_plain.rs"]
mod rust_plain;
#[path = "../peers/rust_std.rs"]
mod rust_std;

use std::thread;

/// Messages per round: the family's largest batch.
const MESSAGES: u64 = 262_144;

/// The channel, sent to the producer thread (the C ABI's handle).
struct Chan(*mut rust_std::SmRustChan);
unsafe impl Send for Chan {}

/// One round through a new channel of `capacity` (negative: unbounded):
/// MESSAGES, or 0 when a message is missing or out of order.
fn round(capacity: i64) -> u64 {
    let ch = rust_std::sm_rust_chan_new(8, capacity, 1);
    let tx = Chan(ch);
    let producer = thread::spawn(move || unsafe {
        let tx = tx;
        for i in 0..MESSAGES {
            if rust_std::sm_rust_chan_send(tx.0, 0, &i as *const u64 as *const u8) != 0 {
                break;
            }
        }
        rust_std::sm_rust_chan_sender_done(tx.0, 0);
    });
    let mut got = 0u64;
    let mut v = 0u64;
    while unsafe { rust_std::sm_rust_chan_recv(ch, &mut v as *mut u64 as *mut u8) } == 1 {
        if v != got {
            break;
        }
        got += 1;
    }
    producer.join().unwrap();
    unsafe { rust_std::sm_rust_chan_free(ch) };
    if got != MESSAGES {
        eprintln!("plain: {} of {} messages in order", got, MESSAGES);
        return 0;
    }
    MESSAGES
}

fn main() {
    let mut status = 0;
    for (capacity, param) in [(1024i64, "1024"), (-1, "-1")] {
        let rate = rust_plain::median_rate(|| round(capacity));
        let args = format!(
            "channel/rust_std --threads 1 --placement none --param capacity={} \
             --param msg_bytes=8 --param batch_msgs={}",
            param, MESSAGES
        );
        status |= rust_plain::report(&args, "msgs_per_s", rate);
    }
    std::process::exit(status);
}
