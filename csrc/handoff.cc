#include "handoff.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>
#include <vector>

#include "futex.h"
#include "switch.h"
#include "v8_compat.h"

namespace greenloop {

namespace {

void LinkLive(Env* env, Greenlet* g) {
  g->live_next = env->live.live_next;
  g->live_prev = &env->live;
  env->live.live_next->live_prev = g;
  env->live.live_next = g;
  env->live_count++;
}

void UnlinkLive(Env* env, Greenlet* g) {
  g->live_prev->live_next = g->live_next;
  g->live_next->live_prev = g->live_prev;
  g->live_prev = g->live_next = nullptr;
  env->live_count--;
}

// The central-stack size V8 14 takes when `g` sets its own limit.
size_t OwnStackExtent(const Greenlet* g) { return g->owner->stack_high - g->owner->js_limit; }

// Gives V8 the stack limit of `g`'s owner (on V8 14+ that also sets the
// central-stack size: `env` notes it).
void SetOwnStackLimit(Env* env, Greenlet* g) {
  env->isolate->SetStackLimit(g->owner->js_limit);
  env->central_stack_extent = OwnStackExtent(g);
  g->clear(kLimitLowered);
}

// V8 14 (Node 26) keeps, per isolate and not per thread, the size of the
// thread's "central stack" (the one WebAssembly stack switching returns to):
// Isolate::SetStackLimit(limit) stores GetStackStart() - limit, where
// GetStackStart() is the calling thread's stack top (a thread_local read
// from pthread_getattr_np, so an owner's under either backend). Every throw
// then CHECKs that the stack pointer lies within [start - size - 40 KiB,
// start] (Isolate::Throw, IsOnCentralStack), and a miss aborts the process.
// ThreadManager's archive keeps each thread's StackGuard limit but not this
// size, so whoever ran last decides it for everyone. Measured on Node 26.12.1:
// after a greenlet of 64 KiB had run, the root's stack overflow, and even a
// plain `throw` 3,000 frames deep on the root, aborted with "Check failed:
// IsOnCentralStack()"; so did a 984 KiB greenlet overflowing after a smaller
// one had started.
//
// So each greenlet claims the size when it resumes: it calls SetStackLimit
// with its own limit (the same value V8 restored from the archive, unless it
// was lowered as below). The root's real limit is V8's or Node's (Workers set
// one) and cannot be read back, so a greenlet that hands control to the root
// leaves a size that covers the root's whole stack: it sets its own limit
// (archived with it, claimed back on its next resume) so far below its stack
// top that GetStackStart() - limit is the root thread's stack extent. The
// root's own limit is never touched. A hand-off between two greenlets needs
// neither call when the size already covers the one that resumes, which is
// the rule when they have the same stack size (a busy hub hands off from one
// ready greenlet to the next): each call takes V8's stack-guard lock, about
// 7% of a switch on Node 26. WebAssembly JSPI records the central stack once,
// on first use, so JSPI after greenlets have run is unsupported
// (docs/node-lines.md).
void ClaimCentralStack(Env* env, Greenlet* g) {
#if V8_MAJOR_VERSION >= 14
  if (g->owner == nullptr) return;
  if (!g->has(kLimitLowered) && env->central_stack_extent >= OwnStackExtent(g)) return;
  SetOwnStackLimit(env, g);
#else
  (void)env, (void)g;
#endif
}

// Called by a greenlet that hands control to the root.
void LeaveCentralStackToRoot(Env* env, Greenlet* g) {
#if V8_MAJOR_VERSION >= 14
  if (g->owner == nullptr) return;
  uintptr_t high = g->owner->stack_high;
  uintptr_t limit = high > env->root_stack_extent + 4096 ? high - env->root_stack_extent : 4096;
  env->isolate->SetStackLimit(limit);
  env->central_stack_extent = high - limit;
  g->set(kLimitLowered);
#else
  (void)env, (void)g;
#endif
}

void RunOnOwnerThread(Greenlet* g);

// Threads backend: lets the thread that runs `to` go on (or begin).
void WakeThreadOf(Greenlet* to) {
  if (to->has(kLaunched)) {
    Signal(&to->wake_word);
    return;
  }
  to->set(kLaunched);
  to->owner->job = {RunOnOwnerThread, to};
  Signal(&to->owner->wake_word);
}

// Moves control from `from` to `to`; returns when someone moves it back.
void Transfer(Env* env, Greenlet* from, Greenlet* to) {
#if defined(GREENLOOP_USERSPACE_SWITCH)
  if (env->backend == Backend::kUserSpace) {
    to->set(kLaunched);
    gl_swap(&from->saved_sp, to->saved_sp);
    return;
  }
#endif
  WakeThreadOf(to);
  WaitFor(&from->wake_word, env->spin_iterations);
  if (env->tearing_down && from != &env->root) {
    // The environment is gone: this thread's frames must not be unwound (they
    // hold an Unlocker of a disposed isolate). End the thread where it stands;
    // the kernel's exit wakes the pthread_join at teardown.
    syscall(SYS_exit, 0);
  }
}

// Runs a started greenlet's JS entry; returns the greenlet to resume next.
// Called on the greenlet's own stack, without the isolate's lock.
Greenlet* RunEntry(Greenlet* self) {
  auto* g = static_cast<JsGreenlet*>(self);
  Env* env = g->env;
  v8::Isolate* isolate = env->isolate;
  Greenlet* next = &env->root;
  if (g->owner->arena_cushion != nullptr) g->owner->FreeArenaCushion();
  {
    v8::Locker locker(isolate);
    v8::Isolate::Scope isolate_scope(isolate);
    // V8 would assume ~1 MB below the current stack pointer; give it the
    // owner's real bound so deep recursion throws RangeError.
    SetOwnStackLimit(env, g);
    v8::HandleScope handle_scope(isolate);
    v8::Local<v8::Context> context = env->context.Get(isolate);
    v8::Context::Scope context_scope(context);
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Value> arg = g->handle.Get(isolate);
    v8::Local<v8::Value> result;
    bool returned = env->entry.Get(isolate)->Call(context, v8::Undefined(isolate), 1, &arg).ToLocal(&result);
    if (env->unwinding) {
      // Teardown unwound it (UnwindParkedGreenlets): back to the root, which
      // unwinds the next one.
    } else if (returned && result->IsObject()) {
      v8::Local<v8::Object> obj = result.As<v8::Object>();
      if (obj->InternalFieldCount() == 1) {
        auto* target = static_cast<JsGreenlet*>(GetHandlePointer(obj));
        if (target != nullptr && target->env == env && !target->has(kFinished)) next = target;
      }
    } else if (!try_catch.HasCaught()) {
      // lib/greenlet.ts's entry always returns a greenlet handle.
      env->resume_fault = {ResumeFault::kEntryReturnedNoGreenlet, 0};
    } else if (try_catch.HasTerminated() || isolate->IsExecutionTerminating()) {
      env->terminate_after_resume = true;
    } else if (try_catch.HasCaught()) {
      env->rethrow_after_resume.Reset(isolate, try_catch.Exception());
    }
    if (!next->has(kStarted)) {
      int rc = PrepareStart(env, static_cast<JsGreenlet*>(next));
      if (rc < 0) {
        // The root resumes instead and sees the error (lib/greenlet.ts then
        // takes the root as current again).
        env->resume_fault = {ResumeFault::kParentStartFailed, rc};
        next = &env->root;
      }
    }
    if (next == &env->root) LeaveCentralStackToRoot(env, g);
  }  // ~Locker frees this thread's V8 state and unlocks the isolate
  g->set(kFinished);
  UnlinkLive(env, g);
  // Back to the pool before leaving: nothing else runs until the switch below,
  // and the pool never ends an owner here (we still stand on its stack).
  env->pool.Recycle(g->owner);
  g->owner = nullptr;
  env->current = next;
  env->switches++;
  return next;
}

// The job an owner thread runs under the threads backend (see WakeThreadOf).
void RunOnOwnerThread(Greenlet* g) {
  // This thread goes back to waiting for its next job in OwnerMain.
  WakeThreadOf(RunEntry(g));
}

}  // namespace

int PrepareStart(Env* env, JsGreenlet* g) {
  OwnerThread* owner = nullptr;
  int rc = env->pool.Acquire(env->backend == Backend::kThreads ? env->spin_iterations : 0, g->stack_size, &owner);
  if (rc < 0) return rc;
  env->backend_locked = true;
  g->owner = owner;
  g->set(kStarted);
  LinkLive(env, g);
  if (env->backend == Backend::kUserSpace) {
    g->saved_sp = PrepareFirstFrame(owner->stack_top, g, owner->fs_base);
  }
  return 0;
}

namespace {

// The V8 half of a switch, around Transfer: the greenlet that parks leaves
// the isolate and archives its thread state; when it is resumed, it restores
// that state and enters the isolate again.
struct IsolateHandOff {
  v8::Isolate* isolate = nullptr;
  int depth = 0;  // how many times the parking greenlet had entered the isolate
  alignas(v8::Unlocker) unsigned char unlocker[sizeof(v8::Unlocker)];
};

void LeaveIsolate(void* arg) {
  auto* h = static_cast<IsolateHandOff*>(arg);
  // Leave the isolate completely: V8 keeps one isolate-wide stack of entries,
  // which only stays consistent if a parked greenlet holds none of them.
  while (v8::Isolate::TryGetCurrent() == h->isolate) {
    h->isolate->Exit();
    h->depth++;
  }
  new (h->unlocker) v8::Unlocker(h->isolate);
}

void ReenterIsolate(void* arg) {
  auto* h = static_cast<IsolateHandOff*>(arg);
#if V8_MAJOR_VERSION < 12
  // Node 20 (V8 11.3): ~Unlocker restores this greenlet's debugger state,
  // which crashes unless the isolate is entered on this thread.
  h->isolate->Enter();
#endif
  reinterpret_cast<v8::Unlocker*>(h->unlocker)->~Unlocker();
#if V8_MAJOR_VERSION < 12
  // That early Enter wrote our thread id into the thread state V8 had not
  // archived yet (the greenlet that resumed us); the greenlet that lost it
  // repairs it here when it resumes: a fresh Enter rewrites the id from this
  // thread's own, and (V8 11.3) the stack start that the GC scans from.
  h->isolate->Exit();
#endif
  for (int i = 0; i < h->depth; i++) h->isolate->Enter();
}

// Runs one half of the hand-off. Under the user-space backend it runs on the
// environment's hand-off stack: V8's restore (its debugger walks the resumed
// stack, ~1-2 KiB of C++ frames) otherwise grows each parked greenlet's stack
// below its park point, into cache lines (and, the first time, a page) that
// are cold on every resume.
void RunHandOff(Env* env, void (*half)(void*), IsolateHandOff* h) {
#if defined(GREENLOOP_USERSPACE_SWITCH)
  if (env->backend == Backend::kUserSpace && env->handoff_stack_top != nullptr) {
    gl_call_on_stack(half, h, env->handoff_stack_top);
    return;
  }
#endif
  (void)env;
  half(h);
}

}  // namespace

// What V8's restore and archive take is a few KiB; a signal handler may run
// on it too. One guard page below.
constexpr size_t kHandOffStackBytes = 64 * 1024;

void MapHandOffStack(Env* env) {
#if defined(GREENLOOP_USERSPACE_SWITCH)
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* base =
      mmap(nullptr, kHandOffStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return;  // RunHandOff then stays on the greenlets' stacks
  if (mprotect(base, page, PROT_NONE) != 0) {
    munmap(base, kHandOffStackBytes + page);
    return;
  }
  env->handoff_stack_top = static_cast<char*>(base) + page + kHandOffStackBytes;
#else
  (void)env;
#endif
}

void UnmapHandOffStack(Env* env) {
  if (env->handoff_stack_top == nullptr) return;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  munmap(static_cast<char*>(env->handoff_stack_top) - kHandOffStackBytes - page, kHandOffStackBytes + page);
  env->handoff_stack_top = nullptr;
}

void SwitchTo(Env* env, Greenlet* from, Greenlet* to) {
  v8::Isolate* isolate = env->isolate;
#if V8_MAJOR_VERSION >= 12
  auto* parked = static_cast<JsGreenlet*>(from);
  {
    v8::HandleScope scope(isolate);
    v8::Local<v8::Data> data = GetContinuationData(isolate);
    if (!(data->IsValue() && data.As<v8::Value>()->IsUndefined())) parked->continuation_data.Reset(isolate, data);
  }
#endif
  if (from != &env->root && to == &env->root) LeaveCentralStackToRoot(env, from);
  IsolateHandOff h;
  h.isolate = isolate;
  RunHandOff(env, LeaveIsolate, &h);
  env->current = to;
  env->switches++;
  Transfer(env, from, to);
  RunHandOff(env, ReenterIsolate, &h);
  if (from != &env->root) ClaimCentralStack(env, from);
#if V8_MAJOR_VERSION >= 12
  {
    v8::HandleScope scope(isolate);
    if (parked->continuation_data.IsEmpty()) {
      SetContinuationData(isolate, v8::Undefined(isolate));
    } else {
      SetContinuationData(isolate, parked->continuation_data.Get(isolate));
      parked->continuation_data.Reset();
    }
  }
#endif
}

// A parked greenlet's V8 thread state (its handle blocks, ~8 KiB each, and
// the vectors that list them) is archived by V8's ThreadManager and freed only
// when that thread takes the isolate back and closes its handle scopes: ending
// its owner thread without that left ~6 KiB per parked greenlet behind each
// Worker (measured: 5.9 KiB user-space, 7.5 KiB threads, per parked greenlet).
// So each one is resumed once more, under TerminateExecution: V8 unwinds its JS
// frames without running any catch or finally block, its entry call returns,
// and ~Locker frees its thread state. V8 acts on a termination request only at
// a stack check in JS, so the resumed greenlet calls an empty JS function to
// make it happen before any of its own JS runs. Node's FreeEnvironment forbids
// calling into JS while cleanup hooks run; the calls here happen under
// AllowJavascriptExecutionScope and run nothing but that empty function.
void UnwindParkedGreenlets(Env* env) {
  v8::Isolate* isolate = env->isolate;
  if (env->current != &env->root || env->live.live_next == &env->live) return;
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = env->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  v8::Isolate::AllowJavascriptExecutionScope allow_js(isolate);
  bool was_terminating = isolate->IsExecutionTerminating();
  if (was_terminating) isolate->CancelTerminateExecution();
  {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> fn;
    if (v8::Script::Compile(context, v8::String::NewFromUtf8Literal(isolate, "(function () {})")).ToLocal(&script) &&
        script->Run(context).ToLocal(&fn) && fn->IsFunction()) {
      env->empty_function.Reset(isolate, fn.As<v8::Function>());
    }
  }
  if (!env->empty_function.IsEmpty()) {
    std::vector<Greenlet*> parked;
    for (Greenlet* g = env->live.live_next; g != &env->live; g = g->live_next) {
      if (g->has(kLaunched)) parked.push_back(g);  // one that never ran has nothing archived
    }
    env->unwinding = true;
    // Each returns here finished (RunEntry unlinks it); whatever did not is
    // left to EndParkedGreenlets.
    for (Greenlet* g : parked) SwitchTo(env, &env->root, g);
    env->unwinding = false;
    env->empty_function.Reset();
  }
  if (was_terminating) isolate->TerminateExecution();
}

void TerminateResumedGreenlet(Env* env) {
  v8::Isolate* isolate = env->isolate;
  isolate->TerminateExecution();
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = env->context.Get(isolate);
  v8::MaybeLocal<v8::Value> terminated =
      env->empty_function.Get(isolate)->Call(context, v8::Undefined(isolate), 0, nullptr);
  (void)terminated;
}

void EndParkedGreenlets(Env* env) {
  env->tearing_down = true;
  while (env->live.live_next != &env->live) {
    Greenlet* g = env->live.live_next;
    UnlinkLive(env, g);
    OwnerThread* owner = g->owner;
    g->owner = nullptr;
    g->set(kFinished);
    if (owner == nullptr) continue;
    if (env->backend == Backend::kThreads && g->has(kLaunched)) {
      // Its thread sleeps inside Transfer; waking it ends it (see Transfer).
      Signal(&g->wake_word);
      pthread_join(owner->thread, nullptr);
      delete owner;
    } else {
      // Its V8 state stays archived: V8 forgets it with the isolate.
      owner->exit_hook = {};
      OwnerPool::End(owner);
    }
  }
  env->pool.Drain();
}

}  // namespace greenloop

#if defined(GREENLOOP_USERSPACE_SWITCH)
extern "C" void gl_greenlet_main(greenloop::Greenlet* g) {
  using namespace greenloop;
  Greenlet* next = RunEntry(g);
  next->set(kLaunched);
  void* discarded;
  gl_swap(&discarded, next->saved_sp);
  __builtin_unreachable();
}
#endif  // GREENLOOP_USERSPACE_SWITCH
