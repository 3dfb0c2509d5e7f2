// Owner threads: the pthreads whose stack and thread identity greenlets use.
//
// An owner thread is created with all signals blocked. Under the user-space
// backend it records its FS base and stack bounds and sleeps until it is
// released; greenlets run on the part of its stack below its own frame. Under
// the threads backend it runs one greenlet after another, sleeping between
// them. Idle owners are pooled per stack size and reused.
#ifndef GREENLOOP_OWNER_THREAD_H_
#define GREENLOOP_OWNER_THREAD_H_

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "greenlet.h"

namespace greenloop {

// What an owner thread runs when woken under the threads backend: `run(greenlet)`,
// on the owner's own stack. Set by whoever wakes it (handoff.cc).
struct OwnerJob {
  void (*run)(Greenlet*) = nullptr;
  Greenlet* greenlet = nullptr;
};

struct OwnerThread {
  pthread_t thread{};
  // How long it polls for its next job before sleeping: > 0 only under the
  // threads backend (set while it sits in the pool, read by its own loop).
  std::atomic<int> spin{0};
  size_t stack_size = 0;     // the JS stack size it was made for (pool key)
  uintptr_t fs_base = 0;     // its TCB, loaded into FS by the user-space switch
  uintptr_t stack_low = 0;   // lowest usable address of its stack
  uintptr_t stack_high = 0;  // its stack's upper end (what V8 takes as the stack start)
  uintptr_t stack_top = 0;   // where greenlet frames may begin (below its own)
  uintptr_t js_limit = 0;    // what SetStackLimit gets for greenlets on it

  std::atomic<uint32_t> ready{0};  // signalled once it has recorded the above
  std::atomic<uint32_t> wake_word{0};
  // Written before wake_word is signalled; read by the owner after waking.
  OwnerJob job;          // threads backend: what to run next
  bool release = false;  // end the thread
};

class OwnerPool {
 public:
  // Returns 0 and an owner for a greenlet with `stack_size` bytes of JS stack,
  // or a negative errno when no thread can be created: -ENOMEM when its stack
  // cannot be mapped, -EAGAIN (or another) when the thread itself is refused.
  // `spin`: how long the owner polls for its next job (0: it only sleeps).
  int Acquire(int spin, size_t stack_size, OwnerThread** out);
  // Takes back the owner of a finished greenlet. Never ends a thread: the
  // caller may still stand on that owner's stack.
  void Recycle(OwnerThread* owner);
  // Ends idle owners beyond max_idle(); call only where no greenlet that is
  // finishing still runs on a pooled owner's stack.
  void Trim();
  // Ends one owner thread (idle, or holding a parked greenlet) and joins it.
  static void End(OwnerThread* owner);
  // Ends every idle owner.
  void Drain();

  void set_max_idle(size_t n) { max_idle_ = n; }
  size_t max_idle() const { return max_idle_; }
  size_t idle() const { return idle_count_; }
  size_t created() const { return created_; }

 private:
  // Starts up to `count` owner threads into `into`; returns 0, or the negative
  // errno of the first refusal (those started before it are kept).
  int CreateBatch(size_t stack_size, size_t count, std::vector<OwnerThread*>* into);
  static constexpr size_t kMaxBatch = 32;

  std::map<size_t, std::vector<OwnerThread*>> idle_;
  size_t idle_count_ = 0;
  size_t max_idle_ = 256;
  size_t created_ = 0;
};

// Bytes an owner thread reserves at the top of its stack for its own frame,
// and the headroom kept below the V8 stack limit for native code that runs
// when JS is at its limit.
// (The owner's sleeping frame is OwnerMain's own: the futex helpers inline,
// and the reserve is measured from its stack pointer.)
constexpr size_t kOwnerReserve = 256;
constexpr size_t kNativeHeadroom = 128 * 1024;

}  // namespace greenloop

#endif  // GREENLOOP_OWNER_THREAD_H_
