// The native greenlet model: plain C++ structs, no V8 and no IO.
//
// A greenlet is a stack that JS can run on. Every greenlet but the root borrows
// its stack and its thread identity (TCB, TLS, pthread_self) from an owner
// thread (owner_thread.h). Two backends move control between greenlets:
//
//   kUserSpace  the isolate's own kernel thread jumps onto the greenlet's stack
//               and loads the owner's FS base (switch_x86_64_linux.S): no
//               kernel involvement in a switch (DESIGN.md "Design C").
//   kThreads    the owner thread itself runs the greenlet; a switch wakes the
//               target thread and blocks the current one (DESIGN.md "Design A").
//
// Either way exactly one greenlet of an isolate runs at a time, so JS keeps
// its single-threaded semantics.
#ifndef GREENLOOP_GREENLET_H_
#define GREENLOOP_GREENLET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace greenloop {

struct OwnerThread;
struct Env;

enum class Backend : uint8_t { kUserSpace, kThreads };

// Named state bits, changed only through the helpers below.
enum GreenletFlag : uint32_t {
  kRoot = 1u << 0,      // the thread's root greenlet (its event loop)
  kStarted = 1u << 1,   // has an owner thread (it may not have run yet: kLaunched)
  kFinished = 1u << 2,  // its entry returned; the owner went back to the pool
  kLaunched = 1u << 3,  // control has entered it at least once
  kOrphaned = 1u << 4,  // its JS handle was collected while it was parked
  // Its archived V8 stack limit is the low one LeaveCentralStackToRoot set
  // (handoff.cc), not its own: it must claim its own when it resumes.
  kLimitLowered = 1u << 5,
};

struct Greenlet {
  uint32_t flags = 0;
  Env* env = nullptr;
  OwnerThread* owner = nullptr;  // null for the root and once finished
  size_t stack_size = 0;         // bytes of stack for JS (the V8 stack limit)

  // kUserSpace: the stack pointer gl_swap saved when this greenlet parked.
  void* saved_sp = nullptr;
  // kThreads: the word the parked thread waits on (see futex.h).
  std::atomic<uint32_t> wake_word{0};

  // Intrusive list of the environment's started, unfinished greenlets, walked
  // at teardown to end their owner threads.
  Greenlet* live_prev = nullptr;
  Greenlet* live_next = nullptr;

  bool has(GreenletFlag f) const { return (flags & f) != 0; }
  void set(GreenletFlag f) { flags |= f; }
  void clear(GreenletFlag f) { flags &= ~static_cast<uint32_t>(f); }
  bool parked_or_running() const { return has(kStarted) && !has(kFinished); }
};

}  // namespace greenloop

#endif  // GREENLOOP_GREENLET_H_
