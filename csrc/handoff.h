// The V8 hand-off: how control and the isolate's lock move between greenlets.
#ifndef GREENLOOP_HANDOFF_H_
#define GREENLOOP_HANDOFF_H_

#include "env.h"

namespace greenloop {

// Gives an unstarted greenlet an owner thread (and, for the user-space backend,
// its first frame). Returns 0 or a negative errno.
int PrepareStart(Env* env, JsGreenlet* g);

// Maps the stack that V8's half of each user-space switch runs on (see
// RunHandOff in handoff.cc), and unmaps it. Without it, that half runs on the
// greenlets' own stacks.
void MapHandOffStack(Env* env);
void UnmapHandOffStack(Env* env);

// Parks `from` (the current greenlet) and runs `to` until something switches
// back to `from`. Must be called holding the isolate's lock, on `from`'s stack.
// A greenlet that finished abnormally on the way leaves what `from` must throw
// in env->rethrow_after_resume, env->resume_fault or env->terminate_after_resume.
void SwitchTo(Env* env, Greenlet* from, Greenlet* to);

// At teardown, on the root: resumes every parked greenlet once more under
// TerminateExecution, so that V8 frees its thread state (see handoff.cc).
void UnwindParkedGreenlets(Env* env);

// In a greenlet resumed by UnwindParkedGreenlets: makes the termination take
// effect before its JS goes on.
void TerminateResumedGreenlet(Env* env);

// Ends the owner threads of every parked greenlet; called at teardown, when no
// greenlet will run again.
void EndParkedGreenlets(Env* env);

}  // namespace greenloop

#endif  // GREENLOOP_HANDOFF_H_
