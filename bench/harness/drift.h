/* drift.h: the drift probes: a fixed piece of CPU work timed in every
 * repetition, so that a change of the host's speed during a run (or
 * between two runs of one build) shows in the results; and, for a case on
 * two PUs or more, a cache line passed between two of them, so that a
 * change of the time a line takes between PUs shows too (on a VM the host
 * moves vCPUs: between two vCPUs a line took 50 or 250 ns, minute by
 * minute, on the 2-vCPU guest syncmark is developed on). */
#ifndef SYNCMARK_BENCH_DRIFT_H
#define SYNCMARK_BENCH_DRIFT_H

#include <stddef.h>

#include "family.h"
#include "results.h"
#include "syncmark/topology.h"

/* sm_work_spin steps of one probe: a constant, not calibrated, so that the
 * probe's time compares across runs of the same build. */
#define SM_DRIFT_PROBE_STEPS 100000u

/* Runs the probe three times on the calling thread and returns the least
 * thread CPU time one took, in ns (CPU time: preemption does not count, a
 * slower host does). Never fails. */
double sm_drift_probe_ns(void);

/* Round trips of one pair probe, after SM_PAIR_PROBE_WARMUP untimed ones. */
#define SM_PAIR_PROBE_TRIPS  2000u
#define SM_PAIR_PROBE_WARMUP 100u

/* Longest a pair probe waits for its partner, in ns: past it (the other PU
 * is busy) the probe gives no value. */
#define SM_PAIR_PROBE_LIMIT_NS 50000000u

/* The two PUs case c's pair probe uses: its first two distinct pinned PUs,
 * or for an unpinned case of two threads or more the first two allowed
 * PUs of `topo`. Returns 0, or -1 when the case runs on one PU or the
 * machine has one. */
int sm_drift_pair_pus(const struct sm_topology *topo, const struct sm_case *c,
                      int pus[2]);

/* Times SM_PAIR_PROBE_TRIPS round trips of a cache line (store, spin on
 * loads) between two threads pinned to pus[0] and pus[1] and returns the
 * one-way ns (total time / 2 trips). Runs between repetitions, never in a
 * window. Returns NAN when a thread cannot be started or pinned, or the
 * partner did not answer within SM_PAIR_PROBE_LIMIT_NS. */
double sm_drift_pair_probe_ns(const struct sm_topology *topo, const int pus[2]);

/* Adds the drift_probe_ns row of a repetition and, when pair_ns is a
 * number, its pair_probe_ns row. Returns 0 or -ENOMEM. */
int sm_drift_record(struct sm_results *results, size_t case_index, unsigned rep,
                    double probe_ns, double pair_ns);

#endif
