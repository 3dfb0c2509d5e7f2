// The user-space switch, behind an interface with no platform in it.
//
// binding.gyp picks the implementation: switch_x86_64_linux.S with
// switch_x86_64_linux_setup.cc where the platform has one (and then defines
// GREENLOOP_USERSPACE_SWITCH), else switch_unavailable.cc, under which only the
// threads backend runs.
#ifndef GREENLOOP_SWITCH_H_
#define GREENLOOP_SWITCH_H_

#include <cstdint>

#include "greenlet.h"

extern "C" {
// Saves the current context on the current stack, stores the stack pointer in
// *save_sp, loads the context saved at load_sp and returns into it. Defined
// only where GREENLOOP_USERSPACE_SWITCH is.
void gl_swap(void** save_sp, void* load_sp);
// Calls fn(arg) on the stack whose top (16-byte aligned) is stack_top and
// returns on the current one. Defined only where GREENLOOP_USERSPACE_SWITCH is.
void gl_call_on_stack(void (*fn)(void*), void* arg, void* stack_top);
// Where a new greenlet's first switch lands (on its owner's stack): defined in
// handoff.cc, called by the platform's entry trampoline; never returns.
void gl_greenlet_main(greenloop::Greenlet* g);
}

namespace greenloop {

// Whether this process can use the user-space backend (for x86-64 Linux: the
// kernel has enabled FSGSBASE).
bool UserSpaceSwitchAvailable();

// Lays out, below `top`, the frame gl_swap expects, so that the first switch
// into `g` enters gl_greenlet_main(g) with `fs_base` loaded. Returns the stack
// pointer to hand to gl_swap (null where no user-space switch exists).
void* PrepareFirstFrame(uintptr_t top, Greenlet* g, uintptr_t fs_base);

}  // namespace greenloop

#endif  // GREENLOOP_SWITCH_H_
