#include "owner_thread.h"

#include <errno.h>
#include <signal.h>
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

// glibc reports a stack it could not map as EAGAIN, like a thread limit;
// mapping the same size the same way tells the two apart.
bool StackReservable(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, bytes);
  return true;
}

size_t PageRound(size_t n) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

// A new thread is usually ready within microseconds: polling for that (and
// yielding the CPU to it) spares a futex wake-up per thread, whose cost grows
// with the number of threads sleeping in futexes (thousands of owners).
constexpr int kReadySpin = 200;

void* OwnerMain(void* arg) {
  auto* owner = static_cast<OwnerThread*>(arg);

  pthread_attr_t attr;
  void* stack_addr = nullptr;
  size_t stack_len = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &stack_addr, &stack_len);
    pthread_attr_destroy(&attr);
  }
  owner->fs_base = ReadFsBase();
  owner->stack_low = reinterpret_cast<uintptr_t>(stack_addr);
  owner->stack_high = owner->stack_low + stack_len;
  // Greenlets start just below this frame: while it sleeps (the futex loop
  // below makes no calls under the user-space backend) the owner uses nothing
  // beneath its stack pointer, so their frames share its last stack page.
  owner->stack_top = (CurrentStackPointer() - kOwnerReserve) & ~static_cast<uintptr_t>(15);
  // glibc may hand out a larger cached stack than asked for: JS gets the size
  // that was asked for, and never less than the headroom native code needs.
  owner->js_limit = std::max(owner->stack_low + kNativeHeadroom, owner->stack_top - owner->stack_size);
  Signal(&owner->ready);

  for (;;) {
    // Under the threads backend the next job usually follows quickly: poll
    // like a switch does. Under the user-space backend the owner only sleeps.
    WaitFor(&owner->wake_word, owner->spin.load(std::memory_order_relaxed));
    if (owner->release) break;
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
size_t futex_hash_slots = 0;  // under futex_hash_mutex: what was last set

// Linux 6.16+ gives each process a futex hash of its own, sized for at most
// 4 x the CPU count (16 slots here), and every futex call walks the slot of
// its address: with 10,000 owners asleep in futexes, one FUTEX_WAKE took 66 us
// (0.1 us with 16,384 slots), for the threads backend's switches and for every
// mutex Node, V8 and libuv hand over. So the hash grows with the owners, to a
// power of 2 at least twice their number. Older kernels refuse the call
// (EINVAL): they have one global hash, sized at boot for the machine.
void GrowFutexHash(size_t threads) {
  constexpr int kPrFutexHash = 78;         // PR_FUTEX_HASH
  constexpr int kPrFutexHashSetSlots = 1;  // PR_FUTEX_HASH_SET_SLOTS
  constexpr size_t kMaxSlots = size_t{1} << 17;
  std::lock_guard<std::mutex> lock(futex_hash_mutex);
  if (futex_hash_slots >= kMaxSlots || threads * 2 <= futex_hash_slots) return;
  size_t slots = 1024;
  while (slots < threads * 2 && slots < kMaxSlots) slots *= 2;
  if (prctl(kPrFutexHash, kPrFutexHashSetSlots, slots, 0, 0) == 0) {
    futex_hash_slots = slots;
  } else {
    futex_hash_slots = kMaxSlots;  // not available: do not ask again
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

// Sets `attr` up for owners of `stack_size`, with every signal blocked while
// they start; Start() returns 0 or an errno.
class OwnerAttributes {
 public:
  explicit OwnerAttributes(size_t stack_size) : thread_stack_(PageRound(stack_size + kNativeHeadroom + kOwnerReserve)) {
    pthread_attr_init(&attr_);
    if (pthread_attr_setstacksize(&attr_, thread_stack_) != 0) status_ = ENOMEM;
  }
  ~OwnerAttributes() { pthread_attr_destroy(&attr_); }
  int status() const { return status_; }
  // Starts one owner (not yet ready); returns 0 or an errno.
  int Start(size_t stack_size, OwnerThread** out) {
    auto* owner = new OwnerThread();
    owner->stack_size = stack_size;
    int rc = pthread_create(&owner->thread, &attr_, OwnerMain, owner);
    if (rc != 0) {
      delete owner;
      return rc == EAGAIN && !StackReservable(thread_stack_) ? ENOMEM : rc;
    }
    GrowFutexHash(owner_threads.fetch_add(1, std::memory_order_relaxed) + 1);
    *out = owner;
    return 0;
  }

 private:
  SignalsBlocked signals_blocked_;
  size_t thread_stack_;
  pthread_attr_t attr_;
  int status_ = 0;
};

}  // namespace

int StartOwner(size_t stack_size, OwnerThread** out) {
  OwnerAttributes attributes(stack_size);
  if (attributes.status() != 0) return -attributes.status();
  int rc = attributes.Start(stack_size, out);
  if (rc != 0) return -rc;
  WaitFor(&(*out)->ready, kReadySpin);
  return 0;
}

int OwnerPool::Acquire(int spin, size_t stack_size, OwnerThread** out) {
  std::vector<OwnerThread*>& idle = idle_[stack_size];
  OwnerThread* owner = nullptr;
  if (!idle.empty()) {
    idle_count_--;
    owner = idle.back();
    idle.pop_back();
  } else if ((owner = factory_.Take(stack_size)) == nullptr) {
    // Threads are made in batches that grow with use: a new thread must be
    // scheduled once before it can serve, and waiting for that once per batch
    // instead of once per thread matters on a busy machine.
    size_t batch = std::clamp<size_t>(created() / 4, 1, kMaxBatch);
    int rc = CreateBatch(stack_size, batch, &idle);
    if (idle.empty()) return rc;
    owner = idle.back();
    idle.pop_back();
  }
  owner->spin.store(spin, std::memory_order_relaxed);
  *out = owner;
  return 0;
}

int OwnerPool::CreateBatch(size_t stack_size, size_t count, std::vector<OwnerThread*>* into) {
  OwnerAttributes attributes(stack_size);
  int rc = attributes.status();
  std::vector<OwnerThread*> started;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    OwnerThread* owner = nullptr;
    rc = attributes.Start(stack_size, &owner);
    if (rc == 0) started.push_back(owner);
  }
  for (OwnerThread* owner : started) {
    WaitFor(&owner->ready, kReadySpin);
    into->push_back(owner);
  }
  created_ += started.size();
  // All but the one about to be handed out count as idle.
  if (!started.empty()) idle_count_ += started.size() - 1;
  return rc == 0 ? 0 : -rc;
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

void OwnerPool::Trim() {
  for (auto& entry : idle_) {
    while (idle_count_ > max_idle_ && !entry.second.empty()) {
      factory_.TakeSurplus(entry.second.back());
      entry.second.pop_back();
      idle_count_--;
    }
  }
}

namespace {
constexpr size_t kMaxEndingBacklog = 256;
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

void OwnerFactory::TakeSurplus(OwnerThread* owner) {
  if (running_) {
    std::unique_lock<std::mutex> lock(mu_);
    if (owner->stack_size == stack_size_ && ready_.size() + lent_ < keep_) {
      ready_.push_back(owner);
      ready_count_.store(ready_.size(), std::memory_order_relaxed);
      return;
    }
    // Ending a thread means waiting for it to be scheduled once more, which
    // the isolate's thread need not do; but a backlog the factory does not
    // keep up with would let threads pile up, so past one the caller waits.
    if (ending_.size() < kMaxEndingBacklog) {
      ending_.push_back(owner);
      lock.unlock();
      cv_.notify_one();
      return;
    }
  }
  OwnerPool::End(owner);
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
      lock.unlock();
      for (OwnerThread* owner : ending) OwnerPool::End(owner);
      lock.lock();
      continue;
    }
    size_t stack_size = stack_size_;
    lock.unlock();
    OwnerThread* owner = nullptr;
    int rc = StartOwner(stack_size, &owner);
    lock.lock();
    if (rc < 0) {
      // The system refuses threads: the isolate's thread will meet the same
      // refusal when it needs one, and report it; making more is pointless.
      fill_ = keep_ = 0;
      continue;
    }
    made_.fetch_add(1, std::memory_order_relaxed);
    // While it was being made, the isolate's thread may have changed the size
    // or filled the reserve itself (TakeSurplus): then it is one too many.
    if (stack_size != stack_size_ || (fill_ == 0 && ready_.size() + lent_ >= keep_)) {
      ending_.push_back(owner);
      continue;
    }
    ready_.push_back(owner);
    ready_count_.store(ready_.size(), std::memory_order_relaxed);
    if (fill_ > 0) fill_--;
  }
}

}  // namespace greenloop
