// The only file that faces JS: JS_* entry points, module init, teardown.
//
// The surface is deliberately small: lib/greenlet.ts implements the greenlet
// semantics (values, exceptions, parents, tracing) and uses these calls to
// create greenlets and to move control between them.
//
// The addon uses V8's API directly rather than N-API: a switch parks the
// current JS stack in the middle of a native call, which N-API's callback
// bookkeeping (balanced scopes per call) does not allow for.
#include <malloc.h>
#include <node.h>
#include <sched.h>
#include <string.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "env.h"
#include "handoff.h"
#include "switch.h"
#include "v8_compat.h"
#include "watchdog.h"

namespace greenloop {

namespace {

std::mutex registry_mutex;
std::unordered_map<v8::Isolate*, Env*> registry;  // one Env per thread/isolate

constexpr size_t kDefaultStackSize = 984 * 1024;  // V8's own default on x64
constexpr size_t kMinStackSize = 64 * 1024;
// Threads backend: how long a switching thread polls before it sleeps (see
// WaitFor): 200 pause-loops (~2.6 us here), then up to 200 sched_yield()s.
constexpr int kSpinIterations = 200;

Env* EnvOf(const v8::FunctionCallbackInfo<v8::Value>& info) { return static_cast<Env*>(ExternalValue(info.Data())); }

v8::Local<v8::String> Str(v8::Isolate* isolate, const std::string& s) {
  return v8::String::NewFromUtf8(isolate, s.c_str()).ToLocalChecked();
}

// A GreenletError (the class lib/errors.ts handed in; a plain Error before
// that, or if constructing one fails) with `message`.
// `object[key] = value`, for the plain result objects the bindings return.
void SetNumber(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> object, const char* key,
               double value) {
  object->Set(context, Str(isolate, key), v8::Number::New(isolate, value)).Check();
}

// The stack size argument of the calls lib/ has already checked it for: the
// default when it is not given.
size_t StackSizeArg(v8::Local<v8::Value> value) {
  return value->IsNumber() ? static_cast<size_t>(value.As<v8::Number>()->Value()) : kDefaultStackSize;
}

v8::Local<v8::Value> NewGreenletError(Env* env, v8::Local<v8::Context> context, const std::string& message) {
  v8::Isolate* isolate = env->isolate;
  v8::Local<v8::String> text = Str(isolate, message);
  v8::Local<v8::Value> arg = text;
  v8::Local<v8::Value> error;
  if (env->error_class.IsEmpty() || !env->error_class.Get(isolate)->NewInstance(context, 1, &arg).ToLocal(&error)) {
    error = v8::Exception::Error(text);
  }
  return error;
}

// Throws a GreenletError; a nonzero `err` (a negative errno) becomes its `errno`.
void ThrowGreenletError(Env* env, const std::string& message, int err = 0) {
  v8::Isolate* isolate = env->isolate;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> error = NewGreenletError(env, context, message);
  if (err != 0 && error->IsObject()) {
    error.As<v8::Object>()->Set(context, Str(isolate, "errno"), v8::Integer::New(isolate, err)).Check();
  }
  isolate->ThrowException(error);
}

void ThrowTypeError(Env* env, const std::string& message) {
  env->isolate->ThrowException(v8::Exception::TypeError(Str(env->isolate, message)));
}

// Throws what a greenlet that finished abnormally left for this one (see
// SwitchTo in handoff.h); a fault the core detected wins over the JS exception.
void ThrowLeftForResume(Env* env) {
  v8::Isolate* isolate = env->isolate;
  ResumeFault fault = env->resume_fault;
  env->resume_fault = {};
  switch (fault.kind) {
    case ResumeFault::kNone: break;
    case ResumeFault::kEntryReturnedNoGreenlet:
      env->rethrow_after_resume.Reset();
      isolate->ThrowException(v8::Exception::Error(
          Str(isolate, "greenloop internal error: a greenlet's entry returned no greenlet to resume")));
      return;
    case ResumeFault::kParentStartFailed:
      env->rethrow_after_resume.Reset();
      ThrowGreenletError(
          env, std::string("cannot start the parent greenlet of a finished greenlet: ") + strerror(-fault.err));
      return;
  }
  if (!env->rethrow_after_resume.IsEmpty()) {
    v8::Local<v8::Value> error = env->rethrow_after_resume.Get(isolate);
    env->rethrow_after_resume.Reset();
    isolate->ThrowException(error);
  }
}

JsGreenlet* Unwrap(v8::Local<v8::Value> value) {
  if (!value->IsObject()) return nullptr;
  v8::Local<v8::Object> obj = value.As<v8::Object>();
  if (obj->InternalFieldCount() != 1) return nullptr;
  return static_cast<JsGreenlet*>(GetHandlePointer(obj));
}

// The size of the calling thread's stack mapping, as pthread reports it (for
// the main thread: up to RLIMIT_STACK). See ClaimCentralStack in handoff.cc.
size_t StackExtentOfThisThread() {
  constexpr size_t kFallback = 64u << 20;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return kFallback;
  void* addr = nullptr;
  size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  return rc == 0 && size > 0 ? size : kFallback;
}

const char* BackendName(Backend b) { return b == Backend::kUserSpace ? "user-space" : "threads"; }

std::string ErrnoName(int err) {
  switch (err) {
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    default: return "errno " + std::to_string(err);
  }
}

// Why a greenlet could not start: its stack could not be mapped, or the
// kernel refused another thread.
std::string StartFailure(int err, size_t stack_size) {
  std::string reason = std::string(strerror(err)) + " (" + ErrnoName(err) + ")";
  if (err == ENOMEM) {
    return "cannot start a greenlet: its stack of " + std::to_string(stack_size + kNativeHeadroom) +
           " bytes (stackSize " + std::to_string(stack_size) + " plus " + std::to_string(kNativeHeadroom / 1024) +
           " KiB for native code) could not be reserved (mmap: " + reason +
           "). Use a smaller stackSize, or allow more virtual memory (ulimit -v, vm.overcommit_memory)";
  }
  return "cannot start a greenlet: creating its thread failed: " + reason +
         ". Each greenlet that has started and not finished holds a thread: raise the limits (ulimit -u, "
         "kernel.threads-max, kernel.pid_max, vm.max_map_count) or finish greenlets sooner";
}

void OnHandleCollected(const v8::WeakCallbackInfo<JsGreenlet>& info) {
  JsGreenlet* g = info.GetParameter();
  g->handle.Reset();
  if (g->parked_or_running()) {
    // Its owner thread holds its stack until teardown ends it.
    g->set(kOrphaned);
    return;
  }
  g->env->UntrackObject(g);
  delete g;
}

// init(entry, GreenletError) -> { root, backend, userSpaceAvailable }
void JS_init(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::Isolate* isolate = env->isolate;
  if (!info[0]->IsFunction() || !info[1]->IsFunction()) {
    return ThrowTypeError(env, "init(entry, errorClass) expects two functions");
  }
  if (!env->entry.IsEmpty()) {
    return ThrowGreenletError(env,
                              "greenloop's native core is already initialized in this thread "
                              "(is a second copy of the greenloop package loaded?)");
  }
  env->entry.Reset(isolate, info[0].As<v8::Function>());
  env->error_class.Reset(isolate, info[1].As<v8::Function>());

  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> root;
  if (!env->handle_template.Get(isolate)->NewInstance(context).ToLocal(&root)) return;
  SetHandlePointer(root, &env->root);
  env->root.handle.Reset(isolate, root);

  v8::Local<v8::Object> result = v8::Object::New(isolate);
  result->Set(context, Str(isolate, "root"), root).Check();
  result->Set(context, Str(isolate, "backend"), Str(isolate, BackendName(env->backend))).Check();
  result->Set(context, Str(isolate, "userSpaceAvailable"), v8::Boolean::New(isolate, UserSpaceSwitchAvailable()))
      .Check();
  info.GetReturnValue().Set(result);
}

// setBackend('user-space' | 'threads'): only before the first greenlet starts.
void JS_setBackend(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::String::Utf8Value name(env->isolate, info[0]);
  std::string wanted = *name ? *name : "";
  Backend backend;
  if (wanted == "threads") {
    backend = Backend::kThreads;
  } else if (wanted == "user-space") {
    if (!UserSpaceSwitchAvailable()) {
      return ThrowGreenletError(env, "the user-space backend needs x86-64 Linux with FSGSBASE; use 'threads'");
    }
    backend = Backend::kUserSpace;
  } else {
    return ThrowTypeError(env, "backend must be 'user-space' or 'threads', got '" + wanted + "'");
  }
  if (env->backend_locked && backend != env->backend) {
    return ThrowGreenletError(env, "the switching backend cannot change after the first greenlet has started");
  }
  env->backend = backend;
}

// create(stackSize) -> handle
void JS_create(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::Isolate* isolate = env->isolate;
  size_t stack_size = kDefaultStackSize;
  if (info[0]->IsNumber()) {
    double requested = info[0].As<v8::Number>()->Value();
    if (!(requested >= kMinStackSize) || requested > (1ull << 40)) {
      return ThrowTypeError(env, "stackSize must be a number of bytes from 65536 up, got " + std::to_string(requested));
    }
    stack_size = static_cast<size_t>(requested);
  }
  v8::Local<v8::Object> handle;
  if (!env->handle_template.Get(isolate)->NewInstance(isolate->GetCurrentContext()).ToLocal(&handle)) {
    return;
  }
  auto* g = new JsGreenlet();
  g->env = env;
  g->stack_size = stack_size;
  SetHandlePointer(handle, g);
  g->handle.Reset(isolate, handle);
  g->handle.SetWeak(g, OnHandleCollected, v8::WeakCallbackType::kParameter);
  env->TrackObject(g);
  info.GetReturnValue().Set(handle);
}

// Whether the pool starts its factory's thread to end surplus owners instead
// of ending them on the isolate's thread (20-30 µs each: waking and finishing
// 10,000 parked greenlets took the loop 95 µs each before, 39 µs with it, in
// bench/spawn.js). Not under the threads backend: there a third busy thread
// beside the two of every switch made the same release 4x slower (105 -> 470
// µs per greenlet), so it keeps ending them as before: itself, or past a
// short backlog when spares started that thread anyway.
bool EndSurplusOffLoop(Env* env) { return env->backend == Backend::kUserSpace; }

// switchTo(handle): parks the current greenlet and runs the target.
void JS_switchTo(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::Isolate* isolate = env->isolate;
  JsGreenlet* to = Unwrap(info[0]);
  if (to == nullptr) return ThrowTypeError(env, "switchTo expects a greenlet handle");
  if (to->env != env) return ThrowGreenletError(env, "cannot switch to a greenlet of another thread");
  if (env->tearing_down) return ThrowGreenletError(env, "this thread's greenlets are being torn down");
  if (env->unwinding) return TerminateResumedGreenlet(env);
  Greenlet* from = env->current;
  if (to == from) return;
  if (to->has(kFinished)) return ThrowGreenletError(env, "cannot switch to a dead greenlet");
  if (!to->has(kStarted)) {
    int rc = PrepareStart(env, to);
    if (rc < 0) return ThrowGreenletError(env, StartFailure(-rc, to->stack_size), rc);
  }

  SwitchTo(env, from, to);
  if (env->unwinding) return TerminateResumedGreenlet(env);

  // Back in `from`. Only here, on a stack no pooled owner serves, may the pool
  // end surplus threads.
  env->pool.Trim(EndSurplusOffLoop(env));
  if (env->terminate_after_resume) {
    env->terminate_after_resume = false;
    isolate->TerminateExecution();
    return;
  }
  ThrowLeftForResume(env);
}

// mallocInUse() -> bytes the C allocator has handed out and not had back,
// every arena and mapping (glibc's mallinfo2), or -1 where it cannot tell:
// what leak tests measure, where RSS also moves with V8's heap and the
// allocator's caches.
void JS_mallocInUse(const v8::FunctionCallbackInfo<v8::Value>& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  struct mallinfo2 mi = mallinfo2();
  info.GetReturnValue().Set(static_cast<double>(mi.uordblks + mi.hblkhd));
#else
  info.GetReturnValue().Set(-1);
#endif
}

// contextFrame() -> the isolate's continuation-preserved embedder data (the
// AsyncContextFrame that AsyncLocalStorage reads on Node 24+, and on 22 with
// --experimental-async-context-frame), undefined where V8 has none;
// setContextFrame(value) makes it the running greenlet's (the switch saves and
// restores it per greenlet). lib/hub/context.ts uses them to run work that a
// callback handed over (an HTTP request) in that callback's frame.
void JS_contextFrame(const v8::FunctionCallbackInfo<v8::Value>& info) {
#if V8_MAJOR_VERSION >= 12
  v8::Local<v8::Data> data = GetContinuationData(info.GetIsolate());
  if (!data.IsEmpty() && data->IsValue()) info.GetReturnValue().Set(data.As<v8::Value>());
#else
  (void)info;
#endif
}

void JS_setContextFrame(const v8::FunctionCallbackInfo<v8::Value>& info) {
#if V8_MAJOR_VERSION >= 12
  SetContinuationData(info.GetIsolate(), info[0]);
#else
  (void)info;
#endif
}

// releaseStack(handle) -> bytes: gives back the stack pages below where the
// greenlet is parked (user-space backend; 0 when there is nothing to give:
// another backend, the root, the running greenlet, or one not started or
// finished). When to do it is lib/'s choice (lib/hub/hub.ts, releaseStacksAfter).
void JS_releaseStack(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  JsGreenlet* g = Unwrap(info[0]);
  if (g == nullptr) return ThrowTypeError(env, "releaseStack expects a greenlet handle");
  long released = 0;
  if (env->backend == Backend::kUserSpace && g->env == env && g != env->current && g->parked_or_running() &&
      g->owner != nullptr) {
    released = g->owner->ReleaseBelow(reinterpret_cast<uintptr_t>(g->saved_sp));
    if (released < 0) return ThrowGreenletError(env, "releasing a parked stack failed: " + ErrnoName(-released));
  }
  info.GetReturnValue().Set(static_cast<double>(released));
}

// setPoolSize(n): the most idle owner threads kept (lib/greenlet.ts's
// configure({ poolSize }) checks n first).
void JS_setPoolSize(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  if (!info[0]->IsNumber() || !(info[0].As<v8::Number>()->Value() >= 0)) {
    return ThrowTypeError(env, "poolSize must be a number >= 0");
  }
  env->pool.set_max_idle(static_cast<size_t>(info[0].As<v8::Number>()->Value()));
  if (env->current == &env->root) env->pool.Trim(EndSurplusOffLoop(env));
}

// setSpareThreads(stackSize, total, keep): has the pool's factory thread start
// owner threads for greenlets of stackSize bytes of stack, ahead of demand,
// until `total` (idle ones of that size and spares together) are there, and
// from then on keep `keep` spares ready as greenlets take them. lib/ checks
// the numbers and decides them.
void JS_setSpareThreads(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  size_t stack_size = StackSizeArg(info[0]);
  if (!info[1]->IsNumber() || !info[2]->IsNumber()) return ThrowTypeError(env, "setSpareThreads expects numbers");
  size_t total = static_cast<size_t>(std::max(0.0, info[1].As<v8::Number>()->Value()));
  size_t keep = static_cast<size_t>(std::max(0.0, info[2].As<v8::Number>()->Value()));
  size_t have = env->pool.idle(stack_size) + env->pool.spares(stack_size);
  int rc = env->pool.SetSpares(stack_size, total > have ? total - have : 0, keep);
  if (rc < 0) return ThrowGreenletError(env, "cannot start the thread that makes owner threads: " + ErrnoName(-rc), rc);
}

// preparedThreads(stackSize) -> { making, ready }: whether the factory thread
// is still making the spares the last setSpareThreads asked for, and how many
// threads for greenlets of stackSize are there (idle ones and spares).
void JS_preparedThreads(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::Isolate* isolate = env->isolate;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  size_t stack_size = StackSizeArg(info[0]);
  v8::Local<v8::Object> result = v8::Object::New(isolate);
  result->Set(context, Str(isolate, "making"), v8::Boolean::New(isolate, env->pool.making_spares(stack_size))).Check();
  SetNumber(isolate, context, result, "ready",
            static_cast<double>(env->pool.idle(stack_size) + env->pool.spares(stack_size)));
  info.GetReturnValue().Set(result);
}

// futexHash() -> { slots, growths, growthsOnMainThread }: what the process's
// futex hash was sized to and how often, and how often by the main thread,
// whose event loop each growth would stall (see FutexHashSlots; tests).
void JS_futexHash(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  FutexHashGrowths growths;
  const size_t slots = FutexHashSlots(&growths);
  v8::Local<v8::Object> result = v8::Object::New(isolate);
  SetNumber(isolate, context, result, "slots", static_cast<double>(slots));
  SetNumber(isolate, context, result, "growths", static_cast<double>(growths.made));
  SetNumber(isolate, context, result, "growthsOnMainThread", static_cast<double>(growths.on_main_thread));
  info.GetReturnValue().Set(result);
}

// stats() -> { backend, switches, live, idleThreads, spareThreads, threadsCreated, threadsEndedOnLoop, poolSize }
void JS_stats(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Env* env = EnvOf(info);
  v8::Isolate* isolate = env->isolate;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> result = v8::Object::New(isolate);
  auto set = [&](const char* key, double value) { SetNumber(isolate, context, result, key, value); };
  result->Set(context, Str(isolate, "backend"), Str(isolate, BackendName(env->backend))).Check();
  set("switches", static_cast<double>(env->switches));
  set("live", static_cast<double>(env->live_count));
  set("idleThreads", static_cast<double>(env->pool.idle()));
  set("spareThreads", static_cast<double>(env->pool.spares()));
  set("threadsCreated", static_cast<double>(env->pool.created()));
  set("threadsEndedOnLoop", static_cast<double>(env->pool.ended_here()));
  set("poolSize", static_cast<double>(env->pool.max_idle()));
  info.GetReturnValue().Set(result);
}

// An owner thread that ends, on its own thread: V8 keeps a record for every
// thread identity that ever entered the isolate (about 80 bytes, in a table
// that only the isolate's disposal empties), and each owner is a new one, so
// a pool that makes and ends threads would grow it without bound.
void ForgetThreadIdentity(void* isolate) { static_cast<v8::Isolate*>(isolate)->DiscardThreadSpecificMetadata(); }

void Cleanup(void* arg) {
  auto* env = static_cast<Env*>(arg);
  UnwindParkedGreenlets(env);
  EndParkedGreenlets(env);
  while (env->objects.object_next != &env->objects) {
    JsGreenlet* g = env->objects.object_next;
    env->UntrackObject(g);
    g->handle.Reset();
    delete g;
  }
  env->root.handle.Reset();
  env->entry.Reset();
  env->error_class.Reset();
  env->handle_template.Reset();
  env->context.Reset();
  env->rethrow_after_resume.Reset();
  UnmapHandOffStack(env);
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(env->isolate);
  }
  delete env;
}

void SetMethod(Env* env, v8::Local<v8::Object> exports, const char* name, v8::FunctionCallback fn) {
  v8::Isolate* isolate = env->isolate;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::FunctionTemplate> tmpl = v8::FunctionTemplate::New(isolate, fn, NewExternal(isolate, env));
  exports->Set(context, Str(isolate, name), tmpl->GetFunction(context).ToLocalChecked()).Check();
}

}  // namespace

void Initialize(v8::Local<v8::Object> exports, v8::Local<v8::Context> context) {
  // Context::GetIsolate is gone in V8 14; module init runs in its isolate.
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (!v8::Locker::IsLocked(isolate)) {
    isolate->ThrowException(
        v8::Exception::Error(Str(isolate,
                                 "greenloop needs an isolate that runs under a v8::Locker (as Node's main thread and "
                                 "Workers do)")));
    return;
  }
  // V8's WebAssembly code GC aborts the process ("archived threads in
  // combination with wasm not supported") when it runs while any thread state
  // is archived, which is what a parked greenlet is. Dead wasm code is kept
  // instead; undici (llhttp) and Node's fetch compile wasm.
  v8::V8::SetFlagsFromString("--no-wasm-code-gc");
  Env* env;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto it = registry.find(isolate);
    if (it != registry.end()) {
      env = it->second;
    } else {
      env = new Env();
      registry[isolate] = env;
    }
  }
  if (env->isolate == nullptr) {
    env->isolate = isolate;
    env->context.Reset(isolate, context);
    env->root.env = env;
    env->root.set(kRoot);
    env->root.set(kStarted);
    env->root.set(kLaunched);
    env->live.live_next = env->live.live_prev = &env->live;
    env->objects.object_next = env->objects.object_prev = &env->objects;
    env->current = &env->root;
    env->backend = UserSpaceSwitchAvailable() ? Backend::kUserSpace : Backend::kThreads;
    env->root_stack_extent = StackExtentOfThisThread();
    MapHandOffStack(env);
    // Spinning only helps when the thread being waited for can run meanwhile.
    cpu_set_t allowed;
    int cpus = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
    env->spin_iterations = cpus > 1 ? kSpinIterations : 0;
    v8::Local<v8::ObjectTemplate> tmpl = v8::ObjectTemplate::New(isolate);
    tmpl->SetInternalFieldCount(1);
    env->handle_template.Reset(isolate, tmpl);
    env->pool.set_exit_hook({ForgetThreadIdentity, isolate});
    node::AddEnvironmentCleanupHook(isolate, Cleanup, env);
  }

  SetMethod(env, exports, "init", JS_init);
  SetMethod(env, exports, "setBackend", JS_setBackend);
  SetMethod(env, exports, "create", JS_create);
  SetMethod(env, exports, "switchTo", JS_switchTo);
  SetMethod(env, exports, "setPoolSize", JS_setPoolSize);
  SetMethod(env, exports, "setSpareThreads", JS_setSpareThreads);
  SetMethod(env, exports, "preparedThreads", JS_preparedThreads);
  SetMethod(env, exports, "futexHash", JS_futexHash);
  SetMethod(env, exports, "stats", JS_stats);
  SetMethod(env, exports, "releaseStack", JS_releaseStack);
  SetMethod(env, exports, "mallocInUse", JS_mallocInUse);
  SetMethod(env, exports, "contextFrame", JS_contextFrame);
  SetMethod(env, exports, "setContextFrame", JS_setContextFrame);
  InitWatchdog(isolate, exports, context);
}

}  // namespace greenloop

NODE_MODULE_INIT(/* exports, module, context */) {
  (void)module;
  greenloop::Initialize(exports, context);
}
