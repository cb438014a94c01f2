/* claims_table.c: the lesson's claims (see ../shared/CLAIMS.md), each with
 * its test and its verdict rule stated in words; the rules are coded in
 * claims_lifecycle.c and claims_sharing.c. */
#include "claims.h"
#include "claims_rules.h"

const struct sm_claim sm_claims[] = {
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
     "comes out the other way; inconclusive otherwise.",
     sm_rule_c5},
    {"C13", "Cloning an Arc is cheap (one increment)",
     "clone+release cost uncontended, on one object from all threads, and "
     "a non-atomic count",
     "refcount",
     "Holds when an uncontended Arc clone+release (arc_private, 1 thread) "
     "costs under 25 ns per pair and the same on one object shared by the "
     "largest thread count up to the allowed PUs (arc_shared) costs at most "
     "4x that; does not hold when either bound is broken with the 95% CI "
     "entirely beyond it; inconclusive otherwise. rc_private shows the "
     "non-atomic floor.",
     sm_rule_c13},
};
const size_t sm_nclaims = sizeof sm_claims / sizeof sm_claims[0];
