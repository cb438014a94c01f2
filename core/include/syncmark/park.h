/* park.h: a futex parker with Rust's token semantics: one thread parks on
 * it, any thread unparks it. */
#ifndef SYNCMARK_PARK_H
#define SYNCMARK_PARK_H

#include <stdatomic.h>
#include <stdint.h>

/* States: SM_PARKER_EMPTY (no token), SM_PARKER_PARKED (owner asleep or
 * about to sleep), SM_PARKER_NOTIFIED (a token is waiting). Tokens do not
 * accumulate: two unparks before a park leave one token. */
enum { SM_PARKER_PARKED = -1, SM_PARKER_EMPTY = 0, SM_PARKER_NOTIFIED = 1 };

struct sm_parker {
  atomic_int state;
};
#define SM_PARKER_INIT                                                         \
  { SM_PARKER_EMPTY }

/* Blocks the calling thread (the parker's owner; only one thread may park
 * on a parker) until a token is available, then consumes it. Returns at
 * once when unpark came first. May also return spuriously, as Rust's park
 * may; callers re-check their condition in a loop. Uses no CPU while
 * blocked (futex wait). Never fails. */
void sm_parker_park(struct sm_parker *p);

/* Like sm_parker_park, waiting at most `timeout_ns`. Returns 0 when a token
 * was consumed, -ETIMEDOUT when it returns without one: the time ran out,
 * or (rarely, as in Rust) the futex woke spuriously before it did. */
int sm_parker_park_timeout(struct sm_parker *p, uint64_t timeout_ns);

/* Makes a token available and wakes the owner if it is parked. Callable
 * from any thread, any number of times. Never fails. */
void sm_parker_unpark(struct sm_parker *p);

#endif
