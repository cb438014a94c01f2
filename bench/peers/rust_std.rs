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

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::thread;

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
    if !c.is_null() {
        drop(Box::from_raw(c));
    }
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
    if !a.is_null() {
        drop(Box::from_raw(a));
    }
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
fn pin(pu: c_int) -> bool {
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
