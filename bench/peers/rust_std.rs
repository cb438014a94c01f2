// rust_std.rs: Rust std's primitives behind a C ABI (bench/peers/rust_std.h), linked into syncmark so that the families' rust_* variants run them inside the runner's own worker loops, measured exactly as their C twins.
//
// Nothing here measures: the runner's workers call these functions between
// its start gate and its stop, as they call syncmark's C primitives; the
// runner owns warmup, window, repetitions, sampling and the watchdog. Each
// function states what Rust code it runs and what it returns on failure.
// Built with panic=abort: a panic (a poisoned lock, a failed spawn that
// the code unwraps) ends the process with Rust's message, never unwinds
// into C.
#![allow(clippy::missing_safety_doc)]

use std::cell::UnsafeCell;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{fence, AtomicI32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock, RwLock};
use std::thread;

/// Frees what Box::into_raw gave C (NULL: nothing): every *_free below.
unsafe fn free_boxed<T>(p: *mut T) {
    if !p.is_null() {
        drop(Box::from_raw(p));
    }
}

// ---- the work of a critical section ----

/// The same steps as syncmark's sm_work_spin (core/include/syncmark/work.h):
/// a dependent xorshift the compiler cannot remove, so `iterations` from
/// sm_work_iterations_for_ns last as long here as in a C variant.
#[inline(always)]
fn work_spin(iterations: u64) -> u64 {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x = std::hint::black_box(x);
    }
    x
}

// ---- contention: one shared counter under Mutex, RwLock, an atomic ----

/// The read/write choice of the contention family (bench/families/
/// contention.c op_mix): read_pct reads spread evenly over every 100
/// operations. The C worker owns it and passes it to every pass.
#[repr(C)]
pub struct SmRustMix {
    acc: u32,
    read_pct: u32,
}

impl SmRustMix {
    /// A sequence of writes only (read_pct 0).
    pub fn writes_only() -> SmRustMix {
        SmRustMix {
            acc: 0,
            read_pct: 0,
        }
    }

    /// True when the next operation reads.
    #[inline(always)]
    fn next_is_read(&mut self) -> bool {
        self.acc += self.read_pct;
        if self.acc >= 100 {
            self.acc -= 100;
            return true;
        }
        false
    }
}

/// The shared counter of one window, in each of std's guards, as a Rust
/// program would write them: `Mutex<u64>`, `RwLock<u64>`, `AtomicU64`.
pub struct SmRustCounter {
    mutex: Mutex<u64>,
    rwlock: RwLock<u64>,
    atomic: AtomicU64,
}

/// Returns a new counter at 0 (never NULL: allocation failure aborts, as
/// in any Rust program).
#[no_mangle]
pub extern "C" fn sm_rust_counter_new() -> *mut SmRustCounter {
    Box::into_raw(Box::new(SmRustCounter {
        mutex: Mutex::new(0),
        rwlock: RwLock::new(0),
        atomic: AtomicU64::new(0),
    }))
}

/// Frees a counter from sm_rust_counter_new (NULL: nothing).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_counter_free(c: *mut SmRustCounter) {
    free_boxed(c);
}

/// Which guard of the counter a pass uses and what its value is now.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum SmRustGuard {
    Mutex = 0,
    RwLock = 1,
    AtomicSeqCst = 2,
}

/// The counter's value under `guard` (after the window).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_counter_value(c: *const SmRustCounter, guard: SmRustGuard) -> u64 {
    let c = &*c;
    match guard {
        SmRustGuard::Mutex => *c.mutex.lock().unwrap(),
        SmRustGuard::RwLock => *c.rwlock.read().unwrap(),
        SmRustGuard::AtomicSeqCst => c.atomic.load(Ordering::SeqCst),
    }
}

/// Runs `ops` operations of the contention family on `guard`: a read takes
/// the shared side (a lock, a read lock, a SeqCst load) and reads the value,
/// a write the exclusive side and increments it; `cs_iterations` of work
/// run while the lock is held (before the atomic operation). Returns the
/// writes it did.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_counter_pass(
    c: *const SmRustCounter,
    guard: SmRustGuard,
    mix: *mut SmRustMix,
    ops: u64,
    cs_iterations: u64,
) -> u64 {
    let c = &*c;
    let mix = &mut *mix;
    let mut writes = 0;
    for _ in 0..ops {
        let read = mix.next_is_read();
        match guard {
            SmRustGuard::Mutex => {
                let mut g = c.mutex.lock().unwrap();
                if !read {
                    *g += 1;
                }
                std::hint::black_box(*g);
                std::hint::black_box(work_spin(cs_iterations));
            }
            SmRustGuard::RwLock => {
                if read {
                    let g = c.rwlock.read().unwrap();
                    std::hint::black_box(*g);
                    std::hint::black_box(work_spin(cs_iterations));
                } else {
                    let mut g = c.rwlock.write().unwrap();
                    *g += 1;
                    std::hint::black_box(work_spin(cs_iterations));
                }
            }
            SmRustGuard::AtomicSeqCst => {
                std::hint::black_box(work_spin(cs_iterations));
                if read {
                    std::hint::black_box(c.atomic.load(Ordering::SeqCst));
                } else {
                    c.atomic.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        writes += (!read) as u64;
    }
    writes
}

// ---- channel: std::sync::mpsc::channel and sync_channel ----

/// A value on a cache line of its own (128 bytes, as SM_CACHE_ALIGNED).
#[repr(align(128))]
struct Line<T>(T);

/// The two senders of std::sync::mpsc: a match per send picks one (a
/// branch that is always predicted, not an indirect call).
enum AnySender<T> {
    Unbounded(mpsc::Sender<T>),
    Bounded(mpsc::SyncSender<T>),
}

/// One window's channel of messages of N words: a sender per producer
/// (each used by its producer's thread only, dropped by it when done), the
/// receiver (the consumer's), and the counts that give the queue's length
/// (each written by one thread, on its own line).
pub struct Typed<const N: usize> {
    senders: Vec<UnsafeCell<Option<AnySender<[u64; N]>>>>,
    rx: mpsc::Receiver<[u64; N]>,
    sent: Vec<Line<AtomicU64>>,
    received: Line<AtomicU64>,
}

impl<const N: usize> Typed<N> {
    /// A channel of `capacity` messages (negative: unbounded; 0:
    /// rendezvous) with `producers` senders.
    fn new(capacity: i64, producers: usize) -> Typed<N> {
        let (first, rx) = if capacity < 0 {
            let (tx, rx) = mpsc::channel();
            (AnySender::Unbounded(tx), rx)
        } else {
            let (tx, rx) = mpsc::sync_channel(capacity as usize);
            (AnySender::Bounded(tx), rx)
        };
        let senders = (0..producers)
            .map(|_| {
                UnsafeCell::new(Some(match &first {
                    AnySender::Unbounded(tx) => AnySender::Unbounded(tx.clone()),
                    AnySender::Bounded(tx) => AnySender::Bounded(tx.clone()),
                }))
            })
            .collect();
        Typed {
            senders,
            rx,
            sent: (0..producers).map(|_| Line(AtomicU64::new(0))).collect(),
            received: Line(AtomicU64::new(0)),
        }
    }

    /// Producer p sends a copy of the N words at msg. Returns 0, or -EPIPE
    /// when the receiver is gone or p's sender was dropped.
    unsafe fn send(&self, p: usize, msg: *const u8) -> c_int {
        let mut m = [0u64; N];
        std::ptr::copy_nonoverlapping(msg, m.as_mut_ptr() as *mut u8, N * 8);
        let ok = match &*self.senders[p].get() {
            Some(AnySender::Unbounded(tx)) => tx.send(m).is_ok(),
            Some(AnySender::Bounded(tx)) => tx.send(m).is_ok(),
            None => false,
        };
        if !ok {
            return -EPIPE;
        }
        self.count_sent(p);
        0
    }

    /// Producer p offers a copy of the N words at msg without waiting:
    /// SyncSender::try_send on a bounded channel, a send on an unbounded
    /// one (never full). Returns 0, -EAGAIN when the channel is full, or
    /// -EPIPE when the receiver is gone or p's sender was dropped.
    unsafe fn try_send(&self, p: usize, msg: *const u8) -> c_int {
        let Some(AnySender::Bounded(tx)) = &*self.senders[p].get() else {
            return self.send(p, msg); /* unbounded, or a dropped sender */
        };
        let mut m = [0u64; N];
        std::ptr::copy_nonoverlapping(msg, m.as_mut_ptr() as *mut u8, N * 8);
        match tx.try_send(m) {
            Ok(()) => {
                self.count_sent(p);
                0
            }
            Err(mpsc::TrySendError::Full(_)) => -EAGAIN,
            Err(mpsc::TrySendError::Disconnected(_)) => -EPIPE,
        }
    }

    /// Counts one message sent by producer p (its line, its thread only).
    fn count_sent(&self, p: usize) {
        let sent = &self.sent[p].0;
        sent.store(sent.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Receives the oldest message into out. Returns 1, or 0 when every
    /// sender was dropped and the queue is drained.
    unsafe fn recv(&self, out: *mut u8) -> c_int {
        match self.rx.recv() {
            Ok(m) => {
                std::ptr::copy_nonoverlapping(m.as_ptr() as *const u8, out, N * 8);
                let got = &self.received.0;
                got.store(got.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                1
            }
            Err(_) => 0,
        }
    }

    /// Messages queued now, from the counts (a moment's snapshot).
    fn len(&self) -> u64 {
        let sent: u64 = self.sent.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        sent.saturating_sub(self.received.0.load(Ordering::Relaxed))
    }

    /// Producer p drops its sender; the last one disconnects the receiver.
    unsafe fn sender_done(&self, p: usize) {
        drop((*self.senders[p].get()).take());
    }
}

/// EPIPE of Linux: what a send to a closed channel returns (negated).
const EPIPE: c_int = 32;
/// EAGAIN of Linux: what a try_send to a full channel returns (negated).
const EAGAIN: c_int = 11;

/// A channel of one of the message sizes the Rust variant is compiled for
/// (std's channels carry a type, not a size).
pub enum SmRustChan {
    B8(Typed<1>),
    B16(Typed<2>),
    B32(Typed<4>),
    B64(Typed<8>),
    B128(Typed<16>),
    B256(Typed<32>),
    B512(Typed<64>),
    B1024(Typed<128>),
    B2048(Typed<256>),
    B4096(Typed<512>),
}
unsafe impl Sync for SmRustChan {}

/// Runs `$body` with `$t` bound to the Typed channel inside `$ch`.
macro_rules! with_typed {
    ($ch:expr, $t:ident => $body:expr) => {
        match $ch {
            SmRustChan::B8($t) => $body,
            SmRustChan::B16($t) => $body,
            SmRustChan::B32($t) => $body,
            SmRustChan::B64($t) => $body,
            SmRustChan::B128($t) => $body,
            SmRustChan::B256($t) => $body,
            SmRustChan::B512($t) => $body,
            SmRustChan::B1024($t) => $body,
            SmRustChan::B2048($t) => $body,
            SmRustChan::B4096($t) => $body,
        }
    };
}

/// Returns whether messages of `bytes` bytes have a compiled type: powers
/// of two from 8 to 4096.
#[no_mangle]
pub extern "C" fn sm_rust_chan_supports(bytes: usize) -> bool {
    (8..=4096).contains(&bytes) && bytes.is_power_of_two()
}

/// Creates a channel (mpsc::channel when capacity < 0, else
/// mpsc::sync_channel(capacity)) of messages of `bytes` bytes with one
/// sender per producer. NULL when the size has no compiled type.
#[no_mangle]
pub extern "C" fn sm_rust_chan_new(
    bytes: usize,
    capacity: i64,
    producers: usize,
) -> *mut SmRustChan {
    let (c, p) = (capacity, producers);
    let ch = match bytes {
        8 => SmRustChan::B8(Typed::new(c, p)),
        16 => SmRustChan::B16(Typed::new(c, p)),
        32 => SmRustChan::B32(Typed::new(c, p)),
        64 => SmRustChan::B64(Typed::new(c, p)),
        128 => SmRustChan::B128(Typed::new(c, p)),
        256 => SmRustChan::B256(Typed::new(c, p)),
        512 => SmRustChan::B512(Typed::new(c, p)),
        1024 => SmRustChan::B1024(Typed::new(c, p)),
        2048 => SmRustChan::B2048(Typed::new(c, p)),
        4096 => SmRustChan::B4096(Typed::new(c, p)),
        _ => return std::ptr::null_mut(),
    };
    Box::into_raw(Box::new(ch))
}

/// Frees the channel: the senders left and the receiver (NULL: nothing).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_free(ch: *mut SmRustChan) {
    free_boxed(ch);
}

/// Producer `producer` sends the message at msg (the channel's size).
/// Returns 0 or -EPIPE.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_send(
    ch: *const SmRustChan,
    producer: usize,
    msg: *const u8,
) -> c_int {
    with_typed!(&*ch, t => t.send(producer, msg))
}

/// Producer `producer` offers the message at msg without waiting.
/// Returns 0, -EAGAIN (full) or -EPIPE.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_try_send(
    ch: *const SmRustChan,
    producer: usize,
    msg: *const u8,
) -> c_int {
    with_typed!(&*ch, t => t.try_send(producer, msg))
}

/// The consumer receives into out. Returns 1, or 0 when disconnected and
/// drained.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_recv(ch: *const SmRustChan, out: *mut u8) -> c_int {
    with_typed!(&*ch, t => t.recv(out))
}

/// Messages queued now (sent minus received).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_len(ch: *const SmRustChan) -> u64 {
    with_typed!(&*ch, t => t.len())
}

/// Producer `producer` drops its sender.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_chan_sender_done(ch: *const SmRustChan, producer: usize) {
    with_typed!(&*ch, t => t.sender_done(producer))
}

// ---- refcount: Arc::clone and drop ----

/// The object behind every Arc of the refcount family: a whole cache line,
/// as the C family's payload, so private objects never share a line.
#[repr(align(64))]
#[allow(dead_code)] // the payload only gives the object its size
struct Object([u8; 64]);

/// The Arcs of one window: one shared by every thread, one per thread.
pub struct SmRustArcs {
    shared: Arc<Object>,
    private: Vec<Arc<Object>>,
}

/// Returns the Arcs of a window of `threads` threads (never NULL).
#[no_mangle]
pub extern "C" fn sm_rust_arcs_new(threads: usize) -> *mut SmRustArcs {
    let new = || Arc::new(Object([0; 64]));
    Box::into_raw(Box::new(SmRustArcs {
        shared: new(),
        private: (0..threads).map(|_| new()).collect(),
    }))
}

/// Frees the Arcs (NULL: nothing).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_arcs_free(a: *mut SmRustArcs) {
    free_boxed(a);
}

/// Runs `ops` Arc::clone + drop pairs on the shared Arc (`index` below 0)
/// or on thread `index`'s own. Never fails.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_arcs_pass(a: *const SmRustArcs, index: isize, ops: u64) {
    let a = &*a;
    let arc = if index < 0 {
        &a.shared
    } else {
        &a.private[index as usize]
    };
    for _ in 0..ops {
        let clone = Arc::clone(arc);
        std::hint::black_box(&clone);
        drop(clone);
    }
}

/// Returns how many of the Arcs are not back to one strong reference.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_arcs_not_released(a: *const SmRustArcs) -> usize {
    let a = &*a;
    std::iter::once(&a.shared)
        .chain(a.private.iter())
        .filter(|x| Arc::strong_count(x) != 1)
        .count()
}

// ---- tasks: a C task run by Rust threads ----

/// A C task (syncmark's sm_task_fn) and its argument, handed to another
/// thread. The C caller guarantees the argument outlives the task.
struct CTask {
    run: unsafe extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
}
unsafe impl Send for CTask {}

impl CTask {
    fn call(self) {
        unsafe {
            (self.run)(self.arg);
        }
    }
}

extern "C" {
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> c_int;
}

/// Pins the calling thread to OS CPU `pu` (none when negative or beyond
/// 1023). Returns false when the OS refuses.
pub fn pin(pu: c_int) -> bool {
    if !(0..1024).contains(&pu) {
        return pu < 0;
    }
    let mut mask = [0u64; 16]; // cpu_set_t: 1024 CPUs
    mask[(pu / 64) as usize] |= 1 << (pu % 64);
    unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) == 0 }
}

// ---- thread per task: std::thread::Builder::spawn and join ----

/// Spawns one thread of `stack` bytes (std::thread::Builder::stack_size)
/// running the C task and returns its join handle, or NULL when the OS
/// refuses the thread.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_spawn(
    run: unsafe extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
    stack: usize,
) -> *mut thread::JoinHandle<()> {
    let task = CTask { run, arg };
    match thread::Builder::new()
        .stack_size(stack)
        .spawn(move || task.call())
    {
        Ok(h) => Box::into_raw(Box::new(h)),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Joins and frees a handle from sm_rust_spawn. Returns 0 (the task cannot
/// panic: a panic aborts).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_join(h: *mut thread::JoinHandle<()>) -> c_int {
    let _ = Box::from_raw(h).join();
    0
}

// ---- the lesson's ThreadPool ----

/// The lesson's job type.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Tasks submitted and not finished, so that the submitter can wait for a
/// batch: the lesson's pool has no wait, and a benchmark needs one. The
/// task that finishes the last pending one wakes the waiter.
struct Pending {
    count: AtomicU64,
    lock: Mutex<()>,
    none_left: Condvar,
}

impl Pending {
    fn finish(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = self.lock.lock().unwrap();
            self.none_left.notify_all();
        }
    }
}

/// A pointer to the pool's Pending that a job carries: the pool outlives
/// its jobs (its drop joins the workers after they ran every job).
struct PendingRef(*const Pending);
unsafe impl Send for PendingRef {}

/// The lesson's ThreadPool (seed/threads-topic.md, "Thread Pool Pattern"),
/// written as the lesson writes it: workers share one mpsc receiver behind
/// `Arc<Mutex<_>>`, a job is `Box<dyn FnOnce() + Send>`. Two additions a
/// benchmark needs: a worker leaves its loop when the channel disconnects
/// (the lesson's `recv().unwrap()` would panic there), and a pending count
/// to wait for a batch. Workers may be pinned (the C pool's placement).
pub struct SmRustLessonPool {
    workers: Vec<thread::JoinHandle<()>>,
    sender: Option<mpsc::Sender<Job>>,
    pending: Box<Pending>,
}

/// Starts the lesson's pool of `size` workers of `stack` bytes, worker i
/// pinned to pins[i] (pins NULL or an entry below 0: unpinned). Returns the
/// pool, or NULL when the OS refuses a thread or a pin (the workers already
/// started are stopped and joined).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_lesson_pool_new(
    size: usize,
    pins: *const c_int,
    stack: usize,
) -> *mut SmRustLessonPool {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let (pinned_tx, pinned_rx) = mpsc::channel::<bool>();
    let mut workers = vec![];
    let mut refused = false;
    for i in 0..size {
        let rx_clone = Arc::clone(&rx);
        let pinned = pinned_tx.clone();
        let pu = if pins.is_null() { -1 } else { *pins.add(i) };
        let worker = thread::Builder::new().stack_size(stack).spawn(move || {
            let ok = pin(pu);
            let _ = pinned.send(ok);
            if !ok {
                return;
            }
            loop {
                let job = {
                    let guard = rx_clone.lock().unwrap();
                    guard.recv()
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => break,
                }
            }
        });
        match worker {
            Ok(w) => workers.push(w),
            Err(_) => {
                refused = true;
                break;
            }
        }
    }
    // Every started worker says whether its pin held before it serves.
    for _ in 0..workers.len() {
        refused |= !pinned_rx.recv().unwrap_or(false);
    }
    let pool = Box::into_raw(Box::new(SmRustLessonPool {
        workers,
        sender: Some(tx),
        pending: Box::new(Pending {
            count: AtomicU64::new(0),
            lock: Mutex::new(()),
            none_left: Condvar::new(),
        }),
    }));
    if refused {
        sm_rust_lesson_pool_free(pool);
        return std::ptr::null_mut();
    }
    pool
}

/// The lesson's execute: sends the C task, boxed, to the workers. Returns
/// 0, or -1 when the channel is closed (it never is before the free).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_lesson_pool_execute(
    p: *mut SmRustLessonPool,
    run: unsafe extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
) -> c_int {
    let p = &*p;
    let task = CTask { run, arg };
    let pending = PendingRef(&*p.pending);
    p.pending.count.fetch_add(1, Ordering::Relaxed);
    let job = move || {
        let pending = pending;
        task.call();
        unsafe { (*pending.0).finish() };
    };
    match p.sender.as_ref().unwrap().send(Box::new(job)) {
        Ok(()) => 0,
        Err(_) => {
            p.pending.count.fetch_sub(1, Ordering::Relaxed);
            -1
        }
    }
}

/// Waits until every task executed so far has finished. Never fails.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_lesson_pool_wait(p: *mut SmRustLessonPool) {
    let pending = &(*p).pending;
    let mut g = pending.lock.lock().unwrap();
    while pending.count.load(Ordering::Acquire) != 0 {
        g = pending.none_left.wait(g).unwrap();
    }
}

/// Closes the channel (the workers finish the queued jobs, then leave),
/// joins the workers and frees the pool (NULL: nothing). Never fails.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_lesson_pool_free(p: *mut SmRustLessonPool) {
    if p.is_null() {
        return;
    }
    let mut pool = Box::from_raw(p);
    drop(pool.sender.take());
    for w in pool.workers.drain(..) {
        let _ = w.join();
    }
}

// ---- hand-offs: thread::park / unpark and Condvar on a C flag ----

/// The two sides of a hand-off (ctxswitch's pair; wake uses side 0, the
/// sleeper's): the thread waiting on each side, registered by its first
/// park, and a Condvar per side under one Mutex. The flag that carries
/// the value is the C family's `atomic_int`, which has AtomicI32's layout.
pub struct SmRustHandoff {
    parked: [OnceLock<thread::Thread>; 2],
    lock: Mutex<()>,
    cond: [Condvar; 2],
}

/// Returns a new hand-off with no thread registered (never NULL).
#[no_mangle]
pub extern "C" fn sm_rust_handoff_new() -> *mut SmRustHandoff {
    Box::into_raw(Box::new(SmRustHandoff {
        parked: [OnceLock::new(), OnceLock::new()],
        lock: Mutex::new(()),
        cond: [Condvar::new(), Condvar::new()],
    }))
}

/// Frees a hand-off from sm_rust_handoff_new (NULL: nothing).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_handoff_free(h: *mut SmRustHandoff) {
    free_boxed(h);
}

/// Stores v in the flag (Release) and unparks side `to`'s thread
/// (Thread::unpark). Before that side's thread has registered, a SeqCst
/// fence orders the store against its registration (it then sees v).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_park_send(
    h: *const SmRustHandoff,
    flag: *const AtomicI32,
    to: usize,
    v: c_int,
) {
    let h = &*h;
    (*flag).store(v, Ordering::Release);
    let waiter = h.parked[to].get().or_else(|| {
        fence(Ordering::SeqCst);
        h.parked[to].get()
    });
    if let Some(t) = waiter {
        t.unpark();
    }
}

/// Waits on side `side` until the flag (Acquire) leaves `prev`, parking
/// (thread::park) between looks, and returns it. The first call on a side
/// registers the calling thread there; one thread per side.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_park_recv(
    h: *const SmRustHandoff,
    flag: *const AtomicI32,
    side: usize,
    prev: c_int,
) -> c_int {
    let h = &*h;
    if h.parked[side].get().is_none() {
        let _ = h.parked[side].set(thread::current());
        fence(Ordering::SeqCst);
    }
    loop {
        let v = (*flag).load(Ordering::Acquire);
        if v != prev {
            return v;
        }
        thread::park();
    }
}

/// Under the Mutex: stores v in the flag and notifies side `to`'s Condvar
/// (notify_one).
#[no_mangle]
pub unsafe extern "C" fn sm_rust_condvar_send(
    h: *const SmRustHandoff,
    flag: *const AtomicI32,
    to: usize,
    v: c_int,
) {
    let h = &*h;
    let _g = h.lock.lock().unwrap();
    (*flag).store(v, Ordering::Relaxed);
    h.cond[to].notify_one();
}

/// Under the Mutex: waits on side `side`'s Condvar until the flag leaves
/// `prev`, and returns it.
#[no_mangle]
pub unsafe extern "C" fn sm_rust_condvar_recv(
    h: *const SmRustHandoff,
    flag: *const AtomicI32,
    side: usize,
    prev: c_int,
) -> c_int {
    let h = &*h;
    let mut g = h.lock.lock().unwrap();
    loop {
        let v = (*flag).load(Ordering::Relaxed);
        if v != prev {
            return v;
        }
        g = h.cond[side].wait(g).unwrap();
    }
}
