// See watchdog.h. JS calls watchdogConfigure(callback, thresholdMs, intervalUs):
//   - thresholdMs > 0: the loop ticks a heartbeat (a uv_timer every
//     threshold/4, and a uv_prepare/uv_check pair every iteration); when no
//     tick has come for thresholdMs, the thread requests an interrupt once per
//     block, and the callback gets (0, frames, blockedMs);
//   - intervalUs > 0: the thread requests an interrupt every intervalUs while
//     the previous one has been served, and the callback gets (1, frames, 0);
//   - both 0: the thread ends and the handles close.
// frames is a flat array, five entries per frame from the innermost:
// function name, script name, line, column, script id.
#include "watchdog.h"

#include <node.h>
#include <time.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "v8_compat.h"

namespace greenloop {

namespace {

constexpr int kFramesPerSample = 64;
constexpr int kReasonBlock = 0;
constexpr int kReasonSample = 1;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Watchdog;

// The loop's heartbeat handles. Each start makes a new set: a closed set
// stays allocated until the loop has run its close callbacks.
struct Heartbeat {
  Watchdog* watchdog;
  uv_timer_t timer;
  uv_prepare_t prepare;
  uv_check_t check;
  int open = 3;
};

struct Watchdog {
  v8::Isolate* isolate = nullptr;
  uv_loop_t* loop = nullptr;
  v8::Global<v8::Context> context;
  v8::Global<v8::Function> callback;

  Heartbeat* heartbeat = nullptr;  // touched on the loop's thread only
  // On the isolate's thread: the callback is running, and a block report that
  // came meanwhile waits for it to return.
  bool in_callback = false;
  int64_t deferred_block_ns = -1;

  // Shared with the watchdog thread.
  std::atomic<int64_t> last_tick_ns{0};
  std::atomic<uint64_t> ticks{0};
  std::atomic<bool> sample_pending{false};
  std::atomic<int64_t> sample_requested_ns{0};

  std::mutex mutex;  // guards the settings below and `stopping`
  std::condition_variable wake;
  int64_t threshold_ns = 0;
  int64_t interval_ns = 0;
  bool stopping = false;
  std::thread thread;
};

struct InterruptRequest {
  Watchdog* watchdog;
  int reason;
  int64_t blocked_ns;
};

void Tick(Watchdog* w) {
  w->last_tick_ns.store(NowNs(), std::memory_order_relaxed);
  w->ticks.fetch_add(1, std::memory_order_relaxed);
}

void OnTimer(uv_timer_t* t) { Tick(static_cast<Heartbeat*>(t->data)->watchdog); }
void OnPrepare(uv_prepare_t* p) { Tick(static_cast<Heartbeat*>(p->data)->watchdog); }
void OnCheck(uv_check_t* c) { Tick(static_cast<Heartbeat*>(c->data)->watchdog); }

void OnHeartbeatClosed(uv_handle_t* handle) {
  Heartbeat* h = static_cast<Heartbeat*>(handle->data);
  if (--h->open == 0) delete h;
}

void Request(Watchdog* w, int reason, int64_t blocked_ns);

// Runs on the isolate's thread, at a point where JS may run, inside whichever
// greenlet holds the isolate.
void OnInterrupt(v8::Isolate* isolate, void* data) {
  InterruptRequest request = *static_cast<InterruptRequest*>(data);
  delete static_cast<InterruptRequest*>(data);
  Watchdog* w = request.watchdog;
  if (request.reason == kReasonSample) w->sample_pending.store(false, std::memory_order_relaxed);
  if (w->callback.IsEmpty()) return;
  // Another interrupt can be served inside the callback (at its first function
  // entry) and would see the callback's own frames: a sample is dropped, a
  // block report is asked for again once the callback has returned.
  if (w->in_callback) {
    if (request.reason == kReasonBlock) w->deferred_block_ns = request.blocked_ns;
    return;
  }
  // A Worker being terminated: every JS operation from here on fails, and
  // there is no one left to report to.
  if (isolate->IsExecutionTerminating()) return;
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = w->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  v8::Local<v8::StackTrace> trace = v8::StackTrace::CurrentStackTrace(isolate, kFramesPerSample);
  int count = trace->GetFrameCount();
  v8::Local<v8::Array> frames = v8::Array::New(isolate, count * 5);
  for (int i = 0; i < count; i++) {
    v8::Local<v8::StackFrame> frame = trace->GetFrame(isolate, i);
    v8::Local<v8::Value> name = frame->GetFunctionName();
    v8::Local<v8::Value> script = frame->GetScriptName();
    v8::Local<v8::Value> fields[] = {
        name.IsEmpty() ? v8::String::Empty(isolate).As<v8::Value>() : name,
        script.IsEmpty() ? v8::String::Empty(isolate).As<v8::Value>() : script,
        v8::Integer::New(isolate, frame->GetLineNumber()),
        v8::Integer::New(isolate, frame->GetColumn()),
        v8::Integer::New(isolate, frame->GetScriptId()),
    };
    // A Set fails only once execution is terminating (a termination that
    // arrived meanwhile): the sample is dropped.
    for (int f = 0; f < 5; f++) {
      if (frames->Set(context, i * 5 + f, fields[f]).IsNothing()) return;
    }
  }
  v8::Local<v8::Value> argv[] = {
      v8::Integer::New(isolate, request.reason),
      frames,
      v8::Number::New(isolate, static_cast<double>(request.blocked_ns) / 1e6),
  };
  bool terminated = false;
  {
    v8::TryCatch try_catch(isolate);
    w->in_callback = true;
    // An error the callback throws is dropped: JS catches its own (lib/debug/watchdog.ts).
    v8::MaybeLocal<v8::Value> result = w->callback.Get(isolate)->Call(context, v8::Undefined(isolate), 3, argv);
    w->in_callback = false;
    terminated = result.IsEmpty() && try_catch.HasTerminated();
    if (result.IsEmpty() && !terminated) try_catch.Reset();
  }
  if (terminated) {
    // A termination (Worker#terminate()) that arrived inside the callback was
    // caught here, and an interrupt has no API boundary where V8 would throw
    // it again: the JS this interrupt stopped would run on, and a Worker
    // blocked in a loop would never end. Asked for again, it ends at the
    // loop's next stack check.
    isolate->TerminateExecution();
    return;
  }
  if (w->deferred_block_ns >= 0) {
    Request(w, kReasonBlock, w->deferred_block_ns);
    w->deferred_block_ns = -1;
  }
}

void Request(Watchdog* w, int reason, int64_t blocked_ns) {
  w->isolate->RequestInterrupt(OnInterrupt, new InterruptRequest{w, reason, blocked_ns});
}

void RunThread(Watchdog* w) {
  uint64_t reported_ticks = ~uint64_t{0};
  std::unique_lock<std::mutex> lock(w->mutex);
  while (!w->stopping) {
    int64_t threshold = w->threshold_ns;
    int64_t interval = w->interval_ns;
    int64_t period = interval > 0 ? interval : threshold / 4;
    if (threshold > 0 && threshold / 4 < period) period = threshold / 4;
    if (period < 50000) period = 50000;
    w->wake.wait_for(lock, std::chrono::nanoseconds(period));
    if (w->stopping) break;
    int64_t now = NowNs();
    if (w->threshold_ns > 0) {
      uint64_t ticks = w->ticks.load(std::memory_order_relaxed);
      int64_t since = now - w->last_tick_ns.load(std::memory_order_relaxed);
      if (since >= w->threshold_ns && ticks != reported_ticks) {
        reported_ticks = ticks;  // once per block: the next report needs a tick first
        Request(w, kReasonBlock, since);
      }
    }
    if (w->interval_ns > 0) {
      // An interrupt requested while a switch had the isolate unlocked can wait
      // for the next request: ask again if it has not been served for a while.
      bool stale = now - w->sample_requested_ns.load(std::memory_order_relaxed) > 50 * w->interval_ns;
      if (!w->sample_pending.exchange(true) || stale) {
        w->sample_requested_ns.store(now, std::memory_order_relaxed);
        Request(w, kReasonSample, 0);
      }
    }
  }
}

void StopThread(Watchdog* w) {
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->stopping = true;
  }
  w->wake.notify_all();
  if (w->thread.joinable()) w->thread.join();
  w->stopping = false;
}

void CloseHandles(Watchdog* w) {
  Heartbeat* h = w->heartbeat;
  if (h == nullptr) return;
  w->heartbeat = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&h->timer), OnHeartbeatClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->prepare), OnHeartbeatClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->check), OnHeartbeatClosed);
}

void OpenHandles(Watchdog* w, int64_t threshold_ns) {
  Heartbeat* h = w->heartbeat;
  if (h == nullptr) {
    h = w->heartbeat = new Heartbeat();
    h->watchdog = w;
    uv_timer_init(w->loop, &h->timer);
    uv_prepare_init(w->loop, &h->prepare);
    uv_check_init(w->loop, &h->check);
    h->timer.data = h->prepare.data = h->check.data = h;
    uv_unref(reinterpret_cast<uv_handle_t*>(&h->timer));
    uv_unref(reinterpret_cast<uv_handle_t*>(&h->prepare));
    uv_unref(reinterpret_cast<uv_handle_t*>(&h->check));
    uv_prepare_start(&h->prepare, OnPrepare);
    uv_check_start(&h->check, OnCheck);
  }
  uint64_t repeat_ms = threshold_ns > 0 ? static_cast<uint64_t>(threshold_ns / 4000000) : 0;
  uv_timer_stop(&h->timer);
  if (repeat_ms > 0) uv_timer_start(&h->timer, OnTimer, repeat_ms, repeat_ms);
  Tick(w);
}

void JS_watchdogConfigure(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Watchdog* w = static_cast<Watchdog*>(ExternalValue(info.Data()));
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (info.Length() < 3 || !info[0]->IsFunction() || !info[1]->IsNumber() || !info[2]->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(
        v8::String::NewFromUtf8Literal(isolate, "watchdogConfigure(callback, thresholdMs, intervalUs)")));
    return;
  }
  double threshold_ms = info[1]->NumberValue(context).FromJust();
  double interval_us = info[2]->NumberValue(context).FromJust();
  int64_t threshold_ns = threshold_ms > 0 ? static_cast<int64_t>(threshold_ms * 1e6) : 0;
  int64_t interval_ns = interval_us > 0 ? static_cast<int64_t>(interval_us * 1e3) : 0;
  StopThread(w);
  if (threshold_ns == 0 && interval_ns == 0) {
    CloseHandles(w);
    w->callback.Reset();
    return;
  }
  w->callback.Reset(isolate, info[0].As<v8::Function>());
  OpenHandles(w, threshold_ns);
  w->threshold_ns = threshold_ns;
  w->interval_ns = interval_ns;
  w->sample_pending.store(false);
  w->thread = std::thread(RunThread, w);
}

void Cleanup(void* data) {
  Watchdog* w = static_cast<Watchdog*>(data);
  StopThread(w);
  CloseHandles(w);
  w->callback.Reset();
  w->context.Reset();
  // The heartbeat frees itself once the loop has closed it; this small struct
  // is left to the process (one per environment that loaded the addon), as
  // an interrupt requested just before may still name it.
}

}  // namespace

void InitWatchdog(v8::Isolate* isolate, v8::Local<v8::Object> exports, v8::Local<v8::Context> context) {
  Watchdog* w = new Watchdog();
  w->isolate = isolate;
  w->loop = node::GetCurrentEventLoop(isolate);
  w->context.Reset(isolate, context);
  node::AddEnvironmentCleanupHook(isolate, Cleanup, w);
  v8::Local<v8::FunctionTemplate> tmpl =
      v8::FunctionTemplate::New(isolate, JS_watchdogConfigure, NewExternal(isolate, w));
  exports
      ->Set(context, v8::String::NewFromUtf8Literal(isolate, "watchdogConfigure"),
            tmpl->GetFunction(context).ToLocalChecked())
      .Check();
}

}  // namespace greenloop
