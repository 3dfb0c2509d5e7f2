#include "owner_thread.h"

#include <errno.h>
#include <signal.h>
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

size_t PageRound(size_t n) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

struct Startup {
  OwnerThread* owner;
  std::atomic<uint32_t> ready{0};
};

void* OwnerMain(void* arg) {
  auto* startup = static_cast<Startup*>(arg);
  OwnerThread* owner = startup->owner;

  pthread_attr_t attr;
  void* stack_addr = nullptr;
  size_t stack_len = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &stack_addr, &stack_len);
    pthread_attr_destroy(&attr);
  }
  owner->fs_base = ReadFsBase();
  owner->stack_low = reinterpret_cast<uintptr_t>(stack_addr);
  uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  owner->stack_top = (here - kOwnerReserve) & ~static_cast<uintptr_t>(15);
  // glibc may hand out a larger cached stack than asked for: JS gets the size
  // that was asked for, and never less than the headroom native code needs.
  owner->js_limit = std::max(owner->stack_low + kNativeHeadroom, owner->stack_top - owner->stack_size);
  Signal(&startup->ready);  // `startup` lives on the creator's stack: no use after this

  for (;;) {
    WaitFor(&owner->wake_word, 0);
    if (owner->release) break;
    if (owner->backend == Backend::kThreads && owner->job != nullptr) {
      Greenlet* g = owner->job;
      owner->job = nullptr;
      RunGreenletOnOwnerThread(g);
    }
  }
  return nullptr;
}

}  // namespace

int OwnerPool::Acquire(Backend backend, size_t stack_size, OwnerThread** out) {
  auto it = idle_.find(stack_size);
  if (it != idle_.end() && !it->second.empty()) {
    OwnerThread* owner = it->second.back();
    it->second.pop_back();
    idle_count_--;
    owner->backend = backend;
    *out = owner;
    return 0;
  }

  auto* owner = new OwnerThread();
  owner->backend = backend;
  owner->stack_size = stack_size;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int rc = pthread_attr_setstacksize(&attr, PageRound(stack_size + kNativeHeadroom + kOwnerReserve));
  if (rc != 0) {
    pthread_attr_destroy(&attr);
    delete owner;
    return -rc;
  }
  // Owner threads block every signal: a signal handler run on a sleeping
  // owner would share the TLS of the greenlet that is running elsewhere.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  Startup startup{owner};
  rc = pthread_create(&owner->thread, &attr, OwnerMain, &startup);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete owner;
    return -rc;
  }
  WaitFor(&startup.ready, 0);
  created_++;
  *out = owner;
  return 0;
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
