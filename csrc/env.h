// Per-thread (per V8 isolate) state: the root greenlet, the current greenlet,
// the owner pool and the JS functions the core calls back into.
#ifndef GREENLOOP_ENV_H_
#define GREENLOOP_ENV_H_

#include <v8.h>

#include "greenlet.h"
#include "owner_thread.h"

namespace greenloop {

// A greenlet together with the JS object ("handle") that stands for it.
struct JsGreenlet : Greenlet {
  v8::Global<v8::Object> handle;  // weak: the JS layer owns the greenlet
  // V8's continuation-preserved embedder data is per isolate, not per thread,
  // so V8's thread archive does not keep it: it is kept here while parked.
  // Node 24 builds AsyncLocalStorage on it (AsyncContextFrame).
  v8::Global<v8::Data> continuation_data;
  // Intrusive list of every greenlet object of the environment (see
  // Env::objects): linking one in or out allocates nothing.
  JsGreenlet* object_prev = nullptr;
  JsGreenlet* object_next = nullptr;
};

// A failure the core itself detects while a greenlet finishes, reported by
// the binding (as a GreenletError) to the greenlet that resumes next.
struct ResumeFault {
  enum Kind : uint8_t {
    kNone,
    kEntryReturnedNoGreenlet,  // lib/greenlet.ts's entry returned no handle
    kParentStartFailed,        // the parent to resume could not start; err < 0
  };
  Kind kind = kNone;
  int err = 0;  // a negative errno
};

struct Env {
  v8::Isolate* isolate = nullptr;
  v8::Global<v8::Context> context;
  v8::Global<v8::Function> entry;        // (handle) => handle to switch to next
  v8::Global<v8::Function> error_class;  // GreenletError, made by lib/errors.ts
  v8::Global<v8::ObjectTemplate> handle_template;

  JsGreenlet root;
  Greenlet* current = nullptr;
  Backend backend = Backend::kUserSpace;
  bool backend_locked = false;  // set by the first start: the backend is fixed then
  int spin_iterations = 0;      // threads backend: spin before sleeping
  OwnerPool pool;

  // Sentinel of the list of started, unfinished greenlets.
  Greenlet live;
  size_t live_count = 0;
  // Sentinel of the list of every greenlet object whose handle V8 has not
  // collected, freed at teardown (see TrackObject); as `live` is for started ones.
  JsGreenlet objects;

  bool tearing_down = false;
  // Set while teardown resumes parked greenlets to unwind them.
  bool unwinding = false;
  v8::Global<v8::Function> empty_function;  // what an unwound greenlet calls
  // Set by a greenlet that ends abnormally, consumed by the one it resumes.
  bool terminate_after_resume = false;
  v8::Global<v8::Value> rethrow_after_resume;  // the exception its JS threw
  ResumeFault resume_fault;                    // takes precedence over rethrow_after_resume

  // Bytes of stack the root's thread has (see ClaimCentralStack in handoff.cc).
  size_t root_stack_extent = 0;
  // The stack extent V8 14+ takes for the "central stack" since the last
  // SetStackLimit (the stack top of the thread that called it minus the
  // limit): switches skip setting a limit when this already covers the
  // greenlet that resumes (see ClaimCentralStack).
  size_t central_stack_extent = 0;

  uint64_t switches = 0;

  // Top of the stack that the user-space backend runs V8's half of every
  // switch on (see RunHandOff in handoff.cc); null until mapped, or if it
  // could not be.
  void* handoff_stack_top = nullptr;

  // Links `g` into `objects` / takes it out: once each per greenlet object.
  void TrackObject(JsGreenlet* g) {
    g->object_next = objects.object_next;
    g->object_prev = &objects;
    objects.object_next->object_prev = g;
    objects.object_next = g;
  }
  void UntrackObject(JsGreenlet* g) {
    g->object_prev->object_next = g->object_next;
    g->object_next->object_prev = g->object_prev;
    g->object_prev = g->object_next = nullptr;
  }
};

}  // namespace greenloop

#endif  // GREENLOOP_ENV_H_
