// mpsc.rs: peer of mpsc.c measuring Rust's std::sync::mpsc throughput (P producers, one consumer) as syncmark raw CSV rows.
use std::process::exit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

const USAGE: &str = "usage: mpsc-rust --producers P --capacity N|unbounded --messages M --reps R";

/// Prints `why` on one line of stderr and exits with status 2.
fn usage_error(why: &str) -> ! {
    eprintln!("mpsc-rust: {}", why);
    exit(2);
}

/// Prints `why` (a failed self-check) on stderr and exits with status 1.
fn check_failed(why: &str) -> ! {
    eprintln!("mpsc-rust: self-check failed: {}", why);
    exit(1);
}

/// Parses the value of `--name` as an integer in lo..=hi; exits 2 naming the
/// value and the allowed range otherwise.
fn parse_int(name: &str, arg: &str, lo: u64, hi: u64) -> u64 {
    match arg.parse::<u64>() {
        Ok(v) if v >= lo && v <= hi => v,
        _ => usage_error(&format!(
            "--{}: '{}' is not allowed (an integer from {} to {})",
            name, arg, lo, hi
        )),
    }
}

/// The two sender types of std::sync::mpsc behind one interface, so that the
/// measured loop is compiled once per type with no dispatch in it.
trait Send64: Clone + Send + 'static {
    /// Sends v; false when the receiver is gone.
    fn send64(&self, v: u64) -> bool;
}

impl Send64 for mpsc::Sender<u64> {
    fn send64(&self, v: u64) -> bool {
        self.send(v).is_ok()
    }
}

impl Send64 for mpsc::SyncSender<u64> {
    fn send64(&self, v: u64) -> bool {
        self.send(v).is_ok()
    }
}

/// One repetition: `p` producers each send `m` messages (id << 32 | seq)
/// through clones of `tx`, started together by a gate; the calling thread
/// receives all p * m, checking each producer's order and the exact count
/// (exit 1 on a failure). Returns messages per second, timed from the gate's
/// opening to the last receive.
fn run_rep<S: Send64>(tx: S, rx: Receiver<u64>, p: usize, m: u64) -> f64 {
    let ready = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let mut producers = Vec::with_capacity(p);
    for id in 0..p {
        let (tx, ready, go) = (tx.clone(), ready.clone(), go.clone());
        producers.push(thread::spawn(move || {
            ready.fetch_add(1, Ordering::Release);
            while !go.load(Ordering::Acquire) {
                thread::yield_now();
            }
            let base = (id as u64) << 32;
            for seq in 0..m {
                if !tx.send64(base | seq) {
                    check_failed("send failed: receiver gone");
                }
            }
        }));
    }
    drop(tx);
    while ready.load(Ordering::Acquire) < p {
        thread::yield_now();
    }
    let mut next = vec![0u64; p];
    let total = p as u64 * m;
    let start = Instant::now();
    go.store(true, Ordering::Release);
    for i in 0..total {
        let v = match rx.recv() {
            Ok(v) => v,
            Err(_) => check_failed(&format!(
                "disconnected after {} of {} messages",
                i, total
            )),
        };
        let id = (v >> 32) as usize;
        let seq = v & 0xffff_ffff;
        if id >= p || seq != next[id] {
            check_failed(&format!(
                "message {}: producer {} sequence {} (expected {})",
                i,
                id,
                seq,
                if id < p { next[id] } else { 0 }
            ));
        }
        next[id] = seq + 1;
    }
    let secs = start.elapsed().as_secs_f64();
    for h in producers {
        if h.join().is_err() {
            check_failed("a producer panicked");
        }
    }
    match rx.try_recv() {
        Err(TryRecvError::Disconnected) => {}
        Ok(_) => check_failed(&format!("more than {} messages", total)),
        Err(TryRecvError::Empty) => check_failed("not disconnected at the end"),
    }
    if let Some(id) = next.iter().position(|&n| n != m) {
        check_failed(&format!("producer {}: {} of {} messages", id, next[id], m));
    }
    total as f64 / secs
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut producers, mut capacity, mut messages, mut reps) = (None, None, None, None);
    let mut i = 0;
    while i < args.len() {
        let name = args[i].as_str();
        if name == "--help" || name == "-h" {
            println!("{}", USAGE);
            return;
        }
        if !["--producers", "--capacity", "--messages", "--reps"].contains(&name) {
            usage_error(&format!(
                "unknown option '{}' (allowed: --producers, --capacity, \
                 --messages, --reps)",
                name
            ));
        }
        let value = match args.get(i + 1) {
            Some(v) => v.as_str(),
            None => usage_error(&format!("'{}' needs a value ({})", name, USAGE)),
        };
        match name {
            "--producers" => producers = Some(parse_int("producers", value, 1, 64) as usize),
            "--capacity" => {
                capacity = Some(if value == "unbounded" {
                    None
                } else {
                    match value.parse::<u64>() {
                        Ok(n) if n <= 1 << 30 => Some(n as usize),
                        _ => usage_error(&format!(
                            "--capacity: '{}' is not allowed \
                             (unbounded, or an integer from 0 to 1073741824)",
                            value
                        )),
                    }
                })
            }
            "--messages" => messages = Some(parse_int("messages", value, 1, 1 << 32)),
            _ => reps = Some(parse_int("reps", value, 1, 1000)),
        }
        i += 2;
    }
    let missing = |what: &str| -> ! { usage_error(&format!("missing {} ({})", what, USAGE)) };
    let p = producers.unwrap_or_else(|| missing("--producers"));
    let cap = capacity.unwrap_or_else(|| missing("--capacity"));
    let m = messages.unwrap_or_else(|| missing("--messages"));
    let reps = reps.unwrap_or_else(|| missing("--reps"));
    let cap_text = cap.map_or("unbounded".to_string(), |n| n.to_string());
    for rep in 1..=reps {
        let rate = match cap {
            None => {
                let (tx, rx) = mpsc::channel::<u64>();
                run_rep(tx, rx, p, m)
            }
            Some(n) => {
                let (tx, rx) = mpsc::sync_channel::<u64>(n);
                run_rep(tx, rx, p, m)
            }
        };
        println!(
            "channel,rust_std_mpsc,capacity={};size=8,{},none,,{},msgs_per_s,{},msgs/s",
            cap_text,
            p + 1,
            rep,
            rate
        );
    }
}
