/* pool_shared.c: the lesson's pool design: one channel shared by workers. */

/* SM_POOL_SHARED_QUEUE, faithful to the lesson's Rust ThreadPool: one
 * unbounded sm_channel of jobs {fn, arg}; its one receiver is shared by all
 * workers behind an sm_mutex (syncmark's port of Rust std's futex mutex).
 * A worker locks the mutex, blocks in sm_recv while holding it, unlocks and
 * runs the job. Shutdown drops the sender: sm_recv returns -EPIPE once the
 * queue is drained, and each worker then leaves its loop. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "pool_impl.h"
#include "syncmark/channel.h"
#include "syncmark/mutex.h"

/* Sets up the shared-queue fields of a zeroed pool: the counters, the
 * receiver's mutex and the unbounded channel of jobs. Returns 0, or
 * sm_channel's error (-ENOMEM) with nothing allocated. */
int sm__pool_shared_init(struct sm_pool *p) {
  atomic_init(&p->submitted, 0);
  atomic_init(&p->users, 0);
  atomic_init(&p->rx_lock.state, SM_MUTEX_UNLOCKED);
  return sm_channel(sizeof(struct job), SM_CHANNEL_UNBOUNDED, &p->tx, &p->rx);
}

/* Loop of a shared-queue worker, as in the lesson: lock the receiver, block
 * in recv holding the lock, unlock, run. Returns when the channel is
 * disconnected and drained (sm_recv's -EPIPE). */
void sm__pool_shared_worker_loop(struct worker *w) {
  struct sm_pool *p = w->pool;
  for (;;) {
    struct job j;
    sm_mutex_lock(&p->rx_lock);
    int rc = sm_recv(p->rx, &j);
    sm_mutex_unlock(&p->rx_lock);
    if (rc != 0)
      return;
    struct tally t = {0, 0};
    sm__pool_run_job(w, j, &t);
    sm__pool_tally_flush(w, &t);
  }
}

/* Queues a job on the channel. Returns 0, -ESHUTDOWN once shutdown has
 * begun, or -ENOMEM. The `users` count is a seq_cst RMW before the seq_cst
 * load of `closing`, the mirror image of sm__pool_shared_close, so a
 * submitter either sees the flag or is waited for before the sender goes
 * away. Kept out of line (even under link-time optimization) so that
 * sm_pool_submit, which tail-jumps here or to the fast design, saves no
 * registers. */
__attribute__((noinline)) int sm__pool_shared_submit(struct sm_pool *p,
                                                     sm_task_fn fn, void *arg) {
  atomic_fetch_add_explicit(&p->users, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&p->closing, memory_order_seq_cst)) {
    atomic_fetch_sub_explicit(&p->users, 1, memory_order_release);
    return -ESHUTDOWN;
  }
  /* Counted before it is sent, so that a job never completes uncounted. */
  atomic_fetch_add_explicit(&p->submitted, 1, memory_order_seq_cst);
  struct job j = {fn, arg};
  int rc = sm_send(p->tx, &j);
  if (rc != 0) {
    atomic_fetch_sub_explicit(&p->submitted, 1, memory_order_seq_cst);
    /* A waiter may have been counting this job: let it look again. */
    if (atomic_load_explicit(&p->waiters, memory_order_seq_cst) != 0)
      sm__pool_notify_waiters(p);
    rc = rc == -EPIPE ? -ESHUTDOWN : rc;
  }
  atomic_fetch_sub_explicit(&p->users, 1, memory_order_release);
  return rc;
}

/* Starts the shared-queue shutdown: refuses new submits, waits for those
 * already inside sm_send (which never blocks on an unbounded channel),
 * then drops the sender so that the workers' sm_recv returns -EPIPE once
 * the queue is drained. Never fails. */
void sm__pool_shared_close(struct sm_pool *p) {
  atomic_store_explicit(&p->closing, true, memory_order_seq_cst);
  while (atomic_load_explicit(&p->users, memory_order_seq_cst) != 0)
    sched_yield();
  sm_sender_release(p->tx);
  p->tx = NULL;
}

/* Releases the channel's receiver, the last handle on it once the sender
 * is gone. Never fails. */
void sm__pool_shared_destroy(struct sm_pool *p) {
  sm_receiver_release(p->rx);
}
