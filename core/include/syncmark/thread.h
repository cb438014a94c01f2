/* thread.h: threads with Rust's std::thread semantics: a builder (name,
 * stack size, pinning), join with a result, detach on release, the current
 * thread's handle, and park/unpark. */
#ifndef SYNCMARK_THREAD_H
#define SYNCMARK_THREAD_H

#include <stddef.h>
#include <stdint.h>

/* Longest thread name Linux keeps (16 bytes with the terminator). */
#define SM_THREAD_NAME_MAX 15
/* Largest stack size sm_thread_spawn accepts: 1 GiB. */
#define SM_THREAD_STACK_MAX ((size_t)1 << 30)

/* How to build a thread. */
struct sm_thread_opts {
  const char *name;  /* at most SM_THREAD_NAME_MAX bytes; NULL: unnamed */
  size_t stack_size; /* 0: the system default (RLIMIT_STACK for glibc);
                        otherwise PTHREAD_STACK_MIN .. SM_THREAD_STACK_MAX,
                        rounded up to whole pages */
  int pin_pu;        /* OS CPU index to pin the thread to; -1: not pinned */
};
#define SM_THREAD_OPTS_INIT                                                    \
  { NULL, 0, -1 }

/* The body of a thread; its return value is what join hands back. */
typedef void *(*sm_thread_fn)(void *arg);

/* A thread, shared by reference count (Rust's Thread): its name, id and
 * parker. The object stays valid while any reference exists, even after
 * the thread has exited, so unparking a finished thread is harmless. */
struct sm_thread;

/* The unique right to join one spawned thread (Rust's JoinHandle). */
struct sm_join_handle;

/* Spawns a thread running fn(arg). Returns 0 and sets *out; -EINVAL for a
 * NULL fn or out, a name longer than SM_THREAD_NAME_MAX (never silently
 * cut), a stack size out of range, or a pin_pu below -1 or not an online
 * CPU; -EAGAIN when the OS refuses another thread; -ENOMEM. Nothing is
 * left running on failure. A pinned thread is bound before fn starts. */
int sm_thread_spawn(const struct sm_thread_opts *opts, sm_thread_fn fn,
                    void *arg, struct sm_join_handle **out);

/* Waits for the thread to finish, stores fn's return value in *result (when
 * result is not NULL) and frees the handle. Returns 0, -EINVAL for a NULL
 * handle, -EDEADLK when a thread tries to join itself (the handle then
 * stays valid). */
int sm_join(struct sm_join_handle *h, void **result);

/* Gives up the right to join: the thread keeps running, detached, and its
 * resources are freed when it exits (Rust's drop of a JoinHandle). NULL is
 * accepted. Releasing a handle twice is a double free: undefined, as in
 * free(). */
void sm_join_handle_release(struct sm_join_handle *h);

/* Returns the handle's thread without a new reference (valid as long as the
 * join handle is), or NULL for NULL. */
struct sm_thread *sm_join_handle_thread(struct sm_join_handle *h);

/* Returns the calling thread, without a new reference; valid until the
 * thread exits. Threads not created by sm_thread_spawn (main, foreign
 * pthreads) get an unnamed handle on first call; returns NULL only if that
 * allocation fails. */
struct sm_thread *sm_thread_current(void);

/* Adds a reference to t (Rust's Thread::clone) and returns t; NULL gives
 * NULL. */
struct sm_thread *sm_thread_clone(struct sm_thread *t);

/* Drops a reference from sm_thread_clone; the last one frees the object.
 * NULL is accepted. */
void sm_thread_release(struct sm_thread *t);

/* Returns the thread's name, or NULL when it has none (or t is NULL). */
const char *sm_thread_name(const struct sm_thread *t);

/* Returns a process-unique id, never 0 (0 for NULL). */
uint64_t sm_thread_id(const struct sm_thread *t);

/* Blocks the calling thread until its token is available (see park.h);
 * may return spuriously. */
void sm_thread_park(void);

/* Like sm_thread_park with a limit. Returns 0 when woken by a token,
 * -ETIMEDOUT when it returns without one (the time ran out, or a rare
 * spurious wake-up), -ENOMEM when the calling thread has no handle and none
 * can be made. */
int sm_thread_park_timeout(uint64_t timeout_ns);

/* Gives t its token, waking it if it is parked. NULL is ignored. */
void sm_thread_unpark(struct sm_thread *t);

#endif
