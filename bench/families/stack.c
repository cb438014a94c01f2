/* stack.c: the `stack` family: what a thread's stack costs (claims C2, C3):
 * spawn+join latency, and the virtual and resident memory of many idle
 * threads, over the stack size and the depth of stack each thread touches. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "family.h"
#include "syncmark/clock.h"
#include "syncmark/stats.h"
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

/* Idle threads per repetition (before the memory bound), full and quick. */
enum { IDLE_THREADS_FULL = 2000, IDLE_THREADS_QUICK = 64 };

/* Resident KiB one idle thread is assumed to cost beyond its touched
 * stack when bounding the thread count (the real figure is ~10 KiB); and
 * the share of the free memory a repetition may plan to use. */
enum { RESIDENT_ESTIMATE_KIB = 64, MEMORY_SHARE_DIVISOR = 4 };

/* A stack larger than glibc's stack cache (40 MiB by default): spawning
 * and joining one such thread makes glibc unmap every cached stack, so a
 * repetition's threads get fresh stacks, as the first threads of a program
 * do. */
#define CACHE_FLUSH_STACK ((size_t)128 << 20)

/* Fewest spawn+join samples per repetition, and most. */
enum { MIN_SAMPLES = 5, MAX_SAMPLES = 1 << 16 };

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

/* Returns the thread's minor page faults so far (RUSAGE_THREAD), or 0 when
 * getrusage fails (it cannot for the calling thread). */
static uint64_t thread_minflt(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0)
    return 0;
  return (uint64_t)ru.ru_minflt;
}

/* ---- reading the process's memory ------------------------------------ */

/* Reads the value of the line "key: <number> kB" of a /proc file into
 * *kib. Returns 0, -ENOENT when the file has no such line, or the negative
 * errno of fopen. */
static int read_proc_kib(const char *path, const char *key, uint64_t *kib) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -errno;
  char line[256];
  size_t klen = strlen(key);
  int rc = -ENOENT;
  while (rc != 0 && fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
        /* NOLINTNEXTLINE(cert-err34-c): kernel-written kB counts fit */
        sscanf(line + klen + 1, "%" SCNu64, kib) == 1)
      rc = 0;
  fclose(f);
  return rc;
}

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
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    uint64_t limit, usage;
    if (read_number_file(files[i][0], &limit) != 0 ||
        read_number_file(files[i][1], &usage) != 0)
      continue;
    if (limit == UINT64_MAX || limit >= (UINT64_MAX >> 2))
      return UINT64_MAX;
    return limit > usage ? (limit - usage) / 1024 : 0;
  }
  return UINT64_MAX;
}

/* Returns the KiB of memory a repetition may plan to make resident: a
 * share of the smaller of MemAvailable and the cgroup's headroom. When
 * MemAvailable cannot be read only the cgroup bounds it. */
static uint64_t memory_budget_kib(void) {
  uint64_t avail = UINT64_MAX, cg = cgroup_headroom_kib();
  (void)read_proc_kib("/proc/meminfo", "MemAvailable", &avail);
  uint64_t room = avail < cg ? avail : cg;
  return room == UINT64_MAX ? room : room / MEMORY_SHARE_DIVISOR;
}

/* The process's memory as /proc/self/status shows it, in KiB. */
struct proc_memory {
  uint64_t rss, vm, pte;
};

/* Reads VmRSS, VmSize and VmPTE of this process. Returns 0 or the negative
 * errno of reading /proc/self/status. */
static int read_proc_memory(struct proc_memory *m) {
  const char *path = "/proc/self/status";
  int rc = read_proc_kib(path, "VmRSS", &m->rss);
  if (rc == 0)
    rc = read_proc_kib(path, "VmSize", &m->vm);
  if (rc == 0)
    rc = read_proc_kib(path, "VmPTE", &m->pte);
  return rc;
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

/* ---- shared helpers -------------------------------------------------- */

/* Returns the stack size of case c in bytes. */
static size_t case_stack_bytes(const struct sm_case *c) {
  return (size_t)c->param[AXIS_STACK_KIB] * 1024;
}

/* Returns 0 when case c can run here; otherwise SM_MEASURE_SKIP with msg
 * saying why: a stack under this system's minimum, or one too small for
 * the depth the case touches (that would overflow it). */
static int check_case(const struct sm_case *c, char *msg, size_t msg_size) {
  long min = sysconf(_SC_THREAD_STACK_MIN);
  long stack_kib = c->param[AXIS_STACK_KIB];
  long touch_kib = c->param[AXIS_TOUCH_KIB];
  long need_kib = touch_kib + touch_kib / 8 + STACK_RESERVE_KIB;
  if (min > 0 && case_stack_bytes(c) < (size_t)min) {
    snprintf(msg, msg_size,
             "a %ld KiB stack is under this system's thread stack minimum "
             "of %ld bytes",
             stack_kib, min);
    return SM_MEASURE_SKIP;
  }
  if (touch_kib > 0 && need_kib > stack_kib) {
    snprintf(msg, msg_size,
             "touching %ld KiB needs a stack of at least %ld KiB (frames, "
             "thread descriptor and TLS)",
             touch_kib, need_kib);
    return SM_MEASURE_SKIP;
  }
  return 0;
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
 * the checksum and its page faults. Never fails. */
static void *touch_main(void *arg) {
  struct touch_job *job = arg;
  job->checksum = job->frames ? touch_stack(job->frames, job->seed) : 0;
  job->minflt = thread_minflt();
  return NULL;
}

/* Does nothing; the body of the cache-flushing thread. */
static void *nothing_main(void *arg) {
  return arg;
}

/* One spawn+join of the case's thread: stores its wall time in *ns and its
 * faults in *minflt. Returns 0, the negative errno of spawn or join, or
 * -EPROTO with msg set when the thread's checksum is wrong. */
static int timed_spawn_join(const struct sm_case *c, uint64_t seed, double *ns,
                            double *minflt, char *msg, size_t msg_size) {
  struct touch_job job = {.frames = (unsigned)c->param[AXIS_TOUCH_KIB],
                          .seed = seed};
  uint64_t start = sm_now_ns();
  int rc = spawn_join_one(case_stack_bytes(c), touch_main, &job);
  *ns = (double)(sm_now_ns() - start);
  *minflt = (double)job.minflt;
  uint64_t want = touch_expected(job.frames, seed);
  if (rc == 0 && job.checksum != want) {
    snprintf(msg, msg_size,
             "spawned thread's stack checksum %" PRIu64 ", expected %" PRIu64,
             job.checksum, want);
    rc = -EPROTO;
  }
  return rc;
}

/* Adds the spawn_join metrics of n samples (sorted here). */
static int add_spawn_join_metrics(struct sm_sink *sink, double *ns,
                                  double *minflt, size_t n) {
  sm_stats_sort(ns, n);
  sm_stats_sort(minflt, n);
  int rc = sm_sink_metric(sink, "spawn_join_p50_ns", "ns",
                          sm_stats_percentile_sorted(ns, n, 50));
  if (rc == 0)
    rc = sm_sink_metric(sink, "spawn_join_p99_ns", "ns",
                        sm_stats_percentile_sorted(ns, n, 99));
  if (rc == 0)
    rc = sm_sink_metric(sink, "minflt_per_thread", "faults",
                        sm_stats_percentile_sorted(minflt, n, 50));
  return rc;
}

/* spawn_join: spawns and joins one thread after another for warmup_ns
 * (not kept, it also fills glibc's stack cache as a program that spawns
 * repeatedly would), then for duration_ns (at least MIN_SAMPLES, at most
 * MAX_SAMPLES), and adds the latency percentiles. Returns 0, SM_MEASURE_SKIP
 * (see check_case; also when the OS refuses the first thread), or a
 * negative errno with msg set. */
static int measure_spawn_join(const struct sm_measure_config *cfg,
                              const struct sm_case *c, struct sm_sink *sink,
                              char *msg, size_t msg_size) {
  double *ns = malloc(MAX_SAMPLES * sizeof *ns);
  double *minflt = malloc(MAX_SAMPLES * sizeof *minflt);
  int rc = ns && minflt ? 0 : -ENOMEM;
  size_t n = 0;
  uint64_t start = sm_now_ns(), warm_end = start + cfg->warmup_ns;
  uint64_t end = warm_end + cfg->duration_ns;
  for (uint64_t seed = 1, now = start;
       rc == 0 && n < MAX_SAMPLES && (now < end || n < MIN_SAMPLES); seed++) {
    rc = timed_spawn_join(c, seed, &ns[n], &minflt[n], msg, msg_size);
    if (rc == 0 && now >= warm_end)
      n++;
    now = sm_now_ns();
  }
  if (rc == -EAGAIN && n == 0) {
    snprintf(msg, msg_size,
             "the OS refused to create a thread (EAGAIN: RLIMIT_NPROC, "
             "threads-max, the pids cgroup or memory)");
    rc = SM_MEASURE_SKIP;
  } else if (rc < 0 && !msg[0]) {
    snprintf(msg, msg_size, "spawn+join failed after %zu samples: %s", n,
             strerror(-rc));
  }
  if (rc == 0)
    rc = add_spawn_join_metrics(sink, ns, minflt, n);
  free(ns);
  free(minflt);
  return rc;
}

/* ---- idle: many threads alive at once ------------------------------- */

/* Shared state of the idle threads of one repetition. */
struct idle_state {
  SM_CACHE_ALIGNED atomic_uint ready;  /* threads that touched and wait */
  SM_CACHE_ALIGNED atomic_int release; /* 1: the threads may exit */
  unsigned frames;                     /* touch_stack depth */
};

/* One idle thread's report, written before it counts itself ready. */
struct idle_slot {
  struct idle_state *state;
  uint64_t seed;
  uint64_t checksum;     /* of touch_stack */
  uint64_t touch_faults; /* minor faults while touching */
  uintptr_t stack_addr;  /* an address inside the thread's stack */
};

/* Thread body of idle: touches its depth of stack, reports, counts itself
 * ready (release, so the report is visible to whoever sees the count) and
 * parks until released. Never fails. */
static void *idle_main(void *arg) {
  struct idle_slot *slot = arg;
  struct idle_state *s = slot->state;
  uint64_t before = thread_minflt();
  slot->checksum = s->frames ? touch_stack(s->frames, slot->seed) : 0;
  slot->touch_faults = thread_minflt() - before;
  slot->stack_addr = (uintptr_t)__builtin_frame_address(0);
  atomic_fetch_add_explicit(&s->ready, 1, memory_order_release);
  while (!atomic_load_explicit(&s->release, memory_order_acquire))
    sm_thread_park();
  return NULL;
}

/* Returns how many idle threads a repetition of c plans: the mode's count,
 * bounded so that their resident memory stays within memory_budget_kib()
 * and, under a finite RLIMIT_AS, their stacks within half the address
 * space left. May return 0. */
static unsigned idle_target(const struct sm_measure_config *cfg,
                            const struct sm_case *c, uint64_t vm_kib) {
  uint64_t k = cfg->quick ? IDLE_THREADS_QUICK : IDLE_THREADS_FULL;
  uint64_t per_thread_kib =
      (uint64_t)c->param[AXIS_TOUCH_KIB] + RESIDENT_ESTIMATE_KIB;
  uint64_t budget = memory_budget_kib();
  if (budget / per_thread_kib < k)
    k = budget / per_thread_kib;
  struct rlimit as;
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    uint64_t limit_kib = (uint64_t)as.rlim_cur / 1024;
    uint64_t room = limit_kib > vm_kib ? (limit_kib - vm_kib) / 2 : 0;
    uint64_t virt = (uint64_t)c->param[AXIS_STACK_KIB] + RESIDENT_ESTIMATE_KIB;
    if (room / virt < k)
      k = room / virt;
  }
  return (unsigned)k;
}

/* What one idle repetition saw. */
struct idle_run {
  unsigned target, reached; /* threads planned and created */
  int spawn_error;          /* errno that stopped spawning, or 0 */
  struct proc_memory before, after;
  uint64_t spawn_ns, join_ns;
  uint64_t stack_kib;    /* resident, by mincore over the stacks */
  size_t stacks_found;   /* threads whose stack mincore found */
  uint64_t touch_faults; /* sum over threads */
};

/* Waits (sleeping 100 us at a time) until all `n` created threads are
 * ready. Never fails: a created thread always gets to run. */
static void wait_ready(struct idle_state *s, unsigned n) {
  while (atomic_load_explicit(&s->ready, memory_order_acquire) < n)
    sm_sleep_until_ns(sm_now_ns() + 100000);
}

/* Releases the `n` created threads and joins them, storing the time it
 * took in *join_ns. Returns 0 or the first negative errno of sm_join (all
 * are joined regardless). */
static int release_and_join(struct idle_state *s, struct sm_join_handle **h,
                            unsigned n, uint64_t *join_ns) {
  uint64_t start = sm_now_ns();
  atomic_store_explicit(&s->release, 1, memory_order_release);
  for (unsigned i = 0; i < n; i++)
    sm_thread_unpark(sm_join_handle_thread(h[i]));
  int rc = 0;
  for (unsigned i = 0; i < n; i++) {
    int r = sm_join(h[i], NULL);
    rc = rc ? rc : r;
  }
  *join_ns = sm_now_ns() - start;
  return rc;
}

/* Spawns idle threads of `stack` bytes on s into slots and h until
 * `target` exist or the OS refuses one, whose errno goes to *error (else
 * 0). Returns how many were created. */
static unsigned spawn_idle(struct idle_state *s, size_t stack, unsigned target,
                           struct idle_slot *slots, struct sm_join_handle **h,
                           int *error) {
  struct sm_thread_opts opts = SM_THREAD_OPTS_INIT;
  opts.stack_size = stack;
  *error = 0;
  unsigned n = 0;
  for (; n < target; n++) {
    slots[n] = (struct idle_slot){.state = s, .seed = n + 1};
    int rc = sm_thread_spawn(&opts, idle_main, &slots[n], &h[n]);
    if (rc != 0) {
      *error = -rc;
      break;
    }
  }
  return n;
}

/* Most threads warm_arenas holds at once. */
enum { ARENA_WARM_MAX = 1024 };

/* glibc gives a thread that first calls malloc or free while every arena
 * is in use a new malloc arena (64 MiB of address space), up to 8 per CPU,
 * and sm_thread_spawn's threads free their start block: the first threads
 * of a process add arenas to VmSize. Holding that many threads alive once,
 * before the first baseline, creates them all, so every repetition
 * measures threads alone. Best effort: a refusal only ends it early. */
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
    struct idle_state s = {.frames = 0};
    atomic_init(&s.ready, 0);
    atomic_init(&s.release, 0);
    int error;
    uint64_t ns;
    unsigned made = spawn_idle(&s, 0, n, slots, h, &error);
    wait_ready(&s, made);
    (void)release_and_join(&s, h, made, &ns);
  }
  free(slots);
  free(h);
}

/* Checks every ready thread's report and measures their stacks with
 * mincore. Returns 0, -EPROTO with msg set when a checksum is wrong or a
 * stack was not found, or a negative errno from reading the mappings. */
static int inspect_threads(struct idle_state *s, struct idle_slot *slots,
                           struct idle_run *run, char *msg, size_t msg_size) {
  uintptr_t *addrs = malloc((run->reached ? run->reached : 1) * sizeof *addrs);
  if (!addrs)
    return -ENOMEM;
  unsigned bad = 0;
  for (unsigned i = 0; i < run->reached; i++) {
    bad += slots[i].checksum != touch_expected(s->frames, slots[i].seed);
    run->touch_faults += slots[i].touch_faults;
    addrs[i] = slots[i].stack_addr;
  }
  int rc = stacks_resident_kib(addrs, run->reached, &run->stack_kib,
                               &run->stacks_found);
  free(addrs);
  if (rc == 0 && (bad || run->stacks_found != run->reached)) {
    snprintf(msg, msg_size,
             "%u of %u idle threads had a wrong stack checksum; mincore found "
             "%zu of their stacks",
             bad, run->reached, run->stacks_found);
    rc = -EPROTO;
  }
  return rc;
}

/* Spawns up to run->target idle threads with the case's stack, stopping at
 * the first refusal (recorded in run->spawn_error), waits until they are
 * ready, measures the process's memory and the stacks, then releases and
 * joins them. Returns 0 or a negative errno (msg set for -EPROTO); every
 * created thread is joined on every path. */
static int run_idle(const struct sm_case *c, struct idle_run *run,
                    struct idle_slot *slots, struct sm_join_handle **h,
                    char *msg, size_t msg_size) {
  struct idle_state s = {.frames = (unsigned)c->param[AXIS_TOUCH_KIB]};
  atomic_init(&s.ready, 0);
  atomic_init(&s.release, 0);
  uint64_t start = sm_now_ns();
  run->reached = spawn_idle(&s, case_stack_bytes(c), run->target, slots, h,
                            &run->spawn_error);
  run->spawn_ns = sm_now_ns() - start;
  wait_ready(&s, run->reached);
  int rc = read_proc_memory(&run->after);
  if (rc == 0)
    rc = inspect_threads(&s, slots, run, msg, msg_size);
  int join_rc = release_and_join(&s, h, run->reached, &run->join_ns);
  return rc ? rc : join_rc;
}

/* Returns after - before per thread, as a double (may be negative). */
static double per_thread(uint64_t after, uint64_t before, unsigned n) {
  return ((double)after - (double)before) / n;
}

/* Adds the idle metrics of a finished repetition with run->reached > 0. */
static int add_idle_metrics(struct sm_sink *sink, const struct idle_run *r) {
  unsigned n = r->reached;
  double rss = per_thread(r->after.rss, r->before.rss, n);
  double stack = (double)r->stack_kib / n;
  const struct {
    const char *metric, *unit;
    double value;
  } rows[] = {
      {"rss_kib_per_thread", "KiB", rss},
      {"vm_kib_per_thread", "KiB", per_thread(r->after.vm, r->before.vm, n)},
      {"stack_rss_kib_per_thread", "KiB", stack},
      {"rss_check_ratio", "ratio", stack > 0 ? rss / stack : NAN},
      {"pte_kib_per_thread", "KiB", per_thread(r->after.pte, r->before.pte, n)},
      {"touch_minflt_per_thread", "faults", (double)r->touch_faults / n},
      {"spawn_ns_per_thread", "ns", (double)r->spawn_ns / n},
      {"join_ns_per_thread", "ns", (double)r->join_ns / n},
      {"threads_reached", "threads", n},
      {"threads_planned", "threads", r->target},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof rows / sizeof rows[0]; i++)
    if (!isnan(rows[i].value))
      rc = sm_sink_metric(sink, rows[i].metric, rows[i].unit, rows[i].value);
  if (rc == 0 && r->spawn_error)
    rc = sm_sink_metric(sink, "spawn_errno", "errno", r->spawn_error);
  return rc;
}

/* Says in msg why a repetition that created no thread could not: the
 * memory bound, or the OS's refusal. */
static void explain_no_threads(const struct idle_run *run, char *msg,
                               size_t msg_size) {
  if (run->target == 0)
    snprintf(msg, msg_size,
             "not enough free memory (MemAvailable, cgroup limit or "
             "RLIMIT_AS) for even one idle thread");
  else
    snprintf(msg, msg_size,
             "the OS refused to create the first of %u idle threads: %s "
             "(RLIMIT_NPROC, threads-max, the pids cgroup or memory)",
             run->target, strerror(run->spawn_error));
}

/* idle: K threads that touch touch_kib of stack and wait, parked; the
 * memory they add to the process per thread, checked against mincore over
 * their stacks. Returns 0 (also when fewer threads than planned could be
 * created: threads_reached says how many), SM_MEASURE_SKIP when none could,
 * or a negative errno with msg set. */
static int measure_idle(const struct sm_measure_config *cfg,
                        const struct sm_case *c, struct sm_sink *sink,
                        char *msg, size_t msg_size) {
  struct idle_run run = {0};
  warm_arenas();
  /* Best effort: under a tight RLIMIT_AS the flush thread may be refused,
   * and the repetition then reuses whatever glibc has cached. */
  (void)spawn_join_one(CACHE_FLUSH_STACK, nothing_main, NULL);
  int rc = read_proc_memory(&run.before);
  if (rc != 0) {
    snprintf(msg, msg_size, "cannot read /proc/self/status: %s", strerror(-rc));
    return rc;
  }
  run.target = idle_target(cfg, c, run.before.vm);
  size_t cap = run.target ? run.target : 1;
  struct idle_slot *slots = calloc(cap, sizeof *slots);
  struct sm_join_handle **h = calloc(cap, sizeof *h);
  rc = slots && h ? 0 : -ENOMEM;
  if (rc == 0)
    rc = run_idle(c, &run, slots, h, msg, msg_size);
  free(slots);
  free(h);
  if (rc == 0 && run.reached == 0) {
    explain_no_threads(&run, msg, msg_size);
    return SM_MEASURE_SKIP;
  }
  if (rc < 0 && !msg[0])
    snprintf(msg, msg_size, "idle threads: %s", strerror(-rc));
  return rc == 0 ? add_idle_metrics(sink, &run) : rc;
}

/* Dispatches one repetition to the variant's measurement after checking
 * that the case applies. Returns what the measurement returns. */
static int stack_measure(const struct sm_measure_config *cfg,
                         const struct sm_case *c, struct sm_sink *sink,
                         char *msg, size_t msg_size) {
  int rc = check_case(c, msg, msg_size);
  if (rc != 0)
    return rc;
  if (strcmp(c->variant->name, "idle") == 0)
    return measure_idle(cfg, c, sink, msg, msg_size);
  return measure_spawn_join(cfg, c, sink, msg, msg_size);
}

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
    {"stack_kib", stack_values, sizeof stack_values / sizeof stack_values[0],
     stack_quick, sizeof stack_quick / sizeof stack_quick[0], 16,
     (long)(SM_THREAD_STACK_MAX / 1024)},
    {"touch_kib", touch_values, sizeof touch_values / sizeof touch_values[0],
     touch_quick, sizeof touch_quick / sizeof touch_quick[0], 0, 65536},
};

static const struct sm_variant variants[] = {
    SM_VARIANT("spawn_join", "spawn + join of one thread after another", NULL),
    SM_VARIANT("idle", "memory of many idle threads: resident vs virtual",
               NULL),
};

const struct sm_family sm_family_stack = {
    .name = "stack",
    .summary = "thread stacks: spawn+join latency, resident vs virtual "
               "memory per idle thread, over stack size and touched depth",
    .variants = variants,
    .nvariants = sizeof variants / sizeof variants[0],
    .axes = axes,
    .naxes = sizeof axes / sizeof axes[0],
    .measure = stack_measure,
    .shape = SM_SHAPE_SINGLE,
};
