/* fingerprint.h: the identities the results database keys on: a machine's
 * fingerprint (from machine.csv) and a run folder's content hash. */
#ifndef SYNCMARK_BENCH_FINGERPRINT_H
#define SYNCMARK_BENCH_FINGERPRINT_H

#include <stddef.h>

#include "syncmark/csv.h"

/* Hex digits of a machine id and of a content hash. */
#define SM_MACHINE_ID_LEN   12
#define SM_CONTENT_HASH_LEN 16

/* The machine.csv keys a fingerprint covers, in hashing order: the CPU
 * (vendor, brand, family, model), the topology (packages, NUMA nodes, L3
 * groups, cores, PUs, PUs per core), the PUs the run could use, the kernel
 * release, the architecture and the hypervisor. */
extern const char *const sm_fingerprint_keys[];
extern const size_t sm_nfingerprint_keys;

/* Returns the value of `key` in a machine.csv table (key,value), or NULL
 * when the table lacks it. */
const char *sm_machine_value(const struct sm_csv_table *machine,
                             const char *key);

/* Writes the machine's id into id (SM_MACHINE_ID_LEN hex digits and a NUL):
 * a 64-bit FNV-1a hash of "key=value\n" for every fingerprint key in order
 * (a missing key hashes as "unknown"), cut to its first 48 bits. Equal
 * fingerprint fields give equal ids on every build. Never fails. */
void sm_machine_fingerprint(const struct sm_csv_table *machine, char *id);

/* Hashes the files at paths[0..n) (each as its name's length, its name, its
 * length and its bytes) into hash (SM_CONTENT_HASH_LEN hex digits and a
 * NUL). Returns 0, or a negative errno from opening or reading, with
 * *failed (when not NULL) the index of the file that failed. */
int sm_content_hash(const char *const *paths, size_t n, char *hash,
                    size_t *failed);

/* Describes a machine in one line from its machine.csv table into buf:
 * "AMD EPYC (kvm), 1 package, 2 cores, 2 PUs, PUs 0-1 allowed, Linux 6.1.0
 * x86_64"; missing values read "?". Never fails (cuts to fit). */
void sm_machine_describe_line(const struct sm_csv_table *machine, char *buf,
                              size_t size);

#endif
