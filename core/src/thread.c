/* thread.c: threads with Rust's std::thread semantics on pthreads: spawn
 * options, join, detach, the current thread's handle and park/unpark. */
#include "syncmark/thread.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syncmark/park.h"

/* A thread (Rust's Thread): shared by reference count, immutable after
 * creation except for the count and the parker. */
struct sm_thread {
  atomic_uint refs;                  /* references; the last frees it */
  uint64_t id;                       /* process-unique, never 0 */
  bool named;                        /* false: `name` is unused */
  char name[SM_THREAD_NAME_MAX + 1]; /* copy of the spawn option */
  struct sm_parker parker;           /* parked on by the thread only */
};

/* The right to join one spawned thread (Rust's JoinHandle). */
struct sm_join_handle {
  pthread_t tid;
  struct sm_thread *thread; /* one reference, owned by the handle */
};

/* What a new thread needs before it runs fn; freed by the new thread. */
struct start {
  struct sm_thread *thread; /* the thread's own reference */
  sm_thread_fn fn;
  void *arg;
};

/* Largest CPU count we ask sched_getaffinity about (the kernel's limit is
 * 8192; the search stops well past it). */
enum { MAX_AFFINITY_CPUS = 1 << 20 };

/* The next id to hand out; ids start at 1 and 2^64 of them never run out. */
static atomic_uint_fast64_t next_id = 1;
/* The calling thread's handle, or NULL before sm_thread_current made one. */
static _Thread_local struct sm_thread *current;
/* Key whose destructor frees the handles made lazily for foreign threads. */
static pthread_key_t foreign_key;
static pthread_once_t foreign_key_once = PTHREAD_ONCE_INIT;
static int foreign_key_error; /* pthread_key_create's result */

/* Allocates a thread object with one reference, a fresh id, an empty
 * parker and a copy of `name` (NULL: unnamed; at most SM_THREAD_NAME_MAX
 * bytes, checked by the caller). Returns NULL when out of memory. */
static struct sm_thread *thread_new(const char *name) {
  struct sm_thread *t = malloc(sizeof *t);
  if (!t)
    return NULL;
  atomic_init(&t->refs, 1);
  t->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
  t->named = name != NULL;
  memset(t->name, 0, sizeof t->name);
  if (name)
    memcpy(t->name, name, strlen(name) + 1);
  atomic_init(&t->parker.state, SM_PARKER_EMPTY);
  return t;
}

/* Key destructor for a foreign thread's handle, run as that thread exits:
 * forgets it as current and drops the thread's reference. Never fails. */
static void foreign_exit(void *arg) {
  if (current == arg)
    current = NULL;
  sm_thread_release(arg);
}

/* pthread_once routine: creates foreign_key, recording any failure in
 * foreign_key_error. */
static void foreign_key_init(void) {
  foreign_key_error = pthread_key_create(&foreign_key, foreign_exit);
}

/* Cleanup routine of a spawned thread, run when fn returns or the thread
 * calls pthread_exit or is cancelled: forgets the handle as current and
 * drops the thread's own reference. Never fails. */
static void spawned_exit(void *arg) {
  current = NULL;
  sm_thread_release(arg);
}

/* Entry point of every spawned thread: takes over the start block, names
 * the thread, then runs fn and returns its result to pthread_join. The
 * name is set by the thread itself (prctl, which cannot fail for a name
 * of at most 15 bytes), so it is in place before fn runs. */
static void *spawned_main(void *arg) {
  struct start s = *(struct start *)arg;
  free(arg);
  current = s.thread;
  if (s.thread->named)
    (void)pthread_setname_np(pthread_self(), s.thread->name);
  /* Volatile: it is assigned between the cleanup macro's setjmp and its
   * end, which -Wclobbered rightly flags otherwise. */
  void *volatile result = NULL;
  pthread_cleanup_push(spawned_exit, s.thread);
  result = s.fn(s.arg);
  pthread_cleanup_pop(1);
  return result;
}

/* Checks a requested stack size and stores the size to give pthreads in
 * *out: 0 for the default, otherwise `size` rounded up to whole pages.
 * Returns 0, or -EINVAL when `size` is below the system's thread stack
 * minimum or above SM_THREAD_STACK_MAX. */
static int stack_size(size_t size, size_t *out) {
  if (size == 0) {
    *out = 0;
    return 0;
  }
  long min = -1;
#ifdef _SC_THREAD_STACK_MIN
  min = sysconf(_SC_THREAD_STACK_MIN);
#endif
  /* cppcheck-suppress knownConditionTrueFalse ; cppcheck does not read
   * <unistd.h>, so it sees no _SC_THREAD_STACK_MIN and min stays -1. */
  size_t lo = min > 0 ? (size_t)min : (size_t)PTHREAD_STACK_MIN;
  if (size < lo || size > SM_THREAD_STACK_MAX)
    return -EINVAL;
  long page = sysconf(_SC_PAGESIZE);
  size_t p = page > 0 ? (size_t)page : 4096;
  *out = (size + p - 1) / p * p;
  return 0;
}

/* Checks that `pu` is -1 (no pinning) or a CPU this process may run on:
 * below the number of configured CPUs and in the affinity mask of the
 * process (sched_getaffinity of the main thread), which the kernel limits
 * to online CPUs. Returns 0, -EINVAL for any other value, -ENOMEM, or the
 * negative errno of sched_getaffinity. */
static int check_pu(int pu) {
  if (pu == -1)
    return 0;
  if (pu < -1)
    return -EINVAL;
  long conf = sysconf(_SC_NPROCESSORS_CONF);
  if (conf > 0 && pu >= conf)
    return -EINVAL;
  /* The kernel refuses a mask smaller than its own; grow until it fits. */
  size_t ncpus = conf > 1024 ? (size_t)conf : 1024;
  for (;; ncpus *= 2) {
    cpu_set_t *set = CPU_ALLOC(ncpus);
    if (!set)
      return -ENOMEM;
    size_t size = CPU_ALLOC_SIZE(ncpus);
    if (sched_getaffinity(getpid(), size, set) == 0) {
      bool allowed = (size_t)pu < ncpus && CPU_ISSET_S((size_t)pu, size, set);
      CPU_FREE(set);
      return allowed ? 0 : -EINVAL;
    }
    int err = errno;
    CPU_FREE(set);
    if (err != EINVAL || ncpus >= MAX_AFFINITY_CPUS)
      return -err;
  }
}

/* Sets the stack size (0: leave the default) and the CPU binding (-1:
 * none) on `attr`. The binding is applied by pthread_create before the
 * thread runs. Returns 0 or a negative errno (-EINVAL, -ENOMEM). */
static int configure(pthread_attr_t *attr, size_t stack, int pu) {
  int rc;
  if (stack != 0 && (rc = pthread_attr_setstacksize(attr, stack)) != 0)
    return -rc;
  if (pu < 0)
    return 0;
  cpu_set_t *set = CPU_ALLOC((size_t)pu + 1);
  if (!set)
    return -ENOMEM;
  size_t size = CPU_ALLOC_SIZE((size_t)pu + 1);
  CPU_ZERO_S(size, set);
  CPU_SET_S((size_t)pu, size, set);
  rc = pthread_attr_setaffinity_np(attr, size, set);
  CPU_FREE(set);
  return -rc;
}

/* Allocates the thread object, the join handle and the start block and
 * creates the thread with `attr`. Returns 0 and sets *out, or a negative
 * errno (-ENOMEM, or pthread_create's: -EAGAIN, -EINVAL, -EPERM) with
 * everything freed and no thread created. */
static int launch(const pthread_attr_t *attr, const char *name, sm_thread_fn fn,
                  void *arg, struct sm_join_handle **out) {
  struct sm_thread *t = thread_new(name);
  struct sm_join_handle *h = malloc(sizeof *h);
  struct start *s = malloc(sizeof *s);
  if (!t || !h || !s) {
    free(t);
    free(h);
    free(s);
    return -ENOMEM;
  }
  /* One reference for the handle, one for the thread itself. */
  atomic_store_explicit(&t->refs, 2, memory_order_relaxed);
  h->thread = t;
  *s = (struct start){t, fn, arg};
  int rc = pthread_create(&h->tid, attr, spawned_main, s);
  if (rc != 0) {
    free(s);
    free(h);
    free(t);
    return -rc;
  }
  *out = h;
  return 0;
}

int sm_thread_spawn(const struct sm_thread_opts *opts, sm_thread_fn fn,
                    void *arg, struct sm_join_handle **out) {
  static const struct sm_thread_opts defaults = SM_THREAD_OPTS_INIT;
  if (!fn || !out)
    return -EINVAL;
  /* NULL options mean the defaults, like Rust's thread::spawn. */
  if (!opts)
    opts = &defaults;
  if (opts->name &&
      strnlen(opts->name, SM_THREAD_NAME_MAX + 1) > SM_THREAD_NAME_MAX)
    return -EINVAL;
  size_t stack;
  int rc = stack_size(opts->stack_size, &stack);
  if (rc != 0)
    return rc;
  if ((rc = check_pu(opts->pin_pu)) != 0)
    return rc;
  pthread_attr_t attr;
  if ((rc = pthread_attr_init(&attr)) != 0)
    return -rc;
  rc = configure(&attr, stack, opts->pin_pu);
  if (rc == 0)
    rc = launch(&attr, opts->name, fn, arg, out);
  pthread_attr_destroy(&attr);
  return rc;
}

int sm_join(struct sm_join_handle *h, void **result) {
  if (!h)
    return -EINVAL;
  if (pthread_equal(pthread_self(), h->tid))
    return -EDEADLK;
  void *value;
  int rc = pthread_join(h->tid, &value);
  if (rc != 0)
    return -rc; /* EDEADLK (threads joining each other): handle kept */
  if (result)
    *result = value;
  sm_thread_release(h->thread);
  free(h);
  return 0;
}

void sm_join_handle_release(struct sm_join_handle *h) {
  if (!h)
    return;
  /* Fails only for a thread already detached or joined: a caller's bug. */
  (void)pthread_detach(h->tid);
  sm_thread_release(h->thread);
  free(h);
}

struct sm_thread *sm_join_handle_thread(struct sm_join_handle *h) {
  return h ? h->thread : NULL;
}

struct sm_thread *sm_thread_current(void) {
  if (current)
    return current;
  /* A thread sm_thread_spawn did not create: make a handle, freed by the
   * key destructor when the thread exits (never for main, which is fine:
   * the process ends with it). */
  if (pthread_once(&foreign_key_once, foreign_key_init) != 0 ||
      foreign_key_error != 0)
    return NULL;
  struct sm_thread *t = thread_new(NULL);
  if (!t)
    return NULL;
  if (pthread_setspecific(foreign_key, t) != 0) {
    sm_thread_release(t);
    return NULL;
  }
  current = t;
  return t;
}

struct sm_thread *sm_thread_clone(struct sm_thread *t) {
  /* Relaxed, as in Rust's Arc: the caller's reference keeps t alive. */
  if (t)
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
  return t;
}

void sm_thread_release(struct sm_thread *t) {
  /* acq_rel: the last owner sees every other owner's use before freeing. */
  if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
    free(t);
}

const char *sm_thread_name(const struct sm_thread *t) {
  return t && t->named ? t->name : NULL;
}

uint64_t sm_thread_id(const struct sm_thread *t) {
  return t ? t->id : 0;
}

void sm_thread_park(void) {
  struct sm_thread *t = sm_thread_current();
  /* No handle can be made: return at once, a permitted spurious wake. */
  if (t)
    sm_parker_park(&t->parker);
}

int sm_thread_park_timeout(uint64_t timeout_ns) {
  struct sm_thread *t = sm_thread_current();
  if (!t)
    return -ENOMEM;
  return sm_parker_park_timeout(&t->parker, timeout_ns);
}

void sm_thread_unpark(struct sm_thread *t) {
  if (t)
    sm_parker_unpark(&t->parker);
}
