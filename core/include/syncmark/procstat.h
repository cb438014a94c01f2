/* procstat.h: the process's memory as Linux shows it in /proc (kB lines of
 * /proc/self/status, /proc/meminfo), and a thread's page faults. */
#ifndef SYNCMARK_PROCSTAT_H
#define SYNCMARK_PROCSTAT_H

#include <stdint.h>

/* The process's memory from /proc/self/status, in KiB. */
struct sm_proc_memory {
  uint64_t rss; /* VmRSS: resident */
  uint64_t vm;  /* VmSize: virtual */
  uint64_t pte; /* VmPTE: page tables */
  uint64_t hwm; /* VmHWM: peak resident */
};

/* Reads the number of the line "key: <number> kB" of the /proc file `path`
 * (e.g. "/proc/meminfo", "MemAvailable") into *kib. Returns 0, -ENOENT when
 * the file has no such line, or the negative errno of opening it. *kib is
 * unchanged on failure. */
int sm_procstat_kib(const char *path, const char *key, uint64_t *kib);

/* Reads VmRSS, VmSize, VmPTE and VmHWM of the calling process from one
 * pass over /proc/self/status. Returns 0, -ENOENT when a line is missing
 * (a kernel without it), or the negative errno of opening the file. */
int sm_procstat_memory(struct sm_proc_memory *m);

/* Returns the minor page faults of the calling thread so far (its
 * RUSAGE_THREAD count): how many pages it touched first. 0 when it cannot
 * be read, which for the calling thread does not happen. */
uint64_t sm_procstat_thread_minflt(void);

#endif
