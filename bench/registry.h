/* registry.h: every benchmark family, one line each (X-macro). Adding a
 * family is one file in families/ and one line here. */
#ifndef SYNCMARK_BENCH_REGISTRY_H
#define SYNCMARK_BENCH_REGISTRY_H

#include <stddef.h>

#include "family.h"

#define SM_FAMILIES(X)                                                         \
  X(contention)                                                                \
  X(refcount)                                                                  \
  X(ctxswitch)                                                                 \
  X(wake)                                                                      \
  X(stack)                                                                     \
  X(sleep)                                                                     \
  X(oversub)                                                                   \
  X(spawn_vs_pool)                                                             \
  X(channel)                                                                   \
  X(backpressure)                                                              \
  X(aggregate)                                                                 \
  X(select)                                                                    \
  X(lockscope)                                                                 \
  X(ordering)                                                                  \
  X(deadlock)                                                                  \
  X(c2c)

#define SM_DECLARE_FAMILY(name) extern const struct sm_family sm_family_##name;
SM_FAMILIES(SM_DECLARE_FAMILY)
#undef SM_DECLARE_FAMILY

/* All registered families, in registry order, and their number. */
extern const struct sm_family *const sm_families[];
extern const size_t sm_nfamilies;

/* The registered family named `name`, or NULL when none is. */
const struct sm_family *sm_family_find(const char *name);

#endif
