// A native watchdog thread per isolate, for greenloop/debug: it notices when
// the event loop has not come back for a threshold (monitor) and samples the
// running JS stack at an interval (profile), both by asking V8 for an
// interrupt, whose callback runs on the isolate's thread inside whichever
// greenlet is running and hands the captured stack to JS. No scheduling or
// IO policy here: JS decides what a report or a sample means.
#ifndef GREENLOOP_WATCHDOG_H_
#define GREENLOOP_WATCHDOG_H_

#include <v8.h>

namespace greenloop {

// Adds `watchdogConfigure` to the binding's exports (once per isolate; the
// thread and loop handles end with the environment).
void InitWatchdog(v8::Isolate* isolate, v8::Local<v8::Object> exports, v8::Local<v8::Context> context);

}  // namespace greenloop

#endif  // GREENLOOP_WATCHDOG_H_
