// A one-shot wake-up word: one thread waits, another signals.
//
// Used by owner threads (to sleep until they are needed) and by the threads
// backend (to hand control from one greenlet thread to another). The system
// call is issued without touching errno: under the user-space backend an
// owner thread shares its TLS (and so errno) with the greenlet running on the
// isolate's thread, so a sleeping owner must never write to it.
#ifndef GREENLOOP_FUTEX_H_
#define GREENLOOP_FUTEX_H_

#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstdint>

namespace greenloop {

enum WakeWord : uint32_t { kIdle = 0, kSignaled = 1, kSleeping = 2 };

__attribute__((always_inline)) inline long RawFutex(std::atomic<uint32_t>* word, int op, uint32_t val) {
#if defined(__x86_64__)
  long ret;
  register long r10 __asm__("r10") = 0;  // no timeout
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(static_cast<long>(SYS_futex)), "D"(word), "S"(op), "d"(val), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
#else
  return syscall(SYS_futex, word, op, val, nullptr, nullptr, 0);
#endif
}

__attribute__((always_inline)) inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

inline void RawYield() {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"(static_cast<long>(SYS_sched_yield)) : "rcx", "r11", "memory");
  (void)ret;
#else
  syscall(SYS_sched_yield);
#endif
}

// Blocks until Signal(word); consumes the signal, so the word is ready for the
// next round. With `spin` > 0 it first polls: `spin` pause-loops, then as many
// sched_yield()s (on an idle core a yield returns at once and acts as a spin;
// on a busy one it hands the CPU to the thread being waited for, which a plain
// spin would steal), and only then sleeps in the kernel, whose wake-up costs
// tens of microseconds on an idle virtual CPU.
__attribute__((always_inline)) inline void WaitFor(std::atomic<uint32_t>* word, int spin) {
  for (int i = 0; i < 2 * spin; i++) {
    if (word->load(std::memory_order_acquire) == kSignaled) {
      word->store(kIdle, std::memory_order_relaxed);
      return;
    }
    if (i < spin) {
      CpuRelax();
    } else {
      RawYield();
    }
  }
  for (;;) {
    uint32_t expected = kIdle;
    if (word->compare_exchange_strong(expected, kSleeping, std::memory_order_acquire)) {
      RawFutex(word, FUTEX_WAIT_PRIVATE, kSleeping);
      continue;
    }
    if (expected == kSignaled) break;
    // expected == kSleeping: a spurious return from FUTEX_WAIT; sleep again.
    RawFutex(word, FUTEX_WAIT_PRIVATE, kSleeping);
  }
  word->store(kIdle, std::memory_order_relaxed);
}

__attribute__((always_inline)) inline void Signal(std::atomic<uint32_t>* word) {
  if (word->exchange(kSignaled, std::memory_order_release) == kSleeping) {
    RawFutex(word, FUTEX_WAKE_PRIVATE, 1);
  }
}

}  // namespace greenloop

#endif  // GREENLOOP_FUTEX_H_
