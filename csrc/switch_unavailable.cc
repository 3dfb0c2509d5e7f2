// Platforms without a user-space switch: only the threads backend runs.
#include "switch.h"

namespace greenloop {

bool UserSpaceSwitchAvailable() { return false; }

void* PrepareFirstFrame(uintptr_t top, Greenlet* g, uintptr_t fs_base) { return nullptr; }

}  // namespace greenloop
