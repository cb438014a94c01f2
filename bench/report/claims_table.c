/* claims_table.c: the lesson's claims, each with its test and its verdict
 * rule stated in words; the rules are coded in claims_lifecycle.c,
 * claims_resources.c, claims_sharing.c and claims_messages.c. */
#include "claims.h"
#include "claims_rules.h"

const struct sm_claim sm_claims[] = {
    {"C1",
     "A context switch costs real time; switching on one core costs more "
     "than handing work to another core",
     "a token passed between two threads by futex, pipe, eventfd, condvar "
     "and park/unpark, on one PU and across PUs, with the same calls in one "
     "thread and the switches counted",
     "ctxswitch",
     "For every blocking mechanism measured: the same-PU round trip costs "
     "more than the same calls made by one thread, shows at least 1.8 "
     "context switches per round trip, and costs more than the cheapest "
     "placement on two PUs (smt-sibling, same-l3, cross-l3, cross-package). "
     "Holds when all of that is true with 95% CIs apart; does not hold when "
     "any comparison comes out the other way; inconclusive otherwise (also "
     "when the machine offers no two-PU placement). "
     "Where the run counted events (--counters), the misses per operation "
     "(and context switches per operation) of the deciding rows are shown "
     "beside their times; they do not "
     "change the verdict, and read 'not available' where no PMU, the "
     "permissions or the family's own measurement gave none.",
     sm_rule_c1, NULL, NULL},
    {"C2",
     "A thread reserves a large stack (2 MB in the lesson, RLIMIT_STACK "
     "with glibc), so 10,000 threads cost ~20 GB",
     "resident against virtual memory of K idle threads per stack size",
     "stack",
     "For idle threads that touch nothing, at stack sizes 2048 and 8192 KiB "
     "(those measured): holds when each thread's resident memory is at "
     "least half its stack; does not hold when it is under a tenth of the "
     "stack while the virtual memory is at least 90% of it (reserved, not "
     "used); inconclusive otherwise, or when fewer threads than planned "
     "could be created or the VmRSS figure disagrees with mincore over the "
     "stacks by more than 10%.",
     sm_rule_c2, NULL, NULL},
    {"C3", "A smaller stack saves memory and creation time for many threads",
     "resident memory and creation time per idle thread at 256 KiB against "
     "8192 KiB stacks",
     "stack",
     "Idle threads touching nothing: holds when a 256 KiB stack's resident "
     "memory per thread is under 90% of an 8192 KiB stack's and its "
     "creation time per thread (batch spawn) beats it (95% CIs apart); does "
     "not hold when the resident memory is not 10% smaller or the creation "
     "time is worse (CIs apart); inconclusive otherwise.",
     sm_rule_c3, NULL, NULL},
    {"C4",
     "More CPU-bound threads than cores only adds switching: best count = "
     "physical cores",
     "the same CPU-bound work by 2x the PUs threads against as many "
     "threads as PUs, in the same repetition",
     "oversub",
     "At 2x the allowed PUs, for every placement measured: holds when the "
     "work takes longer than with PUs threads (slowdown CI above 1.02) and "
     "involuntary switches per second are at least 1.5x the reference's; "
     "does not hold when the median slowdown is within 0.95-1.05 with its "
     "CI under 1.10 (oversubscription cost nothing measurable); "
     "inconclusive otherwise.",
     sm_rule_c4, NULL, NULL},
    {"C5",
     "RwLock costs more than Mutex; it wins only when reads clearly "
     "dominate",
     "throughput over read share x threads x critical-section length",
     "contention",
     "At the largest thread count from 2 up to the allowed PUs and the "
     "longest critical section measured, with Rust std's algorithms "
     "(futex_mutex, futex_rwlock): holds when the mutex beats the rwlock at "
     "0% reads, the rwlock beats the mutex at the highest read share, and "
     "the rwlock does not beat the mutex at 50% reads (each 'beats' = 95% "
     "CIs of the median ops/s apart); does not hold when any of the three "
     "comes out the other way; inconclusive otherwise. "
     "Where the run counted events (--counters), the misses per operation "
     "(futex_mutex and futex_rwlock at 0% and the top read share) of the "
     "deciding rows are shown beside their times; they do not "
     "change the verdict, and read 'not available' where no PMU, the "
     "permissions or the family's own measurement gave none.",
     sm_rule_c5, sm_rule_c5_rust, "rust_mutex rust_rwlock"},
    {"C6", "Cost ordering: atomics << channels << RwLock < Mutex",
     "N threads adding M updates to one total by fetch_add, a channel to an "
     "aggregator, a rwlock and a mutex",
     "aggregate",
     "At work_ns=0 and the largest thread count from 2 up to the allowed "
     "PUs, ns per update: atomic < channel < rwlock < mutex, each step with "
     "95% CIs apart. Holds when all three steps hold; does not hold when "
     "any step is reversed with CIs apart; inconclusive otherwise. "
     "Where the run counted events (--counters), the misses per operation "
     "(each strategy) of the deciding rows are shown beside their times; they "
     "do not "
     "change the verdict, and read 'not available' where no PMU, the "
     "permissions or the family's own measurement gave none.",
     sm_rule_c6, NULL, NULL},
    {"C7",
     "park/unpark wakes at once and costs nothing while parked; "
     "sleep-polling adds latency",
     "wake latency distribution and the sleeper's CPU for park, condvar, "
     "futex, spin-then-park and polling every 10 ms, 1 ms, 100 us",
     "wake",
     "At the longest waker delay measured and every placement: park's "
     "median wake latency beats polling every 1 ms and every 10 ms (95% CIs "
     "apart), and the parked sleeper's CPU time per wake-up, less the CPU "
     "its latency sampling adds (cpu_probe_ns), is under 1% of its time "
     "per wake-up (medians). Holds when all hold; does not hold when a "
     "polling loop wakes sooner (CIs apart) or park's CPU is over 2% of "
     "the wait; inconclusive otherwise. For Rust std: the same with "
     "rust_park (thread::park / unpark) against the same polling loops "
     "(an OS sleep in either language).",
     sm_rule_c7, sm_rule_c7_rust, "rust_park"},
    {"C8",
     "Bounded channels give backpressure; an unbounded one grows memory "
     "without limit when the consumer is slow",
     "a producer faster than its consumer: blocked time, depth and RSS over "
     "time, bounded against unbounded",
     "backpressure",
     "For every consumer speed: each bounded capacity blocks its producer "
     "more than half the time and grows RSS by under 1 MiB; the unbounded "
     "channel never blocks (under 5%) and grows RSS more than 10x the "
     "largest bounded growth (or reaches syncmark's memory cap). Holds when "
     "all hold; does not hold when a bounded producer is never blocked or "
     "the unbounded RSS grows no more than the bounded; inconclusive "
     "otherwise. For Rust std: the same with rust_std (mpsc::sync_channel "
     "and mpsc::channel).",
     sm_rule_c8, sm_rule_c8_rust, "rust_std"},
    {"C9", "A thread pool beats a thread per task",
     "the same batch of tasks by a thread per task, the lesson's pool and "
     "a faster pool, over task size and pool size",
     "spawn_vs_pool",
     "For CPU-only tasks of up to 10 us and a pool of as many workers as "
     "allowed PUs: both pools complete more tasks per second than a thread "
     "per task, 95% CIs apart. Holds when all hold; does not hold when a "
     "thread per task beats a pool; inconclusive otherwise.",
     sm_rule_c9, sm_rule_c9_rust, "rust_thread_per_task rust_lesson_pool"},
    {"C10",
     "Holding a lock across slow work ruins throughput; keep the critical "
     "section small",
     "a mutex held across a simulated I/O wait against only around the "
     "update, over threads",
     "lockscope",
     "With the slow operation a sleep (blocking=1), at the largest thread "
     "count measured and every slow_us: locking only the update gives at "
     "least 2x the ops/s of holding the lock across the sleep, 95% CIs "
     "apart. Holds when all hold; does not hold when holding across is "
     "faster (CIs apart); inconclusive otherwise.",
     sm_rule_c10, NULL, NULL},
    {"C11", "SeqCst is slower than Acquire/Release, Relaxed is fastest",
     "store, load, fetch_add and compare-exchange per memory order, one "
     "thread on its own cache line",
     "ordering",
     "For each of store, load, fetch_add and compare-exchange (1 thread, "
     "shared=0, ns per op): the operation agrees with the claim when seq_cst "
     "is slower than acquire/release (CIs apart) and relaxed is not more "
     "than 10% slower than acquire/release; it contradicts the claim when "
     "seq_cst costs no "
     "more than 1.1x acquire/release. Holds when all four agree; does not "
     "hold when any contradicts; inconclusive otherwise.",
     sm_rule_c11, NULL, NULL},
    {"C12", "Message passing scales better than shared state",
     "aggregation by a channel against a mutex over threads, and the "
     "three-stage pipeline over channels against one locked queue",
     "aggregate",
     "At the largest work_ns measured, from 1 thread to the largest count "
     "from 2 up to the allowed PUs: the channel's speed-up is at least 1.2x "
     "the mutex's, and the pipeline over channels beats the pipeline over "
     "one locked queue at that count (95% CIs apart). Holds when both hold; "
     "does not hold when the channel's speed-up is under the mutex's / 1.2 "
     "or the locked pipeline wins; inconclusive otherwise.",
     sm_rule_c12, NULL, NULL},
    {"C13", "Cloning an Arc is cheap (one increment)",
     "clone+release cost uncontended, on one object from all threads, and "
     "a non-atomic count",
     "refcount",
     "Holds when an uncontended Arc clone+release (arc_private, 1 thread) "
     "costs under 25 ns per pair and the same on one object shared by the "
     "largest thread count up to the allowed PUs (arc_shared) costs at most "
     "4x that; does not hold when either bound is broken with the 95% CI "
     "entirely beyond it; inconclusive otherwise. rc_private shows the "
     "non-atomic floor. "
     "Where the run counted events (--counters), the misses per operation "
     "(arc_private and arc_shared) of the deciding rows are shown beside their "
     "times; they do not "
     "change the verdict, and read 'not available' where no PMU, the "
     "permissions or the family's own measurement gave none.",
     sm_rule_c13, sm_rule_c13_rust, "rust_arc_private rust_arc_shared"},
    {"C14", "Selecting over channels by polling try_recv is inefficient",
     "latency and CPU of a try_recv loop with 10 ms sleeps against a "
     "blocking select, over the number of channels",
     "select",
     "For every channel count and placement: select's median latency to "
     "notice a message is under a tenth of the 10 ms polling loop's, and "
     "its CPU share while nothing arrives is lower (95% CIs apart). Holds "
     "when all hold; does not hold when select's latency CI lies entirely "
     "above a tenth of polling's, or its CPU share is higher (CIs apart); "
     "inconclusive otherwise.",
     sm_rule_c14, NULL, NULL},
    {"C15",
     "The lesson's pool (workers share one receiver behind a mutex) is a "
     "sound design",
     "the lesson's shared-queue pool against per-worker queues with "
     "stealing, over workers and task size",
     "spawn_vs_pool",
     "For CPU-only tasks of 10 us or more and a pool of as many workers as "
     "allowed PUs: the lesson's pool completes at least half the tasks per "
     "second of the faster pool (CIs entirely above 0.5x). Holds when all "
     "hold; does not hold when its CI is entirely below 0.5x; inconclusive "
     "otherwise. Smaller tasks are reported, not judged: there the shared "
     "queue's lock is the whole cost.",
     sm_rule_c15, sm_rule_c15_rust, "rust_lesson_pool"},
    {"C16", "sleep() may wake slightly late",
     "requested against actual duration of nanosleep from 10 us to 10 ms, "
     "with the thread's timer slack as it is",
     "sleep",
     "For every requested length (default timer slack): the claim fits when "
     "the median overshoot is above 0 and under 10% of the request; it is "
     "contradicted when the median overshoot exceeds the request itself "
     "(late by more than the whole sleep is not 'slightly'). Holds when "
     "every length fits; does not hold when any length contradicts it; "
     "inconclusive otherwise.",
     sm_rule_c16, NULL, NULL},
    {"C17", "Lock ordering prevents deadlock; timeouts let a thread back off",
     "the lesson's two-lock pattern unordered (proven by a detector thread), "
     "ordered, and trylock with back-off",
     "deadlock",
     "Holds when ordered and trylock-with-back-off never deadlock in any "
     "repetition and unordered deadlocks in at least one (showing the "
     "hazard is real here); does not hold when ordered or trylock deadlock "
     "even once; inconclusive when unordered never deadlocked or a case of "
     "ordered or trylock failed (a deadlock there fails the family's "
     "self-check; problems.csv says why).",
     sm_rule_c17, NULL, NULL},
};
const size_t sm_nclaims = sizeof sm_claims / sizeof sm_claims[0];
