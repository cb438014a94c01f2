/* compiler.h: cache-line size, CPU pause hint and other portability helpers. */
#ifndef SYNCMARK_COMPILER_H
#define SYNCMARK_COMPILER_H

/* Size used to pad shared hot state and per-thread counters apart. 128 bytes
 * covers the adjacent-line prefetcher of current x86 parts as well as the
 * 128-byte lines of some ARM cores. */
#define SM_CACHE_LINE 128

/* Declares a member or variable aligned to its own cache line. */
#define SM_CACHE_ALIGNED _Alignas(SM_CACHE_LINE)

#define SM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Tells the CPU that the caller is spinning, easing pressure on an SMT
 * sibling and on the memory system. Never fails. */
static inline void sm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

/* Keeps the compiler from removing a computation whose result is unused:
 * the value is considered read by an opaque instruction. */
#ifdef __CPPCHECK__
/* cppcheck does not read asm operands: spelled so that it sees the use. */
#define SM_KEEP(value) ((void)(value))
#else
#define SM_KEEP(value) __asm__ __volatile__("" : : "r"(value) : "memory")
#endif

#endif
