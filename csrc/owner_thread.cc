#include "owner_thread.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "futex.h"

namespace greenloop {

namespace {

uintptr_t ReadFsBase() {
#if defined(__x86_64__)
  // glibc keeps the TCB's own address at %fs:0, which is the FS base.
  uintptr_t fs;
  __asm__ volatile("movq %%fs:0, %0" : "=r"(fs));
  return fs;
#else
  return 0;
#endif
}

uintptr_t CurrentStackPointer() {
#if defined(__x86_64__)
  uintptr_t sp;
  __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
  return sp;
#else
  return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
#endif
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

size_t PageRound(size_t n) { return (n + PageSize() - 1) / PageSize() * PageSize(); }

// Linux 6.13+ marks guard pages inside a mapping without splitting it, so a
// batch of stacks stays one mapping (vm.max_map_count counted every
// mprotect'ed guard as one more); older kernels refuse the advice (EINVAL).
constexpr int kMadvGuardInstall = 102;  // MADV_GUARD_INSTALL
std::atomic<bool> guard_advice_refused{false};

// Makes the page at `page` fault on any access; 0 or an errno.
int InstallGuard(uintptr_t page) {
  void* p = reinterpret_cast<void*>(page);
  if (!guard_advice_refused.load(std::memory_order_relaxed)) {
    if (madvise(p, PageSize(), kMadvGuardInstall) == 0) return 0;
    if (errno != EINVAL) return errno;
    guard_advice_refused.store(true, std::memory_order_relaxed);
  }
  return mprotect(p, PageSize(), PROT_NONE) == 0 ? 0 : errno;
}

// Stacks of one batch of owners share a mapping of at most this many bytes
// (one stack may exceed it): mapping them one by one cost a system call each,
// and a large mapping is harder to reserve under vm.overcommit_memory.
constexpr size_t kMaxBatchMapping = size_t{64} << 20;

// A new thread is usually ready within microseconds: polling for that (and
// yielding the CPU to it) spares a futex wake-up per thread, whose cost grows
// with the number of threads sleeping in futexes (thousands of owners).
constexpr int kReadySpin = 200;

// A greenlet's first V8 state takes 8.6-10 KiB of its thread's arena on Node
// 20-26 (V8's 8 KiB handle block, its archived thread state and records).
// Measured with 10,000 greenlets after prewarm(): 8 KiB left the process's
// RSS as it was on every line; 6, 10 and 12 KiB added 0.9-2.3 KiB per
// greenlet on some (what a greenlet leaves free of a cushion, or what the
// next one allocates past it, lands in pages no greenlet would touch).
constexpr size_t kArenaCushion = 8 * 1024;

void* OwnerMain(void* arg) {
  auto* owner = static_cast<OwnerThread*>(arg);
  // glibc's arenas for threads grow a page or two at a time, a mprotect()
  // each: a greenlet's first V8 state took 1.3 of them, on the loop's time.
  // A thread made ahead of demand grows its arena now, and its first greenlet
  // allocates from what it gives back. (One made on demand does not: the loop
  // waits for it to be ready.)
  if (owner->made_ahead) owner->arena_cushion = malloc(kArenaCushion);
  // Its stack's bounds were set by whoever mapped it. Once it is ready,
  // nothing here may use TLS (errno, malloc): a greenlet may be running on it.
  owner->fs_base = ReadFsBase();
  // Greenlets start just below this frame: while it sleeps (the futex loop
  // below makes no calls under the user-space backend) the owner uses nothing
  // beneath its stack pointer, so their frames share its last stack page.
  owner->stack_top = (CurrentStackPointer() - kOwnerReserve) & ~static_cast<uintptr_t>(15);
  owner->js_limit = std::max(owner->stack_low + kNativeHeadroom, owner->stack_top - owner->stack_size);
  Signal(&owner->ready);

  for (;;) {
    // Under the threads backend the next job usually follows quickly: poll
    // like a switch does. Under the user-space backend the owner only sleeps.
    WaitFor(&owner->wake_word, owner->spin.load(std::memory_order_relaxed));
    if (owner->release) {
      if (owner->exit_hook.run != nullptr) owner->exit_hook.run(owner->exit_hook.arg);
      break;
    }
    if (owner->job.run != nullptr) {  // only the threads backend hands out jobs
      OwnerJob job = owner->job;
      owner->job = {};
      job.run(job.greenlet);
    }
  }
  return nullptr;
}

// Owner threads of the whole process (every isolate's), to size the futex
// hash (an estimate: owners ended at teardown by handoff.cc are not counted
// off, which only leaves the hash larger).
std::atomic<size_t> owner_threads{0};
std::mutex futex_hash_mutex;
// What was last set: written under futex_hash_mutex, which a growth holds
// while the kernel sleeps (below), so read without it.
std::atomic<size_t> futex_hash_slots{0};
FutexHashGrowths futex_hash_growths;  // under futex_hash_mutex

// Linux 6.16+ gives each process a futex hash of its own, sized for at most
// 4 x the CPU count (16 slots here), and every futex call walks the slot of
// its address: with 10,000 owners asleep in futexes, one FUTEX_WAKE took 66 us
// (0.1 us with 16,384 slots), for the threads backend's switches and for every
// mutex Node, V8 and libuv hand over. So the hash grows with the owners, to a
// power of 2 at least twice their number. Older kernels refuse the call
// (EINVAL): they have one global hash, sized at boot for the machine.
constexpr size_t kMaxFutexSlots = size_t{1} << 17;

bool FutexHashWants(size_t threads) {
  const size_t slots = futex_hash_slots.load(std::memory_order_relaxed);
  return slots < kMaxFutexSlots && threads * 2 > slots;
}

void GrowFutexHash(size_t threads) {
  constexpr int kPrFutexHash = 78;         // PR_FUTEX_HASH
  constexpr int kPrFutexHashSetSlots = 1;  // PR_FUTEX_HASH_SET_SLOTS
  std::lock_guard<std::mutex> lock(futex_hash_mutex);
  if (!FutexHashWants(threads)) return;
  size_t slots = 1024;
  while (slots < threads * 2 && slots < kMaxFutexSlots) slots *= 2;
  if (prctl(kPrFutexHash, kPrFutexHashSetSlots, slots, 0, 0) == 0) {
    futex_hash_slots.store(slots, std::memory_order_relaxed);
    futex_hash_growths.made++;
    // The kernel's thread id, which the user-space switch does not change.
    if (syscall(SYS_gettid) == getpid()) futex_hash_growths.on_main_thread++;
  } else {
    futex_hash_slots.store(kMaxFutexSlots, std::memory_order_relaxed);  // not available: do not ask again
  }
}

// Threads started while one lives inherit a mask that blocks every signal:
// a signal handler run on a sleeping owner would share the TLS of the
// greenlet that is running elsewhere (the factory thread blocks them too, as
// it only makes and ends owners). The caller's own mask is restored after.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

 private:
  sigset_t previous_;
};

// The call sleeps until the kernel is done with the old hash: 13-33 ms each on
// this VM's 6.18 kernel, 6 of them on the way to 10,000 owners, the first one
// in a process's first greenlet start (22-26 ms -> 8-12 ms without it). An
// isolate's thread must not wait for that, so owners it starts have the hash
// grown by a short-lived thread; until then futex calls only walk longer slots.
std::atomic<bool> futex_hash_grower{false};  // such a thread runs

void* FutexHashGrowerMain(void*) {
  // Grows until the hash fits every owner started meanwhile too, unless the
  // owners outgrow it just as it ends: then the one that saw it starts another.
  do {
    GrowFutexHash(owner_threads.load(std::memory_order_relaxed));
    futex_hash_grower.store(false);
  } while (FutexHashWants(owner_threads.load(std::memory_order_relaxed)) && !futex_hash_grower.exchange(true));
  return nullptr;
}

void GrowFutexHashOffThread() {
  if (!FutexHashWants(owner_threads.load(std::memory_order_relaxed))) return;
  if (futex_hash_grower.exchange(true)) return;  // it looks again before it ends
  // (Neither check waits for a growth in progress: a batch the isolate's
  // thread starts meanwhile goes on at once.)
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t thread;
  int rc;
  {
    SignalsBlocked signals_blocked;
    rc = pthread_create(&thread, &attr, FutexHashGrowerMain, nullptr);
  }
  pthread_attr_destroy(&attr);
  if (rc != 0) {  // at the thread limit: growing it here beats not growing it
    futex_hash_grower.store(false);
    GrowFutexHash(owner_threads.load(std::memory_order_relaxed));
  }
}

// Starts up to `count` owner threads for greenlets of `stack_size` into
// `into`, without waiting for them to run (OwnerPool::Acquire does, once per
// owner); `ahead`: by the factory, ahead of demand (which then grows the
// futex hash for them itself; else a thread of its own does);
// `exit_hook`: what each runs as it ends. Their stacks are mapped here, one
// mapping per batch with a guard page below each stack, so their bounds are
// known before they run.
// Returns 0, or the negative errno of the first refusal (those started before
// it are kept): -ENOMEM when the stacks cannot be mapped, else pthread_create's
// (a guard the kernel cannot mark, past vm.max_map_count, counts as -EAGAIN).
int StartOwners(size_t stack_size, size_t count, bool ahead, OwnerExitHook exit_hook, std::vector<OwnerThread*>* into) {
  const size_t usable = PageRound(stack_size + kNativeHeadroom + kOwnerReserve);
  const size_t slot = PageSize() + usable;
  count = std::min(count, std::max<size_t>(1, kMaxBatchMapping / slot));
  void* mapping = mmap(nullptr, slot * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mapping == MAP_FAILED) return -ENOMEM;
  const auto base = reinterpret_cast<uintptr_t>(mapping);
  SignalsBlocked signals_blocked;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int rc = 0;
  size_t started = 0;
  for (; started < count; started++) {
    const uintptr_t guard = base + started * slot;
    if ((rc = InstallGuard(guard)) != 0) {
      if (rc == ENOMEM) rc = EAGAIN;
      break;
    }
    auto* owner = new OwnerThread();
    owner->stack_size = stack_size;
    owner->made_ahead = ahead;
    owner->exit_hook = exit_hook;
    owner->stack_low = guard + PageSize();
    owner->stack_high = guard + slot;
    pthread_attr_setstack(&attr, reinterpret_cast<void*>(owner->stack_low), usable);
    if ((rc = pthread_create(&owner->thread, &attr, OwnerMain, owner)) != 0) {
      delete owner;
      break;
    }
    owner->mapping = guard;
    owner->mapping_bytes = slot;
    into->push_back(owner);
  }
  pthread_attr_destroy(&attr);
  if (started < count) munmap(reinterpret_cast<void*>(base + started * slot), (count - started) * slot);
  if (started > 0) {
    const size_t owners = owner_threads.fetch_add(started, std::memory_order_relaxed) + started;
    if (ahead) {
      GrowFutexHash(owners);
    } else {
      GrowFutexHashOffThread();
    }
  }
  return -rc;
}

}  // namespace

size_t FutexHashSlots(FutexHashGrowths* growths) {
  std::lock_guard<std::mutex> lock(futex_hash_mutex);
  *growths = futex_hash_growths;
  return futex_hash_slots.load(std::memory_order_relaxed);
}

long OwnerThread::ReleaseBelow(uintptr_t sp) const {
  // A parked greenlet's stack pointer is the one gl_swap saved: it pushed the
  // whole context at and above it, and no frame of a call in progress keeps
  // data in the red zone under it, so the page holding `sp` is the lowest live one.
  if (sp <= stack_low || sp > stack_high) return 0;
  const uintptr_t end = sp & ~(static_cast<uintptr_t>(PageSize()) - 1);
  if (end <= stack_low) return 0;
  if (madvise(reinterpret_cast<void*>(stack_low), end - stack_low, MADV_DONTNEED) != 0) return -errno;
  return static_cast<long>(end - stack_low);
}

void OwnerThread::FreeArenaCushion() {
  free(arena_cushion);
  arena_cushion = nullptr;
}

OwnerThread::~OwnerThread() {
  FreeArenaCushion();  // it never ran a greenlet
  // Only after pthread_join: glibc keeps its TCB at the top of this stack.
  if (mapping_bytes != 0) munmap(reinterpret_cast<void*>(mapping), mapping_bytes);
}

namespace {
// How long a refused start waits, in all and at most per pause, for threads
// the pool has just given back to stop counting against the thread limit.
// Paid only at that limit, and only when threads were given back.
constexpr useconds_t kGiveBackWaitUs = 200 * 1000;
constexpr useconds_t kGiveBackPauseUs = 20 * 1000;
}  // namespace

int OwnerPool::Acquire(int spin, size_t stack_size, OwnerThread** out) {
  std::vector<OwnerThread*>& idle = idle_[stack_size];
  OwnerThread* owner = nullptr;
  if (!idle.empty()) {
    idle_count_--;
    owner = idle.back();
    idle.pop_back();
  } else if ((owner = factory_.Take(stack_size)) == nullptr) {
    // Threads are made in batches that grow with use, and not waited for
    // here: by the time the last of a batch is handed out, the first ones
    // have long run. No larger than what the pool may keep: the next Trim
    // would end the rest unused (a pool of 4 made 5,495 threads for 900
    // greenlets in bursts of 300).
    size_t batch = std::clamp<size_t>(created() / 4, 1, std::min(kMaxBatch, max_idle_ + 1));
    size_t before = idle.size();
    int rc = StartOwners(stack_size, batch, false, exit_hook_, &idle);
    if (idle.size() == before && rc == -EAGAIN && factory_.GiveBackThreads()) {
      // Threads this pool gave up may have been counted against the limit
      // still; and pthread_join returns as a thread leaves its stack, a
      // moment before the kernel stops counting it, which takes the exiting
      // thread's next turn on a CPU: ask again for up to kGiveBackWaitUs (10 ms
      // was too short once in CI, on a loaded machine).
      rc = StartOwners(stack_size, 1, false, exit_hook_, &idle);
      useconds_t waited = 0;
      for (useconds_t pause = 10; rc == -EAGAIN && waited < kGiveBackWaitUs;
           pause = std::min(2 * pause, kGiveBackPauseUs)) {
        usleep(pause);
        waited += pause;
        rc = StartOwners(stack_size, 1, false, exit_hook_, &idle);
      }
    }
    created_ += idle.size() - before;
    if (idle.empty()) return rc;
    // Handed out from the back: the first made, the likeliest to have run.
    std::reverse(idle.begin() + before, idle.end());
    idle_count_ += idle.size() - before;
    idle_count_--;
    owner = idle.back();
    idle.pop_back();
  }
  // Until a new thread has run, nothing may run on its stack: it records what
  // only it can see (its FS base, where its own frames end), and glibc's
  // start_thread writes TLS that a greenlet's native code reads (the ctype
  // tables, the resolver state).
  if (!owner->has_run) {
    WaitFor(&owner->ready, kReadySpin);
    owner->has_run = true;
  }
  owner->spin.store(spin, std::memory_order_relaxed);
  *out = owner;
  return 0;
}

size_t OwnerPool::idle(size_t stack_size) const {
  auto it = idle_.find(stack_size);
  return it == idle_.end() ? 0 : it->second.size();
}

void OwnerPool::Recycle(OwnerThread* owner) {
  if (owner->lent) factory_.Returned(owner);
  idle_[owner->stack_size].push_back(owner);
  idle_count_++;
}

void OwnerPool::End(OwnerThread* owner) {
  owner->release = true;
  Signal(&owner->wake_word);
  pthread_join(owner->thread, nullptr);
  delete owner;
  owner_threads.fetch_sub(1, std::memory_order_relaxed);
}

void OwnerPool::Drain() {
  factory_.Stop();
  for (auto& entry : idle_) {
    for (OwnerThread* owner : entry.second) End(owner);
    entry.second.clear();
  }
  idle_count_ = 0;
}

void OwnerPool::Trim(bool off_loop) {
  for (auto& entry : idle_) {
    while (idle_count_ > max_idle_ && !entry.second.empty()) {
      if (factory_.TakeSurplus(entry.second.back(), off_loop)) ended_here_++;
      entry.second.pop_back();
      idle_count_--;
    }
  }
}

namespace {
// Owners handed to the factory to end and not ended yet. Ending one (waking
// it, joining it, unmapping its stack) costs the thread that does it 20-30 µs,
// and a burst of 10,000 greenlets that ends leaves 9,744 beyond the default
// pool: past this backlog the isolate's thread ends them itself. They were
// all live a moment earlier, so the backlog delays their memory's release
// without raising the peak; the bound only stops a factory that never gets
// the CPU from letting them pile up.
constexpr size_t kMaxEndingBacklog = 16384;
// The bound when the caller does not ask for the factory (the threads
// backend, see binding.cc): there a factory busy ending threads slows every
// switch, so past a short backlog the caller ends them as it always did.
constexpr size_t kMaxEndingBacklogUnasked = 256;
// Spares are made in batches of this many (a mapping each), and handed over
// as each batch is done.
constexpr size_t kFactoryBatch = 8;
}  // namespace

int OwnerFactory::SetSpares(size_t stack_size, size_t fill, size_t keep) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stack_size != stack_size_) {
      lent_ = 0;
      ending_.insert(ending_.end(), ready_.begin(), ready_.end());
      ready_.clear();
      ready_count_.store(0, std::memory_order_relaxed);
      stack_size_ = stack_size;
    }
    fill_ = fill;
    keep_ = keep;
  }
  if (!running_ && (fill > 0 || keep > 0)) {
    int rc = StartThread();
    if (rc < 0) return rc;
  }
  cv_.notify_one();
  return 0;
}

int OwnerFactory::StartThread() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc;
  {
    SignalsBlocked signals_blocked;
    rc = pthread_create(&thread_, &attr, Main, this);
  }
  pthread_attr_destroy(&attr);
  if (rc != 0) return -rc;
  running_ = true;
  return 0;
}

size_t OwnerFactory::ready(size_t stack_size) {
  std::lock_guard<std::mutex> lock(mu_);
  return stack_size == stack_size_ ? ready_.size() : 0;
}

bool OwnerFactory::making(size_t stack_size) {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ && fill_ > 0 && stack_size == stack_size_;
}

OwnerThread* OwnerFactory::Take(size_t stack_size) {
  if (!running_) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (stack_size != stack_size_) return nullptr;
  OwnerThread* owner = nullptr;
  if (!ready_.empty()) {
    owner = ready_.back();
    ready_.pop_back();
    ready_count_.store(ready_.size(), std::memory_order_relaxed);
    owner->lent = true;
    lent_++;
  }
  if (ready_.size() + lent_ < keep_) cv_.notify_one();
  return owner;
}

void OwnerFactory::Returned(OwnerThread* owner) {
  owner->lent = false;
  std::lock_guard<std::mutex> lock(mu_);
  // No wake-up: a burst that ends gives back its surplus right after, which
  // is what refills the spares, rather than the factory making new ones.
  if (lent_ > 0) lent_--;
}

bool OwnerFactory::TakeSurplus(OwnerThread* owner, bool ask) {
  if (!running_ && ask) StartThread();
  if (running_) {
    std::unique_lock<std::mutex> lock(mu_);
    if (owner->stack_size == stack_size_ && ready_.size() + lent_ < keep_) {
      ready_.push_back(owner);
      ready_count_.store(ready_.size(), std::memory_order_relaxed);
      return false;
    }
    // Ending a thread means waiting for it to be scheduled once more, which
    // the isolate's thread need not do; but a backlog the factory does not
    // keep up with would let threads pile up, so past one the caller waits.
    if (ending_.size() < (ask ? kMaxEndingBacklog : kMaxEndingBacklogUnasked)) {
      ending_.push_back(owner);
      lock.unlock();
      cv_.notify_one();
      return false;
    }
  }
  OwnerPool::End(owner);
  return true;
}

bool OwnerFactory::GiveBackThreads() {
  if (!running_) return false;
  std::vector<OwnerThread*> ending;
  bool was_ending;
  bool keeps_spares;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ending.swap(ending_);
    was_ending = !ending.empty() || ending_now_ > 0;
    ended_cv_.wait(lock, [this] { return ending_now_ == 0; });
    keeps_spares = fill_ > 0 || keep_ > 0;
  }
  for (OwnerThread* owner : ending) OwnerPool::End(owner);
  // It starts again with the next surplus (TakeSurplus), if it may.
  if (!keeps_spares) Stop();
  return was_ending || !keeps_spares;
}

void OwnerFactory::Stop() {
  if (!running_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  pthread_join(thread_, nullptr);
  running_ = false;
  stop_ = false;
  for (OwnerThread* owner : ready_) OwnerPool::End(owner);
  for (OwnerThread* owner : ending_) OwnerPool::End(owner);
  ready_.clear();
  ending_.clear();
  ready_count_.store(0, std::memory_order_relaxed);
  fill_ = keep_ = lent_ = 0;
}

void* OwnerFactory::Main(void* arg) {
  static_cast<OwnerFactory*>(arg)->Run();
  return nullptr;
}

void OwnerFactory::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !ending_.empty() || fill_ > 0 || ready_.size() + lent_ < keep_; });
    if (stop_) return;
    if (!ending_.empty()) {
      std::vector<OwnerThread*> ending;
      ending.swap(ending_);
      ending_now_ = ending.size();
      lock.unlock();
      for (OwnerThread* owner : ending) OwnerPool::End(owner);
      lock.lock();
      ending_now_ = 0;
      ended_cv_.notify_all();
      continue;
    }
    size_t stack_size = stack_size_;
    size_t wanted = fill_ > 0 ? fill_ : keep_ - (ready_.size() + lent_);
    lock.unlock();
    std::vector<OwnerThread*> made;
    int rc = StartOwners(stack_size, std::min(wanted, kFactoryBatch), true, exit_hook_, &made);
    lock.lock();
    made_.fetch_add(made.size(), std::memory_order_relaxed);
    if (rc < 0) {
      // The system refuses threads: the isolate's thread will meet the same
      // refusal when it needs one, and report it; making more is pointless.
      fill_ = keep_ = 0;
    }
    // Take() hands out from the back: the first made, the likeliest to have run.
    std::reverse(made.begin(), made.end());
    for (OwnerThread* owner : made) {
      // While they were being made, the isolate's thread may have changed the
      // size or filled the reserve itself (TakeSurplus): then they are too many.
      if (stack_size != stack_size_ || (fill_ == 0 && ready_.size() + lent_ >= keep_)) {
        ending_.push_back(owner);
        continue;
      }
      ready_.push_back(owner);
      if (fill_ > 0) fill_--;
    }
    ready_count_.store(ready_.size(), std::memory_order_relaxed);
  }
}

}  // namespace greenloop
