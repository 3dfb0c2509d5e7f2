#include "owner_thread.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
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

}  // namespace

int OwnerPool::Acquire(int spin, size_t stack_size, OwnerThread** out) {
  std::vector<OwnerThread*>& idle = idle_[stack_size];
  if (idle.empty()) {
    // Threads are made in batches that grow with use: a new thread must be
    // scheduled once before it can serve, and waiting for that once per batch
    // instead of once per thread matters on a busy machine.
    size_t batch = std::clamp<size_t>(created_ / 4, 1, kMaxBatch);
    int rc = CreateBatch(stack_size, batch, &idle);
    if (idle.empty()) return rc;
  } else {
    idle_count_--;
  }
  OwnerThread* owner = idle.back();
  idle.pop_back();
  owner->spin.store(spin, std::memory_order_relaxed);
  *out = owner;
  return 0;
}

int OwnerPool::CreateBatch(size_t stack_size, size_t count, std::vector<OwnerThread*>* into) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  size_t thread_stack = PageRound(stack_size + kNativeHeadroom + kOwnerReserve);
  int rc = pthread_attr_setstacksize(&attr, thread_stack);
  if (rc != 0) rc = ENOMEM;
  // Owner threads block every signal: a signal handler run on a sleeping
  // owner would share the TLS of the greenlet that is running elsewhere.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  std::vector<OwnerThread*> started;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    auto* owner = new OwnerThread();
    owner->stack_size = stack_size;
    rc = pthread_create(&owner->thread, &attr, OwnerMain, owner);
    if (rc == 0) {
      started.push_back(owner);
    } else {
      delete owner;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attr);
  for (OwnerThread* owner : started) {
    WaitFor(&owner->ready, 0);
    into->push_back(owner);
  }
  if (rc == EAGAIN && !StackReservable(thread_stack)) rc = ENOMEM;
  created_ += started.size();
  // All but the one about to be handed out count as idle.
  if (!started.empty()) idle_count_ += started.size() - 1;
  return rc == 0 ? 0 : -rc;
}

void OwnerPool::Recycle(OwnerThread* owner) {
  idle_[owner->stack_size].push_back(owner);
  idle_count_++;
}

void OwnerPool::End(OwnerThread* owner) {
  owner->release = true;
  Signal(&owner->wake_word);
  pthread_join(owner->thread, nullptr);
  delete owner;
}

void OwnerPool::Drain() {
  for (auto& entry : idle_) {
    for (OwnerThread* owner : entry.second) End(owner);
    entry.second.clear();
  }
  idle_count_ = 0;
}

void OwnerPool::Trim() {
  for (auto& entry : idle_) {
    while (idle_count_ > max_idle_ && !entry.second.empty()) {
      End(entry.second.back());
      entry.second.pop_back();
      idle_count_--;
    }
  }
}

}  // namespace greenloop
