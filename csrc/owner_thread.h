// Owner threads: the pthreads whose stack and thread identity greenlets use.
//
// An owner thread is created with all signals blocked, on a stack the pool
// maps (in batches, a guard page below each). Under the user-space backend it
// records its FS base and where its own frame ends, and sleeps until it is
// released; greenlets run on the part of its stack below its own frame. Under
// the threads backend it runs one greenlet after another, sleeping between
// them. Idle owners are pooled per stack size and reused. A factory thread
// can make owners ahead of demand and end surplus ones, so that neither
// pthread_create nor pthread_join has to run on the isolate's thread.
#ifndef GREENLOOP_OWNER_THREAD_H_
#define GREENLOOP_OWNER_THREAD_H_

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "greenlet.h"

namespace greenloop {

// What an owner thread runs when woken under the threads backend: `run(greenlet)`,
// on the owner's own stack. Set by whoever wakes it (handoff.cc).
struct OwnerJob {
  void (*run)(Greenlet*) = nullptr;
  Greenlet* greenlet = nullptr;
};

// What an owner's own thread runs as it ends, unless it holds a parked
// greenlet: the V8 layer forgets what it keeps for that thread identity.
struct OwnerExitHook {
  void (*run)(void* arg) = nullptr;
  void* arg = nullptr;
};

struct OwnerThread {
  ~OwnerThread();  // unmaps its stack: only once its thread has been joined

  // Gives the kernel back the pages of its stack below `sp`, the stack
  // pointer of a greenlet parked on it (nothing there is live: its frames
  // are all above). They read as zeros when touched again. Returns the bytes
  // advised (0 if none), or a negative errno.
  long ReleaseBelow(uintptr_t sp) const;

  pthread_t thread{};
  // How long it polls for its next job before sleeping: > 0 only under the
  // threads backend (set while it sits in the pool, read by its own loop).
  std::atomic<int> spin{0};
  size_t stack_size = 0;  // the JS stack size it was made for (pool key)
  uintptr_t fs_base = 0;  // its TCB, loaded into FS by the user-space switch
  uintptr_t mapping = 0;  // its stack and guard page, mapped by the pool
  size_t mapping_bytes = 0;
  uintptr_t stack_low = 0;   // lowest usable address of its stack
  uintptr_t stack_high = 0;  // its stack's upper end (what V8 takes as the stack start)
  uintptr_t stack_top = 0;   // where greenlet frames may begin (below its own)
  uintptr_t js_limit = 0;    // what SetStackLimit gets for greenlets on it

  std::atomic<uint32_t> ready{0};  // signalled once it has run and recorded the above
  bool has_run = false;            // the pool has seen `ready` (it is signalled once)
  std::atomic<uint32_t> wake_word{0};
  // Written before wake_word is signalled; read by the owner after waking.
  OwnerJob job;             // threads backend: what to run next
  bool release = false;     // end the thread
  bool lent = false;        // taken from the factory's spares, not back in the pool yet
  bool made_ahead = false;  // by the factory, ahead of demand: it makes an arena cushion
  OwnerExitHook exit_hook;  // cleared by whoever ends it with a parked greenlet on it
  // Heap space its first greenlet's V8 state is allocated from (see
  // FreeArenaCushion); null if it made none or once given back.
  void* arena_cushion = nullptr;

  // Frees the cushion a thread made ahead of demand allocated when it
  // started, so that the first greenlet on it, which calls this before V8
  // sets up its per-thread state, allocates that state from memory its
  // malloc arena already has.
  // Call on this owner's thread identity (its greenlet's), or after it ended.
  void FreeArenaCushion();
};

// The slots the process's futex hash was last grown to, as greenloop sized it
// for its owner threads (0 before the first; 131072 where the kernel has no
// hash per process or refused the call), and the growths made so far.
struct FutexHashGrowths {
  size_t made = 0;
  size_t on_main_thread = 0;  // by the process's main thread (an event loop's)
};
size_t FutexHashSlots(FutexHashGrowths* growths);

// A thread of its own that starts owner threads ahead of demand (spares, of
// one stack size at a time) and ends the ones handed to it. Only the
// mechanism: how many spares to keep, and when, is decided by lib/.
class OwnerFactory {
 public:
  // Keeps a reserve of `keep` threads of `stack_size` for bursts: ready
  // spares plus those lent out (taken, and not yet back in the pool), so
  // that a burst that ends gives its threads back (the pool's surplus
  // becomes spares) instead of the factory making new ones meanwhile. Also makes `fill`
  // spares now, once. Spares of another stack size are ended. Starts the
  // factory's thread on first use; 0 or a negative errno.
  int SetSpares(size_t stack_size, size_t fill, size_t keep);
  // What the threads it makes run as they end; set before any is made.
  void set_exit_hook(OwnerExitHook hook) { exit_hook_ = hook; }
  // A ready spare for `stack_size`, or null.
  OwnerThread* Take(size_t stack_size);
  // `owner`, which Take() handed out, is back in the pool.
  void Returned(OwnerThread* owner);
  // Takes a surplus idle owner (stood on by no one): keeps it as a spare if
  // spares of its size are wanted, else ends it on the factory's thread
  // unless that does not run or is behind; then ends it at once and returns
  // true. `ask`: start the factory's thread if it does not run, and let it
  // fall far behind (see kMaxEndingBacklog).
  bool TakeSurplus(OwnerThread* owner, bool ask);
  // For when the system refuses a thread: ends here, at once, the owners
  // handed over to end and not ended yet, waits for those being ended now,
  // and ends the factory's thread too unless it keeps spares. Returns
  // whether that gave back any thread (if not, asking again is pointless).
  bool GiveBackThreads();
  // Ends the factory's thread, every spare and every owner still to end.
  void Stop();
  bool running() const { return running_; }
  size_t ready() const { return ready_count_.load(std::memory_order_relaxed); }
  size_t ready(size_t stack_size);
  // Whether it still has spares of `stack_size` to make for the last
  // SetSpares' `fill` (false once made, or once the system refused one).
  bool making(size_t stack_size);
  size_t made() const { return made_.load(std::memory_order_relaxed); }

 private:
  static void* Main(void* arg);
  void Run();
  int StartThread();

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable ended_cv_;  // ending_now_ went back to 0
  std::vector<OwnerThread*> ready_;   // under mu_
  std::vector<OwnerThread*> ending_;  // under mu_
  size_t ending_now_ = 0;             // under mu_: taken from ending_ by Run(), not all ended yet
  size_t stack_size_ = 0;             // under mu_: the size spares are made for
  size_t fill_ = 0;                   // under mu_: how many to have ready now
  size_t keep_ = 0;                   // under mu_: ready + lent to keep
  size_t lent_ = 0;                   // under mu_: spares taken, not yet back in the pool
  bool stop_ = false;                 // under mu_
  bool running_ = false;              // the isolate's thread only
  pthread_t thread_{};
  OwnerExitHook exit_hook_;
  std::atomic<size_t> ready_count_{0};
  std::atomic<size_t> made_{0};
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
  // finishing still runs on a pooled owner's stack. `off_loop`: have the
  // factory's thread end them, started if need be (see TakeSurplus).
  void Trim(bool off_loop);
  // Ends one owner thread (idle, or holding a parked greenlet) and joins it.
  static void End(OwnerThread* owner);
  // Ends every idle owner and spare, and the factory's thread.
  void Drain();
  // See OwnerFactory::SetSpares.
  int SetSpares(size_t stack_size, size_t fill, size_t keep) { return factory_.SetSpares(stack_size, fill, keep); }

  // What every owner thread runs as it ends (see OwnerExitHook); set before
  // any is made.
  void set_exit_hook(OwnerExitHook hook) {
    exit_hook_ = hook;
    factory_.set_exit_hook(hook);
  }
  void set_max_idle(size_t n) { max_idle_ = n; }
  size_t max_idle() const { return max_idle_; }
  size_t idle() const { return idle_count_; }
  size_t idle(size_t stack_size) const;
  // Threads made so far, by the isolate's thread and by the factory.
  size_t created() const { return created_ + factory_.made(); }
  // Surplus owners Trim() had to end on the caller's thread (see TakeSurplus).
  size_t ended_here() const { return ended_here_; }
  size_t spares() const { return factory_.ready(); }
  size_t spares(size_t stack_size) { return factory_.ready(stack_size); }
  bool making_spares(size_t stack_size) { return factory_.making(stack_size); }

 private:
  static constexpr size_t kMaxBatch = 32;

  std::map<size_t, std::vector<OwnerThread*>> idle_;
  size_t idle_count_ = 0;
  size_t max_idle_ = 256;
  size_t created_ = 0;
  size_t ended_here_ = 0;
  OwnerExitHook exit_hook_;
  OwnerFactory factory_;
};

// Bytes an owner thread reserves at the top of its stack for its own frame,
// and the headroom kept below the V8 stack limit for native code that runs
// when JS is at its limit.
// (The owner's sleeping frame is OwnerMain's own: the futex helpers inline,
// and the reserve is measured from its stack pointer.) None is needed: from
// the moment it reads its stack pointer, an owner under the user-space
// backend makes no call (only inline syscalls and pause; `objdump -d` of
// OwnerMain shows it), it is not a leaf function, so it keeps nothing in the
// red zone, and its signals are blocked. Every byte counts here: a parked
// greenlet's stack is the owner's TCB, static TLS and frame (about 4.7 KiB
// from the top of the mapping) and then the greenlet's frames, which have
// about 3.4 KiB before they touch a third page; hub parks need about that
// much (docs/greenlet.md, "What a parked greenlet costs").
constexpr size_t kOwnerReserve = 0;
constexpr size_t kNativeHeadroom = 128 * 1024;

}  // namespace greenloop

#endif  // GREENLOOP_OWNER_THREAD_H_
