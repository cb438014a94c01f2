/* fingerprint.c: machine fingerprints and run content hashes (FNV-1a). */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const sm_fingerprint_keys[] = {
    "cpu_vendor",        "cpu_brand",     "cpu_family",
    "cpu_model",         "topo_packages", "topo_numa_nodes",
    "topo_l3_groups",    "topo_cores",    "topo_pus",
    "topo_smt_per_core", "allowed_pus",   "allowed_cores",
    "allowed_pu_list",   "kernel",        "arch",
    "hypervisor"};
const size_t sm_nfingerprint_keys =
    sizeof sm_fingerprint_keys / sizeof sm_fingerprint_keys[0];

/* FNV-1a, 64 bits. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

/* Folds `len` bytes into the running hash h and returns it. */
static uint64_t fnv(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= FNV_PRIME;
  }
  return h;
}

const char *sm_machine_value(const struct sm_csv_table *machine,
                             const char *key) {
  for (size_t r = 0; machine->ncols == 2 && r < machine->nrows; r++)
    if (strcmp(machine->rows[r][0], key) == 0)
      return machine->rows[r][1];
  return NULL;
}

void sm_machine_fingerprint(const struct sm_csv_table *machine, char *id) {
  uint64_t h = FNV_OFFSET;
  for (size_t i = 0; i < sm_nfingerprint_keys; i++) {
    const char *v = sm_machine_value(machine, sm_fingerprint_keys[i]);
    h = fnv(h, sm_fingerprint_keys[i], strlen(sm_fingerprint_keys[i]));
    h = fnv(h, "=", 1);
    h = fnv(h, v ? v : "unknown", strlen(v ? v : "unknown"));
    h = fnv(h, "\n", 1);
  }
  char full[17];
  snprintf(full, sizeof full, "%016llx", (unsigned long long)h);
  snprintf(id, SM_MACHINE_ID_LEN + 1, "%.*s", SM_MACHINE_ID_LEN, full);
}

/* Folds a 64-bit length into h, byte by byte (little end first). */
static uint64_t fnv_length(uint64_t h, uint64_t len) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(len >> (8 * i));
  return fnv(h, b, sizeof b);
}

/* Folds the length and bytes of the file at `path` into *h. Returns 0 or a
 * negative errno. */
static int hash_file(const char *path, uint64_t *h) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  *h = fnv_length(*h, (uint64_t)size);
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int rc = -errno;
      close(fd);
      return rc;
    }
    if (n == 0)
      break;
    *h = fnv(*h, buf, (size_t)n);
  }
  close(fd);
  return 0;
}

int sm_content_hash(const char *const *paths, size_t n, char *hash,
                    size_t *failed) {
  uint64_t h = FNV_OFFSET;
  for (size_t i = 0; i < n; i++) {
    const char *slash = strrchr(paths[i], '/');
    const char *name = slash ? slash + 1 : paths[i];
    h = fnv_length(h, strlen(name));
    h = fnv(h, name, strlen(name));
    int rc = hash_file(paths[i], &h);
    if (rc != 0) {
      if (failed)
        *failed = i;
      return rc;
    }
  }
  snprintf(hash, SM_CONTENT_HASH_LEN + 1, "%016llx", (unsigned long long)h);
  return 0;
}

/* Returns a machine value or "?". */
static const char *mv(const struct sm_csv_table *m, const char *key) {
  const char *v = sm_machine_value(m, key);
  return v && *v ? v : "?";
}

void sm_machine_describe_line(const struct sm_csv_table *machine, char *buf,
                              size_t size) {
  const char *packages = mv(machine, "topo_packages");
  snprintf(buf, size,
           "%s (%s), %s package%s, %s cores, %s PUs, PUs %s allowed, %s %s",
           mv(machine, "cpu_brand"), mv(machine, "hypervisor"), packages,
           strcmp(packages, "1") == 0 ? "" : "s", mv(machine, "topo_cores"),
           mv(machine, "topo_pus"), mv(machine, "allowed_pu_list"),
           mv(machine, "kernel"), mv(machine, "arch"));
}
