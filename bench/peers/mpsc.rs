// mpsc.rs: Rust's std::sync::mpsc as run by syncmark's `channel` family: P producers into one consumer for a timed window; prints one result line.
//
// The protocol is the family's (bench/families/channel.c): word 0 of every
// message is producer id (10 bits) << 22 | sequence (22 bits), with the low
// 32 bits of the send time in the top half on every 16th message of a
// producer; the last word is its complement (payload check). Producers run
// until the deadline, or stop early when more than --max-in-flight messages
// are queued (the result line then says capped=1). The consumer checks every
// producer's order and the totals; latency is measured on stamped messages
// received in the window [open + warmup, open + warmup + duration].
//
// Exit status: 0 with the result line on stdout; 1 when the self-check
// failed; 2 for bad arguments; 3 when this case cannot run here (a message
// size without a compiled type, pinning refused), with the reason on stderr.
use std::process::exit;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: mpsc-rust --producers P --capacity N|unbounded --bytes B \
                     --warmup-ns W --duration-ns D --max-in-flight M --pus LIST|none";
const SEQ_BITS: u32 = 22;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
const MAX_PRODUCERS: u64 = 1 << 10;
const STAMP_EVERY: u64 = 16;
const CHECK_EVERY: u64 = 1024;
const MAX_SAMPLES: usize = 1 << 21;
// A window lasts until MIN_WINDOW_MSGS arrived, at most WINDOW_GRACE_NS late.
const MIN_WINDOW_MSGS: u64 = 64;
const WINDOW_GRACE_NS: u64 = 1_000_000_000;

/// Prints `why` on stderr and exits with `status`.
fn fail(status: i32, why: &str) -> ! {
    eprintln!("mpsc-rust: {}", why);
    exit(status);
}

/// Parses `arg`, the value of --name, as an integer in lo..=hi; exits 2
/// naming the value and the allowed range otherwise.
fn parse_int(name: &str, arg: &str, lo: u64, hi: u64) -> u64 {
    match arg.parse::<u64>() {
        Ok(v) if v >= lo && v <= hi => v,
        _ => fail(
            2,
            &format!("--{}: '{}' is not allowed (an integer from {} to {})", name, arg, lo, hi),
        ),
    }
}

extern "C" {
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
}

/// Pins the calling thread to OS CPU `pu` (none when negative); exits 3
/// when the OS refuses.
fn pin(pu: i64) {
    if pu < 0 {
        return;
    }
    let mut mask = [0u64; 16]; // cpu_set_t: 1024 CPUs
    if pu >= 1024 {
        fail(3, &format!("cannot pin to CPU {} (beyond 1023)", pu));
    }
    mask[(pu / 64) as usize] |= 1 << (pu % 64);
    if unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) } != 0 {
        fail(3, &format!("the OS refused to pin a thread to CPU {}", pu));
    }
}

/// The two sender types of std::sync::mpsc behind one interface, so that the
/// producer loop is compiled once per type with no dispatch in it.
trait Tx<T>: Clone + Send + 'static {
    /// Sends m; false when the receiver is gone.
    fn put(&self, m: T) -> bool;
}

impl<T: Send + 'static> Tx<T> for mpsc::Sender<T> {
    fn put(&self, m: T) -> bool {
        self.send(m).is_ok()
    }
}

impl<T: Send + 'static> Tx<T> for mpsc::SyncSender<T> {
    fn put(&self, m: T) -> bool {
        self.send(m).is_ok()
    }
}

/// A value on a cache line of its own (128 bytes, as the C family's
/// SM_CACHE_ALIGNED), so the consumer's count does not share a line with
/// the flag every producer reads per message.
#[repr(align(128))]
struct Line<T>(T);

/// What the threads of one run share; the hot atomics each on their own
/// cache line, laid out as the C family's.
struct Shared {
    epoch: Instant,
    ready: AtomicUsize,
    go: Line<AtomicBool>,
    open_ns: AtomicU64, // gate opening, ns since epoch
    stop: Line<AtomicBool>,
    capped: AtomicBool,
    sent_total: Line<AtomicU64>, // in steps of CHECK_EVERY
    received: Line<AtomicU64>,   // the consumer's count
    max_in_flight: u64,
    warmup_ns: u64,
    duration_ns: u64,
}

impl Shared {
    /// Nanoseconds since the epoch.
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Announces the calling thread and waits for the gate.
    fn wait_gate(&self) {
        self.ready.fetch_add(1, Ordering::Release);
        while !self.go.0.load(Ordering::Acquire) {
            thread::yield_now();
        }
    }
}

/// The pattern word i of every message holds beyond the header.
fn pattern(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5a5a
}

/// Producer `id`: sends until the stop flag (or the in-flight cap) and
/// returns how many messages it sent.
fn produce<S: Tx<[u64; N]>, const N: usize>(s: &Shared, tx: S, id: u64, pu: i64) -> u64 {
    pin(pu);
    let mut msg = [0u64; N];
    for (i, w) in msg.iter_mut().enumerate().skip(1) {
        *w = pattern(i);
    }
    s.wait_gate();
    let mut seq: u64 = 0;
    while !s.stop.0.load(Ordering::Relaxed) {
        if seq % CHECK_EVERY == 0 && seq > 0 {
            let total = s.sent_total.0.fetch_add(CHECK_EVERY, Ordering::Relaxed) + CHECK_EVERY;
            if total.saturating_sub(s.received.0.load(Ordering::Relaxed)) > s.max_in_flight {
                s.capped.store(true, Ordering::Relaxed);
                s.stop.0.store(true, Ordering::Relaxed);
                break;
            }
        }
        let mut w0 = id << SEQ_BITS | (seq & SEQ_MASK);
        if seq % STAMP_EVERY == 0 {
            w0 |= (s.now() as u32 as u64) << 32;
        }
        msg[0] = w0;
        if N >= 2 {
            msg[N - 1] = !w0;
        }
        if !tx.put(msg) {
            fail(1, "self-check failed: send failed, the receiver is gone");
        }
        seq += 1;
    }
    seq
}

/// What the consumer saw.
struct Seen {
    next: Vec<u64>, // messages received per producer
    samples: Vec<u32>,
    error: Option<String>,
}

/// The consumer: receives until every sender is gone, checking order and
/// payload, and measures latency and rate in the window.
fn consume<const N: usize>(s: &Shared, rx: Receiver<[u64; N]>, p: usize, pu: i64) -> Seen {
    pin(pu);
    let mut seen = Seen {
        next: vec![0; p],
        samples: Vec::with_capacity(MAX_SAMPLES),
        error: None,
    };
    s.wait_gate();
    let open = s.open_ns.load(Ordering::Acquire);
    let win_start = open + s.warmup_ns;
    let mut count: u64 = 0;
    while let Ok(m) = rx.recv() {
        count += 1;
        s.received.0.store(count, Ordering::Relaxed);
        let w0 = m[0];
        let id = (w0 >> SEQ_BITS & (MAX_PRODUCERS - 1)) as usize;
        if id >= p || w0 & SEQ_MASK != seen.next[id] & SEQ_MASK || (N >= 2 && m[N - 1] != !w0) {
            if seen.error.is_none() {
                seen.error = Some(format!(
                    "message {}: header {:#x} (producer {}, expected sequence {}), trailer {:#x}",
                    count,
                    w0,
                    id,
                    if id < p { seen.next[id] } else { 0 },
                    m[N - 1]
                ));
            }
            continue;
        }
        let n = seen.next[id];
        seen.next[id] += 1;
        if n % STAMP_EVERY != 0 {
            continue;
        }
        let now = s.now();
        if (1..N - 1).any(|i| m[i] != pattern(i)) && seen.error.is_none() {
            seen.error = Some(format!("message {}: payload corrupted", count));
        }
        if now >= win_start && !s.stop.0.load(Ordering::Relaxed) && seen.samples.len() < MAX_SAMPLES {
            seen.samples.push((now as u32).wrapping_sub((w0 >> 32) as u32));
        }
    }
    seen
}

/// Sleeps until `deadline` (ns since the epoch) or the in-flight cap's
/// stop, and past the deadline (up to `limit`) while fewer than `enough`
/// messages arrived; then returns the consumer's count and the time.
fn sample_at(s: &Shared, deadline: u64, limit: u64, enough: u64) -> (u64, u64) {
    while !s.stop.0.load(Ordering::Relaxed) {
        let now = s.now();
        if now >= limit || (now >= deadline && s.received.0.load(Ordering::Relaxed) >= enough) {
            break;
        }
        let until = if now < deadline { deadline } else { limit };
        thread::sleep(Duration::from_nanos((until - now).min(1_000_000)));
    }
    (s.received.0.load(Ordering::Relaxed), s.now())
}

/// Percentile p (0..=100) of sorted values, type 7 (as syncmark's stats).
fn percentile(sorted: &[u32], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] as f64 + (h - lo as f64) * (sorted[hi] as f64 - sorted[lo] as f64)
}

/// One run on channel (tx, rx): starts the consumer and producers pinned
/// to pus (producers first, then the consumer), stops them at the deadline,
/// checks and prints the result line.
fn run<S: Tx<[u64; N]>, const N: usize>(
    tx: S,
    rx: Receiver<[u64; N]>,
    p: usize,
    pus: &[i64],
    s: Arc<Shared>,
) {
    let consumer = {
        let (s, pu) = (s.clone(), pus[p]);
        thread::spawn(move || consume(&s, rx, p, pu))
    };
    let sent = Arc::new(Mutex::new(vec![0u64; p]));
    let mut producers = Vec::with_capacity(p);
    for id in 0..p {
        let (s, tx, pu, sent) = (s.clone(), tx.clone(), pus[id], sent.clone());
        producers.push(thread::spawn(move || {
            let n = produce(&s, tx, id as u64, pu);
            sent.lock().unwrap()[id] = n;
        }));
    }
    drop(tx);
    while s.ready.load(Ordering::Acquire) < p + 1 {
        thread::yield_now();
    }
    let open = s.now();
    s.open_ns.store(open, Ordering::Release);
    s.go.0.store(true, Ordering::Release);
    let start = open + s.warmup_ns;
    let (c0, t0) = sample_at(&s, start, start, 0);
    let end = start + s.duration_ns;
    let (c1, t1) = sample_at(&s, end, end + WINDOW_GRACE_NS, c0 + MIN_WINDOW_MSGS);
    s.stop.0.store(true, Ordering::Relaxed);
    for h in producers {
        if h.join().is_err() {
            fail(1, "self-check failed: a producer panicked");
        }
    }
    let mut seen = consumer.join().unwrap_or_else(|_| fail(1, "the consumer panicked"));
    if let Some(e) = seen.error {
        fail(1, &format!("self-check failed: {}", e));
    }
    let sent = sent.lock().unwrap();
    if let Some(id) = (0..p).find(|&i| sent[i] != seen.next[i]) {
        fail(
            1,
            &format!(
                "self-check failed: producer {} sent {} messages, {} were received",
                id, sent[id], seen.next[id]
            ),
        );
    }
    let received: u64 = seen.next.iter().sum();
    if t1 <= t0 {
        fail(1, "self-check failed: the in-flight cap stopped the producers before the window");
    }
    let rate = (c1 - c0) as f64 * 1e9 / (t1 - t0) as f64;
    seen.samples.sort_unstable();
    // No sample: the consumer received nothing in the window (NaN).
    let pct = |p| if seen.samples.is_empty() { f64::NAN } else { percentile(&seen.samples, p) };
    println!(
        "result msgs_per_s={} p50_ns={} p99_ns={} p999_ns={} received={} capped={}",
        rate,
        pct(50.0),
        pct(99.0),
        pct(99.9),
        received,
        s.capped.load(Ordering::Relaxed) as u8
    );
}

/// Makes the channel (None: unbounded) of N-word messages and runs.
fn run_sized<const N: usize>(cap: Option<usize>, p: usize, pus: &[i64], s: Arc<Shared>) {
    match cap {
        None => {
            let (tx, rx) = mpsc::channel::<[u64; N]>();
            run(tx, rx, p, pus, s)
        }
        Some(n) => {
            let (tx, rx) = mpsc::sync_channel::<[u64; N]>(n);
            run(tx, rx, p, pus, s)
        }
    }
}

/// Parses --pus: "none", or p + 1 comma-separated CPU indexes.
fn parse_pus(arg: &str, n: usize) -> Vec<i64> {
    if arg == "none" {
        return vec![-1; n];
    }
    let pus: Vec<i64> = arg
        .split(',')
        .map(|x| parse_int("pus", x, 0, 1 << 20) as i64)
        .collect();
    if pus.len() != n {
        fail(2, &format!("--pus: '{}' has {} CPUs, {} needed (producers, then the consumer)", arg, pus.len(), n));
    }
    pus
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names = [
        "--producers", "--capacity", "--bytes", "--warmup-ns", "--duration-ns",
        "--max-in-flight", "--pus",
    ];
    let mut values: [Option<String>; 7] = Default::default();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--help" || args[i] == "-h" {
            println!("{}", USAGE);
            return;
        }
        let k = names.iter().position(|n| *n == args[i]).unwrap_or_else(|| {
            fail(2, &format!("unknown option '{}' ({})", args[i], USAGE))
        });
        let v = args.get(i + 1).unwrap_or_else(|| fail(2, &format!("'{}' needs a value", args[i])));
        values[k] = Some(v.clone());
        i += 2;
    }
    let get = |k: usize| -> &str {
        values[k].as_deref().unwrap_or_else(|| fail(2, &format!("missing {} ({})", names[k], USAGE)))
    };
    let p = parse_int("producers", get(0), 1, MAX_PRODUCERS - 1) as usize;
    let cap = match get(1) {
        "unbounded" => None,
        v => Some(parse_int("capacity", v, 0, 1 << 30) as usize),
    };
    let bytes = parse_int("bytes", get(2), 8, 4096);
    let s = Arc::new(Shared {
        epoch: Instant::now(),
        ready: AtomicUsize::new(0),
        go: Line(AtomicBool::new(false)),
        open_ns: AtomicU64::new(0),
        stop: Line(AtomicBool::new(false)),
        capped: AtomicBool::new(false),
        sent_total: Line(AtomicU64::new(0)),
        received: Line(AtomicU64::new(0)),
        max_in_flight: parse_int("max-in-flight", get(5), 1, u64::MAX),
        warmup_ns: parse_int("warmup-ns", get(3), 0, 1 << 40),
        duration_ns: parse_int("duration-ns", get(4), 1, 1 << 40),
    });
    let pus = parse_pus(get(6), p + 1);
    match bytes {
        8 => run_sized::<1>(cap, p, &pus, s),
        16 => run_sized::<2>(cap, p, &pus, s),
        32 => run_sized::<4>(cap, p, &pus, s),
        64 => run_sized::<8>(cap, p, &pus, s),
        128 => run_sized::<16>(cap, p, &pus, s),
        256 => run_sized::<32>(cap, p, &pus, s),
        512 => run_sized::<64>(cap, p, &pus, s),
        1024 => run_sized::<128>(cap, p, &pus, s),
        2048 => run_sized::<256>(cap, p, &pus, s),
        4096 => run_sized::<512>(cap, p, &pus, s),
        _ => fail(3, &format!("the Rust peer has message types of 8, 16, 32 .. 4096 bytes only, not {}", bytes)),
    }
}
