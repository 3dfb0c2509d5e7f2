// The few V8 API differences between the Node lines greenloop builds for
// (docs/node-lines.md lists every V8/Node API the core relies on).
#ifndef GREENLOOP_V8_COMPAT_H_
#define GREENLOOP_V8_COMPAT_H_

#include <v8.h>

namespace greenloop {

// Internal field 0 of a greenlet handle holds its JsGreenlet*. V8 14 (Node 26)
// tags embedder pointers by type (the V8 sandbox checks the tag on read);
// the handle template's objects only ever hold greenlets, so the default tag
// is enough.
inline void* GetHandlePointer(v8::Local<v8::Object> obj) {
#if V8_MAJOR_VERSION >= 14
  return obj->GetAlignedPointerFromInternalField(0, v8::kEmbedderDataTypeTagDefault);
#else
  return obj->GetAlignedPointerFromInternalField(0);
#endif
}

inline void SetHandlePointer(v8::Local<v8::Object> obj, void* value) {
#if V8_MAJOR_VERSION >= 14
  obj->SetAlignedPointerInInternalField(0, value, v8::kEmbedderDataTypeTagDefault);
#else
  obj->SetAlignedPointerInInternalField(0, value);
#endif
}

// The Env* that each binding function carries as its data. V8 14 tags
// External pointers by type as well.
inline v8::Local<v8::External> NewExternal(v8::Isolate* isolate, void* value) {
#if V8_MAJOR_VERSION >= 14
  return v8::External::New(isolate, value, v8::kExternalPointerTypeTagDefault);
#else
  return v8::External::New(isolate, value);
#endif
}

inline void* ExternalValue(v8::Local<v8::Value> value) {
#if V8_MAJOR_VERSION >= 14
  return value.As<v8::External>()->Value(v8::kExternalPointerTypeTagDefault);
#else
  return value.As<v8::External>()->Value();
#endif
}

#if V8_MAJOR_VERSION >= 12
// The isolate's continuation-preserved embedder data (Node 24+ builds
// AsyncLocalStorage on it). V8 14 deprecates the Value-typed accessors for
// Data-typed "V2" ones over the same slot.
inline v8::Local<v8::Data> GetContinuationData(v8::Isolate* isolate) {
#if V8_MAJOR_VERSION >= 14
  return isolate->GetContinuationPreservedEmbedderDataV2();
#else
  return isolate->GetContinuationPreservedEmbedderData();
#endif
}

inline void SetContinuationData(v8::Isolate* isolate, v8::Local<v8::Data> data) {
#if V8_MAJOR_VERSION >= 14
  isolate->SetContinuationPreservedEmbedderDataV2(data);
#else
  isolate->SetContinuationPreservedEmbedderData(data.As<v8::Value>());
#endif
}
#endif

}  // namespace greenloop

#endif  // GREENLOOP_V8_COMPAT_H_
