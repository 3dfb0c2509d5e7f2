// The C++ half of the x86-64 Linux user-space switch: the first frame of a new
// greenlet and the FSGSBASE check. The switch itself is switch_x86_64_linux.S.
#include <sys/auxv.h>

#include "switch.h"

extern "C" void gl_entry();

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

namespace greenloop {

bool UserSpaceSwitchAvailable() { return (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0; }

// The frame matches what gl_swap pops (see switch_x86_64_linux.S), so that the
// first switch into `g` "returns" into gl_entry, which passes r12 on. The
// greenlet starts with the creator's MXCSR and x87 control word.
void* PrepareFirstFrame(uintptr_t top, Greenlet* g, uintptr_t fs_base) {
  uint32_t mxcsr;
  uint16_t fpu_cw;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(fpu_cw));
  auto* sp = reinterpret_cast<uint64_t*>(top & ~static_cast<uintptr_t>(15));
  *--sp = reinterpret_cast<uint64_t>(&gl_entry);  // return address
  *--sp = 0;                                      // rbp
  *--sp = 0;                                      // rbx
  *--sp = reinterpret_cast<uint64_t>(g);          // r12: gl_entry's argument
  *--sp = 0;                                      // r13
  *--sp = 0;                                      // r14
  *--sp = 0;                                      // r15
  *--sp = mxcsr | (static_cast<uint64_t>(fpu_cw) << 32);
  *--sp = fs_base;
  return sp;
}

}  // namespace greenloop
