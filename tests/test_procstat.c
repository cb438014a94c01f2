/* test_procstat.c: the /proc readers: the process's memory lines, a line
 * of /proc/meminfo, and the errors for a missing line or file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "syncmark/procstat.h"

/* Skips the running test in a sanitizer build: the sanitizer's allocator
 * and the shadow memory it maps beside every touched page change what
 * resident memory and fault counts show. */
static void skip_when_sanitized(void) {
#ifdef SYNCMARK_SANITIZED
  cr_skip_test("a sanitizer's allocator and shadow memory change resident "
               "memory and fault counts");
#endif
}

/* The process's memory: resident within virtual, the peak at least the
 * current resident, and resident memory grows by what is touched. */
Test(procstat, memory_lines_are_consistent) {
  skip_when_sanitized();
  struct sm_proc_memory before, after;
  cr_assert_eq(sm_procstat_memory(&before), 0);
  cr_assert_gt(before.rss, 0);
  cr_assert_leq(before.rss, before.vm);
  cr_assert_geq(before.hwm, before.rss);
  size_t size = 16u << 20;
  char *block = malloc(size);
  cr_assert_not_null(block);
  memset(block, 1, size);
  cr_assert_eq(sm_procstat_memory(&after), 0);
  cr_assert_geq(after.rss, before.rss + (size >> 10) / 2, "%llu -> %llu KiB",
                (unsigned long long)before.rss, (unsigned long long)after.rss);
  cr_assert_geq(after.vm, before.vm + (size >> 10) / 2);
  free(block);
}

/* One line of another /proc file; it agrees with the status reader. */
Test(procstat, one_line_of_a_file) {
  uint64_t total = 0, rss = 0;
  cr_assert_eq(sm_procstat_kib("/proc/meminfo", "MemTotal", &total), 0);
  cr_assert_gt(total, 0);
  cr_assert_eq(sm_procstat_kib("/proc/self/status", "VmRSS", &rss), 0);
  cr_assert_gt(rss, 0);
  cr_assert_lt(rss, total);
}

/* A missing line is -ENOENT and a missing file its errno, *kib unchanged;
 * a key that is a prefix of another line's key does not match it. */
Test(procstat, missing_line_or_file) {
  uint64_t kib = 42;
  cr_assert_eq(sm_procstat_kib("/proc/meminfo", "NoSuchLine", &kib), -ENOENT);
  cr_assert_eq(sm_procstat_kib("/proc/meminfo", "Mem", &kib), -ENOENT);
  cr_assert_eq(sm_procstat_kib("/nonexistent/status", "VmRSS", &kib), -ENOENT);
  cr_assert_eq(kib, 42);
}

/* A thread's first touch of fresh pages counts as its minor faults. */
Test(procstat, thread_faults_count_touched_pages) {
  skip_when_sanitized();
  size_t pages = 64, page = (size_t)sysconf(_SC_PAGESIZE);
  char *block = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq(block, MAP_FAILED);
  uint64_t before = sm_procstat_thread_minflt();
  for (size_t i = 0; i < pages; i++)
    block[i * page] = 1;
  uint64_t faults = sm_procstat_thread_minflt() - before;
  cr_assert(faults >= pages / 2 && faults <= pages + 8, "%llu faults",
            (unsigned long long)faults);
  munmap(block, pages * page);
}
