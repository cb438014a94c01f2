// rust_spawn_vs_pool.rs: the plain reference of spawn_vs_pool/rust_lesson_pool: the same Rust code syncmark runs (the lesson's ThreadPool in bench/peers/rust_std.rs), one submitter, N tasks that each bump a shared counter in the family's batches (submit a batch, wait for it); total time, median of rounds.
#![allow(dead_code)]

#[path = "rust_plain.rs"]
mod rust_plain;
#[path = "../peers/rust_std.rs"]
mod rust_std;

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

/// The pool's size and the batches of one round, as the C plain reference:
/// BATCH is the family's batch for an empty task on WORKERS PUs
/// (sm_svp_batch_tasks in bench/families/spawn_vs_pool_batch.h).
const WORKERS: usize = 2;
const BATCH: u64 = 65_536;
const BATCHES: u64 = 8;
const TASKS: u64 = BATCH * BATCHES;
/// The stack of the pool's threads (the family's TASK_STACK).
const STACK: usize = 2 << 20;

/// The task: one relaxed increment of the counter `arg` points to.
unsafe extern "C" fn bump(arg: *mut c_void) -> c_int {
    (*(arg as *const AtomicU64)).fetch_add(1, Ordering::Relaxed);
    0
}

fn main() {
    let pool = unsafe { rust_std::sm_rust_lesson_pool_new(WORKERS, std::ptr::null(), STACK) };
    if pool.is_null() {
        eprintln!("plain: cannot start the lesson's pool of {}", WORKERS);
        std::process::exit(1);
    }
    let count = AtomicU64::new(0);
    let arg = &count as *const AtomicU64 as *mut c_void;
    let rate = rust_plain::median_rate(|| unsafe {
        count.store(0, Ordering::Relaxed);
        for _ in 0..BATCHES {
            for _ in 0..BATCH {
                if rust_std::sm_rust_lesson_pool_execute(pool, bump, arg) != 0 {
                    return 0;
                }
            }
            rust_std::sm_rust_lesson_pool_wait(pool);
        }
        let ran = count.load(Ordering::Relaxed);
        if ran != TASKS {
            eprintln!("plain: {} of {} tasks ran", ran, TASKS);
            return 0;
        }
        TASKS
    });
    unsafe { rust_std::sm_rust_lesson_pool_free(pool) };
    let args = format!(
        "spawn_vs_pool/rust_lesson_pool --threads {} --placement none --param spin_ns=0 \
         --param sleep_ns=0",
        WORKERS
    );
    std::process::exit(rust_plain::report(&args, "tasks_per_s", rate));
}
