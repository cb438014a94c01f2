/* stack.c: the `stack` family: what a thread's stack costs (claims C2, C3):
 * spawn+join latency (syncmark's threads and Rust std's
 * thread::Builder::stack_size), and the virtual and resident memory of many
 * idle threads, over the stack size and the depth of stack each thread
 * touches. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "family.h"
#include "kit.h"
#include "rust_std.h"
#include "syncmark/clock.h"
#include "syncmark/park.h"
#include "syncmark/procstat.h"
#include "syncmark/thread.h"

/* Axis indexes into sm_case.param. */
enum { AXIS_STACK_KIB, AXIS_TOUCH_KIB };

/* Bytes of stack one level of touch_stack() fills: 1 KiB, so touch_kib
 * levels touch about touch_kib KiB (plus each frame's few words). */
enum { TOUCH_FRAME_BYTES = 1024 };

/* Stack a thread needs beyond its touched frames: glibc's thread
 * descriptor and static TLS live at the top of the stack, and the thread's
 * start frames below them. A case whose touch does not fit is left out. */
enum { STACK_RESERVE_KIB = 8 };

/* Idle threads per pass (before the memory bound), full and quick. */
enum { IDLE_THREADS_FULL = 2000, IDLE_THREADS_QUICK = 64 };

/* Resident KiB one idle thread is assumed to cost beyond its touched
 * stack when bounding the thread count (the real figure is ~10 KiB); and
 * the share of the free memory a pass may plan to use. */
enum { RESIDENT_ESTIMATE_KIB = 64, MEMORY_SHARE_DIVISOR = 4 };

/* How long the spawner sleeps between looks at its idle threads' ready
 * count (untimed: after their spawn was timed). */
enum { READY_POLL_NS = 100000 };

/* A stack larger than glibc's stack cache (40 MiB by default): spawning
 * and joining one such thread makes glibc unmap every cached stack, so a
 * pass's threads get fresh stacks, as the first threads of a program do. */
#define CACHE_FLUSH_STACK ((size_t)128 << 20)

/* Fills `frames` frames of TOUCH_FRAME_BYTES each with bytes derived from
 * `seed` and returns the sum of one byte of each frame, so the recursion
 * cannot be removed or turned into a loop. Never fails; the caller makes
 * sure the stack is deep enough. */
static __attribute__((noinline)) uint64_t touch_stack(unsigned frames,
                                                      uint64_t seed) {
  unsigned char buf[TOUCH_FRAME_BYTES];
  memset(buf, (int)(seed & 0xff), sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
  uint64_t below = frames > 1 ? touch_stack(frames - 1, seed + 1) : 0;
  __asm__ __volatile__("" : : "r"(buf) : "memory");
  return below + buf[seed % TOUCH_FRAME_BYTES];
}

/* Returns what touch_stack(frames, seed) returns, computed without
 * recursion (the self-check's reference). */
static uint64_t touch_expected(unsigned frames, uint64_t seed) {
  uint64_t sum = 0;
  for (unsigned i = 0; i < frames; i++)
    sum += (seed + i) & 0xff;
  return sum;
}

/* ---- reading the machine's memory ------------------------------------ */

/* Reads a file holding one number (a cgroup limit or usage) into *value;
 * "max" reads as UINT64_MAX. Returns 0 or a negative errno. */
static int read_number_file(const char *path, uint64_t *value) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -errno;
  char word[32] = "";
  int rc = fscanf(f, "%31s", word) == 1 ? 0 : -EIO;
  fclose(f);
  if (rc == 0 && strcmp(word, "max") == 0)
    *value = UINT64_MAX;
  /* NOLINTNEXTLINE(cert-err34-c): a cgroup file holds a uint64 or "max" */
  else if (rc == 0 && sscanf(word, "%" SCNu64, value) != 1)
    rc = -EIO;
  return rc;
}

/* Returns the KiB the cgroup still allows (limit minus usage, cgroup v2
 * then v1), or UINT64_MAX when there is no limit or it cannot be read. */
static uint64_t cgroup_headroom_kib(void) {
  static const char *const files[][2] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
       "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
  for (size_t i = 0; i < SM_COUNT(files); i++) {
    uint64_t limit = 0, usage = 0;
    if (read_number_file(files[i][0], &limit) != 0 ||
        read_number_file(files[i][1], &usage) != 0)
      continue;
    if (limit == UINT64_MAX || limit >= (UINT64_MAX >> 2))
      return UINT64_MAX;
    return limit > usage ? (limit - usage) / 1024 : 0;
  }
  return UINT64_MAX;
}

/* Returns the KiB of memory a pass may plan to make resident: a share of
 * the smaller of MemAvailable and the cgroup's headroom. When MemAvailable
 * cannot be read only the cgroup bounds it. */
static uint64_t memory_budget_kib(void) {
  uint64_t avail = UINT64_MAX, cg = cgroup_headroom_kib();
  (void)sm_procstat_kib("/proc/meminfo", "MemAvailable", &avail);
  uint64_t room = avail < cg ? avail : cg;
  return room == UINT64_MAX ? room : room / MEMORY_SHARE_DIVISOR;
}

/* Sums the resident KiB (mincore) of the mapping [lo, hi). Returns 0 or
 * the negative errno of mincore (-ENOMEM when part of it is unmapped). */
static int mapping_resident_kib(uintptr_t lo, uintptr_t hi, size_t page,
                                uint64_t *kib) {
  size_t pages = (hi - lo) / page;
  unsigned char *vec = malloc(pages ? pages : 1);
  if (!vec)
    return -ENOMEM;
  /* NOLINTNEXTLINE(performance-no-int-to-ptr): lo is read from the maps */
  int rc = mincore((void *)lo, hi - lo, vec) == 0 ? 0 : -errno;
  uint64_t resident = 0;
  for (size_t i = 0; rc == 0 && i < pages; i++)
    resident += vec[i] & 1;
  free(vec);
  *kib += resident * page / 1024;
  return rc;
}

/* Compares two addresses for qsort. */
static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return (x > y) - (x < y);
}

/* Independent measure of the threads' stacks: finds in /proc/self/maps the
 * mapping holding each address of `addrs` (one address inside each
 * thread's stack; sorted here) and sums the resident KiB of those mappings
 * with mincore, each mapping once. Sets *found to how many addresses lay in
 * some mapping. Returns 0 or a negative errno. */
static int stacks_resident_kib(uintptr_t *addrs, size_t n, uint64_t *kib,
                               size_t *found) {
  qsort(addrs, n, sizeof *addrs, cmp_addr);
  long ps = sysconf(_SC_PAGESIZE);
  size_t page = ps > 0 ? (size_t)ps : 4096;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return -errno;
  *kib = 0;
  *found = 0;
  char line[512];
  size_t next = 0; /* first address not yet placed in a mapping */
  int rc = 0;
  while (rc == 0 && next < n && fgets(line, sizeof line, f)) {
    uintptr_t lo, hi;
    /* NOLINTNEXTLINE(cert-err34-c): the kernel writes addresses that fit */
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) != 2)
      continue;
    while (next < n && addrs[next] < lo)
      next++; /* in no mapping: cannot happen for a live thread */
    size_t inside = 0;
    while (next < n && addrs[next] < hi) {
      next++;
      inside++;
    }
    if (inside)
      rc = mapping_resident_kib(lo, hi, page, kib);
    *found += inside;
  }
  fclose(f);
  return rc;
}

/* ---- the state of one window ----------------------------------------- */

/* Shared state of the idle threads of one pass. */
struct idle_gate {
  SM_CACHE_ALIGNED atomic_uint ready;  /* threads that touched and wait */
  SM_CACHE_ALIGNED atomic_int release; /* 1: the threads may exit */
  unsigned frames;                     /* touch_stack depth */
};

/* One idle thread's report, written before it counts itself ready. */
struct idle_slot {
  struct idle_gate *gate;
  uint64_t seed;
  uint64_t checksum;     /* of touch_stack */
  uint64_t touch_faults; /* the thread's minor faults while touching */
  uintptr_t stack_addr;  /* an address inside the thread's stack */
};

/* What one idle pass saw: the process's memory with and without its
 * threads, and mincore over their stacks. */
struct idle_probe {
  unsigned reached; /* threads created */
  int spawn_error;  /* errno that stopped spawning, or 0 */
  struct sm_proc_memory before, after;
  uint64_t stack_kib;    /* resident, by mincore over the stacks */
  uint64_t touch_minflt; /* the threads' minor faults while touching, sum */
};

/* Who holds the idle threads of a pass (stack_state.batch). */
enum { BATCH_EMPTY, BATCH_READY, BATCH_QUIT };

/* Shared state of one window. The spawn_join worker and the idle spawner
 * write the plain fields; the runner reads them after joining. */
struct stack_state {
  size_t stack_bytes; /* the case's stack size */
  unsigned frames;    /* touch_stack depth (touch_kib) */
  char skip[160];     /* non-empty: why the case cannot run here (no
                         memory for even one idle thread) */
  char error[200];    /* non-empty: the first failed check or call */
  int spawn_error;    /* negative errno of a refused spawn, or 0 */
  uint64_t spawned;   /* spawn_join: threads spawned and joined */
  uint64_t measured;  /* ... of them inside the measured phase */
  uint64_t minflt;    /* their minor faults, summed */
  /* idle: the threads of one pass, handed from the spawner to the joiner
   * through `batch` (BATCH_*), each waking the other with its parker. */
  unsigned target; /* idle threads planned per pass */
  struct idle_gate gate;
  struct idle_slot *slots;
  struct sm_join_handle **handles;
  uintptr_t *addrs;
  SM_CACHE_ALIGNED atomic_uint batch;
  unsigned batch_n; /* threads of the batch handed over */
  struct sm_parker joiner_wake, spawner_wake;
  struct idle_probe probe; /* the last pass inside the measured phase, or
                              the last pass when none was */
  int probe_measured;      /* 1: probe is from the measured phase */
  unsigned passes;         /* idle passes completed */
};

/* Records the first error of the window as a sentence (printf-style). */
static void fail(struct stack_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct stack_state *s, const char *fmt, ...) {
  if (s->error[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->error, sizeof s->error, fmt, ap);
  va_end(ap);
}

/* Spawns and joins one unnamed thread with a `stack`-byte stack running
 * fn(arg). Returns 0 or the negative errno of spawn or join. */
static int spawn_join_one(size_t stack, sm_thread_fn fn, void *arg) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = stack;
  struct sm_join_handle *h;
  int rc = sm_thread_spawn(&opts, fn, arg, &h);
  return rc == 0 ? sm_join(h, NULL) : rc;
}

/* ---- spawn_join: one thread at a time ------------------------------- */

/* What one spawn+join thread does and reports back through join. */
struct touch_job {
  unsigned frames;   /* touch_stack depth */
  uint64_t seed;     /* touch_stack seed */
  uint64_t checksum; /* written by the thread */
  uint64_t minflt;   /* the thread's minor faults over its life */
};

/* Thread body of spawn_join: touches the job's depth of stack and records
 * the checksum and its minor faults. Never fails. */
static void *touch_main(void *arg) {
  struct touch_job *job = arg;
  job->checksum = job->frames ? touch_stack(job->frames, job->seed) : 0;
  job->minflt = sm_procstat_thread_minflt();
  return NULL;
}

/* touch_main as a Rust std thread's task. Returns 0. */
static int touch_task(void *arg) {
  (void)touch_main(arg);
  return 0;
}

/* Spawns and joins one Rust std thread (thread::Builder::stack_size) of
 * `stack` bytes running touch_main(job). Returns 0 or -EAGAIN when the OS
 * refused the thread. */
static int rust_spawn_join_one(size_t stack, struct touch_job *job) {
  struct sm_rust_join_handle *h = sm_rust_spawn(touch_task, job, stack);
  return h ? sm_rust_join(h) : -EAGAIN;
}

/* syncmark's spawn+join of one touch_main thread. */
static inline int c_spawn_join_one(size_t stack, struct touch_job *job) {
  return spawn_join_one(stack, touch_main, job);
}

/* Defines `name`, a spawn_join worker whose spawn+join is how(stack, job):
 * a pass spawns and joins one thread that touches the case's depth of
 * stack (sampled: spawn_join_p50_ns ...). The first refused spawn or wrong
 * checksum ends the work (the check reports it); glibc's stack cache
 * fills in the warm-up, as in a program that spawns repeatedly. */
#define SPAWN_JOIN_WORKER(name, how)                                           \
  static void name(struct sm_worker *w) {                                      \
    struct stack_state *s = w->state;                                          \
    uint64_t count = 0;                                                        \
    SM_MEASURED_LOOP(w, count) {                                               \
      if (s->skip[0] || s->error[0])                                           \
        continue;                                                              \
      struct touch_job job = {.frames = s->frames, .seed = count + 1};         \
      int rc;                                                                  \
      SM_SAMPLED(w, count, rc = how(s->stack_bytes, &job));                    \
      spawn_join_done(w, s, &job, rc);                                         \
    }                                                                          \
  }

/* Accounts one spawn+join of the worker's pass: its failure (rc, or a
 * wrong checksum) is recorded in s; a success is counted, with its minor
 * faults when measured. */
static void spawn_join_done(const struct sm_worker *w, struct stack_state *s,
                            const struct touch_job *job, int rc) {
  if (rc != 0) {
    s->spawn_error = rc;
    fail(s, "spawn+join failed after %" PRIu64 " threads: %s", s->spawned,
         strerror(-rc));
  } else if (job->checksum != touch_expected(job->frames, job->seed)) {
    fail(s, "spawned thread's stack checksum %" PRIu64 ", expected %" PRIu64,
         job->checksum, touch_expected(job->frames, job->seed));
  } else {
    s->spawned++;
    if (w->in_measure) {
      s->measured++;
      s->minflt += job->minflt;
    }
  }
}

SPAWN_JOIN_WORKER(spawn_join_worker, c_spawn_join_one)
SPAWN_JOIN_WORKER(rust_spawn_join_worker, rust_spawn_join_one)

/* ---- idle: many threads alive at once ------------------------------- */

/* Thread body of idle: touches its depth of stack, reports, counts itself
 * ready (release, so the report is visible to whoever sees the count) and
 * parks until released. Never fails. */
static void *idle_main(void *arg) {
  struct idle_slot *slot = arg;
  struct idle_gate *g = slot->gate;
  uint64_t before = sm_procstat_thread_minflt();
  slot->checksum = g->frames ? touch_stack(g->frames, slot->seed) : 0;
  slot->touch_faults = sm_procstat_thread_minflt() - before;
  slot->stack_addr = (uintptr_t)__builtin_frame_address(0);
  atomic_fetch_add_explicit(&g->ready, 1, memory_order_release);
  while (!atomic_load_explicit(&g->release, memory_order_acquire))
    sm_thread_park();
  return NULL;
}

/* Spawns idle threads of `stack` bytes on g into slots and h until
 * `target` exist or the OS refuses one, whose errno goes to *error (else
 * 0). Returns how many were created. */
static unsigned spawn_idle(struct idle_gate *g, size_t stack, unsigned target,
                           struct idle_slot *slots, struct sm_join_handle **h,
                           int *error) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = stack;
  *error = 0;
  unsigned n = 0;
  for (; n < target; n++) {
    slots[n] = (struct idle_slot){.gate = g, .seed = n + 1};
    int rc = sm_thread_spawn(&opts, idle_main, &slots[n], &h[n]);
    if (rc != 0) {
      *error = -rc;
      break;
    }
  }
  return n;
}

/* Waits (sleeping READY_POLL_NS at a time) until all `n` created threads
 * are ready. Never fails: a created thread always gets to run. */
static void wait_ready(struct idle_gate *g, unsigned n) {
  while (atomic_load_explicit(&g->ready, memory_order_acquire) < n)
    (void)sm_sleep_for_ns(READY_POLL_NS);
}

/* Releases the `n` created threads and joins them. Returns 0 or the first
 * negative errno of sm_join (all are joined regardless). */
static int release_and_join(struct idle_gate *g, struct sm_join_handle **h,
                            unsigned n) {
  atomic_store_explicit(&g->release, 1, memory_order_release);
  for (unsigned i = 0; i < n; i++)
    sm_thread_unpark(sm_join_handle_thread(h[i]));
  int rc = 0;
  for (unsigned i = 0; i < n; i++) {
    int r = sm_join(h[i], NULL);
    rc = rc ? rc : r;
  }
  return rc;
}

/* Most threads warm_arenas holds at once. */
enum { ARENA_WARM_MAX = 1024 };

/* glibc gives a thread that first calls malloc or free while every arena
 * is in use a new malloc arena (64 MiB of address space), up to 8 per CPU,
 * and sm_thread_spawn's threads free their start block: the first threads
 * of a process add arenas to VmSize. Holding that many threads alive once,
 * before the first baseline, creates them all, so every pass measures
 * threads alone. Best effort: a refusal only ends it early. */
static void warm_arenas(void) {
  static atomic_int warmed;
  if (atomic_exchange_explicit(&warmed, 1, memory_order_relaxed))
    return;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned n = cpus > 0 && cpus < ARENA_WARM_MAX / 8 ? 8 * (unsigned)cpus + 1
                                                     : ARENA_WARM_MAX;
  struct idle_slot *slots = calloc(n, sizeof *slots);
  struct sm_join_handle **h = calloc(n, sizeof *h);
  if (slots && h) {
    struct idle_gate g = {.frames = 0};
    atomic_init(&g.ready, 0);
    atomic_init(&g.release, 0);
    int error;
    unsigned made = spawn_idle(&g, 0, n, slots, h, &error);
    wait_ready(&g, made);
    (void)release_and_join(&g, h, made);
  }
  free(slots);
  free(h);
}

/* Checks every ready thread's report and measures their stacks with
 * mincore into p. Returns 0, or records the failure in s (a wrong checksum,
 * a stack mincore did not find, an error reading the mappings) and returns
 * -1. */
static int inspect_threads(struct stack_state *s, struct idle_probe *p) {
  unsigned bad = 0;
  for (unsigned i = 0; i < p->reached; i++) {
    bad += s->slots[i].checksum != touch_expected(s->frames, s->slots[i].seed);
    p->touch_minflt += s->slots[i].touch_faults;
    s->addrs[i] = s->slots[i].stack_addr;
  }
  size_t found = 0;
  int rc = stacks_resident_kib(s->addrs, p->reached, &p->stack_kib, &found);
  if (rc != 0)
    fail(s, "reading the stacks' mappings failed: %s", strerror(-rc));
  else if (bad || found != p->reached)
    fail(s,
         "%u of %u idle threads had a wrong stack checksum; mincore found "
         "%zu of their stacks",
         bad, p->reached, found);
  return s->error[0] ? -1 : 0;
}

/* Hands the created threads of a pass to the joiner and waits until it has
 * joined them. Never fails. */
static void hand_over(struct stack_state *s, unsigned n) {
  s->batch_n = n;
  atomic_store_explicit(&s->batch, BATCH_READY, memory_order_release);
  sm_parker_unpark(&s->joiner_wake);
  while (atomic_load_explicit(&s->batch, memory_order_acquire) != BATCH_EMPTY)
    sm_parker_park(&s->spawner_wake);
}

/* One idle pass: flushes glibc's stack cache and reads the process's
 * memory (untimed), spawns up to s->target idle threads (the manual time:
 * spawn_ns_per_thread), waits until they touched their stacks, reads the
 * memory again and inspects the stacks (untimed), then hands the threads
 * to the joiner. Failures are recorded in s. */
static void idle_pass(struct sm_worker *w, struct stack_state *s) {
  struct idle_probe p = {0};
  /* Best effort: under a tight RLIMIT_AS the flush thread may be refused,
   * and the pass then reuses whatever glibc has cached. */
  (void)spawn_join_one(CACHE_FLUSH_STACK, touch_main,
                       &(struct touch_job){.frames = 0});
  int rc = sm_procstat_memory(&p.before);
  if (rc != 0) {
    fail(s, "cannot read /proc/self/status: %s", strerror(-rc));
    return;
  }
  atomic_store_explicit(&s->gate.ready, 0, memory_order_relaxed);
  atomic_store_explicit(&s->gate.release, 0, memory_order_relaxed);
  uint64_t t = sm_manual_start(w);
  p.reached = spawn_idle(&s->gate, s->stack_bytes, s->target, s->slots,
                         s->handles, &p.spawn_error);
  sm_manual_stop(w, t, p.reached);
  wait_ready(&s->gate, p.reached);
  rc = sm_procstat_memory(&p.after);
  if (rc != 0)
    fail(s, "cannot read /proc/self/status: %s", strerror(-rc));
  else if (p.reached > 0)
    (void)inspect_threads(s, &p);
  if (p.reached == 0)
    s->spawn_error = -p.spawn_error;
  hand_over(s, p.reached);
  if (!s->probe_measured || w->in_measure) {
    s->probe = p;
    s->probe_measured = w->in_measure;
  }
  s->passes++;
}

/* The idle spawner: creates glibc's malloc arenas once per process (here,
 * not in setup: a thread that has just exited may still count against
 * RLIMIT_NPROC for a moment, and the runner creates the case's threads
 * right after setup), then runs one pass of idle threads after another
 * (idle_pass), until the window ends or a pass fails or creates no thread;
 * then tells the joiner that no more threads come. */
static void idle_spawner(struct sm_worker *w) {
  struct stack_state *s = w->state;
  uint64_t count = 0;
  if (!s->skip[0])
    warm_arenas();
  SM_MEASURED_LOOP(w, count) {
    if (s->skip[0] || s->error[0] || s->spawn_error)
      continue;
    idle_pass(w, s);
  }
  atomic_store_explicit(&s->batch, BATCH_QUIT, memory_order_release);
  sm_parker_unpark(&s->joiner_wake);
}

/* Waits for the spawner's next batch and releases and joins it (the
 * manual time: join_ns_per_thread). Returns 1 when the spawner said no
 * more batches come, else 0. */
static int join_batch(struct sm_worker *w, struct stack_state *s) {
  unsigned b;
  while ((b = atomic_load_explicit(&s->batch, memory_order_acquire)) ==
         BATCH_EMPTY)
    sm_parker_park(&s->joiner_wake);
  if (b == BATCH_QUIT)
    return 1;
  unsigned n = s->batch_n;
  uint64_t t = sm_manual_start(w);
  int rc = release_and_join(&s->gate, s->handles, n);
  sm_manual_stop(w, t, n);
  if (rc != 0)
    fail(s, "joining the idle threads failed: %s", strerror(-rc));
  atomic_store_explicit(&s->batch, BATCH_EMPTY, memory_order_release);
  sm_parker_unpark(&s->spawner_wake);
  return 0;
}

/* The idle joiner: joins the batches the spawner hands over, also after
 * the window ended (the spawner's last pass may still be under way), until
 * the spawner says it is done. */
static void idle_joiner(struct sm_worker *w) {
  struct stack_state *s = w->state;
  uint64_t count = 0;
  int quit = 0;
  SM_MEASURED_LOOP(w, count) {
    if (!quit)
      quit = join_batch(w, s);
  }
  while (!quit)
    quit = join_batch(w, s);
}

/* ---- setup, check, metrics ------------------------------------------ */

/* Says whether case c can run here: SM_MEASURE_SKIP with the reason for a
 * stack under this system's minimum, or one too small for the depth the
 * case touches (that would overflow it); else 0. */
static int stack_applies(const struct sm_case *c, char *msg, size_t size) {
  int rust = sm_rust_std_applies(c, msg, size);
  if (rust != 0)
    return rust;
  long min = sysconf(_SC_THREAD_STACK_MIN);
  long stack_kib = c->param[AXIS_STACK_KIB];
  long touch_kib = c->param[AXIS_TOUCH_KIB];
  long need_kib = touch_kib + touch_kib / 8 + STACK_RESERVE_KIB;
  if (min > 0 && (size_t)stack_kib * 1024 < (size_t)min) {
    snprintf(msg, size,
             "a %ld KiB stack is under this system's thread stack minimum "
             "of %ld bytes",
             stack_kib, min);
    return SM_MEASURE_SKIP;
  }
  if (touch_kib > 0 && need_kib > stack_kib) {
    snprintf(msg, size,
             "touching %ld KiB needs a stack of at least %ld KiB (frames, "
             "thread descriptor and TLS)",
             touch_kib, need_kib);
    return SM_MEASURE_SKIP;
  }
  return 0;
}

/* Returns how many idle threads a pass of c plans: the mode's count,
 * bounded so that their resident memory stays within memory_budget_kib()
 * and, under a finite RLIMIT_AS, their stacks within half the address
 * space left. May return 0. */
static unsigned idle_target(const struct sm_case *c) {
  uint64_t k = c->quick ? IDLE_THREADS_QUICK : IDLE_THREADS_FULL;
  uint64_t per_thread_kib =
      (uint64_t)c->param[AXIS_TOUCH_KIB] + RESIDENT_ESTIMATE_KIB;
  uint64_t budget = memory_budget_kib();
  if (budget / per_thread_kib < k)
    k = budget / per_thread_kib;
  struct rlimit as;
  struct sm_proc_memory m;
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY &&
      sm_procstat_memory(&m) == 0) {
    uint64_t limit_kib = (uint64_t)as.rlim_cur / 1024;
    uint64_t room = limit_kib > m.vm ? (limit_kib - m.vm) / 2 : 0;
    uint64_t virt = (uint64_t)c->param[AXIS_STACK_KIB] + RESIDENT_ESTIMATE_KIB;
    if (room / virt < k)
      k = room / virt;
  }
  return (unsigned)k;
}

/* Frees the state of one window (also a partly set up one). */
static void stack_teardown(void *state) {
  struct stack_state *s = state;
  free(s->slots);
  free(s->handles);
  free(s->addrs);
  free(s);
}

/* Creates the state of one window of c (one stack_applies admitted): the
 * case's stack and depth, and for idle the planned threads' slots (or why
 * not even one fits). Returns 0 or -ENOMEM. */
static int stack_setup(const struct sm_case *c, void **state) {
  struct stack_state *s = sm_kit_state_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  s->stack_bytes = (size_t)c->param[AXIS_STACK_KIB] * 1024;
  s->frames = (unsigned)c->param[AXIS_TOUCH_KIB];
  s->gate.frames = s->frames;
  atomic_init(&s->gate.ready, 0);
  atomic_init(&s->gate.release, 0);
  atomic_init(&s->batch, BATCH_EMPTY);
  atomic_init(&s->joiner_wake.state, SM_PARKER_EMPTY);
  atomic_init(&s->spawner_wake.state, SM_PARKER_EMPTY);
  if (strcmp(c->variant->name, "idle") == 0) {
    s->target = idle_target(c);
    size_t cap = s->target ? s->target : 1;
    s->slots = calloc(cap, sizeof *s->slots);
    s->handles = calloc(cap, sizeof *s->handles);
    s->addrs = calloc(cap, sizeof *s->addrs);
    if (!s->slots || !s->handles || !s->addrs) {
      stack_teardown(s);
      return -ENOMEM;
    }
    if (s->target == 0)
      snprintf(s->skip, sizeof s->skip,
               "not enough free memory (MemAvailable, cgroup limit or "
               "RLIMIT_AS) for even one idle thread");
  }
  *state = s;
  return 0;
}

/* Self-check and the case's fate: SM_MEASURE_SKIP with the reason when
 * memory allows no idle thread or the OS refused the case's first thread;
 * -EPROTO with the first failure (a wrong checksum, a stack mincore did not
 * find, a failed spawn after some succeeded, an idle window without a measured
 * pass); else 0. */
static int stack_check(const struct sm_case *c, void *state,
                       const struct sm_worker *workers SM_UNUSED, char *msg,
                       size_t msg_size) {
  struct stack_state *s = state;
  int idle = strcmp(c->variant->name, "idle") == 0;
  if (s->skip[0]) {
    snprintf(msg, msg_size, "%s", s->skip);
    return SM_MEASURE_SKIP;
  }
  if (!idle && s->spawned == 0 && s->spawn_error == -EAGAIN) {
    snprintf(msg, msg_size,
             "the OS refused to create a thread (EAGAIN: RLIMIT_NPROC, "
             "threads-max, the pids cgroup or memory)");
    return SM_MEASURE_SKIP;
  }
  if (idle && s->probe.reached == 0 && s->spawn_error) {
    snprintf(msg, msg_size,
             "the OS refused to create the first of %u idle threads: %s "
             "(RLIMIT_NPROC, threads-max, the pids cgroup or memory)",
             s->target, strerror(-s->spawn_error));
    return SM_MEASURE_SKIP;
  }
  if (s->error[0])
    return sm_kit_check_failed(msg, msg_size, "%s", s->error);
  if (idle && !s->probe_measured)
    return sm_kit_check_failed(
        msg, msg_size,
        "no pass of %u idle threads fitted in the measured window "
        "(%u passes in all): use a longer --duration",
        s->target, s->passes);
  return 0;
}

/* One metric row of the family. */
struct row {
  const char *metric, *unit;
  double value;
};

/* Adds the rows that are not NaN. Returns 0 or sm_sink_metric's error. */
static int add_rows(struct sm_sink *sink, const struct row *rows, size_t n) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!isnan(rows[i].value))
      rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  return rc;
}

/* Returns after - before per thread, as a double (may be negative). */
static double per_thread(uint64_t after, uint64_t before, unsigned n) {
  return ((double)after - (double)before) / n;
}

/* Returns ns per operation of a worker's manual time (NaN without any). */
static double manual_ns_per_op(const struct sm_worker *w) {
  return w->manual_ops ? (double)w->manual_ns / (double)w->manual_ops : NAN;
}

/* The family's metrics of a checked window. spawn_join: the minor faults
 * of a spawned thread over its life, the mean over the measured phase. idle:
 * the memory its last measured pass added per thread (VmRSS, VmSize, VmPTE,
 * mincore over the stacks), the faults of touching, the manual times of
 * spawning (the spawner) and of releasing and joining (the joiner) per thread,
 * the threads reached and planned, and the errno that stopped spawning. */
static int stack_metrics(const struct sm_case *c, void *state,
                         const struct sm_worker *workers, unsigned n,
                         struct sm_sink *sink, char *msg SM_UNUSED,
                         size_t msg_size SM_UNUSED) {
  const struct stack_state *s = state;
  if (strcmp(c->variant->name, "idle") != 0) {
    const struct row rows[] = {
        {"minflt_per_thread", "faults",
         s->measured ? (double)s->minflt / (double)s->measured : NAN}};
    return add_rows(sink, rows, 1);
  }
  const struct idle_probe *p = &s->probe;
  unsigned k = p->reached;
  double rss = per_thread(p->after.rss, p->before.rss, k);
  double stack = (double)p->stack_kib / k;
  const struct row rows[] = {
      {"rss_kib_per_thread", "KiB", rss},
      {"vm_kib_per_thread", "KiB", per_thread(p->after.vm, p->before.vm, k)},
      {"stack_rss_kib_per_thread", "KiB", stack},
      {"rss_check_ratio", "ratio", stack > 0 ? rss / stack : NAN},
      {"pte_kib_per_thread", "KiB", per_thread(p->after.pte, p->before.pte, k)},
      {"touch_minflt_per_thread", "faults", (double)p->touch_minflt / k},
      {"spawn_ns_per_thread", "ns", manual_ns_per_op(&workers[0])},
      {"join_ns_per_thread", "ns", n > 1 ? manual_ns_per_op(&workers[1]) : NAN},
      {"threads_reached", "threads", k},
      {"threads_planned", "threads", s->target},
      {"spawn_errno", "errno", p->spawn_error ? p->spawn_error : NAN},
  };
  return add_rows(sink, rows, SM_COUNT(rows));
}

/* The family's own metrics (the runner adds ops_per_s ... and the sampled
 * spawn_join_p50_ns ...). */
static const struct sm_metric_decl metric_decls[] = {
    {"minflt_per_thread", "faults", SM_NO_DIRECTION,
     "spawn_join: minor faults of one thread over its life"},
    {"rss_kib_per_thread", "KiB", SM_LOWER_IS_BETTER,
     "idle: resident memory added per thread"},
    {"vm_kib_per_thread", "KiB", SM_LOWER_IS_BETTER,
     "idle: virtual memory added per thread"},
    {"stack_rss_kib_per_thread", "KiB", SM_LOWER_IS_BETTER,
     "idle: resident KiB of a thread's stack mapping (mincore)"},
    {"rss_check_ratio", "ratio", SM_NO_DIRECTION,
     "idle: rss_kib_per_thread / stack_rss_kib_per_thread"},
    {"pte_kib_per_thread", "KiB", SM_LOWER_IS_BETTER,
     "idle: page-table memory added per thread"},
    {"touch_minflt_per_thread", "faults", SM_NO_DIRECTION,
     "idle: minor faults of touching the stack, per thread"},
    {"spawn_ns_per_thread", "ns", SM_LOWER_IS_BETTER,
     "idle: creating a pass's threads, per thread"},
    {"join_ns_per_thread", "ns", SM_LOWER_IS_BETTER,
     "idle: releasing and joining a pass's threads, per thread"},
    {"threads_reached", "threads", SM_NO_DIRECTION,
     "idle: threads the last measured pass created"},
    {"threads_planned", "threads", SM_NO_DIRECTION,
     "idle: threads planned per pass"},
    {"spawn_errno", "errno", SM_NO_DIRECTION,
     "idle: the error number when the OS refused a thread"},
};

static const long stack_values[] = {16,   32,   64,   128,  256,   512,
                                    1024, 2048, 4096, 8192, 16384, 65536};
static const long stack_quick[] = {16, 256, 2048, 8192, 65536};
static const long touch_values[] = {0, 64, 1024};
static const long touch_quick[] = {0, 64};

/* The stack axis spans what sm_thread_spawn accepts: 16 KiB (x86-64's
 * PTHREAD_STACK_MIN; a system with a larger minimum skips the smaller
 * sizes with a reason) to SM_THREAD_STACK_MAX. touch_kib stops at 64 MiB;
 * a depth that does not fit the case's stack leaves the case out. */
static const struct sm_axis axes[] = {
    SM_AXIS("stack_kib", stack_values, stack_quick, 16,
            (long)(SM_THREAD_STACK_MAX / 1024)),
    SM_AXIS("touch_kib", touch_values, touch_quick, 0, 65536),
};

/* spawn_join: one thread whose passes are spawn+joins, sampled. */
static const struct sm_role spawn_join_roles[] = {
    SM_ROLE_COUNTING_SAMPLED("spawner", spawn_join_worker, 1, "spawn_join"),
};
static const struct sm_role rust_spawn_join_roles[] = {
    SM_ROLE_COUNTING_SAMPLED("spawner", rust_spawn_join_worker, 1,
                             "spawn_join"),
};

/* idle: the spawner (its manual time over the spawns is the rate) and the
 * joiner that releases and joins each pass's threads. */
static const struct sm_role idle_roles[] = {
    SM_ROLE_COUNTING("spawner", idle_spawner, 1),
    SM_ROLE_SERVING("joiner", idle_joiner, 1),
};

static const struct sm_variant variants[] = {
    SM_KIT_ROLES_VARIANT("spawn_join",
                         "spawn + join of one thread after another",
                         spawn_join_roles),
    SM_KIT_ROLES_VARIANT(
        "idle", "memory of many idle threads: resident vs virtual", idle_roles),
    SM_KIT_ROLES_VARIANT("rust_spawn_join",
                         "Rust std: thread::Builder::stack_size spawn + join "
                         "of one thread after another",
                         rust_spawn_join_roles),
};

SM_FAMILY_DEFINE(stack, stack,
                 "thread stacks: spawn+join latency, resident vs virtual "
                 "memory per idle thread, over stack size and touched depth",
                 SM_FAMILY_AXES(axes),
                 SM_FAMILY_METRICS(stack_metrics, metric_decls),
                 .applies = stack_applies, .shape = SM_SHAPE_SINGLE,
                 .extra_threads = 1);
